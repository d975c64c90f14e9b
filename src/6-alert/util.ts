/** Small helpers of the alert stage: per-call signals cut at the deadline, bounded parallelism, backoff. */

/** A signal that aborts after the per-call timeout or at the deadline, whichever is first; undefined once past it. */
export function callSignal(options: { deadline: number; now: () => number; callTimeoutMs: number }): AbortSignal | undefined {
  const left = options.deadline - options.now();
  if (left <= 0) return undefined;
  return AbortSignal.timeout(Math.max(1, Math.min(options.callTimeoutMs, left)));
}

export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

/** Full-jitter exponential backoff, never past the deadline. */
export function backoffMs(attempt: number, deadline: number, now: number, random: () => number = Math.random): number {
  const cap = Math.min(2000, 100 * 2 ** attempt);
  return Math.max(0, Math.min(Math.floor(random() * cap), deadline - now));
}

/** Error name and message only: SDK messages never carry finding payloads. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  return 'non-error thrown';
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Settles with the call or rejects when the signal aborts, whichever is first (a client may ignore the signal). */
export function bounded<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
