import type { BaselineStage } from '../../4-baseline/stage.ts';
import type { ThresholdCounter } from '../../5-rules/thresholds/stage.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AlertStage } from '../../6-alert/stage.ts';
import type { Finding } from '../../6-alert/finding.ts';
import type { PartitionKeys, Priority } from '../../model.ts';
import type { InvocationSummary } from '../../pipeline/transform.ts';
import { createTransformHandler, type TransformHandler } from '../../pipeline/handler.ts';
import type { CoreConfig } from '../../config/core.ts';
import type { IpIntelligence } from '../../3-lookup/types.ts';
import type { RuleEngine } from '../../5-rules/types.ts';
import { INPUT_EXTENSIONS, readInputFile, walkInputs, type Skipped, type Unreadable } from './inputs.ts';
import { checkOutDir, clearOutDir, writeMarker } from './out-dir.ts';
import { UserError } from './user-error.ts';
import { LocalFirehose } from './local-firehose.ts';
import { CloudWatchLogsPacker } from '../../codec/cloudwatch-logs-pack.ts';
import { writeS3Layout } from './s3-layout.ts';
import { writeReport } from './report-html.ts';

export interface RunOptions {
  readonly inputs: readonly string[];
  readonly outDir: string;
  readonly bufferBytes: number;
  /** Replace an earlier output of run even when files were added to it. */
  readonly force?: boolean;
  /** Where partitions go under the output directory (default `enriched/`; OCSF: Security Lake's `ext/…`). */
  readonly prefix?: string;
  /** Builds the handler around the sink the local Firehose re-ingests into. */
  readonly makeHandler: (sink: LocalFirehose['sink'], onSummary: (s: InvocationSummary) => void) => TransformHandler;
  readonly write?: (line: string) => void;
  readonly progress?: (line: string) => void;
  /** The findings the run would send (written to <out>/findings.ndjson). */
  readonly findings?: { readonly findings: readonly Finding[] };
}

export interface RunTotals {
  eventsRead: number;
  cwlRecords: number;
  invocations: number;
  records: { ok: number; dropped: number; processingFailed: number };
  eventsIn: number;
  eventsDelivered: number;
  reingestedRecords: number;
  reingestedEvents: number;
  skipped: number;
  partial: number;
  byPriority: Partial<Record<Priority, number>>;
  countries: Record<string, number>;
  networks: Record<string, number>;
  uniqueIps: number;
  cacheHits: number;
  providerCalls: number;
  partitions: number;
  objects: string[];
  failureReasons: Record<string, number>;
  findings: number;
  findingsByPriority: Partial<Record<Priority, number>>;
  /** A few findings, highest priority first, as one readable line each. */
  topFindings: string[];
  /** Inputs not read, and why (extension, empty, digest, symlink loop, earlier run output). */
  skippedInputs: Skipped[];
  /** Inputs that could not be read (missing, truncated or corrupt gzip, permission): the run exits 1. */
  unreadable: Unreadable[];
  /** 0 every event delivered and every input read; 1 otherwise. */
  exitCode: 0 | 1;
  /** Path of the HTML report (report.html in the output directory). */
  report?: string;
}

/**
 * The real transform handler with the given stages, re-ingesting into the local stream (no AWS client is used).
 */
export function localHandler(
  core: CoreConfig,
  stages: {
    intel?: Promise<IpIntelligence>;
    baseline?: BaselineStage;
    rules?: RuleEngine;
    thresholds?: ThresholdCounter;
    alerts?: AlertStage;
  },
): RunOptions['makeHandler'] {
  const noClient = (): never => {
    throw new Error('the local run re-ingests in process');
  };
  return (sink, onSummary) =>
    createTransformHandler({
      config: core,
      intel: stages.intel,
      baseline: stages.baseline,
      rules: stages.rules,
      thresholds: stages.thresholds,
      alerts: stages.alerts,
      firehose: noClient,
      kinesis: noClient,
      sinkFor: () => sink,
      onSummary,
    });
}

/**
 * `cloudtrail-enricher run`: CloudTrail files → CloudWatch Logs subscription batches → a local Firehose
 * with the real handler → `out/` in the S3 layout Firehose writes.
 */
export async function runLocal(options: RunOptions): Promise<RunTotals> {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const progress = options.progress ?? ((line: string) => process.stderr.write(line + '\n'));
  const totals = emptyTotals();
  const recordFailures = new Map<string, string>();
  const onSummary = (s: InvocationSummary) => {
    totals.records.ok += s.ok;
    totals.records.dropped += s.dropped;
    totals.records.processingFailed += s.processingFailed;
    totals.eventsIn += s.eventsIn;
    totals.eventsDelivered += s.eventsReturned + s.passthroughEvents;
    totals.reingestedEvents += s.eventsReingested;
    totals.skipped += s.skipped;
    totals.partial += s.partial;
    totals.uniqueIps += s.lookup.uniqueIps;
    totals.cacheHits += s.lookup.l1Hits + s.lookup.cacheHits;
    totals.providerCalls += s.lookup.providerCalls;
    for (const [k, v] of Object.entries(s.byPriority)) totals.byPriority[k as Priority] = (totals.byPriority[k as Priority] ?? 0) + v;
    for (const [k, v] of Object.entries(s.countries)) totals.countries[k] = (totals.countries[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.networks)) totals.networks[k] = (totals.networks[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.failureReasons)) totals.failureReasons[k] = (totals.failureReasons[k] ?? 0) + v;
    for (const [id, reason] of Object.entries(s.recordFailures ?? {})) recordFailures.set(id, reason);
  };

  // Decide before reading anything whether --out may be written: never a directory run did not write, never
  // one that holds an input.
  const walk = await walkInputs(options.inputs);
  totals.skippedInputs = walk.skipped;
  totals.unreadable = walk.unreadable;
  const outCheck = await checkOutDir(options.outDir, [...options.inputs, ...walk.files], options.force === true);
  if (!outCheck.ok) throw new UserError(outCheck.error, 'run');

  // The handler needs the local stream's sink and the stream needs the handler: bind through a closure.
  let lastProgress = 0;
  const firehose: LocalFirehose = new LocalFirehose({
    handler: (event, context) => handler(event, context),
    bufferBytes: options.bufferBytes,
    onInvocation: ({ invocation }) => {
      const t = Date.now();
      if (t - lastProgress >= 1000) {
        lastProgress = t;
        progress(
          `  … ${invocation} invocations, ${totals.eventsDelivered.toLocaleString('en-US')} of ${totals.eventsRead.toLocaleString('en-US')} events delivered`,
        );
      }
    },
  });
  const handler = options.makeHandler(firehose.sink, onSummary);
  const packer = new CloudWatchLogsPacker((data) => {
    totals.cwlRecords++;
    firehose.put(data);
  });
  for (const file of walk.files) {
    const content = await readInputFile(file);
    if (content.kind === 'skipped') {
      totals.skippedInputs.push({ path: file, reason: content.reason });
      continue;
    }
    if (content.kind === 'unreadable') {
      totals.unreadable.push({ path: file, reason: content.reason });
      continue;
    }
    for (const text of content.texts) {
      totals.eventsRead++;
      packer.add(text);
      // Invoke as the buffer fills, as Firehose would, so memory stays bounded on long inputs.
      if (firehose.pending >= 2000) await firehose.drain();
    }
  }
  packer.flush();
  await firehose.drain();

  await clearOutDir(outCheck);
  const layout = await writeS3Layout(firehose.deliveries, firehose.failed, {
    outDir: outCheck.outDir,
    prefix: options.prefix,
    reasonOf: (id) => recordFailures.get(id),
  });
  await mkdir(outCheck.outDir, { recursive: true }); // no events: nothing of the layout was written
  totals.report = await writeReport(
    outCheck.outDir,
    firehose.deliveries.map((d) => d.body),
  );
  totals.invocations = firehose.invocations;
  totals.reingestedRecords = firehose.reingestedRecords;
  totals.partitions = layout.partitions;
  totals.objects = layout.objects;
  if (options.findings !== undefined) {
    const found = options.findings.findings;
    await writeFile(join(outCheck.outDir, 'findings.ndjson'), found.map((f) => JSON.stringify(f) + '\n').join(''));
    totals.findings = found.length;
    for (const f of found) totals.findingsByPriority[f.priority] = (totals.findingsByPriority[f.priority] ?? 0) + 1;
    const rank = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3 } as const;
    totals.topFindings = [...found]
      .sort((a, b) => rank[a.priority] - rank[b.priority] || b.score - a.score)
      .slice(0, 5)
      .map((f) => f.summary);
  }
  // The marker lists everything run wrote (the layout, report.html, findings.ndjson), so a later run replaces exactly that.
  await writeMarker(outCheck.outDir, [...layout.objects, 'report.html', ...(options.findings !== undefined ? ['findings.ndjson'] : [])]);
  totals.exitCode =
    totals.eventsRead === totals.eventsDelivered && totals.records.processingFailed === 0 && totals.unreadable.length === 0 ? 0 : 1;
  printSummary(totals, options.outDir, write);
  return totals;
}

function printSummary(t: RunTotals, outDir: string, write: (line: string) => void): void {
  const n = (x: number) => x.toLocaleString('en-US');
  write('');
  write('cloudtrail-enricher run: summary');
  write(`  events read            ${n(t.eventsRead)} (packed into ${n(t.cwlRecords)} CloudWatch Logs records)`);
  write(`  invocations            ${n(t.invocations)}`);
  write(
    `  records                Ok ${n(t.records.ok)} · Dropped ${n(t.records.dropped)} · ProcessingFailed ${n(t.records.processingFailed)}`,
  );
  write(`  events delivered       ${n(t.eventsDelivered)} (skipped, non-CloudTrail lines: ${n(t.skipped)}; partial: ${n(t.partial)})`);
  write(`  re-ingested            ${n(t.reingestedRecords)} records carrying ${n(t.reingestedEvents)} events`);
  const priorities = (['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const).map((p) => `${p} ${n(t.byPriority[p] ?? 0)}`).join(' · ');
  write(`  by priority            ${priorities}`);
  const top = Object.entries(t.countries)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  write(`  top countries          ${top.length === 0 ? '(none)' : top.map(([c, v]) => `${c} ${n(v)}`).join(' · ')}`);
  const nets = Object.entries(t.networks)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5);
  write(`  top networks           ${nets.length === 0 ? '(none)' : nets.map(([c, v]) => `${c} ${n(v)}`).join(' · ')}`);
  write(
    `  IP lookups             ${n(t.uniqueIps)} unique public IPs per invocation (summed) · cache hits ${n(t.cacheHits)} · provider calls ${n(t.providerCalls)}`,
  );
  if (Object.keys(t.failureReasons).length > 0) write(`  failures               ${JSON.stringify(t.failureReasons)}`);
  const findings = (['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const)
    .filter((p) => (t.findingsByPriority[p] ?? 0) > 0)
    .map((p) => `${p} ${n(t.findingsByPriority[p]!)}`);
  write(`  findings               ${n(t.findings)}${findings.length > 0 ? ` (${findings.join(' · ')})` : ''} → ${outDir}/findings.ndjson`);
  for (const line of t.topFindings) write(`    ${line}`);
  write(`  output                 ${n(t.partitions)} partitions, ${n(t.objects.length)} objects under ${outDir}/`);
  if (t.report !== undefined) write(`  report                 ${t.report}`);
  const lost = t.eventsRead - t.eventsDelivered;
  write(
    `  conservation           ${lost === 0 ? 'every event delivered exactly once' : `${n(lost)} events NOT delivered (see errors/ prefix)`}`,
  );
  const skipped = t.skippedInputs.filter((s) => s.reason !== 'extension');
  const byExtension = t.skippedInputs.length - skipped.length;
  if (t.skippedInputs.length > 0) {
    write(
      `  inputs skipped         ${n(t.skippedInputs.length)}${byExtension > 0 ? ` (${n(byExtension)} by extension: only ${INPUT_EXTENSIONS.join(' ')} are read in directories)` : ''}`,
    );
    for (const s of t.skippedInputs) write(`    ${s.path}: ${s.reason}`);
  }
  if (t.unreadable.length > 0) {
    write(`  inputs NOT read        ${n(t.unreadable.length)}`);
    for (const u of t.unreadable) write(`    ${u.path}: ${u.reason}`);
  }
  if (t.eventsRead === 0) write('  warning                no events were read: check the paths and the extensions above');
}

function emptyTotals(): RunTotals {
  return {
    eventsRead: 0,
    cwlRecords: 0,
    invocations: 0,
    records: { ok: 0, dropped: 0, processingFailed: 0 },
    eventsIn: 0,
    eventsDelivered: 0,
    reingestedRecords: 0,
    reingestedEvents: 0,
    skipped: 0,
    partial: 0,
    byPriority: {},
    countries: {},
    networks: {},
    uniqueIps: 0,
    cacheHits: 0,
    providerCalls: 0,
    partitions: 0,
    objects: [],
    failureReasons: {},
    findings: 0,
    findingsByPriority: {},
    topFindings: [],
    skippedInputs: [],
    unreadable: [],
    exitCode: 0,
  };
}

export type { PartitionKeys };
