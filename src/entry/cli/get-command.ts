import { open, readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../codec/cloudtrail-keys.ts';
import { DEFAULT_OBJECT_LIMITS, parseObjectLimits, readBounded, type ObjectLimits } from '../../codec/s3-object.ts';
import { classifyFailure } from '../backfill/s3-errors.ts';
import { loadConfig } from '../../config/index.ts';
import { parseEventText } from '../../1-decode/event-text.ts';
import { joinLines } from '../../8-deliver/plan.ts';
import { emptyEnrichCounters, enrichEventGroups, type EnrichDeps } from '../../pipeline/enrich.ts';
import { buildStages } from '../../pipeline/stages.ts';
import { eventTextsOf } from './inputs.ts';

const gunzipAsync = promisify(gunzip);

export const GET_USAGE = `usage: cloudtrail-enricher get s3://BUCKET/KEY [--out FILE] [--region R]
       cloudtrail-enricher get FILE [--out FILE]

Enriches one CloudTrail object at read time and prints NDJSON: the same lines \`run\` writes for it. The input is gzip
or plain, a CloudTrail log file ({"Records": […]}) or NDJSON; the original is not touched. This is the on-read path
for accounts without S3 Object Lambda (closed to new customers since November 2025).

  --out FILE    write to FILE instead of stdout (refused if FILE exists, unless --force)
  --force       replace an existing --out FILE
  --region R    AWS region of the bucket (default: the SDK's)

exit codes: 0 done · 1 the object could not be read or is not CloudTrail · 2 usage or configuration error`;

export interface GetIo {
  readonly out: (chunk: Buffer | string) => void;
  readonly err: (line: string) => void;
  readonly s3?: (region: string | undefined) => S3Client | Promise<S3Client>;
}

const defaultIo: GetIo = { out: (chunk) => process.stdout.write(chunk), err: (line) => process.stderr.write(line + '\n') };

type Read = { ok: true; bytes: Buffer; arrival: number } | { ok: false; message: string };

/**
 * The NDJSON lines of one CloudTrail object, enriched by the same core as every other entry point. Events keep their
 * order; partition keys are not needed (one output stream), so lines from every partition are written together.
 */
export async function enrichObjectBytes(
  bytes: Buffer,
  arrival: number,
  deps: EnrichDeps,
  limits: ObjectLimits = DEFAULT_OBJECT_LIMITS,
): Promise<{ ok: true; body: Buffer; events: number } | { ok: false; message: string }> {
  let plain = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      plain = await gunzipAsync(bytes, { maxOutputLength: limits.maxDecompressedBytes });
    } catch (err) {
      const code = (err as { code?: string }).code;
      return {
        ok: false,
        message:
          code === 'ERR_BUFFER_TOO_LARGE'
            ? `decompresses to more than ${limits.maxDecompressedBytes} bytes`
            : 'not valid gzip (truncated or corrupt)',
      };
    }
  }
  const start = plain.length >= 3 && plain[0] === 0xef && plain[1] === 0xbb && plain[2] === 0xbf ? 3 : 0;
  const texts = eventTextsOf(plain.toString('utf8', start));
  if (texts.length === 0) return { ok: false, message: 'holds no events (empty)' };
  const events = texts.map((text) => parseEventText(text));
  const [lines] = await enrichEventGroups([{ events, arrival }], deps, Date.now() + 60_000, emptyEnrichCounters());
  return { ok: true, body: joinLines(lines ?? [], 's3'), events: events.length };
}

export async function getCommand(args: readonly string[], io: GetIo = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.err(`get: ${(err as Error).message} (see cloudtrail-enricher get --help)`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(GET_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) {
    io.err(`get: give exactly one s3://BUCKET/KEY or FILE (see cloudtrail-enricher get --help)`);
    return 2;
  }
  const target = positionals[0]!;
  if (values.out !== undefined && !values.force) {
    const exists = await stat(values.out).then(
      () => true,
      () => false,
    );
    if (exists) {
      io.err(`get: ${values.out} exists; choose another --out or add --force to replace it`);
      return 2;
    }
  }
  const limits = parseObjectLimits(process.env);
  let read: Read;
  if (target.startsWith('s3://')) {
    const uri = parseS3Uri(target);
    if (uri === undefined || uri.prefix === '' || uri.prefix.endsWith('/')) {
      io.err(`get: ${target} is not s3://BUCKET/KEY of one object`);
      return 2;
    }
    const s3 =
      io.s3 !== undefined
        ? await io.s3(values.region)
        : new (await import('@aws-sdk/client-s3')).S3Client(values.region !== undefined ? { region: values.region } : {});
    read = await readS3(s3, uri.bucket, uri.prefix, limits, values.region ?? (await s3.config.region()));
  } else {
    read = await readLocal(target, limits);
  }
  if (!read.ok) {
    io.err(`get: ${target}: ${read.message}`);
    return 1;
  }
  const config = loadConfig(process.env);
  const stages = buildStages(config);
  const result = await enrichObjectBytes(
    read.bytes,
    read.arrival,
    { config: config.core, intel: await stages.intel, rules: stages.rules },
    limits,
  );
  if (!result.ok) {
    io.err(`get: ${target}: ${result.message}`);
    return 1;
  }
  if (values.out !== undefined) {
    const file = await open(values.out, values.force ? 'w' : 'wx');
    try {
      await file.writeFile(result.body);
    } finally {
      await file.close();
    }
    io.err(`get: ${result.events.toLocaleString('en-US')} events → ${values.out}`);
  } else {
    io.out(result.body);
  }
  return 0;
}

async function readLocal(path: string, limits: ObjectLimits): Promise<Read> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return { ok: false, message: 'not a file (get reads one object; use `run` for directories)' };
    if (info.size > limits.maxObjectBytes)
      return { ok: false, message: `larger than the limit of ${limits.maxObjectBytes} bytes (CLOUDTRAIL_OBJECT_MAX_BYTES)` };
    return { ok: true, bytes: await readFile(path), arrival: info.mtimeMs };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return {
      ok: false,
      message: code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot be read (${code ?? 'error'})`,
    };
  }
}

async function readS3(s3: S3Client, bucket: string, key: string, limits: ObjectLimits, region: string): Promise<Read> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const read = await readBounded(out.Body as AsyncIterable<Uint8Array> | undefined, limits.maxObjectBytes, out.ContentLength);
    if (!read.ok) return { ok: false, message: read.message };
    return { ok: true, bytes: read.bytes, arrival: out.LastModified?.getTime() ?? Date.now() };
  } catch (err) {
    const { code } = classifyFailure(err);
    const why =
      code === 'NoSuchBucket'
        ? `bucket ${bucket} does not exist in ${region}`
        : code === 'NoSuchKey' || code === 'NotFound'
          ? `no such object in bucket ${bucket} (${region})`
          : code === 'AccessDenied'
            ? `GetObject on ${bucket} in ${region} was denied (role policy, bucket policy or KMS key)`
            : `GetObject on ${bucket} in ${region} failed (${code})`;
    return { ok: false, message: why };
  }
}
