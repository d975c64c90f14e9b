import type { CoreConfig } from '../../config/core.ts';
import { BackfillRetryableError } from '../../errors.ts';
import type { IpIntelligence } from '../../3-lookup/types.ts';
import { silentLog, type Log } from '../../model.ts';
import type { RuleEngine } from '../../5-rules/types.ts';
import { ObjectFunction } from '../../observability/metric-names.ts';
import { publishObjectMetrics, type MetricsSink } from '../../observability/report.ts';
import type { ObjectRef } from '../../codec/cloudtrail-keys.ts';
import type { BackfillConfig } from './config.ts';
import { backfillObject, type BackfillOutcome, type S3Sender } from './core.ts';
import { parseBackfillEvent, type BatchTask } from './events.ts';

export type BatchResultCode = 'Succeeded' | 'TemporaryFailure' | 'PermanentFailure';

/** The answer S3 Batch Operations expects from an "Invoke AWS Lambda function" job. */
export interface BatchResponse {
  readonly invocationSchemaVersion: '1.0' | '2.0';
  readonly treatMissingKeysAs: BatchResultCode;
  readonly invocationId: string;
  readonly results: { readonly taskId: string; readonly resultCode: BatchResultCode; readonly resultString: string }[];
}

/** What a notification invocation did (returned, and logged as one line). */
export interface NotificationSummary {
  readonly objects: number;
  readonly written: number;
  readonly ignored: number;
  readonly failed: number;
  readonly retryable: number;
  readonly eventsIn: number;
  readonly eventsOut: number;
  readonly outputObjects: number;
}

/**
 * The answer to an SQS event source mapping with `ReportBatchItemFailures`: only the listed messages are redelivered
 * (and, after the queue's maxReceiveCount, moved to its dead-letter queue). An empty list deletes the whole batch.
 */
export interface SqsBatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

export interface BackfillHandlerOptions {
  readonly s3: S3Sender;
  readonly config: CoreConfig;
  readonly backfill: BackfillConfig;
  /** Built once per container and reused, so caches survive warm invocations. */
  readonly intel?: IpIntelligence | Promise<IpIntelligence>;
  readonly rules?: RuleEngine;
  readonly log?: Log;
  /** Object metrics (ObjectsProcessed, ObjectsFailed, ObjectsSkipped, ObjectEvents, ObjectDurationMs), per invocation. */
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
}

export type BackfillHandler = (
  event: unknown,
  context: { getRemainingTimeInMillis(): number },
) => Promise<BatchResponse | NotificationSummary | SqsBatchResponse | { readonly ignored: string }>;

/**
 * The backfill Lambda around the pure core:
 * - S3 Batch Operations: one result per task — `Succeeded` (enriched, or skipped: digest / not a CloudTrail key),
 *   `TemporaryFailure` (throttling, timeouts, server errors, or no time left: Batch Operations retries it),
 *   `PermanentFailure` (missing, access denied, not CloudTrail, over the size limits). `treatMissingKeysAs` is
 *   `PermanentFailure`: a task without a result was not enriched.
 * - SQS (S3 notifications, possibly through SNS, or EventBridge events as messages): each message is one item of a
 *   partial batch response; a message is listed in `batchItemFailures` when one of its objects failed in a retryable way,
 *   so only it is redelivered (then dead-lettered after maxReceiveCount), never its neighbours. A message naming no
 *   usable object, or only objects that failed permanently, is not retried (it would fail the same way).
 * - S3 notifications (direct, EventBridge): objects are enriched one after another; if any failed in a retryable
 *   way the invocation throws after the others are done, so Lambda's asynchronous retries (or SQS redelivery) run it
 *   again — harmless, because output keys are deterministic and objects are overwritten, never duplicated.
 *   Permanent failures are logged and not retried.
 */
export function createBackfillHandler(options: BackfillHandlerOptions): BackfillHandler {
  const log = options.log ?? silentLog;
  const now = options.now ?? Date.now;
  const { config } = options;

  return async (event, context) => {
    const started = now();
    const invocation = parseBackfillEvent(event);
    if (invocation.kind === 'test') {
      log.info('S3 test event received; nothing to do');
      return { ignored: 's3:TestEvent' };
    }
    if (invocation.kind === 'unknown') {
      // Not retryable: the same event would be rejected again. Logged so a wrong trigger is noticed.
      log.error('backfill invoked with an unrecognised event (expected S3 ObjectCreated notifications or S3 Batch Operations tasks)');
      return { ignored: 'unrecognised event' };
    }
    const intel = await options.intel;
    const deps = {
      s3: options.s3,
      enrich: { config, intel, rules: options.rules, log },
      destination: options.backfill.destination,
      limits: options.backfill.limits,
      log,
      now,
    };

    /** Lookups share what is left of the invocation between the objects still to do, like the transform's budget. */
    const lookupDeadline = (left: number): number => {
      const remaining = Math.max(0, context.getRemainingTimeInMillis() - config.responseReserveMs);
      return now() + Math.floor((remaining * config.enrichmentBudgetFraction) / Math.max(1, left));
    };
    const outOfTime = () => context.getRemainingTimeInMillis() <= config.responseReserveMs;

    if (invocation.kind === 'batch') {
      const results: BatchResponse['results'] = [];
      const tally = emptySummary(invocation.tasks.length);
      for (let i = 0; i < invocation.tasks.length; i++) {
        const task = invocation.tasks[i]!;
        if (outOfTime()) {
          results.push({ taskId: task.taskId, resultCode: 'TemporaryFailure', resultString: 'no time left in this invocation' });
          continue;
        }
        const outcome = await runTask(task, deps, lookupDeadline(invocation.tasks.length - i));
        results.push({ taskId: task.taskId, ...batchResult(outcome) });
        logOutcome(log, outcome);
        if (outcome?.status === 'written') {
          tally.written++;
          tally.eventsOut += outcome.eventsOut;
        } else if (outcome?.status === 'ignored') tally.ignored++;
        else tally.failed++;
      }
      tally.failed += results.length - tally.written - tally.ignored - tally.failed;
      publish(tally);
      return {
        invocationSchemaVersion: invocation.schemaVersion,
        treatMissingKeysAs: 'PermanentFailure',
        invocationId: invocation.invocationId,
        results,
      };
    }

    if (isSqsEvent(event)) {
      const failures: SqsBatchResponse['batchItemFailures'] = [];
      const total = emptySummary(0);
      const records = event.Records;
      for (let m = 0; m < records.length; m++) {
        const record = records[m]!;
        const message = parseBackfillEvent({ Records: [record] });
        if (message.kind !== 'notifications') continue;
        const summary = await runObjects(message.objects, records.length - m);
        addSummary(total, summary);
        if (summary.retryable > 0) failures.push({ itemIdentifier: record.messageId });
      }
      log.info('backfill summary', { ...total, messages: records.length, messagesRetried: failures.length });
      publish(total);
      return { batchItemFailures: failures };
    }

    const summary = await runObjects(invocation.objects, 1);
    log.info('backfill summary', { ...summary, ignoredRecords: invocation.ignored });
    publish(summary);
    if (summary.retryable > 0) {
      throw new BackfillRetryableError(
        `${summary.retryable} of ${summary.objects} objects failed in a retryable way; the event is retried (output is overwritten, not duplicated)`,
      );
    }
    return summary;

    /** Enriches `objects` one after another; `messagesLeft` shares the lookup budget with messages still to do. */
    async function runObjects(objects: readonly ObjectRef[], messagesLeft: number): Promise<NotificationSummary & { retryable: number }> {
      const summary = emptySummary(objects.length);
      for (let i = 0; i < objects.length; i++) {
        const ref = objects[i]!;
        if (outOfTime()) {
          summary.failed++;
          summary.retryable++;
          continue;
        }
        const outcome = await backfillObject(ref, deps, { lookupDeadline: lookupDeadline(objects.length - i + messagesLeft - 1) });
        logOutcome(log, outcome);
        if (outcome.status === 'written') {
          summary.written++;
          summary.eventsIn += outcome.eventsIn;
          summary.eventsOut += outcome.eventsOut;
          summary.outputObjects += outcome.objects.length;
        } else if (outcome.status === 'ignored') {
          summary.ignored++;
        } else {
          summary.failed++;
          if (outcome.retryable) summary.retryable++;
        }
      }
      return summary;
    }

    function publish(summary: NotificationSummary): void {
      if (options.metrics === undefined) return;
      publishObjectMetrics(
        ObjectFunction.Backfill,
        {
          processed: summary.written,
          failed: summary.failed,
          skipped: summary.ignored,
          events: summary.eventsOut,
          durationMs: now() - started,
        },
        options.metrics,
      );
    }
  };
}

function emptySummary(objects: number): { -readonly [K in keyof NotificationSummary]: number } {
  return { objects, written: 0, ignored: 0, failed: 0, retryable: 0, eventsIn: 0, eventsOut: 0, outputObjects: 0 };
}

function addSummary(into: { -readonly [K in keyof NotificationSummary]: number }, add: NotificationSummary): void {
  for (const key of Object.keys(into) as (keyof NotificationSummary)[]) into[key] += add[key];
}

/** An SQS event source mapping's event: `{Records: [{messageId, eventSource: "aws:sqs", body, …}]}`. */
function isSqsEvent(event: unknown): event is { Records: { messageId: string; eventSource: 'aws:sqs'; body: string }[] } {
  if (event === null || typeof event !== 'object' || !Array.isArray((event as { Records?: unknown }).Records)) return false;
  const records = (event as { Records: unknown[] }).Records;
  return (
    records.length > 0 &&
    records.every(
      (r) =>
        r !== null &&
        typeof r === 'object' &&
        (r as Record<string, unknown>).eventSource === 'aws:sqs' &&
        typeof (r as Record<string, unknown>).messageId === 'string',
    )
  );
}

async function runTask(
  task: BatchTask,
  deps: Parameters<typeof backfillObject>[1],
  lookupDeadline: number,
): Promise<BackfillOutcome | undefined> {
  if (task.ref === undefined) return undefined;
  return backfillObject(task.ref, deps, { lookupDeadline });
}

/** Batch Operations copies `resultString` into the job's completion report: short, and without object content. */
export function batchResult(outcome: BackfillOutcome | undefined): { resultCode: BatchResultCode; resultString: string } {
  if (outcome === undefined) return { resultCode: 'PermanentFailure', resultString: 'task names no bucket and key' };
  switch (outcome.status) {
    case 'written':
      return {
        resultCode: 'Succeeded',
        resultString: `enriched ${outcome.eventsOut} events into ${outcome.objects.length} object${outcome.objects.length === 1 ? '' : 's'}`,
      };
    case 'ignored':
      // A manifest built from a bucket listing names digests too; failing them would push the job towards its
      // failure threshold for objects that need no work.
      return { resultCode: 'Succeeded', resultString: `skipped: ${outcome.message}` };
    case 'failed':
      return {
        resultCode: outcome.retryable ? 'TemporaryFailure' : 'PermanentFailure',
        resultString: `${outcome.code}: ${outcome.message}`,
      };
  }
}

function logOutcome(log: Log, outcome: BackfillOutcome | undefined): void {
  if (outcome === undefined) {
    log.warn('batch task without bucket or key');
    return;
  }
  const source = { bucket: outcome.source.bucket, key: outcome.source.key };
  if (outcome.status === 'written') {
    log.info('backfilled object', {
      ...source,
      events: outcome.eventsOut,
      objects: outcome.objects.length,
      partial: outcome.counters.partial,
      skipped: outcome.counters.skipped,
    });
  } else if (outcome.status === 'ignored') {
    log.info('object skipped', { ...source, reason: outcome.reason });
  } else {
    const fields = { ...source, code: outcome.code, retryable: outcome.retryable, message: outcome.message };
    if (outcome.retryable) log.warn('backfill failed', fields);
    else log.error('backfill failed', fields);
  }
}

export { BackfillRetryableError };
