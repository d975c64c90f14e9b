/**
 * The condition interpreter: validates a rule's condition and compiles it into a tree of closures. This is
 * the reference implementation; the code generator (codegen.ts) turns the common conditions into one
 * function per rule and calls back into these closures for everything else.
 *
 * Structure (`all`, `any`, `not`), window and time conditions live here; field conditions dispatch to the
 * operator table (operators.ts).
 */
import { baseFor, eventEpoch, type Cond, type ValuePred } from './context.ts';
import {
  MODIFIER_NAMES,
  OPERATOR_NAMES,
  OPERATORS_WITH,
  operatorOf,
  operatorsIn,
  type ConditionDoc,
  type FieldModifiers,
  type OperatorScope,
} from './operators.ts';
import { parseFieldPath, type FieldPath } from './path.ts';
import { inClockRange, isValidTimezone, parseClockTime, parseDayName, zonedClock, type ZonedClock } from './time.ts';
import type { Fail } from './validate.ts';
import type { CompiledWatchlist, CompiledWindow } from './watchlists.ts';

export interface ConditionInterpreter {
  /** Validates and compiles a condition into a tree of closures. */
  compile(cond: ConditionDoc, at: string[]): Cond;
  /** The scope the operators of the field condition `cond` (at `at`) compile in. */
  scope(cond: FieldModifiers, at: string[]): OperatorScope;
  /** Parses a field path written at `at`, or throws. */
  path(text: string, at: string[]): FieldPath;
}

/** "a", "a and b", "a, b and c". */
function listText(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The interpreter for the condition of `rules[ruleIndex]`. */
export function createInterpreter(
  fail: Fail,
  ruleIndex: number,
  watchlists: ReadonlyMap<string, CompiledWatchlist>,
  defaultClock: ZonedClock,
): ConditionInterpreter {
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

  const scope = (cond: FieldModifiers, at: string[]): OperatorScope => ({
    at,
    ignoreCase: cond.ignoreCase === true,
    regexFlags: cond.regexFlags,
    watchlists,
    err,
    path,
    compile,
  });

  function compileField(cond: ConditionDoc, at: string[]): Cond {
    const field = path(cond.field!, [...at, 'field']);
    const ops = operatorsIn(cond);
    if (ops.length === 0) err(at, `needs an operator (${OPERATOR_NAMES.join(', ')})`);
    for (const m of MODIFIER_NAMES) {
      if (cond[m] !== undefined && !ops.some((op) => OPERATORS_WITH[m].includes(op)))
        err([...at, m], `only applies to ${listText(OPERATORS_WITH[m])}`);
    }
    const o = scope(cond, at);

    const whole = ops.find((op) => operatorOf(op).kind === 'field');
    if (whole !== undefined) {
      if (ops.length > 1) err([...at, whole], 'cannot be combined with other operators');
      const entry = operatorOf(whole);
      if (entry.kind === 'field') return entry.condition(cond[whole], field, o);
    }

    const preds: ValuePred[] = [];
    for (const op of ops) {
      const entry = operatorOf(op);
      if (entry.kind === 'value') preds.push(entry.predicate(cond[op], o));
    }
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

  return { compile, scope, path };
}
