/**
 * Per-provider circuit breaker: after `threshold` consecutive failed requests it stops calling the provider for
 * `cooldownMs`, then lets exactly one trial request through (half-open); success closes it, failure re-opens it.
 * Lives in the container, so a provider outage found by one invocation spares the next ones.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  threshold: number;
  cooldownMs: number;
  now?: () => number;
}

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openUntil = 0;
  #state: BreakerState = 'closed';
  #trialInFlight = false;

  constructor(options: CircuitBreakerOptions) {
    this.#threshold = options.threshold;
    this.#cooldownMs = options.cooldownMs;
    this.#now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() >= this.#openUntil) return 'half-open';
    return this.#state;
  }

  /** Asks to send one request. False while open, and while the half-open trial is still in flight. */
  tryAcquire(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') {
      if (this.#now() < this.#openUntil) return false;
      this.#state = 'half-open';
      this.#trialInFlight = false;
    }
    if (this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  onSuccess(): void {
    this.#failures = 0;
    this.#state = 'closed';
    this.#trialInFlight = false;
  }

  onFailure(): void {
    this.#failures++;
    if (this.#state === 'half-open' || this.#failures >= this.#threshold) this.#open(this.#cooldownMs);
  }

  /** The request was never judged (our own deadline aborted it): release a half-open trial without a verdict. */
  onAbandon(): void {
    if (this.#state === 'half-open') this.#trialInFlight = false;
  }

  /** Opens now for the configured cooldown, whatever the failure count (bad key, quota exhausted). */
  trip(): void {
    this.#open(this.#cooldownMs);
  }

  /** Opens now for at least `ms` (a provider said "come back later": 429 Retry-After, quota exhausted). */
  openFor(ms: number): void {
    this.#open(Math.max(ms, 0));
  }

  #open(ms: number): void {
    this.#state = 'open';
    this.#openUntil = Math.max(this.#openUntil, this.#now() + ms);
    this.#trialInFlight = false;
  }
}
