import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { decodeEnvelope, type Envelope } from '../../../src/codec/envelope.ts';
import { ENVELOPE_MAX_BODY_BYTES, FIREHOSE_BATCH_MAX_RECORDS, FIREHOSE_MAX_RECORD_BYTES } from '../../../src/8-deliver/limits.ts';
import type { OutputLine, ReingestPart } from '../../../src/8-deliver/plan.ts';
import { buildEnvelopes, reingest, type RecordSink, type ReingestRecord, type RetryOptions } from '../../../src/8-deliver/reingest.ts';
import { ReingestionError } from '../../../src/errors.ts';
import type { PartitionKeys } from '../../../src/model.ts';
import { MemorySink } from '../../helpers/sinks.ts';

const A: PartitionKeys = { account: '111122223333', region: 'us-east-1', dt: '2026-11-20' };
const B: PartitionKeys = { account: '111122223333', region: 'eu-west-1', dt: '2026-11-20' };
const C: PartitionKeys = { account: '444455556666', region: 'us-east-1', dt: '2026-11-19' };

let n = 0;
function line(keys: PartitionKeys, pad = 40): OutputLine {
  n++;
  return { text: `{"id":${n},"pad":"${'x'.repeat(pad)}"}`, keys };
}
/** A line that does not compress (random hex). */
function noisyLine(keys: PartitionKeys, bytes: number): OutputLine {
  n++;
  return { text: `{"id":${n},"noise":"${randomBytes(Math.ceil(bytes / 2)).toString('hex')}"}`, keys };
}

function open(record: ReingestRecord): Envelope {
  const decoded = decodeEnvelope(record.data, 64 * 1024 * 1024);
  if (!decoded.ok) throw new Error(decoded.error);
  return decoded.value;
}

function bodyLines(envelope: Envelope): string[] {
  return envelope.body
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

const S3 = { mode: 's3' as const, maxRecordBytes: FIREHOSE_MAX_RECORD_BYTES };

describe('buildEnvelopes', () => {
  it('puts each partition in its own envelope with its keys, line count and origin (S3)', () => {
    const lines = [line(A), line(B), line(A), line(C)];
    const built = buildEnvelopes([{ kind: 'lines', origin: 'r1', lines }], S3);
    expect(built.unsendable.size).to.equal(0);
    const envelopes = built.records.map(open);
    expect(envelopes.map((e) => e.header)).to.deep.equal([
      { v: 1, pk: A, n: 2, origin: 'r1' },
      { v: 1, pk: B, n: 1, origin: 'r1' },
      { v: 1, pk: C, n: 1, origin: 'r1' },
    ]);
    expect(envelopes.map(bodyLines)).to.deep.equal([[lines[0]!.text, lines[2]!.text], [lines[1]!.text], [lines[3]!.text]]);
    expect(envelopes.every((e) => e.body.toString('utf8').endsWith('\n'))).to.equal(true);
    expect(built.records.map((r) => ({ origin: r.origin, lines: r.lines }))).to.deep.equal([
      { origin: 'r1', lines: 2 },
      { origin: 'r1', lines: 1 },
      { origin: 'r1', lines: 1 },
    ]);
  });

  it('puts one document per envelope without partition keys (OpenSearch)', () => {
    const lines = [line(A), line(A), line(B)];
    const built = buildEnvelopes([{ kind: 'lines', origin: 'r1', lines }], {
      mode: 'opensearch',
      maxRecordBytes: FIREHOSE_MAX_RECORD_BYTES,
    });
    const envelopes = built.records.map(open);
    expect(envelopes.map((e) => e.header)).to.deep.equal(lines.map(() => ({ v: 1, n: 1, origin: 'r1' })));
    expect(envelopes.map((e) => e.body.toString('utf8'))).to.deep.equal(lines.map((l) => l.text));
  });

  it('keeps every envelope body within 3 MiB and every line exactly once', () => {
    const lines = Array.from({ length: 70 }, () => line(A, 100_000)); // ~7 MiB of compressible text
    const built = buildEnvelopes([{ kind: 'lines', origin: 'r1', lines }], S3);
    expect(built.records.length).to.be.at.least(3);
    const envelopes = built.records.map(open);
    for (const e of envelopes) expect(e.body.length).to.be.at.most(ENVELOPE_MAX_BODY_BYTES);
    expect(envelopes.flatMap(bodyLines)).to.deep.equal(lines.map((l) => l.text));
  });

  it('honours a smaller maxBodyBytes', () => {
    const lines = Array.from({ length: 20 }, () => line(A, 100));
    const built = buildEnvelopes([{ kind: 'lines', origin: 'r1', lines }], { ...S3, maxBodyBytes: 500 });
    const envelopes = built.records.map(open);
    for (const e of envelopes) expect(e.body.length).to.be.at.most(500);
    expect(envelopes.flatMap(bodyLines)).to.deep.equal(lines.map((l) => l.text));
  });

  it('splits in halves until every compressed record fits maxRecordBytes', () => {
    const lines = Array.from({ length: 23 }, () => noisyLine(A, 300));
    const built = buildEnvelopes([{ kind: 'lines', origin: 'r1', lines }], { mode: 's3', maxRecordBytes: 1200 });
    expect(built.unsendable.size).to.equal(0);
    expect(built.records.length).to.be.greaterThan(1);
    for (const r of built.records) expect(r.data.length).to.be.at.most(1200);
    const envelopes = built.records.map(open);
    expect(envelopes.flatMap(bodyLines)).to.deep.equal(lines.map((l) => l.text));
    expect(envelopes.map((e) => e.header.n)).to.deep.equal(built.records.map((r) => r.lines));
  });

  it('reports an origin with a line that cannot fit even alone and emits none of its records', () => {
    const parts: ReingestPart[] = [
      { kind: 'lines', origin: 'bad', lines: [line(A), noisyLine(A, 5000), line(B)] },
      { kind: 'lines', origin: 'good', lines: [line(A), line(C)] },
    ];
    const built = buildEnvelopes(parts, { mode: 's3', maxRecordBytes: 1500 });
    expect([...built.unsendable]).to.deep.equal(['bad']);
    expect(built.records.every((r) => r.origin === 'good')).to.equal(true);
    expect(built.records.map(open).flatMap(bodyLines)).to.deep.equal(parts[1]!.kind === 'lines' ? parts[1]!.lines.map((l) => l.text) : []);
  });

  it('reports a single line that could never be returned in a response as unsendable, even if it compresses well', () => {
    // 5 MB of text is 6.7 MB of base64: more than a Lambda response can ever hold, so re-ingesting it would loop.
    const huge: OutputLine = { text: `{"raw":"${'\\u0001'.repeat(850_000)}"}`, keys: A };
    const built = buildEnvelopes([{ kind: 'lines', origin: 'huge', lines: [huge] }], S3);
    expect([...built.unsendable]).to.deep.equal(['huge']);
    expect(built.records).to.deep.equal([]);
  });

  it('re-encodes a passthrough envelope with its header, or reports it when it no longer fits', () => {
    const body = Buffer.from(`${line(A).text}\n${line(A).text}\n`);
    const built = buildEnvelopes([{ kind: 'envelope', origin: 'p1', body, keys: A, lines: 2 }], S3);
    expect(built.records).to.have.length(1);
    const envelope = open(built.records[0]!);
    expect(envelope.header).to.deep.equal({ v: 1, pk: A, n: 2, origin: 'p1' });
    expect(envelope.body.equals(body)).to.equal(true);

    const noisy = Buffer.from(`${noisyLine(A, 4000).text}\n`);
    const tooBig = buildEnvelopes([{ kind: 'envelope', origin: 'p2', body: noisy, keys: A, lines: 1 }], {
      mode: 's3',
      maxRecordBytes: 1000,
    });
    expect([...tooBig.unsendable]).to.deep.equal(['p2']);
    expect(tooBig.records).to.deep.equal([]);
  });

  it('carries the Kinesis partition key of the origin and counts it against the record limit', () => {
    const lines = [line(A), line(A)];
    const keyOf = (origin: string) => (origin === 'r1' ? 'pk-of-r1' : undefined);
    const built = buildEnvelopes(
      [
        { kind: 'lines', origin: 'r1', lines },
        { kind: 'lines', origin: 'r2', lines: [line(B)] },
      ],
      { mode: 's3', maxRecordBytes: 1024 * 1024, partitionKeyOf: keyOf },
    );
    expect(built.records.map((r) => [r.origin, r.partitionKey])).to.deep.equal([
      ['r1', 'pk-of-r1'],
      ['r2', undefined],
    ]);

    const single = buildEnvelopes([{ kind: 'lines', origin: 'r1', lines: [noisyLine(A, 600)] }], { mode: 's3', maxRecordBytes: 100_000 });
    const size = single.records[0]!.data.length;
    const longKey = 'k'.repeat(200);
    const tight = buildEnvelopes([{ kind: 'lines', origin: 'r1', lines: [noisyLine(A, 600)] }], {
      mode: 's3',
      maxRecordBytes: size + 100,
      partitionKeyOf: () => longKey,
    });
    expect([...tight.unsendable]).to.deep.equal(['r1']);
  });
});

/** A sink that records the batches it receives and fails according to a script. */
class ScriptedSink implements RecordSink {
  readonly batches: ReingestRecord[][] = [];
  constructor(
    readonly maxBatchRecords: number,
    readonly maxBatchBytes: number,
    private readonly behaviour: (
      call: number,
      batch: readonly ReingestRecord[],
    ) => { index: number; errorCode: string }[] | Error = () => [],
  ) {}
  sizeOf(record: ReingestRecord): number {
    return record.data.length;
  }
  async putBatch(records: readonly ReingestRecord[]): Promise<{ failed: { index: number; errorCode: string }[] }> {
    this.batches.push([...records]);
    const outcome = this.behaviour(this.batches.length, records);
    if (outcome instanceof Error) throw outcome;
    return { failed: outcome };
  }
}

function records(count: number, bytes = 10): ReingestRecord[] {
  return Array.from({ length: count }, (_, i) => ({ data: Buffer.alloc(bytes, i % 256), origin: `r${i}`, lines: 1 }));
}

function retry(overrides: Partial<RetryOptions> = {}): RetryOptions & { delays: number[] } {
  const delays: number[] = [];
  let clock = 1_000_000;
  return {
    maxAttempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    deadline: Number.MAX_SAFE_INTEGER,
    now: () => clock,
    sleep: async (ms: number) => {
      delays.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    delays,
    ...overrides,
  };
}

describe('reingest', () => {
  it('sends nothing for nothing', async () => {
    const sink = new ScriptedSink(500, 1000);
    expect(await reingest([], sink, retry())).to.deep.equal({ calls: 0, retried: 0 });
    expect(sink.batches).to.deep.equal([]);
  });

  it('never puts more than the sink allows in one batch (500 records)', async () => {
    const sink = new MemorySink();
    const input = records(1_234);
    const outcome = await reingest(input, sink, retry());
    expect(outcome).to.deep.equal({ calls: 3, retried: 0 });
    expect(sink.received).to.deep.equal(input);
    const scripted = new ScriptedSink(FIREHOSE_BATCH_MAX_RECORDS, 4 * 1024 * 1024);
    await reingest(input, scripted, retry());
    expect(scripted.batches.map((b) => b.length)).to.deep.equal([500, 500, 234]);
  });

  it('never puts more bytes than maxBatchBytes in one batch', async () => {
    const sink = new ScriptedSink(500, 1000);
    const input = records(10, 300);
    await reingest(input, sink, retry());
    expect(sink.batches.map((b) => b.length)).to.deep.equal([3, 3, 3, 1]);
    for (const batch of sink.batches) expect(batch.reduce((s, r) => s + r.data.length, 0)).to.be.at.most(1000);
    expect(sink.batches.flat()).to.deep.equal(input);
  });

  it('retries only the failed entries until they succeed, with exponential backoff and jitter', async () => {
    const sink = new MemorySink((call, index) =>
      call <= 3 && index === 0 ? 'ServiceUnavailableException' : call === 1 && index === 2 ? 'InternalFailure' : undefined,
    );
    const input = records(4);
    const options = retry();
    const outcome = await reingest(input, sink, options);
    expect(sink.received).to.have.deep.members(input);
    expect(sink.received).to.have.length(4);
    expect(outcome).to.deep.equal({ calls: 4, retried: 4 }); // 2 after call 1, 1 after call 2, 1 after call 3
    // full jitter with random() = 0.5: half of min(maxDelay, base·2^(attempt−1))
    expect(options.delays).to.deep.equal([50, 100, 200]);
  });

  it('caps the backoff at maxDelayMs and scales it by the random draw', async () => {
    const draws = [0, 1, 0.25, 0.999];
    const options = retry({ maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 300, random: () => draws.shift() ?? 0.5 });
    const sink = new MemorySink((call) => (call <= 5 ? 'ThrottlingException' : undefined));
    await reingest(records(1), sink, options);
    expect(options.delays).to.deep.equal([0, 200, 75, 299.7, 150]);
  });

  it('throws ReingestionError after maxAttempts, naming the error codes', async () => {
    const sink = new MemorySink(() => 'ServiceUnavailableException');
    const options = retry({ maxAttempts: 3 });
    let error: unknown;
    try {
      await reingest(records(2), sink, options);
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ReingestionError);
    expect((error as Error).message)
      .to.include('ServiceUnavailableException')
      .and.include('2 of 2')
      .and.include('3 attempts');
    expect(sink.calls).to.equal(3);
    expect(options.delays).to.have.length(2);
  });

  it('throws ReingestionError instead of sleeping past the deadline', async () => {
    const sink = new MemorySink((call) => (call === 1 ? 'ServiceUnavailableException' : undefined));
    const options = retry({ deadline: 1_000_000 + 40 }); // the first retry would wait 50 ms
    let error: unknown;
    try {
      await reingest(records(1), sink, options);
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ReingestionError);
    expect(sink.calls).to.equal(1);
    expect(options.delays).to.deep.equal([]);
  });

  it('retries a batch whose call threw', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const sink = new ScriptedSink(500, 1_000_000, (call) => (call === 1 ? throttled : []));
    const input = records(3);
    const outcome = await reingest(input, sink, retry());
    expect(outcome).to.deep.equal({ calls: 2, retried: 3 });
    expect(sink.batches[1]).to.deep.equal(input);
  });

  it('gives up on a call that keeps throwing, with the error name in the message', async () => {
    const sink = new ScriptedSink(500, 1_000_000, () => Object.assign(new Error('down'), { name: 'ServiceUnavailableException' }));
    let error: unknown;
    try {
      await reingest(records(1), sink, retry({ maxAttempts: 2 }));
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ReingestionError);
    expect((error as Error).message).to.include('ServiceUnavailableException');
    expect(sink.batches).to.have.length(2);
  });

  it('logs each retry with the error codes', async () => {
    const warnings: Record<string, unknown>[] = [];
    const log = {
      debug() {},
      info() {},
      error() {},
      warn: (_m: string, extra?: Record<string, unknown>) => void warnings.push(extra ?? {}),
    };
    const sink = new MemorySink((call) => (call === 1 ? 'InternalFailure' : undefined));
    await reingest(records(2), sink, retry({ log }));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.deep.include({ attempt: 1, failed: 2, errorCodes: { InternalFailure: 2 } });
  });
});

describe('reingest: a hanging call (issue 11, case 8)', () => {
  it('aborts a PutRecordBatch that never answers at the deadline and throws ReingestionError before it', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const hanging: RecordSink = {
      maxBatchRecords: 500,
      maxBatchBytes: 4 * 1024 * 1024,
      sizeOf: (r) => r.data.length,
      putBatch: (_records, signal) => {
        signals.push(signal);
        return new Promise(() => undefined);
      },
    };
    const started = Date.now();
    const record = { data: Buffer.from('x'), origin: 'r1', lines: 1 };
    let error: unknown;
    try {
      await reingest([record], hanging, { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 2, deadline: started + 300, callTimeoutMs: 10_000 });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ReingestionError);
    expect(Date.now() - started).to.be.lessThan(2000);
    expect(signals[0]?.aborted).to.equal(true);
  });
});
