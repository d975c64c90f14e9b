/**
 * OUTPUT_MODE=opensearch: one document per event that the index template in resources/opensearch/ accepts,
 * whatever the event holds. Anyone who can write to the log group can forge any field with any JSON type, and
 * OpenSearch rejects a whole document for one field it cannot map (an object where the mapping has a keyword,
 * a string where it has an object, an unparseable date, a field name it refuses). Firehose would then put the
 * event in the backup bucket, where nobody searches. So every top-level field is checked against the mapping
 * (read from the component template itself, the one source of truth):
 * - a field that fits stays where it is, unchanged;
 * - a field that does not fit moves, as its JSON text, into `enrichment.displaced` (a disabled object:
 *   OpenSearch stores it in _source and never parses it);
 * - an `eventTime` that is missing or not a strict ISO 8601 UTC time becomes the arrival time, with
 *   `enrichment.eventTimeFrom: "arrival"` (the same fallback the S3 layout uses for `dt`).
 * The enrichment gains what search needs: `source.geo.location` ({lat, lon}, a geo_point) and size-guarded
 * `search` copies of what is stored but not indexed (resource ARNs, principal, request parameters).
 * The document is serialised from the parsed event, which also drops duplicate keys (OpenSearch's parser
 * refuses them anywhere in a document) and over-long number literals.
 */
import cloudtrailTemplate from '../../resources/opensearch/component-templates/cloudtrail-enricher-cloudtrail.json' with { type: 'json' };
import type { CloudTrailEvent } from '../model.ts';

/** A mapping node as written in the component template. */
export interface MappingNode {
  readonly type?: string;
  readonly enabled?: boolean;
  readonly properties?: Readonly<Record<string, MappingNode>>;
}

const ROOT: Readonly<Record<string, MappingNode>> = (
  cloudtrailTemplate as { template: { mappings: { properties: Record<string, MappingNode> } } }
).template.mappings.properties;

/** OpenSearch's JSON parser limits (StreamReadConstraints as OpenSearch 2.x sets them): nesting depth and name length. */
export const MAX_JSON_DEPTH = 1000;
export const MAX_NAME_LENGTH = 50_000;
/** Search copies: bounded so no term reaches Lucene's 32,766-byte limit and no copy grows without bound. */
export const SEARCH_LIMITS = {
  arns: 50,
  arnChars: 1024,
  textChars: 8192,
  flatLeaves: 200,
  flatDepth: 8,
  flatKeyChars: 256,
  flatValueChars: 1024,
  flatArray: 50,
} as const;

/** Strict ISO 8601 UTC date-time, as CloudTrail writes it (2026-11-19T12:00:00Z, optional fraction). */
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$/;

export function isStrictUtcTime(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = ISO_UTC.exec(value);
  if (m === null) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** A field name OpenSearch maps without splitting or refusing it (conservative: no dots at all). */
function plainName(name: string): boolean {
  return name.trim() !== '' && !name.includes('.') && name.length <= MAX_NAME_LENGTH;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): boolean => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Whether the parser limits hold for a value (depth from its field, every name length). */
function withinParserLimits(value: unknown, depth: number): boolean {
  if (depth > MAX_JSON_DEPTH - 2) return false;
  if (Array.isArray(value)) return value.every((v) => withinParserLimits(v, depth + 1));
  if (isPlainObject(value)) {
    for (const key in value) {
      if (key.length > MAX_NAME_LENGTH || !withinParserLimits(value[key], depth + 1)) return false;
    }
  }
  return true;
}

/** Whether OpenSearch indexes `value` under `mapping` without rejecting the document (conservative). */
export function fits(value: unknown, mapping: MappingNode, name = ''): boolean {
  if (mapping.enabled === false) return true;
  if (mapping.properties !== undefined || mapping.type === 'object') {
    if (value === null) return true;
    const elements = Array.isArray(value) ? value : [value];
    for (const element of elements) {
      if (element === null) continue;
      if (!isPlainObject(element)) return false;
      for (const key in element) {
        if (!plainName(key)) return false;
        const child = mapping.properties?.[key];
        if (child !== undefined && !fits(element[key], child, key)) return false;
      }
    }
    return true;
  }
  switch (mapping.type) {
    case 'keyword':
    case 'text':
      return isScalar(value) || (Array.isArray(value) && value.every(isScalar));
    case 'date':
      return name === 'eventTime' ? isStrictUtcTime(value) : value === null || isStrictUtcTime(value);
    default:
      return false;
  }
}

export interface OpenSearchExtras {
  /** Top-level fields the mapping could not take, as `{ name: value }` JSON text. */
  displaced?: string;
  eventTimeFrom?: 'arrival';
  search?: Record<string, unknown>;
}

/**
 * The document for one event: its fitting fields, then `enrichment` (given as a plain object, changed here:
 * geo location, search copies, displaced fields).
 */
export function opensearchDocument(event: CloudTrailEvent, enrichment: Record<string, unknown>, arrivalMs: number): string {
  let misfits: string[] | undefined;
  for (const key in event) {
    if (!fitsAtRoot(key, event[key])) (misfits ??= []).push(key);
  }
  addGeoPoint(enrichment);
  const search = searchCopies(event);
  if (search !== undefined) enrichment.search = search;
  const timeOk = isStrictUtcTime(event.eventTime);
  if (misfits === undefined && timeOk) {
    // The common case: the event as parsed, then its enrichment (no copy of the event object).
    const text = JSON.stringify(event);
    return `${text.length > 2 ? text.slice(0, -1) + ',' : '{'}"enrichment":${JSON.stringify(enrichment)}}`;
  }
  const doc: Record<string, unknown> = {};
  const displaced: Record<string, unknown> = {};
  const moved = new Set(misfits ?? []);
  for (const key in event) defineField(moved.has(key) ? displaced : doc, key, event[key]);
  if (!isStrictUtcTime(doc.eventTime)) {
    doc.eventTime = new Date(arrivalMs).toISOString();
    enrichment.eventTimeFrom = 'arrival';
  }
  if (moved.size > 0) enrichment.displaced = JSON.stringify(displaced);
  doc.enrichment = enrichment;
  return JSON.stringify(doc);
}

/** Whether a top-level field stays where it is: a name OpenSearch maps as is, within parser limits, fitting its mapping. */
function fitsAtRoot(key: string, value: unknown): boolean {
  if (key === 'enrichment' || key.startsWith('_') || !plainName(key)) return false;
  const mapping = ROOT[key];
  if (mapping !== undefined && !fits(value, mapping, key)) return false;
  return typeof value !== 'object' || value === null || withinParserLimits(value, 1);
}

/** An own data property even for names like `__proto__` (assignment would set the prototype instead). */
function defineField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function addGeoPoint(enrichment: Record<string, unknown>): void {
  const source = enrichment.source as { geo?: Record<string, unknown> } | undefined;
  const geo = source?.geo;
  if (geo === undefined) return;
  const lat = geo.latitude;
  const lon = geo.longitude;
  if (
    typeof lat === 'number' &&
    typeof lon === 'number' &&
    Number.isFinite(lat) &&
    Number.isFinite(lon) &&
    Math.abs(lat) <= 90 &&
    Math.abs(lon) <= 180
  ) {
    source!.geo = { ...geo, location: { lat, lon } };
  }
}

/** Searchable copies of what is stored untouched: every string bounded, every list bounded. */
export function searchCopies(event: CloudTrailEvent): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const resources = event.resources;
  if (Array.isArray(resources)) {
    const arns = new Set<string>();
    for (const r of resources) {
      const arn = isPlainObject(r) ? r.ARN : undefined;
      if (typeof arn === 'string' && arn.length > 0 && arn.length <= SEARCH_LIMITS.arnChars) arns.add(arn);
      if (arns.size >= SEARCH_LIMITS.arns) break;
    }
    if (arns.size > 0) out.resourceArns = [...arns];
  }
  const identity = event.userIdentity;
  const arn = isPlainObject(identity) ? identity.arn : undefined;
  if (typeof arn === 'string' && arn.length > 0 && arn.length <= SEARCH_LIMITS.arnChars) out.principal = arn;
  for (const [field, copy] of [
    ['requestParameters', 'requestParametersText'],
    ['responseElements', 'responseElementsText'],
  ] as const) {
    const value = event[field];
    if (value === undefined || value === null) continue;
    const text = typeof value === 'string' ? value : safeStringify(value);
    if (text !== undefined && text !== '') out[copy] = truncate(text, SEARCH_LIMITS.textChars);
  }
  if (isPlainObject(event.requestParameters)) {
    const budget = { leaves: SEARCH_LIMITS.flatLeaves };
    const flat = flatCopy(event.requestParameters, 1, budget);
    if (flat !== undefined) out.requestParameters = flat;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** Truncates to at most `max` UTF-16 units without splitting a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/**
 * A copy for a flat_object field: an object of plain names, strings truncated, scalars kept, arrays of scalars,
 * depth and leaf count bounded, nulls and empty objects dropped. Each indexed term (path and value) stays far
 * below 32,766 bytes: depth 8 × 256-character names + a 1,024-character value, at most 4 bytes per character.
 */
function flatCopy(value: Record<string, unknown>, depth: number, budget: { leaves: number }): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (budget.leaves <= 0) break;
    if (key.length > SEARCH_LIMITS.flatKeyChars || !plainName(key) || key.startsWith('_')) continue;
    const v = value[key];
    let copy: unknown;
    if (typeof v === 'string') copy = truncate(v, SEARCH_LIMITS.flatValueChars);
    else if (typeof v === 'number' || typeof v === 'boolean') copy = v;
    else if (Array.isArray(v)) {
      const items = v
        .filter((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')
        .slice(0, Math.min(SEARCH_LIMITS.flatArray, budget.leaves))
        .map((x) => (typeof x === 'string' ? truncate(x, SEARCH_LIMITS.flatValueChars) : x));
      if (items.length > 0) {
        copy = items;
        budget.leaves -= items.length - 1;
      }
    } else if (isPlainObject(v) && depth < SEARCH_LIMITS.flatDepth) copy = flatCopy(v, depth + 1, budget);
    if (copy === undefined) continue;
    defineField(out, key, copy);
    if (!isPlainObject(copy)) budget.leaves--;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A message that is not a CloudTrail event, as a document: kept verbatim (not indexed), timed by its arrival. */
export function opensearchSkippedDocument(raw: string, error: string, arrivalMs: number): string {
  return JSON.stringify({
    eventTime: new Date(arrivalMs).toISOString(),
    enrichment: { version: 1, status: 'skipped', error, raw, eventTimeFrom: 'arrival' },
  });
}
