import { randomUUID } from 'node:crypto';
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord, FirehoseTransformationResult } from 'aws-lambda';
import { FIREHOSE_BATCH_MAX_BYTES, FIREHOSE_BATCH_MAX_RECORDS } from '../../8-deliver/limits.ts';
import type { RecordSink, ReingestRecord } from '../../8-deliver/reingest.ts';
import type { TransformHandler } from '../../pipeline/handler.ts';

/** A record Firehose delivered to S3 (Ok) or to the error prefix (ProcessingFailed). */
export interface Delivery {
  /** `metadata.partitionKeys` as returned (named by the layout: account/region/dt, or Security Lake's). */
  readonly keys?: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface FailedDelivery {
  readonly recordId: string;
  readonly rawData: string;
  readonly arrivalTimestamp: number;
}

export interface LocalFirehoseOptions {
  readonly handler: TransformHandler;
  /** Firehose Lambda processor buffer: incoming bytes per invocation (0.2–3 MB; default 1 MB). */
  readonly bufferBytes?: number;
  readonly deliveryStreamArn?: string;
  readonly remainingMs?: number;
  /** Safety stop for the feedback loop (a bug that re-ingests forever must not hang a run). */
  readonly maxInvocations?: number;
  readonly now?: () => number;
  readonly onInvocation?: (info: { invocation: number; records: number; pending: number }) => void;
}

/**
 * An in-process stand-in for a direct-put Firehose delivery stream with a Lambda processor: it buffers
 * incoming records up to the Lambda buffer size, invokes the handler, checks the response as Firehose
 * does, delivers Ok records, keeps ProcessingFailed ones for the error prefix, and feeds records the
 * handler re-ingested (PutRecordBatch) back into its buffer.
 */
export class LocalFirehose {
  readonly deliveries: Delivery[] = [];
  readonly failed: FailedDelivery[] = [];
  invocations = 0;
  reingestedRecords = 0;
  private readonly queue: FirehoseTransformationEventRecord[] = [];
  private readonly bufferBytes: number;
  private readonly arn: string;
  private sequence = 0;

  constructor(private readonly options: LocalFirehoseOptions) {
    this.bufferBytes = options.bufferBytes ?? 1024 * 1024;
    this.arn = options.deliveryStreamArn ?? 'arn:aws:firehose:us-east-1:111122223333:deliverystream/cloudtrail-enricher-local';
  }

  /** The sink the handler re-ingests into (PutRecordBatch semantics: ≤ 500 records, ≤ 4 MiB per call). */
  readonly sink: RecordSink = {
    maxBatchRecords: FIREHOSE_BATCH_MAX_RECORDS,
    maxBatchBytes: FIREHOSE_BATCH_MAX_BYTES,
    sizeOf: (record: ReingestRecord) => record.data.length,
    putBatch: async (records: readonly ReingestRecord[]) => {
      for (const record of records) {
        this.reingestedRecords++;
        this.put(record.data);
      }
      return { failed: [] };
    },
  };

  put(data: Buffer | string): void {
    this.sequence++;
    this.queue.push({
      recordId: `${String(this.sequence).padStart(20, '0')}000000000000000000000000000000000000`,
      approximateArrivalTimestamp: (this.options.now ?? Date.now)(),
      data: typeof data === 'string' ? data : data.toString('base64'),
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Invokes the handler until nothing is buffered (re-ingested records included). */
  async drain(): Promise<void> {
    const maxInvocations = this.options.maxInvocations ?? 1_000_000;
    while (this.queue.length > 0) {
      if (this.invocations >= maxInvocations)
        throw new Error(`local Firehose stopped after ${maxInvocations} invocations: re-ingestion does not terminate`);
      const batch = this.takeBuffer();
      const event: FirehoseTransformationEvent = {
        invocationId: randomUUID(),
        deliveryStreamArn: this.arn,
        region: 'us-east-1',
        records: batch,
      };
      this.invocations++;
      const response = await this.options.handler(event, { getRemainingTimeInMillis: () => this.options.remainingMs ?? 300_000 });
      this.accept(batch, response);
      this.options.onInvocation?.({ invocation: this.invocations, records: batch.length, pending: this.queue.length });
    }
  }

  private takeBuffer(): FirehoseTransformationEventRecord[] {
    const batch: FirehoseTransformationEventRecord[] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const size = (this.queue[0]!.data.length * 3) / 4;
      if (batch.length > 0 && bytes + size > this.bufferBytes) break;
      batch.push(this.queue.shift()!);
      bytes += size;
    }
    return batch;
  }

  /** Firehose rejects a response that misses a recordId, repeats one, or adds an unknown one. */
  private accept(batch: readonly FirehoseTransformationEventRecord[], response: FirehoseTransformationResult): void {
    const byId = new Map(batch.map((r) => [r.recordId, r]));
    const seen = new Set<string>();
    for (const out of response.records) {
      const input = byId.get(out.recordId);
      if (input === undefined || seen.has(out.recordId))
        throw new Error(`invalid Lambda response: unexpected or repeated recordId ${out.recordId}`);
      seen.add(out.recordId);
      if (out.result === 'Ok') {
        const keys = out.metadata?.partitionKeys;
        this.deliveries.push({ keys, body: Buffer.from(out.data ?? '', 'base64') });
      } else if (out.result === 'ProcessingFailed') {
        this.failed.push({ recordId: out.recordId, rawData: input.data, arrivalTimestamp: input.approximateArrivalTimestamp });
      }
    }
    if (seen.size !== batch.length) throw new Error(`invalid Lambda response: ${batch.length - seen.size} recordIds missing`);
  }
}
