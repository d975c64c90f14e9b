import type { AsInfo, Geo, Reputation, Result } from '../../model.ts';
import type { ProviderName } from './names.ts';
import type { LookupFailure } from '../http/resilient-client.ts';

/** A provider's answer for one IP: trimmed data, or an explicit "no data" (cached with the negative TTL). */
export type ProviderAnswer = { status: 'found'; data: Record<string, unknown> } | { status: 'none' };

export interface Normalised {
  geo?: Geo;
  as?: AsInfo;
  reputation?: Reputation;
}

export interface ProviderContext {
  /** The API key; providers must never put it anywhere but the request itself. */
  key: string;
  /** Epoch ms. */
  deadline: number;
  /** Aborted at the deadline. */
  signal: AbortSignal;
}

export type OnResult = (ip: string, result: Result<ProviderAnswer, LookupFailure>) => void;

/**
 * One IP-intelligence provider. `lookup` is given public unicast addresses only, calls `onResult` exactly once per
 * address (as soon as it is known, so the deadline keeps what finished) and never throws.
 */
export interface Provider {
  readonly name: ProviderName;
  lookup(ips: readonly string[], ctx: ProviderContext, onResult: OnResult): Promise<void>;
  /** Maps a trimmed answer (as stored in the cache) onto enrichment.source fields. */
  normalise(data: Record<string, unknown>): Normalised;
}
