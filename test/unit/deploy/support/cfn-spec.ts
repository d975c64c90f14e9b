/**
 * Validates CloudFormation resources against the AWS resource specification shipped in
 * `@aws-cdk/aws-service-spec` (the database the AWS CDK generates its L1 constructs from): every resource type
 * must exist, every property name must exist at its nesting level, collections and objects must be where the
 * spec expects them, required properties must be present and enumerated string values must be allowed ones.
 * Intrinsic functions are accepted wherever a value goes; both branches of `Fn::If` are checked.
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { Property, PropertyType } from '@aws-cdk/service-spec-types';

export type SpecDb = ReturnType<typeof loadAwsServiceSpecSync>;

let cached: SpecDb | undefined;

/** Loads the spec database once per test process (~1 s, ~100 MB JSON). */
export function specDb(): SpecDb {
  cached ??= loadAwsServiceSpecSync();
  return cached;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ "Ref": … }`, `{ "Fn::…": … }` or `{ "Condition": … }` — a value CloudFormation computes at deploy time. */
export function isIntrinsic(value: unknown): value is JsonObject {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const key = keys[0]!;
  return key === 'Ref' || key === 'Condition' || key.startsWith('Fn::');
}

export function isNoValue(value: unknown): boolean {
  return isObject(value) && value.Ref === 'AWS::NoValue';
}

const RESOURCE_ATTRIBUTES = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
]);

/** A serverless variable (`${param:…}`, `${self:…}`, …) as it stands in a fragment before packaging. */
const SERVERLESS_VARIABLE = /\$\{(param|self|sls|opt|env|file):/;

export interface ValidateOptions {
  /** Accept serverless variables where a typed value goes (fragments read from resources/, not packaged). */
  readonly unresolvedVariables?: boolean;
}

/** Problems found in the `Resources` of a template (empty when valid). Each names the resource and path. */
export function validateResources(resources: JsonObject, options: ValidateOptions = {}, db: SpecDb = specDb()): string[] {
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isObject(resource)) {
      problems.push(`${logicalId}: not an object`);
      continue;
    }
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_ATTRIBUTES.has(key)) problems.push(`${logicalId}: unknown resource attribute ${key}`);
    }
    const type = resource.Type;
    if (typeof type !== 'string') {
      problems.push(`${logicalId}: Type missing`);
      continue;
    }
    const found = db.lookup('resource', 'cloudFormationType', 'equals', type);
    const spec = found[0];
    if (found.length !== 1 || spec === undefined) {
      problems.push(`${logicalId}: unknown resource type ${type}`);
      continue;
    }
    const properties = resource.Properties ?? {};
    if (!isObject(properties)) {
      problems.push(`${logicalId}.Properties: not an object`);
      continue;
    }
    checkObject({ db, options }, spec.properties, properties, `${logicalId}(${type})`, problems);
  }
  return problems;
}

interface Context {
  readonly db: SpecDb;
  readonly options: ValidateOptions;
}

function checkObject(ctx: Context, schema: Record<string, Property>, value: JsonObject, path: string, problems: string[]): void {
  for (const [name, property] of Object.entries(schema)) {
    if (property.required === true && !(name in value)) problems.push(`${path}: required property ${name} missing`);
  }
  for (const [name, child] of Object.entries(value)) {
    const property = schema[name];
    if (property === undefined) {
      problems.push(`${path}: unknown property ${name}`);
      continue;
    }
    checkValue(ctx, property.type, child, `${path}.${name}`, problems);
  }
}

function checkValue(ctx: Context, type: PropertyType, value: Json, path: string, problems: string[]): void {
  if (isObject(value) && 'Fn::If' in value && Array.isArray(value['Fn::If'])) {
    const [, whenTrue, whenFalse] = value['Fn::If'];
    for (const branch of [whenTrue, whenFalse]) {
      if (branch !== undefined && !isNoValue(branch)) checkValue(ctx, type, branch, `${path}<If>`, problems);
    }
    return;
  }
  if (isIntrinsic(value)) return;
  if (ctx.options.unresolvedVariables === true && typeof value === 'string' && SERVERLESS_VARIABLE.test(value)) return;
  switch (type.type) {
    case 'json':
      return;
    case 'union': {
      const attempts = type.types.map((member) => {
        const found: string[] = [];
        checkValue(ctx, member, value, path, found);
        return found;
      });
      if (attempts.some((found) => found.length === 0)) return;
      const fewest = attempts.reduce((best, found) => (found.length < best.length ? found : best));
      problems.push(...fewest);
      return;
    }
    case 'array':
      if (!Array.isArray(value)) {
        problems.push(`${path}: expected a list`);
        return;
      }
      value.forEach((element, index) => {
        if (!isNoValue(element)) checkValue(ctx, type.element, element, `${path}[${index}]`, problems);
      });
      return;
    case 'map':
      if (!isObject(value)) {
        problems.push(`${path}: expected a map`);
        return;
      }
      for (const [key, element] of Object.entries(value)) checkValue(ctx, type.element, element, `${path}.${key}`, problems);
      return;
    case 'ref': {
      const definition = ctx.db.get<'typeDefinition'>('typeDefinition', type.reference.$ref);
      if (!isObject(value)) {
        problems.push(`${path}: expected an object (${definition.name})`);
        return;
      }
      checkObject(ctx, definition.properties, value, path, problems);
      return;
    }
    case 'tag':
      if (!isObject(value) || !('Key' in value) || !('Value' in value)) problems.push(`${path}: expected a tag {Key, Value}`);
      return;
    case 'string':
      if (isObject(value) || Array.isArray(value)) {
        problems.push(`${path}: expected a string`);
        return;
      }
      if (type.allowedValues !== undefined && typeof value === 'string' && !type.allowedValues.includes(value)) {
        problems.push(`${path}: ${JSON.stringify(value)} is not one of ${type.allowedValues.join(', ')}`);
      }
      return;
    case 'integer':
    case 'number':
      if (typeof value === 'number') return;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return;
      problems.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
      return;
    case 'boolean':
      if (typeof value === 'boolean' || value === 'true' || value === 'false') return;
      problems.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
      return;
    default:
      if (isObject(value) || Array.isArray(value)) problems.push(`${path}: expected a scalar (${type.type})`);
  }
}
