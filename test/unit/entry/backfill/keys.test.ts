import { expect } from 'chai';
import fc from 'fast-check';
import { outputKeyFor } from '../../../../src/entry/backfill/keys.ts';

const CT = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T1405Z_AbCdEfGh12345678.json.gz';
const keys = { account: '111122223333', region: 'us-east-1', dt: '2026-11-20' };

describe('outputKeyFor', () => {
  it('places the object in its partition under the prefix, named after the source file', () => {
    expect(outputKeyFor({ bucket: 'trail', key: CT }, keys, 'enriched/')).to.match(
      /^enriched\/account=111122223333\/region=us-east-1\/dt=2026-11-20\/cloudtrail-backfill-111122223333_CloudTrail_us-east-1_20261120T1405Z_AbCdEfGh12345678-[0-9a-f]{16}\.json\.gz$/,
    );
  });

  it('is deterministic, and tells apart sources with the same file name in other buckets or folders', () => {
    const a = outputKeyFor({ bucket: 'trail', key: CT }, keys, 'p/');
    expect(outputKeyFor({ bucket: 'trail', key: CT }, keys, 'p/')).to.equal(a);
    expect(outputKeyFor({ bucket: 'trail-2', key: CT }, keys, 'p/')).to.not.equal(a);
    expect(outputKeyFor({ bucket: 'trail', key: `copy/${CT}` }, keys, 'p/')).to.not.equal(a);
  });

  it('keeps any source key to a short name of safe characters, so nothing escapes the partition', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), fc.string({ maxLength: 20 }), (key, bucket) => {
        const out = outputKeyFor({ bucket, key }, keys, 'enriched/');
        const name = out.slice('enriched/account=111122223333/region=us-east-1/dt=2026-11-20/'.length);
        expect(out.startsWith('enriched/account=111122223333/region=us-east-1/dt=2026-11-20/')).to.equal(true);
        expect(name).to.match(/^cloudtrail-backfill-[A-Za-z0-9_-]{1,160}-[0-9a-f]{16}\.json\.gz$/);
      }),
    );
  });
});
