/** Configuration of logs, metrics and traces, parsed once per container. */
import { boolVar, type ConfigVariable, type Env } from '../config/core.ts';
import { SERVICE_NAME } from './logger.ts';
import { METRICS_NAMESPACE } from './metric-names.ts';

export interface ObservabilityConfig {
  /** `service` in every log line and the `service` dimension of every metric. */
  readonly serviceName: string;
  readonly namespace: string;
  readonly tracing: boolean;
}

export const OBSERVABILITY_CONFIG_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'TRACING_ENABLED',
    default: 'false',
    description: 'true: AWS X-Ray traces through Powertools Tracer (the stage parameter tracingEnabled)',
  },
];

export function parseObservabilityConfig(env: Env): ObservabilityConfig {
  const service = (env.POWERTOOLS_SERVICE_NAME ?? '').trim();
  const namespace = (env.POWERTOOLS_METRICS_NAMESPACE ?? '').trim();
  return {
    serviceName: service === '' ? SERVICE_NAME : service,
    namespace: namespace === '' ? METRICS_NAMESPACE : namespace,
    tracing: boolVar(env, 'TRACING_ENABLED', false),
  };
}
