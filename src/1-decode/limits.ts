/**
 * Decompression limits. CloudWatch Logs payloads are gzip; a crafted record could be a gzip bomb, so
 * every gunzip is bounded per record and the sum is bounded per invocation.
 */
export interface DecompressionBudget {
  /** Largest decompressed size of one record, bytes. */
  readonly perRecord: number;
  /** Bytes that may still be decompressed in this invocation. Mutated as records are decoded. */
  remaining: number;
}

/**
 * A Firehose record is at most 1,000 KiB; CloudWatch Logs batches compress roughly 5–15× in practice,
 * so 64 MiB leaves a wide margin for real payloads while stopping a bomb early.
 */
export const DEFAULT_MAX_DECOMPRESSED_PER_RECORD = 64 * 1024 * 1024;
/** The Lambda buffer is at most 3 MB of input; 256 MiB decompressed in one invocation is far above real traffic. */
export const DEFAULT_MAX_DECOMPRESSED_PER_INVOCATION = 256 * 1024 * 1024;

export function newDecompressionBudget(
  perRecord = DEFAULT_MAX_DECOMPRESSED_PER_RECORD,
  perInvocation = DEFAULT_MAX_DECOMPRESSED_PER_INVOCATION,
): DecompressionBudget {
  return { perRecord, remaining: perInvocation };
}
