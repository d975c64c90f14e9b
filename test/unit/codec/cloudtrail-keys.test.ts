import { expect } from 'chai';
import { classifyKey, decodeEventKey, parseS3Uri, refFromEncodedKey, refFromRawKey } from '../../../src/codec/cloudtrail-keys.ts';
import { outputNameFor } from '../../../src/entry/backfill/keys.ts';

const CT = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T1405Z_AbCdEfGh12345678.json.gz';

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
