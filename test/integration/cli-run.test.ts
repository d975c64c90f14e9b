import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { loadConfig } from '../../src/config/index.ts';
import { buildStages } from '../../src/pipeline/stages.ts';
import { localHandler, runLocal, type RunTotals } from '../../src/entry/cli/run.ts';
import { FindingCollector, localAlertStage, type Finding } from '../../src/6-alert/index.ts';

/**
 * `cloudtrail-enricher run` over the bundled sample: the real handler behind a local Firehose, output in the
 * S3 layout, then queried the way Athena would (DuckDB over hive-partitioned NDJSON).
 */
describe('cloudtrail-enricher run over the bundled sample', function () {
  this.timeout(120_000);
  let outDir: string;
  let totals: RunTotals;
  const printed: string[] = [];

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'cte-run-'));
    const config = loadConfig({});
    const stages = buildStages(config);
    const findings = new FindingCollector();
    totals = await runLocal({
      findings,
      inputs: ['sample'],
      outDir,
      bufferBytes: 1024 * 1024,
      write: (line) => printed.push(line),
      progress: () => {},
      makeHandler: localHandler(config.core, { ...stages, alerts: localAlertStage(config.alerts, findings) }),
    });
  });

  it('writes the findings it would send to findings.ndjson, once each, and counts them in the summary', async () => {
    const lines = (await readFile(join(outDir, 'findings.ndjson'), 'utf8')).trimEnd().split('\n');
    const found = lines.map((l) => JSON.parse(l) as Finding);
    const atLeastHigh = (totals.byPriority.CRITICAL ?? 0) + (totals.byPriority.HIGH ?? 0);
    expect(found.length).to.equal(totals.findings);
    expect(found.length).to.equal(atLeastHigh);
    expect(new Set(found.map((f) => f.id)).size).to.equal(found.length);
    expect(found.every((f) => f.priority === 'CRITICAL' || f.priority === 'HIGH')).to.equal(true);
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(
      JSON.parse(await readFile('schema/finding.schema.json', 'utf8')) as object,
    );
    const invalid = found.filter((f) => {
      const valid: boolean = validate(f);
      return !valid;
    });
    expect(invalid.map((f) => f.id)).to.deep.equal([]);
    const text = printed.join('\n');
    expect(text).to.match(new RegExp(`findings\\s+${totals.findings.toLocaleString('en-US')} \\(CRITICAL \\d+ · HIGH [\\d,]+\\)`));
    expect(text).to.match(/\n {4}CRITICAL [\w.-]+( \(\+\d+\))?: \w+ by /);
  });

  after(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('delivers every event of the sample exactly once and prints the summary', () => {
    expect(totals.eventsRead).to.be.greaterThan(2000);
    expect(totals.eventsDelivered).to.equal(totals.eventsRead);
    expect(totals.records.processingFailed).to.equal(0);
    expect(printed.join('\n')).to.include('every event delivered exactly once');
    expect(printed.join('\n')).to.match(/by priority\s+CRITICAL \d+/);
  });

  it('re-ingests the batch that crosses midnight UTC and lands each event in its own day', () => {
    expect(totals.reingestedRecords).to.be.greaterThan(0);
  });

  it('writes Firehose S3 layout partitions that Athena-style queries read back', async () => {
    const top = await readdir(join(outDir, 'enriched'));
    expect(top.every((d) => /^account=(\d{12}|unknown|other)$/.test(d))).to.equal(true);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const glob = join(outDir, 'enriched', '**', '*.json').replaceAll("'", "''");
      const reader = await conn.runAndReadAll(`
        SELECT count(*) AS events,
               count(*) FILTER (WHERE account <> recipientAccountId) AS wrong_account,
               count(*) FILTER (WHERE region <> awsRegion) AS wrong_region,
               count(*) FILTER (WHERE dt <> CAST(eventTime AS DATE)) AS wrong_day,
               count(DISTINCT eventID) AS unique_events,
               count(*) FILTER (WHERE enrichment.version = 1) AS enriched
        FROM read_json_auto('${glob}', hive_partitioning = 1, hive_types = {'account': VARCHAR, 'region': VARCHAR, 'dt': DATE}, format = 'newline_delimited')`);
      const [row] = reader.getRowObjectsJson();
      expect(Number(row!.events)).to.equal(totals.eventsRead);
      expect(Number(row!.unique_events)).to.equal(totals.eventsRead);
      expect(Number(row!.enriched)).to.equal(totals.eventsRead);
      expect(Number(row!.wrong_account)).to.equal(0);
      expect(Number(row!.wrong_region)).to.equal(0);
      expect(Number(row!.wrong_day)).to.equal(0);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });

  it('writes lines that match the published JSON Schema of the output', async () => {
    const schema = JSON.parse(await readFile('schema/enrichment.schema.json', 'utf8')) as object;
    const validate = new Ajv2020({ allErrors: true }).compile(schema);
    let checked = 0;
    for (const key of totals.objects.filter((o) => o.startsWith('enriched/'))) {
      const text = await readFile(join(outDir, ...key.split('/')), 'utf8');
      for (const line of text.trimEnd().split('\n')) {
        const ok = validate(JSON.parse(line));
        expect(ok, JSON.stringify(validate.errors)).to.equal(true);
        checked++;
      }
    }
    expect(checked).to.equal(totals.eventsRead);
  });

  it('keeps every line of the output a single JSON object with the enrichment key last', async () => {
    const first = totals.objects.find((o) => o.startsWith('enriched/'))!;
    const text = await readFile(join(outDir, ...first.split('/')), 'utf8');
    expect(text.endsWith('\n')).to.equal(true);
    for (const line of text.trimEnd().split('\n')) {
      const keys = Object.keys(JSON.parse(line) as object);
      expect(keys[keys.length - 1]).to.equal('enrichment');
      expect(keys[0]).to.equal('eventVersion');
    }
  });
});
