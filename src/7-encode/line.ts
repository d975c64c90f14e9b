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
  const { end, empty } = closingBrace(text);
  return { head: text.slice(0, end), tail: (empty ? '"enrichment":' : ',"enrichment":') + enrichmentJson + '}' };
}

/**
 * Where the `enrichment` key goes in an event's JSON text: the index of its closing brace, and whether the
 * object is empty (then no comma). The text parsed as a JSON object, so its last non-blank character is `}`.
 */
export function closingBrace(text: string): { end: number; empty: boolean } {
  let end = text.length - 1;
  while (end > 0 && isJsonWhitespace(text.charCodeAt(end))) end--;
  let before = end - 1;
  while (before > 0 && isJsonWhitespace(text.charCodeAt(before))) before--;
  return { end, empty: text.charCodeAt(before) === 0x7b }; // '{'
}

/** A message that is not a CloudTrail event: kept verbatim under `enrichment.raw`, never dropped. */
export function skippedLine(raw: string, error: string): string {
  const enrichment: Enrichment = { version: 1, status: 'skipped', error, raw };
  return `{"enrichment":${JSON.stringify(enrichment)}}`;
}

function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
