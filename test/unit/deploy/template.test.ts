/**
 * The deployment, proven without an AWS account: `serverless package` runs offline into a temporary folder
 * and the generated CloudFormation template is checked against the AWS resource specification
 * (@aws-cdk/aws-service-spec) and against the constants the code shares with it.
 */
import { execFile } from 'node:child_process';
import { startFirehoseServer } from '../../helpers/loopback.ts';
import { startEventBridgeServer } from '../../integration/6-alert/servers.ts';
import { cloudTrailEvent, cwlRecordOf, firehoseEvent, firehoseRecord } from '../../helpers/factories.ts';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { CACHE_KEY_ATTRIBUTE, CACHE_TTL_ATTRIBUTE, PARTITION_KEY_NAMES } from '../../../src/model.ts';
import { PARTITION_FALLBACK, regionKey } from '../../../src/7-encode/partition.ts';
import { FINDING_SCHEMA } from '../../../src/6-alert/schema.ts';
import { FINDING_DETAIL_TYPE, FINDING_SOURCE } from '../../../src/6-alert/finding.ts';
import { DEDUP_KEY_ATTRIBUTE, DEDUP_TTL_ATTRIBUTE } from '../../../src/6-alert/dedup.ts';
import { Dimension, METRICS_NAMESPACE, MetricName } from '../../../src/observability/metric-names.ts';
import { emittedByTheCode, metricKey } from '../observability/support/emitted.ts';
import { isObject, specDb, validateResources, type Json, type JsonObject } from './support/cfn-spec.ts';
import {
  REPO_ROOT,
  iamValues,
  ifBranches,
  packageService,
  policyStatements,
  readFragments,
  readZip,
  type PackagedService,
} from './support/template.ts';

const execFileAsync = promisify(execFile);

// Firehose invokes the processor Lambda with a 5-minute timeout; the function must finish well within it.
const FIREHOSE_INVOCATION_TIMEOUT_SECONDS = 300;

/**
 * The only IAM Allow statements that may contain a wildcard (`*` or `?`) in a resource, and why AWS
 * requires it. Keyed `<logical id>/<Sid>`; a wildcard anywhere else, or any wildcard action, fails.
 */
const REQUIRED_WILDCARDS: Readonly<Record<string, string>> = {
  'TransformRole/OwnLogStreams': 'Lambda names its log streams at run time (log-group:<name>:*)',
  'BackfillRole/OwnLogStreams': 'Lambda names its log streams at run time (log-group:<name>:*)',
  'ObjectLambdaRole/OwnLogStreams': 'Lambda names its log streams at run time (log-group:<name>:*)',
  'FirehoseDeliveryRole/ObjectsUnderOwnPrefixes': 'Firehose chooses object keys (partition + timestamp) under the prefixes',
  'FirehoseSecurityLakePolicy/LakeObjectsUnderOwnPrefixes':
    'Firehose chooses object keys (partition + timestamp) under the custom source prefixes',
  'FirehoseOpenSearchPolicy/BulkIndex': 'index rotation makes Firehose write <index>-<date> indices',
  'FirehoseOpenSearchPolicy/ClusterHealthReads': 'index rotation makes Firehose read <index>-<date> mappings',
  'BackfillRole/ReadTrailObjects': 'CloudTrail names its objects under AWSLogs/',
  'BackfillRole/WriteEnrichedObjects': 'object keys follow the partitions of the events inside each object',
  'BackfillBatchOperationsRole/ReadManifests': 'Batch Operations manifests are uploaded per job',
  'BackfillBatchOperationsRole/WriteReports': 'Batch Operations names its completion reports per job',
  'ObjectLambdaRole/WriteGetObjectResponse': 's3-object-lambda:WriteGetObjectResponse supports no resource-level permissions',
  // Only under TracingEnabled: X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level permissions.
  'TransformRole/XRayTraces': 'xray:PutTraceSegments supports no resource-level permissions',
  'BackfillRole/XRayTraces': 'xray:PutTraceSegments supports no resource-level permissions',
  'ObjectLambdaRole/XRayTraces': 'xray:PutTraceSegments supports no resource-level permissions',
  // Secrets Manager appends 6 random characters to a secret's ARN: `secret:<name>-??????` is the exact match.
  'TransformRole/IpstackApiKey': 'Secrets Manager ARN suffix (-??????)',
  'TransformRole/IpqualityscoreApiKey': 'Secrets Manager ARN suffix (-??????)',
  'TransformRole/AutofocusApiKey': 'Secrets Manager ARN suffix (-??????)',
  'TransformRole/AbuseipdbApiKey': 'Secrets Manager ARN suffix (-??????)',
};

const S3_STAGE_PARAMS = {
  cloudTrailLogGroupName: 'aws-cloudtrail-logs-test',
  alarmEmail: 'secops@example.com',
  ipstackEnabled: 'true',
  ipqualityscoreEnabled: 'true',
  autofocusEnabled: 'true',
  abuseipdbEnabled: 'true',
  apiKeyKmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555',
  accountAllowlist: '111122223333,444455556666',
  securityHubEnabled: 'true',
  alertGroupWindow: '1h',
};

const OPENSEARCH_STAGE_PARAMS = {
  ...S3_STAGE_PARAMS,
  outputMode: 'opensearch',
  apiKeyStore: 'secretsmanager',
  openSearchDomainArn: 'arn:aws:es:us-east-1:111122223333:domain/security-logs',
  kinesisSourceStreamArn: 'arn:aws:kinesis:us-east-1:111122223333:stream/cloudtrail',
};

function obj(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what}: expected an object, got ${JSON.stringify(value)}`);
  return value;
}

function list(value: Json | undefined, what: string): Json[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

function resourcesOfType(resources: JsonObject, type: string): [string, JsonObject][] {
  return Object.entries(resources)
    .filter(([, resource]) => isObject(resource) && resource.Type === type)
    .map(([id, resource]) => [id, obj(resource, id)]);
}

function props(resources: JsonObject, logicalId: string): JsonObject {
  return obj(obj(resources[logicalId], logicalId).Properties, `${logicalId}.Properties`);
}

function transformEnvironment(resources: JsonObject): JsonObject {
  return obj(obj(props(resources, 'TransformLambdaFunction').Environment, 'Environment').Variables, 'Environment.Variables');
}

function processorParameters(destination: JsonObject): Map<string, Json> {
  const processing = obj(destination.ProcessingConfiguration, 'ProcessingConfiguration');
  expect(processing.Enabled).to.equal(true);
  const lambda = list(processing.Processors, 'Processors')
    .map((p) => obj(p, 'Processor'))
    .find((p) => p.Type === 'Lambda');
  expect(lambda, 'a Lambda processor').to.not.equal(undefined);
  return new Map(
    list(lambda!.Parameters, 'Parameters').map((p) => [
      String(obj(p, 'Parameter').ParameterName),
      obj(p, 'Parameter').ParameterValue ?? null,
    ]),
  );
}

/** Logical ids a value refers to: Ref, GetAtt, DependsOn-free references inside Fn::Sub templates. */
function references(value: Json, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) references(item, found);
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'Ref' && typeof child === 'string') found.add(child);
      else if (key === 'Fn::GetAtt' && Array.isArray(child) && typeof child[0] === 'string') found.add(child[0]);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(child) ? child[0] : child;
        if (typeof text === 'string') {
          for (const match of text.matchAll(/\$\{([^!}][^}]*)\}/g)) found.add(match[1]!.split('.')[0]!);
        }
        if (Array.isArray(child) && child[1] !== undefined) references(child[1], found);
      } else references(child, found);
    }
  }
  return found;
}

function conditionNames(value: Json, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) conditionNames(item, found);
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'Fn::If' && Array.isArray(child) && typeof child[0] === 'string') found.add(child[0]);
      if (key === 'Condition' && typeof child === 'string') found.add(child);
      conditionNames(child, found);
    }
  }
  return found;
}

function checkIam(resources: JsonObject): string[] {
  const problems: string[] = [];
  for (const { id, statement } of policyStatements(resources)) {
    if (statement.Effect !== 'Allow') continue; // Deny statements are broad on purpose (TLS-only bucket policies).
    if ('NotAction' in statement || 'NotResource' in statement) problems.push(`${id}: NotAction/NotResource in an Allow`);
    for (const action of iamValues(statement.Action)) {
      if (/[*?]/.test(action)) problems.push(`${id}: wildcard action ${action}`);
    }
    const isTrust = 'Principal' in statement && !('Resource' in statement);
    if (isTrust) continue;
    for (const resource of iamValues(statement.Resource)) {
      if (!/[*?]/.test(resource)) continue;
      if (REQUIRED_WILDCARDS[id] === undefined) problems.push(`${id}: wildcard resource ${resource}`);
      else if (resource === '*' && id !== 'ObjectLambdaRole/WriteGetObjectResponse' && !id.endsWith('/XRayTraces'))
        problems.push(`${id}: bare "*" resource`);
    }
  }
  return problems;
}

async function configVariables(): Promise<{ name: string; default?: string }[]> {
  // Imported at run time so the rest of this file still runs while src/config is being written.
  // CONFIG_VARIABLES is the union; the stage lists are read too so no variable is missed while it is assembled.
  const modules: [string, string][] = [
    ['../../../src/config/index.ts', 'CONFIG_VARIABLES'],
    ['../../../src/3-lookup/config.ts', 'LOOKUP_CONFIG_VARIABLES'],
    ['../../../src/5-rules/config.ts', 'RULES_CONFIG_VARIABLES'],
  ];
  const variables = new Map<string, { name: string; default?: string }>();
  for (const [path, name] of modules) {
    const loaded: Record<string, unknown> = (await import(path)) as Record<string, unknown>;
    const exported = loaded[name];
    if (!Array.isArray(exported)) throw new Error(`${path} does not export ${name}`);
    for (const variable of exported as { name: string; default?: string }[]) variables.set(variable.name, variable);
  }
  return [...variables.values()];
}

describe('serverless deployment (generated CloudFormation)', function () {
  let s3: PackagedService;
  let os: PackagedService;

  before(async function () {
    // Two offline `serverless package` runs (esbuild bundle + zip), one per output mode.
    this.timeout(240_000);
    specDb();
    s3 = await packageService('test', S3_STAGE_PARAMS);
    os = await packageService('testos', OPENSEARCH_STAGE_PARAMS);
  });

  after(async () => {
    await s3?.cleanup();
    await os?.cleanup();
  });

  describe('packaging', () => {
    it('packages offline, with no AWS credentials, into the transform zip, the geo layer and the template', async () => {
      const transform = await readZip(join(s3.dir, 'transform.zip'));
      const geo = await readZip(join(s3.dir, 'geo.zip'));
      expect([...transform.keys()]).to.include('handlers/transform.mjs');
      expect([...geo.keys()]).to.include('geo/placeholder.mmdb');
      expect(s3.template.AWSTemplateFormatVersion).to.equal('2010-09-09');
    });

    it('ships the bundled rules with the transform and nothing from node_modules or data/', async () => {
      const names = [...(await readZip(join(s3.dir, 'transform.zip'))).keys()];
      expect(names).to.include('rules/default.yaml');
      expect(names.filter((name) => name.startsWith('node_modules/') || name.startsWith('data/'))).to.deep.equal([]);
    });

    it('puts only geo/ at the layer root, so the databases appear at /opt/geo', async () => {
      const names = [...(await readZip(join(s3.dir, 'geo.zip'))).keys()];
      expect(names.filter((name) => !name.startsWith('geo/'))).to.deep.equal([]);
      expect(transformEnvironment(s3.resources).GEO_DB_DIR).to.equal('/opt/geo');
      expect(props(s3.resources, 'TransformLambdaFunction').Layers).to.deep.equal([{ Ref: 'GeoLambdaLayer' }]);
    });

    it('produces an ESM bundle that Node imports with the deployed environment and that exports handler', async function () {
      this.timeout(60_000);
      const work = await mkdtemp(join(tmpdir(), 'cte-bundle-'));
      try {
        for (const [name, content] of await readZip(join(s3.dir, 'transform.zip'))) {
          await mkdir(dirname(join(work, name)), { recursive: true });
          await writeFile(join(work, name), content);
        }
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LAMBDA_TASK_ROOT: work, AWS_REGION: 'us-east-1' };
        for (const [name, value] of Object.entries(transformEnvironment(s3.resources))) {
          if (typeof value === 'string') env[name] = value;
          else if (name === 'CACHE_TABLE_NAME') env[name] = 'cloudtrail-enricher-test-ip-cache';
        }
        const probe =
          'const m = await import(process.argv[1]); if (typeof m.handler !== "function") { console.error("no handler export"); process.exit(3); }';
        const url = pathToFileURL(join(work, 'handlers', 'transform.mjs')).href;
        await execFileAsync(process.execPath, ['--input-type=module', '-e', probe, url], { cwd: work, env });
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  });

  describe('packaged bundle at run time', () => {
    it('re-ingests through the lazily loaded Firehose client of the packaged bundle', async function () {
      this.timeout(60_000);
      const work = await mkdtemp(join(tmpdir(), 'cte-bundle-'));
      const firehose = await startFirehoseServer();
      try {
        for (const [name, content] of await readZip(join(s3.dir, 'transform.zip'))) {
          await mkdir(dirname(join(work, name)), { recursive: true });
          await writeFile(join(work, name), content);
        }
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          LAMBDA_TASK_ROOT: work,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'AKIDBUNDLE',
          AWS_SECRET_ACCESS_KEY: 'bundle-secret',
          AWS_ENDPOINT_URL_FIREHOSE: firehose.url,
          GEO_DB_DIR: resolve('data/geo'),
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_DISABLED: 'true',
        };
        // Two events of two regions in one record: the second partition must be re-ingested with PutRecordBatch.
        const event = firehoseEvent([firehoseRecord(cwlRecordOf([cloudTrailEvent(), cloudTrailEvent({ awsRegion: 'eu-west-1' })]))]);
        const probe =
          'const { handler } = await import(process.argv[1]); const r = await handler(JSON.parse(process.argv[2]), { getRemainingTimeInMillis: () => 60000 }); console.log(JSON.stringify(r.records.map((x) => x.result)));';
        const url = pathToFileURL(join(work, 'handlers', 'transform.mjs')).href;
        const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', probe, url, JSON.stringify(event)], {
          cwd: work,
          env,
        });
        expect(JSON.parse(stdout.trim().split('\n').pop()!)).to.deep.equal(['Ok']);
        expect(firehose.targets).to.include('Firehose_20150804.PutRecordBatch');
        expect(firehose.records).to.have.length(1);
      } finally {
        await firehose.close();
        await rm(work, { recursive: true, force: true });
      }
    });

    it('sends findings through the lazily loaded EventBridge client of the packaged bundle', async function () {
      this.timeout(60_000);
      const work = await mkdtemp(join(tmpdir(), 'cte-bundle-'));
      const eventBridge = await startEventBridgeServer();
      try {
        for (const [name, content] of await readZip(join(s3.dir, 'transform.zip'))) {
          await mkdir(dirname(join(work, name)), { recursive: true });
          await writeFile(join(work, name), content);
        }
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          LAMBDA_TASK_ROOT: work,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'AKIDBUNDLE',
          AWS_SECRET_ACCESS_KEY: 'bundle-secret',
          AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url,
          ALERTS_EVENT_BUS_NAME: 'bundle-findings',
          GEO_DB_DIR: resolve('data/geo'),
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_DISABLED: 'true',
        };
        const event = firehoseEvent([
          firehoseRecord(
            cwlRecordOf([cloudTrailEvent({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', readOnly: false })]),
          ),
        ]);
        const probe =
          'const { handler } = await import(process.argv[1]); const r = await handler(JSON.parse(process.argv[2]), { getRemainingTimeInMillis: () => 60000 }); console.log(JSON.stringify(r.records.map((x) => x.result)));';
        const url = pathToFileURL(join(work, 'handlers', 'transform.mjs')).href;
        const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', probe, url, JSON.stringify(event)], {
          cwd: work,
          env,
        });
        expect(JSON.parse(stdout.trim().split('\n').pop()!)).to.deep.equal(['Ok']);
        expect(eventBridge.targets).to.deep.equal(['AWSEvents.PutEvents']);
        expect(
          eventBridge.accepted.map((e) => [e.EventBusName, e.Source, (JSON.parse(e.Detail) as { eventName: string }).eventName]),
        ).to.deep.equal([['bundle-findings', 'cloudtrail-enricher', 'StopLogging']]);
      } finally {
        await eventBridge.close();
        await rm(work, { recursive: true, force: true });
      }
    });
  });

  describe('resource specification', () => {
    it('uses only resource types and properties that exist in the AWS resource specification (S3 mode)', () => {
      expect(validateResources(s3.resources)).to.deep.equal([]);
    });

    it('uses only resource types and properties that exist in the AWS resource specification (OpenSearch mode)', () => {
      expect(validateResources(os.resources)).to.deep.equal([]);
    });

    it('validates every fragment under resources/, including the optional functions not in these stages', async () => {
      const problems: string[] = [];
      for (const [file, fragment] of await readFragments()) {
        if (isObject(fragment.Resources))
          problems.push(...validateResources(fragment.Resources, { unresolvedVariables: true }).map((p) => `${file}: ${p}`));
      }
      expect(problems).to.deep.equal([]);
    });

    it('leaves no serverless variable unresolved in the packaged templates', () => {
      for (const service of [s3, os]) {
        expect(JSON.stringify(service.template).match(/\$\{(param|self|sls|opt|env|file|aws|ssm):[^}]*\}/g)).to.equal(null);
      }
    });

    it('refers only to resources, parameters and conditions that the template defines', () => {
      for (const service of [s3, os]) {
        const defined = new Set([...Object.keys(service.resources), ...Object.keys(obj(service.template.Parameters ?? {}, 'Parameters'))]);
        const conditions = new Set(Object.keys(obj(service.template.Conditions ?? {}, 'Conditions')));
        const missing = [...references(service.template)].filter((id) => !defined.has(id) && !id.startsWith('AWS::'));
        expect(missing, 'undefined references').to.deep.equal([]);
        const unknownConditions = [...conditionNames(service.template.Resources ?? null)].filter((c) => !conditions.has(c));
        expect(unknownConditions, 'undefined conditions').to.deep.equal([]);
      }
    });

    it('has no circular dependency between resources (the Lambda ↔ Firehose pair in particular)', () => {
      for (const service of [s3, os]) {
        const edges = new Map<string, string[]>();
        for (const [id, resource] of Object.entries(service.resources)) {
          const r = obj(resource, id);
          const dependsOn = r.DependsOn === undefined ? [] : Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn];
          const targets = new Set([...references(r.Properties ?? null), ...dependsOn.map(String)]);
          edges.set(
            id,
            [...targets].filter((t) => t in service.resources),
          );
        }
        const state = new Map<string, 'visiting' | 'done'>();
        const visit = (id: string, path: string[]): void => {
          if (state.get(id) === 'done') return;
          if (state.get(id) === 'visiting') throw new Error(`dependency cycle: ${[...path, id].join(' → ')}`);
          state.set(id, 'visiting');
          for (const next of edges.get(id) ?? []) visit(next, [...path, id]);
          state.set(id, 'done');
        };
        for (const id of edges.keys()) visit(id, []);
        expect(state.size).to.equal(edges.size);
      }
    });
  });

  describe('Firehose delivery stream', () => {
    it('enables dynamic partitioning with a prefix built from exactly the keys the transform returns', () => {
      const destination = obj(
        props(s3.resources, 'DeliveryStream').ExtendedS3DestinationConfiguration,
        'ExtendedS3DestinationConfiguration',
      );
      expect(obj(destination.DynamicPartitioningConfiguration, 'DynamicPartitioningConfiguration').Enabled).to.equal(true);
      const prefix = String(destination.Prefix);
      const expectedKeys = PARTITION_KEY_NAMES.map((key) => `${key}=!{partitionKeyFromLambda:${key}}/`).join('');
      expect(prefix.endsWith(expectedKeys), prefix).to.equal(true);
      const usedKeys = [...prefix.matchAll(/!\{partitionKeyFromLambda:([^}]+)\}/g)].map((m) => m[1]);
      expect(usedKeys).to.deep.equal([...PARTITION_KEY_NAMES]);
      expect(prefix.slice(0, prefix.length - expectedKeys.length)).to.match(/^([a-z0-9_-]+\/)*$/);
    });

    it('writes failures under an error prefix that separates them by !{firehose:error-output-type}', () => {
      for (const service of [s3, os]) {
        const stream = props(service.resources, 'DeliveryStream');
        const destination = obj(
          stream.ExtendedS3DestinationConfiguration ?? obj(stream.AmazonopensearchserviceDestinationConfiguration, 'os').S3Configuration,
          'S3 destination',
        );
        expect(String(destination.ErrorOutputPrefix)).to.include('!{firehose:error-output-type}');
      }
    });

    it('compresses with GZIP, logs delivery errors to CloudWatch and buffers at least 64 MB as partitioning requires', () => {
      const destination = obj(props(s3.resources, 'DeliveryStream').ExtendedS3DestinationConfiguration, 'destination');
      expect(destination.CompressionFormat).to.equal('GZIP');
      const logging = obj(destination.CloudWatchLoggingOptions, 'CloudWatchLoggingOptions');
      expect(logging.Enabled).to.equal(true);
      expect(logging.LogGroupName).to.deep.equal({ Ref: 'FirehoseLogGroup' });
      expect(Number(obj(destination.BufferingHints, 'BufferingHints').SizeInMBs)).to.be.within(64, 128);
    });

    it('invokes the transform with a buffer, interval and retry count inside Firehose limits', () => {
      for (const service of [s3, os]) {
        const stream = props(service.resources, 'DeliveryStream');
        const destination = obj(
          stream.ExtendedS3DestinationConfiguration ?? stream.AmazonopensearchserviceDestinationConfiguration,
          'destination',
        );
        const parameters = processorParameters(destination);
        expect(parameters.get('LambdaArn')).to.deep.equal({ 'Fn::GetAtt': ['TransformLambdaFunction', 'Arn'] });
        expect(Number(parameters.get('BufferSizeInMBs'))).to.be.within(0.2, 3);
        expect(Number(parameters.get('BufferIntervalInSeconds'))).to.be.within(0, 900);
        expect(Number(parameters.get('NumberOfRetries'))).to.be.within(0, 300);
      }
    });

    it('gives the transform a timeout within the Firehose invocation limit of 5 minutes', () => {
      const timeout = Number(props(s3.resources, 'TransformLambdaFunction').Timeout);
      expect(timeout).to.be.greaterThan(0);
      expect(timeout).to.be.lessThan(FIREHOSE_INVOCATION_TIMEOUT_SECONDS);
    });

    it('delivers to OpenSearch with failed documents backed up to S3, index rotation and a document id option', () => {
      const stream = props(os.resources, 'DeliveryStream');
      expect(stream.ExtendedS3DestinationConfiguration).to.equal(undefined);
      const destination = obj(stream.AmazonopensearchserviceDestinationConfiguration, 'AmazonopensearchserviceDestinationConfiguration');
      expect(destination.DomainARN).to.equal(OPENSEARCH_STAGE_PARAMS.openSearchDomainArn);
      expect(destination.S3BackupMode).to.equal('FailedDocumentsOnly');
      expect(destination.IndexRotationPeriod).to.be.a('string');
      expect(obj(destination.DocumentIdOptions, 'DocumentIdOptions').DefaultDocumentIdFormat).to.be.oneOf([
        'FIREHOSE_DEFAULT',
        'NO_DOCUMENT_ID',
      ]);
      expect(obj(destination.S3Configuration, 'S3Configuration').BucketARN).to.deep.equal({ 'Fn::GetAtt': ['OutputBucket', 'Arn'] });
    });

    it('reads from the Kinesis source stream when the stage has one, and is Direct PUT otherwise', () => {
      expect(props(os.resources, 'DeliveryStream').DeliveryStreamType).to.deep.equal({
        'Fn::If': ['UseKinesisSource', 'KinesisStreamAsSource', 'DirectPut'],
      });
      const conditions = (service: PackagedService) => obj(service.template.Conditions, 'Conditions');
      expect(conditions(os).UseKinesisSource).to.deep.equal({
        'Fn::Not': [{ 'Fn::Equals': [OPENSEARCH_STAGE_PARAMS.kinesisSourceStreamArn, ''] }],
      });
      expect(conditions(s3).UseDirectPut).to.deep.equal({ 'Fn::Equals': ['', ''] });
    });
  });

  describe('CloudWatch Logs subscription', () => {
    it('subscribes the CloudTrail log group to the stream through a role only CloudWatch Logs can assume', () => {
      const filter = props(s3.resources, 'CloudTrailSubscriptionFilter');
      expect(filter.LogGroupName).to.equal(S3_STAGE_PARAMS.cloudTrailLogGroupName);
      expect(ifBranches(filter.DestinationArn ?? null)).to.deep.include({ 'Fn::GetAtt': ['DeliveryStream', 'Arn'] });
      expect(filter.RoleArn).to.deep.equal({ 'Fn::GetAtt': ['CloudWatchLogsDeliveryRole', 'Arn'] });
      const trust = obj(props(s3.resources, 'CloudWatchLogsDeliveryRole').AssumeRolePolicyDocument, 'trust');
      const principals = list(trust.Statement, 'Statement').map((s) => obj(obj(s, 'statement').Principal, 'Principal').Service);
      expect(principals).to.deep.equal(['logs.amazonaws.com']);
      const grants = policyStatements(s3.resources).filter((s) => s.id.startsWith('CloudWatchLogsDeliveryRole/'));
      expect(grants.flatMap((s) => iamValues(s.statement.Action)).sort()).to.deep.equal([
        'firehose:PutRecord',
        'firehose:PutRecordBatch',
        'kinesis:PutRecord',
        'kinesis:PutRecords',
      ]);
    });

    it('creates the subscription only when the stage names the log group', () => {
      expect(obj(s3.resources.CloudTrailSubscriptionFilter, 'filter').Condition).to.equal('HasCloudTrailLogGroup');
      expect(obj(s3.template.Conditions, 'Conditions').HasCloudTrailLogGroup).to.deep.equal({
        'Fn::Not': [{ 'Fn::Equals': [S3_STAGE_PARAMS.cloudTrailLogGroupName, ''] }],
      });
    });
  });

  describe('storage', () => {
    it('keys the DynamoDB cache on the attribute the code reads and expires items on the TTL attribute it writes', () => {
      const table = props(s3.resources, 'CacheTable');
      expect(table.KeySchema).to.deep.equal([{ AttributeName: CACHE_KEY_ATTRIBUTE, KeyType: 'HASH' }]);
      expect(table.AttributeDefinitions).to.deep.equal([{ AttributeName: CACHE_KEY_ATTRIBUTE, AttributeType: 'S' }]);
      expect(table.TimeToLiveSpecification).to.deep.equal({ AttributeName: CACHE_TTL_ATTRIBUTE, Enabled: true });
      expect(table.BillingMode).to.equal('PAY_PER_REQUEST');
      expect(obj(table.SSESpecification, 'SSESpecification').SSEEnabled).to.equal(true);
      expect(transformEnvironment(s3.resources).CACHE_TABLE_NAME).to.deep.equal({ Ref: 'CacheTable' });
    });

    it('encrypts the output bucket, blocks public access, enforces TLS and expires objects after they transition', () => {
      const bucket = props(s3.resources, 'OutputBucket');
      const encryption = list(obj(bucket.BucketEncryption, 'BucketEncryption').ServerSideEncryptionConfiguration, 'sse');
      expect(obj(obj(encryption[0], 'rule').ServerSideEncryptionByDefault, 'default').SSEAlgorithm).to.be.oneOf(['AES256', 'aws:kms']);
      expect(bucket.PublicAccessBlockConfiguration).to.deep.equal({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const policy = policyStatements(s3.resources).filter((s) => s.id.startsWith('OutputBucketPolicy/'));
      const tls = policy.find(
        (s) => s.statement.Effect === 'Deny' && JSON.stringify(s.statement.Condition).includes('"aws:SecureTransport":"false"'),
      );
      expect(tls, 'a Deny on aws:SecureTransport=false').to.not.equal(undefined);
      const rules = list(obj(bucket.LifecycleConfiguration, 'LifecycleConfiguration').Rules, 'Rules').map((r) => obj(r, 'rule'));
      expect(rules.some((r) => isObject(r.AbortIncompleteMultipartUpload))).to.equal(true);
      for (const rule of rules) {
        for (const transition of (rule.Transitions as Json[] | undefined) ?? []) {
          const days = Number(obj(transition, 'transition').TransitionInDays);
          expect(days, 'STANDARD_IA minimum').to.be.at.least(30);
          expect(Number(rule.ExpirationInDays), `${String(rule.Id)} expires after its transition`).to.be.greaterThan(days);
        }
      }
    });

    it('keeps the bucket when the stack is removed (audit data outlives a stage)', () => {
      expect(obj(s3.resources.OutputBucket, 'OutputBucket').DeletionPolicy).to.equal('Retain');
    });
  });

  describe('Athena (Glue table with partition projection)', () => {
    it('projects exactly the partition keys of the Firehose prefix, in the same S3 layout', () => {
      const input = obj(props(s3.resources, 'EventsTable').TableInput, 'TableInput');
      expect(list(input.PartitionKeys, 'PartitionKeys').map((k) => obj(k, 'key').Name)).to.deep.equal([...PARTITION_KEY_NAMES]);
      const parameters = obj(input.Parameters, 'Parameters');
      expect(parameters['projection.enabled']).to.equal('true');
      const template = obj(parameters['storage.location.template'], 'storage.location.template')['Fn::Sub'];
      const layout = PARTITION_KEY_NAMES.map((key) => `${key}=\${!${key}}/`).join('');
      expect(String(template).endsWith(layout), String(template)).to.equal(true);
      const firehosePrefix = String(obj(props(s3.resources, 'DeliveryStream').ExtendedS3DestinationConfiguration, 'd').Prefix);
      const outputPrefix = firehosePrefix.slice(0, firehosePrefix.indexOf(`${PARTITION_KEY_NAMES[0]}=`));
      expect(String(template)).to.equal(`s3://\${OutputBucket}/${outputPrefix}${layout}`);
    });

    it('projects dt as a date from CloudTrail launch (2013-11-01) to a day after now, and bounded enums or injection for the rest', () => {
      const parameters = obj(obj(props(s3.resources, 'EventsTable').TableInput, 'TableInput').Parameters, 'Parameters');
      expect(parameters['projection.dt.type']).to.equal('date');
      expect(parameters['projection.dt.format']).to.equal('yyyy-MM-dd');
      // The transform accepts event times up to one day after arrival (clock skew).
      expect(parameters['projection.dt.range']).to.equal('2013-11-01,NOW+1DAYS');
      expect(parameters['projection.region.type']).to.equal('enum');
      const regions = String(parameters['projection.region.values']).split(',');
      expect(regions).to.include.members(['us-east-1', 'eu-west-1', PARTITION_FALLBACK.region]);
      // Every projected value is one the transform can write as a partition value.
      expect(regions.filter((r) => r !== PARTITION_FALLBACK.region && regionKey(r) !== r)).to.deep.equal([]);
      expect(parameters['projection.account.type']).to.deep.equal({ 'Fn::If': ['HasAccountAllowlist', 'enum', 'injected'] });
      expect(parameters['projection.account.values']).to.deep.equal({
        'Fn::If': [
          'HasAccountAllowlist',
          `${S3_STAGE_PARAMS.accountAllowlist},${PARTITION_FALLBACK.accountNotAllowed},${PARTITION_FALLBACK.account}`,
          { Ref: 'AWS::NoValue' },
        ],
      });
    });

    it('reads NDJSON with the OpenX SerDe, tolerating malformed lines, with enrichment as a typed struct', () => {
      const storage = obj(obj(props(s3.resources, 'EventsTable').TableInput, 'TableInput').StorageDescriptor, 'StorageDescriptor');
      const serde = obj(storage.SerdeInfo, 'SerdeInfo');
      expect(serde.SerializationLibrary).to.equal('org.openx.data.jsonserde.JsonSerDe');
      expect(obj(serde.Parameters, 'Parameters')['ignore.malformed.json']).to.equal('true');
      const columns = new Map(list(storage.Columns, 'Columns').map((c) => [String(obj(c, 'c').Name), String(obj(c, 'c').Type)]));
      for (const name of ['eventtime', 'eventsource', 'eventname', 'awsregion', 'sourceipaddress', 'recipientaccountid', 'useridentity']) {
        expect(columns.has(name), name).to.equal(true);
      }
      const enrichment = columns.get('enrichment') ?? '';
      for (const field of [
        'version:int',
        'status:string',
        'ipversion:int',
        'latitude:double',
        'as:struct<number:bigint',
        'fraudscore:int',
        'priority:string',
        'score:int',
        'reasons:array<struct<rule:string',
        'attack:struct<tactics:array<string>,techniques:array<string>>',
      ]) {
        expect(enrichment, field).to.include(field);
      }
      for (const type of columns.values()) {
        const depth = [...type].reduce((d, ch) => (d < 0 ? d : ch === '<' ? d + 1 : ch === '>' ? d - 1 : d), 0);
        expect(depth, type).to.equal(0);
      }
    });
  });

  describe('Athena', () => {
    it('saves every query of resources/athena/ as a NamedQuery of the stage workgroup, text unchanged', async () => {
      const dir = join(REPO_ROOT, 'resources', 'athena');
      const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
      const saved = resourcesOfType(s3.resources, 'AWS::Athena::NamedQuery').map(([, q]) => obj(q.Properties, 'NamedQuery'));
      expect(saved.map((q) => q.QueryString)).to.deep.equal(await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8'))));
      for (const q of saved) {
        expect(q.WorkGroup).to.deep.equal({ Ref: 'AthenaWorkGroup' });
        expect(q.Database).to.deep.equal({ Ref: 'GlueDatabase' });
        expect(String(q.Description).length).to.be.within(1, 1024);
      }
      expect(resourcesOfType(os.resources, 'AWS::Athena::NamedQuery')).to.deep.equal([]);
    });

    it('writes results encrypted into the output bucket and cancels queries past the stage cut-off', () => {
      const config = obj(props(s3.resources, 'AthenaWorkGroup').WorkGroupConfiguration, 'WorkGroupConfiguration');
      expect(config.EnforceWorkGroupConfiguration).to.equal(true);
      expect(Number(config.BytesScannedCutoffPerQuery)).to.be.at.least(10_485_760);
      const result = obj(config.ResultConfiguration, 'ResultConfiguration');
      expect(result.OutputLocation).to.deep.equal({ 'Fn::Sub': 's3://${OutputBucket}/athena-results/' });
      expect(obj(result.EncryptionConfiguration, 'EncryptionConfiguration').EncryptionOption).to.be.oneOf(['SSE_S3', 'SSE_KMS', 'CSE_KMS']);
    });
  });

  describe('IAM', () => {
    it('gives every function its own role and does not create the shared serverless role', () => {
      for (const service of [s3, os]) {
        expect(service.resources).to.not.have.property('IamRoleLambdaExecution');
        const roles = resourcesOfType(service.resources, 'AWS::Lambda::Function').map(([, f]) =>
          JSON.stringify(obj(f.Properties, 'Properties').Role),
        );
        expect(new Set(roles).size).to.equal(roles.length);
      }
    });

    it('allows no wildcard action and no wildcard resource except the named cases AWS requires', async () => {
      expect(checkIam(s3.resources)).to.deep.equal([]);
      expect(checkIam(os.resources)).to.deep.equal([]);
      for (const [file, fragment] of await readFragments()) {
        if (isObject(fragment.Resources)) expect(checkIam(fragment.Resources), file).to.deep.equal([]);
      }
    });

    it('names only wildcard exceptions that a statement actually needs', async () => {
      const used = new Set<string>();
      const all = [
        s3.resources,
        os.resources,
        ...[...(await readFragments()).values()].map((f) => (isObject(f.Resources) ? f.Resources : {})),
      ];
      for (const resources of all) {
        for (const { id, statement } of policyStatements(resources)) {
          if (iamValues(statement.Resource).some((r) => /[*?]/.test(r))) used.add(id);
        }
      }
      expect(Object.keys(REQUIRED_WILDCARDS).filter((id) => !used.has(id))).to.deep.equal([]);
    });

    it('lets the transform re-ingest only into its own stream, by an ARN built from the stream name', () => {
      const name = String(props(s3.resources, 'DeliveryStream').DeliveryStreamName);
      const reingest = policyStatements(s3.resources).find((s) => s.id === 'TransformRole/ReingestIntoOwnStream');
      expect(reingest?.statement.Action).to.equal('firehose:PutRecordBatch');
      expect(iamValues(reingest?.statement.Resource)).to.deep.equal([
        `arn:\${AWS::Partition}:firehose:\${AWS::Region}:\${AWS::AccountId}:deliverystream/${name}`,
      ]);
      const kinesis = policyStatements(os.resources).find((s) => s.id === 'TransformRole/ReingestIntoSourceStream');
      expect(kinesis?.statement.Action).to.equal('kinesis:PutRecords');
      expect(iamValues(kinesis?.statement.Resource)).to.deep.equal([OPENSEARCH_STAGE_PARAMS.kinesisSourceStreamArn]);
    });

    it('grants the transform exactly the DynamoDB item and batch actions, on the cache table only', () => {
      const cache = policyStatements(s3.resources).find((s) => s.id === 'TransformRole/IpCache');
      expect(iamValues(cache?.statement.Action).sort()).to.deep.equal([
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
      ]);
      expect(cache?.statement.Resource).to.deep.equal({ 'Fn::GetAtt': ['CacheTable', 'Arn'] });
    });

    it('lets Firehose invoke only the transform and write only under its own prefixes', () => {
      const statements = policyStatements(s3.resources).filter((s) => s.id.startsWith('FirehoseDeliveryRole/'));
      const invoke = statements.find((s) => s.id === 'FirehoseDeliveryRole/InvokeTransform');
      expect(invoke?.statement.Resource).to.deep.equal({ 'Fn::GetAtt': ['TransformLambdaFunction', 'Arn'] });
      const objects = statements.find((s) => s.id === 'FirehoseDeliveryRole/ObjectsUnderOwnPrefixes');
      for (const resource of iamValues(objects?.statement.Resource))
        expect(resource).to.match(/^\$\{OutputBucket\.Arn\}\/[a-z0-9_-]+\/\*$/);
    });

    it('decrypts API keys with a customer KMS key only through SSM or Secrets Manager', () => {
      const decrypt = policyStatements(s3.resources).find((s) => s.id === 'TransformRole/DecryptApiKeys');
      expect(decrypt?.statement.Resource).to.equal(S3_STAGE_PARAMS.apiKeyKmsKeyArn);
      expect(JSON.stringify(decrypt?.statement.Condition)).to.include('kms:ViaService');
    });
  });

  describe('provider API keys', () => {
    it('never puts an API key into any function environment', () => {
      for (const service of [s3, os]) {
        for (const [id, fn] of resourcesOfType(service.resources, 'AWS::Lambda::Function')) {
          const variables = obj(obj(obj(fn.Properties, id).Environment ?? {}, 'Environment').Variables ?? {}, 'Variables');
          expect(
            Object.keys(variables).filter((name) => /_API_KEY$|SECRET|TOKEN|PASSWORD/.test(name)),
            id,
          ).to.deep.equal([]);
        }
      }
    });

    it('references key parameters and secrets by name and never creates them with values', () => {
      for (const service of [s3, os]) {
        expect(resourcesOfType(service.resources, 'AWS::SSM::Parameter')).to.deep.equal([]);
        expect(resourcesOfType(service.resources, 'AWS::SecretsManager::Secret')).to.deep.equal([]);
      }
    });

    it('grants reading each enabled provider key exactly where its _API_KEY_PARAM points', () => {
      const cases: [PackagedService, string, (name: string) => string][] = [
        [s3, 'ssm:GetParameter', (name) => `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}`],
        [
          os,
          'secretsmanager:GetSecretValue',
          (name) =>
            `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${name.replace(/^secretsmanager:/, '')}-??????`,
        ],
      ];
      for (const [service, action, arnOf] of cases) {
        const env = transformEnvironment(service.resources);
        for (const provider of ['Ipstack', 'Ipqualityscore', 'Autofocus', 'Abuseipdb']) {
          const param = String(env[`${provider.toUpperCase()}_API_KEY_PARAM`]);
          expect(param).to.match(action.startsWith('ssm') ? /^\/[\w./-]+$/ : /^secretsmanager:[\w/+=.@-]+$/);
          const grant = policyStatements(service.resources).find((s) => s.id === `TransformRole/${provider}ApiKey`);
          expect(grant?.statement.Action, provider).to.equal(action);
          expect(iamValues(grant?.statement.Resource)).to.deep.equal([arnOf(param)]);
        }
      }
    });
  });

  describe('environment', () => {
    it('sets or defaults every environment variable the configuration parsers read', async () => {
      const env = transformEnvironment(s3.resources);
      const unset = (await configVariables())
        .filter((v) => !/_API_KEY$/.test(v.name) && !/^AWS_/.test(v.name))
        .filter((v) => !(v.name in env) && v.default === undefined)
        .map((v) => v.name);
      expect(unset).to.deep.equal([]);
    });

    it('sets no environment variable the configuration does not know (typos would be silently ignored)', async () => {
      const known = new Set((await configVariables()).map((v) => v.name));
      expect(Object.keys(transformEnvironment(s3.resources)).filter((name) => !known.has(name))).to.deep.equal([]);
    });

    it('selects the output mode of the stage', () => {
      expect(transformEnvironment(s3.resources).OUTPUT_MODE).to.equal('s3');
      expect(transformEnvironment(os.resources).OUTPUT_MODE).to.equal('opensearch');
    });
  });

  describe('alarms and dashboard', () => {
    const emittedCache = new Map<string, Set<string>>();
    async function emittedKeys(serviceName: string): Promise<Set<string>> {
      let keys = emittedCache.get(serviceName);
      if (keys === undefined) {
        keys = new Set((await emittedByTheCode(serviceName, 'fn')).map((m) => metricKey(m.namespace, m.name, m.dimensions)));
        emittedCache.set(serviceName, keys);
      }
      return keys;
    }
    interface UsedMetric {
      namespace: string;
      name: string;
      dimensions: Record<string, string>;
    }
    /** Every metric an alarm reads (single metric or metric math). */
    function metricsOf(alarm: JsonObject): UsedMetric[] {
      const dims = (value: Json | undefined): Record<string, string> =>
        Object.fromEntries(
          (Array.isArray(value) ? value : []).map((d) => [String(obj(d, 'dimension').Name), String(obj(d, 'dimension').Value)]),
        );
      if (alarm.MetricName !== undefined)
        return [{ namespace: String(alarm.Namespace), name: String(alarm.MetricName), dimensions: dims(alarm.Dimensions) }];
      return list(alarm.Metrics, 'Metrics')
        .map((m) => obj(m, 'm'))
        .filter((m) => m.MetricStat !== undefined)
        .map((m) => {
          const metric = obj(obj(m.MetricStat, 'MetricStat').Metric, 'Metric');
          return { namespace: String(metric.Namespace), name: String(metric.MetricName), dimensions: dims(metric.Dimensions) };
        });
    }
    function dashboardOf(service: PackagedService): JsonObject {
      const body = obj(props(service.resources, 'OperationsDashboard').DashboardBody, 'DashboardBody');
      return obj(JSON.parse(String(body['Fn::Sub'])) as Json, 'dashboard body');
    }
    /** Metrics of a widget: `[namespace, name, dimName, dimValue, …, {options}]`; expressions are skipped. */
    function dashboardMetrics(properties: JsonObject): UsedMetric[] {
      return list(properties.metrics, 'metrics').flatMap((row) => {
        const items = list(row, 'metric row');
        if (typeof items[0] !== 'string') return [];
        const texts = items.filter((item): item is string => typeof item === 'string');
        expect(texts.includes('...'), 'no "..." shorthand').to.equal(false);
        const [namespace, name, ...pairs] = texts;
        const dimensions: Record<string, string> = {};
        for (let n = 0; n < pairs.length; n += 2) dimensions[pairs[n]!] = pairs[n + 1]!;
        return [{ namespace: namespace!, name: name!, dimensions }];
      });
    }
    function alarms(service: PackagedService): JsonObject[] {
      return resourcesOfType(service.resources, 'AWS::CloudWatch::Alarm').map(([id, a]) => obj(a.Properties, id));
    }
    function metricOf(alarm: JsonObject): { namespace: Json; name: Json; dimensions: Json } {
      if (alarm.MetricName !== undefined)
        return { namespace: alarm.Namespace ?? null, name: alarm.MetricName, dimensions: alarm.Dimensions ?? null };
      const stat = list(alarm.Metrics, 'Metrics')
        .map((m) => obj(m, 'm'))
        .find((m) => m.MetricStat !== undefined);
      const metric = obj(obj(stat?.MetricStat, 'MetricStat').Metric, 'Metric');
      return { namespace: metric.Namespace ?? null, name: metric.MetricName ?? null, dimensions: metric.Dimensions ?? null };
    }

    it('alarms only on metrics the code emits, with the same dimensions and its service name', async () => {
      for (const service of [s3, os]) {
        const env = transformEnvironment(service.resources);
        expect(env.POWERTOOLS_METRICS_NAMESPACE).to.equal(METRICS_NAMESPACE);
        const emitted = await emittedKeys(String(env.POWERTOOLS_SERVICE_NAME));
        const own = alarms(service)
          .flatMap(metricsOf)
          .filter((m) => m.namespace === METRICS_NAMESPACE);
        expect(own.map((m) => m.name)).to.include.members([
          MetricName.RecordsProcessingFailed,
          MetricName.ReingestFailures,
          MetricName.EventsPartial,
          MetricName.ProviderBreakerOpen,
        ]);
        for (const metric of own) {
          expect(emitted, `${metric.name} ${JSON.stringify(metric.dimensions)}`).to.include(
            metricKey(metric.namespace, metric.name, Object.keys(metric.dimensions)),
          );
          expect(metric.dimensions[Dimension.Service]).to.equal(env.POWERTOOLS_SERVICE_NAME);
        }
      }
    });

    it("alarms when partial enrichment stays above the stage threshold for 15 minutes, and on each enabled provider's breaker", () => {
      const partial = props(s3.resources, 'PartialEnrichmentAlarm');
      expect(partial).to.include({ Threshold: 5, EvaluationPeriods: 3, ComparisonOperator: 'GreaterThanThreshold' });
      const expression = list(partial.Metrics, 'Metrics')
        .map((m) => obj(m, 'm'))
        .find((m) => m.ReturnData === true);
      expect(expression?.Expression).to.equal('100 * partial / events');
      const breakers = alarms(s3)
        .flatMap(metricsOf)
        .filter((m) => m.name === MetricName.ProviderBreakerOpen)
        .map((m) => m.dimensions[Dimension.Provider]);
      expect(breakers).to.have.members(['ipstack', 'ipqualityscore', 'autofocus', 'abuseipdb']);
    });

    it('gives every alarm a runbook description and the stage topic as its action, in both output modes', () => {
      for (const service of [s3, os]) {
        for (const alarm of alarms(service)) {
          expect(String(alarm.AlarmDescription ?? ''), String(alarm.AlarmName)).to.match(/\S.{30,}/);
          expect(alarm.AlarmActions, String(alarm.AlarmName)).to.deep.equal([{ Ref: 'AlarmTopic' }]);
        }
      }
    });

    it('puts on the dashboard only metrics the code emits, with the same dimensions, and says what good looks like', async () => {
      for (const service of [s3, os]) {
        const env = transformEnvironment(service.resources);
        const emitted = await emittedKeys(String(env.POWERTOOLS_SERVICE_NAME));
        const body = dashboardOf(service);
        const widgets = list(body.widgets, 'widgets').map((w) => obj(w, 'widget'));
        expect(widgets.length).to.be.at.least(12);
        const names = new Set<string>();
        for (const widget of widgets) {
          const properties = obj(widget.properties, 'properties');
          expect(String(properties.title)).to.match(/ — good: /);
          for (const metric of dashboardMetrics(properties)) {
            names.add(metric.name);
            if (metric.namespace !== METRICS_NAMESPACE) continue;
            expect(emitted, `${metric.name} ${JSON.stringify(metric.dimensions)}`).to.include(
              metricKey(metric.namespace, metric.name, Object.keys(metric.dimensions)),
            );
            expect(metric.dimensions[Dimension.Service]).to.equal(env.POWERTOOLS_SERVICE_NAME);
          }
        }
        // Point 1 of issue 19: each of these is on the dashboard.
        expect([...names]).to.include.members([
          MetricName.EventsIn,
          MetricName.EventsReturned,
          MetricName.RecordsOk,
          MetricName.RecordsProcessingFailed,
          MetricName.RecordsReingested,
          MetricName.EventsPartial,
          MetricName.ProviderCalls,
          MetricName.ProviderErrors,
          MetricName.ProviderLatency,
          MetricName.ProviderBreakerOpen,
          MetricName.L1Hits,
          MetricName.DynamoDbHits,
          'Duration',
          'Throttles',
          'ExecuteProcessing.Success',
        ]);
        expect([...names]).to.include(service === s3 ? 'DeliveryToS3.DataFreshness' : 'DeliveryToAmazonOpenSearchService.DataFreshness');
      }
    });

    it('alarms on Lambda errors, throttles and duration near the timeout of the transform', () => {
      const fnName = props(s3.resources, 'TransformLambdaFunction').FunctionName;
      const lambda = alarms(s3)
        .map(metricOf)
        .filter((m) => m.namespace === 'AWS/Lambda');
      expect(lambda.map((m) => m.name)).to.include.members(['Errors', 'Throttles', 'Duration']);
      for (const metric of lambda) expect(metric.dimensions).to.deep.equal([{ Name: 'FunctionName', Value: fnName ?? null }]);
      const duration = alarms(s3).find((a) => metricOf(a).name === 'Duration')!;
      const expression = list(duration.Metrics, 'Metrics')
        .map((m) => obj(m, 'm'))
        .find((m) => m.Expression !== undefined);
      const timeout = Number(props(s3.resources, 'TransformLambdaFunction').Timeout);
      // The expression turns milliseconds into percent of the configured timeout: check it with a sample value.
      const percent = Function('duration', `return ${String(expression?.Expression)};`) as (ms: number) => number;
      expect(percent(timeout * 1000)).to.equal(100);
      expect(Number(duration.Threshold)).to.be.within(50, 95);
    });

    it('alarms on Firehose processing failures, delivery failures and throttled re-ingestion', () => {
      const s3Names = alarms(s3)
        .map(metricOf)
        .filter((m) => m.namespace === 'AWS/Firehose')
        .map((m) => m.name);
      expect(s3Names).to.include.members([
        'ExecuteProcessing.Success',
        'DeliveryToS3.Success',
        'DeliveryToS3.DataFreshness',
        'ThrottledRecords',
        'PartitionCountExceeded',
      ]);
      const osNames = alarms(os)
        .map(metricOf)
        .filter((m) => m.namespace === 'AWS/Firehose')
        .map((m) => m.name);
      expect(osNames).to.include.members([
        'ExecuteProcessing.Success',
        'DeliveryToAmazonOpenSearchService.Success',
        'DeliveryToS3.Success',
      ]);
      const stream = props(s3.resources, 'DeliveryStream').DeliveryStreamName;
      for (const metric of alarms(s3)
        .map(metricOf)
        .filter((m) => m.namespace === 'AWS/Firehose')) {
        expect(metric.dimensions).to.deep.equal([{ Name: 'DeliveryStreamName', Value: stream ?? null }]);
      }
    });

    it('sends every alarm and its recovery to the stage topic, which e-mails the configured address', () => {
      for (const alarm of alarms(s3)) {
        expect(alarm.AlarmActions).to.deep.equal([{ Ref: 'AlarmTopic' }]);
        expect(alarm.OKActions).to.deep.equal([{ Ref: 'AlarmTopic' }]);
      }
      const subscription = props(s3.resources, 'AlarmEmailSubscription');
      expect(subscription).to.include({ Protocol: 'email', Endpoint: S3_STAGE_PARAMS.alarmEmail });
    });
  });

  describe('baselines', () => {
    it('creates the baseline table only when baselineEnabled (off by default): on-demand, pk String, TTL expiresAt, KMS', () => {
      const conditions = obj(s3.template.Conditions, 'Conditions');
      expect(conditions['BaselineEnabled']).to.deep.equal({ 'Fn::Equals': ['false', 'true'] });
      const resource = obj(s3.resources['BaselineTable'], 'BaselineTable');
      expect(resource['Condition']).to.equal('BaselineEnabled');
      const table = props(s3.resources, 'BaselineTable');
      expect(table.TableName).to.equal('cloudtrail-enricher-test-baseline');
      expect(table.BillingMode).to.equal('PAY_PER_REQUEST');
      expect(table.KeySchema).to.deep.equal([{ AttributeName: 'pk', KeyType: 'HASH' }]);
      expect(table.AttributeDefinitions).to.deep.equal([{ AttributeName: 'pk', AttributeType: 'S' }]);
      expect(table.TimeToLiveSpecification).to.deep.equal({ AttributeName: 'expiresAt', Enabled: true });
      expect(table.SSESpecification).to.deep.equal({ SSEEnabled: true, SSEType: 'KMS' });
    });

    it('points the transform at the table and allows only the three calls the stage makes, on that table only', () => {
      const env = transformEnvironment(s3.resources);
      expect(env.BASELINE_TABLE_NAME).to.deep.equal({ 'Fn::If': ['BaselineEnabled', { Ref: 'BaselineTable' }, { Ref: 'AWS::NoValue' }] });
      expect(env.BASELINE_LEARNING_DAYS).to.equal('7');
      expect(env.BASELINE_FORGET_DAYS).to.equal('30');
      const grant = policyStatements(s3.resources).find((s) => s.id === 'TransformRole/BaselineFacts');
      expect(iamValues(grant?.statement.Action).sort()).to.deep.equal(['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
      expect(grant?.statement.Resource).to.deep.equal({ 'Fn::GetAtt': ['BaselineTable', 'Arn'] });
    });
  });

  describe('alerts', () => {
    it('creates the findings bus and the once-each table (pk String, TTL expiresAt) and points the transform at them', () => {
      expect(props(s3.resources, 'FindingsBus').Name).to.equal('cloudtrail-enricher-test-findings');
      const table = props(s3.resources, 'AlertsDedupTable');
      expect(table.KeySchema).to.deep.equal([{ AttributeName: DEDUP_KEY_ATTRIBUTE, KeyType: 'HASH' }]);
      expect(table.AttributeDefinitions).to.deep.equal([{ AttributeName: DEDUP_KEY_ATTRIBUTE, AttributeType: 'S' }]);
      expect(table.TimeToLiveSpecification).to.deep.equal({ AttributeName: DEDUP_TTL_ATTRIBUTE, Enabled: true });
      const env = transformEnvironment(s3.resources);
      expect(env.ALERTS_EVENT_BUS_NAME).to.deep.equal({ 'Fn::If': ['AlertsEnabled', { Ref: 'FindingsBus' }, { Ref: 'AWS::NoValue' }] });
      expect(env.ALERTS_DEDUP_TABLE_NAME).to.deep.equal({
        'Fn::If': ['AlertsEnabled', { Ref: 'AlertsDedupTable' }, { Ref: 'AWS::NoValue' }],
      });
      expect(env.ALERT_MIN_PRIORITY).to.equal('HIGH');
      expect(env.ALERT_GROUP_WINDOW).to.deep.equal({ 'Fn::If': ['HasAlertGroupWindow', '1h', { Ref: 'AWS::NoValue' }] });
    });

    it('allows events:PutEvents on that bus only and securityhub:BatchImportFindings on the default product only', () => {
      const put = policyStatements(s3.resources).find((s) => s.id === 'TransformRole/PutFindingsOnOwnBus');
      expect(put?.statement.Action).to.equal('events:PutEvents');
      expect(put?.statement.Resource).to.deep.equal({ 'Fn::GetAtt': ['FindingsBus', 'Arn'] });
      const hub = policyStatements(s3.resources).find((s) => s.id === 'TransformRole/ImportFindingsIntoDefaultProduct');
      expect(hub?.statement.Action).to.equal('securityhub:BatchImportFindings');
      expect(iamValues(hub?.statement.Resource)).to.deep.equal([
        'arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:product/${AWS::AccountId}/default',
      ]);
      const dedup = policyStatements(s3.resources).find((s) => s.id === 'TransformRole/AlertsDedup');
      expect(iamValues(dedup?.statement.Action).sort()).to.deep.equal(['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
      expect(dedup?.statement.Resource).to.deep.equal({ 'Fn::GetAtt': ['AlertsDedupTable', 'Arn'] });
      const env = transformEnvironment(s3.resources);
      expect(JSON.stringify(env.SECURITY_HUB_PRODUCT_ARN)).to.include(iamValues(hub?.statement.Resource)[0]!);
    });

    it('routes CRITICAL findings to the alarm topic with a one-line input transformer reading fields the finding has', () => {
      const rule = props(s3.resources, 'CriticalFindingsRule');
      expect(rule.EventBusName).to.deep.equal({ Ref: 'FindingsBus' });
      expect(rule.EventPattern).to.deep.equal({
        source: [FINDING_SOURCE],
        'detail-type': [FINDING_DETAIL_TYPE],
        detail: { priority: ['CRITICAL'] },
      });
      const [target] = list(rule.Targets, 'Targets').map((t) => obj(t, 'target'));
      expect(target!.Arn).to.deep.equal({ Ref: 'AlarmTopic' });
      const transformer = obj(target!.InputTransformer, 'InputTransformer');
      const paths = obj(transformer.InputPathsMap, 'InputPathsMap');
      // Every path names a field of the finding schema (generated from the code).
      for (const [name, path] of Object.entries(paths)) {
        let node: Record<string, unknown> = FINDING_SCHEMA;
        for (const part of String(path)
          .replace(/^\$\.detail\./, '')
          .split('.')) {
          const key = part.replace(/\[\d+\]$/, '');
          const child = (node.properties as Record<string, Record<string, unknown>> | undefined)?.[key];
          expect(child, `${name}: ${String(path)}`).to.not.equal(undefined);
          node = part.endsWith(']') ? (child!.items as Record<string, unknown>) : child!;
        }
      }
      const template = String(transformer.InputTemplate);
      expect(template).to.match(/^"[^"\n]+"$/);
      for (const name of Object.keys(paths)) expect(template).to.include(`<${name}>`);
      const policy = obj(props(s3.resources, 'AlarmTopicFindingsPolicy').PolicyDocument, 'PolicyDocument');
      const [statement] = list(policy.Statement, 'Statement').map((x) => obj(x, 'statement'));
      expect(statement).to.deep.include({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } });
      expect(JSON.stringify(statement!.Condition)).to.include('CriticalFindingsRule');
    });
  });

  describe('optional functions', () => {
    it('leaves backfill and object-lambda out unless the stage flags them on', () => {
      const functions = resourcesOfType(s3.resources, 'AWS::Lambda::Function').map(([id]) => id);
      expect(functions).to.deep.equal(['TransformLambdaFunction']);
    });

    it('gives each optional function a handler under handlers/ and its own role from the matching fragment', async () => {
      const fragments = await readFragments();
      const expected: [string, string][] = [
        ['backfill', 'BackfillRole'],
        ['object-lambda', 'ObjectLambdaRole'],
      ];
      for (const [name, role] of expected) {
        const definitions = Object.values(obj(fragments.get(`resources/functions/${name}.true.yml`) ?? null, name)).map((f) =>
          obj(f, name),
        );
        expect(definitions.map((d) => [d.handler, d.role])).to.deep.equal([[`handlers/${name}.handler`, role]]);
        const resources = obj(obj(fragments.get(`resources/${name}.true.yml`) ?? null, name).Resources, `${name} Resources`);
        expect(obj(resources[role], role).Type).to.equal('AWS::IAM::Role');
        // Off by default: the disabled fragments add nothing.
        expect(fragments.get(`resources/functions/${name}.false.yml`)).to.deep.equal({});
        expect(fragments.get(`resources/${name}.false.yml`)).to.deep.equal({});
      }
    });
  });
});
