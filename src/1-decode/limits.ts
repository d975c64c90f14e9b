/**
 * Decompression limits. CloudWatch Logs payloads are gzip; a crafted record could be a gzip bomb, so
 * every gunzip is bounded per record and the sum is bounded per invocation.
 */
export interface DecompressionBudget {
  /** Largest decompressed size of one record, bytes. */
  readonly perRecord: number;
  /** Bytes that may still be decompressed in this invocation. Mutated as records are decoded. */
  remaining: number;
  /** Largest estimated parsed cost (heap bytes) of one record's events. */
  readonly parsedPerRecord: number;
  /** Estimated parsed cost that may still be decoded in this invocation. Mutated as records are decoded. */
  parsedRemaining: number;
}

/**
 * Parsed-cost budget. Decompressed bytes do not bound memory: `{}` is 3 bytes of text and ~64 bytes of heap, and every
 * parsed event is kept (with its text) until the batch is encoded. Before a record is parsed its decompressed text is
 * scanned once and its heap cost estimated (`parsedCostEstimate`); a record over the per-record limit, or past what is
 * left of the invocation's budget, fails alone (ProcessingFailed with its original data).
 * Sized from measurement (docs in SECURITY.md): the realistic workload estimates 2.77 B per decompressed byte, so a 3 MB buffer (≈ 21 MB decompressed) ≈ 58 MB;
 * 192 MiB keeps a 1,024 MB Lambda (geo databases ≈ 200 MB RSS) under 700 MB RSS in the adversarial cases.
 */
export const DEFAULT_MAX_PARSED_PER_RECORD = 64 * 1024 * 1024;
export const DEFAULT_MAX_PARSED_PER_INVOCATION = 192 * 1024 * 1024;

/** Heap bytes per object/array (V8, 64-bit, JSON.parse with in-object slack) and per comma-separated value. */
const NODE_COST = 64;
const VALUE_COST = 16;

/**
 * Upper estimate of the heap an event text costs once parsed and kept with its text: every byte twice (the kept text
 * and the parsed strings) plus a fixed cost per object/array and per value. Stops counting past `limit`.
 */
export function parsedCostEstimate(bytes: Uint8Array, limit: number): number {
  let cost = 2 * bytes.length;
  if (cost > limit) return cost;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x7b || c === 0x5b) cost += NODE_COST;
    else if (c === 0x2c) cost += VALUE_COST;
    else continue;
    if (cost > limit) return cost;
  }
  return cost;
}

/** Charges a record's estimated parsed cost; returns the failure reason when it does not fit. */
export function chargeParsed(budget: DecompressionBudget, bytes: Uint8Array): string | undefined {
  const limit = Math.min(budget.parsedPerRecord, budget.parsedRemaining);
  const cost = parsedCostEstimate(bytes, limit);
  if (cost > budget.parsedPerRecord) return 'parsed size estimate exceeds the per-record limit';
  if (cost > budget.parsedRemaining) return 'parsed-size budget of the invocation exhausted';
  budget.parsedRemaining -= cost;
  return undefined;
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
  parsedPerRecord = DEFAULT_MAX_PARSED_PER_RECORD,
  parsedPerInvocation = DEFAULT_MAX_PARSED_PER_INVOCATION,
): DecompressionBudget {
  return { perRecord, remaining: perInvocation, parsedPerRecord, parsedRemaining: parsedPerInvocation };
}
