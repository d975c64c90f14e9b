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

/** Runs one lookup per IP; concurrency and rate are bounded by the provider's limiter inside. */
export async function eachIp(ips: readonly string[], fn: (ip: string) => Promise<void>): Promise<void> {
  await Promise.all(ips.map((ip) => fn(ip)));
}
