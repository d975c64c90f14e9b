import { expect } from 'chai';
import { setMaxListeners } from 'node:events';
import { Limiter } from '../../../../src/3-lookup/http/limiter.ts';

describe('Limiter', () => {
  it('never runs more tasks at once than its concurrency', async () => {
    const limiter = new Limiter({ concurrency: 3, ratePerSecond: 10_000 });
    let active = 0;
    let peak = 0;
    const signal = new AbortController().signal;
    setMaxListeners(0, signal);
    await Promise.all(
      Array.from({ length: 20 }, () =>
        limiter.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setImmediate(r));
          active--;
        }, signal),
      ),
    );
    expect(peak).to.equal(3);
    expect(limiter.active).to.equal(0);
  });

  it('starts no more requests than the token bucket allows', async () => {
    const limiter = new Limiter({ concurrency: 10, ratePerSecond: 2, now: () => 0 }); // frozen clock: no refill
    const started: number[] = [];
    const ctrl = new AbortController();
    const all = Array.from({ length: 4 }, (_, i) => limiter.run(async () => void started.push(i), ctrl.signal).catch(() => 'aborted'));
    await new Promise((r) => setTimeout(r, 20));
    expect(started).to.have.length(2); // the burst
    ctrl.abort(new Error('deadline'));
    expect(await Promise.all(all)).to.include('aborted');
  });

  it('rejects queued work when the signal aborts', async () => {
    const limiter = new Limiter({ concurrency: 1, ratePerSecond: 1000 });
    const ctrl = new AbortController();
    let release!: () => void;
    const first = limiter.run(() => new Promise<void>((r) => (release = r)), ctrl.signal);
    const second = limiter.run(async () => 'ran', ctrl.signal).catch((e: Error) => e.message);
    ctrl.abort(new Error('deadline'));
    expect(await second).to.equal('deadline');
    release();
    await first;
    expect(limiter.active).to.equal(0);
  });
});

describe('Limiter wait queue', () => {
  it('aborts 20,000 queued requests without copying the queue, and still hands slots to live waiters', async () => {
    const limiter = new Limiter({ concurrency: 1, ratePerSecond: 1_000_000 });
    let release!: () => void;
    const blocker = limiter.run(() => new Promise<void>((r) => (release = r)), new AbortController().signal);
    const dead = new AbortController();
    setMaxListeners(0, dead.signal);
    const queued = Array.from({ length: 20_000 }, () => limiter.run(async () => 'ran', dead.signal).catch(() => 'aborted'));
    const live = limiter.run(async () => 'live', new AbortController().signal);
    dead.abort(new Error('deadline'));
    expect(new Set(await Promise.all(queued))).to.deep.equal(new Set(['aborted']));
    release();
    await blocker;
    expect(await live).to.equal('live');
    expect(limiter.queued).to.equal(0);
  });
});
