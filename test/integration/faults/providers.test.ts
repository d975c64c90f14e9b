import { expect } from 'chai';
import type { GeoDatabase } from '../../../src/3-lookup/geo/geo-database.ts';
import { startFirehoseServer } from '../../helpers/loopback.ts';
import { startFakeServer, type FakeServer, type RecordedRequest, type ScriptedResponse } from '../lookup/fake-provider-server.ts';
import {
  coldStart,
  conservation,
  drive,
  errorAs200,
  faultBatch,
  healthyAnswer,
  providerEnv,
  routeOf,
  sharedGeo,
  statusOf,
  type DriveOutcome,
  type FaultBatch,
} from './support.ts';

/**
 * Fault matrix, providers: every case runs one fresh container (cold start: new L1, breakers, keys) through the real
 * handler and stages, with all four providers pointed at one loopback server that misbehaves as the case says.
 * Each asserts: every recordId once per invocation, every event delivered exactly once (returned or re-ingested and
 * returned later), `partial` exactly for the events with a public source, and no throw.
 */
describe('fault matrix: providers failing', function () {
  this.timeout(30_000);
  let geo: GeoDatabase;
  let providers: FakeServer;
  let firehose: Awaited<ReturnType<typeof startFirehoseServer>>;

  before(async () => {
    geo = await sharedGeo();
    providers = await startFakeServer(healthyAnswer);
    firehose = await startFirehoseServer();
  });
  after(async () => {
    await providers.close();
    await firehose.close();
  });

  async function run(
    answer: (req: RecordedRequest, nth: number) => ScriptedResponse,
    env: Record<string, string> = {},
  ): Promise<{ batch: FaultBatch; outcome: DriveOutcome }> {
    providers.reset(answer);
    firehose.drain();
    const rig = coldStart({ env: providerEnv(providers.baseUrl, env), geo, firehoseUrl: firehose.url });
    try {
      const batch = faultBatch();
      const outcome = await drive(rig.handler, batch.event, firehose);
      expect(outcome.thrown, 'the handler threw').to.deep.equal([]);
      const { lost, duplicated, unexpected } = conservation(outcome.delivered, batch.expected);
      expect({ lost, duplicated, unexpected }).to.deep.equal({ lost: [], duplicated: [], unexpected: [] });
      const garbage = outcome.first.records.find((r) => r.recordId === batch.garbageRecordId)!;
      expect(garbage.result).to.equal('ProcessingFailed');
      expect(outcome.invocations, 'events of other partitions were re-ingested and came back').to.be.greaterThan(1);
      // Only the batch's public addresses ever reached a provider.
      for (const req of providers.requests) expect(batch.publicIps).to.include(routeOf(req).ip);
      return { batch, outcome };
    } finally {
      rig.close();
    }
  }

  /** Events with a public source carry `expected`; every other event is complete (or skipped), never failed. */
  function expectStatuses(batch: FaultBatch, outcome: DriveOutcome, expected: 'partial' | 'complete'): void {
    for (const [id, [d]] of outcome.delivered) {
      if (id.startsWith('raw:')) expect(statusOf(d!)).to.equal('skipped');
      else if (batch.publicEvents.has(id)) expect(statusOf(d!), id).to.equal(expected);
      else expect(statusOf(d!), id).to.equal('complete');
    }
  }

  it('delivers complete enrichment from all four providers when they are healthy (baseline)', async () => {
    const { batch, outcome } = await run(healthyAnswer);
    expectStatuses(batch, outcome, 'complete');
    const [one] = outcome.delivered.get([...batch.publicEvents][0]!)!;
    expect(Object.keys((one!.line.enrichment as { providers: object }).providers).sort()).to.deep.equal([
      'abuseipdb',
      'autofocus',
      'ipqualityscore',
      'ipstack',
    ]);
  });

  it('delivers partial events when every provider answers HTTP 500', async () => {
    const { batch, outcome } = await run(() => ({ status: 500, body: { error: 'internal' } }));
    expectStatuses(batch, outcome, 'partial');
    // One retry each (P_MAX_RETRIES=1): the outage was noticed, not hidden.
    expect(providers.requests.length).to.be.at.least(batch.publicIps.length * 4);
  });

  it('delivers partial events when every provider answers 429 without Retry-After', async () => {
    const { batch, outcome } = await run(() => ({ status: 429, body: { message: 'Too Many Requests' } }));
    expectStatuses(batch, outcome, 'partial');
  });

  it('delivers partial events at once when 429 asks to retry after the deadline (breaker opens, no waiting)', async () => {
    const { batch, outcome } = await run(() => ({
      status: 429,
      headers: { 'retry-after': '3600' },
      body: { message: 'Too Many Requests' },
    }));
    expectStatuses(batch, outcome, 'partial');
    expect(Math.max(...outcome.durations)).to.be.below(60_000);
  });

  it('delivers partial events when every provider times out (never answers)', async () => {
    const { batch, outcome } = await run(() => ({ hang: true }));
    expectStatuses(batch, outcome, 'partial');
  });

  it('delivers complete events when providers are slow but within their timeout', async () => {
    const { batch, outcome } = await run((req) => ({ ...healthyAnswer(req), delayMs: 60 }));
    expectStatuses(batch, outcome, 'complete');
  });

  it('delivers partial events when providers answer garbage (not JSON, HTML, truncated JSON)', async () => {
    const bodies = ['<html><body>502 Bad Gateway</body></html>', '{"success": tr', '\u0000\u0001\u0002', ''];
    const { batch, outcome } = await run((_req, nth) => ({ body: bodies[nth % bodies.length] }));
    expectStatuses(batch, outcome, 'partial');
  });

  it('delivers partial events when providers report an error with HTTP 200 (error-as-200)', async () => {
    const { batch, outcome } = await run(errorAs200);
    expectStatuses(batch, outcome, 'partial');
  });

  for (const faulty of ['ipstack', 'ipqualityscore', 'autofocus', 'abuseipdb'] as const) {
    it(`delivers partial events when only ${faulty} reports an error with HTTP 200 (never cached as "no data")`, async () => {
      const { batch, outcome } = await run((req) => (routeOf(req).provider === faulty ? errorAs200(req) : healthyAnswer(req)));
      expectStatuses(batch, outcome, 'partial');
    });
  }

  it('delivers partial events only for the addresses a flaky provider failed, complete for the rest', async () => {
    // AbuseIPDB fails for one address only; everything else answers.
    let failing = '';
    const { batch, outcome } = await run((req) => {
      const { provider, ip } = routeOf(req);
      failing ||= ip;
      return provider === 'abuseipdb' && ip === failing ? { status: 503 } : healthyAnswer(req);
    });
    for (const [id, [d]] of outcome.delivered) {
      if (!batch.publicEvents.has(id)) continue;
      const source = (d!.line.enrichment as { source: { ip: string } }).source;
      expect(statusOf(d!), id).to.equal(source.ip === failing ? 'partial' : 'complete');
    }
  });
});
