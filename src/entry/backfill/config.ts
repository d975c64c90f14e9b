/**
 * Configuration of the S3 entry points (backfill Lambda, Object Lambda), parsed once at cold start.
 * Every variable read here is listed in BACKFILL_CONFIG_VARIABLES / OBJECT_LIMIT_VARIABLES.
 * Misconfiguration throws ConfigError naming the variable and what was expected.
 */
import { ConfigError } from '../../errors.ts';
import type { ConfigVariable } from '../../config/core.ts';
import { intVar, type Env } from '../../config/env.ts';

/** Bounds on one CloudTrail object: what is downloaded, and what it may decompress to (gzip-bomb guard). */
export interface ObjectLimits {
  /** Largest object (bytes as stored) that is read. */
  readonly maxObjectBytes: number;
  /** Largest decompressed body. */
  readonly maxDecompressedBytes: number;
}

/**
 * CloudTrail delivers a file per account and region about every five minutes; even busy accounts write files of
 * a few MB compressed (they compress ~10–20×). 32 MiB stored / 128 MiB decompressed covers them with room to spare
 * and keeps one object (text + parsed events + output) well inside a 1,024 MB function.
 */
export const DEFAULT_OBJECT_LIMITS: ObjectLimits = { maxObjectBytes: 32 * 1024 * 1024, maxDecompressedBytes: 128 * 1024 * 1024 };

export const OBJECT_LIMIT_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'CLOUDTRAIL_OBJECT_MAX_BYTES',
    default: String(DEFAULT_OBJECT_LIMITS.maxObjectBytes),
    description: 'largest CloudTrail object (stored size) the backfill and the Object Lambda read; larger ones fail permanently',
  },
  {
    name: 'CLOUDTRAIL_OBJECT_MAX_DECOMPRESSED_BYTES',
    default: String(DEFAULT_OBJECT_LIMITS.maxDecompressedBytes),
    description: 'largest decompressed CloudTrail object (gzip-bomb guard); raise the function memory with it',
  },
];

export function parseObjectLimits(env: Env): ObjectLimits {
  return {
    maxObjectBytes: intVar(env, 'CLOUDTRAIL_OBJECT_MAX_BYTES', DEFAULT_OBJECT_LIMITS.maxObjectBytes, 1024, 1024 ** 3),
    // V8 strings stop at ~512 MiB (2^29 characters): a body beyond that could not be parsed at all.
    maxDecompressedBytes: intVar(
      env,
      'CLOUDTRAIL_OBJECT_MAX_DECOMPRESSED_BYTES',
      DEFAULT_OBJECT_LIMITS.maxDecompressedBytes,
      1024,
      512 * 1024 * 1024,
    ),
  };
}

/** Where the backfill writes: the output bucket and the prefix Firehose writes under. */
export interface BackfillDestination {
  readonly bucket: string;
  /** Empty, or ends with `/`. */
  readonly prefix: string;
}

export interface BackfillConfig {
  readonly destination: BackfillDestination;
  readonly limits: ObjectLimits;
}

export const BACKFILL_CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'OUTPUT_BUCKET', description: 'backfill: the output bucket (required; the deployment sets it to the stack bucket)' },
  {
    name: 'OUTPUT_PREFIX',
    default: 'enriched/',
    description: 'backfill: prefix of the partitions, as Firehose writes them (must end with "/")',
  },
  ...OBJECT_LIMIT_VARIABLES,
];

/** S3 bucket names: 3–63 lower-case letters, digits, dots and hyphens. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseBackfillConfig(env: Env): BackfillConfig {
  const bucket = (env.OUTPUT_BUCKET ?? '').trim();
  if (!BUCKET.test(bucket))
    throw new ConfigError(`OUTPUT_BUCKET must be an S3 bucket name, got ${JSON.stringify(env.OUTPUT_BUCKET ?? '')}`);
  const raw = env.OUTPUT_PREFIX;
  const prefix = raw === undefined || raw.trim() === '' ? 'enriched/' : raw.trim();
  return { destination: { bucket, prefix: checkPrefix(prefix, 'OUTPUT_PREFIX') }, limits: parseObjectLimits(env) };
}

/**
 * A destination prefix: empty or ending with `/`, no leading `/`, no `.`/`..` segments, printable ASCII only,
 * so partition keys written under it stay under it.
 */
export function checkPrefix(prefix: string, what: string): string {
  if (prefix === '') return prefix;
  const ok =
    prefix.endsWith('/') &&
    !prefix.startsWith('/') &&
    prefix.length <= 512 &&
    /^[\x21-\x7e]+$/.test(prefix) &&
    prefix
      .slice(0, -1)
      .split('/')
      .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
  if (!ok)
    throw new ConfigError(
      `${what} must be empty or a key prefix ending with "/" (printable ASCII, no empty, "." or ".." segments), got ${JSON.stringify(prefix)}`,
    );
  return prefix;
}
