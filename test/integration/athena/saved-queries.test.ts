/**
 * Every saved Athena query (resources/athena/*.sql) run with DuckDB over the output of `cloudtrail-enricher run`
 * on the sample, each result checked against what the output lines themselves say (computed here in plain JS).
 *
 * Dialect rewrite (mechanical, documented in docs/athena.md): the table `events` becomes read_json_auto over
 * out/enriched with hive partitioning (partition values kept as text, as Glue declares them); Presto/Trino names
 * that DuckDB spells differently are renamed: json_extract_scalar → json_extract_string, array_join →
 * array_to_string, transform → list_transform. Parameters stay positional `?`, bound the way Athena's
 * execution parameters are.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { expect } from 'chai';
import { REPO, releaseSampleRun, sampleRun, type SampleRun } from '../../helpers/sample-run.ts';

const QUERY_DIR = join(REPO, 'resources', 'athena');

export function toDuckDb(sql: string, outDir: string): string {
  const glob = join(outDir, 'enriched', '**', '*.json').split("'").join("''");
  // timestampformat that never matches keeps eventTime a string, as the Glue column is.
  const table = `read_json_auto('${glob}', format='newline_delimited', hive_partitioning=1, hive_types_autocast=0, union_by_name=1, sample_size=-1, timestampformat='never%Y', dateformat='never%Y')`;
  return sql
    .replace(/\bFROM events\b/g, `FROM ${table}`)
    .replace(/\bjson_extract_scalar\(/g, 'json_extract_string(')
    .replace(/\barray_join\(/g, 'array_to_string(')
    .replace(/\btransform\(/g, 'list_transform(');
}

type Doc = SampleRun['rows'][number];
const ACCOUNT = '111122223333';
const FIRST = '2026-11-18';
const LAST = '2026-11-20';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const ui = (d: Doc): Record<string, unknown> => (d.doc.userIdentity as Record<string, unknown> | undefined) ?? {};
const country = (d: Doc): string | null => str(d.doc.enrichment.source?.geo?.countryCode);
const inRange = (d: Doc, first = FIRST, last = LAST): boolean => d.account === ACCOUNT && d.dt >= first && d.dt <= last;
function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const item of items) m.set(key(item), [...(m.get(key(item)) ?? []), item]);
  return m;
}
const distinct = (values: unknown[]): number => new Set(values.filter((v) => v !== null && v !== undefined)).size;
const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

describe('saved Athena queries over the sample (DuckDB)', function () {
  this.timeout(240_000);
  let run: SampleRun;
  let db: DuckDBInstance;
  let conn: DuckDBConnection;
  const queries = new Map<string, string>();

  before(async () => {
    run = await sampleRun();
    db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
    for (const file of (await readdir(QUERY_DIR)).filter((f) => f.endsWith('.sql')).sort())
      queries.set(file, await readFile(join(QUERY_DIR, file), 'utf8'));
  });

  after(async () => {
    conn?.closeSync();
    db?.closeSync();
    await releaseSampleRun();
  });

  async function query(file: string, params: string[]): Promise<Record<string, unknown>[]> {
    const sql = queries.get(file);
    if (sql === undefined) throw new Error(`no saved query ${file}`);
    const reader = await conn.runAndReadAll(toDuckDb(sql, run.outDir), params);
    // Athena names unaliased columns in lower case; DuckDB keeps the JSON key's case (eventTime).
    return (reader.getRowObjectsJson() as Record<string, unknown>[]).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v])),
    );
  }

  const rows = (): Doc[] => run.rows.filter((d) => inRange(d));

  it('has a header comment, a dt restriction and the account parameter in every saved query', () => {
    expect(queries.size).to.be.at.least(10);
    for (const [file, sql] of queries) {
      expect(sql.startsWith('-- '), file).to.equal(true);
      if (/CREATE OR REPLACE VIEW/.test(sql)) continue;
      expect(sql, file).to.match(/\bdt BETWEEN \? AND \?|\bdt >= \?/);
      expect(sql, file).to.match(/\baccount = \?/);
    }
    expect(run.rows.length).to.be.greaterThan(1000);
  });

  it('lists the HIGH and CRITICAL events of the last 24 hours, newest first', async () => {
    const mine = run.rows.filter((d) => d.account === ACCOUNT);
    const newest = mine
      .map((d) => String(d.doc.eventTime))
      .sort()
      .pop()!;
    const start = new Date(Date.parse(newest) - 24 * 3600_000).toISOString().replace('.000Z', 'Z');
    const days = [start.slice(0, 10), newest.slice(0, 10)];
    const expected = mine
      .filter(
        (d) =>
          d.dt >= days[0]! &&
          d.dt <= days[1]! &&
          String(d.doc.eventTime) >= start &&
          ['HIGH', 'CRITICAL'].includes(d.doc.enrichment.priority),
      )
      .sort((a, b) => byKey(String(b.doc.eventTime), String(a.doc.eventTime)) || byKey(String(a.doc.eventID), String(b.doc.eventID)))
      .slice(0, 500);
    const got = await query('01-high-critical-last-24h.sql', [ACCOUNT, days[0]!, days[1]!, start]);
    expect(expected.length).to.be.greaterThan(0);
    expect(got.map((r) => [r.eventtime, r.eventname, r.priority])).to.deep.equal(
      expected.map((d) => [d.doc.eventTime, d.doc.eventName, d.doc.enrichment.priority]),
    );
    expect(got.map((r) => r.rules)).to.deep.equal(
      expected.map((d) => (d.doc.enrichment.risk.reasons as { rule: string }[]).map((r) => r.rule).join(',')),
    );
  });

  it('counts activity by country', async () => {
    const groups = countBy(
      rows().filter((d) => country(d) !== null),
      (d) => country(d)!,
    );
    const expected = [...groups]
      .map(([c, ds]) => ({
        country: c,
        events: String(ds.length),
        principals: String(distinct(ds.map((d) => ui(d).arn))),
        source_ips: String(distinct(ds.map((d) => d.doc.enrichment.source?.ip))),
      }))
      .sort((a, b) => Number(b.events) - Number(a.events) || byKey(a.country, b.country));
    expect(await query('02-activity-by-country.sql', [ACCOUNT, FIRST, LAST])).to.deep.equal(expected);
  });

  it('counts activity by autonomous system', async () => {
    const withAs = rows().filter((d) => typeof d.doc.enrichment.source?.as?.number === 'number');
    const groups = countBy(withAs, (d) => String(d.doc.enrichment.source.as.number));
    const expected = [...groups]
      .map(([n, ds]) => ({
        as_number: n,
        as_organization:
          ds
            .map((d) => str(d.doc.enrichment.source.as.organization))
            .filter((o) => o !== null)
            .sort()
            .pop() ?? null,
        events: String(ds.length),
        source_ips: String(distinct(ds.map((d) => d.doc.enrichment.source?.ip))),
      }))
      .sort((a, b) => Number(b.events) - Number(a.events) || Number(a.as_number) - Number(b.as_number));
    expect(await query('03-activity-by-as.sql', [ACCOUNT, FIRST, LAST])).to.deep.equal(expected);
  });

  it('finds principals seen from a country they had not used in the previous 30 days', async () => {
    const [first, last, lookback] = ['2026-11-19', '2026-11-20', '2026-10-20'];
    const usable = (d: Doc) => typeof ui(d).arn === 'string' && country(d) !== null;
    const earlier = new Set(
      run.rows
        .filter((d) => d.account === ACCOUNT && d.dt >= lookback && d.dt < first && usable(d))
        .map((d) => `${ui(d).arn}|${country(d)}`),
    );
    const recent = countBy(
      run.rows.filter((d) => inRange(d, first, last) && usable(d)),
      (d) => `${ui(d).arn}|${country(d)}`,
    );
    const expected = [...recent]
      .filter(([key]) => !earlier.has(key))
      .map(([key, ds]) => ({
        principal: key.split('|')[0],
        country: key.split('|')[1],
        first_seen: ds.map((d) => String(d.doc.eventTime)).sort()[0],
        events: String(ds.length),
      }))
      .sort((a, b) => byKey(a.first_seen!, b.first_seen!) || byKey(a.principal!, b.principal!) || byKey(a.country!, b.country!));
    expect(expected.length).to.be.greaterThan(0);
    expect(await query('04-new-country-per-principal.sql', [ACCOUNT, first, last, ACCOUNT, lookback, first])).to.deep.equal(expected);
  });

  it('ranks the riskiest source IPs', async () => {
    const groups = countBy(
      rows().filter((d) => typeof d.doc.enrichment.source?.ip === 'string'),
      (d) => d.doc.enrichment.source.ip as string,
    );
    const score = (d: Doc): number => Number(d.doc.enrichment.risk?.score ?? 0);
    const expected = [...groups]
      .map(([ip, ds]) => ({ ip, max: Math.max(...ds.map(score)), risky: ds.filter((d) => score(d) > 0).length, events: ds.length }))
      .filter((g) => g.max > 0)
      .sort((a, b) => b.max - a.max || b.risky - a.risky || byKey(a.ip, b.ip))
      .slice(0, 100);
    const got = await query('05-riskiest-source-ips.sql', [ACCOUNT, FIRST, LAST]);
    expect(expected.length).to.be.greaterThan(0);
    expect(got.map((r) => [r.source_ip, Number(r.max_score), Number(r.risky_events), Number(r.events)])).to.deep.equal(
      expected.map((g) => [g.ip, g.max, g.risky, g.events]),
    );
  });

  it('groups failed console sign-ins by source', async () => {
    const failed = rows().filter(
      (d) => d.doc.eventName === 'ConsoleLogin' && (d.doc.responseElements as Record<string, unknown> | null)?.ConsoleLogin === 'Failure',
    );
    const groups = countBy(failed, (d) => `${String(d.doc.sourceIPAddress)}|${country(d) ?? ''}`);
    const expected = [...groups]
      .map(([key, ds]) => ({ source: key.split('|')[0], country: key.split('|')[1] || null, failures: String(ds.length) }))
      .sort((a, b) => Number(b.failures) - Number(a.failures) || byKey(a.source!, b.source!));
    const got = await query('06-failed-console-signins.sql', [ACCOUNT, FIRST, LAST]);
    expect(expected.length).to.be.greaterThan(0);
    expect(got.map((r) => ({ source: r.source, country: r.country, failures: r.failures }))).to.deep.equal(expected);
  });

  it('lists logging tampering', async () => {
    const calls: Record<string, string[]> = {
      'cloudtrail.amazonaws.com': [
        'StopLogging',
        'DeleteTrail',
        'UpdateTrail',
        'PutEventSelectors',
        'PutInsightSelectors',
        'DeleteEventDataStore',
      ],
      'logs.amazonaws.com': ['DeleteLogGroup', 'DeleteLogStream', 'DeleteSubscriptionFilter', 'PutRetentionPolicy'],
      'config.amazonaws.com': ['StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel'],
      'guardduty.amazonaws.com': ['DeleteDetector', 'UpdateDetector', 'DisassociateFromMasterAccount'],
      'ec2.amazonaws.com': ['DeleteFlowLogs'],
    };
    const expected = rows()
      .filter((d) => calls[String(d.doc.eventSource)]?.includes(String(d.doc.eventName)) === true)
      .sort((a, b) => byKey(String(a.doc.eventTime), String(b.doc.eventTime)) || byKey(String(a.doc.eventID), String(b.doc.eventID)));
    const got = await query('07-logging-tampering.sql', [ACCOUNT, FIRST, LAST]);
    expect(expected.length).to.be.greaterThan(0);
    expect(got.map((r) => [r.eventtime, r.eventname, r.priority ?? null])).to.deep.equal(
      expected.map((d) => [d.doc.eventTime, d.doc.eventName, d.doc.enrichment.priority ?? null]),
    );
  });

  it('lists root activity', async () => {
    const expected = rows()
      .filter((d) => ui(d).type === 'Root' && ui(d).invokedBy === undefined)
      .sort((a, b) => byKey(String(a.doc.eventTime), String(b.doc.eventTime)) || byKey(String(a.doc.eventID), String(b.doc.eventID)));
    const got = await query('08-root-activity.sql', [ACCOUNT, FIRST, LAST]);
    expect(expected.length).to.be.greaterThan(0);
    expect(got.map((r) => [r.eventtime, r.eventname, r.sourceipaddress])).to.deep.equal(
      expected.map((d) => [d.doc.eventTime, d.doc.eventName, d.doc.sourceIPAddress]),
    );
  });

  it('ranks the matched rules', async () => {
    const reasons = rows().flatMap((d) =>
      ((d.doc.enrichment.risk?.reasons ?? []) as { rule: string; priority: string }[]).map((r) => ({ ...r, arn: ui(d).arn })),
    );
    const groups = countBy(reasons, (r) => `${r.rule}|${r.priority}`);
    const expected = [...groups]
      .map(([key, rs]) => ({
        rule: key.split('|')[0],
        priority: key.split('|')[1],
        matches: String(rs.length),
        principals: String(distinct(rs.map((r) => r.arn))),
      }))
      .sort((a, b) => Number(b.matches) - Number(a.matches) || byKey(a.rule!, b.rule!));
    expect(expected.length).to.be.greaterThan(3);
    // Ties of (matches, rule) on two priorities are ordered arbitrarily by both engines: compare as sets.
    const got = await query('09-top-matched-rules.sql', [ACCOUNT, FIRST, LAST]);
    expect(got.map((r) => Number(r.matches))).to.deep.equal(expected.map((r) => Number(r.matches)));
    expect(got).to.have.deep.members(expected);
  });

  it('creates a view with one row per event, and a query on it still takes the account and days', async () => {
    await query('10-events-dedup-view.sql', []);
    const reader = await conn.runAndReadAll(
      'SELECT count(*) AS n, count(DISTINCT eventid) AS ids FROM events_dedup WHERE account = ? AND dt BETWEEN ? AND ?',
      [ACCOUNT, FIRST, LAST],
    );
    const [row] = reader.getRowObjectsJson() as { n: string; ids: string }[];
    const expected = new Set(rows().map((d) => `${d.region}|${d.dt}|${String(d.doc.eventID)}`)).size;
    expect(Number(row!.n)).to.equal(expected);
    expect(Number(row!.n)).to.be.at.most(rows().length);
  });
});
