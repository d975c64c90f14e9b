import { classifySource } from '../2-classify/source.ts';
import type { CoreConfig } from '../config/core.ts';
import type { EventItem } from '../1-decode/event-text.ts';
import type { OutputLine } from '../8-deliver/plan.ts';
import { closingBrace, enrichedParts, skippedLine } from '../7-encode/line.ts';
import { isNative, layoutLine, layoutSkippedLine } from '../7-encode/layouts/index.ts';
import { fallbackPartitionKeys, partitionKeysOf, partitionWithClass } from '../7-encode/partition.ts';
import { emptyLookupStats, type IncompleteCause, type IpIntelligence, type LookupStats } from '../3-lookup/types.ts';
import { PartialCause } from '../observability/metric-names.ts';
import { opensearchDocument, opensearchSkippedDocument } from '../7-encode/opensearch.ts';
import { silentLog, type IpIntel, type Log, type Priority, type SourceClassification, type Verdict } from '../model.ts';
import type { RuleEngine } from '../5-rules/types.ts';
import type { Candidate } from '../6-alert/finding.ts';
import { enrichmentJson, sourceEnrichment, verdictTail, type SourceEnrichment } from './enrichment.ts';

/** Events decoded from one input (a Firehose record, a CloudTrail file), and when that input arrived. */
export interface EventGroup {
  readonly events: readonly EventItem[];
  readonly arrival: number;
}

export interface EnrichDeps {
  readonly config: CoreConfig;
  /** The lookup stage; without it, public addresses are classified but not geolocated. */
  readonly intel?: IpIntelligence;
  /** The rules stage; without it, events carry no priority or risk. */
  readonly rules?: RuleEngine;
  /** The alert stage's collector for this invocation: every judged event is offered to it. */
  readonly alerts?: { consider(candidate: Candidate): void };
  readonly log?: Log;
}

/** What enrichment counts, for the invocation summary (added to the given counters). */
export interface EnrichCounters {
  /** Events (and non-event messages) enriched. */
  eventsIn: number;
  skipped: number;
  partial: number;
  /** Of `partial`: why (values of PartialCause in src/observability/metric-names.ts). */
  partialByCause: Record<string, number>;
  byPriority: Partial<Record<Priority, number>>;
  countries: Record<string, number>;
  /** Events per source network (`AS<number> <organisation>`). */
  networks: Record<string, number>;
  lookup: LookupStats;
}

export function emptyEnrichCounters(): EnrichCounters {
  return {
    eventsIn: 0,
    skipped: 0,
    partial: 0,
    partialByCause: {},
    byPriority: {},
    countries: {},
    networks: {},
    lookup: emptyLookupStats(),
  };
}

/**
 * The enrichment core shared by every entry point (Firehose transform, backfill, Object Lambda, local run):
 * classify every event's source, look up the unique public IPs of all groups at once (work scales with unique
 * IPs, not events), evaluate the rules and encode each event as an output line with its partition keys.
 * Never throws for failed lookups or rules: affected events are `partial`.
 */
export async function enrichEventGroups(
  groups: readonly EventGroup[],
  deps: EnrichDeps,
  lookupDeadline: number | ((publicSources: number) => number),
  counters: EnrichCounters,
): Promise<OutputLine[][]> {
  const log = deps.log ?? silentLog;
  const sources: (SourceClassification | undefined)[][] = new Array(groups.length);
  const publicIps = new Set<string>();
  for (let g = 0; g < groups.length; g++) {
    const events = groups[g]!.events;
    const classes: (SourceClassification | undefined)[] = new Array(events.length);
    for (let e = 0; e < events.length; e++) {
      const item = events[e]!;
      if (!item.ok) continue;
      const source = classifySource(item.event.sourceIPAddress);
      classes[e] = source;
      if (source.kind === 'public') publicIps.add(source.ip!);
    }
    sources[g] = classes;
  }

  // A function when the deadline depends on the work left after the lookups (src/pipeline/deadline.ts).
  const deadline = typeof lookupDeadline === 'number' ? lookupDeadline : lookupDeadline(publicIps.size);
  const intel = await lookupAll(deps.intel, [...publicIps], deadline, log);
  counters.lookup = intel.stats;

  const state: EncodeState = {
    intel: intel.map,
    lookedUp: intel.lookedUp,
    causes: intel.causes,
    cache: new Map(),
    perSource: new Map(),
    rules: deps.rules,
    alerts: deps.alerts,
    config: deps.config,
    counters,
    log,
  };
  const out: OutputLine[][] = new Array(groups.length);
  for (let g = 0; g < groups.length; g++) {
    out[g] = encodeEvents(groups[g]!.events, sources[g]!, groups[g]!.arrival, state);
    counters.eventsIn += out[g]!.length;
  }
  for (const [shared, n] of state.perSource) {
    const source = shared.base.source;
    const country = source?.geo?.countryCode;
    if (country !== undefined) counters.countries[country] = (counters.countries[country] ?? 0) + n;
    const as = source?.as;
    if (as?.number !== undefined) {
      const name = `AS${as.number}${as.organization !== undefined ? ` ${as.organization}` : ''}`;
      counters.networks[name] = (counters.networks[name] ?? 0) + n;
    }
  }
  return out;
}

interface EncodeState {
  readonly intel: ReadonlyMap<string, IpIntel>;
  readonly lookedUp: boolean;
  /** Per invocation: address → the shared source part of its events' enrichment. */
  readonly cache: Map<string, SourceEnrichment>;
  /** Events per shared source, turned into per-country and per-network counts once at the end. */
  readonly perSource: Map<SourceEnrichment, number>;
  readonly rules: RuleEngine | undefined;
  readonly alerts: EnrichDeps['alerts'];
  readonly config: CoreConfig;
  readonly counters: EnrichCounters;
  readonly log: Log;
  readonly causes: ReadonlyMap<string, IncompleteCause>;
}

function encodeEvents(
  events: readonly EventItem[],
  sources: readonly (SourceClassification | undefined)[],
  arrival: number,
  state: EncodeState,
): OutputLine[] {
  const { counters, rules } = state;
  const partitionOptions = { accountAllowlist: state.config.accountAllowlist };
  const opensearch = state.config.outputMode === 'opensearch';
  const layout = state.config.layout;
  const native = isNative(layout);
  const lines: OutputLine[] = new Array(events.length);
  for (let e = 0; e < events.length; e++) {
    const item = events[e]!;
    if (!item.ok) {
      counters.skipped++;
      if (!native) {
        const line = layoutSkippedLine(layout!, { raw: item.raw, error: item.error, arrival });
        lines[e] = { text: line.text, keys: partitionWithClass(fallbackPartitionKeys(arrival), line.eventClass) };
        continue;
      }
      const text = opensearch ? opensearchSkippedDocument(item.raw, item.error, arrival) : skippedLine(item.raw, item.error);
      lines[e] = { text, keys: fallbackPartitionKeys(arrival) };
      continue;
    }
    const source = sources[e]!;
    const cacheKey = source.address ?? '';
    let shared = state.cache.get(cacheKey);
    if (shared === undefined) {
      shared = sourceEnrichment(source, source.ip === undefined ? undefined : state.intel.get(source.ip), state.lookedUp);
      state.cache.set(cacheKey, shared);
    }
    let status = shared.status;
    let cause: string | undefined =
      status === 'partial' ? ((source.ip !== undefined ? state.causes.get(source.ip) : undefined) ?? PartialCause.Lookup) : undefined;
    let verdict: Verdict | undefined;
    if (rules !== undefined) {
      try {
        verdict = rules.evaluate(item.event, shared.base);
      } catch (err) {
        // A rule must never fail a record; report the bug and deliver the event without a verdict.
        state.log.error('rule evaluation failed', { error: errorName(err) });
        status = 'partial';
        cause ??= PartialCause.RulesError;
      }
    }
    if (status === 'partial') {
      counters.partial++;
      const why = cause ?? PartialCause.Lookup;
      counters.partialByCause[why] = (counters.partialByCause[why] ?? 0) + 1;
    }
    if (verdict !== undefined) {
      counters.byPriority[verdict.priority] = (counters.byPriority[verdict.priority] ?? 0) + 1;
      state.alerts?.consider({ event: item.event, text: item.text, enrichment: shared.base, verdict });
    }
    state.perSource.set(shared, (state.perSource.get(shared) ?? 0) + 1);
    const keys = partitionKeysOf(item.event, arrival, partitionOptions);
    if (!native) {
      // Standard layouts (OCSF, ECS): built from the native enrichment once rules have judged the native event.
      const enrichment = { ...shared.base, status, ...(verdict !== undefined ? { priority: verdict.priority, risk: verdict.risk } : {}) };
      const line = layoutLine(layout!, { event: item.event, text: item.text, enrichment, arrival });
      lines[e] = { text: line.text, keys: partitionWithClass(keys, line.eventClass) };
      continue;
    }
    if (opensearch) {
      // One document per event that the index template accepts whatever the event holds (src/7-encode/opensearch.ts).
      const enrichment: Record<string, unknown> = { ...shared.base, status };
      if (verdict !== undefined) Object.assign(enrichment, { priority: verdict.priority, risk: verdict.risk });
      lines[e] = { text: opensearchDocument(item.event, enrichment, arrival), keys };
      continue;
    }
    const { end, empty } = closingBrace(item.text);
    if (status === shared.status && !empty) {
      // The common case: original text, the source's shared prefix (bytes), this event's verdict.
      lines[e] = { text: item.text.slice(0, end), shared: shared.prefix, tail: verdictTail(verdict), keys };
    } else {
      const { head, tail } = enrichedParts(item.text, enrichmentJson(shared, status, verdict));
      lines[e] = { text: head, tail, keys };
    }
  }
  return lines;
}

async function lookupAll(
  intel: IpIntelligence | undefined,
  ips: string[],
  deadline: number,
  log: Log,
): Promise<{ map: ReadonlyMap<string, IpIntel>; stats: LookupStats; lookedUp: boolean; causes: ReadonlyMap<string, IncompleteCause> }> {
  const stats = emptyLookupStats();
  stats.uniqueIps = ips.length;
  if (intel === undefined || ips.length === 0) return { map: new Map(), stats, lookedUp: intel !== undefined, causes: new Map() };
  try {
    const result = await intel.lookup(ips, { deadline });
    return { map: result.intel, stats: result.stats, lookedUp: true, causes: result.causes ?? new Map() };
  } catch (err) {
    // The lookup contract says it never throws; if it does, every public event is delivered `partial`.
    log.error('lookup failed', { error: errorName(err) });
    return { map: new Map(), stats, lookedUp: true, causes: new Map() };
  }
}

/** Error class name and message without any payload: messages of our own errors never carry event data. */
export function errorName(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : 'non-error thrown';
}
