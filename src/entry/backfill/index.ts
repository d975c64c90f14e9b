/**
 * Backfill: enriches historical CloudTrail objects from S3 into the output bucket, in the layout Firehose writes.
 * Entry points: handlers/backfill.ts (S3 notifications, S3 Batch Operations) and `cloudtrail-enricher backfill`.
 */
export { BACKFILL_CONFIG_VARIABLES, checkPrefix, parseBackfillConfig, type BackfillConfig, type BackfillDestination } from './config.ts';
export {
  backfillObject,
  groupByPartition,
  type BackfillDeps,
  type BackfillObjectOptions,
  type BackfillOutcome,
  type S3Sender,
  type WrittenObject,
} from './core.ts';
export { parseBackfillEvent, type BackfillInvocation, type BatchTask } from './events.ts';
export {
  BackfillRetryableError,
  batchResult,
  createBackfillHandler,
  type BackfillHandler,
  type BackfillHandlerOptions,
  type BatchResponse,
  type BatchResultCode,
  type NotificationSummary,
} from './handler.ts';
export { outputKeyFor, outputNameFor } from './keys.ts';
export { runBackfill, type BackfillProgress, type BackfillTotals, type RunBackfillOptions } from './run.ts';
export { dayObjects, dayPrefixes, sourceLayout, type BackfillSelection, type DayPrefix, type SelectedObject } from './select.ts';
export { BACKFILL_STATE_FOLDER, Checkpoint } from './checkpoint.ts';
export { planBackfill, type BackfillPlan } from './plan.ts';
export { createJobInput, manifestLine, writeManifest, type WrittenManifest } from './batch-operations.ts';
export { classifyFailure, isMissing, type FailureClass } from './s3-errors.ts';
