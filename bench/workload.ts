/**
 * Benchmark workloads: realistic CloudTrail events (the sample generator's event mix and sizes), packed the way
 * the CloudWatch Logs subscription and Firehose pack them, into invocations of a given compressed buffer size.
 */
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { CloudWatchLogsPacker } from '../src/codec/cloudwatch-logs-pack.ts';
import { ACCOUNTS, REGIONS, event, pick, random, reseed, weighted } from '../scripts/sample-events.ts';

export interface Workload {
  readonly name: string;
  readonly events: number;
  readonly uniquePublicIps: number;
  /** gzip'd CloudWatch Logs payloads, one per Firehose record. */
  readonly records: Buffer[];
  readonly eventBytes: number;
}

/** `count` events whose public source addresses are drawn from `ipPool` (non-public kinds mixed in as in the sample). */
export function makeWorkload(name: string, count: number, ipPool: readonly string[], seed: number): Workload {
  reseed(seed);
  const addresses = () =>
    weighted<() => string>([
      [() => pick(ipPool), 78],
      [() => 'AWS Internal', 8],
      [() => pick(['10.0.12.34', '172.16.4.9', 'fd12:3456:789a::1']), 8],
      [() => pick(['ec2.amazonaws.com', 'lambda.amazonaws.com']), 5],
      [() => pick(['010.10.10.10', '192.0.2.44']), 1],
    ])();
  const texts: string[] = [];
  const start = Date.UTC(2026, 10, 20, 9, 0, 0);
  let eventBytes = 0;
  const used = new Set<string>();
  for (let i = 0; i < count; i++) {
    // One busy hour across the organisation's accounts and regions.
    const e = event(pick(ACCOUNTS), pick(REGIONS), new Date(start + Math.floor((i / count) * 3_600_000 + random() * 1000)), addresses);
    const text = JSON.stringify(e);
    if (ipPool.includes(String(e.sourceIPAddress))) used.add(String(e.sourceIPAddress));
    eventBytes += Buffer.byteLength(text);
    texts.push(text);
  }
  const records: Buffer[] = [];
  const packer = new CloudWatchLogsPacker((data) => records.push(data));
  for (const text of texts) packer.add(text);
  packer.flush();
  return { name, events: count, uniquePublicIps: used.size, records, eventBytes };
}

/**
 * Public addresses from real allocations, so offline geo and ASN answers are realistic: most of an
 * organisation's API calls come from its own egress and cloud providers in its home country (here the US,
 * the default allowed country), the rest from everywhere.
 */
export function publicIpPool(size: number, seed: number): string[] {
  reseed(seed);
  const home = [3, 13, 18, 20, 23, 34, 35, 44, 52, 54, 98, 104, 107, 184];
  const world = [31, 46, 51, 62, 77, 80, 81, 85, 89, 91, 93, 95, 109, 141, 151, 176, 185, 188, 193, 194, 195, 200, 212, 213, 217];
  const pool = new Set<string>();
  while (pool.size < size) {
    const octet = random() < 0.85 ? pick(home) : pick(world);
    pool.add(`${octet}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`);
  }
  return [...pool];
}

/** Splits the records into Firehose invocations of at most `bufferBytes` of (compressed) input each. */
export function invocations(workload: Workload, bufferBytes: number): FirehoseTransformationEvent[] {
  const events: FirehoseTransformationEvent[] = [];
  let records: FirehoseTransformationEvent['records'] = [];
  let bytes = 0;
  let n = 0;
  const flush = () => {
    if (records.length === 0) return;
    events.push({
      invocationId: `bench-${events.length}`,
      deliveryStreamArn: 'arn:aws:firehose:us-east-1:111122223333:deliverystream/bench',
      region: 'us-east-1',
      records,
    });
    records = [];
    bytes = 0;
  };
  for (const record of workload.records) {
    if (bytes + record.length > bufferBytes && records.length > 0) flush();
    n++;
    records.push({
      recordId: `${String(n).padStart(56, '0')}`,
      approximateArrivalTimestamp: Date.UTC(2026, 10, 20, 10),
      data: record.toString('base64'),
    });
    bytes += record.length;
  }
  flush();
  return events;
}

export { ACCOUNTS, REGIONS };
