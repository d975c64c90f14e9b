import type { CloudTrailEvent } from '../model.ts';

/**
 * One event on its way through the pipeline: the original JSON text (kept verbatim so the output is
 * forensic-exact and never re-serialised) and its parsed form, or the raw text and the reason it is skipped.
 */
export type EventItem =
  | { readonly ok: true; readonly text: string; readonly event: CloudTrailEvent }
  | { readonly ok: false; readonly raw: string; readonly error: string };

const CR = 13;
const LF = 10;

/**
 * Parses one CloudTrail event from its JSON text (a CloudWatch Logs message, a plain record, an NDJSON line).
 * The text is kept as received, except that line breaks are removed: in valid JSON they can only be
 * insignificant whitespace (raw control characters are not allowed inside strings), and NDJSON output needs
 * each event on one line.
 */
export function parseEventText(text: string): EventItem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, raw: text, error: 'message is not valid JSON' };
  }
  return eventFromParsed(parsed, text);
}

/** Builds an event item from an already parsed value; `text` is its JSON text when known. */
export function eventFromParsed(parsed: unknown, text?: string): EventItem {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, raw: text ?? JSON.stringify(parsed), error: 'message is not a JSON object' };
  }
  const source = text ?? JSON.stringify(parsed);
  if (Object.hasOwn(parsed, 'enrichment')) {
    // All additions live under `enrichment`; an input that already has one cannot be enriched without
    // overwriting an original field, so it is kept verbatim as a skipped line instead.
    return { ok: false, raw: source, error: 'event already has a top-level "enrichment" key' };
  }
  // What counts as a CloudTrail event: every CloudTrail record has both `eventSource` and `eventName`; trimmed
  // samples sometimes lack one (or `eventVersion`/`eventTime`) and are still enriched. An object with neither is
  // not a CloudTrail event (a digest file, `{"hello":"world"}`): it goes out `skipped`, its raw text kept.
  if (!Object.hasOwn(parsed, 'eventSource') && !Object.hasOwn(parsed, 'eventName')) {
    return { ok: false, raw: source, error: 'not a CloudTrail event (neither eventSource nor eventName)' };
  }
  return { ok: true, text: hasLineBreak(source) ? stripLineBreaks(source) : source, event: parsed as CloudTrailEvent };
}

function hasLineBreak(text: string): boolean {
  return text.indexOf('\n') !== -1 || text.indexOf('\r') !== -1;
}

function stripLineBreaks(text: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || c === CR) {
      out += text.slice(start, i);
      start = i + 1;
    }
  }
  return out + text.slice(start);
}
