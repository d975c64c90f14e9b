/**
 * Watchlists: named lists that rules refer to (`inWatchlist`, `inWindow`), from the document's entries and
 * from files, compiled once per container: `cidrs` into an {@link IpSet}, `values` into a Set (lower-cased
 * when ignoreCase), `windows` into instants, day masks and clock ranges in the rules' timezone.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RulesValidationError } from '../errors.ts';
import type { ValuePred } from './context.ts';
import { compileIpSet, type IpSet } from './ip-set.ts';
import { parseClockTime, parseDayName, parseEventTime, type ClockRangeDoc, type ZonedClock } from './time.ts';
import type { Fail } from './validate.ts';

export interface WindowDoc {
  principals?: string[];
  start?: string;
  end?: string;
  days?: string[];
  timeOfDay?: ClockRangeDoc;
  note?: string;
}

export interface WatchlistDoc {
  type: 'cidrs' | 'values' | 'windows';
  description?: string;
  ignoreCase?: boolean;
  file?: string;
  entries?: unknown[];
}

/** Watchlist names the bundled rules refer to. */
export const WatchlistName = {
  AllowedCountries: 'allowedCountries',
  TrustedCidrs: 'trustedCidrs',
  KnownBadIps: 'knownBadIps',
  AwayPrincipals: 'awayPrincipals',
  MaintenanceWindows: 'maintenanceWindows',
} as const;

export const DEFAULT_ALLOWED_COUNTRIES: readonly string[] = ['US'];

/** What {@link compileWatchlists} takes from the compile options. */
export interface WatchlistOptions {
  /** Directory that relative watchlist `file`s are resolved against (the rules file's directory). */
  baseDir?: string;
  /** Replaces the `allowedCountries` watchlist (ALLOWED_COUNTRIES); when neither is given: `US`. */
  allowedCountries?: readonly string[];
  /** Reads watchlist files (default: `fs.readFileSync(path, 'utf8')`). */
  readFile?: (path: string) => string;
}

/** Upper bound on values an `in` / watchlist can hold, to keep cold start and memory bounded. */
const MAX_LIST_ENTRIES = 1_000_000;

export type CompiledWatchlist =
  | { type: 'cidrs'; set: IpSet }
  | { type: 'values'; set: Set<string>; ignoreCase: boolean }
  | { type: 'windows'; windows: CompiledWindow[] };

export interface CompiledWindow {
  start: number;
  end: number;
  days: number; // bitmask, 0 = any day
  clock: ZonedClock;
  from: number | undefined;
  to: number | undefined;
  principals: ValuePred | undefined;
}

/** Lines of a cidrs/values watchlist file: one entry per line, `#` starts a comment. */
function parseListFile(text: string): { line: number; value: string }[] {
  const out: { line: number; value: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const hash = lines[i]!.indexOf('#');
    const value = (hash >= 0 ? lines[i]!.slice(0, hash) : lines[i]!).trim();
    if (value) out.push({ line: i + 1, value });
  }
  return out;
}

function globToPredicate(patterns: readonly string[]): ValuePred {
  const exact = new Set<string>();
  const regexes: RegExp[] = [];
  for (const p of patterns) {
    if (p.includes('*')) {
      const body = p
        .split('*')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
      regexes.push(new RegExp(`^${body}$`, 'is'));
    } else exact.add(p.toLowerCase());
  }
  return (value) => {
    if (typeof value !== 'string') return false;
    if (exact.size > 0 && exact.has(value.toLowerCase())) return true;
    for (const r of regexes) if (r.test(value)) return true;
    return false;
  };
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function compileWindow(entry: WindowDoc, clock: ZonedClock, fail: (field: string, message: string) => never): CompiledWindow {
  if (entry.start === undefined && entry.end === undefined && entry.days === undefined && entry.timeOfDay === undefined) {
    fail('', 'needs start/end, days or timeOfDay');
  }
  if ((entry.start === undefined) !== (entry.end === undefined))
    fail(entry.start === undefined ? 'start' : 'end', 'start and end go together');
  let start = Number.NEGATIVE_INFINITY;
  let end = Number.POSITIVE_INFINITY;
  const instant = (text: string, field: string, isEnd: boolean): number => {
    const date = DATE_ONLY.exec(text);
    if (date) {
      const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
      if (!Number.isFinite(parseEventTime(`${date[0]}T00:00:00Z`))) fail(field, `"${text}" is not a valid date`);
      // A date-only end is inclusive: the window runs to the end of that local day.
      return isEnd ? clock.epochOfLocal(y, m, d + 1) : clock.epochOfLocal(y, m, d);
    }
    const t = parseEventTime(text);
    if (!Number.isFinite(t)) fail(field, `"${text}" is not an ISO 8601 date (YYYY-MM-DD) or date-time with offset (2026-12-20T08:00:00Z)`);
    return t;
  };
  if (entry.start !== undefined && entry.end !== undefined) {
    start = instant(entry.start, 'start', false);
    end = instant(entry.end, 'end', true);
    if (end <= start) fail('end', 'must be after start');
  }
  let days = 0;
  for (const [i, name] of (entry.days ?? []).entries()) {
    const day = parseDayName(name);
    if (day === undefined) fail(`days[${i}]`, `"${name}" is not a day name`);
    days |= 1 << day;
  }
  let from: number | undefined;
  let to: number | undefined;
  if (entry.timeOfDay) {
    from = parseClockTime(entry.timeOfDay.from);
    to = parseClockTime(entry.timeOfDay.to);
    if (from === undefined) fail('timeOfDay.from', 'must be HH:MM');
    if (to === undefined) fail('timeOfDay.to', 'must be HH:MM');
    if (from === to) fail('timeOfDay', 'from and to must differ');
  }
  return { start, end, days, clock, from, to, principals: entry.principals ? globToPredicate(entry.principals) : undefined };
}

export function compileWatchlists(
  watchlists: Readonly<Record<string, WatchlistDoc>> | undefined,
  options: WatchlistOptions,
  fail: Fail,
  clock: ZonedClock,
): Map<string, CompiledWatchlist> {
  const out = new Map<string, CompiledWatchlist>();
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const lists: Record<string, WatchlistDoc> = { ...(watchlists ?? {}) };
  const allowed = lists[WatchlistName.AllowedCountries];
  if (allowed && allowed.type !== 'values') fail.at(['watchlists', WatchlistName.AllowedCountries, 'type'], 'must be "values"');
  if (options.allowedCountries !== undefined || !allowed) {
    lists[WatchlistName.AllowedCountries] = {
      type: 'values',
      ignoreCase: true,
      description: allowed?.description ?? 'allowed source countries',
      entries: [...(options.allowedCountries ?? DEFAULT_ALLOWED_COUNTRIES)],
    };
  }

  for (const [name, list] of Object.entries(lists)) {
    const at = (field: string, message: string): never => fail.at(['watchlists', name, ...splitField(field)], message);
    const fromFile: { line: number; value: unknown }[] = [];
    if (list.file !== undefined) {
      const path = isAbsolute(list.file) ? list.file : resolve(options.baseDir ?? process.cwd(), list.file);
      let text: string;
      try {
        text = readFile(path);
      } catch (error) {
        throw new RulesValidationError(`${fail.source}: watchlist "${name}" field "file": cannot read ${path}`, { cause: error });
      }
      if (list.type === 'windows') {
        let parsed: unknown;
        try {
          parsed = parseYaml(text);
        } catch (error) {
          throw new RulesValidationError(`${fail.source}: watchlist "${name}" file ${path}: not valid YAML`, { cause: error });
        }
        if (parsed !== null && !Array.isArray(parsed)) at('file', `${path} must hold a YAML list of windows`);
        for (const [i, value] of ((parsed as unknown[] | null) ?? []).entries()) fromFile.push({ line: i, value });
      } else {
        for (const item of parseListFile(text)) fromFile.push(item);
      }
    }
    const inline = (list.entries ?? []).map((value, i) => ({ where: `entries[${i}]`, value }));
    const filed = fromFile.map((item) => ({
      where: list.type === 'windows' ? `file[${item.line}]` : `file line ${item.line}`,
      value: item.value,
    }));
    const all = [...inline, ...filed];
    if (all.length > MAX_LIST_ENTRIES) at('entries', `holds more than ${MAX_LIST_ENTRIES} entries`);

    if (list.type === 'cidrs') {
      for (const item of all) if (typeof item.value !== 'string') at(item.where, 'must be a string');
      const set = compileIpSet(all.map((item) => item.value as string));
      if (!set.ok) return at(all[set.index]!.where, set.error);
      out.set(name, { type: 'cidrs', set: set.value });
    } else if (list.type === 'values') {
      const ignoreCase = list.ignoreCase === true;
      const set = new Set<string>();
      for (const item of all) {
        if (typeof item.value !== 'string') at(item.where, 'must be a string');
        set.add(ignoreCase ? (item.value as string).toLowerCase() : (item.value as string));
      }
      out.set(name, { type: 'values', set, ignoreCase });
    } else {
      const windows: CompiledWindow[] = [];
      for (const item of all) {
        const value = item.value;
        if (value === null || typeof value !== 'object' || Array.isArray(value)) at(item.where, 'must be an object');
        const known = new Set(['principals', 'start', 'end', 'days', 'timeOfDay', 'note']);
        for (const key of Object.keys(value as object)) if (!known.has(key)) at(`${item.where}.${key}`, 'is not a known field');
        windows.push(
          compileWindow(value as WindowDoc, clock, (field, message) => at(field ? `${item.where}.${field}` : item.where, message)),
        );
      }
      out.set(name, { type: 'windows', windows });
    }
  }
  return out;
}

function splitField(field: string): string[] {
  return field.split(/[.[\]]+/).filter((s) => s.length > 0);
}
