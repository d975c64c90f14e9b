/**
 * Many unique source addresses with every provider enabled and hanging: does the handler answer before its
 * deadline, and how much memory does it take? The real handler (the fault-matrix rig) on loopback providers that
 * never answer, one invocation per run, as a cold container with an empty cache.
 *
 *   node --max-old-space-size=700 --expose-gc --import tsx scripts/unique-sources.ts 100000 6 [remainingMs]
 *   npm run unique-sources -- 30000 4
 *
 * Arguments: unique sources, IP version (4, 6, or 64 = every address in one IPv6 /64), remaining Lambda time in ms
 * (default 30,000). Prints one JSON line: wall time, margin before the invocation deadline (remaining time minus
 * RESPONSE_RESERVE_MS), peak RSS and heap, provider requests sent and events per status. Exit 1 if the deadline is
 * missed.
 */
import { startFirehoseServer } from '../test/helpers/loopback.ts';
import { cloudWatchLogsData, firehoseEvent, firehoseRecord, lambdaContext, outputLines } from '../test/helpers/factories.ts';
import { startFakeServer } from '../test/integration/lookup/fake-provider-server.ts';
import { coldStart, providerEnv, sharedGeo } from '../test/integration/faults/support.ts';

const unique = Number(process.argv[2] ?? 30_000);
const version = process.argv[3] ?? '4';
const remainingMs = Number(process.argv[4] ?? 30_000);
const RESERVE_MS = 2000;
const EVENTS_PER_RECORD = 500;

function address(i: number): string {
  if (version === '4') return `${11 + Math.floor(i / 65_000)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}.${7 + (i % 3)}`;
  if (version === '64') return `2400:cb00:1:2:0:0:${Math.floor(i / 65_536).toString(16)}:${(i % 65_536).toString(16)}`;
  // Every address in its own /64 (2400::/12 is APNIC space: global unicast).
  return `2400:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}:1::1`;
}

function minimalEvent(i: number): string {
  return JSON.stringify({
    eventVersion: '1.09',
    eventTime: '2026-11-20T14:03:21Z',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-1',
    sourceIPAddress: address(i),
    eventID: `u-${i}`,
    recipientAccountId: '111122223333',
  });
}

async function main(): Promise<void> {
  const providers = await startFakeServer(() => ({ hang: true }));
  const firehose = await startFirehoseServer();
  const env = providerEnv(providers.baseUrl, {
    RESPONSE_RESERVE_MS: String(RESERVE_MS),
    // Production defaults (2 s timeout, documented rates), not the fault matrix's fast settings.
    ...Object.fromEntries(
      ['IPSTACK', 'IPQUALITYSCORE', 'AUTOFOCUS', 'ABUSEIPDB'].flatMap((p) => [
        [`${p}_TIMEOUT_MS`, '2000'],
        [`${p}_RATE_PER_SECOND`, '5'],
        [`${p}_CONCURRENCY`, '4'],
      ]),
    ),
    ...(process.env.EXTRA_ENV !== undefined ? (JSON.parse(process.env.EXTRA_ENV) as Record<string, string>) : {}),
  });
  const rig = coldStart({ env, geo: await sharedGeo(), firehoseUrl: firehose.url });
  const records = [];
  for (let i = 0; i < unique; i += EVENTS_PER_RECORD) {
    const n = Math.min(EVENTS_PER_RECORD, unique - i);
    records.push(firehoseRecord(cloudWatchLogsData(Array.from({ length: n }, (_, k) => minimalEvent(i + k)))));
  }
  let peakRss = 0;
  let peakHeap = 0;
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 50);
  (globalThis as { gc?: () => void }).gc?.();
  const started = Date.now();
  const result = await rig.handler(firehoseEvent(records), lambdaContext(remainingMs));
  const wallMs = Date.now() - started;
  clearInterval(sample);
  const statuses: Record<string, number> = {};
  for (const r of result.records) {
    if (r.result !== 'Ok') {
      statuses[r.result] = (statuses[r.result] ?? 0) + 1;
      continue;
    }
    for (const line of outputLines(r.data ?? '')) {
      const s = String((line.enrichment as { status?: string }).status);
      statuses[s] = (statuses[s] ?? 0) + 1;
    }
  }
  const summary = rig.summaries.at(-1);
  const deadlineMs = remainingMs - RESERVE_MS;
  const out = {
    unique,
    version,
    remainingMs,
    wallMs,
    marginBeforeDeadlineMs: deadlineMs - wallMs,
    marginBeforeLambdaTimeoutMs: remainingMs - wallMs,
    peakRssMb: Math.round(peakRss / 1048576),
    peakHeapMb: Math.round(peakHeap / 1048576),
    providerRequests: providers.requests.length,
    reingested: firehose.records.length,
    statuses,
    lookup: summary?.lookup,
  };
  console.log(JSON.stringify(out));
  rig.close();
  await Promise.all([providers.close(), firehose.close()]);
  process.exit(wallMs <= deadlineMs ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error('unique-sources crashed:', err);
  process.exit(2);
});
