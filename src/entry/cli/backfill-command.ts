import { parseArgs } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { checkPrefix } from '../backfill/config.ts';
import { accountOfRole, createJobInput, writeManifest } from '../backfill/batch-operations.ts';
import { parseS3Uri } from '../../codec/cloudtrail-keys.ts';
import { parseObjectLimits } from '../../codec/s3-object.ts';
import { planBackfill, type BackfillPlan } from '../backfill/plan.ts';
import { runBackfill, type BackfillProgress, type BackfillTotals } from '../backfill/run.ts';
import { isDay, type BackfillSelection } from '../backfill/select.ts';
import { loadConfig } from '../../config/index.ts';
import { buildStages } from '../../pipeline/stages.ts';
import { regionOf } from './aws-errors.ts';

export const BACKFILL_USAGE = `usage: cloudtrail-enricher backfill --source s3://BUCKET[/PREFIX] --dest s3://BUCKET/PREFIX [options]

Enriches CloudTrail objects already in S3 into the layout Firehose writes (S3 → S3). Only the day folders of the
CloudTrail layout that match are listed (AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/); digests and
other files (AWS Config, …) are counted and skipped. Finished objects are checkpointed under <dest>/_backfill/:
running again, or after Ctrl-C or a killed process, skips them and never duplicates output.

  --source s3://BUCKET[/PREFIX]   the trail bucket (or a prefix inside its layout)
  --dest s3://BUCKET/PREFIX       where partitions are written (e.g. s3://output-bucket/enriched/)
  --accounts A,B                  only these account ids (default: every account found)
  --regions R1,R2                 only these regions (default: every region found)
  --from YYYY-MM-DD --to YYYY-MM-DD
                                  inclusive days, by the date in the key's path
  --concurrency N                 objects enriched at once, 1–64 (default: 4)
  --restart                       ignore (and delete) the checkpoint: redo every selected object
  --dry-run                       print what would be done (objects, bytes, estimates) and write nothing
  --json                          print the summary (or plan) as JSON on stdout
  --region R                      AWS region of the buckets (default: the SDK's, e.g. AWS_REGION)
  --batch-operations --role-arn ARN [--function NAME] [--stage S] [--manifest-only]
                                  for histories too large for one machine: write a CSV manifest of the selection
                                  into --dest and create an S3 Batch Operations job that invokes the deployed
                                  backfill function (default cloudtrail-enricher-<stage>-backfill, stage dev)

exit codes: 0 done · 1 some objects failed · 2 usage or configuration error · 130 interrupted (checkpoint saved)`;

export interface CommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly isTty: boolean;
  /** The S3 client (default: a new SDK client in `region`). */
  readonly s3?: (region: string | undefined) => S3Client | Promise<S3Client>;
  readonly s3control?: (
    region: string | undefined,
  ) => { send(command: unknown): Promise<unknown> } | Promise<{ send(command: unknown): Promise<unknown> }>;
  /** Interrupt signals: the first stops cleanly, the second abandons objects in flight. */
  readonly interrupts?: { readonly stop: AbortSignal; readonly abandon: AbortSignal };
}

const defaultIo: CommandIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  isTty: process.stderr.isTTY === true,
};

class UsageError extends Error {}

function list(value: string | undefined, pattern: RegExp, what: string): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = items.find((s) => !pattern.test(s));
  if (items.length === 0 || bad !== undefined) throw new UsageError(`${what} got ${JSON.stringify(bad ?? value)}`);
  return new Set(items);
}

export async function backfillCommand(args: readonly string[], io: CommandIo = defaultIo): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        source: { type: 'string' },
        dest: { type: 'string' },
        accounts: { type: 'string' },
        regions: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        concurrency: { type: 'string', default: '4' },
        region: { type: 'string' },
        restart: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'batch-operations': { type: 'boolean', default: false },
        'role-arn': { type: 'string' },
        function: { type: 'string' },
        stage: { type: 'string', default: 'dev' },
        'manifest-only': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    io.err(`backfill: ${(err as Error).message} (see cloudtrail-enricher backfill --help)`);
    return 2;
  }
  if (values.help) {
    io.out(BACKFILL_USAGE);
    return 0;
  }
  let source, destination, selection: BackfillSelection, concurrency: number;
  try {
    source = parseS3Uri(values.source ?? '');
    const dest = parseS3Uri(values.dest ?? '');
    if (source === undefined) throw new UsageError('--source must be s3://BUCKET[/PREFIX]');
    if (dest === undefined) throw new UsageError('--dest must be s3://BUCKET[/PREFIX]');
    const destPrefix = dest.prefix === '' || dest.prefix.endsWith('/') ? dest.prefix : `${dest.prefix}/`;
    try {
      checkPrefix(destPrefix, '--dest prefix');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (source.bucket === dest.bucket && (destPrefix === '' || source.prefix.startsWith(destPrefix))) {
      throw new UsageError('--source must not lie inside --dest (the backfill would read its own output)');
    }
    destination = { bucket: dest.bucket, prefix: destPrefix };
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
      throw new UsageError('--concurrency must be an integer from 1 to 64');
    for (const [name, value] of [
      ['--from', values.from],
      ['--to', values.to],
    ] as const) {
      if (value !== undefined && !isDay(value)) throw new UsageError(`${name} must be a day as YYYY-MM-DD, got ${JSON.stringify(value)}`);
    }
    if (values.from !== undefined && values.to !== undefined && values.from > values.to)
      throw new UsageError('--from must not be after --to');
    selection = {
      accounts: list(values.accounts, /^\d{12}$/, '--accounts takes 12-digit account ids separated by commas,'),
      regions: list(values.regions, /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, '--regions takes region names (us-east-1,…) separated by commas,'),
      from: values.from,
      to: values.to,
    };
    if (values['batch-operations'] && (values['role-arn'] === undefined || accountOfRole(values['role-arn']) === undefined)) {
      throw new UsageError('--batch-operations needs --role-arn arn:aws:iam::<account>:role/<name> (the role S3 Batch Operations assumes)');
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`backfill: ${err.message} (see cloudtrail-enricher backfill --help)`);
    return 2;
  }
  const region = values.region;
  const s3 = io.s3 !== undefined ? await io.s3(region) : await defaultS3(region);
  // No region anywhere: one line saying how to set it (a UserError, exit 2), not the SDK's "Region is missing".
  if (io.s3 === undefined) await regionOf(s3);

  if (values['dry-run']) {
    const config = loadConfig(process.env);
    const plan = await planBackfill({
      s3,
      source,
      destination,
      selection,
      restart: values.restart,
      limits: parseObjectLimits(process.env),
      providers: enabledProviders(config.lookup),
    });
    if (values.json) io.out(JSON.stringify({ dryRun: true, source, destination, ...plan }, null, 2));
    else printPlan(plan, source, destination, io.out);
    return 0;
  }

  if (values['batch-operations']) {
    const manifest = await writeManifest({ s3, source, destination, selection, restart: values.restart });
    const where = `s3://${manifest.bucket}/${manifest.key}`;
    if (values['manifest-only'] || manifest.objects === 0) {
      if (values.json) io.out(JSON.stringify({ manifest: where, objects: manifest.objects, bytes: manifest.bytes }));
      else
        io.out(
          `manifest ${where}: ${manifest.objects.toLocaleString('en-US')} objects, ${mib(manifest.bytes)}${manifest.objects === 0 ? ' (nothing to do: no job created)' : ''}`,
        );
      return 0;
    }
    const jobRegion = region ?? (await s3.config.region());
    const input = createJobInput({
      manifest,
      destination,
      roleArn: values['role-arn']!,
      functionName: values.function ?? `cloudtrail-enricher-${values.stage}-backfill`,
      region: jobRegion,
    });
    const control = io.s3control !== undefined ? await io.s3control(region) : await defaultS3Control(region);
    const { CreateJobCommand } = await import('@aws-sdk/client-s3-control');
    const created = (await control.send(new CreateJobCommand(input))) as { JobId?: string };
    if (values.json)
      io.out(
        JSON.stringify({ manifest: where, objects: manifest.objects, jobId: created.JobId, accountId: input.AccountId, region: jobRegion }),
      );
    else {
      io.out(`manifest ${where}: ${manifest.objects.toLocaleString('en-US')} objects, ${mib(manifest.bytes)}`);
      io.out(
        `S3 Batch Operations job ${created.JobId ?? '(no id returned)'} created in ${input.AccountId}/${jobRegion}; it invokes ${input.Operation!.LambdaInvoke!.FunctionArn}`,
      );
      io.out(
        `watch it:  aws s3control describe-job --account-id ${input.AccountId} --job-id ${created.JobId ?? '<id>'} --region ${jobRegion}`,
      );
      io.out(`report:    s3://${destination.bucket}/${destination.prefix}_backfill/reports/ when the job completes`);
    }
    return 0;
  }

  const config = loadConfig(process.env);
  const stages = buildStages(config);
  const stop = io.interrupts?.stop ?? new AbortController().signal;
  const display = progressDisplay(io, values.json);
  const totals = await runBackfill({
    s3,
    source,
    destination,
    selection,
    enrich: { config: config.core, intel: await stages.intel, rules: stages.rules },
    limits: parseObjectLimits(process.env),
    concurrency,
    restart: values.restart,
    signal: stop,
    abandon: io.interrupts?.abandon,
    onProgress: display.update,
  });
  display.stop();
  if (values.json) io.out(JSON.stringify({ source, destination, ...totals }, null, 2));
  else printSummary(totals, source, destination, io.out);
  if (totals.interrupted) return 130;
  return totals.failed === 0 ? 0 : 1;
}

function enabledProviders(lookup: unknown): number {
  const providers = (lookup as { providers?: Record<string, { enabled?: boolean } | undefined> }).providers;
  if (providers === undefined) return 0;
  return Object.values(providers).filter((p) => p?.enabled === true).length;
}

async function defaultS3(region: string | undefined): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client(region !== undefined ? { region } : {});
}

async function defaultS3Control(region: string | undefined): Promise<{ send(command: unknown): Promise<unknown> }> {
  const { S3ControlClient } = await import('@aws-sdk/client-s3-control');
  return new S3ControlClient(region !== undefined ? { region } : {});
}

const n = (x: number) => x.toLocaleString('en-US');
const mib = (bytes: number) => (bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
const reasons = (r: Record<string, number>) => {
  const entries = Object.entries(r).filter(([, v]) => v > 0);
  return entries.length === 0 ? '0' : entries.map(([k, v]) => `${k} ${n(v)}`).join(' · ');
};

/** On a terminal a progress bar (objects, bytes, events/s, ETA); otherwise one plain line every 5 s. */
function progressDisplay(io: CommandIo, json: boolean): { update: (p: BackfillProgress) => void; stop: () => void } {
  let bar:
    | {
        update(value: number, payload: Record<string, string>): void;
        stop(): void;
        start(total: number, value: number, payload: Record<string, string>): void;
      }
    | undefined;
  let last = Date.now();
  let started = false;
  const payload = (p: BackfillProgress) => {
    const seconds = Math.max(0.001, (Date.now() - p.startedAt) / 1000);
    return {
      objects: n(p.totals.written + p.totals.failed),
      bytes: mib(p.totals.bytesRead),
      rate: n(Math.round(p.totals.eventsOut / seconds)),
      failed: n(p.totals.failed),
    };
  };
  return {
    update: (p) => {
      if (json && !io.isTty) return;
      if (io.isTty) {
        if (!started) {
          started = true;
          // cli-progress is loaded only for an interactive run.
          void import('cli-progress').then(({ default: progress }) => {
            bar = new progress.SingleBar(
              {
                format:
                  '  {bar} {percentage}% of {total} days | {objects} objects | {bytes} | {rate} events/s | {failed} failed | ETA {eta_formatted}',
                stream: process.stderr,
                hideCursor: true,
              },
              progress.Presets.shades_classic,
            );
            bar.start(Math.max(1, p.daysTotal), p.daysDone, payload(p));
          });
        }
        bar?.update(p.daysDone, payload(p));
        return;
      }
      const now = Date.now();
      if (now - last < 5000) return;
      last = now;
      const q = payload(p);
      io.err(`  … ${p.daysDone}/${p.daysTotal} days, ${q.objects} objects, ${q.bytes}, ${q.rate} events/s, ${q.failed} failed`);
    },
    stop: () => bar?.stop(),
  };
}

function printSummary(
  t: BackfillTotals,
  source: { bucket: string; prefix: string },
  destination: { bucket: string; prefix: string },
  write: (line: string) => void,
): void {
  write('');
  write(`cloudtrail-enricher backfill: summary${t.interrupted ? ' (interrupted: checkpoint saved, run again to resume)' : ''}`);
  write(`  source                 s3://${source.bucket}/${source.prefix}`);
  write(`  destination            s3://${destination.bucket}/${destination.prefix}`);
  write(`  selected               ${n(t.days)} day folders, ${n(t.listed)} objects listed (${n(t.listCalls)} ListObjectsV2 calls)`);
  write(
    `  written                ${n(t.written)} objects (${mib(t.bytesRead)}) → ${n(t.outputObjects)} output objects in ${n(t.partitions)} partitions${t.redone > 0 ? `; ${n(t.redone)} redone (changed since the checkpoint)` : ''}`,
  );
  write(`  skipped objects        ${reasons(t.ignored)}`);
  write(
    `  skipped folders        ${reasons(t.skippedFolders)}${t.skippedExamples.length > 0 ? ` (e.g. ${t.skippedExamples.slice(0, 3).join(', ')})` : ''}`,
  );
  write(`  failed                 ${n(t.failed)}${t.failed > 0 ? ` (${reasons(t.failures)})` : ''}`);
  for (const f of t.failedKeys) write(`    ${f.key}: ${f.message}`);
  if (t.abandoned > 0) write(`  abandoned              ${n(t.abandoned)} objects in flight (not checkpointed: redone next time)`);
  const priorities = (['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const).map((p) => `${p} ${n(t.byPriority[p] ?? 0)}`).join(' · ');
  write(`  events                 ${n(t.eventsIn)} read, ${n(t.eventsOut)} written (skipped: ${n(t.skipped)}; partial: ${n(t.partial)})`);
  write(`  by priority            ${priorities}`);
  write(
    `  conservation           ${t.eventsIn === t.eventsOut ? 'every event of every enriched object written exactly once' : `${n(t.eventsIn - t.eventsOut)} events NOT written`}`,
  );
}

function printPlan(
  plan: BackfillPlan,
  source: { bucket: string; prefix: string },
  destination: { bucket: string; prefix: string },
  write: (line: string) => void,
): void {
  write(`cloudtrail-enricher backfill --dry-run: nothing is written`);
  write(`  source                 s3://${source.bucket}/${source.prefix}`);
  write(`  destination            s3://${destination.bucket}/${destination.prefix}`);
  write('');
  write('  account       region          day          objects        bytes');
  for (const d of plan.days)
    write(`  ${d.account}  ${d.region.padEnd(14)}  ${d.day}  ${n(d.objects).padStart(7)}  ${mib(d.bytes).padStart(11)}`);
  write('');
  write(
    `  to do                  ${n(plan.objects)} objects, ${mib(plan.bytes)}${plan.changed > 0 ? ` (${n(plan.changed)} changed since the checkpoint)` : ''}`,
  );
  write(`  already done           ${n(plan.alreadyDone)} objects (checkpoint; --restart redoes them)`);
  write(`  skipped objects        ${reasons(plan.ignored)}`);
  write(`  skipped folders        ${reasons(plan.skippedFolders)}`);
  write(
    `  estimated events       ${n(plan.estimate.events)} (from ${n(plan.sample.objects)} sampled objects: ${n(plan.sample.events)} events in ${mib(plan.sample.bytes)})`,
  );
  write(
    `  provider lookups       at most ${n(plan.estimate.providerLookups)} (unique public addresses per sampled object × objects × providers; the cache lowers it)`,
  );
  const r = plan.estimate.s3Requests;
  write(`  S3 requests            ${n(r.total)}: ${n(r.list)} LIST · ${n(r.get)} GET · ${n(r.put)} PUT · ${n(r.checkpoint)} checkpoint`);
}

/**
 * Ctrl-C once: stop cleanly (objects in flight finish, the checkpoint is saved, the summary is printed, exit 130).
 * Ctrl-C twice: abandon the objects in flight (they are redone next time). SIGTERM counts as the first.
 */
export function interruptSignals(): { stop: AbortSignal; abandon: AbortSignal } {
  const stop = new AbortController();
  const abandon = new AbortController();
  const onSignal = () => {
    if (!stop.signal.aborted) {
      process.stderr.write('\nstopping: finishing the objects in flight and saving the checkpoint (Ctrl-C again to abandon them)\n');
      stop.abort();
    } else abandon.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { stop: stop.signal, abandon: abandon.signal };
}
