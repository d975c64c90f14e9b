/**
 * Reading S3 objects, shared by the entry points that read CloudTrail objects (backfill, Object Lambda,
 * `cloudtrail-enricher get`): the bounds on one object, the variables that set them, and the bounded body reader.
 * Misconfiguration throws ConfigError naming the variable and what was expected.
 */
import type { ConfigVariable } from '../config/core.ts';
import { intVar, type Env } from '../config/env.ts';

/** Bounds on one CloudTrail object: what is downloaded, and what it may decompress to (gzip-bomb guard). */
export interface ObjectLimits {
  /** Largest object (bytes as stored) that is read. */
  readonly maxObjectBytes: number;
  /** Largest decompressed body. */
  readonly maxDecompressedBytes: number;
}

/**
 * CloudTrail delivers a file per account and region about every five minutes; even busy accounts write files of
 * a few MB compressed (they compress ~10–20×). 32 MiB stored / 128 MiB decompressed covers them with room to spare
 * and keeps one object (text + parsed events + output) well inside a 1,024 MB function.
 */
export const DEFAULT_OBJECT_LIMITS: ObjectLimits = { maxObjectBytes: 32 * 1024 * 1024, maxDecompressedBytes: 128 * 1024 * 1024 };

export const OBJECT_LIMIT_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'CLOUDTRAIL_OBJECT_MAX_BYTES',
    default: String(DEFAULT_OBJECT_LIMITS.maxObjectBytes),
    description: 'largest CloudTrail object (stored size) the backfill and the Object Lambda read; larger ones fail permanently',
  },
  {
    name: 'CLOUDTRAIL_OBJECT_MAX_DECOMPRESSED_BYTES',
    default: String(DEFAULT_OBJECT_LIMITS.maxDecompressedBytes),
    description: 'largest decompressed CloudTrail object (gzip-bomb guard); raise the function memory with it',
  },
];

export function parseObjectLimits(env: Env): ObjectLimits {
  return {
    maxObjectBytes: intVar(env, 'CLOUDTRAIL_OBJECT_MAX_BYTES', DEFAULT_OBJECT_LIMITS.maxObjectBytes, 1024, 1024 ** 3),
    // V8 strings stop at ~512 MiB (2^29 characters): a body beyond that could not be parsed at all.
    maxDecompressedBytes: intVar(
      env,
      'CLOUDTRAIL_OBJECT_MAX_DECOMPRESSED_BYTES',
      DEFAULT_OBJECT_LIMITS.maxDecompressedBytes,
      1024,
      512 * 1024 * 1024,
    ),
  };
}

/**
 * Reads a body stream into memory, stopping as soon as it passes `maxBytes` (the stream is destroyed, so the
 * rest is never downloaded). `declaredLength` (Content-Length) refuses an oversized object before any byte.
 */
export async function readBounded(
  body: AsyncIterable<Uint8Array> | undefined,
  maxBytes: number,
  declaredLength?: number,
): Promise<{ ok: true; bytes: Buffer } | { ok: false; problem: 'too-large'; message: string }> {
  const tooLarge = { ok: false as const, problem: 'too-large' as const, message: `object is larger than the limit of ${maxBytes} bytes` };
  if (declaredLength !== undefined && declaredLength > maxBytes) {
    destroy(body);
    return tooLarge;
  }
  if (body === undefined) return { ok: true, bytes: Buffer.alloc(0) };
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      destroy(body);
      return tooLarge;
    }
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return { ok: true, bytes: Buffer.concat(chunks, total) };
}

/** Stops a body that will not be read: a Node stream is destroyed, a web stream (fetch) cancelled. */
function destroy(body: unknown): void {
  const stream = body as { destroy?: () => void; cancel?: () => Promise<void> } | undefined;
  if (typeof stream?.destroy === 'function') stream.destroy();
  else if (typeof stream?.cancel === 'function') stream.cancel().catch(() => undefined);
}
