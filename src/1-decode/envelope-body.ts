import type { Envelope } from '../codec/envelope.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An envelope's body is delivered verbatim, so it is checked before it is trusted: anyone allowed to put records
 * into the stream could forge one. It must be what this Lambda writes: valid UTF-8; S3 mode (partition keys in the
 * header) newline-terminated NDJSON, OpenSearch mode exactly one document without a newline; `header.n` lines, each
 * a JSON object of one of the output layouts (native: an `enrichment` object; OCSF: numeric `class_uid` and a
 * `metadata` object; ECS: `@timestamp` and an `event` object). Anything else is a failed record (error prefix, data unchanged),
 * never a broken NDJSON object in S3. Returns the reason, or undefined when the body is well-formed.
 * (Costs one parse per re-ingested line: re-ingested events are a minority of the traffic.)
 */
export function envelopeBodyProblem(envelope: Envelope): string | undefined {
  let text: string;
  try {
    text = utf8.decode(envelope.body);
  } catch {
    return 're-ingested record: body is not valid UTF-8';
  }
  const s3 = envelope.header.pk !== undefined;
  if (s3 && !text.endsWith('\n')) return 're-ingested record: body is not newline-terminated NDJSON';
  const lines = s3 ? text.slice(0, -1).split('\n') : [text];
  if (!s3 && text.includes('\n')) return 're-ingested record: OpenSearch body holds more than one document';
  if (text.length === 0 || lines.length !== envelope.header.n) return 're-ingested record: line count does not match the header';
  for (const line of lines) {
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      return 're-ingested record: a line is not JSON';
    }
    if (!isOutputDocument(doc)) return 're-ingested record: a line is not an enriched event';
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A line of one of the layouts this Lambda writes (native, OCSF, ECS: see src/7-encode/layouts). */
function isOutputDocument(doc: unknown): boolean {
  if (!isObject(doc)) return false;
  if (isObject(doc.enrichment)) return true;
  if (typeof doc.class_uid === 'number' && isObject(doc.metadata)) return true;
  return typeof doc['@timestamp'] === 'string' && isObject(doc.event);
}
