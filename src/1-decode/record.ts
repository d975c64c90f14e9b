import { gunzipSync } from 'node:zlib';
import type { Envelope } from '../codec/envelope.ts';
import { decodeEnvelope, gunzipError, isEnvelope } from '../codec/envelope.ts';
import { envelopeBodyProblem } from './envelope-body.ts';
import { eventFromParsed, parseEventText, type EventItem } from './event-text.ts';
import { chargeParsed, type DecompressionBudget } from './limits.ts';

/** Where the events of a record came from (reported in logs and the summary). */
export type RecordFormat = 'cloudwatch-logs' | 'cloudtrail-event' | 'cloudtrail-file' | 'eventbridge' | 'json-array' | 'ndjson';

export type DecodedRecord =
  | { readonly kind: 'events'; readonly format: RecordFormat; readonly events: EventItem[] }
  /** CloudWatch Logs `CONTROL_MESSAGE` (sent when a subscription is created): nothing to deliver. */
  | { readonly kind: 'control' }
  /** A record this Lambda re-ingested earlier: delivered as it is. */
  | { readonly kind: 'reingested'; readonly envelope: Envelope }
  /** Cannot be decoded: returned as `ProcessingFailed` with its original data. */
  | { readonly kind: 'failed'; readonly error: string };

const GZIP_ID1 = 0x1f;
const GZIP_ID2 = 0x8b;

/**
 * Decodes one Firehose record's base64 `data`. Never throws: every expected failure is a `failed` value.
 */
export function decodeRecord(data: string, budget: DecompressionBudget): DecodedRecord {
  const bytes = decodeBase64Strict(data);
  if (bytes === undefined) return { kind: 'failed', error: 'data is not valid base64' };
  if (bytes.length === 0) return { kind: 'failed', error: 'data is empty' };

  if (isEnvelope(bytes)) {
    const limit = Math.min(budget.perRecord, budget.remaining);
    const envelope = decodeEnvelope(bytes, limit);
    if (!envelope.ok) return { kind: 'failed', error: envelope.error };
    budget.remaining -= envelope.value.body.length;
    const problem = envelopeBodyProblem(envelope.value);
    if (problem !== undefined) return { kind: 'failed', error: problem };
    return { kind: 'reingested', envelope: envelope.value };
  }

  if (bytes[0] === GZIP_ID1 && bytes[1] === GZIP_ID2) {
    const limit = Math.min(budget.perRecord, budget.remaining);
    let plain: Buffer;
    try {
      plain = gunzipSync(bytes, { maxOutputLength: limit });
    } catch (err) {
      const reason = gunzipError(err);
      return {
        kind: 'failed',
        error: limit < budget.perRecord && reason.startsWith('decompressed') ? 'decompression budget of the invocation exhausted' : reason,
      };
    }
    budget.remaining -= plain.length;
    const over = chargeParsed(budget, plain);
    if (over !== undefined) return { kind: 'failed', error: over };
    return decodeCloudWatchLogs(plain);
  }

  const over = chargeParsed(budget, bytes);
  if (over !== undefined) return { kind: 'failed', error: over };
  return decodePlainJson(bytes);
}

/**
 * Node's base64 decoder silently skips characters outside the alphabet, so a corrupt record would decode to
 * different bytes. Canonical base64 has a length that is a multiple of 4 and decodes to exactly
 * 3/4 of it minus the padding: anything else had skipped characters.
 */
export function decodeBase64Strict(data: string): Buffer | undefined {
  if (typeof data !== 'string' || data.length % 4 !== 0) return undefined;
  // Node also decodes the URL-safe alphabet (`-`, `_`) without skipping it, so the length check below cannot
  // catch it; Firehose always sends the standard alphabet.
  if (data.includes('-') || data.includes('_')) return undefined;
  const bytes = Buffer.from(data, 'base64');
  let padding = 0;
  if (data.endsWith('==')) padding = 2;
  else if (data.endsWith('=')) padding = 1;
  if (bytes.length !== (data.length / 4) * 3 - padding) return undefined;
  return bytes;
}

interface CloudWatchLogsPayload {
  messageType?: unknown;
  logEvents?: unknown;
}

function decodeCloudWatchLogs(plain: Buffer): DecodedRecord {
  let payload: CloudWatchLogsPayload;
  try {
    payload = JSON.parse(plain.toString('utf8')) as CloudWatchLogsPayload;
  } catch {
    return { kind: 'failed', error: 'gzip content is not JSON' };
  }
  if (payload === null || typeof payload !== 'object') return { kind: 'failed', error: 'gzip content is not a JSON object' };
  if (payload.messageType === 'CONTROL_MESSAGE') return { kind: 'control' };
  if (payload.messageType !== 'DATA_MESSAGE' || !Array.isArray(payload.logEvents)) {
    return { kind: 'failed', error: 'gzip content is not a CloudWatch Logs subscription payload' };
  }
  const events: EventItem[] = [];
  for (const logEvent of payload.logEvents as unknown[]) {
    const message = (logEvent as { message?: unknown } | null)?.message;
    if (typeof message === 'string') events.push(parseEventText(message));
    else events.push({ ok: false, raw: JSON.stringify(logEvent) ?? 'null', error: 'log event has no message text' });
  }
  return { kind: 'events', format: 'cloudwatch-logs', events };
}

const EVENTBRIDGE_SUFFIX = 'via CloudTrail';

function decodePlainJson(bytes: Buffer): DecodedRecord {
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return decodeNdjson(text);
  }
  if (Array.isArray(parsed)) {
    return { kind: 'events', format: 'json-array', events: parsed.map((element) => eventFromParsed(element)) };
  }
  if (parsed === null || typeof parsed !== 'object') return { kind: 'failed', error: 'JSON record is not an object' };
  const object = parsed as Record<string, unknown>;
  if (Object.hasOwn(object, 'Records') && Array.isArray(object.Records)) {
    // A CloudTrail log file body. Its events are re-serialised (values identical; the file's own layout is not kept).
    return { kind: 'events', format: 'cloudtrail-file', events: object.Records.map((element) => eventFromParsed(element)) };
  }
  const detailType = object['detail-type'];
  if (typeof detailType === 'string' && detailType.endsWith(EVENTBRIDGE_SUFFIX) && Object.hasOwn(object, 'detail')) {
    return { kind: 'events', format: 'eventbridge', events: [eventFromParsed(object.detail)] };
  }
  return { kind: 'events', format: 'cloudtrail-event', events: [eventFromParsed(parsed, text.trim())] };
}

/** Newline-delimited JSON in one record: accepted when every non-empty line parses. */
function decodeNdjson(text: string): DecodedRecord {
  if (text.indexOf('\n') === -1) return { kind: 'failed', error: 'data is neither gzip nor JSON' };
  const events: EventItem[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.length === 0) continue;
    const item = parseEventText(trimmed);
    if (!item.ok && item.error === 'message is not valid JSON') return { kind: 'failed', error: 'data is neither gzip nor JSON' };
    events.push(item);
  }
  if (events.length === 0) return { kind: 'failed', error: 'data is neither gzip nor JSON' };
  return { kind: 'events', format: 'ndjson', events };
}
