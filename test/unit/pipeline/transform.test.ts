import { expect } from 'chai';
import { parseCoreConfig, type CoreConfig } from '../../../src/config/core.ts';
import { encodeEnvelope } from '../../../src/codec/envelope.ts';
import type { IpIntelligence, LookupOptions } from '../../../src/3-lookup/types.ts';
import { emptyLookupStats } from '../../../src/3-lookup/types.ts';
import type { CloudTrailEvent, Enrichment, IpIntel, Verdict } from '../../../src/model.ts';
import type { RuleEngine } from '../../../src/5-rules/types.ts';
import { transformBatch, type TransformDeps } from '../../../src/pipeline/transform.ts';
import {
  cloudTrailEvent,
  cloudWatchLogsData,
  cwlRecordOf,
  firehoseEvent,
  firehoseRecord,
  lambdaContext,
  outputLines,
  plainData,
} from '../../helpers/factories.ts';
import { MemorySink } from '../../helpers/sinks.ts';

/** A lookup stage that answers from a table and records what it was asked. */
class TableIntelligence implements IpIntelligence {
  readonly calls: { ips: string[]; options: LookupOptions }[] = [];
  constructor(
    private readonly table: Record<string, IpIntel>,
    private readonly fail = false,
  ) {}
  async lookup(ips: readonly string[], options: LookupOptions) {
    this.calls.push({ ips: [...ips], options });
    if (this.fail) throw new Error('lookup exploded');
    const intel = new Map<string, IpIntel>();
    for (const ip of ips) intel.set(ip, this.table[ip] ?? { complete: false });
    return { intel, stats: { ...emptyLookupStats(), uniqueIps: ips.length } };
  }
}

/** Rules that flag a named event, and can be told to throw. */
class NamedEventRules implements RuleEngine {
  readonly seen: Enrichment[] = [];
  constructor(
    private readonly eventName: string,
    private readonly explode = false,
  ) {}
  evaluate(event: CloudTrailEvent, enrichment: Readonly<Enrichment>): Verdict {
    this.seen.push(enrichment);
    if (this.explode) throw new Error('rule bug');
    if (event.eventName === this.eventName) {
      return {
        priority: 'HIGH',
        risk: { score: 70, reasons: [{ rule: 'named-event', priority: 'HIGH', score: 70, detail: `${this.eventName} called` }] },
      };
    }
    return { priority: 'LOW', risk: { score: 0, reasons: [] } };
  }
}

const GOOGLE: IpIntel = {
  complete: true,
  geo: { countryCode: 'US', countryName: 'United States' },
  as: { number: 15169, organization: 'Google LLC' },
};

function deps(overrides: Partial<TransformDeps> = {}, config: Partial<CoreConfig> = {}): TransformDeps & { sink: MemorySink } {
  const sink = new MemorySink();
  return { config: { ...parseCoreConfig({}), ...config }, sinkFor: () => sink, sink, ...overrides };
}

describe('transformBatch', () => {
  it('returns the first partition of a CloudWatch Logs record and re-ingests the other partitions', async () => {
    const d = deps();
    const events = [cloudTrailEvent(), cloudTrailEvent({ eventTime: '2026-11-21T00:00:01Z' }), cloudTrailEvent()];
    const { result, summary } = await transformBatch(firehoseEvent([firehoseRecord(cwlRecordOf(events))]), lambdaContext(), d);
    const [out] = result.records;
    expect(out!.result).to.equal('Ok');
    expect(out!.metadata!.partitionKeys).to.deep.equal({ account: '111122223333', region: 'us-east-1', dt: '2026-11-20' });
    expect(outputLines(out!.data!).map((l) => l.eventID)).to.deep.equal([events[0]!.eventID, events[2]!.eventID]);
    expect(d.sink.received).to.have.length(1);
    expect(summary).to.deep.include({ eventsIn: 3, eventsReturned: 2, eventsReingested: 1, reingestedRecords: 1 });
  });

  it('drops CloudWatch Logs control messages and fails undecodable records with their original data', async () => {
    const control = firehoseRecord(cloudWatchLogsData([], { messageType: 'CONTROL_MESSAGE' }));
    const garbage = firehoseRecord(Buffer.from('definitely not gzip or json').toString('base64'));
    const good = firehoseRecord(plainData(cloudTrailEvent()));
    const { result, summary } = await transformBatch(firehoseEvent([control, garbage, good]), lambdaContext(), deps());
    expect(result.records.map((r) => r.result)).to.deep.equal(['Dropped', 'ProcessingFailed', 'Ok']);
    expect(result.records[1]!.data).to.equal(garbage.data);
    expect(summary.failureReasons).to.deep.equal({ 'data is neither gzip nor JSON': 1 });
  });

  it('keeps a message that is not a CloudTrail object as a skipped line with its raw text', async () => {
    const { result, summary } = await transformBatch(
      firehoseEvent([firehoseRecord(cloudWatchLogsData(['hello\tworld', '{"a":']))]),
      lambdaContext(),
      deps(),
    );
    const lines = outputLines(result.records[0]!.data!);
    expect(lines.map((l) => (l.enrichment as Enrichment).raw)).to.deep.equal(['hello\tworld', '{"a":']);
    expect(lines.every((l) => (l.enrichment as Enrichment).status === 'skipped')).to.equal(true);
    expect(summary.skipped).to.equal(2);
  });

  it('returns exactly one document per record in OpenSearch mode, without partition keys', async () => {
    const d = deps({}, { outputMode: 'opensearch' });
    const events = [cloudTrailEvent(), cloudTrailEvent(), cloudTrailEvent()];
    const { result } = await transformBatch(firehoseEvent([firehoseRecord(cwlRecordOf(events))]), lambdaContext(), d);
    const text = Buffer.from(result.records[0]!.data!, 'base64').toString('utf8');
    expect(text).not.to.include('\n');
    expect((JSON.parse(text) as { eventID: string }).eventID).to.equal(events[0]!.eventID);
    expect(result.records[0]!.metadata).to.equal(undefined);
    expect(d.sink.received.map((r) => r.lines)).to.deep.equal([1, 1]);
  });

  it('passes a re-ingested record through byte for byte, without enriching it again', async () => {
    const body =
      '{"eventID":"a","enrichment":{"version":1,"status":"complete"}}\n{"eventID":"b","enrichment":{"version":1,"status":"complete"}}\n';
    const data = encodeEnvelope(
      { v: 1, pk: { account: '111122223333', region: 'eu-west-1', dt: '2026-11-20' }, n: 2, origin: 'r1' },
      body,
    ).toString('base64');
    const intel = new TableIntelligence({});
    const { result, summary } = await transformBatch(firehoseEvent([firehoseRecord(data)]), lambdaContext(), deps({ intel }));
    expect(Buffer.from(result.records[0]!.data!, 'base64').toString('utf8')).to.equal(body);
    expect(result.records[0]!.metadata!.partitionKeys).to.deep.equal({ account: '111122223333', region: 'eu-west-1', dt: '2026-11-20' });
    expect(summary).to.deep.include({ passthroughEvents: 2, eventsIn: 0 });
    expect(intel.calls).to.have.length(0);
  });

  it('re-sanitises partition keys carried by a re-ingested record', async () => {
    const data = encodeEnvelope(
      { v: 1, pk: { account: '../../x', region: 'us-east-1/../../y', dt: 'today' }, n: 1, origin: 'r1' },
      '{"enrichment":{}}\n',
    ).toString('base64');
    const { result } = await transformBatch(firehoseEvent([firehoseRecord(data)]), lambdaContext(), deps());
    expect(result.records[0]!.metadata!.partitionKeys).to.deep.equal({ account: 'unknown', region: 'unknown', dt: '2026-11-20' });
  });

  it('looks up each unique public IP once per invocation, never a non-public address', async () => {
    const intel = new TableIntelligence({ '8.8.8.8': GOOGLE });
    const events = ['8.8.8.8', '8.8.8.8', '::ffff:8.8.8.8', '10.1.2.3', 'AWS Internal', 'ec2.amazonaws.com', '192.0.2.1', '010.1.1.1'].map(
      (ip) => cloudTrailEvent({ sourceIPAddress: ip }),
    );
    const { result } = await transformBatch(
      firehoseEvent([firehoseRecord(cwlRecordOf(events.slice(0, 4))), firehoseRecord(cwlRecordOf(events.slice(4)))]),
      lambdaContext(),
      deps({ intel }),
    );
    expect(intel.calls).to.have.length(1);
    expect(intel.calls[0]!.ips).to.deep.equal(['8.8.8.8']);
    const lines = result.records.flatMap((r) => outputLines(r.data!));
    const sources = lines.map((l) => (l.enrichment as Enrichment).source!);
    expect(sources.map((s) => s.kind)).to.deep.equal([
      'public',
      'public',
      'public',
      'private',
      'aws-internal',
      'aws-service',
      'reserved',
      'invalid',
    ]);
    expect(sources[2]).to.deep.include({ address: '::ffff:8.8.8.8', ip: '8.8.8.8', ipVersion: 4 });
    expect(sources[0]!.geo).to.deep.equal(GOOGLE.geo);
    expect(sources[3]!.geo).to.equal(undefined);
  });

  it('gives the lookup a deadline inside the remaining invocation time', async () => {
    const intel = new TableIntelligence({ '8.8.8.8': GOOGLE });
    const now = 1_000_000;
    await transformBatch(
      firehoseEvent([firehoseRecord(cwlRecordOf([cloudTrailEvent()]))]),
      lambdaContext(10_000),
      deps({ intel, now: () => now }),
    );
    // (10,000 − 2,000 reserved) × 0.5
    expect(intel.calls[0]!.options.deadline).to.equal(now + 4_000);
  });

  it('ends the lookups earlier when the work after them would not fit in their share (many unique sources)', async () => {
    const intel = new TableIntelligence({});
    const now = 1_000_000;
    const events = Array.from({ length: 20_000 }, (_, i) =>
      cloudTrailEvent({ sourceIPAddress: `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, eventID: `e-${i}` }),
    );
    const records = [];
    for (let i = 0; i < events.length; i += 500) records.push(firehoseRecord(cwlRecordOf(events.slice(i, i + 500))));
    await transformBatch(firehoseEvent(records), lambdaContext(3000), deps({ intel, now: () => now }));
    // (3,000 − 2,000 reserved) × 0.5 = 500 ms would leave too little time to encode and plan 20,000 distinct sources.
    const deadline = intel.calls[0]!.options.deadline;
    expect(deadline)
      .to.be.at.least(now)
      .and.below(now + 500);
  });

  it('marks an event partial, never failed, when the lookup is incomplete or throws', async () => {
    for (const intel of [new TableIntelligence({}), new TableIntelligence({}, true)]) {
      const { result } = await transformBatch(
        firehoseEvent([firehoseRecord(cwlRecordOf([cloudTrailEvent(), cloudTrailEvent({ sourceIPAddress: 'AWS Internal' })]))]),
        lambdaContext(),
        deps({ intel }),
      );
      expect(result.records[0]!.result).to.equal('Ok');
      expect(outputLines(result.records[0]!.data!).map((l) => (l.enrichment as Enrichment).status)).to.deep.equal(['partial', 'complete']);
    }
  });

  it('adds priority and risk from the rules, and survives a rule that throws', async () => {
    const events = [cloudTrailEvent({ eventName: 'StopLogging' }), cloudTrailEvent()];
    const ok = await transformBatch(
      firehoseEvent([firehoseRecord(cwlRecordOf(events))]),
      lambdaContext(),
      deps({ rules: new NamedEventRules('StopLogging') }),
    );
    const lines = outputLines(ok.result.records[0]!.data!).map((l) => l.enrichment as Enrichment);
    expect(lines[0]).to.deep.include({ priority: 'HIGH' });
    expect(lines[0]!.risk!.reasons[0]!.rule).to.equal('named-event');
    expect(lines[1]).to.deep.include({ priority: 'LOW', risk: { score: 0, reasons: [] } });
    expect(ok.summary.byPriority).to.deep.equal({ HIGH: 1, LOW: 1 });

    const broken = await transformBatch(
      firehoseEvent([firehoseRecord(cwlRecordOf(events))]),
      lambdaContext(),
      deps({ rules: new NamedEventRules('x', true) }),
    );
    expect(broken.result.records[0]!.result).to.equal('Ok');
    expect(outputLines(broken.result.records[0]!.data!).map((l) => (l.enrichment as Enrichment).status)).to.deep.equal([
      'partial',
      'partial',
    ]);
  });

  it('gives the rules the source enrichment of the event', async () => {
    const rules = new NamedEventRules('none');
    const intel = new TableIntelligence({ '8.8.8.8': GOOGLE });
    await transformBatch(firehoseEvent([firehoseRecord(cwlRecordOf([cloudTrailEvent()]))]), lambdaContext(), deps({ rules, intel }));
    expect(rules.seen[0]!.source).to.deep.include({ kind: 'public', ip: '8.8.8.8', as: GOOGLE.as });
  });

  it('re-ingests the overflow when the response would exceed its budget, and conserves events', async () => {
    const d = deps({}, { responseBudget: 40_000 });
    const events = Array.from({ length: 30 }, () => cloudTrailEvent({ userAgent: 'a'.repeat(3000) }));
    const { result, summary } = await transformBatch(
      firehoseEvent([firehoseRecord(cwlRecordOf(events.slice(0, 15))), firehoseRecord(cwlRecordOf(events.slice(15)))]),
      lambdaContext(),
      d,
    );
    expect(JSON.stringify(result).length).to.be.at.most(40_000);
    expect(summary.eventsReingested).to.be.greaterThan(0);
    expect(summary.eventsReturned + summary.eventsReingested).to.equal(30);
  });

  it('uses the original partition key for Kinesis-sourced records', async () => {
    const d = deps();
    const record = firehoseRecord(cwlRecordOf([cloudTrailEvent(), cloudTrailEvent({ awsRegion: 'eu-west-1' })]), {
      kinesisRecordMetadata: {
        shardId: 's',
        partitionKey: 'pk-1',
        approximateArrivalTimestamp: 0,
        sequenceNumber: '1',
        subsequenceNumber: '0',
      },
    });
    await transformBatch(
      firehoseEvent([record], { sourceKinesisStreamArn: 'arn:aws:kinesis:us-east-1:111122223333:stream/s' }),
      lambdaContext(),
      d,
    );
    expect(d.sink.received.map((r) => r.partitionKey)).to.deep.equal(['pk-1']);
  });
});
