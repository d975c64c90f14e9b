import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { main } from '../../../src/entry/cli/main.ts';
import { parseCoreConfig } from '../../../src/config/core.ts';
import { FirehoseSink } from '../../../src/8-deliver/sinks.ts';
import type { RecordSink, ReingestRecord } from '../../../src/8-deliver/reingest.ts';
import { replayLogGroup, ReplayOptionsError } from '../../../src/entry/replay/index.ts';
import { cloudTrailEvent, firehoseEvent, firehoseRecord } from '../../helpers/factories.ts';
import { runUntilDrained } from '../../helpers/harness.ts';
import { startFirehoseServer, type EntryPolicy, type StoredRecord } from '../../helpers/loopback.ts';
import { MemorySink } from '../../helpers/sinks.ts';

const GROUP = 'aws-cloudtrail-logs-111122223333';
const T0 = Date.UTC(2026, 10, 18, 0, 0, 0);
const MINUTE = 60_000;

interface StoredLogEvent {
  readonly logStreamName: string;
  readonly timestamp: number;
  readonly message: string;
}

interface FilterRequest {
  logGroupName?: string;
  startTime?: number;
  endTime?: number;
  nextToken?: string;
  logStreamNamePrefix?: string;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A CloudWatch Logs endpoint on loopback speaking AWS JSON 1.1 (`X-Amz-Target: Logs_20140328.FilterLogEvents`):
 * filters its stored events by the request's window and stream prefix and pages through them `pageSize` at a time,
 * with an empty page (still searching) after the first, as the service may return.
 */
async function startLogsServer(events: readonly StoredLogEvent[], pageSize: number) {
  const requests: FilterRequest[] = [];
  const targets: string[] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      targets.push(String(req.headers['x-amz-target'] ?? ''));
      const request = JSON.parse(body) as FilterRequest;
      requests.push(request);
      if (request.logGroupName !== GROUP) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'The specified log group does not exist.' }));
        return;
      }
      const matching = events.filter(
        (e) =>
          (request.startTime === undefined || e.timestamp >= request.startTime) &&
          (request.endTime === undefined || e.timestamp <= request.endTime) &&
          (request.logStreamNamePrefix === undefined || e.logStreamName.startsWith(request.logStreamNamePrefix)),
      );
      const [position, searching] =
        request.nextToken === undefined
          ? [0, false]
          : (JSON.parse(Buffer.from(request.nextToken, 'base64url').toString()) as [number, boolean]);
      let page: StoredLogEvent[] = [];
      let next: [number, boolean] | undefined;
      if (position === pageSize && !searching) {
        next = [position, true];
      } else {
        page = matching.slice(position, position + pageSize);
        next = position + pageSize < matching.length ? [position + pageSize, false] : undefined;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${requests.length}` });
      res.end(
        JSON.stringify({
          events: page.map((e, i) => ({ ...e, ingestionTime: e.timestamp + 1000, eventId: `${position + i}`.padStart(56, '0') })),
          searchedLogStreams: [],
          ...(next !== undefined ? { nextToken: Buffer.from(JSON.stringify(next)).toString('base64url') } : {}),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Records the size of every PutRecordBatch call the replay makes, then sends it on. */
class CountingSink implements RecordSink {
  readonly calls: { records: number; bytes: number }[] = [];
  constructor(private readonly inner: RecordSink) {}
  get maxBatchRecords() {
    return this.inner.maxBatchRecords;
  }
  get maxBatchBytes() {
    return this.inner.maxBatchBytes;
  }
  sizeOf(record: ReingestRecord): number {
    return this.inner.sizeOf(record);
  }
  putBatch(records: readonly ReingestRecord[]) {
    this.calls.push({ records: records.length, bytes: records.reduce((n, r) => n + r.data.length, 0) });
    return this.inner.putBatch(records);
  }
}

describe('replay: CloudWatch Logs history → Firehose → the transform', function () {
  this.timeout(30_000);
  // 650 events six minutes apart (so most subscription batches hold one event: > 500 records, two PutRecordBatch
  // calls), over two accounts' log streams, plus events outside the window that must not be sent.
  const inWindow: StoredLogEvent[] = [];
  for (let i = 0; i < 650; i++) {
    const account = i % 3 === 0 ? '444455556666' : '111122223333';
    const region = i % 2 === 0 ? 'us-east-1' : 'eu-west-1';
    const timestamp = T0 + i * 6 * MINUTE;
    const event = cloudTrailEvent({
      recipientAccountId: account,
      awsRegion: region,
      eventTime: new Date(timestamp).toISOString().replace('.000', ''),
      sourceIPAddress: i % 5 === 0 ? '8.8.8.8' : '10.1.2.3',
    });
    inWindow.push({ logStreamName: `${account}_CloudTrail_${region}`, timestamp, message: JSON.stringify(event) });
  }
  const outside = [T0 - MINUTE, T0 + 650 * 6 * MINUTE + MINUTE].map((timestamp) => ({
    logStreamName: '111122223333_CloudTrail_us-east-1',
    timestamp,
    message: JSON.stringify(cloudTrailEvent({ eventTime: new Date(timestamp).toISOString().replace('.000', '') })),
  }));
  const start = T0;
  const end = T0 + 649 * 6 * MINUTE;

  let logsServer: Awaited<ReturnType<typeof startLogsServer>>;
  let firehoseServer: Awaited<ReturnType<typeof startFirehoseServer>>;
  let entryPolicy: EntryPolicy = () => undefined;
  let logs: CloudWatchLogsClient;
  let firehose: FirehoseClient;
  const credentials = { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback' };

  before(async () => {
    logsServer = await startLogsServer([...outside.slice(0, 1), ...inWindow, ...outside.slice(1)], 100);
    firehoseServer = await startFirehoseServer((call, index) => entryPolicy(call, index));
    logs = new CloudWatchLogsClient({ region: 'us-east-1', endpoint: logsServer.url, credentials, maxAttempts: 1 });
    firehose = new FirehoseClient({ region: 'us-east-1', endpoint: firehoseServer.url, credentials, maxAttempts: 1 });
  });

  after(async () => {
    logs.destroy();
    firehose.destroy();
    await logsServer.close();
    await firehoseServer.close();
  });

  beforeEach(() => {
    entryPolicy = () => undefined;
    firehoseServer.drain();
    logsServer.requests.length = 0;
    logsServer.targets.length = 0;
  });

  /** Feeds what the stream received through the transform, as Firehose would, until nothing is re-ingested. */
  async function throughTransform(received: readonly StoredRecord[]): Promise<Record<string, unknown>[]> {
    const config = parseCoreConfig({});
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < received.length; i += 200) {
      const records = received
        .slice(i, i + 200)
        .map((r) => firehoseRecord(r.data.toString('base64'), { approximateArrivalTimestamp: end + MINUTE }));
      const rounds = await runUntilDrained(firehoseEvent(records), new MemorySink(), { config });
      for (const round of rounds) {
        for (const record of round.result.records) {
          if (record.result === 'ProcessingFailed') throw new Error('a replayed record failed to decode');
          if (record.result !== 'Ok') continue;
          const keys = record.metadata?.partitionKeys as { account: string; region: string; dt: string } | undefined;
          for (const line of Buffer.from(record.data ?? '', 'base64')
            .toString('utf8')
            .split('\n')) {
            if (line.length === 0) continue;
            const doc = JSON.parse(line) as Record<string, unknown>;
            expect(keys, 'partition keys').to.deep.equal({
              account: doc.recipientAccountId,
              region: doc.awsRegion,
              dt: String(doc.eventTime).slice(0, 10),
            });
            out.push(doc);
          }
        }
      }
    }
    return out;
  }

  it('reads the window page by page, packs as the subscription filter does, and every event comes out of the transform exactly once', async () => {
    // The first call fails a few entries as a throttled stream would: they are retried.
    entryPolicy = (call, index) => (call === 1 && index % 97 === 0 ? 'ServiceUnavailableException' : undefined);
    const sink = new CountingSink(new FirehoseSink(firehose, 'cloudtrail-enricher-test'));
    const totals = await replayLogGroup({ logs, sink, logGroupName: GROUP, startTime: start, endTime: end, baseDelayMs: 1, maxDelayMs: 2 });

    expect(logsServer.targets.every((t) => t === 'Logs_20140328.FilterLogEvents')).to.equal(true);
    expect(logsServer.requests.every((r) => r.logGroupName === GROUP && r.startTime === start && r.endTime === end)).to.equal(true);
    expect(totals.pages).to.equal(logsServer.requests.length);
    expect(totals.pages).to.be.greaterThan(7); // 650 events / 100 per page, plus the empty "still searching" page
    expect(totals.eventsRead).to.equal(inWindow.length);
    expect(totals.retried).to.be.greaterThan(0);
    expect(totals.recordsSent).to.be.greaterThan(500);
    for (const call of sink.calls) {
      expect(call.records).to.be.at.most(500);
      expect(call.bytes).to.be.at.most(4 * 1024 * 1024);
    }

    const received = firehoseServer.records;
    expect(received).to.have.length(totals.recordsSent);
    for (const record of received) {
      const payload = JSON.parse(gunzipSync(record.data).toString('utf8')) as {
        messageType: string;
        logGroup: string;
        logStream: string;
        logEvents: { message: string }[];
      };
      expect(payload.messageType).to.equal('DATA_MESSAGE');
      expect(payload.logGroup).to.equal(GROUP);
      for (const logEvent of payload.logEvents) {
        const event = JSON.parse(logEvent.message) as { recipientAccountId: string; awsRegion: string };
        expect(payload.logStream).to.equal(`${event.recipientAccountId}_CloudTrail_${event.awsRegion}`);
      }
    }

    const delivered = await throughTransform(received);
    expect(delivered).to.have.length(inWindow.length);
    const sent = inWindow.map((e) => (JSON.parse(e.message) as { eventID: string }).eventID).sort();
    expect(delivered.map((d) => String(d.eventID)).sort()).to.deep.equal(sent);
    for (const doc of delivered) expect((doc.enrichment as { status: string }).status).to.be.oneOf(['complete', 'partial']);
  });

  it('passes the log stream prefix on to FilterLogEvents', async () => {
    const totals = await replayLogGroup({
      logs,
      sink: new FirehoseSink(firehose, 'cloudtrail-enricher-test'),
      logGroupName: GROUP,
      startTime: start,
      endTime: end,
      logStreamNamePrefix: '444455556666_',
    });
    expect(logsServer.requests.every((r) => r.logStreamNamePrefix === '444455556666_')).to.equal(true);
    expect(totals.eventsRead).to.equal(inWindow.filter((e) => e.logStreamName.startsWith('444455556666_')).length);
  });

  it('refuses a window whose start is after its end before reading anything', async () => {
    let thrown: unknown;
    try {
      await replayLogGroup({ logs, sink: new FirehoseSink(firehose, 'x'), logGroupName: GROUP, startTime: end, endTime: start });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(ReplayOptionsError);
    expect(logsServer.requests).to.have.length(0);
  });

  describe('cloudtrail-enricher replay (the command line)', () => {
    const saved = { ...process.env };
    const printed: string[] = [];
    const realLog = console.log;
    const realError = console.error;
    const realStderr = process.stderr.write.bind(process.stderr);

    before(() => {
      Object.assign(process.env, {
        AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logsServer.url,
        AWS_ENDPOINT_URL_FIREHOSE: firehoseServer.url,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDLOOPBACK',
        AWS_SECRET_ACCESS_KEY: 'loopback',
      });
      console.log = (...args: unknown[]) => void printed.push(args.join(' '));
      console.error = (...args: unknown[]) => void printed.push(args.join(' '));
      process.stderr.write = (chunk: string | Uint8Array) => (printed.push(String(chunk)), true);
    });

    after(() => {
      console.log = realLog;
      console.error = realError;
      process.stderr.write = realStderr;
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    });

    beforeEach(() => {
      printed.length = 0;
    });

    it('replays the window through the SDK clients the environment points at and prints a summary', async () => {
      const code = await main([
        'replay',
        '--log-group',
        GROUP,
        '--start',
        new Date(start).toISOString(),
        '--end',
        new Date(end).toISOString(),
        '--delivery-stream',
        'cloudtrail-enricher-test',
      ]);
      expect(code).to.equal(0);
      expect(firehoseServer.targets.every((t) => t === 'Firehose_20150804.PutRecordBatch')).to.equal(true);
      const delivered = await throughTransform(firehoseServer.records);
      expect(delivered).to.have.length(inWindow.length);
      expect(printed.join('\n')).to.match(/events read\s+650 /);
    });

    it('exits 1 with one line when the delivery stream keeps rejecting records (records not sent)', async function () {
      this.timeout(120_000); // ten attempts with exponential backoff (base 200 ms, cap 5 s, full jitter)
      entryPolicy = () => 'ServiceUnavailableException';
      const code = await main(
        [
          'replay',
          '--log-group',
          GROUP,
          '--start',
          new Date(start).toISOString(),
          '--end',
          new Date(end).toISOString(),
          '--delivery-stream',
          'cloudtrail-enricher-test',
        ],
        {
          stderr: (line) => printed.push(line),
        },
      );
      expect(code).to.equal(1);
      const line = printed.find((l) => l.startsWith('cloudtrail-enricher: replay stopped'));
      expect(line).to.match(
        /delivery stream cloudtrail-enricher-test did not accept every record \(re-ingestion failed for \d+ of \d+ records after 10 attempts/,
      );
      expect(line).to.include('stay sent');
      expect(printed.join('\n')).not.to.include('    at ');
    });

    it('rejects a missing stream name and a time without a zone with usage errors (exit 2)', async () => {
      expect(await main(['replay', '--log-group', GROUP, '--start', '2026-11-18', '--end', '2026-11-19'])).to.equal(2);
      expect(
        await main(['replay', '--log-group', GROUP, '--start', '2026-11-18T00:00:00', '--end', '2026-11-19', '--delivery-stream', 's']),
      ).to.equal(2);
      expect(logsServer.requests).to.have.length(0);
      expect(printed.join('\n')).to.include('(see cloudtrail-enricher replay --help)');
      expect(printed.join('\n')).not.to.include('    at ');
    });
  });
});
