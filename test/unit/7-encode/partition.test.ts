import { expect } from 'chai';
import fc from 'fast-check';
import {
  fallbackPartitionKeys,
  PARTITION_FALLBACK,
  partitionId,
  partitionKeysOf,
  sanitisePartitionKeys,
  utcDay,
} from '../../../src/7-encode/partition.ts';
import type { PartitionKeys } from '../../../src/model.ts';
import { cloudTrailEvent } from '../../helpers/factories.ts';

const ARRIVAL = Date.UTC(2026, 10, 20, 14, 5, 0); // 2026-11-20T14:05:00Z
const ARRIVAL_DAY = '2026-11-20';
const SAFE_KEY = /^[0-9a-z-]+$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function isRealDay(dt: string): boolean {
  return DAY.test(dt) && new Date(`${dt}T00:00:00Z`).toISOString().slice(0, 10) === dt;
}

function expectSafe(keys: PartitionKeys): void {
  expect(keys.account).to.match(SAFE_KEY);
  expect(keys.region).to.match(SAFE_KEY);
  expect(keys.dt).to.match(DAY);
  expect(isRealDay(keys.dt), keys.dt).to.equal(true);
}

describe('partitionKeysOf', () => {
  it('uses the account, region and UTC day of a well-formed event', () => {
    expect(partitionKeysOf(cloudTrailEvent(), ARRIVAL)).to.deep.equal({ account: '111122223333', region: 'us-east-1', dt: '2026-11-20' });
  });

  it('accepts the region names AWS uses across its partitions', () => {
    for (const region of [
      'us-east-1',
      'us-west-2',
      'eu-central-2',
      'ap-southeast-5',
      'ap-northeast-3',
      'sa-east-1',
      'ca-west-1',
      'me-central-1',
      'af-south-1',
      'il-central-1',
      'mx-central-1',
      'cn-north-1',
      'cn-northwest-1',
      'us-gov-west-1',
      'us-iso-east-1',
      'us-isob-east-1',
    ]) {
      expect(partitionKeysOf(cloudTrailEvent({ awsRegion: region }), ARRIVAL).region, region).to.equal(region);
    }
  });

  describe('account', () => {
    for (const [value, what] of [
      [undefined, 'missing'],
      [111122223333, 'a number'],
      ['11112222333', '11 digits'],
      ['1111222233334', '13 digits'],
      ['11112222333a', 'a letter'],
      [' 111122223333', 'whitespace'],
      ['111122223333\n', 'a trailing newline'],
      ['１１１１２２２２３３３３', 'full-width digits'],
    ] as [unknown, string][]) {
      it(`falls back to "unknown" when recipientAccountId is ${what}`, () => {
        expect(partitionKeysOf(cloudTrailEvent({ recipientAccountId: value }), ARRIVAL).account).to.equal(PARTITION_FALLBACK.account);
      });
    }

    it('maps accounts outside a configured allowlist to "other" and keeps those in it', () => {
      const accountAllowlist = new Set(['111122223333']);
      expect(partitionKeysOf(cloudTrailEvent(), ARRIVAL, { accountAllowlist }).account).to.equal('111122223333');
      expect(partitionKeysOf(cloudTrailEvent({ recipientAccountId: '444455556666' }), ARRIVAL, { accountAllowlist }).account).to.equal(
        'other',
      );
      expect(partitionKeysOf(cloudTrailEvent({ recipientAccountId: 'garbage' }), ARRIVAL, { accountAllowlist }).account).to.equal(
        'unknown',
      );
    });
  });

  describe('region', () => {
    for (const value of [
      undefined,
      null,
      42,
      '',
      'US-EAST-1',
      'us-east',
      'moon-east-1',
      'us-east-123',
      'us-east-1 ',
      'us-east-1/../x',
      'global',
      'us-upper-1',
    ]) {
      it(`falls back to "unknown" for awsRegion ${JSON.stringify(value)}`, () => {
        expect(partitionKeysOf(cloudTrailEvent({ awsRegion: value }), ARRIVAL).region).to.equal('unknown');
      });
    }
  });

  describe('dt', () => {
    const cases: [unknown, string, string][] = [
      [undefined, ARRIVAL_DAY, 'missing'],
      [1763647401000, ARRIVAL_DAY, 'a number'],
      ['yesterday', ARRIVAL_DAY, 'not a date'],
      ['2026-11-20', ARRIVAL_DAY, 'a date without a time'],
      ['2026-13-01T00:00:00Z', ARRIVAL_DAY, 'month 13'],
      ['2026-02-30T00:00:00Z', ARRIVAL_DAY, 'a day that does not exist (Feb 30)'],
      ['2025-02-29T12:00:00Z', ARRIVAL_DAY, 'Feb 29 of a non-leap year'],
      ['2013-10-31T23:59:59Z', ARRIVAL_DAY, 'before CloudTrail existed'],
      ['1970-01-01T00:00:00Z', ARRIVAL_DAY, 'the epoch'],
      ['2013-11-01T00:00:00Z', '2013-11-01', 'CloudTrail launch day'],
      ['2024-02-29T12:00:00Z', '2024-02-29', 'Feb 29 of a leap year'],
      ['2026-11-19T23:59:59Z', '2026-11-19', 'the day before arrival'],
      ['2026-11-21T14:05:00Z', '2026-11-21', 'exactly one day after arrival'],
      ['2026-11-21T14:05:01Z', ARRIVAL_DAY, 'more than one day after arrival'],
      ['2099-01-01T00:00:00Z', ARRIVAL_DAY, 'far future'],
      ['2026-11-20T23:30:00-05:00', '2026-11-21', 'a negative offset crossing midnight UTC'],
      ['2026-11-20T01:00:00+05:00', '2026-11-19', 'a positive offset crossing midnight UTC'],
      ['2026-11-20T10:00:00.123Z', '2026-11-20', 'fractional seconds'],
    ];
    for (const [value, expected, what] of cases) {
      it(`gives ${expected} for eventTime ${JSON.stringify(value)} (${what})`, () => {
        expect(partitionKeysOf(cloudTrailEvent({ eventTime: value }), ARRIVAL).dt).to.equal(expected);
      });
    }
  });

  it('never lets crafted values into a key', () => {
    const crafted = [
      '../',
      '../../etc',
      'a/b',
      'a=b',
      'x\ny',
      '\u0000',
      'é',
      '🚀',
      '%2F',
      '.',
      '..',
      'A'.repeat(10_000),
      '111122223333/../x',
      'us-east-1\n',
      '2026-11-20T00:00:00Z/../x',
    ];
    for (const value of crafted) {
      const keys = partitionKeysOf(cloudTrailEvent({ recipientAccountId: value, awsRegion: value, eventTime: value }), ARRIVAL);
      expectSafe(keys);
      expect(keys).to.deep.equal({ account: 'unknown', region: 'unknown', dt: ARRIVAL_DAY });
    }
  });

  it('gives safe, bounded keys for any event', () => {
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(fc.oneof(arb, fc.anything({ maxDepth: 1 })), { nil: undefined });
    const isoTime = fc
      .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-12-31T23:59:59Z'), noInvalidDate: true })
      .map((d) => d.toISOString().replace('.000Z', 'Z'));
    const offsetTime = fc
      .tuple(isoTime, fc.integer({ min: -14, max: 14 }))
      .map(([t, h]) => `${t.slice(0, 19)}${h < 0 ? '-' : '+'}${String(Math.abs(h)).padStart(2, '0')}:00`);
    const eventArb = fc.record({
      recipientAccountId: maybe(fc.oneof(fc.stringMatching(/^\d{12}$/), fc.string({ unit: 'binary', maxLength: 20 }))),
      awsRegion: maybe(
        fc.oneof(
          fc.constantFrom('us-east-1', 'eu-west-3', 'us-gov-east-1'),
          fc.string({ maxLength: 30 }),
          fc.stringMatching(/^[a-z-]{2,10}-\d{1,3}$/),
        ),
      ),
      eventTime: maybe(
        fc.oneof(isoTime, offsetTime, fc.string({ maxLength: 30 }), fc.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)),
      ),
    });
    const arrivalArb = fc.integer({ min: Date.UTC(2014, 0, 1), max: Date.UTC(2035, 0, 1) });
    fc.assert(
      fc.property(eventArb, arrivalArb, fc.boolean(), (event, arrival, withAllowlist) => {
        const keys = partitionKeysOf(event, arrival, withAllowlist ? { accountAllowlist: new Set(['111122223333']) } : {});
        expectSafe(keys);
        const dayMs = Date.parse(`${keys.dt}T00:00:00Z`);
        expect(dayMs).to.be.at.least(Date.UTC(2013, 10, 1));
        expect(dayMs).to.be.at.most(arrival + 86_400_000);
      }),
      { numRuns: 200 },
    );
  });
});

describe('fallbackPartitionKeys', () => {
  it('puts an untrusted line in unknown/unknown on its arrival day', () => {
    expect(fallbackPartitionKeys(ARRIVAL)).to.deep.equal({ account: 'unknown', region: 'unknown', dt: ARRIVAL_DAY });
  });
});

describe('utcDay', () => {
  it('formats the UTC day of an instant', () => {
    expect(utcDay(Date.UTC(2026, 0, 1, 23, 59, 59))).to.equal('2026-01-01');
    expect(utcDay(Date.UTC(2026, 0, 2, 0, 0, 0))).to.equal('2026-01-02');
  });

  it('uses the current day for a non-finite instant rather than throwing', () => {
    expect(utcDay(Number.NaN)).to.match(DAY);
  });
});

describe('partitionId', () => {
  it('joins the keys in prefix order', () => {
    expect(partitionId({ account: '111122223333', region: 'us-east-1', dt: '2026-11-20' })).to.equal('111122223333/us-east-1/2026-11-20');
  });
});

describe('sanitisePartitionKeys', () => {
  const valid: PartitionKeys = { account: '111122223333', region: 'eu-west-1', dt: '2026-11-19' };

  it('keeps keys that are already valid', () => {
    expect(sanitisePartitionKeys(valid, ARRIVAL)).to.deep.equal(valid);
  });

  it('keeps the fallback accounts "unknown" and "other"', () => {
    expect(sanitisePartitionKeys({ ...valid, account: 'unknown' }, ARRIVAL).account).to.equal('unknown');
    expect(
      sanitisePartitionKeys({ ...valid, account: 'other' }, ARRIVAL, { accountAllowlist: new Set(['111122223333']) }).account,
    ).to.equal('other');
  });

  it('applies the account allowlist', () => {
    const accountAllowlist = new Set(['999988887777']);
    expect(sanitisePartitionKeys(valid, ARRIVAL, { accountAllowlist }).account).to.equal('other');
  });

  it('accepts a day up to two days after this arrival (the envelope was built at an earlier arrival)', () => {
    expect(sanitisePartitionKeys({ ...valid, dt: '2026-11-22' }, ARRIVAL).dt).to.equal('2026-11-22');
    expect(sanitisePartitionKeys({ ...valid, dt: '2026-11-23' }, ARRIVAL).dt).to.equal(ARRIVAL_DAY);
  });

  it('replaces crafted values with fallbacks', () => {
    for (const value of ['../', 'a/b', '=', 'x\ny', 'A'.repeat(5000), 'é', '2026-11-20/..', '2026-02-30', '2012-01-01', 'unknown ']) {
      const keys = sanitisePartitionKeys({ account: value, region: value, dt: value }, ARRIVAL);
      expect(keys, value).to.deep.equal({ account: 'unknown', region: 'unknown', dt: ARRIVAL_DAY });
    }
  });

  it('gives safe keys for any header values', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      fc.stringMatching(/^\d{12}$/),
      fc.constantFrom('unknown', 'other', 'us-east-1'),
    );
    fc.assert(
      fc.property(text, text, text, (account, region, dt) => {
        expectSafe(sanitisePartitionKeys({ account, region, dt }, ARRIVAL));
      }),
      { numRuns: 200 },
    );
  });
});
