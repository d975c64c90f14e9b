/**
 * `rules` command line: validate a rules file, evaluate it against CloudTrail events and print the
 * verdicts — the way to write and test a custom rule without deploying anything — or compile a YAML rules
 * file's sidecar for a faster cold start.
 *
 *   rules validate [--rules FILE]
 *   rules compile RULES_FILE.yaml...     (writes RULES_FILE.yaml.json next to each; see load.ts)
 *   rules test [--rules FILE] [--timezone TZ] [--allowed-countries US,CA] [--enrichment FILE]
 *              [--expect-priority P] [--expect-score N] [--expect-rule ID]... [--expect-no-rule ID]... EVENT_FILE...
 *
 * EVENT_FILE holds one CloudTrail event, a CloudTrail log file (`{"Records": [...]}`), a JSON array, or
 * NDJSON (e.g. this project's own output). An event's own `enrichment` object is used as its enrichment
 * (so enriched output can be re-judged); otherwise `--enrichment FILE` (a JSON enrichment object), else
 * an empty one. Exit code: 0 ok, 1 an expectation failed, 2 usage or rules error.
 *
 * Run as `npm run rules:test -- …` / `rules:validate` / `rules:compile` (./rules-main.ts); the
 * `cloudtrail-enricher rules …` command mounts the same function.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { EnricherError } from '../../errors.ts';
import type { CloudTrailEvent, Enrichment, Priority, Verdict } from '../../model.ts';
import { parseRulesConfig, type Env, type RulesConfig } from '../../5-rules/config.ts';
import { loadRuleEngine, writeRulesSidecar } from '../../5-rules/load.ts';

export interface RulesCliIo {
  env: Env;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile?: (path: string) => string;
  /** Writes a compiled sidecar (default: `fs.writeFileSync`). */
  writeFile?: (path: string, text: string) => void;
}

const USAGE = `usage:
  rules validate [--rules FILE]
  rules compile RULES_FILE.yaml...
  rules test [--rules FILE] [--timezone TZ] [--allowed-countries US,CA] [--enrichment FILE]
             [--expect-priority LOW|MEDIUM|HIGH|CRITICAL] [--expect-score N]
             [--expect-rule ID]... [--expect-no-rule ID]... EVENT_FILE...`;

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
}

class UsageError extends Error {}

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
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${source}: expected CloudTrail event objects`);
    const records = (value as { Records?: unknown }).Records;
    const detail = (value as { detail?: unknown }).detail;
    if (Array.isArray(records)) records.forEach(add);
    else if (detail !== null && typeof detail === 'object' && (value as { 'detail-type'?: unknown })['detail-type'] !== undefined) add(detail);
    else events.push(value as CloudTrailEvent);
  };
  for (const doc of docs) (Array.isArray(doc) ? doc : [doc]).forEach(add);
  return events;
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

/** Runs the CLI; returns the exit code. Never calls process.exit, so it can be mounted and tested. */
export function runRulesCli(argv: readonly string[], io: RulesCliIo): number {
  const readFile = io.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  let args: Args;
  try {
    args = parseArgs(argv);
    if (args.command !== 'validate' && args.command !== 'test' && args.command !== 'compile') {
      throw new UsageError(args.command ? `unknown command "${args.command}"` : '');
    }
    if (args.command === 'test' && args.files.length === 0) throw new UsageError('test needs at least one EVENT_FILE');
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
  let engine: ReturnType<typeof loadRuleEngine>;
  try {
    config = parseRulesConfig({
      ...io.env,
      ...(args.rules !== undefined ? { RULES_FILE: args.rules } : {}),
      ...(args.timezone !== undefined ? { RULES_TIMEZONE: args.timezone } : {}),
      ...(args.allowedCountries !== undefined ? { ALLOWED_COUNTRIES: args.allowedCountries } : {}),
    });
    engine = loadRuleEngine(config, { readFile });
  } catch (error) {
    if (error instanceof EnricherError) {
      io.stderr(`rules: ${error.name}: ${error.message}\n`);
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
          .join(' ')}\n`,
    );
    return 0;
  }

  let baseEnrichment: Enrichment = { version: 1, status: 'complete' };
  let events: CloudTrailEvent[] = [];
  try {
    if (args.enrichment !== undefined) {
      const parsed = JSON.parse(readFile(args.enrichment)) as unknown;
      if (!isObject(parsed)) throw new UsageError(`${args.enrichment}: expected a JSON object`);
      baseEnrichment = { version: 1, status: 'complete', ...(parsed as Partial<Enrichment>) } as Enrichment;
    }
    for (const file of args.files) events = events.concat(eventsFromText(readFile(file), file));
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
    if (args.expectPriority !== undefined && verdict.priority !== args.expectPriority) problems.push(`priority ${verdict.priority}, expected ${args.expectPriority}`);
    if (args.expectScore !== undefined && verdict.risk.score !== args.expectScore) problems.push(`score ${verdict.risk.score}, expected ${args.expectScore}`);
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
