import { expect } from 'chai';
import fc from 'fast-check';
import {
  classifyKey,
  decodeEventKey,
  outputKeyFor,
  outputNameFor,
  parseS3Uri,
  refFromEncodedKey,
  refFromRawKey,
} from '../../../../src/entry/backfill/keys.ts';

const CT = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T1405Z_AbCdEfGh12345678.json.gz';
const keys = { account: '111122223333', region: 'us-east-1', dt: '2026-11-20' };

describe('classifyKey', () => {
  it('accepts CloudTrail log files, organisation trails and Insights files', () => {
    expect(classifyKey({ bucket: 'b', key: CT })).to.deep.equal({ ok: true });
    expect(classifyKey({ bucket: 'b', key: `AWSLogs/o-abc123/${CT.slice('AWSLogs/'.length)}` })).to.deep.equal({ ok: true });
    expect(
      classifyKey({
        bucket: 'b',
        key: 'AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/11/20/111122223333_CloudTrail-Insight_us-east-1_20261120T1405Z_x.json.gz',
      }),
    ).to.deep.equal({ ok: true });
  });

  it('skips digest files by folder or by name', () => {
    expect(classifyKey({ bucket: 'b', key: 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/x.json.gz' })).to.include({
      ok: false,
      reason: 'digest',
    });
    expect(
      classifyKey({ bucket: 'b', key: 'copied/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261120T140500Z.json.gz' }),
    ).to.include({ ok: false, reason: 'digest' });
  });

  it('skips keys that are not .json.gz or .json', () => {
    for (const key of ['AWSLogs/x.txt', 'AWSLogs/x.json.gz.tmp', 'AWSLogs/', 'AWSLogs/x.gz']) {
      expect(classifyKey({ bucket: 'b', key }), key).to.include({ ok: false, reason: 'not-cloudtrail' });
    }
  });

  it('never reads the backfill output back (same bucket, under the destination prefix)', () => {
    const destination = { bucket: 'out', prefix: 'enriched/' };
    expect(
      classifyKey({ bucket: 'out', key: `enriched/account=1/region=r/dt=d/${outputNameFor({ bucket: 'b', key: CT })}` }, destination),
    ).to.include({ reason: 'own-output' });
    expect(classifyKey({ bucket: 'other', key: 'enriched/x.json.gz' }, destination)).to.deep.equal({ ok: true });
  });
});

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

describe('event keys', () => {
  it('decodes S3 notification keys (+ is a space, %2B a plus)', () => {
    expect(decodeEventKey('AWSLogs/odd+name%2B1.json.gz')).to.equal('AWSLogs/odd name+1.json.gz');
    expect(decodeEventKey('bad%E0%A4%A')).to.equal(undefined);
  });

  it('keeps the other spelling as a fallback when decoding changes the key', () => {
    expect(refFromEncodedKey('b', 'a+b.json.gz')).to.deep.equal({ bucket: 'b', key: 'a b.json.gz', alternateKey: 'a+b.json.gz' });
    expect(refFromEncodedKey('b', CT, 'v1')).to.deep.equal({ bucket: 'b', key: CT, versionId: 'v1' });
    expect(refFromEncodedKey('b', 'bad%zz.json.gz')).to.deep.equal({ bucket: 'b', key: 'bad%zz.json.gz' });
    expect(refFromRawKey('b', 'a+b.json.gz')).to.deep.equal({ bucket: 'b', key: 'a+b.json.gz', alternateKey: 'a b.json.gz' });
  });
});

describe('parseS3Uri', () => {
  it('splits s3://bucket/prefix and refuses anything else', () => {
    expect(parseS3Uri('s3://trail-bucket/AWSLogs/111122223333/')).to.deep.equal({
      bucket: 'trail-bucket',
      prefix: 'AWSLogs/111122223333/',
    });
    expect(parseS3Uri('s3://trail-bucket')).to.deep.equal({ bucket: 'trail-bucket', prefix: '' });
    for (const bad of ['trail-bucket/x', 's3://', 's3://UPPER/x', 'https://trail-bucket/x'])
      expect(parseS3Uri(bad), bad).to.equal(undefined);
  });
});
