/**
 * Configuration of the lookup stage, parsed once at cold start from the environment.
 * Every variable read here is listed in LOOKUP_CONFIG_VARIABLES (deployment tests check each is set or defaulted).
 * Misconfiguration throws ConfigError naming the variable and what was expected.
 */
import { ConfigError } from '../errors.ts';
import { envText, type Env } from '../config/env.ts';
import { lookupBool, lookupInt, lookupNumber } from './env-vars.ts';
import { defaultGeoDbDir } from './geo/geo-dir.ts';
import { PROVIDER_NAMES, PROVIDER_REGISTRY, type ProviderName, type ProviderSettings, type TtlClass } from './providers/registry.ts';

export { PROVIDER_NAMES, type ProviderName, type ProviderSettings, type TtlClass };

/** A source of normalised fields: the offline databases or one of the providers. */
export const SOURCE_NAMES = ['offline', ...PROVIDER_NAMES] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

export interface ProviderConfig<N extends ProviderName = ProviderName> {
  readonly name: N;
  readonly enabled: boolean;
  /** SSM parameter name, or `secretsmanager:<secret id>[#<json field>]`. */
  readonly apiKeyParam?: string;
  /** Plain key, local runs only. */
  readonly apiKey?: string;
  /** Endpoint without trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly concurrency: number;
  readonly ratePerSecond: number;
  readonly breakerThreshold: number;
  readonly breakerCooldownMs: number;
  /** Cache lifetime of a positive answer. */
  readonly ttlSeconds: number;
  /** The provider's own settings (its registry entry's parseSettings). */
  readonly settings: ProviderSettings[N];
}

export interface LookupConfig {
  readonly cacheTableName?: string;
  readonly geoDbDir: string;
  readonly l1MaxEntries: number;
  /** Unique addresses (IPv6: /64 prefixes) resolved beyond L1 (DynamoDB, providers) per invocation; the rest are partial. */
  readonly maxProviderLookupsPerInvocation: number;
  readonly negativeTtlSeconds: number;
  readonly apiKeyMaxAgeSeconds: number;
  readonly precedence: {
    readonly geo: readonly SourceName[];
    readonly as: readonly SourceName[];
    readonly reputation: readonly SourceName[];
  };
  readonly providers: { readonly [N in ProviderName]: ProviderConfig<N> };
}

export function providerEnvPrefix(name: ProviderName): string {
  return PROVIDER_REGISTRY[name].envPrefix;
}

export function providerTtlClass(name: ProviderName): TtlClass {
  return PROVIDER_REGISTRY[name].ttlClass;
}

const DAY = 86_400;
const D = {
  L1_CACHE_MAX_ENTRIES: '10000',
  MAX_PROVIDER_LOOKUPS_PER_INVOCATION: '1000',
  GEO_TTL_SECONDS: String(30 * DAY),
  REPUTATION_TTL_SECONDS: String(DAY),
  NEGATIVE_TTL_SECONDS: '3600',
  API_KEY_MAX_AGE_SECONDS: '300',
  GEO_PRECEDENCE: 'offline,ipstack,ipqualityscore,abuseipdb',
  AS_PRECEDENCE: 'offline,ipqualityscore,ipstack',
  REPUTATION_PRECEDENCE: 'ipqualityscore,abuseipdb,autofocus,ipstack',
  TIMEOUT_MS: '2000',
  MAX_RETRIES: '2',
  BREAKER_THRESHOLD: '5',
  BREAKER_COOLDOWN_SECONDS: '60',
} as const;

export interface ConfigVariable {
  readonly name: string;
  readonly default?: string;
  readonly description: string;
}

function providerVariables(name: ProviderName): ConfigVariable[] {
  const d = PROVIDER_REGISTRY[name];
  const p = d.envPrefix;
  const ttlDefault = d.ttlClass === 'geo' ? 'GEO_TTL_SECONDS' : 'REPUTATION_TTL_SECONDS';
  return [
    { name: `${p}_ENABLED`, default: 'false', description: `Query ${name} for public source IPs (true/false).` },
    {
      name: `${p}_API_KEY_PARAM`,
      description: `Where the ${name} API key is stored: an SSM Parameter Store name (SecureString, decrypted), or secretsmanager:<secret id>[#<json field>]. Required when enabled unless ${p}_API_KEY is set.`,
    },
    { name: `${p}_API_KEY`, description: `Plain ${name} API key, for local runs only (never in a deployed stage).` },
    { name: `${p}_BASE_URL`, default: d.baseUrl, description: `Endpoint override (https, or http on loopback only).` },
    { name: `${p}_TIMEOUT_MS`, default: D.TIMEOUT_MS, description: 'Timeout of one HTTP attempt, in milliseconds.' },
    { name: `${p}_MAX_RETRIES`, default: D.MAX_RETRIES, description: 'Retries after a 429, 5xx, timeout or network error (0-10).' },
    { name: `${p}_CONCURRENCY`, default: String(d.concurrency), description: 'Requests in flight at once (1-64).' },
    { name: `${p}_RATE_PER_SECOND`, default: String(d.ratePerSecond), description: 'Requests started per second (token bucket).' },
    {
      name: `${p}_BREAKER_THRESHOLD`,
      default: D.BREAKER_THRESHOLD,
      description: 'Consecutive failed requests that open the circuit breaker.',
    },
    {
      name: `${p}_BREAKER_COOLDOWN_SECONDS`,
      default: D.BREAKER_COOLDOWN_SECONDS,
      description: 'How long an open breaker stops calls before one trial request.',
    },
    { name: `${p}_TTL_SECONDS`, default: `$${ttlDefault}`, description: `Cache lifetime of a positive ${name} answer.` },
  ];
}

export const LOOKUP_CONFIG_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'CACHE_TABLE_NAME',
    description: 'DynamoDB IP cache table (partition key ip: S, TTL attribute expiresAt). Unset: in-memory cache only.',
  },
  {
    name: 'GEO_DB_DIR',
    description:
      'Directory of the offline databases. Default: /opt/geo when it exists (the Lambda layer), else <repo>/data/geo (npm run build:data).',
  },
  { name: 'L1_CACHE_MAX_ENTRIES', default: D.L1_CACHE_MAX_ENTRIES, description: 'IPs kept in the in-memory LRU across warm invocations.' },
  {
    name: 'MAX_PROVIDER_LOOKUPS_PER_INVOCATION',
    default: D.MAX_PROVIDER_LOOKUPS_PER_INVOCATION,
    description:
      'Unique public addresses (IPv6: /64 prefixes) resolved beyond the in-memory cache (DynamoDB, then providers) in one invocation, in order of first appearance; the rest are partial (1-100000).',
  },
  { name: 'GEO_TTL_SECONDS', default: D.GEO_TTL_SECONDS, description: 'Default cache lifetime of geolocation answers (ipstack): 30 days.' },
  {
    name: 'REPUTATION_TTL_SECONDS',
    default: D.REPUTATION_TTL_SECONDS,
    description: 'Default cache lifetime of reputation answers (IPQualityScore, AutoFocus, AbuseIPDB): 1 day.',
  },
  { name: 'NEGATIVE_TTL_SECONDS', default: D.NEGATIVE_TTL_SECONDS, description: 'Cache lifetime of a "no data" answer.' },
  {
    name: 'API_KEY_MAX_AGE_SECONDS',
    default: D.API_KEY_MAX_AGE_SECONDS,
    description: 'How long a key read from SSM/Secrets Manager is cached before it is fetched again.',
  },
  {
    name: 'GEO_PRECEDENCE',
    default: D.GEO_PRECEDENCE,
    description: 'Sources for enrichment.source.geo, first with data wins the whole object.',
  },
  {
    name: 'AS_PRECEDENCE',
    default: D.AS_PRECEDENCE,
    description: 'Sources for enrichment.source.as, first with data wins the whole object.',
  },
  {
    name: 'REPUTATION_PRECEDENCE',
    default: D.REPUTATION_PRECEDENCE,
    description: 'Sources for enrichment.source.reputation, merged field by field, first with the field wins.',
  },
  ...PROVIDER_NAMES.flatMap(providerVariables),
  ...PROVIDER_NAMES.flatMap((n) => PROVIDER_REGISTRY[n].variables),
];

const raw = envText;
const int = lookupInt;
const num = lookupNumber;
const bool = lookupBool;

function sources(env: Env, name: string, fallback: string): SourceName[] {
  const text = raw(env, name) ?? fallback;
  const list = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const known = new Set<string>(SOURCE_NAMES);
  const bad = list.filter((s) => !known.has(s));
  if (bad.length > 0 || list.length === 0) {
    throw new ConfigError(`${name} must be a comma-separated list of ${SOURCE_NAMES.join(', ')}; got "${text}"`);
  }
  return [...new Set(list)] as SourceName[];
}

function baseUrl(env: Env, name: string, fallback: string): string {
  const text = raw(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${text}"`);
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  // API keys travel in the URL or headers: never let them cross a network in clear text.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(`${name} must use https (plain http is accepted for loopback test servers only), got "${url.origin}"`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(`${name} must not carry a query, fragment or credentials`);
  }
  return text.replace(/\/+$/, '');
}

function providerConfig<N extends ProviderName>(env: Env, name: N, ttl: Record<TtlClass, number>): ProviderConfig<N> {
  const d = PROVIDER_REGISTRY[name];
  const p = d.envPrefix;
  const enabled = bool(env, `${p}_ENABLED`, 'false');
  const apiKeyParam = raw(env, `${p}_API_KEY_PARAM`);
  const apiKey = raw(env, `${p}_API_KEY`);
  if (enabled && apiKeyParam === undefined && apiKey === undefined) {
    throw new ConfigError(`${p}_ENABLED is true but neither ${p}_API_KEY_PARAM (SSM name or secretsmanager:<id>) nor ${p}_API_KEY is set`);
  }
  if (apiKeyParam !== undefined && apiKey !== undefined) {
    throw new ConfigError(`${p}_API_KEY_PARAM and ${p}_API_KEY are both set; set exactly one`);
  }
  if (apiKeyParam !== undefined && apiKeyParam.startsWith('secretsmanager:') && apiKeyParam.length <= 'secretsmanager:'.length) {
    throw new ConfigError(`${p}_API_KEY_PARAM must be an SSM parameter name or secretsmanager:<secret id>, got "secretsmanager:"`);
  }
  const cfg: ProviderConfig<N> = {
    name,
    enabled,
    baseUrl: baseUrl(env, `${p}_BASE_URL`, d.baseUrl),
    timeoutMs: int(env, `${p}_TIMEOUT_MS`, D.TIMEOUT_MS, 50, 60_000),
    maxRetries: int(env, `${p}_MAX_RETRIES`, D.MAX_RETRIES, 0, 10),
    concurrency: int(env, `${p}_CONCURRENCY`, String(d.concurrency), 1, 64),
    ratePerSecond: num(env, `${p}_RATE_PER_SECOND`, String(d.ratePerSecond), 0.01, 10_000),
    breakerThreshold: int(env, `${p}_BREAKER_THRESHOLD`, D.BREAKER_THRESHOLD, 1, 1000),
    breakerCooldownMs: int(env, `${p}_BREAKER_COOLDOWN_SECONDS`, D.BREAKER_COOLDOWN_SECONDS, 1, 86_400) * 1000,
    ttlSeconds: int(env, `${p}_TTL_SECONDS`, String(ttl[d.ttlClass]), 60, 365 * DAY),
    settings: (d as { parseSettings: (env: Env) => ProviderSettings[N] }).parseSettings(env),
  };
  return {
    ...cfg,
    ...(apiKeyParam !== undefined ? { apiKeyParam } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
  };
}

export function parseLookupConfig(env: Env): LookupConfig {
  const ttl: Record<TtlClass, number> = {
    geo: int(env, 'GEO_TTL_SECONDS', D.GEO_TTL_SECONDS, 60, 365 * DAY),
    reputation: int(env, 'REPUTATION_TTL_SECONDS', D.REPUTATION_TTL_SECONDS, 60, 365 * DAY),
  };
  const cacheTableName = raw(env, 'CACHE_TABLE_NAME');
  // DynamoDB table names: 3-255 characters of [a-zA-Z0-9_.-] (an ARN is accepted too).
  if (
    cacheTableName !== undefined &&
    !/^([a-zA-Z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[^\s]+:table\/[a-zA-Z0-9_.-]{3,255})$/.test(cacheTableName)
  ) {
    throw new ConfigError(
      `CACHE_TABLE_NAME must be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -) or table ARN, got "${cacheTableName}"`,
    );
  }
  const providers = Object.fromEntries(PROVIDER_NAMES.map((n) => [n, providerConfig(env, n, ttl)])) as unknown as LookupConfig['providers'];
  return {
    ...(cacheTableName !== undefined ? { cacheTableName } : {}),
    geoDbDir: defaultGeoDbDir(env),
    l1MaxEntries: int(env, 'L1_CACHE_MAX_ENTRIES', D.L1_CACHE_MAX_ENTRIES, 1, 10_000_000),
    maxProviderLookupsPerInvocation: int(env, 'MAX_PROVIDER_LOOKUPS_PER_INVOCATION', D.MAX_PROVIDER_LOOKUPS_PER_INVOCATION, 1, 100_000),
    negativeTtlSeconds: int(env, 'NEGATIVE_TTL_SECONDS', D.NEGATIVE_TTL_SECONDS, 60, 365 * DAY),
    apiKeyMaxAgeSeconds: int(env, 'API_KEY_MAX_AGE_SECONDS', D.API_KEY_MAX_AGE_SECONDS, 1, DAY),
    precedence: {
      geo: sources(env, 'GEO_PRECEDENCE', D.GEO_PRECEDENCE),
      as: sources(env, 'AS_PRECEDENCE', D.AS_PRECEDENCE),
      reputation: sources(env, 'REPUTATION_PRECEDENCE', D.REPUTATION_PRECEDENCE),
    },
    providers,
  };
}
