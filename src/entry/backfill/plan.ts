import { GetObjectCommand } from '@aws-sdk/client-s3';
import { classifySource } from '../../2-classify/source.ts';
import { Checkpoint } from './checkpoint.ts';
import { decodeCloudTrailObject } from '../../1-decode/cloudtrail-object.ts';
import { DEFAULT_OBJECT_LIMITS, readBounded, type ObjectLimits } from '../../codec/s3-object.ts';
import type { BackfillDestination } from './config.ts';
import type { S3Sender } from './core.ts';
import { dayObjects, dayPrefixes, emptyListingStats, type BackfillSelection, type DayPrefix } from './select.ts';

export interface PlanOptions {
  readonly s3: S3Sender;
  readonly source: { readonly bucket: string; readonly prefix: string };
  readonly destination: BackfillDestination;
  readonly selection?: BackfillSelection;
  readonly restart?: boolean;
  readonly limits?: ObjectLimits;
  /** Objects read to measure events per byte and unique source addresses (default 3; 0 reads none). */
  readonly sampleObjects?: number;
  /** Providers enabled (each looks up every new public address once). */
  readonly providers?: number;
  /** Objects per checkpoint segment (default 200, as the run). */
  readonly checkpointEvery?: number;
}

export interface PlanDay {
  readonly account: string;
  readonly region: string;
  readonly day: string;
  objects: number;
  bytes: number;
}

/** What a backfill would do, from listings (and a small sample of reads) only: nothing is written. */
export interface BackfillPlan {
  readonly days: PlanDay[];
  objects: number;
  bytes: number;
  /** Objects the checkpoint says are finished (same ETag): not counted in `objects`. */
  alreadyDone: number;
  /** Objects finished earlier whose ETag changed: counted in `objects`, they would be redone. */
  changed: number;
  ignored: Record<string, number>;
  skippedFolders: Record<string, number>;
  skippedExamples: string[];
  sample: { objects: number; bytes: number; events: number; uniquePublicIps: number; partitions: number };
  estimate: {
    events: number;
    /** Upper bound: the sample's unique public addresses per object × objects (the cache only lowers it). */
    providerLookups: number;
    s3Requests: { list: number; get: number; put: number; checkpoint: number; total: number };
  };
}

/**
 * `backfill --dry-run`: the selected objects and bytes per account/region/day, and estimates of events, provider
 * lookups and S3 requests. The estimate reads up to `sampleObjects` objects spread over the selected days to measure
 * events per stored byte, public addresses per object and partitions per object; everything else is listings.
 */
export async function planBackfill(options: PlanOptions): Promise<BackfillPlan> {
  const stats = emptyListingStats();
  const checkpoint = await Checkpoint.open(options.s3, options.destination, options.source.bucket, { restart: options.restart });
  const days: DayPrefix[] = [];
  for await (const day of dayPrefixes(options.s3, options.source.bucket, options.source.prefix, options.selection ?? {}, stats))
    days.push(day);

  const sampleCount = Math.max(0, options.sampleObjects ?? 3);
  const sampleDays = new Set<number>();
  for (let i = 0; i < Math.min(sampleCount, days.length); i++)
    sampleDays.add(Math.floor((i * days.length) / Math.min(sampleCount, days.length)));
  const toSample: { key: string }[] = [];

  const plan: BackfillPlan = {
    days: [],
    objects: 0,
    bytes: 0,
    alreadyDone: 0,
    changed: 0,
    ignored: {},
    skippedFolders: {},
    skippedExamples: [],
    sample: { objects: 0, bytes: 0, events: 0, uniquePublicIps: 0, partitions: 0 },
    estimate: { events: 0, providerLookups: 0, s3Requests: { list: 0, get: 0, put: 0, checkpoint: 0, total: 0 } },
  };
  for (let d = 0; d < days.length; d++) {
    const day = days[d]!;
    const row: PlanDay = { account: day.account, region: day.region, day: day.day, objects: 0, bytes: 0 };
    for await (const object of dayObjects(options.s3, options.source.bucket, day, stats, options.destination)) {
      const status = checkpoint.status(object.key, object.etag);
      if (status === 'done') {
        plan.alreadyDone++;
        continue;
      }
      if (status === 'changed') plan.changed++;
      row.objects++;
      row.bytes += object.size;
      if (sampleDays.has(d) && !toSample.some((s) => s.key.startsWith(day.prefix))) toSample.push({ key: object.key });
    }
    if (row.objects > 0) plan.days.push(row);
    plan.objects += row.objects;
    plan.bytes += row.bytes;
  }
  plan.ignored = { ...stats.skippedObjects };
  plan.skippedFolders = { ...stats.skippedFolders };
  plan.skippedExamples = [...stats.skippedExamples];

  const limits = options.limits ?? DEFAULT_OBJECT_LIMITS;
  for (const { key } of toSample) {
    const out = await options.s3.send(new GetObjectCommand({ Bucket: options.source.bucket, Key: key }));
    const read = await readBounded(out.Body as AsyncIterable<Uint8Array> | undefined, limits.maxObjectBytes, out.ContentLength);
    if (!read.ok) continue;
    const decoded = await decodeCloudTrailObject(read.bytes, limits);
    if (!decoded.ok) continue;
    const ips = new Set<string>();
    const partitions = new Set<string>();
    for (const item of decoded.events) {
      if (!item.ok) continue;
      const source = classifySource(item.event.sourceIPAddress);
      if (source.kind === 'public') ips.add(source.ip!);
      partitions.add(
        `${String(item.event.recipientAccountId)}/${String(item.event.awsRegion)}/${String(item.event.eventTime).slice(0, 10)}`,
      );
    }
    plan.sample.objects++;
    plan.sample.bytes += read.bytes.length;
    plan.sample.events += decoded.events.length;
    plan.sample.uniquePublicIps += ips.size;
    plan.sample.partitions += Math.max(1, partitions.size);
  }

  const s = plan.sample;
  plan.estimate.events = s.bytes === 0 ? 0 : Math.round((plan.bytes * s.events) / s.bytes);
  const ipsPerObject = s.objects === 0 ? 0 : s.uniquePublicIps / s.objects;
  plan.estimate.providerLookups = Math.round(Math.min(plan.estimate.events, ipsPerObject * plan.objects) * (options.providers ?? 0));
  const partitionsPerObject = s.objects === 0 ? 1 : s.partitions / s.objects;
  const segments = Math.ceil(plan.objects / (options.checkpointEvery ?? 200));
  const requests = plan.estimate.s3Requests;
  requests.list = stats.listCalls;
  requests.get = plan.objects;
  requests.put = Math.round(plan.objects * partitionsPerObject);
  // Segments, one compaction, and the DeleteObjects call that removes the compacted segments.
  requests.checkpoint = checkpoint.requests + segments + (segments > 0 ? 2 : 0);
  requests.total = requests.list + requests.get + requests.put + requests.checkpoint;
  return plan;
}
