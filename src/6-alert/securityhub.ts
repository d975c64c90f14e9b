/**
 * Security Hub adapter: findings → ASFF → BatchImportFindings under the account's default product ARN.
 * The ASFF `Id` is the finding id (eventID + rule set), so importing it again updates instead of duplicating.
 */
import type { AwsSecurityFinding, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PRODUCT_ARN } from './config.ts';
import type { Finding } from './finding.ts';
import { sendWithRetries, type FindingPublisher, type PublishOptions, type PublishResult } from './publish.ts';

/** BatchImportFindings accepts at most 100 findings per call. */
export const BATCH_IMPORT_MAX_FINDINGS = 100;
/** One ASFF finding is at most 240 KB; ours never carry the original event, so they stay far below. */
export const ASFF_MAX_FINDING_BYTES = 240 * 1024;
/** ASFF limits we cut to: Title 256 characters, Description 1,024, ProductFields values 2,048 (at most 50 pairs). */
const TITLE_MAX = 256;
const DESCRIPTION_MAX = 1024;
const PRODUCT_FIELD_MAX = 2048;

const RETRYABLE = new Set(['ThrottlingException', 'InternalException', 'InternalFailure', 'ServiceUnavailable', 'LimitExceededException']);

/** ATT&CK tactic (as rules write it) → ASFF `TTPs/<category>`. */
const TACTIC_CATEGORY: Readonly<Record<string, string>> = {
  'initial-access': 'Initial Access',
  execution: 'Execution',
  persistence: 'Persistence',
  'privilege-escalation': 'Privilege Escalation',
  'defense-evasion': 'Defense Evasion',
  'credential-access': 'Credential Access',
  discovery: 'Discovery',
  'lateral-movement': 'Lateral Movement',
  collection: 'Collection',
  'command-and-control': 'Command and Control',
  exfiltration: 'Data Exfiltration',
  impact: 'Effects',
};

const cut = (s: string, n: number) => (s.length <= n ? s : s.slice(0, n - 3) + '...');

function resourceType(f: Finding): string {
  const arn = f.principal.arn ?? '';
  if (/:iam::\d{12}:user\//.test(arn)) return 'AwsIamUser';
  if (/:iam::\d{12}:role\//.test(arn)) return 'AwsIamRole';
  if (/:sts::\d{12}:assumed-role\//.test(arn)) return 'AwsIamRole';
  return 'Other';
}

function partitionOf(productArn: string): 'aws' | 'aws-cn' | 'aws-us-gov' {
  const p = productArn.split(':')[1];
  return p === 'aws-cn' || p === 'aws-us-gov' ? p : 'aws';
}

/** ASFF of one finding (Types/ProductFields carry ATT&CK; Severity from priority; Resources from the event). */
export function toAsff(f: Finding, productArn: string, now: Date): AwsSecurityFinding {
  const match = PRODUCT_ARN.exec(productArn);
  // The default product: the finding must belong to the account that imports it.
  const accountId = match?.[1] ?? f.account ?? '000000000000';
  const observed =
    f.eventTime !== undefined && Number.isFinite(Date.parse(f.eventTime))
      ? new Date(Date.parse(f.eventTime)).toISOString()
      : now.toISOString();
  const types = [...new Set((f.attack?.tactics ?? []).map((t) => TACTIC_CATEGORY[t]).filter((c): c is string => c !== undefined))].map(
    (c) => (c === 'Effects' ? 'Effects/Data Destruction' : c === 'Data Exfiltration' ? 'Effects/Data Exfiltration' : `TTPs/${c}`),
  );
  if (types.length === 0) types.push('Unusual Behaviors/User');
  const partition = partitionOf(productArn);
  const resources: NonNullable<AwsSecurityFinding['Resources']> = [];
  const principalId = f.principal.arn ?? f.principal.id;
  resources.push({
    Type: resourceType(f),
    Id: cut(principalId, 512),
    Partition: partition,
    ...(f.region !== undefined ? { Region: f.region } : {}),
  });
  if (f.account !== undefined)
    resources.push({
      Type: 'AwsAccount',
      Id: `AWS::::Account:${f.account}`,
      Partition: partition,
      ...(f.region !== undefined ? { Region: f.region } : {}),
    });
  const fields: Record<string, string> = {
    'cloudtrail-enricher/eventID': f.eventID,
    'cloudtrail-enricher/rules': f.rules.join(','),
    'cloudtrail-enricher/score': String(f.score),
  };
  if (f.eventName !== undefined) fields['cloudtrail-enricher/eventName'] = f.eventName;
  if (f.eventSource !== undefined) fields['cloudtrail-enricher/eventSource'] = f.eventSource;
  if (f.source.address !== undefined) fields['cloudtrail-enricher/sourceIPAddress'] = f.source.address;
  if (f.source.countryCode !== undefined) fields['cloudtrail-enricher/country'] = f.source.countryCode;
  if (f.source.as?.number !== undefined) fields['cloudtrail-enricher/asn'] = String(f.source.as.number);
  if (f.attack !== undefined) {
    fields['attack/tactics'] = f.attack.tactics.join(',');
    fields['attack/techniques'] = f.attack.techniques.join(',');
  }
  if (f.group !== undefined) fields['cloudtrail-enricher/groupCount'] = String(f.group.count);
  for (const k of Object.keys(fields)) fields[k] = cut(fields[k]!, PRODUCT_FIELD_MAX);
  const asff: AwsSecurityFinding = {
    SchemaVersion: '2018-10-08',
    Id: f.id,
    ProductArn: productArn,
    GeneratorId: cut(`cloudtrail-enricher/${f.rules.join('+')}`, 512),
    AwsAccountId: accountId,
    Types: types,
    FirstObservedAt: observed,
    LastObservedAt: observed,
    CreatedAt: observed,
    UpdatedAt: now.toISOString(),
    Severity: { Label: f.priority, Original: String(f.score) },
    Title: cut(`${f.priority} ${f.rules[0] ?? 'finding'}: ${f.eventName ?? 'CloudTrail event'}`, TITLE_MAX),
    Description: cut([f.summary, ...f.reasons.map((r) => `${r.rule}: ${r.detail}`)].join('\n'), DESCRIPTION_MAX),
    ProductFields: fields,
    Resources: resources,
    RecordState: 'ACTIVE',
  };
  if (f.consoleUrl !== undefined) asff.SourceUrl = f.consoleUrl;
  if (f.source.ip !== undefined)
    asff.Network = f.source.ip.includes(':') ? { Direction: 'IN', SourceIpV6: f.source.ip } : { Direction: 'IN', SourceIpV4: f.source.ip };
  return asff;
}

export class SecurityHubPublisher implements FindingPublisher {
  readonly name = 'securityhub';
  readonly idempotent = true;

  constructor(
    private readonly client: Pick<SecurityHubClient, 'send'> | (() => Promise<Pick<SecurityHubClient, 'send'>>),
    private readonly productArn: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async publish(findings: readonly Finding[], options: PublishOptions): Promise<PublishResult> {
    if (findings.length === 0) return { failed: new Map(), calls: 0, retries: 0 };
    const client = typeof this.client === 'function' ? await this.client() : this.client;
    const { BatchImportFindingsCommand } = await import('@aws-sdk/client-securityhub');
    const now = new Date(this.clock());
    const asff = findings.map((f) => toAsff(f, this.productArn, now));
    return sendWithRetries(
      findings.length,
      {
        plan: (pending) => {
          const calls: number[][] = [];
          for (let i = 0; i < pending.length; i += BATCH_IMPORT_MAX_FINDINGS) calls.push(pending.slice(i, i + BATCH_IMPORT_MAX_FINDINGS));
          return { calls, unsendable: new Map() };
        },
        send: async (indices, signal) => {
          const out = await client.send(new BatchImportFindingsCommand({ Findings: indices.map((i) => asff[i]!) }), {
            abortSignal: signal,
          });
          const byId = new Map((out.FailedFindings ?? []).map((x) => [x.Id, x.ErrorCode ?? 'Failed']));
          return { entryErrors: indices.map((i) => byId.get(asff[i]!.Id)) };
        },
        retryable: (code) => RETRYABLE.has(code),
      },
      options,
    );
  }
}
