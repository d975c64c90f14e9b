/**
 * `npm run demo:backfill`: the backfill and `get` commands, end to end, against s3rver on loopback (the real S3 API)
 * holding the bundled sample in its CloudTrail layout. Prints each command with its real output (the README's
 * history section is copied from this), then times full runs at concurrency 1 and 4 for the sizing table.
 * Nothing outside a temporary directory is written.
 */
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3rver } from '../test/integration/backfill/s3rver.ts';

const TRAIL = 'trail-logs';
const OUT = 'enriched-logs';
const root = join(import.meta.dirname, '..');

const s3 = await startS3rver([TRAIL, OUT]);
try {
  const sample = join(root, 'sample');
  const files = (await readdir(sample, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  for (const file of files) {
    const path = join(file.parentPath, file.name);
    await s3.client.send(new PutObjectCommand({ Bucket: TRAIL, Key: relative(sample, path), Body: await readFile(path) }));
  }
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    // s3rver's continuation tokens use DES (see test/integration/backfill/s3rver.ts).
    NODE_OPTIONS: '--openssl-legacy-provider',
  };
  // Asynchronous: s3rver runs in this process and must keep answering while the command runs.
  const cli = async (args: string[], options: { quiet?: boolean; timeoutMs?: number } = {}) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/entry/cli/main.ts'), ...args], { env });
    const result = { stdout: '', stderr: '', status: null as number | null, signal: null as string | null };
    child.stdout.on('data', (d: Buffer) => (result.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (result.stderr += d.toString()));
    // Ctrl-C, as a user would press it.
    const timer = options.timeoutMs !== undefined ? setTimeout(() => child.kill('SIGINT'), options.timeoutMs) : undefined;
    await new Promise<void>((resolve) =>
      child.on('close', (code, signal) => ((result.status = code), (result.signal = signal), resolve())),
    );
    clearTimeout(timer);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (options.quiet !== true) {
      console.log(`$ cloudtrail-enricher ${args.join(' ')}`);
      console.log((result.stdout + result.stderr).trimEnd());
      console.log(`(exit ${result.status ?? result.signal}, ${seconds.toFixed(1)} s)\n`);
    }
    return { seconds, status: result.status, stdout: result.stdout };
  };

  console.log(`${files.length} sample objects in s3://${TRAIL}/ (s3rver at ${s3.endpoint})\n`);
  await cli([
    'backfill',
    '--source',
    `s3://${TRAIL}`,
    '--dest',
    `s3://${OUT}/enriched/`,
    '--accounts',
    '111122223333',
    '--regions',
    'us-east-1',
    '--from',
    '2026-11-20',
    '--to',
    '2026-11-20',
    '--dry-run',
  ]);
  await cli([
    'backfill',
    '--source',
    `s3://${TRAIL}`,
    '--dest',
    `s3://${OUT}/enriched/`,
    '--accounts',
    '111122223333',
    '--regions',
    'us-east-1',
    '--from',
    '2026-11-20',
    '--to',
    '2026-11-20',
  ]);
  // Interrupted with SIGINT (Ctrl-C) after 9 s, then run again: it resumes from the checkpoint.
  await cli(['backfill', '--source', `s3://${TRAIL}`, '--dest', `s3://${OUT}/enriched/`, '--concurrency', '1'], { timeoutMs: 9000 });
  await cli(['backfill', '--source', `s3://${TRAIL}`, '--dest', `s3://${OUT}/enriched/`]);
  const firstKey = files.map((f) => relative(sample, join(f.parentPath, f.name))).sort()[0]!;
  const got = await cli(['get', `s3://${TRAIL}/${firstKey}`], { quiet: true });
  console.log(`$ cloudtrail-enricher get s3://${TRAIL}/${firstKey} | head -c 600`);
  console.log(got.stdout.slice(0, 600) + '…');
  console.log(`(exit ${got.status}; ${got.stdout.trim().split('\n').length} lines)\n`);
  await cli([
    'backfill',
    '--source',
    `s3://${TRAIL}`,
    '--dest',
    `s3://${OUT}/bops/`,
    '--batch-operations',
    '--role-arn',
    'arn:aws:iam::111122223333:role/backfill-batch-operations',
    '--manifest-only',
  ]);

  console.log('sizing: full runs of every sample object (--restart), enrichment with offline geo and the default rules');
  for (const concurrency of [1, 4]) {
    const run = await cli(
      [
        'backfill',
        '--source',
        `s3://${TRAIL}`,
        '--dest',
        `s3://${OUT}/sizing-${concurrency}/`,
        '--restart',
        '--concurrency',
        String(concurrency),
        '--json',
      ],
      { quiet: true },
    );
    const totals = JSON.parse(run.stdout) as { written: number; eventsOut: number };
    const perHour = Math.round((totals.written / run.seconds) * 3600);
    console.log(
      `  concurrency ${concurrency}: ${totals.written} objects, ${totals.eventsOut} events in ${run.seconds.toFixed(1)} s (incl. ~1 s start) → ${perHour.toLocaleString('en-US')} objects/hour`,
    );
  }
} finally {
  await s3.close();
}
