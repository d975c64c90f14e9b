import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.ts';
import { createTransformHandler } from '../pipeline/handler.ts';
import { buildStages } from '../pipeline/stages.ts';
import { runLocal } from './run.ts';
import { ConfigError } from '../errors.ts';

const USAGE = `usage: cloudtrail-enricher <command> [options]

commands:
  run [paths…]   enrich CloudTrail files (.json.gz with Records, .json, .ndjson; directories are walked)
                 through a local Firehose and the real handler; writes the S3 layout to --out
    --out DIR          output directory (default: out)
    --buffer-mb N      Firehose Lambda buffer size in MB, 0.2–3 (default: 1)

Configuration comes from the environment (see README: OUTPUT_MODE, providers, RULES_FILE, …).`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'run') {
    console.error(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { out: { type: 'string', default: 'out' }, 'buffer-mb': { type: 'string', default: '1' } },
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
    makeHandler: (sink, onSummary) =>
      createTransformHandler({
        config: config.core,
        intel: stages.intel,
        rules: stages.rules,
        firehose: () => {
          throw new Error('the local run re-ingests in process');
        },
        kinesis: () => {
          throw new Error('the local run re-ingests in process');
        },
        sinkFor: () => sink,
        onSummary,
      }),
  });
  return 0;
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
