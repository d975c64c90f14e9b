import type { Result } from '../../model.ts';
import type { ProviderName } from '../config.ts';

/** One provider's answer for one IP, as cached. */
export interface CacheEntry {
  status: 'found' | 'none';
  /** When it was fetched, epoch milliseconds. */
  fetchedAt: number;
  /** When it stops being usable, epoch seconds (the same unit as the DynamoDB TTL attribute). */
  expiresAt: number;
  /** The trimmed provider answer (status `found` only). */
  data?: Record<string, unknown>;
}

export type CachedIp = Partial<Record<ProviderName, CacheEntry>>;

/**
 * The shared IP cache behind the in-memory LRU (like Powertools idempotency's persistence layer: one interface,
 * one DynamoDB implementation). Implementations never throw: a failure is reported and treated as a miss.
 */
export interface IpCache {
  /** Fresh entries for the given IPs; IPs without a usable item are absent. */
  getMany(ips: readonly string[], options: { signal: AbortSignal; now: number }): Promise<CacheReadResult>;
  /**
   * Writes whole items (every fresh entry of each IP). `skipped`: items too large to store, left out alone (the
   * others are still written).
   */
  putMany(
    items: ReadonlyMap<string, CachedIp>,
    options: { signal: AbortSignal; now: number },
  ): Promise<Result<{ written: number; skipped?: number }, string>>;
}

export interface CacheReadResult {
  entries: Map<string, CachedIp>;
  /** Keys that could not be read (errors, throttling, unprocessed after retries): treated as misses. */
  failed: number;
  errors: string[];
}

/** Drops entries that have expired at `nowMs`. Returns undefined when none is left. */
export function freshEntries(item: CachedIp, nowMs: number): CachedIp | undefined {
  const nowS = Math.floor(nowMs / 1000);
  const out: CachedIp = {};
  let any = false;
  for (const [name, e] of Object.entries(item) as [ProviderName, CacheEntry | undefined][]) {
    if (e !== undefined && e.expiresAt > nowS) {
      out[name] = e;
      any = true;
    }
  }
  return any ? out : undefined;
}

/** The item's TTL: the latest expiry among its entries (DynamoDB deletes it once nothing in it is useful). */
export function itemExpiresAt(item: CachedIp): number {
  return Math.max(0, ...Object.values(item).map((e) => e?.expiresAt ?? 0));
}
