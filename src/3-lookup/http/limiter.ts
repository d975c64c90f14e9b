/**
 * Per-provider concurrency limit plus a token-bucket rate limit (burst = max(1, rate)).
 * Waiting is abortable, so the invocation deadline also stops requests that are still queued. The wait queue is a
 * FIFO with lazy deletion: an abort marks its waiter cancelled in O(1) (never copies the queue, which made an abort of
 * N queued requests cost O(N²) at the deadline), and cancelled waiters are skipped when a slot is handed over.
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
  /** FIFO of waiters; `#head` is the index of the next one (the array is compacted when half of it is consumed). */
  #waiters: Waiter[] = [];
  #head = 0;
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
      const waiter: Waiter = { cancelled: false, grant: () => {} };
      const onAbort = (): void => {
        waiter.cancelled = true; // O(1): skipped by #release
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      waiter.grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Waiters still queued (cancelled ones not yet skipped included); for tests. */
  get queued(): number {
    return this.#waiters.length - this.#head;
  }

  #release(): void {
    while (this.#head < this.#waiters.length) {
      const next = this.#waiters[this.#head]!;
      this.#waiters[this.#head++] = undefined as unknown as Waiter;
      this.#compact();
      if (next.cancelled) continue;
      next.grant(); // hand the slot over: #active stays the same
      return;
    }
    this.#active--;
  }

  #compact(): void {
    if (this.#head === this.#waiters.length) {
      this.#waiters = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
      this.#waiters = this.#waiters.slice(this.#head);
      this.#head = 0;
    }
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

interface Waiter {
  cancelled: boolean;
  grant: () => void;
}
