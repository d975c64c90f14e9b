/**
 * The Security Lake variant of the deployment (outputMode s3 + outputFormat ocsf), packaged offline like the
 * other stages: Firehose converts the transform's OCSF JSON to SNAPPY Parquet against a Glue table whose
 * columns are the generated ones, under the partition layout of the custom sources.
 */
import { expect } from 'chai';
import { ocsfGlueColumns } from '../../../src/7-encode/layouts/ocsf-shape.ts';
import {
  OCSF_PARTITION_KEY_NAMES,
  SECURITY_LAKE_SOURCE_PREFIX,
  SECURITY_LAKE_SOURCE_VERSION,
} from '../../../src/7-encode/layouts/partition.ts';
import { isObject, specDb, validateResources, type Json, type JsonObject } from './support/cfn-spec.ts';
import { packageService, type PackagedService } from './support/template.ts';

function obj(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not an object`);
  return value;
}

describe('serverless deployment: Security Lake (outputFormat ocsf)', function () {
  let lake: PackagedService;
  before(async function () {
    this.timeout(240_000);
    specDb();
    lake = await packageService('testlake', {
      outputFormat: 'ocsf',
      securityLakeBucketName: 'aws-security-data-lake-us-east-1-example1234',
    });
  });
  after(async () => {
    await lake?.cleanup();
  });

  const destination = () =>
    obj(
      obj(obj(lake.resources.DeliveryStream, 'DeliveryStream').Properties, 'Properties').ExtendedS3DestinationConfiguration,
      'destination',
    );

  it('uses only resource types and properties that exist in the AWS resource specification', () => {
    expect(validateResources(lake.resources)).to.deep.equal([]);
  });

  it('converts JSON to Parquet with SNAPPY against the OCSF table of this stack', () => {
    const conversion = obj(destination().DataFormatConversionConfiguration, 'conversion');
    expect(conversion.Enabled).to.equal(true);
    expect(obj(obj(conversion.OutputFormatConfiguration, 'out').Serializer, 'serializer')).to.deep.equal({
      ParquetSerDe: { Compression: 'SNAPPY' },
    });
    expect(obj(obj(conversion.InputFormatConfiguration, 'in').Deserializer, 'deserializer')).to.have.key('OpenXJsonSerDe');
    expect(obj(conversion.SchemaConfiguration, 'schema').TableName).to.deep.equal({ Ref: 'OcsfTable' });
    expect(destination().CompressionFormat).to.equal('UNCOMPRESSED');
  });

  it('gives the Glue table exactly the columns generated from the OCSF mapping', () => {
    const table = obj(obj(obj(lake.resources.OcsfTable, 'OcsfTable').Properties, 'Properties').TableInput, 'TableInput');
    expect(obj(table.StorageDescriptor, 'StorageDescriptor').Columns).to.deep.equal(ocsfGlueColumns());
  });

  it('writes under Security Lake partitions built from exactly the keys the transform returns, in the lake bucket', () => {
    const prefix = String(destination().Prefix);
    const keys = [...prefix.matchAll(/!\{partitionKeyFromLambda:([A-Za-z]+)\}/g)].map((m) => m[1]);
    expect(keys).to.deep.equal([...OCSF_PARTITION_KEY_NAMES]);
    expect(prefix).to.equal(
      `${SECURITY_LAKE_SOURCE_PREFIX}!{partitionKeyFromLambda:source}/${SECURITY_LAKE_SOURCE_VERSION}/region=!{partitionKeyFromLambda:region}/accountId=!{partitionKeyFromLambda:accountId}/eventDay=!{partitionKeyFromLambda:eventDay}/`,
    );
    expect(destination().BucketARN).to.deep.equal({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::aws-security-data-lake-us-east-1-example1234' });
    expect(String(destination().ErrorOutputPrefix).startsWith(SECURITY_LAKE_SOURCE_PREFIX)).to.equal(false);
  });

  it('sets OUTPUT_FORMAT=ocsf on the transform', () => {
    const fn = obj(obj(lake.resources.TransformLambdaFunction, 'fn').Properties, 'Properties');
    expect(obj(obj(fn.Environment, 'Environment').Variables, 'Variables')).to.deep.include({
      OUTPUT_FORMAT: 'ocsf',
      OCSF_RAW_DATA: 'true',
    });
  });

  it('lets Firehose write only under its prefixes of the lake bucket and read only its conversion table', () => {
    const doc = obj(obj(obj(lake.resources.FirehoseSecurityLakePolicy, 'policy').Properties, 'Properties').PolicyDocument, 'doc');
    const statements = doc.Statement as JsonObject[];
    const actions = statements.flatMap((s) => s.Action as string[]);
    expect(actions.every((a) => /^(s3|glue):[A-Za-z]+$/.test(a))).to.equal(true);
    expect(actions.filter((a) => a.startsWith('glue:'))).to.deep.equal(['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions']);
  });
});
