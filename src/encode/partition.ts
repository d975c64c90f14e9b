import type { CloudTrailEvent, PartitionKeys } from '../model.ts';

/**
 * Firehose dynamic-partitioning keys for one event. Values end up in S3 object keys, so they are
 * restricted to a safe character set and a bounded set of values; anything else maps to a fallback:
 *
 * | key     | accepted                                                        | fallback                          |
 * |---------|-----------------------------------------------------------------|-----------------------------------|
 * | account | `recipientAccountId` of exactly 12 digits (and in the allowlist, when one is configured) | `unknown` (`other` when not allowed) |
 * | region  | `awsRegion` shaped like an AWS region (`us-east-1`, `us-gov-west-1`, `eu-central-2`, `cn-north-1`, …) | `unknown` |
 * | dt      | UTC date of `eventTime`, between 2013-11-01 (CloudTrail's launch) and one day after arrival | arrival date (UTC) |
 *
 * None of the accepted values can contain `/`, `.`, `=` or whitespace, so no event can escape the prefix.
 */
export const PARTITION_FALLBACK = { account: 'unknown', accountNotAllowed: 'other', region: 'unknown' } as const;

export interface PartitionOptions {
  /** When set, only these account ids get their own partition. */
  readonly accountAllowlist?: ReadonlySet<string>;
}

const ACCOUNT = /^\d{12}$/;
/**
 * Region names: a bounded grammar (partition prefix × direction × digit), not any string, so crafted values
 * cannot create an unbounded number of partitions.
 */
const REGION =
  /^(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc)-(?:north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/;
const EVENT_DATE = /^(\d{4})-(\d{2})-(\d{2})T/;
const EARLIEST_DAY = Date.UTC(2013, 10, 1);
const DAY_MS = 86_400_000;

export function partitionKeysOf(event: CloudTrailEvent, arrivalMs: number, options: PartitionOptions = {}): PartitionKeys {
  return {
    account: accountKey(event.recipientAccountId, options.accountAllowlist),
    region: regionKey(event.awsRegion),
    dt: dateKey(event.eventTime, arrivalMs),
  };
}

/** Keys for a line that is not a CloudTrail event (skipped): nothing in it is trusted. */
export function fallbackPartitionKeys(arrivalMs: number): PartitionKeys {
  return { account: PARTITION_FALLBACK.account, region: PARTITION_FALLBACK.region, dt: utcDay(arrivalMs) };
}

export function accountKey(value: unknown, allowlist?: ReadonlySet<string>): string {
  if (typeof value !== 'string' || !ACCOUNT.test(value)) return PARTITION_FALLBACK.account;
  if (allowlist !== undefined && !allowlist.has(value)) return PARTITION_FALLBACK.accountNotAllowed;
  return value;
}

export function regionKey(value: unknown): string {
  return typeof value === 'string' && value.length <= 25 && REGION.test(value) ? value : PARTITION_FALLBACK.region;
}

export function dateKey(value: unknown, arrivalMs: number): string {
  if (typeof value === 'string') {
    const m = EVENT_DATE.exec(value);
    if (m !== null && isRealDay(Number(m[1]), Number(m[2]), Number(m[3]))) {
      const ms = Date.parse(value);
      if (!Number.isNaN(ms) && ms >= EARLIEST_DAY && ms <= arrivalMs + DAY_MS) {
        // CloudTrail writes UTC (`…Z`); an explicit offset is converted to its UTC day.
        return value.endsWith('Z') ? `${m[1]}-${m[2]}-${m[3]}` : utcDay(ms);
      }
    }
  }
  return utcDay(arrivalMs);
}

/** `Date.parse` rolls impossible days over (2026-02-30 → 2026-03-02) instead of rejecting them. */
function isRealDay(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function utcDay(ms: number): string {
  return new Date(Number.isFinite(ms) ? ms : Date.now()).toISOString().slice(0, 10);
}

/** A sanitised partition that came from an envelope header (trust nothing that crossed a stream). */
export function sanitisePartitionKeys(keys: PartitionKeys, arrivalMs: number, options: PartitionOptions = {}): PartitionKeys {
  const account =
    keys.account === PARTITION_FALLBACK.account || keys.account === PARTITION_FALLBACK.accountNotAllowed
      ? keys.account
      : accountKey(keys.account, options.accountAllowlist);
  // The envelope was built at an earlier arrival, so its day may be up to one more day ahead; anything not
  // accepted falls back to this arrival's day (not dateKey's fallback, which would be the shifted one).
  const dt = /^\d{4}-\d{2}-\d{2}$/.test(keys.dt) && dateKey(`${keys.dt}T00:00:00Z`, arrivalMs + DAY_MS) === keys.dt ? keys.dt : utcDay(arrivalMs);
  return { account, region: regionKey(keys.region) === keys.region ? keys.region : PARTITION_FALLBACK.region, dt };
}

export function partitionId(keys: PartitionKeys): string {
  return `${keys.account}/${keys.region}/${keys.dt}`;
}
