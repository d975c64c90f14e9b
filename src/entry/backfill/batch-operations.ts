import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { CreateJobCommandInput } from '@aws-sdk/client-s3-control';
import { BACKFILL_STATE_FOLDER, Checkpoint } from './checkpoint.ts';
import type { BackfillDestination } from './config.ts';
import type { S3Sender } from './core.ts';
import { dayObjects, dayPrefixes, emptyListingStats, type BackfillSelection } from './select.ts';

/** The manifest format S3 Batch Operations reads: `bucket,key` per line, keys URL-encoded. */
export const MANIFEST_FORMAT = 'S3BatchOperations_CSV_20180820';

export interface ManifestOptions {
  readonly s3: S3Sender;
  readonly source: { readonly bucket: string; readonly prefix: string };
  readonly destination: BackfillDestination;
  readonly selection?: BackfillSelection;
  /** Include objects the checkpoint says are finished (default: leave them out). */
  readonly restart?: boolean;
  readonly now?: () => number;
}

export interface WrittenManifest {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly objects: number;
  readonly bytes: number;
  readonly listCalls: number;
}

/** One manifest line: the bucket, and the key URL-encoded as S3 Batch Operations requires (`/` kept). */
export function manifestLine(bucket: string, key: string): string {
  return `${bucket},${encodeURIComponent(key).replace(/%2F/g, '/')}`;
}

/**
 * Writes the CSV manifest of the selected objects (the same selection and checkpoint as a local run) to
 * `<dest prefix>_backfill/manifests/<time>.csv` and returns its location and ETag, as CreateJob needs them.
 */
export async function writeManifest(options: ManifestOptions): Promise<WrittenManifest> {
  const stats = emptyListingStats();
  const checkpoint = await Checkpoint.open(options.s3, options.destination, options.source.bucket, { restart: options.restart });
  const lines: string[] = [];
  let bytes = 0;
  for await (const day of dayPrefixes(options.s3, options.source.bucket, options.source.prefix, options.selection ?? {}, stats)) {
    for await (const object of dayObjects(options.s3, options.source.bucket, day, stats, options.destination)) {
      if (checkpoint.status(object.key, object.etag) === 'done') continue;
      lines.push(manifestLine(object.bucket, object.key));
      bytes += object.size;
    }
  }
  const stamp = new Date((options.now ?? Date.now)()).toISOString().replace(/[-:.]/g, '');
  const key = `${options.destination.prefix}${BACKFILL_STATE_FOLDER}manifests/${stamp}.csv`;
  const put = await options.s3.send(
    new PutObjectCommand({
      Bucket: options.destination.bucket,
      Key: key,
      Body: lines.length === 0 ? '' : lines.join('\n') + '\n',
      ContentType: 'text/csv',
    }),
  );
  return {
    bucket: options.destination.bucket,
    key,
    etag: (put.ETag ?? '').replace(/"/g, ''),
    objects: lines.length,
    bytes,
    listCalls: stats.listCalls,
  };
}

export interface JobOptions {
  readonly manifest: WrittenManifest;
  readonly destination: BackfillDestination;
  /** The role S3 Batch Operations assumes (it must be allowed to invoke the function and read the manifest). */
  readonly roleArn: string;
  /** A function name or ARN; a name is resolved in `region` and the role's account. */
  readonly functionName: string;
  readonly region: string;
  readonly priority?: number;
  readonly clientRequestToken?: string;
}

/** The account of an IAM role ARN (`arn:aws:iam::123456789012:role/name`), which is the account the job runs in. */
export function accountOfRole(roleArn: string): string | undefined {
  return /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/.exec(roleArn)?.[1];
}

export function functionArnFor(functionName: string, region: string, account: string): string {
  if (functionName.startsWith('arn:')) return functionName;
  return `arn:aws:lambda:${region}:${account}:function:${functionName}`;
}

/**
 * The S3 Control CreateJob request: invoke the deployed backfill function once per manifest line (invocation schema
 * 2.0, which the backfill handler answers), with a completion report of every task into `_backfill/reports/` of the
 * destination. The job starts without confirmation; its id comes back from CreateJob.
 */
export function createJobInput(options: JobOptions): CreateJobCommandInput {
  const account = accountOfRole(options.roleArn);
  if (account === undefined) throw new Error(`not an IAM role ARN: ${options.roleArn}`);
  return {
    AccountId: account,
    ConfirmationRequired: false,
    Operation: {
      LambdaInvoke: { FunctionArn: functionArnFor(options.functionName, options.region, account), InvocationSchemaVersion: '2.0' },
    },
    Manifest: {
      Spec: { Format: MANIFEST_FORMAT, Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: `arn:aws:s3:::${options.manifest.bucket}/${options.manifest.key}`, ETag: options.manifest.etag },
    },
    Report: {
      Bucket: `arn:aws:s3:::${options.destination.bucket}`,
      Prefix: `${options.destination.prefix}${BACKFILL_STATE_FOLDER}reports`,
      Format: 'Report_CSV_20180820',
      Enabled: true,
      ReportScope: 'AllTasks',
    },
    Priority: options.priority ?? 10,
    RoleArn: options.roleArn,
    ClientRequestToken: options.clientRequestToken ?? randomUUID(),
    Description: `cloudtrail-enricher backfill of ${options.manifest.objects} objects`,
  };
}
