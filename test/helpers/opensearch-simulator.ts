/**
 * A simulator of how OpenSearch 2.x indexes one document against an index template's mappings, written from
 * OpenSearch's DocumentParser and field mappers, for the cases a forged CloudTrail event can reach:
 * - the JSON parser: duplicate keys (strict duplicate detection), nesting depth > 1,000, names > 50,000
 *   characters, number literals > 1,000 characters (StreamReadConstraints as OpenSearch sets them);
 * - objects: a concrete value where the mapping has an object is rejected; `enabled: false` skips anything;
 *   `dynamic: false` ignores unmapped fields (the mapping never grows); names are split on dots, and an
 *   empty name or a name starting or ending with a dot is rejected; metadata fields (`_id`, …) at the root are
 *   rejected; mapped object depth above `index.mapping.depth.limit` (20) is rejected;
 * - keyword/text: an object is rejected; a keyword longer than `ignore_above` is not indexed; an indexed term
 *   over 32,766 UTF-8 bytes is rejected ("immense term");
 * - date (`strict_date_optional_time||epoch_millis`), ip, numbers, boolean, geo_point: malformed values are
 *   rejected (no `ignore_malformed` in these mappings);
 * - flat_object: only an object is accepted, and a leaf whose path=value term exceeds 32,766 bytes rejects
 *   the document (2.x has no ignore_above for flat_object).
 */
import { isIP } from 'node:net';

export interface Mapping {
  type?: string;
  enabled?: boolean;
  dynamic?: boolean | string;
  properties?: Record<string, Mapping>;
  fields?: Record<string, Mapping>;
  ignore_above?: number;
  index?: boolean;
  format?: string;
}

export interface IndexResult {
  readonly accepted: boolean;
  readonly error?: string;
  /** Fields a dynamic mapping would have added (always 0 with dynamic: false). */
  readonly newFields: number;
  /** Indexed values per full field path (what search sees). */
  readonly values: Map<string, unknown[]>;
}

const TERM_LIMIT = 32_766;
const METADATA = new Set([
  '_id',
  '_index',
  '_source',
  '_routing',
  '_ignored',
  '_field_names',
  '_seq_no',
  '_primary_term',
  '_version',
  '_doc_count',
  '_size',
  '_type',
  '_data_stream_timestamp',
]);

class Rejected extends Error {}

/** Merges component templates and the index template's own mappings (later wins), as OpenSearch composes them. */
export function composeMappings(parts: readonly Mapping[]): Mapping {
  const merge = (a: Mapping, b: Mapping): Mapping => {
    const out: Mapping = { ...a, ...b };
    if (a.properties !== undefined || b.properties !== undefined) {
      const props: Record<string, Mapping> = { ...(a.properties ?? {}) };
      for (const [k, v] of Object.entries(b.properties ?? {})) props[k] = props[k] !== undefined ? merge(props[k], v) : v;
      out.properties = props;
    }
    return out;
  };
  return parts.reduce(merge, {});
}

/** Mapped fields as `index.mapping.total_fields.limit` counts them: objects, leaves and multi-fields. */
export function countFields(mapping: Mapping): number {
  let n = 0;
  for (const child of Object.values(mapping.properties ?? {})) {
    n += 1 + Object.keys(child.fields ?? {}).length;
    if (child.properties !== undefined) n += countFields(child);
  }
  return n;
}

// ---- a strict JSON parser (duplicate keys, depth, name and number length) --------------------------------
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
function parseStrict(text: string): Json {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const value = (depth: number): Json => {
    if (depth > 1000) throw new Rejected('document nesting depth exceeds 1000');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, Json> = Object.create(null) as Record<string, Json>;
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        const key = string();
        if (key.length > 50_000) throw new Rejected('field name longer than 50000 characters');
        if (seen.has(key)) throw new Rejected(`Duplicate field '${key.slice(0, 40)}'`);
        seen.add(key);
        ws();
        if (text[i++] !== ':') throw new Rejected('malformed JSON');
        Object.defineProperty(out, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return out;
        } else throw new Rejected('malformed JSON');
      }
    }
    if (c === '[') {
      i++;
      const out: Json[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return out;
        } else throw new Rejected('malformed JSON');
      }
    }
    if (c === '"') return string();
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 2000));
    if (m !== null && m[0].length > 0) {
      if (m[0].length > 1000) throw new Rejected('number literal longer than 1000 characters');
      i += m[0].length;
      return Number(m[0]);
    }
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    throw new Rejected(`malformed JSON at ${i}`);
  };
  const string = (): string => {
    if (text[i] !== '"') throw new Rejected('malformed JSON: expected a string');
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    const s = JSON.parse(text.slice(i, j + 1)) as string;
    i = j + 1;
    return s;
  };
  const out = value(0);
  ws();
  if (i !== text.length) throw new Rejected('trailing text after the document');
  return out;
}

// ---- formats ------------------------------------------------------------------------------------------------
const STRICT_DATE_OPTIONAL_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/;
export function parseDate(value: unknown, formats = 'strict_date_optional_time||epoch_millis'): number | undefined {
  for (const format of formats.split('||')) {
    if (format === 'epoch_millis' && (typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)))) {
      const n = Number(value);
      if (Number.isFinite(n)) return n;
    }
    if ((format === 'strict_date_optional_time' || format === 'date_optional_time') && typeof value === 'string') {
      const m = STRICT_DATE_OPTIONAL_TIME.exec(value);
      if (m === null) continue;
      const [y, mo = '01', d = '01', h = '00', mi = '00', s = '00'] = m.slice(1, 7).map((x) => x);
      const nums = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
      if (nums[1] < 1 || nums[1] > 12 || nums[2] < 1 || nums[3] > 23 || nums[4] > 59 || nums[5] > 59) continue;
      if (nums[2] > new Date(Date.UTC(nums[0], nums[1], 0)).getUTCDate()) continue;
      return Date.UTC(nums[0], nums[1] - 1, nums[2], nums[3], nums[4], nums[5]);
    }
  }
  return undefined;
}

function geoPoint(value: unknown): boolean {
  const lat = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 90;
  const lon = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 180;
  if (Array.isArray(value)) return value.length === 2 && lon(value[0]) && lat(value[1]);
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    const v = value as Record<string, unknown>;
    return keys.join(',') === 'lat,lon' && lat(v.lat) && lon(v.lon);
  }
  if (typeof value === 'string') {
    const parts = value.split(',').map((p) => Number(p.trim()));
    return parts.length === 2 && lat(parts[0]) && lon(parts[1]);
  }
  return false;
}

// ---- indexing -----------------------------------------------------------------------------------------------
export function indexDocument(text: string, root: Mapping, depthLimit = 20): IndexResult {
  const values = new Map<string, unknown[]>();
  let newFields = 0;
  const add = (path: string, v: unknown) => values.set(path, [...(values.get(path) ?? []), v]);

  const leaf = (path: string, m: Mapping, v: Json): void => {
    if (v === null) return;
    if (Array.isArray(v)) {
      for (const e of v) leaf(path, m, e);
      return;
    }
    const type = m.type;
    const isObj = typeof v === 'object';
    switch (type) {
      case 'keyword': {
        if (isObj) throw new Rejected(`failed to parse field [${path}] of type [keyword]: Can't get text on a START_OBJECT`);
        const s = String(v);
        if (m.ignore_above !== undefined && s.length > m.ignore_above) return;
        if (m.index !== false && Buffer.byteLength(s, 'utf8') > TERM_LIMIT)
          throw new Rejected(`Document contains at least one immense term in field="${path}"`);
        add(path, s);
        break;
      }
      case 'text':
        if (isObj) throw new Rejected(`failed to parse field [${path}] of type [text]`);
        if (m.index !== false) add(path, String(v));
        break;
      case 'date': {
        if (isObj || typeof v === 'boolean') throw new Rejected(`failed to parse field [${path}] of type [date]`);
        const t = parseDate(v, m.format);
        if (t === undefined)
          throw new Rejected(
            `failed to parse date field [${String(v).slice(0, 40)}] with format [${m.format ?? 'strict_date_optional_time||epoch_millis'}]`,
          );
        add(path, t);
        break;
      }
      case 'ip':
        if (typeof v !== 'string' || isIP(v) === 0) throw new Rejected(`'${String(v).slice(0, 40)}' is not an IP string literal`);
        add(path, v);
        break;
      case 'geo_point':
        if (!geoPoint(v)) throw new Rejected(`failed to parse field [${path}] of type [geo_point]`);
        add(path, v);
        break;
      case 'long':
      case 'integer':
      case 'short':
      case 'byte':
      case 'double':
      case 'float': {
        const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
        const ranges: Record<string, number> = { byte: 127, short: 32_767, integer: 2_147_483_647, long: Number.MAX_SAFE_INTEGER };
        if (!Number.isFinite(n) || (ranges[type] !== undefined && Math.abs(n) > ranges[type]))
          throw new Rejected(`failed to parse field [${path}] of type [${type}]`);
        add(path, n);
        break;
      }
      case 'boolean':
        if (!(typeof v === 'boolean' || v === 'true' || v === 'false' || v === ''))
          throw new Rejected(`Failed to parse value [${String(v).slice(0, 40)}] as only [true] or [false] are allowed.`);
        add(path, v === true || v === 'true');
        break;
      case 'flat_object': {
        if (!isObj) throw new Rejected(`[flat_object] ${path} expects an object`);
        const walk = (prefix: string, x: Json): void => {
          if (x === null) return;
          if (Array.isArray(x)) return x.forEach((e) => walk(prefix, e));
          if (typeof x === 'object') {
            for (const [k, c] of Object.entries(x)) walk(prefix === '' ? k : `${prefix}.${k}`, c);
            return;
          }
          const term = `${path}.${prefix}=${String(x)}`;
          if (Buffer.byteLength(term, 'utf8') > TERM_LIMIT)
            throw new Rejected(`Document contains at least one immense term in field="${path}._valueAndPath"`);
          add(`${path}.${prefix}`, String(x));
        };
        walk('', v);
        break;
      }
      default:
        throw new Error(`simulator: unsupported mapping type ${String(type)} at ${path}`);
    }
    for (const [name, sub] of Object.entries(m.fields ?? {})) leaf(`${path}.${name}`, sub, v);
  };

  const object = (path: string, m: Mapping, v: Json, depth: number, dynamic: boolean | string): void => {
    if (m.enabled === false) return;
    if (v === null) return;
    if (Array.isArray(v)) {
      for (const e of v) object(path, m, e, depth, dynamic);
      return;
    }
    if (typeof v !== 'object')
      throw new Rejected(`object mapping for [${path}] tried to parse field [${path}] as object, but found a concrete value`);
    if (depth > depthLimit) throw new Rejected(`The depth of the field has exceeded the allowed limit of [${depthLimit}]`);
    const ownDynamic = m.dynamic ?? dynamic;
    for (const [key, child] of Object.entries(v)) {
      if (key.trim() === '') throw new Rejected('field name cannot be an empty string');
      if (key.startsWith('.') || key.endsWith('.') || key.includes('..'))
        throw new Rejected(`object field starting or ending with a [.] makes object resolution ambiguous: [${key.slice(0, 40)}]`);
      if (path === '' && METADATA.has(key)) throw new Rejected(`Field [${key}] is a metadata field and cannot be added inside a document.`);
      // A dotted name is a path through the object mappers.
      const parts = key.split('.');
      let parent = m;
      let full = path === '' ? parts[0]! : `${path}.${parts[0]!}`;
      let mapper: Mapping | undefined = m.properties?.[parts[0]!];
      let skip = false;
      for (const part of parts.slice(1)) {
        if (mapper === undefined) break;
        if (mapper.enabled === false) {
          skip = true;
          break;
        }
        if (mapper.properties === undefined && mapper.type !== 'object') {
          throw new Rejected(
            `Could not dynamically add mapping for field [${full}.${part}]. Existing mapping for [${full}] must be of type object but found [${String(mapper.type)}].`,
          );
        }
        parent = mapper;
        full = `${full}.${part}`;
        mapper = mapper.properties?.[part];
      }
      if (skip) continue;
      if (mapper === undefined) {
        const dyn = parent.dynamic ?? ownDynamic;
        if (dyn === false || dyn === 'false') continue; // ignored, kept in _source: the mapping does not grow
        newFields++;
        continue;
      }
      if (mapper.properties !== undefined || mapper.type === 'object' || (mapper.type === undefined && mapper.enabled === false))
        object(full, mapper, child, depth + 1, parent.dynamic ?? ownDynamic);
      else leaf(full, mapper, child);
    }
  };

  try {
    const doc = parseStrict(text);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Rejected('the document is not an object');
    object('', root, doc, 1, root.dynamic ?? true);
    return { accepted: true, newFields, values };
  } catch (err) {
    if (err instanceof Rejected) return { accepted: false, error: err.message, newFields, values };
    throw err;
  }
}
