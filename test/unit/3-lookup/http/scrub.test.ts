import { expect } from 'chai';
import fc from 'fast-check';
import { REDACTED, scrubError, scrubSecrets } from '../../../../src/3-lookup/http/scrub.ts';

const keyArb = fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/);

describe('scrubSecrets', () => {
  it('removes a known key wherever it appears, raw or URL-encoded', () => {
    fc.assert(
      fc.property(keyArb, fc.string(), fc.string(), (key, before, after) => {
        const text = `${before}${key}${after} ${encodeURIComponent(key)}`;
        expect(scrubSecrets(text, [key])).not.to.include(key);
      }),
    );
  });

  it('redacts key-shaped values even when the key is unknown', () => {
    fc.assert(
      fc.property(keyArb, fc.constantFrom('1.2.3.4', '2001:4860::8888'), (key, ip) => {
        const shapes = [
          `GET https://api.ipstack.com/${ip}?access_key=${key}&security=1`,
          `GET https://ipqualityscore.com/api/json/ip/${key}/${ip}?strictness=0`,
          `https://api.abuseipdb.com/api/v2/check?key=${key}&ipAddress=${ip}`,
          `headers: { apiKey: ${key} }`,
          `Key: ${key}`,
          `{"apiKey":"${key}"}`,
          `authorization: Bearer ${key}`,
        ];
        for (const s of shapes) {
          const out = scrubSecrets(s);
          expect(out, s).not.to.include(key);
          expect(out).to.include(REDACTED);
        }
      }),
    );
  });

  it('leaves ordinary text alone', () => {
    expect(scrubSecrets('HTTP 500 from provider after 3 attempts (monkey business)')).to.equal(
      'HTTP 500 from provider after 3 attempts (monkey business)',
    );
  });

  it('ignores secrets too short to be keys', () => {
    expect(scrubSecrets('a the an', ['a'])).to.equal('a the an');
  });
});

describe('scrubError', () => {
  it('keeps name, code and message, scrubbed, and drops the cause', () => {
    const err = Object.assign(
      new Error('Timeout awaiting request for https://x/api/json/ip/SECRETKEY123/1.2.3.4', { cause: new Error('SECRETKEY123') }),
      {
        code: 'ETIMEDOUT',
      },
    );
    const text = scrubError(err, ['SECRETKEY123']);
    expect(text).to.match(/^Error ETIMEDOUT: Timeout/);
    expect(text).not.to.include('SECRETKEY123');
  });
});
