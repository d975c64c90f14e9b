import { expect } from 'chai';
import { CircuitBreaker } from '../../../../src/3-lookup/http/circuit-breaker.ts';

describe('CircuitBreaker', () => {
  let now = 0;
  const make = (): CircuitBreaker => new CircuitBreaker({ threshold: 3, cooldownMs: 1000, now: () => now });
  beforeEach(() => {
    now = 1_000_000;
  });

  it('opens after the threshold of consecutive failures and stops requests', () => {
    const b = make();
    for (let i = 0; i < 2; i++) {
      expect(b.tryAcquire()).to.equal(true);
      b.onFailure();
    }
    expect(b.state).to.equal('closed');
    b.onFailure();
    expect(b.state).to.equal('open');
    expect(b.tryAcquire()).to.equal(false);
  });

  it('lets exactly one trial through after the cooldown and closes on its success', () => {
    const b = make();
    b.trip();
    now += 1000;
    expect(b.state).to.equal('half-open');
    expect(b.tryAcquire()).to.equal(true);
    expect(b.tryAcquire()).to.equal(false);
    b.onSuccess();
    expect(b.state).to.equal('closed');
    expect(b.tryAcquire()).to.equal(true);
  });

  it('re-opens when the trial fails', () => {
    const b = make();
    b.trip();
    now += 1000;
    expect(b.tryAcquire()).to.equal(true);
    b.onFailure();
    expect(b.state).to.equal('open');
    now += 999;
    expect(b.tryAcquire()).to.equal(false);
  });

  it('a success resets the failure count', () => {
    const b = make();
    b.onFailure();
    b.onFailure();
    b.onSuccess();
    b.onFailure();
    b.onFailure();
    expect(b.state).to.equal('closed');
  });

  it('openFor honours a longer Retry-After than the cooldown', () => {
    const b = make();
    b.openFor(5000);
    now += 4999;
    expect(b.tryAcquire()).to.equal(false);
    now += 1;
    expect(b.tryAcquire()).to.equal(true);
  });

  it('an abandoned trial frees the half-open slot', () => {
    const b = make();
    b.trip();
    now += 1000;
    expect(b.tryAcquire()).to.equal(true);
    b.onAbandon();
    expect(b.tryAcquire()).to.equal(true);
  });
});
