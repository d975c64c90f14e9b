import { expect } from 'chai';
import { checkPrefix, DEFAULT_OBJECT_LIMITS, parseBackfillConfig, parseObjectLimits } from '../../../../src/entry/backfill/config.ts';
import { ConfigError } from '../../../../src/errors.ts';

describe('parseBackfillConfig', () => {
  it('reads the output bucket and prefix the deployment sets, with the default limits', () => {
    expect(
      parseBackfillConfig({ OUTPUT_BUCKET: 'cloudtrail-enricher-dev-111122223333-us-east-1', OUTPUT_PREFIX: 'enriched/' }),
    ).to.deep.equal({
      destination: { bucket: 'cloudtrail-enricher-dev-111122223333-us-east-1', prefix: 'enriched/' },
      limits: DEFAULT_OBJECT_LIMITS,
    });
    expect(parseBackfillConfig({ OUTPUT_BUCKET: 'out' }).destination.prefix).to.equal('enriched/');
  });

  it('names the variable when the bucket is missing or malformed', () => {
    for (const env of [{}, { OUTPUT_BUCKET: '' }, { OUTPUT_BUCKET: 'Bad_Bucket' }]) {
      expect(() => parseBackfillConfig(env)).to.throw(ConfigError, /OUTPUT_BUCKET/);
    }
  });

  it('refuses prefixes that could leave their folder or are not folders', () => {
    for (const prefix of ['enriched', '/enriched/', 'a/../b/', 'a//b/', 'a b/', './']) {
      expect(() => parseBackfillConfig({ OUTPUT_BUCKET: 'out', OUTPUT_PREFIX: prefix }), prefix).to.throw(ConfigError, /OUTPUT_PREFIX/);
    }
    expect(checkPrefix('', 'x')).to.equal('');
    expect(checkPrefix('a/b=c/', 'x')).to.equal('a/b=c/');
  });

  it('reads the object limits and bounds them', () => {
    expect(parseObjectLimits({ CLOUDTRAIL_OBJECT_MAX_BYTES: '2048', CLOUDTRAIL_OBJECT_MAX_DECOMPRESSED_BYTES: '4096' })).to.deep.equal({
      maxObjectBytes: 2048,
      maxDecompressedBytes: 4096,
    });
    expect(() => parseObjectLimits({ CLOUDTRAIL_OBJECT_MAX_DECOMPRESSED_BYTES: String(1024 ** 3) })).to.throw(
      ConfigError,
      /CLOUDTRAIL_OBJECT_MAX_DECOMPRESSED_BYTES/,
    );
  });
});
