import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the Lambda layer mounts its content (`data/` of the repository is the layer content). */
export const LAYER_GEO_DIR = '/opt/geo';

/** `<repo>/data/geo`, written by `npm run build:data`. */
export function repoGeoDir(): string {
  try {
    // src/3-lookup/geo/ → repo root. Bundlers may rewrite import.meta.url; fall back to the working directory.
    return fileURLToPath(new URL('../../../data/geo', import.meta.url));
  } catch {
    return resolve(process.cwd(), 'data/geo');
  }
}

/**
 * The directory of the offline databases: `GEO_DB_DIR` when set; else `/opt/geo` when it exists (the Lambda layer);
 * else `<repo>/data/geo`. The environment is passed in (only config parsers read
 * `process.env`); `exists` is injectable for tests.
 */
export function defaultGeoDbDir(
  env: NodeJS.ProcessEnv | Record<string, string | undefined>,
  exists: (path: string) => boolean = existsSync,
): string {
  const set = env['GEO_DB_DIR']?.trim();
  if (set !== undefined && set !== '') return resolve(set);
  if (exists(LAYER_GEO_DIR)) return LAYER_GEO_DIR;
  return repoGeoDir();
}
