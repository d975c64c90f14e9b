import { expect } from 'chai';
import { main } from '../../src/entry/cli/main.ts';
import { startS3rver, type LocalS3 } from './backfill/s3rver.ts';

/** AWS errors as a user meets them: one line naming the operation, the bucket and the region (issue 10). */
describe('cloudtrail-enricher and AWS errors (s3rver on loopback)', function () {
  this.timeout(60_000);
  let s3: LocalS3;
  const saved = { ...process.env };
  let err: string[];
  let out: string[];

  before(async () => {
    s3 = await startS3rver(['output-bucket']);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
  });
  after(async () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    await s3.close();
  });
  beforeEach(() => {
    err = [];
    out = [];
  });

  it('says "bucket trail-logs does not exist in us-east-1" for a source bucket that does not exist, exit 2, no stack trace', async () => {
    const code = await main(['backfill', '--source', 's3://trail-logs/AWSLogs/', '--dest', 's3://output-bucket/enriched/'], {
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
      env: process.env,
    });
    expect(code).to.equal(2);
    const lines = err.filter((l) => l.startsWith('cloudtrail-enricher: '));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/bucket trail-logs does not exist in us-east-1 \(ListObjectsV2\); check the bucket name and --region/);
    expect(err.join('\n')).not.to.match(/\n\s+at |S3RestXmlProtocol|NoSuchBucket at/);
  });
});
