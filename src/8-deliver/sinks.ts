import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { FIREHOSE_BATCH_MAX_BYTES, FIREHOSE_BATCH_MAX_RECORDS, KINESIS_BATCH_MAX_BYTES, KINESIS_BATCH_MAX_RECORDS } from './limits.ts';
import type { RecordSink, ReingestRecord } from './reingest.ts';

/**
 * SDK client settings for re-ingestion: our loop (`reingest`) is the one retry layer that resends entries, so the
 * SDK must not retry these calls behind its back (a reset after acceptance would otherwise be resent twice).
 */
export const REINGEST_CLIENT_CONFIG = { maxAttempts: 1 } as const;

/** Direct-put delivery streams: records go back into the same stream with PutRecordBatch. */
export class FirehoseSink implements RecordSink {
  readonly maxBatchRecords = FIREHOSE_BATCH_MAX_RECORDS;
  readonly maxBatchBytes = FIREHOSE_BATCH_MAX_BYTES;

  constructor(
    private readonly client: FirehoseClient | (() => FirehoseClient | Promise<FirehoseClient>),
    private readonly deliveryStreamName: string,
  ) {}

  sizeOf(record: ReingestRecord): number {
    return record.data.length;
  }

  async putBatch(records: readonly ReingestRecord[], signal?: AbortSignal): Promise<{ failed: { index: number; errorCode: string }[] }> {
    const client = typeof this.client === 'function' ? await this.client() : this.client;
    const { PutRecordBatchCommand } = await import('@aws-sdk/client-firehose');
    const out = await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: this.deliveryStreamName, Records: records.map((r) => ({ Data: r.data })) }),
      { abortSignal: signal },
    );
    const failed: { index: number; errorCode: string }[] = [];
    if ((out.FailedPutCount ?? 0) > 0) {
      (out.RequestResponses ?? []).forEach((entry, index) => {
        if (entry.ErrorCode !== undefined) failed.push({ index, errorCode: entry.ErrorCode });
      });
    }
    return { failed };
  }
}

/** Delivery streams sourced from a Kinesis data stream: records go back into that stream with PutRecords. */
export class KinesisSink implements RecordSink {
  readonly maxBatchRecords = KINESIS_BATCH_MAX_RECORDS;
  readonly maxBatchBytes = KINESIS_BATCH_MAX_BYTES;

  constructor(
    private readonly client: KinesisClient | (() => KinesisClient | Promise<KinesisClient>),
    private readonly streamArn: string,
  ) {}

  sizeOf(record: ReingestRecord): number {
    // The 5 MiB PutRecords limit counts data blobs and partition keys.
    return record.data.length + Buffer.byteLength(record.partitionKey ?? '', 'utf8');
  }

  async putBatch(records: readonly ReingestRecord[], signal?: AbortSignal): Promise<{ failed: { index: number; errorCode: string }[] }> {
    const client = typeof this.client === 'function' ? await this.client() : this.client;
    const { PutRecordsCommand } = await import('@aws-sdk/client-kinesis');
    const out = await client.send(
      new PutRecordsCommand({
        StreamARN: this.streamArn,
        Records: records.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey ?? r.origin.slice(0, 256) })),
      }),
      { abortSignal: signal },
    );
    const failed: { index: number; errorCode: string }[] = [];
    if ((out.FailedRecordCount ?? 0) > 0) {
      (out.Records ?? []).forEach((entry, index) => {
        if (entry.ErrorCode !== undefined) failed.push({ index, errorCode: entry.ErrorCode });
      });
    }
    return { failed };
  }
}

/** `arn:aws:firehose:us-east-1:123456789012:deliverystream/name` → `name`. */
export function deliveryStreamNameFromArn(arn: string): string {
  const slash = arn.lastIndexOf('/');
  return slash >= 0 ? arn.slice(slash + 1) : arn;
}
