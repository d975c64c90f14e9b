/**
 * The indexed engine: compiled rules, indexed by the eventName and eventSource values their conditions can
 * possibly match, evaluated per event into a {@link Verdict} (priority, score, reasons).
 *
 * Evaluation runs closures or generated functions over the event with no parsing and little allocation (a
 * reused context object; a reasons array only when a rule matched).
 */
import type { CloudTrailEvent, Enrichment, Priority, RiskReason, Verdict } from '../model.ts';
import type { Cond, EvalContext } from './context.ts';
import type { AttackDoc, ConditionDoc } from './documents.ts';
import type { CompiledTemplate } from './interpolate.ts';
import { ownValue } from './path.ts';
import { readValue, type CompiledThreshold } from './thresholds/compile.ts';
import type { RuleEngine, ThresholdHit } from './types.ts';

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

/** A rule ready for the engine: its compiled test and reason, and the condition it was compiled from. */
export interface EngineRule {
  id: string;
  priority: Priority;
  score: number;
  /** Index in the rules document (the tie-break of the reasons' order). */
  order: number;
  when: ConditionDoc;
  test: Cond;
  detail: CompiledTemplate;
  attack: AttackDoc | undefined;
  /** Set for threshold rules: a match is only a candidate, counted by the pipeline (thresholds/). */
  threshold?: CompiledThreshold;
}

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
  threshold: CompiledThreshold | undefined;
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
  /** Threshold rules: id → count, window (ms) and whether distinct values are counted. */
  readonly thresholds?: ReadonlyMap<string, { count: number; withinMs: number; distinct: boolean }>;
}

export interface CompiledRuleEngine extends RuleEngine {
  readonly info: RuleEngineInfo;
  withThresholds(verdict: Verdict, event: CloudTrailEvent, enrichment: Readonly<Enrichment>, crossed: readonly string[]): Verdict;
}

/**
 * The engine over `rules` (the enabled ones, in document order). `index: false` tests every rule against
 * every event (only to test that the index changes nothing).
 *
 * Verdict: `score = clamp(Σ scores of matched rules, 0, 100)`; `priority = max(highest matched rule
 * priority, priorityFromScore(score))`; reasons sorted by priority, then score, then file order.
 */
export function createEngine(rules: readonly EngineRule[], info: RuleEngineInfo, options: { index: boolean }): CompiledRuleEngine {
  const compiled: CompiledRule[] = rules.map((rule) => ({
    id: rule.id,
    priority: rule.priority,
    rank: PRIORITY_RANK[rule.priority],
    score: rule.score,
    order: rule.order,
    test: rule.test,
    detail: rule.detail,
    sources: options.index ? possibleFoldedValues(rule.when, 'eventSource') : undefined,
    attack: rule.attack,
    threshold: rule.threshold,
  }));
  const byId = new Map(compiled.map((r) => [r.id, r]));

  // Rules per (lower-cased) eventName: those that can only match certain names are listed under each of
  // them; the rest (no provable name) are in every list and in `anyName`, the list for names no rule
  // mentions. `byName` remembers the list for each exact name seen, so an event costs one Map lookup.
  const names = rules.map((r) => (options.index ? possibleFoldedValues(r.when, 'eventName') : undefined));
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

  return {
    info,
    evaluate(event: CloudTrailEvent, enrichment: Readonly<Enrichment>, hits?: ThresholdHit[]): Verdict {
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
          if (!rule.test(ctx)) continue;
          if (rule.threshold === undefined) matched.push(rule);
          else if (hits !== undefined) {
            const t = rule.threshold;
            const value = t.distinct === undefined ? undefined : readValue(t.distinct, event, enrichment);
            // An event without the distinct value adds no value to count.
            if (t.distinct === undefined || value !== null)
              hits.push({ rule: rule.id, by: t.by.map((p) => readValue(p, event, enrichment)), value: value ?? undefined });
          }
        }
      } finally {
        // Drop references so a large event is not kept alive by the engine between invocations.
        ctx.event = idle as unknown as CloudTrailEvent;
        ctx.enrichment = idle;
        ctx.scope = undefined;
      }
      const verdict = verdictOf(matched, event, enrichment);
      matched.length = 0;
      return verdict;
    },
    withThresholds(verdict: Verdict, event: CloudTrailEvent, enrichment: Readonly<Enrichment>, crossed: readonly string[]): Verdict {
      const rules: CompiledRule[] = [];
      for (const reason of verdict.risk.reasons) {
        const rule = byId.get(reason.rule);
        if (rule !== undefined) rules.push(rule);
      }
      for (const id of crossed) {
        const rule = byId.get(id);
        if (rule?.threshold !== undefined && !rules.includes(rule)) rules.push(rule);
      }
      return rules.length === verdict.risk.reasons.length ? verdict : verdictOf(rules, event, enrichment);
    },
  };
}

/** The verdict of the matched rules (see {@link createEngine}). */
function verdictOf(matched: readonly CompiledRule[], event: CloudTrailEvent, enrichment: Readonly<Enrichment>): Verdict {
  if (matched.length === 0) return { priority: 'LOW', risk: { score: 0, reasons: [] } };

  let sum = 0;
  let rank = 0;
  const scope = { event, enrichment };
  const entries = matched.map((rule) => ({ rule, detail: rule.detail(scope) }));
  for (const { rule } of entries) {
    sum += rule.score;
    if (rule.rank > rank) rank = rule.rank;
  }
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
}
