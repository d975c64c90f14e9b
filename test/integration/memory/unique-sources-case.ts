/**
 * One "many unique sources" case: the real handler (the fault-matrix rig) as a cold container with an empty cache,
 * every provider enabled on a loopback server that never answers (production timeouts, rates and concurrency), and
 * a batch of minimal events each from its own source address. The first invocation is timed against Lambda's
 * deadline (`getRemainingTimeInMillis`); what it re-ingested is then fed back (as Firehose does) until nothing is
 * left, so every event is accounted for: delivered once, `complete` or `partial`, or in a `ProcessingFailed` record.
 * Shared by `npm run unique-sources` (scripts/unique-sources.ts) and the CI test next to this file.
 */
import { readFileSync } from 'node:fs';
import { startFirehoseServer } from '../../helpers/loopback.ts';
import { cloudWatchLogsData, firehoseEvent, firehoseRecord, lambdaContext, outputLines } from '../../helpers/factories.ts';
import { startFakeServer } from '../lookup/fake-provider-server.ts';
import { coldStart, providerEnv, sharedGeo } from '../faults/support.ts';

export type AddressFamily = '4' | '6' | '64';

export interface UniqueSourcesCase {
  readonly unique: number;
  /** 4, 6 (each address in its own /64) or 64 (every address in one IPv6 /64). */
  readonly version: AddressFamily;
  /** Lambda's remaining time at the start of the invocation, ms. */
  readonly remainingMs: number;
  readonly responseReserveMs?: number;
  readonly extraEnv?: Record<string, string>;
}

export interface UniqueSourcesResult {
  readonly unique: number;
  readonly version: AddressFamily;
  readonly remainingMs: number;
  /** ms after the start of the first invocation when it answered (or threw). */
  readonly answeredAtMs: number;
  /** Lambda deadline minus answeredAtMs (negative: missed). */
  readonly marginMs: number;
  /** The handler's own deadline (remaining − RESPONSE_RESERVE_MS) minus answeredAtMs. */
  readonly marginBeforeReserveMs: number;
  /** An error the first invocation threw (then Firehose would retry the whole batch). */
  readonly threw?: string;
  /** Later invocations (re-ingested envelopes): the slowest one's margin before its Lambda deadline. */
  readonly laterInvocations: number;
  readonly laterMinMarginMs: number | null;
  /** VmHWM of this process (/proc/self/status), MB. */
  readonly peakRssMb: number;
  readonly providerRequests: number;
  /** Records of the first response by result. */
  readonly records: Record<string, number>;
  /** Events: complete/partial (delivered once, in any invocation), failed (inside ProcessingFailed records). */
  readonly events: { complete: number; partial: number; failed: number; lost: number; duplicated: number };
  readonly lookup: unknown;
}

const EVENTS_PER_RECORD = 500;

function address(version: AddressFamily, i: number): string {
  if (version === '4') return `${11 + Math.floor(i / 65_000)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}.${7 + (i % 3)}`;
  if (version === '64') return `2400:cb00:1:2:0:0:${Math.floor(i / 65_536).toString(16)}:${(i % 65_536).toString(16)}`;
  // Every address in its own /64 (2400::/12 is APNIC space: global unicast).
  return `2400:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}:1::1`;
}

function minimalEvent(version: AddressFamily, i: number): string {
  return JSON.stringify({
    eventVersion: '1.09',
    eventTime: '2026-11-20T14:03:21Z',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-1',
    sourceIPAddress: address(version, i),
    eventID: `u-${i}`,
    recipientAccountId: '111122223333',
  });
}

/** Peak resident set of this process image (VmHWM starts afresh at exec, unlike getrusage's maxRSS). */
export function peakRssMb(): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm !== null ? Math.round(Number(hwm[1]) / 1024) : Math.round(process.resourceUsage().maxRSS / 1024);
}

export async function runUniqueSourcesCase(c: UniqueSourcesCase): Promise<UniqueSourcesResult> {
  const reserve = c.responseReserveMs ?? 2000;
  const providers = await startFakeServer(() => ({ hang: true }));
  const firehose = await startFirehoseServer();
  const env = providerEnv(providers.baseUrl, {
    RESPONSE_RESERVE_MS: String(reserve),
    // Production defaults (2 s timeout, documented rates), not the fault matrix's fast settings.
    ...Object.fromEntries(
      ['IPSTACK', 'IPQUALITYSCORE', 'AUTOFOCUS', 'ABUSEIPDB'].flatMap((p) => [
        [`${p}_TIMEOUT_MS`, '2000'],
        [`${p}_RATE_PER_SECOND`, '5'],
        [`${p}_CONCURRENCY`, '4'],
      ]),
    ),
    ...c.extraEnv,
  });
  const rig = coldStart({ env, geo: await sharedGeo(), firehoseUrl: firehose.url });
  try {
    const records = [];
    const eventsOf = new Map<string, number>();
    for (let i = 0; i < c.unique; i += EVENTS_PER_RECORD) {
      const n = Math.min(EVENTS_PER_RECORD, c.unique - i);
      const record = firehoseRecord(cloudWatchLogsData(Array.from({ length: n }, (_, k) => minimalEvent(c.version, i + k))));
      eventsOf.set(record.recordId, n);
      records.push(record);
    }
    (globalThis as { gc?: () => void }).gc?.();

    const seen = new Map<string, number>();
    const events = { complete: 0, partial: 0, failed: 0, lost: 0, duplicated: 0 };
    const count = (result: Awaited<ReturnType<typeof rig.handler>>, tally?: Record<string, number>): void => {
      for (const r of result.records) {
        if (tally !== undefined) tally[r.result] = (tally[r.result] ?? 0) + 1;
        if (r.result === 'ProcessingFailed') {
          // An input record comes back with its data (its events then go to the error prefix); a re-ingested
          // envelope that fails later carries events already counted as delivered nowhere, so they count as lost.
          events.failed += eventsOf.get(r.recordId) ?? 0;
          continue;
        }
        if (r.result !== 'Ok') continue;
        for (const line of outputLines(r.data ?? '')) {
          const id = String(line.eventID);
          seen.set(id, (seen.get(id) ?? 0) + 1);
          if ((line.enrichment as { status?: string }).status === 'complete') events.complete++;
          else events.partial++;
        }
      }
    };

    const first = Date.now();
    let threw: string | undefined;
    const tally: Record<string, number> = {};
    try {
      count(await rig.handler(firehoseEvent(records), lambdaContext(c.remainingMs)), tally);
    } catch (err) {
      threw = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    const answeredAtMs = Date.now() - first;
    const rss = peakRssMb();
    const lookup = rig.summaries.at(-1)?.lookup;

    let laterInvocations = 0;
    let laterMinMarginMs: number | null = null;
    for (let back = firehose.drain(); back.length > 0 && threw === undefined; back = firehose.drain()) {
      if (++laterInvocations > 50) throw new Error('re-ingestion does not terminate');
      const started = Date.now();
      count(await rig.handler(firehoseEvent(back.map((r) => firehoseRecord(r.data.toString('base64')))), lambdaContext(c.remainingMs)));
      const margin = c.remainingMs - (Date.now() - started);
      laterMinMarginMs = laterMinMarginMs === null ? margin : Math.min(laterMinMarginMs, margin);
    }
    if (threw === undefined) {
      for (let i = 0; i < c.unique; i++) {
        const n = seen.get(`u-${i}`) ?? 0;
        if (n === 0) events.lost++;
        else if (n > 1) events.duplicated++;
      }
      if (events.failed > 0) events.lost -= Math.min(events.lost, events.failed);
    }
    return {
      unique: c.unique,
      version: c.version,
      remainingMs: c.remainingMs,
      answeredAtMs,
      marginMs: c.remainingMs - answeredAtMs,
      marginBeforeReserveMs: c.remainingMs - reserve - answeredAtMs,
      ...(threw !== undefined ? { threw } : {}),
      laterInvocations,
      laterMinMarginMs,
      peakRssMb: rss,
      providerRequests: providers.requests.length,
      records: tally,
      events,
      lookup,
    };
  } finally {
    rig.close();
    await Promise.all([providers.close(), firehose.close()]);
  }
}
