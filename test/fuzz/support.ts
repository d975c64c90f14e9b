/**
 * The rig of the hostile-input properties: the real handler and stages (rules, offline geo, all four providers on a
 * loopback server that records every request), re-ingestion into an in-memory stream fed back as Firehose would,
 * and every log entry captured. FUZZ_RUNS sets the number of runs per property (npm run test:fuzz: 10,000).
 */
import { expect } from 'chai';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import ipaddr from 'ipaddr.js';
import { loadConfig } from '../../src/config/index.ts';
import { LAMBDA_RESPONSE_LIMIT } from '../../src/8-deliver/limits.ts';
import { createTransformHandler, type TransformHandler } from '../../src/pipeline/handler.ts';
import { buildStages } from '../../src/pipeline/stages.ts';
import type { InvocationSummary } from '../../src/pipeline/transform.ts';
import { firehoseEvent, firehoseRecord, lambdaContext } from '../helpers/factories.ts';
import { MemorySink } from '../helpers/sinks.ts';
import { startFakeServer, type FakeServer } from '../integration/lookup/fake-provider-server.ts';
import { capturingLog, healthyAnswer, providerEnv, routeOf, sharedGeo } from '../integration/faults/support.ts';

/** Runs per property; the CI default keeps the whole fuzz folder within ~30 s. */
export const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 200));
/** For properties whose single run is expensive (multi-megabyte inputs). */
export const HEAVY_RUNS = Math.max(1, Math.min(RUNS, Math.ceil(RUNS / 50)));

export interface FuzzRig {
  readonly handler: TransformHandler;
  readonly sink: MemorySink;
  readonly providers: FakeServer;
  readonly logs: string[];
  readonly summaries: InvocationSummary[];
  close(): Promise<void>;
}

export async function startFuzzRig(extraEnv: Record<string, string> = {}): Promise<FuzzRig> {
  const providers = await startFakeServer(healthyAnswer);
  const logs: string[] = [];
  const summaries: InvocationSummary[] = [];
  const config = loadConfig(providerEnv(providers.baseUrl, { REINGEST_BASE_DELAY_MS: '0', REINGEST_MAX_DELAY_MS: '0', ...extraEnv }));
  const log = capturingLog(logs);
  const stages = buildStages(config, { geo: await sharedGeo(), log });
  const sink = new MemorySink();
  const handler = createTransformHandler({
    config: config.core,
    intel: stages.intel,
    rules: stages.rules,
    firehose: () => {
      throw new Error('the fuzz rig re-ingests into a MemorySink');
    },
    kinesis: () => {
      throw new Error('the fuzz rig re-ingests into a MemorySink');
    },
    sinkFor: () => sink,
    log,
    onSummary: (s) => summaries.push(s),
  });
  await stages.intel;
  return { handler, sink, providers, logs, summaries, close: () => providers.close() };
}

export interface Round {
  readonly event: FirehoseTransformationEvent;
  readonly result: FirehoseTransformationResult;
}

/** Invokes the handler, then feeds back what it re-ingested until nothing is (as Firehose would). Never retries a throw. */
export async function runToDrained(rig: FuzzRig, first: FirehoseTransformationEvent, maxRounds = 30): Promise<Round[]> {
  // Each run is judged on its own logs and requests (and the captures stay small over 10,000 runs).
  rig.logs.length = 0;
  rig.providers.requests.length = 0;
  rig.summaries.length = 0;
  const rounds: Round[] = [];
  let event = first;
  for (let i = 0; i < maxRounds; i++) {
    const result = await rig.handler(event, lambdaContext(60_000));
    rounds.push({ event, result });
    const back = rig.sink.drain();
    if (back.length === 0) return rounds;
    event = firehoseEvent(back.map((r) => firehoseRecord(r.data.toString('base64'))));
  }
  throw new Error(`re-ingestion did not terminate within ${maxRounds} rounds`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
const prototypeSnapshot = PROTOTYPES.map((p) => Object.getOwnPropertyNames(p).sort().join(','));

/** Each output line with the partition keys of its record. */
export interface OutLine {
  readonly doc: Record<string, unknown>;
  readonly text: string;
  readonly keys?: Record<string, string>;
  readonly round: number;
}

/**
 * Checks what every response must satisfy whatever the input, and returns every delivered line:
 * each recordId once and in order; ProcessingFailed data unchanged; Ok data canonical base64 of valid UTF-8 NDJSON,
 * every line one JSON object with `enrichment.version: 1`; safe partition keys; no prototype polluted.
 */
export function checkRounds(rounds: readonly Round[]): OutLine[] {
  const lines: OutLine[] = [];
  for (const [n, { event, result }] of rounds.entries()) {
    expect(result.records.map((r) => r.recordId)).to.deep.equal(event.records.map((r) => r.recordId));
    expect(JSON.stringify(result).length).to.be.at.most(LAMBDA_RESPONSE_LIMIT);
    for (const [i, out] of result.records.entries()) {
      expect(out.data).to.be.a('string');
      if (out.result === 'ProcessingFailed') {
        expect(out.data).to.equal(event.records[i]!.data);
        continue;
      }
      if (out.result === 'Dropped') continue;
      expect(out.result).to.equal('Ok');
      expect(out.data).to.match(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
      const bytes = Buffer.from(out.data!, 'base64');
      const text = utf8.decode(bytes); // throws on invalid UTF-8
      expect(text.endsWith('\n'), 'S3 records are newline-terminated NDJSON').to.equal(true);
      const keys = out.metadata?.partitionKeys;
      expect(keys).to.not.equal(undefined);
      expectSafePartitionKeys(keys!);
      for (const line of text.slice(0, -1).split('\n')) {
        const doc = JSON.parse(line) as Record<string, unknown>;
        expect(doc).to.be.an('object');
        expect((doc.enrichment as { version?: unknown }).version).to.equal(1);
        lines.push({ doc, text: line, keys, round: n });
      }
    }
  }
  expectNoPrototypePollution();
  return lines;
}

export function expectNoPrototypePollution(): void {
  expect(PROTOTYPES.map((p) => Object.getOwnPropertyNames(p).sort().join(','))).to.deep.equal(prototypeSnapshot);
  expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  expect(Object.getPrototypeOf({})).to.equal(Object.prototype);
}

export const REGION_GRAMMAR =
  /^(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc)-(?:north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/;

/** Partition values can neither escape the prefix nor take values outside a bounded grammar. */
export function expectSafePartitionKeys(keys: Record<string, string>, allowlist?: ReadonlySet<string>): void {
  expect(Object.keys(keys).sort()).to.deep.equal(['account', 'dt', 'region']);
  if (allowlist === undefined) expect(keys.account).to.match(/^(\d{12}|unknown|other)$/);
  else expect(allowlist.has(keys.account!) || keys.account === 'unknown' || keys.account === 'other', keys.account).to.equal(true);
  expect(keys.region === 'unknown' || REGION_GRAMMAR.test(keys.region!), keys.region).to.equal(true);
  expect(keys.dt).to.match(/^\d{4}-\d{2}-\d{2}$/);
  expect(keys.dt! >= '2013-11-01', keys.dt).to.equal(true);
}

/**
 * The privacy oracle, independent of src/classify: the only addresses a provider may be asked about are strict
 * dotted-quad IPv4 or zone-less IPv6 whose ipaddr.js range is `unicast` (IPv6 within 2000::/3), and the request
 * must carry nothing else from the event (no extra path segment or parameter).
 */
export function expectOnlyPublicUnicastSent(rig: FuzzRig): void {
  for (const req of rig.providers.requests) {
    const { provider, ip } = routeOf(req);
    expect(isStrictPublicUnicast(ip), `${provider} was asked about ${JSON.stringify(ip)}`).to.equal(true);
    const params = [...req.query.keys()].sort().join(',');
    const expected = {
      ipstack: 'access_key',
      ipqualityscore: 'allow_public_access_points,strictness',
      autofocus: 'includeTags,indicatorType,indicatorValue',
      abuseipdb: 'ipAddress,maxAgeInDays',
    }[provider];
    expect(params, `${provider} query`).to.equal(expected);
    const segments = req.path.split('/').length;
    expect(segments, req.path).to.equal({ ipstack: 3, ipqualityscore: 7, autofocus: 5, abuseipdb: 5 }[provider]);
  }
}

export function isStrictPublicUnicast(ip: string): boolean {
  if (ipaddr.IPv4.isValidFourPartDecimal(ip)) return ipaddr.IPv4.parse(ip).range() === 'unicast';
  if (!/^[0-9a-f:.]+$/i.test(ip) || !ipaddr.IPv6.isValid(ip)) return false;
  const v6 = ipaddr.IPv6.parse(ip);
  return v6.range() === 'unicast' && (v6.parts[0]! & 0xe000) === 0x2000;
}

/** No log entry carries `marker` (attacker text never reaches the logs), and every entry is one line. */
export function expectLogsClean(rig: FuzzRig, markers: readonly string[]): void {
  for (const line of rig.logs) {
    expect(line.includes('\n') || line.includes('\r'), 'a log entry spans lines').to.equal(false);
    for (const m of markers) expect(line.includes(m), `log entry carries attacker text ${m}: ${line.slice(0, 300)}`).to.equal(false);
  }
}
