import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';

/** The part of s3rver's (untyped) API the tests use. */
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

export interface LocalS3 {
  readonly endpoint: string;
  /** A client for the test's own setup and checks (not the one under test). */
  readonly client: S3Client;
  /** A new client against the server, as the code under test would create it. */
  newClient(): S3Client;
  close(): Promise<void>;
}

/**
 * s3rver@3.7.1 in process on 127.0.0.1 (any free port), storing into a fresh temporary directory that is removed
 * on close. Path-style addressing, its fixed credentials (S3RVER/S3RVER), real SigV4 signing.
 */
export async function startS3rver(buckets: readonly string[]): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'cte-s3rver-'));
  const require = createRequire(import.meta.url);
  patchDelimiterListing(require('s3rver/lib/stores/filesystem') as FilesystemStoreClass);
  const S3rver = require('s3rver') as S3rverConstructor;
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const newClient = () => {
    const made = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      // Fail fast in tests: the code under test decides what is retried.
      maxAttempts: 1,
    });
    clients.push(made);
    return made;
  };
  const client = newClient();
  return {
    endpoint,
    client,
    newClient,
    close: async () => {
      // Keep-alive sockets would hold the server open: every client made here is destroyed first.
      for (const made of clients) made.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

interface ListedObject {
  readonly key: string;
}
interface ListResult {
  objects: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
}
interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}
interface FilesystemStoreClass {
  prototype: { listObjects(bucket: string, options: ListOptions): Promise<ListResult>; patchedDelimiterListing?: true };
}

/**
 * s3rver 3.7.1 answers a delimiter listing with a common prefix only when an object sits directly under it: its
 * directory walk never descends below a would-be common prefix, so `AWSLogs/` with delimiter `/` returns no accounts
 * when the objects are deeper, where S3 returns every `AWSLogs/<account>/`. This wraps its store's listing the way S3
 * behaves: every key under the prefix (after StartAfter/ContinuationToken) is rolled up to the next delimiter, and
 * MaxKeys counts keys and common prefixes together. (Paging tokens use DES: the suite runs with
 * `--openssl-legacy-provider`, see .mocharc.json.)
 */
function patchDelimiterListing(Store: FilesystemStoreClass): void {
  if (Store.prototype.patchedDelimiterListing === true) return;
  const original = Store.prototype.listObjects;
  Store.prototype.listObjects = async function (this: unknown, bucket: string, options: ListOptions): Promise<ListResult> {
    const { delimiter = '', prefix = '', maxKeys = Infinity } = options;
    if (delimiter === '') return original.call(this, bucket, options);
    const all = await original.call(this, bucket, { ...options, delimiter: '', maxKeys: Infinity });
    const sorted = [...all.objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const objects: ListedObject[] = [];
    const commonPrefixes: string[] = [];
    let isTruncated = false;
    for (const object of sorted) {
      const at = object.key.indexOf(delimiter, prefix.length);
      const common = at === -1 ? undefined : object.key.slice(0, at + delimiter.length);
      if (common !== undefined && commonPrefixes[commonPrefixes.length - 1] === common) continue;
      if (objects.length + commonPrefixes.length >= maxKeys) {
        // s3rver builds its continuation token from the last object; a page of prefixes only cannot continue.
        isTruncated = objects.length > 0;
        break;
      }
      if (common !== undefined) commonPrefixes.push(common);
      else objects.push(object);
    }
    return { objects, commonPrefixes, isTruncated };
  };
  Store.prototype.patchedDelimiterListing = true;
}
