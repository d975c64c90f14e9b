/**
 * Detection fixtures: for each rule, CloudTrail events it must match and events it must not match.
 *
 *   DIR/<rule-id>/match/*.json        each file one event (optionally with its `enrichment`, as produced
 *   DIR/<rule-id>/no-match/*.json     by the lookup stage); the rule must (not) be among the reasons
 *   DIR/<rule-id>/watchlists.json     optional: watchlist entries to compile the rules with, {"name": [...]}
 *
 * For a threshold rule, each file is one invocation against fresh counters (a list of events: `{"Records": [...]}`,
 * an array or NDJSON): a match fixture's last event must be the one that crosses the threshold (and no other),
 * a no-match fixture must cross nothing.
 *
 * `rules test --fixtures DIR` (and `npm run rules:test`) runs them, and fails when a rule of the rules file
 * has no directory, or a directory lacks a match or a no-match fixture.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudTrailEvent, Enrichment, Verdict } from '../model.ts';
import type { CompiledRuleEngine } from './engine.ts';
import { crossingEvent, planUpdates, type ThresholdCandidate } from './thresholds/plan.ts';
import type { ThresholdHit } from './types.ts';

export interface FixtureCase {
  rule: string;
  expect: 'match' | 'no-match';
  file: string;
}

export interface FixtureOutcome extends FixtureCase {
  ok: boolean;
  problem?: string;
  verdict?: Verdict;
}

export interface FixtureDeps {
  readFile?: (path: string) => string;
  readDir?: (path: string) => string[];
  isDirectory?: (path: string) => boolean;
}

export interface FixtureReport {
  outcomes: FixtureOutcome[];
  /** Rules of the engine without fixtures, or with only one kind. */
  uncovered: string[];
}

const EMPTY: Enrichment = { version: 1, status: 'complete' };

/**
 * Runs the fixtures under `dir`. `engineFor` compiles the rules (with watchlist entries when a rule's
 * directory has a watchlists.json); `ruleIds` are the rules that must be covered.
 */
export function runDetectionFixtures(
  dir: string,
  engineFor: (watchlists: Record<string, unknown[]> | undefined) => CompiledRuleEngine,
  ruleIds: readonly string[],
  eventsFromText: (text: string, source: string) => CloudTrailEvent[],
  deps: FixtureDeps = {},
): FixtureReport {
  const readFile = deps.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const readDir = deps.readDir ?? ((p: string) => readdirSync(p));
  const isDirectory = deps.isDirectory ?? ((p: string) => statSync(p).isDirectory());
  const list = (p: string): string[] => {
    try {
      return isDirectory(p) ? readDir(p).sort() : [];
    } catch {
      return [];
    }
  };
  const outcomes: FixtureOutcome[] = [];
  const covered = new Set<string>();
  const plain = engineFor(undefined);
  for (const rule of list(dir)) {
    const ruleDir = join(dir, rule);
    if (!isDirectory(ruleDir)) continue;
    let watchlists: Record<string, unknown[]> | undefined;
    const wlFile = join(ruleDir, 'watchlists.json');
    if (list(ruleDir).includes('watchlists.json')) watchlists = JSON.parse(readFile(wlFile)) as Record<string, unknown[]>;
    const engine = watchlists ? engineFor(watchlists) : plain;
    const kinds = { match: 0, 'no-match': 0 };
    for (const expect of ['match', 'no-match'] as const) {
      for (const name of list(join(ruleDir, expect)).filter((f) => f.endsWith('.json'))) {
        const file = join(ruleDir, expect, name);
        kinds[expect]++;
        let events: CloudTrailEvent[];
        try {
          events = eventsFromText(readFile(file), file);
        } catch (error) {
          outcomes.push({ rule, expect, file, ok: false, problem: (error as Error).message });
          continue;
        }
        const threshold = engine.info.thresholds?.get(rule);
        if (threshold !== undefined) {
          outcomes.push(thresholdOutcome(engine, rule, threshold, events, { rule, expect, file }));
          continue;
        }
        for (const event of events) {
          const own = event.enrichment;
          const enrichment = own !== null && typeof own === 'object' && !Array.isArray(own) ? (own as unknown as Enrichment) : EMPTY;
          const verdict = engine.evaluate(event, enrichment);
          const reason = verdict.risk.reasons.find((r) => r.rule === rule);
          let problem: string | undefined;
          if (expect === 'match' && !reason) problem = `rule ${rule} did not match`;
          else if (expect === 'match' && /[{}]/.test(reason!.detail)) problem = `reason "${reason!.detail}" has an unrendered placeholder`;
          else if (expect === 'no-match' && reason) problem = `rule ${rule} matched: ${reason.detail}`;
          outcomes.push({ rule, expect, file, ok: problem === undefined, verdict, ...(problem ? { problem } : {}) });
        }
      }
    }
    if (kinds.match > 0 && kinds['no-match'] > 0) covered.add(rule);
  }
  return { outcomes, uncovered: ruleIds.filter((id) => !covered.has(id)) };
}

function enrichmentOf(event: CloudTrailEvent): Enrichment {
  const own = event.enrichment;
  return own !== null && typeof own === 'object' && !Array.isArray(own) ? (own as unknown as Enrichment) : EMPTY;
}

/** One file of a threshold rule: its events as one invocation against fresh counters (see the file comment). */
function thresholdOutcome(
  engine: CompiledRuleEngine,
  rule: string,
  spec: { count: number; withinMs: number; distinct: boolean },
  events: readonly CloudTrailEvent[],
  c: FixtureCase,
): FixtureOutcome {
  const candidates: ThresholdCandidate[] = [];
  for (const [i, event] of events.entries()) {
    const hits: ThresholdHit[] = [];
    engine.evaluate(event, enrichmentOf(event), hits);
    const time = typeof event.eventTime === 'string' ? Date.parse(event.eventTime) : NaN;
    for (const hit of hits) {
      if (hit.rule !== rule) continue;
      candidates.push({
        event: i,
        ruleId: rule,
        by: hit.by,
        time: Number.isFinite(time) ? time : 0,
        ...(hit.value !== undefined ? { value: hit.value } : {}),
      });
    }
  }
  const plan = planUpdates(candidates, new Map([[rule, spec]]));
  const crossed: number[] = [];
  for (const update of plan.updates) {
    const hit = crossingEvent(update, plan.members.get(update.key) ?? [], spec.distinct ? { values: new Set() } : { count: 0 });
    if (hit !== undefined) crossed.push(hit.event);
  }
  let problem: string | undefined;
  let verdict: Verdict | undefined;
  if (c.expect === 'match') {
    const last = events.length - 1;
    if (crossed.length !== 1 || crossed[0] !== last)
      problem = `threshold rule ${rule} should cross on the last event (${last}), crossed on [${crossed.join(', ')}]`;
    else {
      const event = events[last]!;
      verdict = engine.withThresholds(engine.evaluate(event, enrichmentOf(event)), event, enrichmentOf(event), [rule]);
      const reason = verdict.risk.reasons.find((r) => r.rule === rule);
      if (reason === undefined) problem = `rule ${rule} did not match`;
      else if (/[{}]/.test(reason.detail)) problem = `reason "${reason.detail}" has an unrendered placeholder`;
    }
  } else if (crossed.length > 0) problem = `threshold rule ${rule} crossed on [${crossed.join(', ')}]`;
  return { ...c, ok: problem === undefined, ...(verdict !== undefined ? { verdict } : {}), ...(problem ? { problem } : {}) };
}
