import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { buildGeoData } from '../../scripts/build-geo-data.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { Enrichment } from '../../src/model.ts';
import { createTransformHandler, type TransformHandler } from '../../src/pipeline/handler.ts';
import { buildStages } from '../../src/pipeline/stages.ts';
import { cloudTrailEvent, cwlRecordOf, firehoseEvent, firehoseRecord, lambdaContext, outputLines } from '../helpers/factories.ts';
import { MemorySink } from '../helpers/sinks.ts';
import { healthyAnswer, routeOf, startFakeServer, type FakeServer } from './lookup/fake-provider-server.ts';
import { startDynalite, type LocalDynamo } from './lookup/dynalite.ts';

const KEYS = {
  IPSTACK: 'ipstack-e2e-key-111',
  IPQUALITYSCORE: 'ipqs-e2e-key-222',
  AUTOFOCUS: 'autofocus-e2e-key-333',
  ABUSEIPDB: 'abuseipdb-e2e-key-444',
};

/**
 * The transform handler with everything enabled: offline geo/ASN, the DynamoDB cache (dynalite), all four
 * providers (one loopback server speaking their documented JSON) and the bundled rules.
 */
describe('transform handler with offline geo, DynamoDB cache, four providers and rules', function () {
  this.timeout(60_000);
  let server: FakeServer;
  let dynamo: LocalDynamo;
  const logs: string[] = [];

  const env = (): Record<string, string> => ({
    CACHE_TABLE_NAME: 'e2e-cache',
    ...Object.fromEntries(
      (['IPSTACK', 'IPQUALITYSCORE', 'AUTOFOCUS', 'ABUSEIPDB'] as const).flatMap((p) => [
        [`${p}_ENABLED`, 'true'],
        [`${p}_API_KEY`, KEYS[p]],
        [`${p}_RATE_PER_SECOND`, '1000'],
      ]),
    ),
    IPSTACK_BASE_URL: `${server.baseUrl}/ipstack`,
    IPQUALITYSCORE_BASE_URL: `${server.baseUrl}/ipqs`,
    AUTOFOCUS_BASE_URL: `${server.baseUrl}/autofocus`,
    ABUSEIPDB_BASE_URL: `${server.baseUrl}/abuseipdb`,
  });

  /** A new container: configuration, stages and handler built from scratch (empty L1 cache). */
  function container(): TransformHandler {
    const config = loadConfig(env());
    const log = {
      debug: () => {},
      info: (m: string, x?: Record<string, unknown>) => void logs.push(JSON.stringify({ m, ...x })),
      warn: (m: string, x?: Record<string, unknown>) => void logs.push(JSON.stringify({ m, ...x })),
      error: (m: string, x?: Record<string, unknown>) => void logs.push(JSON.stringify({ m, ...x })),
    };
    const stages = buildStages(config, { dynamoDb: dynamo.client, log });
    const sink = new MemorySink();
    return createTransformHandler({
      config: config.core,
      intel: stages.intel,
      rules: stages.rules,
      firehose: () => {
        throw new Error('not used');
      },
      kinesis: () => {
        throw new Error('not used');
      },
      sinkFor: () => sink,
      log,
    });
  }

  before(async () => {
    await buildGeoData();
    server = await startFakeServer(healthyAnswer);
    dynamo = await startDynalite(['e2e-cache']);
  });

  after(async () => {
    await server.close();
    await dynamo.close();
  });

  const events = [
    cloudTrailEvent({ sourceIPAddress: '81.2.69.142', eventSource: 'iam.amazonaws.com', eventName: 'CreateUser' }),
    cloudTrailEvent({ sourceIPAddress: '81.2.69.142' }),
    cloudTrailEvent({ sourceIPAddress: '2a03:2880:f003:c07:face:b00c::2' }),
    cloudTrailEvent({ sourceIPAddress: '52.95.110.1' }),
    cloudTrailEvent({ sourceIPAddress: '10.0.12.34' }),
    cloudTrailEvent({ sourceIPAddress: 'AWS Internal' }),
    cloudTrailEvent({ sourceIPAddress: 'ec2.amazonaws.com' }),
    cloudTrailEvent({ sourceIPAddress: '192.0.2.44' }),
    cloudTrailEvent({ sourceIPAddress: '010.10.10.10' }),
  ];
  const batch = () => firehoseEvent([firehoseRecord(cwlRecordOf(events.slice(0, 5))), firehoseRecord(cwlRecordOf(events.slice(5)))]);
  // As sent: normalised (RFC 5952 never compresses a single zero group).
  const publicIps = ['81.2.69.142', '2a03:2880:f003:c07:face:b00c:0:2', '52.95.110.1'];

  it('enriches every public source from all sources, calling each provider once per unique public IP', async () => {
    server.requests.length = 0;
    const handler = container();
    const result = await handler(batch(), lambdaContext());
    const lines = result.records.flatMap((r) => outputLines(r.data!));
    expect(lines).to.have.length(events.length);

    const byProvider = new Map<string, string[]>();
    for (const req of server.requests) {
      const name = req.path.split('/')[1]!;
      byProvider.set(name, [...(byProvider.get(name) ?? []), routeOf(req).ip]);
    }
    for (const name of ['ipstack', 'ipqs', 'autofocus', 'abuseipdb'])
      expect(byProvider.get(name)?.sort(), name).to.deep.equal([...publicIps].sort());

    const gb = lines[0]!.enrichment as Enrichment;
    expect(gb.status).to.equal('complete');
    expect(gb.source).to.deep.include({ kind: 'public', ip: '81.2.69.142', ipVersion: 4 });
    expect(gb.source!.as).to.deep.equal({ number: 20712, organization: 'Andrews & Arnold Ltd' });
    expect(gb.source!.geo!.countryCode).to.equal('GB'); // offline wins geo by default
    expect(gb.source!.reputation).to.include({ fraudScore: 88, abuseConfidence: 100 });
    expect(Object.keys(gb.providers!).sort()).to.deep.equal(['abuseipdb', 'autofocus', 'ipqualityscore', 'ipstack']);
    expect(gb.priority).to.be.oneOf(['HIGH', 'CRITICAL']);
    expect(gb.risk!.reasons.map((r) => r.rule)).to.include('location.outside-allowed-countries');

    for (const line of lines.slice(4)) {
      const e = line.enrichment as Enrichment;
      expect(e.source!.geo).to.equal(undefined);
      expect(e.providers).to.equal(undefined);
      expect(e.status).to.equal('complete');
    }
  });

  it('answers a warm invocation from memory and a new container from DynamoDB, without provider calls', async () => {
    const first = container();
    await first(batch(), lambdaContext());
    server.requests.length = 0;
    await first(batch(), lambdaContext());
    expect(server.requests).to.have.length(0);
    const second = container();
    const result = await second(batch(), lambdaContext());
    expect(server.requests).to.have.length(0);
    const lines = result.records.flatMap((r) => outputLines(r.data!));
    expect((lines[3]!.enrichment as Enrichment).source!.reputation!.fraudScore).to.equal(88);
  });

  it('writes lines that match the published schema and never sends or logs a key or a non-public address', async () => {
    server.requests.length = 0;
    const result = await container()(batch(), lambdaContext());
    const validate = new Ajv2020({ allErrors: true }).compile(
      JSON.parse(await readFile('schema/enrichment.schema.json', 'utf8')) as object,
    );
    for (const line of result.records.flatMap((r) => outputLines(r.data!)))
      expect(validate(line), JSON.stringify(validate.errors)).to.equal(true);
    const sent = JSON.stringify(server.requests.map((r) => r.url));
    for (const nonPublic of ['10.0.12.34', 'AWS Internal', 'ec2.amazonaws.com', '192.0.2.44', '010.10.10.10'])
      expect(sent).not.to.include(nonPublic);
    const output = JSON.stringify(result) + logs.join('\n');
    for (const key of Object.values(KEYS)) {
      expect(output).not.to.include(key);
      expect(
        Buffer.from(JSON.stringify(result.records.map((r) => Buffer.from(r.data!, 'base64').toString('utf8')))).toString(),
      ).not.to.include(key);
    }
  });
});
