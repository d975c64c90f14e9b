/**
 * The layouts through the real entry points: `OUTPUT_FORMAT=ocsf npm start` (the CLI over the bundled sample)
 * writes OCSF lines under Security Lake's partition layout, and the Firehose transform returns the partition keys
 * Security Lake expects, one OCSF class per record.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseCoreConfig } from '../../../src/config/core.ts';
import { transformBatch } from '../../../src/pipeline/transform.ts';
import { cloudTrailEvent, cwlRecordOf, firehoseEvent, firehoseRecord, lambdaContext, outputLines } from '../../helpers/factories.ts';
import { MemorySink } from '../../helpers/sinks.ts';

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('layouts through the entry points', function () {
  this.timeout(180_000);

  describe('OUTPUT_FORMAT=ocsf npm start', () => {
    let out: string;
    let stdout: string;
    before(async () => {
      out = await mkdtemp(join(tmpdir(), 'cte-ocsf-run-'));
      const env = { ...process.env, OUTPUT_FORMAT: 'ocsf' };
      ({ stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', 'src/entry/cli/main.ts', 'run', 'sample/', '--out', out], {
        cwd: ROOT,
        env,
        maxBuffer: 8 * 1024 * 1024,
      }));
    });
    after(async () => {
      await rm(out, { recursive: true, force: true });
    });

    it('writes one folder per OCSF class under ext/, each in region=/accountId=/eventDay= partitions', async () => {
      expect(stdout).to.include('every event delivered exactly once');
      expect((await readdir(join(out, 'ext'))).sort()).to.deep.equal(['cte-api-activity', 'cte-authentication']);
      const regions = await readdir(join(out, 'ext', 'cte-api-activity', '1.0'));
      expect(regions.every((r) => /^region=[a-z0-9-]+$/.test(r))).to.equal(true);
    });

    it('puts every event in the partition of its own class, region, account and day', async () => {
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      try {
        const glob = join(out, 'ext', '*', '1.0', '**', '*.json').replaceAll("'", "''");
        const reader = await conn.runAndReadAll(`
          SELECT count(*) AS events,
                 count(*) FILTER (WHERE (class_uid = 3002) <> (filename LIKE '%/cte-authentication/%')) AS wrong_class,
                 count(*) FILTER (WHERE region <> cloud.region) AS wrong_region,
                 count(*) FILTER (WHERE accountId <> cloud.account.uid) AS wrong_account,
                 count(*) FILTER (WHERE eventDay <> strftime(make_timestamp(time * 1000), '%Y%m%d')) AS wrong_day,
                 count(DISTINCT metadata.uid) AS unique_events
          FROM read_json_auto('${glob}', hive_partitioning = 1, filename = true, format = 'newline_delimited',
                              hive_types = {'region': VARCHAR, 'accountId': VARCHAR, 'eventDay': VARCHAR}, union_by_name = true)`);
        const [row] = reader.getRowObjectsJson();
        expect(Number(row!.events)).to.be.greaterThan(2000);
        expect(Number(row!.unique_events)).to.equal(Number(row!.events));
        expect([row!.wrong_class, row!.wrong_region, row!.wrong_account, row!.wrong_day].map(Number)).to.deep.equal([0, 0, 0, 0]);
      } finally {
        conn.closeSync();
        db.closeSync();
      }
    });
  });

  describe('the Firehose transform', () => {
    it('returns Security Lake partition keys and splits a record whose events belong to two OCSF classes', async () => {
      const login = cloudTrailEvent({
        eventSource: 'signin.amazonaws.com',
        eventName: 'ConsoleLogin',
        responseElements: { ConsoleLogin: 'Success' },
      });
      const call = cloudTrailEvent();
      const sink = new MemorySink();
      const config = parseCoreConfig({ OUTPUT_FORMAT: 'ocsf' });
      const { result } = await transformBatch(firehoseEvent([firehoseRecord(cwlRecordOf([call, login]))]), lambdaContext(), {
        config,
        sinkFor: () => sink,
      });
      const [record] = result.records;
      expect(record!.result).to.equal('Ok');
      expect(record!.metadata!.partitionKeys).to.deep.equal({
        source: 'api-activity',
        region: 'us-east-1',
        accountId: '111122223333',
        eventDay: '20261120',
      });
      expect(outputLines(record!.data ?? '').map((d) => d.class_uid)).to.deep.equal([6003]);
      // The sign-in went back to the stream, already in OCSF, and comes out in its own partition, unchanged.
      const again = sink.drain().map((r) => firehoseRecord(r.data.toString('base64')));
      expect(again.length).to.equal(1);
      const { result: second } = await transformBatch(firehoseEvent(again), lambdaContext(), { config, sinkFor: () => sink });
      expect(second.records[0]!.metadata!.partitionKeys).to.deep.include({ source: 'authentication', eventDay: '20261120' });
      expect(outputLines(second.records[0]!.data ?? '').map((d) => d.class_uid)).to.deep.equal([3002]);
    });

    it('keeps native partition keys for the ECS layout', async () => {
      const { result } = await transformBatch(firehoseEvent([firehoseRecord(cwlRecordOf([cloudTrailEvent()]))]), lambdaContext(), {
        config: parseCoreConfig({ OUTPUT_FORMAT: 'ecs' }),
        sinkFor: () => new MemorySink(),
      });
      expect(result.records[0]!.metadata!.partitionKeys).to.deep.equal({ account: '111122223333', region: 'us-east-1', dt: '2026-11-20' });
      expect(outputLines(result.records[0]!.data ?? '')[0]!['@timestamp']).to.equal('2026-11-20T14:03:21Z');
    });
  });
});
