/**
 * npm run bench — the transform measured the way a buyer would compare it. Everything runs in one process on
 * the same inputs (except peak RSS and cold start, which need fresh processes), loopback only.
 * Prints a Markdown table; BENCHMARKS.md keeps the figures with this command.
 *
 *   npm run bench                 full run (~1–2 minutes)
 *   npm run bench -- --quick      smaller workloads, fewer repetitions
 *   npm run bench -- --layouts    only the output layouts section (native vs OCSF vs ECS)
 */
import { execFileSync, spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { cpus, totalmem } from 'node:os';
import { mkdtempSync, readFileSync, readdirSync, statSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as esbuild from 'esbuild';
import { loadConfig } from '../src/config/index.ts';
import { createIpIntelligence, openGeoDatabase, type GeoDatabase } from '../src/3-lookup/index.ts';
import { buildStages } from '../src/pipeline/stages.ts';
import { transformBatch, type TransformDeps } from '../src/pipeline/transform.ts';
import type { RecordSink } from '../src/8-deliver/reingest.ts';
import { buildGeoData } from '../scripts/build-geo-data.ts';
import { startDynalite } from '../test/integration/lookup/dynalite.ts';
import { floorPass } from './floor.ts';
import { providerEnv, startProviders } from './providers.ts';
import { benchRules, rulesBenchMarkdown } from './rules.ts';
import { invocations, makeWorkload, publicIpPool, type Workload } from './workload.ts';

const QUICK = process.argv.includes('--quick');
const EVENTS = QUICK ? 3_000 : 10_000;
const REPS = QUICK ? 3 : 7;
const BUFFERS_MB = [0.25, 1, 3];
const GEO_DIR = resolve('data/geo');

const sink: RecordSink = {
  maxBatchRecords: 500,
  maxBatchBytes: 4 * 1024 * 1024,
  sizeOf: (r) => r.data.length,
  putBatch: async () => ({ failed: [] }),
};
const context = { getRemainingTimeInMillis: () => 300_000 };
const ms = (ns: bigint) => Number(ns) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** `npm run bench` runs with --expose-gc: every timed pass starts from a collected heap, so no pass pays for another's garbage. */
const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function timeAll(
  batches: FirehoseTransformationEvent[],
  run: (e: FirehoseTransformationEvent) => unknown,
): Promise<{ total: number; per: number[] }> {
  collect();
  const per: number[] = [];
  const t0 = process.hrtime.bigint();
  for (const e of batches) {
    const t = process.hrtime.bigint();
    await run(e);
    per.push(ms(process.hrtime.bigint() - t));
  }
  return { total: ms(process.hrtime.bigint() - t0), per };
}

interface Row {
  workload: string;
  bufferMb: number;
  invocations: number;
  floorMs: number;
  coldMs: number;
  warmMs: number;
  eventsPerSec: number;
  mbPerSec: number;
  p50: number;
  p99: number;
}

async function throughput(workload: Workload, geo: GeoDatabase, providersEnv: Record<string, string>): Promise<Row[]> {
  const rows: Row[] = [];
  // One warm container per workload: a first pass resolves every IP through the providers and fills its cache.
  const full = loadConfig({ GEO_DB_DIR: GEO_DIR, ...providersEnv });
  const fullRules = buildStages(full, { geo }).rules;
  const warmDeps: TransformDeps = {
    config: full.core,
    intel: await createIpIntelligence(full.lookup, { geo }),
    rules: fullRules,
    sinkFor: () => sink,
  };
  for (const e of invocations(workload, 256 * 1024)) await transformBatch(e, context, warmDeps);
  const compressed = workload.records.reduce((n, r) => n + r.length, 0);
  for (const mb of BUFFERS_MB) {
    const batches = invocations(workload, Math.round(mb * 1024 * 1024));
    const floor: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    let warmPer: number[] = [];
    const offline = loadConfig({ GEO_DB_DIR: GEO_DIR });
    const offlineRules = buildStages(offline, { geo }).rules;
    for (let rep = 0; rep < REPS; rep++) {
      floor.push((await timeAll(batches, floorPass)).total);

      // Cold cache, offline geo only: a fresh lookup stage (empty caches) per repetition; the databases are open
      // and the rules compiled, as after a container's first invocation.
      const coldDeps: TransformDeps = {
        config: offline.core,
        intel: await createIpIntelligence(offline.lookup, { geo }),
        rules: offlineRules,
        sinkFor: () => sink,
      };
      cold.push((await timeAll(batches, (e) => transformBatch(e, context, coldDeps))).total);

      // Warm cache, full enrichment: all four providers enabled, every answer already in the L1 cache.
      const w = await timeAll(batches, (e) => transformBatch(e, context, warmDeps));
      warm.push(w.total);
      warmPer = warmPer.concat(w.per);
    }
    const warmMs = median(warm);
    rows.push({
      workload: workload.name,
      bufferMb: mb,
      invocations: batches.length,
      floorMs: median(floor),
      coldMs: median(cold),
      warmMs,
      eventsPerSec: workload.events / (warmMs / 1000),
      mbPerSec: compressed / 1024 / 1024 / (warmMs / 1000),
      p50: pct(warmPer, 50),
      p99: pct(warmPer, 99),
    });
  }
  return rows;
}

/**
 * Cost of each output layout against native, same process, same warm container state: the realistic workload at
 * 0.25 MB buffers (as deployed), full enrichment (providers answered from L1). Rules run on the native event in every layout, so
 * the difference is the layout alone: native splices the original text, OCSF/ECS build and serialise a document.
 */
async function layoutCosts(workload: Workload, geo: GeoDatabase, providersEnv: Record<string, string>) {
  // 0.25 MB: the deployed Lambda buffer (serverless.yml firehoseLambdaBufferMb).
  const batches = invocations(workload, 256 * 1024);
  const variants: [string, Record<string, string>][] = [
    ['native', {}],
    ['ocsf (raw_data on, default)', { OUTPUT_FORMAT: 'ocsf' }],
    ['ocsf (OCSF_RAW_DATA=false)', { OUTPUT_FORMAT: 'ocsf', OCSF_RAW_DATA: 'false' }],
    ['ecs', { OUTPUT_FORMAT: 'ecs' }],
  ];
  const deps = new Map<string, TransformDeps>();
  const bytesOut = new Map<string, number>();
  for (const [name, env] of variants) {
    const config = loadConfig({ GEO_DB_DIR: GEO_DIR, ...providersEnv, ...env });
    const d: TransformDeps = {
      config: config.core,
      intel: await createIpIntelligence(config.lookup, { geo }),
      rules: buildStages(config, { geo }).rules,
      sinkFor: () => sink,
    };
    let out = 0;
    let returned = 0;
    for (const e of invocations(workload, 256 * 1024)) await transformBatch(e, context, d); // fill the L1 cache
    for (const e of batches) {
      const { result, summary } = await transformBatch(e, context, d);
      for (const r of result.records) out += ((r.data ?? '').length * 3) / 4;
      returned += summary.eventsReturned;
    }
    deps.set(name, d);
    bytesOut.set(name, out / Math.max(1, returned));
  }
  const times = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  const floor: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    floor.push((await timeAll(batches, floorPass)).total);
    // Interleaved, so drift on a shared machine spreads over every variant.
    for (const [name] of variants)
      times.get(name)!.push((await timeAll(batches, (e) => transformBatch(e, context, deps.get(name)!))).total);
  }
  const native = median(times.get('native')!);
  return {
    floorMs: median(floor),
    rows: variants.map(([name]) => {
      const t = median(times.get(name)!);
      return { name, ms: t, vsNative: t / native, vsFloor: t / median(floor), bytesPerEvent: bytesOut.get(name)! };
    }),
  };
}

/** Quantities that drive the bill, scaled to one million events (realistic workload, warm, full enrichment). */
async function perMillion(workload: Workload, geo: GeoDatabase, providersEnv: Record<string, string>, bufferMb: number) {
  const config = loadConfig({ GEO_DB_DIR: GEO_DIR, ...providersEnv });
  const stages = buildStages(config, { geo });
  const reingested: Buffer[] = [];
  const counting: RecordSink = { ...sink, putBatch: async (records) => (records.forEach((r) => reingested.push(r.data)), { failed: [] }) };
  const deps: TransformDeps = { config: config.core, intel: await stages.intel, rules: stages.rules, sinkFor: () => counting };
  const batches = invocations(workload, Math.round(bufferMb * 1024 * 1024));
  for (const e of batches) await transformBatch(e, context, deps); // fill the cache
  reingested.length = 0;
  let out = 0;
  let outGz = 0;
  let records = 0;
  const t0 = process.hrtime.bigint();
  for (const e of batches) {
    const { result } = await transformBatch(e, context, deps);
    for (const r of result.records) {
      if (r.result !== 'Ok') continue;
      const body = Buffer.from(r.data!, 'base64');
      out += body.length;
      outGz += gzipSync(body).length;
      records++;
    }
  }
  const cpuMs = ms(process.hrtime.bigint() - t0);
  const scale = 1_000_000 / workload.events;
  const inBytes = workload.records.reduce((n, r) => n + r.length, 0);
  // Firehose bills each ingested record rounded up to 5 KB.
  const billedIn =
    workload.records.reduce((n, r) => n + Math.max(r.length, 5120), 0) + reingested.reduce((n, r) => n + Math.max(r.length, 5120), 0);
  return {
    rawGb: (workload.eventBytes * scale) / 1e9,
    ingestedGb: (inBytes * scale) / 1e9,
    billedGb: (billedIn * scale) / 1e9,
    reingestedRecords: reingested.length * scale,
    outputGb: (out * scale) / 1e9,
    outputGzGb: (outGz * scale) / 1e9,
    invocations: batches.length * scale,
    cpuSeconds: (cpuMs * scale) / 1000,
    records: records * scale,
  };
}

async function callsPerUniqueIp(workload: Workload, geo: GeoDatabase, providers: Awaited<ReturnType<typeof startProviders>>) {
  const dynamo = await startDynalite(['bench-cache']);
  const commands: Record<string, number> = {};
  const counting = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  counting.middlewareStack.add(
    (next, ctx) => async (args) => {
      const name = String(ctx.commandName ?? '?').replace(/Command$/, '');
      commands[name] = (commands[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  const batches = invocations(workload, 1024 * 1024);
  const env = { GEO_DB_DIR: GEO_DIR, CACHE_TABLE_NAME: 'bench-cache', ...providers.env() };
  const run = async () => {
    const config = loadConfig(env);
    const stages = buildStages(config, { geo, dynamoDb: counting });
    const deps: TransformDeps = { config: config.core, intel: await stages.intel, rules: stages.rules, sinkFor: () => sink };
    return deps;
  };
  const measure = async (deps: TransformDeps) => {
    providers.reset();
    for (const k of Object.keys(commands)) delete commands[k];
    let unique = 0;
    for (const e of batches) unique += (await transformBatch(e, context, deps)).summary.lookup.uniqueIps;
    return { providers: providers.counts(), dynamo: { ...commands }, unique };
  };
  const a = await run();
  const coldRun = await measure(a);
  const warmL1 = await measure(a);
  const b = await run();
  const warmDynamo = await measure(b);
  counting.destroy();
  await dynamo.close();
  return { coldRun, warmL1, warmDynamo };
}

/**
 * 1,000 unique uncached public IPs through all four providers answering after `latencyMs`. The providers run in
 * a separate process, as remote services would, so their CPU is not counted against the lookup.
 */
async function resolveThousand(geo: GeoDatabase, latencyMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/provider-server.ts', String(latencyMs)], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  try {
    const baseUrl = await new Promise<string>((resolveUrl, reject) => {
      child.stdout.once('data', (d: Buffer) => resolveUrl(d.toString('utf8').trim()));
      child.once('exit', () => reject(new Error('provider server exited')));
    });
    // ipstack's bulk endpoint (paid plans) answers up to 50 IPs per request; the other three have none.
    const config = loadConfig({ GEO_DB_DIR: GEO_DIR, ...providerEnv(baseUrl, { IPSTACK_BULK: 'true' }) });
    const intel = await buildStages(config, { geo }).intel;
    // One lookup first loads the HTTP modules (once per container) and opens connections; then 1,000 new IPs.
    await intel.lookup(['192.0.32.10'], { deadline: Date.now() + 60_000 });
    const ips = publicIpPool(1000, 77);
    const t0 = process.hrtime.bigint();
    const { intel: answers, stats } = await intel.lookup(ips, { deadline: Date.now() + 60_000 });
    const elapsed = ms(process.hrtime.bigint() - t0);
    const complete = [...answers.values()].filter((a) => a.complete).length;
    return { elapsed, complete, providerCalls: stats.providerCalls };
  } finally {
    child.kill('SIGTERM');
  }
}

async function bundleAndColdStart() {
  // The same esbuild settings as serverless.yml: minified ESM with code splitting (lazily imported modules in chunks).
  const dir = mkdtempSync(join(tmpdir(), 'cte-bundle-'));
  await esbuild.build({
    entryPoints: ['handlers/transform.ts'],
    bundle: true,
    minify: true,
    keepNames: true,
    splitting: true,
    mainFields: ['module', 'main'],
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    banner: { js: "import { createRequire as __ctCreateRequire } from 'node:module'; const require = __ctCreateRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  const outfile = join(dir, 'transform.mjs');
  // Eager code: the entry and the chunks it imports statically (transitively); the rest loads on first use.
  const eager = new Set<string>();
  const visit = (file: string) => {
    if (eager.has(file)) return;
    eager.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:^|[;}\s])import\s*(?:[^'"()]*?from\s*)?["'](\.\/[^"']+)["']/g))
      visit(join(dirname(file), m[1]!));
  };
  visit(outfile);
  const size = [...eager].reduce((n, f) => n + statSync(f).size, 0);
  const total = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const script = `
    const t0 = performance.now();
    const { handler } = await import(${JSON.stringify(outfile)});
    const tImport = performance.now();
    const data = Buffer.from(JSON.stringify({ eventVersion: '1.09', eventTime: '2026-11-20T10:00:00Z', eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', awsRegion: 'us-east-1', sourceIPAddress: '81.2.69.142', recipientAccountId: '111122223333' })).toString('base64');
    const r = await handler({ invocationId: 'i', deliveryStreamArn: 'arn:aws:firehose:us-east-1:111122223333:deliverystream/x', region: 'us-east-1', records: [{ recordId: '1', approximateArrivalTimestamp: Date.now(), data }] }, { getRemainingTimeInMillis: () => 60000 });
    const tFirst = performance.now();
    if (r.records[0].result !== 'Ok') throw new Error('first invocation failed');
    console.log(JSON.stringify({ importMs: tImport - t0, firstInvocationMs: tFirst - tImport, totalMs: tFirst - t0, rssMb: process.memoryUsage().rss / 1048576 }));`;
  const runs: { importMs: number; firstInvocationMs: number; totalMs: number; rssMb: number }[] = [];
  for (let i = 0; i < (QUICK ? 3 : 5); i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
        GEO_DB_DIR: GEO_DIR,
        AWS_REGION: 'us-east-1',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
        LAMBDA_TASK_ROOT: resolve('.'),
      },
      encoding: 'utf8',
    });
    runs.push(JSON.parse(out.trim().split('\n').pop()!));
  }
  // Peak RSS of the bundled handler (no tsx in the process) over the realistic workload at 3 MB buffers.
  const eventsFile = join(dir, 'events.json');
  writeFileSync(eventsFile, JSON.stringify(invocations(makeWorkload('rss', EVENTS, publicIpPool(300, 1), 11), 3 * 1024 * 1024)));
  const rssOut = execFileSync(process.execPath, ['bench/rss-bundle.mjs', outfile, eventsFile], {
    env: {
      PATH: process.env.PATH,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
      GEO_DB_DIR: GEO_DIR,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      LAMBDA_TASK_ROOT: resolve('.'),
    },
    encoding: 'utf8',
  });
  const bundledMaxRssMb = (JSON.parse(rssOut.trim().split('\n').pop()!) as { maxRssMb: number }).maxRssMb;
  rmSync(dir, { recursive: true, force: true });
  const mid = (k: keyof (typeof runs)[number]) => median(runs.map((r) => r[k]));
  return {
    bundledMaxRssMb,
    bundleBytes: size,
    totalBytes: total,
    importMs: mid('importMs'),
    firstInvocationMs: mid('firstInvocationMs'),
    totalMs: mid('totalMs'),
    rssMb: mid('rssMb'),
  };
}

function peakRss(bufferMb: number): { maxRssMb: number; afterGeoMb: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/rss-child.ts', String(bufferMb), String(EVENTS)], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!) as { maxRssMb: number; afterGeoMb: number };
}

async function main() {
  await buildGeoData();
  const geo = await openGeoDatabase(GEO_DIR);
  const providers = await startProviders();
  const providersEnv = providers.env();
  const realistic = makeWorkload(`realistic (${EVENTS.toLocaleString('en-US')} events, 300 IPs)`, EVENTS, publicIpPool(300, 1), 11);
  const unique = makeWorkload(`worst case (all-unique IPs)`, EVENTS, publicIpPool(EVENTS, 2), 12);

  const log = (s = '') => process.stdout.write(s + '\n');
  log(`# cloudtrail-enricher benchmark — ${new Date().toISOString()}`);
  log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; repetitions: ${REPS} (median)`,
  );
  log(`command: npm run bench${QUICK ? ' -- --quick' : ''}`);
  log(
    `workloads: ${realistic.events} events, ${(realistic.eventBytes / realistic.events).toFixed(0)} B/event average, ${realistic.records.length} CloudWatch Logs records (${realistic.uniquePublicIps} unique public IPs); worst case ${unique.uniquePublicIps} unique public IPs`,
  );
  log();
  const layoutsOnly = process.argv.includes('--layouts');
  {
    const l = await layoutCosts(realistic, geo, providersEnv);
    log(
      '## Output layouts (realistic workload, 0.25 MB buffers as deployed, warm cache, full enrichment; rules always on the native event)',
    );
    log();
    log(`floor (decode + parse + serialise, no enrichment): ${l.floorMs.toFixed(1)} ms`);
    log();
    log('| layout | ms | ÷ native | ÷ floor | output bytes per event (returned, uncompressed) |');
    log('| --- | --- | --- | --- | --- |');
    for (const r of l.rows)
      log(
        `| ${r.name} | ${r.ms.toFixed(1)} | **${r.vsNative.toFixed(2)}×** | ${r.vsFloor.toFixed(2)}× | ${Math.round(r.bytesPerEvent).toLocaleString('en-US')} |`,
      );
    log();
  }
  if (layoutsOnly) {
    await providers.close();
    return;
  }
  log(
    '## Throughput (warm = full enrichment, all four providers enabled, answers in the L1 cache; cold = new container, offline geo only)',
  );
  log();
  log(
    '| workload | buffer | invocations | floor ms | cold ms | warm ms | warm ÷ floor | cold ÷ floor | events/s (warm) | MB/s in (warm) | p50 ms/inv | p99 ms/inv |',
  );
  log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const results = [];
  for (const w of [realistic, unique]) {
    for (const r of await throughput(w, geo, providersEnv)) {
      results.push(r);
      log(
        `| ${r.workload} | ${r.bufferMb} MB | ${r.invocations} | ${r.floorMs.toFixed(1)} | ${r.coldMs.toFixed(1)} | ${r.warmMs.toFixed(1)} | **${(r.warmMs / r.floorMs).toFixed(2)}×** | **${(r.coldMs / r.floorMs).toFixed(2)}×** | ${Math.round(r.eventsPerSec).toLocaleString('en-US')} | ${r.mbPerSec.toFixed(2)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
      );
    }
  }
  log();
  log('## Per million events (realistic workload, warm cache, full enrichment; inputs to the cost table in the README)');
  log();
  log(
    '| Lambda buffer | raw CloudTrail GB | ingested (compressed) GB | Firehose-billed GB (5 KB rounding, incl. re-ingested) | re-ingested records | NDJSON out GB | out gzip GB | invocations | Lambda CPU s (this machine, 1 core) |',
  );
  log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const mb of [0.25, 1]) {
    const m = await perMillion(realistic, geo, providersEnv, mb);
    log(
      `| ${mb} MB | ${m.rawGb.toFixed(2)} | ${m.ingestedGb.toFixed(3)} | ${m.billedGb.toFixed(3)} | ${Math.round(m.reingestedRecords)} | ${m.outputGb.toFixed(2)} | ${m.outputGzGb.toFixed(3)} | ${Math.round(m.invocations)} | ${m.cpuSeconds.toFixed(1)} |`,
    );
  }
  log();
  log('## Calls per unique IP (realistic workload, 1 MB buffers, DynamoDB = dynalite, providers = loopback)');
  const calls = await callsPerUniqueIp(realistic, geo, providers);
  log();
  log('| phase | unique public IPs (Σ per invocation) | provider requests | DynamoDB commands |');
  log('| --- | --- | --- | --- |');
  for (const [phase, c] of [
    ['new container, empty table', calls.coldRun],
    ['same container again (L1 warm)', calls.warmL1],
    ['new container, table warm', calls.warmDynamo],
  ] as const) {
    log(`| ${phase} | ${c.unique} | ${JSON.stringify(c.providers)} | ${JSON.stringify(c.dynamo)} |`);
  }
  log();
  const thousand = await resolveThousand(geo, 50);
  log(
    `## 1,000 unique uncached IPs, 4 providers at 50 ms latency (per provider: concurrency 64, rate 2,000/s; ipstack bulk; providers in another process)`,
  );
  log();
  log(
    `resolved in **${thousand.elapsed.toFixed(0)} ms**; complete ${thousand.complete}/1000; provider lookups ${thousand.providerCalls} (4 × 1,000; ipstack in bulk requests of 50)`,
  );
  log();
  log(rulesBenchMarkdown(benchRules(QUICK ? 5_000 : 20_000, REPS)));
  log();
  const rss = peakRss(3);
  log(`## Memory`);
  log();
  log(
    `peak RSS processing the realistic workload at 3 MB buffers, source through tsx (adds the TypeScript loader): ${rss.maxRssMb.toFixed(0)} MiB (of which after opening the geo databases: ${rss.afterGeoMb.toFixed(0)} MiB)`,
  );
  log();
  const cold = await bundleAndColdStart();
  log('## Cold start (bundled handler, minified, no geo data in the bundle)');
  log();
  log();
  log(
    `peak RSS of the bundled handler (as deployed) over the realistic workload at 3 MB buffers: **${cold.bundledMaxRssMb.toFixed(0)} MiB**`,
  );
  log();
  log(
    `handler bundle (loaded at cold start) **${(cold.bundleBytes / 1024).toFixed(0)} KiB** of ${(cold.totalBytes / 1024).toFixed(0)} KiB in all (lazy chunks load on first use); import ${cold.importMs.toFixed(0)} ms + first invocation ${cold.firstInvocationMs.toFixed(0)} ms = **${cold.totalMs.toFixed(0)} ms**; RSS after ${cold.rssMb.toFixed(0)} MiB`,
  );
  await providers.close();
}

await main();
