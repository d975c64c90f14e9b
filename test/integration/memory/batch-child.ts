/** Child process of parsed-budget.test.ts: one adversarial batch through transformBatch, printing results and peak RSS. */
import { gzipSync } from 'node:zlib';
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
console.log(
  JSON.stringify({
    results: result.records.map((r) => r.result).join(','),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    ms: Date.now() - t,
    reasons: summary.failureReasons,
  }),
);
