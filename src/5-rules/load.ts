/**
 * Cold-start loading: read the rules file (and its watchlist files) synchronously, parse YAML or JSON,
 * compile. Called once per container; a broken file fails the cold start loudly instead of letting
 * events through unjudged.
 *
 * A YAML rules file `X.yaml` may have a compiled sidecar `X.yaml.json` (`rules compile X.yaml`,
 * `npm run build:rules` for the bundled rules): the parsed document plus the SHA-256 of the YAML text it was
 * parsed from. The YAML parser costs ~100 ms of a cold start for the bundled rules, JSON.parse ~1 ms. The
 * sidecar is only a cache: it is used when its hash matches the YAML just read, otherwise the YAML is parsed
 * as usual. Either way the document is validated and compiled in full.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, RulesValidationError } from '../errors.ts';
import { silentLog, type Log } from '../model.ts';
import { compileRules } from './compile.ts';
import type { CompiledRuleEngine } from './engine.ts';
import type { RulesConfig } from './config.ts';
import { loadSigmaRules, type SigmaLoadDeps, type SigmaStats } from './sigma/load.ts';

export interface LoadDeps {
  /** Reads the rules file, its sidecar and watchlist files (default: `fs.readFileSync(path, 'utf8')`). */
  readFile?: (path: string) => string;
  log?: Log;
  /** Directory listing for SIGMA_RULES_DIR (default: the file system). */
  readDir?: SigmaLoadDeps['readDir'];
  isDirectory?: SigmaLoadDeps['isDirectory'];
  /** Replaces the entries of these watchlists (detection fixtures that need a listed address). */
  watchlistEntries?: Record<string, unknown[]>;
}

/** Largest rules file accepted; a bigger one is almost certainly the wrong file. */
const MAX_RULES_FILE_BYTES = 5 * 1024 * 1024;

/**
 * Largest sidecar accepted. Alias expansion (bounded to 100 aliases by the YAML parse) can make the
 * document bigger than its YAML, so this is looser than the YAML bound; a bigger sidecar is ignored.
 */
const MAX_SIDECAR_BYTES = 4 * MAX_RULES_FILE_BYTES;

/** Version of the sidecar format; a sidecar of another version is ignored (parsed from YAML instead). */
export const RULES_SIDECAR_FORMAT = 1;

/** What `X.yaml.json` holds. */
export interface RulesSidecar {
  format: typeof RULES_SIDECAR_FORMAT;
  /** Lower-case hex SHA-256 of the YAML file's UTF-8 text (what `sha256sum X.yaml` prints). */
  sourceSha256: string;
  /** The parsed YAML document. */
  document: unknown;
}

function assertSize(text: string, source: string): void {
  if (text.length > MAX_RULES_FILE_BYTES) throw new RulesValidationError(`${source}: larger than ${MAX_RULES_FILE_BYTES} bytes`);
}

/** `X.yaml.json` for a YAML rules file `X.yaml`/`X.yml`; undefined for anything else (JSON files need no sidecar). */
export function rulesSidecarPath(rulesFile: string): string | undefined {
  return /\.ya?ml$/i.test(rulesFile) ? `${rulesFile}.json` : undefined;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Parses YAML (a superset of JSON) into plain data; errors name the file, line and column. */
export function parseRulesText(text: string, source: string): unknown {
  assertSize(text, source);
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

type SidecarLookup = { ok: true; document: unknown } | { ok: false; reason: string };

/** The sidecar's document when the sidecar exists, is well-formed and was built from exactly `text`. */
function readSidecar(sidecarFile: string, text: string, readFile: (path: string) => string): SidecarLookup {
  let raw: string;
  try {
    raw = readFile(sidecarFile);
  } catch {
    return { ok: false, reason: 'absent' };
  }
  if (raw.length > MAX_SIDECAR_BYTES) return { ok: false, reason: `larger than ${MAX_SIDECAR_BYTES} bytes` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, reason: 'not a JSON object' };
  const sidecar = parsed as Partial<RulesSidecar>;
  if (sidecar.format !== RULES_SIDECAR_FORMAT)
    return { ok: false, reason: `format ${JSON.stringify(sidecar.format)} is not ${RULES_SIDECAR_FORMAT}` };
  if (!('document' in sidecar)) return { ok: false, reason: 'no document' };
  if (sidecar.sourceSha256 !== sha256Hex(text)) return { ok: false, reason: 'stale (sourceSha256 does not match the rules file)' };
  return { ok: true, document: sidecar.document };
}

/**
 * The rules document in `text` (read from `rulesFile`): from the compiled sidecar when it matches the text,
 * else parsed from YAML/JSON. The rules file size bound applies either way.
 */
export function parseRulesFile(
  rulesFile: string,
  text: string,
  deps: LoadDeps = {},
): { document: unknown; parsedFrom: 'sidecar' | 'text' } {
  const readFile = deps.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const log = deps.log ?? silentLog;
  assertSize(text, rulesFile);
  const sidecarFile = rulesSidecarPath(rulesFile);
  if (sidecarFile !== undefined) {
    const lookup = readSidecar(sidecarFile, text, readFile);
    if (lookup.ok) return { document: lookup.document, parsedFrom: 'sidecar' };
    log.debug('rules sidecar not used, parsing the YAML (run `rules compile` for a faster cold start)', {
      rulesFile,
      sidecarFile,
      reason: lookup.reason,
    });
  }
  return { document: parseRulesText(text, rulesFile), parsedFrom: 'text' };
}

/**
 * Where `value` holds something JSON cannot carry (a non-finite number from `.inf`/`.nan`, or anything but
 * plain data), as a `rules[2].score` style path; undefined when JSON represents it exactly. `-0` passes:
 * JSON turns it into `0`, which every rule comparison treats the same.
 */
function notJsonRepresentable(value: unknown, path: string): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path || 'document';
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = notJsonRepresentable(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      const found = notJsonRepresentable(item, path ? `${path}.${key}` : key);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return path || 'document';
}

/**
 * The sidecar text for the YAML `text`: parses it (errors as {@link parseRulesText}) and refuses a document
 * JSON cannot represent exactly (`.inf`, `.nan`), since the sidecar must mean what the YAML means.
 */
export function buildRulesSidecar(text: string, source: string): string {
  const document = parseRulesText(text, source);
  const where = notJsonRepresentable(document, '');
  if (where !== undefined) {
    throw new RulesValidationError(
      `${source}: field "${where}" holds a value JSON cannot represent (e.g. .inf, .nan); no sidecar can be built`,
    );
  }
  const sidecar: RulesSidecar = { format: RULES_SIDECAR_FORMAT, sourceSha256: sha256Hex(text), document };
  // Indented, so a reviewer can diff the committed sidecar against the YAML change that produced it.
  return `${JSON.stringify(sidecar, null, 2)}\n`;
}

export interface SidecarDeps {
  readFile?: (path: string) => string;
  writeFile?: (path: string, text: string) => void;
}

/**
 * Validates and compiles the YAML rules file `rulesFile` (watchlist files included, so a broken file never
 * gets a sidecar) and writes `rulesFile.json`. Throws {@link RulesValidationError} like {@link loadRuleEngine}.
 */
export function writeRulesSidecar(rulesFile: string, deps: SidecarDeps = {}): { sidecarFile: string; sourceSha256: string; rules: number } {
  const readFile = deps.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const writeFile = deps.writeFile ?? ((path: string, text: string) => writeFileSync(path, text));
  const sidecarFile = rulesSidecarPath(rulesFile);
  if (sidecarFile === undefined)
    throw new RulesValidationError(`${rulesFile}: only a .yaml/.yml rules file gets a sidecar (a JSON file is already fast to load)`);
  let text: string;
  try {
    text = readFile(rulesFile);
  } catch (error) {
    throw new RulesValidationError(`${rulesFile}: cannot read the rules file`, { cause: error });
  }
  const sidecar = buildRulesSidecar(text, rulesFile);
  const engine = compileRules((JSON.parse(sidecar) as RulesSidecar).document, { source: rulesFile, baseDir: dirname(rulesFile), readFile });
  writeFile(sidecarFile, sidecar);
  return { sidecarFile, sourceSha256: sha256Hex(text), rules: engine.info.ruleIds.length };
}

function withWatchlistEntries(doc: unknown, entries: Record<string, unknown[]>): unknown {
  if (doc === null || typeof doc !== 'object') return doc;
  const lists = { ...((doc as { watchlists?: Record<string, Record<string, unknown>> }).watchlists ?? {}) };
  for (const [name, values] of Object.entries(entries)) {
    const { file: _file, ...rest } = lists[name] ?? { type: 'cidrs' };
    lists[name] = { ...rest, entries: values };
  }
  return { ...doc, watchlists: lists };
}

export function loadRuleEngine(config: RulesConfig, deps: LoadDeps = {}): CompiledRuleEngine & { sigma?: SigmaStats } {
  const readFile = deps.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const log = deps.log ?? silentLog;
  let text: string;
  try {
    text = readFile(config.rulesFile);
  } catch (error) {
    throw new ConfigError(`RULES_FILE: cannot read rules file ${config.rulesFile}`, { cause: error });
  }
  const { document: parsed, parsedFrom } = parseRulesFile(config.rulesFile, text, { readFile, log });
  let doc = deps.watchlistEntries ? withWatchlistEntries(parsed, deps.watchlistEntries) : parsed;
  let ruleSource: ((i: number) => string | undefined) | undefined;
  let sigma: SigmaStats | undefined;
  if (config.sigmaRulesDir !== undefined) {
    const loaded = loadSigmaRules(config.sigmaRulesDir, config.sigmaUnsupported ?? 'fail', {
      readFile,
      log,
      readDir: deps.readDir,
      isDirectory: deps.isDirectory,
    });
    sigma = loaded.stats;
    const own = doc !== null && typeof doc === 'object' ? (doc as { rules?: unknown }).rules : undefined;
    if (Array.isArray(own)) {
      // Sigma rules follow the file's rules: one engine, one pass, one eventName index.
      doc = { ...(doc as object), rules: [...(own as unknown[]), ...loaded.rules] };
      const offset = own.length;
      ruleSource = (i) => (i >= offset ? loaded.files[i - offset] : undefined);
    }
  }
  const engine = compileRules(doc, {
    ...(ruleSource ? { ruleSource } : {}),
    source: config.rulesFile,
    baseDir: dirname(config.rulesFile),
    readFile,
    ...(config.timezone !== undefined ? { timezone: config.timezone } : {}),
    ...(config.allowedCountries !== undefined ? { allowedCountries: config.allowedCountries } : {}),
    disabledRules: config.disabledRules,
  });
  log.info('rules compiled', {
    rulesFile: config.rulesFile,
    parsedFrom,
    rules: engine.info.ruleIds.length,
    disabled: engine.info.disabled,
    timezone: engine.info.timezone,
    watchlists: engine.info.watchlists,
    ...(sigma ? { sigma: { dir: config.sigmaRulesDir, ...sigma } } : {}),
  });
  return sigma ? Object.assign(engine, { sigma }) : engine;
}
