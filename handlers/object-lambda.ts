/**
 * S3 Object Lambda GetObject: returns the enriched version of a CloudTrail object (NDJSON, one event per line).
 * Configuration, clients and enrichment stages are built once per container (cold start).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { parseObjectLimits } from '../src/codec/s3-object.ts';
import { loadConfig } from '../src/config/index.ts';
import { instrumented } from '../src/observability/lambda.ts';
import { powertoolsLog } from '../src/observability/logger.ts';
import { powertoolsMetrics } from '../src/observability/metrics.ts';
import { createTracing } from '../src/observability/tracing.ts';
import { createObjectLambdaHandler } from '../src/entry/object-lambda/index.ts';
import { buildStages } from '../src/pipeline/stages.ts';

const config = loadConfig(process.env);
const limits = parseObjectLimits(process.env);
const { serviceName, namespace } = config.observability;
const log = powertoolsLog(serviceName);
const metrics = powertoolsMetrics({ namespace, serviceName });
const tracing = await createTracing(config.observability.tracing, serviceName);

const stages = buildStages(config, { log });
// WriteGetObjectResponse goes to https://<RequestRoute>.s3-object-lambda.<region>.amazonaws.com: the SDK adds the
// route as a host prefix. The original object is read through the event's presigned URL, without this client.
const s3 = new S3Client({});

export const handler = instrumented(
  'object-lambda',
  createObjectLambdaHandler({
    s3: tracing === undefined ? s3 : tracing.captureClient(s3),
    enrich: { config: config.core, intel: stages.intel, rules: stages.rules },
    limits,
    enrichmentBudgetFraction: config.core.enrichmentBudgetFraction,
    responseReserveMs: config.core.responseReserveMs,
    log,
    metrics,
  }),
  { log, metrics, ...(tracing !== undefined ? { trace: tracing.trace } : {}) },
);
