import { Dimension, MetricName, type MetricNameValue, type MetricUnitName } from './metric-names.ts';

export interface MetricValue {
  readonly name: MetricNameValue;
  readonly unit: MetricUnitName;
  /** Several values make one EMF metric with a value array (percentiles over requests, not invocations). */
  readonly value: number | readonly number[];
}

/**
 * The part of a metrics library the handlers need (src/observability/metrics.ts adapts Powertools `Metrics`;
 * tests pass a recorder). Every metric carries the `service` dimension.
 */
export interface MetricsSink {
  addMetric(name: MetricNameValue, unit: MetricUnitName, value: number): void;
  publishStoredMetrics(): void;
  /** Publishes metrics under `service` plus `dimensions` at once (one EMF object per dimension set). */
  publishWithDimensions(dimensions: Readonly<Record<string, string>>, metrics: readonly MetricValue[]): void;
}

/** Calls, errors and round trips (ms) of one lookup provider in one invocation. */
export interface ProviderCounts {
  readonly calls: number;
  readonly errors: number;
  readonly latencyMs: readonly number[];
  readonly breakerOpen: boolean;
}

/** What the lookups of one invocation did (logged whole: the pipeline's stats may carry more fields). */
export interface LookupCounts {
  readonly uniqueIps: number;
  readonly l1Hits: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly providerCalls: number;
  readonly providerErrors: number;
  readonly providers: Readonly<Record<string, ProviderCounts>>;
}

/** What the findings of one invocation came to. */
export interface AlertCounts {
  readonly sent: number;
  readonly duplicates: number;
  readonly grouped: number;
  readonly failed: number;
}

/**
 * The counts of one transform invocation that are logged and published. Declared here so observability depends on
 * no later layer; the pipeline's `InvocationSummary` (src/pipeline/transform.ts) satisfies it structurally.
 */
/** The baseline stage's counts (structurally its `BaselineStats`). */
export interface BaselineCounts {
  readonly keys: number;
  readonly l1Hits: number;
  readonly reads: number;
  readonly newFacts: number;
  readonly writes: number;
  readonly refreshes: number;
  readonly unavailable: number;
}

/** The threshold step's counts (structurally its `ThresholdStats`). */
export interface ThresholdCounts {
  readonly candidates: number;
  readonly updates: number;
  readonly crossed: number;
  readonly unavailable: number;
}

export interface SummaryCounts {
  readonly records: number;
  readonly ok: number;
  readonly dropped: number;
  readonly processingFailed: number;
  readonly eventsIn: number;
  readonly eventsReturned: number;
  readonly eventsReingested: number;
  readonly passthroughEvents: number;
  readonly passthroughDeferred: number;
  readonly skipped: number;
  readonly partial: number;
  readonly partialByCause: Readonly<Record<string, number>>;
  readonly reingestedRecords: number;
  readonly reingestCalls: number;
  readonly reingestRetries: number;
  readonly lookup: LookupCounts;
  readonly byPriority: Readonly<Record<string, number | undefined>>;
  readonly alerts: AlertCounts;
  /** Present when the baseline stage ran. */
  readonly baseline?: BaselineCounts;
  /** Present when threshold rules were counted. */
  readonly thresholds?: ThresholdCounts;
  readonly failureReasons: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

/** One structured log line per invocation: counts only, never event payloads or addresses. */
export function summaryLogFields(summary: SummaryCounts): Record<string, unknown> {
  return {
    records: { in: summary.records, ok: summary.ok, dropped: summary.dropped, processingFailed: summary.processingFailed },
    events: {
      in: summary.eventsIn,
      returned: summary.eventsReturned,
      reingested: summary.eventsReingested,
      passthrough: summary.passthroughEvents,
      passthroughDeferred: summary.passthroughDeferred,
      skipped: summary.skipped,
      partial: summary.partial,
      partialByCause: summary.partialByCause,
    },
    reingest: { records: summary.reingestedRecords, calls: summary.reingestCalls, retried: summary.reingestRetries },
    lookup: summary.lookup,
    ...(summary.baseline !== undefined ? { baseline: summary.baseline } : {}),
    ...(summary.thresholds !== undefined ? { thresholds: summary.thresholds } : {}),
    byPriority: summary.byPriority,
    alerts: summary.alerts,
    failureReasons: summary.failureReasons,
    durationMs: summary.durationMs,
  };
}

/** The same counts as EMF metrics. */
export function publishSummaryMetrics(summary: SummaryCounts, metrics: MetricsSink): void {
  const count = (name: MetricNameValue, value: number) => metrics.addMetric(name, 'Count', value);
  count(MetricName.RecordsIn, summary.records);
  count(MetricName.RecordsOk, summary.ok);
  count(MetricName.RecordsDropped, summary.dropped);
  count(MetricName.RecordsProcessingFailed, summary.processingFailed);
  count(MetricName.EventsIn, summary.eventsIn);
  count(MetricName.EventsReturned, summary.eventsReturned + summary.passthroughEvents);
  count(MetricName.EventsReingested, summary.eventsReingested + summary.passthroughDeferred);
  count(MetricName.RecordsReingested, summary.reingestedRecords);
  count(MetricName.ReingestRetries, summary.reingestRetries);
  count(MetricName.EventsSkipped, summary.skipped);
  count(MetricName.EventsPartial, summary.partial);
  count(MetricName.UniqueIps, summary.lookup.uniqueIps);
  count(MetricName.CacheHits, summary.lookup.l1Hits + summary.lookup.cacheHits);
  count(MetricName.L1Hits, summary.lookup.l1Hits);
  count(MetricName.DynamoDbHits, summary.lookup.cacheHits);
  count(MetricName.DynamoDbMisses, summary.lookup.cacheMisses);
  count(MetricName.ProviderCalls, summary.lookup.providerCalls);
  count(MetricName.ProviderErrors, summary.lookup.providerErrors);
  count(MetricName.ThresholdUpdates, summary.thresholds?.updates ?? 0);
  count(MetricName.ThresholdCrossed, summary.thresholds?.crossed ?? 0);
  count(MetricName.ThresholdUnavailable, summary.thresholds?.unavailable ?? 0);
  count(MetricName.AlertsSent, summary.alerts.sent);
  count(MetricName.AlertsDuplicate, summary.alerts.duplicates);
  count(MetricName.AlertsGrouped, summary.alerts.grouped);
  count(MetricName.AlertsFailed, summary.alerts.failed);
  const baseline = summary.baseline;
  count(MetricName.BaselineReads, baseline?.reads ?? 0);
  count(MetricName.BaselineWrites, (baseline?.writes ?? 0) + (baseline?.refreshes ?? 0));
  count(MetricName.BaselineNewFacts, baseline?.newFacts ?? 0);
  count(MetricName.BaselineUnavailable, baseline?.unavailable ?? 0);
  metrics.publishStoredMetrics();
  publishBreakdowns(summary, metrics);
}

/** Per cause and per provider: one EMF object each, only for causes seen and providers enabled. */
function publishBreakdowns(summary: Pick<SummaryCounts, 'partialByCause' | 'lookup'>, metrics: MetricsSink): void {
  for (const [cause, n] of Object.entries(summary.partialByCause)) {
    if (n > 0) metrics.publishWithDimensions({ [Dimension.Cause]: cause }, [{ name: MetricName.EventsPartial, unit: 'Count', value: n }]);
  }
  for (const [provider, p] of Object.entries(summary.lookup.providers)) {
    const values: MetricValue[] = [
      { name: MetricName.ProviderCalls, unit: 'Count', value: p.calls },
      { name: MetricName.ProviderErrors, unit: 'Count', value: p.errors },
      { name: MetricName.ProviderBreakerOpen, unit: 'Count', value: p.breakerOpen ? 1 : 0 },
    ];
    if (p.latencyMs.length > 0) values.push({ name: MetricName.ProviderLatency, unit: 'Milliseconds', value: p.latencyMs });
    metrics.publishWithDimensions({ [Dimension.Provider]: provider }, values);
  }
}

/** Published when re-ingestion fails for good (the invocation then throws). */
export function publishReingestFailure(metrics: MetricsSink): void {
  metrics.addMetric(MetricName.ReingestFailures, 'Count', 1);
  metrics.publishStoredMetrics();
}

/** What one backfill or Object Lambda invocation did with its objects. */
export interface ObjectCounts {
  /** Objects enriched and written (backfill) or returned (Object Lambda). */
  readonly processed: number;
  readonly failed: number;
  /** Digests, non-CloudTrail keys, S3 test events. */
  readonly skipped: number;
  /** Events written. */
  readonly events: number;
  readonly durationMs: number;
}

/** The object metrics of the S3 entry points, under `service` and `function` (backfill | object-lambda). */
export function publishObjectMetrics(fn: string, counts: ObjectCounts, metrics: MetricsSink): void {
  metrics.publishWithDimensions({ [Dimension.Function]: fn }, [
    { name: MetricName.ObjectsProcessed, unit: 'Count', value: counts.processed },
    { name: MetricName.ObjectsFailed, unit: 'Count', value: counts.failed },
    { name: MetricName.ObjectsSkipped, unit: 'Count', value: counts.skipped },
    { name: MetricName.ObjectEvents, unit: 'Count', value: counts.events },
    { name: MetricName.ObjectDurationMs, unit: 'Milliseconds', value: counts.durationMs },
  ]);
}
