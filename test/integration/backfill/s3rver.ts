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
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
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
