import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateJobCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { mockClient } from 'aws-sdk-client-mock';
import type { S3Sender } from '../../../src/entry/backfill/core.ts';
import { runBackfill, type BackfillTotals } from '../../../src/entry/backfill/run.ts';
import { dayObjects, dayPrefixes, emptyListingStats, type BackfillSelection } from '../../../src/entry/backfill/select.ts';
import { writeManifest } from '../../../src/entry/backfill/batch-operations.ts';
import { planBackfill } from '../../../src/entry/backfill/plan.ts';
import { backfillCommand } from '../../../src/entry/cli/backfill-command.ts';
import { getCommand } from '../../../src/entry/cli/get-command.ts';
import { localHandler, runLocal } from '../../../src/entry/cli/run.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { buildStages, type Stages } from '../../../src/pipeline/stages.ts';
import { cloudTrailEvent } from '../../helpers/factories.ts';
import { digestObject, ndjsonLines, trailObject } from './fixtures.ts';
import { startS3rver, type LocalS3 } from './s3rver.ts';

const TRAIL = 'history-trail';
const OUT = 'history-out';
const A = '111122223333';
const B = '444455556666';
const ORG_ACCOUNT = '777788889999';
const ORG = 'o-a1b2c3d4e5';

function logKey(account: string, region: string, day: string, n: number, org?: string): string {
  const [y, m, d] = day.split('-');
  const stamp = `${y}${m}${d}T14${String(n).padStart(2, '0')}Z`;
  return `AWSLogs/${org !== undefined ? `${org}/` : ''}${account}/CloudTrail/${region}/${y}/${m}/${d}/${account}_CloudTrail_${region}_${stamp}_Obj${String(n).padStart(13, '0')}.json.gz`;
}

function events(account: string, region: string, day: string, n: number): unknown[] {
  return [1, 2, 3].map((i) =>
    cloudTrailEvent({
      recipientAccountId: account,
      awsRegion: region,
      eventTime: `${day}T14:0${i}:00Z`,
      sourceIPAddress: i === 2 ? 'AWS Internal' : `8.8.${n % 250}.${i}`,
      eventID: `${account}-${region}-${day}-${n}-${i}`,
    }),
  );
}

/** The trail bucket: two accounts, an organisation trail, three days, plus digests, AWS Config and a stray file. */
const LOGS: { key: string; account: string; region: string; day: string; n: number }[] = [];
for (const [account, region, day, count, org] of [
  [A, 'us-east-1', '2026-11-19', 2],
  [A, 'us-east-1', '2026-11-20', 3],
  [A, 'us-west-2', '2026-11-20', 1],
  [A, 'us-east-1', '2026-11-21', 1],
  [B, 'eu-west-1', '2026-11-20', 2],
  [ORG_ACCOUNT, 'us-east-1', '2026-11-20', 2, ORG],
] as const) {
  for (let n = 1; n <= count; n++) LOGS.push({ key: logKey(account, region, day, n, org), account, region, day, n });
}
const DIGEST = `AWSLogs/${A}/CloudTrail-Digest/us-east-1/2026/11/20/${A}_CloudTrail-Digest_us-east-1_trail_us-east-1_20261120T150000Z.json.gz`;
const CONFIG = `AWSLogs/${A}/Config/us-east-1/2026/11/20/ConfigSnapshot/${A}_Config_us-east-1_ConfigSnapshot_20261120T150000Z_x.json.gz`;
const STRAY = `AWSLogs/${A}/CloudTrail/us-east-1/2026/11/20/README.txt`;

/** Records the S3 calls a run makes (to prove what was listed and read). */
function counting(client: S3Client): { s3: S3Sender; calls: { name: string; input: Record<string, unknown> }[] } {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  return {
    calls,
    s3: {
      send: ((command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        calls.push({ name: command.constructor.name, input: { ...command.input } });
        return client.send(command as never);
      }) as S3Sender['send'],
    },
  };
}

async function outputs(s3: S3Client, prefix: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: OUT, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      if (object.Key!.includes('/_backfill/')) continue;
      const body = await s3.send(new GetObjectCommand({ Bucket: OUT, Key: object.Key! }));
      const lines = ndjsonLines(Buffer.from(await body.Body!.transformToByteArray())).map((l) => JSON.stringify(l));
      found.set(object.Key!.slice(prefix.length), lines);
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return found;
}

describe('backfill of a real trail bucket layout (s3rver)', function () {
  this.timeout(60_000);
  let local: LocalS3;
  let stages: Stages;
  const config = loadConfig({});

  before(async () => {
    local = await startS3rver([TRAIL, OUT]);
    stages = buildStages(config);
    await stages.intel;
    for (const log of LOGS) {
      await local.client.send(
        new PutObjectCommand({ Bucket: TRAIL, Key: log.key, Body: trailObject(events(log.account, log.region, log.day, log.n)) }),
      );
    }
    await local.client.send(new PutObjectCommand({ Bucket: TRAIL, Key: DIGEST, Body: digestObject() }));
    await local.client.send(new PutObjectCommand({ Bucket: TRAIL, Key: CONFIG, Body: trailObject([]) }));
    await local.client.send(new PutObjectCommand({ Bucket: TRAIL, Key: STRAY, Body: 'notes' }));
  });
  after(async () => {
    await local.close();
  });

  const run = (s3: S3Sender, prefix: string, extra: Partial<Parameters<typeof runBackfill>[0]> = {}): Promise<BackfillTotals> =>
    runBackfill({
      s3,
      source: { bucket: TRAIL, prefix: '' },
      destination: { bucket: OUT, prefix },
      enrich: { config: config.core, rules: stages.rules },
      concurrency: 1,
      ...extra,
    });

  async function selected(selection: BackfillSelection, prefix = ''): Promise<string[]> {
    const stats = emptyListingStats();
    const keys: string[] = [];
    for await (const day of dayPrefixes(local.client, TRAIL, prefix, selection, stats)) {
      for await (const object of dayObjects(local.client, TRAIL, day, stats)) keys.push(object.key);
    }
    return keys;
  }
  const logsWhere = (f: (l: (typeof LOGS)[number]) => boolean) =>
    LOGS.filter(f)
      .map((l) => l.key)
      .sort();

  describe('selective listing', () => {
    it('discovers accounts, organisation accounts, regions and days with delimiter listings, as S3 answers them', async () => {
      expect((await selected({})).sort()).to.deep.equal(LOGS.map((l) => l.key).sort());
    });

    it('selects by account, region and inclusive dates, in plain and organisation layouts', async () => {
      expect(await selected({ accounts: new Set([A]) })).to.deep.equal(logsWhere((l) => l.account === A));
      expect(await selected({ accounts: new Set([ORG_ACCOUNT]) })).to.deep.equal(logsWhere((l) => l.account === ORG_ACCOUNT));
      expect(await selected({ regions: new Set(['us-east-1']) })).to.deep.equal(logsWhere((l) => l.region === 'us-east-1'));
      expect(await selected({ from: '2026-11-20', to: '2026-11-20' })).to.deep.equal(logsWhere((l) => l.day === '2026-11-20'));
      expect(await selected({ from: '2026-11-20' })).to.deep.equal(logsWhere((l) => l.day >= '2026-11-20'));
      expect(await selected({ to: '2026-11-19' })).to.deep.equal(logsWhere((l) => l.day <= '2026-11-19'));
      expect(
        await selected({ accounts: new Set([A]), regions: new Set(['us-west-2']), from: '2026-11-01', to: '2026-11-30' }),
      ).to.deep.equal(logsWhere((l) => l.account === A && l.region === 'us-west-2'));
    });

    it('starts from a source prefix inside the layout', async () => {
      expect(await selected({}, `AWSLogs/${A}/CloudTrail/us-east-1/2026/11/`)).to.deep.equal(
        logsWhere((l) => l.account === A && l.region === 'us-east-1'),
      );
      expect(await selected({}, `AWSLogs/${ORG}/`)).to.deep.equal(logsWhere((l) => l.account === ORG_ACCOUNT));
    });

    it('never pages through the bucket: only day folders are listed without a delimiter', async () => {
      const { s3, calls } = counting(local.client);
      const stats = emptyListingStats();
      for await (const day of dayPrefixes(s3, TRAIL, '', { from: '2026-11-21' }, stats))
        for await (const _ of dayObjects(s3, TRAIL, day, stats)) void _;
      const flat = calls.filter((c) => c.input.Delimiter === undefined).map((c) => c.input.Prefix);
      expect(flat).to.deep.equal([`AWSLogs/${A}/CloudTrail/us-east-1/2026/11/21/`]);
      expect(calls.every((c) => c.name === 'ListObjectsV2Command')).to.equal(true);
      expect(stats.listCalls).to.equal(calls.length);
    });

    it('counts digest folders, AWS Config folders and stray files as skipped, not failed', async () => {
      const totals = await run(local.newClient(), 'skips/');
      expect(totals.failed).to.equal(0);
      expect(totals.skippedFolders).to.deep.equal({ digest: 1, 'outside-layout': 1 });
      expect(totals.ignored).to.deep.equal({ 'not-cloudtrail': 1 });
      expect(totals.written).to.equal(LOGS.length);
      expect(totals.eventsOut).to.equal(LOGS.length * 3);
    });

    it('pages through a day folder with continuation tokens', async () => {
      const stats = emptyListingStats();
      const day = { prefix: `AWSLogs/${A}/CloudTrail/us-east-1/2026/11/20/`, account: A, region: 'us-east-1', day: '2026-11-20' };
      const keys: string[] = [];
      for await (const object of dayObjects(local.client, TRAIL, day, stats, undefined, 2)) keys.push(object.key);
      expect(keys).to.deep.equal(logsWhere((l) => l.account === A && l.region === 'us-east-1' && l.day === '2026-11-20'));
      expect(stats.listCalls).to.equal(2);
      expect(stats.skippedObjects).to.deep.equal({ 'not-cloudtrail': 1 });
    });
  });

  describe('resume', () => {
    it('resumes after an interrupt: every object is enriched once and the output equals an uninterrupted run', async () => {
      const whole = await run(local.newClient(), 'whole/');
      expect(whole.written).to.equal(LOGS.length);

      const { s3, calls } = counting(local.newClient());
      const stop = new AbortController();
      const first = await run(s3, 'resumed/', {
        onProgress: (p) => (p.totals.written >= 3 ? stop.abort() : undefined),
        signal: stop.signal,
      });
      expect(first.interrupted).to.equal(true);
      expect(first.written).to.equal(3);
      const second = await run(s3, 'resumed/');
      expect(second.interrupted).to.equal(false);
      expect(second.written).to.equal(LOGS.length - 3);
      expect(second.ignored['already-done']).to.equal(3);

      const gets = calls.filter((c) => c.name === 'GetObjectCommand' && c.input.Bucket === TRAIL).map((c) => c.input.Key as string);
      expect(gets.sort()).to.deep.equal(LOGS.map((l) => l.key).sort());
      expect([...(await outputs(local.client, 'resumed/')).entries()].sort()).to.deep.equal(
        [...(await outputs(local.client, 'whole/')).entries()].sort(),
      );

      const third = await run(s3, 'resumed/');
      expect(third.written).to.equal(0);
      expect(third.ignored['already-done']).to.equal(LOGS.length);
    });

    it('redoes an object whose ETag changed, and everything with restart', async () => {
      await run(local.newClient(), 'etag/');
      const changed = LOGS[0]!;
      await local.client.send(
        new PutObjectCommand({
          Bucket: TRAIL,
          Key: changed.key,
          Body: trailObject([
            ...events(changed.account, changed.region, changed.day, changed.n),
            cloudTrailEvent({ eventTime: `${changed.day}T15:00:00Z`, recipientAccountId: changed.account, awsRegion: changed.region }),
          ]),
        }),
      );
      const again = await run(local.newClient(), 'etag/');
      expect(again.written).to.equal(1);
      expect(again.redone).to.equal(1);
      expect(again.eventsOut).to.equal(4);
      const restarted = await run(local.newClient(), 'etag/', { restart: true });
      expect(restarted.written).to.equal(LOGS.length);
      // Put the original back for the other tests.
      await local.client.send(
        new PutObjectCommand({
          Bucket: TRAIL,
          Key: changed.key,
          Body: trailObject(events(changed.account, changed.region, changed.day, changed.n)),
        }),
      );
    });

    it('stops cleanly on the first interrupt of the command: summary, checkpoint, exit 130', async () => {
      const stop = new AbortController();
      // Ctrl-C pressed while the command lists: it stops before its first object.
      stop.abort();
      const printed: string[] = [];
      const code = await backfillCommand(['--source', `s3://${TRAIL}`, '--dest', `s3://${OUT}/cli-stop/`, '--concurrency', '1'], {
        out: (l) => {
          printed.push(l);
        },
        err: () => {},
        isTty: false,
        s3: () => local.newClient(),
        interrupts: { stop: stop.signal, abandon: new AbortController().signal },
      });
      expect(code).to.equal(130);
      expect(printed.join('\n')).to.include('interrupted: checkpoint saved');
      const resumed = await backfillCommand(['--source', `s3://${TRAIL}`, '--dest', `s3://${OUT}/cli-stop/`, '--json'], {
        out: (l) => printed.push(l),
        err: () => {},
        isTty: false,
        s3: () => local.newClient(),
      });
      expect(resumed).to.equal(0);
      const summary = JSON.parse(printed[printed.length - 1]!) as BackfillTotals;
      expect(summary.written).to.equal(LOGS.length);
      expect(summary.byPriority).to.be.an('object');
    });
  });

  describe('dry run', () => {
    it('prints objects and bytes per account/region/day and estimates, and writes nothing', async () => {
      const before = (await local.client.send(new ListObjectsV2Command({ Bucket: OUT }))).KeyCount;
      const plan = await planBackfill({
        s3: local.newClient(),
        source: { bucket: TRAIL, prefix: '' },
        destination: { bucket: OUT, prefix: 'dry/' },
        providers: 2,
      });
      expect(plan.objects).to.equal(LOGS.length);
      expect(plan.days.map((d) => `${d.account}/${d.region}/${d.day}`)).to.include.members([
        `${A}/us-east-1/2026-11-20`,
        `${ORG_ACCOUNT}/us-east-1/2026-11-20`,
      ]);
      expect(plan.days.reduce((s, d) => s + d.objects, 0)).to.equal(LOGS.length);
      expect(plan.sample.objects).to.equal(3);
      expect(plan.sample.events).to.equal(9);
      expect(plan.estimate.events).to.be.within(LOGS.length * 3 - 3, LOGS.length * 3 + 3);
      // Two public addresses per object, two providers.
      expect(plan.estimate.providerLookups).to.equal(LOGS.length * 2 * 2);
      expect(plan.estimate.s3Requests.get).to.equal(LOGS.length);
      const printed: string[] = [];
      const code = await backfillCommand(['--source', `s3://${TRAIL}`, '--dest', `s3://${OUT}/dry/`, '--dry-run', '--accounts', B], {
        out: (l) => printed.push(l),
        err: () => {},
        isTty: false,
        s3: () => local.newClient(),
      });
      expect(code).to.equal(0);
      expect(printed.join('\n')).to.match(new RegExp(`${B}  eu-west-1 +2026-11-20 +2 `));
      expect((await local.client.send(new ListObjectsV2Command({ Bucket: OUT }))).KeyCount).to.equal(before);
    });
  });

  describe('get', () => {
    it('writes the same lines `run` writes for the same object, from a file and from S3', async () => {
      const log = LOGS[1]!;
      const directory = await mkdtemp(join(tmpdir(), 'cte-get-'));
      try {
        const file = join(directory, 'object.json.gz');
        const stored = await local.client.send(new GetObjectCommand({ Bucket: TRAIL, Key: log.key }));
        await writeFile(file, Buffer.from(await stored.Body!.transformToByteArray()));
        await runLocal({
          inputs: [file],
          outDir: join(directory, 'out'),
          bufferBytes: 256 * 1024,
          makeHandler: localHandler(config.core, { intel: stages.intel, rules: stages.rules }),
          write: () => {},
          progress: () => {},
        });
        const runLines = await linesUnder(join(directory, 'out', 'enriched'));

        const chunks: Buffer[] = [];
        expect(await getCommand([file], { out: (c) => chunks.push(Buffer.from(c)), err: () => {} })).to.equal(0);
        const fromFile = Buffer.concat(chunks)
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== '');
        expect([...fromFile].sort()).to.deep.equal([...runLines].sort());

        const s3Chunks: Buffer[] = [];
        expect(
          await getCommand([`s3://${TRAIL}/${log.key}`], {
            out: (c) => s3Chunks.push(Buffer.from(c)),
            err: () => {},
            s3: () => local.newClient(),
          }),
        ).to.equal(0);
        expect(
          Buffer.concat(s3Chunks)
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        ).to.deep.equal(fromFile);

        const out = join(directory, 'get.ndjson');
        expect(await getCommand([file, '--out', out], { out: () => {}, err: () => {} })).to.equal(0);
        expect((await readFile(out, 'utf8')).split('\n').filter((l) => l !== '')).to.deep.equal(fromFile);
        const errors: string[] = [];
        expect(await getCommand([file, '--out', out], { out: () => {}, err: (l) => errors.push(l) })).to.equal(2);
        expect(errors[0]).to.match(/exists.*--force/);
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    });

    it('reads NDJSON and plain files, and says in one line why an object cannot be read', async () => {
      const directory = await mkdtemp(join(tmpdir(), 'cte-get-'));
      try {
        const file = join(directory, 'events.ndjson');
        await writeFile(
          file,
          events(A, 'us-east-1', '2026-11-20', 7)
            .map((e) => JSON.stringify(e))
            .join('\n') + '\n',
        );
        const chunks: Buffer[] = [];
        expect(await getCommand([file], { out: (c) => chunks.push(Buffer.from(c)), err: () => {} })).to.equal(0);
        expect(Buffer.concat(chunks).toString('utf8').trim().split('\n')).to.have.length(3);
        const errors: string[] = [];
        expect(await getCommand([join(directory, 'missing.json')], { out: () => {}, err: (l) => errors.push(l) })).to.equal(1);
        expect(
          await getCommand([`s3://no-such-bucket-here/${LOGS[0]!.key}`], {
            out: () => {},
            err: (l) => errors.push(l),
            s3: () => local.newClient(),
          }),
        ).to.equal(1);
        expect(errors[0]).to.match(/missing\.json: no such file$/);
        expect(errors[1]).to.match(/bucket no-such-bucket-here does not exist in us-east-1$/);
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    });
  });

  describe('S3 Batch Operations', () => {
    it('writes a CSV manifest of the selection (bucket, URL-encoded key) into the destination', async () => {
      const manifest = await writeManifest({
        s3: local.newClient(),
        source: { bucket: TRAIL, prefix: '' },
        destination: { bucket: OUT, prefix: 'bops/' },
        selection: { accounts: new Set([B]) },
        now: () => Date.UTC(2026, 10, 25),
      });
      expect(manifest.key).to.equal('bops/_backfill/manifests/20261125T000000000Z.csv');
      const body = await local.client.send(new GetObjectCommand({ Bucket: OUT, Key: manifest.key }));
      const csv = await body.Body!.transformToString();
      expect(csv).to.equal(
        logsWhere((l) => l.account === B)
          .map((k) => `${TRAIL},${k}`)
          .join('\n') + '\n',
      );
      expect(manifest.etag).to.match(/^[0-9a-f]{32}$/);
    });

    it('creates a LambdaInvoke job of the deployed backfill function with a completion report', async () => {
      const control = mockClient(S3ControlClient);
      control.on(CreateJobCommand).resolves({ JobId: 'a1b2c3d4-job' });
      const printed: string[] = [];
      try {
        const code = await backfillCommand(
          [
            '--source',
            `s3://${TRAIL}`,
            '--dest',
            `s3://${OUT}/bops2/`,
            '--batch-operations',
            '--role-arn',
            `arn:aws:iam::${A}:role/backfill-batch`,
            '--stage',
            'prod',
            '--region',
            'us-east-1',
            '--accounts',
            B,
          ],
          {
            out: (l) => printed.push(l),
            err: () => {},
            isTty: false,
            s3: () => local.newClient(),
            s3control: () => new S3ControlClient({ region: 'us-east-1' }),
          },
        );
        expect(code).to.equal(0);
        const input = control.commandCalls(CreateJobCommand)[0]!.args[0].input;
        expect(input).to.deep.include({
          AccountId: A,
          ConfirmationRequired: false,
          RoleArn: `arn:aws:iam::${A}:role/backfill-batch`,
          Priority: 10,
        });
        expect(input.Operation).to.deep.equal({
          LambdaInvoke: {
            FunctionArn: `arn:aws:lambda:us-east-1:${A}:function:cloudtrail-enricher-prod-backfill`,
            InvocationSchemaVersion: '2.0',
          },
        });
        expect(input.Manifest!.Spec).to.deep.equal({ Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] });
        expect(input.Manifest!.Location!.ObjectArn).to.match(
          new RegExp(`^arn:aws:s3:::${OUT}/bops2/_backfill/manifests/\\d{8}T\\d{9}Z\\.csv$`),
        );
        expect(input.Manifest!.Location!.ETag).to.match(/^[0-9a-f]{32}$/);
        expect(input.Report).to.deep.equal({
          Bucket: `arn:aws:s3:::${OUT}`,
          Prefix: 'bops2/_backfill/reports',
          Format: 'Report_CSV_20180820',
          Enabled: true,
          ReportScope: 'AllTasks',
        });
        expect(input.ClientRequestToken).to.be.a('string');
        expect(printed.join('\n')).to.include('a1b2c3d4-job').and.include('aws s3control describe-job');
      } finally {
        control.restore();
      }
    });

    it('refuses --batch-operations without a role ARN (exit 2, one line)', async () => {
      const errors: string[] = [];
      const code = await backfillCommand(['--source', `s3://${TRAIL}`, '--dest', `s3://${OUT}/x/`, '--batch-operations'], {
        out: () => {},
        err: (l) => errors.push(l),
        isTty: false,
      });
      expect(code).to.equal(2);
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include('--role-arn');
    });
  });
});

async function linesUnder(directory: string): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const body = await readFile(join(entry.parentPath, entry.name));
    const text = (body[0] === 0x1f ? gunzipSync(body) : body).toString('utf8');
    lines.push(...text.split('\n').filter((l) => l !== ''));
  }
  return lines;
}
