/**
 * Powertools Metrics behind the `MetricsSink` the handlers use. Built once per container. Metrics with extra
 * dimensions (provider, cause, function) go through one Powertools instance per dimension set, cached: an EMF object
 * has one dimension set, and there are only a handful (providers, causes, entry points).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type MetricUnitName } from './metric-names.ts';
import type { MetricsSink } from './report.ts';

export interface PowertoolsMetricsOptions {
  readonly namespace?: string;
  readonly serviceName: string;
}

export interface LambdaMetrics extends MetricsSink {
  /** Emits Powertools' `ColdStart` metric (dimensions service, function_name) on the first invocation only. */
  captureColdStart(functionName: string): void;
}

const UNITS: Record<MetricUnitName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
};

export function powertoolsMetrics(options: PowertoolsMetricsOptions): LambdaMetrics {
  const namespace = options.namespace ?? METRICS_NAMESPACE;
  const base = new Metrics({ namespace, serviceName: options.serviceName });
  const byDimensions = new Map<string, Metrics>();
  const instanceFor = (dimensions: Readonly<Record<string, string>>): Metrics => {
    const key = JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : 1)));
    let instance = byDimensions.get(key);
    if (instance === undefined) {
      instance = new Metrics({ namespace, serviceName: options.serviceName, defaultDimensions: { ...dimensions } });
      byDimensions.set(key, instance);
    }
    return instance;
  };
  return {
    addMetric: (name, unit, value) => void base.addMetric(name, UNITS[unit], value),
    publishStoredMetrics: () => void base.publishStoredMetrics(),
    publishWithDimensions: (dimensions, metrics) => {
      const instance = instanceFor(dimensions);
      for (const metric of metrics) {
        const values = typeof metric.value === 'number' ? [metric.value] : metric.value;
        for (const value of values) instance.addMetric(metric.name, UNITS[metric.unit], value);
      }
      instance.publishStoredMetrics();
    },
    captureColdStart: (functionName) => base.captureColdStartMetric(functionName),
  };
}
