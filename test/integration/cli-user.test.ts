import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../../src/entry/cli/main.ts';
import { cloudTrailEvent } from '../helpers/factories.ts';

/** The command line as a new user meets it: each case of issue 10's "What we saw". */
describe('cloudtrail-enricher as a user meets it', function () {
  this.timeout(120_000);
  let dir: string;
  let out: string[];
  let err: string[];
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => main(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l), env });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cte-user-'));
    out = [];
    err = [];
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 1 when an event is too large to deliver, and the error record gives that reason', async () => {
    const big = JSON.stringify(cloudTrailEvent({ eventName: 'Big', requestParameters: { blob: 'x'.repeat(7 * 1024 * 1024) } }));
    await writeFile(join(dir, 'big.ndjson'), `${big}\n${JSON.stringify(cloudTrailEvent())}\n`);
    const code = await run(['run', join(dir, 'big.ndjson'), '--out', join(dir, 'out')]);
    expect(code).to.equal(1);
    expect(out.join('\n')).to.include('NOT delivered');
    const errorsDir = join(dir, 'out', 'errors');
    const files: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true }))
        await (e.isDirectory() ? walk(join(d, e.name)) : Promise.resolve(files.push(join(d, e.name))));
    };
    await walk(errorsDir);
    const record = JSON.parse((await readFile(files[0]!, 'utf8')).split('\n')[0]!) as { errorMessage: string };
    expect(record.errorMessage).to.include('event too large to re-ingest');
    expect(record.errorMessage).not.to.include('could not be decoded');
  });

  it('follows a symlinked file, reads .log and .jsonl, and reports empty, digest and other files as skipped', async () => {
    const data = join(dir, 'data');
    await mkdir(data);
    await writeFile(join(dir, 'real.json'), JSON.stringify({ Records: [cloudTrailEvent(), cloudTrailEvent()] }));
    await symlink(join(dir, 'real.json'), join(data, 'linked.json'));
    await writeFile(join(data, 'plain.log'), `${JSON.stringify(cloudTrailEvent())}\n`);
    await writeFile(join(data, 'more.jsonl'), `${JSON.stringify(cloudTrailEvent())}\n`);
    await writeFile(join(data, 'empty.json'), '');
    await writeFile(join(data, 'notes.txt'), 'hello');
    await writeFile(
      join(data, '111122223333_CloudTrail-Digest_us-east-1_x.json.gz'),
      gzipSync(JSON.stringify({ awsAccountId: '111122223333', digestStartTime: '2026-11-01T00:00:00Z', logFiles: [] })),
    );
    await symlink(data, join(data, 'loop'));
    const code = await run(['run', data, '--out', join(dir, 'out'), '--json']);
    expect(code).to.equal(0);
    const summary = JSON.parse(out.at(-1)!) as {
      eventsRead: number;
      eventsDelivered: number;
      skippedInputs: { path: string; reason: string }[];
    };
    expect(summary.eventsRead).to.equal(4);
    expect(summary.eventsDelivered).to.equal(4);
    const reasons = Object.fromEntries(summary.skippedInputs.map((s) => [s.path.slice(data.length + 1), s.reason]));
    expect(reasons).to.deep.include({
      'empty.json': 'empty',
      'notes.txt': 'extension',
      '111122223333_CloudTrail-Digest_us-east-1_x.json.gz': 'digest',
      loop: 'symlink loop',
    });
  });

  it('warns when a file holds no events', async () => {
    await writeFile(join(dir, 'empty.json'), '\n');
    expect(await run(['run', join(dir, 'empty.json'), '--out', join(dir, 'out')])).to.equal(0);
    expect(out.join('\n')).to.match(/empty\.json: empty/);
    expect(out.join('\n')).to.include('no events were read');
  });

  it('sends an object that is not CloudTrail out as skipped with its raw text', async () => {
    await writeFile(join(dir, 'hello.json'), '{"hello":"world"}');
    expect(await run(['run', join(dir, 'hello.json'), '--out', join(dir, 'out')])).to.equal(0);
    const [account] = await readdir(join(dir, 'out', 'enriched'));
    const [region] = await readdir(join(dir, 'out', 'enriched', account!));
    const [day] = await readdir(join(dir, 'out', 'enriched', account!, region!));
    const [file] = await readdir(join(dir, 'out', 'enriched', account!, region!, day!));
    const line = JSON.parse(await readFile(join(dir, 'out', 'enriched', account!, region!, day!, file!), 'utf8')) as {
      enrichment: { status: string; raw: string };
    };
    expect(line.enrichment.status).to.equal('skipped');
    expect(line.enrichment.raw).to.equal('{"hello":"world"}');
  });

  it('reports a truncated .gz by name, goes on with the other files and exits 1', async () => {
    const whole = gzipSync(JSON.stringify({ Records: [cloudTrailEvent()] }));
    await writeFile(join(dir, 'a-truncated.json.gz'), whole.subarray(0, whole.length - 10));
    await writeFile(join(dir, 'b-good.json.gz'), whole);
    expect(await run(['run', dir, '--out', join(tmpdir(), `cte-user-out-${process.pid}`), '--force'])).to.equal(1);
    await rm(join(tmpdir(), `cte-user-out-${process.pid}`), { recursive: true, force: true });
    const text = out.join('\n');
    expect(text).to.match(/a-truncated\.json\.gz: truncated gzip file/);
    expect(text).to.match(/events delivered\s+1/);
  });

  it('refuses --out . without a stack trace and leaves every file in place', async () => {
    await writeFile(join(dir, 'input.json'), JSON.stringify(cloudTrailEvent()));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(await run(['run', 'input.json', '--out', '.'])).to.equal(2);
      expect(await run(['run', 'input.json', '--out', '..'])).to.equal(2);
      await mkdir('sub');
      expect(await run(['run', 'input.json', '--out', 'sub/..', '--force'])).to.equal(2);
    } finally {
      process.chdir(cwd);
    }
    expect((await readdir(dir)).sort()).to.deep.equal(['input.json', 'sub']);
    expect(err).to.have.length(3);
    for (const line of err) expect(line).to.match(/^cloudtrail-enricher: --out .* (holds the input|is not empty)/);
  });

  it('answers ordinary mistakes with one line and exit 2', async () => {
    await writeFile(join(dir, 'x.json'), '{}');
    expect(await run(['run', join(dir, 'missing.json')])).to.equal(2);
    expect(await run(['run', '--nope'])).to.equal(2);
    expect(await run(['run', join(dir, 'x.json')], { OUTPUT_MODE: 'foo' })).to.equal(2);
    expect(await run(['run', join(dir, 'x.json'), '--out', join(dir, 'o')], { IPSTACK_ENABLED: 'maybe' })).to.equal(2);
    expect(await run(['run', join(dir, 'x.json'), '--out', join(dir, 'o')], { RULES_FILE: join(dir, 'x.json') })).to.equal(2);
    expect(err).to.have.length(5);
    for (const line of err) {
      expect(line).to.match(/^cloudtrail-enricher: /);
      expect(line).not.to.include('\n');
    }
    expect(err[0]).to.include('does not exist');
    expect(err[2]).to.include('OUTPUT_MODE');
    expect(err[3]).to.include('IPSTACK_ENABLED');
  });

  it('prints --help for every command with exit 0', async () => {
    for (const command of ['run', 'backfill', 'replay']) {
      out = [];
      expect(await run([command, '--help'])).to.equal(0);
      expect(out.join('\n')).to.include(`usage: cloudtrail-enricher ${command}`);
    }
    expect(await run(['rules', '--help'])).to.equal(2);
    expect(err.join('\n')).to.include('rules validate');
  });

  it('asks for a region instead of the SDK\'s "Region is missing"', async () => {
    const code = await run(['backfill', '--source', 's3://trail-logs/AWSLogs/', '--dest', 's3://out-bucket/out/'], { AWS_REGION: '' });
    expect(code).to.equal(2);
    expect(err.join('\n')).to.include('pass --region');
  });

  it('mounts the rules tools as subcommands', async () => {
    expect(await run(['rules', 'validate'])).to.equal(0);
    expect(out.join('\n')).to.include('rules enabled');
  });
});
