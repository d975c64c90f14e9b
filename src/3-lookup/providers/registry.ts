/**
 * The provider registry: the one list of providers and, per provider, everything the rest of the stage derives from
 * it (environment prefix, defaults, TTL class, numeric ranges kept by the sanitiser, provider-specific settings and
 * the factory). Adding a provider: its file in this folder, its name in PROVIDER_NAMES (./names.ts), its entry below.
 */
import type { Env } from '../../config/env.ts';
import type { Log } from '../../model.ts';
import { lookupBool, lookupInt } from '../env-vars.ts';
import type { ResilientClient } from '../http/resilient-client.ts';
import { AbuseIpdbProvider } from './abuseipdb.ts';
import { AutoFocusProvider } from './autofocus.ts';
import { IpqsProvider } from './ipqualityscore.ts';
import { IpstackProvider } from './ipstack.ts';
import { PROVIDER_NAMES, type ProviderName } from './names.ts';
import type { Provider } from './types.ts';

export { PROVIDER_NAMES, type ProviderName };

/** What a provider mostly contributes; decides its default cache TTL (geo ~30 days, reputation ~1 day). */
export type TtlClass = 'geo' | 'reputation';

export interface Range {
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
}

/** What a provider's factory is given besides its own settings. */
export interface ProviderDeps {
  /** Endpoint without trailing slash. */
  readonly baseUrl: string;
  readonly client: ResilientClient;
  readonly log: Log;
  /** The stage's clock (epoch ms). */
  readonly now: () => number;
}

/** One provider-specific variable, listed in LOOKUP_CONFIG_VARIABLES. */
export interface SettingVariable {
  readonly name: string;
  readonly default: string;
  readonly description: string;
}

export interface ProviderEntry<S> {
  readonly envPrefix: string;
  readonly baseUrl: string;
  readonly ttlClass: TtlClass;
  readonly ratePerSecond: number;
  readonly concurrency: number;
  /** Range of every numeric field the provider keeps (trimmed names), applied by the answer sanitiser. */
  readonly numberRanges: Readonly<Record<string, Range>>;
  /** Its own variables (beyond the common `<PREFIX>_*` ones), with their defaults. */
  readonly variables: readonly SettingVariable[];
  readonly parseSettings: (env: Env) => S;
  readonly create: (settings: S, deps: ProviderDeps) => Provider;
}

export interface ProviderSettings {
  readonly ipstack: { readonly bulk: boolean; readonly security: boolean };
  readonly ipqualityscore: { readonly strictness: number };
  readonly autofocus: Readonly<Record<string, never>>;
  readonly abuseipdb: { readonly maxAgeInDays: number };
}

const PERCENT: Range = { min: 0, max: 100 };
const LATITUDE: Range = { min: -90, max: 90 };
const LONGITUDE: Range = { min: -180, max: 180 };
/** AS numbers are 32-bit (RFC 6793). */
const ASN: Range = { min: 0, max: 4_294_967_295, integer: true };
/** Report, user and sample counts. */
export const COUNT: Range = { min: 0, max: 1_000_000_000, integer: true };

function defaultOf(variables: readonly SettingVariable[], name: string): string {
  return variables.find((v) => v.name === name)!.default;
}

const IPSTACK_VARIABLES: readonly SettingVariable[] = [
  { name: 'IPSTACK_BULK', default: 'false', description: 'Use ipstack bulk lookup (up to 50 IPs per request; paid plans).' },
  { name: 'IPSTACK_SECURITY', default: 'false', description: 'Ask ipstack for its security module (proxy/tor; plan dependent).' },
];
const IPQS_VARIABLES: readonly SettingVariable[] = [
  { name: 'IPQUALITYSCORE_STRICTNESS', default: '0', description: 'IPQualityScore strictness (0-3).' },
];
const ABUSEIPDB_VARIABLES: readonly SettingVariable[] = [
  { name: 'ABUSEIPDB_MAX_AGE_DAYS', default: '90', description: 'AbuseIPDB report window, maxAgeInDays (1-365).' },
];

// Default rates stay under each provider's documented/free-tier limits; raise them for paid plans.
export const PROVIDER_REGISTRY: { readonly [N in ProviderName]: ProviderEntry<ProviderSettings[N]> } = {
  ipstack: {
    envPrefix: 'IPSTACK',
    baseUrl: 'https://api.ipstack.com',
    ttlClass: 'geo',
    ratePerSecond: 5,
    concurrency: 4,
    numberRanges: { latitude: LATITUDE, longitude: LONGITUDE, asn: ASN },
    variables: IPSTACK_VARIABLES,
    parseSettings: (env) => ({
      bulk: lookupBool(env, 'IPSTACK_BULK', defaultOf(IPSTACK_VARIABLES, 'IPSTACK_BULK')),
      security: lookupBool(env, 'IPSTACK_SECURITY', defaultOf(IPSTACK_VARIABLES, 'IPSTACK_SECURITY')),
    }),
    create: (settings, deps) => new IpstackProvider({ ...settings, ...deps }),
  },
  ipqualityscore: {
    envPrefix: 'IPQUALITYSCORE',
    baseUrl: 'https://ipqualityscore.com',
    ttlClass: 'reputation',
    ratePerSecond: 5,
    concurrency: 4,
    numberRanges: { fraudScore: PERCENT, latitude: LATITUDE, longitude: LONGITUDE, asn: ASN },
    variables: IPQS_VARIABLES,
    parseSettings: (env) => ({
      strictness: lookupInt(env, 'IPQUALITYSCORE_STRICTNESS', defaultOf(IPQS_VARIABLES, 'IPQUALITYSCORE_STRICTNESS'), 0, 3),
    }),
    create: (settings, deps) => new IpqsProvider({ ...settings, ...deps }),
  },
  // AutoFocus meters API use in "points" per minute (bucketInfo.minutePoints, typically 200/min): ~3/s.
  autofocus: {
    envPrefix: 'AUTOFOCUS',
    baseUrl: 'https://autofocus.paloaltonetworks.com',
    ttlClass: 'reputation',
    ratePerSecond: 3,
    concurrency: 2,
    numberRanges: {},
    variables: [],
    parseSettings: () => ({}),
    create: (_settings, deps) => new AutoFocusProvider(deps),
  },
  abuseipdb: {
    envPrefix: 'ABUSEIPDB',
    baseUrl: 'https://api.abuseipdb.com',
    ttlClass: 'reputation',
    ratePerSecond: 5,
    concurrency: 4,
    numberRanges: { abuseConfidenceScore: PERCENT, totalReports: COUNT, numDistinctUsers: COUNT },
    variables: ABUSEIPDB_VARIABLES,
    parseSettings: (env) => ({
      maxAgeInDays: lookupInt(env, 'ABUSEIPDB_MAX_AGE_DAYS', defaultOf(ABUSEIPDB_VARIABLES, 'ABUSEIPDB_MAX_AGE_DAYS'), 1, 365),
    }),
    create: (settings, deps) => new AbuseIpdbProvider({ ...settings, ...deps }),
  },
};

/** Builds one provider from its parsed settings (keeps the name → settings type link inside the registry). */
export function createProvider<N extends ProviderName>(name: N, settings: ProviderSettings[N], deps: ProviderDeps): Provider {
  return (PROVIDER_REGISTRY[name] as ProviderEntry<ProviderSettings[N]>).create(settings, deps);
}
