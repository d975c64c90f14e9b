/**
 * Amazon Data Firehose record transformation Lambda. Everything here runs once per container (cold start):
 * configuration is parsed and validated, clients are created, then every invocation calls into the pure core.
 */
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { loadConfig } from '../src/config/index.ts';
import { METRICS_NAMESPACE } from '../src/observability/metric-names.ts';
import { REINGEST_CLIENT_CONFIG } from '../src/8-deliver/sinks.ts';
import { createTransformHandler } from '../src/pipeline/handler.ts';
import { buildStages } from '../src/pipeline/stages.ts';
import { powertoolsLog, SERVICE_NAME as SERVICE } from '../src/observability/logger.ts';

const config = loadConfig(process.env);
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName: SERVICE });

const log = powertoolsLog(process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE);

// Lookup (geo databases, cache, provider keys) and rules are built once per container; the rules file is
// validated here, so an invalid one fails the cold start rather than any record.
// The DynamoDB client (for CACHE_TABLE_NAME) is created inside the lookup stage, only when the cache is used.
const stages = buildStages(config, { log });

// The stream clients are loaded on the first re-ingestion (most invocations never re-ingest), so their modules
// stay out of the cold start. Our own loop is the only retry layer (backoff + jitter, a timeout per call); the SDK
// makes one attempt per call (REINGEST_CLIENT_CONFIG), so the two never resend the same entries.
let firehose: Promise<FirehoseClient> | undefined;
let kinesis: Promise<KinesisClient> | undefined;

export const handler = createTransformHandler({
  config: config.core,
  intel: stages.intel,
  rules: stages.rules,
  firehose: () => (firehose ??= import('@aws-sdk/client-firehose').then(({ FirehoseClient }) => new FirehoseClient({ ...REINGEST_CLIENT_CONFIG }))),
  kinesis: () => (kinesis ??= import('@aws-sdk/client-kinesis').then(({ KinesisClient }) => new KinesisClient({ ...REINGEST_CLIENT_CONFIG }))),
  log,
  metrics: {
    addMetric: (name, unit, value) => metrics.addMetric(name, unit === 'Count' ? MetricUnit.Count : MetricUnit.Milliseconds, value),
    publishStoredMetrics: () => metrics.publishStoredMetrics(),
  },
});
