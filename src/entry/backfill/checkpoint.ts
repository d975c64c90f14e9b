import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Sender } from './core.ts';
import type { BackfillDestination } from './config.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Everything a backfill keeps about its own progress lives under this folder of the destination prefix. */
export const BACKFILL_STATE_FOLDER = '_backfill/';

/**
 * The checkpoint of a backfill: the source objects it has finished (key + ETag), kept in the destination so that
 * any machine can resume. It is a set of small append-only segments
 * `<dest prefix>_backfill/checkpoint/<source bucket>/<run id>-<n>.ndjson.gz` (one `{"k":key,"e":etag}` per line):
 * a segment is written every `flushEvery` finished objects or `flushMs`, and never rewritten, so a killed process
 * loses at most the objects since the last segment — those are redone, and since output keys are deterministic they
 * overwrite instead of duplicating. A clean finish compacts every segment into one and deletes the segments it
 * replaced (files this backfill wrote, nothing else). Names start with `_`, which Athena ignores.
 */
export class Checkpoint {
  private readonly done = new Map<string, string>();
  private pending: [string, string][] = [];
  private readonly segments: string[] = [];
  private readonly runId: string;
  private sequence = 0;
  private lastFlush: number;
  private flushing: Promise<void> = Promise.resolve();
  /** PutObject / GetObject / ListObjectsV2 / DeleteObjects calls made for the checkpoint. */
  requests = 0;

  private constructor(
    private readonly s3: S3Sender,
    private readonly destination: BackfillDestination,
    readonly folder: string,
    private readonly options: { flushEvery: number; flushMs: number; now: () => number },
  ) {
    this.lastFlush = options.now();
    this.runId = `${new Date(options.now()).toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
  }

  /** The folder of a source bucket's checkpoint under a destination prefix. */
  static folderFor(destination: BackfillDestination, sourceBucket: string): string {
    return `${destination.prefix}${BACKFILL_STATE_FOLDER}checkpoint/${sourceBucket}/`;
  }

  /**
   * Loads the checkpoint of `sourceBucket` (every segment under its folder). `restart` ignores what is there; call
   * `reset()` to delete it before writing anything.
   */
  static async open(
    s3: S3Sender,
    destination: BackfillDestination,
    sourceBucket: string,
    options: { restart?: boolean; flushEvery?: number; flushMs?: number; now?: () => number } = {},
  ): Promise<Checkpoint> {
    const checkpoint = new Checkpoint(s3, destination, Checkpoint.folderFor(destination, sourceBucket), {
      flushEvery: options.flushEvery ?? 200,
      flushMs: options.flushMs ?? 5000,
      now: options.now ?? Date.now,
    });
    const existing = await checkpoint.listSegments();
    checkpoint.segments.push(...existing);
    if (options.restart !== true) {
      for (const key of existing) {
        checkpoint.requests++;
        const out = await s3.send(new GetObjectCommand({ Bucket: destination.bucket, Key: key }));
        const bytes = Buffer.from(await out.Body!.transformToByteArray());
        const text = (await gunzipAsync(bytes)).toString('utf8');
        for (const line of text.split('\n')) {
          if (line === '') continue;
          const entry = JSON.parse(line) as { k?: unknown; e?: unknown };
          if (typeof entry.k === 'string' && typeof entry.e === 'string') checkpoint.done.set(entry.k, entry.e);
        }
      }
    }
    return checkpoint;
  }

  /** Deletes the segments found at open (`--restart`): they are this backfill's own files, nothing else is touched. */
  async reset(): Promise<void> {
    this.done.clear();
    await this.deleteKeys(this.segments.splice(0));
  }

  /** Finished objects known to the checkpoint. */
  get size(): number {
    return this.done.size;
  }

  /** `done` when the object was finished with this ETag, `changed` when it was finished with another, else `new`. */
  status(key: string, etag: string): 'done' | 'changed' | 'new' {
    const seen = this.done.get(key);
    if (seen === undefined) return 'new';
    return seen === etag ? 'done' : 'changed';
  }

  /** Records a finished object; writes a segment when enough have gathered or enough time has passed. */
  finish(key: string, etag: string): Promise<void> {
    this.done.set(key, etag);
    this.pending.push([key, etag]);
    const now = this.options.now();
    if (this.pending.length >= this.options.flushEvery || now - this.lastFlush >= this.options.flushMs) return this.flush();
    return this.flushing;
  }

  /** Writes what has finished since the last segment (one at a time, in order). */
  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.lastFlush = this.options.now();
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      const key = `${this.folder}${this.runId}-${String(this.sequence++).padStart(6, '0')}.ndjson.gz`;
      await this.put(key, batch);
      this.segments.push(key);
    });
    return this.flushing;
  }

  /**
   * Flushes, then rewrites every finished object into one segment and deletes the segments it replaces. Called on a
   * clean finish (also after Ctrl-C); a failure here leaves the segments in place, which is still a valid checkpoint.
   */
  async compact(): Promise<void> {
    await this.flush();
    const replaced = [...this.segments];
    if (replaced.length <= 1 && replaced.every((key) => key.includes(this.runId))) return;
    const key = `${this.folder}${this.runId}-compact.ndjson.gz`;
    await this.put(key, [...this.done.entries()]);
    await this.deleteKeys(replaced.filter((k) => k !== key));
    this.segments.length = 0;
    this.segments.push(key);
  }

  private async deleteKeys(keys: readonly string[]): Promise<void> {
    // DeleteObjects takes at most 1,000 keys per call.
    for (let i = 0; i < keys.length; i += 1000) {
      this.requests++;
      await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.destination.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
  }

  private async put(key: string, entries: readonly (readonly [string, string])[]): Promise<void> {
    const body = await gzipAsync(entries.map(([k, e]) => JSON.stringify({ k, e })).join('\n') + '\n');
    this.requests++;
    await this.s3.send(new PutObjectCommand({ Bucket: this.destination.bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
  }

  private async listSegments(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      this.requests++;
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.destination.bucket, Prefix: this.folder, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key?.endsWith('.ndjson.gz') === true) keys.push(object.Key);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }
}
