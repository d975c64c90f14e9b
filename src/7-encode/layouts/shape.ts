/**
 * A small type language for the documents a layout emits. The OCSF and ECS mappers each declare the shape of
 * everything they can write (ocsf-shape.ts, ecs-shape.ts); tests check every document against it, and the Glue
 * columns (Firehose → Parquet) and the OpenSearch ECS mapping are generated from it, so the mapping code, the
 * documents and the schemas cannot drift apart.
 */
export type Scalar = 'string' | 'long' | 'int' | 'double' | 'boolean' | 'timestamp-string' | 'ip';
export type Shape =
  | Scalar
  /** Any JSON value, stored as its JSON text in columnar stores. */
  | { readonly json: true }
  | { readonly array: Shape }
  /** String keys to string values (OCSF `unmapped`). */
  | { readonly map: 'string' }
  | { readonly struct: Readonly<Record<string, Shape>> };

export const json: Shape = { json: true };
export const arrayOf = (item: Shape): Shape => ({ array: item });
export const struct = (fields: Record<string, Shape>): Shape => ({ struct: fields });

/** Hive/Glue type of a shape (what Firehose record format conversion writes to Parquet). */
export function glueType(shape: Shape): string {
  if (typeof shape === 'string') {
    switch (shape) {
      case 'long':
        return 'bigint';
      case 'int':
        return 'int';
      case 'double':
        return 'double';
      case 'boolean':
        return 'boolean';
      default:
        return 'string';
    }
  }
  if ('json' in shape) return 'string';
  if ('array' in shape) return `array<${glueType(shape.array)}>`;
  if ('map' in shape) return 'map<string,string>';
  return `struct<${Object.entries(shape.struct)
    .map(([k, v]) => `${k}:${glueType(v)}`)
    .join(',')}>`;
}

/** Glue columns of a top-level struct shape, in declaration order. */
export function glueColumns(shape: Shape): { Name: string; Type: string }[] {
  if (typeof shape === 'string' || !('struct' in shape)) throw new Error('a document shape is a struct');
  return Object.entries(shape.struct).map(([Name, s]) => ({ Name, Type: glueType(s) }));
}

/**
 * Where a value does not fit its shape: `path: problem` lines (empty when it fits). Absent fields always fit;
 * a field the shape does not know is a problem (the schemas generated from the shape would drop it).
 */
export function shapeProblems(value: unknown, shape: Shape, path = '$'): string[] {
  if (value === undefined) return [];
  if (typeof shape === 'string') {
    const ok =
      shape === 'string' || shape === 'timestamp-string' || shape === 'ip'
        ? typeof value === 'string' && (shape !== 'timestamp-string' || !Number.isNaN(Date.parse(value)))
        : shape === 'boolean'
          ? typeof value === 'boolean'
          : shape === 'double'
            ? typeof value === 'number' && Number.isFinite(value)
            : typeof value === 'number' &&
              Number.isInteger(value) &&
              (shape === 'long' ? Number.isSafeInteger(value) : Math.abs(value) <= 2_147_483_647);
    return ok ? [] : [`${path}: expected ${shape}, got ${JSON.stringify(value)?.slice(0, 80)}`];
  }
  if ('json' in shape) return [];
  if ('array' in shape) {
    if (!Array.isArray(value)) return [`${path}: expected an array`];
    return value.flatMap((v, i) => shapeProblems(v, shape.array, `${path}[${i}]`));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object`];
  if ('map' in shape) {
    return Object.entries(value).flatMap(([k, v]) => (typeof v === 'string' ? [] : [`${path}.${k}: expected a string value`]));
  }
  const problems: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const field = shape.struct[k];
    if (field === undefined) problems.push(`${path}.${k}: not in the shape`);
    else problems.push(...shapeProblems(v, field, `${path}.${k}`));
  }
  return problems;
}

/** Dotted leaf paths of a shape with their scalar types (structs walked, arrays and maps as leaves' owners). */
export function leafPaths(shape: Shape, prefix = ''): [string, Shape][] {
  if (typeof shape !== 'string' && 'struct' in shape) {
    return Object.entries(shape.struct).flatMap(([k, v]) => leafPaths(v, prefix === '' ? k : `${prefix}.${k}`));
  }
  if (typeof shape !== 'string' && 'array' in shape && typeof shape.array !== 'string' && 'struct' in shape.array) {
    return leafPaths(shape.array, prefix).map(([p, s]) => [p, s]);
  }
  return [[prefix, shape]];
}
