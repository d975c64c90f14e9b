/**
 * Cold-start loading: read the rules file (and its watchlist files) synchronously, parse YAML or JSON,
 * compile. Called once per container; a broken file fails the cold start loudly instead of letting
 * events through unjudged.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, RulesValidationError } from '../errors.ts';
import { silentLog, type Log } from '../model.ts';
import { compileRules, type CompiledRuleEngine } from './compile.ts';
import type { RulesConfig } from './config.ts';

export interface LoadDeps {
  /** Reads the rules file and watchlist files (default: `fs.readFileSync(path, 'utf8')`). */
  readFile?: (path: string) => string;
  log?: Log;
}

/** Largest rules file accepted; a bigger one is almost certainly the wrong file. */
const MAX_RULES_FILE_BYTES = 5 * 1024 * 1024;

/** Parses YAML (a superset of JSON) into plain data; errors name the file, line and column. */
export function parseRulesText(text: string, source: string): unknown {
  if (text.length > MAX_RULES_FILE_BYTES) throw new RulesValidationError(`${source}: larger than ${MAX_RULES_FILE_BYTES} bytes`);
  // YAML 1.2 core schema: `No`/`yes`/`on` stay strings (CloudTrail's MFAUsed is the string "No"),
  // duplicate keys are errors, and alias expansion is bounded (no billion-laughs at cold start).
  const doc = parseDocument(text, { version: '1.2', uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const pos = first.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    throw new RulesValidationError(`${source}: not valid YAML${where}: ${first.message.split('\n')[0]}`, { cause: first });
  }
  try {
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (error) {
    throw new RulesValidationError(`${source}: ${(error as Error).message}`, { cause: error });
  }
}

export function loadRuleEngine(config: RulesConfig, deps: LoadDeps = {}): CompiledRuleEngine {
  const readFile = deps.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const log = deps.log ?? silentLog;
  let text: string;
  try {
    text = readFile(config.rulesFile);
  } catch (error) {
    throw new ConfigError(`RULES_FILE: cannot read rules file ${config.rulesFile}`, { cause: error });
  }
  const doc = parseRulesText(text, config.rulesFile);
  const engine = compileRules(doc, {
    source: config.rulesFile,
    baseDir: dirname(config.rulesFile),
    readFile,
    ...(config.timezone !== undefined ? { timezone: config.timezone } : {}),
    ...(config.allowedCountries !== undefined ? { allowedCountries: config.allowedCountries } : {}),
    disabledRules: config.disabledRules,
  });
  log.info('rules compiled', {
    rulesFile: config.rulesFile,
    rules: engine.info.ruleIds.length,
    disabled: engine.info.disabled,
    timezone: engine.info.timezone,
    watchlists: engine.info.watchlists,
  });
  return engine;
}
