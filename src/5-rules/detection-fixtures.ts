/**
 * Detection fixtures: for each rule, CloudTrail events it must match and events it must not match.
 *
 *   DIR/<rule-id>/match/*.json        each file one event (optionally with its `enrichment`, as produced
 *   DIR/<rule-id>/no-match/*.json     by the lookup stage); the rule must (not) be among the reasons
 *   DIR/<rule-id>/watchlists.json     optional: watchlist entries to compile the rules with, {"name": [...]}
 *
 * `rules test --fixtures DIR` (and `npm run rules:test`) runs them, and fails when a rule of the rules file
 * has no directory, or a directory lacks a match or a no-match fixture.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudTrailEvent, Enrichment, Verdict } from '../model.ts';
import type { CompiledRuleEngine } from './engine.ts';

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
