/**
 * Which source wins a field of enrichment.source:
 *   geo, as     whole object from the first source in GEO_PRECEDENCE / AS_PRECEDENCE that has one
 *               (mixing a city from one source with a country from another would produce places that do not exist)
 *   reputation  field by field: each field from the first source in REPUTATION_PRECEDENCE that has it
 *               (the providers answer different questions: fraud score, abuse confidence, verdict)
 * A source missing from a list never contributes to that object.
 */
import type { AsInfo, Geo, Reputation } from '../model.ts';
import type { LookupConfig, SourceName } from './config.ts';
import type { Normalised } from './providers/types.ts';

export type NormalisedBySource = Partial<Record<SourceName, Normalised>>;

export function mergeSources(bySource: NormalisedBySource, precedence: LookupConfig['precedence']): Normalised {
  const firstWhole = <K extends 'geo' | 'as'>(key: K, order: readonly SourceName[]): Normalised[K] | undefined => {
    for (const s of order) {
      const v = bySource[s]?.[key];
      if (v !== undefined && Object.keys(v).length > 0) return { ...v };
    }
    return undefined;
  };
  const geo: Geo | undefined = firstWhole('geo', precedence.geo);
  const as: AsInfo | undefined = firstWhole('as', precedence.as);
  const reputation: Reputation = {};
  for (const s of [...precedence.reputation].reverse()) {
    const r = bySource[s]?.reputation;
    if (r === undefined) continue;
    for (const [k, v] of Object.entries(r)) if (v !== undefined) (reputation as Record<string, unknown>)[k] = v;
  }
  return {
    ...(geo !== undefined ? { geo } : {}),
    ...(as !== undefined ? { as } : {}),
    ...(Object.keys(reputation).length > 0 ? { reputation } : {}),
  };
}
