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
  return internKeys(
    accountKey(event.recipientAccountId, options.accountAllowlist),
    regionKey(event.awsRegion),
    dateKey(event.eventTime, arrivalMs),
  );
}

/** Keys for a line that is not a CloudTrail event (skipped): nothing in it is trusted. */
export function fallbackPartitionKeys(arrivalMs: number): PartitionKeys {
  return internKeys(PARTITION_FALLBACK.account, PARTITION_FALLBACK.region, utcDay(arrivalMs));
}

/**
 * One frozen object per partition: every event of a partition shares it (no allocation per event), and the
 * planner can group lines by identity. Bounded like the set of partitions itself.
 */
const interned = new Map<string, Map<string, Map<string, PartitionKeys>>>();
const ids = new WeakMap<PartitionKeys, string>();
let internedCount = 0;
/** Keys with an event class (OCSF layout): base keys → class → keys, interned the same way. */
const withClass = new WeakMap<PartitionKeys, Map<string, PartitionKeys>>();

function internKeys(account: string, region: string, dt: string): PartitionKeys {
  // Nested maps: no key string is built per event.
  let byRegion = interned.get(account);
  if (byRegion === undefined) interned.set(account, (byRegion = new Map()));
  let byDay = byRegion.get(region);
  if (byDay === undefined) byRegion.set(region, (byDay = new Map()));
  let keys = byDay.get(dt);
  if (keys === undefined) {
    if (internedCount >= 10_000) {
      interned.clear();
      internedCount = 0;
      return internKeys(account, region, dt);
    }
    keys = Object.freeze({ account, region, dt });
    byDay.set(dt, keys);
    ids.set(keys, `${account}/${region}/${dt}`);
    internedCount++;
  }
  return keys;
}

/** The only values of `eventClass` (OCSF: API Activity 6003, Authentication 3002, Base Event 0). */
export const EVENT_CLASS_KEYS = ['api-activity', 'authentication', 'base-event'] as const;
export type EventClassKey = (typeof EVENT_CLASS_KEYS)[number];

/**
 * The same partition split by event class (one frozen object per class, so lines still group by identity).
 * Callers pass only values from a fixed set (src/7-encode/layouts/partition.ts).
 */
export function partitionWithClass(keys: PartitionKeys, eventClass: EventClassKey | undefined): PartitionKeys {
  const base = keys.eventClass === undefined ? keys : internKeys(keys.account, keys.region, keys.dt);
  if (eventClass === undefined) return base;
  let byClass = withClass.get(base);
  if (byClass === undefined) withClass.set(base, (byClass = new Map()));
  let out = byClass.get(eventClass);
  if (out === undefined) {
    out = Object.freeze({ account: base.account, region: base.region, dt: base.dt, eventClass });
    byClass.set(eventClass, out);
    ids.set(out, `${base.account}/${base.region}/${base.dt}/${eventClass}`);
  }
  return out;
}

export function accountKey(value: unknown, allowlist?: ReadonlySet<string>): string {
  if (typeof value !== 'string' || value.length !== 12 || !ACCOUNT.test(value)) return PARTITION_FALLBACK.account;
  if (allowlist !== undefined && !allowlist.has(value)) return PARTITION_FALLBACK.accountNotAllowed;
  return value;
}

/** Region values repeat in every event; remember the verdict per value (bounded). */
const regionVerdicts = new Map<string, string>();

export function regionKey(value: unknown): string {
  if (typeof value !== 'string' || value.length > 25) return PARTITION_FALLBACK.region;
  let key = regionVerdicts.get(value);
  if (key === undefined) {
    key = REGION.test(value) ? value : PARTITION_FALLBACK.region;
    if (regionVerdicts.size >= 1024) regionVerdicts.clear();
    regionVerdicts.set(value, key);
  }
  return key;
}

/** CloudTrail's own form, `2026-11-20T14:03:21Z` (optionally with fractions): checked without `Date.parse`. */
const CANONICAL_UTC = /^(\d{4}-\d{2}-\d{2})T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?Z$/;
/** Day → its UTC midnight in ms (NaN for an impossible day). Bounded: days repeat heavily. */
const dayStarts = new Map<string, number>();

function dayStart(day: string): number {
  let start = dayStarts.get(day);
  if (start === undefined) {
    const y = Number(day.slice(0, 4));
    const m = Number(day.slice(5, 7));
    const d = Number(day.slice(8, 10));
    start = isRealDay(y, m, d) ? Date.UTC(y, m - 1, d) : NaN;
    if (dayStarts.size >= 4096) dayStarts.clear();
    dayStarts.set(day, start);
  }
  return start;
}

export function dateKey(value: unknown, arrivalMs: number): string {
  if (typeof value === 'string') {
    const canonical = CANONICAL_UTC.exec(value);
    if (canonical !== null) {
      const day = canonical[1]!;
      const start = dayStart(day);
      // A whole day at or before arrival is within the window; only the day after arrival needs the exact time.
      if (start >= EARLIEST_DAY && start <= arrivalMs) return day;
      if (start >= EARLIEST_DAY && start <= arrivalMs + DAY_MS && Date.parse(value) <= arrivalMs + DAY_MS) return day;
      return utcDay(arrivalMs);
    }
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
  const base = sanitiseBaseKeys(keys, arrivalMs, options);
  const eventClass = keys.eventClass;
  return typeof eventClass === 'string' && (EVENT_CLASS_KEYS as readonly string[]).includes(eventClass)
    ? partitionWithClass(base, eventClass as EventClassKey)
    : base;
}

function sanitiseBaseKeys(keys: PartitionKeys, arrivalMs: number, options: PartitionOptions): PartitionKeys {
  const account =
    keys.account === PARTITION_FALLBACK.account || keys.account === PARTITION_FALLBACK.accountNotAllowed
      ? keys.account
      : accountKey(keys.account, options.accountAllowlist);
  // The envelope was built at an earlier arrival, so its day may be up to one more day ahead; anything not
  // accepted falls back to this arrival's day (not dateKey's fallback, which would be the shifted one).
  const dt =
    /^\d{4}-\d{2}-\d{2}$/.test(keys.dt) && dateKey(`${keys.dt}T00:00:00Z`, arrivalMs + DAY_MS) === keys.dt ? keys.dt : utcDay(arrivalMs);
  return internKeys(account, regionKey(keys.region) === keys.region ? keys.region : PARTITION_FALLBACK.region, dt);
}

export function partitionId(keys: PartitionKeys): string {
  return ids.get(keys) ?? `${keys.account}/${keys.region}/${keys.dt}${keys.eventClass === undefined ? '' : `/${keys.eventClass}`}`;
}
