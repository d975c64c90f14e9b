import { expect } from 'chai';
import { parseBaselineConfig } from '../../../src/4-baseline/config.ts';
import { ConfigError } from '../../../src/errors.ts';

describe('parseBaselineConfig', () => {
  it('is off without a table and has the documented defaults', () => {
    expect(parseBaselineConfig({})).to.deep.equal({ learningDays: 7, forgetDays: 30, l1MaxEntries: 50_000 });
  });

  it('reads the table and the windows', () => {
    const c = parseBaselineConfig({ BASELINE_TABLE_NAME: ' baselines ', BASELINE_LEARNING_DAYS: '10', BASELINE_FORGET_DAYS: '90' });
    expect(c).to.include({ tableName: 'baselines', learningDays: 10, forgetDays: 90 });
  });

  it('refuses a bad number naming the variable', () => {
    expect(() => parseBaselineConfig({ BASELINE_FORGET_DAYS: '0' })).to.throw(ConfigError, /BASELINE_FORGET_DAYS/);
    expect(() => parseBaselineConfig({ BASELINE_LEARNING_DAYS: '1e3' })).to.throw(ConfigError, /BASELINE_LEARNING_DAYS/);
  });
});
