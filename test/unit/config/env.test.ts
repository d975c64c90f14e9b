import { expect } from 'chai';
import fc from 'fast-check';
import { envText, intVar, numberVar } from '../../../src/config/env.ts';
import { ConfigError } from '../../../src/errors.ts';

describe('config/env', () => {
  it('refuses number spellings that Number() would accept (exponent, hex, sign, separators)', () => {
    for (const text of ['1e3', '0x10', '+5', '1_000', '0b1', 'Infinity']) {
      expect(() => intVar({ X: text }, 'X', 7, 0, 100_000), text).to.throw(ConfigError, /X must be an integer from 0 to 100000/);
      expect(() => numberVar({ X: text }, 'X', 7, 0, 100_000), text).to.throw(ConfigError, /X must be a number from 0 to 100000/);
    }
  });

  it('treats a blank value as unset and trims around the digits', () => {
    expect(envText({ X: '   ' }, 'X')).to.equal(undefined);
    expect(intVar({ X: ' 42 ' }, 'X', 7, 0, 100)).to.equal(42);
  });

  it('reads back every in-range decimal integer it is given', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1_000_000 }), (n) => intVar({ X: String(n) }, 'X', -1, 0, 1_000_000) === n));
  });
});
