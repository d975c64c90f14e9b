/**
 * Runs `cloudtrail-enricher run` (the real CLI, as a child process) over the bundled sample once per test
 * process and hands back the output directory and its enriched lines, parsed.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
export const REPO = resolve(import.meta.dirname, '..', '..');

export interface Row {
  readonly [field: string]: unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- output lines are read field by field in assertions
  readonly enrichment: Record<string, any>;
}

export interface SampleRun {
  readonly outDir: string;
  readonly stdout: string;
  /** Every enriched line with the partition it was written to. */
  readonly rows: readonly { account: string; region: string; dt: string; doc: Row }[];
  cleanup(): Promise<void>;
}

let running: Promise<SampleRun> | undefined;
const roots: string[] = [];

/** The one sample run of this test process (the Athena and report tests share it). */
export function sampleRun(): Promise<SampleRun> {
  running ??= start();
  return running;
}

/** The run's folder is removed when the test process exits (other test files may still read it). */
export async function releaseSampleRun(): Promise<void> {}

process.once('exit', () => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

async function start(): Promise<SampleRun> {
  const root = await mkdtemp(join(tmpdir(), 'cte-sample-'));
  roots.push(root);
  const outDir = join(root, 'out');
  const env = { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'src/entry/cli/main.ts'), 'run', join(REPO, 'sample'), '--out', outDir],
    {
      cwd: REPO,
      env,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const rows: SampleRun['rows'][number][] = [];
  const enriched = join(outDir, 'enriched');
  for (const file of (await readdir(enriched, { recursive: true })).filter((f) => f.endsWith('.json')).sort()) {
    const m = /account=([^/]+)\/region=([^/]+)\/dt=([^/]+)\//.exec(file.split('\\').join('/'));
    if (m === null) throw new Error(`unexpected output path ${file}`);
    for (const line of (await readFile(join(enriched, file), 'utf8')).split('\n')) {
      if (line !== '') rows.push({ account: m[1]!, region: m[2]!, dt: m[3]!, doc: JSON.parse(line) as Row });
    }
  }
  return { outDir, stdout, rows, cleanup: () => rm(root, { recursive: true, force: true }) };
}
