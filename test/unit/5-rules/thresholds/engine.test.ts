import { expect } from 'chai';
import { compileRules } from '../../../../src/5-rules/index.ts';
import { parseWithin } from '../../../../src/5-rules/thresholds/compile.ts';
import { findRulesProblems } from '../../../../src/5-rules/problems.ts';
import type { ThresholdHit } from '../../../../src/5-rules/types.ts';
import type { CloudTrailEvent, Enrichment } from '../../../../src/model.ts';
import { doc, rule } from '../helpers.ts';

const EMPTY: Enrichment = { version: 1, status: 'complete' };
const secretRead = (secretId: string): CloudTrailEvent => ({
  eventSource: 'secretsmanager.amazonaws.com',
  eventName: 'GetSecretValue',
  eventTime: '2026-12-03T05:00:00Z',
  userIdentity: { arn: 'arn:aws:iam::111122223333:user/alice' },
  requestParameters: { secretId },
});

const thresholdRule = (threshold: Record<string, unknown>) =>
  rule({ field: 'eventName', equals: 'GetSecretValue' }, { id: 'secrets.bulk', priority: 'HIGH', score: 30, threshold });
const plain = rule({ field: 'eventSource', equals: 'secretsmanager.amazonaws.com' }, { id: 'secrets.any', priority: 'LOW', score: 5 });

describe('threshold rules in the engine', () => {
  const engine = compileRules(
    doc([thresholdRule({ count: 10, within: '10m', by: ['userIdentity.arn'], distinct: 'requestParameters.secretId' }), plain]),
  );

  it('reports a matching threshold rule as a candidate with its key and distinct value, not as a match', () => {
    const hits: ThresholdHit[] = [];
    const verdict = engine.evaluate(secretRead('db-password'), EMPTY, hits);
    expect(verdict.risk.reasons.map((r) => r.rule)).to.deep.equal(['secrets.any']);
    expect(hits).to.deep.equal([{ rule: 'secrets.bulk', by: ['arn:aws:iam::111122223333:user/alice'], value: 'db-password' }]);
  });

  it('gives the same verdict without a candidate list (threshold rules never match synchronously)', () => {
    expect(engine.evaluate(secretRead('x'), EMPTY)).to.deep.equal(engine.evaluate(secretRead('x'), EMPTY, []));
  });

  it('adds a crossed threshold rule to the verdict with its priority, score and reason', () => {
    const event = secretRead('db-password');
    const verdict = engine.withThresholds(engine.evaluate(event, EMPTY, []), event, EMPTY, ['secrets.bulk']);
    expect(verdict.priority).to.equal('HIGH');
    expect(verdict.risk.score).to.equal(35);
    expect(verdict.risk.reasons.map((r) => r.rule)).to.deep.equal(['secrets.bulk', 'secrets.any']);
  });

  it('does not add a rule without a threshold, nor an unknown id', () => {
    const event = secretRead('db-password');
    const before = engine.evaluate(event, EMPTY, []);
    expect(engine.withThresholds(before, event, EMPTY, ['secrets.any', 'nope'])).to.equal(before);
  });

  it('lists the threshold rules with count, window and distinct in its info', () => {
    expect([...engine.info.thresholds!]).to.deep.equal([['secrets.bulk', { count: 10, withinMs: 600_000, distinct: true }]]);
  });

  it('skips a distinct candidate without the distinct value, and keys an absent by-field as null', () => {
    const hits: ThresholdHit[] = [];
    const e = secretRead('x') as unknown as Record<string, unknown>;
    delete e.requestParameters;
    engine.evaluate(e, EMPTY, hits);
    expect(hits).to.deep.equal([]);
    const counting = compileRules(doc([thresholdRule({ count: 3, within: '1h', by: ['userIdentity.arn', 'recipientAccountId'] })]));
    counting.evaluate(secretRead('x'), EMPTY, hits);
    expect(hits).to.deep.equal([{ rule: 'secrets.bulk', by: ['arn:aws:iam::111122223333:user/alice', null], value: undefined }]);
  });

  it('reads by-fields under enrichment. from the enrichment', () => {
    const e = compileRules(doc([thresholdRule({ count: 3, within: '1h', by: ['enrichment.baseline.principal'] })]));
    const hits: ThresholdHit[] = [];
    const enr = { ...EMPTY, baseline: { principal: 'arn:aws:iam::111122223333:role/ops', firstSeen: [] } } as Enrichment;
    e.evaluate(secretRead('x'), enr, hits);
    expect(hits[0]!.by).to.deep.equal(['arn:aws:iam::111122223333:role/ops']);
  });

  it('parses window lengths in seconds, minutes, hours and days', () => {
    expect([parseWithin('30s'), parseWithin('10m'), parseWithin('2h'), parseWithin('1d')]).to.deep.equal([
      30_000, 600_000, 7_200_000, 86_400_000,
    ]);
    expect(parseWithin('10')).to.equal(undefined);
    expect(parseWithin('0m')).to.equal(undefined);
  });

  for (const [what, threshold, message] of [
    ['a malformed window', { count: 2, within: '10 minutes', by: ['userIdentity.arn'] }, /within/],
    ['a window over 7 days', { count: 2, within: '8d', by: ['userIdentity.arn'] }, /longer than 7 days/],
    ['a by-path with []', { count: 2, within: '1m', by: ['resources[].ARN'] }, /several values/],
    ['a distinct path with []', { count: 2, within: '1m', by: ['userIdentity.arn'], distinct: 'resources[].ARN' }, /several values/],
    ['a count over 500', { count: 501, within: '1m', by: ['userIdentity.arn'] }, /threshold/],
    ['no by', { count: 2, within: '1m' }, /threshold/],
  ] as const) {
    it(`refuses ${what}, naming the field`, () => {
      const problems = findRulesProblems(doc([thresholdRule(threshold)]));
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(message);
    });
  }
});
