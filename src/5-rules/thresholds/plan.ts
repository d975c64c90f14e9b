/**
 * Threshold crossing plan (pure): which event of an invocation crosses a rule's threshold.
 *
 * A threshold rule's condition selects candidates; the candidates are grouped per invocation by counter key =
 * (rule id, by-values, fixed window bucket = floor(eventTime / within)). The store (store.ts) applies one atomic
 * update per key and returns the counter as it was before this invocation's update (UPDATED_OLD). From that old
 * value this plan knows which candidate of the group is the one that reaches `count`: that candidate matches, every
 * other candidate of the key is silent, and once the window has crossed it stays silent (later invocations, other
 * containers), because their old value is already ≥ count.
 *
 * Retries: a retried batch counts its events a second time (a counter cannot tell a retry from new traffic
 * without per-event state). The threshold may then cross early, but it never matches twice in a window: after
 * the crossing, the old value is ≥ count everywhere.
 */

import { createHash } from 'node:crypto';

/** Distinct values longer than this (UTF-8 bytes) are counted as their sha256 (values are compared, never shown). */
export const MAX_VALUE_BYTES = 256;

/** A distinct value as counted and stored: itself when short, else its hash. */
export function storedValue(value: string): string {
  return Buffer.byteLength(value, 'utf8') <= MAX_VALUE_BYTES ? value : `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

export interface ThresholdSpec {
  /** Events (or distinct values) that cross the threshold. */
  readonly count: number;
  /** Window length in milliseconds. */
  readonly withinMs: number;
  /** True when the rule counts distinct values (`distinct:`), false for plain event counts. */
  readonly distinct: boolean;
}

/** One event whose rule condition matched, waiting for the counter. */
export interface ThresholdCandidate {
  /** Caller's handle for the event (e.g. its index in the invocation). */
  readonly event: number;
  readonly ruleId: string;
  /** The by-values, already read from the event (field order as in the rule). */
  readonly by: readonly (string | null)[];
  /** Event time, epoch ms. */
  readonly time: number;
  /** The distinct value (distinct rules only; a candidate without a value is not counted). */
  readonly value?: string;
}

/** One update for the store: one per counter key per invocation. */
export interface CounterUpdate {
  readonly key: string;
  readonly ruleId: string;
  readonly count: number;
  /** Epoch seconds after which the counter is of no use (window end; the store adds its TTL margin). */
  readonly windowEndSec: number;
  /** Plain counters: events to add. */
  readonly add: number;
  /** Distinct counters: this invocation's values (as stored) in first-seen order, at most `count` of them (bounds the stored set). */
  readonly values?: readonly string[];
}

/** The counter before the update; 'crossed' when the store refused it because the window had already crossed. */
export type CounterOld = { readonly count: number } | { readonly values: ReadonlySet<string> } | 'crossed';

interface Group {
  readonly update: { key: string; ruleId: string; count: number; windowEndSec: number; add: number; values?: string[] };
  readonly members: ThresholdCandidate[];
}

export interface ThresholdPlan {
  readonly updates: readonly CounterUpdate[];
  /** Events (handles) waiting per counter key, in invocation order. */
  readonly members: ReadonlyMap<string, readonly ThresholdCandidate[]>;
}

/** The window bucket of an event time. */
export function windowBucket(time: number, withinMs: number): number {
  return Math.floor(time / withinMs);
}

/** The counter key: rule, window length and bucket, by-values (JSON, so values containing separators stay distinct). */
export function counterKey(ruleId: string, spec: ThresholdSpec, by: readonly (string | null)[], time: number): string {
  return `${ruleId}#${spec.withinMs}#${windowBucket(time, spec.withinMs)}#${JSON.stringify(by)}`;
}

/** Groups the candidates into one update per counter key. `specs` maps rule id → threshold. */
export function planUpdates(candidates: readonly ThresholdCandidate[], specs: ReadonlyMap<string, ThresholdSpec>): ThresholdPlan {
  const groups = new Map<string, Group>();
  for (const c of candidates) {
    const spec = specs.get(c.ruleId);
    if (spec === undefined) continue;
    if (spec.distinct && c.value === undefined) continue;
    const key = counterKey(c.ruleId, spec, c.by, c.time);
    let g = groups.get(key);
    if (g === undefined) {
      const bucket = windowBucket(c.time, spec.withinMs);
      const windowEndSec = Math.ceil(((bucket + 1) * spec.withinMs) / 1000);
      g = {
        update: { key, ruleId: c.ruleId, count: spec.count, windowEndSec, add: 0, ...(spec.distinct ? { values: [] } : {}) },
        members: [],
      };
      groups.set(key, g);
    }
    g.members.push(c);
    g.update.add++;
    const values = g.update.values;
    if (values !== undefined && values.length < spec.count) {
      const v = storedValue(c.value!);
      if (!values.includes(v)) values.push(v);
    }
  }
  const updates: CounterUpdate[] = [];
  const members = new Map<string, readonly ThresholdCandidate[]>();
  for (const [key, g] of groups) {
    updates.push(g.update);
    members.set(key, g.members);
  }
  return { updates, members };
}

/**
 * The candidate of one counter key that crosses the threshold, given the counter before this invocation's
 * update; undefined when none does (not reached yet, or crossed before).
 */
export function crossingEvent(
  update: CounterUpdate,
  members: readonly ThresholdCandidate[],
  old: CounterOld,
): ThresholdCandidate | undefined {
  if (old === 'crossed') return undefined;
  if ('count' in old) {
    if (old.count >= update.count) return undefined;
    const index = update.count - old.count - 1;
    return index < members.length ? members[index] : undefined;
  }
  if (old.values.size >= update.count) return undefined;
  const seen = new Set(old.values);
  for (const m of members) {
    if (m.value === undefined) continue;
    const v = storedValue(m.value);
    if (seen.has(v)) continue;
    seen.add(v);
    if (seen.size === update.count) return m;
  }
  return undefined;
}

export interface ThresholdOutcome {
  /** Candidates that cross their threshold: the rule matches these events. */
  readonly crossed: readonly ThresholdCandidate[];
  /** Events whose counter could not be updated (store failure or deadline): they go out `partial`, cause `threshold`. */
  readonly unavailable: ReadonlySet<number>;
}

/** Resolves a plan against the store's answers (per key: the old counter, or an error). */
export function resolvePlan(
  plan: ThresholdPlan,
  answers: ReadonlyMap<string, { ok: true; value: CounterOld } | { ok: false; error: string }>,
): ThresholdOutcome {
  const crossed: ThresholdCandidate[] = [];
  const unavailable = new Set<number>();
  for (const update of plan.updates) {
    const members = plan.members.get(update.key) ?? [];
    const answer = answers.get(update.key);
    if (answer === undefined || !answer.ok) {
      for (const m of members) unavailable.add(m.event);
      continue;
    }
    const hit = crossingEvent(update, members, answer.value);
    if (hit !== undefined) crossed.push(hit);
  }
  return { crossed, unavailable };
}
