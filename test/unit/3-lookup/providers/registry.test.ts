import { expect } from 'chai';
import { ConfigError } from '../../../../src/errors.ts';
import { LOOKUP_CONFIG_VARIABLES, parseLookupConfig } from '../../../../src/3-lookup/index.ts';
import { CircuitBreaker } from '../../../../src/3-lookup/http/circuit-breaker.ts';
import { Limiter } from '../../../../src/3-lookup/http/limiter.ts';
import { ResilientClient, type HttpFetch } from '../../../../src/3-lookup/http/resilient-client.ts';
import { PROVIDER_NAMES, PROVIDER_REGISTRY, createProvider } from '../../../../src/3-lookup/providers/registry.ts';
import { NUMBER_RANGES } from '../../../../src/3-lookup/providers/sanitise.ts';
import { silentLog } from '../../../../src/model.ts';

describe('provider registry', () => {
  it('has exactly one entry per name in PROVIDER_NAMES, with a distinct env prefix', () => {
    expect(Object.keys(PROVIDER_REGISTRY).sort()).to.deep.equal([...PROVIDER_NAMES].sort());
    const prefixes = PROVIDER_NAMES.map((n) => PROVIDER_REGISTRY[n].envPrefix);
    expect(new Set(prefixes).size).to.equal(PROVIDER_NAMES.length);
    for (const n of PROVIDER_NAMES) expect(PROVIDER_REGISTRY[n].envPrefix, n).to.equal(n.toUpperCase());
  });

  it('is where the sanitiser takes its numeric ranges from', () => {
    for (const n of PROVIDER_NAMES) expect(NUMBER_RANGES[n], n).to.equal(PROVIDER_REGISTRY[n].numberRanges);
  });

  it('gives parseLookupConfig each provider defaults and settings from its entry', () => {
    const c = parseLookupConfig({ GEO_DB_DIR: '/tmp/geo' });
    for (const n of PROVIDER_NAMES) {
      const e = PROVIDER_REGISTRY[n];
      expect(c.providers[n], n).to.include({ name: n, baseUrl: e.baseUrl, concurrency: e.concurrency, ratePerSecond: e.ratePerSecond });
      expect(c.providers[n].settings, n).to.deep.equal(e.parseSettings({}));
    }
    expect(c.providers.ipstack.settings).to.deep.equal({ bulk: false, security: false });
    expect(c.providers.ipqualityscore.settings).to.deep.equal({ strictness: 0 });
    expect(c.providers.abuseipdb.settings).to.deep.equal({ maxAgeInDays: 90 });
    expect(c.providers.autofocus.settings).to.deep.equal({});
  });

  it('parses the provider-specific variables with the stage messages', () => {
    const c = parseLookupConfig({
      IPSTACK_BULK: 'TRUE',
      IPSTACK_SECURITY: 'yes',
      IPQUALITYSCORE_STRICTNESS: '3',
      ABUSEIPDB_MAX_AGE_DAYS: '7',
    });
    expect(c.providers.ipstack.settings).to.deep.equal({ bulk: true, security: true });
    expect(c.providers.ipqualityscore.settings).to.deep.equal({ strictness: 3 });
    expect(c.providers.abuseipdb.settings).to.deep.equal({ maxAgeInDays: 7 });
    expect(() => parseLookupConfig({ IPQUALITYSCORE_STRICTNESS: '4' })).to.throw(
      ConfigError,
      'IPQUALITYSCORE_STRICTNESS must be an integer between 0 and 3',
    );
    expect(() => parseLookupConfig({ IPSTACK_BULK: 'maybe' })).to.throw(ConfigError, 'IPSTACK_BULK must be true or false');
  });

  it('lists every provider-specific variable, with its default, among the lookup variables', () => {
    for (const n of PROVIDER_NAMES) {
      for (const v of PROVIDER_REGISTRY[n].variables) {
        expect(LOOKUP_CONFIG_VARIABLES.find((x) => x.name === v.name)?.default, v.name).to.equal(v.default);
      }
    }
  });

  it('reads Retry-After dates against the injected clock in every provider', async () => {
    // A clock years away from the real one: with Date.now() the wait would be past the deadline or zero.
    const T0 = Date.UTC(2031, 4, 6, 7, 8, 9);
    const now = (): number => T0;
    const retryAt = new Date(T0 + 7000).toUTCString();
    for (const name of PROVIDER_NAMES) {
      const waits: number[] = [];
      const fetch: HttpFetch = async () => ({ status: 429, headers: { 'retry-after': retryAt }, body: '{}' });
      const client = new ResilientClient({
        name,
        timeoutMs: 1000,
        maxRetries: 1,
        breaker: new CircuitBreaker({ threshold: 5, cooldownMs: 60_000, now }),
        limiter: new Limiter({ concurrency: 1, ratePerSecond: 1000, now }),
        now,
        fetch,
        sleep: async (ms) => void waits.push(ms),
      });
      const settings = PROVIDER_REGISTRY[name].parseSettings({});
      const provider = createProvider(name, settings as never, { baseUrl: 'https://provider.example', client, log: silentLog, now });
      await provider.lookup(['8.8.8.8'], { key: 'k', deadline: T0 + 60_000, signal: new AbortController().signal }, () => {});
      expect(waits, name).to.deep.equal([7000]);
    }
  });
});
