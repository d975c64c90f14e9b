import { expect } from 'chai';
import { DEFAULT_OBJECT_LIMITS } from '../../../../src/codec/s3-object.ts';
import { checkPrefix, parseBackfillConfig } from '../../../../src/entry/backfill/config.ts';
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
});
