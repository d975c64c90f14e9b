import { expect } from 'chai';
import fc from 'fast-check';
import v8 from 'node:v8';
import vm from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { decodeRecord, type DecodedRecord } from '../../src/1-decode/record.ts';
import { newDecompressionBudget, parsedCostEstimate } from '../../src/1-decode/limits.ts';
import { parseCoreConfig } from '../../src/config/core.ts';
import { transformBatch } from '../../src/pipeline/transform.ts';
import { cloudTrailEvent, cloudWatchLogsData, firehoseEvent, firehoseRecord, outputLines } from '../helpers/factories.ts';
import { MemorySink } from '../helpers/sinks.ts';
import { RUNS } from './support.ts';

/**
 * "No input record can make the process exceed the budget" (property-based). Hostile shapes that cost far more heap
 * than their text (empty objects, deep nesting, wide arrays, wide objects of distinct keys, huge strings, big
 * numbers, many tiny events), sized around the per-record limit, in every record format: a record that decodes
 * retains no more heap (measured after a full GC) than MAX_PARSED_BYTES_PER_RECORD; one that does not fit fails
 * alone, with its original data, and the records around it are delivered. `npm run test:fuzz` runs 10,000 cases;
 * test/integration/memory/parsed-budget.test.ts runs a batch of worst-case records with the heap capped.
 */

/** Per-record parsed limit of these properties: small, so that a run is fast, large against the measurement noise. */
const PER_RECORD = 2 * 1024 * 1024;
/** Heap measurement noise allowed (allocation-site feedback, compiled code, GC pages: measured ±100 KB). */
const NOISE = 256 * 1024;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const wrap = (payload: string, id: number): string =>
  `{"eventVersion":"1.09","eventID":"hostile-${id}","eventTime":"2026-11-20T14:03:21Z","eventName":"X","eventSource":"s.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"111122223333","sourceIPAddress":"10.0.0.1","requestParameters":${payload}}`;

/** A hostile value of about `n` elements, and the number of events it is spread over. */
const shape = fc.oneof(
  fc.integer({ min: 1, max: 40_000 }).map((n) => ({ kind: 'empty objects', events: ['[' + Array(n).fill('{}').join(',') + ']'] })),
  fc.integer({ min: 1, max: 40_000 }).map((n) => ({ kind: 'empty arrays', events: ['[' + Array(n).fill('[]').join(',') + ']'] })),
  fc.integer({ min: 1, max: 8000 }).map((n) => ({ kind: 'deep arrays', events: ['['.repeat(n) + ']'.repeat(n)] })),
  fc.integer({ min: 1, max: 3000 }).map((n) => ({ kind: 'deep objects', events: ['{"a":'.repeat(n) + '1' + '}'.repeat(n)] })),
  fc
    .integer({ min: 1, max: 25_000 })
    .map((n) => ({ kind: 'distinct keys', events: ['{' + Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',') + '}'] })),
  fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 400 })).map(([w, h]) => ({
    kind: 'many objects of distinct keys',
    events: [
      '[' +
        Array.from({ length: h }, (_, j) => '{' + Array.from({ length: w }, (_, i) => `"k${j}_${i}":1`).join(',') + '}').join(',') +
        ']',
    ],
  })),
  fc
    .integer({ min: 1, max: 60_000 })
    .map((n) => ({ kind: 'short strings', events: ['[' + Array.from({ length: n }, (_, i) => `"${i.toString(36)}"`).join(',') + ']'] })),
  fc.integer({ min: 1, max: 60_000 }).map((n) => ({
    kind: 'big numbers',
    events: ['[' + Array.from({ length: n }, (_, i) => (i % 2 ? '1e308' : `-${i}.5e-300`)).join(',') + ']'],
  })),
  fc.integer({ min: 1, max: 1_500_000 }).map((n) => ({ kind: 'huge string', events: [JSON.stringify('x'.repeat(n))] })),
  fc
    .integer({ min: 1, max: 600_000 })
    .map((n) => ({ kind: 'huge string made two-byte by one character', events: [JSON.stringify('x'.repeat(n) + '€')] })),
  fc
    .integer({ min: 1, max: 600_000 })
    .map((n) => ({ kind: 'huge string made two-byte by an escape', events: [`"\\u20ac${'x'.repeat(n)}"`] })),
  fc.integer({ min: 1, max: 600_000 }).map((n) => ({ kind: 'huge two-byte string', events: [JSON.stringify('é'.repeat(n))] })),
  fc.integer({ min: 1, max: 12_000 }).map((n) => ({ kind: 'many tiny events', events: Array.from({ length: n }, () => '{}') })),
);

const format = fc.constantFrom('cloudwatch-logs', 'json-array', 'ndjson', 'cloudtrail-file');

function encode(events: readonly string[], fmt: string): string {
  const texts = events.map((e, i) => (e === '{}' ? `{"eventID":"tiny-${i}"}` : wrap(e, i)));
  if (fmt === 'cloudwatch-logs') return cloudWatchLogsData(texts);
  const body =
    fmt === 'json-array'
      ? `[${texts.join(',')}]`
      : fmt === 'cloudtrail-file'
        ? `{"Records":[${texts.join(',')}]}`
        : texts.join('\n') + '\n';
  return Buffer.from(body).toString('base64');
}

describe('parsed-cost budget (property-based)', function () {
  this.timeout(600_000);

  it('never lets a decoded record retain more heap than the per-record limit, whatever its shape', () => {
    fc.assert(
      fc.property(shape, format, ({ events }, fmt) => {
        const data = encode(events, fmt);
        const { decoded, retained } = measured(() => safeDecode(data, newDecompressionBudget(64 << 20, 256 << 20, PER_RECORD, 192 << 20)));
        // Otherwise it failed (over the budget, or deeper than re-serialising a JSON array can go): alone, which the
        // batch property below checks through the pipeline.
        if (decoded.kind === 'events') expect(retained, `${decoded.events} events retain ${retained} B`).to.be.at.most(PER_RECORD + NOISE);
        else expect(decoded.kind).to.equal('failed');
      }),
      { numRuns: Math.max(8, Math.ceil(RUNS / 20)) },
    );
  });

  it('never under-estimates what a hostile record retains once parsed (the estimate bounds the measured cost)', () => {
    fc.assert(
      fc.property(shape, ({ events }) => {
        const data = encode(events, 'cloudwatch-logs');
        const { decoded, retained } = measured(() => safeDecode(data, newDecompressionBudget(64 << 20, 256 << 20, 1 << 30, 1 << 30)));
        expect(decoded.kind).to.equal('events');
        const estimate = parsedCostEstimate(gunzipSync(Buffer.from(data, 'base64')), Infinity);
        expect(retained, `estimate ${estimate} B`).to.be.at.most(estimate + NOISE);
      }),
      { numRuns: Math.max(8, Math.ceil(RUNS / 20)) },
    );
  });

  it('fails an over-budget record alone, with its original data, and delivers the records around it', async () => {
    const config = parseCoreConfig({ MAX_PARSED_BYTES_PER_RECORD: String(PER_RECORD) });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(shape, format), { minLength: 1, maxLength: 4 }), async (hostile) => {
        const good = [cloudTrailEvent(), cloudTrailEvent()];
        const records = [
          firehoseRecord(cloudWatchLogsData([JSON.stringify(good[0])])),
          ...hostile.map(([{ events }, fmt]) => firehoseRecord(encode(events, fmt))),
          firehoseRecord(cloudWatchLogsData([JSON.stringify(good[1])])),
        ];
        const sink = new MemorySink();
        const { result, summary } = await transformBatch(
          firehoseEvent(records),
          { getRemainingTimeInMillis: () => 60_000 },
          { config, sinkFor: () => sink },
        );
        const out = result.records;
        expect(out.map((r) => r.recordId)).to.deep.equal(records.map((r) => r.recordId));
        for (const [i, r] of out.entries()) if (r.result === 'ProcessingFailed') expect(r.data, `record ${i}`).to.equal(records[i]!.data);
        for (const [i, g] of [
          [0, good[0]!],
          [out.length - 1, good[1]!],
        ] as const) {
          expect(out[i]!.result).to.equal('Ok');
          expect(outputLines(out[i]!.data!).map((l) => l.eventID)).to.deep.equal([g.eventID]);
        }
        // Over the budget, or deeper than re-serialising a JSON array can go (a RangeError caught for that record).
        const alone = ['parsed size estimate exceeds the per-record limit', 'internal decoding error'];
        for (const reason of Object.keys(summary.failureReasons)) expect(alone).to.include(reason);
      }),
      { numRuns: Math.max(10, Math.ceil(RUNS / 10)) },
    );
  });
});

/** decodeRecord as the pipeline calls it: a throw fails that record alone. */
function safeDecode(data: string, budget: ReturnType<typeof newDecompressionBudget>): DecodedRecord {
  try {
    return decodeRecord(data, budget);
  } catch {
    return { kind: 'failed', error: 'internal decoding error' };
  }
}

/**
 * Heap a decoded record retains: used heap after a full GC while it is held, minus the same once it is released
 * (whatever decoding left behind for good, such as compiled code or interned strings, cancels out).
 */
function measured(decode: () => DecodedRecord): { decoded: { kind: DecodedRecord['kind']; events?: number }; retained: number } {
  // The smaller of two measurements of fresh decodes: a GC-timing artefact inflates one, rarely both.
  const first = measureOnce(decode);
  const second = measureOnce(decode);
  return first.retained <= second.retained ? first : second;
}

function measureOnce(decode: () => DecodedRecord): { decoded: { kind: DecodedRecord['kind']; events?: number }; retained: number } {
  gc();
  let held: DecodedRecord | undefined = decode();
  gc();
  const withRecord = process.memoryUsage().heapUsed;
  const decoded = { kind: held.kind, ...(held.kind === 'events' ? { events: held.events.length } : {}) };
  held = undefined;
  gc();
  return { decoded, retained: withRecord - process.memoryUsage().heapUsed };
}
