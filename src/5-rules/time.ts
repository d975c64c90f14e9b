/**
 * Event time in a configured timezone, cheaply.
 *
 * `Intl.DateTimeFormat#formatToParts` costs several microseconds, far above the per-event budget, so a
 * zone's UTC offset is computed once per 15-minute bucket of UTC time and cached. Every modern tz
 * database transition happens on a quarter hour of UTC (zones are offset by whole hours, :30 or :45, and
 * switch at local whole hours), so an offset is constant within a bucket. Local time of day and day of
 * week then follow from integer arithmetic on epoch milliseconds.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
const BUCKET = 15 * MINUTE;
/** Bound on cached buckets per zone (about 10 days of 15-minute buckets); cleared wholesale when full. */
const MAX_BUCKETS = 1024;

/** A time-of-day range as a rules file writes it (`from: '22:00'`, `to: '06:00'`). */
export interface ClockRangeDoc {
  from: string;
  to: string;
}

export interface LocalTime {
  /** Minutes since local midnight, 0–1439. */
  minuteOfDay: number;
  /** 0 = Sunday … 6 = Saturday (as `Date#getDay`). */
  dayOfWeek: number;
}

export interface ZonedClock {
  readonly timezone: string;
  /** Offset of local time from UTC in minutes at the given instant (e.g. +60 for CET). */
  offsetMinutes(epochMs: number): number;
  /** Local minute of day and day of week; the same object is reused between calls (copy what you keep). */
  local(epochMs: number): LocalTime;
  /**
   * The instant of a local wall-clock time (used at compile time for date-only windows). For a
   * time skipped or repeated by a DST change, the earlier valid interpretation.
   */
  epochOfLocal(year: number, month: number, day: number, hour?: number, minute?: number): number;
}

/** Throws a RangeError when Intl does not know the zone; callers validate with {@link isValidTimezone}. */
function createFormatter(timezone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
}

export function isValidTimezone(timezone: unknown): timezone is string {
  if (typeof timezone !== 'string' || timezone.length === 0 || timezone.length > 64) return false;
  try {
    createFormatter(timezone);
    return true;
  } catch {
    return false;
  }
}

const clocks = new Map<string, ZonedClock>();

/** One clock per zone per container: the formatter and the offset cache are shared by all rules. */
export function zonedClock(timezone: string): ZonedClock {
  const existing = clocks.get(timezone);
  if (existing) return existing;
  const clock = createClock(timezone);
  clocks.set(timezone, clock);
  return clock;
}

function createClock(timezone: string): ZonedClock {
  const isUtc = timezone === 'UTC' || timezone === 'Etc/UTC' || timezone === 'Etc/GMT' || timezone === 'GMT';
  const formatter = isUtc ? undefined : createFormatter(timezone);
  const cache = new Map<number, number>();
  const out: LocalTime = { minuteOfDay: 0, dayOfWeek: 0 };
  let lastEpoch = Number.NaN;

  function computeOffset(epochMs: number): number {
    let y = 0;
    let mo = 0;
    let d = 0;
    let h = 0;
    let mi = 0;
    for (const part of formatter!.formatToParts(epochMs)) {
      switch (part.type) {
        case 'year':
          y = Number(part.value);
          break;
        case 'month':
          mo = Number(part.value);
          break;
        case 'day':
          d = Number(part.value);
          break;
        case 'hour':
          h = Number(part.value);
          break;
        case 'minute':
          mi = Number(part.value);
          break;
        default:
          break;
      }
    }
    const floored = Math.floor(epochMs / MINUTE) * MINUTE;
    return Math.round((Date.UTC(y, mo - 1, d, h, mi) - floored) / MINUTE);
  }

  function offsetMinutes(epochMs: number): number {
    if (!formatter) return 0;
    const bucket = Math.floor(epochMs / BUCKET);
    let offset = cache.get(bucket);
    if (offset === undefined) {
      if (cache.size >= MAX_BUCKETS) cache.clear();
      offset = computeOffset(bucket * BUCKET);
      cache.set(bucket, offset);
    }
    return offset;
  }

  return {
    timezone,
    offsetMinutes,
    local(epochMs: number): LocalTime {
      if (epochMs !== lastEpoch) {
        const localMs = epochMs + offsetMinutes(epochMs) * MINUTE;
        const days = Math.floor(localMs / DAY);
        out.minuteOfDay = Math.floor((localMs - days * DAY) / MINUTE);
        // 1970-01-01 was a Thursday (4); the double modulo keeps pre-1970 instants non-negative.
        out.dayOfWeek = (((days + 4) % 7) + 7) % 7;
        lastEpoch = epochMs;
      }
      return out;
    },
    epochOfLocal(year: number, month: number, day: number, hour = 0, minute = 0): number {
      const wall = Date.UTC(year, month - 1, day, hour, minute);
      // Two passes: the offset at the guess can differ from the offset at the answer across a DST change.
      const guess = wall - offsetMinutes(wall) * MINUTE;
      const second = wall - offsetMinutes(guess) * MINUTE;
      return Math.min(guess, second);
    },
  };
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses a CloudTrail `eventTime` (ISO 8601, `2014-03-06T21:22:54Z`; fractions and explicit offsets
 * accepted). Returns NaN for anything else, including out-of-range fields: time conditions on such an
 * event are false rather than guessed.
 */
export function parseEventTime(value: unknown): number {
  if (typeof value !== 'string' || value.length > 40) return Number.NaN;
  const m = ISO_UTC.exec(value);
  if (!m) return Number.NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const epoch = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC would roll 31 February over into March: reject instead.
  if (day > daysInMonth(year, month)) return Number.NaN;
  const zone = m[7]!;
  if (zone === 'Z') return epoch;
  const sign = zone.charCodeAt(0) === 45 ? -1 : 1;
  const offset = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
  return epoch - sign * offset * MINUTE;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** `HH:MM` → minutes since midnight, or undefined. `24:00` is accepted as the end of the day. */
export function parseClockTime(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (!m) return undefined;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return minutes > 1440 ? undefined : minutes;
}

const DAY_NAMES: Record<string, number> = {
  sun: 0,
  sunday: 0,
  mon: 1,
  monday: 1,
  tue: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
};

/** `Mon`, `monday`, `SUN` → 0–6 (Sunday = 0), or undefined. */
export function parseDayName(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const key = text.toLowerCase();
  return Object.prototype.hasOwnProperty.call(DAY_NAMES, key) ? DAY_NAMES[key] : undefined;
}

/** True when `minute` is in [from, to); a range with from > to wraps past midnight (22:00–06:00). */
export function inClockRange(minute: number, from: number, to: number): boolean {
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}
