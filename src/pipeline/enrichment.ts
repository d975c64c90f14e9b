import type { BaselineVerdict, Enrichment, EnrichmentStatus, IpIntel, SourceClassification, Verdict } from '../model.ts';

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
  /** `{"version":1,"status":"<status>",` + json: the start of every event's enrichment with this source. */
  readonly opening: string;
  /**
   * `,"enrichment":` + opening, UTF-8 encoded once: copied into every output line of this source as bytes,
   * rather than concatenated into a new string per event (with providers it is over a kilobyte).
   */
  readonly prefix: Buffer;
}

/**
 * The lookup stage returns the same `IpIntel` object for an address while its answer is cached, so the
 * source part built from it (and its JSON text) is kept with it across warm invocations.
 */
const byIntel = new WeakMap<IpIntel, Map<string, SourceEnrichment>>();

export function sourceEnrichment(source: SourceClassification, intel: IpIntel | undefined, lookedUp: boolean): SourceEnrichment {
  // Only complete answers are kept by the lookup stage across invocations; an incomplete one is new every time, so
  // caching its source part would cost a map per unique address for nothing (the invocation's own cache dedupes).
  if (intel === undefined || !intel.complete) return buildSourceEnrichment(source, intel, lookedUp);
  let perAddress = byIntel.get(intel);
  if (perAddress === undefined) {
    perAddress = new Map();
    byIntel.set(intel, perAddress);
  }
  const key = source.address ?? '';
  let built = perAddress.get(key);
  if (built === undefined) {
    built = buildSourceEnrichment(source, intel, lookedUp);
    // Bounded: one entry per textual form of the same IP (`8.8.8.8`, `::ffff:8.8.8.8`, …).
    if (perAddress.size < 8) perAddress.set(key, built);
  }
  return built;
}

function buildSourceEnrichment(source: SourceClassification, intel: IpIntel | undefined, lookedUp: boolean): SourceEnrichment {
  const out: NonNullable<Enrichment['source']> = { kind: source.kind };
  if (source.address !== undefined) out.address = source.address;
  if (source.ip !== undefined) out.ip = source.ip;
  if (source.ipVersion !== undefined) out.ipVersion = source.ipVersion;
  if (intel?.geo !== undefined && hasAny(intel.geo)) out.geo = intel.geo;
  if (intel?.as !== undefined && hasAny(intel.as)) out.as = intel.as;
  if (intel?.reputation !== undefined && hasAny(intel.reputation)) out.reputation = intel.reputation;
  // A public address that should have been looked up but has no complete answer is `partial`.
  const status: EnrichmentStatus =
    source.kind === 'public' && lookedUp && (intel === undefined || !intel.complete) ? 'partial' : 'complete';
  const base: Enrichment = { version: 1, status, source: out };
  let json = '"source":' + JSON.stringify(out);
  if (intel?.providers !== undefined && hasAny(intel.providers)) {
    base.providers = intel.providers;
    json += ',"providers":' + JSON.stringify(intel.providers);
  }
  const opening = `{"version":1,"status":"${status}",${json}`;
  return { status, base, json, opening, prefix: Buffer.from(`,"enrichment":${opening}`, 'utf8') };
}

/** The full `enrichment` JSON of one event, key order: version, status, source, providers, baseline, priority, risk. */
export function enrichmentJson(
  source: SourceEnrichment,
  status: EnrichmentStatus,
  verdict: Verdict | undefined,
  baseline?: BaselineVerdict,
): string {
  // The shared opening already carries the source's status; a rule failure can still turn it partial.
  let json = status === source.status ? source.opening : `{"version":1,"status":"${status}",${source.json}`;
  if (baseline !== undefined) json += baselineJson(baseline);
  if (verdict !== undefined) {
    // Most events match no rule: their risk is a constant.
    const risk = verdict.risk.reasons.length === 0 && verdict.risk.score === 0 ? NO_RISK_JSON : JSON.stringify(verdict.risk);
    json += `,"priority":"${verdict.priority}","risk":${risk}`;
  }
  return json + '}';
}

const NO_RISK_JSON = '{"score":0,"reasons":[]}';

/**
 * What follows the shared prefix in an event's line: its baseline and verdict (both per event), then the closing
 * braces of enrichment and event.
 */
export function verdictTail(verdict: Verdict | undefined, baseline?: BaselineVerdict): string {
  const head = baseline === undefined ? '' : baselineJson(baseline);
  if (verdict === undefined) return head + '}}';
  const risk = verdict.risk.reasons.length === 0 && verdict.risk.score === 0 ? NO_RISK_JSON : JSON.stringify(verdict.risk);
  return `${head},"priority":"${verdict.priority}","risk":${risk}}}`;
}

/** `,"baseline":{…}` with the verdict's keys in a fixed order. */
export function baselineJson(baseline: BaselineVerdict): string {
  let json = `,"baseline":{"principal":${JSON.stringify(baseline.principal)},"firstSeen":${JSON.stringify(baseline.firstSeen)}`;
  if (baseline.learning === true) json += ',"learning":true';
  if (baseline.status !== undefined) json += `,"status":"${baseline.status}"`;
  return json + '}';
}

function hasAny(value: object): boolean {
  for (const _ in value) return true;
  return false;
}
