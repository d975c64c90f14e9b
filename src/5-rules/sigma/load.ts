/**
 * Reads a directory of Sigma rules (recursively; `.yml`/`.yaml` files, hidden entries skipped) or one Sigma
 * file at cold start and translates the CloudTrail rules among them (see ./translate.ts).
 *
 * - Rules for other log sources, and correlation rules, are skipped and counted.
 * - A CloudTrail rule that uses an unsupported Sigma feature fails the cold start with a
 *   {@link SigmaRuleError} naming the file and the feature; with `unsupported: 'skip'`
 *   (SIGMA_UNSUPPORTED=skip) it is skipped with one warning.
 * - A file that is not valid YAML, or a CloudTrail rule that is not a valid Sigma rule, always fails.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SigmaRuleError } from '../../errors.ts';
import { silentLog, type Log } from '../../model.ts';
import type { RuleDoc } from '../documents.ts';
import { isCloudTrailLogsource, translateSigma } from './translate.ts';

export type SigmaUnsupportedMode = 'fail' | 'skip';

export interface SigmaDirEntry {
  name: string;
  isDirectory: boolean;
}

export interface SigmaLoadDeps {
  readFile?: (path: string) => string;
  /** Entries of a directory (default: `fs.readdirSync` with file types). */
  readDir?: (path: string) => SigmaDirEntry[];
  /** Whether a path is a directory (default: `fs.statSync`). */
  isDirectory?: (path: string) => boolean;
  log?: Log;
}

export interface SigmaStats {
  files: number;
  loaded: number;
  skippedLogsource: number;
  skippedCorrelation: number;
  skippedUnsupported: number;
}

export interface SigmaLoadResult {
  rules: RuleDoc[];
  /** The file of each rule in `rules` (same order). */
  files: string[];
  stats: SigmaStats;
}

/** Bounds that keep a mistaken SIGMA_RULES_DIR (a home directory, a whole checkout) from stalling a cold start. */
const MAX_FILES = 10_000;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_DEPTH = 16;

function defaultReadDir(path: string): SigmaDirEntry[] {
  return readdirSync(path, { withFileTypes: true }).map((d) => ({ name: d.name, isDirectory: d.isDirectory() }));
}

/** The Sigma files under `root` (or `root` itself when it is a file), sorted, so load order is stable. */
export function listSigmaFiles(root: string, deps: SigmaLoadDeps = {}): string[] {
  const readDir = deps.readDir ?? defaultReadDir;
  const isDirectory = deps.isDirectory ?? ((p: string) => statSync(p).isDirectory());
  let rootIsDir: boolean;
  try {
    rootIsDir = isDirectory(root);
  } catch (error) {
    throw new SigmaRuleError(`${root}: cannot read the Sigma rules directory (SIGMA_RULES_DIR)`, { cause: error });
  }
  if (!rootIsDir) return [root];
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > MAX_DEPTH) throw new SigmaRuleError(`${dir}: Sigma rules nested deeper than ${MAX_DEPTH} directories`);
    const entries = readDir(dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory) walk(path, depth + 1);
      else if (/\.ya?ml$/i.test(entry.name)) {
        out.push(path);
        if (out.length > MAX_FILES)
          throw new SigmaRuleError(`${root}: more than ${MAX_FILES} Sigma files (is SIGMA_RULES_DIR the rules folder?)`);
      }
    }
  };
  walk(root, 0);
  return out;
}

/** Loads and translates the Sigma rules at `root` (a directory, read recursively, or one file). */
export function loadSigmaRules(root: string, mode: SigmaUnsupportedMode, deps: SigmaLoadDeps = {}): SigmaLoadResult {
  const readFile = deps.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const log = deps.log ?? silentLog;
  const files = listSigmaFiles(root, deps);
  const result: SigmaLoadResult = {
    rules: [],
    files: [],
    stats: { files: files.length, loaded: 0, skippedLogsource: 0, skippedCorrelation: 0, skippedUnsupported: 0 },
  };
  const seen = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = readFile(file);
    } catch (error) {
      throw new SigmaRuleError(`${file}: cannot read the Sigma rule`, { cause: error });
    }
    if (text.length > MAX_FILE_BYTES) throw new SigmaRuleError(`${file}: larger than ${MAX_FILE_BYTES} bytes, not a Sigma rule`);
    const docs = parseAllDocuments(text, { version: '1.2', uniqueKeys: true, prettyErrors: true });
    const list = Array.isArray(docs) ? docs : [docs];
    for (const d of list) {
      if (d.errors.length > 0) {
        const first = d.errors[0]!;
        const pos = first.linePos?.[0];
        throw new SigmaRuleError(
          `${file}: not valid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${first.message.split('\n')[0]}`,
          { cause: first },
        );
      }
    }
    const values = list.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown).filter((v) => v !== null && v !== undefined);
    const unsupported = (feature: string, title?: string): void => {
      const message = `${file}: Sigma rule${title ? ` "${title}"` : ''} uses ${feature}, which is not supported`;
      if (mode === 'fail') throw new SigmaRuleError(`${message} (SIGMA_UNSUPPORTED=skip skips such rules with a warning)`);
      result.stats.skippedUnsupported++;
      log.warn('Sigma rule skipped: unsupported feature', { file, ...(title ? { title } : {}), feature });
    };
    if (values.length !== 1) {
      const cloudtrail = values.some(
        (v) => v !== null && typeof v === 'object' && isCloudTrailLogsource((v as { logsource?: unknown }).logsource),
      );
      if (values.length === 0) continue;
      if (cloudtrail) unsupported('a rule collection (several YAML documents in one file)');
      else result.stats.skippedLogsource++;
      continue;
    }
    const translated = translateSigma(values[0], basename(file));
    switch (translated.kind) {
      case 'skipped':
        if (translated.reason === 'logsource') result.stats.skippedLogsource++;
        else result.stats.skippedCorrelation++;
        break;
      case 'unsupported':
        unsupported(translated.feature, translated.title);
        break;
      case 'invalid':
        throw new SigmaRuleError(`${file}: Sigma rule${translated.title ? ` "${translated.title}"` : ''} ${translated.message}`);
      case 'rule': {
        const previous = seen.get(translated.rule.id);
        if (previous !== undefined)
          throw new SigmaRuleError(`${file}: Sigma rule id ${translated.rule.id.slice('sigma.'.length)} is also the id of ${previous}`);
        seen.set(translated.rule.id, file);
        result.rules.push(translated.rule);
        result.files.push(file);
        result.stats.loaded++;
      }
    }
  }
  return result;
}
