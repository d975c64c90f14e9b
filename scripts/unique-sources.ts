/**
 * Many unique source addresses with every provider enabled and hanging: does the handler answer before its
 * deadline, lose nothing, and stay within memory? Each case runs the real handler (the fault-matrix rig) in its own
 * child process with the heap capped like a 1,024 MB Lambda (`--max-old-space-size=700`), as a cold container with
 * an empty cache; what it re-ingests is fed back until nothing is left (test/integration/memory/unique-sources-case.ts).
 *
 *   npm run unique-sources                      30,000 and 100,000 unique sources, IPv4 and IPv6, 30 s left
 *   npm run unique-sources -- --remaining 10000 the same cases with 10 s left
 *   npm run unique-sources -- 100000 64         one case, one JSON line: unique sources, family (4, 6, or 64 = one IPv6 /64)[, remaining ms]
 *   npm run unique-sources -- --json            one JSON line per case instead of the table
 *
 * Per case: unique sources, when the first invocation answered against its deadlines (Lambda's remaining time, and
 * remaining − RESPONSE_RESERVE_MS), peak RSS (VmHWM), events complete/partial/failed/lost/duplicated. Exit 1 if any
 * case answers after remaining − RESPONSE_RESERVE_MS, throws, loses or duplicates an event; 2 on a usage error.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { UniqueSourcesResult } from '../test/integration/memory/unique-sources-case.ts';

const CHILD = fileURLToPath(new URL('../test/integration/memory/unique-sources-child.ts', import.meta.url));
const RESERVE_MS = 2000;

const args = process.argv.slice(2);
const json = args.includes('--json');
let remainingMs = 30_000;
const positional: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--json') continue;
  if (a === '--remaining') remainingMs = Number(args[++i]);
  else positional.push(a);
}
if (positional[2] !== undefined) remainingMs = Number(positional[2]);
if (
  !Number.isInteger(remainingMs) ||
  remainingMs <= RESERVE_MS ||
  (positional[1] !== undefined && !['4', '6', '64'].includes(positional[1]))
) {
  console.error('unique-sources: usage: [--json] [--remaining MS > 2000] [UNIQUE [4|6|64 [REMAINING_MS]]]');
  process.exit(2);
}
const cases: [number, string][] =
  positional[0] !== undefined
    ? [[Number(positional[0]), positional[1] ?? '4']]
    : [
        [30_000, '4'],
        [30_000, '6'],
        [100_000, '4'],
        [100_000, '6'],
      ];

async function runCase(unique: number, version: string): Promise<UniqueSourcesResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--max-old-space-size=700', '--expose-gc', '--import', 'tsx', CHILD, String(unique), version, String(remainingMs), String(RESERVE_MS)],
    { encoding: 'utf8', maxBuffer: 16 << 20, timeout: remainingMs * 20 + 120_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as UniqueSourcesResult;
}

function missed(r: UniqueSourcesResult): boolean {
  return (
    r.threw !== undefined || r.marginBeforeReserveMs < 0 || (r.laterMinMarginMs ?? 1) <= 0 || r.events.lost > 0 || r.events.duplicated > 0
  );
}

let failed = false;
const single = positional[0] !== undefined;
if (!json && !single) {
  console.log(
    `remaining ${remainingMs} ms, RESPONSE_RESERVE_MS ${RESERVE_MS}, providers hanging, heap capped at 700 MB (one child per case)`,
  );
  console.log(
    '| unique sources | family | answered at | margin before Lambda deadline | margin before reserve | peak RSS (VmHWM) | complete / partial / failed | lost / duplicated | verdict |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---|---|---|');
}
for (const [unique, version] of cases) {
  if (!json && !single) process.stderr.write(`running ${unique} unique IPv${version === '64' ? '6 in one /64' : version} sources…\n`);
  let r: UniqueSourcesResult;
  try {
    r = await runCase(unique, version);
  } catch (err) {
    failed = true;
    console.error(`unique-sources: the ${unique} IPv${version} case crashed: ${(err as Error).message.split('\n')[0]}`);
    continue;
  }
  const bad = missed(r);
  failed ||= bad;
  if (json || single) {
    // Also the fields of the single-case form earlier versions printed (test/integration/faults/untrusted-answers.test.ts).
    const statuses = { ...r.records, complete: r.events.complete, partial: r.events.partial };
    console.log(JSON.stringify({ ...r, marginBeforeDeadlineMs: r.marginBeforeReserveMs, statuses }));
    continue;
  }
  const e = r.events;
  console.log(
    `| ${unique.toLocaleString('en')} | IPv${version === '64' ? '6 (one /64)' : version} | ${r.answeredAtMs} ms | ${r.marginMs} ms | ${r.marginBeforeReserveMs} ms | ${r.peakRssMb} MB | ${e.complete} / ${e.partial} / ${e.failed} | ${e.lost} / ${e.duplicated} | ${bad ? `MISSED${r.threw !== undefined ? ` (${r.threw.slice(0, 60)})` : ''}` : 'ok'} |`,
  );
}
process.exit(failed ? 1 : 0);
