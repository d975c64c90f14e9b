import type { Classified } from '../http/resilient-client.ts';

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const int = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : num(v);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
};
export const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Drops undefined/null/empty-string fields; undefined when nothing is left. */
export function compact<T extends Record<string, unknown>>(o: T): T | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null && v !== '')) as T;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Parses a JSON body; malformed JSON (a proxy's HTML error page, a truncated answer) is worth one more try. */
export function parseJson(body: string): { ok: true; value: unknown } | { ok: false; verdict: Classified<never> } {
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return { ok: false, verdict: { kind: 'retry', reason: 'malformed JSON in the answer' } };
  }
}

/**
 * Requests of one provider in flight or queued at once. The limiter admits at most the provider's concurrency
 * (≤ 64); a fixed pool of workers pulling from the list keeps memory flat however many IPs there are (one pending
 * request per IP, each with its abort listener and closures, took the heap past 700 MB at 30,000 IPs × 4 providers).
 */
export const PROVIDER_WORKERS = 64;

/** Runs `fn` once per item, at most PROVIDER_WORKERS at a time, in order. */
export async function inPool<T>(items: readonly T[], fn: (item: T) => Promise<void>, width = PROVIDER_WORKERS): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** Runs one lookup per IP; concurrency and rate are bounded by the provider's limiter inside. */
export async function eachIp(ips: readonly string[], fn: (ip: string) => Promise<void>): Promise<void> {
  await inPool(ips, fn);
}
