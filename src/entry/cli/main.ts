import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../../config/index.ts';
import { buildStages } from '../../pipeline/stages.ts';
import { localHandler, runLocal } from './run.ts';
import { ConfigError } from '../../errors.ts';
import { checkPrefix, parseObjectLimits } from '../backfill/config.ts';
import { parseS3Uri } from '../backfill/keys.ts';
import { runBackfill } from '../backfill/run.ts';
import { replayLogGroup } from '../replay/index.ts';
import { OPENSEARCH_SETUP_USAGE, opensearchSetupCommand } from './opensearch-setup.ts';

const USAGE = `usage: cloudtrail-enricher <command> [options]

commands:
  run [paths…]   enrich CloudTrail files (.json.gz with Records, .json, .ndjson; directories are walked)
                 through a local Firehose and the real handler; writes the S3 layout to --out
    --out DIR          output directory (default: out)
    --buffer-mb N      Firehose Lambda buffer size in MB, 0.2–3 (default: 0.25, as deployed)

  backfill       enrich CloudTrail objects in S3 into the Firehose layout of another prefix (S3 → S3);
                 re-running overwrites earlier output (deterministic keys), digests are skipped
    --source s3://BUCKET/PREFIX   where the trail's objects are (e.g. s3://trail-bucket/AWSLogs/111122223333/)
    --dest s3://BUCKET/PREFIX     where partitions are written (e.g. s3://output-bucket/enriched/)
    --concurrency N               objects enriched at once, 1–64 (default: 4)
    --region R                    AWS region of the buckets (default: the SDK's, e.g. AWS_REGION)

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

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'backfill') return backfillCommand(rest);
  if (command === 'replay') return replayCommand(rest);
  if (command === 'opensearch-setup') return opensearchSetupCommand(rest);
  if (command !== 'run') {
    console.error(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { out: { type: 'string', default: 'out' }, 'buffer-mb': { type: 'string', default: '0.25' } },
  });
  const bufferMb = Number(values['buffer-mb']);
  if (!Number.isFinite(bufferMb) || bufferMb < 0.2 || bufferMb > 3) {
    console.error('--buffer-mb must be a number from 0.2 to 3 (Firehose Lambda buffer limits)');
    return 2;
  }
  const config = loadConfig(process.env);
  const stages = buildStages(config);
  await runLocal({
    inputs: positionals.length > 0 ? positionals : ['sample'],
    outDir: values.out!,
    bufferBytes: Math.round(bufferMb * 1024 * 1024),
    makeHandler: localHandler(config.core, stages),
  });
  return 0;
}

function usageError(message: string): number {
  console.error(`${message}\n\n${USAGE}`);
  return 2;
}

/** parseArgs throws for unknown or malformed options: a usage error, not a crash. */
function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> | undefined {
  try {
    return parseArgs(config);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return undefined;
  }
}

async function backfillCommand(args: string[]): Promise<number> {
  const parsed = parseOptions({
    args,
    options: { source: { type: 'string' }, dest: { type: 'string' }, concurrency: { type: 'string', default: '4' }, region: { type: 'string' } },
  });
  if (parsed === undefined) return 2;
  const { values } = parsed;
  const source = parseS3Uri(values.source ?? '');
  const dest = parseS3Uri(values.dest ?? '');
  if (source === undefined) return usageError('--source must be s3://BUCKET[/PREFIX]');
  if (dest === undefined) return usageError('--dest must be s3://BUCKET[/PREFIX]');
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) return usageError('--concurrency must be an integer from 1 to 64');
  const destPrefix = dest.prefix === '' || dest.prefix.endsWith('/') ? dest.prefix : `${dest.prefix}/`;
  try {
    checkPrefix(destPrefix, '--dest prefix');
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (source.bucket === dest.bucket && (destPrefix === '' || source.prefix.startsWith(destPrefix))) {
    return usageError('--source must not lie inside --dest (the backfill would read its own output)');
  }
  const config = loadConfig(process.env);
  const limits = parseObjectLimits(process.env);
  const stages = buildStages(config);
  const { S3Client } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client(values.region !== undefined ? { region: values.region } : {});
  const totals = await runBackfill({
    s3,
    source,
    destination: { bucket: dest.bucket, prefix: destPrefix },
    enrich: { config: config.core, intel: await stages.intel, rules: stages.rules },
    limits,
    concurrency,
  });
  return totals.failed === 0 ? 0 : 1;
}

async function replayCommand(args: string[]): Promise<number> {
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
  if (parsed === undefined) return 2;
  const { values } = parsed;
  const logGroup = values['log-group'];
  const stream = values['delivery-stream'];
  if (logGroup === undefined || logGroup === '') return usageError('--log-group is required');
  if (stream === undefined || !/^[a-zA-Z0-9_.-]{1,64}$/.test(stream)) return usageError('--delivery-stream must be a delivery stream name (1–64 of a-z A-Z 0-9 _ . -)');
  const start = parseTime(values.start);
  const end = parseTime(values.end);
  if (start === undefined || end === undefined) return usageError('--start and --end must be ISO 8601 times (e.g. 2026-11-01T00:00:00Z)');
  if (start > end) return usageError('--start must not be after --end');
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
  let lastProgress = 0;
  const totals = await replayLogGroup({
    logs,
    sink: new FirehoseSink(firehose, stream),
    logGroupName: logGroup,
    startTime: start,
    endTime: end,
    logStreamNamePrefix: values['log-stream-prefix'],
    progress: (t) => {
      const now = Date.now();
      if (now - lastProgress < 1000) return;
      lastProgress = now;
      process.stderr.write(`  … ${t.eventsRead.toLocaleString('en-US')} events read, ${t.recordsSent.toLocaleString('en-US')} records sent\n`);
    },
  });
  const n = (x: number) => x.toLocaleString('en-US');
  console.log('');
  console.log('cloudtrail-enricher replay: summary');
  console.log(`  log group              ${logGroup} from ${new Date(start).toISOString()} to ${new Date(end).toISOString()}`);
  console.log(`  events read            ${n(totals.eventsRead)} (${n(totals.pages)} FilterLogEvents pages)`);
  console.log(`  sent to ${stream}`);
  console.log(`                         ${n(totals.recordsSent)} gzip'd DATA_MESSAGE records, ${n(totals.bytesSent)} bytes, ${n(totals.putCalls)} PutRecordBatch calls (${n(totals.retried)} entries retried)`);
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
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err);
      process.exit(1);
    },
  );
}
