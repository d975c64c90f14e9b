/**
 * The threshold step of the rules stage, run by the pipeline between judge and encode: the candidates the
 * engine reported (threshold rules whose condition matched) are counted, once per counter key for the whole
 * invocation, and the events that cross are returned so their verdicts get the rule.
 *
 * It shares the enrichment deadline: the store's calls carry an abort signal that fires at the deadline. Never
 * throws: a failed, throttled or late counter leaves its events `unavailable` (the pipeline marks them `partial`,
 * cause `threshold`) and matches none of them.
 */
import { silentLog, type Log } from '../../model.ts';
import type { ThresholdHit } from '../types.ts';
import { planUpdates, resolvePlan, type ThresholdCandidate, type ThresholdSpec } from './plan.ts';
import type { ThresholdStore } from './store.ts';

export interface ThresholdStats {
  /** Candidates (threshold-rule condition matches) counted. */
  candidates: number;
  /** Counter updates sent (one per rule, key and window bucket): DynamoDB UpdateItem calls with a table. */
  updates: number;
  /** Events on which a threshold rule crossed. */
  crossed: number;
  /** Events left `partial` because their counter could not be updated in time. */
  unavailable: number;
}

export interface ThresholdInput {
  /** The caller's handle for the event. */
  readonly event: number;
  /** Event time, epoch ms (the caller falls back to the invocation time). */
  readonly time: number;
  readonly hits: readonly ThresholdHit[];
}

export interface ThresholdOutput {
  /** Per event handle: the ids of the threshold rules it crosses. */
  readonly crossed: ReadonlyMap<number, string[]>;
  readonly unavailable: ReadonlySet<number>;
  readonly stats: ThresholdStats;
}

export interface ThresholdCounter {
  resolve(inputs: readonly ThresholdInput[], options: { deadline: number }): Promise<ThresholdOutput>;
}

export function emptyThresholdStats(): ThresholdStats {
  return { candidates: 0, updates: 0, crossed: 0, unavailable: 0 };
}

export function createThresholdCounter(
  specs: ReadonlyMap<string, ThresholdSpec>,
  store: ThresholdStore,
  deps: { log?: Log; now?: () => number } = {},
): ThresholdCounter {
  const log = deps.log ?? silentLog;
  const now = deps.now ?? Date.now;
  return {
    async resolve(inputs, options) {
      const stats = emptyThresholdStats();
      const candidates: ThresholdCandidate[] = [];
      for (const input of inputs) {
        for (const hit of input.hits) {
          candidates.push({
            event: input.event,
            ruleId: hit.rule,
            by: hit.by,
            time: input.time,
            ...(hit.value !== undefined ? { value: hit.value } : {}),
          });
        }
      }
      stats.candidates = candidates.length;
      const crossed = new Map<number, string[]>();
      if (candidates.length === 0) return { crossed, unavailable: new Set(), stats };
      const plan = planUpdates(candidates, specs);
      stats.updates = plan.updates.length;
      const started = now();
      let answers: Awaited<ReturnType<ThresholdStore['apply']>>;
      try {
        const signal = AbortSignal.timeout(Math.max(1, options.deadline - started));
        answers = await store.apply(plan.updates, { signal, now: started });
      } catch (err) {
        // The store never throws by contract; if it does, no threshold is claimed crossed.
        log.error('threshold counters failed', { error: err instanceof Error ? err.name : 'non-error thrown' });
        answers = new Map();
      }
      const outcome = resolvePlan(plan, answers);
      for (const c of outcome.crossed) {
        const list = crossed.get(c.event);
        if (list === undefined) crossed.set(c.event, [c.ruleId]);
        else list.push(c.ruleId);
      }
      stats.crossed = crossed.size;
      // An event that crossed one rule but whose other counter failed is still partial: a match may be missing.
      stats.unavailable = outcome.unavailable.size;
      if (outcome.unavailable.size > 0) log.warn('threshold counters unavailable', { events: outcome.unavailable.size });
      return { crossed, unavailable: outcome.unavailable, stats };
    },
  };
}
