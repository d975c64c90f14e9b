/**
 * What the code really emits: runs every metric publisher through the Powertools adapter (src/observability/metrics.ts)
 * and parses the EMF objects written to standard output. The deployment tests compare the dashboard and the alarms
 * with this, the observability tests compare it with METRIC_CATALOGUE.
 */
import { emptyLookupStats } from '../../../../src/3-lookup/types.ts';
import { ObjectFunction, PartialCause } from '../../../../src/observability/metric-names.ts';
import { powertoolsMetrics } from '../../../../src/observability/metrics.ts';
import { publishObjectMetrics, publishReingestFailure, publishSummaryMetrics } from '../../../../src/observability/report.ts';
import { emptyEnrichCounters } from '../../../../src/pipeline/enrich.ts';
import type { InvocationSummary } from '../../../../src/pipeline/transform.ts';

export interface EmittedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly unit: string;
  /** Dimension names, sorted. */
  readonly dimensions: readonly string[];
  /** Dimension values of this EMF object. */
  readonly values: Readonly<Record<string, string>>;
  readonly value: unknown;
}

/** Runs `fn` with process.stdout captured and returns the EMF metrics written meanwhile. */
export async function captureEmf(fn: () => void | Promise<void>): Promise<EmittedMetric[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n'));
    return true;
  };
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  const out: EmittedMetric[] = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    const blob = JSON.parse(line) as Record<string, unknown> & {
      _aws?: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
    };
    if (blob._aws === undefined) continue;
    for (const directive of blob._aws.CloudWatchMetrics) {
      for (const set of directive.Dimensions) {
        const values = Object.fromEntries(set.map((d) => [d, String(blob[d])]));
        for (const metric of directive.Metrics) {
          out.push({
            namespace: directive.Namespace,
            name: metric.Name,
            unit: metric.Unit,
            dimensions: [...set].sort(),
            values,
            value: blob[metric.Name],
          });
        }
      }
    }
  }
  return out;
}

/** A summary where every counter is non-zero, every partial cause occurs and two providers are enabled. */
export function busySummary(): InvocationSummary {
  const lookup = {
    ...emptyLookupStats(),
    uniqueIps: 9,
    l1Hits: 3,
    cacheHits: 2,
    cacheMisses: 4,
    providerCalls: 6,
    providerErrors: 2,
    deadlineMisses: 1,
  };
  lookup.providers = {
    ipstack: { calls: 4, errors: 1, latencyMs: [120, 95, 300], breakerOpen: false },
    abuseipdb: { calls: 2, errors: 1, latencyMs: [80], breakerOpen: true },
  };
  return {
    ...emptyEnrichCounters(),
    alerts: { candidates: 5, sent: 2, duplicates: 1, grouped: 1, failed: 1, dedupErrors: 0, calls: 1, retries: 0 },
    eventsIn: 40,
    skipped: 1,
    partial: Object.keys(PartialCause).length,
    partialByCause: Object.fromEntries(Object.values(PartialCause).map((c) => [c, 1])),
    lookup,
    records: 5,
    ok: 3,
    dropped: 1,
    processingFailed: 1,
    eventsReturned: 30,
    eventsReingested: 10,
    passthroughEvents: 0,
    passthroughDeferred: 0,
    reingestedRecords: 2,
    reingestCalls: 1,
    reingestRetries: 1,
    failureReasons: { 'not gzip': 1 },
    recordFailures: { '49546986683135544286507457936321625675700192471156785154': 'not gzip' },
    durationMs: 42,
  };
}

/**
 * Builds `make()` as the Lambda runtime would for an on-demand container: Powertools reads
 * AWS_LAMBDA_INITIALIZATION_TYPE to know that the first invocation is a cold start (outside Lambda it never is).
 */
export function inOnDemandContainer<T>(make: () => T): T {
  const before = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  try {
    return make();
  } finally {
    if (before === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = before;
  }
}

/** Everything each function publishes in one invocation (transform, backfill, Object Lambda, cold start). */
export async function emittedByTheCode(service: string, functionName: string): Promise<EmittedMetric[]> {
  return captureEmf(() => {
    const metrics = inOnDemandContainer(() => powertoolsMetrics({ serviceName: service }));
    metrics.captureColdStart(functionName);
    publishSummaryMetrics(busySummary(), metrics);
    publishReingestFailure(metrics);
    for (const fn of Object.values(ObjectFunction))
      publishObjectMetrics(fn, { processed: 2, failed: 1, skipped: 1, events: 7, durationMs: 350 }, metrics);
  });
}

/** `namespace|name|dimension,names` — how a metric is identified, whatever its dimension values. */
export function metricKey(namespace: string, name: string, dimensions: readonly string[]): string {
  return `${namespace}|${name}|${[...dimensions].sort().join(',')}`;
}
