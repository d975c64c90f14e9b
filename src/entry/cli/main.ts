import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../../config/index.ts';
import { buildStages } from '../../pipeline/stages.ts';
import { SECURITY_LAKE_SOURCE_PREFIX } from '../../7-encode/layouts/partition.ts';
import { localHandler, runLocal } from './run.ts';
import { FindingCollector, localAlertStage } from '../../6-alert/index.ts';
import { existsSync } from 'node:fs';
import { ConfigError, EnricherError, ReingestionError } from '../../errors.ts';
import { runRulesCli } from './rules.ts';
import { describeAwsError, isAwsError, regionOf } from './aws-errors.ts';
import { UserError } from './user-error.ts';
import { parseS3Uri } from '../../codec/cloudtrail-keys.ts';
import { BACKFILL_USAGE, backfillCommand as backfillCli, interruptSignals } from './backfill-command.ts';
import { GET_USAGE, getCommand } from './get-command.ts';
import { replayLogGroup } from '../replay/index.ts';
import { OPENSEARCH_SETUP_USAGE, opensearchSetupCommand } from './opensearch-setup.ts';

const USAGE = `usage: cloudtrail-enricher <command> [options]

commands:
  run [paths…]   enrich CloudTrail files (.json.gz with Records, .json, .ndjson; directories are walked)
                 through a local Firehose and the real handler; writes the S3 layout to --out
    --out DIR          output directory (default: out)
    --buffer-mb N      Firehose Lambda buffer size in MB, 0.2–3 (default: 0.25, as deployed)

  backfill       enrich CloudTrail objects in S3 into the Firehose layout of another prefix (S3 → S3): selected
                 accounts/regions/days, resumable (checkpoint), --dry-run, S3 Batch Operations; see backfill --help
  get            enrich one CloudTrail object (s3://BUCKET/KEY or FILE) at read time and print NDJSON; see get --help

  replay         send CloudTrail history from a CloudWatch Logs group to the delivery stream, packed as the
                 subscription filter packs it, so it goes through the deployed transform
    --log-group NAME              the trail's log group
    --start ISO --end ISO         time window, inclusive (e.g. 2026-11-01T00:00:00Z)
    --delivery-stream NAME        the Firehose stream the transform is attached to
    --log-stream-prefix P         only log streams starting with P (optional)
    --region R                    AWS region (default: the SDK's)

${OPENSEARCH_SETUP_USAGE}

Configuration comes from the environment (see README: OUTPUT_MODE, providers, RULES_FILE, …); AWS endpoints and
credentials the usual SDK way (AWS_PROFILE, AWS_ENDPOINT_URL_S3, …).`;

const RUN_HELP = `usage: cloudtrail-enricher run [paths…] [--out DIR] [--force] [--buffer-mb N] [--json] [--debug]

Enriches CloudTrail files through a local Firehose and the real handler, and writes the S3 layout to --out.
Reads .json.gz / .gz (CloudTrail log files), .json (an event, an array, or {"Records": [...]}), and
.ndjson / .jsonl / .log (one event per line). Directories are walked recursively, following symbolic links;
other extensions, empty files, digest files and earlier outputs are skipped and listed in the summary.

  --out DIR        output directory (default: out). Written only if it is absent, empty, or an earlier output of
                   run (it holds ${'.cloudtrail-enricher-run.json'}); never a directory that holds an input
  --force          replace an earlier output of run even if files were added to it
  --buffer-mb N    Firehose Lambda buffer size in MB, 0.2–3 (default: 0.25, as deployed)
  --json           print the summary as one JSON object
  --debug          print stack traces

exit codes: 0 ok · 1 an event not delivered or an input unreadable · 2 usage or configuration error · 130 interrupted`;

const REPLAY_HELP = `usage: cloudtrail-enricher replay --log-group NAME --start ISO --end ISO --delivery-stream NAME [--log-stream-prefix P] [--region R]

Sends CloudTrail history from a CloudWatch Logs group to the delivery stream, packed as the subscription filter packs it.
exit codes: 0 ok · 1 some records not sent · 2 usage, configuration or AWS access error · 130 interrupted`;

const HELP: Record<string, string> = { run: RUN_HELP, backfill: BACKFILL_USAGE, get: GET_USAGE.trimEnd(), replay: REPLAY_HELP };

export interface MainIo {
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs one command; returns its exit code and never throws for a user, configuration or AWS error. */
export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => process.stdout.write(line + '\n'));
  const err = io.stderr ?? ((line: string) => process.stderr.write(line + '\n'));
  const env = io.env ?? process.env;
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      out(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (HELP[command] !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
      out(HELP[command]);
      return 0;
    }
    if (command === 'rules') return rulesCommand(rest, env, out, err);
    if (command === 'backfill') return await backfillCommand(rest, out, err);
    if (command === 'get') return await getCommand(rest);
    if (command === 'replay') return await replayCommand(rest, err);
    if (command === 'run') return await runCommand(rest, env, out);
    if (command === 'opensearch-setup') return await opensearchSetupCommand(rest);
    throw new UserError(
      `unknown command ${JSON.stringify(command)}; the commands are run, backfill, get, replay, rules, opensearch-setup`,
      '',
    );
  } catch (error) {
    return reportError(error, command, debug, err);
  }
}

/** One line for what the user can fix (exit 2); a stack trace only with --debug or for a bug (exit 1). */
function reportError(error: unknown, command: string | undefined, debug: boolean, err: (line: string) => void): number {
  const help = (helpFor: string | undefined) =>
    helpFor === undefined ? '' : ` (see cloudtrail-enricher ${helpFor === '' ? '' : `${helpFor} `}--help)`;
  if (error instanceof UserError) err(`cloudtrail-enricher: ${error.message}${help(error.helpFor)}`);
  else if (error instanceof ConfigError) err(`cloudtrail-enricher: configuration error: ${error.message}`);
  else if (error instanceof EnricherError) err(`cloudtrail-enricher: ${error.name}: ${error.message}`);
  else if (
    (error as { code?: unknown })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
    (error as { code?: unknown })?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ||
    (error as { code?: unknown })?.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
  ) {
    err(`cloudtrail-enricher: ${(error as Error).message.split('\n')[0]}${help(command ?? '')}`);
  } else {
    err(`cloudtrail-enricher: unexpected error: ${(error as Error)?.message ?? String(error)} (rerun with --debug for the stack trace)`);
    if (debug) err(String((error as Error)?.stack ?? error));
    return 1;
  }
  if (debug) err(String((error as Error)?.stack ?? error));
  return 2;
}

async function runCommand(rest: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      out: { type: 'string', default: 'out' },
      'buffer-mb': { type: 'string', default: '0.25' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const bufferMb = Number(values['buffer-mb']);
  if (!Number.isFinite(bufferMb) || bufferMb < 0.2 || bufferMb > 3)
    throw new UserError('--buffer-mb must be a number from 0.2 to 3 (Firehose Lambda buffer limits)', 'run');
  const inputs = positionals.length > 0 ? positionals : ['sample'];
  for (const input of inputs) {
    if (!existsSync(input))
      throw new UserError(
        `input ${input} does not exist; give CloudTrail files or directories (e.g. cloudtrail-enricher run ~/Downloads/AWSLogs)`,
        'run',
      );
  }
  const config = loadConfig(env);
  const stages = buildStages(config);
  const lines: string[] = [];
  // The findings the deployed function would send, written to <out>/findings.ndjson (nothing leaves the machine).
  const findings = new FindingCollector();
  const totals = await runLocal({
    inputs,
    outDir: values.out,
    force: values.force === true,
    prefix: config.core.layout?.format === 'ocsf' ? SECURITY_LAKE_SOURCE_PREFIX : undefined,
    bufferBytes: Math.round(bufferMb * 1024 * 1024),
    makeHandler: localHandler(config.core, { ...stages, alerts: localAlertStage(config.alerts, findings) }),
    findings,
    write: values.json === true ? (line) => lines.push(line) : out,
  });
  if (values.json === true) {
    const { objects, ...rest } = totals;
    out(JSON.stringify({ ...rest, objects: objects.length, outDir: values.out }));
  }
  return totals.exitCode;
}

function rulesCommand(rest: string[], env: NodeJS.ProcessEnv, out: (line: string) => void, err: (line: string) => void): number {
  const strip = (text: string) => text.replace(/\n$/, '');
  return runRulesCli(rest, { env, stdout: (t) => out(strip(t)), stderr: (t) => err(strip(t)) });
}

function usageError(message: string, command = ''): never {
  throw new UserError(message, command);
}

/** parseArgs throws for unknown or malformed options: reported by main() as a one-line usage error. */
function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  return parseArgs(config);
}

/** `backfill` (src/entry/cli/backfill-command.ts); an AWS error it meets while listing or writing becomes one line. */
async function backfillCommand(args: string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  try {
    return await backfillCli(args, { out, err, isTty: process.stderr.isTTY === true, interrupts: interruptSignals() });
  } catch (error) {
    if (!isAwsError(error)) throw error;
    const at = args.indexOf('--source');
    const bucket = at === -1 ? undefined : parseS3Uri(args[at + 1] ?? '')?.bucket;
    const given = args.indexOf('--region') === -1 ? undefined : args[args.indexOf('--region') + 1];
    const region =
      given ?? (await regionOf(new (await import('@aws-sdk/client-s3')).S3Client({})).catch(() => undefined)) ?? 'the configured region';
    throw new UserError(
      describeAwsError(error, {
        operation: 'ListObjectsV2',
        resource: bucket !== undefined ? `bucket ${bucket}` : 'the source bucket',
        region,
      }),
    );
  }
}

async function replayCommand(args: string[], err: (line: string) => void): Promise<number> {
  const parsed = parseOptions({
    args,
    options: {
      'log-group': { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      'delivery-stream': { type: 'string' },
      'log-stream-prefix': { type: 'string' },
      region: { type: 'string' },
    },
  });
  const { values } = parsed;
  const logGroup = values['log-group'];
  const stream = values['delivery-stream'];
  if (logGroup === undefined || logGroup === '') return usageError('--log-group is required', 'replay');
  if (stream === undefined || !/^[a-zA-Z0-9_.-]{1,64}$/.test(stream))
    return usageError('--delivery-stream must be a delivery stream name (1–64 of a-z A-Z 0-9 _ . -)', 'replay');
  const start = parseTime(values.start);
  const end = parseTime(values.end);
  if (start === undefined || end === undefined)
    return usageError('--start and --end must be ISO 8601 times (e.g. 2026-11-01T00:00:00Z)', 'replay');
  if (start > end) return usageError('--start must not be after --end', 'replay');
  const [{ CloudWatchLogsClient }, { FirehoseClient }, { FirehoseSink }] = await Promise.all([
    import('@aws-sdk/client-cloudwatch-logs'),
    import('@aws-sdk/client-firehose'),
    import('../../8-deliver/sinks.ts'),
  ]);
  const region = values.region !== undefined ? { region: values.region } : {};
  // FilterLogEvents has a low per-account rate limit: let the SDK back off adaptively. Failed Firehose entries
  // are retried by reingest() itself, so the client's own retries stay small.
  const logs = new CloudWatchLogsClient({ ...region, retryMode: 'adaptive', maxAttempts: 8 });
  const firehose = new FirehoseClient({ ...region, maxAttempts: 2 });
  const regionName = await regionOf(logs);
  let lastProgress = 0;
  let sent = { eventsRead: 0, recordsSent: 0 };
  const totals = await replayLogGroup({
    logs,
    sink: new FirehoseSink(firehose, stream),
    logGroupName: logGroup,
    startTime: start,
    endTime: end,
    logStreamNamePrefix: values['log-stream-prefix'],
    progress: (t) => {
      sent = { eventsRead: t.eventsRead, recordsSent: t.recordsSent };
      const now = Date.now();
      if (now - lastProgress < 1000) return;
      lastProgress = now;
      process.stderr.write(
        `  … ${t.eventsRead.toLocaleString('en-US')} events read, ${t.recordsSent.toLocaleString('en-US')} records sent\n`,
      );
    },
  }).catch((error: unknown) => {
    if (error instanceof ReingestionError) return error;
    if (!isAwsError(error)) throw error;
    const name = (error as { name?: string }).name ?? '';
    const toFirehose =
      /Firehose|DeliveryStream/i.test(JSON.stringify((error as { $metadata?: unknown }).$metadata ?? {})) ||
      name === 'ServiceUnavailableException' ||
      name === 'InvalidArgumentException';
    throw new UserError(
      describeAwsError(
        error,
        toFirehose
          ? { operation: 'PutRecordBatch', resource: `delivery stream ${stream}`, region: regionName }
          : { operation: 'FilterLogEvents', resource: `log group ${logGroup}`, region: regionName },
      ),
    );
  });
  const n = (x: number) => x.toLocaleString('en-US');
  if (totals instanceof ReingestionError) {
    // Records not sent are data that failed (exit 1), not a usage error; what was sent stays sent.
    err(
      `cloudtrail-enricher: replay stopped: delivery stream ${stream} did not accept every record (${totals.message}); ` +
        `${n(sent.recordsSent)} records (${n(sent.eventsRead)} events read) were sent before and stay sent: check the stream's quotas and re-run a window that starts after them`,
    );
    return 1;
  }
  console.log('');
  console.log('cloudtrail-enricher replay: summary');
  console.log(`  log group              ${logGroup} from ${new Date(start).toISOString()} to ${new Date(end).toISOString()}`);
  console.log(`  events read            ${n(totals.eventsRead)} (${n(totals.pages)} FilterLogEvents pages)`);
  console.log(`  sent to ${stream}`);
  console.log(
    `                         ${n(totals.recordsSent)} gzip'd DATA_MESSAGE records, ${n(totals.bytesSent)} bytes, ${n(totals.putCalls)} PutRecordBatch calls (${n(totals.retried)} entries retried)`,
  );
  return 0;
}

/** ISO 8601 date or date-time; a time without a zone is refused (it would silently mean local time). */
function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/.test(v)) return undefined;
  const ms = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
  return Number.isNaN(ms) ? undefined : ms;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli/main.ts')) {
  const { runFromProcess } = await import('./process.ts');
  await runFromProcess(main);
}
