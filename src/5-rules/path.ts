/**
 * Field paths used by rules: `userIdentity.type`, `enrichment.source.geo.countryCode`,
 * `requestParameters.ipPermissions.items[].ipRanges.items[].cidrIp`.
 *
 * A path is split once, at compile time, into steps. Reading it walks own properties only: CloudTrail
 * events are attacker-influenced JSON, so a key such as `__proto__` or `constructor` must resolve to the
 * event's own data (when present) and never to `Object.prototype`.
 *
 * Syntax (one segment per `.`):
 * - `name`      an own property of an object
 * - `name[]`    every element of the array at `name` ("any element"); a non-array value counts as a
 *               one-element list, because CloudTrail renders single-element XML lists as a bare object
 * - `name[N]`   element N of the array at `name`
 * Roots: `enrichment.` reads the enrichment; `$.` reads the event root even inside a `some` scope;
 * anything else is relative to the current scope (the event, or the element inside `some`).
 */

export type PathRoot = 'scope' | 'event' | 'enrichment';

export const StepKind = { Key: 0, Each: 1, Index: 2 } as const;
export type StepKind = (typeof StepKind)[keyof typeof StepKind];

export interface Step {
  readonly kind: StepKind;
  readonly key: string;
  readonly index: number;
  /** The key names no property of Object.prototype, so a plain read can only find an own property. */
  readonly plain: boolean;
}

/** Keys a plain read could resolve on Object.prototype (constructor, toString, __proto__, …). */
function isPrototypeKey(key: string): boolean {
  return key === '__proto__' || key in Object.prototype;
}

/**
 * Reads `key` of an object (not an array). For keys that Object.prototype does not have, a plain read is
 * already own-only and much cheaper than hasOwnProperty (rules read a dozen keys of every event); for
 * the others the own check is kept.
 */
function readStep(value: unknown, step: Step): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (step.plain) return (value as Record<string, unknown>)[step.key];
  return hasOwn.call(value, step.key) ? (value as Record<string, unknown>)[step.key] : undefined;
}

/** The value visitor: returns true to stop the walk ("found"). */
export type Visitor<C> = (value: unknown, ctx: C) => boolean;

export interface FieldPath {
  /** The path as written in the rules file. */
  readonly text: string;
  readonly root: PathRoot;
  /** True when the path contains `[]`, i.e. it can yield several values. */
  readonly fanOut: boolean;
  /** The parsed steps (for the code generator in codegen.ts). */
  readonly steps: readonly Step[];
  /** The single value at the path (undefined when absent). Only for paths without `[]`. */
  get(base: unknown): unknown;
  /** Calls `visit` for each value at the path until it returns true; returns whether one did. */
  some<C>(base: unknown, visit: Visitor<C>, ctx: C): boolean;
}

const SEGMENT = /^([A-Za-z0-9_$@:-]+)(?:\[(\d*)\])?$/;

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Own-property read that never reaches a prototype; undefined for non-objects, arrays (address their
 * elements with `[]` or `[N]`; an array's own `length` is not event data) and missing keys.
 */
export function ownValue(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return hasOwn.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

function elementAt(value: unknown, index: number): unknown {
  if (!Array.isArray(value)) return undefined;
  return index < value.length ? (value[index] as unknown) : undefined;
}

/** Parses a field path; returns an error message instead of throwing so callers can name the rule. */
export function parseFieldPath(text: string): { ok: true; value: FieldPath } | { ok: false; error: string } {
  if (typeof text !== 'string' || text.length === 0) return { ok: false, error: 'field path must be a non-empty string' };
  if (text.length > 512) return { ok: false, error: 'field path is longer than 512 characters' };
  let root: PathRoot = 'scope';
  let rest = text;
  if (text === 'enrichment' || text.startsWith('enrichment.')) {
    root = 'enrichment';
    rest = text.slice('enrichment'.length + 1);
  } else if (text === '$' || text.startsWith('$.')) {
    root = 'event';
    rest = text.slice(2);
  }
  const steps: Step[] = [];
  if (rest.length > 0) {
    for (const segment of rest.split('.')) {
      const m = SEGMENT.exec(segment);
      if (!m) return { ok: false, error: `invalid segment "${segment}" in field path "${text}" (expected name, name[] or name[N])` };
      const key = m[1]!;
      steps.push({ kind: StepKind.Key, key, index: 0, plain: !isPrototypeKey(key) });
      const bracket = m[2];
      if (bracket === '') steps.push({ kind: StepKind.Each, key: '', index: 0, plain: false });
      else if (bracket !== undefined) steps.push({ kind: StepKind.Index, key: '', index: Number(bracket), plain: false });
    }
  }
  const fanOut = steps.some((s) => s.kind === StepKind.Each);
  const n = steps.length;

  function walk<C>(value: unknown, i: number, visit: Visitor<C>, ctx: C): boolean {
    for (; i < n; i++) {
      const step = steps[i]!;
      if (step.kind === StepKind.Key) value = readStep(value, step);
      else if (step.kind === StepKind.Index) value = elementAt(value, step.index);
      else {
        if (value === undefined) return false;
        if (!Array.isArray(value)) continue; // a bare value is a one-element list
        for (let j = 0; j < value.length; j++) {
          if (walk(value[j] as unknown, i + 1, visit, ctx)) return true;
        }
        return false;
      }
      if (value === undefined) return false;
    }
    return visit(value, ctx);
  }

  const path: FieldPath = {
    text,
    root,
    fanOut,
    steps,
    get(base: unknown): unknown {
      let value = base;
      for (let i = 0; i < n && value !== undefined; i++) {
        const step = steps[i]!;
        value = step.kind === StepKind.Key ? readStep(value, step) : elementAt(value, step.index);
      }
      return value;
    },
    some<C>(base: unknown, visit: Visitor<C>, ctx: C): boolean {
      if (!fanOut) {
        const value = path.get(base);
        return value === undefined ? false : visit(value, ctx);
      }
      return walk(base, 0, visit, ctx);
    },
  };
  return { ok: true, value: path };
}
