/**
 * The baseline stage: which facts (country, AS, region, user-agent family and kind) are new for a principal.
 *
 * Items (one table, partition key `pk`, TTL `expiresAt` in epoch seconds, nothing else from the event):
 *   `p|<principal>`                        firstSeen N (epoch s), expiresAt N, day N (day of the last refresh)
 *   `f|<principal>|<attribute>|<value>`    eventId S (the event that first saw it), expiresAt N, day N
 * TTL deletion is lazy, so an item read with `expiresAt <= now` is absent.
 *
 * Per invocation: one BatchGetItem round over the unique keys not known from L1; a conditional PutItem
 * (`attribute_not_exists(pk) OR expiresAt <= :now`) per absent key, so exactly one container wins each new
 * fact; an UpdateItem sliding the TTL at most once a day per key. A fact is new only for the event whose put
 * won: a retried batch or a re-ingested event finds the item and flags nothing (the choice is "not new twice",
 * not "the same answer twice"). Any failure or the deadline leaves the affected events `unavailable`, never new.
 */
import type { AttributeValue, BatchGetItemCommandOutput, DynamoDBClient, KeysAndAttributes } from '@aws-sdk/client-dynamodb';
import { silentLog, type BaselineVerdict, type Log } from '../model.ts';
import type { BaselineConfig } from './config.ts';

let dynamoDbModule: Promise<typeof import('@aws-sdk/client-dynamodb')> | undefined;
const sdk = () => (dynamoDbModule ??= import('@aws-sdk/client-dynamodb'));

/** DynamoDB's BatchGetItem limit: at most 100 keys per call. */
export const BATCH_GET_MAX_KEYS = 100;
const WRITE_CONCURRENCY = 8;
const DAY_SECONDS = 86_400;

export const BASELINE_ATTRIBUTES = ['country', 'asn', 'region', 'userAgentFamily', 'userAgentKind'] as const;
export type BaselineAttribute = (typeof BASELINE_ATTRIBUTES)[number];

/** One event's principal and the facts it shows (attributes it cannot tell are left out). */
export interface BaselineObservation {
  /** Kept in a new fact's item (audit: which event first saw it); may be empty. */
  readonly eventId: string;
  readonly principal: string;
  readonly facts: Partial<Record<BaselineAttribute, string>>;
}

export type { BaselineVerdict };

export interface BaselineStats {
  keys: number;
  l1Hits: number;
  reads: number;
  newFacts: number;
  writes: number;
  refreshes: number;
  unavailable: number;
}

export interface BaselineStage {
  /** Never throws; one verdict per observation, in order. */
  observe(
    observations: readonly BaselineObservation[],
    options: { deadline: number },
  ): Promise<{ verdicts: BaselineVerdict[]; stats: BaselineStats }>;
}

export interface BaselineDeps {
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly log?: Log;
  /** Epoch ms; injected by tests for the learning and forgetting windows. */
  readonly now?: () => number;
  readonly baseDelayMs?: number;
}

interface Known {
  /** Epoch s. */
  readonly expiresAt: number;
  readonly day: number;
  readonly firstSeen?: number;
}

type KeyState = { kind: 'known'; item: Known } | { kind: 'absent' } | { kind: 'unknown' };

export function principalKey(principal: string): string {
  return `p|${principal}`;
}
export function factKey(principal: string, attribute: string, value: string): string {
  return `f|${principal}|${attribute}|${value}`;
}

export function createBaselineStage(config: BaselineConfig & { tableName: string }, deps: BaselineDeps): BaselineStage {
  const table = config.tableName;
  const log = deps.log ?? silentLog;
  const now = deps.now ?? Date.now;
  const baseDelayMs = deps.baseDelayMs ?? 25;
  const l1 = new Map<string, Known>();

  const remember = (key: string, item: Known): void => {
    if (config.l1MaxEntries === 0) return;
    l1.delete(key);
    l1.set(key, item);
    if (l1.size > config.l1MaxEntries) l1.delete(l1.keys().next().value!);
  };

  return {
    async observe(observations, options) {
      const stats: BaselineStats = { keys: 0, l1Hits: 0, reads: 0, newFacts: 0, writes: 0, refreshes: 0, unavailable: 0 };
      const nowMs = now();
      const nowS = Math.floor(nowMs / 1000);
      const today = Math.floor(nowS / DAY_SECONDS);
      const ttl = nowS + config.forgetDays * DAY_SECONDS;
      const remaining = options.deadline - Date.now();
      const signal = AbortSignal.timeout(Math.max(1, remaining));

      // Unique keys and the first observation (in order) that shows each: only it can be flagged.
      const firstEvent = new Map<string, number>();
      for (let i = 0; i < observations.length; i++) {
        const o = observations[i]!;
        const pk = principalKey(o.principal);
        if (!firstEvent.has(pk)) firstEvent.set(pk, i);
        for (const a of BASELINE_ATTRIBUTES) {
          const v = o.facts[a];
          if (v === undefined) continue;
          const fk = factKey(o.principal, a, v);
          if (!firstEvent.has(fk)) firstEvent.set(fk, i);
        }
      }
      stats.keys = firstEvent.size;
      const state = new Map<string, KeyState>();
      const toRead: string[] = [];
      for (const key of firstEvent.keys()) {
        const hit = l1.get(key);
        if (hit !== undefined && hit.expiresAt > nowS) {
          stats.l1Hits++;
          state.set(key, { kind: 'known', item: hit });
        } else {
          state.set(key, { kind: 'unknown' });
          toRead.push(key);
        }
      }

      // Read: chunks of ≤ 100 keys in parallel, UnprocessedKeys retried with backoff until the deadline.
      if (remaining > 0 && toRead.length > 0) {
        await Promise.all(
          chunk(toRead, BATCH_GET_MAX_KEYS).map(async (keys) => {
            // Eventually consistent (half the cost): a just-written fact read as absent loses its conditional put, so it is still not new twice.
            let pending: KeysAndAttributes | undefined = { Keys: keys.map((k) => ({ pk: { S: k } })) };
            for (let round = 0; pending?.Keys !== undefined && pending.Keys.length > 0; round++) {
              if (round > 0 && !(await backoff(round, baseDelayMs, signal))) return;
              try {
                stats.reads++;
                const out: BatchGetItemCommandOutput = await deps.client.send(
                  new (await sdk()).BatchGetItemCommand({ RequestItems: { [table]: pending } }),
                  { abortSignal: signal },
                );
                const answered = new Set(pending.Keys.map((k) => k['pk']!.S!));
                const unprocessed = new Set((out.UnprocessedKeys?.[table]?.Keys ?? []).map((k) => k['pk']?.S));
                for (const item of out.Responses?.[table] ?? []) {
                  const key = item['pk']?.S;
                  if (key === undefined || !answered.has(key)) continue;
                  const parsed = fromItem(item);
                  state.set(key, parsed !== undefined && parsed.expiresAt > nowS ? { kind: 'known', item: parsed } : { kind: 'absent' });
                  answered.delete(key);
                }
                for (const key of answered) if (!unprocessed.has(key)) state.set(key, { kind: 'absent' });
                pending = out.UnprocessedKeys?.[table];
              } catch (err) {
                log.warn('baseline read failed; events are unavailable', { error: errorText(err), keys: pending?.Keys?.length ?? 0 });
                return;
              }
            }
          }),
        );
      }

      // Write: absent keys are claimed (one winner across containers); stale known keys slide their TTL.
      const won = new Set<string>();
      const writes: (() => Promise<void>)[] = [];
      for (const [key, s] of state) {
        if (s.kind === 'absent') {
          writes.push(async () => {
            const isPrincipal = key.startsWith('p|');
            const item: Record<string, AttributeValue> = {
              pk: { S: key },
              expiresAt: { N: String(ttl) },
              day: { N: String(today) },
              ...(isPrincipal
                ? { firstSeen: { N: String(nowS) } }
                : { eventId: { S: observations[firstEvent.get(key)!]!.eventId.slice(0, 128) } }),
            };
            try {
              stats.writes++;
              await deps.client.send(
                new (await sdk()).PutItemCommand({
                  TableName: table,
                  Item: item,
                  ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
                  ExpressionAttributeValues: { ':now': { N: String(nowS) } },
                }),
                { abortSignal: signal },
              );
              won.add(key);
              const known: Known = { expiresAt: ttl, day: today, ...(isPrincipal ? { firstSeen: nowS } : {}) };
              state.set(key, { kind: 'known', item: known });
              remember(key, known);
            } catch (err) {
              if (errorName(err) === 'ConditionalCheckFailedException') {
                // Another container (or an earlier try of this batch) already knows it: not new. A principal
                // created by someone else just now is learning like ours would be.
                const known: Known = { expiresAt: ttl, day: today, ...(isPrincipal ? { firstSeen: nowS } : {}) };
                state.set(key, { kind: 'known', item: known });
                remember(key, known);
              } else {
                state.set(key, { kind: 'unknown' });
                log.warn('baseline write failed; events are unavailable', { error: errorText(err) });
              }
            }
          });
        } else if (s.kind === 'known') {
          if (s.item.day < today) {
            writes.push(async () => {
              try {
                stats.refreshes++;
                await deps.client.send(
                  new (await sdk()).UpdateItemCommand({
                    TableName: table,
                    Key: { pk: { S: key } },
                    UpdateExpression: 'SET expiresAt = :ttl, #d = :today',
                    ConditionExpression: 'attribute_exists(pk) AND #d < :today',
                    ExpressionAttributeNames: { '#d': 'day' },
                    ExpressionAttributeValues: { ':ttl': { N: String(ttl) }, ':today': { N: String(today) } },
                  }),
                  { abortSignal: signal },
                );
              } catch {
                // Someone refreshed it today already, or the refresh failed: the fact is known either way.
              }
              remember(key, { ...s.item, expiresAt: ttl, day: today });
            });
          } else remember(key, s.item);
        }
      }
      if (Date.now() < options.deadline) await inParallel(writes, WRITE_CONCURRENCY);
      else for (const [key, s] of state) if (s.kind === 'absent') state.set(key, { kind: 'unknown' });

      const verdicts = observations.map((o, index): BaselineVerdict => {
        const p = state.get(principalKey(o.principal));
        const keys = BASELINE_ATTRIBUTES.filter((a) => o.facts[a] !== undefined).map(
          (a) => [a, factKey(o.principal, a, o.facts[a]!)] as const,
        );
        if (p?.kind !== 'known' || keys.some(([, k]) => state.get(k)?.kind !== 'known')) {
          stats.unavailable++;
          return { principal: o.principal, firstSeen: [], status: 'unavailable' };
        }
        const firstSeen = p.item.firstSeen ?? 0;
        if (nowS - firstSeen < config.learningDays * DAY_SECONDS) return { principal: o.principal, firstSeen: [], learning: true };
        const fresh = keys.filter(([, k]) => won.has(k) && firstEvent.get(k) === index).map(([a]) => a);
        stats.newFacts += fresh.length;
        return { principal: o.principal, firstSeen: fresh };
      });
      return { verdicts, stats };
    },
  };
}

function fromItem(item: Record<string, AttributeValue>): Known | undefined {
  const expiresAt = Number(item['expiresAt']?.N);
  const day = Number(item['day']?.N ?? 0);
  if (!Number.isFinite(expiresAt)) return undefined;
  const firstSeen = item['firstSeen']?.N;
  return { expiresAt, day: Number.isFinite(day) ? day : 0, ...(firstSeen !== undefined ? { firstSeen: Number(firstSeen) } : {}) };
}

function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

async function inParallel(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}

async function backoff(round: number, baseMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  const ms = baseMs * 2 ** (round - 1) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : 'non-error thrown';
}
