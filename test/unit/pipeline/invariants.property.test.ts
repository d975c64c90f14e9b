import { expect } from 'chai';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import { parseCoreConfig, type CoreConfig } from '../../../src/config/core.ts';
import { LAMBDA_RESPONSE_LIMIT } from '../../../src/8-deliver/limits.ts';
import { cloudTrailEvent, cloudWatchLogsData, firehoseEvent, firehoseRecord, plainData } from '../../helpers/factories.ts';
import { runUntilDrained } from '../../helpers/harness.ts';
import { MemorySink } from '../../helpers/sinks.ts';

/**
 * SPEC invariants, checked over arbitrary mixes of valid, oversized and garbage records, across the
 * whole sequence of invocations Firehose makes when the handler re-ingests.
 * FUZZ_RUNS raises the number of runs (npm run test:fuzz).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

interface Generated {
  readonly record: FirehoseTransformationEventRecord;
  /** Unique tokens of the events inside, each must come out exactly once. */
  readonly tokens: string[];
  /** Undecodable: must come back ProcessingFailed with the same data. */
  readonly garbage: boolean;
}

let serial = 0;
const token = () => `tok-${++serial}-${Math.random().toString(36).slice(2, 8)}`;

const partitionFields = fc.record({
  recipientAccountId: fc.constantFrom('111122223333', '444455556666', '12345', '../../etc', undefined),
  awsRegion: fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-east-1/../x', '', undefined),
  eventTime: fc.constantFrom(
    '2026-11-19T23:59:59Z',
    '2026-11-20T00:00:00Z',
    '2026-11-20T13:00:00+05:00',
    'yesterday',
    '1999-01-01T00:00:00Z',
    undefined,
  ),
  sourceIPAddress: fc.constantFrom(
    '8.8.8.8',
    '2606:4700:4700::1111',
    '10.0.0.1',
    'AWS Internal',
    'ec2.amazonaws.com',
    '010.1.1.1',
    '192.0.2.1',
    undefined,
  ),
});

const eventArb = fc
  .tuple(partitionFields, fc.nat({ max: 6000 }), fc.string({ maxLength: 40 }), fc.boolean())
  .map(([fields, padding, noise, weird]) => {
    const id = token();
    const event = cloudTrailEvent({ ...fields, eventID: id, userAgent: 'x'.repeat(padding) + noise });
    if (weird) event['__proto__ key'] = { constructor: { prototype: { polluted: true } } };
    return { id, text: JSON.stringify(event) };
  });

/** A message a CloudWatch Logs subscription could carry that is not a CloudTrail object. */
const nonEventMessage = fc.tuple(fc.constantFrom('plain', 'array', 'number', 'broken'), fc.string({ maxLength: 30 })).map(([kind, s]) => {
  const id = token();
  const text =
    kind === 'plain' ? `${id} ${s}` : kind === 'array' ? JSON.stringify([id, s]) : kind === 'number' ? `42 ${id}` : `{"broken": "${id}`;
  return { id, text };
});

const generated: fc.Arbitrary<Generated> = fc.oneof(
  fc
    .array(fc.oneof({ weight: 5, arbitrary: eventArb }, { weight: 1, arbitrary: nonEventMessage }), { minLength: 1, maxLength: 12 })
    .map((items) => ({
      record: firehoseRecord(cloudWatchLogsData(items.map((i) => i.text))),
      tokens: items.map((i) => i.id),
      garbage: false,
    })),
  eventArb.map((e) => ({ record: firehoseRecord(plainData(e.text)), tokens: [e.id], garbage: false })),
  fc.array(eventArb, { minLength: 1, maxLength: 5 }).map((items) => ({
    record: firehoseRecord(plainData({ Records: items.map((i) => JSON.parse(i.text) as unknown) })),
    tokens: items.map((i) => i.id),
    garbage: false,
  })),
  eventArb.map((e) => ({
    record: firehoseRecord(
      plainData({ version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ec2', detail: JSON.parse(e.text) as unknown }),
    ),
    tokens: [e.id],
    garbage: false,
  })),
  fc
    .constant(0)
    .map(() => ({ record: firehoseRecord(cloudWatchLogsData([], { messageType: 'CONTROL_MESSAGE' })), tokens: [], garbage: false })),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => ({
    // Random bytes that are neither gzip nor JSON (a leading 0xff rules out both, and the envelope magic).
    record: firehoseRecord(Buffer.concat([Buffer.from([0xff]), Buffer.from(bytes)]).toString('base64')),
    tokens: [],
    garbage: true,
  })),
  fc.string({ minLength: 1, maxLength: 50 }).map((s) => ({ record: firehoseRecord(`${s}!*`), tokens: [], garbage: true })),
  eventArb.map((e) => {
    const gz = gzipSync(e.text);
    return { record: firehoseRecord(gz.subarray(0, Math.max(3, gz.length >> 1)).toString('base64')), tokens: [], garbage: true };
  }),
);

function config(mode: 's3' | 'opensearch', responseBudget: number): CoreConfig {
  return { ...parseCoreConfig({ OUTPUT_MODE: mode }), responseBudget, reingestBaseDelayMs: 0, reingestMaxDelayMs: 0 };
}

async function checkInvariants(batch: Generated[], mode: 's3' | 'opensearch', budget: number, flaky: boolean): Promise<void> {
  const sink = new MemorySink(flaky ? (call, index) => ((call + index) % 4 === 0 ? 'ServiceUnavailableException' : undefined) : undefined);
  const rounds = await runUntilDrained(firehoseEvent(batch.map((g) => g.record)), sink, {
    config: config(mode, budget),
    sleep: async () => {},
  });

  const seen = new Map<string, number>();
  for (const [i, round] of rounds.entries()) {
    // Every recordId exactly once, data always a base64 string, response within Lambda's limit.
    expect(round.result.records.map((r) => r.recordId)).to.deep.equal(round.event.records.map((r) => r.recordId));
    expect(JSON.stringify(round.result).length).to.be.at.most(LAMBDA_RESPONSE_LIMIT);
    for (const [j, out] of round.result.records.entries()) {
      expect(out.data).to.be.a('string');
      // Base64, except that a failed record echoes its input unchanged (Firehose only ever sends base64).
      if (out.result === 'ProcessingFailed') expect(out.data).to.equal(round.event.records[j]!.data);
      else expect(out.data).to.match(/^[A-Za-z0-9+/]*={0,2}$/);
      if (i === 0 && batch[j]!.garbage) {
        expect(out.result).to.equal('ProcessingFailed');
        expect(out.data).to.equal(batch[j]!.record.data);
      }
      if (out.result !== 'Ok') continue;
      const text = Buffer.from(out.data!, 'base64').toString('utf8');
      const lines = mode === 's3' ? text.split('\n').slice(0, -1) : [text];
      if (mode === 's3') expect(text.endsWith('\n')).to.equal(true);
      else expect(text).not.to.include('\n');
      for (const line of lines) {
        const doc = JSON.parse(line) as Record<string, unknown>;
        const enrichment = doc.enrichment as Record<string, unknown>;
        expect(enrichment.version).to.equal(1);
        const id = typeof doc.eventID === 'string' ? doc.eventID : /tok-\d+-[a-z0-9]+/.exec(String(enrichment.raw))?.[0];
        expect(id, line.slice(0, 200)).to.be.a('string');
        seen.set(id!, (seen.get(id!) ?? 0) + 1);
        if (mode === 's3') {
          const keys = out.metadata!.partitionKeys as Record<string, string>;
          expect(keys.account).to.match(/^(\d{12}|unknown|other)$/);
          expect(keys.region).to.match(/^[a-z0-9-]+$/);
          expect(keys.dt).to.match(/^\d{4}-\d{2}-\d{2}$/);
        }
      }
    }
  }
  // Conservation: every event in comes out exactly once.
  const expected = batch.flatMap((g) => g.tokens);
  expect([...seen.keys()].sort()).to.deep.equal([...expected].sort());
  for (const [id, count] of seen) expect(count, id).to.equal(1);
  expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
}

describe('transform invariants (property-based)', function () {
  this.timeout(120_000);

  it('returns every recordId once, fails only undecodable records (data unchanged) and conserves events in S3 mode', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(generated, { minLength: 1, maxLength: 10 }),
        fc.constantFrom(6_000_000, 60_000, 12_000),
        async (batch, budget) => {
          await checkInvariants(batch, 's3', budget, false);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('keeps one document per record and conserves events in OpenSearch mode', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(generated, { minLength: 1, maxLength: 8 }), fc.constantFrom(6_000_000, 20_000), async (batch, budget) => {
        await checkInvariants(batch, 'opensearch', budget, false);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('conserves events when PutRecordBatch rejects some entries and they are retried', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(generated, { minLength: 1, maxLength: 8 }), async (batch) => {
        await checkInvariants(batch, 's3', 15_000, true);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('preserves the original event text verbatim before the enrichment key', async () => {
    await fc.assert(
      fc.asyncProperty(eventArb, async (e) => {
        const sink = new MemorySink();
        const [round] = await runUntilDrained(firehoseEvent([firehoseRecord(cloudWatchLogsData([e.text]))]), sink, {
          config: config('s3', 6_000_000),
        });
        const line = Buffer.from(round!.result.records[0]!.data!, 'base64').toString('utf8').trimEnd();
        expect(line.startsWith(e.text.slice(0, -1))).to.equal(true);
        const doc = JSON.parse(line) as Record<string, unknown>;
        const { enrichment: _enrichment, ...original } = doc;
        expect(original).to.deep.equal(JSON.parse(e.text));
      }),
      { numRuns: RUNS },
    );
  });
});
