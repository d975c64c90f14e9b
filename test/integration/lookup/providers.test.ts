import { expect } from 'chai';
import type { ProviderName } from '../../../src/3-lookup/config.ts';
import type { LookupFailure } from '../../../src/3-lookup/http/resilient-client.ts';
import { CircuitBreaker } from '../../../src/3-lookup/http/circuit-breaker.ts';
import { Limiter } from '../../../src/3-lookup/http/limiter.ts';
import { ResilientClient } from '../../../src/3-lookup/http/resilient-client.ts';
import { AbuseIpdbProvider } from '../../../src/3-lookup/providers/abuseipdb.ts';
import { AutoFocusProvider } from '../../../src/3-lookup/providers/autofocus.ts';
import { IpqsProvider } from '../../../src/3-lookup/providers/ipqualityscore.ts';
import { IpstackProvider } from '../../../src/3-lookup/providers/ipstack.ts';
import type { Provider, ProviderAnswer } from '../../../src/3-lookup/providers/types.ts';
import type { Result } from '../../../src/model.ts';
import { documented, startFakeServer, type FakeServer, type RecordedRequest, type ScriptedResponse } from './fake-provider-server.ts';

const KEY = 'Zx9-live-KEY-4c1d2e3f4a5b6c7d';

interface Spec {
  name: ProviderName;
  make(baseUrl: string, client: ResilientClient): Provider;
  /** The IP a request asks about. */
  ipOf(req: RecordedRequest): string | undefined;
  /** Where this provider carries the key. */
  keyOf(req: RecordedRequest): string | undefined;
  success(req: RecordedRequest): ScriptedResponse;
  keyRejected: ScriptedResponse;
  expectFound(data: Record<string, unknown>, normalised: ReturnType<Provider['normalise']>): void;
  /** A documented "nothing known" answer. */
  unknown?: ScriptedResponse;
}

const specs: Spec[] = [
  {
    name: 'ipstack',
    make: (baseUrl, client) => new IpstackProvider({ baseUrl, bulk: false, security: true, client, now: Date.now }),
    ipOf: (r) => r.path.slice(1),
    keyOf: (r) => r.query.get('access_key') ?? undefined,
    success: (r) => ({ body: documented.ipstack(r.path.slice(1)) }),
    keyRejected: { body: documented.ipstackError(101, 'invalid_access_key') },
    unknown: { body: documented.ipstackError(106, 'invalid_ip_address') },
    expectFound(d, n) {
      expect(d).to.include({ countryCode: 'US', city: 'Los Angeles', asn: 25876, timezone: 'America/Los_Angeles', isTor: false });
      expect(n.geo).to.include({ countryCode: 'US', region: 'California', city: 'Los Angeles' });
      expect(n.as).to.deep.equal({ number: 25876, organization: 'Los Angeles Department of Water & Power' });
    },
  },
  {
    name: 'ipqualityscore',
    make: (baseUrl, client) => new IpqsProvider({ baseUrl, strictness: 1, client, now: Date.now }),
    ipOf: (r) => r.path.split('/')[5],
    keyOf: (r) => r.path.split('/')[4],
    success: () => ({ body: documented.ipqualityscore() }),
    keyRejected: { body: documented.ipqualityscoreError('Invalid or unauthorized key. Please check the API key and try again.') },
    expectFound(d, n) {
      expect(d).to.include({ fraudScore: 88, proxy: true, vpn: true, recentAbuse: true, asn: 14061 });
      expect(n.reputation).to.deep.equal({ fraudScore: 88, proxy: true, vpn: true, tor: false, recentAbuse: true });
      expect(n.as).to.deep.equal({ number: 14061, organization: 'DigitalOcean' });
    },
  },
  {
    name: 'autofocus',
    make: (baseUrl, client) => new AutoFocusProvider({ baseUrl, client, now: Date.now }),
    ipOf: (r) => r.query.get('indicatorValue') ?? undefined,
    keyOf: (r) => (typeof r.headers['apikey'] === 'string' ? r.headers['apikey'] : undefined),
    success: (r) => ({ body: documented.autofocus(r.query.get('indicatorValue')!) }),
    keyRejected: { status: 401, body: { message: 'Invalid API Key' } },
    unknown: { body: documented.autofocusUnknown() },
    expectFound(d, n) {
      expect(d['verdicts']).to.deep.equal({ PAN_DB: 'MALWARE' });
      expect(d['tags']).to.deep.equal(['Unit42.Emotet']);
      expect(d['lastSeen']).to.equal('2026-01-01T00:00:00.000Z');
      expect(n.reputation).to.deep.equal({ verdict: 'malware' });
    },
  },
  {
    name: 'abuseipdb',
    make: (baseUrl, client) => new AbuseIpdbProvider({ baseUrl, maxAgeInDays: 30, client, now: Date.now }),
    ipOf: (r) => r.query.get('ipAddress') ?? undefined,
    keyOf: (r) => (typeof r.headers['key'] === 'string' ? r.headers['key'] : undefined),
    success: (r) => ({ body: documented.abuseipdb(r.query.get('ipAddress')!) }),
    keyRejected: {
      status: 401,
      body: documented.abuseipdbError(401, 'Authentication failed. Your API key is either missing, incorrect, or revoked.'),
    },
    expectFound(d, n) {
      expect(d).to.include({ abuseConfidenceScore: 100, totalReports: 1039, countryCode: 'CN', isTor: false });
      expect(n.reputation).to.deep.equal({ abuseConfidence: 100, tor: false });
    },
  },
];

function makeClient(name: string, opts: { timeoutMs?: number; maxRetries?: number } = {}): ResilientClient {
  return new ResilientClient({
    name,
    timeoutMs: opts.timeoutMs ?? 1000,
    maxRetries: opts.maxRetries ?? 2,
    breaker: new CircuitBreaker({ threshold: 5, cooldownMs: 60_000 }),
    limiter: new Limiter({ concurrency: 4, ratePerSecond: 1000 }),
    baseDelayMs: 10,
  });
}

async function run(provider: Provider, ips: string[], deadlineMs = 5000): Promise<Map<string, Result<ProviderAnswer, LookupFailure>>> {
  const out = new Map<string, Result<ProviderAnswer, LookupFailure>>();
  const ctrl = new AbortController();
  const deadline = Date.now() + deadlineMs;
  const timer = setTimeout(() => ctrl.abort(new Error('deadline')), deadlineMs);
  try {
    await provider.lookup(ips, { key: KEY, deadline, signal: ctrl.signal }, (ip, r) => {
      expect(out.has(ip), `one result per IP (${ip})`).to.equal(false);
      out.set(ip, r);
    });
  } finally {
    clearTimeout(timer);
  }
  expect([...out.keys()].sort()).to.deep.equal([...ips].sort());
  return out;
}

function expectFailure(r: Result<ProviderAnswer, LookupFailure> | undefined, kind: LookupFailure['kind']): void {
  expect(r?.ok).to.equal(false);
  if (r !== undefined && !r.ok) {
    expect(r.error.kind).to.equal(kind);
    expect(r.error.message).not.to.include(KEY);
  }
}

for (const spec of specs) {
  describe(`${spec.name} provider against a loopback server`, () => {
    let server: FakeServer;
    before(async () => {
      server = await startFakeServer(spec.success);
    });
    after(async () => {
      await server.close();
    });

    it('normalises and trims a documented success answer, one request per IP, key where documented', async () => {
      server.reset(spec.success);
      const ips = ['8.8.8.8', '2001:4860:4860::8888'];
      const out = await run(spec.make(server.baseUrl, makeClient(spec.name)), ips);
      expect(server.requests).to.have.length(2);
      expect(server.requests.map((r) => spec.ipOf(r)).sort()).to.deep.equal([...ips].sort());
      for (const r of server.requests) expect(spec.keyOf(r)).to.equal(KEY);
      for (const ip of ips) {
        const r = out.get(ip);
        expect(r?.ok).to.equal(true);
        if (r?.ok && r.value.status === 'found') {
          expect(JSON.stringify(r.value.data)).not.to.include(KEY);
          spec.expectFound(r.value.data, spec.make(server.baseUrl, makeClient(spec.name)).normalise(r.value.data));
        } else expect.fail('expected a found answer');
      }
    });

    it('treats a rejected key (error-as-200 or 401) as a failure without retrying', async () => {
      server.reset(() => spec.keyRejected);
      const client = makeClient(spec.name);
      const out = await run(spec.make(server.baseUrl, client), ['8.8.8.8']);
      expect(server.requests).to.have.length(1);
      expectFailure(out.get('8.8.8.8'), 'error');
      expect(client.breaker.state).to.equal('open');
      const again = await run(spec.make(server.baseUrl, client), ['1.1.1.1']);
      expectFailure(again.get('1.1.1.1'), 'breaker');
      expect(server.requests).to.have.length(1);
    });

    if (spec.unknown !== undefined) {
      const unknown = spec.unknown;
      it('turns a documented "unknown address" answer into a negative answer', async () => {
        server.reset(() => unknown);
        const out = await run(spec.make(server.baseUrl, makeClient(spec.name)), ['8.8.4.4']);
        expect(out.get('8.8.4.4')).to.deep.equal({ ok: true, value: { status: 'none' } });
      });
    }

    it('honours 429 with Retry-After, then succeeds', async () => {
      server.reset((req, nth) =>
        nth === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: { message: 'Too Many Requests' } } : spec.success(req),
      );
      const out = await run(spec.make(server.baseUrl, makeClient(spec.name)), ['8.8.8.8']);
      expect(server.requests).to.have.length(2);
      expect(server.requests[1]!.at - server.requests[0]!.at).to.be.at.least(990); // waited as told, not less
      expect(out.get('8.8.8.8')?.ok).to.equal(true);
    });

    it('retries a 500 and succeeds', async () => {
      server.reset((req, nth) => (nth === 1 ? { status: 500, body: 'Internal Server Error' } : spec.success(req)));
      const out = await run(spec.make(server.baseUrl, makeClient(spec.name)), ['8.8.8.8']);
      expect(server.requests).to.have.length(2);
      expect(out.get('8.8.8.8')?.ok).to.equal(true);
    });

    it('retries malformed JSON, then reports a failure', async () => {
      server.reset(() => ({ body: '{"success": tru' }));
      const out = await run(spec.make(server.baseUrl, makeClient(spec.name, { maxRetries: 1 })), ['8.8.8.8']);
      expect(server.requests).to.have.length(2);
      expectFailure(out.get('8.8.8.8'), 'error');
    });

    it('times out a request that never answers and retries it', async () => {
      server.reset(() => ({ hang: true }));
      const out = await run(spec.make(server.baseUrl, makeClient(spec.name, { timeoutMs: 150, maxRetries: 1 })), ['8.8.8.8']);
      expect(server.requests).to.have.length(2);
      expectFailure(out.get('8.8.8.8'), 'error');
    });

    it('gives up at the deadline when the provider is slow', async () => {
      server.reset((req) => ({ ...spec.success(req), delayMs: 3000 }));
      const out = await run(spec.make(server.baseUrl, makeClient(spec.name, { timeoutMs: 5000 })), ['8.8.8.8'], 200);
      expect(server.requests).to.have.length(1);
      expectFailure(out.get('8.8.8.8'), 'deadline');
    });
  });
}

describe('ipstack bulk lookup against a loopback server', () => {
  let server: FakeServer;
  before(async () => {
    server = await startFakeServer((req) => ({
      body: req.path
        .slice(1)
        .split(',')
        .map((ip) => documented.ipstack(ip)),
    }));
  });
  after(async () => {
    await server.close();
  });

  it('asks for up to 50 IPs per request', async () => {
    const ips = Array.from({ length: 120 }, (_, i) => `8.8.${Math.floor(i / 200)}.${i + 1}`);
    const out = await run(
      new IpstackProvider({ baseUrl: server.baseUrl, bulk: true, security: false, client: makeClient('ipstack'), now: Date.now }),
      ips,
    );
    expect(server.requests.map((r) => r.path.slice(1).split(',').length)).to.have.members([50, 50, 20]);
    expect([...out.values()].every((r) => r.ok && r.value.status === 'found')).to.equal(true);
  });

  it('falls back to single lookups when the plan has no bulk (error 303)', async () => {
    server.reset((req) =>
      req.path.includes(',')
        ? { body: documented.ipstackError(303, 'batch_not_supported_on_plan') }
        : { body: documented.ipstack(req.path.slice(1)) },
    );
    const provider = new IpstackProvider({
      baseUrl: server.baseUrl,
      bulk: true,
      security: false,
      client: makeClient('ipstack'),
      now: Date.now,
    });
    const out = await run(provider, ['8.8.8.8', '1.1.1.1', '9.9.9.9']);
    expect(server.requests).to.have.length(4);
    expect([...out.values()].every((r) => r.ok)).to.equal(true);
    server.requests.length = 0;
    await run(provider, ['8.8.4.4', '1.0.0.1']);
    expect(server.requests.every((r) => !r.path.includes(','))).to.equal(true);
  });
});
