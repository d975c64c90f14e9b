/**
 * npm run bench:profile — runs the warm, full-enrichment path over the realistic workload repeatedly under
 * `node --cpu-prof`, so the hot path can be read in a profile (written to bench/results/*.cpuprofile).
 */
import { resolve } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { buildStages } from '../src/pipeline/stages.ts';
import { transformBatch } from '../src/pipeline/transform.ts';
import { startProviders } from './providers.ts';
import { invocations, makeWorkload, publicIpPool } from './workload.ts';

const providers = await startProviders();
const config = loadConfig({ GEO_DB_DIR: resolve('data/geo'), ...providers.env() });
const stages = buildStages(config);
const intel = await stages.intel;
const batches = invocations(makeWorkload('profile', 10_000, publicIpPool(300, 1), 11), Number(process.env.BUFFER ?? 1048576));
const sink = {
  maxBatchRecords: 500,
  maxBatchBytes: 4 * 1024 * 1024,
  sizeOf: (r: { data: Buffer }) => r.data.length,
  putBatch: async () => ({ failed: [] }),
};
const deps = { config: config.core, intel, rules: stages.rules, sinkFor: () => sink };
const rounds = Number(process.argv[2] ?? 20);
const t0 = performance.now();
for (let i = 0; i < rounds; i++) for (const e of batches) await transformBatch(e, { getRemainingTimeInMillis: () => 300_000 }, deps);
console.log(`${rounds} rounds × ${batches.length} invocations in ${(performance.now() - t0).toFixed(0)} ms`);
await providers.close();
