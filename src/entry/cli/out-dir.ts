import { lstat, readdir, readFile, realpath, rm, rmdir, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** The file `run` writes into every output directory, so a later run knows the directory is its own. */
export const OUTPUT_MARKER = '.cloudtrail-enricher-run.json';

interface Marker {
  readonly tool: 'cloudtrail-enricher run';
  readonly objects: readonly string[];
}

export type OutDirCheck =
  | {
      readonly ok: true;
      readonly outDir: string;
      readonly previous?: { readonly objects: readonly string[]; readonly extra: readonly string[] };
    }
  | { readonly ok: false; readonly error: string };

/** True when `inner` is `outer` itself or lies below it. */
export function isInside(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Real path of an existing path, or the real path of its nearest existing parent joined with the rest. */
async function realish(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    if (parent === abs) return abs;
    return join(await realish(parent), abs.slice(parent.length));
  }
}

async function listTree(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listTree(full, base)));
    else out.push(relative(base, full).split(sep).join('/'));
  }
  return out;
}

/**
 * Decides whether `run` may write into `outDir`. Allowed: an absent directory, an empty one, or a previous output
 * of `run` (it holds the marker) that holds nothing else; `force` also replaces a previous output that someone
 * added files to. Never: a directory without the marker that holds anything, a symbolic link, or a directory that
 * holds (or is a parent of) an input. `inputs` are the real paths of every input path and file.
 */
export async function checkOutDir(outDir: string, inputs: readonly string[], force: boolean): Promise<OutDirCheck> {
  const abs = resolve(outDir);
  const shown = outDir;
  if (await exists(abs)) {
    const info = await lstat(abs);
    if (info.isSymbolicLink())
      return { ok: false, error: `--out ${shown} is a symbolic link; give the directory it points to, or a new directory` };
    if (!info.isDirectory())
      return { ok: false, error: `--out ${shown} is a file, not a directory; choose a new directory (e.g. --out enriched-out)` };
  }
  const real = await realish(abs);
  for (const input of inputs) {
    const realInput = await realish(input);
    if (isInside(realInput, real)) {
      return {
        ok: false,
        error: `--out ${shown} holds the input ${input}; run never writes where its inputs are: choose another directory (e.g. --out ../enriched-out)`,
      };
    }
  }
  if (!(await exists(abs))) return { ok: true, outDir: abs };
  const entries = await readdir(abs);
  if (entries.length === 0) return { ok: true, outDir: abs };
  const marker = await readMarker(abs);
  if (marker === undefined) {
    return {
      ok: false,
      error: `--out ${shown} is not empty and is not an earlier output of run (no ${OUTPUT_MARKER}); choose a new or empty directory`,
    };
  }
  const written = new Set(marker.objects);
  const extra = (await listTree(abs)).filter((f) => f !== OUTPUT_MARKER && !written.has(f));
  if (extra.length > 0 && !force) {
    return {
      ok: false,
      error: `--out ${shown} is an earlier output of run but also holds ${extra.length} file(s) run did not write (e.g. ${extra[0]}); move them, or pass --force to replace that output with them`,
    };
  }
  return { ok: true, outDir: abs, previous: { objects: marker.objects, extra } };
}

async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, OUTPUT_MARKER), 'utf8')) as Partial<Marker>;
    if (parsed.tool !== 'cloudtrail-enricher run' || !Array.isArray(parsed.objects)) return undefined;
    return { tool: parsed.tool, objects: parsed.objects.filter((o): o is string => typeof o === 'string' && !o.split('/').includes('..')) };
  } catch {
    return undefined;
  }
}

/** Empties a directory `checkOutDir` accepted: removes what the earlier run wrote (and, with --force, the rest). */
export async function clearOutDir(check: Extract<OutDirCheck, { ok: true }>): Promise<void> {
  const { outDir, previous } = check;
  if (previous === undefined) return;
  for (const file of [...previous.objects, ...previous.extra]) await rm(join(outDir, ...file.split('/')), { force: true });
  await removeEmptyDirs(outDir, false);
  await rm(join(outDir, OUTPUT_MARKER), { force: true });
}

async function removeEmptyDirs(dir: string, self: boolean): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true }))
    if (entry.isDirectory()) await removeEmptyDirs(join(dir, entry.name), true);
  if (self && (await readdir(dir)).length === 0) await rmdir(dir);
}

/** Marks `outDir` as written by run, listing the objects (so a later run replaces exactly those). */
export async function writeMarker(outDir: string, objects: readonly string[]): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const marker: Marker = { tool: 'cloudtrail-enricher run', objects };
  await writeFile(join(outDir, OUTPUT_MARKER), JSON.stringify(marker, null, 2) + '\n');
}
