import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { gunzipError } from '../codec/envelope.ts';
import type { ObjectLimits } from '../codec/s3-object.ts';
import { eventFromParsed, type EventItem } from './event-text.ts';

const gunzipAsync = promisify(gunzip);

/** Why an object's content cannot be enriched. `digest` is not a failure: digests hold no events. */
export type ObjectProblem = 'too-large' | 'decompressed-too-large' | 'not-gzip' | 'not-json' | 'not-cloudtrail' | 'digest';

export type DecodedObject =
  { readonly ok: true; readonly events: EventItem[] } | { readonly ok: false; readonly problem: ObjectProblem; readonly message: string };

const GZIP_ID1 = 0x1f;
const GZIP_ID2 = 0x8b;

/**
 * Decodes a CloudTrail log object: gzip (as CloudTrail writes it; plain JSON is accepted too) of
 * `{"Records": [ …events… ]}`. The decompressed size is bounded (a gzip bomb stops at the limit, not at the
 * end of memory). Each element of `Records` becomes one event. Elements are re-serialised from the parsed file,
 * the same as the transform does for a CloudTrail file body: values are identical and key order is kept (except
 * that JavaScript puts integer-like keys first); the file's insignificant whitespace and escape spellings are not
 * kept, and numbers beyond double precision would be rounded (CloudTrail writes none). An element that is not a JSON object is kept as a skipped line, so every
 * element of `Records` comes out exactly once.
 */
export async function decodeCloudTrailObject(bytes: Buffer, limits: ObjectLimits): Promise<DecodedObject> {
  if (bytes.length > limits.maxObjectBytes)
    return { ok: false, problem: 'too-large', message: `object is larger than the limit of ${limits.maxObjectBytes} bytes` };
  let plain: Buffer;
  if (bytes.length >= 2 && bytes[0] === GZIP_ID1 && bytes[1] === GZIP_ID2) {
    try {
      plain = await gunzipAsync(bytes, { maxOutputLength: limits.maxDecompressedBytes });
    } catch (err) {
      const reason = gunzipError(err);
      return reason.startsWith('decompressed')
        ? {
            ok: false,
            problem: 'decompressed-too-large',
            message: `object decompresses to more than the limit of ${limits.maxDecompressedBytes} bytes`,
          }
        : { ok: false, problem: 'not-gzip', message: 'object is not valid gzip' };
    }
  } else {
    plain = bytes;
  }
  // A UTF-8 byte order mark is not JSON whitespace; tolerate it.
  const start = plain.length >= 3 && plain[0] === 0xef && plain[1] === 0xbb && plain[2] === 0xbf ? 3 : 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain.toString('utf8', start));
  } catch {
    return { ok: false, problem: 'not-json', message: 'object is not JSON (not a CloudTrail log file)' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, problem: 'not-cloudtrail', message: 'object is not a CloudTrail log file (no "Records" array)' };
  }
  const file = parsed as Record<string, unknown>;
  if (!Array.isArray(file.Records)) {
    if (Object.hasOwn(file, 'digestStartTime') || Object.hasOwn(file, 'logFiles')) {
      return { ok: false, problem: 'digest', message: 'CloudTrail digest file (no events)' };
    }
    return { ok: false, problem: 'not-cloudtrail', message: 'object is not a CloudTrail log file (no "Records" array)' };
  }
  const records = file.Records as unknown[];
  const events: EventItem[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) events[i] = eventFromParsed(records[i]);
  return { ok: true, events };
}
