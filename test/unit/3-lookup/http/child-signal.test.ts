import { expect } from 'chai';
import { childSignal } from '../../../../src/3-lookup/http/resilient-client.ts';

describe('childSignal', () => {
  it('aborts every live child when the deadline signal aborts, with its reason', () => {
    const deadline = new AbortController();
    const a = childSignal(deadline.signal);
    const b = childSignal(deadline.signal);
    const reason = new Error('enrichment deadline reached');
    deadline.abort(reason);
    expect(a.signal.aborted && b.signal.aborted).to.equal(true);
    expect(a.signal.reason).to.equal(reason);
  });

  it('leaves a released child alone and starts a child of an aborted parent aborted', () => {
    const deadline = new AbortController();
    const done = childSignal(deadline.signal);
    done.release();
    deadline.abort();
    expect(done.signal.aborted).to.equal(false);
    expect(childSignal(deadline.signal).signal.aborted).to.equal(true);
  });

  it('adds a single listener to the shared deadline signal however many requests there are', () => {
    const deadline = new AbortController();
    let added = 0;
    const original = deadline.signal.addEventListener.bind(deadline.signal);
    deadline.signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => {
      added++;
      original(...args);
    };
    for (let i = 0; i < 1000; i++) childSignal(deadline.signal).release();
    expect(added).to.equal(1);
  });
});
