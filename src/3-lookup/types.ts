import type { IpIntel } from '../model.ts';

/** Counters the lookup stage reports for the invocation summary and metrics. */
export interface LookupStats {
  uniqueIps: number;
  l1Hits: number;
  cacheHits: number;
  cacheMisses: number;
  providerCalls: number;
  providerErrors: number;
  /** IPs left without a complete answer because the deadline passed. */
  deadlineMisses: number;
  /** Per enabled provider: answers, errors, HTTP round trips (ms) and whether its breaker is open now. */
  providers: Record<string, ProviderStats>;
  /**
   * Addresses (IPv6: /64 prefixes) not resolved beyond the in-memory cache because the invocation already had
   * MAX_PROVIDER_LOOKUPS_PER_INVOCATION of them: their events are `partial`.
   */
  lookupsCapped: number;
  /** Provider values dropped as untrusted: numbers out of the schema's range, unparseable timestamps. */
  valuesDropped: number;
  /** Cache items too large for DynamoDB (400 KB item limit) that were not written. */
  cacheItemsSkipped: number;
}

export interface ProviderStats {
  calls: number;
  errors: number;
  latencyMs: number[];
  breakerOpen: boolean;
}

/** Why an IP was left without a complete answer (the `cause` of the partial events it makes). */
export type IncompleteCause = 'deadline' | 'provider_error' | 'breaker_open' | 'key_unavailable' | 'lookups_capped';

export interface LookupOptions {
  /** Epoch milliseconds by which lookups must be settled; anything unresolved by then is `complete: false`. */
  deadline: number;
}

/**
 * The lookup stage: given the unique *public* IPs of one invocation, return what is known about each.
 * Implementations never throw for provider, cache or network failures: they return `complete: false` instead.
 * Every requested IP is present in the returned map.
 */
export interface IpIntelligence {
  lookup(
    ips: readonly string[],
    options: LookupOptions,
  ): Promise<{ intel: Map<string, IpIntel>; stats: LookupStats; causes?: ReadonlyMap<string, IncompleteCause> }>;
}

export function emptyLookupStats(): LookupStats {
  return {
    uniqueIps: 0,
    l1Hits: 0,
    cacheHits: 0,
    cacheMisses: 0,
    providerCalls: 0,
    providerErrors: 0,
    deadlineMisses: 0,
    lookupsCapped: 0,
    valuesDropped: 0,
    cacheItemsSkipped: 0,
    providers: {},
  };
}
