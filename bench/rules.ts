/**
 * Rule evaluation cost: µs per event for the default rules (the detection pack), and for the default rules
 * plus 60 Sigma rules, against a floor measured in the same run on the same events (JSON.parse + JSON.stringify
 * of the event text, the least the transform does with each event). Part of `npm run bench`; alone:
 *
 *   node --expose-gc --import tsx bench/rules.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudTrailEvent, Enrichment } from '../src/model.ts';
import { loadRuleEngine, parseRulesConfig, type RuleEngine } from '../src/5-rules/index.ts';
import { ACCOUNTS, REGIONS, event, pick, reseed } from '../scripts/sample-events.ts';

const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** 60 Sigma rules of the shapes SigmaHQ's CloudTrail folder uses, on 60 different API calls. */
export function sixtySigmaRules(): Record<string, string> {
  const calls = [
    ['iam', 'CreateUser'],
    ['iam', 'DeleteUser'],
    ['iam', 'CreateAccessKey'],
    ['iam', 'DeleteRolePolicy'],
    ['iam', 'PutUserPolicy'],
    ['iam', 'AttachGroupPolicy'],
    ['iam', 'UpdateAccountPasswordPolicy'],
    ['iam', 'DeactivateMFADevice'],
    ['iam', 'DeleteVirtualMFADevice'],
    ['iam', 'CreateServiceLinkedRole'],
    ['sts', 'AssumeRoleWithWebIdentity'],
    ['sts', 'AssumeRoleWithSAML'],
    ['sts', 'GetSessionToken'],
    ['ec2', 'CreateKeyPair'],
    ['ec2', 'ImportKeyPair'],
    ['ec2', 'DeleteVpc'],
    ['ec2', 'CreateVpcPeeringConnection'],
    ['ec2', 'ModifyVpcAttribute'],
    ['ec2', 'CreateNetworkAclEntry'],
    ['ec2', 'DeleteNetworkAcl'],
    ['ec2', 'DisableEbsEncryptionByDefault'],
    ['ec2', 'CreateSnapshot'],
    ['ec2', 'CopyImage'],
    ['ec2', 'ExportImage'],
    ['ec2', 'CreateInstanceExportTask'],
    ['s3', 'PutBucketAcl'],
    ['s3', 'PutBucketCors'],
    ['s3', 'DeleteBucketEncryption'],
    ['s3', 'PutBucketLifecycle'],
    ['s3', 'DeleteBucket'],
    ['s3', 'PutBucketVersioning'],
    ['s3', 'PutObjectLockConfiguration'],
    ['kms', 'PutKeyPolicy'],
    ['kms', 'CreateGrant'],
    ['kms', 'RetireGrant'],
    ['lambda', 'CreateFunction20150331'],
    ['lambda', 'DeleteFunction20150331'],
    ['lambda', 'PublishLayerVersion20181031'],
    ['lambda', 'CreateEventSourceMapping20150331'],
    ['rds', 'ModifyDBInstance'],
    ['rds', 'RestoreDBInstanceFromDBSnapshot'],
    ['rds', 'CopyDBSnapshot'],
    ['secretsmanager', 'DeleteSecret'],
    ['secretsmanager', 'PutResourcePolicy'],
    ['ssm', 'DeleteParameter'],
    ['ssm', 'CreateDocument'],
    ['ssm', 'UpdateDocumentDefaultVersion'],
    ['cloudtrail', 'CreateTrail'],
    ['cloudtrail', 'DeleteEventDataStore'],
    ['guardduty', 'CreateFilter'],
    ['guardduty', 'UpdateFilter'],
    ['config', 'DeleteConfigRule'],
    ['events', 'DisableRule'],
    ['events', 'DeleteRule'],
    ['logs', 'PutRetentionPolicy'],
    ['logs', 'DeleteMetricFilter'],
    ['organizations', 'DeletePolicy'],
    ['sso', 'CreatePermissionSet'],
    ['ecr', 'SetRepositoryPolicy'],
    ['eks', 'CreateAccessEntry'],
  ] as const;
  const shapes = [
    (s: string, n: string) => `  selection:\n    eventSource: ${s}.amazonaws.com\n    eventName: ${n}\n  condition: selection`,
    (s: string, n: string) =>
      `  selection:\n    eventSource: ${s}.amazonaws.com\n    eventName: ${n}\n  filter:\n    userIdentity.arn|contains: '/automation-'\n  condition: selection and not filter`,
    (s: string, n: string) =>
      `  selection_name:\n    eventName: ${n}\n  selection_source:\n    eventSource|endswith: '${s}.amazonaws.com'\n  selection_error:\n    errorCode: null\n  condition: all of selection_*`,
    (s: string, n: string) =>
      `  selection:\n    eventSource: ${s}.amazonaws.com\n    eventName:\n      - ${n}\n      - ${n}V2\n    userIdentity.type:\n      - IAMUser\n      - Root\n  condition: selection`,
    (s: string, n: string) => `  selection:\n    eventName: ${n}\n    userAgent|re|i: '^(aws-cli|boto3|terraform)'\n  condition: selection`,
  ];
  const files: Record<string, string> = {};
  calls.forEach(([service, name], i) => {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    files[`r${i}.yml`] =
      `title: Bench ${service} ${name}\nid: ${id}\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n${shapes[i % shapes.length]!(service, name)}\nlevel: ${['low', 'medium', 'high'][i % 3]}\ntags:\n  - attack.persistence\n  - attack.t1098\n`;
  });
  return files;
}

function timeEach(events: readonly CloudTrailEvent[], enrichments: readonly Enrichment[], engine: RuleEngine, reps: number): number {
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) {
    collect();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < events.length; i++) engine.evaluate(events[i]!, enrichments[i]!);
    runs.push(Number(process.hrtime.bigint() - t0) / 1e3 / events.length);
  }
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
}

export interface RulesBench {
  events: number;
  rules: number;
  sigmaRules: number;
  floorUs: number;
  packUs: number;
  packPlusSigmaUs: number;
}

export function benchRules(count = 20_000, reps = 7): RulesBench {
  reseed(21);
  const start = Date.UTC(2026, 10, 20, 9, 0, 0);
  const texts: string[] = [];
  for (let i = 0; i < count; i++) texts.push(JSON.stringify(event(pick(ACCOUNTS), pick(REGIONS), new Date(start + i * 150))));
  const events = texts.map((t) => JSON.parse(t) as CloudTrailEvent);
  const enrichments = events.map((e, i): Enrichment => ({
    version: 1,
    status: 'complete',
    source: {
      address: String(e.sourceIPAddress),
      kind: 'public',
      ip: String(e.sourceIPAddress),
      ipVersion: 4,
      geo: { countryCode: i % 10 === 0 ? 'DE' : 'US' },
      as: { number: i % 3 === 0 ? 16509 : 7922, organization: i % 3 === 0 ? 'AMAZON-02' : 'COMCAST-7922' },
    },
  }));
  const pack = loadRuleEngine(parseRulesConfig({}));
  const dir = mkdtempSync(join(tmpdir(), 'bench-sigma-'));
  try {
    for (const [name, text] of Object.entries(sixtySigmaRules())) writeFileSync(join(dir, name), text);
    const withSigma = loadRuleEngine(parseRulesConfig({ SIGMA_RULES_DIR: dir }));
    // Warm-up, then interleaved medians so both engines see the same machine state.
    timeEach(events, enrichments, pack, 2);
    timeEach(events, enrichments, withSigma, 2);
    const floorRuns: number[] = [];
    for (let r = 0; r < reps; r++) {
      collect();
      const t0 = process.hrtime.bigint();
      let bytes = 0;
      for (const t of texts) bytes += JSON.stringify(JSON.parse(t) as unknown).length;
      floorRuns.push(Number(process.hrtime.bigint() - t0) / 1e3 / count + bytes * 0);
    }
    return {
      events: count,
      rules: pack.info.ruleIds.length,
      sigmaRules: withSigma.sigma?.loaded ?? 0,
      floorUs: floorRuns.sort((a, b) => a - b)[Math.floor(reps / 2)]!,
      packUs: timeEach(events, enrichments, pack, reps),
      packPlusSigmaUs: timeEach(events, enrichments, withSigma, reps),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function rulesBenchMarkdown(b: RulesBench): string {
  return [
    `## Rule evaluation (${b.events.toLocaleString('en-US')} sample events, enriched; median of the timed passes)`,
    '',
    '| rules | µs/event | ÷ floor (JSON.parse + JSON.stringify of the event) |',
    '| --- | --- | --- |',
    `| floor | ${b.floorUs.toFixed(2)} | 1.00× |`,
    `| default pack (${b.rules} rules) | **${b.packUs.toFixed(2)}** | ${(b.packUs / b.floorUs).toFixed(2)}× |`,
    `| default pack + ${b.sigmaRules} Sigma rules | **${b.packPlusSigmaUs.toFixed(2)}** | ${(b.packPlusSigmaUs / b.floorUs).toFixed(2)}× |`,
  ].join('\n');
}

if (process.argv[1]?.endsWith('bench/rules.ts')) process.stdout.write(`${rulesBenchMarkdown(benchRules())}\n`);
