import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { partitionId } from '../../7-encode/partition.ts';
import type { EnrichDeps } from '../../pipeline/enrich.ts';
import type { BackfillDestination, ObjectLimits } from './config.ts';
import { backfillObject, type BackfillOutcome, type S3Sender } from './core.ts';
import { classifyKey, type ObjectRef } from './keys.ts';

export interface RunBackfillOptions {
  readonly s3: S3Sender;
  readonly source: { readonly bucket: string; readonly prefix: string };
  readonly destination: BackfillDestination;
  readonly enrich: EnrichDeps;
  readonly limits?: ObjectLimits;
  /** Objects enriched at the same time (default 4). */
  readonly concurrency?: number;
  /** Time IP lookups of one object may take (default 60 s); later answers leave events `partial`. */
  readonly lookupBudgetMs?: number;
  /** ListObjectsV2 page size (default and S3 maximum: 1,000). */
  readonly pageSize?: number;
  readonly write?: (line: string) => void;
  readonly progress?: (line: string) => void;
  readonly now?: () => number;
}

export interface BackfillTotals {
  /** Objects listed under the source prefix. */
  listed: number;
  written: number;
  ignored: Record<string, number>;
  failed: number;
  failures: Record<string, number>;
  /** Up to 20 keys that failed, for the summary. */
  failedKeys: string[];
  eventsIn: number;
  eventsOut: number;
  skipped: number;
  partial: number;
  outputObjects: number;
  partitions: number;
}

/**
 * `cloudtrail-enricher backfill`: lists the source prefix with ListObjectsV2 and runs every CloudTrail object through
 * the same core as the backfill Lambda, `concurrency` at a time. Listing waits while that many are in flight, so
 * memory stays bounded whatever the size of the prefix. Re-running it overwrites its earlier output.
 */
export async function runBackfill(options: RunBackfillOptions): Promise<BackfillTotals> {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const progress = options.progress ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? Date.now;
  const concurrency = Math.max(1, Math.min(64, options.concurrency ?? 4));
  const lookupBudgetMs = options.lookupBudgetMs ?? 60_000;
  const totals: BackfillTotals = {
    listed: 0,
    written: 0,
    ignored: {},
    failed: 0,
    failures: {},
    failedKeys: [],
    eventsIn: 0,
    eventsOut: 0,
    skipped: 0,
    partial: 0,
    outputObjects: 0,
    partitions: 0,
  };
  const partitions = new Set<string>();
  const deps = { s3: options.s3, enrich: options.enrich, destination: options.destination, limits: options.limits, log: options.enrich.log, now };
  let lastProgress = now();

  const record = (outcome: BackfillOutcome) => {
    if (outcome.status === 'written') {
      totals.written++;
      totals.eventsIn += outcome.eventsIn;
      totals.eventsOut += outcome.eventsOut;
      totals.skipped += outcome.counters.skipped;
      totals.partial += outcome.counters.partial;
      totals.outputObjects += outcome.objects.length;
      for (const object of outcome.objects) partitions.add(partitionId(object.keys));
    } else if (outcome.status === 'ignored') {
      totals.ignored[outcome.reason] = (totals.ignored[outcome.reason] ?? 0) + 1;
    } else {
      totals.failed++;
      const code = `${outcome.code}${outcome.retryable ? ' (retryable)' : ''}`;
      totals.failures[code] = (totals.failures[code] ?? 0) + 1;
      if (totals.failedKeys.length < 20) totals.failedKeys.push(outcome.source.key);
    }
    const t = now();
    if (t - lastProgress >= 1000) {
      lastProgress = t;
      progress(`  … ${totals.listed} objects listed, ${totals.written} enriched, ${totals.failed} failed, ${totals.eventsOut.toLocaleString('en-US')} events written`);
    }
  };

  const running = new Set<Promise<void>>();
  for await (const ref of listObjects(options.s3, options.source, options.pageSize ?? 1000)) {
    totals.listed++;
    const verdict = classifyKey(ref, options.destination);
    if (!verdict.ok) {
      totals.ignored[verdict.reason] = (totals.ignored[verdict.reason] ?? 0) + 1;
      continue;
    }
    const task: Promise<void> = backfillObject(ref, deps, { lookupDeadline: now() + lookupBudgetMs })
      .then(record, (err: unknown) => {
        // backfillObject returns failures as values; anything thrown is a bug, counted rather than losing the run.
        record({ status: 'failed', source: ref, retryable: false, code: err instanceof Error ? err.name : 'Error', message: 'internal error' });
      })
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  totals.partitions = partitions.size;
  printSummary(totals, options, write);
  return totals;
}

/** Every object under the prefix, page by page (ListObjectsV2 returns at most 1,000 keys per call). */
export async function* listObjects(s3: S3Sender, source: { bucket: string; prefix: string }, pageSize: number): AsyncGenerator<ObjectRef> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: source.bucket, Prefix: source.prefix === '' ? undefined : source.prefix, ContinuationToken: token, MaxKeys: pageSize }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined || object.Key.endsWith('/')) continue;
      yield { bucket: source.bucket, key: object.Key };
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}

function printSummary(t: BackfillTotals, options: RunBackfillOptions, write: (line: string) => void): void {
  const n = (x: number) => x.toLocaleString('en-US');
  const ignored = Object.entries(t.ignored);
  write('');
  write('cloudtrail-enricher backfill: summary');
  write(`  source                 s3://${options.source.bucket}/${options.source.prefix}`);
  write(`  destination            s3://${options.destination.bucket}/${options.destination.prefix}`);
  write(`  objects listed         ${n(t.listed)}`);
  write(`  enriched               ${n(t.written)} objects → ${n(t.outputObjects)} output objects in ${n(t.partitions)} partitions`);
  write(`  skipped                ${ignored.length === 0 ? '0' : ignored.map(([reason, count]) => `${reason} ${n(count)}`).join(' · ')}`);
  write(`  failed                 ${n(t.failed)}${t.failed > 0 ? ` ${JSON.stringify(t.failures)}` : ''}`);
  for (const key of t.failedKeys) write(`    ${key}`);
  write(`  events                 ${n(t.eventsIn)} read, ${n(t.eventsOut)} written (skipped, non-CloudTrail elements: ${n(t.skipped)}; partial: ${n(t.partial)})`);
  write(
    `  conservation           ${t.eventsIn === t.eventsOut ? 'every event of every enriched object written exactly once' : `${n(t.eventsIn - t.eventsOut)} events NOT written`}`,
  );
}
