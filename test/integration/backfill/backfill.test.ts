import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  createBackfillHandler,
  BackfillRetryableError,
  type BackfillHandler,
  type BatchResponse,
  type NotificationSummary,
} from '../../../src/entry/backfill/index.ts';
import { runBackfill } from '../../../src/entry/backfill/run.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { buildStages, type Stages } from '../../../src/pipeline/stages.ts';
import { digestKey, digestObject, expectedPartitions, gzipBomb, mixedRecords, ndjsonLines, trailKey, trailObject } from './fixtures.ts';
import { startS3rver, type LocalS3 } from './s3rver.ts';

const TRAIL = 'trail-bucket';
const OUT = 'output-bucket';
const context = { getRemainingTimeInMillis: () => 120_000 };

/** An S3 ObjectCreated notification as S3 sends it (keys URL-encoded, `+` for spaces). */
function notification(bucket: string, keys: readonly string[]): unknown {
  return {
    Records: keys.map((key) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2026-11-20T14:05:00.000Z',
      eventName: 'ObjectCreated:Put',
      s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key: encodeKey(key), size: 1 } },
    })),
  };
}

function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

function batch10(taskId: string, bucket: string, key: string): unknown {
  return {
    invocationSchemaVersion: '1.0',
    invocationId: 'YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo',
    job: { id: 'f3cc4f60-61f6-4a2b-8a21-d07600c373ce' },
    tasks: [{ taskId, s3Key: encodeKey(key), s3VersionId: null, s3BucketArn: `arn:aws:s3:::${bucket}` }],
  };
}

function batch20(tasks: readonly { taskId: string; key: string }[]): unknown {
  return {
    invocationSchemaVersion: '2.0',
    invocationId: 'aW52b2NhdGlvbi0y',
    job: { id: 'a2b3c4d5-0000-4000-8000-000000000002', userArguments: { note: 'backfill' } },
    tasks: tasks.map((t) => ({ taskId: t.taskId, s3BucketName: TRAIL, s3Key: t.key, s3VersionId: null })),
  };
}

describe('backfill against s3rver', function () {
  this.timeout(30_000);
  let s3: LocalS3;
  let stages: Stages;
  let handler: BackfillHandler;
  const config = loadConfig({});
  const logged: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const log = {
    debug: () => {},
    info: (message: string, extra?: Record<string, unknown>) => logged.push({ level: 'info', message, extra }),
    warn: (message: string, extra?: Record<string, unknown>) => logged.push({ level: 'warn', message, extra }),
    error: (message: string, extra?: Record<string, unknown>) => logged.push({ level: 'error', message, extra }),
  };

  const MAIN = trailKey('111122223333', 'us-east-1', '20261120T1405Z', 'AbCdEfGh12345678');
  const ODD = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/odd name+1.json.gz';
  const DIGEST = digestKey('111122223333', 'us-east-1');
  const BOMB = trailKey('111122223333', 'us-east-1', '20261120T1410Z', 'BoMb000000000000');
  const NOT_TRAIL = trailKey('111122223333', 'us-east-1', '20261120T1415Z', 'NotTrail00000000');
  const NOT_GZIP = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/readme.txt';
  const records = mixedRecords();

  before(async () => {
    s3 = await startS3rver([TRAIL, OUT]);
    stages = buildStages(config);
    await stages.intel;
    for (const [key, body] of [
      [MAIN, trailObject(records)],
      [ODD, trailObject(records.slice(0, 2))],
      [DIGEST, digestObject()],
      [BOMB, gzipBomb(8 * 1024 * 1024)],
      [NOT_TRAIL, gzipSync(JSON.stringify({ hello: 'world' }))],
      [NOT_GZIP, Buffer.from('not a trail file')],
    ] as const) {
      await s3.client.send(new PutObjectCommand({ Bucket: TRAIL, Key: key, Body: body }));
    }
    handler = createBackfillHandler({
      s3: s3.newClient(),
      config: config.core,
      backfill: {
        destination: { bucket: OUT, prefix: 'enriched/' },
        limits: { maxObjectBytes: 1024 * 1024, maxDecompressedBytes: 1024 * 1024 },
      },
      intel: stages.intel,
      rules: stages.rules,
      log,
    });
  });

  after(async () => {
    await s3.close();
  });

  async function outputObjects(bucket = OUT, prefix = 'enriched/'): Promise<Map<string, Record<string, unknown>[]>> {
    const out = new Map<string, Record<string, unknown>[]>();
    let token: string | undefined;
    do {
      const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        // The checkpoint under _backfill/ is the backfill's own state, not output (Athena ignores `_` names).
        if (object.Key!.includes('/_backfill/')) continue;
        const got = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
        out.set(object.Key!, ndjsonLines(Buffer.from(await got.Body!.transformToByteArray())));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out;
  }

  async function arrivalDay(key: string): Promise<string> {
    return (await s3.client.send(new GetObjectCommand({ Bucket: TRAIL, Key: key }))).LastModified!.toISOString().slice(0, 10);
  }

  function eventIdsOf(objects: Map<string, Record<string, unknown>[]>): string[] {
    return [...objects.values()].flat().map((line) => String(line.eventID ?? (line.enrichment as { raw?: string }).raw));
  }

  describe('S3 ObjectCreated notifications', () => {
    it('writes every event of the object exactly once, each in the partition of its own account, region and day', async () => {
      const summary = (await handler(notification(TRAIL, [MAIN]), context)) as NotificationSummary;
      expect(summary).to.include({ objects: 1, written: 1, failed: 0, eventsIn: records.length, eventsOut: records.length });

      const objects = await outputObjects();
      const lines = [...objects.values()].flat();
      expect(lines).to.have.length(records.length);
      const expectedIds = records.map((r) => (typeof r === 'string' ? JSON.stringify(r) : String((r as { eventID: string }).eventID)));
      expect(eventIdsOf(objects).sort()).to.deep.equal(expectedIds.sort());

      const lastModified = await arrivalDay(MAIN);
      for (const [key, objectLines] of objects) {
        const m = /^enriched\/account=([^/]+)\/region=([^/]+)\/dt=([^/]+)\/cloudtrail-backfill-[A-Za-z0-9_-]+-[0-9a-f]{16}\.json\.gz$/.exec(
          key,
        );
        expect(m, key).to.not.equal(null);
        const [, account, region, dt] = m!;
        for (const line of objectLines) {
          const enrichment = line.enrichment as { status: string };
          expect(enrichment).to.be.an('object');
          if (enrichment.status === 'skipped') {
            expect([account, region, dt]).to.deep.equal(['unknown', 'unknown', lastModified]);
            continue;
          }
          expect(line.recipientAccountId).to.equal(account);
          expect(line.awsRegion).to.equal(region);
          expect(dt).to.equal(typeof line.eventTime === 'string' ? line.eventTime.slice(0, 10) : lastModified);
        }
      }
      // Two accounts × regions × days, the arrival day (no eventTime), and the fallback partition of the skipped element.
      const partitions = [...objects.keys()].map((k) => /account=([^/]+)\/region=([^/]+)\/dt=([^/]+)\//.exec(k)!.slice(1).join('/'));
      expect(partitions.sort()).to.deep.equal([...new Set(expectedPartitions(records, lastModified))].sort());
      const google = lines.find((l) => l.sourceIPAddress === '8.8.8.8')!;
      expect((google.enrichment as { source: { kind: string; ip: string } }).source).to.include({ kind: 'public', ip: '8.8.8.8' });
    });

    it('overwrites its earlier output when the same object is notified again, directly, through SQS or through EventBridge (idempotent)', async () => {
      const before = await outputObjects();
      await handler(notification(TRAIL, [MAIN]), context);
      await handler(
        { Records: [{ eventSource: 'aws:sqs', messageId: 'm-1', body: JSON.stringify(notification(TRAIL, [MAIN])) }] },
        context,
      );
      await handler(
        {
          version: '0',
          source: 'aws.s3',
          'detail-type': 'Object Created',
          detail: { bucket: { name: TRAIL }, object: { key: MAIN, size: 1 }, reason: 'PutObject' },
        },
        context,
      );
      const after = await outputObjects();
      expect([...after.keys()].sort()).to.deep.equal([...before.keys()].sort());
      expect([...after.values()].flat()).to.have.length(records.length);
      expect(eventIdsOf(after).sort()).to.deep.equal(eventIdsOf(before).sort());
    });

    it('finds an object whose notified key is URL-encoded (spaces as +, + as %2B)', async () => {
      const summary = (await handler(notification(TRAIL, [ODD]), context)) as NotificationSummary;
      expect(summary).to.include({ written: 1, eventsOut: 2, failed: 0 });
      const keys = [...(await outputObjects()).keys()];
      expect(keys.filter((k) => k.includes('cloudtrail-backfill-odd_name_1-'))).to.have.length.greaterThan(0);
    });

    it('skips digest files and non-CloudTrail keys without reading them, and writes nothing for them', async () => {
      const before = (await outputObjects()).size;
      const summary = (await handler(notification(TRAIL, [DIGEST, NOT_GZIP]), context)) as NotificationSummary;
      expect(summary).to.include({ objects: 2, ignored: 2, written: 0, failed: 0 });
      expect((await outputObjects()).size).to.equal(before);
      expect(logged.filter((l) => l.message === 'object skipped').map((l) => l.extra?.reason)).to.include.members([
        'digest',
        'not-cloudtrail',
      ]);
    });

    it('does not retry (nor throw for) objects that can never be enriched: gzip bomb, not CloudTrail, missing', async () => {
      const summary = (await handler(
        notification(TRAIL, [BOMB, NOT_TRAIL, trailKey('111122223333', 'us-east-1', '20261120T1420Z', 'Missing000000000')]),
        context,
      )) as NotificationSummary;
      expect(summary).to.include({ objects: 3, failed: 3, retryable: 0, written: 0 });
      const codes = logged.filter((l) => l.message === 'backfill failed').map((l) => l.extra?.code);
      expect(codes).to.include.members(['DecompressedTooLarge', 'NotCloudTrail', 'NoSuchKey']);
    });

    it('answers an s3:TestEvent without doing anything', async () => {
      expect(await handler({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: TRAIL }, context)).to.deep.equal({
        ignored: 's3:TestEvent',
      });
    });
  });

  describe('S3 Batch Operations', () => {
    it('answers a schema 1.0 task with the documented result shape', async () => {
      const response = (await handler(batch10('dGFza2lkZ29lc2hlcmUK', TRAIL, MAIN), context)) as BatchResponse;
      expect(response).to.deep.include({
        invocationSchemaVersion: '1.0',
        treatMissingKeysAs: 'PermanentFailure',
        invocationId: 'YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo',
      });
      expect(response.results).to.have.length(1);
      expect(response.results[0]).to.include({ taskId: 'dGFza2lkZ29lc2hlcmUK', resultCode: 'Succeeded' });
      const partitions = new Set(expectedPartitions(records, await arrivalDay(MAIN))).size;
      expect(response.results[0]!.resultString).to.equal(`enriched ${records.length} events into ${partitions} objects`);
    });

    it('answers every task of a schema 2.0 invocation: Succeeded, skipped digest, PermanentFailure for missing, not CloudTrail and gzip bombs', async () => {
      const response = (await handler(
        batch20([
          { taskId: 't-main', key: MAIN },
          { taskId: 't-digest', key: DIGEST },
          { taskId: 't-missing', key: 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/none.json.gz' },
          { taskId: 't-not-trail', key: NOT_TRAIL },
          { taskId: 't-bomb', key: BOMB },
        ]),
        context,
      )) as BatchResponse;
      expect(response).to.deep.include({
        invocationSchemaVersion: '2.0',
        treatMissingKeysAs: 'PermanentFailure',
        invocationId: 'aW52b2NhdGlvbi0y',
      });
      expect(response.results.map((r) => [r.taskId, r.resultCode])).to.deep.equal([
        ['t-main', 'Succeeded'],
        ['t-digest', 'Succeeded'],
        ['t-missing', 'PermanentFailure'],
        ['t-not-trail', 'PermanentFailure'],
        ['t-bomb', 'PermanentFailure'],
      ]);
      expect(response.results[1]!.resultString).to.match(/^skipped: CloudTrail digest file/);
      expect(response.results[2]!.resultString).to.match(/^NoSuchKey: /);
      expect(response.results[4]!.resultString).to.match(/^DecompressedTooLarge: /);
      for (const result of response.results) expect(result.resultString.length).to.be.below(200);
    });

    it('stops a gzip bomb at the decompression limit instead of inflating it', async () => {
      const response = (await handler(batch10('bomb', TRAIL, BOMB), context)) as BatchResponse;
      expect(response.results[0]).to.include({ resultCode: 'PermanentFailure' });
      expect(response.results[0]!.resultString).to.include('1048576 bytes');
    });
  });

  describe('when S3 throttles', () => {
    let throttling: Server;
    let throttled: S3Client;
    let slowHandler: BackfillHandler;

    before(async () => {
      // An S3 endpoint that answers every request with 503 SlowDown, as S3 does under request-rate pressure.
      throttling = createServer((req, res) => {
        req.resume();
        res.writeHead(503, { 'content-type': 'application/xml', 'x-amz-request-id': 'SLOW' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>SLOW</RequestId></Error>',
        );
      });
      await new Promise<void>((resolve) => throttling.listen(0, '127.0.0.1', resolve));
      throttled = new S3Client({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${(throttling.address() as AddressInfo).port}`,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        maxAttempts: 1,
      });
      slowHandler = createBackfillHandler({
        s3: throttled,
        config: config.core,
        backfill: {
          destination: { bucket: OUT, prefix: 'enriched/' },
          limits: { maxObjectBytes: 1024 * 1024, maxDecompressedBytes: 1024 * 1024 },
        },
      });
    });

    after(async () => {
      throttled.destroy();
      throttling.closeAllConnections();
      await new Promise<void>((resolve) => throttling.close(() => resolve()));
    });

    it('reports a Batch Operations task as TemporaryFailure so the job retries it', async () => {
      const response = (await slowHandler(batch10('slow', TRAIL, MAIN), context)) as BatchResponse;
      expect(response.results[0]).to.include({ taskId: 'slow', resultCode: 'TemporaryFailure' });
      expect(response.results[0]!.resultString).to.match(/^SlowDown: /);
    });

    it('throws for a notification so Lambda retries the event', async () => {
      let thrown: unknown;
      try {
        await slowHandler(notification(TRAIL, [MAIN]), context);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.be.instanceOf(BackfillRetryableError);
    });
  });

  describe('runBackfill (the CLI core)', () => {
    it('lists the day folders, enriches every CloudTrail object, skips digests, counts failures, and conserves every event', async () => {
      const run = () =>
        runBackfill({
          s3: s3.newClient(),
          source: { bucket: TRAIL, prefix: 'AWSLogs/' },
          destination: { bucket: OUT, prefix: 'cli/' },
          enrich: { config: config.core, rules: stages.rules },
          limits: { maxObjectBytes: 1024 * 1024, maxDecompressedBytes: 1024 * 1024 },
          concurrency: 3,
        });
      const totals = await run();
      expect(totals).to.include({ listed: 4, written: 2, failed: 2, eventsIn: records.length + 2, eventsOut: records.length + 2 });
      expect(totals.ignored).to.deep.equal({ 'not-cloudtrail': 1 });
      expect(totals.skippedFolders).to.deep.equal({ digest: 1 });
      expect(totals.failures).to.deep.equal({ DecompressedTooLarge: 1, NotCloudTrail: 1 });

      const first = await outputObjects(OUT, 'cli/');
      expect([...first.values()].flat()).to.have.length(records.length + 2);
      // Failed objects are not checkpointed: they are tried again, finished ones are not.
      const again = await run();
      expect(again).to.include({ written: 0, failed: 2 });
      expect(again.ignored['already-done']).to.equal(2);
      const second = await outputObjects(OUT, 'cli/');
      expect([...second.keys()].sort()).to.deep.equal([...first.keys()].sort());
      expect([...second.values()].flat()).to.have.length(records.length + 2);
    });

    it('never reads its own output: the Firehose layout it writes lies outside the CloudTrail layout', async () => {
      const totals = await runBackfill({
        s3: s3.newClient(),
        source: { bucket: OUT, prefix: 'cli/' },
        destination: { bucket: OUT, prefix: 'cli/' },
        enrich: { config: config.core },
      });
      expect(totals).to.include({ listed: 0, written: 0 });
    });
  });
});
