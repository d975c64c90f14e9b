import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../../../src/config/index.ts';
import { createObjectLambdaHandler, ObjectLambdaEventError, type ObjectLambdaHandler } from '../../../src/entry/object-lambda/index.ts';
import { buildStages, type Stages } from '../../../src/pipeline/stages.ts';
import { digestKey, digestObject, gzipBomb, mixedRecords, trailKey, trailObject } from '../backfill/fixtures.ts';

/** What arrived at the loopback WriteGetObjectResponse endpoint. */
interface Written {
  readonly path: string;
  readonly route?: string;
  readonly token?: string;
  readonly status?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly contentType?: string;
  readonly body: Buffer;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * One loopback server playing both parts of S3 Object Lambda: the supporting access point behind the presigned
 * `inputS3Url` (GET /original/<name>?X-Amz-…), and the WriteGetObjectResponse endpoint (POST /WriteGetObjectResponse,
 * the route and token in `x-amz-request-route` / `x-amz-request-token`, status and error in `x-amz-fwd-*`).
 */
describe('Object Lambda GetObject against a loopback S3 Object Lambda endpoint', function () {
  this.timeout(30_000);
  let server: Server;
  let base: string;
  let s3: S3Client;
  let stages: Stages;
  let handler: ObjectLambdaHandler;
  const originals = new Map<string, { status: number; body: Buffer }>();
  const written: Written[] = [];
  const fetched: string[] = [];
  const config = loadConfig({});
  const records = mixedRecords();
  const context = { getRemainingTimeInMillis: () => 60_000 };
  const SECRET_SIGNATURE = 'f00dfeedc0ffee0123456789abcdef';

  before(async () => {
    originals.set('trail', { status: 200, body: trailObject(records) });
    originals.set('digest', { status: 200, body: digestObject() });
    originals.set('not-trail', { status: 200, body: gzipSync(JSON.stringify({ hello: 'world' })) });
    originals.set('bomb', { status: 200, body: gzipBomb(4 * 1024 * 1024) });
    originals.set('missing', {
      status: 404,
      body: Buffer.from('<Error><Code>NoSuchKey</Code><Key>AWSLogs/secret-key.json.gz</Key></Error>'),
    });
    originals.set('forbidden', { status: 403, body: Buffer.from('<Error><Code>AccessDenied</Code></Error>') });
    originals.set('slow', { status: 503, body: Buffer.from('<Error><Code>SlowDown</Code></Error>') });
    originals.set('broken', { status: 500, body: Buffer.from('<Error><Code>InternalError</Code></Error>') });

    server = createServer((req, res) => {
      void readBody(req).then((body) => {
        const url = new URL(req.url ?? '/', 'http://loopback');
        if (req.method === 'POST' && url.pathname === '/WriteGetObjectResponse') {
          const header = (name: string) => (typeof req.headers[name] === 'string' ? req.headers[name] : undefined);
          written.push({
            path: url.pathname,
            route: header('x-amz-request-route'),
            token: header('x-amz-request-token'),
            status: header('x-amz-fwd-status'),
            errorCode: header('x-amz-fwd-error-code'),
            errorMessage: header('x-amz-fwd-error-message'),
            contentType: header('x-amz-fwd-header-content-type'),
            body,
          });
          res.writeHead(200, { 'x-amz-request-id': 'WGOR' });
          res.end();
          return;
        }
        if (req.method === 'GET' && url.pathname.startsWith('/original/')) {
          const name = url.pathname.slice('/original/'.length);
          fetched.push(name);
          const original = originals.get(name);
          if (original === undefined) {
            res.writeHead(404);
            res.end();
            return;
          }
          res.writeHead(original.status, { 'content-type': 'application/octet-stream', 'last-modified': 'Fri, 20 Nov 2026 14:05:00 GMT' });
          res.end(original.body);
          return;
        }
        res.writeHead(400);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The SDK sends WriteGetObjectResponse to <RequestRoute>.<endpoint>; a loopback address cannot carry the route
    // as a host prefix, so it is turned off here (the route still travels in x-amz-request-route).
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: base,
      forcePathStyle: true,
      disableHostPrefix: true,
      credentials: { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback' },
      maxAttempts: 1,
    });
    stages = buildStages(config);
    handler = createObjectLambdaHandler({
      s3,
      enrich: { config: config.core, intel: stages.intel, rules: stages.rules },
      limits: { maxObjectBytes: 1024 * 1024, maxDecompressedBytes: 1024 * 1024 },
    });
  });

  after(async () => {
    s3.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    written.length = 0;
    fetched.length = 0;
  });

  /** An Object Lambda GetObject event for `key`, whose original is served as `original`. */
  function event(original: string, key: string, userRequest: { headers?: Record<string, string>; query?: string } = {}): unknown {
    return {
      xAmzRequestId: '1a5ed718-5f53-471d-b6fe-5cf62d88d02a',
      getObjectContext: {
        inputS3Url: `${base}/original/${original}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE&X-Amz-Signature=${SECRET_SIGNATURE}`,
        outputRoute: 'io-use1-001',
        outputToken: `token-${original}`,
      },
      configuration: {
        accessPointArn: 'arn:aws:s3-object-lambda:us-east-1:111122223333:accesspoint/cloudtrail-enricher-test-enriched',
        supportingAccessPointArn: 'arn:aws:s3:us-east-1:111122223333:accesspoint/cloudtrail-enricher-test',
        payload: '',
      },
      userRequest: {
        url: `https://cloudtrail-enricher-test-enriched-111122223333.s3-object-lambda.us-east-1.amazonaws.com/${key}${userRequest.query ?? ''}`,
        headers: {
          Host: 'cloudtrail-enricher-test-enriched-111122223333.s3-object-lambda.us-east-1.amazonaws.com',
          'Accept-Encoding': 'identity',
          ...userRequest.headers,
        },
      },
      userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111122223333:user/Alice', accountId: '111122223333' },
      protocolVersion: '1.00',
    };
  }

  const KEY = trailKey('111122223333', 'us-east-1', '20261120T1405Z', 'AbCdEfGh12345678');

  function only(): Written {
    expect(written).to.have.length(1);
    return written[0]!;
  }

  function expectNoLeak(w: Written, ...secrets: string[]): void {
    for (const secret of [SECRET_SIGNATURE, base, '127.0.0.1', 'AWSLogs', ...secrets]) {
      expect(w.errorMessage ?? '').to.not.include(secret);
    }
  }

  it('answers with the enriched object as NDJSON: every event once, each with its enrichment', async () => {
    expect(await handler(event('trail', KEY), context)).to.deep.equal({ statusCode: 200 });
    const w = only();
    expect(w).to.include({
      path: '/WriteGetObjectResponse',
      route: 'io-use1-001',
      token: 'token-trail',
      status: '200',
      contentType: 'application/x-ndjson',
    });
    const text = w.body.toString('utf8');
    expect(text.endsWith('\n')).to.equal(true);
    const lines = text
      .slice(0, -1)
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).to.have.length(records.length);
    const ids = lines.map((l) => l.eventID).filter((id) => id !== undefined);
    expect(ids).to.deep.equal(records.filter((r) => typeof r === 'object').map((r) => (r as { eventID: string }).eventID));
    for (const line of lines) expect(line.enrichment).to.be.an('object');
    const google = lines.find((l) => l.sourceIPAddress === '8.8.8.8')!;
    expect((google.enrichment as { source: { kind: string } }).source.kind).to.equal('public');
  });

  it('refuses a digest file by its key without reading it (400)', async () => {
    expect(await handler(event('digest', digestKey('111122223333', 'us-east-1')), context)).to.deep.equal({ statusCode: 400 });
    expect(only()).to.include({ status: '400', errorCode: 'NotCloudTrailLogFile' });
    expect(fetched).to.deep.equal([]);
  });

  it('refuses a digest file that does not look like one by its key, after reading it (400)', async () => {
    await handler(event('digest', KEY), context);
    expect(only()).to.include({ status: '400', errorCode: 'NotCloudTrailLogFile' });
    expect(fetched).to.deep.equal(['digest']);
  });

  it('refuses an object that is not a CloudTrail log file with a 4xx that names neither key nor URL', async () => {
    await handler(event('not-trail', KEY), context);
    const w = only();
    expect(w).to.include({ status: '400', errorCode: 'NotCloudTrailLogFile' });
    expectNoLeak(w, KEY);
    expect(w.body.length).to.equal(0);
  });

  it('stops a gzip bomb at the decompression limit (400 EntityTooLarge)', async () => {
    await handler(event('bomb', KEY), context);
    expect(only()).to.include({ status: '400', errorCode: 'EntityTooLarge' });
  });

  it('passes the original being missing or forbidden on as S3 would (404 NoSuchKey, 403 AccessDenied)', async () => {
    await handler(event('missing', KEY), context);
    await handler(event('forbidden', KEY), context);
    expect(written.map((w) => [w.status, w.errorCode])).to.deep.equal([
      ['404', 'NoSuchKey'],
      ['403', 'AccessDenied'],
    ]);
    for (const w of written) expectNoLeak(w, KEY, 'secret-key');
  });

  it('answers 503 SlowDown when the original is throttled and 500 InternalError for other failures, without internal detail', async () => {
    await handler(event('slow', KEY), context);
    await handler(event('broken', KEY), context);
    expect(written.map((w) => [w.status, w.errorCode])).to.deep.equal([
      ['503', 'SlowDown'],
      ['500', 'InternalError'],
    ]);
    for (const w of written) {
      expectNoLeak(w, KEY);
      expect(w.errorMessage).to.not.match(/HTTP|fetch|Error:/);
    }
  });

  it('refuses Range and partNumber requests with InvalidRequest instead of returning a wrong slice', async () => {
    await handler(event('trail', KEY, { headers: { Range: 'bytes=0-99' } }), context);
    await handler(event('trail', KEY, { query: '?partNumber=1' }), context);
    expect(written.map((w) => [w.status, w.errorCode])).to.deep.equal([
      ['400', 'InvalidRequest'],
      ['400', 'InvalidRequest'],
    ]);
    expect(fetched).to.deep.equal([]);
  });

  it('throws (and answers nothing) for an event that is not an Object Lambda GetObject event', async () => {
    let thrown: unknown;
    try {
      await handler({ Records: [] }, context);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(ObjectLambdaEventError);
    expect(written).to.deep.equal([]);
  });
});
