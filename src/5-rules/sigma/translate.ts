/**
 * Translates one Sigma rule (https://github.com/SigmaHQ/sigma-specification) into a rule of this engine:
 * its detection becomes an ordinary condition document (`all`/`any`/`not` over field conditions), so a
 * Sigma rule is validated, compiled, code-generated and indexed by eventName exactly like a YAML rule.
 *
 * Semantics (Sigma 2.0):
 * - a map of fields is AND, a list of values is OR (AND with `|all`), a list of maps is OR;
 * - `null` means the field is absent or null;
 * - `*` and `?` are wildcards, `\` escapes `*`, `?` and `\`; comparison is case-insensitive unless `|cased`;
 * - modifiers contains, startswith, endswith, all, re (+ i, m, s), cidr, exists, fieldref, expand
 *   (`%name%` is the `values` watchlist of that name), cased, gt, gte, lt, lte;
 * - nested fields of requestParameters, responseElements, additionalEventData, serviceEventDetails and
 *   resources read through arrays: a value matches when any element does.
 *
 * Anything else in a CloudTrail rule (keyword searches, encoding modifiers, aggregations, `N of`, rule
 * collections) is an unsupported feature, reported by name so the caller can fail or skip the rule.
 */
import type { Priority } from '../../model.ts';
import type { AttackDoc, ConditionDoc, RuleDoc, ThresholdDoc } from '../documents.ts';
import { MAX_THRESHOLD_COUNT, MAX_WITHIN_MS, parseWithin } from '../thresholds/compile.ts';
import { parseWildcard } from '../wildcard.ts';
import { parseCondition, resolveOf, splitAggregation, type ConditionNode } from './condition.ts';

export type SigmaLevel = 'informational' | 'low' | 'medium' | 'high' | 'critical';

/** Priority and default score per Sigma level (docs/detections.md). A rule without a level counts as medium. */
export const SIGMA_LEVELS: Readonly<Record<SigmaLevel, { priority: Priority; score: number }>> = {
  informational: { priority: 'LOW', score: 5 },
  low: { priority: 'LOW', score: 10 },
  medium: { priority: 'MEDIUM', score: 30 },
  high: { priority: 'HIGH', score: 50 },
  critical: { priority: 'CRITICAL', score: 70 },
};

export const ATTACK_TACTICS: readonly string[] = [
  'reconnaissance',
  'resource-development',
  'initial-access',
  'execution',
  'persistence',
  'privilege-escalation',
  'defense-evasion',
  'credential-access',
  'discovery',
  'lateral-movement',
  'collection',
  'command-and-control',
  'exfiltration',
  'impact',
];

export type SigmaTranslation =
  | { kind: 'rule'; rule: RuleDoc; title: string }
  /** Not a CloudTrail detection rule: another log source, or a correlation rule. */
  | { kind: 'skipped'; reason: 'logsource' | 'correlation'; title?: string }
  /** A CloudTrail rule that uses a Sigma feature this engine does not have. */
  | { kind: 'unsupported'; feature: string; title?: string }
  /** Not a valid Sigma rule. */
  | { kind: 'invalid'; message: string; title?: string };

class Unsupported {
  constructor(readonly feature: string) {}
}
class Invalid {
  constructor(readonly message: string) {}
}

const MODIFIERS_UNSUPPORTED = new Set(['base64', 'base64offset', 'utf16le', 'utf16be', 'wide', 'utf16', 'windash']);
const STRING_POSITION = new Set(['contains', 'startswith', 'endswith']);
const NUMERIC = new Set(['gt', 'gte', 'lt', 'lte']);
/** The Sigma modifiers this translation supports (each maps onto operators of the table in operators.ts). */
export const SIGMA_MODIFIERS: readonly string[] = [
  ...STRING_POSITION,
  ...NUMERIC,
  'all',
  're',
  'i',
  'm',
  's',
  'cidr',
  'exists',
  'fieldref',
  'expand',
  'cased',
];
const KNOWN = new Set(SIGMA_MODIFIERS);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether a Sigma logsource is AWS CloudTrail (`product: aws`, `service: cloudtrail`). */
export function isCloudTrailLogsource(logsource: unknown): boolean {
  if (!isObject(logsource)) return false;
  const product = typeof logsource.product === 'string' ? logsource.product.toLowerCase() : undefined;
  const service = typeof logsource.service === 'string' ? logsource.service.toLowerCase() : undefined;
  return product === 'aws' && service === 'cloudtrail';
}

const SEGMENT = /^[A-Za-z0-9_$@:-]+$/;
const FAN_OUT_ROOTS = new Set([
  'requestParameters',
  'responseElements',
  'additionalEventData',
  'serviceEventDetails',
  'resources',
  'enrichment',
]);

/** A Sigma field name as an engine path: nested segments read through arrays (`a.b[].c[]`). */
function fieldPath(name: string, fanOut: boolean): string {
  const segments = name.split('.');
  for (const s of segments)
    if (!SEGMENT.test(s)) throw new Unsupported(`field name "${name}" (segments may hold only letters, digits and _ $ @ : -)`);
  // Arrays occur only in the parameters and results of a call; a plain path there costs a fan-out walk
  // where the rest (userIdentity.*, the top level) gets one generated property read.
  if (!fanOut || segments.length === 1 || !FAN_OUT_ROOTS.has(segments[0]!)) return name;
  return [segments[0]!, ...segments.slice(1).map((s) => `${s}[]`)].join('.');
}

/** The text of a wildcard pattern without escapes, when it has no unescaped wildcard; else undefined. */
function literal(kinds: Uint8Array, chars: string[], from: number, to: number): string | undefined {
  let out = '';
  for (let i = from; i < to; i++) {
    if (kinds[i] !== 0) return undefined;
    out += chars[i];
  }
  return out;
}

/** One string value (Sigma wildcard syntax) as the cheapest equivalent condition. */
function stringCondition(field: string, pattern: string, ignoreCase: boolean): ConditionDoc {
  const fold = ignoreCase ? { ignoreCase: true } : {};
  const { kinds, chars } = parseWildcard(pattern);
  const n = kinds.length;
  const exact = literal(kinds, chars, 0, n);
  if (exact !== undefined) return { field, equals: exact, ...fold };
  const leading = n > 0 && kinds[0] === 2;
  const trailing = n > 1 && kinds[n - 1] === 2;
  const middle = literal(kinds, chars, leading ? 1 : 0, trailing ? n - 1 : n);
  if (middle !== undefined && middle !== '') {
    if (leading && trailing) return { field, contains: middle, ...fold };
    if (trailing) return { field, prefix: middle, ...fold };
    if (leading) return { field, suffix: middle, ...fold };
  }
  return { field, wildcard: pattern, ...fold };
}

/** Escapes a literal for Sigma wildcard syntax (used when a modifier adds `*` around a non-string value). */
function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Invalid(`has a value that is not a string, number, boolean or null: ${JSON.stringify(value)}`);
}

function fieldCondition(key: string, raw: unknown): ConditionDoc {
  const [name, ...mods] = key.split('|');
  if (name === undefined || name === '') throw new Unsupported(`keyword search with modifiers ("${key}", a value without a field name)`);
  for (const m of mods) {
    if (MODIFIERS_UNSUPPORTED.has(m)) throw new Unsupported(`modifier "${m}"`);
    if (!KNOWN.has(m)) throw new Unsupported(`modifier "${m}"`);
  }
  const has = (m: string): boolean => mods.includes(m);
  const position = mods.filter((m) => STRING_POSITION.has(m));
  if (position.length > 1) throw new Invalid(`field "${key}" combines ${position.join(' and ')}`);
  const regexFlags = mods.filter((m) => m === 'i' || m === 'm' || m === 's');
  if (regexFlags.length > 0 && !has('re')) throw new Invalid(`field "${key}": modifiers i, m, s only go with re`);
  const numeric = mods.filter((m) => NUMERIC.has(m));
  if (numeric.length > 1) throw new Invalid(`field "${key}" combines ${numeric.join(' and ')}`);
  const kinds = [has('re'), has('cidr'), has('exists'), has('fieldref'), has('expand'), numeric.length > 0].filter(Boolean).length;
  if (kinds > 1) throw new Unsupported(`modifier combination "${mods.join('|')}"`);
  if (position.length > 0 && (has('re') || has('cidr') || has('exists') || numeric.length > 0))
    throw new Unsupported(`modifier combination "${mods.join('|')}"`);
  if (position.length > 0 && (has('fieldref') || has('expand'))) throw new Unsupported(`modifier combination "${mods.join('|')}"`);

  const ignoreCase = !has('cased');
  const path = fieldPath(name, true);
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) throw new Invalid(`field "${key}" has an empty list of values`);

  const one = (value: unknown): ConditionDoc => {
    if (has('exists')) {
      if (typeof value !== 'boolean') throw new Invalid(`field "${key}": exists needs true or false`);
      return { field: path, exists: value };
    }
    if (value === null) return { not: { field: path, exists: true } };
    if (has('re')) {
      if (typeof value !== 'string') throw new Invalid(`field "${key}": re needs a string`);
      return { field: path, regex: value, ...(regexFlags.length > 0 ? { regexFlags: [...new Set(regexFlags)].join('') } : {}) };
    }
    if (has('cidr')) return { field: path, cidr: valueText(value) };
    if (numeric.length > 0) {
      if (typeof value !== 'number') throw new Invalid(`field "${key}": ${numeric[0]} needs a number`);
      return { field: path, [numeric[0]!]: value };
    }
    if (has('fieldref')) {
      if (typeof value !== 'string') throw new Invalid(`field "${key}": fieldref needs a field name`);
      return { field: path, equalsField: fieldPath(value, false), ...(ignoreCase ? { ignoreCase: true } : {}) };
    }
    if (has('expand')) {
      const placeholder = typeof value === 'string' ? /^%([A-Za-z][A-Za-z0-9_-]{0,63})%$/.exec(value) : null;
      if (!placeholder) throw new Unsupported(`expand of "${String(value)}" (only a whole-value %name% placeholder)`);
      return { field: path, inWatchlist: placeholder[1]!, ...(ignoreCase ? { ignoreCase: true } : {}) };
    }
    if ((typeof value === 'number' || typeof value === 'boolean') && position.length === 0) {
      // CloudTrail writes some numbers and booleans as strings: match either form.
      return { field: path, in: [value, String(value)], ignoreCase: true };
    }
    const text = valueText(value);
    const pattern = has('contains') ? `*${text}*` : has('startswith') ? `${text}*` : has('endswith') ? `*${text}` : text;
    return stringCondition(path, pattern, ignoreCase);
  };

  const conds = values.map(one);
  if (conds.length === 1) return conds[0]!;
  return has('all') ? { all: conds } : { any: conds };
}

function identifierCondition(name: string, value: unknown): ConditionDoc {
  const mapCondition = (map: Record<string, unknown>): ConditionDoc => {
    const entries = Object.entries(map);
    if (entries.length === 0) throw new Invalid(`search identifier "${name}" has an empty map`);
    const conds = entries.map(([key, v]) => fieldCondition(key, v));
    return conds.length === 1 ? conds[0]! : { all: conds };
  };
  if (isObject(value)) return mapCondition(value);
  if (Array.isArray(value)) {
    if (value.length === 0) throw new Invalid(`search identifier "${name}" is an empty list`);
    if (value.every(isObject)) {
      const conds = value.map((m) => mapCondition(m));
      return conds.length === 1 ? conds[0]! : { any: conds };
    }
    throw new Unsupported(`keyword search (search identifier "${name}" lists values without field names)`);
  }
  throw new Unsupported(`keyword search (search identifier "${name}" is a value without a field name)`);
}

function conditionFrom(node: ConditionNode, identifiers: Map<string, ConditionDoc>): ConditionDoc {
  switch (node.kind) {
    case 'id': {
      const cond = identifiers.get(node.name);
      if (!cond) throw new Invalid(`condition names "${node.name}", which is not a search identifier of the detection`);
      return cond;
    }
    case 'not':
      return { not: conditionFrom(node.part, identifiers) };
    case 'and':
      return { all: node.parts.map((p) => conditionFrom(p, identifiers)) };
    case 'or':
      return { any: node.parts.map((p) => conditionFrom(p, identifiers)) };
    case 'of': {
      const names = resolveOf(node.pattern, [...identifiers.keys()]);
      if (names.length === 0)
        throw new Invalid(`condition "${node.quantifier === 'one' ? '1' : 'all'} of ${node.pattern}" matches no search identifier`);
      const conds = names.map((n) => identifiers.get(n)!);
      if (conds.length === 1) return conds[0]!;
      return node.quantifier === 'one' ? { any: conds } : { all: conds };
    }
  }
}

/** ATT&CK tactics and techniques from Sigma tags (`attack.defense-evasion`, `attack.t1562.008`). */
export function attackFromTags(tags: unknown): AttackDoc | undefined {
  if (!Array.isArray(tags)) return undefined;
  const tactics = new Set<string>();
  const techniques = new Set<string>();
  for (const tag of tags) {
    if (typeof tag !== 'string') continue;
    const lower = tag.toLowerCase();
    if (!lower.startsWith('attack.')) continue;
    const rest = lower.slice('attack.'.length);
    const technique = /^t(\d{4})(?:\.(\d{3}))?$/.exec(rest);
    if (technique) techniques.add(`T${technique[1]}${technique[2] ? `.${technique[2]}` : ''}`);
    else {
      const tactic = rest.replace(/_/g, '-');
      if (ATTACK_TACTICS.includes(tactic)) tactics.add(tactic);
    }
  }
  if (tactics.size === 0 && techniques.size === 0) return undefined;
  return { tactics: [...tactics], techniques: [...techniques] };
}

/** Escapes `{` and `}` so literal text can go into a reason template. */
function templateText(text: string): string {
  return text.replace(/[{}]/g, (b) => b + b);
}

/** The rule id for a Sigma rule: `sigma.<id>` (its UUID), else `sigma.<file name>`. */
export function sigmaRuleId(id: unknown, fileBase: string): string {
  if (typeof id === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(id)) return `sigma.${id.toLowerCase()}`;
  const slug = fileBase
    .toLowerCase()
    .replace(/\.ya?ml$/, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 100);
  return `sigma.${slug || 'rule'}`;
}

/** Translates one parsed Sigma document. `fileBase` (the file name) names rules that have no id. */
export function translateSigma(doc: unknown, fileBase: string): SigmaTranslation {
  if (!isObject(doc)) return { kind: 'invalid', message: 'is not a YAML map' };
  const title = typeof doc.title === 'string' ? doc.title : undefined;
  if (doc.correlation !== undefined) return { kind: 'skipped', reason: 'correlation', ...(title ? { title } : {}) };
  if (!isCloudTrailLogsource(doc.logsource)) return { kind: 'skipped', reason: 'logsource', ...(title ? { title } : {}) };
  const named = title ? { title } : {};
  try {
    if (!title || title.trim() === '') throw new Invalid('has no title');
    const detection = doc.detection;
    if (!isObject(detection)) throw new Invalid('has no detection map');
    const conditions = detection.condition;
    const texts =
      typeof conditions === 'string'
        ? [conditions]
        : Array.isArray(conditions) && conditions.every((c) => typeof c === 'string')
          ? conditions
          : undefined;
    if (!texts || texts.length === 0) throw new Invalid('has no detection.condition (a string or a list of strings)');

    const identifiers = new Map<string, ConditionDoc>();
    for (const [name, value] of Object.entries(detection)) {
      if (name === 'condition' || name === 'timeframe') continue;
      identifiers.set(name, identifierCondition(name, value));
    }
    // `search | count() by f > N` with a `timeframe` becomes a threshold (docs/rules.md#thresholds).
    let threshold: ThresholdDoc | undefined;
    const searches = texts.map((text) => {
      const split = splitAggregation(text);
      if (!split.ok) throw new Unsupported(split.error.message);
      if (split.aggregation === undefined) return split.search;
      if (texts.length > 1) throw new Unsupported('aggregation expression in one of several conditions');
      if (typeof detection.timeframe !== 'string')
        throw new Unsupported(`aggregation expression "${text.slice(text.indexOf('|')).trim()}" without a timeframe`);
      if (parseWithin(detection.timeframe) === undefined || parseWithin(detection.timeframe)! > MAX_WITHIN_MS)
        throw new Unsupported(`timeframe "${detection.timeframe}" (only <n>s, <n>m, <n>h, <n>d up to 7 days)`);
      const a = split.aggregation;
      if (a.count < 1 || a.count > MAX_THRESHOLD_COUNT) throw new Unsupported(`aggregation count ${a.count} (1 to ${MAX_THRESHOLD_COUNT})`);
      threshold = {
        count: a.count,
        within: detection.timeframe,
        // Sigma without `by` counts over all events; per account is the widest key the counters have.
        by: [a.by === undefined ? 'recipientAccountId' : fieldPath(a.by, false)],
        ...(a.distinct !== undefined ? { distinct: fieldPath(a.distinct, false) } : {}),
      };
      return split.search;
    });
    if (threshold === undefined && detection.timeframe !== undefined)
      throw new Unsupported('timeframe without an aggregation (correlation rules are skipped)');
    const parts = searches.map((text) => {
      const parsed = parseCondition(text);
      if (!parsed.ok) {
        if (parsed.error.unsupported) throw new Unsupported(parsed.error.message);
        throw new Invalid(`condition "${text}" ${parsed.error.message}`);
      }
      return conditionFrom(parsed.value, identifiers);
    });
    const when: ConditionDoc = parts.length === 1 ? parts[0]! : { any: parts };

    const levelText = typeof doc.level === 'string' ? doc.level.toLowerCase() : 'medium';
    if (!(levelText in SIGMA_LEVELS))
      throw new Invalid(`has level "${String(doc.level)}" (expected informational, low, medium, high or critical)`);
    const level = SIGMA_LEVELS[levelText as SigmaLevel];
    const id = sigmaRuleId(doc.id, fileBase);
    const attack = attackFromTags(doc.tags);
    const shortTitle = title.length > 200 ? `${title.slice(0, 199)}…` : title;
    const mapping = attack ? ` [${[...attack.tactics, ...attack.techniques].join(', ')}]` : '';
    const reason = `${templateText(`Sigma "${shortTitle}" (${typeof doc.id === 'string' ? doc.id.slice(0, 100) : id})${mapping}`)}: {eventSource} {eventName} by {userIdentity.arn|userIdentity.principalId} from {sourceIPAddress}`;
    const description = typeof doc.description === 'string' && doc.description.trim() !== '' ? doc.description.trim() : title;
    const tags = Array.isArray(doc.tags) ? doc.tags.filter((t): t is string => typeof t === 'string') : [];
    const rule: RuleDoc = {
      id,
      description,
      priority: level.priority,
      score: level.score,
      reason,
      tags: ['sigma', ...tags],
      ...(attack ? { attack } : {}),
      when,
      ...(threshold !== undefined ? { threshold } : {}),
    };
    return { kind: 'rule', rule, title };
  } catch (error) {
    if (error instanceof Unsupported) return { kind: 'unsupported', feature: error.feature, ...named };
    if (error instanceof Invalid) return { kind: 'invalid', message: error.message, ...named };
    throw error;
  }
}
