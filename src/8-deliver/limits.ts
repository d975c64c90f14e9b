/**
 * AWS limits the deliver stage respects. Every number is the documented service limit; the budgets
 * below them leave headroom for what we cannot measure exactly (JSON framing of the Lambda response).
 */

/** Lambda synchronous invocation response payload limit (6 MB). */
export const LAMBDA_RESPONSE_LIMIT = 6_291_456;
/** What we allow the response to use: ~5 % headroom for framing that is estimated rather than measured. */
export const RESPONSE_BUDGET = 6_000_000;
/** Firehose: maximum size of one record before base64 (1,000 KiB). */
export const FIREHOSE_MAX_RECORD_BYTES = 1_024_000;
/** Firehose PutRecordBatch: at most 500 records and 4 MiB per call. */
export const FIREHOSE_BATCH_MAX_RECORDS = 500;
export const FIREHOSE_BATCH_MAX_BYTES = 4 * 1024 * 1024;
/** Kinesis: a record's data blob plus its partition key is at most 1 MiB. */
export const KINESIS_MAX_RECORD_BYTES = 1024 * 1024;
/** Kinesis PutRecords: at most 500 records and 5 MiB (data and partition keys) per call. */
export const KINESIS_BATCH_MAX_RECORDS = 500;
export const KINESIS_BATCH_MAX_BYTES = 5 * 1024 * 1024;

/**
 * Uncompressed size cap of one re-ingested envelope. When the envelope comes back it is returned whole,
 * so its body (base64: ×4/3) must fit in one response with room to spare: 3 MiB → 4 MiB of base64.
 */
export const ENVELOPE_MAX_BODY_BYTES = 3 * 1024 * 1024;
/**
 * Lines longer than this may not compress below the record limit; the planner returns them in the
 * response first rather than risk being unable to re-ingest them.
 */
export const HEAVY_LINE_BYTES = 900 * 1024;

export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}
