import type { PartitionKeys } from '../model.ts';
import { partitionId } from '../7-encode/partition.ts';
import { base64Length, HEAVY_LINE_BYTES, LAMBDA_RESPONSE_LIMIT, RESPONSE_BUDGET } from './limits.ts';

/**
 * One output line (an enriched or skipped event) and the partition it belongs to. The line is `text` followed by
 * `tail`: for an enriched event, the original text up to its closing brace and `,"enrichment":{…}}`, kept apart
 * so the original is written to the output without ever being copied into a new string.
 */
export interface OutputLine {
  readonly text: string;
  /** Bytes shared by many lines (an enrichment prefix), between `text` and `tail`. */
  readonly shared?: Buffer;
  readonly tail?: string;
  readonly keys: PartitionKeys;
}

/** UTF-8 size of a line without its newline. */
export function lineBytes(line: OutputLine): number {
  return (
    Buffer.byteLength(line.text, 'utf8') + (line.shared?.length ?? 0) + (line.tail === undefined ? 0 : Buffer.byteLength(line.tail, 'utf8'))
  );
}

/** The planner's view of one input record. */
export type PlanInput =
  | { readonly kind: 'failed'; readonly recordId: string; readonly data: string }
  | { readonly kind: 'dropped'; readonly recordId: string }
  | {
      readonly kind: 'passthrough';
      readonly recordId: string;
      readonly body: Buffer;
      readonly keys?: PartitionKeys;
      readonly lines: number;
    }
  | { readonly kind: 'events'; readonly recordId: string; readonly lines: readonly OutputLine[] };

export type PlannedRecord =
  | { readonly recordId: string; readonly result: 'ProcessingFailed'; readonly data: string }
  | { readonly recordId: string; readonly result: 'Dropped' }
  | { readonly recordId: string; readonly result: 'Ok'; readonly body: Buffer; readonly keys?: PartitionKeys; readonly lines: number };

/** Events that do not go back in the response: they are re-ingested in envelopes (grouped by the deliverer). */
export type ReingestPart =
  | { readonly kind: 'lines'; readonly origin: string; readonly lines: readonly OutputLine[] }
  /** A passthrough envelope that did not fit: sent back unchanged. */
  | { readonly kind: 'envelope'; readonly origin: string; readonly body: Buffer; readonly keys?: PartitionKeys; readonly lines: number };

export interface Plan {
  readonly records: PlannedRecord[];
  readonly reingest: ReingestPart[];
}

export interface PlanOptions {
  readonly mode: 's3' | 'opensearch';
  readonly responseBudget?: number;
}

/**
 * Decides, for one invocation, which events go back in the response and which are re-ingested:
 * - S3 mode: a record returns the events of its first partition (Firehose takes one partition per record);
 *   events of its other partitions are re-ingested.
 * - OpenSearch mode: a record returns exactly one event (one document per record); the rest are re-ingested.
 * - Whatever would push the response past the budget is re-ingested too (the record becomes `Dropped` when
 *   none of its events fit). Failed records must carry their original data and are always counted first.
 * Pure: the same input gives the same plan.
 */
export function planResponse(inputs: readonly PlanInput[], options: PlanOptions): Plan {
  const budget = options.responseBudget ?? RESPONSE_BUDGET;
  let used = 32; // `{"records":[]}` and separators
  for (const input of inputs) {
    used += recordOverhead(input.recordId);
    if (input.kind === 'failed') used += input.data.length;
  }

  const records: (PlannedRecord | undefined)[] = new Array(inputs.length);
  const reingest: ReingestPart[] = [];
  const firstGroups: (readonly OutputLine[] | undefined)[] = new Array(inputs.length);

  // Pass 1: records that need no budget decision, and the first group of every events record.
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    if (input.kind === 'failed') records[i] = { recordId: input.recordId, result: 'ProcessingFailed', data: input.data };
    else if (input.kind === 'dropped') records[i] = { recordId: input.recordId, result: 'Dropped' };
    else if (input.kind === 'events') {
      const { first, rest } = splitFirstGroup(input.lines, options.mode);
      firstGroups[i] = first;
      if (rest.length > 0) reingest.push({ kind: 'lines', origin: input.recordId, lines: rest });
      if (first.length === 0) records[i] = { recordId: input.recordId, result: 'Dropped' };
    }
  }

  // Pass 2: first groups holding a line that may be too large to re-ingest claim budget before the others.
  const order: number[] = [];
  for (let i = 0; i < inputs.length; i++) if (firstGroups[i]?.some(isHeavy)) order.push(i);
  for (let i = 0; i < inputs.length; i++) if (records[i] === undefined && !order.includes(i)) order.push(i);

  // The budget is headroom below Lambda's hard limit. It may be exceeded for one record when nothing else has
  // been returned yet: otherwise a batch whose every candidate is larger than what is left would be re-ingested
  // unchanged forever. The hard limit itself is never exceeded.
  let returned = 0;
  const withinBudget = (cost: number) => used + cost <= budget;
  const fits = (cost: number) => withinBudget(cost) || (returned === 0 && used + cost <= LAMBDA_RESPONSE_LIMIT - 1024);

  for (const i of order) {
    const input = inputs[i]!;
    if (input.kind === 'passthrough') {
      const cost = base64Length(input.body.length);
      if (fits(cost)) {
        returned++;
        used += cost;
        records[i] = { recordId: input.recordId, result: 'Ok', body: input.body, keys: input.keys, lines: input.lines };
      } else {
        records[i] = { recordId: input.recordId, result: 'Dropped' };
        reingest.push({ kind: 'envelope', origin: input.recordId, body: input.body, keys: input.keys, lines: input.lines });
      }
      continue;
    }
    if (input.kind !== 'events') continue;
    const first = firstGroups[i]!;
    const body = joinLines(first, options.mode);
    const cost = base64Length(body.length);
    if (withinBudget(cost)) {
      returned++;
      used += cost;
      records[i] = { recordId: input.recordId, result: 'Ok', body, keys: first[0]!.keys, lines: first.length };
      continue;
    }
    // Overflow: return the longest prefix of the group that fits, re-ingest the remainder.
    let take = 0;
    let bytes = 0;
    for (const line of first) {
      const next = bytes + lineBytes(line) + 1;
      if (!withinBudget(base64Length(next))) break;
      bytes = next;
      take++;
    }
    if (take === 0 && fits(base64Length(lineBytes(first[0]!) + 1))) take = 1;
    if (take === 0) {
      records[i] = { recordId: input.recordId, result: 'Dropped' };
      reingest.push({ kind: 'lines', origin: input.recordId, lines: first });
    } else {
      const kept = first.slice(0, take);
      const partBody = joinLines(kept, options.mode);
      returned++;
      used += base64Length(partBody.length);
      records[i] = { recordId: input.recordId, result: 'Ok', body: partBody, keys: kept[0]!.keys, lines: take };
      reingest.push({ kind: 'lines', origin: input.recordId, lines: first.slice(take) });
    }
  }

  return { records: records as PlannedRecord[], reingest };
}

/**
 * `{"recordId":"…","result":"ProcessingFailed","data":"","metadata":{"partitionKeys":{"account":"123456789012",
 * "region":"<up to 25>","dt":"YYYY-MM-DD"}}},` is 165 characters plus the id; a few more for safety.
 */
function recordOverhead(recordId: string): number {
  return 176 + recordId.length;
}

/** Largest envelope body that, returned later, fits the response budget on its own (with framing). */
export function maxEnvelopeBody(responseBudget: number = RESPONSE_BUDGET): number {
  return Math.max(1024, Math.floor(((responseBudget - 4096) * 3) / 4));
}

function isHeavy(line: OutputLine): boolean {
  return (line.text.length + (line.tail?.length ?? 0)) * 3 + (line.shared?.length ?? 0) > HEAVY_LINE_BYTES; // UTF-8 worst case ≤ 3 bytes per UTF-16 unit; exact check not needed
}

export function splitFirstGroup(lines: readonly OutputLine[], mode: 's3' | 'opensearch'): { first: OutputLine[]; rest: OutputLine[] } {
  if (lines.length === 0) return { first: [], rest: [] };
  if (mode === 'opensearch') return { first: [lines[0]!], rest: lines.slice(1) };
  const keys = lines[0]!.keys;
  const id = partitionId(keys);
  const first: OutputLine[] = [];
  const rest: OutputLine[] = [];
  for (const line of lines) {
    // Keys are interned, so the same partition is usually the same object.
    if (line.keys === keys || partitionId(line.keys) === id) first.push(line);
    else rest.push(line);
  }
  return { first, rest };
}

/**
 * S3 mode: NDJSON, every line newline-terminated, so objects Firehose concatenates stay one event per line.
 * OpenSearch mode: the single document, no trailing newline.
 * Lines are written straight into one buffer: concatenating them into a string first and encoding that is
 * several times slower (the concatenation has to be flattened), and this runs for every returned record.
 */
export function joinLines(lines: readonly OutputLine[], mode: 's3' | 'opensearch'): Buffer {
  const newline = mode === 's3';
  // Sized for ASCII (CloudTrail is nearly all ASCII) plus headroom, and grown when a part could not fit even if
  // every character took 3 bytes: measuring every line first would read it twice, and sizing for the worst
  // case would triple the memory of large responses.
  let chars = 0;
  let shared = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    chars += line.text.length + (line.tail?.length ?? 0);
    shared += line.shared?.length ?? 0;
  }
  let buffer = Buffer.allocUnsafe(chars + shared + lines.length + 4096);
  let offset = 0;
  const room = (bytes: number): void => {
    if (offset + bytes <= buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, offset + bytes));
    buffer.copy(grown, 0, 0, offset);
    buffer = grown;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    room(line.text.length * 3 + 1);
    if (!newline && i > 0) buffer[offset++] = 0x0a;
    offset += buffer.write(line.text, offset, 'utf8');
    if (line.shared !== undefined) {
      room(line.shared.length);
      offset += line.shared.copy(buffer, offset);
    }
    if (line.tail !== undefined) {
      room(line.tail.length * 3);
      offset += buffer.write(line.tail, offset, 'utf8');
    }
    if (newline) {
      room(1);
      buffer[offset++] = 0x0a;
    }
  }
  return buffer.subarray(0, offset);
}
