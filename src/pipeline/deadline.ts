/**
 * When the lookups must stop so that the invocation still answers in time. What follows the lookups (offline data of
 * the addresses not answered yet, rules, encoding, response planning, envelopes and re-ingestion) grows with the
 * batch: events, unique public sources and bytes. A fixed share of the remaining time (ENRICHMENT_BUDGET_FRACTION)
 * left too little of it with 100,000 unique sources, so the enrichment deadline also keeps an estimate of that work
 * free, scaled by how fast this invocation decoded its batch (a busy or smaller Lambda is slower at both).
 */

/** What the work after the lookups is proportional to. */
export interface FinishWork {
  /** Events (and skipped messages) to encode. */
  readonly events: number;
  /** Unique public source addresses (offline data, one shared enrichment part each). */
  readonly publicSources: number;
  /** Decompressed bytes of the batch (what the response and the envelopes carry again, gzip included). */
  readonly decodedBytes: number;
}

/**
 * Nominal costs, nanoseconds, measured with `npm run unique-sources` and `npm run bench` on the 2-vCPU development
 * machine (rounded up): encoding ≈ 3 µs per event with a shared source part, ≈ 12 µs per unique public source
 * (offline geo/ASN, merge, its JSON), ≈ 14 ns per decompressed byte (planning, joining lines, envelope gzip).
 */
export const FINISH_NS = { perEvent: 4_000, perPublicSource: 16_000, perByte: 20 } as const;
/** Nominal decoding cost (base64, gunzip, JSON.parse, event slicing), for the slowdown estimate. */
export const DECODE_NS = { perEvent: 1_500, perByte: 10 } as const;
/** Margin over the estimate for garbage collection and timer slack. */
export const FINISH_SAFETY = 2;
/** A slow decode says the machine is slow (shared, or a smaller Lambda); never trusted beyond this factor. */
export const MAX_SLOWDOWN = 4;
/** Decodes shorter than this are too noisy (JIT warm-up, one GC) to say anything about speed. */
const MIN_DECODE_MS_FOR_SLOWDOWN = 25;
/**
 * Re-ingestion: one PutRecordBatch (≤ 500 records, ≤ 4 MiB; Kinesis PutRecords ≤ 500 records, ≤ 10 MiB) per
 * ~16 MiB of decompressed events (envelopes are gzip, ≈ 4× smaller or better), calls one after another, each allowed
 * this much time in the estimate.
 */
export const REINGEST_CALL_ESTIMATE_MS = 200;
const DECODED_BYTES_PER_CALL = 16 * 1024 * 1024;

/** How much slower than nominal this invocation decoded its batch (1 = nominal or faster, at most MAX_SLOWDOWN). */
export function slowdownOf(decodeMs: number, work: Pick<FinishWork, 'events' | 'decodedBytes'>): number {
  const nominalMs = (work.events * DECODE_NS.perEvent + work.decodedBytes * DECODE_NS.perByte) / 1e6;
  if (decodeMs < MIN_DECODE_MS_FOR_SLOWDOWN || nominalMs <= 0) return 1;
  return Math.min(MAX_SLOWDOWN, Math.max(1, decodeMs / nominalMs));
}

/** Estimated milliseconds of work after the lookups, for a batch of this shape on a machine this much slower. */
export function finishEstimateMs(work: FinishWork, slowdown = 1): number {
  const cpuMs =
    (work.events * FINISH_NS.perEvent + work.publicSources * FINISH_NS.perPublicSource + work.decodedBytes * FINISH_NS.perByte) / 1e6;
  const calls = work.decodedBytes > 0 ? Math.ceil(work.decodedBytes / DECODED_BYTES_PER_CALL) : 0;
  return Math.ceil(cpuMs * FINISH_SAFETY * slowdown + calls * REINGEST_CALL_ESTIMATE_MS);
}

export interface DeadlineInput {
  /** Epoch ms the invocation started. */
  readonly started: number;
  /** Epoch ms now (the lookups start from here). */
  readonly now: number;
  /** Lambda's remaining time at the start, ms. */
  readonly remainingMs: number;
  readonly responseReserveMs: number;
  /** ENRICHMENT_BUDGET_FRACTION. */
  readonly fraction: number;
  /** `finishEstimateMs` of the batch. */
  readonly finishMs: number;
}

/**
 * The enrichment deadline: the share of the remaining time lookups may use, but never later than the invocation
 * deadline (remaining − RESPONSE_RESERVE_MS) minus the estimated work after the lookups, and never before `now`
 * (then nothing is looked up: the events go out `partial`).
 */
export function enrichmentDeadline(input: DeadlineInput): number {
  const usable = Math.max(0, input.remainingMs - input.responseReserveMs);
  const byShare = input.started + Math.floor(usable * input.fraction);
  const byWork = input.started + usable - input.finishMs;
  return Math.max(input.now, Math.min(byShare, byWork));
}
