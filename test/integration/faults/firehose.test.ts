import { expect } from 'chai';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lambdaContext } from '../../helpers/factories.ts';
import { ReingestionError } from '../../../src/errors.ts';
import type { GeoDatabase } from '../../../src/3-lookup/geo/geo-database.ts';
import { startFirehoseServer, type CallPolicy, type EntryPolicy } from '../../helpers/loopback.ts';
import { coldStart, conservation, drive, faultBatch, sharedGeo, type DriveOutcome, type FaultBatch } from './support.ts';

/**
 * Fault matrix, re-ingestion: the real FirehoseSink and SDK client against a loopback PutRecordBatch endpoint that
 * fails entries (per-entry error codes), throttles or fails whole calls. Events of other partitions must still come
 * out exactly once; the handler throws only when re-ingestion is exhausted, and Firehose's retry of that batch
 * then delivers everything.
 */
describe('fault matrix: Firehose PutRecordBatch failing', function () {
  this.timeout(30_000);
  let geo: GeoDatabase;
  let firehose: Awaited<ReturnType<typeof startFirehoseServer>>;
  let entries: EntryPolicy = () => undefined;
  let calls: CallPolicy = () => undefined;

  before(async () => {
    geo = await sharedGeo();
    firehose = await startFirehoseServer(
      (c, i) => entries(c, i),
      (c) => calls(c),
    );
  });
  after(async () => {
    await firehose.close();
  });

  async function run(
    policy: { entries?: EntryPolicy; calls?: CallPolicy },
    options: { recover?: boolean } = {},
  ): Promise<{ batch: FaultBatch; outcome: DriveOutcome }> {
    entries = policy.entries ?? (() => undefined);
    calls = policy.calls ?? (() => undefined);
    firehose.drain();
    firehose.calls = 0;
    const rig = coldStart({
      env: { REINGEST_BASE_DELAY_MS: '1', REINGEST_MAX_DELAY_MS: '10', REINGEST_MAX_ATTEMPTS: '3' },
      geo,
      firehoseUrl: firehose.url,
    });
    try {
      const batch = faultBatch();
      const outcome = await drive(rig.handler, batch.event, firehose, {
        beforeRetry: () => {
          if (options.recover === true) {
            entries = () => undefined;
            calls = () => undefined;
          }
        },
      });
      return { batch, outcome };
    } finally {
      rig.close();
    }
  }

  it('retries the entries PutRecordBatch rejects (per-entry ServiceUnavailableException / InternalFailure) without throwing', async () => {
    const { batch, outcome } = await run({
      entries: (call, index) => (call === 1 ? (index % 2 === 0 ? 'ServiceUnavailableException' : 'InternalFailure') : undefined),
    });
    expect(outcome.thrown).to.deep.equal([]);
    expect(firehose.calls).to.be.greaterThan(1);
    expect(conservation(outcome.delivered, batch.expected)).to.deep.equal({ lost: [], duplicated: [], unexpected: [] });
  });

  it('rides out throttling (whole calls refused with ServiceUnavailableException, then accepted) without throwing', async () => {
    const { batch, outcome } = await run({
      calls: (call) => (call <= 2 ? { status: 503, type: 'ServiceUnavailableException' } : undefined),
    });
    expect(outcome.thrown).to.deep.equal([]);
    expect(conservation(outcome.delivered, batch.expected)).to.deep.equal({ lost: [], duplicated: [], unexpected: [] });
  });

  it('rides out per-entry throttling of every entry on the first attempts', async () => {
    const { batch, outcome } = await run({ entries: (call) => (call <= 2 ? 'ServiceUnavailableException' : undefined) });
    expect(outcome.thrown).to.deep.equal([]);
    expect(conservation(outcome.delivered, batch.expected)).to.deep.equal({ lost: [], duplicated: [], unexpected: [] });
  });

  it('throws ReingestionError when every call fails, and Firehose\u2019s retry of the batch then loses and duplicates nothing', async () => {
    const { batch, outcome } = await run({ calls: () => ({ status: 500, type: 'InternalFailure' }) }, { recover: true });
    expect(outcome.thrown).to.have.length(1);
    expect(outcome.thrown[0]).to.be.instanceOf(ReingestionError);
    expect(conservation(outcome.delivered, batch.expected)).to.deep.equal({ lost: [], duplicated: [], unexpected: [] });
  });

  it('throws ReingestionError when Firehose keeps throttling past every attempt, nothing accepted, nothing lost after the retry', async () => {
    const { batch, outcome } = await run({ entries: () => 'ServiceUnavailableException' }, { recover: true });
    expect(outcome.thrown.map((e) => e.name)).to.deep.equal(['ReingestionError']);
    expect(conservation(outcome.delivered, batch.expected)).to.deep.equal({ lost: [], duplicated: [], unexpected: [] });
  });

  it('loses nothing when re-ingestion is exhausted after some entries were accepted; those events are duplicated (at-least-once)', async () => {
    // Entry 0 of every call fails; the others are accepted on the first attempt, then the batch is retried whole.
    const { batch, outcome } = await run(
      { entries: (_call, index) => (index === 0 ? 'ServiceUnavailableException' : undefined) },
      { recover: true },
    );
    expect(outcome.thrown.map((e) => e.name)).to.deep.equal(['ReingestionError']);
    const { lost, duplicated, unexpected } = conservation(outcome.delivered, batch.expected);
    expect(lost).to.deep.equal([]);
    expect(unexpected).to.deep.equal([]);
    // Documented limit: what was accepted before the throw comes out twice, never more.
    expect(duplicated.length).to.be.greaterThan(0);
    for (const id of duplicated) expect(outcome.delivered.get(id)).to.have.length(2);
  });
});

/**
 * Issue 11, cases 8 and 9: a PutRecordBatch endpoint that accepts the connection and never answers, and one that
 * accepts the entries and then resets the connection (the response is lost).
 */
describe('fault matrix: Firehose PutRecordBatch hanging or resetting after acceptance', function () {
  this.timeout(30_000);
  let geo: GeoDatabase;
  before(async () => {
    geo = await sharedGeo();
  });

  async function lossyFirehose(behaviour: (call: number, req: IncomingMessage, res: ServerResponse, body: string) => void) {
    const stored: { data: Buffer }[] = [];
    let calls = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => behaviour(++calls, req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accept = (body: string, res: ServerResponse): void => {
      const records = (JSON.parse(body) as { Records: { Data: string }[] }).Records;
      for (const r of records) stored.push({ data: Buffer.from(r.Data, 'base64') });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ FailedPutCount: 0, Encrypted: false, RequestResponses: records.map((_, i) => ({ RecordId: `r${i}` })) }));
    };
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      stored,
      accept,
      calls: () => calls,
      drain: () => stored.splice(0),
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  it('answers before its deadline when PutRecordBatch accepts the connection and never answers', async () => {
    const stream = await lossyFirehose(() => undefined);
    const rig = coldStart({
      env: { REINGEST_BASE_DELAY_MS: '1', REINGEST_MAX_DELAY_MS: '10', REINGEST_MAX_ATTEMPTS: '3', RESPONSE_RESERVE_MS: '400' },
      geo,
      firehoseUrl: stream.url,
    });
    try {
      const started = Date.now();
      let error: unknown;
      try {
        await rig.handler(faultBatch().event, lambdaContext(2000));
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(ReingestionError);
      expect(Date.now() - started).to.be.lessThan(2000);
    } finally {
      rig.close();
      await stream.close();
    }
  });

  it('resends the entries of a call whose connection reset after acceptance once (one retry layer), never more', async () => {
    const stream = await lossyFirehose((call, req, res, body) => {
      if (call === 1) {
        const records = (JSON.parse(body) as { Records: { Data: string }[] }).Records;
        for (const r of records) stream.stored.push({ data: Buffer.from(r.Data, 'base64') });
        req.socket.destroy();
        return;
      }
      stream.accept(body, res);
    });
    const rig = coldStart({
      env: { REINGEST_BASE_DELAY_MS: '1', REINGEST_MAX_DELAY_MS: '10', REINGEST_MAX_ATTEMPTS: '3' },
      geo,
      firehoseUrl: stream.url,
    });
    try {
      const batch = faultBatch();
      const outcome = await drive(rig.handler, batch.event, stream);
      const { lost, duplicated, unexpected } = conservation(outcome.delivered, batch.expected);
      expect(outcome.thrown).to.deep.equal([]);
      expect(lost).to.deep.equal([]);
      expect(unexpected).to.deep.equal([]);
      // The lost response after acceptance is the documented duplicate: exactly one extra copy, from our loop only.
      expect(duplicated.length).to.be.greaterThan(0);
      for (const id of duplicated) expect(outcome.delivered.get(id)).to.have.length(2);
      // Every call the endpoint saw was one our loop made: the SDK resent nothing behind its back.
      expect(stream.calls()).to.equal(rig.summaries.reduce((n, s) => n + s.reingestCalls, 0));
    } finally {
      rig.close();
      await stream.close();
    }
  });
});
