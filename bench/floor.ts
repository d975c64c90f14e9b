import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { gunzipSync } from 'node:zlib';

/**
 * The floor every transformation pays at least once: base64-decode the record, gunzip it, JSON.parse the
 * CloudWatch Logs payload and every event, JSON.stringify every event back, join the lines and base64-encode
 * them. Our handler is compared against this on the same input.
 */
export function floorPass(event: FirehoseTransformationEvent): FirehoseTransformationResult {
  const records: FirehoseTransformationResult['records'] = [];
  for (const record of event.records) {
    const payload = JSON.parse(gunzipSync(Buffer.from(record.data, 'base64')).toString('utf8')) as { logEvents: { message: string }[] };
    let out = '';
    for (const logEvent of payload.logEvents) out += JSON.stringify(JSON.parse(logEvent.message)) + '\n';
    records.push({ recordId: record.recordId, result: 'Ok', data: Buffer.from(out, 'utf8').toString('base64') });
  }
  return { records };
}
