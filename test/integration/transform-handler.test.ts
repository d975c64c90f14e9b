import { expect } from 'chai';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { startFirehoseServer, startKinesisServer, type EntryPolicy, type CallPolicy } from '../helpers/loopback.ts';
import {
  cloudTrailEvent,
  cwlRecordOf,
  firehoseEvent,
  firehoseRecord,
  lambdaContext,
  outputLines,
  DELIVERY_STREAM_ARN,
} from '../helpers/factories.ts';
import { ReingestionError } from '../../src/errors.ts';

type Handler = (
  event: FirehoseTransformationEvent,
  context: { getRemainingTimeInMillis(): number },
) => Promise<FirehoseTransformationResult>;

/**
 * The real handler module (handlers/transform.ts), configured only through the environment, re-ingesting
 * through the real AWS SDK clients into loopback Firehose and Kinesis endpoints (AWS_ENDPOINT_URL_*).
 */
describe('handlers/transform against loopback Firehose and Kinesis', function () {
  this.timeout(60_000);
  let firehosePolicy: EntryPolicy = () => undefined;
  let firehoseCalls: CallPolicy = () => undefined;
  let firehose: Awaited<ReturnType<typeof startFirehoseServer>>;
  let kinesis: Awaited<ReturnType<typeof startKinesisServer>>;
  let handler: Handler;
  const saved = { ...process.env };
  let stdout: string[] = [];
  const realWrite = process.stdout.write.bind(process.stdout);
  const realErrWrite = process.stderr.write.bind(process.stderr);

  before(async () => {
    firehose = await startFirehoseServer(
      (c, i) => firehosePolicy(c, i),
      (c) => firehoseCalls(c),
    );
    kinesis = await startKinesisServer();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_FIREHOSE: firehose.url,
      AWS_ENDPOINT_URL_KINESIS: kinesis.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOOPBACK',
      AWS_SECRET_ACCESS_KEY: 'loopback-secret',
      REINGEST_MAX_ATTEMPTS: '4',
      REINGEST_BASE_DELAY_MS: '1',
      REINGEST_MAX_DELAY_MS: '5',
      POWERTOOLS_SERVICE_NAME: 'cloudtrail-enricher',
    });
    // The module compiles the rules at import and logs "rules compiled": keep that line out of the test report.
    const coldStart: string[] = [];
    process.stdout.write = (chunk: string | Uint8Array) => coldStart.push(String(chunk)) > 0;
    try {
      ({ handler } = await import('../../handlers/transform.ts'));
    } finally {
      process.stdout.write = realWrite;
    }
    expect(coldStart.join('')).to.include('"message":"rules compiled"');
  });

  after(async () => {
    await firehose.close();
    await kinesis.close();
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  beforeEach(() => {
    firehosePolicy = () => undefined;
    firehoseCalls = () => undefined;
    firehose.drain();
    kinesis.drain();
  });

  /** Runs the handler with stdout and stderr captured (Powertools writes logs and EMF there). */
  async function invoke(event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> {
    stdout = [];
    const capture = ((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    process.stdout.write = capture;
    process.stderr.write = capture;
    try {
      return await handler(event, lambdaContext(60_000));
    } finally {
      process.stdout.write = realWrite;
      process.stderr.write = realErrWrite;
    }
  }

  /** Feeds whatever the stream received back to the handler, as Firehose would, until nothing is re-ingested. */
  async function runToCompletion(first: FirehoseTransformationEvent): Promise<{ lines: Record<string, unknown>[]; invocations: number }> {
    const lines: Record<string, unknown>[] = [];
    let event = first;
    for (let invocations = 1; invocations <= 20; invocations++) {
      const result = await invoke(event);
      expect(result.records.map((r) => r.recordId)).to.have.members(event.records.map((r) => r.recordId));
      for (const r of result.records) if (r.result === 'Ok') lines.push(...outputLines(r.data!));
      const back = firehose.drain();
      if (back.length === 0) return { lines, invocations };
      event = firehoseEvent(back.map((r) => firehoseRecord(r.data.toString('base64'))));
    }
    throw new Error('re-ingestion did not terminate within 20 invocations');
  }

  it('re-ingests events of other partitions through PutRecordBatch and delivers every event exactly once', async () => {
    const events = [
      cloudTrailEvent({ eventTime: '2026-11-19T23:59:58Z' }),
      cloudTrailEvent({ eventTime: '2026-11-20T00:00:01Z' }),
      cloudTrailEvent({ awsRegion: 'eu-west-1' }),
      cloudTrailEvent({ recipientAccountId: '444455556666' }),
      cloudTrailEvent({ eventTime: '2026-11-19T23:59:59Z' }),
    ];
    const { lines, invocations } = await runToCompletion(firehoseEvent([firehoseRecord(cwlRecordOf(events))]));
    expect(invocations).to.equal(2);
    expect(firehose.targets.every((t) => t === 'Firehose_20150804.PutRecordBatch')).to.equal(true);
    expect(lines.map((l) => l.eventID)).to.have.members(events.map((e) => e.eventID));
  });

  it('retries entries PutRecordBatch rejects and still conserves every event', async () => {
    firehosePolicy = (call, index) => (call % 3 === 1 && index % 2 === 0 ? 'ServiceUnavailableException' : undefined);
    const events = Array.from({ length: 40 }, (_, i) =>
      cloudTrailEvent({ awsRegion: ['us-east-1', 'eu-west-1', 'us-west-2', 'ap-southeast-2'][i % 4] }),
    );
    const { lines } = await runToCompletion(firehoseEvent([firehoseRecord(cwlRecordOf(events))]));
    expect(lines.map((l) => l.eventID)).to.have.members(events.map((e) => e.eventID));
    expect(lines.length).to.equal(events.length);
  });

  it('throws ReingestionError when PutRecordBatch keeps failing, so Firehose retries the batch', async () => {
    firehoseCalls = () => ({ status: 500, type: 'ServiceUnavailableException' });
    const events = [cloudTrailEvent(), cloudTrailEvent({ awsRegion: 'eu-west-1' })];
    let thrown: unknown;
    try {
      await invoke(firehoseEvent([firehoseRecord(cwlRecordOf(events))]));
    } catch (err) {
      thrown = err;
    }
    // Compared by name: the handler module is loaded in its own module graph by the dynamic import.
    expect((thrown as Error).name).to.equal(ReingestionError.name);
    expect(stdout.join('')).to.include('ReingestFailures');
  });

  it('re-ingests into the source Kinesis stream with the original partition key', async () => {
    const streamArn = 'arn:aws:kinesis:us-east-1:111122223333:stream/cloudtrail-source';
    const events = [cloudTrailEvent(), cloudTrailEvent({ awsRegion: 'eu-west-1' })];
    const record = firehoseRecord(cwlRecordOf(events), {
      kinesisRecordMetadata: {
        shardId: 'shardId-000000000000',
        partitionKey: 'cloudtrail-pk-7',
        approximateArrivalTimestamp: Date.UTC(2026, 10, 20, 14, 5),
        sequenceNumber: '49546986683135544286507457936321625675700192471156785154',
        subsequenceNumber: '0',
      },
    });
    const result = await invoke(firehoseEvent([record], { sourceKinesisStreamArn: streamArn }));
    expect(result.records[0]!.result).to.equal('Ok');
    expect(kinesis.records).to.have.length(1);
    expect(kinesis.records[0]!.partitionKey).to.equal('cloudtrail-pk-7');
    expect(kinesis.targets).to.deep.equal(['Kinesis_20131202.PutRecords']);
    // Fed back, the Kinesis-sourced re-ingested record is passed through, not enriched again.
    const back = await invoke(
      firehoseEvent([firehoseRecord(kinesis.records[0]!.data.toString('base64'))], { sourceKinesisStreamArn: streamArn }),
    );
    const [line] = outputLines(back.records[0]!.data!);
    expect(line!.eventID).to.equal(events[1]!.eventID);
    expect(back.records[0]!.metadata!.partitionKeys).to.deep.equal({ account: '111122223333', region: 'eu-west-1', dt: '2026-11-20' });
  });

  it('logs one summary line per invocation and publishes the same counts as EMF metrics, without event payloads', async () => {
    const events = [
      cloudTrailEvent({ sourceIPAddress: '203.0.113.77' }),
      cloudTrailEvent({ awsRegion: 'eu-west-1', sourceIPAddress: '8.8.4.4' }),
    ];
    await invoke(firehoseEvent([firehoseRecord(cwlRecordOf(events)), firehoseRecord('not base64!')]));
    const entries = stdout
      .join('')
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const summaries = entries.filter((e) => e.message === 'invocation summary');
    expect(summaries).to.have.length(1);
    expect(summaries[0]!.records).to.deep.include({ in: 2, ok: 1, processingFailed: 1 });
    expect(summaries[0]!.events).to.deep.include({ in: 2, returned: 1, reingested: 1 });
    const emf = entries.find((e) => e._aws !== undefined)!;
    expect(emf.RecordsIn).to.equal(2);
    expect(emf.RecordsProcessingFailed).to.equal(1);
    expect(emf.EventsReingested).to.equal(1);
    expect(emf.service).to.equal('cloudtrail-enricher');
    const text = stdout.join('');
    for (const secretish of ['203.0.113.77', '8.8.4.4', 'AKIAIOSFODNN7EXAMPLE', 'DescribeInstances', String(events[0]!.eventID)]) {
      expect(text).not.to.include(secretish);
    }
  });

  it('accepts a Firehose event in the documented shape of the AWS example', async () => {
    const result = await invoke({
      invocationId: 'invoked123',
      deliveryStreamArn: DELIVERY_STREAM_ARN,
      region: 'us-east-1',
      records: [
        {
          data: Buffer.from(JSON.stringify(cloudTrailEvent())).toString('base64'),
          recordId: 'record1',
          approximateArrivalTimestamp: 1510772160000,
        },
      ],
    });
    expect(result.records).to.have.length(1);
    expect(result.records[0]).to.include({ recordId: 'record1', result: 'Ok' });
  });
});
