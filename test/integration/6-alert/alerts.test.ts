/**
 * Alerts end to end: the real transform handler (config, stages, SDK clients created as in handlers/transform.ts)
 * against loopback EventBridge and Security Hub endpoints (AWS_ENDPOINT_URL_EVENTBRIDGE / _SECURITYHUB) and
 * dynalite for the once-each table.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { CreateTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { buildGeoData } from '../../../scripts/build-geo-data.ts';
import { loadConfig } from '../../../src/config/index.ts';
import type { Finding } from '../../../src/6-alert/finding.ts';
import { PUT_EVENTS_MAX_ENTRY_BYTES } from '../../../src/6-alert/finding.ts';
import { encodeEnvelope } from '../../../src/codec/envelope.ts';
import { MetricName } from '../../../src/observability/metric-names.ts';
import { createTransformHandler, type TransformHandler } from '../../../src/pipeline/handler.ts';
import { buildStages } from '../../../src/pipeline/stages.ts';
import { cloudTrailEvent, cwlRecordOf, firehoseEvent, firehoseRecord, lambdaContext, outputLines } from '../../helpers/factories.ts';
import { MemorySink } from '../../helpers/sinks.ts';
import { startDynalite, type LocalDynamo } from '../lookup/dynalite.ts';
import { startEventBridgeServer, startSecurityHubServer, type AlertServer, type AsffFinding, type PutEventsEntry } from './servers.ts';

const TABLE = 'alerts-dedup';
const PRODUCT_ARN = 'arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default';
const BUS = 'cloudtrail-enricher-test-findings';

/** StopLogging from a public address: CRITICAL (logging.cloudtrail-tampering) with the bundled rules. */
function stopLogging(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return cloudTrailEvent({
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'StopLogging',
    readOnly: false,
    sourceIPAddress: '81.2.69.160',
    ...overrides,
  });
}
/** A read-only call from a private address: LOW, never a finding. */
const quiet = (overrides: Record<string, unknown> = {}) => cloudTrailEvent({ sourceIPAddress: '10.0.0.5', ...overrides });

interface Recorded {
  logs: { level: string; message: string; extra?: Record<string, unknown> }[];
  metrics: Map<string, number>;
}

describe('alerts: findings to EventBridge and Security Hub, once each', function () {
  this.timeout(60_000);
  let eventBridge: AlertServer<PutEventsEntry>;
  let securityHub: AlertServer<AsffFinding>;
  let dynamo: LocalDynamo;
  const saved: Record<string, string | undefined> = {};
  let validateFinding: (value: unknown) => boolean;

  const setEnv = (name: string, value: string) => {
    if (!(name in saved)) saved[name] = process.env[name];
    process.env[name] = value;
  };

  before(async () => {
    await buildGeoData();
    eventBridge = await startEventBridgeServer();
    securityHub = await startSecurityHubServer();
    dynamo = await startDynalite([]);
    await dynamo.client.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // The SDK clients the alert stage creates itself find the loopback endpoints the documented way.
    setEnv('AWS_REGION', 'us-east-1');
    setEnv('AWS_ACCESS_KEY_ID', 'AKIDALERTS');
    setEnv('AWS_SECRET_ACCESS_KEY', 'alerts-secret');
    setEnv('AWS_ENDPOINT_URL_EVENTBRIDGE', eventBridge.url);
    setEnv('AWS_ENDPOINT_URL_SECURITYHUB', securityHub.url);
    setEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    const schema = JSON.parse(await readFile('schema/finding.schema.json', 'utf8')) as object;
    validateFinding = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
  });

  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await eventBridge?.close();
    await securityHub?.close();
    await dynamo?.close();
  });

  beforeEach(() => {
    for (const server of [eventBridge, securityHub]) {
      server.accepted.length = 0;
      server.calls.length = 0;
      server.requestBytes.length = 0;
      server.behaviour = () => ({ kind: 'ok' });
    }
  });

  /** A new container: configuration, stages (with their own SDK clients) and handler built from scratch. */
  function container(env: Record<string, string> = {}, sink = new MemorySink()): { handler: TransformHandler; recorded: Recorded } {
    // A generous call timeout unless a test is about timeouts: on a loaded machine a call cut after the endpoint
    // accepted it is resent (at least once), which is not what these tests look at.
    const config = loadConfig({ GEO_DB_DIR: resolve('data/geo'), ALERTS_EVENT_BUS_NAME: BUS, ALERT_CALL_TIMEOUT_MS: '15000', ...env });
    const recorded: Recorded = { logs: [], metrics: new Map() };
    const record = (level: string) => (message: string, extra?: Record<string, unknown>) =>
      void recorded.logs.push({ level, message, extra });
    const log = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
    const stages = buildStages(config, { log, alertClients: { sleep: async () => undefined } });
    const handler = createTransformHandler({
      config: config.core,
      intel: stages.intel,
      rules: stages.rules,
      alerts: stages.alerts,
      firehose: () => {
        throw new Error('not used');
      },
      kinesis: () => {
        throw new Error('not used');
      },
      sinkFor: () => sink,
      log,
      metrics: {
        addMetric: (name, _unit, value) => void recorded.metrics.set(name, (recorded.metrics.get(name) ?? 0) + value),
        publishStoredMetrics: () => {},
        publishWithDimensions: () => {},
      },
    });
    return { handler, recorded };
  }

  const details = (): Finding[] => eventBridge.accepted.map((e) => JSON.parse(e.Detail) as Finding);
  const batchOf = (events: Record<string, unknown>[][]): FirehoseTransformationEvent =>
    firehoseEvent(events.map((group) => firehoseRecord(cwlRecordOf(group))));

  /** The same batch through a handler without alerts: what every record must be whatever alerting does. */
  async function withoutAlerts(event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> {
    const config = loadConfig({ GEO_DB_DIR: resolve('data/geo') });
    const stages = buildStages(config);
    return createTransformHandler({
      config: config.core,
      intel: stages.intel,
      rules: stages.rules,
      firehose: () => {
        throw new Error('x');
      },
      kinesis: () => {
        throw new Error('x');
      },
      sinkFor: () => new MemorySink(),
    })(event, lambdaContext());
  }

  it('sends one finding per event at or above HIGH, with the documented source, detail-type and detail', async () => {
    const critical = stopLogging({ eventID: 'aaaaaaaa-0000-4000-8000-000000000001' });
    const event = batchOf([[critical, quiet(), quiet()], [quiet()]]);
    const { handler, recorded } = container();
    const result = await handler(event, lambdaContext());

    expect(result.records.map((r) => r.result)).to.deep.equal(['Ok', 'Ok']);
    expect(eventBridge.targets.at(-1)).to.equal('AWSEvents.PutEvents');
    expect(eventBridge.accepted).to.have.length(1);
    const entry = eventBridge.accepted[0]!;
    expect(entry).to.include({ Source: 'cloudtrail-enricher', DetailType: 'CloudTrail Enrichment Finding', EventBusName: BUS });
    const finding = details()[0]!;
    expect(validateFinding(finding), JSON.stringify((validateFinding as unknown as { errors: unknown }).errors)).to.equal(true);
    expect(finding).to.deep.include({
      eventID: critical.eventID,
      eventTime: critical.eventTime,
      eventName: 'StopLogging',
      eventSource: 'cloudtrail.amazonaws.com',
      account: '111122223333',
      region: 'us-east-1',
      priority: 'CRITICAL',
    });
    expect(finding.principal).to.include({
      arn: 'arn:aws:iam::111122223333:user/Alice',
      type: 'IAMUser',
      id: 'arn:aws:iam::111122223333:user/Alice',
    });
    expect(finding.source).to.include({ address: '81.2.69.160', kind: 'public', countryCode: 'GB' });
    expect(finding.source.as?.number).to.equal(20712);
    expect(finding.rules).to.include('logging.cloudtrail-tampering');
    expect(finding.reasons.map((r) => r.rule)).to.deep.equal(finding.reasons.map((r) => r.rule).filter((r) => finding.rules.includes(r)));
    expect(finding.score).to.be.within(1, 100);
    expect(finding.consoleUrl).to.equal(
      `https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/${critical.eventID}`,
    );
    expect(finding.summary).to.match(
      /^CRITICAL .+: StopLogging by arn:aws:iam::111122223333:user\/Alice from 81\.2\.69\.160 \(GB, AS20712 .+\) in 111122223333\/us-east-1$/,
    );
    expect(finding.event).to.deep.equal(critical);
    expect(recorded.metrics.get(MetricName.AlertsSent)).to.equal(1);
    expect(recorded.metrics.get(MetricName.AlertsFailed)).to.equal(0);
  });

  it('honours ALERT_MIN_PRIORITY: CRITICAL only leaves HIGH events in the stream', async () => {
    const high = cloudTrailEvent({
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
      sourceIPAddress: '10.0.0.9',
      readOnly: false,
    });
    const { handler } = container({ ALERT_MIN_PRIORITY: 'CRITICAL' });
    await handler(batchOf([[high, stopLogging()]]), lambdaContext());
    expect(details().map((f) => f.priority)).to.deep.equal(['CRITICAL']);
  });

  it('cuts a huge event so the entry stays under the 256 KB PutEvents limit, and says so', async () => {
    const huge = stopLogging({ requestParameters: { name: 'trail', padding: 'x'.repeat(400_000), quotes: '"\\'.repeat(20_000) } });
    const { handler } = container();
    const result = await handler(batchOf([[huge]]), lambdaContext());
    expect(result.records[0]!.result).to.equal('Ok');
    expect(outputLines(result.records[0]!.data!)[0]!.requestParameters).to.deep.equal(huge.requestParameters);
    const entry = eventBridge.accepted[0]!;
    const bytes = 14 + Buffer.byteLength(entry.Source) + Buffer.byteLength(entry.DetailType) + Buffer.byteLength(entry.Detail);
    expect(bytes).to.be.at.most(PUT_EVENTS_MAX_ENTRY_BYTES);
    expect(bytes).to.be.greaterThan(200 * 1024);
    const finding = details()[0]!;
    expect(validateFinding(finding)).to.equal(true);
    expect(finding.event).to.equal(undefined);
    expect(finding.eventTruncated!.originalBytes).to.equal(Buffer.byteLength(JSON.stringify(huge)));
    expect(JSON.stringify(huge).startsWith(finding.eventTruncated!.text)).to.equal(true);
  });

  it('sends at most 10 entries per PutEvents call and at most 100 findings per BatchImportFindings call', async () => {
    const events = Array.from({ length: 125 }, () => stopLogging());
    const { handler } = container({ SECURITY_HUB_ENABLED: 'true', SECURITY_HUB_PRODUCT_ARN: PRODUCT_ARN });
    await handler(batchOf([events.slice(0, 60), events.slice(60)]), lambdaContext());
    expect(eventBridge.calls.map((c) => c.length).sort((x, y) => y - x)).to.deep.equal([...Array<number>(12).fill(10), 5]);
    expect(eventBridge.requestBytes.every((b) => b < 256 * 1024 + 4096)).to.equal(true);
    expect(new Set(details().map((f) => f.eventID)).size).to.equal(125);
    expect(securityHub.targets.at(-1)).to.equal('POST /findings/import');
    expect(securityHub.calls.map((c) => c.length).sort((x, y) => y - x)).to.deep.equal([100, 25]);
  });

  it('imports ASFF under the default product, severity from priority, ATT&CK and resources from the event', async () => {
    const event = stopLogging();
    const { handler } = container({ SECURITY_HUB_ENABLED: 'true', SECURITY_HUB_PRODUCT_ARN: PRODUCT_ARN });
    await handler(batchOf([[event]]), lambdaContext());
    const asff = securityHub.accepted[0]!;
    const finding = details()[0]!;
    expect(asff).to.include({
      SchemaVersion: '2018-10-08',
      ProductArn: PRODUCT_ARN,
      AwsAccountId: '111122223333',
      Id: finding.id,
      SourceUrl: finding.consoleUrl,
    });
    expect(asff.Id).to.equal(`cloudtrail-enricher/${String(event.eventID)}/${finding.rules.join('+')}`);
    expect(asff.Severity).to.deep.equal({ Label: 'CRITICAL', Original: String(finding.score) });
    expect((asff.Types as string[]).length).to.be.greaterThan(0);
    expect((asff.Types as string[]).every((t) => /^(TTPs|Effects|Unusual Behaviors)\//.test(t))).to.equal(true);
    expect(asff.Resources).to.deep.include({
      Type: 'AwsIamUser',
      Id: 'arn:aws:iam::111122223333:user/Alice',
      Partition: 'aws',
      Region: 'us-east-1',
    });
    expect((asff.ProductFields as Record<string, string>)['cloudtrail-enricher/eventID']).to.equal(event.eventID);
    expect(asff.Network).to.deep.equal({ Direction: 'IN', SourceIpV4: '81.2.69.160' });
  });

  it('retries failed PutEvents entries and throttled calls until every finding is accepted once', async () => {
    eventBridge.behaviour = (call) =>
      call === 1
        ? { kind: 'entries', codes: ['ThrottlingException', undefined, 'InternalFailure'] }
        : call === 2
          ? { kind: 'status', status: 400, type: 'ThrottlingException' }
          : { kind: 'ok' };
    const events = [stopLogging(), stopLogging(), stopLogging()];
    const { handler, recorded } = container();
    await handler(batchOf([events]), lambdaContext());
    expect(
      details()
        .map((f) => f.eventID)
        .sort(),
    ).to.deep.equal(events.map((e) => String(e.eventID)).sort());
    expect(eventBridge.calls.map((c) => c.length)).to.deep.equal([3, 2, 2]);
    expect(recorded.metrics.get(MetricName.AlertsSent)).to.equal(3);
  });

  it('sends nothing twice for a batch Firehose retries or an event that reaches the stream twice (one container)', async () => {
    const event = stopLogging();
    const { handler, recorded } = container();
    await handler(batchOf([[event]]), lambdaContext());
    await handler(batchOf([[event]]), lambdaContext());
    await handler(batchOf([[event, event]]), lambdaContext());
    expect(details()).to.have.length(1);
    expect(recorded.metrics.get(MetricName.AlertsDuplicate)).to.equal(3);
  });

  it('never alerts for re-ingested records coming back as pass-through', async () => {
    const sink = new MemorySink();
    const { handler } = container({}, sink);
    // Two regions in one record: the second partition is re-ingested, already enriched and judged.
    const first = await handler(batchOf([[stopLogging(), stopLogging({ awsRegion: 'eu-west-1' })]]), lambdaContext());
    expect(first.records[0]!.result).to.equal('Ok');
    expect(details()).to.have.length(2);
    const reingested = sink.drain();
    expect(reingested).to.have.length(1);
    const second = await handler(firehoseEvent(reingested.map((r) => firehoseRecord(r.data.toString('base64')))), lambdaContext());
    expect(second.records.map((r) => r.result)).to.deep.equal(['Ok']);
    expect(details()).to.have.length(2);
    // A handcrafted envelope (as another container would have re-ingested) is passed through too.
    const envelope = encodeEnvelope(
      { v: 1, n: 1, origin: 'other-container-record', pk: { account: '111122223333', region: 'us-east-1', dt: '2026-11-20' } },
      Buffer.from(JSON.stringify(stopLogging()) + '\n'),
    );
    await handler(firehoseEvent([firehoseRecord(envelope.toString('base64'))]), lambdaContext());
    expect(details()).to.have.length(2);
  });

  it('sends a finding once across two containers sharing the dedup table, even at the same moment', async () => {
    const env = { ALERTS_DEDUP_TABLE_NAME: TABLE };
    const a = container(env);
    const b = container(env);
    const events = Array.from({ length: 12 }, () => stopLogging());
    const batch = batchOf([events]);
    const results = await Promise.all([a.handler(batch, lambdaContext()), b.handler(batch, lambdaContext())]);
    for (const result of results) expect(result.records.map((r) => r.result)).to.deep.equal(['Ok']);
    expect(
      details()
        .map((f) => f.eventID)
        .sort(),
    ).to.deep.equal(events.map((e) => String(e.eventID)).sort());
    expect((a.recorded.metrics.get(MetricName.AlertsSent) ?? 0) + (b.recorded.metrics.get(MetricName.AlertsSent) ?? 0)).to.equal(12);
    // A third container started later asks the table and sends nothing.
    const c = container(env);
    await c.handler(batch, lambdaContext());
    expect(details()).to.have.length(12);
    expect(c.recorded.metrics.get(MetricName.AlertsDuplicate)).to.equal(12);
    const item = await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `alert#${details()[0]!.id}` } } }));
    expect(Number(item.Item?.expiresAt?.N)).to.be.greaterThan(Date.now() / 1000 + 6 * 86_400);
  });

  it('treats an expired dedup item as absent (TTL deletion is lazy)', async () => {
    const event = stopLogging();
    const { handler: probe } = container({ ALERTS_DEDUP_TABLE_NAME: TABLE, ALERTS_EVENT_BUS_NAME: 'probe-bus' });
    await probe(batchOf([[event]]), lambdaContext());
    const id = details()[0]!.id;
    eventBridge.accepted.length = 0;
    await dynamo.client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: `alert#${id}` }, expiresAt: { N: String(Math.floor(Date.now() / 1000) - 60) }, claim: { S: 'old' } },
      }),
    );
    const { handler } = container({ ALERTS_DEDUP_TABLE_NAME: TABLE });
    await handler(batchOf([[event]]), lambdaContext());
    expect(details().map((f) => f.id)).to.deep.equal([id]);
  });

  it('counts repeats of a rule by the same principal within ALERT_GROUP_WINDOW on the first finding', async () => {
    const env = { ALERTS_DEDUP_TABLE_NAME: TABLE, ALERT_GROUP_WINDOW: '1h' };
    const at = (minute: number) => `2026-11-21T10:${String(minute).padStart(2, '0')}:00Z`;
    const burst = [0, 5, 10, 15, 20].map((m) => stopLogging({ eventTime: at(m) }));
    const other = stopLogging({
      eventTime: at(30),
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/Bob', accountId: '111122223333', principalId: 'AIDABOB' },
    });
    const a = container(env);
    await a.handler(batchOf([[...burst, other]]), lambdaContext());
    const sent = details();
    expect(sent).to.have.length(2);
    const alice = sent.find((f) => f.principal.arn?.endsWith('/Alice'))!;
    expect(alice.group).to.deep.equal({ windowStart: '2026-11-21T10:00:00.000Z', windowEnd: '2026-11-21T11:00:00.000Z', count: 5 });
    expect(validateFinding(alice)).to.equal(true);
    expect(a.recorded.metrics.get(MetricName.AlertsGrouped)).to.equal(4);
    // Later repeats in the same window (another container) are counted, not sent; the next window opens a new finding.
    const b = container(env);
    await b.handler(
      batchOf([
        [stopLogging({ eventTime: at(45) }), stopLogging({ eventTime: at(50) }), stopLogging({ eventTime: '2026-11-21T11:05:00Z' })],
      ]),
      lambdaContext(),
    );
    expect(details()).to.have.length(3);
    expect(details()[2]!.group?.windowStart).to.equal('2026-11-21T11:00:00.000Z');
    expect(b.recorded.metrics.get(MetricName.AlertsGrouped)).to.equal(2);
  });

  it('without a table, dedups per process', async () => {
    const event = stopLogging();
    const a = container();
    const b = container();
    await a.handler(batchOf([[event]]), lambdaContext());
    await a.handler(batchOf([[event]]), lambdaContext());
    await b.handler(batchOf([[event]]), lambdaContext());
    expect(details()).to.have.length(2);
  });

  describe('alerts never cost data', () => {
    const events = () => [
      [stopLogging(), quiet(), stopLogging()],
      [quiet(), stopLogging({ awsRegion: 'eu-west-1' })],
    ];

    /** Records as a handler without alerts returns them (same events, same ids). */
    async function expectSameRecords(event: FirehoseTransformationEvent, result: FirehoseTransformationResult) {
      const plain = await withoutAlerts(event);
      expect(result.records.map((r) => [r.recordId, r.result, outputLines(r.data!)])).to.deep.equal(
        plain.records.map((r) => [r.recordId, r.result, outputLines(r.data!)]),
      );
    }

    it('returns every record as usual when EventBridge keeps failing, logs one line and counts AlertsFailed', async () => {
      eventBridge.behaviour = () => ({ kind: 'status', status: 500, type: 'InternalException' });
      const event = batchOf(events());
      const { handler, recorded } = container({ ALERT_MAX_ATTEMPTS: '3' });
      const result = await handler(event, lambdaContext());
      await expectSameRecords(event, result);
      expect(eventBridge.calls).to.have.length(3);
      expect(recorded.metrics.get(MetricName.AlertsFailed)).to.equal(3);
      expect(recorded.metrics.get(MetricName.AlertsSent)).to.equal(0);
      const lines = recorded.logs.filter((l) => l.level === 'error');
      expect(lines).to.have.length(1);
      expect(lines[0]!.message).to.match(/alerts failed after all retries/);
      expect(JSON.stringify(lines[0]!.extra)).to.include('InternalException');
    });

    it('gives the claim back when sending failed, so the batch Firehose retries sends the finding', async () => {
      const env = { ALERTS_DEDUP_TABLE_NAME: TABLE, ALERT_MAX_ATTEMPTS: '1' };
      const event = batchOf([[stopLogging()]]);
      eventBridge.behaviour = () => ({ kind: 'status', status: 500, type: 'InternalException' });
      await container(env).handler(event, lambdaContext());
      expect(eventBridge.accepted).to.have.length(0);
      eventBridge.behaviour = () => ({ kind: 'ok' });
      await container(env).handler(event, lambdaContext());
      expect(eventBridge.accepted).to.have.length(1);
    });

    it('answers in time with every record when EventBridge and Security Hub hang', async () => {
      eventBridge.behaviour = () => ({ kind: 'hang' });
      securityHub.behaviour = () => ({ kind: 'hang' });
      const event = batchOf(events());
      const { handler, recorded } = container({
        SECURITY_HUB_ENABLED: 'true',
        SECURITY_HUB_PRODUCT_ARN: PRODUCT_ARN,
        ALERT_CALL_TIMEOUT_MS: '60000',
        RESPONSE_RESERVE_MS: '500',
      });
      await handler(batchOf([[quiet()]]), lambdaContext()); // warm: geo databases open
      const started = Date.now();
      const result = await handler(event, lambdaContext(2500));
      expect(Date.now() - started).to.be.below(2500);
      await expectSameRecords(event, result);
      expect(recorded.metrics.get(MetricName.AlertsFailed)).to.equal(3);
    });

    it('answers in time when the dedup table hangs, and still alerts (a repeat is better than a miss)', async () => {
      const env = { ALERTS_DEDUP_TABLE_NAME: TABLE, ALERT_CALL_TIMEOUT_MS: '300' };
      const hangingDynamo = { send: () => new Promise<never>(() => undefined) };
      const config = loadConfig({ GEO_DB_DIR: resolve('data/geo'), ALERTS_EVENT_BUS_NAME: BUS, ...env });
      const stages = buildStages(config, { alertClients: { dynamoDb: hangingDynamo } });
      const handler = createTransformHandler({
        config: config.core,
        intel: stages.intel,
        rules: stages.rules,
        alerts: stages.alerts,
        firehose: () => {
          throw new Error('x');
        },
        kinesis: () => {
          throw new Error('x');
        },
        sinkFor: () => new MemorySink(),
      });
      const event = batchOf([[stopLogging()]]);
      await handler(batchOf([[quiet()]]), lambdaContext()); // warm: geo databases open
      const started = Date.now();
      const result = await handler(event, lambdaContext(3000));
      expect(Date.now() - started).to.be.below(3000);
      await expectSameRecords(event, result);
      expect(eventBridge.accepted).to.have.length(1);
    });
  });
});
