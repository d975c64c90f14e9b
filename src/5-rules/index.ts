/**
 * The rules stage: compile a declarative rules file once per container, then judge each enriched event
 * (`enrichment.priority`, `enrichment.risk`). See README.md, "Rules".
 */
export type { RuleEngine } from './types.ts';
export { parseRulesConfig, defaultRulesFile, RULES_CONFIG_VARIABLES, type RulesConfig, type Env } from './config.ts';
export { loadRuleEngine, parseRulesText, type LoadDeps } from './load.ts';
export { compileRules, type CompileOptions } from './compile.ts';
export { priorityFromScore, SCORE_PRIORITY_THRESHOLDS, type CompiledRuleEngine, type RuleEngineInfo } from './engine.ts';
export { DEFAULT_ALLOWED_COUNTRIES, WatchlistName } from './watchlists.ts';
export type { RulesDocument, RuleDoc, ConditionDoc, WatchlistDoc, WindowDoc, AttackDoc } from './documents.ts';
export { sanitizeValue, MAX_VALUE_LENGTH, MAX_DETAIL_LENGTH } from './interpolate.ts';
export { loadSigmaRules, type SigmaStats, type SigmaUnsupportedMode } from './sigma/load.ts';
export { translateSigma, SIGMA_LEVELS, ATTACK_TACTICS } from './sigma/translate.ts';
export { runDetectionFixtures, type FixtureReport } from './detection-fixtures.ts';
