import type { Enrichment, EnrichmentStatus, IpIntel, SourceClassification, Verdict } from '../model.ts';

/**
 * What every event with the same source address shares: the `source`/`providers` part of the enrichment,
 * built once per unique address (and its JSON text, so each event only adds its own verdict).
 */
export interface SourceEnrichment {
  readonly status: EnrichmentStatus;
  /** Enrichment without verdict, given to the rules. */
  readonly base: Enrichment;
  /** `"source":{…}` and, when present, `,"providers":{…}`. */
  readonly json: string;
}

export function sourceEnrichment(source: SourceClassification, intel: IpIntel | undefined, lookedUp: boolean): SourceEnrichment {
  const out: NonNullable<Enrichment['source']> = { kind: source.kind };
  if (source.address !== undefined) out.address = source.address;
  if (source.ip !== undefined) out.ip = source.ip;
  if (source.ipVersion !== undefined) out.ipVersion = source.ipVersion;
  if (intel?.geo !== undefined && hasAny(intel.geo)) out.geo = intel.geo;
  if (intel?.as !== undefined && hasAny(intel.as)) out.as = intel.as;
  if (intel?.reputation !== undefined && hasAny(intel.reputation)) out.reputation = intel.reputation;
  // A public address that should have been looked up but has no complete answer is `partial`.
  const status: EnrichmentStatus = source.kind === 'public' && lookedUp && (intel === undefined || !intel.complete) ? 'partial' : 'complete';
  const base: Enrichment = { version: 1, status, source: out };
  let json = '"source":' + JSON.stringify(out);
  if (intel?.providers !== undefined && hasAny(intel.providers)) {
    base.providers = intel.providers;
    json += ',"providers":' + JSON.stringify(intel.providers);
  }
  return { status, base, json };
}

/** The full `enrichment` JSON of one event, key order: version, status, source, providers, priority, risk. */
export function enrichmentJson(source: SourceEnrichment, status: EnrichmentStatus, verdict: Verdict | undefined): string {
  let json = `{"version":1,"status":"${status}",${source.json}`;
  if (verdict !== undefined) json += `,"priority":"${verdict.priority}","risk":${JSON.stringify(verdict.risk)}`;
  return json + '}';
}

function hasAny(value: object): boolean {
  for (const _ in value) return true;
  return false;
}
