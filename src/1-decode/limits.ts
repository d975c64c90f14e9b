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
 * Sized from measurement (docs in SECURITY.md): the realistic workload estimates ≈ 3.5 B per decompressed byte (2.0 B retained), so a 3 MB buffer (≈ 21 MB decompressed) ≈ 73 MB;
 * 192 MiB keeps a 1,024 MB Lambda (geo databases ≈ 200 MB RSS) under 700 MB RSS in the adversarial cases.
 */
export const DEFAULT_MAX_PARSED_PER_RECORD = 64 * 1024 * 1024;
export const DEFAULT_MAX_PARSED_PER_INVOCATION = 192 * 1024 * 1024;

/** Heap bytes per object/array (V8, 64-bit, JSON.parse with in-object slack) and per comma-separated value. */
const NODE_COST = 64;
const VALUE_COST = 24;
/**
 * A text holding a character above U+00FF (raw UTF-8 lead byte ≥ 0xC4, or a `\\uXXXX` escape of one) may turn any of
 * its strings into two-byte strings, in the kept text and in the parsed event: then every byte counts four times.
 */
const WIDE_LEAD = 0xc4;
/**
 * Heap bytes per property name seen for the first time in the record (an internalised key string, a hidden-class
 * transition and its descriptor, or a dictionary entry: measured 65–135 B per distinct key) and per repeated one (a
 * property slot). Realistic events repeat a few hundred names; a hostile record can make every name new.
 */
const NEW_KEY_COST = 128;
const KEY_COST = 16;
/**
 * Distinct names per record charged as repeated ones: a realistic vocabulary (CloudTrail has a few hundred names) is
 * interned and its hidden classes exist once per process, so only a record that brings more than this is charged more.
 */
const COMMON_NAMES = 256;
/** Distinct names remembered per record; past it, every name counts as new (conservative). */
const MAX_TRACKED_KEYS = 1 << 16;
/** Per-process seed of the name hash, so that colliding names cannot be prepared offline. */
const HASH_SEED = (Math.random() * 0x1_0000_0000) >>> 0;
const FNV_PRIME = 16777619;

/**
 * Upper estimate of the heap an event text costs once parsed and kept with its text: every byte twice (the kept text
 * and the parsed strings; four times when two-byte strings are possible), a fixed cost per object/array and per value, and a cost per property name (more for each
 * distinct name past the first COMMON_NAMES of the record). A name is the run of bytes before a `:`, quotes and backslashes skipped (so
 * escaped event texts inside a CloudWatch Logs payload count too); a `:` inside a value (an ARN, a time) counts as a
 * name as well, which only overestimates. One pass over the bytes; stops counting past `limit`.
 */
export function parsedCostEstimate(bytes: Uint8Array, limit: number): number {
  let cost = 2 * bytes.length;
  if (cost > limit) return cost;
  const seen = beginNameSet();
  // The current run of name bytes starts at `runStart`; [endedStart, endedEnd) is the last run ended by a quote or
  // backslash since the last delimiter (`"name":`, and `\"name\":` inside an escaped event text).
  let runStart = 0;
  let endedStart = 0;
  let endedEnd = 0;
  let wide = false;
  for (let i = 0; i < bytes.length; i++) {
    // One table read per byte; most bytes are name or value characters and go no further.
    const k = BYTE_CLASS[bytes[i]!]!;
    if (k === NAME) continue;
    if (k === WIDE) {
      if (!wide) {
        wide = true;
        cost += 2 * bytes.length;
      }
      continue;
    }
    if (k === QUOTE) {
      if (!wide && bytes[i] === 0x5c && bytes[i + 1] === 0x75 && !(bytes[i + 2] === 0x30 && bytes[i + 3] === 0x30)) {
        wide = true;
        cost += 2 * bytes.length;
      }
      if (i > runStart) {
        endedStart = runStart;
        endedEnd = i;
      }
      runStart = i + 1;
      continue;
    }
    if (k === COLON) {
      const name = i > runStart ? nameHash(bytes, runStart, i) : nameHash(bytes, endedStart, endedEnd);
      cost += addName(seen, name) && seen.size > COMMON_NAMES ? NEW_KEY_COST : KEY_COST;
    } else if (k === OPEN) cost += NODE_COST;
    else if (k === COMMA) cost += VALUE_COST;
    runStart = i + 1;
    endedEnd = endedStart;
    if (cost > limit) return cost;
  }
  return cost;
}

/** What each byte is to the scan: part of a name (or value), a quote or backslash, `:`, `{`/`[`, `,`, other delimiters. */
const NAME = 0;
const QUOTE = 1;
const COLON = 2;
const OPEN = 3;
const COMMA = 4;
const DELIMITER = 5;
const WIDE = 6;
const BYTE_CLASS = new Uint8Array(256).map((_, c) =>
  c === 0x22 || c === 0x5c
    ? QUOTE
    : c === 0x3a
      ? COLON
      : c === 0x7b || c === 0x5b
        ? OPEN
        : c === 0x2c
          ? COMMA
          : c <= 0x20 || c === 0x7d || c === 0x5d
            ? DELIMITER
            : c >= WIDE_LEAD
              ? WIDE
              : NAME,
);

/**
 * The names seen in the record being scanned: an open-addressing table of hashes reused by every scan (one
 * generation per scan instead of clearing it), twice as many slots as names tracked.
 */
const TABLE_SIZE = MAX_TRACKED_KEYS * 2;
const names = new Uint32Array(TABLE_SIZE);
const generations = new Uint32Array(TABLE_SIZE);
let generation = 0;

interface NameSet {
  readonly generation: number;
  size: number;
}

function beginNameSet(): NameSet {
  generation = (generation + 1) >>> 0;
  if (generation === 0) {
    generations.fill(0);
    generation = 1;
  }
  return { generation, size: 0 };
}

/** True when `name` was not in the set (then added, while there is room; past it every name counts as new). */
function addName(set: NameSet, name: number): boolean {
  let slot = name & (TABLE_SIZE - 1);
  for (;;) {
    if (generations[slot] !== set.generation) {
      if (set.size >= MAX_TRACKED_KEYS) return true;
      generations[slot] = set.generation;
      names[slot] = name;
      set.size++;
      return true;
    }
    if (names[slot] === name) return false;
    slot = (slot + 1) & (TABLE_SIZE - 1);
  }
}

/** Seeded FNV-1a of bytes [start, end) (at most the first 64, mixed with the length). */
function nameHash(bytes: Uint8Array, start: number, end: number): number {
  let h = Math.imul(HASH_SEED ^ (end - start), FNV_PRIME);
  const stop = Math.min(end, start + 64);
  for (let i = start; i < stop; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h >>> 0;
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
