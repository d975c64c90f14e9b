/**
 * Soak: thousands of invocations of the real handler and stages against loopback providers, DynamoDB (dynalite behind
 * a fault proxy) and Firehose, with a mix of faults drawn per invocation. Re-ingested records are fed back as Firehose
 * would (mixed into later batches); a batch whose invocation threw is retried after the outage, as Firehose does.
 *
 *   npm run soak                       (SOAK_INVOCATIONS=2000, SOAK_MAX_SECONDS=300)
 *
 * Prints events in / delivered / re-ingested / lost / duplicated, memory at start, middle and end, and open handles;
 * exits 1 if any event is lost, or delivered more often than its documented causes allow (see SECURITY.md): every
 * extra copy must come from a PutRecordBatch call the endpoint accepted whose answer was lost (the connection was
 * reset, or our per-call timeout had already given up), or from an invocation that threw after acceptance so that
 * Firehose retried its batch. It also fails when the heap grows by more than SOAK_MAX_HEAP_GROWTH_MB (default 48)
 * between the warmed-up start and the end, sockets/timers keep growing, an invocation misses its deadline or a key
 * reaches output or logs. Faults include 50 MB provider bodies, providers echoing their keys, a hanging
 * PutRecordBatch and connections reset after PutRecordBatch accepted the entries. Loopback only; stops by itself.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord } from 'aws-lambda';
import { decodeEnvelope } from '../src/codec/envelope.ts';
import { ReingestionError } from '../src/errors.ts';
import {
  cloudTrailEvent,
  cloudWatchLogsData,
  firehoseEvent,
  firehoseRecord,
  lambdaContext,
  outputLines,
} from '../test/helpers/factories.ts';
import { startFirehoseServer } from '../test/helpers/loopback.ts';
import { startDynalite } from '../test/integration/lookup/dynalite.ts';
import { startFakeServer, type ScriptedResponse } from '../test/integration/lookup/fake-provider-server.ts';
import {
  DYNAMODB_ERRORS,
  KEYS,
  coldStart,
  eventKey,
  healthyAnswer,
  providerEnv,
  sharedGeo,
  startAwsJsonServer,
  type AwsReply,
} from '../test/integration/faults/support.ts';

const INVOCATIONS = Number(process.env.SOAK_INVOCATIONS ?? 2000);
const MAX_SECONDS = Number(process.env.SOAK_MAX_SECONDS ?? 300);
const MAX_HEAP_GROWTH_MB = Number(process.env.SOAK_MAX_HEAP_GROWTH_MB ?? 48);
const L1_MAX = 500;
/** Distinct public addresses drawn from: far more than the L1 holds, so the LRU bound is exercised. */
const IP_POOL = 20_000;
const TABLE = 'soak-ip-cache';

/** How the answer to a PutRecordBatch call the endpoint accepted ended. */
type Fate = 'answered' | 'reset' | 'client-gone';

type Fault =
  | 'healthy'
  | 'provider-500'
  | 'provider-429'
  | 'provider-garbage'
  | 'provider-timeouts'
  | 'dynamodb-throttled'
  | 'dynamodb-500'
  | 'firehose-entries'
  | 'firehose-outage'
  | 'deadline'
  | 'provider-50mb'
  | 'provider-echo-keys'
  | 'firehose-hang'
  | 'firehose-reset';

const WEIGHTS: [Fault, number][] = [
  ['healthy', 40],
  ['provider-500', 10],
  ['provider-429', 5],
  ['provider-garbage', 6],
  ['provider-timeouts', 3],
  ['dynamodb-throttled', 2],
  ['dynamodb-500', 6],
  ['firehose-entries', 15],
  ['firehose-outage', 8],
  ['deadline', 5],
  ['provider-50mb', 2],
  ['provider-echo-keys', 5],
  ['firehose-hang', 2],
  ['firehose-reset', 5],
];

/** A 50 MB provider answer (JSON whitespace then an object): the client must abort it at the 2 MB cap. */
const FIFTY_MB_BODY = ' '.repeat(50 * 1024 * 1024) + '{}';

// A small deterministic PRNG (mulberry32), so a failing soak can be replayed with SOAK_SEED.
let seed = Number(process.env.SOAK_SEED ?? 20261120) >>> 0;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

function drawFault(): Fault {
  const total = WEIGHTS.reduce((n, [, w]) => n + w, 0);
  let r = random() * total;
  for (const [fault, w] of WEIGHTS) if ((r -= w) < 0) return fault;
  return 'healthy';
}

function poolIp(): string {
  const n = Math.floor(random() * IP_POOL);
  return `81.${2 + Math.floor(n / 62_500)}.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
}

interface Snapshot {
  label: string;
  rssMb: number;
  heapMb: number;
  handles: Record<string, number>;
}

function snapshot(label: string): Snapshot {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const handles: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) handles[type] = (handles[type] ?? 0) + 1;
  return { label, rssMb: m.rss / 1048576, heapMb: m.heapUsed / 1048576, handles };
}

async function main(): Promise<void> {
  const started = Date.now();
  let fault: Fault = 'healthy';

  const providerAnswer = (req: Parameters<typeof healthyAnswer>[0]): ScriptedResponse => {
    switch (fault) {
      case 'provider-500':
        return random() < 0.7 ? { status: 500 } : healthyAnswer(req);
      case 'provider-429':
        return { status: 429, headers: random() < 0.5 ? { 'retry-after': '3600' } : {} };
      case 'provider-garbage':
        return { body: pick(['<html>oops</html>', '{"truncated":', '', '{"success":false,"message":"Invalid or unauthorized key"}']) };
      case 'provider-50mb':
        return random() < 0.3 ? { body: FIFTY_MB_BODY } : healthyAnswer(req);
      case 'provider-echo-keys': {
        // A provider that echoes the request (URL with the key, headers) in the fields we keep.
        const echo = `echo ${req.url} ${JSON.stringify(req.headers)}`;
        const body = healthyAnswer(req).body as Record<string, unknown>;
        return { body: { ...body, city: echo, ISP: echo, organization: echo, connection: { isp: echo } } };
      }
      case 'provider-timeouts':
      case 'deadline':
        return random() < 0.5 ? { hang: true } : { ...healthyAnswer(req), delayMs: 40 };
      default:
        return healthyAnswer(req);
    }
  };
  const providers = await startFakeServer(providerAnswer);
  const dynalite = await startDynalite([TABLE]);
  const dynamoFault = (): AwsReply => {
    if (fault === 'dynamodb-throttled')
      return { type: random() < 0.5 ? DYNAMODB_ERRORS.provisionedThroughputExceeded : DYNAMODB_ERRORS.throttling };
    if (fault === 'dynamodb-500') return { status: 500, type: DYNAMODB_ERRORS.internalServerError };
    return { forward: true };
  };
  const dynamo = await startAwsJsonServer('application/x-amz-json-1.0', dynamoFault, dynalite.endpoint);
  let outage = false;
  const firehose = await startFirehoseServer(
    () => (fault === 'firehose-entries' && random() < 0.15 ? pick(['ServiceUnavailableException', 'InternalFailure']) : undefined),
    () => (outage ? { status: 500, type: 'ServiceUnavailableException' } : undefined),
  );

  const env = providerEnv(providers.baseUrl, {
    CACHE_TABLE_NAME: TABLE,
    L1_CACHE_MAX_ENTRIES: String(L1_MAX),
    REINGEST_MAX_ATTEMPTS: '4',
    // A 6 s invocation: a 1.5 s per-call timeout leaves room for the loop to resend after a hung call, as the 5 s
    // default does in a Lambda with the 60 s+ timeouts Firehose transforms run with.
    REINGEST_CALL_TIMEOUT_MS: '1500',
    ...Object.fromEntries(
      ['IPSTACK', 'IPQUALITYSCORE', 'AUTOFOCUS', 'ABUSEIPDB'].flatMap((p) => [
        [`${p}_TIMEOUT_MS`, '150'],
        [`${p}_BREAKER_COOLDOWN_SECONDS`, '1'],
      ]),
    ),
  });
  // In front of the Firehose endpoint: during 'firehose-hang' a call is accepted and never answered; during
  // 'firehose-reset' a call is forwarded (its entries stored), then the connection is reset before the answer.
  // Every entry the endpoint accepted is recorded with the fate of its answer, so that each extra copy of an event
  // can be attributed to a documented cause: the answer was lost (reset, or our per-call timeout had already given
  // up on the call: the client was gone), or the invocation threw after acceptance and Firehose retried the batch.
  let resets = 0;
  let clientGone = 0;
  /** Per event: the fate of the answer of each call in which the endpoint accepted it. */
  const acceptedFates = new Map<string, Fate[]>();
  let keyLeaks = 0;
  const leaks = (text: string): number => Object.values(KEYS).filter((k) => text.includes(k)).length;
  const scan = (message: string, extra?: Record<string, unknown>): void => void (keyLeaks += leaks(message + JSON.stringify(extra ?? {})));
  const recordAccepted = (request: Buffer, answer: Buffer, fate: Fate): void => {
    const records = (JSON.parse(request.toString('utf8')) as { Records: { Data: string }[] }).Records;
    const responses = (JSON.parse(answer.toString('utf8')) as { RequestResponses?: { ErrorCode?: string }[] }).RequestResponses ?? [];
    for (const [i, r] of records.entries()) {
      if (responses[i] === undefined || responses[i].ErrorCode !== undefined) continue; // not accepted: not stored
      const envelope = decodeEnvelope(Buffer.from(r.Data, 'base64'), 64 * 1024 * 1024);
      if (!envelope.ok) continue;
      for (const line of envelope.value.body.toString('utf8').split('\n')) {
        if (line === '') continue;
        const id = eventKey(JSON.parse(line) as Record<string, unknown>);
        const fates = acceptedFates.get(id) ?? [];
        fates.push(fate);
        acceptedFates.set(id, fates);
      }
    }
  };
  const front = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (fault === 'firehose-hang' && random() < 0.5) return; // never answers (nothing stored); the client's per-call timeout ends it
      const upstream = httpRequest(firehose.url, { method: 'POST', headers: req.headers }, (up) => {
        const body: Buffer[] = [];
        up.on('data', (c: Buffer) => body.push(c));
        up.on('end', () => {
          const answer = Buffer.concat(body);
          const ok = up.statusCode === 200;
          if (fault === 'firehose-reset' && random() < 0.3) {
            // Accepted, response lost: our loop resends these entries (the documented duplicate).
            resets++;
            if (ok) recordAccepted(Buffer.concat(chunks), answer, 'reset');
            req.socket.destroy();
            return;
          }
          if (req.socket.destroyed) {
            // Our per-call timeout gave up while the endpoint was accepting: the answer has nowhere to go.
            clientGone++;
            if (ok) recordAccepted(Buffer.concat(chunks), answer, 'client-gone');
            return;
          }
          if (ok) recordAccepted(Buffer.concat(chunks), answer, 'answered');
          res.writeHead(up.statusCode ?? 500, up.headers);
          res.end(answer);
        });
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const rig = coldStart({
    env,
    geo: await sharedGeo(),
    firehoseUrl: frontUrl,
    dynamoUrl: dynamo.url,
    log: { debug: scan, info: scan, warn: scan, error: scan },
  });

  const expected = new Set<string>();
  const delivered = new Map<string, number>();
  let eventsIn = 0;
  let reingestedEvents = 0;
  let throws = 0;
  let retriedBatches = 0;
  let failedRecords = 0;
  let invocations = 0;
  let partial = 0;
  /** Events in entries accepted by an invocation that then threw, and how often (each may add one copy). */
  const atLeastOnce = new Map<string, number>();
  const faultsSeen: Partial<Record<Fault, number>> = {};
  const backlog: FirehoseTransformationEventRecord[] = [];
  const snapshots: Snapshot[] = [];

  const newRecords = (): FirehoseTransformationEventRecord[] => {
    const out: FirehoseTransformationEventRecord[] = [];
    const n = 1 + Math.floor(random() * 4);
    for (let r = 0; r < n; r++) {
      if (random() < 0.05) {
        out.push(firehoseRecord(Buffer.from([0xfe, Math.floor(random() * 256)]).toString('base64')));
        continue;
      }
      const events = Array.from({ length: 1 + Math.floor(random() * 12) }, () =>
        cloudTrailEvent({
          sourceIPAddress: random() < 0.8 ? poolIp() : pick(['10.1.2.3', 'AWS Internal', 'ec2.amazonaws.com', '192.0.2.1']),
          awsRegion: random() < 0.7 ? 'us-east-1' : pick(['eu-west-1', 'ap-southeast-2']),
          recipientAccountId: random() < 0.9 ? '111122223333' : '444455556666',
          userAgent: 'x'.repeat(Math.floor(random() * 2000)),
        }),
      );
      for (const e of events) expected.add(String(e.eventID));
      eventsIn += events.length;
      out.push(firehoseRecord(cloudWatchLogsData(events.map((e) => JSON.stringify(e)))));
    }
    return out;
  };

  let missedDeadlines = 0;
  const invoke = async (event: FirehoseTransformationEvent, remainingMs: number): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      invocations++;
      const t0 = Date.now();
      try {
        const result = await rig.handler(event, lambdaContext(remainingMs)).finally(() => {
          if (Date.now() - t0 > remainingMs) missedDeadlines++;
        });
        keyLeaks += leaks(result.records.map((r) => Buffer.from(r.data ?? '', 'base64').toString('utf8')).join('\n'));
        for (const [i, out] of result.records.entries()) {
          if (out.recordId !== event.records[i]!.recordId) throw new Error('recordId order broken');
          if (out.result === 'ProcessingFailed') failedRecords++;
          if (out.result !== 'Ok') continue;
          for (const line of outputLines(out.data ?? '')) {
            const id = eventKey(line);
            delivered.set(id, (delivered.get(id) ?? 0) + 1);
            if ((line.enrichment as { status?: string }).status === 'partial') partial++;
          }
        }
        const summary = rig.summaries.at(-1)!;
        reingestedEvents += summary.eventsReingested + summary.passthroughDeferred;
        break;
      } catch (err) {
        if (!(err instanceof ReingestionError)) throw err;
        throws++;
        // Entries accepted before re-ingestion was exhausted are delivered, and the retried batch re-ingests them
        // again: the documented at-least-once case. Record exactly which events that makes duplicates of.
        const accepted = new Set<string>();
        for (const r of firehose.drain()) {
          backlog.push(firehoseRecord(r.data.toString('base64')));
          const envelope = decodeEnvelope(r.data, 64 * 1024 * 1024);
          if (!envelope.ok) throw new Error(`re-ingested record is not an envelope: ${envelope.error}`);
          for (const line of envelope.value.body.toString('utf8').split('\n'))
            if (line !== '') accepted.add(eventKey(JSON.parse(line) as Record<string, unknown>));
        }
        for (const id of accepted) atLeastOnce.set(id, (atLeastOnce.get(id) ?? 0) + 1);
        // Firehose retries the batch (NumberOfRetries, default 3) later; the fault is over by then.
        outage = false;
        fault = 'healthy';
        if (attempt >= 3) throw err;
        retriedBatches++;
      }
    }
    for (const r of firehose.drain()) backlog.push(firehoseRecord(r.data.toString('base64')));
  };

  let i = 0;
  for (; i < INVOCATIONS && (Date.now() - started) / 1000 < MAX_SECONDS; i++) {
    fault = drawFault();
    faultsSeen[fault] = (faultsSeen[fault] ?? 0) + 1;
    outage = fault === 'firehose-outage';
    const records = [...backlog.splice(0, 20), ...newRecords()];
    await invoke(firehoseEvent(records), fault === 'deadline' ? 2500 : 6000);
    if (i === 50) snapshots.push(snapshot('start (after 50 warm-up invocations)'));
    if (i === Math.floor(INVOCATIONS / 2)) snapshots.push(snapshot('middle'));
  }
  // Drain whatever is still in the stream, healthy.
  fault = 'healthy';
  outage = false;
  while (backlog.length > 0) await invoke(firehoseEvent(backlog.splice(0, 50)), 6000);
  snapshots.push(snapshot('end'));

  rig.close();
  front.closeAllConnections();
  await new Promise<void>((resolve) => front.close(() => resolve()));
  await Promise.all([providers.close(), dynamo.close(), dynalite.close(), firehose.close()]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  snapshots.push(snapshot('after closing the loopback services'));

  const lost = [...expected].filter((id) => !delivered.has(id)).length;
  const duplicates = [...delivered].filter(([, n]) => n > 1);
  const duplicated = duplicates.length;
  // Each copy beyond the first must have a documented cause: an accepted call whose answer was lost (reset, or the
  // client had already timed out), or an invocation that threw after acceptance (Firehose retried its batch).
  const lostAnswers = (id: string, fate: Fate): number => (acceptedFates.get(id) ?? []).filter((f) => f === fate).length;
  let extraByReset = 0;
  let extraByTimeout = 0;
  let extraByRetry = 0;
  let unexplained = 0;
  for (const [id, n] of duplicates) {
    let extra = n - 1;
    const take = (available: number): number => {
      const used = Math.min(extra, available);
      extra -= used;
      return used;
    };
    extraByReset += take(lostAnswers(id, 'reset'));
    extraByTimeout += take(lostAnswers(id, 'client-gone'));
    extraByRetry += take(atLeastOnce.get(id) ?? 0);
    if (extra > 0) unexplained++;
  }
  const unexpected = [...delivered.keys()].filter((id) => !expected.has(id)).length;
  const seconds = (Date.now() - started) / 1000;
  const start = snapshots[0]!;
  const end = snapshots.find((s) => s.label === 'end')!;
  const heapGrowth = end.heapMb - start.heapMb;
  const sockets = (s: Snapshot) => s.handles.TCPSocketWrap ?? 0;
  const timers = (s: Snapshot) => s.handles.Timeout ?? 0;
  const after = snapshots.at(-1)!;

  const perMillion = (n: number): string => ((n / Math.max(1, eventsIn)) * 1e6).toFixed(0);
  const rows: [string, string | number][] = [
    ['batches (soak loop)', i],
    ['invocations (incl. re-ingested and retried)', invocations],
    ['handler throws (re-ingestion exhausted → batch retried)', `${throws} (${retriedBatches} retried)`],
    ['events in', eventsIn],
    ['events delivered (unique)', delivered.size],
    ['events re-ingested (then delivered later)', reingestedEvents],
    ['events partial (delivered with status partial)', partial],
    ['records ProcessingFailed (garbage input)', failedRecords],
    ['LOST', lost],
    ['DUPLICATED (events delivered more than once)', duplicated],
    ['  extra copies after a connection reset following acceptance (answer lost)', extraByReset],
    ['  extra copies after our per-call timeout gave up on an accepted call (answer lost)', extraByTimeout],
    ['  extra copies after an exhausted re-ingestion (accepted, then the batch retried)', extraByRetry],
    ['  events duplicated by no documented cause (must be 0)', unexplained],
    ['PutRecordBatch calls accepted, then reset / answered after the client gave up', `${resets} / ${clientGone}`],
    ['duplicates per million events (all causes)', perMillion(duplicated)],
    [
      'extra copies per million events: resets / per-call timeouts / retried batches',
      `${perMillion(extraByReset)} / ${perMillion(extraByTimeout)} / ${perMillion(extraByRetry)}`,
    ],
    ['missed deadlines (invocation longer than its remaining time)', missedDeadlines],
    ['API keys found in output records or logs', keyLeaks],
    ['unexpected', unexpected],
    ['wall time, s', seconds.toFixed(1)],
  ];
  console.log('\nsoak: faults drawn per invocation', JSON.stringify(faultsSeen));
  console.log('\n| metric | value |\n| --- | --- |');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  console.log('\n| when | RSS MB | heap MB | sockets | timers | all handles |\n| --- | --- | --- | --- | --- | --- |');
  for (const s of snapshots) {
    console.log(
      `| ${s.label} | ${s.rssMb.toFixed(1)} | ${s.heapMb.toFixed(1)} | ${sockets(s)} | ${timers(s)} | ${JSON.stringify(s.handles)} |`,
    );
  }

  const problems: string[] = [];
  if (lost > 0) problems.push(`${lost} events lost`);
  if (unexplained > 0) problems.push(`${unexplained} events duplicated by no documented cause`);
  if (unexpected > 0) problems.push(`${unexpected} unexpected events`);
  if (missedDeadlines > 0) problems.push(`${missedDeadlines} invocations missed their deadline`);
  if (keyLeaks > 0) problems.push(`${keyLeaks} API keys found in output or logs`);
  if (heapGrowth > MAX_HEAP_GROWTH_MB) problems.push(`heap grew ${heapGrowth.toFixed(1)} MB (bound ${MAX_HEAP_GROWTH_MB} MB)`);
  // Keep-alive pools and in-flight hung requests are bounded; only growth beyond them indicates a leak.
  if (sockets(end) > sockets(start) + 32) problems.push(`sockets grew ${sockets(start)} → ${sockets(end)}`);
  if (timers(end) > timers(start) + 16) problems.push(`timers grew ${timers(start)} → ${timers(end)}`);
  if (sockets(after) > 0) problems.push(`${sockets(after)} sockets still open after every service closed`);
  console.log(
    `\nheap growth start → end: ${heapGrowth.toFixed(1)} MB (bound ${MAX_HEAP_GROWTH_MB} MB); L1 bound ${L1_MAX} entries over ${IP_POOL} distinct addresses`,
  );
  if (problems.length > 0) {
    console.error(`soak FAILED: ${problems.join('; ')}`);
    process.exit(1);
  }
  console.log('soak passed: nothing lost, no unexplained duplicate, memory and handles flat');
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error('soak crashed:', err);
  process.exit(2);
});
