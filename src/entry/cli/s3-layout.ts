import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { partitionPathOf } from '../../7-encode/layouts/partition.ts';
import type { Delivery, FailedDelivery } from './local-firehose.ts';

/**
 * Writes deliveries the way the Firehose S3 destination lays them out (see resources/ and the README):
 *   <out>/enriched/account=<a>/region=<r>/dt=<d>/<stream>-1-<yyyy-MM-dd-HH-mm-ss>-<random>.json
 *   (OUTPUT_FORMAT=ocsf: <out>/ext/cte-<class>/region=<r>/accountId=<a>/eventDay=<YYYYMMDD>/…, Security Lake's layout)
 *   <out>/errors/processing-failed/<yyyy>/<MM>/<dd>/<HH>/<stream>-1-<…>   (Firehose's error record JSON lines)
 * With dynamic partitioning Firehose writes one object per partition per buffer flush; here one per partition.
 */
export interface LayoutOptions {
  readonly outDir: string;
  readonly prefix?: string;
  readonly errorPrefix?: string;
  readonly streamName?: string;
  readonly now?: Date;
  /** Why a record was returned ProcessingFailed (from the invocation summary), written into its error record. */
  readonly reasonOf?: (recordId: string) => string | undefined;
}

export interface LayoutResult {
  readonly objects: string[];
  readonly partitions: number;
}

export async function writeS3Layout(
  deliveries: readonly Delivery[],
  failed: readonly FailedDelivery[],
  options: LayoutOptions,
): Promise<LayoutResult> {
  const now = options.now ?? new Date();
  const stamp = now.toISOString().slice(0, 19).replace(/[T:]/g, '-');
  const stream = options.streamName ?? 'cloudtrail-enricher-local';
  const prefix = options.prefix ?? 'enriched/';
  const objects: string[] = [];

  const byPartition = new Map<string, Buffer[]>();
  for (const delivery of deliveries) {
    const k = delivery.keys;
    const dir = k === undefined ? prefix : `${prefix}${partitionPathOf(k)}`;
    const parts = byPartition.get(dir);
    if (parts === undefined) byPartition.set(dir, [delivery.body]);
    else parts.push(delivery.body);
  }
  for (const [dir, parts] of byPartition) {
    const key = `${dir}${stream}-1-${stamp}-${randomBytes(4).toString('hex')}.json`;
    await writeObject(options.outDir, key, Buffer.concat(parts));
    objects.push(key);
  }

  if (failed.length > 0) {
    const hour = now.toISOString().slice(0, 13).replace(/[-T]/g, '/');
    const key = `${options.errorPrefix ?? 'errors/'}processing-failed/${hour}/${stream}-1-${stamp}-${randomBytes(4).toString('hex')}`;
    const lines = failed.map((f) =>
      JSON.stringify({
        attemptsMade: 1,
        arrivalTimestamp: f.arrivalTimestamp,
        errorCode: 'Lambda.ProcessingFailed',
        errorMessage: `cloudtrail-enricher returned the record as ProcessingFailed: ${options.reasonOf?.(f.recordId) ?? 'the data could not be decoded'}.`,
        attemptEndingTimestamp: now.getTime(),
        rawData: f.rawData,
        lambdaArn: 'arn:aws:lambda:us-east-1:111122223333:function:cloudtrail-enricher-local-transform',
      }),
    );
    await writeObject(options.outDir, key, Buffer.from(lines.join('\n') + '\n'));
    objects.push(key);
  }
  return { objects, partitions: byPartition.size };
}

async function writeObject(outDir: string, key: string, body: Buffer): Promise<void> {
  const path = join(outDir, ...key.split('/'));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, body);
}
