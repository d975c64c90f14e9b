/**
 * Per-provider concurrency limit plus a token-bucket rate limit (burst = max(1, rate)).
 * Waiting is abortable, so the invocation deadline also stops requests that are still queued.
 */
import { sleep } from './sleep.ts';

export interface LimiterOptions {
  concurrency: number;
  ratePerSecond: number;
  now?: () => number;
}

export class Limiter {
  readonly #concurrency: number;
  readonly #rate: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #active = 0;
  #waiters: (() => void)[] = [];
  #tokens: number;
  #refilledAt: number;

  constructor(options: LimiterOptions) {
    this.#concurrency = options.concurrency;
    this.#rate = options.ratePerSecond;
    this.#capacity = Math.max(1, options.ratePerSecond);
    this.#now = options.now ?? Date.now;
    this.#tokens = this.#capacity;
    this.#refilledAt = this.#now();
  }

  get active(): number {
    return this.#active;
  }

  /** Runs `fn` once a slot and a token are available. Rejects with the signal's reason if aborted while waiting. */
  async run<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    await this.#acquireSlot(signal);
    try {
      await this.#takeToken(signal);
      return await fn();
    } finally {
      this.#release();
    }
  }

  async #acquireSlot(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#active < this.#concurrency) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== grant);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiters.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next(); // hand the slot over: #active stays the same
    else this.#active--;
  }

  async #takeToken(signal: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.#now();
      this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate);
      this.#refilledAt = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.#tokens) / this.#rate) * 1000), signal);
    }
  }
}
