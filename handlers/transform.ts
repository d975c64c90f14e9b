/**
 * Amazon Data Firehose record transformation Lambda. Everything here runs once per container (cold start):
 * configuration is parsed and validated, clients are created, then every invocation calls into the pure core.
 */
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { loadConfig } from '../src/config/index.ts';
import { REINGEST_CLIENT_CONFIG } from '../src/8-deliver/sinks.ts';
import { instrumented } from '../src/observability/lambda.ts';
import { powertoolsLog } from '../src/observability/logger.ts';
import { powertoolsMetrics } from '../src/observability/metrics.ts';
import { createTracing } from '../src/observability/tracing.ts';
import { createTransformHandler } from '../src/pipeline/handler.ts';
import { buildStages } from '../src/pipeline/stages.ts';

const config = loadConfig(process.env);
const { serviceName, namespace } = config.observability;
const metrics = powertoolsMetrics({ namespace, serviceName });
const log = powertoolsLog(serviceName);
const tracing = await createTracing(config.observability.tracing, serviceName);

// Lookup (geo databases, cache, provider keys) and rules are built once per container; the rules file is
// validated here, so an invalid one fails the cold start rather than any record.
// The DynamoDB client (for CACHE_TABLE_NAME) is created inside the lookup stage, only when the cache is used.
const stages = buildStages(config, { log });

// The stream clients are loaded on the first re-ingestion (most invocations never re-ingest), so their modules
// stay out of the cold start. Our own loop is the only retry layer (backoff + jitter, a timeout per call); the SDK
// makes one attempt per call (REINGEST_CLIENT_CONFIG), so the two never resend the same entries.
let firehose: Promise<FirehoseClient> | undefined;
let kinesis: Promise<KinesisClient> | undefined;
const traced = <T>(client: T): T => (tracing === undefined ? client : tracing.captureClient(client));

export const handler = instrumented(
  'transform',
  createTransformHandler({
    config: config.core,
    intel: stages.intel,
    baseline: stages.baseline,
    rules: stages.rules,
    thresholds: stages.thresholds,
    alerts: stages.alerts,
    firehose: () =>
      (firehose ??= import('@aws-sdk/client-firehose').then(({ FirehoseClient }) =>
        traced(new FirehoseClient({ ...REINGEST_CLIENT_CONFIG })),
      )),
    kinesis: () =>
      (kinesis ??= import('@aws-sdk/client-kinesis').then(({ KinesisClient }) => traced(new KinesisClient({ ...REINGEST_CLIENT_CONFIG })))),
    log,
    metrics,
  }),
  { log, metrics, ...(tracing !== undefined ? { trace: tracing.trace } : {}) },
);
