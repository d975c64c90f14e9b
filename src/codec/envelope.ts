import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import type { PartitionKeys, Result } from '../model.ts';

/**
 * The form of a record this Lambda re-ingests into its own delivery stream (or source Kinesis stream):
 *
 *   MAGIC (5 bytes: NUL "CTE" 0x01) + gzip( header JSON + "\n" + NDJSON body )
 *
 * The NUL first byte can start neither JSON text nor a gzip member (0x1f 0x8b), so the decoder recognises
 * an envelope from its first bytes without trying anything else. The body is already enriched output:
 * when the envelope comes back it is returned as it is (never enriched twice, never split again).
 */
export const ENVELOPE_MAGIC = Buffer.from([0x00, 0x43, 0x54, 0x45, 0x01]);

export interface EnvelopeHeader {
  /** Format version. */
  readonly v: 1;
  /** Partition keys of every line in the body (S3 mode); absent in OpenSearch mode. */
  readonly pk?: PartitionKeys;
  /** Number of NDJSON lines (events) in the body. */
  readonly n: number;
  /** recordId of the input record the events came from, for tracing. */
  readonly origin: string;
}

export interface Envelope {
  readonly header: EnvelopeHeader;
  /** NDJSON, every line newline-terminated, exactly as it will be delivered. */
  readonly body: Buffer;
}

export function isEnvelope(data: Buffer): boolean {
  return data.length > ENVELOPE_MAGIC.length && data.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC);
}

/**
 * Gzip level 1: envelopes are written on the hot path whenever a batch overflows (and for most events in
 * OpenSearch mode); speed matters more than the last few percent of ratio, and the 1,000 KiB record limit is
 * enforced on the compressed size by the caller.
 */
export function encodeEnvelope(header: EnvelopeHeader, body: string | Buffer): Buffer {
  const plain = Buffer.concat([
    Buffer.from(JSON.stringify(header) + '\n', 'utf8'),
    typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
  ]);
  const compressed = gzipSync(plain, { level: zlibConstants.Z_BEST_SPEED });
  return Buffer.concat([ENVELOPE_MAGIC, compressed]);
}

export function decodeEnvelope(data: Buffer, maxOutputLength: number): Result<Envelope> {
  let plain: Buffer;
  try {
    plain = gunzipSync(data.subarray(ENVELOPE_MAGIC.length), { maxOutputLength });
  } catch (err) {
    return { ok: false, error: `re-ingested record: ${gunzipError(err)}` };
  }
  const newline = plain.indexOf(10);
  if (newline < 0) return { ok: false, error: 're-ingested record: header line missing' };
  let header: unknown;
  try {
    header = JSON.parse(plain.subarray(0, newline).toString('utf8'));
  } catch {
    return { ok: false, error: 're-ingested record: header is not JSON' };
  }
  if (!isHeader(header)) return { ok: false, error: 're-ingested record: header has an unexpected shape' };
  return { ok: true, value: { header, body: plain.subarray(newline + 1) } };
}

function isHeader(value: unknown): value is EnvelopeHeader {
  if (value === null || typeof value !== 'object') return false;
  const h = value as Record<string, unknown>;
  if (h.v !== 1 || typeof h.n !== 'number' || !Number.isInteger(h.n) || h.n < 0 || typeof h.origin !== 'string') return false;
  if (h.pk === undefined) return true;
  const pk = h.pk as Record<string, unknown> | null;
  return (
    pk !== null && typeof pk === 'object' && typeof pk.account === 'string' && typeof pk.region === 'string' && typeof pk.dt === 'string'
  );
}

export function gunzipError(err: unknown): string {
  if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
    return 'decompressed size exceeds the limit';
  }
  return 'not valid gzip';
}
