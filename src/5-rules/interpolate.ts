/**
 * Reason texts with field interpolation: `"console login from {enrichment.source.geo.countryCode} by {userIdentity.arn}"`.
 *
 * Interpolated values come from the event, which an attacker shapes (user names, user agents, bucket
 * names), and the detail ends up in alerts, tickets and chat. So every value is stripped of control and
 * bidirectional-override characters (no forged log lines, no terminal escapes, no reversed text) and cut
 * to a bounded length, and the whole detail is bounded too.
 *
 * `{a|b|c}` renders the first of the fields that has a value. `{{` and `}}` write literal braces.
 * A missing value renders as `-`.
 */
import { parseFieldPath, type FieldPath } from './path.ts';

/** Longest rendering of one interpolated value, in UTF-16 code units, before the ellipsis. */
export const MAX_VALUE_LENGTH = 128;
/** Longest detail string. */
export const MAX_DETAIL_LENGTH = 1024;
/** At most this many values of an `[]` path are listed. */
export const MAX_LIST_VALUES = 5;

// C0 and C1 controls, DEL, zero-width and bidi controls, line/paragraph separators, BOM.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

/** Removes unsafe characters and bounds the length (without splitting a surrogate pair). */
export function sanitizeValue(text: string, max = MAX_VALUE_LENGTH): string {
  // Cut first so a megabyte-long attacker value costs no more than a short one.
  let s = text.length > max * 4 ? text.slice(0, max * 4) : text;
  s = s.replace(UNSAFE, '');
  if (s.length > max) {
    let end = max;
    const code = s.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end -= 1;
    s = s.slice(0, end) + '…';
  }
  return s;
}

function render(value: unknown): string {
  if (value === undefined) return '-';
  if (typeof value === 'string') return sanitizeValue(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  let json: string;
  try {
    json = JSON.stringify(value) ?? '-';
  } catch {
    json = '-';
  }
  return sanitizeValue(json);
}

export type TemplateScope = { event: unknown; enrichment: unknown };

export type CompiledTemplate = (scope: TemplateScope) => string;

/** One placeholder: alternative paths, the first with a value wins. */
type Part = string | FieldPath[];

const collector = { values: [] as string[] };

function collect(value: unknown, ctx: typeof collector): boolean {
  if (value === null) return false;
  ctx.values.push(render(value));
  return ctx.values.length >= MAX_LIST_VALUES;
}

export function compileTemplate(text: string): { ok: true; value: CompiledTemplate } | { ok: false; error: string } {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '{' && text[i + 1] === '{') {
      literal += '{';
      i++;
    } else if (c === '}' && text[i + 1] === '}') {
      literal += '}';
      i++;
    } else if (c === '{') {
      const end = text.indexOf('}', i);
      if (end < 0) return { ok: false, error: `unclosed "{" at position ${i}` };
      const paths: FieldPath[] = [];
      for (const alternative of text.slice(i + 1, end).split('|')) {
        const path = parseFieldPath(alternative.trim());
        if (!path.ok) return { ok: false, error: path.error };
        paths.push(path.value);
      }
      if (literal) parts.push(literal);
      literal = '';
      parts.push(paths);
      i = end;
    } else if (c === '}') {
      return { ok: false, error: `unmatched "}" at position ${i} (write "}}" for a literal brace)` };
    } else literal += c;
  }
  if (literal) parts.push(literal);

  const template: CompiledTemplate = (scope) => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      let rendered: string | undefined;
      for (const path of part) {
        const base = path.root === 'enrichment' ? scope.enrichment : scope.event;
        if (!path.fanOut) {
          const value = path.get(base);
          if (value !== undefined && value !== null) {
            rendered = render(value);
            break;
          }
          continue;
        }
        collector.values = [];
        path.some(base, collect, collector);
        if (collector.values.length > 0) {
          rendered = collector.values.join(', ');
          break;
        }
      }
      out += rendered ?? '-';
    }
    return out.length > MAX_DETAIL_LENGTH ? sanitizeValue(out, MAX_DETAIL_LENGTH) : out;
  };
  return { ok: true, value: template };
}
