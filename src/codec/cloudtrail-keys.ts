/**
 * CloudTrail object keys: which S3 object an event names (S3 notifications, EventBridge, Batch Operations), whether
 * a key is a CloudTrail log file worth reading, and `s3://` URIs. Shared by the backfill, the Object Lambda and the CLI.
 */

/** One S3 object to enrich. */
export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  /**
   * The key as the event spelled it when that differs from `key` (S3 notifications and Batch Operations 1.0
   * URL-encode keys; EventBridge and the manifest of a 2.0 job may not). Tried when `key` does not exist.
   */
  readonly alternateKey?: string;
}

export type KeyVerdict =
  { readonly ok: true } | { readonly ok: false; readonly reason: 'digest' | 'not-cloudtrail' | 'own-output'; readonly message: string };

/** Where an entry point writes its own output (the backfill's destination): a bucket and a key prefix. */
export interface OwnOutput {
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * Decides from the key alone whether an object is worth reading. CloudTrail writes
 * `AWSLogs/[o-…/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<id>.json.gz`, its
 * digests under `…/CloudTrail-Digest/…` (`…_CloudTrail-Digest_….json.gz`: hashes and signatures, no events), and
 * Insights events under `…/CloudTrail-Insight/…` (Records files like the others, enriched too).
 * Anything that is not `.json.gz` or `.json` is not a CloudTrail log file; what is, is checked again by its content.
 * Objects under the destination prefix of the same bucket are the backfill's own output: never read back.
 */
export function classifyKey(ref: Pick<ObjectRef, 'bucket' | 'key'>, destination?: OwnOutput): KeyVerdict {
  const { key } = ref;
  if (destination !== undefined && ref.bucket === destination.bucket && key.startsWith(destination.prefix)) {
    return { ok: false, reason: 'own-output', message: 'object is under the backfill output prefix' };
  }
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (key.includes('/CloudTrail-Digest/') || name.includes('_CloudTrail-Digest_')) {
    return { ok: false, reason: 'digest', message: 'CloudTrail digest file (no events)' };
  }
  if (!name.endsWith('.json.gz') && !name.endsWith('.json')) {
    return { ok: false, reason: 'not-cloudtrail', message: 'not a CloudTrail log file (expected .json.gz)' };
  }
  return { ok: true };
}

/**
 * S3 event notifications (and Batch Operations 1.0 tasks) carry the key URL-encoded, with `+` for spaces
 * (`red flower.jpg` → `red+flower.jpg`). Returns undefined for malformed escapes.
 */
export function decodeEventKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** An object reference from an (URL-encoded) event key: the decoded key first, the key as sent as the fallback. */
export function refFromEncodedKey(bucket: string, encodedKey: string, versionId?: string | null): ObjectRef {
  const decoded = decodeEventKey(encodedKey);
  const key = decoded ?? encodedKey;
  return {
    bucket,
    key,
    ...(versionId ? { versionId } : {}),
    ...(decoded !== undefined && decoded !== encodedKey ? { alternateKey: encodedKey } : {}),
  };
}

/** An object reference from a raw key (EventBridge): the key as sent first, its decoded form as the fallback. */
export function refFromRawKey(bucket: string, rawKey: string, versionId?: string | null): ObjectRef {
  const decoded = decodeEventKey(rawKey);
  return {
    bucket,
    key: rawKey,
    ...(versionId ? { versionId } : {}),
    ...(decoded !== undefined && decoded !== rawKey ? { alternateKey: decoded } : {}),
  };
}

/** `s3://bucket/prefix` → bucket and prefix (prefix may be empty). Undefined when it is not such a URI. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri.trim());
  if (m === null) return undefined;
  return { bucket: m[1]!, prefix: m[2] ?? '' };
}
