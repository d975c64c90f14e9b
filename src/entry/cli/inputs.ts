import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { OUTPUT_MARKER } from './out-dir.ts';

/**
 * Reads CloudTrail events from files as AWS and people write them: CloudTrail log files (`.json.gz` or
 * `.json` with `{"Records": [...]}`), a single event or an array of events (`.json`), NDJSON (`.ndjson`,
 * `.jsonl`, `.log`, or any file whose text is one JSON value per line). Directories are walked recursively in
 * name order, following symbolic links; a file named directly is read whatever its extension.
 */
export const INPUT_EXTENSIONS = ['.json', '.json.gz', '.gz', '.ndjson', '.jsonl', '.log'] as const;
const INPUT_FILE = /\.(json|json\.gz|gz|ndjson|jsonl|log)$/;

export type SkipReason = 'extension' | 'empty' | 'digest' | 'symlink loop' | 'earlier run output' | 'not a regular file';

export interface Skipped {
  readonly path: string;
  readonly reason: SkipReason;
}

export interface Unreadable {
  readonly path: string;
  readonly reason: string;
}

export interface Walk {
  readonly files: string[];
  readonly skipped: Skipped[];
  readonly unreadable: Unreadable[];
}

/** Lists the input files of the given paths; a path that does not exist is `unreadable`, never a throw. */
export async function walkInputs(paths: readonly string[]): Promise<Walk> {
  const walk: Walk = { files: [], skipped: [], unreadable: [] };
  for (const path of paths) await visit(path, walk, new Set(), true);
  return walk;
}

async function visit(path: string, walk: Walk, ancestors: Set<string>, named: boolean): Promise<void> {
  let info;
  try {
    info = await stat(path); // follows symbolic links
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') walk.skipped.push({ path, reason: 'symlink loop' });
    else walk.unreadable.push({ path, reason: code === 'ENOENT' ? 'no such file or directory' : describeFsError(err) });
    return;
  }
  if (info.isFile()) {
    if (named || INPUT_FILE.test(path)) walk.files.push(path);
    else walk.skipped.push({ path, reason: 'extension' });
    return;
  }
  if (!info.isDirectory()) {
    walk.skipped.push({ path, reason: 'not a regular file' });
    return;
  }
  const real = await realpath(path);
  if (ancestors.has(real)) {
    walk.skipped.push({ path, reason: 'symlink loop' });
    return;
  }
  let names: string[];
  try {
    names = (await readdir(path)).sort((a, b) => a.localeCompare(b));
  } catch (err) {
    walk.unreadable.push({ path, reason: describeFsError(err) });
    return;
  }
  if (names.includes(OUTPUT_MARKER)) {
    walk.skipped.push({ path, reason: 'earlier run output' });
    return;
  }
  const inner = new Set(ancestors).add(real);
  for (const name of names) await visit(join(path, name), walk, inner, false);
}

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES') return 'permission denied';
  if (e.code === 'EISDIR') return 'is a directory';
  return e.code ?? e.message;
}

export type FileContent =
  | { readonly kind: 'events'; readonly texts: string[] }
  | { readonly kind: 'skipped'; readonly reason: 'empty' | 'digest' }
  | { readonly kind: 'unreadable'; readonly reason: string };

/** Reads one input file; a truncated or corrupt gzip file is `unreadable` with the reason, never a throw. */
export async function readInputFile(file: string): Promise<FileContent> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (err) {
    return { kind: 'unreadable', reason: describeFsError(err) };
  }
  let bytes = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return {
        kind: 'unreadable',
        reason: code === 'Z_BUF_ERROR' ? 'truncated gzip file (unexpected end of file)' : `corrupt gzip file (${(err as Error).message})`,
      };
    }
  }
  const content = bytes.toString('utf8');
  if (content.trim().length === 0) return { kind: 'skipped', reason: 'empty' };
  if (isDigest(content)) return { kind: 'skipped', reason: 'digest' };
  return { kind: 'events', texts: eventTextsOf(content) };
}

/** A CloudTrail digest file: hashes and signatures of log files, no events. */
export function isDigest(content: string): boolean {
  if (!content.includes('"digestStartTime"')) return false;
  try {
    const parsed = JSON.parse(content) as Record<string, unknown>;
    return parsed !== null && typeof parsed === 'object' && Object.hasOwn(parsed, 'digestStartTime') && Array.isArray(parsed.logFiles);
  } catch {
    return false;
  }
}

/** Every event text of the given paths (kept for callers that need no report; skips what cannot be read). */
export async function* readEventTexts(paths: readonly string[]): AsyncGenerator<{ file: string; text: string }> {
  const walk = await walkInputs(paths);
  if (walk.unreadable.length > 0) throw new Error(`${walk.unreadable[0]!.path}: ${walk.unreadable[0]!.reason}`);
  for (const file of walk.files) {
    const content = await readInputFile(file);
    if (content.kind === 'events') for (const text of content.texts) yield { file, text };
  }
}

export function eventTextsOf(content: string): string[] {
  const trimmed = content.trim();
  if (trimmed.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    // Not one JSON value: NDJSON, one event per non-empty line, kept verbatim.
    return trimmed
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
  }
  if (Array.isArray(parsed)) return parsed.map((e) => JSON.stringify(e));
  if (parsed !== null && typeof parsed === 'object' && Array.isArray((parsed as { Records?: unknown }).Records)) {
    return (parsed as { Records: unknown[] }).Records.map((e) => JSON.stringify(e));
  }
  return [trimmed.replace(/[\r\n]+/g, '')];
}
