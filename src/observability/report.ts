import type { InvocationSummary } from '../pipeline/transform.ts';
import { MetricName } from './metric-names.ts';

/** The part of a metrics library the handler needs (Powertools `Metrics` fits; tests pass a recorder). */
export interface MetricsSink {
  addMetric(name: string, unit: 'Count' | 'Milliseconds', value: number): void;
  publishStoredMetrics(): void;
}

/** One structured log line per invocation: counts only, never event payloads or addresses. */
export function summaryLogFields(summary: InvocationSummary): Record<string, unknown> {
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
    },
    reingest: { records: summary.reingestedRecords, calls: summary.reingestCalls, retried: summary.reingestRetries },
    lookup: summary.lookup,
    byPriority: summary.byPriority,
    alerts: summary.alerts,
    failureReasons: summary.failureReasons,
    durationMs: summary.durationMs,
  };
}

/** The same counts as EMF metrics. */
export function publishSummaryMetrics(summary: InvocationSummary, metrics: MetricsSink): void {
  const count = (name: string, value: number) => metrics.addMetric(name, 'Count', value);
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
  count(MetricName.ProviderCalls, summary.lookup.providerCalls);
  count(MetricName.ProviderErrors, summary.lookup.providerErrors);
  count(MetricName.AlertsSent, summary.alerts.sent);
  count(MetricName.AlertsDuplicate, summary.alerts.duplicates);
  count(MetricName.AlertsGrouped, summary.alerts.grouped);
  count(MetricName.AlertsFailed, summary.alerts.failed);
  metrics.publishStoredMetrics();
}

/** Published when re-ingestion fails for good (the invocation then throws). */
export function publishReingestFailure(metrics: MetricsSink): void {
  metrics.addMetric(MetricName.ReingestFailures, 'Count', 1);
  metrics.publishStoredMetrics();
}
