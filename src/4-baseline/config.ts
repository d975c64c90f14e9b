/**
 * The baseline stage's configuration, parsed once at cold start (the only place in src/4-baseline that reads
 * variables). A bad value throws `ConfigError` naming the variable.
 */
import { envText, intVar, type Env } from '../config/env.ts';
import type { ConfigVariable } from '../config/core.ts';

export interface BaselineConfig {
  /** BASELINE_TABLE_NAME: table (`pk` S, TTL `expiresAt`); undefined → the stage is off (no `baseline` field). */
  readonly tableName?: string;
  /** A principal first seen less than this many days ago is learning: its facts are not new. */
  readonly learningDays: number;
  /** A fact not seen for this many days is forgotten (its item's TTL). */
  readonly forgetDays: number;
  /** Facts and principals remembered per container across warm invocations (bounded LRU). */
  readonly l1MaxEntries: number;
}

export const BASELINE_CONFIG_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'BASELINE_TABLE_NAME',
    description: 'DynamoDB table (partition key `pk` String, TTL `expiresAt`) of principal baselines; unset = no baseline stage',
  },
  {
    name: 'BASELINE_LEARNING_DAYS',
    default: '7',
    description: 'days a new principal is learning (0 – 365): its facts are not flagged new',
  },
  { name: 'BASELINE_FORGET_DAYS', default: '30', description: 'days after which a fact not seen again is forgotten (1 – 3650)' },
  { name: 'BASELINE_L1_MAX_ENTRIES', default: '50000', description: 'facts remembered per container across warm invocations' },
];

export function parseBaselineConfig(env: Env): BaselineConfig {
  const tableName = envText(env, 'BASELINE_TABLE_NAME');
  return {
    ...(tableName !== undefined ? { tableName } : {}),
    learningDays: intVar(env, 'BASELINE_LEARNING_DAYS', 7, 0, 365),
    forgetDays: intVar(env, 'BASELINE_FORGET_DAYS', 30, 1, 3650),
    l1MaxEntries: intVar(env, 'BASELINE_L1_MAX_ENTRIES', 50_000, 0, 10_000_000),
  };
}
