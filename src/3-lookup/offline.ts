/**
 * The offline part of every answer (geo/ASN from the databases in the process), computed for all unique addresses
 * of an invocation in slices that yield to the event loop: it runs while the cache and the providers are awaited,
 * instead of after the enrichment deadline, and never delays their sockets by more than one slice.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { IpIntel } from '../model.ts';
import type { LookupConfig } from './config.ts';
import type { GeoDatabase } from './geo/geo-database.ts';
import { mergeSources } from './merge.ts';

/** Addresses per slice: ≈ 10–20 ms of lookups on one core. */
const SLICE = 1000;

/**
 * `unique[i]` → its answer from offline data alone: complete when providers are not asked about it (no entry in
 * `lookupKeys`), otherwise incomplete until a provider entry arrives (then the caller merges it instead).
 */
export async function offlineAnswers(
  unique: readonly string[],
  geo: GeoDatabase,
  precedence: LookupConfig['precedence'],
  lookupKeys: ReadonlyMap<string, string>,
): Promise<IpIntel[]> {
  const out: IpIntel[] = new Array(unique.length);
  for (let i = 0; i < unique.length; i++) {
    if (i > 0 && i % SLICE === 0) await yieldToLoop();
    const ip = unique[i]!;
    out[i] = { ...mergeSources({ offline: geo.lookup(ip) }, precedence), complete: !lookupKeys.has(ip) };
  }
  return out;
}
