import type { RecordSink, ReingestRecord } from '../../src/8-deliver/reingest.ts';
import { FIREHOSE_BATCH_MAX_BYTES, FIREHOSE_BATCH_MAX_RECORDS } from '../../src/8-deliver/limits.ts';

/**
 * An in-process stand-in for the delivery stream: keeps every record put into it, and can fail entries
 * the way PutRecordBatch does (per-entry error codes) according to a policy.
 */
export class MemorySink implements RecordSink {
  readonly maxBatchRecords = FIREHOSE_BATCH_MAX_RECORDS;
  readonly maxBatchBytes = FIREHOSE_BATCH_MAX_BYTES;
  readonly received: ReingestRecord[] = [];
  calls = 0;

  constructor(private readonly failEntry: (call: number, index: number) => string | undefined = () => undefined) {}

  sizeOf(record: ReingestRecord): number {
    return record.data.length;
  }

  async putBatch(records: readonly ReingestRecord[]): Promise<{ failed: { index: number; errorCode: string }[] }> {
    this.calls++;
    if (records.length > this.maxBatchRecords) throw new Error('batch has more than 500 records');
    const bytes = records.reduce((n, r) => n + r.data.length, 0);
    if (bytes > this.maxBatchBytes) throw new Error('batch larger than 4 MiB');
    const failed: { index: number; errorCode: string }[] = [];
    records.forEach((record, index) => {
      const code = this.failEntry(this.calls, index);
      if (code === undefined) this.received.push(record);
      else failed.push({ index, errorCode: code });
    });
    return { failed };
  }

  /** Takes everything received so far (as Firehose would deliver it to a later invocation). */
  drain(): ReingestRecord[] {
    return this.received.splice(0, this.received.length);
  }
}
