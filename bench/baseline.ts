/**
 * The baseline stage's own cost on a realistic workload: few principals, many events each (20 principals × 500
 * events, spread over 10 invocations of 1,000 events), against DynamoDB's wire API (dynalite). Three passes:
 *   cold   — a new table and a new container: every fact is new (written once);
 *   table  — a new container on the known table (no L1): one BatchGetItem round per invocation;
 *   warm   — the same container again: known facts come from L1, no DynamoDB call at all.
 * Reported: DynamoDB calls (reads = BatchGetItem, writes = PutItem + UpdateItem) per 1,000 events and µs per event.
 *
 *   npm run bench:baseline
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createBaselineStage, type BaselineObservation, type BaselineStage } from '../src/4-baseline/stage.ts';
import { parseBaselineConfig } from '../src/4-baseline/config.ts';
import { startDynalite } from '../test/integration/lookup/dynalite.ts';

const PRINCIPALS = 20;
const EVENTS_PER_PRINCIPAL = 500;
const PER_INVOCATION = 1_000;
const COUNTRIES = ['DE', 'US', 'FR'];
const ASNS = ['3320', '16509', '3215'];
const REGIONS = ['eu-west-1', 'us-east-1'];
const FAMILIES: [string, string][] = [
  ['aws-cli', 'automation'],
  ['console', 'console'],
];

function workload(): BaselineObservation[][] {
  const all: BaselineObservation[] = [];
  for (let e = 0; e < EVENTS_PER_PRINCIPAL; e++) {
    for (let p = 0; p < PRINCIPALS; p++) {
      const [family, kind] = FAMILIES[(e + p) % FAMILIES.length]!;
      all.push({
        eventId: `evt-${p}-${e}`,
        principal: `arn:aws:iam::123456789012:role/team-${p}`,
        facts: {
          country: COUNTRIES[(e * 7 + p) % COUNTRIES.length]!,
          asn: ASNS[(e * 3 + p) % ASNS.length]!,
          region: REGIONS[e % REGIONS.length]!,
          userAgentFamily: family,
          userAgentKind: kind,
        },
      });
    }
  }
  const out: BaselineObservation[][] = [];
  for (let i = 0; i < all.length; i += PER_INVOCATION) out.push(all.slice(i, i + PER_INVOCATION));
  return out;
}

interface Pass {
  readonly name: string;
  readonly reads: number;
  readonly writes: number;
  readonly usPerEvent: number;
  readonly newFacts: number;
}

async function run(): Promise<void> {
  const dynamo = await startDynalite([]);
  const calls = { reads: 0, writes: 0 };
  const client: Pick<DynamoDBClient, 'send'> = {
    send: (command: { constructor: { name: string } }, options?: unknown) => {
      if (command.constructor.name === 'BatchGetItemCommand') calls.reads++;
      else calls.writes++;
      return (dynamo.client.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
    },
  };
  try {
    await dynamo.client.send(
      new CreateTableCommand({
        TableName: 'baseline',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const invocations = workload();
    const events = invocations.reduce((n, batch) => n + batch.length, 0);
    const config = { ...parseBaselineConfig({}), tableName: 'baseline' };
    const container = (): BaselineStage => createBaselineStage(config, { client });
    const pass = async (name: string, stage: BaselineStage): Promise<Pass> => {
      calls.reads = 0;
      calls.writes = 0;
      let newFacts = 0;
      const started = process.hrtime.bigint();
      for (const batch of invocations) newFacts += (await stage.observe(batch, { deadline: Date.now() + 10_000 })).stats.newFacts;
      const us = Number(process.hrtime.bigint() - started) / 1000;
      return { name, reads: (calls.reads * 1000) / events, writes: (calls.writes * 1000) / events, usPerEvent: us / events, newFacts };
    };
    const first = container();
    const results = [await pass('cold (new table, new container)', first), await pass('table (known table, new container)', container())];
    results.push(await pass('warm (same container)', first));
    console.log(
      `baseline stage: ${PRINCIPALS} principals × ${EVENTS_PER_PRINCIPAL} events, ${invocations.length} invocations of ${PER_INVOCATION}`,
    );
    console.log('pass                                   reads/1k  writes/1k  µs/event');
    for (const r of results)
      console.log(
        `${r.name.padEnd(38)} ${r.reads.toFixed(2).padStart(8)} ${r.writes.toFixed(2).padStart(10)} ${r.usPerEvent.toFixed(1).padStart(9)}`,
      );
  } finally {
    await dynamo.close();
  }
}

await run();
