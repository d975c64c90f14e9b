/**
 * `npm run build:layouts`: writes the schemas that come from the layout shapes (src/7-encode/layouts):
 *   schema/ocsf/glue-columns.json              Glue columns of the OCSF table (Firehose JSON → Parquet conversion)
 *   resources/opensearch/ecs/index-template.json  OpenSearch index template of the ECS variant, field types from
 *                                              the published ECS definitions (@elastic/ecs, pinned)
 * Tests fail when a committed file differs from what this writes, so run it after changing a shape.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ecsIndexTemplate } from '../src/7-encode/layouts/ecs-template.ts';
import { ocsfGlueColumns } from '../src/7-encode/layouts/ocsf-shape.ts';
import ecs from '@elastic/ecs';

const root = join(import.meta.dirname, '..');
const write = (path: string, value: unknown) => writeFile(join(root, path), JSON.stringify(value, null, 2) + '\n');

await write('schema/ocsf/glue-columns.json', ocsfGlueColumns());
await write('resources/opensearch/ecs/index-template.json', ecsIndexTemplate(ecs.EcsFlat));
console.log('wrote schema/ocsf/glue-columns.json and resources/opensearch/ecs/index-template.json');
