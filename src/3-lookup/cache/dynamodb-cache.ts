/**
 * DynamoDB IP cache. One item per IP:
 *   ip         S  partition key (CACHE_KEY_ATTRIBUTE)
 *   expiresAt  N  TTL attribute, epoch seconds (CACHE_TTL_ATTRIBUTE): the latest expiry of its entries
 *   v          N  item format version (1)
 *   updatedAt  N  epoch ms of the last write
 *   providers  M  { <provider>: M { status S found|none, fetchedAt N (epoch ms), expiresAt N (epoch s), data S (JSON) } }
 * TTL deletion is lazy (up to days late), so expiry is checked on every read: an expired item or entry is a miss.
 * BatchGetItem ≤ 100 keys and BatchWriteItem ≤ 25 items per call (DynamoDB limits); UnprocessedKeys/UnprocessedItems
 * are retried with bounded exponential backoff; any DynamoDB error is a miss, never a failed lookup.
 */
import type { AttributeValue, BatchGetItemCommandOutput, DynamoDBClient, KeysAndAttributes, WriteRequest } from '@aws-sdk/client-dynamodb';

/** The SDK's DynamoDB module is loaded on first use (only containers with a cache table and providers need it). */
let dynamoDbModule: Promise<typeof import('@aws-sdk/client-dynamodb')> | undefined;
const sdk = () => (dynamoDbModule ??= import('@aws-sdk/client-dynamodb'));
import { CACHE_KEY_ATTRIBUTE, CACHE_TTL_ATTRIBUTE, silentLog, type Log, type Result } from '../../model.ts';
import { PROVIDER_NAMES, type ProviderName } from '../config.ts';
import { scrubError } from '../http/scrub.ts';
import { sanitiseAnswer } from '../providers/sanitise.ts';
import { sleep } from '../http/sleep.ts';
import { freshEntries, itemExpiresAt, type CacheEntry, type CachedIp, type CacheReadResult, type IpCache } from './types.ts';

export const BATCH_GET_MAX_KEYS = 100;
export const BATCH_WRITE_MAX_ITEMS = 25;
export const ITEM_FORMAT_VERSION = 1;
/**
 * DynamoDB's item size limit is 400 KB (attribute names + values, UTF-8). One item over it fails its whole
 * BatchWriteItem with a ValidationException, so every item is measured first and one over MAX_ITEM_BYTES (the
 * limit with a 25 % margin for our estimate) is skipped alone and counted; the rest of its batch is written.
 */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;
export const MAX_ITEM_BYTES = 300 * 1024;

export interface DynamoDbIpCacheOptions {
  client: Pick<DynamoDBClient, 'send'>;
  tableName: string;
  log?: Log;
  /** Rounds of UnprocessedKeys/UnprocessedItems retries (after the first call). */
  maxUnprocessedRetries?: number;
  baseDelayMs?: number;
  /** Batches in flight at once. */
  parallelism?: number;
}

function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

export function toItem(ip: string, entries: CachedIp, nowMs: number): Record<string, AttributeValue> {
  const providers: Record<string, AttributeValue> = {};
  for (const name of PROVIDER_NAMES) {
    const e = entries[name];
    if (e === undefined) continue;
    const m: Record<string, AttributeValue> = {
      status: { S: e.status },
      fetchedAt: { N: String(Math.floor(e.fetchedAt)) },
      expiresAt: { N: String(Math.floor(e.expiresAt)) },
    };
    // JSON text: provider answers are small nested objects; a string avoids DynamoDB's empty-set/number quirks.
    if (e.status === 'found' && e.data !== undefined) m['data'] = { S: JSON.stringify(e.data) };
    providers[name] = { M: m };
  }
  return {
    [CACHE_KEY_ATTRIBUTE]: { S: ip },
    [CACHE_TTL_ATTRIBUTE]: { N: String(itemExpiresAt(entries)) },
    v: { N: String(ITEM_FORMAT_VERSION) },
    updatedAt: { N: String(Math.floor(nowMs)) },
    providers: { M: providers },
  };
}

/**
 * Size of an item as DynamoDB counts it (UTF-8 length of attribute names and values; numbers counted as their text,
 * an over-estimate: DynamoDB stores ~1 byte per 2 digits). Maps add 3 bytes per element and 1 per attribute.
 */
export function itemSizeBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) n += Buffer.byteLength(name, 'utf8') + valueSize(v);
  return n;
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return v.N.length;
  if (v.M !== undefined) return 3 + itemSizeBytes(v.M) + Object.keys(v.M).length;
  return 1;
}

/** Reads an item back; anything malformed is ignored (a miss), never an error. */
export function fromItem(item: Record<string, AttributeValue>, nowMs: number): { ip: string; entries: CachedIp } | undefined {
  const ip = item[CACHE_KEY_ATTRIBUTE]?.S;
  const ttl = Number(item[CACHE_TTL_ATTRIBUTE]?.N);
  if (ip === undefined || !Number.isFinite(ttl) || ttl <= Math.floor(nowMs / 1000)) return undefined;
  if (Number(item['v']?.N) !== ITEM_FORMAT_VERSION) return undefined;
  const providers = item['providers']?.M ?? {};
  const entries: CachedIp = {};
  for (const name of PROVIDER_NAMES) {
    const m = providers[name]?.M;
    if (m === undefined) continue;
    const status = m['status']?.S;
    const fetchedAt = Number(m['fetchedAt']?.N);
    const expiresAt = Number(m['expiresAt']?.N);
    if ((status !== 'found' && status !== 'none') || !Number.isFinite(fetchedAt) || !Number.isFinite(expiresAt)) continue;
    const entry: CacheEntry = { status, fetchedAt, expiresAt };
    if (status === 'found') {
      try {
        const data = JSON.parse(m['data']?.S ?? '') as unknown;
        if (typeof data !== 'object' || data === null || Array.isArray(data)) continue;
        // Items written before the answer limits (or by another version) pass the same limits on the way in.
        const clean = sanitiseAnswer(name, data as Record<string, unknown>).data;
        if (clean === undefined) continue;
        entry.data = clean;
      } catch {
        continue;
      }
    }
    (entries as Record<ProviderName, CacheEntry>)[name] = entry;
  }
  const fresh = freshEntries(entries, nowMs);
  return fresh === undefined ? undefined : { ip, entries: fresh };
}

export class DynamoDbIpCache implements IpCache {
  readonly #client: Pick<DynamoDBClient, 'send'>;
  readonly #table: string;
  readonly #log: Log;
  readonly #retries: number;
  readonly #baseDelayMs: number;
  readonly #parallelism: number;

  constructor(options: DynamoDbIpCacheOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#log = options.log ?? silentLog;
    this.#retries = options.maxUnprocessedRetries ?? 4;
    this.#baseDelayMs = options.baseDelayMs ?? 50;
    this.#parallelism = options.parallelism ?? 4;
  }

  async getMany(ips: readonly string[], options: { signal: AbortSignal; now: number }): Promise<CacheReadResult> {
    const result: CacheReadResult = { entries: new Map(), failed: 0, errors: [] };
    const unique = [...new Set(ips)];
    await inParallel(chunk(unique, BATCH_GET_MAX_KEYS), this.#parallelism, async (keys) => {
      let pending: KeysAndAttributes | undefined = { Keys: keys.map((ip) => ({ [CACHE_KEY_ATTRIBUTE]: { S: ip } })) };
      for (let round = 0; pending?.Keys !== undefined && pending.Keys.length > 0; round++) {
        if (round > 0) {
          if (round > this.#retries || !(await this.#backoff(round, options.signal))) break;
        }
        try {
          const out: BatchGetItemCommandOutput = await this.#client.send(
            // Eventually consistent reads cost half; a cache tolerates a just-written item being missed.
            new (await sdk()).BatchGetItemCommand({ RequestItems: { [this.#table]: pending } }),
            { abortSignal: options.signal },
          );
          for (const item of out.Responses?.[this.#table] ?? []) {
            const parsed = fromItem(item, options.now);
            if (parsed !== undefined) result.entries.set(parsed.ip, parsed.entries);
          }
          pending = out.UnprocessedKeys?.[this.#table];
        } catch (err) {
          const message = `BatchGetItem failed: ${scrubError(err)}`;
          result.errors.push(message);
          this.#log.warn('IP cache read failed; treating as misses', { error: message, keys: pending?.Keys?.length ?? 0 });
          break;
        }
      }
      result.failed += pending?.Keys?.length ?? 0;
    });
    return result;
  }

  async putMany(
    items: ReadonlyMap<string, CachedIp>,
    options: { signal: AbortSignal; now: number },
  ): Promise<Result<{ written: number; skipped?: number }, string>> {
    const requests: WriteRequest[] = [];
    let skipped = 0;
    for (const [ip, entries] of items) {
      const fresh = freshEntries(entries, options.now);
      if (fresh === undefined) continue;
      const item = toItem(ip, fresh, options.now);
      if (itemSizeBytes(item) > MAX_ITEM_BYTES) {
        // Skipped alone: the other items of its batch are still written. L1 keeps the answer for this container.
        skipped++;
        continue;
      }
      requests.push({ PutRequest: { Item: item } });
    }
    if (skipped > 0) {
      // Once per write-back, counts only (never the address or the answer).
      this.#log.warn('IP cache items over the DynamoDB item limit skipped', { limitBytes: MAX_ITEM_BYTES, skipped });
    }
    let written = 0;
    const errors: string[] = [];
    await inParallel(chunk(requests, BATCH_WRITE_MAX_ITEMS), this.#parallelism, async (batch) => {
      let pending: WriteRequest[] = batch;
      for (let round = 0; pending.length > 0; round++) {
        if (round > 0) {
          if (round > this.#retries || !(await this.#backoff(round, options.signal))) break;
        }
        try {
          const out = await this.#client.send(new (await sdk()).BatchWriteItemCommand({ RequestItems: { [this.#table]: pending } }), {
            abortSignal: options.signal,
          });
          const left = out.UnprocessedItems?.[this.#table] ?? [];
          written += pending.length - left.length;
          pending = left;
        } catch (err) {
          errors.push(`BatchWriteItem failed: ${scrubError(err)}`);
          break;
        }
      }
      if (pending.length > 0 && errors.length === 0) errors.push(`${pending.length} items left unprocessed after retries`);
    });
    if (errors.length > 0) {
      this.#log.warn('IP cache write incomplete', { written, errors: errors.slice(0, 3) });
      return { ok: false, error: errors.join('; ') };
    }
    return { ok: true, value: skipped > 0 ? { written, skipped } : { written } };
  }

  /** Exponential backoff with full jitter, as AWS recommends for unprocessed batch items. False if aborted. */
  async #backoff(round: number, signal: AbortSignal): Promise<boolean> {
    try {
      await sleep(Math.random() * this.#baseDelayMs * 2 ** (round - 1), signal);
      return true;
    } catch {
      return false;
    }
  }
}
