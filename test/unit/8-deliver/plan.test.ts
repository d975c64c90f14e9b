import { expect } from 'chai';
import fc from 'fast-check';
import { base64Length, HEAVY_LINE_BYTES, LAMBDA_RESPONSE_LIMIT, RESPONSE_BUDGET } from '../../../src/8-deliver/limits.ts';
import {
  joinLines,
  maxEnvelopeBody,
  planResponse,
  splitFirstGroup,
  type OutputLine,
  type PlanInput,
  type PlannedRecord,
  type ReingestPart,
} from '../../../src/8-deliver/plan.ts';
import type { PartitionKeys } from '../../../src/model.ts';

const A: PartitionKeys = { account: '111122223333', region: 'us-east-1', dt: '2026-11-20' };
const B: PartitionKeys = { account: '111122223333', region: 'eu-west-1', dt: '2026-11-20' };
const C: PartitionKeys = { account: '444455556666', region: 'us-east-1', dt: '2026-11-19' };

let lineCounter = 0;
/** A distinct output line of about `size` characters. */
function line(keys: PartitionKeys, size = 60): OutputLine {
  lineCounter++;
  const id = `"id":${lineCounter}`;
  return { text: `{${id},"pad":"${'x'.repeat(Math.max(0, size - id.length - 10))}"}`, keys };
}

function okBodyLines(record: PlannedRecord | undefined): string[] {
  if (record === undefined || record.result !== 'Ok') return [];
  return record.body
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

function reingestedTexts(parts: readonly ReingestPart[]): string[] {
  return parts.flatMap((part) =>
    part.kind === 'lines'
      ? part.lines.map((l) => l.text)
      : part.body
          .toString('utf8')
          .split('\n')
          .filter((l) => l.length > 0),
  );
}

describe('planResponse', () => {
  describe('S3 mode', () => {
    it('returns the events of the first partition and re-ingests those of the others', () => {
      const lines = [line(A), line(B), line(A), line(C), line(B)];
      const plan = planResponse([{ kind: 'events', recordId: 'r1', lines }], { mode: 's3' });
      expect(plan.records).to.have.length(1);
      const [record] = plan.records;
      expect(record).to.deep.include({ recordId: 'r1', result: 'Ok', keys: A, lines: 2 });
      expect(okBodyLines(record)).to.deep.equal([lines[0]!.text, lines[2]!.text]);
      if (record?.result === 'Ok') expect(record.body.toString('utf8').endsWith('\n')).to.equal(true);
      expect(plan.reingest).to.deep.equal([{ kind: 'lines', origin: 'r1', lines: [lines[1], lines[3], lines[4]] }]);
    });

    it('re-ingests nothing when every event is in one partition', () => {
      const lines = [line(A), line(A), line(A)];
      const plan = planResponse([{ kind: 'events', recordId: 'r1', lines }], { mode: 's3' });
      expect(okBodyLines(plan.records[0])).to.deep.equal(lines.map((l) => l.text));
      expect(plan.reingest).to.deep.equal([]);
    });
  });

  describe('OpenSearch mode', () => {
    it('returns exactly one document per record and re-ingests the rest', () => {
      const lines = [line(A), line(A), line(B)];
      const plan = planResponse([{ kind: 'events', recordId: 'r1', lines }], { mode: 'opensearch' });
      const [record] = plan.records;
      expect(record).to.deep.include({ result: 'Ok', lines: 1 });
      if (record?.result === 'Ok') expect(record.body.toString('utf8')).to.equal(lines[0]!.text); // no trailing newline
      expect(plan.reingest).to.deep.equal([{ kind: 'lines', origin: 'r1', lines: lines.slice(1) }]);
    });
  });

  it('keeps the data of failed records, even beyond the response budget', () => {
    const data = Buffer.alloc(30_000, 1).toString('base64');
    const plan = planResponse(
      [
        { kind: 'failed', recordId: 'f1', data },
        { kind: 'events', recordId: 'e1', lines: [line(A)] },
        { kind: 'events', recordId: 'e2', lines: [line(A)] },
      ],
      { mode: 's3', responseBudget: 10_000 },
    );
    expect(plan.records[0]).to.deep.equal({ recordId: 'f1', result: 'ProcessingFailed', data });
    // Past the budget, only one record may still be returned (so that the batch makes progress).
    expect(plan.records.slice(1).map((r) => r.result)).to.deep.equal(['Ok', 'Dropped']);
    expect(reingestedTexts(plan.reingest)).to.have.length(1);
  });

  it('returns one record past the budget when nothing else fits, but never past the Lambda response limit', () => {
    const big = line(A, 20_000);
    const plan = planResponse(
      [
        { kind: 'events', recordId: 'e1', lines: [big] },
        { kind: 'events', recordId: 'e2', lines: [line(A, 20_000)] },
      ],
      { mode: 's3', responseBudget: 5_000 },
    );
    expect(plan.records[0]).to.deep.include({ result: 'Ok', lines: 1 });
    expect(plan.records[1]).to.deep.equal({ recordId: 'e2', result: 'Dropped' });

    const huge = Buffer.alloc(LAMBDA_RESPONSE_LIMIT, 0x61);
    const tooBig = planResponse([{ kind: 'passthrough', recordId: 'p', body: huge, keys: A, lines: 1 }], { mode: 's3' });
    expect(tooBig.records).to.deep.equal([{ recordId: 'p', result: 'Dropped' }]);
    expect(tooBig.reingest).to.have.length(1);
  });

  it('drops control records and records without events', () => {
    const plan = planResponse(
      [
        { kind: 'dropped', recordId: 'd1' },
        { kind: 'events', recordId: 'e0', lines: [] },
      ],
      { mode: 's3' },
    );
    expect(plan.records).to.deep.equal([
      { recordId: 'd1', result: 'Dropped' },
      { recordId: 'e0', result: 'Dropped' },
    ]);
    expect(plan.reingest).to.deep.equal([]);
  });

  it('returns the longest prefix that fits and re-ingests the remainder when the budget runs out', () => {
    const first = Array.from({ length: 10 }, () => line(A, 100));
    const second = Array.from({ length: 10 }, () => line(A, 100));
    const third = Array.from({ length: 10 }, () => line(A, 100));
    const budget = 32 + 3 * 200 + base64Length(10 * 101) + base64Length(5 * 101);
    const plan = planResponse(
      [
        { kind: 'events', recordId: 'r1', lines: first },
        { kind: 'events', recordId: 'r2', lines: second },
        { kind: 'events', recordId: 'r3', lines: third },
      ],
      { mode: 's3', responseBudget: budget },
    );
    expect(plan.records.map((r) => r.result)).to.deep.equal(['Ok', 'Ok', 'Dropped']);
    expect(okBodyLines(plan.records[0])).to.have.length(10);
    const taken = okBodyLines(plan.records[1]).length;
    expect(taken).to.be.within(1, 9);
    expect(okBodyLines(plan.records[1])).to.deep.equal(second.slice(0, taken).map((l) => l.text));
    expect(plan.records[1]).to.deep.include({ lines: taken });
    expect(plan.reingest).to.deep.equal([
      { kind: 'lines', origin: 'r2', lines: second.slice(taken) },
      { kind: 'lines', origin: 'r3', lines: third },
    ]);
  });

  it('returns a passthrough record that fits unchanged', () => {
    const body = Buffer.from(`${line(A).text}\n${line(A).text}\n`);
    const plan = planResponse([{ kind: 'passthrough', recordId: 'p1', body, keys: A, lines: 2 }], { mode: 's3' });
    expect(plan.records).to.deep.equal([{ recordId: 'p1', result: 'Ok', body, keys: A, lines: 2 }]);
    expect(plan.reingest).to.deep.equal([]);
  });

  it('re-ingests a passthrough record that does not fit, unchanged', () => {
    const body = Buffer.from(`${line(A, 5000).text}\n`);
    const small = line(A);
    const plan = planResponse(
      [
        { kind: 'events', recordId: 'e0', lines: [small] },
        { kind: 'passthrough', recordId: 'p1', body, keys: A, lines: 1 },
      ],
      { mode: 's3', responseBudget: 2000 },
    );
    expect(plan.records[0]).to.deep.include({ result: 'Ok' });
    expect(plan.records[1]).to.deep.equal({ recordId: 'p1', result: 'Dropped' });
    expect(plan.reingest).to.deep.equal([{ kind: 'envelope', origin: 'p1', body, keys: A, lines: 1 }]);
  });

  it('lets a first group with a very large line claim the budget before the others', () => {
    const heavy = line(A, Math.ceil(HEAVY_LINE_BYTES / 3) + 10);
    const light = Array.from({ length: 5 }, () => line(B, 100_000));
    const budget = 32 + 2 * 170 + base64Length(heavy.text.length + 1) + base64Length(100_001) + 100;
    const plan = planResponse(
      [
        { kind: 'events', recordId: 'light', lines: light },
        { kind: 'events', recordId: 'heavy', lines: [heavy] },
      ],
      { mode: 's3', responseBudget: budget },
    );
    expect(plan.records[1]).to.deep.include({ recordId: 'heavy', result: 'Ok', lines: 1 });
    expect(plan.records[0]).to.deep.include({ recordId: 'light', result: 'Ok', lines: 1 });
    expect(reingestedTexts(plan.reingest)).to.deep.equal(light.slice(1).map((l) => l.text));
  });

  it('is pure: the same input gives the same plan', () => {
    const inputs: PlanInput[] = [
      { kind: 'events', recordId: 'r1', lines: [line(A), line(B)] },
      { kind: 'failed', recordId: 'f', data: 'AAAA' },
      { kind: 'events', recordId: 'r2', lines: [line(C, 3000)] },
    ];
    expect(planResponse(inputs, { mode: 's3', responseBudget: 3000 })).to.deep.equal(
      planResponse(inputs, { mode: 's3', responseBudget: 3000 }),
    );
  });

  describe('properties', () => {
    const keysArb = fc.constantFrom(A, B, C);
    const inputArb = (i: number): fc.Arbitrary<PlanInput> =>
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc
            .array(fc.tuple(keysArb, fc.integer({ min: 12, max: 3000 })), { maxLength: 8 })
            .map((ls) => ({ kind: 'events' as const, recordId: `r${i}`, lines: ls.map(([k, s]) => line(k, s)) })),
        },
        {
          weight: 2,
          arbitrary: fc.array(fc.integer({ min: 12, max: 2000 }), { minLength: 1, maxLength: 4 }).map((sizes) => {
            const lines = sizes.map((s) => line(A, s).text);
            return {
              kind: 'passthrough' as const,
              recordId: `r${i}`,
              body: Buffer.from(lines.map((t) => `${t}\n`).join('')),
              keys: A,
              lines: lines.length,
            };
          }),
        },
        {
          weight: 1,
          arbitrary: fc
            .integer({ min: 0, max: 3000 })
            .map((n) => ({ kind: 'failed' as const, recordId: `r${i}`, data: 'A'.repeat(n * 4) })),
        },
        { weight: 1, arbitrary: fc.constant({ kind: 'dropped' as const, recordId: `r${i}` }) },
      );
    const inputsArb = fc.integer({ min: 0, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => inputArb(i))));

    for (const mode of ['s3', 'opensearch'] as const) {
      it(`conserves every line across response and re-ingestion and respects the budget (${mode})`, () => {
        fc.assert(
          fc.property(inputsArb, fc.integer({ min: 500, max: 40_000 }), (inputs, responseBudget) => {
            const plan = planResponse(inputs, { mode, responseBudget });
            expect(plan.records.map((r) => r.recordId)).to.deep.equal(inputs.map((r) => r.recordId));

            const inTexts = inputs.flatMap((input) =>
              input.kind === 'events'
                ? input.lines.map((l) => l.text)
                : input.kind === 'passthrough'
                  ? input.body
                      .toString('utf8')
                      .split('\n')
                      .filter((l) => l.length > 0)
                  : [],
            );
            const outTexts = [...plan.records.flatMap((r) => okBodyLines(r)), ...reingestedTexts(plan.reingest)];
            expect([...outTexts].sort()).to.deep.equal([...inTexts].sort());

            const inLines = inputs.reduce(
              (n, input) => n + (input.kind === 'events' ? input.lines.length : input.kind === 'passthrough' ? input.lines : 0),
              0,
            );
            const returned = plan.records.reduce((n, r) => n + (r.result === 'Ok' ? r.lines : 0), 0);
            const reingested = plan.reingest.reduce((n, p) => n + (p.kind === 'lines' ? p.lines.length : p.lines), 0);
            expect(returned + reingested).to.equal(inLines);

            let failedBytes = 0;
            let okBytes = 0;
            let okCount = 0;
            plan.records.forEach((r, i) => {
              const input = inputs[i]!;
              if (input.kind === 'failed') {
                expect(r).to.deep.equal({ recordId: input.recordId, result: 'ProcessingFailed', data: input.data });
                failedBytes += input.data.length;
              }
              if (r.result === 'Ok') {
                okCount++;
                okBytes += base64Length(r.body.length);
                if (input.kind === 'events') {
                  const kept = input.lines.filter((l) => okBodyLines(r).includes(l.text) || r.body.toString('utf8') === l.text);
                  expect(kept.every((l) => l.keys === r.keys)).to.equal(true);
                  if (mode === 'opensearch') expect(r.lines).to.equal(1);
                }
              }
            });
            // Within the budget, or a single record past it (progress) that still fits Lambda's hard limit.
            const total = okBytes + failedBytes + 32 + inputs.reduce((n, r) => n + 176 + r.recordId.length, 0);
            if (total > responseBudget) {
              expect(okCount).to.be.at.most(1);
              if (okCount === 1) expect(total).to.be.at.most(LAMBDA_RESPONSE_LIMIT);
            }
          }),
          { numRuns: 150 },
        );
      });
    }
  });
});

describe('maxEnvelopeBody', () => {
  it('leaves room for the base64 of a body and its framing within the response budget', () => {
    for (const budget of [RESPONSE_BUDGET, LAMBDA_RESPONSE_LIMIT, 100_000, 20_000]) {
      const body = maxEnvelopeBody(budget);
      expect(base64Length(body) + 1024, String(budget)).to.be.at.most(budget);
      expect(body).to.be.greaterThan(((budget - 8192) * 3) / 4);
    }
    expect(maxEnvelopeBody()).to.equal(maxEnvelopeBody(RESPONSE_BUDGET));
  });

  it('never goes below 1 KiB', () => {
    expect(maxEnvelopeBody(10)).to.equal(1024);
  });
});

describe('splitFirstGroup', () => {
  it('splits by the partition of the first line, keeping order', () => {
    const lines = [line(B), line(A), line(B), line(C)];
    expect(splitFirstGroup(lines, 's3')).to.deep.equal({ first: [lines[0], lines[2]], rest: [lines[1], lines[3]] });
    expect(splitFirstGroup(lines, 'opensearch')).to.deep.equal({ first: [lines[0]], rest: lines.slice(1) });
    expect(splitFirstGroup([], 's3')).to.deep.equal({ first: [], rest: [] });
  });
});

describe('joinLines', () => {
  it('terminates every line in S3 mode and writes the single document as is in OpenSearch mode', () => {
    const lines = [line(A), line(A)];
    expect(joinLines(lines, 's3').toString('utf8')).to.equal(`${lines[0]!.text}\n${lines[1]!.text}\n`);
    expect(joinLines([lines[0]!], 'opensearch').toString('utf8')).to.equal(lines[0]!.text);
  });
});

describe('joinLines', () => {
  const keys = { account: '111122223333', region: 'us-east-1', dt: '2026-11-20' };

  it('writes multi-byte text exactly, growing past its ASCII-sized first buffer', () => {
    const lines = Array.from({ length: 300 }, (_, i) => ({
      text: `{"i":${i},"u":"${'日本語😀é'.repeat(i % 7 === 0 ? 2000 : 3)}"`,
      shared: Buffer.from(',"enrichment":{"version":1', 'utf8'),
      tail: `,"note":"${'Ωμέγα'.repeat(i % 5)}"}}`,
      keys,
    }));
    const expected = lines.map((l) => l.text + l.shared.toString('utf8') + l.tail + '\n').join('');
    expect(joinLines(lines, 's3').toString('utf8')).to.equal(expected);
    expect(joinLines(lines.slice(0, 1), 'opensearch').toString('utf8')).to.equal(expected.split('\n')[0]);
  });
});
