import { setTimeout as sleepTimer } from 'node:timers/promises';
import { ReingestionError } from '../errors.ts';
import type { Log, PartitionKeys } from '../model.ts';
import { encodeEnvelope } from '../codec/envelope.ts';
import { ENVELOPE_MAX_BODY_BYTES, LAMBDA_RESPONSE_LIMIT } from './limits.ts';
import { joinLines, lineBytes, maxEnvelopeBody, type OutputLine, type ReingestPart } from './plan.ts';
import { partitionId } from '../7-encode/partition.ts';

/** One record to put back into the stream. */
export interface ReingestRecord {
  readonly data: Buffer;
  /** Kinesis only: the partition key of the input record the events came from. */
  readonly partitionKey?: string;
  readonly origin: string;
  readonly lines: number;
}

export interface EnvelopeOptions {
  readonly mode: 's3' | 'opensearch';
  /** Largest record the target stream accepts (compressed envelope bytes, plus the partition key for Kinesis). */
  readonly maxRecordBytes: number;
  /** Largest uncompressed body of one envelope (default 3 MiB; smaller when the response budget is smaller). */
  readonly maxBodyBytes?: number;
  /** Kinesis-sourced delivery streams: input recordId → its partition key. */
  readonly partitionKeyOf?: (origin: string) => string | undefined;
}

export interface EnvelopeBuild {
  readonly records: ReingestRecord[];
  /** Input records with a line that cannot be re-ingested even alone (larger than a record once compressed). */
  readonly unsendable: ReadonlySet<string>;
}

/**
 * Packs the parts the planner could not return into envelopes:
 * one partition per envelope (S3) or one event per envelope (OpenSearch), each body ≤ 3 MiB and each
 * compressed record within the stream's record limit (split in halves until it fits).
 */
export function buildEnvelopes(parts: readonly ReingestPart[], options: EnvelopeOptions): EnvelopeBuild {
  const records: ReingestRecord[] = [];
  const unsendable = new Set<string>();
  for (const part of parts) {
    const partitionKey = options.partitionKeyOf?.(part.origin);
    const limit = options.maxRecordBytes - (partitionKey === undefined ? 0 : Buffer.byteLength(partitionKey, 'utf8'));
    if (part.kind === 'envelope') {
      const data = encodeEnvelope({ v: 1, pk: part.keys, n: part.lines, origin: part.origin }, part.body);
      if (data.length > limit) unsendable.add(part.origin);
      else records.push({ data, partitionKey, origin: part.origin, lines: part.lines });
      continue;
    }
    for (const group of groupLines(part.lines, options.mode)) {
      for (const chunk of chunkBySize(group, Math.min(ENVELOPE_MAX_BODY_BYTES, options.maxBodyBytes ?? ENVELOPE_MAX_BODY_BYTES))) {
        if (!packChunk(chunk, part.origin, partitionKey, limit, options.mode, records)) unsendable.add(part.origin);
      }
    }
  }
  if (unsendable.size === 0) return { records, unsendable };
  return { records: records.filter((r) => !unsendable.has(r.origin)), unsendable };
}

function groupLines(lines: readonly OutputLine[], mode: 's3' | 'opensearch'): OutputLine[][] {
  if (mode === 'opensearch') return lines.map((line) => [line]);
  const groups = new Map<string, OutputLine[]>();
  for (const line of lines) {
    const id = partitionId(line.keys);
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [line]);
    else group.push(line);
  }
  return [...groups.values()];
}

function chunkBySize(lines: OutputLine[], maxBody: number): OutputLine[][] {
  const chunks: OutputLine[][] = [];
  let current: OutputLine[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = lineBytes(line) + 1;
    if (current.length > 0 && bytes + size > maxBody) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * A single line whose body is larger than this could never be returned when its envelope comes back (its base64
 * alone exceeds the Lambda response limit): re-ingesting it would loop forever, so it is unsendable instead.
 */
const MAX_RETURNABLE_BODY = maxEnvelopeBody(LAMBDA_RESPONSE_LIMIT);

function packChunk(
  lines: OutputLine[],
  origin: string,
  partitionKey: string | undefined,
  limit: number,
  mode: 's3' | 'opensearch',
  out: ReingestRecord[],
): boolean {
  const keys: PartitionKeys | undefined = mode === 's3' ? lines[0]!.keys : undefined;
  const body = joinLines(lines, mode);
  if (lines.length === 1 && Buffer.byteLength(body, 'utf8') > MAX_RETURNABLE_BODY) return false;
  const data = encodeEnvelope({ v: 1, pk: keys, n: lines.length, origin }, body);
  if (data.length <= limit) {
    out.push({ data, partitionKey, origin, lines: lines.length });
    return true;
  }
  if (lines.length === 1) return false;
  const half = Math.ceil(lines.length / 2);
  return (
    packChunk(lines.slice(0, half), origin, partitionKey, limit, mode, out) &&
    packChunk(lines.slice(half), origin, partitionKey, limit, mode, out)
  );
}

/** A stream that accepts batches of records and says which entries failed (PutRecordBatch / PutRecords). */
export interface RecordSink {
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
  /** Bytes one record counts for against `maxBatchBytes`. */
  sizeOf(record: ReingestRecord): number;
  /**
   * Sends one batch; resolves with the indices (within the batch) of entries that failed, and their error codes.
   * `signal` aborts the call (its own timeout, derived from the time left): the call must then reject.
   */
  putBatch(records: readonly ReingestRecord[], signal?: AbortSignal): Promise<{ failed: { index: number; errorCode: string }[] }>;
}

export interface RetryOptions {
  /** Attempts per record, first one included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Epoch ms after which no new attempt starts. */
  readonly deadline: number;
  /**
   * Epoch ms by which every call must have ended (default `deadline`): later than `deadline` when part of the
   * response reserve may be used by a call already started.
   */
  readonly callDeadline?: number;
  /** Longest single PutRecordBatch/PutRecords call, ms; each call is also cut at `deadline`. */
  readonly callTimeoutMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<unknown>;
  readonly random?: () => number;
  readonly log?: Log;
}

export interface ReingestOutcome {
  readonly calls: number;
  /** Entries sent again after a failed attempt. */
  readonly retried: number;
}

/**
 * Sends every record, batching within the sink's limits, and retries failed entries (per-entry error codes
 * such as `ServiceUnavailableException`, or a whole call that threw) with exponential backoff and full jitter.
 * Throws `ReingestionError` once a record has used all its attempts or the deadline is reached, so the
 * handler fails and Firehose retries the whole batch instead of losing events.
 */
export async function reingest(records: readonly ReingestRecord[], sink: RecordSink, options: RetryOptions): Promise<ReingestOutcome> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => sleepTimer(ms));
  const random = options.random ?? Math.random;
  let pending = [...records];
  let calls = 0;
  let retried = 0;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const failed: ReingestRecord[] = [];
    const codes = new Map<string, number>();
    for (const batch of batches(pending, sink)) {
      calls++;
      // Every attempt has its own timeout, never past the deadline: a call that hangs (connection accepted, no
      // answer) is aborted, so the invocation answers (or throws) before Lambda kills it.
      const left = (options.callDeadline ?? options.deadline) - now();
      if (left <= 0) {
        failed.push(...batch);
        codes.set('DeadlineReached', (codes.get('DeadlineReached') ?? 0) + batch.length);
        continue;
      }
      const timeout = Math.max(1, Math.min(left, options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS));
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error('re-ingestion call timed out')), timeout);
      try {
        const result = await abortable(sink.putBatch(batch, controller.signal), controller.signal);
        for (const { index, errorCode } of result.failed) {
          failed.push(batch[index]!);
          codes.set(errorCode, (codes.get(errorCode) ?? 0) + 1);
        }
      } catch (err) {
        failed.push(...batch);
        const code = controller.signal.aborted ? 'CallTimedOut' : ((err as { name?: string }).name ?? 'Error');
        codes.set(code, (codes.get(code) ?? 0) + batch.length);
      } finally {
        clearTimeout(timer);
      }
    }
    if (failed.length === 0) break;
    const summary = Object.fromEntries(codes);
    const delay = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1)) * random();
    if (attempt >= options.maxAttempts || now() + delay >= options.deadline) {
      throw new ReingestionError(
        `re-ingestion failed for ${failed.length} of ${records.length} records after ${attempt} attempts (${JSON.stringify(summary)})`,
      );
    }
    options.log?.warn('re-ingestion retry', { attempt, failed: failed.length, errorCodes: summary, delayMs: Math.round(delay) });
    retried += failed.length;
    pending = failed;
    await sleep(delay);
  }
  return { calls, retried };
}

/** Default longest re-ingestion call (a healthy PutRecordBatch of 4 MiB answers in well under a second). */
export const DEFAULT_CALL_TIMEOUT_MS = 5000;

/** Rejects when `signal` aborts even if the sink ignores the signal: our deadline never depends on the sink. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function* batches(records: readonly ReingestRecord[], sink: RecordSink): Generator<ReingestRecord[]> {
  let batch: ReingestRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = sink.sizeOf(record);
    if (batch.length > 0 && (batch.length >= sink.maxBatchRecords || bytes + size > sink.maxBatchBytes)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(record);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
