/** Child process of parsed-budget.test.ts: one adversarial batch through transformBatch, printing results and peak RSS. */
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DEFAULT_MAX_PARSED_PER_RECORD, parsedCostEstimate } from '../../../src/1-decode/limits.ts';
import { transformBatch } from '../../../src/pipeline/transform.ts';
import { parseCoreConfig } from '../../../src/config/core.ts';
const mode = process.argv[2];
function cwl(messages: string[]): string {
  return gzipSync(
    JSON.stringify({
      messageType: 'DATA_MESSAGE',
      owner: '111122223333',
      logGroup: 'g',
      logStream: 's',
      subscriptionFilters: ['f'],
      logEvents: messages.map((m, i) => ({ id: String(i), timestamp: 0, message: m })),
    }),
  ).toString('base64');
}
const ev = (extra: object) =>
  JSON.stringify({
    eventVersion: '1.08',
    eventID: 'e' + Math.random(),
    eventTime: '2026-11-01T00:00:00Z',
    eventName: 'X',
    eventSource: 's',
    awsRegion: 'us-east-1',
    recipientAccountId: '111122223333',
    sourceIPAddress: '10.0.0.1',
    ...extra,
  });
const records: { recordId: string; data: string; approximateArrivalTimestamp: number }[] = [];
if (mode === 'empty') {
  // ~30 MB of events made of empty objects
  const inner = '[' + Array(40_000).fill('{}').join(',') + ']';
  const msgs: string[] = [];
  let total = 0;
  while (total < 30e6) {
    const m = `{"eventID":"x${msgs.length}","a":${inner}}`;
    msgs.push(m);
    total += m.length;
  }
  records.push({ recordId: 'bomb', data: cwl(msgs), approximateArrivalTimestamp: Date.now() });
} else if (mode === 'worst') {
  // The shapes that cost the most heap for their estimate (objects of distinct keys: ≈ 0.8 of it measured), each
  // record just under MAX_PARSED_BYTES_PER_RECORD, until the invocation's MAX_PARSED_BYTES_PER_INVOCATION is used up;
  // then records of empty objects, which the exhausted budget fails.
  const objectsOf = (r: number, h: number): string =>
    '[' +
    Array.from({ length: h }, (_, j) => '{' + Array.from({ length: 100 }, (_, i) => `"k${r}_${j}_${i}":1`).join(',') + '}').join(',') +
    ']';
  const costOf = (msgs: string[]): number => parsedCostEstimate(gunzipSync(Buffer.from(cwl(msgs), 'base64')), Infinity);
  const perObject = costOf([ev({ x: JSON.parse(objectsOf(0, 1000)) as unknown })]) / 1000;
  const h = Math.floor((DEFAULT_MAX_PARSED_PER_RECORD * 0.95) / perObject);
  records.push({ recordId: 'first', data: cwl([ev({})]), approximateArrivalTimestamp: Date.now() });
  for (let r = 0; r < 4; r++)
    records.push({
      recordId: 'keys' + r,
      data: cwl([ev({ x: JSON.parse(objectsOf(r, h)) as unknown })]),
      approximateArrivalTimestamp: Date.now(),
    });
  const empties = '[' + Array(600_000).fill('{}').join(',') + ']';
  for (let r = 0; r < 2; r++)
    records.push({
      recordId: 'empty' + r,
      data: cwl([ev({ x: JSON.parse(empties) as unknown })]),
      approximateArrivalTimestamp: Date.now(),
    });
} else {
  const big = 'x'.repeat(200_000);
  let compressed = 0;
  let n = 0;
  while (compressed < 3e6) {
    const msgs = Array.from({ length: 250 }, () => ev({ userAgent: big }));
    const d = cwl(msgs);
    compressed += d.length * 0.75;
    records.push({ recordId: 'r' + n++, data: d, approximateArrivalTimestamp: Date.now() });
  }
}
records.push({ recordId: 'good', data: cwl([ev({})]), approximateArrivalTimestamp: Date.now() });
const t = Date.now();
const { result, summary } = await transformBatch(
  { invocationId: 'i', deliveryStreamArn: 'arn:aws:firehose:us-east-1:1:deliverystream/x', region: 'us-east-1', records },
  { getRemainingTimeInMillis: () => 60000 },
  {
    config: parseCoreConfig({}),
    sinkFor: () => ({ maxBatchRecords: 500, maxBatchBytes: 4 << 20, sizeOf: (r) => r.data.length, putBatch: async () => ({ failed: [] }) }),
  },
);
// Peak RSS of this process image: /proc's VmHWM starts afresh at exec, while getrusage's maxRSS keeps the parent's
// high-water mark across fork/exec on Linux (the mocha process of a full suite is larger than this child).
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
console.log(
  JSON.stringify({
    results: result.records.map((r) => r.result).join(','),
    maxRssMb: (hwm !== null ? Number(hwm[1]) : process.resourceUsage().maxRSS) / 1024,
    ms: Date.now() - t,
    reasons: summary.failureReasons,
  }),
);
