/**
 * A rule's `threshold:` compiled once per container: the window in milliseconds and the field paths of the
 * counter key and of the distinct value. The paths use the rules' own path machinery (path.ts), single-valued
 * only (a `[]` path would give an event several keys).
 */
import type { ThresholdDoc } from '../documents.ts';
import { parseFieldPath, type FieldPath } from '../path.ts';
import type { Fail } from '../validate.ts';

/**
 * The largest `count` (also the schema's maximum): a distinct set stays under 2 × count values of at most
 * MAX_VALUE_BYTES (plan.ts), so < 1,000 × 264 B ≈ 260 KB, under DynamoDB's 400 KB item limit.
 */
export const MAX_THRESHOLD_COUNT = 500;

/** The longest window: counters are DynamoDB items with a TTL of window end + margin. */
export const MAX_WITHIN_MS = 7 * 86_400_000;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export interface CompiledThreshold {
  readonly count: number;
  readonly withinMs: number;
  readonly by: readonly FieldPath[];
  readonly distinct: FieldPath | undefined;
}

/** `10m` → 600000; undefined when not `<n><s|m|h|d>`. */
export function parseWithin(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,5})([smhd])$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

export function compileThreshold(doc: ThresholdDoc, at: readonly string[], fail: Fail): CompiledThreshold {
  const withinMs = parseWithin(doc.within);
  if (withinMs === undefined) fail.at([...at, 'within'], `"${doc.within}" is not a duration such as 30s, 10m, 1h or 1d`);
  if (withinMs > MAX_WITHIN_MS) fail.at([...at, 'within'], `"${doc.within}" is longer than 7 days`);
  const single = (text: string, where: readonly string[]): FieldPath => {
    const parsed = parseFieldPath(text);
    if (!parsed.ok) return fail.at(where, parsed.error);
    if (parsed.value.fanOut) fail.at(where, `"${text}" can give several values ([]); a threshold needs one value per event`);
    return parsed.value;
  };
  const by = doc.by.map((text, i) => single(text, [...at, 'by', String(i)]));
  const distinct = doc.distinct === undefined ? undefined : single(doc.distinct, [...at, 'distinct']);
  return { count: doc.count, withinMs, by, distinct };
}

/** A value read for the counter key or the distinct value: strings as they are, other scalars as text, else null. */
export function keyValue(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** The value at `path` for one event (a path under `enrichment.` reads the enrichment). */
export function readValue(path: FieldPath, event: unknown, enrichment: unknown): string | null {
  return keyValue(path.get(path.root === 'enrichment' ? enrichment : event));
}
