import { expect } from 'chai';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { BatchResponse } from '../../../src/entry/backfill/index.ts';
import { main } from '../../../src/entry/cli/main.ts';
import { mixedRecords, trailKey, trailObject } from './fixtures.ts';
import { startS3rver, type LocalS3 } from './s3rver.ts';

type Handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

/**
 * The real handler module (handlers/backfill.ts), configured only through the environment as the deployment
 * configures it (OUTPUT_BUCKET, OUTPUT_PREFIX), with its own S3 client reaching s3rver through AWS_ENDPOINT_URL_S3.
 */
describe('handlers/backfill against s3rver', function () {
  this.timeout(30_000);
  let s3: LocalS3;
  let handler: Handler;
  const saved = { ...process.env };
  const KEY = trailKey('111122223333', 'us-east-1', '20261120T1405Z', 'HandlerModule000');

  before(async () => {
    s3 = await startS3rver(['module-trail', 'module-output']);
    await s3.client.send(new PutObjectCommand({ Bucket: 'module-trail', Key: KEY, Body: trailObject(mixedRecords()) }));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      OUTPUT_BUCKET: 'module-output',
      OUTPUT_PREFIX: 'enriched/',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    ({ handler } = await import('../../../handlers/backfill.ts'));
  });

  after(async () => {
    await s3.close();
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('answers a Batch Operations task and writes the partitions under OUTPUT_PREFIX of OUTPUT_BUCKET', async () => {
    const response = (await handler(
      {
        invocationSchemaVersion: '1.0',
        invocationId: 'inv-module',
        job: { id: 'job-module' },
        tasks: [{ taskId: 'task-module', s3Key: KEY, s3VersionId: null, s3BucketArn: 'arn:aws:s3:::module-trail' }],
      },
      { getRemainingTimeInMillis: () => 120_000 },
    )) as BatchResponse;
    expect(response.results).to.deep.equal([
      { taskId: 'task-module', resultCode: 'Succeeded', resultString: response.results[0]!.resultString },
    ]);
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'module-output' }));
    const keys = (listed.Contents ?? []).map((c) => c.Key!);
    expect(keys.length).to.be.greaterThan(0);
    for (const key of keys) expect(key).to.match(/^enriched\/account=[^/]+\/region=[^/]+\/dt=\d{4}-\d{2}-\d{2}\/cloudtrail-backfill-/);
  });

  it('runs `cloudtrail-enricher backfill` with the SDK client the environment points at, exit code 0 and a summary', async () => {
    const printed: string[] = [];
    const realStdout = process.stdout.write.bind(process.stdout);
    const realStderr = process.stderr.write.bind(process.stderr);
    const capture = ((chunk: string | Uint8Array) => (printed.push(String(chunk)), true)) as typeof process.stdout.write;
    process.stdout.write = capture;
    process.stderr.write = capture;
    let code: number;
    try {
      code = await main(['backfill', '--source', 's3://module-trail/AWSLogs/', '--dest', 's3://module-output/cli', '--concurrency', '2']);
    } finally {
      process.stdout.write = realStdout;
      process.stderr.write = realStderr;
    }
    expect(code).to.equal(0);
    expect(printed.join('')).to.include('every event of every enriched object written exactly once');
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'module-output', Prefix: 'cli/' }));
    expect((listed.Contents ?? []).length).to.be.greaterThan(0);
  });

  it('refuses bad command lines with exit code 2 before touching S3', async () => {
    const realError = console.error;
    console.error = () => {};
    try {
      expect(await main(['backfill', '--source', 'trail-bucket/x', '--dest', 's3://module-output/cli/'])).to.equal(2);
      expect(
        await main(['backfill', '--source', 's3://module-trail/', '--dest', 's3://module-output/cli/', '--concurrency', '0']),
      ).to.equal(2);
      expect(await main(['backfill', '--source', 's3://module-output/cli/x/', '--dest', 's3://module-output/cli/'])).to.equal(2);
      expect(await main(['backfill', '--bogus'])).to.equal(2);
    } finally {
      console.error = realError;
    }
  });
});
