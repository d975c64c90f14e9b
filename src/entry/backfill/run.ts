import { partitionId } from '../../7-encode/partition.ts';
import type { Priority } from '../../model.ts';
import type { EnrichDeps } from '../../pipeline/enrich.ts';
import { Checkpoint } from './checkpoint.ts';
import type { ObjectLimits } from '../../codec/s3-object.ts';
import type { BackfillDestination } from './config.ts';
import { backfillObject, type BackfillOutcome, type S3Sender } from './core.ts';
import {
  dayObjects,
  dayPrefixes,
  emptyListingStats,
  type BackfillSelection,
  type DayPrefix,
  type ListingStats,
  type SelectedObject,
} from './select.ts';

export interface RunBackfillOptions {
  readonly s3: S3Sender;
  readonly source: { readonly bucket: string; readonly prefix: string };
  readonly destination: BackfillDestination;
  readonly enrich: EnrichDeps;
  readonly limits?: ObjectLimits;
  /** Accounts, regions and days to read (default: everything under the source). */
  readonly selection?: BackfillSelection;
  /** Objects enriched at the same time (default 4). */
  readonly concurrency?: number;
  /** Time IP lookups of one object may take (default 60 s); later answers leave events `partial`. */
  readonly lookupBudgetMs?: number;
  /** Ignore (and delete) the checkpoint of earlier runs: every selected object is done again. */
  readonly restart?: boolean;
  /** Checkpoint segment size and age (defaults 200 objects, 5 s). */
  readonly checkpointEvery?: { readonly objects?: number; readonly ms?: number };
  /** Stop: no new objects are started, those in flight finish, the checkpoint is saved. */
  readonly signal?: AbortSignal;
  /** Stop now: objects in flight are abandoned (not checkpointed, redone next time). */
  readonly abandon?: AbortSignal;
  /** Called after every object (and once at the start) with the running totals. */
  readonly onProgress?: (progress: BackfillProgress) => void;
  readonly now?: () => number;
}

/** What the progress display shows. ETA comes from the share of day folders finished. */
export interface BackfillProgress {
  readonly daysTotal: number;
  readonly daysDone: number;
  readonly totals: BackfillTotals;
  readonly startedAt: number;
}

export interface BackfillTotals {
  /** Log objects listed in the selected day folders. */
  listed: number;
  written: number;
  /** Objects not read: `already-done` (checkpoint), `digest`, `not-cloudtrail`, `own-output`. */
  ignored: Record<string, number>;
  /** Folders not descended into: `digest` (CloudTrail-Digest), `outside-layout` (AWS Config and other files). */
  skippedFolders: Record<string, number>;
  skippedExamples: string[];
  /** Objects finished in an earlier run whose ETag changed since: done again. */
  redone: number;
  failed: number;
  failures: Record<string, number>;
  /** Up to 20 keys that failed, for the summary. */
  failedKeys: { key: string; code: string; message: string }[];
  eventsIn: number;
  eventsOut: number;
  skipped: number;
  partial: number;
  byPriority: Partial<Record<Priority, number>>;
  bytesRead: number;
  outputObjects: number;
  partitions: number;
  days: number;
  /** ListObjectsV2 calls, and checkpoint requests. */
  listCalls: number;
  checkpointRequests: number;
  /** Objects in flight when a second interrupt abandoned them. */
  abandoned: number;
  interrupted: boolean;
}

export function emptyTotals(): BackfillTotals {
  return {
    listed: 0,
    written: 0,
    ignored: {},
    skippedFolders: {},
    skippedExamples: [],
    redone: 0,
    failed: 0,
    failures: {},
    failedKeys: [],
    eventsIn: 0,
    eventsOut: 0,
    skipped: 0,
    partial: 0,
    byPriority: {},
    bytesRead: 0,
    outputObjects: 0,
    partitions: 0,
    days: 0,
    listCalls: 0,
    checkpointRequests: 0,
    abandoned: 0,
    interrupted: false,
  };
}

/**
 * `cloudtrail-enricher backfill`: finds the selected day folders of the CloudTrail layout (delimiter listings, never
 * the whole bucket), lists their objects, skips those the checkpoint says are finished (same ETag), and runs every
 * other object through the same core as the backfill Lambda, `concurrency` at a time. Output is written object by
 * object under deterministic keys, and every finished object is recorded in the checkpoint under
 * `<dest prefix>_backfill/`: an interrupted run resumes where it stopped, and whatever is redone overwrites its own
 * earlier output, so nothing is duplicated. Listing waits while `concurrency` objects are in flight, so memory stays
 * bounded whatever the size of the history.
 */
export async function runBackfill(options: RunBackfillOptions): Promise<BackfillTotals> {
  const now = options.now ?? Date.now;
  const concurrency = Math.max(1, Math.min(64, options.concurrency ?? 4));
  const lookupBudgetMs = options.lookupBudgetMs ?? 60_000;
  const totals = emptyTotals();
  const stats = emptyListingStats();
  const partitions = new Set<string>();
  const ignored: Record<string, number> = {};
  const startedAt = now();
  const checkpoint = await Checkpoint.open(options.s3, options.destination, options.source.bucket, {
    restart: options.restart,
    flushEvery: options.checkpointEvery?.objects,
    flushMs: options.checkpointEvery?.ms,
    now,
  });
  if (options.restart === true) await checkpoint.reset();
  const deps = {
    s3: options.s3,
    enrich: options.enrich,
    destination: options.destination,
    limits: options.limits,
    log: options.enrich.log,
    now,
  };
  const stopped = () => options.signal?.aborted === true || options.abandon?.aborted === true;

  const days: DayPrefix[] = [];
  for await (const day of dayPrefixes(options.s3, options.source.bucket, options.source.prefix, options.selection ?? {}, stats))
    days.push(day);
  totals.days = days.length;
  let daysDone = 0;
  const report = () => {
    syncListing(totals, stats, checkpoint, ignored);
    options.onProgress?.({ daysTotal: days.length, daysDone, totals, startedAt });
  };
  report();

  const record = async (object: SelectedObject, outcome: BackfillOutcome) => {
    if (outcome.status === 'written') {
      totals.written++;
      totals.eventsIn += outcome.eventsIn;
      totals.eventsOut += outcome.eventsOut;
      totals.skipped += outcome.counters.skipped;
      totals.partial += outcome.counters.partial;
      totals.bytesRead += object.size;
      for (const [p, n] of Object.entries(outcome.counters.byPriority))
        totals.byPriority[p as Priority] = (totals.byPriority[p as Priority] ?? 0) + n;
      totals.outputObjects += outcome.objects.length;
      for (const written of outcome.objects) partitions.add(partitionId(written.keys));
      await checkpoint.finish(object.key, object.etag);
    } else if (outcome.status === 'ignored') {
      ignored[outcome.reason] = (ignored[outcome.reason] ?? 0) + 1;
      // A digest or foreign file recognised by its content is finished too: it is not read again.
      await checkpoint.finish(object.key, object.etag);
    } else {
      totals.failed++;
      const code = `${outcome.code}${outcome.retryable ? ' (retryable)' : ''}`;
      totals.failures[code] = (totals.failures[code] ?? 0) + 1;
      if (totals.failedKeys.length < 20) totals.failedKeys.push({ key: outcome.source.key, code: outcome.code, message: outcome.message });
    }
    report();
  };

  const running = new Set<Promise<void>>();
  const abandoned = new Promise<void>((resolve) => {
    if (options.abandon === undefined) return;
    if (options.abandon.aborted) resolve();
    else options.abandon.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    outer: for (const day of days) {
      for await (const object of dayObjects(options.s3, options.source.bucket, day, stats, options.destination)) {
        if (stopped()) break outer;
        totals.listed++;
        const status = checkpoint.status(object.key, object.etag);
        if (status === 'done') {
          ignored['already-done'] = (ignored['already-done'] ?? 0) + 1;
          continue;
        }
        if (status === 'changed') totals.redone++;
        const task: Promise<void> = backfillObject(object, deps, { lookupDeadline: now() + lookupBudgetMs })
          .then(
            (outcome) => record(object, outcome),
            (err: unknown) =>
              // backfillObject returns failures as values; anything thrown is a bug, counted rather than losing the run.
              record(object, {
                status: 'failed',
                source: object,
                retryable: false,
                code: err instanceof Error ? err.name : 'Error',
                message: 'internal error',
              }),
          )
          .finally(() => running.delete(task));
        running.add(task);
        if (running.size >= concurrency) await Promise.race([Promise.race(running), abandoned]);
        if (options.abandon?.aborted === true) break outer;
      }
      if (!stopped()) daysDone++;
      report();
    }
    await Promise.race([Promise.all(running), abandoned]);
  } finally {
    totals.abandoned = running.size;
    totals.interrupted = stopped();
    totals.partitions = partitions.size;
    // Saved on every way out (finished, interrupted, or a failing listing): what finished is never done again.
    await checkpoint.compact();
    syncListing(totals, stats, checkpoint, ignored);
  }
  return totals;
}

/** Listing figures into the totals; objects skipped by their key and by their content are counted together. */
function syncListing(totals: BackfillTotals, stats: ListingStats, checkpoint: Checkpoint, ignored: Record<string, number>): void {
  totals.listCalls = stats.listCalls;
  totals.checkpointRequests = checkpoint.requests;
  totals.skippedFolders = { ...stats.skippedFolders };
  totals.skippedExamples = [...stats.skippedExamples];
  const merged: Record<string, number> = { ...ignored };
  for (const [reason, n] of Object.entries(stats.skippedObjects)) merged[reason] = (merged[reason] ?? 0) + n;
  totals.ignored = merged;
}
