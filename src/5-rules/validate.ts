/**
 * Structural validation of a rules document against `rules/rules.schema.json`, turning ajv's JSON-pointer
 * errors into messages a rule author can act on: the rule id and index, and the field.
 *
 * The validator is ajv standalone code generated at build time (`npm run build:rules`, committed under
 * ./generated/): compiling the schema with ajv at cold start cost ~180 ms and ~120 KiB of bundle. A unit test
 * regenerates it and fails when it no longer matches the schema.
 */
import { RulesValidationError } from '../errors.ts';
import { validate as validateRulesSchema, type RulesSchemaError } from './generated/validate-rules-schema.js';

export const CONDITION_KEYS = ['all', 'any', 'not', 'field', 'inWindow', 'timeOfDay', 'dayOfWeek'] as const;

/** `rules[3].when.all[0].in` style path from a JSON pointer. */
export function pointerToPath(segments: readonly string[]): string {
  let out = '';
  for (const raw of segments) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/**
 * Where an error is, for humans: `rule "iam.admin" (rules[4]) field "when.all[1].in"` or
 * `watchlist "trustedCidrs" field "entries[2]"` or `field "timezone"`.
 */
export function describeLocation(doc: unknown, segments: readonly string[]): string {
  if (segments[0] === 'rules' && segments[1] !== undefined && /^\d+$/.test(segments[1])) {
    const index = Number(segments[1]);
    const rules = (doc as { rules?: unknown }).rules;
    const rule = Array.isArray(rules) ? (rules[index] as unknown) : undefined;
    const id =
      rule !== null && typeof rule === 'object' && typeof (rule as { id?: unknown }).id === 'string'
        ? (rule as { id: string }).id
        : undefined;
    const label = id !== undefined ? `rule "${id}" (rules[${index}])` : `rule rules[${index}]`;
    const field = pointerToPath(segments.slice(2));
    return field ? `${label} field "${field}"` : label;
  }
  if (segments[0] === 'watchlists' && segments[1] !== undefined) {
    const field = pointerToPath(segments.slice(2));
    return field ? `watchlist "${segments[1]}" field "${field}"` : `watchlist "${segments[1]}"`;
  }
  const field = pointerToPath(segments);
  return field ? `field "${field}"` : 'document';
}

function pointerSegments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/');
}

function explain(error: RulesSchemaError): { segments: string[]; message: string } {
  const segments = pointerSegments(error.instancePath);
  const params = error.params;
  switch (error.keyword) {
    case 'required':
      return { segments: [...segments, String(params.missingProperty)], message: 'is required' };
    case 'additionalProperties':
      return { segments: [...segments, String(params.additionalProperty)], message: 'is not a known field' };
    case 'false schema':
      return { segments, message: `a condition needs one of the keys ${CONDITION_KEYS.join(', ')}` };
    case 'enum':
      return { segments, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'anyOf':
      return { segments, message: 'must be a string or a non-empty list of strings' };
    default:
      return { segments, message: error.message ?? 'is invalid' };
  }
}

/** Throws {@link RulesValidationError} naming the rule and field when `doc` does not match the schema. */
export function assertRulesDocument(doc: unknown, source: string): void {
  if (validateRulesSchema(doc)) return;
  const errors = (validateRulesSchema.errors ?? []).filter((e) => e.keyword !== 'if');
  const chosen = errors.find((e) => e.keyword === 'anyOf') ?? errors[0];
  if (!chosen) throw new RulesValidationError(`${source}: the rules document is invalid`);
  const { segments, message } = explain(chosen);
  throw new RulesValidationError(`${source}: ${describeLocation(doc, segments)} ${message}`);
}

/**
 * Raises the compiler's semantic errors (a bad regex, an unknown watchlist, …) located like schema errors.
 * `ruleSource` names the file a rule came from when it is not `source` (rules translated from Sigma files).
 */
export class Fail {
  constructor(
    readonly source: string,
    readonly doc: unknown,
    readonly ruleSource?: (ruleIndex: number) => string | undefined,
  ) {}
  at(segments: readonly (string | number)[], message: string): never {
    const from = segments[0] === 'rules' && this.ruleSource ? this.ruleSource(Number(segments[1])) : undefined;
    throw new RulesValidationError(`${from ?? this.source}: ${describeLocation(this.doc, segments.map(String))} ${message}`);
  }
}
