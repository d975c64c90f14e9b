/**
 * `rules` command line: validate a rules file, evaluate it against CloudTrail events and print the
 * verdicts — the way to write and test a custom rule without deploying anything — or compile a YAML rules
 * file's sidecar for a faster cold start.
 *
 *   rules validate [--rules FILE] [--sigma DIR_OR_FILE]
 *   rules compile RULES_FILE.yaml...     (writes RULES_FILE.yaml.json next to each; see load.ts)
 *   rules test [--rules FILE] [--timezone TZ] [--allowed-countries US,CA] [--enrichment FILE]
 *              [--expect-priority P] [--expect-score N] [--expect-rule ID]... [--expect-no-rule ID]... EVENT_FILE...
 *   rules test [--rules FILE] [--sigma DIR_OR_FILE] --fixtures DIR   (detection fixtures: ./detection-fixtures.ts;
 *              without EVENT_FILEs and --fixtures: test/fixtures/detections, so `npm run rules:test` runs them)
 *
 * `--sigma` adds Sigma rules (a directory read recursively, or one file) like SIGMA_RULES_DIR.
 *
 * EVENT_FILE (or a directory of them, walked recursively: .json, .ndjson, .jsonl, .log) holds one CloudTrail event, a CloudTrail log file (`{"Records": [...]}`), a JSON array, or
 * NDJSON (e.g. this project's own output). An event's own `enrichment` object is used as its enrichment
 * (so enriched output can be re-judged); otherwise `--enrichment FILE` (a JSON enrichment object), else
 * an empty one. Exit code: 0 ok, 1 an expectation failed, 2 usage or rules error.
 *
 * Run as `npm run rules:test -- …` / `rules:validate` / `rules:compile` (./rules-main.ts); the
 * `cloudtrail-enricher rules …` command mounts the same function.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EnricherError, RulesValidationError } from '../../errors.ts';
import type { CloudTrailEvent, Enrichment, Priority, Verdict } from '../../model.ts';
import { parseRulesConfig, type Env, type RulesConfig } from '../../5-rules/config.ts';
import { runDetectionFixtures } from '../../5-rules/detection-fixtures.ts';
import { loadRuleEngine, parseRulesFile, writeRulesSidecar } from '../../5-rules/load.ts';
import { findRulesProblems } from '../../5-rules/problems.ts';

export interface RulesCliIo {
  env: Env;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile?: (path: string) => string;
  /** Writes a compiled sidecar (default: `fs.writeFileSync`). */
  writeFile?: (path: string, text: string) => void;
}

const USAGE = `usage:
  rules validate [--rules FILE] [--sigma DIR_OR_FILE]
  rules compile RULES_FILE.yaml...
  rules test [--rules FILE] [--sigma DIR_OR_FILE] [--timezone TZ] [--allowed-countries US,CA] [--enrichment FILE]
             [--expect-priority LOW|MEDIUM|HIGH|CRITICAL] [--expect-score N]
             [--expect-rule ID]... [--expect-no-rule ID]... EVENT_FILE|DIR...
  rules test [--rules FILE] [--sigma DIR_OR_FILE] --fixtures DIR

rules validate lists every problem of the file. rules test reads each EVENT_FILE (one event, {"Records": [...]},
an array or NDJSON) and walks each DIR recursively (.json .ndjson .jsonl .log); with --fixtures (or no files) it
runs every rule's match / no-match detection fixtures.
exit codes: 0 ok · 1 an expectation failed · 2 usage or rules error`;

interface Args {
  command: string | undefined;
  rules?: string;
  timezone?: string;
  allowedCountries?: string;
  enrichment?: string;
  expectPriority?: Priority;
  expectScore?: number;
  expectRules: string[];
  expectNoRules: string[];
  files: string[];
  sigma?: string;
  fixtures?: string;
}

class UsageError extends Error {}

/** Where `rules test` without EVENT_FILEs looks for detection fixtures (the repository checkout). */
const DEFAULT_FIXTURES = 'test/fixtures/detections';

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { command: argv[0], expectRules: [], expectNoRules: [], files: [] };
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--rules':
        args.rules = value();
        break;
      case '--timezone':
        args.timezone = value();
        break;
      case '--allowed-countries':
        args.allowedCountries = value();
        break;
      case '--enrichment':
        args.enrichment = value();
        break;
      case '--sigma':
        args.sigma = value();
        break;
      case '--fixtures':
        args.fixtures = value();
        break;
      case '--expect-priority': {
        const p = value().toUpperCase();
        if (!['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].includes(p)) throw new UsageError(`--expect-priority: "${p}" is not a priority`);
        args.expectPriority = p as Priority;
        break;
      }
      case '--expect-score': {
        const n = Number(value());
        if (!Number.isInteger(n)) throw new UsageError('--expect-score needs an integer');
        args.expectScore = n;
        break;
      }
      case '--expect-rule':
        args.expectRules.push(value());
        break;
      case '--expect-no-rule':
        args.expectNoRules.push(value());
        break;
      case '-h':
      case '--help':
        throw new UsageError('');
      default:
        if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
        args.files.push(arg);
    }
  }
  return args;
}

/** Events in a file: one event, `{"Records": [...]}`, a JSON array, or NDJSON. */
export function eventsFromText(text: string, source: string): CloudTrailEvent[] {
  const trimmed = text.trim();
  let docs: unknown[];
  try {
    docs = [JSON.parse(trimmed) as unknown];
  } catch {
    docs = [];
    for (const [i, line] of trimmed.split(/\r?\n/).entries()) {
      if (!line.trim()) continue;
      try {
        docs.push(JSON.parse(line) as unknown);
      } catch {
        throw new UsageError(`${source}: line ${i + 1} is not JSON`);
      }
    }
  }
  const events: CloudTrailEvent[] = [];
  const add = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new UsageError(`${source}: expected CloudTrail event objects`);
    const records = (value as { Records?: unknown }).Records;
    const detail = (value as { detail?: unknown }).detail;
    if (Array.isArray(records)) records.forEach(add);
    else if (detail !== null && typeof detail === 'object' && (value as { 'detail-type'?: unknown })['detail-type'] !== undefined)
      add(detail);
    else events.push(value as CloudTrailEvent);
  };
  for (const doc of docs) (Array.isArray(doc) ? doc : [doc]).forEach(add);
  return events;
}

/** Extensions `rules test` reads when it walks a directory (a file named directly is read whatever its name). */
export const EVENT_FILE_EXTENSIONS = ['.json', '.ndjson', '.jsonl', '.log'] as const;

/** The event files of the given paths: files as given, directories walked recursively in name order. */
export function eventFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 32) return; // a symbolic link loop
    for (const name of readdirSync(dir).sort((a, b) => a.localeCompare(b))) {
      const path = join(dir, name);
      let info;
      try {
        info = statSync(path);
      } catch {
        continue; // a dangling symbolic link
      }
      if (info.isDirectory()) walk(path, depth + 1);
      else if (info.isFile() && EVENT_FILE_EXTENSIONS.some((ext) => name.endsWith(ext)) && !name.endsWith('.yaml.json')) out.push(path);
    }
  };
  for (const path of paths) {
    let directory = false;
    try {
      directory = statSync(path).isDirectory();
    } catch {
      // a missing file is reported when it is read
    }
    if (directory) walk(path, 0);
    else out.push(path);
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `rules compile`: validates each YAML rules file in full and writes its sidecar `FILE.json`. */
function compile(files: readonly string[], readFile: (path: string) => string, io: RulesCliIo): number {
  const writeFile = io.writeFile ?? ((path: string, text: string) => writeFileSync(path, text));
  for (const file of files) {
    try {
      const { sidecarFile, sourceSha256, rules } = writeRulesSidecar(file, { readFile, writeFile });
      io.stdout(`${sidecarFile}: written, ${rules} rules, sourceSha256 ${sourceSha256}\n`);
    } catch (error) {
      if (!(error instanceof EnricherError)) throw error;
      io.stderr(`rules: ${error.name}: ${error.message}\n`);
      return 2;
    }
  }
  return 0;
}

/** Every problem of the rules file `config` names (the file parsed as the cold start parses it). */
function allProblems(config: RulesConfig, readFile: (path: string) => string): string[] {
  try {
    const { document } = parseRulesFile(config.rulesFile, readFile(config.rulesFile), { readFile });
    return findRulesProblems(document, {
      source: config.rulesFile,
      baseDir: dirname(config.rulesFile),
      readFile,
      ...(config.timezone !== undefined ? { timezone: config.timezone } : {}),
      ...(config.allowedCountries !== undefined ? { allowedCountries: config.allowedCountries } : {}),
      disabledRules: config.disabledRules,
    });
  } catch {
    return [];
  }
}

/** `rules test --fixtures DIR`: every rule's match / no-match fixtures (see ./detection-fixtures.ts). */
function fixtures(
  dir: string,
  config: RulesConfig,
  engine: ReturnType<typeof loadRuleEngine>,
  readFile: (path: string) => string,
  io: RulesCliIo,
): number {
  let report: ReturnType<typeof runDetectionFixtures>;
  try {
    const ownRules = engine.info.ruleIds.filter((id) => !id.startsWith('sigma.'));
    report = runDetectionFixtures(
      dir,
      (watchlists) => (watchlists ? loadRuleEngine(config, { readFile, watchlistEntries: watchlists }) : engine),
      ownRules,
      eventsFromText,
      {
        readFile,
      },
    );
  } catch (error) {
    if (!(error instanceof EnricherError) && !(error instanceof SyntaxError) && !(error instanceof UsageError)) throw error;
    io.stderr(`rules: ${error.message}\n`);
    return 2;
  }
  const failed = report.outcomes.filter((o) => !o.ok);
  for (const o of failed) io.stderr(`FAIL ${o.rule} ${o.expect} ${o.file}: ${o.problem}\n`);
  for (const id of report.uncovered) io.stderr(`FAIL ${id}: needs ${dir}/${id}/match/*.json and ${dir}/${id}/no-match/*.json\n`);
  const rules = new Set(report.outcomes.map((o) => o.rule)).size;
  io.stdout(`${dir}: ${report.outcomes.length - failed.length} of ${report.outcomes.length} fixtures passed, ${rules} rules\n`);
  return failed.length > 0 || report.uncovered.length > 0 ? 1 : 0;
}

/** Runs the CLI; returns the exit code. Never calls process.exit, so it can be mounted and tested. */
export function runRulesCli(argv: readonly string[], io: RulesCliIo): number {
  const readFile = io.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  let args: Args;
  try {
    args = parseArgs(argv);
    if (args.command !== 'validate' && args.command !== 'test' && args.command !== 'compile') {
      throw new UsageError(args.command ? `unknown command "${args.command}"` : '');
    }
    if (args.command === 'test' && args.files.length === 0 && args.fixtures === undefined) {
      // `npm run rules:test` with no arguments: the project's detection fixtures.
      if (!existsSync(DEFAULT_FIXTURES)) throw new UsageError('test needs at least one EVENT_FILE (or --fixtures DIR)');
      args.fixtures = DEFAULT_FIXTURES;
    }
    if (args.command === 'compile' && args.files.length === 0) throw new UsageError('compile needs at least one RULES_FILE.yaml');
  } catch (error) {
    if (error instanceof UsageError) {
      if (error.message) io.stderr(`rules: ${error.message}\n`);
      io.stderr(`${USAGE}\n`);
      return 2;
    }
    throw error;
  }

  if (args.command === 'compile') return compile(args.files, readFile, io);

  let config: RulesConfig;
  let parsedConfig: RulesConfig | undefined;
  let engine: ReturnType<typeof loadRuleEngine>;
  try {
    config = parseRulesConfig({
      ...io.env,
      ...(args.rules !== undefined ? { RULES_FILE: args.rules } : {}),
      ...(args.timezone !== undefined ? { RULES_TIMEZONE: args.timezone } : {}),
      ...(args.allowedCountries !== undefined ? { ALLOWED_COUNTRIES: args.allowedCountries } : {}),
      ...(args.sigma !== undefined ? { SIGMA_RULES_DIR: args.sigma } : {}),
    });
    parsedConfig = config;
    engine = loadRuleEngine(config, { readFile });
  } catch (error) {
    if (error instanceof EnricherError) {
      // validate lists every problem of the file in one run; the cold start (and test) stop at the first.
      const problems =
        args.command === 'validate' && error instanceof RulesValidationError && parsedConfig !== undefined
          ? allProblems(parsedConfig, readFile)
          : [];
      if (problems.length > 1) {
        for (const problem of problems) io.stderr(`rules: ${error.name}: ${problem}\n`);
        io.stderr(`rules: ${problems.length} problems in ${parsedConfig!.rulesFile}\n`);
      } else io.stderr(`rules: ${error.name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  if (args.command === 'validate') {
    const { info } = engine;
    io.stdout(
      `${config.rulesFile}: ok, ${info.ruleIds.length} rules enabled` +
        (info.disabled.length ? ` (${info.disabled.length} disabled: ${info.disabled.join(', ')})` : '') +
        `, timezone ${info.timezone}, watchlists ${Object.entries(info.watchlists)
          .map(([name, n]) => `${name}=${n}`)
          .join(' ')}` +
        (engine.sigma
          ? `, Sigma: ${engine.sigma.loaded} rules from ${engine.sigma.files} files (skipped: ${engine.sigma.skippedLogsource} other log sources, ${engine.sigma.skippedCorrelation} correlations, ${engine.sigma.skippedUnsupported} unsupported)`
          : '') +
        '\n',
    );
    return 0;
  }

  if (args.fixtures !== undefined) return fixtures(args.fixtures, config, engine, readFile, io);

  let baseEnrichment: Enrichment = { version: 1, status: 'complete' };
  let events: CloudTrailEvent[] = [];
  try {
    if (args.enrichment !== undefined) {
      const parsed = JSON.parse(readFile(args.enrichment)) as unknown;
      if (!isObject(parsed)) throw new UsageError(`${args.enrichment}: expected a JSON object`);
      baseEnrichment = { version: 1, status: 'complete', ...(parsed as Partial<Enrichment>) };
    }
    for (const file of eventFiles(args.files)) events = events.concat(eventsFromText(readFile(file), file));
  } catch (error) {
    io.stderr(`rules: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }

  let failures = 0;
  for (const event of events) {
    const own = event.enrichment;
    const enrichment = isObject(own) ? (own as unknown as Enrichment) : baseEnrichment;
    const verdict: Verdict = engine.evaluate(event, enrichment);
    io.stdout(
      JSON.stringify({
        eventID: event.eventID,
        eventName: event.eventName,
        priority: verdict.priority,
        score: verdict.risk.score,
        reasons: verdict.risk.reasons,
      }) + '\n',
    );
    const matched = new Set(verdict.risk.reasons.map((r) => r.rule));
    const problems: string[] = [];
    if (args.expectPriority !== undefined && verdict.priority !== args.expectPriority)
      problems.push(`priority ${verdict.priority}, expected ${args.expectPriority}`);
    if (args.expectScore !== undefined && verdict.risk.score !== args.expectScore)
      problems.push(`score ${verdict.risk.score}, expected ${args.expectScore}`);
    for (const id of args.expectRules) if (!matched.has(id)) problems.push(`rule ${id} did not match`);
    for (const id of args.expectNoRules) if (matched.has(id)) problems.push(`rule ${id} matched`);
    if (problems.length > 0) {
      failures++;
      io.stderr(`FAIL ${String(event.eventID ?? event.eventName ?? '(event)')}: ${problems.join('; ')}\n`);
    }
  }
  if (failures > 0) {
    io.stderr(`${failures} of ${events.length} events failed expectations\n`);
    return 1;
  }
  return 0;
}
