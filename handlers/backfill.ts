/**
 * Backfill Lambda: S3 `ObjectCreated` notifications (direct, SQS with partial batch responses, EventBridge) and S3
 * Batch Operations tasks over CloudTrail objects, enriched into the output bucket in the layout Firehose writes.
 * Everything here runs once per container (cold start): configuration is parsed and validated, clients are created;
 * invocations call the core.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createBackfillHandler, parseBackfillConfig } from '../src/entry/backfill/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { instrumented } from '../src/observability/lambda.ts';
import { powertoolsLog } from '../src/observability/logger.ts';
import { powertoolsMetrics } from '../src/observability/metrics.ts';
import { createTracing } from '../src/observability/tracing.ts';
import { buildStages } from '../src/pipeline/stages.ts';

const config = loadConfig(process.env);
const backfill = parseBackfillConfig(process.env);
const { serviceName, namespace } = config.observability;
const log = powertoolsLog(serviceName);
const metrics = powertoolsMetrics({ namespace, serviceName });
const tracing = await createTracing(config.observability.tracing, serviceName);

// Lookup and rules once per container (an invalid rules file fails the cold start, not an object).
const stages = buildStages(config, { log });
// One client per container; AWS_ENDPOINT_URL_S3 and the region come from the environment as usual.
const s3 = new S3Client({});

export const handler = instrumented(
  'backfill',
  createBackfillHandler({
    s3: tracing === undefined ? s3 : tracing.captureClient(s3),
    config: config.core,
    backfill,
    intel: stages.intel,
    rules: stages.rules,
    log,
    metrics,
  }),
  { log, metrics, ...(tracing !== undefined ? { trace: tracing.trace } : {}) },
);
