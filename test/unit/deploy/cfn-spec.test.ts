import { expect } from 'chai';
import { specDb, validateResources, type JsonObject } from './support/cfn-spec.ts';

/** The validator the template tests rely on must reject what CloudFormation would reject. */
describe('validateResources (AWS resource specification)', function () {
  before(function () {
    this.timeout(30_000);
    specDb();
  });

  const stream = (destination: JsonObject): JsonObject => ({
    Stream: { Type: 'AWS::KinesisFirehose::DeliveryStream', Properties: { ExtendedS3DestinationConfiguration: destination } },
  });
  const destination: JsonObject = {
    BucketARN: { 'Fn::GetAtt': ['Bucket', 'Arn'] },
    RoleARN: 'arn:aws:iam::111122223333:role/firehose',
    CompressionFormat: 'GZIP',
    BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
  };

  it('accepts a valid resource with intrinsics in place of values', () => {
    expect(validateResources(stream(destination))).to.deep.equal([]);
  });

  it('rejects a resource type that does not exist', () => {
    expect(validateResources({ Thing: { Type: 'AWS::S3::Buckett', Properties: {} } })).to.deep.equal([
      'Thing: unknown resource type AWS::S3::Buckett',
    ]);
  });

  it('rejects an unknown property at the top level and deep inside a nested type', () => {
    const problems = validateResources({
      Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketNme: 'x' } },
      ...stream({ ...destination, BufferingHints: { SizeInMBs: 64, IntervalInSecs: 60 } }),
    });
    expect(problems).to.have.length(2);
    expect(problems[0]).to.include('unknown property BucketNme');
    expect(problems[1]).to.include('BufferingHints: unknown property IntervalInSecs');
  });

  it('rejects a value of the wrong shape and an enumerated value that is not allowed', () => {
    const problems = validateResources(stream({ ...destination, BufferingHints: [{ SizeInMBs: 64 }], CompressionFormat: 'ZSTD7' }));
    expect(problems.some((p) => p.includes('BufferingHints: expected an object'))).to.equal(true);
    expect(problems.some((p) => p.includes('"ZSTD7" is not one of'))).to.equal(true);
  });

  it('reports a missing required property', () => {
    const { BucketARN: _omitted, ...withoutBucket } = destination;
    expect(validateResources(stream(withoutBucket))).to.deep.equal([
      'Stream(AWS::KinesisFirehose::DeliveryStream).ExtendedS3DestinationConfiguration: required property BucketARN missing',
    ]);
  });

  it('checks both branches of Fn::If and ignores AWS::NoValue', () => {
    const problems = validateResources(
      stream({
        ...destination,
        BufferingHints: { 'Fn::If': ['C', { SizeInMBs: 64 }, { Sized: 1 }] },
        S3BackupMode: { 'Fn::If': ['C', 'Enabled', { Ref: 'AWS::NoValue' }] },
      }),
    );
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include('BufferingHints<If>: unknown property Sized');
  });

  it('rejects an unknown resource attribute', () => {
    expect(validateResources({ Topic: { Type: 'AWS::SNS::Topic', DependOn: 'X' } })).to.deep.equal([
      'Topic: unknown resource attribute DependOn',
    ]);
  });

  it('accepts serverless variables in typed positions only when asked to (fragments before packaging)', () => {
    const withVariable = stream({ ...destination, BufferingHints: { SizeInMBs: '${param:s3BufferMb}' } });
    expect(validateResources(withVariable)).to.have.length(1);
    expect(validateResources(withVariable, { unresolvedVariables: true })).to.deep.equal([]);
  });
});
