/**
 * Writes test/fixtures/benign/corpus.ndjson: a deterministic day of everyday administration in one
 * account — describes, lists, deploys through CloudFormation, role assumptions, routine IAM reads,
 * console sign-ins with MFA, application reads of parameters and secrets — each event with the
 * enrichment the lookup stage gives it. The noise test judges it with the default rules and requires a
 * HIGH-or-above rate under 1 %.
 *
 *   npx tsx scripts/generate-benign-corpus.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ACCOUNT,
  ALICE,
  apiCall,
  DEPLOY_ROLE,
  enrichment,
  INSTANCE_ROLE,
  roleSession,
  ssoUser,
  type Json,
  type SourceSpec,
} from './detection-events.ts';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'benign', 'corpus.ndjson');
export const CORPUS_SIZE = 2000;

/** mulberry32: a small deterministic PRNG, so the corpus is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(14);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

const PEOPLE = [
  ssoUser('bob@example.com', 'AdministratorAccess'),
  ssoUser('carol@example.com', 'PowerUserAccess'),
  ssoUser('dave@example.com', 'ReadOnlyAccess'),
  ALICE,
];
const OFFICE: SourceSpec = { asn: 7922, org: 'COMCAST-7922' };
const AWS_AS: SourceSpec = { asn: 14618, org: 'AMAZON-AES' };
const CFN = roleSession('cfn-exec-role', 'AWSCloudFormation', 'cloudformation.amazonaws.com');
const APP = roleSession('payments-api-lambda-role', 'payments-api');

type Make = (time: string, i: number) => { event: Json; source?: SourceSpec; address?: string };

const READS: [string, string, unknown][] = [
  ['ec2.amazonaws.com', 'DescribeInstances', { maxResults: 100 }],
  ['ec2.amazonaws.com', 'DescribeSecurityGroups', null],
  ['ec2.amazonaws.com', 'DescribeVpcs', null],
  ['ec2.amazonaws.com', 'DescribeSubnets', null],
  ['ec2.amazonaws.com', 'DescribeVolumes', null],
  ['s3.amazonaws.com', 'ListBuckets', null],
  ['s3.amazonaws.com', 'GetBucketLocation', { bucketName: 'app-assets' }],
  ['lambda.amazonaws.com', 'ListFunctions20150331', null],
  ['cloudformation.amazonaws.com', 'DescribeStacks', { stackName: 'payments-api-prod' }],
  ['cloudformation.amazonaws.com', 'DescribeStackEvents', { stackName: 'payments-api-prod' }],
  ['logs.amazonaws.com', 'DescribeLogGroups', null],
  ['logs.amazonaws.com', 'FilterLogEvents', { logGroupName: '/aws/lambda/payments-api' }],
  ['cloudwatch.amazonaws.com', 'GetMetricData', null],
  ['rds.amazonaws.com', 'DescribeDBInstances', null],
  ['kms.amazonaws.com', 'ListAliases', null],
  ['iam.amazonaws.com', 'ListRoles', null],
  ['iam.amazonaws.com', 'GetRole', { roleName: 'payments-api-lambda-role' }],
  ['iam.amazonaws.com', 'ListAttachedRolePolicies', { roleName: 'payments-api-lambda-role' }],
  ['iam.amazonaws.com', 'GetAccountSummary', null],
  ['iam.amazonaws.com', 'ListUsers', null],
  ['sts.amazonaws.com', 'GetCallerIdentity', null],
  ['ssm.amazonaws.com', 'DescribeInstanceInformation', null],
  ['cloudtrail.amazonaws.com', 'LookupEvents', { maxResults: 50 }],
];

const DEPLOY: [string, string, unknown][] = [
  [
    'cloudformation.amazonaws.com',
    'CreateChangeSet',
    { stackName: 'payments-api-prod', changeSetName: 'deploy', capabilities: ['CAPABILITY_IAM'] },
  ],
  ['cloudformation.amazonaws.com', 'ExecuteChangeSet', { stackName: 'payments-api-prod', changeSetName: 'deploy' }],
  ['s3.amazonaws.com', 'PutObject', { bucketName: 'deploy-artifacts', key: 'payments-api/build.zip' }],
];

const BY_CFN: [string, string, unknown][] = [
  [
    'lambda.amazonaws.com',
    'UpdateFunctionCode20150331v2',
    { functionName: 'payments-api', s3Bucket: 'deploy-artifacts', s3Key: 'payments-api/build.zip' },
  ],
  [
    'lambda.amazonaws.com',
    'UpdateFunctionConfiguration20150331v2',
    { functionName: 'payments-api', memorySize: 1024, layers: [`arn:aws:lambda:us-east-1:${ACCOUNT}:layer:shared:12`] },
  ],
  [
    'iam.amazonaws.com',
    'PutRolePolicy',
    {
      roleName: 'payments-api-lambda-role',
      policyName: 'dynamo',
      policyDocument:
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem"],"Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/payments"}]}',
    },
  ],
  ['logs.amazonaws.com', 'CreateLogGroup', { logGroupName: '/aws/lambda/payments-api-v2' }],
  ['logs.amazonaws.com', 'DeleteLogGroup', { logGroupName: '/aws/lambda/payments-api-v1' }],
];

const MAKERS: [weight: number, make: Make][] = [
  // A person reading the console or the CLI from the office.
  [
    45,
    (time, i) => {
      const [s, n, rp] = pick(READS);
      return { event: apiCall(s, n, rp, { user: pick(PEOPLE), time, seed: `r${i}` }), source: OFFICE };
    },
  ],
  // Applications on Lambda and EC2 calling AWS from inside AWS.
  [
    25,
    (time, i) => {
      const [s, n, rp] = pick<[string, string, unknown]>([
        ['dynamodb.amazonaws.com', 'DescribeTable', { tableName: 'payments' }],
        ['ssm.amazonaws.com', 'GetParameters', { names: ['/prod/payments/db-password'], withDecryption: true }],
        ['secretsmanager.amazonaws.com', 'GetSecretValue', { secretId: 'prod/payments/stripe' }],
        ['kms.amazonaws.com', 'Decrypt', { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }],
        ['sqs.amazonaws.com', 'GetQueueAttributes', { queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/payments' }],
        ['s3.amazonaws.com', 'ListObjects', { bucketName: 'app-assets', prefix: 'img/' }],
      ]);
      const user = rand() < 0.5 ? APP : INSTANCE_ROLE;
      return { event: apiCall(s, n, rp, { user, time, ip: '3.91.12.40', seed: `a${i}` }), source: AWS_AS };
    },
  ],
  // Role assumptions: CI, SSO, services.
  [
    10,
    (time, i) => {
      const roleArn = `arn:aws:iam::${ACCOUNT}:role/${pick(['github-actions-deploy', 'readonly-audit', 'cfn-exec-role'])}`;
      return {
        event: apiCall(
          'sts.amazonaws.com',
          'AssumeRole',
          { roleArn, roleSessionName: `s${i}`, durationSeconds: 3600 },
          { user: pick([DEPLOY_ROLE, ...PEOPLE]), time, seed: `s${i}` },
        ),
        source: OFFICE,
      };
    },
  ],
  // Deployments: CI pushing a stack...
  [
    8,
    (time, i) => {
      const [s, n, rp] = pick(DEPLOY);
      return {
        event: apiCall(s, n, rp, { user: DEPLOY_ROLE, time, ip: '20.42.7.19', readOnly: false, seed: `d${i}` }),
        source: { asn: 8075, org: 'MICROSOFT-CORP-MSN-AS-BLOCK' },
      };
    },
  ],
  // ...and CloudFormation applying it.
  [
    6,
    (time, i) => {
      const [s, n, rp] = pick(BY_CFN);
      return {
        event: apiCall(s, n, rp, {
          user: CFN,
          time,
          ip: 'cloudformation.amazonaws.com',
          userAgent: 'cloudformation.amazonaws.com',
          readOnly: false,
          seed: `c${i}`,
        }),
      };
    },
  ],
  // Console sign-ins with MFA, and SSO sign-ins.
  [
    3,
    (time, i) => {
      const event = {
        ...apiCall('signin.amazonaws.com', 'ConsoleLogin', null, {
          user: ALICE,
          time,
          response: { ConsoleLogin: 'Success' },
          readOnly: false,
          seed: `l${i}`,
        }),
        eventType: 'AwsConsoleSignIn',
        additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: 'Yes' },
      };
      return { event, source: OFFICE };
    },
  ],
  // A read-only user bumping into a permission boundary now and then.
  [
    1,
    (time, i) => {
      const [s, n, rp] = pick(READS.slice(0, 8));
      return { event: apiCall(s, n, rp, { user: PEOPLE[2], time, errorCode: 'AccessDenied', seed: `x${i}` }), source: OFFICE };
    },
  ],
  // Small, routine changes by people during the working day.
  [
    3,
    (time, i) => {
      const [s, n, rp] = pick<[string, string, unknown]>([
        ['ec2.amazonaws.com', 'StartInstances', { instancesSet: { items: [{ instanceId: 'i-0fedcba9876543210' }] } }],
        [
          'ec2.amazonaws.com',
          'CreateTags',
          { resourcesSet: { items: [{ resourceId: 'i-0fedcba9876543210' }] }, tagSet: { items: [{ key: 'owner', value: 'bob' }] } },
        ],
        [
          'ec2.amazonaws.com',
          'RunInstances',
          { instancesSet: { items: [{ imageId: 'ami-0abcdef1234567890', minCount: 1, maxCount: 1 }] }, instanceType: 't3.medium' },
        ],
        [
          'ec2.amazonaws.com',
          'AuthorizeSecurityGroupIngress',
          {
            groupId: 'sg-0123456789abcdef0',
            ipPermissions: {
              items: [{ ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, ipRanges: { items: [{ cidrIp: '10.0.0.0/16' }] } }],
            },
          },
        ],
        ['s3.amazonaws.com', 'PutBucketTagging', { bucketName: 'app-assets' }],
        ['iam.amazonaws.com', 'TagRole', { roleName: 'payments-api-lambda-role', tags: [{ key: 'team', value: 'payments' }] }],
      ]);
      return { event: apiCall(s, n, rp, { user: pick(PEOPLE.slice(0, 2)), time, readOnly: false, seed: `w${i}` }), source: OFFICE };
    },
  ],
];

export function benignCorpus(): Json[] {
  const total = MAKERS.reduce((sum, [w]) => sum + w, 0);
  const out: Json[] = [];
  const start = Date.parse('2026-03-10T08:00:00Z'); // a Tuesday, working hours (08:00–18:00 UTC)
  for (let i = 0; i < CORPUS_SIZE; i++) {
    const time = new Date(start + Math.floor((i / CORPUS_SIZE) * 10 * 3600_000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    let r = rand() * total;
    let make = MAKERS[0]![1];
    for (const [w, m] of MAKERS) {
      if ((r -= w) < 0) {
        make = m;
        break;
      }
    }
    const { event, source } = make(time, i);
    out.push({ ...event, enrichment: enrichment(String(event.sourceIPAddress), source) });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(dirname(OUT), { recursive: true });
  const corpus = benignCorpus();
  writeFileSync(OUT, corpus.map((e) => JSON.stringify(e)).join('\n') + '\n');
  process.stdout.write(`benign corpus: ${corpus.length} events in ${OUT}\n`);
}
