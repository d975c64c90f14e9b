/**
 * Provider answers are untrusted data. After a provider's own trimming (typed, documented fields only), every kept
 * value passes here before it reaches the L1 cache, DynamoDB, an output line or a log:
 * - strings: key values and key-shaped text removed by the scrubber (a provider, proxy or CDN may echo the request
 *   URL or headers in any field), then cut to MAX_TEXT_CHARS;
 * - arrays: at most MAX_LIST_ITEMS items, each a string cut to MAX_TAG_CHARS;
 * - numbers: finite and inside the field's range (NUMBER_RANGES, checked against schema/enrichment.schema.json by a
 *   test); an out-of-range value is dropped, never clamped, and counted;
 * - nested objects (AutoFocus verdicts and sample counts): at most MAX_LIST_ITEMS keys, keys and values cut and scrubbed
 *   the same way.
 * Values read back from DynamoDB pass here too (without a key value: patterns only), so an item written before these
 * limits cannot bring an oversized or echoed value back.
 */
import { scrubSecrets } from '../http/scrub.ts';
import { COUNT, PROVIDER_NAMES, PROVIDER_REGISTRY, type ProviderName, type Range } from './registry.ts';

/** Longest kept text field (characters). Real values are names, codes and ISO dates: well under 100. */
export const MAX_TEXT_CHARS = 256;
/** Longest kept list item / object key (tags, threat types, verdict names). */
export const MAX_TAG_CHARS = 64;
/** Most kept items of a list or keys of a nested object. */
export const MAX_LIST_ITEMS = 10;

export type { Range };

/**
 * Range of every numeric field each provider keeps (trimmed names), from the registry. The ones that feed
 * enrichment.source (fraudScore, abuseConfidence, latitude, longitude, as.number) must match the schema's minimum/maximum.
 */
export const NUMBER_RANGES: Readonly<Record<ProviderName, Readonly<Record<string, Range>>>> = Object.fromEntries(
  PROVIDER_NAMES.map((name) => [name, PROVIDER_REGISTRY[name].numberRanges]),
) as Record<ProviderName, Readonly<Record<string, Range>>>;

/** Range of the values of nested numeric maps (AutoFocus wildfireRelatedSampleVerdictCounts). */
const NESTED_NUMBER: Range = COUNT;

export interface Sanitised {
  /** The kept fields; undefined when nothing is left. */
  data: Record<string, unknown> | undefined;
  /** Numbers dropped as out of range. */
  dropped: number;
}

function inRange(v: number, r: Range): boolean {
  return Number.isFinite(v) && v >= r.min && v <= r.max && (r.integer !== true || Number.isInteger(v));
}

function text(v: string, max: number, secrets: readonly string[]): string | undefined {
  // Scrub the whole value first: a cut could leave half a key that the scrubber no longer recognises.
  const clean = scrubSecrets(v, secrets).trim();
  if (clean === '') return undefined;
  return clean.length > max ? clean.slice(0, max) : clean;
}

/** Applies the limits above to one provider's trimmed answer. Never throws. */
export function sanitiseAnswer(provider: ProviderName, data: Record<string, unknown>, secrets: readonly string[] = []): Sanitised {
  const ranges = NUMBER_RANGES[provider];
  const out: Record<string, unknown> = {};
  let dropped = 0;
  for (const [field, v] of Object.entries(data)) {
    if (field === '__proto__') continue;
    if (typeof v === 'string') {
      const s = text(v, MAX_TEXT_CHARS, secrets);
      if (s !== undefined) out[field] = s;
    } else if (typeof v === 'number') {
      const range = ranges[field];
      if (Number.isFinite(v) && (range === undefined || inRange(v, range))) out[field] = v;
      else dropped++;
    } else if (typeof v === 'boolean') {
      out[field] = v;
    } else if (Array.isArray(v)) {
      const items = v
        .filter((x): x is string => typeof x === 'string')
        .slice(0, MAX_LIST_ITEMS)
        .map((x) => text(x, MAX_TAG_CHARS, secrets))
        .filter((x): x is string => x !== undefined);
      if (items.length > 0) out[field] = items;
    } else if (typeof v === 'object' && v !== null) {
      const nested: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>).slice(0, MAX_LIST_ITEMS)) {
        const key = text(k, MAX_TAG_CHARS, secrets);
        if (key === undefined || key === '__proto__') continue;
        if (typeof x === 'string') {
          const s = text(x, MAX_TAG_CHARS, secrets);
          if (s !== undefined) nested[key] = s;
        } else if (typeof x === 'number') {
          if (inRange(x, NESTED_NUMBER)) nested[key] = x;
          else dropped++;
        }
      }
      if (Object.keys(nested).length > 0) out[field] = nested;
    }
  }
  return { data: Object.keys(out).length > 0 ? out : undefined, dropped };
}
