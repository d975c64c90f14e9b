import { refFromEncodedKey, refFromRawKey, type ObjectRef } from '../../codec/cloudtrail-keys.ts';

/** One task of an S3 Batch Operations invocation; `ref` is absent when the task names no usable object. */
export interface BatchTask {
  readonly taskId: string;
  readonly ref?: ObjectRef;
}

/** What the backfill function was invoked with. */
export type BackfillInvocation =
  /** S3 `ObjectCreated` notifications: direct, wrapped in SQS (optionally through SNS), or EventBridge `Object Created`. */
  | {
      readonly kind: 'notifications';
      readonly objects: readonly ObjectRef[];
      /** Records that were not `ObjectCreated` (removals, restores, …) or had no bucket/key. */
      readonly ignored: number;
    }
  /** S3 Batch Operations "Invoke AWS Lambda function" (schema 1.0 or 2.0): answered per task. */
  | {
      readonly kind: 'batch';
      readonly schemaVersion: '1.0' | '2.0';
      readonly invocationId: string;
      readonly jobId?: string;
      readonly tasks: readonly BatchTask[];
    }
  /** `s3:TestEvent`, sent once when a notification configuration is saved. */
  | { readonly kind: 'test' }
  | { readonly kind: 'unknown' };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Recognises the event shapes the backfill accepts. Pure: looks at the event only.
 * - S3 notification: `{Records: [{eventSource: "aws:s3", eventName: "ObjectCreated:*", s3: {bucket: {name}, object: {key, versionId}}}]}`
 *   (keys URL-encoded, `+` for spaces).
 * - SQS: `{Records: [{eventSource: "aws:sqs", body}]}` whose body is one of these (an S3 notification, an SNS
 *   notification carrying one in `Message`, or an EventBridge event).
 * - EventBridge: `{source: "aws.s3", "detail-type": "Object Created", detail: {bucket: {name}, object: {key, version-id}}}`.
 * - S3 Batch Operations: `{invocationSchemaVersion: "1.0" | "2.0", invocationId, job, tasks: [...]}`; 1.0 tasks name the
 *   bucket by `s3BucketArn`, 2.0 tasks by `s3BucketName`.
 * Objects named twice in one invocation are enriched once.
 */
export function parseBackfillEvent(event: unknown): BackfillInvocation {
  if (!isObject(event)) return { kind: 'unknown' };
  const version = event.invocationSchemaVersion;
  if ((version === '1.0' || version === '2.0') && Array.isArray(event.tasks)) return parseBatch(event, version);
  const collected: Collected = { objects: [], ignored: 0, test: false };
  if (!collect(event, collected, 0)) return { kind: 'unknown' };
  if (collected.objects.length === 0 && collected.ignored === 0 && collected.test) return { kind: 'test' };
  return { kind: 'notifications', objects: dedupe(collected.objects), ignored: collected.ignored };
}

interface Collected {
  objects: ObjectRef[];
  ignored: number;
  test: boolean;
}

/** Adds what one notification-shaped value names; false when the value is none of the accepted shapes. */
function collect(value: unknown, out: Collected, depth: number): boolean {
  // SQS → SNS → S3 is the deepest legitimate nesting; anything deeper is not an event we know.
  if (!isObject(value) || depth > 3) return false;
  if (value.Event === 's3:TestEvent') {
    out.test = true;
    return true;
  }
  if (value.source === 'aws.s3' && typeof value['detail-type'] === 'string') {
    const detail = isObject(value.detail) ? value.detail : {};
    const bucket = str(isObject(detail.bucket) ? detail.bucket.name : undefined);
    const object = isObject(detail.object) ? detail.object : {};
    const key = str(object.key);
    if (value['detail-type'] === 'Object Created' && bucket !== undefined && key !== undefined) {
      out.objects.push(refFromRawKey(bucket, key, str(object['version-id'])));
    } else {
      out.ignored++;
    }
    return true;
  }
  if (value.Type === 'Notification' && typeof value.Message === 'string') {
    return collect(parseJson(value.Message), out, depth + 1);
  }
  if (!Array.isArray(value.Records)) return false;
  for (const record of value.Records as unknown[]) {
    if (!isObject(record)) {
      out.ignored++;
      continue;
    }
    if (record.eventSource === 'aws:s3') {
      const s3 = isObject(record.s3) ? record.s3 : {};
      const bucket = str(isObject(s3.bucket) ? s3.bucket.name : undefined);
      const object = isObject(s3.object) ? s3.object : {};
      const key = str(object.key);
      const name = typeof record.eventName === 'string' ? record.eventName : '';
      if (name.startsWith('ObjectCreated:') && bucket !== undefined && key !== undefined) {
        out.objects.push(refFromEncodedKey(bucket, key, str(object.versionId)));
      } else {
        out.ignored++;
      }
    } else if (record.eventSource === 'aws:sqs' && typeof record.body === 'string') {
      if (!collect(parseJson(record.body), out, depth + 1)) out.ignored++;
    } else if (record.EventSource === 'aws:sns' && isObject(record.Sns) && typeof record.Sns.Message === 'string') {
      if (!collect(parseJson(record.Sns.Message), out, depth + 1)) out.ignored++;
    } else {
      out.ignored++;
    }
  }
  return true;
}

function parseBatch(event: Json, schemaVersion: '1.0' | '2.0'): BackfillInvocation {
  const tasks: BatchTask[] = [];
  for (const task of event.tasks as unknown[]) {
    if (!isObject(task)) continue;
    const taskId = typeof task.taskId === 'string' ? task.taskId : '';
    const key = str(task.s3Key);
    const bucket = schemaVersion === '1.0' ? bucketFromArn(task.s3BucketArn) : str(task.s3BucketName);
    // Batch Operations URL-encodes keys in the 1.0 payload (AWS's own examples unquote them); the decoded key is
    // tried first and the key as sent second, which also covers a 2.0 payload carrying the plain key.
    tasks.push({
      taskId,
      ...(bucket !== undefined && key !== undefined ? { ref: refFromEncodedKey(bucket, key, str(task.s3VersionId)) } : {}),
    });
  }
  const job = isObject(event.job) ? event.job : {};
  return {
    kind: 'batch',
    schemaVersion,
    invocationId: typeof event.invocationId === 'string' ? event.invocationId : '',
    ...(str(job.id) !== undefined ? { jobId: str(job.id) } : {}),
    tasks,
  };
}

/** `arn:aws:s3:::bucket` (any partition) → `bucket`. */
function bucketFromArn(value: unknown): string | undefined {
  const arn = str(value);
  if (arn === undefined) return undefined;
  const m = /^arn:[a-z-]+:s3:[^:]*:[^:]*:([^/:]+)$/.exec(arn);
  return m === null ? undefined : m[1];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function dedupe(refs: readonly ObjectRef[]): ObjectRef[] {
  const seen = new Set<string>();
  const out: ObjectRef[] = [];
  for (const ref of refs) {
    const id = `${ref.bucket}\n${ref.key}\n${ref.versionId ?? ''}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(ref);
  }
  return out;
}
