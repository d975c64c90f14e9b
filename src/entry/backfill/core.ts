import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { EventItem } from '../../1-decode/event-text.ts';
import { joinLines, type OutputLine } from '../../8-deliver/plan.ts';
import { partitionId } from '../../7-encode/partition.ts';
import { silentLog, type Log, type PartitionKeys } from '../../model.ts';
import { emptyEnrichCounters, enrichEventGroups, type EnrichCounters, type EnrichDeps } from '../../pipeline/enrich.ts';
import { decodeCloudTrailObject } from '../../1-decode/cloudtrail-object.ts';
import { classifyKey, type ObjectRef } from '../../codec/cloudtrail-keys.ts';
import { DEFAULT_OBJECT_LIMITS, readBounded, type ObjectLimits } from '../../codec/s3-object.ts';
import type { BackfillDestination } from './config.ts';
import { outputKeyFor } from './keys.ts';
import { classifyFailure, isMissing } from './s3-errors.ts';

const gzipAsync = promisify(gzip);

/** The S3 calls the backfill makes (GetObject, PutObject, ListObjectsV2): a real client or a stand-in. */
export type S3Sender = Pick<S3Client, 'send'>;

export interface BackfillDeps {
  readonly s3: S3Sender;
  /** The enrichment core's stages (configuration, lookup, rules). */
  readonly enrich: EnrichDeps;
  readonly destination: BackfillDestination;
  readonly limits?: ObjectLimits;
  readonly log?: Log;
  readonly now?: () => number;
}

export interface WrittenObject {
  readonly key: string;
  readonly keys: PartitionKeys;
  readonly events: number;
  readonly bytes: number;
}

export type BackfillOutcome =
  | {
      readonly status: 'written';
      readonly source: ObjectRef;
      /** Elements of `Records` read. */
      readonly eventsIn: number;
      /** Lines written (enriched or skipped): always equal to `eventsIn`. */
      readonly eventsOut: number;
      readonly counters: EnrichCounters;
      readonly objects: readonly WrittenObject[];
    }
  /** Not a CloudTrail log file worth reading (digest, other key, our own output): nothing to do, not a failure. */
  | {
      readonly status: 'ignored';
      readonly source: ObjectRef;
      readonly reason: 'digest' | 'not-cloudtrail' | 'own-output';
      readonly message: string;
    }
  /**
   * Could not be enriched. `retryable`: throttling, timeouts, server errors — trying again later may succeed;
   * otherwise (missing, access denied, not CloudTrail, too large) it will not.
   */
  | { readonly status: 'failed'; readonly source: ObjectRef; readonly retryable: boolean; readonly code: string; readonly message: string };

export interface BackfillObjectOptions {
  /** Epoch ms by which IP lookups must settle (later answers leave events `partial`, never failed). */
  readonly lookupDeadline: number;
}

/**
 * Enriches one CloudTrail object and writes it to the destination in the layout Firehose writes: one gzip'd NDJSON
 * object per partition (`<prefix>account=…/region=…/dt=…/<name>.json.gz`), named deterministically after the
 * source, so running it again (a retried or duplicate notification, a re-run job) overwrites instead of
 * duplicating. Every element of `Records` is written exactly once (enriched, or as a skipped line).
 * Never throws for expected failures: they are `failed` outcomes, retryable or not.
 */
export async function backfillObject(ref: ObjectRef, deps: BackfillDeps, options: BackfillObjectOptions): Promise<BackfillOutcome> {
  const log = deps.log ?? silentLog;
  const limits = deps.limits ?? DEFAULT_OBJECT_LIMITS;
  const verdict = classifyKey(ref, deps.destination);
  if (!verdict.ok) return { status: 'ignored', source: ref, reason: verdict.reason, message: verdict.message };

  const read = await getObject(deps.s3, ref, limits);
  if (!read.ok) return { status: 'failed', source: ref, retryable: read.retryable, code: read.code, message: read.message };

  const decoded = await decodeCloudTrailObject(read.bytes, limits);
  if (!decoded.ok) {
    if (decoded.problem === 'digest') return { status: 'ignored', source: ref, reason: 'digest', message: decoded.message };
    return { status: 'failed', source: ref, retryable: false, code: problemCode(decoded.problem), message: decoded.message };
  }

  // Partition dates fall back to the arrival day for events without a usable eventTime; the object's own
  // LastModified (not the clock) keeps that choice — and so the output keys — the same on every run.
  const arrival = read.lastModified ?? (deps.now ?? Date.now)();
  const counters = emptyEnrichCounters();
  const lines = await enrichLines(decoded.events, arrival, deps.enrich, options.lookupDeadline, counters);

  const objects: WrittenObject[] = [];
  try {
    for (const [keys, group] of groupByPartition(lines)) {
      const key = outputKeyFor(ref, keys, deps.destination.prefix, deps.enrich.config.layout?.format);
      const body = await gzipAsync(joinLines(group, 's3'));
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.destination.bucket,
          Key: key,
          Body: body,
          // Same object shape as Firehose's GZIP output: compressed NDJSON named .json.gz, no Content-Encoding
          // (clients would otherwise decompress it on download and Athena would see plain text under .gz).
          ContentType: 'application/gzip',
          Metadata: { 'cloudtrail-enricher-events': String(group.length) },
        }),
      );
      objects.push({ key, keys, events: group.length, bytes: body.length });
    }
  } catch (err) {
    const failure = classifyFailure(err);
    log.warn('backfill write failed', { code: failure.code, retryable: failure.retryable, written: objects.length });
    return {
      status: 'failed',
      source: ref,
      retryable: failure.retryable,
      code: failure.code,
      message: `writing the enriched object failed (${failure.code})`,
    };
  }
  return { status: 'written', source: ref, eventsIn: decoded.events.length, eventsOut: lines.length, counters, objects };
}

async function enrichLines(
  events: EventItem[],
  arrival: number,
  deps: EnrichDeps,
  deadline: number,
  counters: EnrichCounters,
): Promise<OutputLine[]> {
  const [lines] = await enrichEventGroups([{ events, arrival }], deps, deadline, counters);
  return lines ?? [];
}

/** Lines grouped by partition, in the order partitions first appear. */
export function groupByPartition(lines: readonly OutputLine[]): [PartitionKeys, OutputLine[]][] {
  const groups = new Map<string, [PartitionKeys, OutputLine[]]>();
  for (const line of lines) {
    const id = partitionId(line.keys);
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [line.keys, [line]]);
    else group[1].push(line);
  }
  return [...groups.values()];
}

type ReadResult =
  | { readonly ok: true; readonly bytes: Buffer; readonly lastModified?: number }
  | { readonly ok: false; readonly retryable: boolean; readonly code: string; readonly message: string };

async function getObject(s3: S3Sender, ref: ObjectRef, limits: ObjectLimits): Promise<ReadResult> {
  let out: GetObjectCommandOutput;
  try {
    out = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }));
  } catch (err) {
    if (isMissing(err) && ref.alternateKey !== undefined) {
      // The event's key encoding was ambiguous: try the other spelling before calling the object missing.
      return getObject(s3, { bucket: ref.bucket, key: ref.alternateKey, versionId: ref.versionId }, limits);
    }
    return readFailure(err);
  }
  try {
    const read = await readBounded(out.Body as AsyncIterable<Uint8Array> | undefined, limits.maxObjectBytes, out.ContentLength);
    if (!read.ok) return { ok: false, retryable: false, code: 'ObjectTooLarge', message: read.message };
    return { ok: true, bytes: read.bytes, lastModified: out.LastModified?.getTime() };
  } catch (err) {
    return readFailure(err);
  }
}

function readFailure(err: unknown): ReadResult {
  const failure = classifyFailure(err);
  const message =
    failure.code === 'NoSuchKey' || failure.code === 'NoSuchVersion' || failure.code === 'NotFound'
      ? 'object does not exist'
      : failure.code === 'InvalidObjectState'
        ? 'object is archived (restore it before backfilling)'
        : failure.code === 'AccessDenied'
          ? 'access denied reading the object (role policy, bucket policy or KMS key)'
          : `reading the object failed (${failure.code})`;
  return { ok: false, retryable: failure.retryable, code: failure.code, message };
}

function problemCode(problem: string): string {
  switch (problem) {
    case 'too-large':
      return 'ObjectTooLarge';
    case 'decompressed-too-large':
      return 'DecompressedTooLarge';
    case 'not-gzip':
      return 'NotGzip';
    default:
      return 'NotCloudTrail';
  }
}
