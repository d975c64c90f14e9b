import { expect } from 'chai';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createBackfillHandler, type SqsBatchResponse } from '../../../../src/entry/backfill/handler.ts';
import { loadConfig } from '../../../../src/config/index.ts';
import { cloudTrailEvent } from '../../../helpers/factories.ts';
import type { MetricsSink, MetricValue } from '../../../../src/observability/report.ts';

const TRAIL = 'trail-bucket';
const key = (id: string) =>
  `AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T1405Z_${id}.json.gz`;
const GOOD = key('Good000000000000');
const THROTTLED = key('Throttled0000000');
const DENIED = key('Denied0000000000');

/** An S3 ObjectCreated notification, as in the S3 documentation's event message structure. */
function s3Notification(objectKey: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: '2026-11-20T14:05:12.000Z',
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AROAEXAMPLE:cloudtrail' },
        requestParameters: { sourceIPAddress: '203.0.113.10' },
        responseElements: {
          'x-amz-request-id': 'C3D13FE58DE4C810',
          'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'backfill',
          bucket: { name: TRAIL, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${TRAIL}` },
          object: { key: objectKey, size: 1024, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0055AED6DCD90281E5' },
        },
      },
    ],
  });
}

/** An SQS event as Lambda delivers it (the Lambda developer guide's example record), one message per body. */
function sqsEvent(bodies: readonly { messageId: string; body: string }[]): unknown {
  return {
    Records: bodies.map(({ messageId, body }) => ({
      messageId,
      receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...',
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1545082649183',
        SenderId: 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: '1545082649185',
      },
      messageAttributes: {},
      md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:cloudtrail-enricher-dev-backfill',
      awsRegion: 'us-east-1',
    })),
  };
}

/** S3 answers by key: a trail object, throttling (retryable) or access denied (permanent). Puts are recorded. */
function fakeS3() {
  const puts: string[] = [];
  const body = gzipSync(
    JSON.stringify({
      Records: [cloudTrailEvent({ sourceIPAddress: '10.0.0.1' }), cloudTrailEvent({ sourceIPAddress: 'ec2.amazonaws.com' })],
    }),
  );
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof PutObjectCommand) {
      puts.push(command.input.Key!);
      return {};
    }
    if (command instanceof GetObjectCommand) {
      if (command.input.Key === THROTTLED)
        throw Object.assign(new Error('Please reduce your request rate.'), {
          name: 'SlowDown',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
        });
      if (command.input.Key === DENIED)
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
      return { Body: Readable.from([body]), ContentLength: body.length, LastModified: new Date('2026-11-20T14:05:12Z') };
    }
    throw new Error('unexpected command');
  };
  return { s3: { send } as never, puts };
}

function recorder(): MetricsSink & { published: { dimensions: Readonly<Record<string, string>>; metrics: readonly MetricValue[] }[] } {
  const published: { dimensions: Readonly<Record<string, string>>; metrics: readonly MetricValue[] }[] = [];
  return {
    published,
    addMetric: () => {},
    publishStoredMetrics: () => {},
    publishWithDimensions: (dimensions, metrics) => void published.push({ dimensions, metrics }),
  };
}

describe('backfill from SQS (partial batch responses)', () => {
  const config = loadConfig({});
  const context = { getRemainingTimeInMillis: () => 120_000 };
  const handlerWith = (s3: never, metrics?: MetricsSink) =>
    createBackfillHandler({
      s3,
      config: config.core,
      backfill: {
        destination: { bucket: 'output-bucket', prefix: 'enriched/' },
        limits: { maxObjectBytes: 1024 * 1024, maxDecompressedBytes: 1024 * 1024 },
      },
      ...(metrics !== undefined ? { metrics } : {}),
    });

  it('lists only the message whose object failed in a retryable way, so its neighbours are not redelivered', async () => {
    const { s3, puts } = fakeS3();
    const event = sqsEvent([
      { messageId: '059f36b4-87a3-44ab-83d2-661975830a7d', body: s3Notification(GOOD) },
      { messageId: '2e1424d4-f796-459a-8184-9c92662be6da', body: s3Notification(THROTTLED) },
      { messageId: '4d8e0c1a-5b7f-4c2e-9a3d-1f6b8e2c7a90', body: s3Notification(DENIED) },
    ]);
    const response = (await handlerWith(s3)(event, context)) as SqsBatchResponse;
    expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: '2e1424d4-f796-459a-8184-9c92662be6da' }] });
    expect(puts.length).to.be.greaterThan(0);
  });

  it('answers an empty failure list when every message succeeded, and does not throw', async () => {
    const { s3 } = fakeS3();
    const event = sqsEvent([
      { messageId: '059f36b4-87a3-44ab-83d2-661975830a7d', body: s3Notification(GOOD) },
      { messageId: 'b1c2d3e4-0000-4000-8000-00000000000a', body: 'not json at all' },
    ]);
    expect(await handlerWith(s3)(event, context)).to.deep.equal({ batchItemFailures: [] });
  });

  it('publishes the objects it wrote, skipped and failed under function=backfill', async () => {
    const { s3 } = fakeS3();
    const metrics = recorder();
    const event = sqsEvent([
      { messageId: 'm-1', body: s3Notification(GOOD) },
      { messageId: 'm-2', body: s3Notification(THROTTLED) },
      { messageId: 'm-3', body: s3Notification(key('Good000000000000').replace('CloudTrail/', 'CloudTrail-Digest/')) },
    ]);
    await handlerWith(s3, metrics)(event, context);
    expect(metrics.published).to.have.length(1);
    const [published] = metrics.published;
    expect(published!.dimensions).to.deep.equal({ function: 'backfill' });
    const values = Object.fromEntries(published!.metrics.map((m) => [m.name, m.value]));
    expect(values).to.include({ ObjectsProcessed: 1, ObjectsFailed: 1, ObjectsSkipped: 1, ObjectEvents: 2 });
  });
});
