/**
 * The operator table: every operator of a field condition (`{ field: <path>, <operator>: <operand> }`) is one
 * entry of {@link OPERATORS}, and everything else reads it:
 * - the condition document type ({@link ConditionDoc}: one optional key per entry, typed by its operand);
 * - the interpreter (interpret.ts): which keys are operators, their order, the "needs an operator" and
 *   "only applies to" messages, each entry's `predicate` / `condition` (the reference implementation);
 * - the code generator (codegen.ts): each entry's `code` / `foldedCode`, or a call of its predicate;
 * - the tests (test/unit/5-rules/operators.test.ts): the rules JSON Schema's and docs/rules.md's operators
 *   are the table's keys, the Sigma translation names only table entries, and generated code agrees with
 *   the predicates for every entry.
 *
 * A new operator is one entry here plus its line under `fieldCondition` in rules/rules.schema.json (then
 * `npm run build:rules`); document it in docs/rules.md and give it sample operands in that test.
 */
import { baseFor, type Cond, type ValuePred } from './context.ts';
import { compileIpSet } from './ip-set.ts';
import type { FieldPath } from './path.ts';
import type { ClockRangeDoc } from './time.ts';
import type { CompiledWatchlist } from './watchlists.ts';
import { compileWildcard } from './wildcard.ts';

export type Scalar = string | number | boolean | null;

/** Keys of a field condition that change how its operators compare; each entry lists those it honours. */
export interface FieldModifiers {
  ignoreCase?: boolean;
  /** Flags for `regex`: any of i, m, s (Sigma's re|i, re|m, re|s). */
  regexFlags?: string;
}

export type ModifierName = keyof FieldModifiers;

/** What an operator compiles in: where its condition is, the condition's modifiers, the compiler's services. */
export interface OperatorScope {
  /** The condition's location inside the rule (`['when', 'all', '0']`), for errors. */
  readonly at: string[];
  readonly ignoreCase: boolean;
  readonly regexFlags: string | undefined;
  readonly watchlists: ReadonlyMap<string, CompiledWatchlist>;
  /** Throws RulesValidationError naming the rule and the field at `at`. */
  err(at: readonly string[], message: string): never;
  /** Parses a field path written at `at`, or throws. */
  path(text: string, at: string[]): FieldPath;
  /** Compiles a nested condition (the operand of `some`). */
  compile(cond: ConditionDoc, at: string[]): Cond;
}

/** Puts a value into the generated function's constants; returns the expression that reads it (`k[3]`). */
export type Constant = (value: unknown) => string;

/** An operator on each value the field's path reaches (a `[]` path matches when any value does). */
export interface ValueOperator<T> {
  readonly kind: 'value';
  /** The modifiers it honours (ignoreCase support, regexFlags). */
  readonly modifiers: readonly ModifierName[];
  /** Validates the operand and compiles it into a test of one value: the reference implementation. */
  predicate(operand: T, o: OperatorScope): ValuePred;
  /** Generated code testing `t`, a value that is not undefined. Without it, the code calls `predicate`. */
  code?(operand: T, constant: Constant): string;
  /**
   * Generated code testing `t`, the lower-cased string value, when the condition has `ignoreCase: true`;
   * undefined when it cannot. Without it (or undefined), the whole condition runs as closures.
   */
  foldedCode?(operand: T, constant: Constant): string | undefined;
}

/** An operator on the field as a whole (`exists`, `some`); it is the only operator of its condition. */
export interface FieldOperator<T> {
  readonly kind: 'field';
  readonly modifiers: readonly ModifierName[];
  /** Validates the operand and compiles the whole condition: the reference implementation. */
  condition(operand: T, field: FieldPath, o: OperatorScope): Cond;
  /** Generated code testing `t`, the value at the path (possibly undefined). Without it, a closure runs. */
  code?(operand: T): string;
}

const valueOperator = <T>(spec: Omit<ValueOperator<T>, 'kind'>): ValueOperator<T> => ({ kind: 'value', ...spec });
const fieldOperator = <T>(spec: Omit<FieldOperator<T>, 'kind'>): FieldOperator<T> => ({ kind: 'field', ...spec });

function toList(value: string | string[]): string[] {
  return typeof value === 'string' ? [value] : value;
}

/**
 * Heuristic guard against catastrophic backtracking: regexes run on attacker-controlled strings, so a
 * quantified group that itself ends in a quantifier (`(a+)+`, `(\w*)*`, `(x|y+){2,}`) is refused.
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:\?)?\)(?:[+*]|\{\d+,\d*\})/;

/**
 * Longest attacker string a regex, a wildcard or the account-id search is applied to; longer values are
 * tested on their first part only.
 */
const MAX_REGEX_INPUT = 8192;

const ACCOUNT_ID = /(?<!\d)\d{12}(?!\d)/g;

/** The RegExp flags for a `regex` condition: ignoreCase adds `i`; regexFlags adds any of `i`, `m`, `s`. */
function regexFlagsOf(o: OperatorScope): string {
  const flags = new Set<string>(o.ignoreCase ? ['i'] : []);
  if (o.regexFlags !== undefined) {
    for (const f of o.regexFlags) {
      if (f !== 'i' && f !== 'm' && f !== 's') o.err([...o.at, 'regexFlags'], `"${f}" is not one of the flags i, m, s`);
      flags.add(f);
    }
  }
  return [...flags].sort().join('');
}

/** prefix / suffix / contains: the string value starts with, ends with or contains one of the operands. */
function stringPosition(
  method: 'startsWith' | 'endsWith' | 'includes',
  test: (s: string, x: string) => boolean,
): ValueOperator<string | string[]> {
  return valueOperator<string | string[]>({
    modifiers: ['ignoreCase'],
    predicate(operand, o) {
      const ignoreCase = o.ignoreCase;
      const list = toList(operand).map((x) => (ignoreCase ? x.toLowerCase() : x));
      return (v) => {
        if (typeof v !== 'string') return false;
        const s = ignoreCase ? v.toLowerCase() : v;
        for (let i = 0; i < list.length; i++) if (test(s, list[i]!)) return true;
        return false;
      };
    },
    code: (operand, constant) =>
      `typeof t === 'string' && (${toList(operand)
        .map((x) => `t.${method}(${constant(x)})`)
        .join(' || ')})`,
    foldedCode: (operand, constant) =>
      `(${toList(operand)
        .map((x) => `t.${method}(${constant(x.toLowerCase())})`)
        .join(' || ')})`,
  });
}

/**
 * The field operators, in the order a condition's operators are compiled and tested (and listed in the
 * "needs an operator" message).
 */
export const OPERATORS = {
  equals: valueOperator<Scalar>({
    modifiers: ['ignoreCase'],
    predicate(expected, o) {
      if (o.ignoreCase && typeof expected === 'string') {
        const lower = expected.toLowerCase();
        return (v) => typeof v === 'string' && v.toLowerCase() === lower;
      }
      return (v) => v === expected;
    },
    code: (expected, constant) => `t === ${constant(expected)}`,
    foldedCode: (expected, constant) => (typeof expected === 'string' ? `t === ${constant(expected.toLowerCase())}` : undefined),
  }),
  in: valueOperator<Scalar[]>({
    modifiers: ['ignoreCase'],
    predicate(values, o) {
      const ignoreCase = o.ignoreCase;
      const set = new Set<Scalar>(values.map((v) => (ignoreCase && typeof v === 'string' ? v.toLowerCase() : v)));
      return ignoreCase ? (v) => set.has(typeof v === 'string' ? v.toLowerCase() : (v as Scalar)) : (v) => set.has(v as Scalar);
    },
    code: (values, constant) => `${constant(new Set(values))}.has(t)`,
    foldedCode: (values, constant) =>
      values.every((v) => typeof v === 'string') ? `${constant(new Set(values.map((v) => v.toLowerCase())))}.has(t)` : undefined,
  }),
  prefix: stringPosition('startsWith', (s, x) => s.startsWith(x)),
  suffix: stringPosition('endsWith', (s, x) => s.endsWith(x)),
  contains: stringPosition('includes', (s, x) => s.includes(x)),
  regex: valueOperator<string>({
    modifiers: ['ignoreCase', 'regexFlags'],
    predicate(source, o) {
      let re: RegExp;
      try {
        re = new RegExp(source, regexFlagsOf(o));
      } catch (error) {
        return o.err([...o.at, 'regex'], `is not a valid regular expression: ${(error as Error).message}`);
      }
      if (NESTED_QUANTIFIER.test(source))
        o.err([...o.at, 'regex'], 'has a nested quantifier such as (a+)+, which can backtrack catastrophically');
      return (v) => typeof v === 'string' && re.test(v.length > MAX_REGEX_INPUT ? v.slice(0, MAX_REGEX_INPUT) : v);
    },
  }),
  exists: fieldOperator<boolean>({
    modifiers: [],
    condition(want, field) {
      // null counts as absent: CloudTrail writes `"requestParameters": null` for calls without parameters.
      const present: ValuePred = (v) => v !== null;
      return (ctx) => field.some(baseFor(field, ctx), present, ctx) === want;
    },
    code: (want) => `${want ? '' : '!'}(t !== undefined && t !== null)`,
  }),
  gt: valueOperator<number>({
    modifiers: [],
    predicate: (x) => (v) => typeof v === 'number' && v > x,
    code: (x, constant) => `typeof t === 'number' && t > ${constant(x)}`,
  }),
  gte: valueOperator<number>({
    modifiers: [],
    predicate: (x) => (v) => typeof v === 'number' && v >= x,
    code: (x, constant) => `typeof t === 'number' && t >= ${constant(x)}`,
  }),
  lt: valueOperator<number>({
    modifiers: [],
    predicate: (x) => (v) => typeof v === 'number' && v < x,
    code: (x, constant) => `typeof t === 'number' && t < ${constant(x)}`,
  }),
  lte: valueOperator<number>({
    modifiers: [],
    predicate: (x) => (v) => typeof v === 'number' && v <= x,
    code: (x, constant) => `typeof t === 'number' && t <= ${constant(x)}`,
  }),
  cidr: valueOperator<string | string[]>({
    modifiers: [],
    predicate(operand, o) {
      const set = compileIpSet(toList(operand));
      if (!set.ok) return o.err(typeof operand === 'string' ? [...o.at, 'cidr'] : [...o.at, 'cidr', String(set.index)], set.error);
      const ips = set.value;
      return (v) => ips.has(v);
    },
  }),
  inWatchlist: valueOperator<string>({
    modifiers: ['ignoreCase'],
    predicate(name, o) {
      const list = o.watchlists.get(name);
      if (!list) return o.err([...o.at, 'inWatchlist'], `names no watchlist (known: ${[...o.watchlists.keys()].join(', ') || 'none'})`);
      if (list.type === 'windows') return o.err([...o.at, 'inWatchlist'], `"${name}" is a windows watchlist: use inWindow`);
      if (list.type === 'cidrs') {
        const set = list.set;
        return (v) => set.has(v);
      }
      const { set } = list;
      const fold = list.ignoreCase || o.ignoreCase;
      return (v) => typeof v === 'string' && set.has(fold ? v.toLowerCase() : v);
    },
  }),
  equalsField: valueOperator<string>({
    modifiers: ['ignoreCase'],
    predicate(text, o) {
      const other = o.path(text, [...o.at, 'equalsField']);
      if (other.fanOut) o.err([...o.at, 'equalsField'], 'cannot contain [] (compare with one value)');
      const ignoreCase = o.ignoreCase;
      return (v, ctx) => {
        const x = other.get(baseFor(other, ctx));
        if (x === undefined || x === null) return false;
        return ignoreCase && typeof v === 'string' && typeof x === 'string' ? v.toLowerCase() === x.toLowerCase() : v === x;
      };
    },
  }),
  some: fieldOperator<ConditionDoc>({
    modifiers: [],
    condition(inner, field, o) {
      const test = o.compile(inner, [...o.at, 'some']);
      const visit: ValuePred = (element, ctx) => {
        const saved = ctx.scope;
        ctx.scope = element;
        const result = test(ctx);
        ctx.scope = saved;
        return result;
      };
      return (ctx) => field.some(baseFor(field, ctx), visit, ctx);
    },
  }),
  /**
   * Sigma's pattern syntax (wildcard.ts), matched against the whole value, honouring ignoreCase; no regex,
   * so a hostile value cannot make it backtrack.
   */
  wildcard: valueOperator<string | string[]>({
    modifiers: ['ignoreCase'],
    predicate(operand, o) {
      const tests = toList(operand).map((p) => compileWildcard(p, o.ignoreCase));
      return (v) => {
        if (typeof v !== 'string') return false;
        const s = v.length > MAX_REGEX_INPUT ? v.slice(0, MAX_REGEX_INPUT) : v;
        for (let i = 0; i < tests.length; i++) if (tests[i]!(s)) return true;
        return false;
      };
    },
  }),
  /**
   * The value names a 12-digit AWS account id other than the value at the operand's path (a trust or
   * resource policy, a replication destination that reaches outside the account). A missing or empty
   * reference never matches.
   */
  otherAccountThan: valueOperator<string>({
    modifiers: [],
    predicate(text, o) {
      const other = o.path(text, [...o.at, 'otherAccountThan']);
      if (other.fanOut) o.err([...o.at, 'otherAccountThan'], 'cannot contain [] (compare with one value)');
      return (v, ctx) => {
        if (typeof v !== 'string' && typeof v !== 'number') return false;
        const own = other.get(baseFor(other, ctx));
        if (typeof own !== 'string' || own === '') return false;
        const text = String(v);
        const found = text.length > MAX_REGEX_INPUT ? text.slice(0, MAX_REGEX_INPUT).match(ACCOUNT_ID) : text.match(ACCOUNT_ID);
        if (found === null) return false;
        for (const id of found) if (id !== own) return true;
        return false;
      };
    },
  }),
};

export type OperatorName = keyof typeof OPERATORS;

/** The operator names in table order. */
export const OPERATOR_NAMES = Object.keys(OPERATORS) as OperatorName[];

type OperandOf<O> = O extends ValueOperator<infer T> ? T : O extends FieldOperator<infer T> ? T : never;

/** One optional key per operator, typed by its operand. */
export type FieldOperands = { [K in OperatorName]?: OperandOf<(typeof OPERATORS)[K]> };

/** A condition: `all` / `any` / `not`, a field condition (operators of the table), a window or a time condition. */
export interface ConditionDoc extends FieldOperands, FieldModifiers {
  all?: ConditionDoc[];
  any?: ConditionDoc[];
  not?: ConditionDoc;
  field?: string;
  inWindow?: string;
  timeOfDay?: ClockRangeDoc;
  dayOfWeek?: string[];
  timezone?: string;
}

/** An entry with its operand type erased, for code that dispatches by name (passing the operand of that name). */
export type AnyOperator = ValueOperator<unknown> | FieldOperator<unknown>;

export function operatorOf(name: OperatorName): AnyOperator {
  return OPERATORS[name];
}

/** The operators a condition uses, in table order. */
export function operatorsIn(cond: ConditionDoc): OperatorName[] {
  return OPERATOR_NAMES.filter((op) => cond[op] !== undefined);
}

const honouring = (m: ModifierName): readonly OperatorName[] => OPERATOR_NAMES.filter((op) => OPERATORS[op].modifiers.includes(m));

/** For each modifier, the operators that honour it (named in its "only applies to" message). */
export const OPERATORS_WITH: Readonly<Record<ModifierName, readonly OperatorName[]>> = {
  ignoreCase: honouring('ignoreCase'),
  regexFlags: honouring('regexFlags'),
};

/** Every modifier, in the order their "only applies to" errors are checked. */
export const MODIFIER_NAMES = Object.keys(OPERATORS_WITH) as ModifierName[];
