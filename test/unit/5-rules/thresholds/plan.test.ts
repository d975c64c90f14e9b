import { expect } from 'chai';
import fc from 'fast-check';
import {
  MAX_VALUE_BYTES,
  planUpdates,
  resolvePlan,
  storedValue,
  type ThresholdCandidate,
  type ThresholdSpec,
} from '../../../../src/5-rules/thresholds/plan.ts';
import { MemoryThresholdStore } from '../../../../src/5-rules/thresholds/store.ts';

const WINDOW = 600_000;
const T0 = 1_700_000_400_000 - (1_700_000_400_000 % WINDOW);
const signal = new AbortController().signal;

interface Ev {
  principal: string;
  offset: number;
  value: string;
}

/** Runs events through invocations; each invocation is planned by its own container, against one shared counter. */
async function run(spec: ThresholdSpec, events: readonly Ev[], invocationSizes: readonly number[]): Promise<{ matched: number[] }> {
  const store = new MemoryThresholdStore();
  const specs = new Map([['r', spec]]);
  const matched: number[] = [];
  let start = 0;
  for (const size of invocationSizes) {
    if (start >= events.length) break;
    const batch = events.slice(start, start + size);
    const candidates: ThresholdCandidate[] = batch.map((e, i) => ({
      event: start + i,
      ruleId: 'r',
      by: [e.principal],
      time: T0 + e.offset,
      value: e.value,
    }));
    const plan = planUpdates(candidates, specs);
    const outcome = resolvePlan(plan, await store.apply(plan.updates, { signal, now: T0 }));
    expect(outcome.unavailable.size).to.equal(0);
    matched.push(...outcome.crossed.map((c) => c.event));
    start += size;
  }
  return { matched: matched.sort((a, b) => a - b) };
}

/** The reference: walking all events in order, the event at which each (principal, window) reaches the count. */
function expected(spec: ThresholdSpec, events: readonly Ev[], upTo: number): number[] {
  const counts = new Map<string, Set<string> | number>();
  const out: number[] = [];
  events.slice(0, upTo).forEach((e, i) => {
    const key = `${e.principal}#${Math.floor((T0 + e.offset) / WINDOW)}`;
    if (spec.distinct) {
      const s = (counts.get(key) as Set<string> | undefined) ?? new Set<string>();
      const before = s.size;
      s.add(e.value);
      counts.set(key, s);
      if (before < spec.count && s.size === spec.count) out.push(i);
    } else {
      const n = ((counts.get(key) as number | undefined) ?? 0) + 1;
      counts.set(key, n);
      if (n === spec.count) out.push(i);
    }
  });
  return out;
}

const eventsArb = fc.array(
  fc.record({
    principal: fc.constantFrom('alice', 'bob'),
    offset: fc.integer({ min: 0, max: 2 * WINDOW - 1 }),
    value: fc.constantFrom('s1', 's2', 's3', 's4', 's5', 's6'),
  }),
  { maxLength: 60 },
);
const splitArb = fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 60 });

describe('threshold crossing plan', () => {
  it('matches exactly the event that reaches the count, once per (rule, key, window), across any split into invocations', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, splitArb, fc.integer({ min: 1, max: 8 }), async (events, sizes, count) => {
        const spec: ThresholdSpec = { count, withinMs: WINDOW, distinct: false };
        const consumed = Math.min(
          events.length,
          sizes.reduce((a, b) => a + b, 0),
        );
        const { matched } = await run(spec, events, sizes);
        expect(matched).to.deep.equal(expected(spec, events, consumed));
      }),
    );
  });

  it('distinct thresholds match the event bringing the count-th distinct value, once per window', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, splitArb, fc.integer({ min: 1, max: 6 }), async (events, sizes, count) => {
        const spec: ThresholdSpec = { count, withinMs: WINDOW, distinct: true };
        const consumed = Math.min(
          events.length,
          sizes.reduce((a, b) => a + b, 0),
        );
        const { matched } = await run(spec, events, sizes);
        expect(matched).to.deep.equal(expected(spec, events, consumed));
      }),
    );
  });

  it('two containers sharing the counter flag one event between them, none before the count', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ container: fc.constantFrom(0, 1), flush: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 20 }),
        async (steps, count) => {
          // Each container buffers its own invocation and flushes it when told; the shared store serialises updates.
          const store = new MemoryThresholdStore();
          const specs = new Map([['r', { count, withinMs: WINDOW, distinct: false }]]);
          const pending: ThresholdCandidate[][] = [[], []];
          const flagged: number[] = [];
          const flush = async (c: number) => {
            const plan = planUpdates(pending[c]!, specs);
            pending[c] = [];
            const outcome = resolvePlan(plan, await store.apply(plan.updates, { signal, now: T0 }));
            flagged.push(...outcome.crossed.map((x) => x.event));
          };
          for (const [i, step] of steps.entries()) {
            pending[step.container]!.push({ event: i, ruleId: 'r', by: ['p'], time: T0 + i });
            if (step.flush) await flush(step.container);
          }
          await flush(0);
          await flush(1);
          expect(flagged).to.have.length(steps.length >= count ? 1 : 0);
        },
      ),
    );
  });

  it('sends at most count distinct values per update, so a stored set stays under twice the count', () => {
    const candidates: ThresholdCandidate[] = Array.from({ length: 50 }, (_, i) => ({
      event: i,
      ruleId: 'r',
      by: ['p'],
      time: T0,
      value: `secret-${i}`,
    }));
    const plan = planUpdates(candidates, new Map([['r', { count: 10, withinMs: WINDOW, distinct: true }]]));
    expect(plan.updates).to.have.length(1);
    expect(plan.updates[0]!.values).to.have.length(10);
    expect(plan.updates[0]!.add).to.equal(50);
  });

  it('groups by rule, by-values and window bucket, and ends the counter with its window', () => {
    const specs = new Map([['r', { count: 2, withinMs: WINDOW, distinct: false }]]);
    const plan = planUpdates(
      [
        { event: 0, ruleId: 'r', by: ['a'], time: T0 },
        { event: 1, ruleId: 'r', by: ['a'], time: T0 + WINDOW },
        { event: 2, ruleId: 'r', by: ['b'], time: T0 },
        { event: 3, ruleId: 'other', by: ['a'], time: T0 },
      ],
      specs,
    );
    expect(plan.updates.map((u) => u.add)).to.deep.equal([1, 1, 1]);
    expect(plan.updates[0]!.windowEndSec).to.equal((T0 + WINDOW) / 1000);
  });

  it('a failed counter leaves its events unavailable and matches none of them', () => {
    const specs = new Map([['r', { count: 1, withinMs: WINDOW, distinct: false }]]);
    const plan = planUpdates([{ event: 7, ruleId: 'r', by: ['a'], time: T0 }], specs);
    const outcome = resolvePlan(plan, new Map([[plan.updates[0]!.key, { ok: false, error: 'ThrottlingException' }]]));
    expect(outcome.crossed).to.deep.equal([]);
    expect([...outcome.unavailable]).to.deep.equal([7]);
  });

  it('counts long distinct values by their hash, keeping short ones as they are', () => {
    expect(storedValue('abc')).to.equal('abc');
    const long = 'x'.repeat(MAX_VALUE_BYTES + 1);
    expect(storedValue(long)).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(storedValue(long)).to.equal(storedValue(long));
  });
});
