/**
 * S3 Object Lambda GetObject: returns the enriched version of a CloudTrail object (NDJSON, one event per line).
 * Configuration, clients and enrichment stages are built once per container (cold start).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { parseObjectLimits } from '../src/entry/backfill/config.ts';
import { loadConfig } from '../src/config/index.ts';
import { createObjectLambdaHandler } from '../src/entry/object-lambda/index.ts';
import { buildStages } from '../src/pipeline/stages.ts';
import { powertoolsLog, SERVICE_NAME as SERVICE } from '../src/observability/logger.ts';

const config = loadConfig(process.env);
const limits = parseObjectLimits(process.env);

const log = powertoolsLog(process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE);

const stages = buildStages(config, { log });
// WriteGetObjectResponse goes to https://<RequestRoute>.s3-object-lambda.<region>.amazonaws.com: the SDK adds the
// route as a host prefix. The original object is read through the event's presigned URL, without this client.
const s3 = new S3Client({});

export const handler = createObjectLambdaHandler({
  s3,
  enrich: { config: config.core, intel: stages.intel, rules: stages.rules },
  limits,
  enrichmentBudgetFraction: config.core.enrichmentBudgetFraction,
  responseReserveMs: config.core.responseReserveMs,
  log,
});
