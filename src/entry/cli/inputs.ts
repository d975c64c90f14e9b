import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * Reads CloudTrail events from files as AWS and people write them: CloudTrail log files (`.json.gz` or
 * `.json` with `{"Records": [...]}`), a single event or an array of events (`.json`), NDJSON (`.ndjson`,
 * `.jsonl`, or any file whose text is one JSON value per line). Directories are walked recursively in name
 * order. Yields each event's JSON text.
 */
export async function* readEventTexts(paths: readonly string[]): AsyncGenerator<{ file: string; text: string }> {
  for (const path of paths) {
    for (const file of await listFiles(path)) {
      const raw = await readFile(file);
      const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
      for (const text of eventTextsOf(bytes.toString('utf8'))) yield { file, text };
    }
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
    return trimmed.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  }
  if (Array.isArray(parsed)) return parsed.map((e) => JSON.stringify(e));
  if (parsed !== null && typeof parsed === 'object' && Array.isArray((parsed as { Records?: unknown }).Records)) {
    return ((parsed as { Records: unknown[] }).Records).map((e) => JSON.stringify(e));
  }
  return [trimmed.replace(/[\r\n]+/g, '')];
}

const INPUT_FILE = /\.(json|json\.gz|ndjson|jsonl|gz)$/;

async function listFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (info.isFile()) return [path];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  const files: string[] = [];
  for (const entry of entries) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(full)));
    else if (entry.isFile() && INPUT_FILE.test(entry.name)) files.push(full);
  }
  return files;
}
