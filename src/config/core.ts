import { ConfigError } from '../errors.ts';
import {
  DEFAULT_MAX_DECOMPRESSED_PER_INVOCATION,
  DEFAULT_MAX_DECOMPRESSED_PER_RECORD,
  DEFAULT_MAX_PARSED_PER_INVOCATION,
  DEFAULT_MAX_PARSED_PER_RECORD,
} from '../1-decode/limits.ts';
import { DEFAULT_CALL_TIMEOUT_MS } from '../8-deliver/reingest.ts';

import { boolVar, intVar, numberVar, type Env } from './env.ts';

// The helpers moved to ./env.ts; re-exported for the callers that imported them from here.
export { boolVar, intVar, numberVar, type Env };

export interface ConfigVariable {
  readonly name: string;
  readonly default?: string;
  readonly description: string;
}

/** Settings of the transform itself (decode, encode, deliver). Lookup and rules parse their own. */
export interface CoreConfig {
  readonly outputMode: 's3' | 'opensearch';
  readonly accountAllowlist?: ReadonlySet<string>;
  readonly maxDecompressedPerRecord: number;
  readonly maxDecompressedPerInvocation: number;
  /** Estimated heap cost of parsed events: per record and per invocation (see src/1-decode/limits.ts). */
  readonly maxParsedPerRecord: number;
  readonly maxParsedPerInvocation: number;
  /** Longest single PutRecordBatch/PutRecords call (each is also cut at the invocation deadline). */
  readonly reingestCallTimeoutMs: number;
  /** Share of the remaining invocation time that enrichment (cache + providers) may use. */
  readonly enrichmentBudgetFraction: number;
  /** Time kept free at the end of the invocation for building and returning the response. */
  readonly responseReserveMs: number;
  readonly reingestMaxAttempts: number;
  readonly reingestBaseDelayMs: number;
  readonly reingestMaxDelayMs: number;
  /** Response size budget in bytes; not an environment setting (tests shrink it to exercise overflow). */
  readonly responseBudget?: number;
  /** Output layout (src/7-encode/layouts); absent = native. */
  readonly layout?: LayoutConfig;
}

export type OutputFormat = 'native' | 'ocsf' | 'ecs';

export interface LayoutConfig {
  readonly format: OutputFormat;
  /** OCSF only: carry the original event text in `raw_data`. */
  readonly ocsfRawData: boolean;
}

export const NATIVE_LAYOUT: LayoutConfig = Object.freeze({ format: 'native', ocsfRawData: true });

export const CORE_CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'OUTPUT_MODE', default: 's3', description: '`s3` (NDJSON, dynamic partitioning keys) or `opensearch` (one document per record)' },
  {
    name: 'ACCOUNT_ALLOWLIST',
    default: '',
    description:
      'comma-separated 12-digit account ids that get their own `account=` partition; others go to `account=other`. Empty: every 12-digit id',
  },
  {
    name: 'MAX_DECOMPRESSED_BYTES_PER_RECORD',
    default: String(DEFAULT_MAX_DECOMPRESSED_PER_RECORD),
    description: 'gunzip limit of one record (gzip-bomb guard)',
  },
  {
    name: 'MAX_DECOMPRESSED_BYTES_PER_INVOCATION',
    default: String(DEFAULT_MAX_DECOMPRESSED_PER_INVOCATION),
    description: 'total gunzip limit of one invocation; records past it are ProcessingFailed',
  },
  {
    name: 'MAX_PARSED_BYTES_PER_RECORD',
    default: String(DEFAULT_MAX_PARSED_PER_RECORD),
    description:
      'estimated heap cost of one record once parsed (text ×2 + 64 B per object/array + 16 B per value); over it the record alone is ProcessingFailed',
  },
  {
    name: 'MAX_PARSED_BYTES_PER_INVOCATION',
    default: String(DEFAULT_MAX_PARSED_PER_INVOCATION),
    description:
      'estimated parsed heap cost of one invocation; records past it are ProcessingFailed (keeps a 1,024 MB Lambda under 700 MB RSS)',
  },
  {
    name: 'REINGEST_CALL_TIMEOUT_MS',
    default: String(DEFAULT_CALL_TIMEOUT_MS),
    description: 'timeout of one PutRecordBatch/PutRecords call (also cut at the invocation deadline)',
  },
  { name: 'ENRICHMENT_BUDGET_FRACTION', default: '0.5', description: 'share of the remaining invocation time lookups may use (0.05–0.9)' },
  {
    name: 'RESPONSE_RESERVE_MS',
    default: '2000',
    description: 'time kept free before the Lambda deadline for re-ingestion and the response',
  },
  {
    name: 'REINGEST_MAX_ATTEMPTS',
    default: '6',
    description: 'attempts per re-ingested record before the invocation fails (Firehose then retries the batch)',
  },
  { name: 'REINGEST_BASE_DELAY_MS', default: '100', description: 'first retry delay of re-ingestion (exponential, full jitter)' },
  { name: 'REINGEST_MAX_DELAY_MS', default: '3000', description: 'largest retry delay of re-ingestion' },
  {
    name: 'OUTPUT_FORMAT',
    default: 'native',
    description:
      '`native` (the CloudTrail event + `enrichment`), `ocsf` (OCSF 1.1.0, Security Lake partitions) or `ecs` (ECS 8.x); see docs/layouts.md',
  },
  { name: 'OCSF_RAW_DATA', default: 'true', description: 'with `OUTPUT_FORMAT=ocsf`, keep the original event text in `raw_data`' },
];

export function parseCoreConfig(env: Env): CoreConfig {
  const outputMode = (env.OUTPUT_MODE ?? 's3').trim() || 's3';
  if (outputMode !== 's3' && outputMode !== 'opensearch') {
    throw new ConfigError(`OUTPUT_MODE must be "s3" or "opensearch", got ${JSON.stringify(outputMode)}`);
  }
  return {
    outputMode,
    accountAllowlist: parseAccountAllowlist(env.ACCOUNT_ALLOWLIST),
    maxDecompressedPerRecord: intVar(env, 'MAX_DECOMPRESSED_BYTES_PER_RECORD', DEFAULT_MAX_DECOMPRESSED_PER_RECORD, 1024, 1024 ** 3),
    maxDecompressedPerInvocation: intVar(
      env,
      'MAX_DECOMPRESSED_BYTES_PER_INVOCATION',
      DEFAULT_MAX_DECOMPRESSED_PER_INVOCATION,
      1024,
      4 * 1024 ** 3,
    ),
    maxParsedPerRecord: intVar(env, 'MAX_PARSED_BYTES_PER_RECORD', DEFAULT_MAX_PARSED_PER_RECORD, 1024, 1024 ** 3),
    maxParsedPerInvocation: intVar(env, 'MAX_PARSED_BYTES_PER_INVOCATION', DEFAULT_MAX_PARSED_PER_INVOCATION, 1024, 4 * 1024 ** 3),
    reingestCallTimeoutMs: intVar(env, 'REINGEST_CALL_TIMEOUT_MS', DEFAULT_CALL_TIMEOUT_MS, 100, 300_000),
    enrichmentBudgetFraction: numberVar(env, 'ENRICHMENT_BUDGET_FRACTION', 0.5, 0.05, 0.9),
    responseReserveMs: intVar(env, 'RESPONSE_RESERVE_MS', 2000, 0, 60_000),
    reingestMaxAttempts: intVar(env, 'REINGEST_MAX_ATTEMPTS', 6, 1, 20),
    reingestBaseDelayMs: intVar(env, 'REINGEST_BASE_DELAY_MS', 100, 0, 10_000),
    reingestMaxDelayMs: intVar(env, 'REINGEST_MAX_DELAY_MS', 3000, 0, 60_000),
    layout: parseLayoutConfig(env),
  };
}

export function parseLayoutConfig(env: Env): LayoutConfig {
  const format = (env.OUTPUT_FORMAT ?? '').trim().toLowerCase() || 'native';
  if (format !== 'native' && format !== 'ocsf' && format !== 'ecs') {
    throw new ConfigError(`OUTPUT_FORMAT must be "native", "ocsf" or "ecs", got ${JSON.stringify(env.OUTPUT_FORMAT)}`);
  }
  return { format, ocsfRawData: boolVar(env, 'OCSF_RAW_DATA', true) };
}

function parseAccountAllowlist(value: string | undefined): ReadonlySet<string> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const ids = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const id of ids) {
    if (!/^\d{12}$/.test(id))
      throw new ConfigError(`ACCOUNT_ALLOWLIST must list 12-digit account ids separated by commas, got ${JSON.stringify(id)}`);
  }
  return new Set(ids);
}
