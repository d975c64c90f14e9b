import type { Enrichment } from '../model.ts';

/**
 * Output lines. An enriched line is the event's original JSON text with `,"enrichment":{…}` inserted before
 * its final `}`: every original field keeps its exact text (numbers beyond 2^53, key order, duplicate keys),
 * and the event is never re-serialised, which is also what keeps the pipeline near a bare parse in cost.
 */
export function enrichedLine(text: string, enrichmentJson: string): string {
  const { head, tail } = enrichedParts(text, enrichmentJson);
  return head + tail;
}

/** The same line as two strings: the original text before its closing brace (a slice, not a copy) and the rest. */
export function enrichedParts(text: string, enrichmentJson: string): { head: string; tail: string } {
  let end = text.length - 1;
  while (end > 0 && isJsonWhitespace(text.charCodeAt(end))) end--;
  // The text parsed as a JSON object, so text[end] is its closing brace. Look back for an empty object.
  let before = end - 1;
  while (before > 0 && isJsonWhitespace(text.charCodeAt(before))) before--;
  const empty = text.charCodeAt(before) === 0x7b; // '{'
  return { head: text.slice(0, end), tail: (empty ? '"enrichment":' : ',"enrichment":') + enrichmentJson + '}' };
}

/** A message that is not a CloudTrail event: kept verbatim under `enrichment.raw`, never dropped. */
export function skippedLine(raw: string, error: string): string {
  const enrichment: Enrichment = { version: 1, status: 'skipped', error, raw };
  return `{"enrichment":${JSON.stringify(enrichment)}}`;
}

function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
