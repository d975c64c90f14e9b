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
import {
  silentLog,
  type BaselineVerdict,
  type CloudTrailEvent,
  type Enrichment,
  type IpIntel,
  type Log,
  type Priority,
  type SourceClassification,
  type Verdict,
} from '../model.ts';
import { principalOf } from '../4-baseline/principal.ts';
import { userAgentFamily, userAgentKind } from '../4-baseline/user-agent.ts';
import type { BaselineAttribute, BaselineObservation, BaselineStage, BaselineStats } from '../4-baseline/stage.ts';
import type { RuleEngine, ThresholdHit } from '../5-rules/types.ts';
import type { ThresholdCounter, ThresholdInput, ThresholdStats } from '../5-rules/thresholds/stage.ts';
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
  /** The baseline stage; without it, events carry no `baseline`. */
  readonly baseline?: BaselineStage;
  /** The rules stage; without it, events carry no priority or risk. */
  readonly rules?: RuleEngine;
  /** Counts the rules' threshold candidates (5-rules/thresholds); without it, threshold rules never match. */
  readonly thresholds?: ThresholdCounter;
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
  /** Present when the baseline stage ran. */
  baseline?: BaselineStats;
  /** Present when threshold rules had candidates. */
  thresholds?: ThresholdStats;
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
 * IPs, not events), ask the baseline stage once for the unique (principal, attribute, value) facts, evaluate the
 * rules and encode each event as an output line with its partition keys:
 *   classify → lookup → baseline → judge (rules) → thresholds (rules' counters) → encode.
 * Never throws for failed lookups, baselines or rules: affected events are `partial`.
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
    thresholds: deps.thresholds !== undefined && deps.rules?.withThresholds !== undefined ? [] : undefined,
    alerts: deps.alerts,
    config: deps.config,
    counters,
    log,
  };
  const shared = groups.map((group, g) => sharedSources(group.events, sources[g]!, state));
  const baselines = await baselineAll(deps.baseline, groups, shared, deadline, counters, log);
  const judged = groups.map((group, g) => judgeEvents(g, group.events, sources[g]!, shared[g]!, baselines?.[g], state));
  if (state.thresholds !== undefined && state.thresholds.length > 0)
    await thresholdsAll(deps.thresholds!, deps.rules!, groups, judged, state.thresholds, deadline, counters);
  const out: OutputLine[][] = new Array(groups.length);
  for (let g = 0; g < groups.length; g++) {
    out[g] = encodeEvents(groups[g]!.events, judged[g]!, groups[g]!.arrival, state);
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
  /** Threshold candidates of this invocation (group, event, hits); undefined when thresholds are not counted. */
  readonly thresholds: { g: number; e: number; hits: ThresholdHit[] }[] | undefined;
  readonly alerts: EnrichDeps['alerts'];
  readonly config: CoreConfig;
  readonly counters: EnrichCounters;
  readonly log: Log;
  readonly causes: ReadonlyMap<string, IncompleteCause>;
}

/** Each event's shared source part (built once per unique address), undefined for skipped messages. */
function sharedSources(
  events: readonly EventItem[],
  sources: readonly (SourceClassification | undefined)[],
  state: EncodeState,
): (SourceEnrichment | undefined)[] {
  const out: (SourceEnrichment | undefined)[] = new Array(events.length);
  for (let e = 0; e < events.length; e++) {
    if (!events[e]!.ok) continue;
    const source = sources[e]!;
    const cacheKey = source.address ?? '';
    let built = state.cache.get(cacheKey);
    if (built === undefined) {
      built = sourceEnrichment(source, source.ip === undefined ? undefined : state.intel.get(source.ip), state.lookedUp);
      state.cache.set(cacheKey, built);
    }
    out[e] = built;
  }
  return out;
}

/** The facts of one event the baseline stage tracks; undefined without a principal. */
export function baselineObservation(event: CloudTrailEvent, source: SourceEnrichment): BaselineObservation | undefined {
  const principal = principalOf(event.userIdentity);
  if (principal === undefined) return undefined;
  const facts: Partial<Record<BaselineAttribute, string>> = {};
  // Only complete lookups: a missing answer is not a new country.
  if (source.status === 'complete') {
    const country = source.base.source?.geo?.countryCode;
    if (country !== undefined) facts.country = country;
    const asn = source.base.source?.as?.number;
    if (asn !== undefined) facts.asn = String(asn);
  }
  if (typeof event.awsRegion === 'string' && event.awsRegion.length <= 64) facts.region = event.awsRegion;
  const family = userAgentFamily(event['userAgent']);
  if (family !== undefined) {
    facts.userAgentFamily = family;
    facts.userAgentKind = userAgentKind(family);
  }
  const id = event['eventID'];
  return { eventId: typeof id === 'string' ? id : '', principal, facts };
}

/** Baseline step: one call for all groups' events; per group, per event, its verdict (undefined: none). */
async function baselineAll(
  stage: BaselineStage | undefined,
  groups: readonly EventGroup[],
  shared: readonly (readonly (SourceEnrichment | undefined)[])[],
  deadline: number,
  counters: EnrichCounters,
  log: Log,
): Promise<(BaselineVerdict | undefined)[][] | undefined> {
  if (stage === undefined) return undefined;
  const observations: BaselineObservation[] = [];
  const at: [number, number][] = [];
  for (let g = 0; g < groups.length; g++) {
    const events = groups[g]!.events;
    for (let e = 0; e < events.length; e++) {
      const item = events[e]!;
      if (!item.ok) continue;
      const o = baselineObservation(item.event, shared[g]![e]!);
      if (o === undefined) continue;
      observations.push(o);
      at.push([g, e]);
    }
  }
  const out: (BaselineVerdict | undefined)[][] = groups.map((group) => new Array(group.events.length));
  if (observations.length === 0) return out;
  let verdicts: BaselineVerdict[];
  try {
    const result = await stage.observe(observations, { deadline });
    verdicts = result.verdicts;
    counters.baseline = result.stats;
  } catch (err) {
    // The stage never throws by contract; if it does, no event is claimed new.
    log.error('baseline failed', { error: errorName(err) });
    verdicts = observations.map((o) => ({ principal: o.principal, firstSeen: [], status: 'unavailable' }));
  }
  for (let i = 0; i < at.length; i++) out[at[i]![0]]![at[i]![1]] = verdicts[i];
  return out;
}

/** One event after the rules: what the encoder needs (status, cause and verdict updated by the threshold step). */
interface Judged {
  readonly shared: SourceEnrichment;
  status: Enrichment['status'];
  cause: string | undefined;
  verdict: Verdict | undefined;
  readonly baseline: BaselineVerdict | undefined;
  /** What the rules saw: the shared base, plus the event's baseline when there is one. */
  readonly enrichment: Enrichment;
}

/** Judge step: the rules evaluate each event against its enrichment (source part and baseline). */
function judgeEvents(
  g: number,
  events: readonly EventItem[],
  sources: readonly (SourceClassification | undefined)[],
  shared: readonly (SourceEnrichment | undefined)[],
  baselines: readonly (BaselineVerdict | undefined)[] | undefined,
  state: EncodeState,
): (Judged | undefined)[] {
  const { rules } = state;
  const out: (Judged | undefined)[] = new Array(events.length);
  // One scratch list for the rules' threshold candidates, replaced only when an event filled it: most events have none.
  let hits: ThresholdHit[] = [];
  for (let e = 0; e < events.length; e++) {
    const item = events[e]!;
    if (!item.ok) continue;
    const source = sources[e]!;
    const own = shared[e]!;
    const baseline = baselines?.[e];
    let status = own.status;
    let cause: string | undefined =
      status === 'partial' ? ((source.ip !== undefined ? state.causes.get(source.ip) : undefined) ?? PartialCause.Lookup) : undefined;
    if (baseline?.status === 'unavailable') {
      status = 'partial';
      cause ??= PartialCause.Baseline;
    }
    const enrichment = baseline === undefined ? own.base : { ...own.base, baseline };
    let verdict: Verdict | undefined;
    if (rules !== undefined) {
      try {
        if (state.thresholds === undefined) verdict = rules.evaluate(item.event, enrichment);
        else {
          verdict = rules.evaluate(item.event, enrichment, hits);
          if (hits.length > 0) {
            state.thresholds.push({ g, e, hits });
            hits = [];
          }
        }
      } catch (err) {
        // A rule must never fail a record; report the bug and deliver the event without a verdict.
        state.log.error('rule evaluation failed', { error: errorName(err) });
        hits.length = 0; // candidates of a failed evaluation are not counted
        status = 'partial';
        cause ??= PartialCause.RulesError;
      }
    }
    out[e] = { shared: own, status, cause, verdict, baseline, enrichment };
  }
  return out;
}

/**
 * Threshold step: the candidates of all groups counted at once (one counter update per rule, key and window);
 * crossing events get the rule in their verdict, events whose counter failed go out `partial` (cause threshold).
 */
async function thresholdsAll(
  counter: ThresholdCounter,
  rules: RuleEngine,
  groups: readonly EventGroup[],
  judged: readonly (readonly (Judged | undefined)[])[],
  pending: readonly { g: number; e: number; hits: ThresholdHit[] }[],
  deadline: number,
  counters: EnrichCounters,
): Promise<void> {
  const now = Date.now();
  const inputs: ThresholdInput[] = pending.map((p, i) => {
    const item = groups[p.g]!.events[p.e]!;
    const time = item.ok && typeof item.event.eventTime === 'string' ? Date.parse(item.event.eventTime) : NaN;
    return { event: i, time: Number.isFinite(time) ? time : now, hits: p.hits };
  });
  const result = await counter.resolve(inputs, { deadline });
  counters.thresholds = result.stats;
  for (const [i, ids] of result.crossed) {
    const p = pending[i]!;
    const j = judged[p.g]![p.e]!;
    const item = groups[p.g]!.events[p.e]!;
    if (!item.ok || j.verdict === undefined) continue;
    j.verdict = rules.withThresholds!(j.verdict, item.event, j.enrichment, ids);
  }
  for (const i of result.unavailable) {
    const p = pending[i]!;
    const j = judged[p.g]![p.e]!;
    j.status = 'partial';
    j.cause ??= PartialCause.Threshold;
  }
}

/** Encode step: counts, offers judged events to the alert stage, and writes each output line. */
function encodeEvents(
  events: readonly EventItem[],
  judged: readonly (Judged | undefined)[],
  arrival: number,
  state: EncodeState,
): OutputLine[] {
  const { counters } = state;
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
    const { shared, status, cause, verdict, baseline, enrichment: judgedEnrichment } = judged[e]!;
    if (status === 'partial') {
      counters.partial++;
      const why = cause ?? PartialCause.Lookup;
      counters.partialByCause[why] = (counters.partialByCause[why] ?? 0) + 1;
    }
    if (verdict !== undefined) {
      counters.byPriority[verdict.priority] = (counters.byPriority[verdict.priority] ?? 0) + 1;
      state.alerts?.consider({ event: item.event, text: item.text, enrichment: judgedEnrichment, verdict });
    }
    state.perSource.set(shared, (state.perSource.get(shared) ?? 0) + 1);
    const keys = partitionKeysOf(item.event, arrival, partitionOptions);
    const withBaseline = baseline !== undefined ? { baseline } : {};
    if (!native) {
      // Standard layouts (OCSF, ECS): built from the native enrichment once rules have judged the native event.
      const enrichment = {
        ...shared.base,
        status,
        ...withBaseline,
        ...(verdict !== undefined ? { priority: verdict.priority, risk: verdict.risk } : {}),
      };
      const line = layoutLine(layout!, { event: item.event, text: item.text, enrichment, arrival });
      lines[e] = { text: line.text, keys: partitionWithClass(keys, line.eventClass) };
      continue;
    }
    if (opensearch) {
      // One document per event that the index template accepts whatever the event holds (src/7-encode/opensearch.ts).
      const enrichment: Record<string, unknown> = { ...shared.base, status, ...withBaseline };
      if (verdict !== undefined) Object.assign(enrichment, { priority: verdict.priority, risk: verdict.risk });
      lines[e] = { text: opensearchDocument(item.event, enrichment, arrival), keys };
      continue;
    }
    const { end, empty } = closingBrace(item.text);
    if (status === shared.status && !empty) {
      // The common case: original text, the source's shared prefix (bytes), this event's baseline and verdict.
      lines[e] = { text: item.text.slice(0, end), shared: shared.prefix, tail: verdictTail(verdict, baseline), keys };
    } else {
      const { head, tail } = enrichedParts(item.text, enrichmentJson(shared, status, verdict, baseline));
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
