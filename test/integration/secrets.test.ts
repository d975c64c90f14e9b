import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { FirehoseTransformationResult } from 'aws-lambda';
import { loadConfig } from '../../src/config/index.ts';
import { startFirehoseServer } from '../helpers/loopback.ts';
import { startDynalite, type LocalDynamo } from './lookup/dynalite.ts';
import { startFakeServer, type FakeServer, type RecordedRequest, type ScriptedResponse } from './lookup/fake-provider-server.ts';
import {
  KEYS,
  PROVIDER_ROUTES,
  capturingLog,
  coldStart,
  drive,
  faultBatch,
  healthyAnswer,
  providerEnv,
  routeOf,
  sharedGeo,
  startKeyStoreServer,
  type AwsJsonServer,
  type KeyStore,
} from './faults/support.ts';

const TABLE = 'secrets-ip-cache';
const PARAMS = {
  IPSTACK: '/cloudtrail-enricher/test/ipstack',
  IPQUALITYSCORE: '/cloudtrail-enricher/test/ipqualityscore',
  AUTOFOCUS: 'secretsmanager:cloudtrail-enricher/test/autofocus',
  ABUSEIPDB: 'secretsmanager:cloudtrail-enricher/test/shared#abuseipdb',
} as const;
const ROTATED = { ...KEYS, IPSTACK: 'ipstk-ROTATED-77665544332211aabbcc' };

/** Every form a key could leak in: as is, URL-encoded, base64 (e.g. inside an output record), JSON-escaped. */
function leakForms(key: string): string[] {
  return [
    key,
    encodeURIComponent(key),
    Buffer.from(key).toString('base64').replace(/=+$/, ''),
    JSON.stringify(key).slice(1, -1),
    key.slice(0, 12) + key.slice(-8),
  ];
}

/**
 * Providers that misbehave in the ways most likely to leak a key: echoing the request URL or headers (with the key)
 * in error bodies and messages, redirecting to another host with the key in the Location, timing out, answering
 * garbage, and one healthy answer per provider so the output carries real provider data too.
 */
function leakyAnswer(req: RecordedRequest, nth: number): ScriptedResponse {
  const echo = `request ${req.url} headers ${JSON.stringify(req.headers)}`;
  switch (nth % 7) {
    case 0:
      return { status: 500, body: { error: echo, message: echo } };
    case 1:
      return { status: 401, body: { message: `Invalid API key: ${echo}`, errors: [{ detail: echo, status: 401 }] } };
    case 2:
      return { status: 302, headers: { location: `http://127.0.0.1:9/steal?${req.url.split('?')[1] ?? ''}` }, body: echo };
    case 3:
      return { status: 200, body: { success: false, message: echo, error: { code: 101, type: 'invalid_access_key', info: echo } } };
    case 4:
      return { status: 200, body: `<html>${echo}</html>` };
    case 5:
      return { status: 429, headers: { 'retry-after': '1' }, body: { message: echo } };
    default:
      return healthyAnswer(req);
  }
}

describe('API keys never leak (all providers enabled, keys in SSM and Secrets Manager)', function () {
  this.timeout(30_000);
  let providers: FakeServer;
  let firehose: Awaited<ReturnType<typeof startFirehoseServer>>;
  let keyServer: AwsJsonServer;
  let dynamo: LocalDynamo;
  const store: KeyStore = { ssm: new Map(), secrets: new Map(), fault: undefined };

  before(async () => {
    providers = await startFakeServer(leakyAnswer);
    firehose = await startFirehoseServer();
    keyServer = await startKeyStoreServer(store);
    dynamo = await startDynalite([TABLE]);
  });
  after(async () => {
    await keyServer.close();
    await providers.close();
    await firehose.close();
    await dynamo.close();
  });
  beforeEach(() => {
    store.ssm.clear();
    store.secrets.clear();
    store.fault = undefined;
    store.ssm.set(PARAMS.IPSTACK, KEYS.IPSTACK);
    store.ssm.set(PARAMS.IPQUALITYSCORE, KEYS.IPQUALITYSCORE);
    store.secrets.set('cloudtrail-enricher/test/autofocus', KEYS.AUTOFOCUS);
    store.secrets.set('cloudtrail-enricher/test/shared', JSON.stringify({ abuseipdb: KEYS.ABUSEIPDB, other: 'x' }));
  });

  function env(extra: Record<string, string> = {}): Record<string, string> {
    const e = providerEnv(providers.baseUrl, { CACHE_TABLE_NAME: TABLE, POWERTOOLS_LOG_LEVEL: 'DEBUG', ...extra });
    for (const p of PROVIDER_ROUTES) {
      const P = p.toUpperCase() as keyof typeof PARAMS;
      delete e[`${P}_API_KEY`];
      e[`${P}_API_KEY_PARAM`] = PARAMS[P];
    }
    return e;
  }

  it('keeps every key out of logs, output records, re-ingested records, errors, summaries and the cache table', async () => {
    const captured: string[] = [];
    const stdio: string[] = [];
    const realOut = process.stdout.write.bind(process.stdout);
    const realErr = process.stderr.write.bind(process.stderr);
    const tee = ((chunk: string | Uint8Array) => {
      stdio.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    const results: FirehoseTransformationResult[] = [];
    const reingested: string[] = [];
    const errors: string[] = [];
    providers.reset(leakyAnswer);
    const rig = coldStart({
      env: env(),
      geo: await sharedGeo(),
      firehoseUrl: firehose.url,
      dynamoUrl: dynamo.endpoint,
      keyStoreUrl: keyServer.url,
      log: capturingLog(captured),
    });
    process.stdout.write = tee;
    process.stderr.write = tee;
    try {
      for (let i = 0; i < 4; i++) {
        const batch = faultBatch();
        const drain = () => {
          const back = firehose.drain();
          for (const r of back) reingested.push(r.data.toString('latin1'), r.data.toString('base64'));
          return back;
        };
        const outcome = await drive(rig.handler, batch.event, { drain }, { remainingMs: 10_000 });
        results.push(outcome.first);
        for (const e of outcome.thrown) errors.push(`${e.name} ${e.message} ${e.stack ?? ''} ${JSON.stringify(e)}`);
      }
    } catch (err) {
      errors.push(`${(err as Error).stack ?? String(err)}`);
      throw err;
    } finally {
      process.stdout.write = realOut;
      process.stderr.write = realErr;
      rig.close();
    }
    const cache = await dynamo.client.send(new ScanCommand({ TableName: TABLE }));

    // The run did exercise every provider, with its own key only.
    const seen = new Set(providers.requests.map((r) => routeOf(r).provider));
    expect([...seen].sort()).to.deep.equal([...PROVIDER_ROUTES].sort());
    for (const req of providers.requests) {
      const { provider, key } = routeOf(req);
      expect(key).to.equal(KEYS[provider.toUpperCase() as keyof typeof KEYS]);
      for (const [other, value] of Object.entries(KEYS))
        if (other !== provider.toUpperCase()) expect(req.url + JSON.stringify(req.headers)).to.not.include(value);
    }
    expect(captured.some((l) => l.includes('provider'))).to.equal(true);

    const haystacks: Record<string, string> = {
      logs: captured.join('\n'),
      stdio: stdio.join(''),
      output: results
        .map((r) => JSON.stringify(r) + r.records.map((x) => Buffer.from(x.data ?? '', 'base64').toString('utf8')).join(''))
        .join('\n'),
      reingested: reingested.join('\n'),
      errors: errors.join('\n'),
      summaries: JSON.stringify(rig.summaries),
      cache: JSON.stringify(cache.Items ?? []),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [name, key] of Object.entries(KEYS)) {
        for (const form of leakForms(key)) expect(text.includes(form), `${name} key found in ${where}`).to.equal(false);
      }
    }
  });

  it('fetches each key once per container, then again after API_KEY_MAX_AGE_SECONDS (a rotated key is picked up)', async () => {
    providers.reset(healthyAnswer);
    keyServer.targets.length = 0;
    const rig = coldStart({
      env: env({ API_KEY_MAX_AGE_SECONDS: '1', CACHE_TABLE_NAME: '' }),
      geo: await sharedGeo(),
      firehoseUrl: firehose.url,
      keyStoreUrl: keyServer.url,
    });
    try {
      for (let i = 0; i < 3; i++) await drive(rig.handler, faultBatch().event, firehose);
      const count = (t: string) => keyServer.targets.filter((x) => x === t).length;
      // Two keys in SSM, two secrets in Secrets Manager: one read each for three invocations.
      expect({ ssm: count('AmazonSSM.GetParameter'), secrets: count('secretsmanager.GetSecretValue') }).to.deep.equal({
        ssm: 2,
        secrets: 2,
      });
      store.ssm.set(PARAMS.IPSTACK, ROTATED.IPSTACK);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      providers.requests.length = 0;
      await drive(rig.handler, faultBatch().event, firehose);
      expect({ ssm: count('AmazonSSM.GetParameter'), secrets: count('secretsmanager.GetSecretValue') }).to.deep.equal({
        ssm: 4,
        secrets: 4,
      });
      const ipstackKeys = new Set(providers.requests.filter((r) => routeOf(r).provider === 'ipstack').map((r) => routeOf(r).key));
      expect([...ipstackKeys]).to.deep.equal([ROTATED.IPSTACK]);
    } finally {
      rig.close();
    }
  });

  it('ships no key in the production configuration: only *_API_KEY_PARAM references, never *_API_KEY', () => {
    const doc = parseYaml(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8'), { logLevel: 'silent' }) as {
      provider: { environment: Record<string, unknown> };
      functions: unknown;
    };
    const envNames = new Set<string>();
    const collect = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        if (k === 'environment' && v !== null && typeof v === 'object') for (const name of Object.keys(v)) envNames.add(name);
        collect(v);
      }
    };
    collect(doc);
    for (const P of Object.keys(KEYS)) {
      expect(envNames.has(`${P}_API_KEY`), `${P}_API_KEY is set in serverless.yml`).to.equal(false);
      expect(envNames.has(`${P}_API_KEY_PARAM`), `${P}_API_KEY_PARAM is missing from serverless.yml`).to.equal(true);
    }
    // The parsed configuration of such an environment holds a reference, never a value.
    const prod = loadConfig(
      Object.fromEntries(
        Object.keys(KEYS).flatMap((P) => [
          [`${P}_ENABLED`, 'true'],
          [`${P}_API_KEY_PARAM`, `/cloudtrail-enricher/prod/${P.toLowerCase()}`],
        ]),
      ),
    );
    for (const p of PROVIDER_ROUTES) expect(prod.lookup.providers[p].apiKey).to.equal(undefined);
  });
});
