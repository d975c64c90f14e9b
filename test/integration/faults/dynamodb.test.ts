import { expect } from 'chai';
import type { GeoDatabase } from '../../../src/3-lookup/geo/geo-database.ts';
import { startFirehoseServer } from '../../helpers/loopback.ts';
import { startDynalite, type LocalDynamo } from '../lookup/dynalite.ts';
import { startFakeServer, type FakeServer } from '../lookup/fake-provider-server.ts';
import {
  DYNAMODB_ERRORS,
  coldStart,
  conservation,
  drive,
  faultBatch,
  healthyAnswer,
  providerEnv,
  sharedGeo,
  startAwsJsonServer,
  statusOf,
  type AwsJsonServer,
  type AwsReply,
  type DriveOutcome,
  type FaultBatch,
} from './support.ts';

const TABLE = 'faults-ip-cache';

/**
 * Fault matrix, DynamoDB IP cache: dynalite behind a loopback proxy that answers in the DynamoDB JSON 1.0 wire
 * format with throttling errors, 500s, or slowly. A cache failure is a miss (providers still answer: complete);
 * a cache that is too slow for the enrichment budget makes the events partial, never failed.
 */
describe('fault matrix: DynamoDB cache failing', function () {
  this.timeout(30_000);
  let geo: GeoDatabase;
  let providers: FakeServer;
  let firehose: Awaited<ReturnType<typeof startFirehoseServer>>;
  let dynalite: LocalDynamo;
  let proxy: AwsJsonServer;
  let fault: (target: string) => AwsReply = () => ({ forward: true });

  before(async () => {
    geo = await sharedGeo();
    providers = await startFakeServer(healthyAnswer);
    firehose = await startFirehoseServer();
    dynalite = await startDynalite([TABLE]);
    proxy = await startAwsJsonServer('application/x-amz-json-1.0', (target) => fault(target), dynalite.endpoint);
  });
  after(async () => {
    await proxy.close();
    await dynalite.close();
    await providers.close();
    await firehose.close();
  });

  async function run(
    reply: (target: string) => AwsReply,
    options: { remainingMs?: number; dynamoUrl?: string } = {},
  ): Promise<{ batch: FaultBatch; outcome: DriveOutcome }> {
    fault = reply;
    proxy.targets.length = 0;
    providers.reset(healthyAnswer);
    firehose.drain();
    const rig = coldStart({
      env: providerEnv(providers.baseUrl, { CACHE_TABLE_NAME: TABLE }),
      geo,
      firehoseUrl: firehose.url,
      dynamoUrl: options.dynamoUrl ?? proxy.url,
    });
    try {
      const batch = faultBatch();
      const outcome = await drive(rig.handler, batch.event, firehose, { remainingMs: options.remainingMs ?? 60_000 });
      expect(outcome.thrown, 'the handler threw').to.deep.equal([]);
      expect(conservation(outcome.delivered, batch.expected)).to.deep.equal({ lost: [], duplicated: [], unexpected: [] });
      return { batch, outcome };
    } finally {
      rig.close();
    }
  }

  function publicStatuses(batch: FaultBatch, outcome: DriveOutcome): string[] {
    return [...new Set([...outcome.delivered].filter(([id]) => batch.publicEvents.has(id)).map(([, [d]]) => statusOf(d!)))];
  }

  it('reads and writes the cache through the proxy when DynamoDB is healthy (baseline: a second container hits it)', async () => {
    const { batch, outcome } = await run(() => ({ forward: true }));
    expect(publicStatuses(batch, outcome)).to.deep.equal(['complete']);
    expect(proxy.targets).to.include('DynamoDB_20120810.BatchWriteItem');
    // A new container with the providers down is served from DynamoDB alone.
    providers.reset(() => ({ status: 500 }));
    const rig = coldStart({
      env: providerEnv(providers.baseUrl, { CACHE_TABLE_NAME: TABLE }),
      geo,
      firehoseUrl: firehose.url,
      dynamoUrl: proxy.url,
    });
    try {
      const again = await drive(rig.handler, { ...batch.event, records: batch.event.records.slice(0, 1) }, firehose);
      const statuses = [...again.delivered].filter(([id]) => batch.publicEvents.has(id)).map(([, [d]]) => statusOf(d!));
      expect(statuses.length).to.be.greaterThan(0);
      expect(new Set(statuses)).to.deep.equal(new Set(['complete']));
      expect(providers.requests).to.have.length(0);
    } finally {
      rig.close();
    }
  });

  it('treats ProvisionedThroughputExceededException on every call as misses: providers answer, events complete', async () => {
    const { batch, outcome } = await run(() => ({ type: DYNAMODB_ERRORS.provisionedThroughputExceeded }));
    expect(publicStatuses(batch, outcome)).to.deep.equal(['complete']);
    expect(proxy.targets.filter((t) => t === 'DynamoDB_20120810.BatchGetItem').length).to.be.greaterThan(1); // the SDK retried
    expect(providers.requests.length).to.be.at.least(batch.publicIps.length * 4);
  });

  it('treats ThrottlingException on reads as misses: events complete', async () => {
    const { batch, outcome } = await run((target) =>
      target.endsWith('.BatchGetItem') ? { type: DYNAMODB_ERRORS.throttling } : { forward: true },
    );
    expect(publicStatuses(batch, outcome)).to.deep.equal(['complete']);
  });

  it('treats DynamoDB answering HTTP 500 (unavailable) as misses: events complete', async () => {
    const { batch, outcome } = await run(() => ({ status: 500, type: DYNAMODB_ERRORS.internalServerError }));
    expect(publicStatuses(batch, outcome)).to.deep.equal(['complete']);
  });

  it('treats an unreachable DynamoDB endpoint (connection refused) as misses: events complete', async () => {
    const { batch, outcome } = await run(() => ({ forward: true }), { dynamoUrl: 'http://127.0.0.1:9' });
    expect(publicStatuses(batch, outcome)).to.deep.equal(['complete']);
  });

  it('delivers complete events when DynamoDB is slow but within the enrichment budget', async () => {
    const { batch, outcome } = await run(() => ({ forward: true, delayMs: 150 }));
    expect(publicStatuses(batch, outcome)).to.deep.equal(['complete']);
  });

  it('delivers partial events, before the Lambda deadline, when DynamoDB never answers', async () => {
    // 4 s left: the enrichment budget is (4000 - RESPONSE_RESERVE_MS 2000) × 0.5 = 1 s.
    const { batch, outcome } = await run(() => ({ hang: true }), { remainingMs: 4000 });
    expect(publicStatuses(batch, outcome)).to.deep.equal(['partial']);
    for (const ms of outcome.durations) expect(ms, 'answered within the remaining Lambda time').to.be.below(4000);
  });
});
