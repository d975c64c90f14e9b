import { expect } from 'chai';
import fc from 'fast-check';
import { compileRules, priorityFromScore } from '../../../src/5-rules/index.ts';
import type { CloudTrailEvent, Enrichment } from '../../../src/model.ts';
import { doc, enrichmentFor, fixture, rule } from './helpers.ts';

const EMPTY: Enrichment = { version: 1, status: 'complete' };

/** Does a single-rule document match the event? */
function matches(when: unknown, event: CloudTrailEvent, enrichment: Enrichment = EMPTY, extra: Record<string, unknown> = {}): boolean {
  const engine = compileRules(doc([rule(when)], extra));
  return engine.evaluate(event, enrichment).risk.reasons.length === 1;
}

describe('RuleEngine (compileRules)', () => {
  const sg = fixture('ec2-authorize-sg-ingress-ipv4-world');
  const login = fixture('console-login-success-no-mfa');

  describe('operators', () => {
    it('equals compares strictly by type', () => {
      expect(matches({ field: 'eventName', equals: 'AuthorizeSecurityGroupIngress' }, sg)).to.equal(true);
      expect(matches({ field: 'eventName', equals: 'authorizesecuritygroupingress' }, sg)).to.equal(false);
      expect(matches({ field: 'readOnly', equals: false }, sg)).to.equal(true);
      expect(matches({ field: 'readOnly', equals: 'false' }, sg)).to.equal(false);
      expect(matches({ field: 'requestParameters.ipPermissions.items[0].fromPort', equals: 22 }, sg)).to.equal(true);
    });

    it('ignoreCase folds equals, in, prefix, suffix, contains and regex', () => {
      expect(matches({ field: 'eventName', equals: 'authorizesecuritygroupingress', ignoreCase: true }, sg)).to.equal(true);
      expect(matches({ field: 'eventName', in: ['x', 'AUTHORIZESECURITYGROUPINGRESS'], ignoreCase: true }, sg)).to.equal(true);
      expect(matches({ field: 'eventName', prefix: 'AUTHORIZE', ignoreCase: true }, sg)).to.equal(true);
      expect(matches({ field: 'eventName', suffix: 'INGRESS', ignoreCase: true }, sg)).to.equal(true);
      expect(matches({ field: 'eventName', contains: 'SECURITYGROUP', ignoreCase: true }, sg)).to.equal(true);
      expect(matches({ field: 'eventName', regex: '^authorize', ignoreCase: true }, sg)).to.equal(true);
    });

    it('in matches any listed scalar', () => {
      expect(matches({ field: 'eventName', in: ['RevokeSecurityGroupIngress', 'AuthorizeSecurityGroupIngress'] }, sg)).to.equal(true);
      expect(matches({ field: 'eventName', in: ['RevokeSecurityGroupIngress'] }, sg)).to.equal(false);
    });

    it('prefix, suffix and contains accept a list', () => {
      expect(matches({ field: 'userIdentity.arn', prefix: ['arn:aws:sts::', 'arn:aws:iam::'] }, sg)).to.equal(true);
      expect(matches({ field: 'userIdentity.arn', suffix: ['/Bob', '/Alice'] }, sg)).to.equal(true);
      expect(matches({ field: 'userIdentity.arn', contains: [':role/'] }, sg)).to.equal(false);
    });

    it('regex is precompiled and applies only to strings', () => {
      expect(matches({ field: 'recipientAccountId', regex: '^\\d{12}$' }, sg)).to.equal(true);
      expect(matches({ field: 'requestParameters.ipPermissions.items[0].fromPort', regex: '22' }, sg)).to.equal(false);
    });

    it('exists treats null and absent alike', () => {
      expect(matches({ field: 'errorCode', exists: false }, sg)).to.equal(true);
      expect(matches({ field: 'responseElements', exists: true }, sg)).to.equal(true);
      expect(matches({ field: 'requestParameters', exists: true }, login)).to.equal(false); // "requestParameters": null
      expect(matches({ field: 'requestParameters', exists: false }, login)).to.equal(true);
    });

    it('numeric comparisons apply only to numbers, and several operators on one field all must hold', () => {
      const e = enrichmentFor(login, { reputation: { fraudScore: 75 } });
      expect(matches({ field: 'enrichment.source.reputation.fraudScore', gte: 75 }, login, e)).to.equal(true);
      expect(matches({ field: 'enrichment.source.reputation.fraudScore', gt: 75 }, login, e)).to.equal(false);
      expect(matches({ field: 'enrichment.source.reputation.fraudScore', lt: 76, gt: 74 }, login, e)).to.equal(true);
      expect(matches({ field: 'enrichment.source.reputation.fraudScore', lte: 74 }, login, e)).to.equal(false);
      expect(matches({ field: 'recipientAccountId', gt: 0 }, login)).to.equal(false); // a numeric string is not a number
    });

    it('cidr matches IPv4, IPv6 and IPv4-mapped addresses', () => {
      expect(matches({ field: 'sourceIPAddress', cidr: '81.2.69.0/24' }, login)).to.equal(true);
      expect(matches({ field: 'sourceIPAddress', cidr: ['10.0.0.0/8', '81.2.69.160'] }, login)).to.equal(true);
      expect(matches({ field: 'sourceIPAddress', cidr: '81.2.70.0/24' }, login)).to.equal(false);
      const v6 = { ...login, sourceIPAddress: '2a02:c7c:4d4c:9a00::1' };
      expect(matches({ field: 'sourceIPAddress', cidr: '2a02:c7c::/32' }, v6)).to.equal(true);
      const mapped = { ...login, sourceIPAddress: '::ffff:81.2.69.160' };
      expect(matches({ field: 'sourceIPAddress', cidr: '81.2.69.0/24' }, mapped)).to.equal(true);
      expect(matches({ field: 'userAgent', cidr: '0.0.0.0/0' }, login)).to.equal(false);
    });

    it('equalsField compares two fields of the event', () => {
      const own = fixture('iam-create-access-key-self');
      const other = fixture('iam-create-access-key-other-user');
      const when = { field: 'requestParameters.userName', equalsField: 'userIdentity.userName' };
      expect(matches(when, own)).to.equal(true);
      expect(matches(when, other)).to.equal(false);
    });

    it('[] means "any element", and a bare object counts as a one-element list', () => {
      expect(matches({ field: 'requestParameters.ipPermissions.items[].ipRanges.items[].cidrIp', equals: '0.0.0.0/0' }, sg)).to.equal(true);
      expect(matches({ field: 'requestParameters.ipPermissions.items[].ipRanges.items[].cidrIp', equals: '10.0.0.0/8' }, sg)).to.equal(
        false,
      );
      const single = structuredClone(sg) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      single.requestParameters.ipPermissions.items = single.requestParameters.ipPermissions.items[0];
      expect(matches({ field: 'requestParameters.ipPermissions.items[].ipRanges.items[].cidrIp', equals: '0.0.0.0/0' }, single)).to.equal(
        true,
      );
    });

    it('not over an [] path means "no element"', () => {
      const when = { not: { field: 'requestParameters.ipPermissions.items[].ipRanges.items[].cidrIp', prefix: '10.' } };
      expect(matches(when, sg)).to.equal(true);
      expect(matches(when, fixture('ec2-authorize-sg-ingress-private'))).to.equal(false);
    });

    it('some evaluates a condition against each element, with $ reaching the event root', () => {
      const policy = fixture('s3-put-bucket-policy-deny-insecure-transport');
      const allowStar = {
        field: 'requestParameters.bucketPolicy.Statement[]',
        some: {
          all: [
            { field: 'Effect', equals: 'Allow' },
            { field: 'Principal.AWS[]', equals: '*' },
          ],
        },
      };
      expect(matches(allowStar, policy)).to.equal(false); // Deny has "*", Allow has a role: never in the same statement
      const denyStar = {
        field: 'requestParameters.bucketPolicy.Statement[]',
        some: {
          all: [
            { field: 'Effect', equals: 'Deny' },
            { field: 'Principal.AWS', equals: '*' },
            { field: '$.eventName', equals: 'PutBucketPolicy' },
          ],
        },
      };
      expect(matches(denyStar, policy)).to.equal(true);
    });

    it('all, any and not combine', () => {
      const t = { field: 'eventName', equals: 'AuthorizeSecurityGroupIngress' };
      const f = { field: 'eventName', equals: 'DeleteTrail' };
      expect(matches({ all: [t, t] }, sg)).to.equal(true);
      expect(matches({ all: [t, f] }, sg)).to.equal(false);
      expect(matches({ any: [f, t] }, sg)).to.equal(true);
      expect(matches({ any: [f, f] }, sg)).to.equal(false);
      expect(matches({ not: f }, sg)).to.equal(true);
      expect(matches({ not: { not: t } }, sg)).to.equal(true);
    });

    it('values watchlists match exactly unless ignoreCase', () => {
      const extra = {
        watchlists: { names: { type: 'values', entries: ['Alice'] }, folded: { type: 'values', ignoreCase: true, entries: ['ALICE'] } },
      };
      expect(matches({ field: 'userIdentity.userName', inWatchlist: 'names' }, login, EMPTY, extra)).to.equal(true);
      expect(matches({ field: 'userIdentity.userName', inWatchlist: 'folded' }, login, EMPTY, extra)).to.equal(true);
      expect(
        matches({ field: 'userIdentity.userName', inWatchlist: 'names' }, { ...login, userIdentity: { userName: 'alice' } }, EMPTY, extra),
      ).to.equal(false);
    });
  });

  describe('attacker-shaped events', () => {
    it('never resolves __proto__ or constructor to a prototype', () => {
      const event = JSON.parse('{"eventName":"X","requestParameters":{"a":1}}') as CloudTrailEvent;
      expect(matches({ field: 'constructor', exists: true }, event)).to.equal(false);
      expect(matches({ field: '__proto__', exists: true }, event)).to.equal(false);
      expect(matches({ field: 'requestParameters.constructor.name', equals: 'Object' }, event)).to.equal(false);
      expect(matches({ field: 'requestParameters.hasOwnProperty', exists: true }, event)).to.equal(false);
      expect(matches({ field: 'eventName.length', equals: 1 }, event)).to.equal(false);
    });

    it('reads an own "__proto__" key as plain data', () => {
      const event = JSON.parse('{"__proto__":{"polluted":"yes"}}') as CloudTrailEvent;
      expect(matches({ field: '__proto__.polluted', equals: 'yes' }, event)).to.equal(true);
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });

    it('evaluates any JSON value without throwing and keeps the score within 0–100', () => {
      const engine = compileRules(
        doc([
          rule({ field: 'a[].b[].c', equals: 1 }, { id: 'a', score: 60, priority: 'LOW' }),
          rule({ field: 'sourceIPAddress', cidr: '0.0.0.0/0' }, { id: 'b', score: 70 }),
          rule({ any: [{ timeOfDay: { from: '22:00', to: '06:00' } }, { field: 'x', regex: '^a' }] }, { id: 'c', score: -100 }),
          rule({ field: 'userIdentity.arn', prefix: 'arn' }, { id: 'd', score: 100 }),
        ]),
      );
      fc.assert(
        fc.property(
          fc.dictionary(
            fc.constantFrom('a', 'x', 'sourceIPAddress', 'eventTime', 'userIdentity', '__proto__', 'constructor'),
            fc.jsonValue(),
          ),
          (event) => {
            const verdict = engine.evaluate(event, EMPTY);
            expect(verdict.risk.score).to.be.within(0, 100);
            expect(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']).to.include(verdict.priority);
            expect(verdict.risk.reasons.length).to.be.at.most(4);
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('verdict', () => {
    it('is LOW, 0 and no reasons when nothing matches', () => {
      const engine = compileRules(doc([rule({ field: 'eventName', equals: 'Nope' })]));
      expect(engine.evaluate(sg, EMPTY)).to.deep.equal({ priority: 'LOW', risk: { score: 0, reasons: [] } });
    });

    it('sums scores, clamps to 0–100 and takes the highest rule priority', () => {
      const yes = { field: 'eventName', exists: true };
      const engine = compileRules(
        doc([
          rule(yes, { id: 'low', priority: 'LOW', score: 30 }),
          rule(yes, { id: 'high', priority: 'HIGH', score: 10 }),
          rule(yes, { id: 'minus', priority: 'LOW', score: -5 }),
        ]),
      );
      const v = engine.evaluate(sg, EMPTY);
      expect(v.risk.score).to.equal(35);
      expect(v.priority).to.equal('HIGH');
      expect(v.risk.reasons.map((r) => [r.rule, r.priority, r.score])).to.deep.equal([
        ['high', 'HIGH', 10],
        ['low', 'LOW', 30],
        ['minus', 'LOW', -5],
      ]);
      const many = compileRules(doc([0, 1, 2].map((i) => rule(yes, { id: `r${i}`, priority: 'LOW', score: 50 }))));
      expect(many.evaluate(sg, EMPTY).risk.score).to.equal(100);
      const negative = compileRules(doc([rule(yes, { id: 'n', priority: 'LOW', score: -40 })]));
      expect(negative.evaluate(sg, EMPTY).risk.score).to.equal(0);
    });

    it('raises the priority from the score when the rules alone say less', () => {
      const yes = { field: 'eventName', exists: true };
      const engine = compileRules(
        doc([rule(yes, { id: 'a', priority: 'LOW', score: 45 }), rule(yes, { id: 'b', priority: 'MEDIUM', score: 45 })]),
      );
      expect(engine.evaluate(sg, EMPTY).priority).to.equal('CRITICAL');
      expect(priorityFromScore(0)).to.equal('LOW');
      expect(priorityFromScore(39)).to.equal('LOW');
      expect(priorityFromScore(40)).to.equal('MEDIUM');
      expect(priorityFromScore(69)).to.equal('MEDIUM');
      expect(priorityFromScore(70)).to.equal('HIGH');
      expect(priorityFromScore(89)).to.equal('HIGH');
      expect(priorityFromScore(90)).to.equal('CRITICAL');
    });

    it('skips rules with enabled: false and those listed in disabledRules', () => {
      const yes = { field: 'eventName', exists: true };
      const d = doc([rule(yes, { id: 'on' }), rule(yes, { id: 'off', enabled: false }), rule(yes, { id: 'muted' })]);
      const engine = compileRules(d, { disabledRules: ['muted'] });
      expect(engine.evaluate(sg, EMPTY).risk.reasons.map((r) => r.rule)).to.deep.equal(['on']);
      expect(engine.info.disabled).to.deep.equal(['off', 'muted']);
    });

    it('returns a fresh verdict per event (callers may mutate it)', () => {
      const engine = compileRules(doc([rule({ field: 'eventName', exists: true })]));
      const a = engine.evaluate(sg, EMPTY);
      a.risk.reasons.length = 0;
      expect(engine.evaluate(sg, EMPTY).risk.reasons).to.have.length(1);
    });
  });

  describe('reason text', () => {
    it('interpolates event and enrichment fields, with alternatives and literal braces', () => {
      const engine = compileRules(
        doc([
          rule(
            { field: 'eventName', exists: true },
            { reason: '{{x}} {eventName} from {enrichment.source.ip} by {userIdentity.nope|userIdentity.userName}: {missing}' },
          ),
        ]),
      );
      const detail = engine.evaluate(login, enrichmentFor(login)).risk.reasons[0]!.detail;
      expect(detail).to.equal('{x} ConsoleLogin from 81.2.69.160 by Alice: -');
    });

    it('lists the values of an [] path', () => {
      const engine = compileRules(
        doc([
          rule(
            { field: 'eventName', exists: true },
            { reason: 'ranges {requestParameters.ipPermissions.items[].ipRanges.items[].cidrIp}' },
          ),
        ]),
      );
      const event = structuredClone(sg) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      event.requestParameters.ipPermissions.items[0].ipRanges.items.push({ cidrIp: '10.0.0.0/8' });
      expect(engine.evaluate(event, EMPTY).risk.reasons[0]!.detail).to.equal('ranges 0.0.0.0/0, 10.0.0.0/8');
    });

    it('strips control characters and bounds attacker-controlled values', () => {
      const engine = compileRules(
        doc([rule({ field: 'eventName', exists: true }, { reason: 'by {userIdentity.userName} ua {userAgent}' })]),
      );
      const evil = { ...login, userIdentity: { userName: 'bob\u001b[31m\r\nFAKE ALERT\u202e' }, userAgent: 'x'.repeat(100_000) };
      const detail = engine.evaluate(evil, EMPTY).risk.reasons[0]!.detail;
      expect(detail).to.not.match(/[\u0000-\u001f\u007f-\u009f\u202e]/); // eslint-disable-line no-control-regex
      expect(detail).to.include('bob[31mFAKE ALERT');
      expect(detail.length).to.be.lessThan(300);
      expect(detail).to.match(/x…$/);
    });
  });
});
