import { expect } from 'chai';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { ENVELOPE_MAGIC, encodeEnvelope } from '../../src/codec/envelope.ts';
import { cloudTrailEvent, cloudWatchLogsData, firehoseEvent, firehoseRecord, plainData } from '../helpers/factories.ts';
import { HEAVY_RUNS, RUNS, checkRounds, expectLogsClean, runToDrained, startFuzzRig, type FuzzRig } from './support.ts';

/**
 * Hostile records (property-based): whatever bytes arrive, every recordId comes back once, an undecodable record is
 * ProcessingFailed with its data unchanged, decompression is bounded per record and per invocation, and every event
 * that could be decoded comes out exactly once.
 */
describe('hostile records (property-based)', function () {
  this.timeout(300_000);
  let rig: FuzzRig;
  before(async () => {
    rig = await startFuzzRig();
  });
  after(async () => {
    await rig.close();
  });

  const b64 = (bytes: Uint8Array | Buffer): string => Buffer.from(bytes).toString('base64');

  /** Records that must not decode to any event. */
  const undecodable = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => b64(Buffer.concat([Buffer.from([0xfe]), b]))), // neither JSON, gzip nor envelope
    fc.string({ minLength: 1, maxLength: 80 }).map((s) => `${s}%`), // not base64 at all
    fc.uint8Array({ minLength: 4, maxLength: 300 }).map((b) => b64(Buffer.concat([Buffer.from([0x1f, 0x8b]), b]))), // gzip magic, garbage after
    fc.tuple(fc.array(fc.string(), { maxLength: 5 }), fc.double({ min: 0.05, max: 0.95, noNaN: true })).map(([msgs, cut]) => {
      const gz = Buffer.from(cloudWatchLogsData(msgs), 'base64');
      return b64(gz.subarray(0, Math.max(2, Math.floor(gz.length * cut)))); // truncated gzip
    }),
    fc.uint8Array({ maxLength: 200 }).map((b) => b64(gzipSync(Buffer.from(b)))), // gzip of random bytes
    fc.uint8Array({ maxLength: 200 }).map((b) => b64(Buffer.concat([ENVELOPE_MAGIC, b]))), // forged envelope, garbage
    fc.string({ maxLength: 100 }).map((h) => b64(Buffer.concat([ENVELOPE_MAGIC, gzipSync(`${h}\n{"a":1}\n`)]))), // forged envelope, bad header
    fc.constantFrom('', '====', 'AA==AA==', 'QQ', 'QUJD-_==').filter((s) => s !== ''), // non-canonical base64
  );

  it('fails every undecodable record alone, with its data unchanged, and delivers the valid records around it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            undecodable.map((data) => ({ data, valid: false })),
            fc.constant(null).map(() => ({ data: '', valid: true })),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        async (items) => {
          const ids: string[] = [];
          const records = items.map((it) => {
            if (!it.valid) return firehoseRecord(it.data);
            const e = cloudTrailEvent();
            ids.push(String(e.eventID));
            return firehoseRecord(cloudWatchLogsData([JSON.stringify(e)]));
          });
          const rounds = await runToDrained(rig, firehoseEvent(records));
          const lines = checkRounds(rounds);
          rounds[0]!.result.records.forEach((out, i) => {
            if (!items[i]!.valid) expect(out.result, `record ${i}`).to.equal('ProcessingFailed');
          });
          expect(lines.map((l) => l.doc.eventID).sort()).to.deep.equal(ids.sort());
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never delivers a forged envelope body that is not well-formed enriched NDJSON (it fails, data unchanged)', async () => {
    const enrichedLine = fc
      .record({ n: fc.integer(), s: fc.string({ maxLength: 20 }) })
      .map((o) => JSON.stringify({ ...o, enrichment: { version: 1, status: 'complete' } }));
    const bodyLine = fc.oneof(
      enrichedLine,
      fc.string({ maxLength: 30 }),
      fc.constantFrom('{}', '[]', 'null', '{"enrichment":[]}', '{"enrichment":null}'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(bodyLine, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 6 }),
        fc.record({
          account: fc.oneof(fc.constant('111122223333'), fc.string({ maxLength: 14 })),
          region: fc.oneof(fc.constant('us-east-1'), fc.string({ maxLength: 12 })),
          dt: fc.oneof(fc.constant('2026-11-20'), fc.string({ maxLength: 12 })),
        }),
        async (lines, terminated, n, pk) => {
          const body = lines.join('\n') + (terminated ? '\n' : '');
          const data = encodeEnvelope({ v: 1, pk, n, origin: 'forged' }, body);
          const rounds = await runToDrained(rig, firehoseEvent([firehoseRecord(data.toString('base64'))]));
          checkRounds(rounds); // every delivered line is a JSON object with enrichment.version 1, keys safe
          const out = rounds[0]!.result.records[0]!;
          if (out.result === 'Ok') expect(Buffer.from(out.data!, 'base64').toString('utf8')).to.equal(body);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('bounds decompression per record and per invocation (model-checked against the configured budgets)', async () => {
    const perRecord = 48 * 1024;
    const perInvocation = 160 * 1024;
    const bounded = await startFuzzRig({
      MAX_DECOMPRESSED_BYTES_PER_RECORD: String(perRecord),
      MAX_DECOMPRESSED_BYTES_PER_INVOCATION: String(perInvocation),
    });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ size: fc.integer({ min: 1024, max: 80 * 1024 }), bomb: fc.boolean() }), { minLength: 1, maxLength: 8 }),
          async (specs) => {
            const built = specs.map(({ size, bomb }) => {
              if (bomb) {
                const plain = Buffer.alloc(size, 0x20); // whitespace: compresses ~1000×, and is not JSON
                return { data: b64(gzipSync(plain)), plainSize: plain.length, valid: false };
              }
              const e = cloudTrailEvent({ userAgent: 'u'.repeat(Math.max(0, size - 1200)) });
              const gz = Buffer.from(cloudWatchLogsData([JSON.stringify(e)]), 'base64');
              return { data: gz.toString('base64'), plainSize: gzipSizeOf(gz), valid: true, id: String(e.eventID) };
            });
            const rounds = await runToDrained(bounded, firehoseEvent(built.map((b) => firehoseRecord(b.data))));
            const lines = checkRounds(rounds);
            // The model: a gzip record is decompressed only within min(per record, what is left of the invocation).
            let remaining = perInvocation;
            const expectedIds: string[] = [];
            built.forEach((b, i) => {
              const fits = b.plainSize <= Math.min(perRecord, remaining);
              if (fits) remaining -= b.plainSize;
              const out = rounds[0]!.result.records[i]!;
              if (fits && b.valid) {
                expect(out.result, `record ${i} (${b.plainSize} B) fits`).to.not.equal('ProcessingFailed');
                expectedIds.push(b.id!);
              } else expect(out.result, `record ${i} (${b.plainSize} B)`).to.equal('ProcessingFailed');
            });
            expect(lines.map((l) => String(l.doc.eventID)).sort()).to.deep.equal(expectedIds.sort());
          },
        ),
        { numRuns: RUNS },
      );
    } finally {
      await bounded.close();
    }
  });

  it('stops a real gzip bomb (≈ 200 MB of zeros in ≈ 200 KB) at the default 64 MiB per-record limit', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024), { level: 9 });
    expect(bomb.length).to.be.below(1_024_000); // fits one Firehose record
    const ok = cloudTrailEvent();
    const rounds = await runToDrained(rig, firehoseEvent([firehoseRecord(bomb.toString('base64')), firehoseRecord(plainData(ok))]));
    checkRounds(rounds);
    expect(rounds[0]!.result.records.map((r) => r.result)).to.deep.equal(['ProcessingFailed', 'Ok']);
    expect(rig.summaries.at(-1)!.failureReasons).to.deep.equal({ 'decompressed size exceeds the limit': 1 });
  });

  it('delivers or fails (never loses, never throws on) deeply nested events in every record format', async () => {
    const nested = (depth: number, kind: 'array' | 'object'): string =>
      kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20_000 }),
        fc.constantFrom<'array' | 'object'>('array', 'object'),
        fc.constantFrom('cwl', 'plain', 'file', 'eventbridge', 'logEvent'),
        async (depth, kind, format) => {
          const e = cloudTrailEvent();
          const id = String(e.eventID);
          const text = JSON.stringify(e).slice(0, -1) + `,"requestParameters2":${nested(depth, kind)}}`;
          const data =
            format === 'cwl'
              ? cloudWatchLogsData([text])
              : format === 'plain'
                ? plainData(text)
                : format === 'file'
                  ? plainData(`{"Records":[${text}]}`)
                  : format === 'eventbridge'
                    ? plainData(`{"detail-type":"AWS API Call via CloudTrail","detail":${text}}`)
                    : b64(
                        gzipSync(
                          `{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","nested":${nested(depth, kind)}}, {"id":"2","message":${JSON.stringify(text)}}]}`,
                        ),
                      );
          const rounds = await runToDrained(rig, firehoseEvent([firehoseRecord(data)]));
          const lines = checkRounds(rounds);
          const result = rounds[0]!.result.records[0]!.result;
          const delivered = lines.filter((l) => l.doc.eventID === id);
          if (result === 'ProcessingFailed') expect(delivered).to.have.length(0);
          else expect(delivered).to.have.length(1);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('delivers huge strings (up to 1.5 MB per event) exactly once within the response and record limits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 1_500_000 }), { minLength: 1, maxLength: 4 }), async (sizes) => {
        const events = sizes.map((n, i) =>
          cloudTrailEvent({ userAgent: 'A'.repeat(n), awsRegion: i % 2 === 0 ? 'us-east-1' : 'eu-west-1' }),
        );
        const rounds = await runToDrained(rig, firehoseEvent([firehoseRecord(cloudWatchLogsData(events.map((e) => JSON.stringify(e))))]));
        const lines = checkRounds(rounds);
        const failed = rounds.some((r) => r.result.records.some((o) => o.result === 'ProcessingFailed'));
        if (!failed) expect(lines.map((l) => l.doc.eventID).sort()).to.deep.equal(events.map((e) => e.eventID).sort());
        // A line too large to re-ingest fails its whole record (to the error prefix): only then may events be missing.
        else expect(rounds[0]!.result.records[0]!.result).to.equal('ProcessingFailed');
      }),
      { numRuns: HEAVY_RUNS },
    );
  });

  afterEach(() => {
    // The last run's log entries: one line each, no event text (the markers of cloudTrailEvent ids).
    expectLogsClean(rig, ['e1f2a3b4-', 'c1b2d3e4-']);
  });
});

/** Decompressed size of a gzip member, from its ISIZE trailer (RFC 1952: size mod 2^32, little-endian). */
function gzipSizeOf(gz: Buffer): number {
  return gz.readUInt32LE(gz.length - 4);
}
