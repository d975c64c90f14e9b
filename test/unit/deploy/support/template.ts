/**
 * Test support for the deployment: runs `serverless package` offline into a temporary folder, reads the
 * generated CloudFormation template and the zip artifacts, parses the CloudFormation fragments under
 * resources/, and walks IAM policy documents.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { parse, type Tags } from 'yaml';
import { isObject, isNoValue, type Json, type JsonObject } from './cfn-spec.ts';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export interface PackagedService {
  readonly dir: string;
  readonly template: JsonObject;
  readonly resources: JsonObject;
  readonly output: string;
  cleanup(): Promise<void>;
}

/**
 * `serverless package --stage <stage> --package <tmp>` with no AWS credentials or config reachable, so a
 * package step that needed AWS would fail here. The geo layer is a placeholder folder (the real data is
 * 130–200 MB and built by `npm run build:data`); everything else is the real configuration.
 */
export async function packageService(stage: string, params: Readonly<Record<string, string>>): Promise<PackagedService> {
  const dir = await mkdtemp(join(tmpdir(), `cte-package-${stage}-`));
  const geoRoot = join(dir, 'layer');
  await mkdir(join(geoRoot, 'geo'), { recursive: true });
  await writeFile(join(geoRoot, 'geo', 'placeholder.mmdb'), 'placeholder for the template tests\n');
  const artifacts = join(dir, 'artifacts');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^AWS_/.test(name)) delete env[name];
  }
  Object.assign(env, {
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    CI: 'true',
  });
  const args = [
    join(REPO_ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js'),
    'package',
    '--stage',
    stage,
    '--package',
    artifacts,
    `--param=geoLayerPath=${relative(REPO_ROOT, geoRoot)}`,
    ...Object.entries(params).map(([key, value]) => `--param=${key}=${value}`),
  ];
  let output: string;
  try {
    const result = await execFileAsync(process.execPath, args, { cwd: REPO_ROOT, env, maxBuffer: 16 * 1024 * 1024 });
    output = `${result.stdout}${result.stderr}`;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    await rm(dir, { recursive: true, force: true });
    throw new Error(`serverless package --stage ${stage} failed:\n${failed.stdout ?? ''}${failed.stderr ?? failed.message}`);
  }
  const template = JSON.parse(await readFile(join(artifacts, 'cloudformation-template-update-stack.json'), 'utf8')) as JsonObject;
  const resources = template.Resources;
  if (!isObject(resources)) throw new Error('template has no Resources');
  return {
    dir: artifacts,
    template,
    resources,
    output,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Entries of a zip file (stored or deflated — what serverless' archiver writes), by name. */
export async function readZip(file: string): Promise<Map<string, Buffer>> {
  const zip = await readFile(file);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file}: not a zip file`);
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    if (!name.endsWith('/')) entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const INTRINSICS = [
  'Ref',
  'Condition',
  'Sub',
  'GetAtt',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'Join',
  'Select',
  'Split',
  'FindInMap',
  'Base64',
  'Cidr',
  'GetAZs',
  'ImportValue',
];

/** YAML tags of CloudFormation's short intrinsic syntax (`!Ref`, `!Sub`, `!If [...]`, …). */
const CFN_TAGS: Tags = INTRINSICS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  return [
    { tag: `!${name}`, resolve: (text: string) => ({ [key]: name === 'GetAtt' ? text.split('.') : text }) },
    { tag: `!${name}`, collection: 'seq' as const, resolve: (seq: { toJSON(): unknown }) => ({ [key]: seq.toJSON() }) },
    { tag: `!${name}`, collection: 'map' as const, resolve: (map: { toJSON(): unknown }) => ({ [key]: map.toJSON() }) },
  ];
});

/** Every CloudFormation fragment under resources/ (serverless variables are left as text). */
export async function readFragments(): Promise<Map<string, JsonObject>> {
  const root = join(REPO_ROOT, 'resources');
  const files = (await readdir(root, { recursive: true })).filter((file) => file.endsWith('.yml')).sort();
  const fragments = new Map<string, JsonObject>();
  for (const file of files) {
    const parsed: unknown = parse(await readFile(join(root, file), 'utf8'), { customTags: CFN_TAGS });
    if (!isObject(parsed)) throw new Error(`resources/${file}: not a mapping`);
    fragments.set(`resources/${file}`, (await inlineJsonFiles(parsed)) as JsonObject);
  }
  return fragments;
}

/** A value that is exactly `${file(./….json)}` (generated schemas, e.g. the OCSF Glue columns) is read in, as serverless does. */
async function inlineJsonFiles(value: Json): Promise<Json> {
  if (typeof value === 'string') {
    const m = /^\$\{file\(\.\/([\w./-]+\.json)\)\}$/.exec(value);
    return m === null ? value : (JSON.parse(await readFile(join(REPO_ROOT, m[1]!), 'utf8')) as Json);
  }
  if (Array.isArray(value)) return Promise.all(value.map(inlineJsonFiles));
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = await inlineJsonFiles(v);
    return out;
  }
  return value;
}

export interface PolicyStatement {
  /** `<logical id>/<Sid or index>` — how tests name a statement. */
  readonly id: string;
  readonly statement: JsonObject;
}

/** Every statement of every IAM policy document in the resources, with both branches of `Fn::If`. */
export function policyStatements(resources: JsonObject): PolicyStatement[] {
  const found: PolicyStatement[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isObject(resource) || !isObject(resource.Properties)) continue;
    const props = resource.Properties;
    const documents: Json[] = [];
    if (resource.Type === 'AWS::IAM::Role' && Array.isArray(props.Policies)) {
      for (const policy of props.Policies) if (isObject(policy)) documents.push(policy.PolicyDocument ?? null);
    }
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy' || resource.Type === 'AWS::S3::BucketPolicy') {
      documents.push(props.PolicyDocument ?? null);
    }
    for (const document of documents) {
      if (!isObject(document)) continue;
      const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement ?? null];
      statements.forEach((statement, index) => {
        for (const branch of ifBranches(statement)) {
          if (isObject(branch))
            found.push({ id: `${logicalId}/${typeof branch.Sid === 'string' ? branch.Sid : index}`, statement: branch });
        }
      });
    }
  }
  return found;
}

/** The value itself, or both branches of an `Fn::If` (recursively), without `AWS::NoValue`. */
export function ifBranches(value: Json): Json[] {
  if (isObject(value) && Array.isArray(value['Fn::If'])) {
    const [, whenTrue, whenFalse] = value['Fn::If'];
    return [...ifBranches(whenTrue ?? null), ...ifBranches(whenFalse ?? null)];
  }
  return isNoValue(value) ? [] : [value];
}

/** A list-or-single IAM field (`Action`, `Resource`) as a list of its literal texts (Fn::Sub templates, plain strings). */
export function iamValues(value: Json | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((item) =>
    ifBranches(item).map((branch) => {
      if (typeof branch === 'string') return branch;
      if (isObject(branch) && typeof branch['Fn::Sub'] === 'string') return branch['Fn::Sub'];
      return JSON.stringify(branch);
    }),
  );
}
