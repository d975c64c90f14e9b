/** Child process of the benchmark: peak RSS of a container processing the realistic workload at one buffer size. */
import { resolve } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { buildStages } from '../src/pipeline/stages.ts';
import { transformBatch } from '../src/pipeline/transform.ts';
import { invocations, makeWorkload, publicIpPool } from './workload.ts';

const bufferMb = Number(process.argv[2] ?? 3);
const events = Number(process.argv[3] ?? 10_000);
const config = loadConfig({ GEO_DB_DIR: resolve('data/geo') });
const stages = buildStages(config);
const intel = await stages.intel;
const afterGeoMb = process.memoryUsage().rss / 1048576;
const workload = makeWorkload('rss', events, publicIpPool(300, 1), 11);
const batches = invocations(workload, Math.round(bufferMb * 1024 * 1024));
const sink = {
  maxBatchRecords: 500,
  maxBatchBytes: 4 * 1024 * 1024,
  sizeOf: (r: { data: Buffer }) => r.data.length,
  putBatch: async () => ({ failed: [] }),
};
for (const e of batches)
  await transformBatch(
    e,
    { getRemainingTimeInMillis: () => 300_000 },
    { config: config.core, intel, rules: stages.rules, sinkFor: () => sink },
  );
console.log(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024, afterGeoMb }));
