import { expect } from 'chai';
import { parse } from 'yaml';
import { translateSigma } from '../../../../src/5-rules/sigma/translate.ts';
import { compileRules } from '../../../../src/5-rules/index.ts';

function sigma(detection: string): unknown {
  return parse(`title: Burst
id: 11111111-2222-3333-4444-555555555555
level: high
logsource:
  product: aws
  service: cloudtrail
detection:
${detection
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`);
}

describe('Sigma aggregations as thresholds', () => {
  it('maps count() by a field with a timeframe to a threshold of N + 1 events', () => {
    const t = translateSigma(
      sigma('sel:\n  errorCode: AccessDenied\ntimeframe: 10m\ncondition: sel | count() by userIdentity.arn > 19'),
      'b.yml',
    );
    expect(t.kind).to.equal('rule');
    const rule = (t as { rule: { threshold: unknown; when: unknown } }).rule;
    expect(rule.threshold).to.deep.equal({ count: 20, within: '10m', by: ['userIdentity.arn'] });
    expect(rule.when).to.deep.equal({ field: 'errorCode', equals: 'AccessDenied', ignoreCase: true });
    // The translated rule compiles, threshold and all.
    expect([...compileRules({ version: 1, rules: [(t as { rule: unknown }).rule] }).info.thresholds!.values()]).to.deep.equal([
      { count: 20, withinMs: 600_000, distinct: false },
    ]);
  });

  it('maps count(field) to a distinct threshold, >= to N, and no by to per account', () => {
    const t = translateSigma(
      sigma('sel:\n  eventName: GetSecretValue\ntimeframe: 5m\ncondition: sel | count(requestParameters.secretId) >= 10'),
      'b.yml',
    );
    expect((t as { rule: { threshold: unknown } }).rule.threshold).to.deep.equal({
      count: 10,
      within: '5m',
      by: ['recipientAccountId'],
      distinct: 'requestParameters.secretId',
    });
  });

  for (const [what, detection, feature] of [
    [
      'an aggregation without a timeframe',
      'sel:\n  eventName: X\ncondition: sel | count() by userIdentity.arn > 5',
      /aggregation.*without a timeframe/,
    ],
    ['a timeframe in months', 'sel:\n  eventName: X\ntimeframe: 1M\ncondition: sel | count() > 5', /timeframe "1M"/],
    ['a timeframe without an aggregation', 'sel:\n  eventName: X\ntimeframe: 5m\ncondition: sel', /timeframe without an aggregation/],
    ['a less-than aggregation', 'sel:\n  eventName: X\ntimeframe: 5m\ncondition: sel | count() < 5', /aggregation expression/],
    ['a sum aggregation', 'sel:\n  eventName: X\ntimeframe: 5m\ncondition: sel | sum(x) > 5', /aggregation expression/],
    ['a count over 500', 'sel:\n  eventName: X\ntimeframe: 5m\ncondition: sel | count() > 500', /count 501/],
  ] as const) {
    it(`reports ${what} as unsupported`, () => {
      const t = translateSigma(sigma(detection), 'b.yml');
      expect(t.kind).to.equal('unsupported');
      expect((t as { feature: string }).feature).to.match(feature);
    });
  }
});
