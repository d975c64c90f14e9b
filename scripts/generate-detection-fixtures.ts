/**
 * Writes test/fixtures/detections/<rule-id>/{match,no-match}/<case>.json for every rule of
 * rules/default.yaml (committed; `npm run rules:test` runs them). Deterministic: run it again after
 * changing a case and commit the diff.
 *
 *   npx tsx scripts/generate-detection-fixtures.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ACCOUNT,
  ALICE,
  apiCall,
  enrichment,
  INSTANCE_ROLE,
  OTHER_ACCOUNT,
  ROOT,
  roleSession,
  ssoUser,
  type Json,
  type SourceSpec,
} from './detection-events.ts';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'detections');

/** One event, or for a threshold rule a list of events (one invocation; a match's last event crosses). */
type Case = [name: string, event: Json | Json[], source?: SourceSpec];
interface RuleCases {
  match: Case[];
  noMatch: Case[];
  watchlists?: Record<string, unknown[]>;
}

const e = apiCall;
const CFN = roleSession('cfn-exec-role', 'AWSCloudFormation', 'cloudformation.amazonaws.com');

function consoleLogin(user: Json, result: 'Success' | 'Failure', mfa: 'Yes' | 'No', extra: Json = {}): Json {
  return {
    ...e('signin.amazonaws.com', 'ConsoleLogin', null, {
      user,
      userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15',
      response: { ConsoleLogin: result },
      readOnly: false,
      ...(result === 'Failure' ? { errorMessage: 'Failed authentication' } : {}),
      seed: `console:${JSON.stringify(user)}:${result}:${mfa}:${JSON.stringify(extra)}`,
    }),
    eventType: 'AwsConsoleSignIn',
    additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: mfa },
    ...(result === 'Failure' ? { errorMessage: 'Failed authentication' } : {}),
    ...extra,
  };
}

function sgIngress(protocol: string, from: number, to: number, cidr: string, v6 = false): Json {
  const range = v6
    ? { ipRanges: {}, ipv6Ranges: { items: [{ cidrIpv6: cidr }] } }
    : { ipRanges: { items: [{ cidrIp: cidr }] }, ipv6Ranges: {} };
  return e(
    'ec2.amazonaws.com',
    'AuthorizeSecurityGroupIngress',
    {
      groupId: 'sg-0123456789abcdef0',
      ipPermissions: { items: [{ ipProtocol: protocol, fromPort: from, toPort: to, groups: {}, ...range, prefixListIds: {} }] },
    },
    {
      response: { requestId: 'd7a5a5e2-1a4f-4c6e-9e0d-000000000001', _return: true },
    },
  );
}

const trust = (principal: string): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: JSON.parse(principal) as unknown, Action: 'sts:AssumeRole' }],
  });
const runInstances = (type: string, o: Parameters<typeof apiCall>[3] = {}): Json =>
  e(
    'ec2.amazonaws.com',
    'RunInstances',
    {
      instancesSet: { items: [{ imageId: 'ami-0abcdef1234567890', minCount: 1, maxCount: 4 }] },
      instanceType: type,
      monitoring: { enabled: false },
    },
    o,
  );
const deleteObjects = (n: number): Json =>
  e(
    's3.amazonaws.com',
    'DeleteObjects',
    {
      bucketName: 'finance-reports',
      Host: 'finance-reports.s3.us-east-1.amazonaws.com',
      delete: '',
      Delete: { Quiet: 'true', Object: Array.from({ length: n }, (_, i) => ({ Key: `2026/q1/report-${i}.csv` })) },
    },
    {
      data: true,
      readOnly: false,
      extra: { resources: [{ type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::finance-reports', accountId: ACCOUNT }] },
    },
  );
const ATTACKER: SourceSpec = { ip: '185.220.101.4', country: 'NL', asn: 60729, org: 'Stiftung Erneuerbare Freiheit' };

/** `n` events, the i-th `step` seconds after 14:05:00 (threshold fixtures: one invocation). */
const at = (i: number, step: number): string =>
  new Date(Date.UTC(2026, 2, 10, 14, 5, 0) + i * step * 1000).toISOString().replace('.000Z', 'Z');
const secretReads = (n: number, id: (i: number) => string): Json[] =>
  Array.from({ length: n }, (_, i) =>
    e('secretsmanager.amazonaws.com', 'GetSecretValue', { secretId: id(i) }, { ip: ATTACKER.ip, time: at(i, 20) }),
  );
const parameterReads = (n: number, withDecryption: boolean): Json[] =>
  Array.from({ length: n }, (_, i) =>
    e('ssm.amazonaws.com', 'GetParameter', { name: `/prod/app/param-${i}`, withDecryption }, { ip: ATTACKER.ip, time: at(i, 20) }),
  );
const deniedCalls = (n: number, step: number): Json[] =>
  Array.from({ length: n }, (_, i) =>
    e('ec2.amazonaws.com', ['DescribeInstances', 'DescribeVolumes', 'DescribeSnapshots', 'DescribeVpcs'][i % 4]!, null, {
      ip: ATTACKER.ip,
      time: at(i, step),
      errorCode: 'Client.UnauthorizedOperation',
      errorMessage: 'You are not authorized to perform this operation.',
    }),
  );
const regionCalls = (regions: string[]): Json[] =>
  regions.map((region, i) => e('ec2.amazonaws.com', 'DescribeInstances', null, { ip: ATTACKER.ip, region, time: at(i, 30) }));

/** enrichment.baseline of the baseline rules' fixtures (what src/4-baseline gives the event). */
const ALICE_ARN = String(ALICE.arn);
const BASELINE: Record<string, Json> = {
  'initial-access.console-login-new-country/match/success-from-new-country': { principal: ALICE_ARN, firstSeen: ['country'] },
  'initial-access.console-login-new-country/no-match/learning-principal': { principal: ALICE_ARN, firstSeen: ['country'], learning: true },
  'initial-access.console-login-new-country/no-match/country-and-network-new': { principal: ALICE_ARN, firstSeen: ['country', 'asn'] },
  'initial-access.console-login-new-country/no-match/failed-sign-in': { principal: ALICE_ARN, firstSeen: ['country'] },
  'initial-access.console-login-new-country-and-network/match/success-from-new-country-and-as': {
    principal: ALICE_ARN,
    firstSeen: ['country', 'asn'],
  },
  'initial-access.console-login-new-country-and-network/no-match/baseline-unavailable': {
    principal: ALICE_ARN,
    firstSeen: [],
    status: 'unavailable',
  },
  'initial-access.console-login-new-country-and-network/no-match/only-country-new': { principal: ALICE_ARN, firstSeen: ['country'] },
  'credential-access.access-key-new-network/match/list-buckets-from-new-as': { principal: ALICE_ARN, firstSeen: ['asn'] },
  'credential-access.access-key-new-network/no-match/console-session': { principal: ALICE_ARN, firstSeen: ['asn'] },
  'credential-access.access-key-new-network/no-match/learning-principal': { principal: ALICE_ARN, firstSeen: ['asn'], learning: true },
  'execution.new-user-agent-kind/match/cli-after-console-only': { principal: ALICE_ARN, firstSeen: ['userAgentFamily', 'userAgentKind'] },
  'execution.new-user-agent-kind/no-match/new-sdk-of-the-same-kind': { principal: ALICE_ARN, firstSeen: ['userAgentFamily'] },
};

const CASES: Record<string, RuleCases> = {
  // ------------------------------------------------------------ watchlists, location, reputation
  'watchlist.known-bad-ip': {
    match: [['describe-from-listed-block', e('ec2.amazonaws.com', 'DescribeInstances', { maxResults: 100 }, { ip: '198.18.7.9' })]],
    noMatch: [['describe-from-unlisted', e('ec2.amazonaws.com', 'DescribeInstances', { maxResults: 100 })]],
    watchlists: { knownBadIps: ['198.18.7.0/24'] },
  },
  'watchlist.principal-away': {
    match: [['alice-during-vacation', e('iam.amazonaws.com', 'ListUsers', null)]],
    noMatch: [['alice-after-vacation', e('iam.amazonaws.com', 'ListUsers', null, { time: '2026-03-20T10:00:00Z' })]],
    watchlists: { awayPrincipals: [{ principals: [`arn:aws:iam::${ACCOUNT}:user/Alice`], start: '2026-03-09', end: '2026-03-12' }] },
  },
  'watchlist.trusted-network': {
    match: [['corporate-egress', e('ec2.amazonaws.com', 'DescribeVpcs', null, { ip: '203.0.113.20' })]],
    noMatch: [['home-address', e('ec2.amazonaws.com', 'DescribeVpcs', null)]],
    watchlists: { trustedCidrs: ['203.0.113.0/24'] },
  },
  'location.outside-allowed-countries': {
    match: [['login-from-nl', consoleLogin(ALICE, 'Success', 'Yes'), { country: 'NL', asn: 1136, org: 'KPN B.V.' }]],
    noMatch: [['login-from-us', consoleLogin(ALICE, 'Success', 'Yes')]],
  },
  'reputation.high-fraud-score': {
    match: [['fraud-score-92', e('s3.amazonaws.com', 'ListBuckets', null)]],
    noMatch: [['fraud-score-10', e('s3.amazonaws.com', 'ListBuckets', null)]],
  },
  'reputation.tor': {
    match: [['tor-exit', e('sts.amazonaws.com', 'GetCallerIdentity', null, { ip: '185.220.101.4' }), { ...ATTACKER, tor: true }]],
    noMatch: [['not-tor', e('sts.amazonaws.com', 'GetCallerIdentity', null), { tor: false }]],
  },
  'reputation.proxy-or-vpn': {
    match: [['commercial-vpn', e('s3.amazonaws.com', 'ListBuckets', null)]],
    noMatch: [['residential', e('s3.amazonaws.com', 'ListBuckets', null)]],
  },
  'reputation.abuse-reported': {
    match: [['abuse-confidence-80', e('s3.amazonaws.com', 'ListBuckets', null)]],
    noMatch: [['abuse-confidence-0', e('s3.amazonaws.com', 'ListBuckets', null)]],
  },
  'reputation.malicious-verdict': {
    match: [['c2-verdict', e('s3.amazonaws.com', 'ListBuckets', null)]],
    noMatch: [['benign-verdict', e('s3.amazonaws.com', 'ListBuckets', null)]],
  },
  // ------------------------------------------------------------ identity
  'identity.root-activity': {
    match: [['root-creates-access-key', e('iam.amazonaws.com', 'CreateAccessKey', null, { user: ROOT })]],
    noMatch: [
      [
        'support-acting-as-root',
        e('iam.amazonaws.com', 'GetAccountSummary', null, {
          user: { ...ROOT, invokedBy: 'support.amazonaws.com' },
          ip: 'support.amazonaws.com',
        }),
      ],
    ],
  },
  'console.login-without-mfa': {
    match: [['iam-user-without-mfa', consoleLogin(ALICE, 'Success', 'No')]],
    noMatch: [['iam-user-with-mfa', consoleLogin(ALICE, 'Success', 'Yes')]],
  },
  'console.login-failed': {
    match: [
      [
        'wrong-password',
        consoleLogin({ type: 'IAMUser', principalId: ACCOUNT, accountId: ACCOUNT, accessKeyId: '', userName: 'Alice' }, 'Failure', 'No'),
      ],
    ],
    noMatch: [['successful', consoleLogin(ALICE, 'Success', 'Yes')]],
  },
  'iam.activity': {
    match: [['list-roles', e('iam.amazonaws.com', 'ListRoles', null)]],
    noMatch: [['list-buckets', e('s3.amazonaws.com', 'ListBuckets', null)]],
  },
  'iam.access-key-for-other-user': {
    match: [['alice-creates-key-for-bob', e('iam.amazonaws.com', 'CreateAccessKey', { userName: 'Bob' })]],
    noMatch: [['alice-creates-own-key', e('iam.amazonaws.com', 'CreateAccessKey', { userName: 'Alice' })]],
  },
  'iam.admin-policy-attached': {
    match: [
      [
        'administrator-access-to-role',
        e('iam.amazonaws.com', 'AttachRolePolicy', { roleName: 'ci-runner', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }),
      ],
    ],
    noMatch: [
      [
        'read-only-to-role',
        e('iam.amazonaws.com', 'AttachRolePolicy', { roleName: 'ci-runner', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }),
      ],
    ],
  },
  // ------------------------------------------------------------ defence evasion
  'logging.cloudtrail-tampering': {
    match: [
      [
        'stop-logging',
        e('cloudtrail.amazonaws.com', 'StopLogging', { name: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/management-events` }),
      ],
    ],
    noMatch: [['lookup-events', e('cloudtrail.amazonaws.com', 'LookupEvents', { maxResults: 50 })]],
  },
  'logging.monitoring-disabled': {
    match: [
      ['guardduty-detector-deleted', e('guardduty.amazonaws.com', 'DeleteDetector', { detectorId: '12abc34d567e8fa901bc2d34e56789f0' })],
      ['config-recorder-stopped', e('config.amazonaws.com', 'StopConfigurationRecorder', { configurationRecorderName: 'default' })],
      ['securityhub-disabled', e('securityhub.amazonaws.com', 'DisableSecurityHub', {})],
      ['macie-disabled', e('macie2.amazonaws.com', 'DisableMacie', {})],
      ['access-analyzer-deleted', e('access-analyzer.amazonaws.com', 'DeleteAnalyzer', { analyzerName: 'org-analyzer' })],
      [
        'flow-logs-deleted',
        e('ec2.amazonaws.com', 'DeleteFlowLogs', { DeleteFlowLogsRequest: { FlowLogId: { tag: 1, content: 'fl-0123456789abcdef0' } } }),
      ],
    ],
    noMatch: [
      [
        'guardduty-detector-enabled',
        e('guardduty.amazonaws.com', 'UpdateDetector', { detectorId: '12abc34d567e8fa901bc2d34e56789f0', enable: true }),
      ],
      ['config-recorder-started', e('config.amazonaws.com', 'StartConfigurationRecorder', { configurationRecorderName: 'default' })],
    ],
  },
  'defense-evasion.inspector-disabled': {
    match: [
      ['inspector2-disable', e('inspector2.amazonaws.com', 'Disable', { accountIds: [ACCOUNT], resourceTypes: ['EC2', 'ECR', 'LAMBDA'] })],
    ],
    noMatch: [['inspector2-enable', e('inspector2.amazonaws.com', 'Enable', { accountIds: [ACCOUNT], resourceTypes: ['EC2'] })]],
  },
  'defense-evasion.resolver-query-logging-removed': {
    match: [
      [
        'disassociate-query-log',
        e('route53resolver.amazonaws.com', 'DisassociateResolverQueryLogConfig', {
          resolverQueryLogConfigId: 'rqlc-0123456789abcdef',
          resourceId: 'vpc-0a1b2c3d4e5f60789',
        }),
      ],
    ],
    noMatch: [
      [
        'associate-query-log',
        e('route53resolver.amazonaws.com', 'AssociateResolverQueryLogConfig', {
          resolverQueryLogConfigId: 'rqlc-0123456789abcdef',
          resourceId: 'vpc-0a1b2c3d4e5f60789',
        }),
      ],
    ],
  },
  'defense-evasion.s3-access-logging-disabled': {
    match: [
      [
        'logging-status-emptied',
        e('s3.amazonaws.com', 'PutBucketLogging', {
          bucketName: 'customer-data',
          Host: 'customer-data.s3.amazonaws.com',
          BucketLoggingStatus: { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
          logging: '',
        }),
      ],
    ],
    noMatch: [
      [
        'logging-enabled',
        e('s3.amazonaws.com', 'PutBucketLogging', {
          bucketName: 'customer-data',
          Host: 'customer-data.s3.amazonaws.com',
          BucketLoggingStatus: {
            xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/',
            LoggingEnabled: { TargetBucket: 'access-logs-123456789012', TargetPrefix: 'customer-data/' },
          },
          logging: '',
        }),
      ],
    ],
  },
  'defense-evasion.organization-left': {
    match: [['leave-organization', e('organizations.amazonaws.com', 'LeaveOrganization', null)]],
    noMatch: [['describe-organization', e('organizations.amazonaws.com', 'DescribeOrganization', null)]],
  },
  'defense-evasion.logs-deleted': {
    match: [
      ['log-group-deleted', e('logs.amazonaws.com', 'DeleteLogGroup', { logGroupName: '/aws/lambda/payments-api' })],
      [
        'log-stream-deleted',
        e('logs.amazonaws.com', 'DeleteLogStream', { logGroupName: '/var/log/secure', logStreamName: 'i-0a1b2c3d4e5f60789' }),
      ],
    ],
    noMatch: [
      [
        'stack-deletion-removes-its-group',
        e(
          'logs.amazonaws.com',
          'DeleteLogGroup',
          { logGroupName: '/aws/lambda/old-stack-fn' },
          { user: CFN, ip: 'cloudformation.amazonaws.com', userAgent: 'cloudformation.amazonaws.com' },
        ),
      ],
    ],
  },
  // ------------------------------------------------------------ credential access
  'credential-access.ec2-password-data': {
    match: [['get-password-data', e('ec2.amazonaws.com', 'GetPasswordData', { instanceId: 'i-0a1b2c3d4e5f60789' })]],
    noMatch: [['get-console-output', e('ec2.amazonaws.com', 'GetConsoleOutput', { instanceId: 'i-0a1b2c3d4e5f60789' })]],
  },
  'credential-access.secrets-bulk-read': {
    match: [
      [
        'batch-get-by-filter',
        e('secretsmanager.amazonaws.com', 'BatchGetSecretValue', { filters: [{ key: 'name', values: ['prod'] }], maxResults: 20 }),
      ],
    ],
    noMatch: [['batch-get-by-ids', e('secretsmanager.amazonaws.com', 'BatchGetSecretValue', { secretIdList: ['prod/db/password'] })]],
  },
  'credential-access.ssm-parameters-decrypted': {
    match: [
      [
        'sso-user-decrypts-path',
        e('ssm.amazonaws.com', 'GetParametersByPath', { path: '/prod/', recursive: true, withDecryption: true }, { user: ssoUser() }),
      ],
    ],
    noMatch: [
      [
        'app-role-reads-config',
        e(
          'ssm.amazonaws.com',
          'GetParameters',
          { names: ['/prod/payments/db-password'], withDecryption: true },
          { user: roleSession('payments-api-lambda-role', 'payments-api'), ip: '3.91.12.40' },
        ),
        { asn: 14618, org: 'AMAZON-AES' },
      ],
      [
        'no-decryption',
        e('ssm.amazonaws.com', 'GetParametersByPath', { path: '/prod/', recursive: true, withDecryption: false }, { user: ssoUser() }),
      ],
    ],
  },
  'credential-access.instance-credentials-outside-aws': {
    match: [['instance-role-from-vps', e('s3.amazonaws.com', 'ListBuckets', null, { user: INSTANCE_ROLE, ip: '185.220.101.4' }), ATTACKER]],
    noMatch: [
      [
        'instance-role-from-aws',
        e('s3.amazonaws.com', 'ListBuckets', null, { user: INSTANCE_ROLE, ip: '54.211.3.7' }),
        { asn: 14618, org: 'AMAZON-AES' },
      ],
      ['sso-session-from-home', e('s3.amazonaws.com', 'ListBuckets', null, { user: ssoUser() })],
    ],
  },
  'credential-access.long-term-key-from-tor-or-bad': {
    match: [['akia-key-over-tor', e('sts.amazonaws.com', 'GetCallerIdentity', null, { ip: '185.220.101.4' }), { ...ATTACKER, tor: true }]],
    noMatch: [
      [
        'session-key-over-tor',
        e('sts.amazonaws.com', 'GetCallerIdentity', null, { user: ssoUser(), ip: '185.220.101.4' }),
        { ...ATTACKER, tor: true },
      ],
      ['akia-key-from-home', e('sts.amazonaws.com', 'GetCallerIdentity', null), { tor: false }],
    ],
  },
  // ------------------------------------------------------------ discovery
  'discovery.instance-user-data-read': {
    match: [
      ['user-data-read', e('ec2.amazonaws.com', 'DescribeInstanceAttribute', { instanceId: 'i-0a1b2c3d4e5f60789', attribute: 'userData' })],
    ],
    noMatch: [
      [
        'instance-type-read',
        e('ec2.amazonaws.com', 'DescribeInstanceAttribute', { instanceId: 'i-0a1b2c3d4e5f60789', attribute: 'instanceType' }),
      ],
    ],
  },
  // ------------------------------------------------------------ execution
  'execution.gpu-or-large-instances': {
    match: [
      ['p4d-launch', runInstances('p4d.24xlarge')],
      [
        'denied-g5-launch',
        runInstances('g5.12xlarge', {
          errorCode: 'Client.UnauthorizedOperation',
          errorMessage: 'You are not authorized to perform this operation.',
        }),
      ],
      ['metal-launch', runInstances('c6i.metal')],
    ],
    noMatch: [
      ['t3-launch', runInstances('t3.medium')],
      ['m5-2xlarge-launch', runInstances('m5.2xlarge')],
    ],
  },
  'execution.user-data-modified': {
    match: [
      [
        'user-data-replaced',
        e('ec2.amazonaws.com', 'ModifyInstanceAttribute', { instanceId: 'i-0a1b2c3d4e5f60789', userData: '<sensitiveDataRemoved>' }),
      ],
    ],
    noMatch: [
      [
        'instance-type-changed',
        e('ec2.amazonaws.com', 'ModifyInstanceAttribute', { instanceId: 'i-0a1b2c3d4e5f60789', instanceType: { value: 'm5.large' } }),
      ],
    ],
  },
  'execution.ssm-send-command': {
    match: [
      [
        'run-shell-script',
        e(
          'ssm.amazonaws.com',
          'SendCommand',
          { documentName: 'AWS-RunShellScript', instanceIds: ['i-0a1b2c3d4e5f60789'], interactive: false },
          { user: ssoUser() },
        ),
      ],
    ],
    noMatch: [
      [
        'state-manager-association',
        e(
          'ssm.amazonaws.com',
          'SendCommand',
          { documentName: 'AWS-UpdateSSMAgent', targets: [{ key: 'InstanceIds', values: ['i-0a1b2c3d4e5f60789'] }] },
          { user: roleSession('AWSServiceRoleForAmazonSSM', 'ssm', 'ssm.amazonaws.com'), ip: 'ssm.amazonaws.com' },
        ),
      ],
    ],
  },
  'execution.ssm-start-session': {
    match: [
      [
        'start-session',
        e(
          'ssm.amazonaws.com',
          'StartSession',
          { target: 'i-0a1b2c3d4e5f60789' },
          {
            user: ssoUser(),
            response: {
              sessionId: 'bob@example.com-0a1b2c3d4e5f60789',
              tokenValue: 'Value hidden due to security reasons.',
              streamUrl: 'wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/bob',
            },
          },
        ),
      ],
    ],
    noMatch: [
      [
        'terminate-session',
        e('ssm.amazonaws.com', 'TerminateSession', { sessionId: 'bob@example.com-0a1b2c3d4e5f60789' }, { user: ssoUser() }),
      ],
    ],
  },
  // ------------------------------------------------------------ exfiltration and exposure
  's3.bucket-made-public': {
    match: [
      [
        'public-access-block-deleted',
        e('s3.amazonaws.com', 'DeleteBucketPublicAccessBlock', {
          bucketName: 'customer-data',
          Host: 'customer-data.s3.amazonaws.com',
          publicAccessBlock: '',
        }),
      ],
    ],
    noMatch: [
      [
        'public-access-block-on',
        e('s3.amazonaws.com', 'PutBucketPublicAccessBlock', {
          bucketName: 'customer-data',
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            IgnorePublicAcls: true,
            BlockPublicPolicy: true,
            RestrictPublicBuckets: true,
          },
        }),
      ],
    ],
  },
  'ec2.security-group-open-to-world': {
    match: [
      ['https-from-anywhere', sgIngress('tcp', 443, 443, '0.0.0.0/0')],
      ['odd-zero-prefix', sgIngress('tcp', 8080, 8080, '10.1.2.3/0')],
      ['ipv6-anywhere', sgIngress('tcp', 443, 443, '::/0', true)],
    ],
    noMatch: [['office-block', sgIngress('tcp', 443, 443, '198.51.100.0/24')]],
  },
  'exfiltration.security-group-admin-ports-open': {
    match: [
      ['ssh-from-anywhere', sgIngress('tcp', 22, 22, '0.0.0.0/0')],
      ['all-traffic-from-anywhere', sgIngress('-1', -1, -1, '0.0.0.0/0')],
      ['rdp-range-from-anywhere-v6', sgIngress('tcp', 3000, 4000, '::/0', true)],
    ],
    noMatch: [
      ['https-from-anywhere', sgIngress('tcp', 443, 443, '0.0.0.0/0')],
      ['ssh-from-office', sgIngress('tcp', 22, 22, '198.51.100.0/24')],
    ],
  },
  'ec2.snapshot-or-ami-public': {
    match: [
      [
        'snapshot-to-all',
        e('ec2.amazonaws.com', 'ModifySnapshotAttribute', {
          snapshotId: 'snap-0123456789abcdef0',
          attributeType: 'CREATE_VOLUME_PERMISSION',
          createVolumePermission: { add: { items: [{ group: 'all' }] } },
        }),
      ],
    ],
    noMatch: [
      [
        'snapshot-to-account',
        e('ec2.amazonaws.com', 'ModifySnapshotAttribute', {
          snapshotId: 'snap-0123456789abcdef0',
          attributeType: 'CREATE_VOLUME_PERMISSION',
          createVolumePermission: { add: { items: [{ userId: OTHER_ACCOUNT }] } },
        }),
      ],
    ],
  },
  'ec2.snapshot-or-ami-shared': {
    match: [
      [
        'ami-to-account',
        e('ec2.amazonaws.com', 'ModifyImageAttribute', {
          imageId: 'ami-0abcdef1234567890',
          launchPermission: { add: { items: [{ userId: OTHER_ACCOUNT }] }, attributeType: 'launchPermission' },
        }),
      ],
      [
        'rds-cluster-snapshot-to-account',
        e('rds.amazonaws.com', 'ModifyDBClusterSnapshotAttribute', {
          dBClusterSnapshotIdentifier: 'orders-final',
          attributeName: 'restore',
          valuesToAdd: [OTHER_ACCOUNT],
        }),
      ],
    ],
    noMatch: [
      [
        'ami-permission-removed',
        e('ec2.amazonaws.com', 'ModifyImageAttribute', {
          imageId: 'ami-0abcdef1234567890',
          launchPermission: { remove: { items: [{ userId: OTHER_ACCOUNT }] } },
        }),
      ],
    ],
  },
  'exfiltration.s3-replication-to-other-account': {
    match: [
      [
        'replicate-to-other-account',
        e('s3.amazonaws.com', 'PutBucketReplication', {
          bucketName: 'customer-data',
          ReplicationConfiguration: {
            Role: `arn:aws:iam::${ACCOUNT}:role/s3-replication`,
            Rule: {
              ID: 'all',
              Status: 'Enabled',
              Priority: 1,
              Filter: {},
              Destination: { Bucket: 'arn:aws:s3:::exfil-bucket', Account: OTHER_ACCOUNT },
            },
          },
        }),
      ],
    ],
    noMatch: [
      [
        'replicate-within-account',
        e('s3.amazonaws.com', 'PutBucketReplication', {
          bucketName: 'customer-data',
          ReplicationConfiguration: {
            Role: `arn:aws:iam::${ACCOUNT}:role/s3-replication`,
            Rule: { ID: 'dr', Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::customer-data-dr' } },
          },
        }),
      ],
    ],
  },
  // ------------------------------------------------------------ impact
  'impact.kms-key-deletion-scheduled': {
    match: [
      [
        'schedule-key-deletion',
        e('kms.amazonaws.com', 'ScheduleKeyDeletion', {
          keyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          pendingWindowInDays: 7,
        }),
      ],
    ],
    noMatch: [['cancel-key-deletion', e('kms.amazonaws.com', 'CancelKeyDeletion', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' })]],
  },
  'impact.kms-key-disabled': {
    match: [['disable-key', e('kms.amazonaws.com', 'DisableKey', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' })]],
    noMatch: [['enable-key', e('kms.amazonaws.com', 'EnableKey', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' })]],
  },
  'impact.database-deleted-without-snapshot': {
    match: [
      [
        'delete-instance-skip-snapshot',
        e('rds.amazonaws.com', 'DeleteDBInstance', {
          dBInstanceIdentifier: 'orders-prod',
          skipFinalSnapshot: true,
          deleteAutomatedBackups: true,
        }),
      ],
    ],
    noMatch: [
      [
        'delete-instance-with-snapshot',
        e('rds.amazonaws.com', 'DeleteDBInstance', {
          dBInstanceIdentifier: 'orders-staging',
          skipFinalSnapshot: false,
          finalDBSnapshotIdentifier: 'orders-staging-final',
        }),
      ],
    ],
  },
  'impact.mass-object-deletion': {
    match: [['delete-150-objects', deleteObjects(150)]],
    noMatch: [['delete-3-objects', deleteObjects(3)]],
  },
  'impact.bedrock-model-access-enabled': {
    match: [
      [
        'model-agreement',
        e('bedrock.amazonaws.com', 'CreateFoundationModelAgreement', {
          modelId: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
          offerToken: 'Value hidden due to security reasons.',
        }),
      ],
    ],
    noMatch: [['list-models', e('bedrock.amazonaws.com', 'ListFoundationModels', null)]],
  },
  'impact.bedrock-invoked-from-outside-aws': {
    match: [
      [
        'invoke-from-vps',
        e(
          'bedrock.amazonaws.com',
          'InvokeModel',
          { modelId: 'anthropic.claude-3-5-sonnet-20240620-v1:0' },
          { ip: '185.220.101.4', data: false },
        ),
        ATTACKER,
      ],
    ],
    noMatch: [
      [
        'invoke-from-lambda',
        e(
          'bedrock.amazonaws.com',
          'InvokeModel',
          { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
          { user: roleSession('chatbot-lambda-role', 'chatbot'), ip: '3.91.12.40' },
        ),
        { asn: 14618, org: 'AMAZON-AES' },
      ],
    ],
  },
  // ------------------------------------------------------------ initial access
  'initial-access.root-console-login': {
    match: [['root-signs-in', consoleLogin(ROOT, 'Success', 'Yes')]],
    noMatch: [['iam-user-signs-in', consoleLogin(ALICE, 'Success', 'Yes')]],
  },
  // ------------------------------------------------------------ lateral movement
  'lateral-movement.ec2-instance-connect-key': {
    match: [
      [
        'send-ssh-key',
        e(
          'ec2-instance-connect.amazonaws.com',
          'SendSSHPublicKey',
          {
            instanceId: 'i-0a1b2c3d4e5f60789',
            instanceOSUser: 'ec2-user',
            sSHPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEKEY alice',
          },
          { response: { requestId: '0a1b2c3d-0000-0000-0000-000000000001', success: true } },
        ),
      ],
    ],
    noMatch: [['describe-endpoints', e('ec2.amazonaws.com', 'DescribeInstanceConnectEndpoints', null)]],
  },
  'lateral-movement.serial-console-key': {
    match: [
      [
        'send-serial-key',
        e('ec2-instance-connect.amazonaws.com', 'SendSerialConsoleSSHPublicKey', {
          instanceId: 'i-0a1b2c3d4e5f60789',
          serialPort: 0,
          sSHPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEKEY alice',
        }),
      ],
    ],
    noMatch: [
      [
        'send-ssh-key',
        e('ec2-instance-connect.amazonaws.com', 'SendSSHPublicKey', { instanceId: 'i-0a1b2c3d4e5f60789', instanceOSUser: 'ec2-user' }),
      ],
    ],
  },
  'lateral-movement.serial-console-enabled': {
    match: [
      [
        'enable-serial-console',
        e(
          'ec2.amazonaws.com',
          'EnableSerialConsoleAccess',
          { EnableSerialConsoleAccessRequest: '' },
          { response: { serialConsoleAccessEnabled: true } },
        ),
      ],
    ],
    noMatch: [['disable-serial-console', e('ec2.amazonaws.com', 'DisableSerialConsoleAccess', { DisableSerialConsoleAccessRequest: '' })]],
  },
  // ------------------------------------------------------------ persistence
  'persistence.login-profile-for-other-user': {
    match: [['password-for-bob', e('iam.amazonaws.com', 'CreateLoginProfile', { userName: 'Bob', passwordResetRequired: false })]],
    noMatch: [['own-password-change', e('iam.amazonaws.com', 'UpdateLoginProfile', { userName: 'Alice', passwordResetRequired: false })]],
  },
  'persistence.role-trusts-external-principal': {
    match: [
      [
        'trust-other-account',
        e('iam.amazonaws.com', 'UpdateAssumeRolePolicy', {
          roleName: 'break-glass',
          policyDocument: trust(`{"AWS": "arn:aws:iam::${OTHER_ACCOUNT}:root"}`),
        }),
      ],
      [
        'create-role-trusting-anyone',
        e('iam.amazonaws.com', 'CreateRole', { roleName: 'helper', assumeRolePolicyDocument: trust('{"AWS": "*"}') }),
      ],
    ],
    noMatch: [
      [
        'trust-own-account',
        e('iam.amazonaws.com', 'UpdateAssumeRolePolicy', {
          roleName: 'deploy',
          policyDocument: trust(`{"AWS": "arn:aws:iam::${ACCOUNT}:role/ci"}`),
        }),
      ],
      [
        'create-role-for-lambda',
        e('iam.amazonaws.com', 'CreateRole', {
          roleName: 'fn-role',
          assumeRolePolicyDocument: trust('{"Service": "lambda.amazonaws.com"}'),
        }),
      ],
    ],
  },
  'persistence.lambda-permission-external': {
    match: [
      [
        'invoke-by-anyone',
        e('lambda.amazonaws.com', 'AddPermission20150331v2', {
          functionName: 'payments-api',
          statementId: 'open',
          action: 'lambda:InvokeFunction',
          principal: '*',
        }),
      ],
      [
        'invoke-by-other-account',
        e('lambda.amazonaws.com', 'AddPermission20150331v2', {
          functionName: 'payments-api',
          statementId: 'x',
          action: 'lambda:InvokeFunction',
          principal: OTHER_ACCOUNT,
        }),
      ],
    ],
    noMatch: [
      [
        'invoke-by-s3',
        e('lambda.amazonaws.com', 'AddPermission20150331v2', {
          functionName: 'thumbnailer',
          statementId: 's3',
          action: 'lambda:InvokeFunction',
          principal: 's3.amazonaws.com',
          sourceAccount: ACCOUNT,
        }),
      ],
    ],
  },
  'persistence.lambda-code-updated': {
    match: [
      [
        'code-replaced-by-user',
        e('lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', { functionName: 'payments-api', publish: false }),
      ],
    ],
    noMatch: [
      [
        'code-deployed-by-cloudformation',
        e(
          'lambda.amazonaws.com',
          'UpdateFunctionCode20150331v2',
          { functionName: 'payments-api', s3Bucket: 'deploys', s3Key: 'payments-api.zip' },
          { user: CFN, ip: 'cloudformation.amazonaws.com', userAgent: 'cloudformation.amazonaws.com' },
        ),
      ],
    ],
  },
  'persistence.lambda-layer-added': {
    match: [
      [
        'foreign-layer-added',
        e('lambda.amazonaws.com', 'UpdateFunctionConfiguration20150331v2', {
          functionName: 'payments-api',
          layers: [`arn:aws:lambda:us-east-1:${OTHER_ACCOUNT}:layer:helper:3`],
        }),
      ],
    ],
    noMatch: [
      [
        'memory-changed',
        e('lambda.amazonaws.com', 'UpdateFunctionConfiguration20150331v2', { functionName: 'payments-api', memorySize: 1024 }),
      ],
    ],
  },
  'persistence.roles-anywhere-trust-anchor': {
    match: [
      [
        'create-trust-anchor',
        e('rolesanywhere.amazonaws.com', 'CreateTrustAnchor', {
          name: 'laptop-ca',
          enabled: true,
          source: { sourceType: 'CERTIFICATE_BUNDLE', sourceData: { x509CertificateData: '-----BEGIN CERTIFICATE-----…' } },
        }),
      ],
    ],
    noMatch: [['list-trust-anchors', e('rolesanywhere.amazonaws.com', 'ListTrustAnchors', null)]],
  },
  'persistence.identity-provider-changed': {
    match: [
      [
        'saml-provider-created',
        e('iam.amazonaws.com', 'CreateSAMLProvider', { name: 'okta-backup', sAMLMetadataDocument: '<md:EntityDescriptor …/>' }),
      ],
      [
        'oidc-thumbprint-changed',
        e('iam.amazonaws.com', 'UpdateOpenIDConnectProviderThumbprint', {
          openIDConnectProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
          thumbprintList: ['1b511abead59c6ce207077c0bf0e0043b1382612'],
        }),
      ],
    ],
    noMatch: [['list-saml-providers', e('iam.amazonaws.com', 'ListSAMLProviders', null)]],
  },
  'persistence.federation-token': {
    match: [['federation-token', e('sts.amazonaws.com', 'GetFederationToken', { name: 'backup', durationSeconds: 129600 })]],
    noMatch: [['session-token', e('sts.amazonaws.com', 'GetSessionToken', { durationSeconds: 3600 })]],
  },
  // ------------------------------------------------------------ privilege escalation
  'privilege-escalation.policy-version-set-default': {
    match: [
      [
        'new-default-version',
        e('iam.amazonaws.com', 'CreatePolicyVersion', {
          policyArn: `arn:aws:iam::${ACCOUNT}:policy/ci-deploy`,
          policyDocument: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
          setAsDefault: true,
        }),
      ],
    ],
    noMatch: [
      [
        'draft-version',
        e('iam.amazonaws.com', 'CreatePolicyVersion', {
          policyArn: `arn:aws:iam::${ACCOUNT}:policy/ci-deploy`,
          policyDocument: '{"Version":"2012-10-17","Statement":[]}',
          setAsDefault: false,
        }),
      ],
    ],
  },
  'privilege-escalation.default-policy-version-changed': {
    match: [
      [
        'set-default-v1',
        e('iam.amazonaws.com', 'SetDefaultPolicyVersion', { policyArn: `arn:aws:iam::${ACCOUNT}:policy/ci-deploy`, versionId: 'v1' }),
      ],
    ],
    noMatch: [
      [
        'get-policy-version',
        e('iam.amazonaws.com', 'GetPolicyVersion', { policyArn: `arn:aws:iam::${ACCOUNT}:policy/ci-deploy`, versionId: 'v1' }),
      ],
    ],
  },
  'privilege-escalation.user-added-to-privileged-group': {
    match: [['bob-to-admins', e('iam.amazonaws.com', 'AddUserToGroup', { groupName: 'Admins', userName: 'Bob' })]],
    noMatch: [['bob-to-developers', e('iam.amazonaws.com', 'AddUserToGroup', { groupName: 'Developers', userName: 'Bob' })]],
  },
  // ------------------------------------------------------------ errors and context
  'access.denied': {
    match: [
      [
        'denied-get-bucket-policy',
        e(
          's3.amazonaws.com',
          'GetBucketPolicy',
          { bucketName: 'customer-data' },
          { errorCode: 'AccessDenied', errorMessage: 'Access Denied' },
        ),
      ],
    ],
    noMatch: [
      [
        'throttled',
        e('ec2.amazonaws.com', 'DescribeInstances', null, {
          errorCode: 'Client.RequestLimitExceeded',
          errorMessage: 'Request limit exceeded.',
        }),
      ],
    ],
  },
  'activity.off-hours': {
    match: [
      [
        'saturday-night-change',
        e(
          'ec2.amazonaws.com',
          'CreateSecurityGroup',
          { groupName: 'temp', groupDescription: 'temp', vpcId: 'vpc-0a1b2c3d4e5f60789' },
          { time: '2026-03-14T02:17:45Z' },
        ),
      ],
    ],
    noMatch: [
      [
        'tuesday-afternoon-change',
        e('ec2.amazonaws.com', 'CreateSecurityGroup', { groupName: 'temp', groupDescription: 'temp', vpcId: 'vpc-0a1b2c3d4e5f60789' }),
      ],
    ],
  },

  // ------------------------------------------------------------ behaviour baselines (enrichment.baseline)
  'initial-access.console-login-new-country': {
    match: [['success-from-new-country', consoleLogin(ALICE, 'Success', 'Yes', { sourceIPAddress: ATTACKER.ip }), ATTACKER]],
    noMatch: [
      ['learning-principal', consoleLogin(ALICE, 'Success', 'Yes', { sourceIPAddress: ATTACKER.ip }), ATTACKER],
      ['country-and-network-new', consoleLogin(ALICE, 'Success', 'Yes', { sourceIPAddress: ATTACKER.ip }), ATTACKER],
      ['failed-sign-in', consoleLogin(ALICE, 'Failure', 'No', { sourceIPAddress: ATTACKER.ip }), ATTACKER],
    ],
  },
  'initial-access.console-login-new-country-and-network': {
    match: [['success-from-new-country-and-as', consoleLogin(ALICE, 'Success', 'Yes', { sourceIPAddress: ATTACKER.ip }), ATTACKER]],
    noMatch: [
      ['baseline-unavailable', consoleLogin(ALICE, 'Success', 'Yes', { sourceIPAddress: ATTACKER.ip }), ATTACKER],
      ['only-country-new', consoleLogin(ALICE, 'Success', 'Yes', { sourceIPAddress: ATTACKER.ip }), ATTACKER],
    ],
  },
  'credential-access.access-key-new-network': {
    match: [
      ['list-buckets-from-new-as', e('s3.amazonaws.com', 'ListBuckets', { Host: 's3.amazonaws.com' }, { ip: ATTACKER.ip }), ATTACKER],
    ],
    noMatch: [
      [
        'console-session',
        e(
          's3.amazonaws.com',
          'ListBuckets',
          { Host: 's3.amazonaws.com' },
          { ip: ATTACKER.ip, extra: { sessionCredentialFromConsole: 'true' } },
        ),
        ATTACKER,
      ],
      ['learning-principal', e('s3.amazonaws.com', 'ListBuckets', { Host: 's3.amazonaws.com' }, { ip: ATTACKER.ip }), ATTACKER],
    ],
  },
  'execution.new-user-agent-kind': {
    match: [['cli-after-console-only', e('iam.amazonaws.com', 'ListUsers', null)]],
    noMatch: [
      [
        'new-sdk-of-the-same-kind',
        e('iam.amazonaws.com', 'ListUsers', null, {
          userAgent: 'Boto3/1.34.50 md/Botocore#1.34.50 ua/2.0 os/linux#6.1 lang/python#3.11.8',
        }),
      ],
    ],
  },

  // ------------------------------------------------------------ thresholds (one file = one invocation)
  'credential-access.many-secrets-read': {
    match: [['ten-distinct-secrets', secretReads(10, (i) => `prod/db-${i}`)]],
    noMatch: [['five-secrets-read-twice', secretReads(10, (i) => `prod/db-${i % 5}`)]],
  },
  'credential-access.many-parameters-decrypted': {
    match: [['ten-distinct-parameters', parameterReads(10, true)]],
    noMatch: [['ten-parameters-without-decryption', parameterReads(10, false)]],
  },
  'discovery.many-access-denied': {
    match: [['twenty-denied-in-five-minutes', deniedCalls(20, 15)]],
    noMatch: [['twenty-denied-over-two-windows', deniedCalls(20, 60)]],
  },
  'defense-evasion.many-regions': {
    match: [['five-regions', regionCalls(['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1', 'sa-east-1'])]],
    noMatch: [
      ['four-regions-many-calls', regionCalls(['us-east-1', 'us-west-2', 'eu-west-1', 'us-east-1', 'ap-southeast-1', 'us-west-2'])],
    ],
  },
};

/** Enrichment overrides for the reputation cases (the lookup stage's reputation fields). */
const REPUTATION: Record<string, Json> = {
  'reputation.high-fraud-score/match/fraud-score-92': { fraudScore: 92 },
  'reputation.high-fraud-score/no-match/fraud-score-10': { fraudScore: 10 },
  'reputation.proxy-or-vpn/match/commercial-vpn': { vpn: true, proxy: false },
  'reputation.proxy-or-vpn/no-match/residential': { vpn: false, proxy: false },
  'reputation.abuse-reported/match/abuse-confidence-80': { abuseConfidence: 80 },
  'reputation.abuse-reported/no-match/abuse-confidence-0': { abuseConfidence: 0, recentAbuse: false },
  'reputation.malicious-verdict/match/c2-verdict': { verdict: 'c2' },
  'reputation.malicious-verdict/no-match/benign-verdict': { verdict: 'benign' },
};

export function fixtureCases(): Record<string, RuleCases> {
  return CASES;
}

function write(): void {
  rmSync(OUT, { recursive: true, force: true });
  let files = 0;
  for (const [rule, cases] of Object.entries(CASES)) {
    const dir = join(OUT, rule);
    for (const [kind, list] of [
      ['match', cases.match],
      ['no-match', cases.noMatch],
    ] as const) {
      mkdirSync(join(dir, kind), { recursive: true });
      for (const [name, event, source] of list) {
        const enriched = (one: Json): Json => {
          const enr = enrichment(String(one.sourceIPAddress), source);
          const rep = REPUTATION[`${rule}/${kind}/${name}`];
          if (rep) (enr.source as Json).reputation = rep;
          const baseline = BASELINE[`${rule}/${kind}/${name}`];
          if (baseline) enr.baseline = baseline;
          return { ...one, enrichment: enr };
        };
        const doc = Array.isArray(event) ? { Records: event.map(enriched) } : enriched(event);
        writeFileSync(join(dir, kind, `${name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
        files++;
      }
    }
    if (cases.watchlists) writeFileSync(join(dir, 'watchlists.json'), `${JSON.stringify(cases.watchlists, null, 2)}\n`);
  }
  process.stdout.write(`detection fixtures: ${files} files for ${Object.keys(CASES).length} rules in ${OUT}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) write();
