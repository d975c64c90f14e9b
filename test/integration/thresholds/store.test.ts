/**
 * Threshold counters against dynalite: two store instances with their own clients play two containers sharing
 * the table; the fault endpoint (test/integration/faults/support.ts) plays DynamoDB throttled, down and slow.
 */
import { expect } from 'chai';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynalite, type LocalDynamo } from '../lookup/dynalite.ts';
import { DYNAMODB_ERRORS, startAwsJsonServer, type AwsJsonServer } from '../faults/support.ts';
import { planUpdates, resolvePlan, type ThresholdCandidate, type ThresholdSpec } from '../../../src/5-rules/thresholds/plan.ts';
import { DynamoDbThresholdStore, itemKey, TTL_MARGIN_SEC } from '../../../src/5-rules/thresholds/store.ts';

const TABLE = 'baseline';
const WINDOW = 600_000;
const T0 = 1_700_000_400_000 - (1_700_000_400_000 % WINDOW);

function client(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** One container: its own client and store, planning each of its invocations alone. */
function container(endpoint: string, specs: ReadonlyMap<string, ThresholdSpec>) {
  const c = client(endpoint);
  const store = new DynamoDbThresholdStore({ client: c, tableName: TABLE });
  return {
    client: c,
    async invoke(candidates: readonly ThresholdCandidate[], timeoutMs = 2000) {
      const plan = planUpdates(candidates, specs);
      const started = Date.now();
      const answers = await store.apply(plan.updates, { signal: AbortSignal.timeout(timeoutMs), now: T0 });
      return { ...resolvePlan(plan, answers), plan, elapsedMs: Date.now() - started };
    },
  };
}

const reads = (from: number, n: number, principal = 'arn:aws:iam::111122223333:user/alice', distinct = false) =>
  Array.from({ length: n }, (_, i) => ({
    event: from + i,
    ruleId: distinct ? 'secrets' : 'denied',
    by: [principal],
    time: T0 + from + i,
    value: `secret-${from + i}`,
  }));

describe('threshold counters in DynamoDB (dynalite)', function () {
  this.timeout(20_000);
  let local: LocalDynamo;
  const specs = new Map<string, ThresholdSpec>([
    ['denied', { count: 20, withinMs: WINDOW, distinct: false }],
    ['secrets', { count: 10, withinMs: WINDOW, distinct: true }],
  ]);

  before(async () => {
    local = await startDynalite([]);
    await local.client.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  after(async () => {
    await local.close();
  });

  it('a threshold counts events spread across both containers and flags the crossing event once', async () => {
    const a = container(local.endpoint, specs);
    const b = container(local.endpoint, specs);
    const p = 'arn:aws:iam::111122223333:user/carol';
    const flagged: number[] = [];
    // 8 + 7 events: under 20 together; then 6 more on b crosses at the 20th; later invocations stay silent.
    for (const [who, from, n] of [
      [a, 0, 8],
      [b, 8, 7],
      [b, 15, 6],
      [a, 21, 10],
      [b, 31, 3],
    ] as const) {
      const out = await who.invoke(reads(from, n, p));
      expect(out.unavailable.size).to.equal(0);
      expect(out.plan.updates).to.have.length(1);
      flagged.push(...out.crossed.map((c) => c.event));
    }
    expect(flagged).to.deep.equal([19]);
    a.client.destroy();
    b.client.destroy();
  });

  it('containers racing on the same window flag exactly one event between them', async () => {
    const a = container(local.endpoint, specs);
    const b = container(local.endpoint, specs);
    const p = 'arn:aws:iam::111122223333:user/dave';
    const outs = await Promise.all([a.invoke(reads(0, 12, p)), b.invoke(reads(12, 12, p))]);
    expect(outs.flatMap((o) => o.crossed)).to.have.length(1);
    a.client.destroy();
    b.client.destroy();
  });

  it('bounds a distinct set under twice the count and goes silent once it crossed', async () => {
    const a = container(local.endpoint, specs);
    const b = container(local.endpoint, specs);
    const p = 'arn:aws:iam::111122223333:user/erin';
    const first = await a.invoke(reads(0, 9, p, true));
    expect(first.crossed).to.deep.equal([]);
    const second = await b.invoke(reads(9, 40, p, true));
    expect(second.crossed.map((c) => c.event)).to.deep.equal([9]);
    const third = await a.invoke(reads(49, 40, p, true));
    expect(third.crossed).to.deep.equal([]);
    const item = await local.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: itemKey(first.plan.updates[0]!.key) } } }));
    const vals = item.Item?.['vals']?.SS ?? [];
    expect(vals.length).to.be.at.least(10).and.below(20);
    expect(Number(item.Item?.['expiresAt']?.N)).to.equal((T0 + WINDOW) / 1000 + TTL_MARGIN_SEC);
    a.client.destroy();
    b.client.destroy();
  });

  describe('faults', () => {
    let server: AwsJsonServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    for (const [name, reply] of [
      ['throttled', { type: DYNAMODB_ERRORS.throttling }],
      ['down (500)', { status: 500, type: DYNAMODB_ERRORS.internalServerError }],
    ] as const) {
      it(`DynamoDB ${name}: the events are unavailable (partial), none matches`, async () => {
        server = await startAwsJsonServer('application/x-amz-json-1.0', () => reply);
        const a = container(server.url, specs);
        const out = await a.invoke(reads(0, 25));
        expect(out.crossed).to.deep.equal([]);
        expect(out.unavailable.size).to.equal(25);
        a.client.destroy();
      });
    }

    it('DynamoDB slow: the counter gives up at the deadline, events unavailable, none matches', async () => {
      server = await startAwsJsonServer('application/x-amz-json-1.0', () => ({ hang: true }));
      const a = container(server.url, specs);
      const out = await a.invoke(reads(0, 25), 300);
      expect(out.elapsedMs).to.be.below(1500);
      expect(out.crossed).to.deep.equal([]);
      expect(out.unavailable.size).to.equal(25);
      a.client.destroy();
    });

    it('DynamoDB unreachable: events unavailable, none matches', async () => {
      const a = container('http://127.0.0.1:9', specs);
      const out = await a.invoke(reads(0, 3));
      expect(out.crossed).to.deep.equal([]);
      expect(out.unavailable.size).to.equal(3);
      a.client.destroy();
    });
  });
});
