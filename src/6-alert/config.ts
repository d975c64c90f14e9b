/**
 * The alert stage's configuration, parsed from the environment once at cold start (the only place in src/alert
 * that reads variables). A bad value throws `ConfigError` naming the variable and what was expected.
 */
import { boolVar, intVar, type ConfigVariable, type Env } from '../config/core.ts';
import { ConfigError } from '../errors.ts';
import type { Priority } from '../model.ts';

export interface AlertConfig {
  /** ALERTS_EVENT_BUS_NAME: name or ARN of the bus findings go to; undefined → no EventBridge findings. */
  readonly eventBusName?: string;
  /** Events at or above this priority become findings. */
  readonly minPriority: Priority;
  /** ALERTS_DEDUP_TABLE_NAME: once-each table (`pk` S, TTL `expiresAt`); undefined → per-process dedup. */
  readonly dedupTableName?: string;
  /** How long a sent finding's mark is kept (seconds): repeats within it are not sent again. */
  readonly dedupTtlSeconds: number;
  /** ALERT_GROUP_WINDOW in seconds: repeats of a rule set by a principal within a window count on the first finding. */
  readonly groupWindowSeconds?: number;
  readonly securityHubEnabled: boolean;
  /** The account's default product ARN (`arn:aws:securityhub:<region>:<account>:product/<account>/default`). */
  readonly securityHubProductArn?: string;
  /** Longest single PutEvents / BatchImportFindings / PutItem call (also cut at the invocation deadline). */
  readonly callTimeoutMs: number;
  /** Attempts per entry (PutEvents failed entries, Security Hub failed findings, throttled calls). */
  readonly maxAttempts: number;
}

export const DEFAULT_ALERT_DEDUP_TTL_SECONDS = 7 * 24 * 3600;

export const ALERT_CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'ALERTS_EVENT_BUS_NAME', description: 'EventBridge bus (name or ARN) findings are sent to; unset = no EventBridge findings' },
  {
    name: 'ALERT_MIN_PRIORITY',
    default: 'HIGH',
    description: 'events at or above this priority (LOW, MEDIUM, HIGH, CRITICAL) become findings',
  },
  {
    name: 'ALERTS_DEDUP_TABLE_NAME',
    description:
      'DynamoDB table (partition key `pk` String, TTL `expiresAt`) that makes each finding go out once across retries and containers; may be the baseline table; unset = per-process dedup',
  },
  {
    name: 'ALERT_DEDUP_TTL_SECONDS',
    default: String(DEFAULT_ALERT_DEDUP_TTL_SECONDS),
    description: 'how long a sent finding is remembered (60 s – 90 days)',
  },
  {
    name: 'ALERT_GROUP_WINDOW',
    description:
      'optional grouping window (`30m`, `1h`, `1d`): repeats of the same rules by the same principal within it are counted, not sent again',
  },
  { name: 'SECURITY_HUB_ENABLED', default: 'false', description: 'also import findings into Security Hub (BatchImportFindings, ASFF)' },
  {
    name: 'SECURITY_HUB_PRODUCT_ARN',
    description:
      "the account's default product ARN, `arn:<partition>:securityhub:<region>:<account>:product/<account>/default` (required when SECURITY_HUB_ENABLED)",
  },
  {
    name: 'ALERT_CALL_TIMEOUT_MS',
    default: '2000',
    description: 'timeout of one PutEvents, BatchImportFindings or dedup call (also cut at the invocation deadline)',
  },
  {
    name: 'ALERT_MAX_ATTEMPTS',
    default: '3',
    description: 'attempts per finding before it is given up (one log line, `AlertsFailed` metric)',
  },
];

const PRIORITIES: readonly Priority[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

export function parseAlertConfig(env: Env): AlertConfig {
  const eventBusName = optional(env, 'ALERTS_EVENT_BUS_NAME');
  // PutEvents EventBusName: a name or an ARN, 1–1600 characters of [/\.\-_A-Za-z0-9:].
  if (eventBusName !== undefined && !/^[/.\-_A-Za-z0-9:]{1,1600}$/.test(eventBusName)) {
    throw new ConfigError(`ALERTS_EVENT_BUS_NAME must be an event bus name or ARN, got ${JSON.stringify(eventBusName)}`);
  }
  const minRaw = (optional(env, 'ALERT_MIN_PRIORITY') ?? 'HIGH').toUpperCase();
  if (!PRIORITIES.includes(minRaw as Priority)) {
    throw new ConfigError(`ALERT_MIN_PRIORITY must be one of ${PRIORITIES.join(', ')}, got ${JSON.stringify(env.ALERT_MIN_PRIORITY)}`);
  }
  const dedupTableName = optional(env, 'ALERTS_DEDUP_TABLE_NAME');
  // DynamoDB table names: 3–255 characters of [a-zA-Z0-9_.-].
  if (dedupTableName !== undefined && !/^[A-Za-z0-9_.-]{3,255}$/.test(dedupTableName)) {
    throw new ConfigError(
      `ALERTS_DEDUP_TABLE_NAME must be a DynamoDB table name (3–255 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(dedupTableName)}`,
    );
  }
  const window = optional(env, 'ALERT_GROUP_WINDOW');
  const securityHubEnabled = boolVar(env, 'SECURITY_HUB_ENABLED', false);
  const productArn = optional(env, 'SECURITY_HUB_PRODUCT_ARN');
  if (productArn !== undefined && !PRODUCT_ARN.test(productArn)) {
    throw new ConfigError(
      `SECURITY_HUB_PRODUCT_ARN must be arn:<partition>:securityhub:<region>:<account>:product/<account>/default, got ${JSON.stringify(productArn)}`,
    );
  }
  if (securityHubEnabled && productArn === undefined) {
    throw new ConfigError("SECURITY_HUB_PRODUCT_ARN must be set when SECURITY_HUB_ENABLED is true (the account's default product ARN)");
  }
  return {
    eventBusName,
    minPriority: minRaw as Priority,
    dedupTableName,
    dedupTtlSeconds: intVar(env, 'ALERT_DEDUP_TTL_SECONDS', DEFAULT_ALERT_DEDUP_TTL_SECONDS, 60, 90 * 24 * 3600),
    groupWindowSeconds: window === undefined ? undefined : parseWindow(window),
    securityHubEnabled,
    securityHubProductArn: productArn,
    callTimeoutMs: intVar(env, 'ALERT_CALL_TIMEOUT_MS', 2000, 100, 60_000),
    maxAttempts: intVar(env, 'ALERT_MAX_ATTEMPTS', 3, 1, 10),
  };
}

export const PRODUCT_ARN = /^arn:aws(?:-[a-z]+)*:securityhub:[a-z0-9-]+:(\d{12}):product\/(\d{12})\/default$/;

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `30m`, `1h`, `1d` → seconds; from one minute to seven days. */
export function parseWindow(raw: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(raw.trim().toLowerCase());
  const seconds = match === null ? NaN : Number(match[1]) * UNIT_SECONDS[match[2]!]!;
  if (!Number.isInteger(seconds) || seconds < 60 || seconds > 7 * 86_400) {
    throw new ConfigError(`ALERT_GROUP_WINDOW must be a duration from 1m to 7d such as 30m, 1h or 1d, got ${JSON.stringify(raw)}`);
  }
  return seconds;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
