import { LOOKUP_CONFIG_VARIABLES, parseLookupConfig, type LookupConfig } from '../3-lookup/index.ts';
import { BASELINE_CONFIG_VARIABLES, parseBaselineConfig, type BaselineConfig } from '../4-baseline/config.ts';
import { RULES_CONFIG_VARIABLES, parseRulesConfig, type RulesConfig } from '../5-rules/index.ts';
import { ALERT_CONFIG_VARIABLES, parseAlertConfig, type AlertConfig } from '../6-alert/config.ts';
import { OBSERVABILITY_CONFIG_VARIABLES, parseObservabilityConfig, type ObservabilityConfig } from '../observability/config.ts';
import { CORE_CONFIG_VARIABLES, parseCoreConfig, type ConfigVariable, type CoreConfig, type Env } from './core.ts';

export type { ConfigVariable, CoreConfig, Env } from './core.ts';

/** Powertools reads these itself; listed so deployment checks and the README cover them. */
const POWERTOOLS_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'POWERTOOLS_SERVICE_NAME',
    default: 'cloudtrail-enricher',
    description: 'service name in logs and the `service` metric dimension',
  },
  { name: 'POWERTOOLS_METRICS_NAMESPACE', default: 'CloudTrailEnricher', description: 'CloudWatch namespace of the EMF metrics' },
  { name: 'POWERTOOLS_LOG_LEVEL', default: 'INFO', description: 'log level (DEBUG, INFO, WARN, ERROR)' },
];

/** Every environment variable the configuration parsers read, with its default. */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  ...CORE_CONFIG_VARIABLES,
  ...LOOKUP_CONFIG_VARIABLES,
  ...BASELINE_CONFIG_VARIABLES,
  ...RULES_CONFIG_VARIABLES,
  ...ALERT_CONFIG_VARIABLES,
  ...POWERTOOLS_VARIABLES,
  ...OBSERVABILITY_CONFIG_VARIABLES,
];

export interface AppConfig {
  readonly core: CoreConfig;
  readonly lookup: LookupConfig;
  readonly baseline: BaselineConfig;
  readonly rules: RulesConfig;
  readonly alerts: AlertConfig;
  readonly observability: ObservabilityConfig;
}

/** Parses and validates the whole configuration once, at cold start. Throws `ConfigError` naming the variable. */
export function loadConfig(env: Env): AppConfig {
  return {
    core: parseCoreConfig(env),
    lookup: parseLookupConfig(env),
    baseline: parseBaselineConfig(env),
    rules: parseRulesConfig(env),
    alerts: parseAlertConfig(env),
    observability: parseObservabilityConfig(env),
  };
}
