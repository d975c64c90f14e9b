/**
 * Replay: CloudTrail history from a CloudWatch Logs group → the delivery stream, packed as the subscription filter
 * packs it, so history goes through the same transform (and the same partitions) as live traffic.
 * Entry point: `cloudtrail-enricher replay`.
 */
import { FilterLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchLogsPacker } from '../../codec/cloudwatch-logs-pack.ts';
import { FIREHOSE_MAX_RECORD_BYTES } from '../../8-deliver/limits.ts';
import { reingest, type RecordSink, type ReingestRecord } from '../../8-deliver/reingest.ts';
import { ReplayOptionsError } from '../../errors.ts';
import type { Log } from '../../model.ts';

export interface ReplayOptions {
  readonly logs: Pick<CloudWatchLogsClient, 'send'>;
  /** The delivery stream, e.g. `new FirehoseSink(client, name)`: PutRecordBatch within 500 records / 4 MiB per call. */
  readonly sink: RecordSink;
  readonly logGroupName: string;
  /** Epoch ms, inclusive. */
  readonly startTime: number;
  /** Epoch ms, inclusive (FilterLogEvents returns events with timestamp ≤ endTime). */
  readonly endTime: number;
  /** Only streams whose name starts with this (CloudTrail names them `<account>_CloudTrail_<region>`). */
  readonly logStreamNamePrefix?: string;
  /** A CloudWatch Logs filter pattern; default: every event. */
  readonly filterPattern?: string;
  /** Records sent per flush (default 500: one PutRecordBatch call when they fit in 4 MiB). */
  readonly flushRecords?: number;
  /** Retries of failed entries (throttling): attempts, backoff. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Time one flush (with its retries) may take before the replay gives up (default 10 minutes). */
  readonly flushTimeoutMs?: number;
  readonly progress?: (totals: Readonly<ReplayTotals>) => void;
  readonly log?: Log;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

export interface ReplayTotals {
  /** FilterLogEvents calls made. */
  pages: number;
  /** Log events read (CloudTrail events, one per log event). */
  eventsRead: number;
  /** Gzip'd DATA_MESSAGE records sent to the stream. */
  recordsSent: number;
  bytesSent: number;
  putCalls: number;
  /** Entries sent again after PutRecordBatch reported them failed. */
  retried: number;
}

/**
 * Reads every log event of the group in [startTime, endTime] with FilterLogEvents (following nextToken — a page
 * may be empty while CloudWatch Logs is still searching), packs them with CloudWatchLogsPacker exactly as the
 * subscription filter batches them (per log stream; at most 10,000 events / 1 MiB of messages per record, gzip'd
 * DATA_MESSAGE), and sends the records with PutRecordBatch, retrying failed entries with backoff. Memory stays
 * bounded: records are flushed as they accumulate. Throws `ReingestionError` if entries still fail after every
 * retry (what was sent before stays sent; re-running the same window sends those events again — the transform
 * does not deduplicate, so narrow the window to what is missing).
 */
export async function replayLogGroup(options: ReplayOptions): Promise<ReplayTotals> {
  if (options.logGroupName.trim() === '') throw new ReplayOptionsError('the log group name is empty');
  if (!Number.isFinite(options.startTime) || !Number.isFinite(options.endTime) || options.startTime > options.endTime) {
    throw new ReplayOptionsError('the start of the window must be a time at or before its end');
  }
  const now = options.now ?? Date.now;
  const flushRecords = Math.max(1, options.flushRecords ?? 500);
  const totals: ReplayTotals = { pages: 0, eventsRead: 0, recordsSent: 0, bytesSent: 0, putCalls: 0, retried: 0 };
  let pending: ReingestRecord[] = [];
  let pendingBytes = 0;
  let sequence = 0;

  const packer = new CloudWatchLogsPacker(
    (data) => {
      // The packer's 1 MiB batch limit keeps gzip'd CloudTrail well under Firehose's 1,000 KiB record limit; a
      // record over it would be rejected by PutRecordBatch, so it is refused here with a clear message instead.
      if (data.length > FIREHOSE_MAX_RECORD_BYTES) {
        throw new ReplayOptionsError(
          `a packed record is ${data.length} bytes, over Firehose's ${FIREHOSE_MAX_RECORD_BYTES}-byte record limit`,
        );
      }
      pending.push({ data, origin: `replay-${++sequence}`, lines: 0 });
      pendingBytes += data.length;
    },
    { logGroup: options.logGroupName },
  );

  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    const outcome = await reingest(batch, options.sink, {
      maxAttempts: options.maxAttempts ?? 10,
      baseDelayMs: options.baseDelayMs ?? 200,
      maxDelayMs: options.maxDelayMs ?? 5000,
      deadline: now() + (options.flushTimeoutMs ?? 600_000),
      now,
      sleep: options.sleep,
      log: options.log,
    });
    totals.putCalls += outcome.calls;
    totals.retried += outcome.retried;
    totals.recordsSent += batch.length;
    for (const record of batch) totals.bytesSent += record.data.length;
    options.progress?.(totals);
  };

  let nextToken: string | undefined;
  do {
    const page = await options.logs.send(
      new FilterLogEventsCommand({
        logGroupName: options.logGroupName,
        startTime: options.startTime,
        endTime: options.endTime,
        ...(options.logStreamNamePrefix !== undefined && options.logStreamNamePrefix !== ''
          ? { logStreamNamePrefix: options.logStreamNamePrefix }
          : {}),
        ...(options.filterPattern !== undefined && options.filterPattern !== '' ? { filterPattern: options.filterPattern } : {}),
        nextToken,
      }),
    );
    totals.pages++;
    for (const event of page.events ?? []) {
      if (typeof event.message !== 'string') continue;
      totals.eventsRead++;
      packer.add(event.message);
    }
    nextToken = page.nextToken;
    // Records close as batches fill; send them once a PutRecordBatch call's worth (or 4 MiB) is waiting.
    if (pending.length >= flushRecords || pendingBytes >= 4 * 1024 * 1024) await flush();
  } while (nextToken !== undefined && nextToken !== '');
  packer.flush();
  await flush();
  return totals;
}

export { ReplayOptionsError };
