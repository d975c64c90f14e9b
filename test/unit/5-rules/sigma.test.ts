import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SigmaRuleError } from '../../../src/errors.ts';
import type { CloudTrailEvent, Enrichment, Log } from '../../../src/model.ts';
import { loadRuleEngine, parseRulesConfig } from '../../../src/5-rules/index.ts';
import { parseCondition } from '../../../src/5-rules/sigma/condition.ts';
import { attackFromTags, SIGMA_LEVELS } from '../../../src/5-rules/sigma/translate.ts';
import { enrichmentFor, fixture } from './helpers.ts';

const SIGMA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'sigma');

/** An engine of the default rules plus the given Sigma files (held in memory under /sigma). */
function engineWith(files: Record<string, string>, env: Record<string, string> = {}, log?: Log): ReturnType<typeof loadRuleEngine> {
  const mem = new Map(Object.entries(files).map(([name, text]) => [`/sigma/${name}`, text]));
  const config = parseRulesConfig({ SIGMA_RULES_DIR: '/sigma', ...env });
  return loadRuleEngine(config, {
    readFile: (p) => mem.get(p) ?? readFileSync(p, 'utf8'),
    isDirectory: (p) => p === '/sigma' || [...mem.keys()].some((k) => k.startsWith(`${p}/`)),
    readDir: (p) => {
      const names = new Map<string, boolean>();
      for (const k of mem.keys()) {
        if (!k.startsWith(`${p}/`)) continue;
        const [head, ...rest] = k.slice(p.length + 1).split('/');
        names.set(head!, rest.length > 0);
      }
      return [...names].map(([name, isDirectory]) => ({ name, isDirectory }));
    },
    ...(log ? { log } : {}),
  });
}

/** A CloudTrail Sigma rule around a detection block (YAML text, indented under `detection:`). */
function sigma(detection: string, extra = ''): string {
  return `title: Conformance rule\nid: 00000000-0000-4000-8000-000000000001\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n${detection
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\nlevel: high\n${extra}`;
}

const RULE = 'sigma.00000000-0000-4000-8000-000000000001';

function matches(detection: string, event: Record<string, unknown>, enrichment?: Enrichment): boolean {
  const engine = engineWith({ 'r.yml': sigma(detection) });
  const verdict = engine.evaluate(event, enrichment ?? enrichmentFor(event));
  return verdict.risk.reasons.some((r) => r.rule === RULE);
}

const listUsers = (): Record<string, unknown> => fixture('iam-list-users');

describe('Sigma rules (SIGMA_RULES_DIR)', () => {
  describe('loading a directory', () => {
    const engine = loadRuleEngine(parseRulesConfig({ SIGMA_RULES_DIR: SIGMA_DIR }));

    it('reads it recursively, compiles the CloudTrail rules and counts the others', () => {
      expect(engine.sigma).to.deep.equal({ files: 4, loaded: 2, skippedLogsource: 1, skippedCorrelation: 1, skippedUnsupported: 0 });
      expect(engine.info.ruleIds).to.include('sigma.6f0b8f1e-5d1a-4c8e-9a64-0c7d2e9a1b01');
    });

    it('matches MFAUsed: NO against CloudTrail\'s "No" (case-insensitive by default)', () => {
      const event = fixture('console-login-success-no-mfa');
      const reason = engine
        .evaluate(event, enrichmentFor(event))
        .risk.reasons.find((r) => r.rule === 'sigma.6f0b8f1e-5d1a-4c8e-9a64-0c7d2e9a1b01');
      expect(reason).to.exist;
      expect(reason!.priority).to.equal('MEDIUM');
      expect(reason!.score).to.equal(SIGMA_LEVELS.medium.score);
      expect(reason!.detail)
        .to.include('Console sign-in without MFA')
        .and.include('6f0b8f1e-5d1a-4c8e-9a64-0c7d2e9a1b01')
        .and.include('T1078.004');
      expect(reason!.attack).to.deep.equal({ tactics: ['initial-access'], techniques: ['T1078.004'] });
    });

    it('evaluates "all of selection_* and not _filter"', () => {
      const stop = fixture('cloudtrail-stop-logging');
      expect(engine.evaluate(stop, enrichmentFor(stop)).risk.reasons.map((r) => r.rule)).to.include(
        'sigma.6f0b8f1e-5d1a-4c8e-9a64-0c7d2e9a1b02',
      );
      (stop as Record<string, unknown>).userIdentity = {
        ...(stop.userIdentity as object),
        arn: 'arn:aws:sts::123456789012:assumed-role/automation-trails/x',
      };
      expect(engine.evaluate(stop, enrichmentFor(stop)).risk.reasons.map((r) => r.rule)).to.not.include(
        'sigma.6f0b8f1e-5d1a-4c8e-9a64-0c7d2e9a1b02',
      );
    });
  });

  describe('values', () => {
    it('ORs a list of values', () => {
      expect(matches('selection:\n  eventName: [ListRoles, ListUsers]\ncondition: selection', listUsers())).to.equal(true);
      expect(matches('selection:\n  eventName: [ListRoles, GetUser]\ncondition: selection', listUsers())).to.equal(false);
    });
    it('ANDs the fields of a map', () => {
      expect(matches('selection:\n  eventName: ListUsers\n  userIdentity.type: IAMUser\ncondition: selection', listUsers())).to.equal(true);
      expect(matches('selection:\n  eventName: ListUsers\n  userIdentity.type: Root\ncondition: selection', listUsers())).to.equal(false);
    });
    it('ORs a list of maps', () => {
      expect(matches('selection:\n  - eventName: GetUser\n  - userIdentity.userName: alice\ncondition: selection', listUsers())).to.equal(
        true,
      );
      expect(matches('selection:\n  - eventName: GetUser\n  - userIdentity.userName: bob\ncondition: selection', listUsers())).to.equal(
        false,
      );
    });
    it('treats null as absent or null', () => {
      expect(matches('selection:\n  requestParameters: null\ncondition: selection', listUsers())).to.equal(true);
      expect(matches('selection:\n  errorCode: null\ncondition: selection', listUsers())).to.equal(true);
      expect(matches('selection:\n  userAgent: null\ncondition: selection', listUsers())).to.equal(false);
    });
    it('supports * and ? wildcards, with \\ escapes', () => {
      expect(matches("selection:\n  userIdentity.arn: 'arn:aws:iam::*:user/Al?ce'\ncondition: selection", listUsers())).to.equal(true);
      expect(matches("selection:\n  userIdentity.arn: 'arn:aws:iam::*:user/Al?'\ncondition: selection", listUsers())).to.equal(false);
      const star = { ...listUsers(), userAgent: 'tool*v1?' };
      expect(matches("selection:\n  userAgent: 'tool\\*v1\\?'\ncondition: selection", star)).to.equal(true);
      expect(matches("selection:\n  userAgent: 'tool\\*v1\\?'\ncondition: selection", { ...star, userAgent: 'toolXv1Y' })).to.equal(false);
      // A backslash before anything but *, ? and \ is literal; \\ followed by * is a backslash, then a wildcard.
      expect(
        matches("selection:\n  userAgent: 'C:\\Windows\\\\*'\ncondition: selection", { ...star, userAgent: 'C:\\Windows\\x' }),
      ).to.equal(true);
    });
    it('compares case-sensitively with |cased', () => {
      expect(matches('selection:\n  eventName|cased: listusers\ncondition: selection', listUsers())).to.equal(false);
      expect(matches('selection:\n  eventName|cased: ListUsers\ncondition: selection', listUsers())).to.equal(true);
    });
    it('matches numbers and booleans in either form', () => {
      const e = { ...listUsers(), requestParameters: { maxItems: 100, enabled: 'true' } };
      expect(matches('selection:\n  requestParameters.maxItems: 100\n  requestParameters.enabled: true\ncondition: selection', e)).to.equal(
        true,
      );
    });
    it('reads nested fields through arrays', () => {
      const event = fixture('ec2-authorize-sg-ingress-ipv4-world');
      expect(
        matches("selection:\n  requestParameters.ipPermissions.items.ipRanges.items.cidrIp: '0.0.0.0/0'\ncondition: selection", event),
      ).to.equal(true);
    });
  });

  describe('modifiers', () => {
    it('contains, startswith, endswith', () => {
      expect(matches('selection:\n  userAgent|contains: PYTHON\ncondition: selection', listUsers())).to.equal(true);
      expect(matches('selection:\n  userAgent|startswith: aws-cli/\ncondition: selection', listUsers())).to.equal(true);
      expect(matches('selection:\n  userAgent|endswith: command/x\ncondition: selection', listUsers())).to.equal(true);
      expect(matches('selection:\n  userAgent|endswith: aws-cli\ncondition: selection', listUsers())).to.equal(false);
    });
    it('all turns a list into AND', () => {
      expect(matches('selection:\n  userAgent|contains|all: [aws-cli, Linux]\ncondition: selection', listUsers())).to.equal(true);
      expect(matches('selection:\n  userAgent|contains|all: [aws-cli, Windows]\ncondition: selection', listUsers())).to.equal(false);
    });
    it('re with i, m and s', () => {
      expect(matches("selection:\n  userAgent|re: '^aws-cli/2\\.'\ncondition: selection", listUsers())).to.equal(true);
      expect(matches("selection:\n  userAgent|re: '^AWS-CLI'\ncondition: selection", listUsers())).to.equal(false);
      expect(matches("selection:\n  userAgent|re|i: '^AWS-CLI'\ncondition: selection", listUsers())).to.equal(true);
      const multi = { ...listUsers(), userAgent: 'first\nsecond' };
      expect(matches("selection:\n  userAgent|re: '^second'\ncondition: selection", multi)).to.equal(false);
      expect(matches("selection:\n  userAgent|re|m: '^second'\ncondition: selection", multi)).to.equal(true);
      expect(matches("selection:\n  userAgent|re: 'first.second'\ncondition: selection", multi)).to.equal(false);
      expect(matches("selection:\n  userAgent|re|s: 'first.second'\ncondition: selection", multi)).to.equal(true);
    });
    it('keeps the ReDoS guard for re', () => {
      expect(() => engineWith({ 'r.yml': sigma("selection:\n  userAgent|re: '(a+)+$'\ncondition: selection") })).to.throw(
        /r\.yml.*nested quantifier/,
      );
    });
    it('cidr', () => {
      expect(matches("selection:\n  sourceIPAddress|cidr: '73.162.0.0/16'\ncondition: selection", listUsers())).to.equal(true);
      expect(matches("selection:\n  sourceIPAddress|cidr: '10.0.0.0/8'\ncondition: selection", listUsers())).to.equal(false);
    });
    it('exists', () => {
      expect(matches('selection:\n  userIdentity.accessKeyId|exists: true\ncondition: selection', listUsers())).to.equal(true);
      expect(matches('selection:\n  errorCode|exists: true\ncondition: selection', listUsers())).to.equal(false);
      expect(matches('selection:\n  errorCode|exists: false\ncondition: selection', listUsers())).to.equal(true);
    });
    it('fieldref', () => {
      const e = { ...listUsers(), requestParameters: { userName: 'ALICE' } };
      expect(matches('selection:\n  requestParameters.userName|fieldref: userIdentity.userName\ncondition: selection', e)).to.equal(true);
      expect(matches('selection:\n  requestParameters.userName|fieldref|cased: userIdentity.userName\ncondition: selection', e)).to.equal(
        false,
      );
    });
    it('expand resolves %name% from the values watchlist of that name', () => {
      const rules = `version: 1\nwatchlists:\n  adminUsers:\n    type: values\n    entries: [alice, root]\nrules: []\n`;
      const mem: Record<string, string> = {
        '/rules.yaml': rules,
        '/sigma/r.yml': sigma("selection:\n  userIdentity.userName|expand: '%adminUsers%'\ncondition: selection"),
      };
      const engine = loadRuleEngine(parseRulesConfig({ RULES_FILE: '/rules.yaml', SIGMA_RULES_DIR: '/sigma' }), {
        readFile: (p) => {
          if (mem[p] === undefined) throw new Error(`ENOENT ${p}`);
          return mem[p];
        },
        isDirectory: (p) => p === '/sigma',
        readDir: () => [{ name: 'r.yml', isDirectory: false }],
      });
      const e = listUsers() as CloudTrailEvent;
      expect(engine.evaluate(e, enrichmentFor(e)).risk.reasons.map((r) => r.rule)).to.deep.equal([RULE]);
    });
    it('gt, gte, lt, lte', () => {
      const e = { ...listUsers(), requestParameters: { durationSeconds: 43200 } };
      expect(matches('selection:\n  requestParameters.durationSeconds|gte: 43200\ncondition: selection', e)).to.equal(true);
      expect(matches('selection:\n  requestParameters.durationSeconds|lt: 3600\ncondition: selection', e)).to.equal(false);
    });
  });

  describe('conditions', () => {
    const two = 'sel_name:\n  eventName: ListUsers\nsel_type:\n  userIdentity.type: Root\n_skip:\n  eventName: Nothing\n';
    it('and, or, not, parentheses', () => {
      expect(matches(`${two}condition: sel_name and not sel_type`, listUsers())).to.equal(true);
      expect(matches(`${two}condition: sel_type or (sel_name and not _skip)`, listUsers())).to.equal(true);
      expect(matches(`${two}condition: not (sel_name or sel_type)`, listUsers())).to.equal(false);
    });
    it('1 of x*, all of x*, 1 of them, all of them (them skips _ identifiers)', () => {
      expect(matches(`${two}condition: 1 of sel_*`, listUsers())).to.equal(true);
      expect(matches(`${two}condition: all of sel_*`, listUsers())).to.equal(false);
      expect(matches(`${two}condition: 1 of them`, listUsers())).to.equal(true);
      expect(matches('a:\n  eventName: ListUsers\n_b:\n  eventName: Nothing\ncondition: all of them', listUsers())).to.equal(true);
    });
    it('parses precedence: not binds tighter than and, and tighter than or', () => {
      const parsed = parseCondition('a or not b and c');
      expect(parsed).to.deep.equal({
        ok: true,
        value: {
          kind: 'or',
          parts: [
            { kind: 'id', name: 'a' },
            {
              kind: 'and',
              parts: [
                { kind: 'not', part: { kind: 'id', name: 'b' } },
                { kind: 'id', name: 'c' },
              ],
            },
          ],
        },
      });
    });
  });

  describe('metadata', () => {
    it('maps levels to priorities with documented default scores', () => {
      expect(SIGMA_LEVELS).to.deep.equal({
        informational: { priority: 'LOW', score: 5 },
        low: { priority: 'LOW', score: 10 },
        medium: { priority: 'MEDIUM', score: 30 },
        high: { priority: 'HIGH', score: 50 },
        critical: { priority: 'CRITICAL', score: 70 },
      });
    });
    it('reads ATT&CK tactics and techniques from tags', () => {
      expect(
        attackFromTags(['attack.privilege_escalation', 'attack.t1098', 'attack.T1098.003', 'attack.g0016', 'cve.2021-1234']),
      ).to.deep.equal({
        tactics: ['privilege-escalation'],
        techniques: ['T1098', 'T1098.003'],
      });
    });
    it('indexes Sigma rules by eventName whatever the case', () => {
      const engine = engineWith({ 'r.yml': sigma('selection:\n  eventName: listusers\ncondition: selection') });
      const e = listUsers() as CloudTrailEvent;
      expect(engine.evaluate(e, enrichmentFor(e)).risk.reasons.map((r) => r.rule)).to.include(RULE);
    });
  });

  describe('unsupported features', () => {
    const cases: [string, string, RegExp][] = [
      ['a keyword search', 'keywords:\n  - evil\ncondition: keywords', /keyword search/],
      ['an encoding modifier', 'selection:\n  userAgent|base64offset|contains: evil\ncondition: selection', /modifier "base64offset"/],
      ['an aggregation', 'selection:\n  eventName: ListUsers\ncondition: selection | count() by sourceIPAddress > 5', /aggregation/],
      ['N of', 'a:\n  eventName: X\nb:\n  eventName: Y\ncondition: 2 of them', /"2 of"/],
      ['expand with text around the placeholder', "selection:\n  userName|expand: 'x-%admins%'\ncondition: selection", /expand/],
    ];
    for (const [name, detection, feature] of cases) {
      it(`fails the cold start on ${name}, naming the file and the feature`, () => {
        expect(() => engineWith({ 'bad.yml': sigma(detection) }))
          .to.throw(SigmaRuleError, /\/sigma\/bad\.yml: Sigma rule "Conformance rule" uses/)
          .and.match(feature);
      });
    }
    it('skips such rules with one warning each when SIGMA_UNSUPPORTED=skip', () => {
      const warnings: unknown[] = [];
      const log: Log = { debug() {}, info() {}, error() {}, warn: (message, extra) => warnings.push({ message, ...extra }) };
      const engine = engineWith(
        { 'bad.yml': sigma(cases[0]![1]), 'good.yml': sigma('s:\n  eventName: ListUsers\ncondition: s').replace('0001', '0002') },
        { SIGMA_UNSUPPORTED: 'skip' },
        log,
      );
      expect(engine.sigma).to.include({ loaded: 1, skippedUnsupported: 1 });
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include({
        file: '/sigma/bad.yml',
        feature: 'keyword search (search identifier "keywords" lists values without field names)',
      });
    });
    it('skips other log sources even when they use such features', () => {
      const other = sigma('keywords:\n  - evil\ncondition: keywords').replace('service: cloudtrail', 'service: s3');
      expect(engineWith({ 'other.yml': other }).sigma).to.include({ loaded: 0, skippedLogsource: 1 });
    });
    it('refuses a malformed rule and a duplicate id', () => {
      expect(() => engineWith({ 'x.yml': sigma('selection:\n  eventName: X\ncondition: selektion') })).to.throw(
        SigmaRuleError,
        /x\.yml.*"selektion"/,
      );
      expect(() =>
        engineWith({ 'a.yml': sigma('s:\n  eventName: X\ncondition: s'), 'b.yml': sigma('s:\n  eventName: Y\ncondition: s') }),
      ).to.throw(SigmaRuleError, /b\.yml.*also the id of \/sigma\/a\.yml/);
    });
    it('rejects a bad SIGMA_UNSUPPORTED value', () => {
      expect(() => parseRulesConfig({ SIGMA_UNSUPPORTED: 'ignore' })).to.throw(/SIGMA_UNSUPPORTED/);
    });
  });
});

describe('wildcard operator (compileWildcard)', () => {
  it('agrees with an anchored regular expression on any pattern and value', async () => {
    const fc = (await import('fast-check')).default;
    const { compileWildcard, parseWildcard } = await import('../../../src/5-rules/wildcard.ts');
    const char = fc.constantFrom('a', 'b', 'A', '*', '?', '\\', '.');
    fc.assert(
      fc.property(
        fc.array(char, { maxLength: 8 }),
        fc.array(fc.constantFrom('a', 'b', 'A', '*', '?', '\\', '.', 'x'), { maxLength: 12 }),
        fc.boolean(),
        (p, v, ignoreCase) => {
          const pattern = p.join('');
          const value = v.join('');
          const { kinds, chars } = parseWildcard(pattern);
          const body = [...kinds]
            .map((k, i) => (k === 2 ? '[\\s\\S]*' : k === 1 ? '[\\s\\S]' : chars[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join('');
          const reference = new RegExp(`^${body}$`, ignoreCase ? 'i' : '');
          return compileWildcard(pattern, ignoreCase)(value) === reference.test(value);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('Sigma rules, generated code against the closure reference', () => {
  it('gives the same verdicts for case-insensitive conditions on mangled events', async () => {
    const fc = (await import('fast-check')).default;
    const { compileRules } = await import('../../../src/5-rules/compile.ts');
    const { loadSigmaRules } = await import('../../../src/5-rules/sigma/load.ts');
    const { sixtySigmaRules } = await import('../../../bench/rules.ts');
    const files = { ...sixtySigmaRules() };
    const sigmaRules = Object.entries(files).flatMap(
      ([name, text]) => loadSigmaRules(`/s/${name}`, 'fail', { isDirectory: () => false, readFile: () => text }).rules,
    );
    const doc = { version: 1, rules: [...sigmaRules, ...loadSigmaRules(SIGMA_DIR, 'fail').rules] };
    const fast = compileRules(doc);
    const reference = compileRules(doc, { codegen: false, index: false });
    const names = ['CreateUser', 'createuser', 'CREATEKEYPAIR', 'ConsoleLogin', 'StopLogging', 'PutBucketAcl', 'ListUsers', 'DeleteTrail'];
    const sources = [
      'iam.amazonaws.com',
      'IAM.amazonaws.com',
      'ec2.amazonaws.com',
      'cloudtrail.amazonaws.com',
      's3.amazonaws.com',
      'signin.amazonaws.com',
      'x',
    ];
    const base = fixture('iam-list-users');
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.constantFrom(...sources),
        fc.constantFrom('aws-cli/2', 'Boto3/1.34', 'TERRAFORM/1.7', 'console.amazonaws.com', 7 as unknown as string),
        fc.constantFrom(
          'arn:aws:iam::1:user/a',
          'arn:aws:sts::1:assumed-role/automation-x/y',
          'arn:aws:sts::1:assumed-role/AUTOMATION-x/y',
        ),
        fc.option(fc.constantFrom('AccessDenied', null as unknown as string)),
        fc.constantFrom('No', 'NO', 'yes'),
        (eventName, eventSource, userAgent, arn, errorCode, mfa) => {
          const event = {
            ...base,
            eventName,
            eventSource,
            userAgent,
            userIdentity: { ...(base.userIdentity as object), arn, type: arn.includes(':user/') ? 'IAMUser' : 'AssumedRole' },
            additionalEventData: { MFAUsed: mfa },
            responseElements: { ConsoleLogin: 'Success' },
            ...(errorCode !== null ? { errorCode } : {}),
          } as CloudTrailEvent;
          const enrichment = enrichmentFor(event);
          expect(fast.evaluate(event, enrichment)).to.deep.equal(reference.evaluate(event, enrichment));
        },
      ),
      { numRuns: 1500 },
    );
  });
});
