import { rm } from 'node:fs/promises';
import type { PartitionKeys, Priority } from '../../model.ts';
import type { InvocationSummary } from '../../pipeline/transform.ts';
import { createTransformHandler, type TransformHandler } from '../../pipeline/handler.ts';
import type { CoreConfig } from '../../config/core.ts';
import type { IpIntelligence } from '../../3-lookup/types.ts';
import type { RuleEngine } from '../../5-rules/types.ts';
import { readEventTexts } from './inputs.ts';
import { LocalFirehose } from './local-firehose.ts';
import { CloudWatchLogsPacker } from '../../codec/cloudwatch-logs-pack.ts';
import { writeS3Layout } from './s3-layout.ts';
import { writeReport } from './report-html.ts';

export interface RunOptions {
  readonly inputs: readonly string[];
  readonly outDir: string;
  readonly bufferBytes: number;
  /** Builds the handler around the sink the local Firehose re-ingests into. */
  readonly makeHandler: (sink: LocalFirehose['sink'], onSummary: (s: InvocationSummary) => void) => TransformHandler;
  readonly write?: (line: string) => void;
  readonly progress?: (line: string) => void;
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
  /** Path of the HTML report (report.html in the output directory). */
  report?: string;
}

/**
 * The real transform handler with the given stages, re-ingesting into the local stream (no AWS client is used).
 */
export function localHandler(core: CoreConfig, stages: { intel?: Promise<IpIntelligence>; rules?: RuleEngine }): RunOptions['makeHandler'] {
  const noClient = (): never => {
    throw new Error('the local run re-ingests in process');
  };
  return (sink, onSummary) =>
    createTransformHandler({ config: core, intel: stages.intel, rules: stages.rules, firehose: noClient, kinesis: noClient, sinkFor: () => sink, onSummary });
}

/**
 * `cloudtrail-enricher run`: CloudTrail files → CloudWatch Logs subscription batches → a local Firehose
 * with the real handler → `out/` in the S3 layout Firehose writes.
 */
export async function runLocal(options: RunOptions): Promise<RunTotals> {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const progress = options.progress ?? ((line: string) => process.stderr.write(line + '\n'));
  const totals = emptyTotals();
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
  };

  // The handler needs the local stream's sink and the stream needs the handler: bind through a closure.
  let lastProgress = 0;
  const firehose: LocalFirehose = new LocalFirehose({
    handler: (event, context) => handler(event, context),
    bufferBytes: options.bufferBytes,
    onInvocation: ({ invocation }) => {
      const t = Date.now();
      if (t - lastProgress >= 1000) {
        lastProgress = t;
        progress(`  … ${invocation} invocations, ${totals.eventsDelivered.toLocaleString('en-US')} of ${totals.eventsRead.toLocaleString('en-US')} events delivered`);
      }
    },
  });
  const handler = options.makeHandler(firehose.sink, onSummary);
  const packer = new CloudWatchLogsPacker((data) => {
    totals.cwlRecords++;
    firehose.put(data);
  });
  for await (const { text } of readEventTexts(options.inputs)) {
    totals.eventsRead++;
    packer.add(text);
    // Invoke as the buffer fills, as Firehose would, so memory stays bounded on long inputs.
    if (firehose.pending >= 2000) await firehose.drain();
  }
  packer.flush();
  await firehose.drain();

  await rm(options.outDir, { recursive: true, force: true });
  const layout = await writeS3Layout(firehose.deliveries, firehose.failed, { outDir: options.outDir });
  totals.invocations = firehose.invocations;
  totals.reingestedRecords = firehose.reingestedRecords;
  totals.partitions = layout.partitions;
  totals.objects = layout.objects;
  totals.report = await writeReport(options.outDir, firehose.deliveries.map((d) => d.body));
  printSummary(totals, options.outDir, write);
  return totals;
}

function printSummary(t: RunTotals, outDir: string, write: (line: string) => void): void {
  const n = (x: number) => x.toLocaleString('en-US');
  write('');
  write('cloudtrail-enricher run: summary');
  write(`  events read            ${n(t.eventsRead)} (packed into ${n(t.cwlRecords)} CloudWatch Logs records)`);
  write(`  invocations            ${n(t.invocations)}`);
  write(`  records                Ok ${n(t.records.ok)} · Dropped ${n(t.records.dropped)} · ProcessingFailed ${n(t.records.processingFailed)}`);
  write(`  events delivered       ${n(t.eventsDelivered)} (skipped, non-CloudTrail lines: ${n(t.skipped)}; partial: ${n(t.partial)})`);
  write(`  re-ingested            ${n(t.reingestedRecords)} records carrying ${n(t.reingestedEvents)} events`);
  const priorities = (['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const).map((p) => `${p} ${n(t.byPriority[p] ?? 0)}`).join(' · ');
  write(`  by priority            ${priorities}`);
  const top = Object.entries(t.countries).sort((a, b) => b[1] - a[1]).slice(0, 8);
  write(`  top countries          ${top.length === 0 ? '(none)' : top.map(([c, v]) => `${c} ${n(v)}`).join(' · ')}`);
  const nets = Object.entries(t.networks).sort((a, b) => b[1] - a[1]).slice(0, 5);
  write(`  top networks           ${nets.length === 0 ? '(none)' : nets.map(([c, v]) => `${c} ${n(v)}`).join(' · ')}`);
  write(`  IP lookups             ${n(t.uniqueIps)} unique public IPs per invocation (summed) · cache hits ${n(t.cacheHits)} · provider calls ${n(t.providerCalls)}`);
  if (Object.keys(t.failureReasons).length > 0) write(`  failures               ${JSON.stringify(t.failureReasons)}`);
  write(`  output                 ${n(t.partitions)} partitions, ${n(t.objects.length)} objects under ${outDir}/`);
  if (t.report !== undefined) write(`  report                 ${t.report}`);
  const lost = t.eventsRead - t.eventsDelivered;
  write(`  conservation           ${lost === 0 ? 'every event delivered exactly once' : `${n(lost)} events NOT delivered (see errors/ prefix)`}`);
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
  };
}

export type { PartitionKeys };
