import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { compileRules, defaultRulesFile, parseRulesText, type CompiledRuleEngine } from '../../../src/5-rules/index.ts';
import type { CloudTrailEvent, Enrichment } from '../../../src/model.ts';
import { enrichmentFor, fixture, GB, RU, US, type SourceSpec } from './helpers.ts';

type Doc = { watchlists: Record<string, { entries?: unknown[]; file?: string }> } & Record<string, unknown>;

const RULES_FILE = defaultRulesFile({});

function defaultDoc(): Doc {
  return parseRulesText(readFileSync(RULES_FILE, 'utf8'), RULES_FILE) as Doc;
}

/** The bundled rules, optionally with watchlist entries added (as a security team would in its copy). */
function engine(watchlists: Record<string, unknown[]> = {}): CompiledRuleEngine {
  const d = defaultDoc();
  for (const [name, entries] of Object.entries(watchlists)) {
    d.watchlists[name] = { ...d.watchlists[name], entries };
    delete d.watchlists[name].file;
  }
  return compileRules(d, { source: RULES_FILE, baseDir: dirname(RULES_FILE) });
}

interface Case {
  name: string;
  event: string;
  source?: SourceSpec;
  mutate?: (e: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  watchlists?: Record<string, unknown[]>;
}

interface RuleCases {
  positive: Case[];
  negative: Case[];
}

const ALICE_ARN = 'arn:aws:iam::123456789012:user/Alice';

const CASES: Record<string, RuleCases> = {
  'watchlist.known-bad-ip': {
    positive: [
      { name: 'an address inside a listed block', event: 'ec2-describe-instances', watchlists: { knownBadIps: ['52.23.110.0/24'] } },
      {
        name: 'a listed IPv6 address',
        event: 'ec2-describe-instances',
        source: { kind: 'public', ip: '2a01:4f8:c010:1::1' },
        watchlists: { knownBadIps: ['2a01:4f8:c010:1::1'] },
      },
    ],
    negative: [
      { name: 'an address outside the list', event: 'ec2-describe-instances', watchlists: { knownBadIps: ['52.23.111.0/24'] } },
      { name: 'AWS Internal', event: 'kms-decrypt-aws-internal', watchlists: { knownBadIps: ['0.0.0.0/0'] } },
    ],
  },
  'watchlist.principal-away': {
    positive: [
      {
        name: 'an IAM user during a date-only away window',
        event: 'iam-list-users',
        watchlists: { awayPrincipals: [{ principals: [ALICE_ARN], start: '2026-03-09', end: '2026-03-10' }] },
      },
      {
        name: 'an SSO user matched by a wildcard principal',
        event: 'console-login-sso-federated',
        watchlists: {
          awayPrincipals: [
            {
              principals: ['arn:aws:sts::*:assumed-role/AWSReservedSSO_*/BOB@example.com'],
              start: '2026-03-01T00:00:00Z',
              end: '2026-03-31T00:00:00Z',
            },
          ],
        },
      },
    ],
    negative: [
      {
        name: 'the day after an inclusive date-only end',
        event: 'iam-list-users',
        mutate: (e) => (e.eventTime = '2026-03-11T00:00:00Z'),
        watchlists: { awayPrincipals: [{ principals: [ALICE_ARN], start: '2026-03-09', end: '2026-03-10' }] },
      },
      {
        name: 'a different principal',
        event: 'iam-list-users',
        watchlists: { awayPrincipals: [{ principals: ['arn:aws:iam::123456789012:user/Carol'], start: '2026-03-01', end: '2026-03-31' }] },
      },
      {
        name: 'an event without eventTime',
        event: 'iam-list-users',
        mutate: (e) => delete e.eventTime,
        watchlists: { awayPrincipals: [{ principals: [ALICE_ARN], start: '2026-03-01', end: '2026-03-31' }] },
      },
    ],
  },
  'watchlist.trusted-network': {
    positive: [
      {
        name: 'corporate egress',
        event: 'console-login-success-no-mfa',
        source: { geo: GB },
        watchlists: { trustedCidrs: ['81.2.69.0/24'] },
      },
    ],
    negative: [
      {
        name: 'an address outside the trusted blocks',
        event: 'console-login-success-no-mfa',
        source: { geo: GB },
        watchlists: { trustedCidrs: ['81.2.70.0/24'] },
      },
    ],
  },
  'location.outside-allowed-countries': {
    positive: [
      { name: 'a console login from GB', event: 'console-login-success-no-mfa', source: { geo: GB } },
      { name: 'an API call from RU', event: 'iam-create-access-key-other-user', source: { geo: RU } },
    ],
    negative: [
      { name: 'a login from the US', event: 'console-login-success-mfa', source: { geo: US } },
      { name: 'a public address without geo data', event: 'console-login-success-no-mfa' },
      { name: 'AWS Internal, even with a (crafted) foreign geo', event: 'kms-decrypt-aws-internal', source: { geo: RU } },
      { name: 'a service hostname, even with a (crafted) foreign geo', event: 'sts-assume-role-lambda-service', source: { geo: RU } },
      {
        name: 'a private address with a (crafted) foreign geo',
        event: 'ec2-describe-instances',
        source: { kind: 'private', ip: '10.1.2.3', geo: RU },
      },
      {
        name: 'a trusted network abroad',
        event: 'console-login-success-no-mfa',
        source: { geo: GB },
        watchlists: { trustedCidrs: ['81.2.69.160/32'] },
      },
    ],
  },
  'reputation.high-fraud-score': {
    positive: [{ name: 'fraud score 90', event: 'console-login-success-mfa', source: { reputation: { fraudScore: 90 } } }],
    negative: [
      { name: 'fraud score 84', event: 'console-login-success-mfa', source: { reputation: { fraudScore: 84 } } },
      { name: 'AWS Internal with a (crafted) fraud score', event: 'kms-decrypt-aws-internal', source: { reputation: { fraudScore: 100 } } },
    ],
  },
  'reputation.tor': {
    positive: [
      {
        name: 'a Tor exit node',
        event: 's3-get-bucket-policy-access-denied',
        source: { geo: { countryCode: 'DE' }, reputation: { tor: true } },
      },
    ],
    negative: [{ name: 'not Tor', event: 's3-get-bucket-policy-access-denied', source: { reputation: { tor: false, fraudScore: 10 } } }],
  },
  'reputation.proxy-or-vpn': {
    positive: [
      { name: 'a VPN', event: 'console-login-success-mfa', source: { reputation: { vpn: true }, as: { organization: 'M247 Europe SRL' } } },
      { name: 'a proxy', event: 'console-login-success-mfa', source: { reputation: { proxy: true } } },
    ],
    negative: [
      { name: 'neither', event: 'console-login-success-mfa', source: { reputation: { vpn: false, proxy: false } } },
      {
        name: 'the corporate VPN (trusted)',
        event: 'console-login-success-mfa',
        source: { reputation: { vpn: true } },
        watchlists: { trustedCidrs: ['73.162.0.0/16'] },
      },
    ],
  },
  'reputation.abuse-reported': {
    positive: [
      { name: 'abuse confidence 75', event: 'ec2-run-instances-unauthorized', source: { reputation: { abuseConfidence: 75 } } },
      { name: 'recent abuse', event: 'ec2-run-instances-unauthorized', source: { reputation: { recentAbuse: true } } },
    ],
    negative: [
      {
        name: 'abuse confidence 10',
        event: 'ec2-run-instances-unauthorized',
        source: { reputation: { abuseConfidence: 10, recentAbuse: false } },
      },
    ],
  },
  'reputation.malicious-verdict': {
    positive: [{ name: 'an AutoFocus malware verdict', event: 'ec2-describe-instances', source: { reputation: { verdict: 'malware' } } }],
    negative: [
      { name: 'benign', event: 'ec2-describe-instances', source: { reputation: { verdict: 'benign' } } },
      { name: 'unknown', event: 'ec2-describe-instances', source: { reputation: { verdict: 'unknown' } } },
    ],
  },
  'identity.root-activity': {
    positive: [{ name: 'a root console login', event: 'console-login-root' }],
    negative: [
      {
        name: 'a service acting with the root identity',
        event: 'console-login-root',
        mutate: (e) => (e.userIdentity.invokedBy = 'support.amazonaws.com'),
      },
      { name: 'an IAM user', event: 'console-login-success-mfa' },
    ],
  },
  'console.login-without-mfa': {
    positive: [
      { name: 'an IAM user without MFA', event: 'console-login-success-no-mfa' },
      {
        name: 'an IAM user without MFAUsed at all',
        event: 'console-login-success-no-mfa',
        mutate: (e) => delete e.additionalEventData.MFAUsed,
      },
    ],
    negative: [
      { name: 'with MFA', event: 'console-login-success-mfa' },
      { name: 'a federated SSO sign-in (MFA at the IdP)', event: 'console-login-sso-federated' },
      { name: 'a failed sign-in', event: 'console-login-failure' },
    ],
  },
  'console.login-failed': {
    positive: [{ name: 'a failed sign-in', event: 'console-login-failure' }],
    negative: [{ name: 'a successful sign-in', event: 'console-login-success-mfa' }],
  },
  'iam.activity': {
    positive: [
      { name: 'an IAM read', event: 'iam-list-users' },
      { name: 'an IAM write', event: 'iam-attach-role-policy-readonly' },
    ],
    negative: [{ name: 'an EC2 call', event: 'ec2-describe-instances' }],
  },
  'iam.access-key-for-other-user': {
    positive: [
      { name: 'Alice creates a key for Bob', event: 'iam-create-access-key-other-user' },
      {
        name: 'a role creates a key for a user',
        event: 'iam-create-access-key-other-user',
        mutate: (e) => (e.userIdentity = fixture('ec2-describe-instances').userIdentity),
      },
    ],
    negative: [
      { name: 'Alice creates her own key', event: 'iam-create-access-key-self' },
      {
        name: 'a key for the caller (no userName parameter)',
        event: 'iam-create-access-key-self',
        mutate: (e) => (e.requestParameters = null),
      },
    ],
  },
  'iam.admin-policy-attached': {
    positive: [
      { name: 'AdministratorAccess attached to a user', event: 'iam-attach-user-policy-admin' },
      {
        name: 'AdministratorAccess attached to a role',
        event: 'iam-attach-role-policy-readonly',
        mutate: (e) => (e.requestParameters.policyArn = 'arn:aws:iam::aws:policy/AdministratorAccess'),
      },
      { name: 'an inline policy allowing * on *', event: 'iam-put-user-policy-star' },
    ],
    negative: [
      { name: 'ReadOnlyAccess attached', event: 'iam-attach-role-policy-readonly' },
      {
        name: 'an inline policy scoped to one action',
        event: 'iam-put-user-policy-star',
        mutate: (e) =>
          (e.requestParameters.policyDocument =
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'),
      },
    ],
  },
  'logging.cloudtrail-tampering': {
    positive: [
      { name: 'StopLogging', event: 'cloudtrail-stop-logging' },
      { name: 'DeleteTrail', event: 'cloudtrail-delete-trail' },
      { name: 'UpdateTrail', event: 'cloudtrail-update-trail' },
      { name: 'PutEventSelectors', event: 'cloudtrail-put-event-selectors' },
      { name: 'a denied StopLogging attempt', event: 'cloudtrail-stop-logging', mutate: (e) => (e.errorCode = 'AccessDenied') },
    ],
    negative: [{ name: 'LookupEvents', event: 'cloudtrail-lookup-events' }],
  },
  'logging.monitoring-disabled': {
    positive: [
      { name: 'DeleteFlowLogs', event: 'ec2-delete-flow-logs' },
      { name: 'GuardDuty DeleteDetector', event: 'guardduty-delete-detector' },
      {
        name: 'GuardDuty UpdateDetector enable=false',
        event: 'guardduty-delete-detector',
        mutate: (e) => {
          e.eventName = 'UpdateDetector';
          e.requestParameters.enable = false;
        },
      },
    ],
    negative: [
      {
        name: 'GuardDuty UpdateDetector enable=true',
        event: 'guardduty-delete-detector',
        mutate: (e) => {
          e.eventName = 'UpdateDetector';
          e.requestParameters.enable = true;
        },
      },
      {
        name: 'DeleteFlowLogs name under another service',
        event: 'ec2-delete-flow-logs',
        mutate: (e) => (e.eventSource = 'logs.amazonaws.com'),
      },
    ],
  },
  's3.bucket-made-public': {
    positive: [
      { name: 'a policy allowing Principal "*"', event: 's3-put-bucket-policy-public' },
      {
        name: 'a policy allowing Principal {"AWS": ["*"]}',
        event: 's3-put-bucket-policy-public',
        mutate: (e) => (e.requestParameters.bucketPolicy.Statement[0].Principal = { AWS: ['*'] }),
      },
      { name: 'an ACL grant to AllUsers', event: 's3-put-bucket-acl-public' },
      {
        name: 'a canned public-read ACL',
        event: 's3-put-bucket-acl-public',
        mutate: (e) => (e.requestParameters = { bucketName: 'example-bucket', 'x-amz-acl': ['public-read'], acl: [''] }),
      },
      { name: 'Block Public Access switched off', event: 's3-put-bucket-public-access-block-disabled' },
      { name: 'Block Public Access deleted', event: 's3-delete-bucket-public-access-block' },
    ],
    negative: [
      { name: 'a deny-insecure-transport policy (Deny with Principal "*")', event: 's3-put-bucket-policy-deny-insecure-transport' },
      {
        name: 'Principal "*" restricted by a Condition',
        event: 's3-put-bucket-policy-public',
        mutate: (e) => (e.requestParameters.bucketPolicy.Statement[0].Condition = { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } }),
      },
      { name: 'Block Public Access fully on', event: 's3-put-bucket-public-access-block-enabled' },
      {
        name: 'a private ACL',
        event: 's3-put-bucket-acl-public',
        mutate: (e) => e.requestParameters.AccessControlPolicy.AccessControlList.Grant.pop(),
      },
    ],
  },
  'ec2.security-group-open-to-world': {
    positive: [
      { name: 'ingress from 0.0.0.0/0', event: 'ec2-authorize-sg-ingress-ipv4-world' },
      { name: 'ingress from ::/0', event: 'ec2-authorize-sg-ingress-ipv6-world' },
    ],
    negative: [{ name: 'ingress from a private block', event: 'ec2-authorize-sg-ingress-private' }],
  },
  'ec2.snapshot-or-ami-public': {
    positive: [
      { name: 'a snapshot shared with all', event: 'ec2-modify-snapshot-attribute-public' },
      { name: 'an AMI shared with all', event: 'ec2-modify-image-attribute-public' },
    ],
    negative: [{ name: 'a snapshot shared with one account', event: 'ec2-modify-snapshot-attribute-account' }],
  },
  'ec2.snapshot-or-ami-shared': {
    positive: [{ name: 'a snapshot shared with one account', event: 'ec2-modify-snapshot-attribute-account' }],
    negative: [{ name: 'a snapshot shared with all', event: 'ec2-modify-snapshot-attribute-public' }],
  },
  'access.denied': {
    positive: [
      { name: 'Client.UnauthorizedOperation', event: 'ec2-run-instances-unauthorized' },
      { name: 'AccessDenied', event: 's3-get-bucket-policy-access-denied' },
    ],
    negative: [
      { name: 'a successful call', event: 'ec2-describe-instances' },
      { name: 'a throttled call', event: 'ec2-describe-instances', mutate: (e) => (e.errorCode = 'Client.RequestLimitExceeded') },
    ],
  },
  'activity.off-hours': {
    positive: [
      { name: 'a root login at 02:17 on a Saturday', event: 'console-login-root' },
      {
        name: 'an IAM user change at 21:30 on a Tuesday',
        event: 'iam-attach-user-policy-admin',
        mutate: (e) => (e.eventTime = '2026-03-10T21:30:00Z'),
      },
      {
        name: 'an SSO user change at 06:59',
        event: 'iam-attach-user-policy-admin',
        mutate: (e) => ((e.eventTime = '2026-03-10T06:59:59Z'), (e.userIdentity = fixture('console-login-sso-federated').userIdentity)),
      },
    ],
    negative: [
      { name: 'a change at 14:05 on a Tuesday', event: 'iam-attach-user-policy-admin' },
      { name: 'a change at exactly 07:00', event: 'iam-attach-user-policy-admin', mutate: (e) => (e.eventTime = '2026-03-10T07:00:00Z') },
      { name: 'a read at night', event: 'iam-list-users', mutate: (e) => (e.eventTime = '2026-03-10T23:00:00Z') },
      { name: 'a machine role at night', event: 'iam-attach-role-policy-readonly', mutate: (e) => (e.eventTime = '2026-03-10T23:00:00Z') },
      {
        name: 'inside a maintenance window',
        event: 'console-login-root',
        watchlists: { maintenanceWindows: [{ days: ['Sat'], timeOfDay: { from: '01:00', to: '04:00' } }] },
      },
      { name: 'an invalid eventTime', event: 'console-login-root', mutate: (e) => (e.eventTime = 'Sat Mar 14 2026 02:17:45') },
    ],
  },
};

function run(c: Case): { event: CloudTrailEvent; enrichment: Enrichment; verdict: ReturnType<CompiledRuleEngine['evaluate']> } {
  const event = fixture(c.event);
  c.mutate?.(event);
  const enrichment = enrichmentFor(event, c.source);
  return { event, enrichment, verdict: engine(c.watchlists).evaluate(event, enrichment) };
}

describe('default rules (rules/default.yaml)', () => {
  it('has positive and negative cases for every default rule', () => {
    // Rules of the detection pack are covered by their fixtures (detection-pack.test.ts, npm run rules:test).
    const pack = new Set(
      (defaultDoc().rules as { id: string; tags?: string[] }[]).filter((r) => r.tags?.includes('detection-pack')).map((r) => r.id),
    );
    const ids = engine().info.ruleIds.filter((id) => !pack.has(id));
    expect(ids.length).to.be.greaterThanOrEqual(20);
    expect([...ids].sort()).to.deep.equal(Object.keys(CASES).sort());
    for (const [id, cases] of Object.entries(CASES)) {
      expect(cases.positive, id).to.not.be.empty;
      expect(cases.negative, id).to.not.be.empty;
    }
  });

  for (const [id, cases] of Object.entries(CASES)) {
    describe(id, () => {
      for (const c of cases.positive) {
        it(`matches ${c.name} (${c.event})`, () => {
          const { verdict } = run(c);
          const reason = verdict.risk.reasons.find((r) => r.rule === id);
          expect(reason, JSON.stringify(verdict)).to.exist;
          expect(reason!.detail).to.be.a('string').and.not.be.empty;
          expect(reason!.detail).to.not.match(/\{|\}/);
        });
      }
      for (const c of cases.negative) {
        it(`does not match ${c.name} (${c.event})`, () => {
          const { verdict } = run(c);
          expect(verdict.risk.reasons.map((r) => r.rule)).to.not.include(id);
        });
      }
    });
  }

  it('names the country in the location reason', () => {
    const { verdict } = run({ name: 'GB', event: 'console-login-success-no-mfa', source: { geo: GB } });
    const reason = verdict.risk.reasons.find((r) => r.rule === 'location.outside-allowed-countries')!;
    expect(reason.priority).to.equal('HIGH');
    expect(reason.detail).to.include('GB').and.include('United Kingdom').and.include('81.2.69.160');
  });

  it('judges the benign DescribeInstances from the US as LOW with no reasons', () => {
    const { verdict } = run({
      name: 'benign',
      event: 'ec2-describe-instances',
      source: { geo: US, reputation: { fraudScore: 0, tor: false } },
    });
    expect(verdict).to.deep.equal({ priority: 'LOW', risk: { score: 0, reasons: [] } });
  });

  it('never trips a location or reputation rule for AWS Internal or service hostnames', () => {
    const noisy: SourceSpec = {
      geo: RU,
      reputation: { fraudScore: 100, tor: true, vpn: true, proxy: true, abuseConfidence: 100, recentAbuse: true, verdict: 'malware' },
    };
    for (const name of ['kms-decrypt-aws-internal', 'sts-assume-role-lambda-service']) {
      const { verdict } = run({ name, event: name, source: noisy });
      expect(
        verdict.risk.reasons.filter((r) => /^(location|reputation)\./.test(r.rule)),
        name,
      ).to.be.empty;
    }
  });

  it('adds up a StopLogging from abroad over Tor to CRITICAL 100, reasons by priority then score', () => {
    const { verdict } = run({ name: 'combo', event: 'cloudtrail-stop-logging', source: { geo: GB, reputation: { tor: true } } });
    expect(verdict.priority).to.equal('CRITICAL');
    expect(verdict.risk.score).to.equal(100);
    expect(verdict.risk.reasons.map((r) => r.rule)).to.deep.equal([
      'logging.cloudtrail-tampering',
      'reputation.tor',
      'location.outside-allowed-countries',
    ]);
  });

  it('lets a trusted network lower the score but not below zero', () => {
    const trusted = { trustedCidrs: ['73.162.45.0/24'] };
    const plain = run({ name: 'list', event: 'iam-list-users' }).verdict;
    const lowered = run({ name: 'list', event: 'iam-list-users', watchlists: trusted }).verdict;
    // iam.activity is LOW context (score 5) since the detection pack: every IAM call being HIGH buried real findings.
    expect(plain.risk.score).to.equal(5);
    expect(plain.priority).to.equal('LOW');
    expect(lowered.risk.score).to.equal(0);
    expect(lowered.risk.reasons.map((r) => r.rule)).to.include('iam.activity');
    const benign = run({ name: 'describe', event: 'console-login-success-mfa', watchlists: trusted }).verdict;
    expect(benign.risk.score).to.equal(0);
    expect(benign.risk.reasons.map((r) => r.rule)).to.deep.equal(['watchlist.trusted-network']);
  });
});
