import { gunzipSync, gzipSync } from 'node:zlib';
import { cloudTrailEvent } from '../../helpers/factories.ts';

/** CloudTrail's own object key for a log file of one account, region and delivery time. */
export function trailKey(account: string, region: string, stamp: string, id: string): string {
  const [y, m, d] = [stamp.slice(0, 4), stamp.slice(4, 6), stamp.slice(6, 8)];
  return `AWSLogs/${account}/CloudTrail/${region}/${y}/${m}/${d}/${account}_CloudTrail_${region}_${stamp}_${id}.json.gz`;
}

export function digestKey(account: string, region: string): string {
  return `AWSLogs/${account}/CloudTrail-Digest/${region}/2026/11/20/${account}_CloudTrail-Digest_${region}_management_${region}_20261120T140500Z.json.gz`;
}

/** A CloudTrail log file body as CloudTrail writes it: gzip of `{"Records":[…]}`. */
export function trailObject(records: readonly unknown[]): Buffer {
  return gzipSync(JSON.stringify({ Records: records }));
}

/** A digest file body (hashes of log files, no events). */
export function digestObject(): Buffer {
  return gzipSync(
    JSON.stringify({
      awsAccountId: '111122223333',
      digestStartTime: '2026-11-20T13:05:00Z',
      digestEndTime: '2026-11-20T14:05:00Z',
      digestS3Bucket: 'trail-bucket',
      logFiles: [{ s3Bucket: 'trail-bucket', s3Object: 'AWSLogs/…', hashValue: 'ab', hashAlgorithm: 'SHA-256' }],
    }),
  );
}

/** A gzip bomb: a few KB that decompress to `size` bytes of JSON whitespace inside an otherwise valid file. */
export function gzipBomb(size: number): Buffer {
  return gzipSync(Buffer.concat([Buffer.from('{"Records":['), Buffer.alloc(size, 0x20), Buffer.from(']}')]), { level: 9 });
}

const DAY = 86_400_000;

/** `days` whole days before `now`, at the given UTC time of day, in CloudTrail's format. */
function daysAgo(now: number, days: number, time: string): string {
  return `${new Date(now - days * DAY).toISOString().slice(0, 10)}T${time}Z`;
}

/**
 * Events spread over two accounts, two regions and two days (days before `now`, so they are always in the past of
 * the object's arrival), one without a usable eventTime (it falls back to the object's arrival day) and one element
 * that is not an event (kept as a skipped line).
 */
export function mixedRecords(now = Date.now()): unknown[] {
  return [
    cloudTrailEvent({ eventTime: daysAgo(now, 3, '14:03:21'), sourceIPAddress: '8.8.8.8' }),
    cloudTrailEvent({ eventTime: daysAgo(now, 3, '14:04:00'), sourceIPAddress: '10.0.0.5' }),
    cloudTrailEvent({ eventTime: daysAgo(now, 4, '23:59:59'), sourceIPAddress: 'AWS Internal' }),
    cloudTrailEvent({ eventTime: daysAgo(now, 3, '01:00:00'), awsRegion: 'eu-west-1', sourceIPAddress: '1.1.1.1' }),
    cloudTrailEvent({ eventTime: daysAgo(now, 3, '02:00:00'), recipientAccountId: '444455556666', sourceIPAddress: 'ec2.amazonaws.com' }),
    cloudTrailEvent({ eventTime: undefined, sourceIPAddress: '2001:4860:4860::8888' }),
    'not an event',
  ];
}

/** The partition (`account/region/dt`) each of `records` belongs in, given the object's arrival day. */
export function expectedPartitions(records: readonly unknown[], arrivalDay: string): string[] {
  return records.map((r) => {
    if (r === null || typeof r !== 'object') return `unknown/unknown/${arrivalDay}`;
    const e = r as { recipientAccountId: string; awsRegion: string; eventTime?: string };
    return `${e.recipientAccountId}/${e.awsRegion}/${e.eventTime?.slice(0, 10) ?? arrivalDay}`;
  });
}

/** The NDJSON lines of a gzip'd output object. */
export function ndjsonLines(body: Buffer): Record<string, unknown>[] {
  const text = gunzipSync(body).toString('utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('output is not newline-terminated NDJSON');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
