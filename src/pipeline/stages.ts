import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AppConfig } from '../config/index.ts';
import { createIpIntelligence, type IpIntelligenceDeps } from '../3-lookup/index.ts';
import type { IpIntelligence } from '../3-lookup/types.ts';
import { createAlertStage, type AlertDeps } from '../6-alert/index.ts';
import type { AlertStage } from '../6-alert/stage.ts';
import type { Log } from '../model.ts';
import { createBaselineStage, type BaselineStage } from '../4-baseline/stage.ts';
import { loadRuleEngine } from '../5-rules/index.ts';
import type { RuleEngine } from '../5-rules/types.ts';
import { createThresholdCounter, type ThresholdCounter } from '../5-rules/thresholds/stage.ts';
import { DynamoDbThresholdStore, MemoryThresholdStore } from '../5-rules/thresholds/store.ts';

/** The enrichment stages, built once per container (cold start) and reused by every warm invocation. */
export interface Stages {
  /** Opening the geo databases is asynchronous; the first invocation awaits it. */
  readonly intel: Promise<IpIntelligence>;
  /** Undefined when BASELINE_TABLE_NAME is unset (the stage is off). */
  readonly baseline?: BaselineStage;
  readonly rules: RuleEngine;
  /**
   * Counts threshold rules' candidates; undefined when no rule has a threshold. Counters live in the baseline
   * table (BASELINE_TABLE_NAME) so they span containers; without it, per container (in memory, bounded).
   */
  readonly thresholds?: ThresholdCounter;
  /** Undefined when findings go nowhere (no bus, no Security Hub). */
  readonly alerts?: AlertStage;
}

export interface StageDeps extends Omit<IpIntelligenceDeps, 'dynamoDb' | 'log'> {
  readonly dynamoDb?: Pick<DynamoDBClient, 'send'>;
  readonly log?: Log;
  readonly alertClients?: Omit<AlertDeps, 'log'>;
}

/**
 * Builds lookup and rules from the validated configuration. The rules file is read and compiled here, so an
 * invalid file fails the cold start (naming the rule and the field) instead of any record.
 */
export function buildStages(config: AppConfig, deps: StageDeps = {}): Stages {
  const rules = loadRuleEngine(config.rules, { log: deps.log });
  const intel = createIpIntelligence(config.lookup, deps);
  // Keep an early failure (unreadable geo database) from being an unhandled rejection before the first invocation.
  intel.catch(() => undefined);
  const alerts = createAlertStage(config.alerts, {
    ...deps.alertClients,
    dynamoDb: deps.alertClients?.dynamoDb ?? deps.dynamoDb,
    log: deps.log,
  });
  const baselineTable = config.baseline.tableName;
  const baseline =
    baselineTable === undefined
      ? undefined
      : createBaselineStage({ ...config.baseline, tableName: baselineTable }, { client: deps.dynamoDb ?? lazyDynamoDb(), log: deps.log });
  const specs = rules.info.thresholds ?? new Map();
  const client = baselineTable === undefined ? undefined : (deps.dynamoDb ?? lazyDynamoDb());
  const thresholds =
    specs.size === 0
      ? undefined
      : createThresholdCounter(
          specs,
          client === undefined ? new MemoryThresholdStore() : new DynamoDbThresholdStore({ client, tableName: baselineTable! }),
          { log: deps.log },
        );
  return { intel, rules, alerts, ...(baseline !== undefined ? { baseline } : {}), ...(thresholds !== undefined ? { thresholds } : {}) };
}

/** A DynamoDB client created (and its module loaded) on the first call, with the same timeouts as the IP cache's. */
function lazyDynamoDb(): Pick<DynamoDBClient, 'send'> {
  let client: Promise<DynamoDBClient> | undefined;
  const get = () =>
    (client ??= import('@aws-sdk/client-dynamodb').then(
      ({ DynamoDBClient }) => new DynamoDBClient({ requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 }, maxAttempts: 3 }),
    ));
  return {
    send: (async (command: never, options?: never) => (await get()).send(command, options)) as unknown as DynamoDBClient['send'],
  };
}
