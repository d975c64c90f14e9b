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
 * An operator with no generated form (regex, cidr, inWatchlist, …: no `code` in its table entry) is a call
 * of its compiled predicate; anything that is not a field condition on a plain path (`[]` paths, `some`,
 * time and window conditions, ignoreCase on an operator without `foldedCode`) calls the closure compiled
 * by the interpreter, so both paths share one implementation of the subtle parts.
 */
import type { Cond } from './context.ts';
import type { ConditionInterpreter } from './interpret.ts';
import { operatorOf, operatorsIn, type ConditionDoc, type Constant } from './operators.ts';
import { StepKind, type FieldPath } from './path.ts';

const SAFE_KEY = /^[A-Za-z0-9_$@:-]+$/;

/** Code that leaves the value at `path` (no `[]`) in `t`. */
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

/** Compiles an already validated condition (see `interpreter.compile`) into one generated function. */
export function generateCondition(cond: ConditionDoc, at: string[], interpreter: ConditionInterpreter): Cond {
  const k: unknown[] = [];
  const constant: Constant = (value) => `k[${k.push(value) - 1}]`;
  const fallback = (c: ConditionDoc, where: string[]): string => `${constant(interpreter.compile(c, where))}(c)`;

  function expr(c: ConditionDoc, where: string[]): string {
    if (c.all !== undefined) return `(${c.all.map((x, i) => expr(x, [...where, 'all', String(i)])).join(' && ')})`;
    if (c.any !== undefined) return `(${c.any.map((x, i) => expr(x, [...where, 'any', String(i)])).join(' || ')})`;
    if (c.not !== undefined) return `!${expr(c.not, [...where, 'not'])}`;
    if (c.field === undefined || c.inWindow !== undefined) return fallback(c, where);
    const ops = operatorsIn(c).map((name) => ({ name, entry: operatorOf(name) }));
    if (ops.some(({ entry }) => entry.kind === 'field' && entry.code === undefined)) return fallback(c, where);
    if (c.ignoreCase === true && !ops.every(({ entry }) => entry.kind === 'value' && entry.foldedCode !== undefined))
      return fallback(c, where);
    const field = interpreter.path(c.field, [...where, 'field']);
    if (field.fanOut) return fallback(c, where);
    const read = readCode(field);

    if (c.ignoreCase === true) {
      const tests: string[] = [];
      for (const { name, entry } of ops) {
        const test = entry.kind === 'value' ? entry.foldedCode?.(c[name], constant) : undefined;
        if (test === undefined) return fallback(c, where);
        tests.push(test);
      }
      // Sigma compares case-insensitively everywhere: lower-case the value once, compare with folded constants.
      return `(${read}, typeof t === 'string' && (t = t.toLowerCase(), ${tests.join(' && ')}))`;
    }

    const whole = ops.find(({ entry }) => entry.kind === 'field');
    if (whole !== undefined && whole.entry.kind === 'field') return `(${read}, ${whole.entry.code!(c[whole.name])})`;
    const o = interpreter.scope(c, where);
    const tests: string[] = [];
    for (const { name, entry } of ops) {
      if (entry.kind !== 'value') continue;
      // An operator without generated code: a call of its compiled predicate.
      tests.push(entry.code ? entry.code(c[name], constant) : `${constant(entry.predicate(c[name], o))}(t, c)`);
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
