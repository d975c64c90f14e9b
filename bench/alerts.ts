/**
 * The alert stage's own cost: the same invocations through the transform without alerts and with findings sent to
 * a loopback EventBridge (real PutEvents JSON wire format) and deduplicated in a DynamoDB table (dynalite), measured
 * in one process, repetitions alternated, medians reported. Each repetition with alerts uses a new table and a new
 * stage (a new container), so every finding is new: the cost of sending, not of recognising duplicates. A second
 * pass over the same table measures the duplicate path (a retried batch). Alone:
 *
 *   node --expose-gc --import tsx --import ./bench/setup.ts bench/alerts.ts
 */
import { resolve } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { loadConfig } from '../src/config/index.ts';
import { createAlertStage } from '../src/6-alert/index.ts';
import { createIpIntelligence, openGeoDatabase } from '../src/3-lookup/index.ts';
import { buildStages } from '../src/pipeline/stages.ts';
import { transformBatch, type TransformDeps } from '../src/pipeline/transform.ts';
import type { RecordSink } from '../src/8-deliver/reingest.ts';
import { buildGeoData } from '../scripts/build-geo-data.ts';
import { startDynalite } from '../test/integration/lookup/dynalite.ts';
import { startEventBridgeServer } from '../test/integration/6-alert/servers.ts';
import { invocations, makeWorkload, publicIpPool } from './workload.ts';

const QUICK = process.argv.includes('--quick');
const EVENTS = QUICK ? 3_000 : 10_000;
const REPS = QUICK ? 3 : 5;
const GEO_DIR = resolve('data/geo');
const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const context = { getRemainingTimeInMillis: () => 300_000 };
const sink: RecordSink = {
  maxBatchRecords: 500,
  maxBatchBytes: 4 * 1024 * 1024,
  sizeOf: (r) => r.data.length,
  putBatch: async () => ({ failed: [] }),
};

export interface AlertBenchResult {
  readonly events: number;
  readonly findings: number;
  readonly withoutMs: number;
  readonly withMs: number;
  readonly duplicatesMs: number;
  readonly putEventsCalls: number;
  readonly dynamoDbCalls: number;
}

async function timeAll(batches: readonly FirehoseTransformationEvent[], deps: TransformDeps): Promise<{ ms: number; sent: number }> {
  collect();
  let sent = 0;
  const t0 = process.hrtime.bigint();
  for (const e of batches) sent += (await transformBatch(e, context, deps)).summary.alerts.sent;
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, sent };
}

export async function benchAlerts(): Promise<AlertBenchResult> {
  await buildGeoData();
  const geo = await openGeoDatabase(GEO_DIR);
  const eventBridge = await startEventBridgeServer();
  const dynamo = await startDynalite([]);
  let dynamoDbCalls = 0;
  const dynamoDb = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  dynamoDb.middlewareStack.add(
    (next) => async (args) => {
      dynamoDbCalls++;
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  try {
    const workload = makeWorkload('realistic', EVENTS, publicIpPool(300, 11), 11);
    const batches = invocations(workload, 1024 * 1024);
    const config = loadConfig({ GEO_DB_DIR: GEO_DIR, ALERTS_EVENT_BUS_NAME: 'bench-findings', AWS_REGION: 'us-east-1' });
    const rules = buildStages(config, { geo }).rules;
    const intel = await createIpIntelligence(config.lookup, { geo });
    const without: TransformDeps = { config: config.core, intel, rules, sinkFor: () => sink };
    await timeAll(batches, without); // warm the L1 and the JIT
    const eventBridgeClient = new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient({
      endpoint: eventBridge.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const withoutMs: number[] = [];
    const withMs: number[] = [];
    const duplicatesMs: number[] = [];
    let findings = 0;
    let putEventsCalls = 0;
    let calls = 0;
    for (let rep = 0; rep < REPS; rep++) {
      withoutMs.push((await timeAll(batches, without)).ms);
      const TableName = `bench-alerts-${rep}`;
      await dynamo.client.send(
        new CreateTableCommand({
          TableName,
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const stageConfig = { ...config.alerts, dedupTableName: TableName };
      const alerts = createAlertStage(stageConfig, { eventBridge: eventBridgeClient, dynamoDb });
      eventBridge.calls.length = 0;
      const before = dynamoDbCalls;
      const sent = await timeAll(batches, { ...without, alerts });
      withMs.push(sent.ms);
      findings = sent.sent;
      putEventsCalls = eventBridge.calls.length;
      calls = dynamoDbCalls - before;
      // The same batches again, a new container on the same table: every finding is a duplicate (a retried batch).
      const again = createAlertStage(stageConfig, { eventBridge: eventBridgeClient, dynamoDb });
      duplicatesMs.push((await timeAll(batches, { ...without, alerts: again })).ms);
    }
    return {
      events: EVENTS,
      findings,
      withoutMs: median(withoutMs),
      withMs: median(withMs),
      duplicatesMs: median(duplicatesMs),
      putEventsCalls,
      dynamoDbCalls: calls,
    };
  } finally {
    await eventBridge.close();
    await dynamo.close();
  }
}

export function alertsBenchMarkdown(r: AlertBenchResult): string {
  const us = (ms: number) => ((ms * 1000) / r.events).toFixed(2);
  return [
    `${r.events} events (realistic workload, 1 MB buffers, offline geo, default rules), ${r.findings} findings at or above HIGH`,
    '',
    '| transform | µs/event | ÷ without alerts |',
    '| --- | --- | --- |',
    `| without alerts | ${us(r.withoutMs)} | 1.00× |`,
    `| alerts on, every finding new (EventBridge + dedup table) | ${us(r.withMs)} | ${(r.withMs / r.withoutMs).toFixed(2)}× |`,
    `| alerts on, every finding a duplicate (a retried batch) | ${us(r.duplicatesMs)} | ${(r.duplicatesMs / r.withoutMs).toFixed(2)}× |`,
    '',
    `per finding: ${(((r.withMs - r.withoutMs) * 1000) / Math.max(1, r.findings)).toFixed(0)} µs new, ${(((r.duplicatesMs - r.withoutMs) * 1000) / Math.max(1, r.findings)).toFixed(0)} µs duplicate (wall clock, dynalite and the loopback EventBridge in this process)`,
    `per ${r.findings} new findings: ${r.putEventsCalls} PutEvents calls (≤ 10 entries each), ${r.dynamoDbCalls} DynamoDB calls (one conditional PutItem per finding)`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(alertsBenchMarkdown(await benchAlerts()));
}
