/**
 * Shared rig of the fault matrix, the secrets test and the soak: the real handler (`createTransformHandler` around
 * `buildStages(loadConfig(env), deps)`) with every dependency on loopback, each able to misbehave on demand:
 * - the four providers: one scripted server (`startFakeServer`), each provider under its own path prefix;
 * - DynamoDB: dynalite behind a fault-injecting proxy that speaks the DynamoDB JSON 1.0 wire format;
 * - SSM Parameter Store and Secrets Manager: one loopback server speaking their JSON 1.1 protocol;
 * - Firehose: `startFirehoseServer` (PutRecordBatch with per-entry and per-call failures).
 */
import { gzipSync } from 'node:zlib';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { loadConfig, type Env } from '../../../src/config/index.ts';
import type { GeoDatabase } from '../../../src/3-lookup/geo/geo-database.ts';
import type { Log } from '../../../src/model.ts';
import { REINGEST_CLIENT_CONFIG } from '../../../src/8-deliver/sinks.ts';
import { createTransformHandler, type TransformHandler } from '../../../src/pipeline/handler.ts';
import { buildStages } from '../../../src/pipeline/stages.ts';
import type { InvocationSummary } from '../../../src/pipeline/transform.ts';
import {
  cloudTrailEvent,
  cloudWatchLogsData,
  firehoseEvent,
  firehoseRecord,
  lambdaContext,
  outputLines,
  plainData,
} from '../../helpers/factories.ts';
import {
  documented,
  PROVIDER_ROUTES,
  routeOf,
  type ProviderRoute,
  type RecordedRequest,
  type ScriptedResponse,
} from '../lookup/fake-provider-server.ts';

export const KEYS = {
  IPSTACK: 'ipstk-SECRET-0a1b2c3d4e5f60718293',
  IPQUALITYSCORE: 'ipqs-SECRET-9f8e7d6c5b4a39281706',
  AUTOFOCUS: 'afocus-SECRET-1122334455667788aabb',
  ABUSEIPDB: 'abuse-SECRET-ffeeddccbbaa00998877',
} as const;

export { PROVIDER_ROUTES, healthyAnswer, routeOf, type ProviderRoute } from '../lookup/fake-provider-server.ts';

const PREFIX: Record<ProviderRoute, string> = {
  ipstack: '/ipstack',
  ipqualityscore: '/ipqs',
  autofocus: '/autofocus',
  abuseipdb: '/abuseipdb',
};

/** Each provider's documented way of reporting an error with HTTP 200 (a rejected key). */
export function errorAs200(req: RecordedRequest): ScriptedResponse {
  switch (routeOf(req).provider) {
    case 'ipstack':
      return { body: documented.ipstackError(101, 'invalid_access_key') };
    case 'ipqualityscore':
      return { body: documented.ipqualityscoreError('You have insufficient credits or an invalid key. Please check your account.') };
    case 'autofocus':
      return { body: { message: 'Invalid API key' } };
    case 'abuseipdb':
      return { body: documented.abuseipdbError(401, 'Authentication failed. Your API key is either missing, incorrect, or revoked.') };
  }
}

/**
 * Environment of a local run with every provider enabled against `providerBase` (plain keys: the local-run form),
 * fast enough for tests: short timeouts, one retry, no rate limit in the way.
 */
export function providerEnv(providerBase: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of PROVIDER_ROUTES) {
    const P = p.toUpperCase() as keyof typeof KEYS;
    env[`${P}_ENABLED`] = 'true';
    env[`${P}_API_KEY`] = KEYS[P];
    env[`${P}_BASE_URL`] = `${providerBase}${PREFIX[p]}`;
    env[`${P}_TIMEOUT_MS`] = '300';
    env[`${P}_MAX_RETRIES`] = '1';
    env[`${P}_RATE_PER_SECOND`] = '10000';
    env[`${P}_CONCURRENCY`] = '16';
  }
  return { REINGEST_BASE_DELAY_MS: '1', REINGEST_MAX_DELAY_MS: '10', REINGEST_MAX_ATTEMPTS: '3', ...env, ...extra };
}

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDLOOPBACKTEST', secretAccessKey: 'loopback-secret-access-key' };

export interface Rig {
  readonly handler: TransformHandler;
  readonly summaries: InvocationSummary[];
  readonly close: () => void;
}

export interface RigOptions {
  readonly env: Env;
  readonly geo: GeoDatabase;
  readonly firehoseUrl: string;
  readonly dynamoUrl?: string;
  readonly keyStoreUrl?: string;
  readonly log?: Log;
}

/**
 * A cold start: the configuration parsed from `env`, the real stages built with the same client settings as
 * handlers/transform.ts (SDK endpoints pointed at loopback), and the handler around them.
 */
export function coldStart(options: RigOptions): Rig {
  const aws = { region: 'us-east-1', credentials: TEST_CREDENTIALS };
  const config = loadConfig(options.env);
  const dynamoDb = options.dynamoUrl === undefined ? undefined : new DynamoDBClient({ ...aws, endpoint: options.dynamoUrl });
  const ssm = options.keyStoreUrl === undefined ? undefined : new SSMClient({ ...aws, endpoint: options.keyStoreUrl });
  const secretsManager =
    options.keyStoreUrl === undefined ? undefined : new SecretsManagerClient({ ...aws, endpoint: options.keyStoreUrl });
  const stages = buildStages(config, {
    geo: options.geo,
    ...(options.log !== undefined ? { log: options.log } : {}),
    ...(dynamoDb !== undefined ? { dynamoDb } : {}),
    ...(ssm !== undefined ? { ssm } : {}),
    ...(secretsManager !== undefined ? { secretsManager } : {}),
  });
  const firehose = new FirehoseClient({ ...aws, endpoint: options.firehoseUrl, ...REINGEST_CLIENT_CONFIG });
  let kinesis: KinesisClient | undefined;
  const summaries: InvocationSummary[] = [];
  const handler = createTransformHandler({
    config: config.core,
    intel: stages.intel,
    rules: stages.rules,
    firehose: () => firehose,
    kinesis: () => (kinesis ??= new KinesisClient({ ...aws, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 })),
    ...(options.log !== undefined ? { log: options.log } : {}),
    onSummary: (s) => summaries.push(s),
  });
  return {
    handler,
    summaries,
    close: () => {
      firehose.destroy();
      kinesis?.destroy();
      dynamoDb?.destroy();
      ssm?.destroy();
      secretsManager?.destroy();
    },
  };
}

/** One event as it came out: its line and the output record's result. */
export interface Delivered {
  readonly line: Record<string, unknown>;
  readonly partitionKeys: Record<string, string> | undefined;
}

export interface DriveOutcome {
  /** Every delivered line, by eventID (or skipped-line token); length > 1 means a duplicate. */
  readonly delivered: Map<string, Delivered[]>;
  readonly invocations: number;
  /** Invocations that threw (each followed by a Firehose-style retry of the same batch). */
  readonly thrown: Error[];
  /** The records of the first invocation's response. */
  readonly first: FirehoseTransformationResult;
  /** Wall time of each invocation, ms (only to check the handler answered within its Lambda time). */
  readonly durations: number[];
}

export interface StreamLike {
  drain(): { data: Buffer }[];
}

/**
 * Plays Firehose: invokes the handler with `first`, checks that every recordId comes back exactly once, feeds
 * whatever was re-ingested back in as later invocations, and retries a batch whose invocation threw (as
 * Firehose does, `NumberOfRetries` times) after calling `beforeRetry` (e.g. to end an outage).
 */
export async function drive(
  handler: TransformHandler,
  first: FirehoseTransformationEvent,
  stream: StreamLike,
  options: { remainingMs?: number; maxRetries?: number; beforeRetry?: (attempt: number) => void; maxInvocations?: number } = {},
): Promise<DriveOutcome> {
  const delivered = new Map<string, Delivered[]>();
  const thrown: Error[] = [];
  const durations: number[] = [];
  let firstResult: FirehoseTransformationResult | undefined;
  const queue: FirehoseTransformationEvent[] = [first];
  let invocations = 0;
  while (queue.length > 0) {
    const event = queue.shift()!;
    let result: FirehoseTransformationResult | undefined;
    for (let attempt = 0; result === undefined; attempt++) {
      if (++invocations > (options.maxInvocations ?? 50)) throw new Error('too many invocations: re-ingestion does not terminate');
      const started = Date.now();
      try {
        result = await handler(event, lambdaContext(options.remainingMs ?? 60_000));
      } catch (err) {
        thrown.push(err as Error);
        if (attempt >= (options.maxRetries ?? 3)) throw err;
        options.beforeRetry?.(attempt + 1);
      } finally {
        durations.push(Date.now() - started);
      }
    }
    firstResult ??= result;
    assertEveryRecordIdOnce(event, result);
    for (const [i, out] of result.records.entries()) {
      if (out.result === 'ProcessingFailed' && out.data !== event.records[i]!.data)
        throw new Error(`ProcessingFailed record ${out.recordId} changed its data`);
      if (out.result !== 'Ok') continue;
      for (const line of outputLines(out.data ?? '')) {
        const id = eventKey(line);
        const list = delivered.get(id) ?? [];
        list.push({ line, partitionKeys: out.metadata?.partitionKeys });
        delivered.set(id, list);
      }
    }
    const back = stream.drain();
    if (back.length > 0) queue.push(firehoseEvent(back.map((r) => firehoseRecord(r.data.toString('base64')))));
  }
  return { delivered, invocations, thrown, first: firstResult!, durations };
}

export function assertEveryRecordIdOnce(event: FirehoseTransformationEvent, result: FirehoseTransformationResult): void {
  const ids = result.records.map((r) => r.recordId);
  const expected = event.records.map((r) => r.recordId);
  if (ids.length !== expected.length || ids.some((id, i) => id !== expected[i])) {
    throw new Error(`response recordIds ${JSON.stringify(ids)} differ from input ${JSON.stringify(expected)}`);
  }
  for (const r of result.records) if (typeof r.data !== 'string') throw new Error(`record ${r.recordId} has no base64 data`);
}

/** eventID of an enriched line; the raw text of a skipped one. */
export function eventKey(line: Record<string, unknown>): string {
  if (typeof line.eventID === 'string') return line.eventID;
  const raw = (line.enrichment as { raw?: unknown } | undefined)?.raw;
  return `raw:${String(raw)}`;
}

/** Lost and duplicated events, comparing what came out with the keys that went in. */
export function conservation(
  delivered: ReadonlyMap<string, readonly Delivered[]>,
  expected: readonly string[],
): { lost: string[]; duplicated: string[]; unexpected: string[] } {
  const want = new Set(expected);
  return {
    lost: expected.filter((id) => !delivered.has(id)),
    duplicated: [...delivered].filter(([, list]) => list.length > 1).map(([id]) => id),
    unexpected: [...delivered.keys()].filter((id) => !want.has(id)),
  };
}

export function statusOf(d: Delivered): string {
  return String((d.line.enrichment as { status?: unknown }).status);
}

// ---------------------------------------------------------------------------------------------------------------
// AWS JSON protocol servers

export interface AwsReply {
  status?: number;
  /** Error: `__type` of the JSON error body. */
  type?: string;
  payload?: unknown;
  delayMs?: number;
  /** Never answer (until the server closes). */
  hang?: boolean;
  /** Forward the request to the upstream unchanged. */
  forward?: boolean;
}

export interface AwsJsonServer {
  readonly url: string;
  /** X-Amz-Target of every request, in order. */
  readonly targets: string[];
  close(): Promise<void>;
}

/**
 * A loopback endpoint of an AWS JSON-protocol service (`X-Amz-Target: <Service>.<Operation>`). `reply` decides each
 * answer; `forward` passes the request to `upstream` (dynalite) untouched.
 */
export async function startAwsJsonServer(
  contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1',
  reply: (target: string, body: Record<string, unknown>, nth: number) => AwsReply,
  upstream?: string,
): Promise<AwsJsonServer> {
  const targets: string[] = [];
  const pending = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const target = String(req.headers['x-amz-target'] ?? '');
      targets.push(target);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        // leave empty: the reply decides
      }
      const out = reply(target, body, targets.length);
      pending.add(res);
      res.on('close', () => pending.delete(res));
      if (out.hang === true) return;
      const send = (): void => {
        if (res.destroyed) return;
        if (out.forward === true && upstream !== undefined) {
          const fwd = httpRequest(upstream, { method: req.method, path: req.url, headers: req.headers }, (up) => {
            res.writeHead(up.statusCode ?? 500, up.headers);
            up.pipe(res);
          });
          fwd.on('error', () => res.destroy());
          fwd.end(raw);
          return;
        }
        const status = out.status ?? (out.type !== undefined ? 400 : 200);
        const payload = out.type !== undefined ? { __type: out.type, message: 'loopback fault' } : (out.payload ?? {});
        res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': `loopback-${targets.length}` });
        res.end(JSON.stringify(payload));
      };
      if (out.delayMs !== undefined) setTimeout(send, out.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    targets,
    close: async () => {
      for (const res of pending) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** DynamoDB error `__type`s as the service sends them (JSON 1.0). */
export const DYNAMODB_ERRORS = {
  provisionedThroughputExceeded: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  throttling: 'com.amazon.coral.availability#ThrottlingException',
  internalServerError: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
} as const;

export interface KeyStore {
  /** SSM parameter name → value. */
  readonly ssm: Map<string, string>;
  /** Secrets Manager secret id → SecretString. */
  readonly secrets: Map<string, string>;
  /** When set, every call fails this way (service unavailable). */
  fault: AwsReply | undefined;
}

/** SSM Parameter Store `GetParameter` and Secrets Manager `GetSecretValue` on one loopback endpoint. */
export async function startKeyStoreServer(store: KeyStore): Promise<AwsJsonServer> {
  return startAwsJsonServer('application/x-amz-json-1.1', (target, body) => {
    if (store.fault !== undefined) return store.fault;
    if (target === 'AmazonSSM.GetParameter') {
      const name = String(body.Name);
      const value = store.ssm.get(name);
      if (value === undefined) return { type: 'ParameterNotFound' };
      return {
        payload: {
          Parameter: {
            Name: name,
            Type: 'SecureString',
            Value: value,
            Version: 1,
            ARN: `arn:aws:ssm:us-east-1:111122223333:parameter${name}`,
            DataType: 'text',
          },
        },
      };
    }
    if (target === 'secretsmanager.GetSecretValue') {
      const id = String(body.SecretId);
      const value = store.secrets.get(id);
      if (value === undefined) return { type: 'ResourceNotFoundException' };
      return {
        payload: {
          ARN: `arn:aws:secretsmanager:us-east-1:111122223333:secret:${id}-AbCdEf`,
          Name: id,
          SecretString: value,
          VersionId: 'v1',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1767225600,
        },
      };
    }
    return { type: 'UnknownOperationException' };
  });
}

/** A Log that keeps every entry as the JSON line a structured logger would write. */
export function capturingLog(lines: string[]): Log {
  const rec =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void =>
      void lines.push(JSON.stringify({ level, message, ...extra }));
  return { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

let ipSerial = 0;

/** A fresh public unicast IPv4 address (81.2.0.0/16 is ordinary allocated space), unique within the process. */
export function freshPublicIp(): string {
  ipSerial++;
  return `81.2.${Math.floor(ipSerial / 250) % 250}.${(ipSerial % 250) + 1}`;
}

let geoOnce: Promise<GeoDatabase> | undefined;

/**
 * The offline databases, opened once per test process (they are read into memory, ~135 MB): every cold start of
 * the rig shares them, as warm containers would; everything else (L1, breakers, keys) is per cold start.
 */
export function sharedGeo(): Promise<GeoDatabase> {
  geoOnce ??= (async () => {
    const { buildGeoData } = await import('../../../scripts/build-geo-data.ts');
    await buildGeoData(); // a no-op when data/geo is up to date
    const { openGeoDatabase } = await import('../../../src/3-lookup/geo/geo-database.ts');
    const { parseLookupConfig } = await import('../../../src/3-lookup/index.ts');
    return openGeoDatabase(parseLookupConfig({}).geoDbDir);
  })();
  return geoOnce;
}

export interface FaultBatch {
  readonly event: FirehoseTransformationEvent;
  /** eventIDs (and skipped-line keys) that must each come out exactly once. */
  readonly expected: string[];
  /** eventIDs whose source is a public address (looked up with providers). */
  readonly publicEvents: Set<string>;
  /** Unique public addresses of the batch. */
  readonly publicIps: string[];
  /** recordId of the undecodable record (must be ProcessingFailed with its data unchanged). */
  readonly garbageRecordId: string;
}

/**
 * A batch with everything a fault can touch: public addresses (providers, cache), non-public ones (never sent),
 * events of several partitions in one record (re-ingestion through Firehose), a message that is not CloudTrail
 * (skipped line), an undecodable record and a control message.
 */
export function faultBatch(): FaultBatch {
  const make = cloudTrailEvent;
  const cwl = cloudWatchLogsData;
  const plain = plainData;
  const ips = [freshPublicIp(), freshPublicIp(), freshPublicIp(), freshPublicIp()];
  const publicEvents = new Set<string>();
  const pub = (overrides: Record<string, unknown>): Record<string, unknown> => {
    const e = make(overrides);
    publicEvents.add(String(e.eventID));
    return e;
  };
  const a = [
    pub({ sourceIPAddress: ips[0] }),
    pub({ sourceIPAddress: ips[1] }),
    pub({ sourceIPAddress: ips[0], awsRegion: 'eu-west-1' }),
    make({ sourceIPAddress: '10.0.0.1', awsRegion: 'ap-southeast-2' }),
    pub({ sourceIPAddress: ips[2], eventTime: '2026-11-19T23:59:59Z' }),
  ];
  const skippedToken = `not-cloudtrail-${ips[3]}`;
  const b = [
    make({ sourceIPAddress: 'AWS Internal' }),
    make({ sourceIPAddress: 'cloudtrail.amazonaws.com', recipientAccountId: '444455556666' }),
    pub({ sourceIPAddress: ips[3] }),
  ];
  const c = pub({ sourceIPAddress: ips[2], recipientAccountId: '444455556666', awsRegion: 'us-west-2' });
  const garbage = firehoseRecord(Buffer.from([0xff, 0x00, 0x13, 0x37]).toString('base64'));
  const records = [
    firehoseRecord(cwl(a.map((e) => JSON.stringify(e)))),
    firehoseRecord(cwl([...b.map((e) => JSON.stringify(e)), skippedToken])),
    firehoseRecord(plain(c)),
    garbage,
    firehoseRecord(cwlControl()),
  ];
  return {
    event: firehoseEvent(records),
    expected: [...a, ...b, c].map((e) => String(e.eventID)).concat(`raw:${skippedToken}`),
    publicEvents,
    publicIps: ips,
    garbageRecordId: garbage.recordId,
  };
}

function cwlControl(): string {
  return gzipSync(
    JSON.stringify({
      messageType: 'CONTROL_MESSAGE',
      owner: 'CloudwatchLogs',
      logGroup: '',
      logStream: '',
      subscriptionFilters: [],
      logEvents: [{ id: '', timestamp: 1763647401000, message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.' }],
    }),
  ).toString('base64');
}
