/** Writes schema/finding.schema.json from FINDING_SCHEMA (src/6-alert/schema.ts). */
import { writeFile } from 'node:fs/promises';
import { FINDING_SCHEMA } from '../src/6-alert/schema.ts';

export const FINDING_SCHEMA_FILE = 'schema/finding.schema.json';
export const findingSchemaText = (): string => JSON.stringify(FINDING_SCHEMA, null, 2) + '\n';

if (import.meta.url === `file://${process.argv[1]}`) await writeFile(FINDING_SCHEMA_FILE, findingSchemaText());
