/**
 * Configuration of the backfill, parsed once at cold start: its destination, and the object limits it shares with
 * the Object Lambda (`codec/s3-object.ts`). Every variable read here is listed in BACKFILL_CONFIG_VARIABLES.
 * Misconfiguration throws ConfigError naming the variable and what was expected.
 */
import { ConfigError } from '../../errors.ts';
import type { ConfigVariable } from '../../config/core.ts';
import type { Env } from '../../config/env.ts';
import { OBJECT_LIMIT_VARIABLES, parseObjectLimits, type ObjectLimits } from '../../codec/s3-object.ts';

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
