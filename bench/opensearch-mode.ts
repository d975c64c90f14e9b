/**
 * Cost of OUTPUT_MODE=opensearch's document building (mapping check, re-serialisation, search copies) against
 * S3 mode, over the sample's events, in the same process: `node --expose-gc --import tsx bench/opensearch-mode.ts`.
 * Prints the ratio of the medians (opensearch / s3) of enrichEventGroups with the bundled geo data and rules.
 */
import { parseEventText } from '../src/1-decode/event-text.ts';
import { readEventTexts } from '../src/entry/cli/inputs.ts';
import { loadConfig } from '../src/config/index.ts';
import { emptyEnrichCounters, enrichEventGroups } from '../src/pipeline/enrich.ts';
import { buildStages } from '../src/pipeline/stages.ts';

const texts: string[] = [];
for await (const { text } of readEventTexts(['sample'])) texts.push(text);
const config = loadConfig({ ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' });
const stages = buildStages(config);
const intel = await stages.intel;
const gc = (globalThis as { gc?: () => void }).gc;

async function pass(mode: 's3' | 'opensearch'): Promise<number> {
  const events = texts.map(parseEventText);
  gc?.();
  const t = process.hrtime.bigint();
  await enrichEventGroups(
    [{ events, arrival: Date.now() }],
    { config: { ...config.core, outputMode: mode }, intel, rules: stages.rules },
    Date.now() + 60_000,
    emptyEnrichCounters(),
  );
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
const s3: number[] = [];
const os: number[] = [];
// Warm-up (L1 cache, JIT).
for (let i = 0; i < 3; i++) {
  await pass('s3');
  await pass('opensearch');
}
for (let i = 0; i < 15; i++) {
  s3.push(await pass('s3'));
  os.push(await pass('opensearch'));
}
console.log(
  `events ${texts.length} · s3 median ${median(s3).toFixed(2)} ms · opensearch median ${median(os).toFixed(2)} ms · ratio ${(median(os) / median(s3)).toFixed(2)}×`,
);
