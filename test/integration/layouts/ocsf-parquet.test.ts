/**
 * The Glue schema of the Security Lake stream accepts every OCSF document: DuckDB reads the OCSF NDJSON with
 * exactly the Glue columns (schema/ocsf/glue-columns.json) as explicit columns, as Firehose record format
 * conversion does, writes Parquet with SNAPPY, and reading it back every value present in the JSON is there,
 * unchanged: nothing dropped, nothing coerced to NULL.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ocsfGlueColumns } from '../../../src/7-encode/layouts/ocsf-shape.ts';
import { layoutDocuments } from '../../unit/7-encode/layouts/support/documents.ts';

/** Hive/Glue type → DuckDB type (a small parser: struct<…>, array<…>, map<string,string>, scalars). */
export function duckType(glue: string): string {
  let i = 0;
  const parse = (): string => {
    const name = /^[a-z]+/.exec(glue.slice(i))![0];
    i += name.length;
    if (name === 'struct') {
      i++; // <
      const fields: string[] = [];
      while (glue[i] !== '>') {
        const field = /^[a-z_@][a-z0-9_]*/i.exec(glue.slice(i))![0];
        i += field.length + 1; // name:
        fields.push(`"${field}" ${parse()}`);
        if (glue[i] === ',') i++;
      }
      i++;
      return `STRUCT(${fields.join(', ')})`;
    }
    if (name === 'array') {
      i++;
      const item = parse();
      i++;
      return `${item}[]`;
    }
    if (name === 'map') {
      i++;
      const k = parse();
      i++;
      const v = parse();
      i++;
      return `MAP(${k}, ${v})`;
    }
    return { string: 'VARCHAR', int: 'INTEGER', bigint: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN' }[name] ?? `UNKNOWN_${name}`;
  };
  return parse();
}

/** Every scalar leaf of a value with its path (json-typed `data` compared as parsed JSON). */
function leaves(value: unknown, path: string, out: Map<string, unknown>): void {
  if (Array.isArray(value)) value.forEach((v, i) => leaves(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) leaves(v, `${path}.${k}`, out);
  else out.set(path, value);
}

describe('OCSF documents through the Glue schema into Parquet (DuckDB)', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cte-ocsf-parquet-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ships the Glue columns generated from the mapping (npm run build:layouts)', async () => {
    const committed = JSON.parse(
      await readFile(join(import.meta.dirname, '..', '..', '..', 'schema', 'ocsf', 'glue-columns.json'), 'utf8'),
    ) as unknown;
    expect(committed).to.deep.equal(ocsfGlueColumns());
  });

  it('reads every OCSF document with exactly the Glue columns, writes SNAPPY Parquet and loses or nulls nothing', async () => {
    const { docs } = await layoutDocuments({ OUTPUT_FORMAT: 'ocsf' });
    const jsonPath = join(dir, 'ocsf.json');
    const parquetPath = join(dir, 'ocsf.parquet');
    await writeFile(jsonPath, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const columns = ocsfGlueColumns();
    const spec = columns.map((c) => `'${c.Name}': '${duckType(c.Type)}'`).join(', ');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      await conn.run(
        `COPY (SELECT row_number() OVER () AS _row, * FROM read_json('${jsonPath}', format = 'newline_delimited', columns = {${spec}}, maximum_object_size = 16777216))
         TO '${parquetPath}' (FORMAT parquet, COMPRESSION snappy)`,
      );
      const schema = (
        await conn.runAndReadAll(`SELECT name, type FROM parquet_schema('${parquetPath}') WHERE name <> 'duckdb_schema'`)
      ).getRowObjectsJson();
      expect(schema.map((r) => r.name)).to.include.members(columns.map((c) => c.Name));
      const meta = (await conn.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${parquetPath}')`)).getRowObjectsJson();
      expect(meta.map((r) => r.compression)).to.deep.equal(['SNAPPY']);

      const select = columns
        .map((c) => (c.Type.startsWith('map<') ? `map_from_entries(map_entries("${c.Name}")) AS "${c.Name}"` : `"${c.Name}"`))
        .join(', ');
      const rows = (
        await conn.runAndReadAll(`SELECT _row, ${select} FROM read_parquet('${parquetPath}') ORDER BY _row`)
      ).getRowObjectsJson();
      expect(rows.length).to.equal(docs.length);
      const problems: string[] = [];
      docs.forEach((doc, i) => {
        const row = rows[i]! as Record<string, unknown>;
        const expected = new Map<string, unknown>();
        const actual = new Map<string, unknown>();
        for (const [k, v] of Object.entries(doc)) {
          if (k === 'enrichments') {
            // `data` (OCSF json_t) is stored as its JSON text.
            const stored = row[k] as { data: string }[] | null;
            (v as { data: unknown }[]).forEach((e, j) => {
              leaves({ ...e, data: JSON.stringify(e.data) }, `${k}[${j}]`, expected);
            });
            leaves(stored, k, actual);
          } else if (k === 'unmapped') {
            for (const [uk, uv] of Object.entries(v as Record<string, string>)) expected.set(`${k}.${uk}`, uv);
            const stored = row[k] as { key: string; value: string }[] | Record<string, string> | null;
            const entries = Array.isArray(stored) ? stored.map((e) => [e.key, e.value] as const) : Object.entries(stored ?? {});
            for (const [uk, uv] of entries) actual.set(`${k}.${uk}`, uv);
          } else {
            leaves(v, k, expected);
            leaves(row[k], k, actual);
          }
        }
        for (const [path, value] of expected) {
          const got = actual.get(path);
          const same =
            path.includes('.data') && typeof value === 'string' && typeof got === 'string'
              ? JSON.stringify(JSON.parse(got)) === JSON.stringify(JSON.parse(value))
              : String(got) === String(value);
          if (!same) problems.push(`row ${i} ${path}: ${JSON.stringify(value)?.slice(0, 40)} became ${JSON.stringify(got)?.slice(0, 40)}`);
        }
      });
      expect(problems.slice(0, 10), `${problems.length} values changed`).to.deep.equal([]);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });
});
