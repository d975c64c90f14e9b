/**
 * Small factories for CloudTrail records shaped like AWS's documented events
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html),
 * shared by the detection-fixture generator and the benign-corpus generator. Deterministic: ids are
 * derived from a seed string, never random.
 */
import { createHash } from 'node:crypto';

export type Json = Record<string, unknown>;
export const ACCOUNT = '123456789012';
export const OTHER_ACCOUNT = '444455556666';

/** A UUID-shaped id derived from `seed`. */
export function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export const ALICE: Json = {
  type: 'IAMUser',
  principalId: 'AIDAJ45Q7YFFAREXAMPLE',
  arn: `arn:aws:iam::${ACCOUNT}:user/Alice`,
  accountId: ACCOUNT,
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  userName: 'Alice',
};

export function ssoUser(email = 'bob@example.com', permissionSet = 'AdministratorAccess'): Json {
  const role = `AWSReservedSSO_${permissionSet}_0123456789abcdef`;
  return {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLEID00000001:${email}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${email}`,
    accountId: ACCOUNT,
    accessKeyId: 'ASIAEXAMPLEKEY000001',
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLEID00000001',
        arn: `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${role}`,
        accountId: ACCOUNT,
        userName: role,
      },
      attributes: { creationDate: '2026-03-10T13:01:12Z', mfaAuthenticated: 'false' },
    },
  };
}

export function roleSession(role: string, session: string, invokedBy?: string): Json {
  return {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLEROLE00002:${session}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
    accountId: ACCOUNT,
    accessKeyId: 'ASIAEXAMPLEKEY000002',
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLEROLE00002',
        arn: `arn:aws:iam::${ACCOUNT}:role/${role}`,
        accountId: ACCOUNT,
        userName: role,
      },
      attributes: { creationDate: '2026-03-10T12:00:00Z', mfaAuthenticated: 'false' },
      ...(role.includes('ec2') ? { ec2RoleDelivery: '2.0' } : {}),
    },
    ...(invokedBy ? { invokedBy } : {}),
  };
}

export const INSTANCE_ROLE = roleSession('app-server-ec2-role', 'i-0a1b2c3d4e5f60789');
export const DEPLOY_ROLE = roleSession('github-actions-deploy', 'GitHubActions');

export const ROOT: Json = { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT, accessKeyId: '' };

const READ_PREFIXES = ['Describe', 'List', 'Get', 'Lookup', 'Head', 'BatchGet', 'Search', 'Scan', 'Query'];

export interface EventOptions {
  user?: Json;
  ip?: string;
  time?: string;
  region?: string;
  userAgent?: string;
  response?: unknown;
  errorCode?: string;
  errorMessage?: string;
  readOnly?: boolean;
  data?: boolean;
  extra?: Json;
  seed?: string;
}

/** A management (or, with `data`, a data) event record for `service:name`. */
export function apiCall(eventSource: string, eventName: string, requestParameters: unknown, o: EventOptions = {}): Json {
  const seed = o.seed ?? `${eventSource}:${eventName}:${JSON.stringify(requestParameters)}:${JSON.stringify(o)}`;
  const service = eventSource.split('.')[0]!;
  return {
    eventVersion: '1.09',
    userIdentity: o.user ?? ALICE,
    eventTime: o.time ?? '2026-03-10T14:05:22Z',
    eventSource,
    eventName,
    awsRegion: o.region ?? 'us-east-1',
    sourceIPAddress: o.ip ?? '73.162.45.10',
    userAgent:
      o.userAgent ??
      `aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79 exe/x86_64.amzn.2023 prompt/off command/${service}.${eventName.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`,
    ...(o.errorCode
      ? { errorCode: o.errorCode, errorMessage: o.errorMessage ?? `User is not authorized to perform: ${service}:${eventName}` }
      : {}),
    requestParameters,
    responseElements: o.response ?? null,
    requestID: uuidFrom(`request:${seed}`),
    eventID: uuidFrom(`event:${seed}`),
    readOnly: o.readOnly ?? READ_PREFIXES.some((p) => eventName.startsWith(p)),
    eventType: 'AwsApiCall',
    managementEvent: !o.data,
    recipientAccountId: ACCOUNT,
    eventCategory: o.data ? 'Data' : 'Management',
    tlsDetails: {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: `${service}.${o.region ?? 'us-east-1'}.amazonaws.com`,
    },
    ...(o.extra ?? {}),
  };
}

export interface SourceSpec {
  ip?: string;
  country?: string;
  asn?: number;
  org?: string;
  tor?: boolean;
  kind?: 'public' | 'private' | 'aws-service' | 'aws-internal';
}

/** The enrichment the lookup stage produces for a public source (what detection fixtures carry). */
export function enrichment(address: string, s: SourceSpec = {}): Json {
  const kind = s.kind ?? (address === 'AWS Internal' ? 'aws-internal' : address.endsWith('.amazonaws.com') ? 'aws-service' : 'public');
  if (kind === 'aws-internal' || kind === 'aws-service') return { version: 1, status: 'complete', source: { address, kind } };
  const ip = s.ip ?? address;
  return {
    version: 1,
    status: 'complete',
    source: {
      address,
      kind,
      ip,
      ipVersion: ip.includes(':') ? 6 : 4,
      geo: {
        countryCode: s.country ?? 'US',
        countryName: s.country === 'NL' ? 'Netherlands' : s.country === 'RU' ? 'Russia' : 'United States',
      },
      as: { number: s.asn ?? 7922, organization: s.org ?? 'COMCAST-7922' },
      ...(s.tor !== undefined ? { reputation: { tor: s.tor } } : {}),
    },
  };
}
