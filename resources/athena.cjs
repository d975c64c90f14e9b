// Athena workgroup and saved queries, generated from resources/athena/*.sql (the one source of truth: each
// file is one query, its leading `--` comment says what it answers). Loaded by serverless.yml as
// `${file(./resources/athena.cjs)}`; the workgroup and queries exist only in S3 mode (the Glue table's mode).
'use strict';
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const QUERY_DIR = join(__dirname, 'athena');

/** Saved queries as { id, name, description, sql }, in file order. */
function savedQueries() {
  return readdirSync(QUERY_DIR)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(QUERY_DIR, file), 'utf8');
      const header = [];
      for (const line of sql.split('\n')) {
        if (!line.startsWith('--')) break;
        header.push(line.replace(/^--\s?/, ''));
      }
      if (header.length === 0) throw new Error(`resources/athena/${file}: no header comment saying what the query answers`);
      const slug = file.replace(/\.sql$/, '').replace(/^\d+-/, '');
      const id = slug
        .split('-')
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join('');
      // NamedQuery limits: Name 1–128 characters, Description 1–1024, QueryString up to 262,144 bytes.
      return { file, id, name: slug, description: header.join(' ').slice(0, 1024), sql };
    });
}

async function resources({ resolveVariable }) {
  const mode = await resolveVariable('param:outputMode');
  if (mode !== 's3') return {};
  const cutoff = Number(await resolveVariable('param:athenaBytesScannedCutoffPerQuery'));
  const workgroup = await resolveVariable('self:custom.names.athenaWorkGroup');
  const out = {
    AthenaWorkGroup: {
      Type: 'AWS::Athena::WorkGroup',
      Properties: {
        Name: workgroup,
        Description: 'Queries over the enriched CloudTrail events (saved queries from resources/athena/)',
        State: 'ENABLED',
        // Deleting the stack removes the workgroup even when it still lists past queries.
        RecursiveDeleteOption: true,
        WorkGroupConfiguration: {
          // Settings of the workgroup override what a client asks for: results always go encrypted to the bucket.
          EnforceWorkGroupConfiguration: true,
          PublishCloudWatchMetricsEnabled: true,
          // Cost guard: a query that would scan more is cancelled (Athena's minimum is 10 MB = 10,485,760 bytes).
          BytesScannedCutoffPerQuery: cutoff,
          ResultConfiguration: {
            OutputLocation: { 'Fn::Sub': 's3://${OutputBucket}/athena-results/' },
            EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          },
        },
      },
    },
  };
  for (const query of savedQueries()) {
    out[`AthenaQuery${query.id}`] = {
      Type: 'AWS::Athena::NamedQuery',
      Properties: {
        Name: query.name,
        Description: query.description,
        Database: { Ref: 'GlueDatabase' },
        WorkGroup: { Ref: 'AthenaWorkGroup' },
        QueryString: query.sql,
      },
    };
  }
  return { Resources: out };
}

module.exports = resources;
module.exports.savedQueries = savedQueries;
