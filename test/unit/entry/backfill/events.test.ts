import { expect } from 'chai';
import { parseBackfillEvent } from '../../../../src/entry/backfill/events.ts';

const KEY = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/a+b.json.gz';

function s3Record(eventName: string, key = KEY, bucket = 'trail') {
  return { eventVersion: '2.1', eventSource: 'aws:s3', eventName, s3: { bucket: { name: bucket }, object: { key, versionId: 'v7' } } };
}

describe('parseBackfillEvent', () => {
  it('reads ObjectCreated records of an S3 notification (URL-decoded keys, version ids) and ignores others', () => {
    const parsed = parseBackfillEvent({
      Records: [
        s3Record('ObjectCreated:Put'),
        s3Record('ObjectRemoved:Delete'),
        s3Record('ObjectCreated:CompleteMultipartUpload', 'x%2By.json.gz'),
      ],
    });
    expect(parsed).to.deep.equal({
      kind: 'notifications',
      objects: [
        { bucket: 'trail', key: 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/a b.json.gz', versionId: 'v7', alternateKey: KEY },
        { bucket: 'trail', key: 'x+y.json.gz', versionId: 'v7', alternateKey: 'x%2By.json.gz' },
      ],
      ignored: 1,
    });
  });

  it('unwraps SQS messages, SNS notifications inside SQS and EventBridge events, and enriches an object named twice once', () => {
    const s3Event = { Records: [s3Record('ObjectCreated:Put')] };
    const parsed = parseBackfillEvent({
      Records: [
        { eventSource: 'aws:sqs', messageId: '1', body: JSON.stringify(s3Event) },
        { eventSource: 'aws:sqs', messageId: '2', body: JSON.stringify({ Type: 'Notification', Message: JSON.stringify(s3Event) }) },
        {
          eventSource: 'aws:sqs',
          messageId: '3',
          body: JSON.stringify({
            source: 'aws.s3',
            'detail-type': 'Object Created',
            detail: { bucket: { name: 'trail' }, object: { key: 'raw key.json.gz' } },
          }),
        },
        { eventSource: 'aws:sqs', messageId: '4', body: 'not json' },
      ],
    });
    expect(parsed).to.deep.equal({
      kind: 'notifications',
      objects: [
        { bucket: 'trail', key: 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/a b.json.gz', versionId: 'v7', alternateKey: KEY },
        { bucket: 'trail', key: 'raw key.json.gz' },
      ],
      ignored: 1,
    });
  });

  it('reads EventBridge "Object Created" keys as sent (not URL-encoded), with the decoded form as fallback', () => {
    expect(
      parseBackfillEvent({
        source: 'aws.s3',
        'detail-type': 'Object Created',
        detail: { bucket: { name: 'trail' }, object: { key: 'a+b.json.gz', 'version-id': 'v1' } },
      }),
    ).to.deep.equal({
      kind: 'notifications',
      objects: [{ bucket: 'trail', key: 'a+b.json.gz', versionId: 'v1', alternateKey: 'a b.json.gz' }],
      ignored: 0,
    });
    expect(parseBackfillEvent({ source: 'aws.s3', 'detail-type': 'Object Deleted', detail: {} })).to.deep.equal({
      kind: 'notifications',
      objects: [],
      ignored: 1,
    });
  });

  it('recognises the S3 test event', () => {
    expect(
      parseBackfillEvent({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-20T14:00:00.000Z', Bucket: 'trail' }),
    ).to.deep.equal({ kind: 'test' });
  });

  it('reads Batch Operations tasks of schema 1.0 (bucket ARN) and 2.0 (bucket name)', () => {
    expect(
      parseBackfillEvent({
        invocationSchemaVersion: '1.0',
        invocationId: 'inv',
        job: { id: 'job' },
        tasks: [{ taskId: 't1', s3Key: 'a%20b.json.gz', s3VersionId: null, s3BucketArn: 'arn:aws-us-gov:s3:::trail' }],
      }),
    ).to.deep.equal({
      kind: 'batch',
      schemaVersion: '1.0',
      invocationId: 'inv',
      jobId: 'job',
      tasks: [{ taskId: 't1', ref: { bucket: 'trail', key: 'a b.json.gz', alternateKey: 'a%20b.json.gz' } }],
    });
    expect(
      parseBackfillEvent({
        invocationSchemaVersion: '2.0',
        invocationId: 'inv2',
        job: { id: 'job2', userArguments: { k: 'v' } },
        tasks: [
          { taskId: 't1', s3BucketName: 'trail', s3Key: 'k.json.gz', s3VersionId: 'v3' },
          { taskId: 't2', s3Key: 'no-bucket.json.gz' },
        ],
      }),
    ).to.deep.equal({
      kind: 'batch',
      schemaVersion: '2.0',
      invocationId: 'inv2',
      jobId: 'job2',
      tasks: [{ taskId: 't1', ref: { bucket: 'trail', key: 'k.json.gz', versionId: 'v3' } }, { taskId: 't2' }],
    });
  });

  it('calls anything else unknown', () => {
    for (const event of [null, 'x', [], {}, { Records: 'x' }, { invocationSchemaVersion: '3.0', tasks: [] }]) {
      expect(parseBackfillEvent(event), JSON.stringify(event)).to.deep.equal({ kind: 'unknown' });
    }
  });
});
