/**
 * The lookup stage. Per invocation: the unique IPs → offline geo/ASN (in process) and, for public unicast addresses
 * only, L1 in-memory LRU → DynamoDB (BatchGetItem) → providers for exactly what is still missing → write-back
 * (BatchWriteItem) and L1 update. Work scales with unique IPs, never with events. Everything is bounded by the
 * deadline; nothing here throws for provider, cache or network failures.
 */
import { setMaxListeners } from 'node:events';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { LRUCache } from 'lru-cache';
import { silentLog, type IpIntel, type Log } from '../model.ts';
import { isPublicParsed, parseIp, providerKeyOf } from './address.ts';
import { offlineAnswers } from './offline.ts';
import { DynamoDbIpCache } from './cache/dynamodb-cache.ts';
import { freshEntries, type CacheEntry, type CachedIp, type IpCache } from './cache/types.ts';
import { PROVIDER_NAMES, type LookupConfig, type ProviderName } from './config.ts';
import { openGeoDatabase, type GeoDatabase } from './geo/geo-database.ts';
import { CircuitBreaker } from './http/circuit-breaker.ts';
import { Limiter } from './http/limiter.ts';
import { ResilientClient, type HttpFetch } from './http/resilient-client.ts';
import { createKeyResolver, type KeyResolver, type ParameterGetter } from './keys.ts';
import { mergeSources, type NormalisedBySource } from './merge.ts';
import { createProvider } from './providers/registry.ts';
import { sanitiseAnswer } from './providers/sanitise.ts';
import type { Provider } from './providers/types.ts';
import {
  emptyLookupStats,
  type IncompleteCause,
  type IpIntelligence,
  type LookupOptions,
  type LookupStats,
  type ProviderStats,
} from './types.ts';

export interface IpIntelligenceDeps {
  /** DynamoDB client for CACHE_TABLE_NAME (default: a new client; honours AWS_ENDPOINT_URL_DYNAMODB). */
  dynamoDb?: Pick<DynamoDBClient, 'send'>;
  /** Replaces the DynamoDB cache altogether. */
  cache?: IpCache;
  log?: Log;
  now?: () => number;
  /** Replaces key resolution (default: plain key, or Powertools SSM/Secrets Manager providers). */
  keyResolver?: KeyResolver;
  ssm?: SSMClient;
  secretsManager?: SecretsManagerClient;
  ssmProvider?: ParameterGetter;
  secretsProvider?: ParameterGetter;
  /** Replaces the offline databases (default: openGeoDatabase(config.geoDbDir)). */
  geo?: GeoDatabase;
  /** Replaces the HTTP transport (default: got). */
  fetch?: HttpFetch;
  /** Jitter source for retry backoff. */
  random?: () => number;
}

interface ProviderRuntime {
  provider: Provider;
  ttlSeconds: number;
  client: ResilientClient;
}

function buildProviders(config: LookupConfig, deps: IpIntelligenceDeps, now: () => number): ProviderRuntime[] {
  const out: ProviderRuntime[] = [];
  for (const name of PROVIDER_NAMES) {
    const p = config.providers[name];
    if (!p.enabled) continue;
    const client = new ResilientClient({
      name,
      timeoutMs: p.timeoutMs,
      maxRetries: p.maxRetries,
      breaker: new CircuitBreaker({ threshold: p.breakerThreshold, cooldownMs: p.breakerCooldownMs, now }),
      limiter: new Limiter({ concurrency: p.concurrency, ratePerSecond: p.ratePerSecond, now }),
      now,
      ...(deps.fetch !== undefined ? { fetch: deps.fetch } : {}),
      ...(deps.random !== undefined ? { random: deps.random } : {}),
    });
    const provider = createProvider(name, p.settings, { baseUrl: p.baseUrl, client, log: deps.log ?? silentLog, now });
    out.push({ provider, ttlSeconds: p.ttlSeconds, client });
  }
  return out;
}

/** Newest entry per provider wins (an L1 entry may be newer than the DynamoDB item, or the reverse). */
function mergeEntries(a: CachedIp | undefined, b: CachedIp | undefined): CachedIp {
  const out: CachedIp = { ...a };
  for (const [name, e] of Object.entries(b ?? {}) as [ProviderName, CacheEntry | undefined][]) {
    const cur = out[name];
    if (e !== undefined && (cur === undefined || e.fetchedAt >= cur.fetchedAt)) out[name] = e;
  }
  return out;
}

/** Resolves at the deadline (when `signal` aborts) with `fallback`, or with `promise` if it settles first. */
function untilDeadline<T>(promise: Promise<T>, signal: AbortSignal, fallback: T): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.resolve(fallback);
  }
  return new Promise<T>((resolve) => {
    const onAbort = (): void => resolve(fallback);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(fallback);
      },
    );
  });
}

const FAILURE_CAUSE: Record<'breaker' | 'key' | 'error', IncompleteCause> = {
  breaker: 'breaker_open',
  key: 'key_unavailable',
  error: 'provider_error',
};

export class DefaultIpIntelligence implements IpIntelligence {
  readonly #config: LookupConfig;
  readonly #geo: GeoDatabase;
  readonly #cache: IpCache | undefined;
  readonly #providers: ProviderRuntime[];
  readonly #keys: KeyResolver;
  readonly #log: Log;
  readonly #now: () => number;
  readonly #l1: LRUCache<string, CachedIp>;
  /**
   * Final answers (offline geo merged with every provider's entry) of complete lookups, until the earliest of
   * their entries expires. A warm invocation then costs one map read per unique IP instead of a geo lookup,
   * normalisation and merge: the lookup stays a small share of the per-event cost.
   */
  readonly #answers: LRUCache<string, { intel: IpIntel; until: number }>;

  constructor(config: LookupConfig, geo: GeoDatabase, deps: IpIntelligenceDeps = {}) {
    this.#config = config;
    this.#geo = geo;
    this.#log = deps.log ?? silentLog;
    this.#now = deps.now ?? Date.now;
    this.#providers = buildProviders(config, deps, this.#now);
    this.#keys = deps.keyResolver ?? createKeyResolver(config, deps);
    this.#l1 = new LRUCache<string, CachedIp>({ max: config.l1MaxEntries });
    this.#answers = new LRUCache<string, { intel: IpIntel; until: number }>({ max: config.l1MaxEntries });
    if (deps.cache !== undefined) {
      this.#cache = deps.cache;
    } else if (config.cacheTableName !== undefined && this.#providers.length > 0 && deps.dynamoDb !== undefined) {
      this.#cache = new DynamoDbIpCache({
        // Passed in (createIpIntelligence creates one per container when none is given), never a static field.
        client: deps.dynamoDb,
        tableName: config.cacheTableName,
        log: this.#log,
      });
    }
  }

  /** The enabled providers, in precedence-independent order (for logs and tests). */
  get providerNames(): ProviderName[] {
    return this.#providers.map((p) => p.provider.name);
  }

  async lookup(
    ips: readonly string[],
    options: LookupOptions,
  ): Promise<{ intel: Map<string, IpIntel>; stats: LookupStats; causes: Map<string, IncompleteCause> }> {
    const stats = emptyLookupStats();
    const causes = new Map<string, IncompleteCause>();
    for (const { provider } of this.#providers) stats.providers[provider.name] = { calls: 0, errors: 0, latencyMs: [], breakerOpen: false };
    try {
      return await this.#lookup(ips, options, stats, causes);
    } finally {
      for (const rt of this.#providers) {
        const p = stats.providers[rt.provider.name]!;
        p.latencyMs = rt.client.takeLatencies();
        p.breakerOpen = rt.client.breaker.state === 'open';
      }
    }
  }

  async #lookup(
    ips: readonly string[],
    options: LookupOptions,
    stats: LookupStats,
    causes: Map<string, IncompleteCause>,
  ): Promise<{ intel: Map<string, IpIntel>; stats: LookupStats; causes: Map<string, IncompleteCause> }> {
    const intel = new Map<string, IpIntel>();
    const nowMs = this.#now();
    const unique: string[] = [];
    for (const ip of new Set(ips)) {
      const answer = this.#answers.get(ip);
      if (answer !== undefined && answer.until > nowMs) {
        intel.set(ip, answer.intel);
        stats.l1Hits++;
      } else unique.push(ip);
    }
    stats.uniqueIps = intel.size + unique.length;
    if (unique.length === 0) return { intel, stats, causes };
    const controller = new AbortController();
    // One listener per queued/in-flight request is expected: hundreds of unique IPs are normal.
    setMaxListeners(0, controller.signal);
    const timer = setTimeout(() => controller.abort(new Error('enrichment deadline reached')), Math.max(0, options.deadline - this.#now()));
    try {
      // Only strictly parsed public unicast addresses may leave the process (privacy rule, re-checked here).
      // Providers are asked per key: the address (IPv4) or its /64 prefix (IPv6), about the first address seen in it.
      const normalised = new Map<string, string>();
      const asked = new Map<string, string>();
      for (const ip of unique) {
        if (this.#providers.length === 0) break;
        const parsed = parseIp(ip);
        if (parsed === undefined || !isPublicParsed(parsed)) continue;
        const key = providerKeyOf(parsed);
        normalised.set(ip, key);
        if (!asked.has(key)) asked.set(key, parsed.text);
      }
      const known = new Map<string, CachedIp>();
      const failedDeadline = new Set<string>();
      const failures = new Map<string, IncompleteCause>();
      const resolving =
        asked.size > 0 ? this.#resolve(asked, options.deadline, controller.signal, known, failedDeadline, stats, failures) : undefined;
      // Offline geo/ASN of every address while the cache and the providers are awaited (CPU otherwise idle then), so
      // that what is left after the deadline costs one map read per address, whatever the number of unique sources.
      const offline = await offlineAnswers(unique, this.#geo, this.#config.precedence, normalised);
      if (resolving !== undefined) await resolving;

      for (let i = 0; i < unique.length; i++) {
        const ip = unique[i]!;
        const n = normalised.get(ip);
        const entries = n !== undefined ? known.get(n) : undefined;
        if (entries === undefined) {
          // No provider entry (none needed, or none arrived): the offline answer as it is.
          const answer = offline[i]!;
          if (n !== undefined) {
            if (failedDeadline.has(n)) stats.deadlineMisses++;
            causes.set(ip, failedDeadline.has(n) ? 'deadline' : (failures.get(n) ?? 'provider_error'));
          } else this.#answers.set(ip, { intel: answer, until: Number.MAX_SAFE_INTEGER });
          intel.set(ip, answer);
          continue;
        }
        const bySource: NormalisedBySource = { offline: this.#geo.lookup(ip) };
        const providers: Record<string, Record<string, unknown>> = {};
        let complete = true;
        // Offline data never changes within a container; provider answers are good until their entry expires.
        let until = Number.MAX_SAFE_INTEGER;
        for (const { provider } of this.#providers) {
          const e = entries[provider.name];
          if (e === undefined) complete = false;
          else until = Math.min(until, e.expiresAt * 1000);
          if (e !== undefined && e.status === 'found' && e.data !== undefined && Object.keys(e.data).length > 0) {
            bySource[provider.name] = provider.normalise(e.data);
            providers[provider.name] = e.data;
          }
        }
        if (!complete) {
          if (failedDeadline.has(n!)) stats.deadlineMisses++;
          causes.set(ip, failedDeadline.has(n!) ? 'deadline' : (failures.get(n!) ?? 'provider_error'));
        }
        const merged = mergeSources(bySource, this.#config.precedence);
        const answer: IpIntel = { ...merged, ...(Object.keys(providers).length > 0 ? { providers } : {}), complete };
        intel.set(ip, answer);
        if (complete) this.#answers.set(ip, { intel: answer, until });
      }
      return { intel, stats, causes };
    } finally {
      clearTimeout(timer);
    }
  }

  /** `asked`: provider key (address, or IPv6 /64) → the address sent to providers for it. */
  async #resolve(
    asked: ReadonlyMap<string, string>,
    deadline: number,
    signal: AbortSignal,
    known: Map<string, CachedIp>,
    failedDeadline: Set<string>,
    stats: LookupStats,
    failures: Map<string, IncompleteCause>,
  ): Promise<void> {
    const enabled = this.#providers.map((p) => p.provider.name);
    const covered = (ip: string): boolean => enabled.every((p) => known.get(ip)?.[p] !== undefined);

    // L1: survives warm invocations of this container.
    const nowMs = this.#now();
    let needing: string[] = [];
    for (const ip of asked.keys()) {
      const l1 = this.#l1.get(ip);
      const fresh = l1 !== undefined ? freshEntries(l1, nowMs) : undefined;
      if (fresh !== undefined) known.set(ip, fresh);
      if (covered(ip)) stats.l1Hits++;
      else needing.push(ip);
    }
    if (needing.length === 0) return;
    // Bounded work per invocation, whatever the number of unique sources: beyond the cap, keys (in order of first
    // appearance) are neither read from DynamoDB nor sent to providers; their events are partial.
    const cap = this.#config.maxProviderLookupsPerInvocation;
    if (needing.length > cap) {
      stats.lookupsCapped += needing.length - cap;
      stats.cacheMisses += needing.length - cap;
      for (const k of needing.slice(cap)) failures.set(k, 'lookups_capped');
      needing = needing.slice(0, cap);
    }

    // L2: DynamoDB. A failure or the deadline is a miss.
    if (this.#cache !== undefined && !signal.aborted) {
      const read = await untilDeadline(this.#cache.getMany(needing, { signal, now: this.#now() }), signal, {
        entries: new Map<string, CachedIp>(),
        failed: needing.length,
        errors: ['deadline'],
      });
      for (const [ip, entries] of read.entries) {
        const merged = mergeEntries(known.get(ip), entries);
        known.set(ip, merged);
        this.#l1.set(ip, merged);
      }
    }
    const toFetch = new Map<ProviderName, string[]>();
    for (const ip of needing) {
      if (covered(ip)) {
        stats.cacheHits++;
        continue;
      }
      stats.cacheMisses++;
      for (const p of enabled) {
        if (known.get(ip)?.[p] !== undefined) continue;
        const list = toFetch.get(p);
        if (list === undefined) toFetch.set(p, [ip]);
        else list.push(ip);
      }
    }

    // Providers: exactly the (provider, IP) pairs still missing, all providers in parallel.
    const changed = new Set<string>();
    const work = this.#providers
      .filter((rt) => (toFetch.get(rt.provider.name)?.length ?? 0) > 0)
      .map(async (rt) => {
        const name = rt.provider.name;
        const keys = toFetch.get(name)!;
        const byAddress = new Map<string, string>();
        for (const k of keys) byAddress.set(asked.get(k)!, k);
        const list = [...byAddress.keys()];
        const key = await untilDeadline(this.#keys(name), signal, { ok: false, error: `${name}: deadline reached while reading the key` });
        if (!key.ok) {
          if (signal.aborted) keys.forEach((k) => failedDeadline.add(k));
          this.#log.warn('provider key unavailable; provider skipped for this invocation', { provider: name, error: key.error });
          for (const k of keys) if (!failures.has(k)) failures.set(k, 'key_unavailable');
          return;
        }
        const own: ProviderStats = stats.providers[name]!;
        const secrets = [key.value];
        await rt.provider.lookup(list, { key: key.value, deadline, signal }, (address, res) => {
          const ip = byAddress.get(address);
          if (ip === undefined) return; // not one we asked about
          if (!res.ok) {
            if (res.error.kind === 'error') {
              stats.providerCalls++;
              stats.providerErrors++;
              own.calls++;
              own.errors++;
            }
            if (res.error.kind === 'deadline') failedDeadline.add(ip);
            else if (!failures.has(ip)) failures.set(ip, FAILURE_CAUSE[res.error.kind]);
            return;
          }
          stats.providerCalls++;
          own.calls++;
          const fetchedAt = this.#now();
          let data: Record<string, unknown> | undefined;
          if (res.value.status === 'found') {
            // Untrusted: scrubbed of keys, cut and range-checked before L1, DynamoDB or any output sees it.
            const clean = sanitiseAnswer(name, res.value.data, secrets);
            stats.valuesDropped += clean.dropped;
            data = clean.data;
          }
          const ttl = data !== undefined ? rt.ttlSeconds : Math.min(rt.ttlSeconds, this.#config.negativeTtlSeconds);
          const entry: CacheEntry = {
            status: data !== undefined ? 'found' : 'none',
            fetchedAt,
            expiresAt: Math.floor(fetchedAt / 1000) + ttl,
          };
          if (data !== undefined) entry.data = data;
          known.set(ip, { ...known.get(ip), [name]: entry });
          changed.add(ip);
        });
      });
    await untilDeadline(Promise.all(work), signal, []);
    if (signal.aborted) for (const ip of needing) if (!covered(ip)) failedDeadline.add(ip);

    // Write-back: L1 at once; DynamoDB with every fresh entry of each changed IP, within the deadline.
    const items = new Map<string, CachedIp>();
    for (const ip of changed) {
      const entries = known.get(ip)!;
      this.#l1.set(ip, entries);
      items.set(ip, entries);
    }
    if (this.#cache !== undefined && items.size > 0 && !signal.aborted) {
      const put = await untilDeadline(this.#cache.putMany(items, { signal, now: this.#now() }), signal, { ok: false, error: 'deadline' });
      if (put.ok) stats.cacheItemsSkipped += put.value.skipped ?? 0;
    }
  }
}

/**
 * Opens the offline databases once and returns the lookup stage. Call once at cold start and reuse the instance:
 * the L1 cache, circuit breakers and cached keys live in it.
 */
export async function createIpIntelligence(config: LookupConfig, deps: IpIntelligenceDeps = {}): Promise<DefaultIpIntelligence> {
  const geo = deps.geo ?? (await openGeoDatabase(config.geoDbDir));
  let dynamoDb = deps.dynamoDb;
  if (
    dynamoDb === undefined &&
    deps.cache === undefined &&
    config.cacheTableName !== undefined &&
    PROVIDER_NAMES.some((p) => config.providers[p].enabled)
  ) {
    // Loaded only when the cache is used: the SDK's DynamoDB client is a large share of a cold start.
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    dynamoDb = new DynamoDBClient({ requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 }, maxAttempts: 3 });
  }
  const instance = new DefaultIpIntelligence(config, geo, { ...deps, dynamoDb });
  (deps.log ?? silentLog).info('lookup stage ready', {
    geo: geo.sources,
    providers: instance.providerNames,
    cacheTable: config.cacheTableName ?? null,
  });
  return instance;
}
