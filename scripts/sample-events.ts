/**
 * A deterministic generator of realistic CloudTrail management events, shared by the bundled sample
 * (scripts/generate-sample.ts) and the benchmark workloads (bench/). Event shapes follow the CloudTrail record
 * contents documented by AWS (userIdentity types, console sign-in events, IAM, S3, EC2, CloudTrail, GuardDuty,
 * STS, KMS), with a realistic mix of source addresses.
 */

let seed = 0x5eed1234;

/** Restarts the generator: the same seed gives the same events. */
export function reseed(value: number): void {
  seed = value;
}
export function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
export const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
export function weighted<T>(items: readonly [T, number][]): T {
  const total = items.reduce((n, [, w]) => n + w, 0);
  let r = random() * total;
  for (const [item, w] of items) if ((r -= w) < 0) return item;
  return items[items.length - 1]![0];
}
export const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;

export const ACCOUNTS = ['111122223333', '444455556666', '777788889999'] as const;
export const REGIONS = ['us-east-1', 'us-east-1', 'eu-west-1', 'us-west-2', 'ap-southeast-2'] as const;

/** Source addresses: mostly corporate (US) egress, some travel, some hostile-looking, plus every non-public kind. */
const PUBLIC_V4 = [
  // Corporate egress and cloud-hosted automation (US)
  ['52.95.110.1', 30],
  ['54.239.28.85', 15],
  ['18.204.0.1', 12],
  ['172.217.14.206', 10],
  ['34.195.0.1', 8],
  ['98.137.11.163', 5],
  // Travel and partners
  ['81.2.69.142', 4],
  ['85.214.132.117', 3],
  ['104.16.132.229', 3],
  ['133.242.0.3', 2],
  ['200.147.3.157', 1],
  ['65.52.128.33', 1],
  // Hosting providers and locations a security team watches
  ['51.15.9.10', 1],
  ['46.4.84.25', 1],
  ['3.5.140.2', 1],
  ['77.88.55.80', 1],
  ['220.181.38.148', 1],
  ['185.107.56.10', 1],
  ['49.44.112.10', 1],
  ['175.45.176.3', 0.5],
  ['5.160.218.1', 0.5],
] as const satisfies readonly (readonly [string, number])[];
const PUBLIC_V6 = [
  '2a03:2880:f003:c07:face:b00c::2',
  '2a03:2880:f003:c07:face:b00c::2',
  '2a00:1450:4001:81c::200e',
  '2606:4700:4700::1111',
];
const PRIVATE = ['10.0.12.34', '10.20.1.5', '172.16.4.9', '192.168.1.20', 'fd12:3456:789a::1'];
const SERVICES = [
  'ec2.amazonaws.com',
  'lambda.amazonaws.com',
  'cloudformation.amazonaws.com',
  'autoscaling.amazonaws.com',
  'config.amazonaws.com',
];
const INVALID = ['010.10.10.10', '256.1.1.1', 'example.com', '1.2.3', 'fe80::1%eth0'];

export function sourceAddress(): string {
  return weighted<() => string>([
    [() => weighted(PUBLIC_V4.map(([ip, w]) => [ip, w] as [string, number])), 60],
    [() => pick(PUBLIC_V6), 6],
    [() => pick(PRIVATE), 8],
    [() => 'AWS Internal', 10],
    [() => pick(SERVICES), 12],
    [() => pick(INVALID), 2],
    [() => pick(['127.0.0.1', '169.254.169.254', '192.0.2.44', '198.51.100.7']), 2],
  ])();
}

const USERS = ['alice', 'bob', 'carol', 'deploy-bot', 'dave'];
function identity(account: string, kind: 'user' | 'root' | 'role' | 'service' = 'user', userName = pick(USERS)): Record<string, unknown> {
  if (kind === 'root')
    return {
      type: 'Root',
      principalId: account,
      arn: `arn:aws:iam::${account}:root`,
      accountId: account,
      accessKeyId: `ASIA${hex(16).toUpperCase()}`,
    };
  if (kind === 'service') return { type: 'AWSService', invokedBy: pick(SERVICES) };
  if (kind === 'role') {
    const role = pick(['Admin', 'ReadOnly', 'CICD-Deployer', 'OrganizationAccountAccessRole']);
    return {
      type: 'AssumedRole',
      principalId: `AROA${hex(16).toUpperCase()}:${userName}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${userName}`,
      accountId: account,
      accessKeyId: `ASIA${hex(16).toUpperCase()}`,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: `AROA${hex(16).toUpperCase()}`,
          arn: `arn:aws:iam::${account}:role/${role}`,
          accountId: account,
          userName: role,
        },
        attributes: { creationDate: '2026-11-19T08:00:00Z', mfaAuthenticated: random() < 0.6 ? 'true' : 'false' },
      },
    };
  }
  return {
    type: 'IAMUser',
    principalId: `AIDA${hex(16).toUpperCase()}`,
    arn: `arn:aws:iam::${account}:user/${userName}`,
    accountId: account,
    accessKeyId: `AKIA${hex(16).toUpperCase()}`,
    userName,
  };
}

type Template = (account: string, region: string) => Record<string, unknown>;

const T: [Template, number][] = [
  [
    (a, r) => ({
      eventSource: 'ec2.amazonaws.com',
      eventName: 'DescribeInstances',
      awsRegion: r,
      userIdentity: identity(a, pick(['user', 'role'])),
      requestParameters: { instancesSet: {}, filterSet: {} },
      responseElements: null,
      readOnly: true,
    }),
    30,
  ],
  [
    (a, r) => ({
      eventSource: 's3.amazonaws.com',
      eventName: 'ListBuckets',
      awsRegion: r,
      userIdentity: identity(a, 'role'),
      requestParameters: { Host: 's3.amazonaws.com' },
      responseElements: null,
      readOnly: true,
    }),
    15,
  ],
  [
    (a, r) => ({
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRole',
      awsRegion: r,
      userIdentity: identity(a, 'service'),
      requestParameters: { roleArn: `arn:aws:iam::${a}:role/lambda-exec`, roleSessionName: `session-${hex(6)}` },
      responseElements: { credentials: { accessKeyId: `ASIA${hex(16).toUpperCase()}`, expiration: 'Nov 20, 2026, 4:03:21 PM' } },
      readOnly: true,
      sourceIPAddress: pick(SERVICES),
    }),
    12,
  ],
  [
    (a, r) => ({
      eventSource: 'kms.amazonaws.com',
      eventName: 'Decrypt',
      awsRegion: r,
      userIdentity: identity(a, 'service'),
      requestParameters: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
      responseElements: null,
      readOnly: true,
      sourceIPAddress: 'AWS Internal',
    }),
    10,
  ],
  [(a) => consoleLogin(a, 'Success', random() < 0.7 ? 'Yes' : 'No'), 8],
  [(a) => consoleLogin(a, 'Failure', 'No'), 3],
  [(a) => ({ ...consoleLogin(a, 'Success', 'No'), userIdentity: identity(a, 'root') }), 1],
  [
    (a) => ({
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
      awsRegion: 'us-east-1',
      userIdentity: identity(a),
      requestParameters: { userName: `contractor-${hex(4)}` },
      responseElements: {
        user: {
          path: '/',
          userName: 'contractor',
          userId: `AIDA${hex(16).toUpperCase()}`,
          arn: `arn:aws:iam::${a}:user/contractor`,
          createDate: 'Nov 20, 2026, 2:00:00 PM',
        },
      },
      readOnly: false,
    }),
    2,
  ],
  [
    (a) => ({
      eventSource: 'iam.amazonaws.com',
      eventName: 'AttachUserPolicy',
      awsRegion: 'us-east-1',
      userIdentity: identity(a),
      requestParameters: { userName: pick(USERS), policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
      responseElements: null,
      readOnly: false,
    }),
    1,
  ],
  [
    (a) => ({
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateAccessKey',
      awsRegion: 'us-east-1',
      userIdentity: identity(a, 'user', 'alice'),
      requestParameters: { userName: 'bob' },
      responseElements: {
        accessKey: {
          accessKeyId: `AKIA${hex(16).toUpperCase()}`,
          status: 'Active',
          userName: 'bob',
          createDate: 'Nov 20, 2026, 2:00:00 PM',
        },
      },
      readOnly: false,
    }),
    1,
  ],
  [
    (a, r) => ({
      eventSource: 's3.amazonaws.com',
      eventName: 'DeletePublicAccessBlock',
      awsRegion: r,
      userIdentity: identity(a, 'role'),
      requestParameters: { bucketName: `logs-${a}`, Host: `logs-${a}.s3.${r}.amazonaws.com`, publicAccessBlock: '' },
      responseElements: null,
      readOnly: false,
    }),
    1,
  ],
  [
    (a, r) => ({
      eventSource: 'ec2.amazonaws.com',
      eventName: 'AuthorizeSecurityGroupIngress',
      awsRegion: r,
      userIdentity: identity(a, 'role'),
      requestParameters: {
        groupId: `sg-${hex(17)}`,
        ipPermissions: {
          items: [
            {
              ipProtocol: 'tcp',
              fromPort: 22,
              toPort: 22,
              groups: {},
              ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] },
              ipv6Ranges: {},
              prefixListIds: {},
            },
          ],
        },
      },
      responseElements: { requestId: uuid(), _return: true },
      readOnly: false,
    }),
    1,
  ],
  [
    (a, r) => ({
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'StopLogging',
      awsRegion: r,
      userIdentity: identity(a, 'role'),
      requestParameters: { name: `arn:aws:cloudtrail:${r}:${a}:trail/management` },
      responseElements: null,
      readOnly: false,
    }),
    1,
  ],
  [
    (a, r) => ({
      eventSource: 'ec2.amazonaws.com',
      eventName: 'ModifySnapshotAttribute',
      awsRegion: r,
      userIdentity: identity(a, 'role'),
      requestParameters: {
        snapshotId: `snap-${hex(17)}`,
        createVolumePermission: { add: { items: [{ group: 'all' }] } },
        attributeType: 'CREATE_VOLUME_PERMISSION',
      },
      responseElements: { requestId: uuid(), _return: true },
      readOnly: false,
    }),
    1,
  ],
  [
    (a, r) => ({
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      awsRegion: r,
      userIdentity: identity(a),
      errorCode: 'Client.UnauthorizedOperation',
      errorMessage: 'You are not authorized to perform this operation.',
      requestParameters: { instancesSet: { items: [{ imageId: `ami-${hex(17)}`, minCount: 1, maxCount: 1 }] }, instanceType: 't3.micro' },
      responseElements: null,
      readOnly: false,
    }),
    3,
  ],
  [
    (a, r) => ({
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'GetSecretValue',
      awsRegion: r,
      userIdentity: identity(a, 'role'),
      errorCode: 'AccessDenied',
      errorMessage: `User: arn:aws:sts::${a}:assumed-role/ReadOnly/dave is not authorized to perform: secretsmanager:GetSecretValue`,
      requestParameters: { secretId: 'prod/db' },
      responseElements: null,
      readOnly: true,
    }),
    3,
  ],
  [
    (a, r) => ({
      eventSource: 'guardduty.amazonaws.com',
      eventName: 'DeleteDetector',
      awsRegion: r,
      userIdentity: identity(a, 'role'),
      requestParameters: { detectorId: hex(32) },
      responseElements: null,
      readOnly: false,
    }),
    0.3,
  ],
];

function consoleLogin(account: string, result: 'Success' | 'Failure', mfa: 'Yes' | 'No'): Record<string, unknown> {
  const event: Record<string, unknown> = {
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    awsRegion: 'us-east-1',
    userIdentity: identity(account),
    userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15',
    requestParameters: null,
    responseElements: { ConsoleLogin: result },
    additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: mfa },
    eventType: 'AwsConsoleSignIn',
    readOnly: false,
  };
  if (result === 'Failure') event.errorMessage = 'Failed authentication';
  return event;
}

/**
 * One CloudTrail management event. `address` picks the source address when the event type does not fix one
 * (services calling as `AWS Internal` or a service hostname).
 */
export function event(account: string, region: string, time: Date, address: () => string = sourceAddress): Record<string, unknown> {
  const body = weighted(T)(account, region);
  const sourceIPAddress = (body.sourceIPAddress as string | undefined) ?? address();
  delete body.sourceIPAddress;
  const ordered: Record<string, unknown> = {
    eventVersion: '1.09',
    userIdentity: body.userIdentity,
    eventTime: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: body.eventSource,
    eventName: body.eventName,
    awsRegion: body.awsRegion,
    sourceIPAddress,
    userAgent:
      body.userAgent ??
      pick([
        'aws-cli/2.17.40 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.9',
        'Boto3/1.35.10 md/Botocore#1.35.10 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12.4 exec-env/AWS_Lambda_python3.12',
        'AWS Internal',
        'console.amazonaws.com',
        'Terraform/1.9.5 terraform-provider-aws/5.65.0',
      ]),
  };
  for (const [k, v] of Object.entries(body)) if (!(k in ordered) && k !== 'userAgent') ordered[k] = v;
  Object.assign(ordered, {
    requestID: uuid(),
    eventID: uuid(),
    readOnly: body.readOnly ?? true,
    eventType: body.eventType ?? 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
    tlsDetails: {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: `${String(body.eventSource).split('.')[0]}.${region}.amazonaws.com`,
    },
  });
  return ordered;
}
