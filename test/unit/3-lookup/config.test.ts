import { expect } from 'chai';
import { ConfigError } from '../../../src/errors.ts';
import { LOOKUP_CONFIG_VARIABLES, parseLookupConfig, PROVIDER_NAMES } from '../../../src/3-lookup/index.ts';

const ENV_BASE = { GEO_DB_DIR: '/tmp/geo' };

describe('parseLookupConfig', () => {
  it('defaults to offline-only lookups with documented TTLs', () => {
    const c = parseLookupConfig(ENV_BASE);
    expect(c.cacheTableName).to.equal(undefined);
    expect(c.geoDbDir).to.equal('/tmp/geo');
    expect(c.providers.ipstack.ttlSeconds).to.equal(30 * 86400);
    expect(c.providers.abuseipdb.ttlSeconds).to.equal(86400);
    expect(c.negativeTtlSeconds).to.equal(3600);
    for (const n of PROVIDER_NAMES) expect(c.providers[n].enabled, n).to.equal(false);
    expect(c.providers.ipqualityscore.baseUrl).to.equal('https://ipqualityscore.com');
    expect(c.precedence.geo[0]).to.equal('offline');
  });

  it('reads per-provider settings and the TTL classes', () => {
    const c = parseLookupConfig({
      ...ENV_BASE,
      CACHE_TABLE_NAME: 'ip-cache',
      REPUTATION_TTL_SECONDS: '7200',
      ABUSEIPDB_ENABLED: 'true',
      ABUSEIPDB_API_KEY_PARAM: 'secretsmanager:prod/abuseipdb#key',
      ABUSEIPDB_BASE_URL: 'http://127.0.0.1:9999/',
      ABUSEIPDB_TIMEOUT_MS: '500',
      ABUSEIPDB_CONCURRENCY: '2',
      REPUTATION_PRECEDENCE: 'abuseipdb, ipqualityscore',
    });
    expect(c.cacheTableName).to.equal('ip-cache');
    expect(c.providers.abuseipdb).to.include({
      enabled: true,
      apiKeyParam: 'secretsmanager:prod/abuseipdb#key',
      baseUrl: 'http://127.0.0.1:9999',
      timeoutMs: 500,
      concurrency: 2,
      ttlSeconds: 7200,
    });
    expect(c.precedence.reputation).to.deep.equal(['abuseipdb', 'ipqualityscore']);
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['an enabled provider without a key', { IPSTACK_ENABLED: 'true' }, /IPSTACK_ENABLED.*IPSTACK_API_KEY_PARAM/],
    ['both key sources', { IPSTACK_API_KEY_PARAM: '/k', IPSTACK_API_KEY: 'abcdefgh' }, /both set/],
    ['a non-boolean flag', { AUTOFOCUS_ENABLED: 'maybe' }, /AUTOFOCUS_ENABLED must be true or false/],
    ['plain http to a remote host', { IPQUALITYSCORE_BASE_URL: 'http://example.com' }, /IPQUALITYSCORE_BASE_URL must use https/],
    ['a query in the base URL', { IPSTACK_BASE_URL: 'https://api.ipstack.com/?access_key=x' }, /must not carry a query/],
    ['an unknown precedence source', { GEO_PRECEDENCE: 'offline,maxmind' }, /GEO_PRECEDENCE must be a comma-separated list/],
    ['a non-integer TTL', { GEO_TTL_SECONDS: '1d' }, /GEO_TTL_SECONDS must be an integer/],
    ['an out-of-range retry count', { ABUSEIPDB_MAX_RETRIES: '99' }, /ABUSEIPDB_MAX_RETRIES must be an integer between 0 and 10/],
    ['a bad table name', { CACHE_TABLE_NAME: 'a b' }, /CACHE_TABLE_NAME/],
    ['a bad strictness', { IPQUALITYSCORE_STRICTNESS: '9' }, /IPQUALITYSCORE_STRICTNESS/],
  ];
  for (const [what, env, message] of bad) {
    it(`throws ConfigError naming the variable for ${what}`, () => {
      expect(() => parseLookupConfig({ ...ENV_BASE, ...env })).to.throw(ConfigError, message);
    });
  }

  it('lists every variable it reads in LOOKUP_CONFIG_VARIABLES', () => {
    const read = new Set<string>();
    const env = new Proxy(
      {},
      {
        get(_t, name) {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      },
    );
    parseLookupConfig(env);
    const listed = new Set(LOOKUP_CONFIG_VARIABLES.map((v) => v.name));
    expect([...read].filter((n) => !listed.has(n))).to.deep.equal([]);
    expect(read.size).to.be.greaterThan(40);
  });

  it('documents every listed variable with a description', () => {
    for (const v of LOOKUP_CONFIG_VARIABLES) expect(v.description, v.name).to.match(/\S{3,}/);
    expect(new Set(LOOKUP_CONFIG_VARIABLES.map((v) => v.name)).size).to.equal(LOOKUP_CONFIG_VARIABLES.length);
  });
});
