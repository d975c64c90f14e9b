import { expect } from 'chai';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynalite, type LocalDynamo } from '../lookup/dynalite.ts';
import { DYNAMODB_ERRORS, startAwsJsonServer, type AwsJsonServer } from '../faults/support.ts';
import { createBaselineStage, factKey, principalKey, type BaselineObservation, type BaselineStage } from '../../../src/4-baseline/stage.ts';
import { parseBaselineConfig } from '../../../src/4-baseline/config.ts';
import { MAX_PRINCIPAL_LENGTH } from '../../../src/4-baseline/principal.ts';
import { emptyEnrichCounters, enrichEventGroups } from '../../../src/pipeline/enrich.ts';
import { parseCoreConfig } from '../../../src/config/core.ts';
import type { EventItem } from '../../../src/1-decode/event-text.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const ALICE = 'arn:aws:iam::123456789012:user/alice';

function obs(eventId: string, facts: BaselineObservation['facts'], principal = ALICE): BaselineObservation {
  return { eventId, principal, facts };
}

describe('baseline stage against DynamoDB (dynalite), two containers', () => {
  let dynamo: LocalDynamo;
  let table = 0;
  let clock = T0;
  const config = (name: string) => ({ ...parseBaselineConfig({}), tableName: name });
  const deadline = () => Date.now() + 5_000;

  async function newTable(): Promise<string> {
    const TableName = `baseline-${++table}`;
    await dynamo.client.send(
      new CreateTableCommand({
        TableName,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    return TableName;
  }

  function containers(name: string, client = dynamo.client): [BaselineStage, BaselineStage] {
    const make = () => createBaselineStage(config(name), { client, now: () => clock, baseDelayMs: 5 });
    return [make(), make()];
  }

  /** Teaches the table the principal long enough ago that it is past learning. */
  async function known(a: BaselineStage, facts: BaselineObservation['facts']): Promise<void> {
    clock = T0;
    await a.observe([obs('setup', facts)], { deadline: deadline() });
    clock = T0 + 8 * DAY;
  }

  before(async () => {
    dynamo = await startDynalite([]);
  });
  after(async () => {
    await dynamo.close();
  });

  it('flags a new fact seen by both containers exactly once between them', async () => {
    const name = await newTable();
    const [a, b] = containers(name);
    await known(a, { country: 'DE', region: 'eu-west-1' });
    const [ra, rb] = await Promise.all([
      a.observe([obs('e1', { country: 'BR', region: 'eu-west-1' })], { deadline: deadline() }),
      b.observe([obs('e2', { country: 'BR', region: 'eu-west-1' })], { deadline: deadline() }),
    ]);
    const flags = [...ra.verdicts, ...rb.verdicts].map((v) => v.firstSeen);
    expect(flags.filter((f) => f.includes('country'))).to.have.length(1);
    expect(flags.flat()).to.deep.equal(['country']);
    expect([...ra.verdicts, ...rb.verdicts].every((v) => v.status === undefined && v.learning === undefined)).to.equal(true);
  });

  it('flags a new fact on the first event of a batch only, and a retried batch flags nothing twice', async () => {
    const name = await newTable();
    const [a, b] = containers(name);
    await known(a, { country: 'DE' });
    const batch = [obs('e1', { country: 'FR', asn: '3215' }), obs('e2', { country: 'FR', asn: '3215' })];
    const first = await a.observe(batch, { deadline: deadline() });
    expect(first.verdicts.map((v) => v.firstSeen)).to.deep.equal([['country', 'asn'], []]);
    // Firehose retries the same batch, on this container or another: nothing is new any more.
    for (const c of [a, b]) {
      const again = await c.observe(batch, { deadline: deadline() });
      expect(again.verdicts.map((v) => v.firstSeen)).to.deep.equal([[], []]);
    }
  });

  it('keeps a new principal learning for BASELINE_LEARNING_DAYS: nothing is new yet, but facts are learnt', async () => {
    const name = await newTable();
    const [a] = containers(name);
    clock = T0;
    const day0 = await a.observe([obs('e1', { country: 'DE' })], { deadline: deadline() });
    expect(day0.verdicts[0]).to.deep.equal({ principal: ALICE, firstSeen: [], learning: true });
    clock = T0 + 6 * DAY;
    const day6 = await a.observe([obs('e2', { country: 'US' })], { deadline: deadline() });
    expect(day6.verdicts[0]!.learning).to.equal(true);
    clock = T0 + 7 * DAY + 1000;
    const day7 = await a.observe([obs('e3', { country: 'US' }), obs('e4', { country: 'JP' })], { deadline: deadline() });
    // US was learnt while learning; JP is new.
    expect(day7.verdicts.map((v) => v.firstSeen)).to.deep.equal([[], ['country']]);
    expect(day7.verdicts[0]!.learning).to.equal(undefined);
  });

  it('forgets a fact not seen for BASELINE_FORGET_DAYS, and keeps one seen again (sliding TTL)', async () => {
    const name = await newTable();
    const [a] = containers(name);
    await known(a, { country: 'DE', region: 'eu-west-1' });
    // Seen again on day 20: its TTL slides to day 50. The region is not seen again: it expires on day 30.
    clock = T0 + 20 * DAY;
    await a.observe([obs('e1', { country: 'DE' })], { deadline: deadline() });
    clock = T0 + 31 * DAY;
    const [, fresh] = containers(name); // a cold container: no L1
    const out = await fresh.observe([obs('e2', { country: 'DE', region: 'eu-west-1' })], { deadline: deadline() });
    expect(out.verdicts[0]!.firstSeen).to.deep.equal(['region']);
  });

  it('treats an item read after its TTL as absent although DynamoDB has not deleted it', async () => {
    const name = await newTable();
    const [a] = containers(name);
    await known(a, { country: 'DE' });
    // An expired item that TTL has not removed yet (dynalite never removes them).
    const nowS = Math.floor(clock / 1000);
    await dynamo.client.send(
      new PutItemCommand({
        TableName: name,
        Item: { pk: { S: factKey(ALICE, 'country', 'CN') }, expiresAt: { N: String(nowS - 1) }, day: { N: '0' }, eventId: { S: 'old' } },
      }),
    );
    const [, cold] = containers(name);
    const out = await cold.observe([obs('e1', { country: 'CN' })], { deadline: deadline() });
    expect(out.verdicts[0]!.firstSeen).to.deep.equal(['country']);
    const item = await dynamo.client.send(new GetItemCommand({ TableName: name, Key: { pk: { S: factKey(ALICE, 'country', 'CN') } } }));
    expect(Number(item.Item?.['expiresAt']?.N)).to.be.greaterThan(nowS);
    expect(item.Item?.['eventId']?.S).to.equal('e1');
  });

  it('reads known facts from L1 in warm invocations and refreshes each at most once a day', async () => {
    const name = await newTable();
    const server = await startAwsJsonServer('application/x-amz-json-1.0', () => ({ forward: true }), dynamo.endpoint);
    try {
      const client = proxyClient(server);
      const [a] = containers(name, client);
      await known(a, { country: 'DE', asn: '3320' });
      server.targets.length = 0;
      await a.observe([obs('e1', { country: 'DE', asn: '3320' })], { deadline: deadline() });
      const firstDay = server.targets.filter((t) => t.endsWith('UpdateItem')).length;
      await a.observe([obs('e2', { country: 'DE', asn: '3320' })], { deadline: deadline() });
      expect(firstDay).to.equal(3); // principal, country, asn: once each on the new day
      expect(server.targets.filter((t) => t.endsWith('UpdateItem')).length).to.equal(3);
      expect(server.targets.filter((t) => t.endsWith('BatchGetItem')).length).to.equal(0);
      client.destroy();
    } finally {
      await server.close();
    }
  });

  it('keeps the largest possible item far under 400 KB', async () => {
    const name = await newTable();
    const [a] = containers(name);
    const principal = `arn:aws:iam::123456789012:role/${'p/'.repeat(255)}${'r'.repeat(MAX_PRINCIPAL_LENGTH - 800)}`.slice(
      0,
      MAX_PRINCIPAL_LENGTH,
    );
    clock = T0;
    const out = await a.observe(
      [{ eventId: 'e'.repeat(5000), principal, facts: { region: 'r'.repeat(64), userAgentFamily: 'aws-sdk-dotnet' } }],
      {
        deadline: deadline(),
      },
    );
    expect(out.verdicts[0]!.status).to.equal(undefined);
    const item = await dynamo.client.send(
      new GetItemCommand({ TableName: name, Key: { pk: { S: factKey(principal, 'region', 'r'.repeat(64)) } } }),
    );
    const bytes = Buffer.byteLength(JSON.stringify(item.Item));
    expect(bytes).to.be.lessThan(4 * 1024);
    expect(
      (await dynamo.client.send(new GetItemCommand({ TableName: name, Key: { pk: { S: principalKey(principal) } } }))).Item,
    ).to.not.equal(undefined);
  });

  describe('faults: the event goes out partial, unavailable, before the deadline, never new', () => {
    const cases: [string, Parameters<typeof startAwsJsonServer>[1]][] = [
      ['throttled', () => ({ type: DYNAMODB_ERRORS.provisionedThroughputExceeded })],
      ['down', () => ({ status: 500, type: DYNAMODB_ERRORS.internalServerError })],
      ['slow', () => ({ hang: true })],
    ];
    for (const [what, reply] of cases) {
      it(`marks events unavailable when DynamoDB is ${what}`, async () => {
        const server = await startAwsJsonServer('application/x-amz-json-1.0', reply);
        const client = proxyClient(server);
        try {
          const stage = createBaselineStage(config('t'), { client, now: () => T0 + 30 * DAY, baseDelayMs: 5 });
          const started = Date.now();
          const events: EventItem[] = [1, 2].map((i) => {
            const event = {
              eventID: `id-${i}`,
              eventName: 'ConsoleLogin',
              awsRegion: 'us-east-1',
              userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2 prompt/off',
              userIdentity: { type: 'IAMUser', arn: ALICE },
              sourceIPAddress: 'AWS Internal',
            };
            return { ok: true, event, text: JSON.stringify(event) } as unknown as EventItem;
          });
          const counters = emptyEnrichCounters();
          const [lines] = await enrichEventGroups(
            [{ events, arrival: T0 }],
            { config: parseCoreConfig({}), baseline: stage },
            Date.now() + 300,
            counters,
          );
          expect(Date.now() - started).to.be.lessThan(1_500);
          for (const line of lines!) {
            const out = JSON.parse(line.text + (line.shared?.toString('utf8') ?? '') + (line.tail ?? '')) as {
              enrichment: Record<string, unknown>;
            };
            expect(out.enrichment['status']).to.equal('partial');
            expect(out.enrichment['baseline']).to.deep.equal({ principal: ALICE, firstSeen: [], status: 'unavailable' });
          }
          expect(counters.partialByCause).to.deep.equal({ baseline: 2 });
        } finally {
          client.destroy();
          await server.close();
        }
      });
    }
  });

  function proxyClient(server: AwsJsonServer): DynamoDBClient {
    return new DynamoDBClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  }
});
