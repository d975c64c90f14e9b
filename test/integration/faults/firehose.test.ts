import { expect } from 'chai';
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
    firehose = await startFirehoseServer((c, i) => entries(c, i), (c) => calls(c));
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
    const rig = coldStart({ env: { REINGEST_BASE_DELAY_MS: '1', REINGEST_MAX_DELAY_MS: '10', REINGEST_MAX_ATTEMPTS: '3' }, geo, firehoseUrl: firehose.url });
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
    const { batch, outcome } = await run({ entries: (call, index) => (call === 1 ? (index % 2 === 0 ? 'ServiceUnavailableException' : 'InternalFailure') : undefined) });
    expect(outcome.thrown).to.deep.equal([]);
    expect(firehose.calls).to.be.greaterThan(1);
    expect(conservation(outcome.delivered, batch.expected)).to.deep.equal({ lost: [], duplicated: [], unexpected: [] });
  });

  it('rides out throttling (whole calls refused with ServiceUnavailableException, then accepted) without throwing', async () => {
    const { batch, outcome } = await run({ calls: (call) => (call <= 2 ? { status: 503, type: 'ServiceUnavailableException' } : undefined) });
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
    const { batch, outcome } = await run({ entries: (_call, index) => (index === 0 ? 'ServiceUnavailableException' : undefined) }, { recover: true });
    expect(outcome.thrown.map((e) => e.name)).to.deep.equal(['ReingestionError']);
    const { lost, duplicated, unexpected } = conservation(outcome.delivered, batch.expected);
    expect(lost).to.deep.equal([]);
    expect(unexpected).to.deep.equal([]);
    // Documented limit: what was accepted before the throw comes out twice, never more.
    expect(duplicated.length).to.be.greaterThan(0);
    for (const id of duplicated) expect(outcome.delivered.get(id)).to.have.length(2);
  });
});
