/**
 * The Hive (Glue) type a JSON Schema describes, for checking the Glue table against schema/enrichment.schema.json.
 * Field names are lower case (the OpenX SerDe reads JSON keys case-insensitively). Fields marked
 * `"$comment": "OUTPUT_MODE=opensearch only"` are not written to S3 and so not part of the table.
 * A schema `number` may be a Hive `double` or, where the code only writes integers, `int`/`bigint`.
 */
export type SchemaNode = { [key: string]: unknown };

export const OPENSEARCH_ONLY = 'OUTPUT_MODE=opensearch only';

export function resolveRef(root: SchemaNode, node: SchemaNode): SchemaNode {
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  let target: unknown = root;
  for (const part of ref.replace(/^#\//, '').split('/')) target = (target as SchemaNode)[part];
  return resolveRef(root, target as SchemaNode);
}

/** A canonical Hive type for the schema, with `number` written as `number` (compared loosely below). */
export function hiveTypeOf(root: SchemaNode, input: SchemaNode): string {
  const node = resolveRef(root, input);
  const type = node.type ?? (Array.isArray(node.enum) ? typeof node.enum[0] : node.const !== undefined ? typeof node.const : undefined);
  if (type === 'object') {
    const props = node.properties as Record<string, SchemaNode> | undefined;
    if (props === undefined || Object.keys(props).length === 0) {
      const values = node.additionalProperties;
      if (typeof values === 'object' && values !== null) return `map<string,${hiveTypeOf(root, values as SchemaNode)}>`;
      return 'string';
    }
    const fields = Object.entries(props)
      .filter(([, child]) => resolveRef(root, child).$comment !== OPENSEARCH_ONLY)
      .map(([name, child]) => `${name.toLowerCase()}:${hiveTypeOf(root, child)}`);
    return `struct<${fields.join(',')}>`;
  }
  if (type === 'array') return `array<${hiveTypeOf(root, node.items as SchemaNode)}>`;
  if (type === 'string') return 'string';
  if (type === 'boolean') return 'boolean';
  if (type === 'integer') return 'integer';
  if (type === 'number') {
    const values = Array.isArray(node.enum) ? node.enum : node.const !== undefined ? [node.const] : [];
    return values.length > 0 && values.every((v) => Number.isInteger(v)) ? 'integer' : 'number';
  }
  throw new Error(`no Hive type for schema node ${JSON.stringify(node).slice(0, 120)}`);
}

/** Splits `struct<a:int,b:struct<c:string>>` into a tree, so two types are compared field by field. */
export type HiveTree =
  | { kind: 'struct'; fields: [string, HiveTree][] }
  | { kind: 'array'; of: HiveTree }
  | { kind: 'map'; of: HiveTree }
  | { kind: 'scalar'; name: string };

export function parseHive(text: string): HiveTree {
  let i = 0;
  const parse = (): HiveTree => {
    const word = /^[a-z]+/.exec(text.slice(i))![0];
    i += word.length;
    if (word === 'struct') {
      i++; // <
      const fields: [string, HiveTree][] = [];
      while (text[i] !== '>') {
        const name = /^[a-z0-9_]+/.exec(text.slice(i))![0];
        i += name.length + 1; // name:
        fields.push([name, parse()]);
        if (text[i] === ',') i++;
      }
      i++;
      return { kind: 'struct', fields };
    }
    if (word === 'array') {
      i++;
      const of = parse();
      i++;
      return { kind: 'array', of };
    }
    if (word === 'map') {
      i += 'string,'.length + 1;
      const of = parse();
      i++;
      return { kind: 'map', of };
    }
    return { kind: 'scalar', name: word };
  };
  const tree = parse();
  if (i !== text.length) throw new Error(`trailing text in Hive type at ${i}: ${text.slice(i, i + 40)}`);
  return tree;
}

/** Differences between what the schema says (expected) and the Glue type (actual), as paths. */
export function hiveDifferences(expected: HiveTree, actual: HiveTree, path = 'enrichment'): string[] {
  if (expected.kind === 'scalar' && actual.kind === 'scalar') {
    const allowed: Record<string, string[]> = {
      integer: ['int', 'bigint', 'smallint', 'tinyint'],
      number: ['double', 'float', 'int', 'bigint'],
    };
    const ok = (allowed[expected.name] ?? [expected.name]).includes(actual.name);
    return ok ? [] : [`${path}: schema ${expected.name}, Glue ${actual.name}`];
  }
  if (expected.kind !== actual.kind) return [`${path}: schema ${expected.kind}, Glue ${actual.kind}`];
  if (expected.kind === 'array' || expected.kind === 'map')
    return hiveDifferences(expected.of, (actual as { of: HiveTree }).of, `${path}[]`);
  if (expected.kind !== 'struct' || actual.kind !== 'struct') return [];
  const problems: string[] = [];
  const glue = new Map(actual.fields);
  for (const [name, type] of expected.fields) {
    const other = glue.get(name);
    if (other === undefined) problems.push(`${path}.${name}: in the schema, missing from Glue`);
    else problems.push(...hiveDifferences(type, other, `${path}.${name}`));
    glue.delete(name);
  }
  for (const name of glue.keys()) problems.push(`${path}.${name}: in Glue, not in the schema`);
  return problems;
}

/** The Glue type to write for a schema (integers as int, except AS numbers as bigint; numbers as double). */
export function glueTypeFor(tree: HiveTree, path = ''): string {
  if (tree.kind === 'scalar') {
    if (tree.name === 'integer') return /(^|\.)as\.number$|asn$|totalreports$|numdistinctusers$/.test(path) ? 'bigint' : 'int';
    if (tree.name === 'number') return /score$|confidence$/.test(path) && !/abuseconfidencescore$/.test(path) ? 'int' : 'double';
    return tree.name;
  }
  if (tree.kind === 'array') return `array<${glueTypeFor(tree.of, path)}>`;
  if (tree.kind === 'map') return `map<string,${glueTypeFor(tree.of, path)}>`;
  return `struct<${tree.fields.map(([n, t]) => `${n}:${glueTypeFor(t, `${path}.${n}`)}`).join(',')}>`;
}
