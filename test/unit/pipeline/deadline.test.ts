import { expect } from 'chai';
import fc from 'fast-check';
import {
  enrichmentDeadline,
  finishEstimateMs,
  MAX_SLOWDOWN,
  slowdownOf,
  type DeadlineInput,
  type FinishWork,
} from '../../../src/pipeline/deadline.ts';

const input = (over: Partial<DeadlineInput> = {}): DeadlineInput => ({
  started: 1_000_000,
  now: 1_000_000,
  remainingMs: 60_000,
  responseReserveMs: 2000,
  fraction: 0.5,
  finishMs: 100,
  ...over,
});

const work = fc.record<FinishWork>({
  events: fc.integer({ min: 0, max: 200_000 }),
  publicSources: fc.integer({ min: 0, max: 200_000 }),
  decodedBytes: fc.integer({ min: 0, max: 256 * 1024 * 1024 }),
});

describe('enrichment deadline', () => {
  it('gives lookups their share of the remaining time when the work after them is small', () => {
    expect(enrichmentDeadline(input())).to.equal(1_000_000 + 29_000);
  });

  it('stops lookups early enough for the work after them to end before the invocation deadline', () => {
    // 10 s left, 2 s reserve, 5 s of estimated work: lookups must end at 3 s, not at the 4 s of their share.
    expect(enrichmentDeadline(input({ remainingMs: 10_000, finishMs: 5000 }))).to.equal(1_000_000 + 3000);
  });

  it('looks nothing up when the work after the lookups alone needs all the time left', () => {
    expect(enrichmentDeadline(input({ now: 1_000_500, remainingMs: 3000, finishMs: 5000 }))).to.equal(1_000_500);
  });

  it('never ends lookups after the invocation deadline minus the estimated work, nor before now (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 900_000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 0.05, max: 0.9, noNaN: true }),
        fc.integer({ min: 0, max: 600_000 }),
        (remainingMs, elapsed, responseReserveMs, fraction, finishMs) => {
          const i = input({ remainingMs, now: 1_000_000 + elapsed, responseReserveMs, fraction, finishMs });
          const d = enrichmentDeadline(i);
          expect(d).to.be.at.least(i.now);
          if (d > i.now) expect(d).to.be.at.most(i.started + Math.max(0, remainingMs - responseReserveMs) - finishMs);
        },
      ),
    );
  });

  it('estimates more work for a larger batch, and more on a slower machine (property)', () => {
    fc.assert(
      fc.property(work, work, fc.double({ min: 1, max: MAX_SLOWDOWN, noNaN: true }), (a, b, slowdown) => {
        const big = {
          events: a.events + b.events,
          publicSources: a.publicSources + b.publicSources,
          decodedBytes: a.decodedBytes + b.decodedBytes,
        };
        expect(finishEstimateMs(big)).to.be.at.least(finishEstimateMs(a));
        expect(finishEstimateMs(a, slowdown)).to.be.at.least(finishEstimateMs(a));
      }),
    );
  });

  it('reserves seconds, not milliseconds, for 100,000 unique sources', () => {
    const ms = finishEstimateMs({ events: 100_000, publicSources: 100_000, decodedBytes: 32 * 1024 * 1024 });
    expect(ms).to.be.within(2000, 10_000);
  });

  it('reads a slow decode as a slower machine, within bounds, and ignores decodes too short to say', () => {
    const shape = { events: 100_000, decodedBytes: 32 * 1024 * 1024 };
    expect(slowdownOf(10, shape)).to.equal(1);
    expect(slowdownOf(20, { events: 10, decodedBytes: 100 })).to.equal(1);
    expect(slowdownOf(100_000, shape)).to.equal(MAX_SLOWDOWN);
    const nominal = slowdownOf(1, shape);
    expect(nominal).to.equal(1);
    expect(slowdownOf(1000, shape)).to.be.above(1).and.below(MAX_SLOWDOWN);
  });
});
