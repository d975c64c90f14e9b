/**
 * Pre-package check of the geo layer (data/geo → /opt/geo): it must exist and leave room for the functions.
 *
 * Lambda allows 250 MB (262,144,000 bytes) unzipped for a function and all its layers together. The
 * transform bundle is ~1.2 MiB unzipped plus the rules; 16 MiB of headroom is kept for it and for growth.
 * (A directly uploaded layer zip is limited to 50 MB; serverless uploads through the deployment bucket,
 * where the limit does not apply.)
 *
 * Usage: node scripts/check-layer-size.mjs [<layer root, default data>]
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const LAMBDA_UNZIPPED_LIMIT_BYTES = 262_144_000;
const FUNCTION_HEADROOM_BYTES = 16 * 1024 * 1024;

async function sizeOf(dir) {
  let total = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    total += (await stat(join(entry.parentPath ?? entry.path, entry.name))).size;
    files += 1;
  }
  return { total, files };
}

const root = resolve(process.argv[2] ?? 'data');
const geo = join(root, 'geo');
let size;
try {
  size = await sizeOf(geo);
} catch {
  console.error(`check-layer-size: ${geo} does not exist — run "npm run build:data" first`);
  process.exit(1);
}
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const budget = LAMBDA_UNZIPPED_LIMIT_BYTES - FUNCTION_HEADROOM_BYTES;
if (size.files === 0) {
  console.error(`check-layer-size: ${geo} is empty — run "npm run build:data"`);
  process.exit(1);
}
if (size.total > budget) {
  console.error(
    `check-layer-size: ${geo} is ${mb(size.total)}; with the function it would exceed Lambda's 250 MB (262,144,000 bytes, 250.0 MiB) unzipped limit ` +
      `(budget for the layer: ${mb(budget)}). Drop a database (e.g. the IPv6 city file) or ship it from S3.`,
  );
  process.exit(1);
}
console.log(`check-layer-size: geo layer ${mb(size.total)} in ${size.files} files (budget ${mb(budget)})`);
