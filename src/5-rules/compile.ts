/**
 * Compiles a rules document (already parsed from YAML or JSON) into a {@link RuleEngine}.
 *
 * Everything expensive happens here, once per container: schema validation, regexes, CIDR sets, path
 * splitting, watchlist files, timezone formatters, reason templates. Evaluation then runs closures over
 * the event with no parsing and little allocation (a reused context object; a reasons array only when
 * a rule matched).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RulesValidationError } from '../errors.ts';
import type { CloudTrailEvent, Enrichment, Priority, RiskReason, Verdict } from '../model.ts';
import { compileTemplate, type CompiledTemplate } from './interpolate.ts';
import { compileIpSet, type IpSet } from './ip-set.ts';
import { ownValue, parseFieldPath, StepKind, type FieldPath } from './path.ts';
import { inClockRange, isValidTimezone, parseClockTime, parseDayName, parseEventTime, zonedClock, type ZonedClock } from './time.ts';
import type { RuleEngine } from './types.ts';
import { assertRulesDocument, describeLocation } from './validate.ts';

// ---------------------------------------------------------------------------------------------------
// Document types (the shape rules/rules.schema.json guarantees)

type Scalar = string | number | boolean | null;

export interface ClockRangeDoc {
  from: string;
  to: string;
}

export interface ConditionDoc {
  all?: ConditionDoc[];
  any?: ConditionDoc[];
  not?: ConditionDoc;
  field?: string;
  equals?: Scalar;
  in?: Scalar[];
  prefix?: string | string[];
  suffix?: string | string[];
  contains?: string | string[];
  regex?: string;
  ignoreCase?: boolean;
  exists?: boolean;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  cidr?: string | string[];
  inWatchlist?: string;
  equalsField?: string;
  some?: ConditionDoc;
  inWindow?: string;
  timeOfDay?: ClockRangeDoc;
  dayOfWeek?: string[];
  timezone?: string;
  // Operators added with the Sigma translation (see "Sigma operators" below).
  wildcard?: string | string[];
  regexFlags?: string;
  otherAccountThan?: string;
}

/** A rule's MITRE ATT&CK mapping: tactic short names (`defense-evasion`) and technique ids (`T1562.008`). */
export interface AttackDoc {
  tactics: string[];
  techniques: string[];
}

export interface RuleDoc {
  id: string;
  description: string;
  priority: Priority;
  score: number;
  reason: string;
  when: ConditionDoc;
  enabled?: boolean;
  tags?: string[];
  attack?: AttackDoc;
}

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

export interface RulesDocument {
  version: 1;
  timezone?: string;
  watchlists?: Record<string, WatchlistDoc>;
  rules: RuleDoc[];
}

// ---------------------------------------------------------------------------------------------------
// Public options and constants

/** Watchlist names the bundled rules refer to. */
export const WatchlistName = {
  AllowedCountries: 'allowedCountries',
  TrustedCidrs: 'trustedCidrs',
  KnownBadIps: 'knownBadIps',
  AwayPrincipals: 'awayPrincipals',
  MaintenanceWindows: 'maintenanceWindows',
} as const;

export const DEFAULT_ALLOWED_COUNTRIES: readonly string[] = ['US'];

export interface CompileOptions {
  /** Name of the document in error messages (the file path). */
  source?: string;
  /** Directory that relative watchlist `file`s are resolved against (the rules file's directory). */
  baseDir?: string;
  /** Overrides the document's `timezone` (RULES_TIMEZONE). */
  timezone?: string;
  /** Replaces the `allowedCountries` watchlist (ALLOWED_COUNTRIES); when neither is given: `US`. */
  allowedCountries?: readonly string[];
  /** Rule ids to skip (RULES_DISABLED); an unknown id is an error. */
  disabledRules?: readonly string[];
  /** Reads watchlist files (default: `fs.readFileSync(path, 'utf8')`). */
  readFile?: (path: string) => string;
  /** Index rules by eventName/eventSource (default true; false only to test that the index changes nothing). */
  index?: boolean;
  /** Generate one function per rule (default true; false evaluates the closure tree, for equivalence tests). */
  codegen?: boolean;
  /** The file a rule came from when it is not `source` (rules translated from Sigma files), for error messages. */
  ruleSource?: (ruleIndex: number) => string | undefined;
}

const PRIORITY_RANK: Record<Priority, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };
const PRIORITIES: readonly Priority[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

/** Score thresholds at or above which the score alone raises the priority. */
export const SCORE_PRIORITY_THRESHOLDS: ReadonlyArray<{ min: number; priority: Priority }> = [
  { min: 90, priority: 'CRITICAL' },
  { min: 70, priority: 'HIGH' },
  { min: 40, priority: 'MEDIUM' },
];

export function priorityFromScore(score: number): Priority {
  for (const t of SCORE_PRIORITY_THRESHOLDS) if (score >= t.min) return t.priority;
  return 'LOW';
}

/** Upper bound on values an `in` / watchlist can hold, to keep cold start and memory bounded. */
const MAX_LIST_ENTRIES = 1_000_000;

// ---------------------------------------------------------------------------------------------------
// Evaluation context: one per engine, reused for every event (evaluation is synchronous and not re-entrant).

interface EvalContext {
  event: CloudTrailEvent;
  enrichment: Readonly<Enrichment>;
  /** The base for relative paths: the event, or the current element inside `some`. */
  scope: unknown;
  /** eventTime as epoch ms; NaN when invalid; undefined until first needed. */
  epochMs: number | undefined;
}

type Cond = (ctx: EvalContext) => boolean;
type ValuePred = (value: unknown, ctx: EvalContext) => boolean;

function baseFor(path: FieldPath, ctx: EvalContext): unknown {
  return path.root === 'scope' ? ctx.scope : path.root === 'enrichment' ? ctx.enrichment : ctx.event;
}

let lastTimeText: unknown;
let lastTimeEpoch = Number.NaN;

function eventEpoch(ctx: EvalContext): number {
  if (ctx.epochMs === undefined) {
    const text = (ctx.event as { eventTime?: unknown }).eventTime;
    // Events of one batch share few distinct seconds: remember the last parse.
    if (text !== lastTimeText || typeof text !== 'string') {
      lastTimeEpoch = parseEventTime(text);
      lastTimeText = text;
    }
    ctx.epochMs = lastTimeEpoch;
  }
  return ctx.epochMs;
}

// ---------------------------------------------------------------------------------------------------
// Watchlists

type CompiledWatchlist =
  | { type: 'cidrs'; set: IpSet }
  | { type: 'values'; set: Set<string>; ignoreCase: boolean }
  | { type: 'windows'; windows: CompiledWindow[] };

interface CompiledWindow {
  start: number;
  end: number;
  days: number; // bitmask, 0 = any day
  clock: ZonedClock;
  from: number | undefined;
  to: number | undefined;
  principals: ValuePred | undefined;
}

class Fail {
  constructor(
    readonly source: string,
    readonly doc: unknown,
    readonly ruleSource?: (ruleIndex: number) => string | undefined,
  ) {}
  at(segments: readonly (string | number)[], message: string): never {
    const from = segments[0] === 'rules' && this.ruleSource ? this.ruleSource(Number(segments[1])) : undefined;
    throw new RulesValidationError(`${from ?? this.source}: ${describeLocation(this.doc, segments.map(String))} ${message}`);
  }
}

function toList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
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

function compileWatchlists(doc: RulesDocument, options: CompileOptions, fail: Fail, clock: ZonedClock): Map<string, CompiledWatchlist> {
  const out = new Map<string, CompiledWatchlist>();
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const lists: Record<string, WatchlistDoc> = { ...(doc.watchlists ?? {}) };
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

// ===================================================================================================
// Sigma operators (issue 14). One block, so each can become one entry of the operator table (plus one
// line of rules/rules.schema.json, where they are already described):
//
//   wildcard          Sigma's pattern syntax, matched against the whole value: `*` any run of characters,
//                     `?` exactly one, `\` escapes `*`, `?` and `\` (a backslash before anything else is a
//                     literal backslash). Honours ignoreCase. Matching is O(value × pattern), no regex, so
//                     a hostile value cannot make it backtrack.
//   regexFlags        modifies `regex`: any of `i`, `m`, `s` (Sigma's re|i, re|m, re|s).
//   otherAccountThan  the string names a 12-digit AWS account id other than the value at the given path
//                     (a trust or resource policy, a replication destination that reaches outside the
//                     account). A missing or empty reference never matches.
// ===================================================================================================

export const SIGMA_OPERATORS = ['wildcard', 'otherAccountThan'] as const;

const GLOB_LITERAL = 0;
const GLOB_ONE = 1;
const GLOB_ANY = 2;

/** The tokens of a wildcard pattern: a literal code unit, `?` or `*`. */
export function parseWildcard(pattern: string): { kinds: Uint8Array; chars: string[] } {
  const kinds: number[] = [];
  const chars: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length && (pattern[i + 1] === '*' || pattern[i + 1] === '?' || pattern[i + 1] === '\\')) {
      kinds.push(GLOB_LITERAL);
      chars.push(pattern[++i]!);
    } else if (ch === '*') {
      // Consecutive stars are one star.
      if (kinds[kinds.length - 1] !== GLOB_ANY) {
        kinds.push(GLOB_ANY);
        chars.push('');
      }
    } else if (ch === '?') {
      kinds.push(GLOB_ONE);
      chars.push('');
    } else {
      kinds.push(GLOB_LITERAL);
      chars.push(ch);
    }
  }
  return { kinds: Uint8Array.from(kinds), chars };
}

/** A predicate matching whole strings against a wildcard pattern (iterative, last-star backtracking). */
export function compileWildcard(pattern: string, ignoreCase: boolean): (value: string) => boolean {
  const { kinds, chars } = parseWildcard(ignoreCase ? pattern.toLowerCase() : pattern);
  const n = kinds.length;
  return (value) => {
    const s = ignoreCase ? value.toLowerCase() : value;
    let i = 0;
    let j = 0;
    let star = -1;
    let mark = 0;
    while (i < s.length) {
      if (j < n && (kinds[j] === GLOB_ONE || (kinds[j] === GLOB_LITERAL && chars[j] === s[i]))) {
        i++;
        j++;
      } else if (j < n && kinds[j] === GLOB_ANY) {
        star = j++;
        mark = i;
      } else if (star >= 0) {
        j = star + 1;
        i = ++mark;
      } else return false;
    }
    while (j < n && kinds[j] === GLOB_ANY) j++;
    return j === n;
  };
}

/** The RegExp flags for a `regex` condition: ignoreCase adds `i`; regexFlags adds any of `i`, `m`, `s`. */
function regexFlagsOf(cond: ConditionDoc, at: string[], err: (at: readonly string[], message: string) => never): string {
  const flags = new Set<string>(cond.ignoreCase === true ? ['i'] : []);
  if (cond.regexFlags !== undefined) {
    if (cond.regex === undefined) err([...at, 'regexFlags'], 'only applies to regex');
    for (const f of cond.regexFlags) {
      if (f !== 'i' && f !== 'm' && f !== 's') err([...at, 'regexFlags'], `"${f}" is not one of the flags i, m, s`);
      flags.add(f);
    }
  }
  return [...flags].sort().join('');
}

/**
 * Generated code for a case-insensitive condition made only of string equals / in / prefix / suffix /
 * contains (what Sigma translates to), testing the lower-cased value `t`; undefined when the condition has
 * anything else (it then runs as a closure).
 */
function foldedStringTests(c: ConditionDoc, constant: (value: unknown) => string): string | undefined {
  const allowed = new Set(['field', 'ignoreCase', 'equals', 'in', 'prefix', 'suffix', 'contains']);
  if (Object.keys(c).some((k) => !allowed.has(k))) return undefined;
  const tests: string[] = [];
  if (c.equals !== undefined) {
    if (typeof c.equals !== 'string') return undefined;
    tests.push(`t === ${constant(c.equals.toLowerCase())}`);
  }
  if (c.in !== undefined) {
    if (!c.in.every((v) => typeof v === 'string')) return undefined;
    tests.push(`${constant(new Set(c.in.map((v) => v.toLowerCase())))}.has(t)`);
  }
  for (const [op, method] of [
    ['prefix', 'startsWith'],
    ['suffix', 'endsWith'],
    ['contains', 'includes'],
  ] as const) {
    if (c[op] === undefined) continue;
    tests.push(
      `(${toList(c[op])
        .map((x) => `t.${method}(${constant(x.toLowerCase())})`)
        .join(' || ')})`,
    );
  }
  return tests.length > 0 ? tests.join(' && ') : undefined;
}

const ACCOUNT_ID = /(?<!\d)\d{12}(?!\d)/g;

function sigmaValuePredicates(
  cond: ConditionDoc,
  at: string[],
  path: (text: string, at: string[]) => FieldPath,
  err: (at: readonly string[], message: string) => never,
): ValuePred[] {
  const preds: ValuePred[] = [];
  if (cond.wildcard !== undefined) {
    const tests = toList(cond.wildcard).map((p) => compileWildcard(p, cond.ignoreCase === true));
    preds.push((v) => {
      if (typeof v !== 'string') return false;
      const s = v.length > MAX_REGEX_INPUT ? v.slice(0, MAX_REGEX_INPUT) : v;
      for (let i = 0; i < tests.length; i++) if (tests[i]!(s)) return true;
      return false;
    });
  }
  if (cond.otherAccountThan !== undefined) {
    const other = path(cond.otherAccountThan, [...at, 'otherAccountThan']);
    if (other.fanOut) err([...at, 'otherAccountThan'], 'cannot contain [] (compare with one value)');
    preds.push((v, ctx) => {
      if (typeof v !== 'string' && typeof v !== 'number') return false;
      const own = other.get(baseFor(other, ctx));
      if (typeof own !== 'string' || own === '') return false;
      const text = String(v);
      const found = text.length > MAX_REGEX_INPUT ? text.slice(0, MAX_REGEX_INPUT).match(ACCOUNT_ID) : text.match(ACCOUNT_ID);
      if (found === null) return false;
      for (const id of found) if (id !== own) return true;
      return false;
    });
  }
  return preds;
}

// ===================================================================================================

// ---------------------------------------------------------------------------------------------------
// Conditions

const FIELD_OPERATORS = [
  'equals',
  'in',
  'prefix',
  'suffix',
  'contains',
  'regex',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'cidr',
  'inWatchlist',
  'equalsField',
  'some',
  ...SIGMA_OPERATORS,
] as const;

/**
 * Heuristic guard against catastrophic backtracking: regexes run on attacker-controlled strings, so a
 * quantified group that itself ends in a quantifier (`(a+)+`, `(\w*)*`, `(x|y+){2,}`) is refused.
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:\?)?\)(?:[+*]|\{\d+,\d*\})/;

/** Longest attacker string a regex is applied to; longer values are tested on their first part only. */
const MAX_REGEX_INPUT = 8192;

interface ConditionCompiler {
  /** Validates and compiles into a tree of closures (the reference implementation). */
  compile(cond: ConditionDoc, at: string[]): Cond;
  /** Compiles an already validated condition into one generated function (see {@link generateRule}). */
  generate(cond: ConditionDoc, at: string[]): Cond;
}

/**
 * Code generation, and why.
 *
 * A tree of closures is easy to get right, but in V8 every closure made from the same function literal
 * shares one set of inline caches, so with a few dozen rules every property read and call in the tree
 * goes megamorphic and each rule costs hundreds of nanoseconds. Generating one small function per rule
 * gives each rule its own inline caches (the same technique ajv uses for schemas), which makes the
 * common conditions — equals/in/exists/numeric/CIDR on a plain path — several times cheaper.
 *
 * Safety of the generated text: it contains only fixed code, integer indexes, and property names that
 * passed the path grammar (`[A-Za-z0-9_$@:-]+`) embedded with JSON.stringify. Every value from the rules
 * file (strings, numbers, regexes, sets) is passed in the constants array `k`, never spliced into code.
 * Anything that is not a simple condition (`[]` paths, `some`, time and window conditions, ignoreCase,
 * regex, equalsField) calls the closure compiled by `compile`, so both paths share one implementation
 * of the subtle parts.
 */
const SAFE_KEY = /^[A-Za-z0-9_$@:-]+$/;

function readCode(path: FieldPath): string {
  let code = `t = ${path.root === 'enrichment' ? 'c.enrichment' : 'c.event'}`;
  for (const step of path.steps) {
    if (step.kind === StepKind.Key) {
      if (!SAFE_KEY.test(step.key)) throw new Error(`unsafe key in generated code: ${step.key}`);
      const key = JSON.stringify(step.key);
      const read = step.plain ? `t[${key}]` : `(H.call(t, ${key}) ? t[${key}] : undefined)`;
      code += `, t = (t !== null && typeof t === 'object' && !A(t)) ? ${read} : undefined`;
    } else if (step.kind === StepKind.Index) {
      const index = Math.trunc(step.index);
      code += `, t = (A(t) && ${index} < t.length) ? t[${index}] : undefined`;
    } else throw new Error('a [] path cannot be generated inline');
  }
  return code;
}

function createConditionCompiler(
  fail: Fail,
  ruleIndex: number,
  watchlists: Map<string, CompiledWatchlist>,
  defaultClock: ZonedClock,
): ConditionCompiler {
  const err = (at: readonly string[], message: string): never => fail.at(['rules', String(ruleIndex), ...at], message);

  const path = (text: string, at: string[]): FieldPath => {
    const parsed = parseFieldPath(text);
    if (!parsed.ok) err(at, parsed.error);
    return (parsed as { ok: true; value: FieldPath }).value;
  };

  const clockFor = (timezone: string | undefined, at: string[]): ZonedClock => {
    if (timezone === undefined) return defaultClock;
    if (!isValidTimezone(timezone)) err(at, `"${timezone}" is not an IANA timezone known to this runtime`);
    return zonedClock(timezone);
  };

  function valuePredicates(cond: ConditionDoc, at: string[]): ValuePred[] {
    const preds: ValuePred[] = [];
    const ignoreCase = cond.ignoreCase === true;
    const fold = (s: string): string => (ignoreCase ? s.toLowerCase() : s);

    if (cond.equals !== undefined) {
      const expected = cond.equals;
      if (ignoreCase && typeof expected === 'string') {
        const lower = expected.toLowerCase();
        preds.push((v) => typeof v === 'string' && v.toLowerCase() === lower);
      } else preds.push((v) => v === expected);
    }
    if (cond.in !== undefined) {
      const set = new Set<Scalar>(cond.in.map((v) => (typeof v === 'string' ? fold(v) : v)));
      preds.push(ignoreCase ? (v) => set.has(typeof v === 'string' ? v.toLowerCase() : (v as Scalar)) : (v) => set.has(v as Scalar));
    }
    for (const op of ['prefix', 'suffix', 'contains'] as const) {
      const list = toList(cond[op]).map(fold);
      if (cond[op] === undefined) continue;
      const test =
        op === 'prefix'
          ? (s: string, x: string) => s.startsWith(x)
          : op === 'suffix'
            ? (s: string, x: string) => s.endsWith(x)
            : (s: string, x: string) => s.includes(x);
      preds.push((v) => {
        if (typeof v !== 'string') return false;
        const s = ignoreCase ? v.toLowerCase() : v;
        for (let i = 0; i < list.length; i++) if (test(s, list[i]!)) return true;
        return false;
      });
    }
    if (cond.regex !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(cond.regex, regexFlagsOf(cond, at, err));
      } catch (error) {
        return err([...at, 'regex'], `is not a valid regular expression: ${(error as Error).message}`);
      }
      if (NESTED_QUANTIFIER.test(cond.regex))
        err([...at, 'regex'], 'has a nested quantifier such as (a+)+, which can backtrack catastrophically');
      preds.push((v) => typeof v === 'string' && re.test(v.length > MAX_REGEX_INPUT ? v.slice(0, MAX_REGEX_INPUT) : v));
    }
    if (cond.gt !== undefined) {
      const x = cond.gt;
      preds.push((v) => typeof v === 'number' && v > x);
    }
    if (cond.gte !== undefined) {
      const x = cond.gte;
      preds.push((v) => typeof v === 'number' && v >= x);
    }
    if (cond.lt !== undefined) {
      const x = cond.lt;
      preds.push((v) => typeof v === 'number' && v < x);
    }
    if (cond.lte !== undefined) {
      const x = cond.lte;
      preds.push((v) => typeof v === 'number' && v <= x);
    }
    if (cond.cidr !== undefined) {
      const set = compileIpSet(toList(cond.cidr));
      if (!set.ok) err(typeof cond.cidr === 'string' ? [...at, 'cidr'] : [...at, 'cidr', String(set.index)], set.error);
      const ips = (set as { ok: true; value: IpSet }).value;
      preds.push((v) => ips.has(v));
    }
    if (cond.inWatchlist !== undefined) {
      const list = watchlists.get(cond.inWatchlist);
      if (!list) err([...at, 'inWatchlist'], `names no watchlist (known: ${[...watchlists.keys()].join(', ') || 'none'})`);
      if (list!.type === 'windows') err([...at, 'inWatchlist'], `"${cond.inWatchlist}" is a windows watchlist: use inWindow`);
      if (list!.type === 'cidrs') {
        const set = list!.set;
        preds.push((v) => set.has(v));
      } else if (list!.type === 'values') {
        const { set } = list!;
        const fold = list!.ignoreCase || ignoreCase;
        preds.push((v) => typeof v === 'string' && set.has(fold ? v.toLowerCase() : v));
      }
    }
    if (cond.equalsField !== undefined) {
      const other = path(cond.equalsField, [...at, 'equalsField']);
      if (other.fanOut) err([...at, 'equalsField'], 'cannot contain [] (compare with one value)');
      preds.push((v, ctx) => {
        const o = other.get(baseFor(other, ctx));
        if (o === undefined || o === null) return false;
        return ignoreCase && typeof v === 'string' && typeof o === 'string' ? v.toLowerCase() === o.toLowerCase() : v === o;
      });
    }
    preds.push(...sigmaValuePredicates(cond, at, path, err));
    return preds;
  }

  function compileField(cond: ConditionDoc, at: string[]): Cond {
    const field = path(cond.field!, [...at, 'field']);
    const ops = FIELD_OPERATORS.filter((op) => cond[op] !== undefined);
    if (ops.length === 0) err(at, `needs an operator (${FIELD_OPERATORS.join(', ')})`);
    if (
      cond.ignoreCase !== undefined &&
      !ops.some((op) => ['equals', 'in', 'prefix', 'suffix', 'contains', 'regex', 'inWatchlist', 'equalsField', 'wildcard'].includes(op))
    ) {
      err([...at, 'ignoreCase'], 'only applies to equals, in, prefix, suffix, contains, regex, inWatchlist, equalsField and wildcard');
    }
    if (cond.regexFlags !== undefined && cond.regex === undefined) err([...at, 'regexFlags'], 'only applies to regex');

    if (cond.exists !== undefined) {
      if (ops.length > 1) err([...at, 'exists'], 'cannot be combined with other operators');
      // null counts as absent: CloudTrail writes `"requestParameters": null` for calls without parameters.
      const present: ValuePred = (v) => v !== null;
      const want = cond.exists;
      return (ctx) => field.some(baseFor(field, ctx), present, ctx) === want;
    }
    if (cond.some !== undefined) {
      if (ops.length > 1) err([...at, 'some'], 'cannot be combined with other operators');
      const inner = compile(cond.some, [...at, 'some']);
      const visit: ValuePred = (element, ctx) => {
        const saved = ctx.scope;
        ctx.scope = element;
        const result = inner(ctx);
        ctx.scope = saved;
        return result;
      };
      return (ctx) => field.some(baseFor(field, ctx), visit, ctx);
    }

    const preds = valuePredicates(cond, at);
    let visit: ValuePred;
    if (preds.length === 1) visit = preds[0]!;
    else {
      visit = (v, ctx) => {
        for (let i = 0; i < preds.length; i++) if (!preds[i]!(v, ctx)) return false;
        return true;
      };
    }
    return (ctx) => field.some(baseFor(field, ctx), visit, ctx);
  }

  function compileWindowCondition(cond: ConditionDoc, at: string[]): Cond {
    const list = watchlists.get(cond.inWindow!);
    if (!list) err([...at, 'inWindow'], `names no watchlist (known: ${[...watchlists.keys()].join(', ') || 'none'})`);
    if (list!.type !== 'windows') err([...at, 'inWindow'], `"${cond.inWindow}" is a ${list!.type} watchlist, not windows`);
    const windows = (list as { windows: CompiledWindow[] }).windows;
    const field = cond.field !== undefined ? path(cond.field, [...at, 'field']) : undefined;
    return (ctx) => {
      if (windows.length === 0) return false;
      const t = eventEpoch(ctx);
      if (Number.isNaN(t)) return false;
      for (let i = 0; i < windows.length; i++) {
        const w = windows[i]!;
        if (t < w.start || t >= w.end) continue;
        if (w.days !== 0 || w.from !== undefined) {
          const local = w.clock.local(t);
          if (w.days !== 0 && (w.days & (1 << local.dayOfWeek)) === 0) continue;
          if (w.from !== undefined && !inClockRange(local.minuteOfDay, w.from, w.to!)) continue;
        }
        if (w.principals) {
          if (!field || !field.some(baseFor(field, ctx), w.principals, ctx)) continue;
        }
        return true;
      }
      return false;
    };
  }

  function compile(cond: ConditionDoc, at: string[]): Cond {
    if (cond.all !== undefined) {
      const parts = cond.all.map((c, i) => compile(c, [...at, 'all', String(i)]));
      if (parts.length === 1) return parts[0]!;
      return (ctx) => {
        for (let i = 0; i < parts.length; i++) if (!parts[i]!(ctx)) return false;
        return true;
      };
    }
    if (cond.any !== undefined) {
      const parts = cond.any.map((c, i) => compile(c, [...at, 'any', String(i)]));
      if (parts.length === 1) return parts[0]!;
      return (ctx) => {
        for (let i = 0; i < parts.length; i++) if (parts[i]!(ctx)) return true;
        return false;
      };
    }
    if (cond.not !== undefined) {
      const inner = compile(cond.not, [...at, 'not']);
      return (ctx) => !inner(ctx);
    }
    if (cond.inWindow !== undefined) return compileWindowCondition(cond, at);
    if (cond.field !== undefined) return compileField(cond, at);
    if (cond.timeOfDay !== undefined) {
      const from = parseClockTime(cond.timeOfDay.from);
      const to = parseClockTime(cond.timeOfDay.to);
      if (from === undefined) err([...at, 'timeOfDay', 'from'], 'must be HH:MM');
      if (to === undefined) err([...at, 'timeOfDay', 'to'], 'must be HH:MM');
      if (from === to) err([...at, 'timeOfDay'], 'from and to must differ');
      const clock = clockFor(cond.timezone, [...at, 'timezone']);
      return (ctx) => {
        const t = eventEpoch(ctx);
        return !Number.isNaN(t) && inClockRange(clock.local(t).minuteOfDay, from!, to!);
      };
    }
    if (cond.dayOfWeek !== undefined) {
      let mask = 0;
      for (const [i, name] of cond.dayOfWeek.entries()) {
        const day = parseDayName(name);
        if (day === undefined) err([...at, 'dayOfWeek', String(i)], `"${name}" is not a day name`);
        mask |= 1 << day!;
      }
      const clock = clockFor(cond.timezone, [...at, 'timezone']);
      return (ctx) => {
        const t = eventEpoch(ctx);
        return !Number.isNaN(t) && (mask & (1 << clock.local(t).dayOfWeek)) !== 0;
      };
    }
    return err(at, 'is not a condition');
  }

  function generate(cond: ConditionDoc, at: string[]): Cond {
    const k: unknown[] = [];
    const constant = (value: unknown): string => `k[${k.push(value) - 1}]`;
    const fallback = (c: ConditionDoc, where: string[]): string => `${constant(compile(c, where))}(c)`;

    function expr(c: ConditionDoc, where: string[]): string {
      if (c.all !== undefined) return `(${c.all.map((x, i) => expr(x, [...where, 'all', String(i)])).join(' && ')})`;
      if (c.any !== undefined) return `(${c.any.map((x, i) => expr(x, [...where, 'any', String(i)])).join(' || ')})`;
      if (c.not !== undefined) return `!${expr(c.not, [...where, 'not'])}`;
      if (c.field === undefined || c.inWindow !== undefined || c.some !== undefined || c.regexFlags !== undefined)
        return fallback(c, where);
      if (c.ignoreCase === true) {
        const folded = foldedStringTests(c, constant);
        if (folded === undefined) return fallback(c, where);
        const f = path(c.field, [...where, 'field']);
        if (f.fanOut) return fallback(c, where);
        // Sigma compares case-insensitively everywhere: lower-case the value once, compare with folded constants.
        return `(${readCode(f)}, typeof t === 'string' && (t = t.toLowerCase(), ${folded}))`;
      }
      const field = path(c.field, [...where, 'field']);
      if (field.fanOut) return fallback(c, where);
      const read = readCode(field);
      if (c.exists !== undefined) return `(${read}, ${c.exists ? '' : '!'}(t !== undefined && t !== null))`;
      const tests: string[] = [];
      for (const op of FIELD_OPERATORS) {
        const operand = c[op];
        if (operand === undefined) continue;
        switch (op) {
          case 'equals':
            tests.push(`t === ${constant(operand)}`);
            break;
          case 'in':
            tests.push(`${constant(new Set(operand as Scalar[]))}.has(t)`);
            break;
          case 'prefix':
          case 'suffix':
          case 'contains': {
            const method = op === 'prefix' ? 'startsWith' : op === 'suffix' ? 'endsWith' : 'includes';
            const list = toList(operand as string | string[]);
            tests.push(`typeof t === 'string' && (${list.map((x) => `t.${method}(${constant(x)})`).join(' || ')})`);
            break;
          }
          case 'gt':
          case 'gte':
          case 'lt':
          case 'lte': {
            const symbol = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
            tests.push(`typeof t === 'number' && t ${symbol} ${constant(operand)}`);
            break;
          }
          default: {
            // regex, cidr, inWatchlist, equalsField: the compiled predicate for this one operator.
            const [pred] = valuePredicates({ field: c.field, [op]: operand }, where);
            tests.push(`${constant(pred)}(t, c)`);
          }
        }
      }
      return `(${read}, t !== undefined && ${tests.join(' && ')})`;
    }

    const body = expr(cond, at);
    // new Function: see "Code generation, and why" above.
    const factory = new Function('k', 'A', 'H', `'use strict'; return function rule(c) { let t; return ${body}; };`) as (
      k: unknown[],
      isArray: (v: unknown) => boolean,
      hasOwn: (this: unknown, key: PropertyKey) => boolean,
    ) => Cond;
    return factory(k, Array.isArray, Object.prototype.hasOwnProperty);
  }

  return { compile, generate };
}

// ---------------------------------------------------------------------------------------------------
// Engine

interface CompiledRule {
  id: string;
  priority: Priority;
  rank: number;
  score: number;
  order: number;
  test: Cond;
  detail: CompiledTemplate;
  /** Lower-cased eventSource values the rule can possibly match; undefined = any (see {@link possibleFoldedValues}). */
  sources: Set<string> | undefined;
  attack: AttackDoc | undefined;
}

/**
 * The values of `field` (at the event root) a condition can possibly match, when the condition alone
 * proves it: `equals`/`in` on that field, at the top or under `all`/`any`. undefined = could be anything.
 * Used to index rules by eventName and eventSource, so an event is only tested against rules that can
 * match it: most rules are about one API call, and every event pays for every rule otherwise.
 */
export function possibleValues(cond: ConditionDoc, field: string): Set<string> | undefined {
  return possible(cond, field, false);
}

/**
 * {@link possibleValues} lower-cased, counting case-insensitive `equals`/`in` too: what the engine indexes
 * by (it looks events up by their lower-cased eventName and eventSource, so Sigma's case-insensitive
 * `eventName: ConsoleLogin` is indexed like an exact one; the rule's own test still decides).
 */
export function possibleFoldedValues(cond: ConditionDoc, field: string): Set<string> | undefined {
  return possible(cond, field, true);
}

function possible(cond: ConditionDoc, field: string, fold: boolean): Set<string> | undefined {
  if (cond.field !== undefined) {
    if ((cond.field !== field && cond.field !== `$.${field}`) || (cond.ignoreCase === true && !fold)) return undefined;
    const f = (v: string): string => (fold ? v.toLowerCase() : v);
    if (typeof cond.equals === 'string') return new Set([f(cond.equals)]);
    if (cond.in !== undefined && cond.in.every((v) => typeof v === 'string')) return new Set(cond.in.map(f));
    return undefined;
  }
  if (cond.all !== undefined) {
    let acc: Set<string> | undefined;
    for (const c of cond.all) {
      const values = possible(c, field, fold);
      if (values) acc = acc ? new Set([...acc].filter((v) => values.has(v))) : values;
    }
    return acc;
  }
  if (cond.any !== undefined) {
    const union = new Set<string>();
    for (const c of cond.any) {
      const values = possible(c, field, fold);
      if (!values) return undefined;
      for (const v of values) union.add(v);
    }
    return union;
  }
  return undefined;
}

function byPriorityThenScore(a: { rule: CompiledRule }, b: { rule: CompiledRule }): number {
  return b.rule.rank - a.rule.rank || b.rule.score - a.rule.score || a.rule.order - b.rule.order;
}

/** What a compiled engine knows about itself (for the CLI and logs). */
export interface RuleEngineInfo {
  readonly ruleIds: readonly string[];
  readonly disabled: readonly string[];
  readonly timezone: string;
  readonly watchlists: Readonly<Record<string, number>>;
}

export interface CompiledRuleEngine extends RuleEngine {
  readonly info: RuleEngineInfo;
}

/**
 * Validates `doc` (parsed YAML/JSON) and compiles it. Throws {@link RulesValidationError} naming the rule
 * (id and index) and the field on any structural or semantic error.
 *
 * Verdict: `score = clamp(Σ scores of matched rules, 0, 100)`; `priority = max(highest matched rule
 * priority, priorityFromScore(score))`; reasons sorted by priority, then score, then file order.
 */
export function compileRules(doc: unknown, options: CompileOptions = {}): CompiledRuleEngine {
  const source = options.source ?? 'rules';
  assertRulesDocument(doc, source);
  const rulesDoc = doc as RulesDocument;
  const fail = new Fail(source, doc, options.ruleSource);

  const timezone = options.timezone ?? rulesDoc.timezone ?? 'UTC';
  if (!isValidTimezone(timezone)) {
    if (options.timezone !== undefined)
      throw new RulesValidationError(`${source}: timezone "${timezone}" is not an IANA timezone known to this runtime`);
    fail.at(['timezone'], `"${timezone}" is not an IANA timezone known to this runtime`);
  }
  const clock = zonedClock(timezone);
  const watchlists = compileWatchlists(rulesDoc, options, fail, clock);

  const seen = new Map<string, number>();
  for (const [i, rule] of rulesDoc.rules.entries()) {
    const previous = seen.get(rule.id);
    if (previous !== undefined) fail.at(['rules', String(i), 'id'], `duplicates the id of rules[${previous}]`);
    seen.set(rule.id, i);
  }
  const disabled = new Set(options.disabledRules ?? []);
  for (const id of disabled) {
    if (!seen.has(id)) throw new RulesValidationError(`${source}: disabled rule "${id}" is not a rule id of this file`);
  }

  const compiled: CompiledRule[] = [];
  for (const [i, rule] of rulesDoc.rules.entries()) {
    // Disabled rules are still compiled so a mistake in them is found before someone re-enables them.
    const compiler = createConditionCompiler(fail, i, watchlists, clock);
    const reference = compiler.compile(rule.when, ['when']);
    // ajv (schema validation) needs code generation from strings too, so this is no new requirement.
    const test = options.codegen === false ? reference : compiler.generate(rule.when, ['when']);
    const template = compileTemplate(rule.reason);
    if (!template.ok) fail.at(['rules', String(i), 'reason'], template.error);
    if (rule.enabled === false || disabled.has(rule.id)) continue;
    compiled.push({
      id: rule.id,
      priority: rule.priority,
      rank: PRIORITY_RANK[rule.priority],
      score: rule.score,
      order: i,
      test,
      detail: (template as { ok: true; value: CompiledTemplate }).value,
      sources: options.index === false ? undefined : possibleFoldedValues(rule.when, 'eventSource'),
      attack: rule.attack ? Object.freeze({ tactics: [...rule.attack.tactics], techniques: [...rule.attack.techniques] }) : undefined,
    });
  }

  // Rules per (lower-cased) eventName: those that can only match certain names are listed under each of
  // them; the rest (no provable name) are in every list and in `anyName`, the list for names no rule
  // mentions. `byName` remembers the list for each exact name seen, so an event costs one Map lookup.
  const names = compiled.map((r) =>
    options.index === false ? undefined : possibleFoldedValues(rulesDoc.rules[r.order]!.when, 'eventName'),
  );
  const anyName = compiled.filter((_, i) => names[i] === undefined);
  const byFoldedName = new Map<string, CompiledRule[]>();
  for (const set of names) for (const name of set ?? []) byFoldedName.set(name, []);
  for (const [name, list] of byFoldedName) {
    for (const [i, rule] of compiled.entries()) if (names[i] === undefined || names[i].has(name)) list.push(rule);
  }
  const byName = new Map<string, CompiledRule[]>();
  // Bounded: event names come from AWS, but a forged record could carry any string.
  const MAX_REMEMBERED_NAMES = 4096;
  const candidatesFor = (name: string): CompiledRule[] => {
    let list = byName.get(name);
    if (list === undefined) {
      list = byFoldedName.get(name.toLowerCase()) ?? anyName;
      if (byName.size < MAX_REMEMBERED_NAMES) byName.set(name, list);
    }
    return list;
  };

  const idle: Enrichment = { version: 1, status: 'skipped' };
  const ctx: EvalContext = { event: {}, enrichment: idle, scope: undefined, epochMs: undefined };
  const matched: CompiledRule[] = [];

  const info: RuleEngineInfo = {
    ruleIds: compiled.map((r) => r.id),
    disabled: rulesDoc.rules.filter((r) => r.enabled === false || disabled.has(r.id)).map((r) => r.id),
    timezone,
    watchlists: Object.fromEntries(
      [...watchlists].map(([name, list]) => [name, list.type === 'windows' ? list.windows.length : list.set.size]),
    ),
  };

  return {
    info,
    evaluate(event: CloudTrailEvent, enrichment: Readonly<Enrichment>): Verdict {
      ctx.event = event;
      ctx.enrichment = enrichment;
      ctx.scope = event;
      ctx.epochMs = undefined;
      matched.length = 0;
      const name = ownValue(event, 'eventName');
      const source = ownValue(event, 'eventSource');
      const candidates = typeof name === 'string' ? candidatesFor(name) : anyName;
      let foldedSource: string | undefined;
      try {
        for (let i = 0; i < candidates.length; i++) {
          const rule = candidates[i]!;
          if (rule.sources !== undefined) {
            if (typeof source !== 'string') continue;
            foldedSource ??= source.toLowerCase();
            if (!rule.sources.has(foldedSource)) continue;
          }
          if (rule.test(ctx)) matched.push(rule);
        }
      } finally {
        // Drop references so a large event is not kept alive by the engine between invocations.
        ctx.event = idle as unknown as CloudTrailEvent;
        ctx.enrichment = idle;
        ctx.scope = undefined;
      }
      if (matched.length === 0) return { priority: 'LOW', risk: { score: 0, reasons: [] } };

      let sum = 0;
      let rank = 0;
      const scope = { event, enrichment };
      const entries = matched.map((rule) => ({ rule, detail: rule.detail(scope) }));
      for (const { rule } of entries) {
        sum += rule.score;
        if (rule.rank > rank) rank = rule.rank;
      }
      matched.length = 0;
      const score = Math.max(0, Math.min(100, sum));
      const fromScore = PRIORITY_RANK[priorityFromScore(score)];
      const priority = PRIORITIES[Math.max(rank, fromScore)]!;
      entries.sort(byPriorityThenScore);
      const reasons: RiskReason[] = entries.map(({ rule, detail }) =>
        rule.attack
          ? {
              rule: rule.id,
              priority: rule.priority,
              score: rule.score,
              detail,
              attack: { tactics: [...rule.attack.tactics], techniques: [...rule.attack.techniques] },
            }
          : { rule: rule.id, priority: rule.priority, score: rule.score, detail },
      );
      return { priority, risk: { score, reasons } };
    },
  };
}
