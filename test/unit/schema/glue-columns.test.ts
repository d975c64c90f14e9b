/**
 * The Glue table's `enrichment` column and schema/enrichment.schema.json describe the same fields: a field added
 * to the schema (a provider's answer, the reasons' ATT&CK field) fails this test until the table has it too.
 */
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { parse } from 'yaml';
import { hiveDifferences, hiveTypeOf, parseHive, type SchemaNode } from '../../helpers/glue-from-schema.ts';

async function glueEnrichmentType(): Promise<string> {
  // The s3 fragment uses CloudFormation tags (!Ref, !Sub…): parse it with them as plain text.
  const text = (await readFile('resources/output/s3.yml', 'utf8')).replace(/!(\w+)/g, '');
  const fragment = parse(text, { strict: false }) as { Resources: { EventsTable: { Properties: { TableInput: { StorageDescriptor: { Columns: { Name: string; Type: string }[] } } } } } };
  const column = fragment.Resources.EventsTable.Properties.TableInput.StorageDescriptor.Columns.find((c) => c.Name === 'enrichment');
  if (column === undefined) throw new Error('no enrichment column in resources/output/s3.yml');
  return column.Type;
}

describe('Glue table against the output schema', () => {
  it('has exactly the enrichment fields of schema/enrichment.schema.json, with compatible types', async () => {
    const schema = JSON.parse(await readFile('schema/enrichment.schema.json', 'utf8')) as SchemaNode;
    const expected = parseHive(hiveTypeOf(schema, (schema.$defs as Record<string, SchemaNode>).enrichment!));
    expect(hiveDifferences(expected, parseHive(await glueEnrichmentType()))).to.deep.equal([]);
  });

  it('types every provider answer, not as an opaque string', async () => {
    const glue = await glueEnrichmentType();
    for (const provider of ['ipstack', 'ipqualityscore', 'autofocus', 'abuseipdb']) expect(glue).to.match(new RegExp(`providers:struct<.*${provider}:struct<`));
  });

  it('reports a field missing from Glue and one Glue has extra, by path', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'object', properties: { c: { type: 'integer' } } } } };
    expect(hiveDifferences(parseHive(hiveTypeOf(schema, schema)), parseHive('struct<a:string,b:struct<d:int>>'))).to.deep.equal([
      'enrichment.b.c: in the schema, missing from Glue',
      'enrichment.b.d: in Glue, not in the schema',
    ]);
  });
});
