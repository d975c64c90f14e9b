/**
 * The threshold step's own cost (5-rules/thresholds): the default rules' threshold candidates of realistic
 * invocations (few principals, many events each: 20 principals, 500 events per invocation) counted against
 * DynamoDB (dynalite, the real wire API in memory) and against the per-process counters. Reports DynamoDB calls
 * per 1,000 events and µs/event of the step (candidates collected by the engine + plan + counter updates), next
 * to the rules alone. Medians of alternated repetitions. Alone:
 *
 *   node --expose-gc --import tsx --import ./bench/setup.ts bench/thresholds.ts [--quick]
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadRuleEngine, parseRulesConfig } from '../src/5-rules/index.ts';
import { createThresholdCounter, type ThresholdInput } from '../src/5-rules/thresholds/stage.ts';
import { DynamoDbThresholdStore, MemoryThresholdStore, type ThresholdStore } from '../src/5-rules/thresholds/store.ts';
import type { ThresholdHit } from '../src/5-rules/types.ts';
import type { CloudTrailEvent, Enrichment } from '../src/model.ts';
import { startDynalite } from '../test/integration/lookup/dynalite.ts';

const QUICK = process.argv.includes('--quick');
const EVENTS = QUICK ? 10_000 : 50_000;
const PER_INVOCATION = 500;
const PRINCIPALS = 20;
const REPS = QUICK ? 3 : 5;
const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ENRICHMENT: Enrichment = { version: 1, status: 'complete' };
const REGIONS = ['us-east-1', 'us-east-1', 'us-east-1', 'eu-west-1', 'us-west-2'];

/** A deterministic mix: mostly reads, some secret reads, parameters, denied calls; 1 event per second. */
function workload(n: number): CloudTrailEvent[] {
  const t0 = Date.UTC(2026, 11, 3, 5, 0, 0);
  return Array.from({ length: n }, (_, i) => {
    const p = (i * 7) % PRINCIPALS;
    const kind = i % 20;
    const base = {
      eventTime: new Date(t0 + i * 1000).toISOString(),
      awsRegion: REGIONS[(i >> 3) % REGIONS.length],
      recipientAccountId: '111122223333',
      sourceIPAddress: 'AWS Internal',
      userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::111122223333:user/u${p}`, accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
    };
    if (kind === 0)
      return {
        ...base,
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'GetSecretValue',
        requestParameters: { secretId: `s-${i % 13}` },
      };
    if (kind === 1)
      return {
        ...base,
        eventSource: 'ssm.amazonaws.com',
        eventName: 'GetParameter',
        requestParameters: { name: `/app/p-${i % 7}`, withDecryption: true },
      };
    if (kind === 2)
      return { ...base, eventSource: 'ec2.amazonaws.com', eventName: 'DescribeVolumes', errorCode: 'Client.UnauthorizedOperation' };
    return { ...base, eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', requestParameters: null };
  });
}

function countingClient(client: DynamoDBClient): { client: Pick<DynamoDBClient, 'send'>; calls: () => number } {
  let calls = 0;
  return {
    client: { send: ((command: never, options?: never) => (calls++, client.send(command, options))) as unknown as DynamoDBClient['send'] },
    calls: () => calls,
  };
}

export interface ThresholdBenchResult {
  readonly events: number;
  readonly rulesOnlyUs: number;
  readonly memoryUs: number;
  readonly dynamoUs: number;
  readonly dynamoCallsPer1000: number;
  readonly crossed: number;
}

export async function benchThresholds(): Promise<ThresholdBenchResult> {
  const engine = loadRuleEngine(parseRulesConfig({}));
  const events = workload(EVENTS);
  const dynamo = await startDynalite([]);
  let table = 0;
  const rulesOnly: number[] = [];
  const memory: number[] = [];
  const withDynamo: number[] = [];
  let callsPer1000 = 0;
  let crossed = 0;

  const run = async (store: ThresholdStore | undefined): Promise<{ us: number; crossed: number }> => {
    const counter = store === undefined ? undefined : createThresholdCounter(engine.info.thresholds!, store);
    let n = 0;
    collect();
    const t0 = process.hrtime.bigint();
    for (let start = 0; start < events.length; start += PER_INVOCATION) {
      const inputs: ThresholdInput[] = [];
      for (let i = start; i < Math.min(events.length, start + PER_INVOCATION); i++) {
        const event = events[i]!;
        if (counter === undefined) {
          engine.evaluate(event, ENRICHMENT);
          continue;
        }
        const hits: ThresholdHit[] = [];
        engine.evaluate(event, ENRICHMENT, hits);
        if (hits.length > 0) inputs.push({ event: i, time: Date.parse(event.eventTime as string), hits });
      }
      if (counter !== undefined) n += (await counter.resolve(inputs, { deadline: Date.now() + 5_000 })).crossed.size;
    }
    return { us: Number(process.hrtime.bigint() - t0) / 1e3 / events.length, crossed: n };
  };

  try {
    for (let rep = 0; rep < REPS; rep++) {
      rulesOnly.push((await run(undefined)).us);
      memory.push((await run(new MemoryThresholdStore())).us);
      const TableName = `thresholds-${++table}`;
      await dynamo.client.send(
        new CreateTableCommand({
          TableName,
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const counted = countingClient(dynamo.client);
      const r = await run(new DynamoDbThresholdStore({ client: counted.client, tableName: TableName }));
      withDynamo.push(r.us);
      callsPer1000 = (counted.calls() * 1000) / events.length;
      crossed = r.crossed;
    }
  } finally {
    await dynamo.close();
  }
  return {
    events: EVENTS,
    rulesOnlyUs: median(rulesOnly),
    memoryUs: median(memory),
    dynamoUs: median(withDynamo),
    dynamoCallsPer1000: callsPer1000,
    crossed,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchThresholds();
  const f = (x: number) => x.toFixed(2);
  process.stdout.write(
    [
      `threshold step: ${r.events} events, ${PER_INVOCATION} per invocation, ${PRINCIPALS} principals, ${REPS} reps (medians)`,
      `| rules | µs/event |`,
      `| --- | --- |`,
      `| default rules, thresholds not counted | ${f(r.rulesOnlyUs)} |`,
      `| + threshold step, per-process counters | ${f(r.memoryUs)} (+${f(r.memoryUs - r.rulesOnlyUs)}) |`,
      `| + threshold step, DynamoDB counters (dynalite) | ${f(r.dynamoUs)} (+${f(r.dynamoUs - r.rulesOnlyUs)}) |`,
      `DynamoDB UpdateItem calls per 1,000 events: ${r.dynamoCallsPer1000.toFixed(1)}; events that crossed: ${r.crossed}`,
      '',
    ].join('\n'),
  );
}
