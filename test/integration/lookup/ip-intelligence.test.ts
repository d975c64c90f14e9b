import { expect } from 'chai';
import { buildGeoData } from '../../../scripts/build-geo-data.ts';
import { createIpIntelligence, parseLookupConfig, type LookupConfig } from '../../../src/3-lookup/index.ts';
import type { Log } from '../../../src/model.ts';
import {
  documented,
  routeOf,
  startFakeServer,
  type FakeServer,
  type RecordedRequest,
  type ScriptedResponse,
} from './fake-provider-server.ts';
import { startDynalite, type LocalDynamo } from './dynalite.ts';

const KEYS = {
  IPSTACK: 'ipstack-KEY-aaaaaaaaaaaa1111',
  IPQUALITYSCORE: 'ipqs-KEY-bbbbbbbbbbbb2222',
  AUTOFOCUS: 'autofocus-KEY-cccccccccc3333',
  ABUSEIPDB: 'abuseipdb-KEY-dddddddddd4444',
};

function answer(req: RecordedRequest): ScriptedResponse {
  const { provider, ip } = routeOf(req);
  switch (provider) {
    case 'ipstack':
      return { body: documented.ipstack(ip) };
    case 'ipqualityscore':
      return { body: documented.ipqualityscore() };
    case 'autofocus':
      return ip === '1.1.1.1' ? { body: documented.autofocusUnknown() } : { body: documented.autofocus(ip) };
    case 'abuseipdb':
      return { body: documented.abuseipdb(ip) };
  }
}

function capturingLog(lines: string[]): Log {
  const rec =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void =>
      void lines.push(JSON.stringify({ level, message, ...extra }));
  return { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

describe('IP intelligence end to end (offline data, dynalite, four loopback providers)', function () {
  this.timeout(60_000);
  let server: FakeServer;
  let dynamo: LocalDynamo;
  let handler: (req: RecordedRequest) => ScriptedResponse = answer;
  const logLines: string[] = [];
  let offsetMs = 0;
  const now = (): number => Date.now() + offsetMs;

  before(async () => {
    await buildGeoData(); // idempotent: a no-op when data/geo is up to date
    server = await startFakeServer((req) => handler(req));
    dynamo = await startDynalite(['cache-a', 'cache-b', 'cache-c']);
  });
  after(async () => {
    await server.close();
    await dynamo.close();
  });
  beforeEach(() => {
    handler = answer;
    server.requests.length = 0;
    offsetMs = 0;
  });

  function config(table: string, extra: Record<string, string> = {}): LookupConfig {
    return parseLookupConfig({
      CACHE_TABLE_NAME: table,
      IPSTACK_ENABLED: 'true',
      IPSTACK_API_KEY: KEYS.IPSTACK,
      IPSTACK_BASE_URL: `${server.baseUrl}/ipstack`,
      IPQUALITYSCORE_ENABLED: 'true',
      IPQUALITYSCORE_API_KEY: KEYS.IPQUALITYSCORE,
      IPQUALITYSCORE_BASE_URL: `${server.baseUrl}/ipqs`,
      AUTOFOCUS_ENABLED: 'true',
      AUTOFOCUS_API_KEY: KEYS.AUTOFOCUS,
      AUTOFOCUS_BASE_URL: `${server.baseUrl}/autofocus`,
      ABUSEIPDB_ENABLED: 'true',
      ABUSEIPDB_API_KEY: KEYS.ABUSEIPDB,
      ABUSEIPDB_BASE_URL: `${server.baseUrl}/abuseipdb`,
      ABUSEIPDB_RATE_PER_SECOND: '1000',
      IPQUALITYSCORE_RATE_PER_SECOND: '1000',
      AUTOFOCUS_RATE_PER_SECOND: '1000',
      IPSTACK_RATE_PER_SECOND: '1000',
      ...extra,
    });
  }

  const make = (cfg: LookupConfig) => createIpIntelligence(cfg, { dynamoDb: dynamo.client, log: capturingLog(logLines), now });
  const perProvider = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of server.requests) out[routeOf(r).provider] = (out[routeOf(r).provider] ?? 0) + 1;
    return out;
  };

  const PUBLIC = ['8.8.8.8', '1.1.1.1', '81.2.69.142', '2001:4860:4860::8888'];
  const NOT_PUBLIC = ['10.0.0.1', '192.0.2.44', '169.254.169.254', 'fe80::1', 'ec2.amazonaws.com', 'AWS Internal'];

  it('calls each provider exactly once per unique public IP and never with anything else', async () => {
    const intel = await make(config('cache-a'));
    const input = [...PUBLIC, ...PUBLIC, ...NOT_PUBLIC, '8.8.8.8'];
    const { intel: out, stats } = await intel.lookup(input, { deadline: now() + 10_000 });
    expect(perProvider()).to.deep.equal({ ipstack: 4, ipqualityscore: 4, autofocus: 4, abuseipdb: 4 });
    for (const r of server.requests) expect(PUBLIC).to.include(routeOf(r).ip);
    expect(stats).to.include({
      uniqueIps: PUBLIC.length + NOT_PUBLIC.length,
      l1Hits: 0,
      cacheHits: 0,
      cacheMisses: 4,
      providerCalls: 16,
      providerErrors: 0,
    });
    expect([...out.keys()].sort()).to.deep.equal([...new Set(input)].sort());

    const google = out.get('8.8.8.8')!;
    expect(google.complete).to.equal(true);
    expect(google.geo?.countryCode).to.equal('US'); // offline wins geo by default
    expect(google.as).to.deep.equal({ number: 15169, organization: 'Google LLC' });
    expect(google.reputation).to.deep.equal({
      fraudScore: 88,
      proxy: true,
      vpn: true,
      tor: false,
      recentAbuse: true,
      abuseConfidence: 100,
      verdict: 'malware',
    });
    expect(Object.keys(google.providers ?? {}).sort()).to.deep.equal(['abuseipdb', 'autofocus', 'ipqualityscore', 'ipstack']);
    expect(out.get('1.1.1.1')?.providers?.['autofocus']).to.equal(undefined); // negative answer: nothing to show
    expect(out.get('1.1.1.1')?.complete).to.equal(true);
    expect(out.get('10.0.0.1')).to.deep.equal({ complete: true });
    expect(out.get('ec2.amazonaws.com')).to.deep.equal({ complete: true });
    expect(JSON.stringify([...out.values()])).not.to.match(/KEY-/);
  });

  it('answers a warm invocation from the in-memory cache without any call', async () => {
    const intel = await make(config('cache-b'));
    await intel.lookup(PUBLIC, { deadline: now() + 10_000 });
    server.requests.length = 0;
    const { intel: out, stats } = await intel.lookup(PUBLIC, { deadline: now() + 10_000 });
    expect(server.requests).to.have.length(0);
    expect(stats).to.include({ l1Hits: 4, cacheHits: 0, cacheMisses: 0, providerCalls: 0 });
    expect([...out.values()].every((i) => i.complete)).to.equal(true);
  });

  it('answers a new container from DynamoDB without any call', async () => {
    await (await make(config('cache-b'))).lookup(PUBLIC, { deadline: now() + 10_000 });
    server.requests.length = 0;
    const { intel: out, stats } = await (await make(config('cache-b'))).lookup(PUBLIC, { deadline: now() + 10_000 });
    expect(server.requests).to.have.length(0);
    expect(stats).to.include({ l1Hits: 0, cacheHits: 4, cacheMisses: 0 });
    expect(out.get('8.8.8.8')?.reputation?.verdict).to.equal('malware');
  });

  it('re-fetches only the answers whose TTL has passed (reputation 1 day, geo 30 days)', async () => {
    await (await make(config('cache-c'))).lookup(['8.8.8.8'], { deadline: now() + 10_000 });
    server.requests.length = 0;
    offsetMs = 2 * 86_400_000;
    const { intel: out, stats } = await (await make(config('cache-c'))).lookup(['8.8.8.8'], { deadline: now() + 10_000 });
    expect(perProvider()).to.deep.equal({ ipqualityscore: 1, autofocus: 1, abuseipdb: 1 });
    expect(stats.cacheMisses).to.equal(1);
    expect(out.get('8.8.8.8')?.providers?.['ipstack']).to.include({ countryCode: 'US' });
  });

  it('returns what it has at the deadline and marks the rest partial', async () => {
    handler = (req) => (routeOf(req).provider === 'abuseipdb' ? { ...answer(req), delayMs: 5000 } : answer(req));
    const intel = await make(config('cache-a', { ABUSEIPDB_TIMEOUT_MS: '10000' }));
    const { intel: out, stats } = await intel.lookup(['9.9.9.9', '8.8.4.4'], { deadline: now() + 400 });
    for (const ip of ['9.9.9.9', '8.8.4.4']) {
      const i = out.get(ip)!;
      expect(i.complete, ip).to.equal(false);
      expect(i.providers?.['abuseipdb']).to.equal(undefined);
      expect(i.providers?.['ipqualityscore']).to.include({ fraudScore: 88 });
      expect(i.geo?.countryCode).to.be.a('string');
    }
    expect(stats.deadlineMisses).to.equal(2);
  });

  it('keeps going when a provider is down: partial for that provider, never a throw', async () => {
    handler = (req) => (routeOf(req).provider === 'ipqualityscore' ? { status: 503, body: 'unavailable' } : answer(req));
    const intel = await make(config('cache-a', { IPQUALITYSCORE_MAX_RETRIES: '1' }));
    const { intel: out, stats } = await intel.lookup(['4.2.2.1'], { deadline: now() + 10_000 });
    expect(out.get('4.2.2.1')?.complete).to.equal(false);
    expect(out.get('4.2.2.1')?.reputation?.verdict).to.equal('malware');
    expect(stats.providerErrors).to.equal(1);
  });

  it('skips a provider whose key cannot be read, without logging any key', async () => {
    const intel = await createIpIntelligence(config('cache-a'), {
      dynamoDb: dynamo.client,
      log: capturingLog(logLines),
      now,
      keyResolver: async (p) =>
        p === 'autofocus'
          ? { ok: false, error: 'autofocus: cannot read SSM parameter /prod/af: AccessDeniedException' }
          : { ok: true, value: KEYS.ABUSEIPDB },
    });
    const { intel: out } = await intel.lookup(['4.2.2.2'], { deadline: now() + 10_000 });
    expect(out.get('4.2.2.2')?.complete).to.equal(false);
    expect(perProvider()['autofocus']).to.equal(undefined);
    expect(logLines.some((l) => l.includes('provider key unavailable'))).to.equal(true);
  });

  it('never writes a key into a log line', async () => {
    // Its own logging lookup (a failing provider, an unreadable key), so the check never depends on earlier tests.
    handler = (req) => (routeOf(req).provider === 'ipqualityscore' ? { status: 503, body: 'unavailable' } : answer(req));
    const intel = await createIpIntelligence(config('cache-a', { IPQUALITYSCORE_MAX_RETRIES: '0' }), {
      dynamoDb: dynamo.client,
      log: capturingLog(logLines),
      now,
      keyResolver: async (p) =>
        p === 'autofocus'
          ? { ok: false, error: 'autofocus: cannot read SSM parameter /prod/af: AccessDeniedException' }
          : { ok: true, value: KEYS[p === 'ipqualityscore' ? 'IPQUALITYSCORE' : p === 'ipstack' ? 'IPSTACK' : 'ABUSEIPDB'] },
    });
    await intel.lookup(['4.2.2.3'], { deadline: now() + 10_000 });
    expect(logLines.length).to.be.greaterThan(0);
    for (const line of logLines) for (const key of Object.values(KEYS)) expect(line).not.to.include(key);
  });

  it('works offline only when no provider is enabled, with no cache traffic', async () => {
    const intel = await createIpIntelligence(parseLookupConfig({ CACHE_TABLE_NAME: 'cache-a' }), { now });
    const { intel: out, stats } = await intel.lookup(['8.8.8.8', '10.0.0.1'], { deadline: now() + 1000 });
    expect(out.get('8.8.8.8')).to.deep.include({ complete: true, as: { number: 15169, organization: 'Google LLC' } });
    expect(out.get('10.0.0.1')).to.deep.equal({ complete: true });
    expect(stats).to.include({ uniqueIps: 2, cacheHits: 0, cacheMisses: 0, providerCalls: 0 });
    expect(server.requests).to.have.length(0);
  });
});
