import { gzipSync } from 'node:zlib';
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord } from 'aws-lambda';

let counter = 0;

/** A realistic CloudTrail management event; fields can be overridden (use `undefined` to delete one). */
export function cloudTrailEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  const base: Record<string, unknown> = {
    eventVersion: '1.09',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAJ45Q7YFFAREXAMPLE',
      arn: 'arn:aws:iam::111122223333:user/Alice',
      accountId: '111122223333',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      userName: 'Alice',
    },
    eventTime: '2026-11-20T14:03:21Z',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-1',
    sourceIPAddress: '8.8.8.8',
    userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2023',
    requestParameters: { instancesSet: {}, filterSet: {} },
    responseElements: null,
    requestID: `c1b2d3e4-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    eventID: `e1f2a3b4-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 'ec2.us-east-1.amazonaws.com' },
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

/** A CloudWatch Logs subscription payload (what the subscription filter sends to Firehose), gzip + base64. */
export function cloudWatchLogsData(messages: readonly string[], options: { messageType?: string; logGroup?: string } = {}): string {
  const payload = {
    messageType: options.messageType ?? 'DATA_MESSAGE',
    owner: '111122223333',
    logGroup: options.logGroup ?? 'aws-cloudtrail-logs-111122223333',
    logStream: '111122223333_CloudTrail_us-east-1',
    subscriptionFilters: ['cloudtrail-enricher'],
    logEvents: messages.map((message, i) => ({
      id: String(36000000000000000000000000000000000000000000000000000000 + i),
      timestamp: 1763647401000 + i,
      message,
    })),
  };
  return gzipSync(JSON.stringify(payload)).toString('base64');
}

export function cwlRecordOf(events: readonly Record<string, unknown>[]): string {
  return cloudWatchLogsData(events.map((e) => JSON.stringify(e)));
}

export function plainData(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64');
}

let recordCounter = 0;

export function firehoseRecord(data: string, extra: Partial<FirehoseTransformationEventRecord> = {}): FirehoseTransformationEventRecord {
  recordCounter++;
  return {
    recordId: `49546986683135544286507457936321625675700192471156785154${String(recordCounter).padStart(6, '0')}`,
    approximateArrivalTimestamp: Date.UTC(2026, 10, 20, 14, 5, 0),
    data,
    ...extra,
  };
}

export const DELIVERY_STREAM_ARN = 'arn:aws:firehose:us-east-1:111122223333:deliverystream/cloudtrail-enricher-test';

export function firehoseEvent(
  records: FirehoseTransformationEventRecord[],
  extra: Partial<FirehoseTransformationEvent> = {},
): FirehoseTransformationEvent {
  return {
    invocationId: 'invocationIdExample',
    deliveryStreamArn: DELIVERY_STREAM_ARN,
    region: 'us-east-1',
    records,
    ...extra,
  };
}

/** A Lambda context that reports a fixed remaining time. */
export function lambdaContext(remainingMs = 60_000): { getRemainingTimeInMillis(): number } {
  return { getRemainingTimeInMillis: () => remainingMs };
}

/** Decodes the NDJSON lines of an `Ok` record. */
export function outputLines(data: string): Record<string, unknown>[] {
  return Buffer.from(data, 'base64')
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
