import { expect } from 'chai';
import { parseLookupConfig } from '../../../src/3-lookup/index.ts';
import { createKeyResolver, parseKeyParam, type ParameterGetter } from '../../../src/3-lookup/keys.ts';

const SECRET = 'sk-live-0123456789abcdef';

function getter(values: Record<string, unknown>, calls: { name: string; options: unknown }[]): ParameterGetter {
  return {
    async get(name, options) {
      calls.push({ name, options });
      if (!(name in values)) throw Object.assign(new Error(`Parameter ${name} not found.`), { name: 'ParameterNotFound' });
      return values[name];
    },
  };
}

describe('createKeyResolver', () => {
  it('parses the secretsmanager: convention', () => {
    expect(parseKeyParam('/prod/ipstack/key')).to.deep.equal({ store: 'ssm', name: '/prod/ipstack/key' });
    expect(parseKeyParam('secretsmanager:prod/keys')).to.deep.equal({ store: 'secretsmanager', id: 'prod/keys' });
    expect(parseKeyParam('secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:k#abuseipdb')).to.deep.equal({
      store: 'secretsmanager',
      id: 'arn:aws:secretsmanager:eu-west-1:1:secret:k',
      field: 'abuseipdb',
    });
  });

  it('reads an SSM SecureString decrypted, with the configured cache max-age', async () => {
    const calls: { name: string; options: unknown }[] = [];
    const config = parseLookupConfig({
      GEO_DB_DIR: '/x',
      IPSTACK_ENABLED: 'true',
      IPSTACK_API_KEY_PARAM: '/prod/ipstack',
      API_KEY_MAX_AGE_SECONDS: '120',
    });
    const resolve = createKeyResolver(config, { ssmProvider: getter({ '/prod/ipstack': SECRET }, calls) });
    expect(await resolve('ipstack')).to.deep.equal({ ok: true, value: SECRET });
    expect(calls).to.deep.equal([{ name: '/prod/ipstack', options: { decrypt: true, maxAge: 120 } }]);
  });

  it('reads a field of a JSON secret from Secrets Manager', async () => {
    const calls: { name: string; options: unknown }[] = [];
    const config = parseLookupConfig({
      GEO_DB_DIR: '/x',
      ABUSEIPDB_ENABLED: 'true',
      ABUSEIPDB_API_KEY_PARAM: 'secretsmanager:prod/keys#abuseipdb',
    });
    const resolve = createKeyResolver(config, { secretsProvider: getter({ 'prod/keys': JSON.stringify({ abuseipdb: SECRET }) }, calls) });
    expect(await resolve('abuseipdb')).to.deep.equal({ ok: true, value: SECRET });
    expect(calls[0]?.name).to.equal('prod/keys');
  });

  it('returns a plain key for local runs without calling AWS', async () => {
    const config = parseLookupConfig({ GEO_DB_DIR: '/x', AUTOFOCUS_ENABLED: 'true', AUTOFOCUS_API_KEY: SECRET });
    const calls: { name: string; options: unknown }[] = [];
    const resolve = createKeyResolver(config, { ssmProvider: getter({}, calls), secretsProvider: getter({}, calls) });
    expect(await resolve('autofocus')).to.deep.equal({ ok: true, value: SECRET });
    expect(calls).to.have.length(0);
  });

  it('reports a failure naming the parameter, never a value', async () => {
    const config = parseLookupConfig({ GEO_DB_DIR: '/x', IPQUALITYSCORE_ENABLED: 'true', IPQUALITYSCORE_API_KEY_PARAM: '/prod/ipqs' });
    const resolve = createKeyResolver(config, { ssmProvider: getter({}, []) });
    const res = await resolve('ipqualityscore');
    expect(res.ok).to.equal(false);
    expect(!res.ok && res.error).to.match(/SSM parameter \/prod\/ipqs/);
    const wrongField = createKeyResolver(
      parseLookupConfig({ GEO_DB_DIR: '/x', ABUSEIPDB_ENABLED: 'true', ABUSEIPDB_API_KEY_PARAM: 'secretsmanager:k#missing' }),
      { secretsProvider: getter({ k: JSON.stringify({ other: SECRET }) }, []) },
    );
    const res2 = await wrongField('abuseipdb');
    expect(res2.ok).to.equal(false);
    expect(JSON.stringify(res2)).not.to.include(SECRET);
  });
});
