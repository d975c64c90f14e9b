import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { deliveryStreamNameFromArn, FirehoseSink, KinesisSink } from '../../../src/8-deliver/sinks.ts';
import type { ReingestRecord } from '../../../src/8-deliver/reingest.ts';
import {
  FIREHOSE_BATCH_MAX_BYTES,
  FIREHOSE_BATCH_MAX_RECORDS,
  KINESIS_BATCH_MAX_BYTES,
  KINESIS_BATCH_MAX_RECORDS,
} from '../../../src/8-deliver/limits.ts';
import { DELIVERY_STREAM_ARN } from '../../helpers/factories.ts';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:111122223333:stream/cloudtrail-source';

function record(text: string, extra: Partial<ReingestRecord> = {}): ReingestRecord {
  return { data: Buffer.from(text), origin: `origin-${text}`, lines: 1, ...extra };
}

const clientOptions = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } };

describe('FirehoseSink', () => {
  const firehose = mockClient(FirehoseClient);
  afterEach(() => firehose.reset());
  after(() => firehose.restore());

  it('sends PutRecordBatch to the delivery stream with the records’ data', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: '1' }, { RecordId: '2' }] });
    const sink = new FirehoseSink(new FirehoseClient(clientOptions), 'my-stream');
    const result = await sink.putBatch([record('a'), record('b')]);
    expect(result).to.deep.equal({ failed: [] });
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls).to.have.length(1);
    const input = calls[0]!.args[0].input;
    expect(input.DeliveryStreamName).to.equal('my-stream');
    expect(input.Records!.map((r) => Buffer.from(r.Data!).toString())).to.deep.equal(['a', 'b']);
  });

  it('maps per-entry error codes to failed indices', async () => {
    firehose.on(PutRecordBatchCommand).resolves({
      FailedPutCount: 2,
      RequestResponses: [
        { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
        { RecordId: 'ok' },
        { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
      ],
    });
    const sink = new FirehoseSink(new FirehoseClient(clientOptions), 'my-stream');
    expect(await sink.putBatch([record('a'), record('b'), record('c')])).to.deep.equal({
      failed: [
        { index: 0, errorCode: 'ServiceUnavailableException' },
        { index: 2, errorCode: 'InternalFailure' },
      ],
    });
  });

  it('lets a failed call reject, for the retry loop to handle', async () => {
    firehose.on(PutRecordBatchCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    const sink = new FirehoseSink(new FirehoseClient(clientOptions), 'my-stream');
    let error: unknown;
    try {
      await sink.putBatch([record('a')]);
    } catch (err) {
      error = err;
    }
    expect((error as Error).name).to.equal('ThrottlingException');
  });

  it('declares the PutRecordBatch limits and counts data bytes', () => {
    const sink = new FirehoseSink(new FirehoseClient(clientOptions), 'my-stream');
    expect(sink.maxBatchRecords).to.equal(FIREHOSE_BATCH_MAX_RECORDS).and.equal(500);
    expect(sink.maxBatchBytes)
      .to.equal(FIREHOSE_BATCH_MAX_BYTES)
      .and.equal(4 * 1024 * 1024);
    expect(sink.sizeOf(record('abcd'))).to.equal(4);
  });
});

describe('KinesisSink', () => {
  const kinesis = mockClient(KinesisClient);
  afterEach(() => kinesis.reset());
  after(() => kinesis.restore());

  it('sends PutRecords to the stream ARN with each record’s partition key', async () => {
    kinesis.on(PutRecordsCommand).resolves({
      FailedRecordCount: 0,
      Records: [
        { SequenceNumber: '1', ShardId: 's' },
        { SequenceNumber: '2', ShardId: 's' },
      ],
    });
    const sink = new KinesisSink(new KinesisClient(clientOptions), STREAM_ARN);
    const result = await sink.putBatch([record('a', { partitionKey: 'pk-1' }), record('b', { partitionKey: 'pk-2' })]);
    expect(result).to.deep.equal({ failed: [] });
    const input = kinesis.commandCalls(PutRecordsCommand)[0]!.args[0].input;
    expect(input.StreamARN).to.equal(STREAM_ARN);
    expect(input.Records!.map((r) => [Buffer.from(r.Data!).toString(), r.PartitionKey])).to.deep.equal([
      ['a', 'pk-1'],
      ['b', 'pk-2'],
    ]);
  });

  it('falls back to the origin (at most 256 characters) when a record has no partition key', async () => {
    kinesis.on(PutRecordsCommand).resolves({ FailedRecordCount: 0, Records: [{}] });
    const sink = new KinesisSink(new KinesisClient(clientOptions), STREAM_ARN);
    await sink.putBatch([record('a', { origin: 'x'.repeat(300) })]);
    const input = kinesis.commandCalls(PutRecordsCommand)[0]!.args[0].input;
    expect(input.Records![0]!.PartitionKey).to.equal('x'.repeat(256));
  });

  it('maps per-record error codes to failed indices', async () => {
    kinesis.on(PutRecordsCommand).resolves({
      FailedRecordCount: 1,
      Records: [
        { SequenceNumber: '1', ShardId: 's' },
        { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' },
      ],
    });
    const sink = new KinesisSink(new KinesisClient(clientOptions), STREAM_ARN);
    expect(await sink.putBatch([record('a', { partitionKey: 'p' }), record('b', { partitionKey: 'p' })])).to.deep.equal({
      failed: [{ index: 1, errorCode: 'ProvisionedThroughputExceededException' }],
    });
  });

  it('declares the PutRecords limits and counts data and partition key bytes', () => {
    const sink = new KinesisSink(new KinesisClient(clientOptions), STREAM_ARN);
    expect(sink.maxBatchRecords).to.equal(KINESIS_BATCH_MAX_RECORDS).and.equal(500);
    expect(sink.maxBatchBytes)
      .to.equal(KINESIS_BATCH_MAX_BYTES)
      .and.equal(5 * 1024 * 1024);
    expect(sink.sizeOf(record('abcd', { partitionKey: 'pk' }))).to.equal(6);
    expect(sink.sizeOf(record('abcd', { partitionKey: 'é' }))).to.equal(6); // UTF-8 bytes
  });
});

describe('deliveryStreamNameFromArn', () => {
  it('takes the name after the last slash of a delivery stream ARN', () => {
    expect(deliveryStreamNameFromArn(DELIVERY_STREAM_ARN)).to.equal('cloudtrail-enricher-test');
    expect(deliveryStreamNameFromArn('arn:aws-cn:firehose:cn-north-1:111122223333:deliverystream/x-y_z')).to.equal('x-y_z');
  });

  it('returns a bare name unchanged', () => {
    expect(deliveryStreamNameFromArn('just-a-name')).to.equal('just-a-name');
  });
});
