/**
 * Compiles a rules document (already parsed from YAML or JSON) into a {@link CompiledRuleEngine}.
 *
 * Everything expensive happens here, once per container: schema validation, regexes, CIDR sets, path
 * splitting, watchlist files, timezone formatters, reason templates. The parts, in the order they run:
 * validate.ts (schema), watchlists.ts, interpret.ts (each condition into closures, through the operator
 * table in operators.ts), codegen.ts (one function per rule), engine.ts (the index and the verdict).
 */
import { RulesValidationError } from '../errors.ts';
import { generateCondition } from './codegen.ts';
import type { RulesDocument } from './documents.ts';
import { createEngine, type CompiledRuleEngine, type EngineRule, type RuleEngineInfo } from './engine.ts';
import { compileTemplate, type CompiledTemplate } from './interpolate.ts';
import { createInterpreter } from './interpret.ts';
import { compileThreshold } from './thresholds/compile.ts';
import { isValidTimezone, zonedClock } from './time.ts';
import { assertRulesDocument, Fail } from './validate.ts';
import { compileWatchlists, type WatchlistOptions } from './watchlists.ts';

export interface CompileOptions extends WatchlistOptions {
  /** Name of the document in error messages (the file path). */
  source?: string;
  /** Overrides the document's `timezone` (RULES_TIMEZONE). */
  timezone?: string;
  /** Rule ids to skip (RULES_DISABLED); an unknown id is an error. */
  disabledRules?: readonly string[];
  /** Index rules by eventName/eventSource (default true; false only to test that the index changes nothing). */
  index?: boolean;
  /** Generate one function per rule (default true; false evaluates the closure tree, for equivalence tests). */
  codegen?: boolean;
  /** The file a rule came from when it is not `source` (rules translated from Sigma files), for error messages. */
  ruleSource?: (ruleIndex: number) => string | undefined;
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
  const watchlists = compileWatchlists(rulesDoc.watchlists, options, fail, clock);

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

  const enabled: EngineRule[] = [];
  for (const [i, rule] of rulesDoc.rules.entries()) {
    // Disabled rules are still compiled so a mistake in them is found before someone re-enables them.
    const interpreter = createInterpreter(fail, i, watchlists, clock);
    const reference = interpreter.compile(rule.when, ['when']);
    // ajv (schema validation) needs code generation from strings too, so this is no new requirement.
    const test = options.codegen === false ? reference : generateCondition(rule.when, ['when'], interpreter);
    const template = compileTemplate(rule.reason);
    if (!template.ok) fail.at(['rules', String(i), 'reason'], template.error);
    const threshold = rule.threshold === undefined ? undefined : compileThreshold(rule.threshold, ['rules', String(i), 'threshold'], fail);
    if (rule.enabled === false || disabled.has(rule.id)) continue;
    enabled.push({
      id: rule.id,
      priority: rule.priority,
      score: rule.score,
      order: i,
      when: rule.when,
      test,
      detail: (template as { ok: true; value: CompiledTemplate }).value,
      attack: rule.attack ? Object.freeze({ tactics: [...rule.attack.tactics], techniques: [...rule.attack.techniques] }) : undefined,
      ...(threshold !== undefined ? { threshold } : {}),
    });
  }

  const info: RuleEngineInfo = {
    ruleIds: enabled.map((r) => r.id),
    disabled: rulesDoc.rules.filter((r) => r.enabled === false || disabled.has(r.id)).map((r) => r.id),
    timezone,
    watchlists: Object.fromEntries(
      [...watchlists].map(([name, list]) => [name, list.type === 'windows' ? list.windows.length : list.set.size]),
    ),
    thresholds: new Map(
      enabled.flatMap((r) =>
        r.threshold === undefined
          ? []
          : [[r.id, { count: r.threshold.count, withinMs: r.threshold.withinMs, distinct: r.threshold.distinct !== undefined }] as const],
      ),
    ),
  };
  return createEngine(enabled, info, { index: options.index !== false });
}
