/**
 * Threshold counters, shared by every container through DynamoDB (the baseline table, BASELINE_TABLE_NAME:
 * partition key `pk` String, TTL attribute `expiresAt` epoch seconds), or per process without a table.
 *
 * Item per counter key (one per rule, by-values and window bucket):
 *   pk         S   `t#` + sha256(counter key) (hex): bounded, far under DynamoDB's 2,048-byte partition-key limit
 *   expiresAt  N   window end + TTL_MARGIN_SEC, epoch seconds (TTL deletion is lazy; the bucket is part of the key,
 *                  so a late-deleted item only ever serves events of its own window)
 *   c          N   events counted (plain thresholds)
 *   vals       SS  distinct values (distinct thresholds); each value ≤ MAX_VALUE_BYTES (longer ones are hashed), and
 *                  the set stays < 2 × count: an update is refused once the set holds `count` values, and one
 *                  update adds at most `count` values (see plan.ts). With count ≤ MAX_THRESHOLD_COUNT the item
 *                  stays under DynamoDB's 400 KB item limit
 *                  (< 1,000 values × ≤ 264 B ≈ 260 KB).
 *
 * One UpdateItem per key per invocation (DynamoDB has no batch update; updates run PARALLELISM at a time), with
 * `ReturnValues: UPDATED_OLD` so the caller learns the counter before its own update, and a condition that refuses
 * the update once the window has crossed (ConditionalCheckFailedException → "crossed", no write consumed beyond
 * the failed condition). Every call carries the enrichment deadline's abort signal; a failed or aborted update is
 * an error value for its key (its events go out `partial`, cause `threshold`), never a thrown error.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Result } from '../../model.ts';
import type { CounterOld, CounterUpdate } from './plan.ts';
export { MAX_VALUE_BYTES } from './plan.ts';

/** The SDK's DynamoDB module is loaded on first use (only containers with a table and threshold rules need it). */
let dynamoDbModule: Promise<typeof import('@aws-sdk/client-dynamodb')> | undefined;
const sdk = () => (dynamoDbModule ??= import('@aws-sdk/client-dynamodb'));

export const THRESHOLD_KEY_ATTRIBUTE = 'pk';
export const THRESHOLD_TTL_ATTRIBUTE = 'expiresAt';
/** Kept after the window's end so late-arriving events of that window still see its counter. */
export const TTL_MARGIN_SEC = 3600;
const PARALLELISM = 16;

export interface ThresholdStore {
  /** Applies each update once; per key, the counter before it (or an error). */
  apply(updates: readonly CounterUpdate[], options: { signal: AbortSignal; now: number }): Promise<Map<string, Result<CounterOld>>>;
}

export function itemKey(counterKey: string): string {
  return `t#${createHash('sha256').update(counterKey).digest('hex')}`;
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export interface DynamoDbThresholdStoreOptions {
  client: Pick<DynamoDBClient, 'send'>;
  tableName: string;
}

export class DynamoDbThresholdStore implements ThresholdStore {
  readonly #client: Pick<DynamoDBClient, 'send'>;
  readonly #table: string;

  constructor(options: DynamoDbThresholdStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async apply(updates: readonly CounterUpdate[], options: { signal: AbortSignal; now: number }): Promise<Map<string, Result<CounterOld>>> {
    const out = new Map<string, Result<CounterOld>>();
    const { UpdateItemCommand, ConditionalCheckFailedException } = await sdk();
    // Every request in flight listens on the one deadline signal (PARALLELISM at a time, plus the SDK's own).
    setMaxListeners(PARALLELISM * 2 + 10, options.signal);
    await inParallel(updates, PARALLELISM, async (u) => {
      if (options.signal.aborted) {
        out.set(u.key, { ok: false, error: 'deadline' });
        return;
      }
      const ttl = String(u.windowEndSec + TTL_MARGIN_SEC);
      const distinct = u.values !== undefined;
      const values = distinct ? [...new Set(u.values)] : [];
      if (distinct && values.length === 0) {
        out.set(u.key, { ok: true, value: { values: new Set() } });
        return;
      }
      try {
        const answer = await this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: { [THRESHOLD_KEY_ATTRIBUTE]: { S: itemKey(u.key) } },
            UpdateExpression: distinct ? 'ADD vals :v SET #t = :t' : 'ADD c :n SET #t = :t',
            ConditionExpression: distinct ? 'attribute_not_exists(vals) OR size(vals) < :count' : 'attribute_not_exists(c) OR c < :count',
            ExpressionAttributeNames: { '#t': THRESHOLD_TTL_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':t': { N: ttl },
              ':count': { N: String(u.count) },
              ...(distinct ? { ':v': { SS: values } } : { ':n': { N: String(u.add) } }),
            },
            ReturnValues: 'UPDATED_OLD',
          }),
          { abortSignal: options.signal },
        );
        const old = answer.Attributes ?? {};
        out.set(u.key, {
          ok: true,
          value: distinct ? { values: new Set(old['vals']?.SS ?? []) } : { count: Number(old['c']?.N ?? '0') || 0 },
        });
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) out.set(u.key, { ok: true, value: 'crossed' });
        else out.set(u.key, { ok: false, error: options.signal.aborted ? 'deadline' : String((error as Error).name ?? error) });
      }
    });
    return out;
  }
}

/**
 * Per-process counters (no table): the same semantics within one container. Bounded: at most `maxKeys` counters,
 * expired ones dropped first, then the oldest.
 */
export class MemoryThresholdStore implements ThresholdStore {
  readonly #items = new Map<string, { expiresAt: number; c: number; vals: Set<string> }>();
  readonly #maxKeys: number;

  constructor(maxKeys = 10_000) {
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#items.size;
  }

  apply(updates: readonly CounterUpdate[], options: { signal: AbortSignal; now: number }): Promise<Map<string, Result<CounterOld>>> {
    const out = new Map<string, Result<CounterOld>>();
    const nowSec = Math.floor(options.now / 1000);
    for (const u of updates) {
      let item = this.#items.get(u.key);
      if (item !== undefined && item.expiresAt <= nowSec) {
        this.#items.delete(u.key);
        item = undefined;
      }
      if (item === undefined) {
        this.#evict(nowSec);
        item = { expiresAt: 0, c: 0, vals: new Set() };
        this.#items.set(u.key, item);
      }
      if (u.values !== undefined) {
        if (item.vals.size >= u.count) {
          out.set(u.key, { ok: true, value: 'crossed' });
          continue;
        }
        out.set(u.key, { ok: true, value: { values: new Set(item.vals) } });
        for (const v of u.values) item.vals.add(v);
      } else {
        if (item.c >= u.count) {
          out.set(u.key, { ok: true, value: 'crossed' });
          continue;
        }
        out.set(u.key, { ok: true, value: { count: item.c } });
        item.c += u.add;
      }
      item.expiresAt = u.windowEndSec + TTL_MARGIN_SEC;
    }
    return Promise.resolve(out);
  }

  #evict(nowSec: number): void {
    if (this.#items.size < this.#maxKeys) return;
    for (const [k, v] of this.#items) if (v.expiresAt <= nowSec) this.#items.delete(k);
    while (this.#items.size >= this.#maxKeys) this.#items.delete(this.#items.keys().next().value!);
  }
}
