/**
 * Once each: a finding's key is claimed before it is sent. With a DynamoDB table the claim is a conditional
 * PutItem (`attribute_not_exists(pk) OR expiresAt < :now`) with a TTL, so Firehose retries, re-ingested records,
 * containers side by side and the same event twice all find the first claim. TTL deletion is lazy (and dynalite
 * never expires), so an item whose `expiresAt` has passed counts as absent. Without a table, dedup is per process.
 *
 * Item: pk S (`alert#<finding id>` or `alert-group#…`), expiresAt N (epoch seconds, the TTL attribute),
 *       claim S (token of the invocation that claimed it), claimedAt N (epoch ms), repeats N (grouped repeats).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import type { Log } from '../model.ts';
import { bounded, callSignal, errorText, inParallel } from './util.ts';

export const DEDUP_KEY_ATTRIBUTE = 'pk';
export const DEDUP_TTL_ATTRIBUTE = 'expiresAt';

export type ClaimOutcome =
  /** Ours: send it. */
  | { kind: 'claimed'; token: string }
  /** Already claimed by an earlier send (or another container). */
  | { kind: 'duplicate' }
  /** The store failed: send anyway (a repeated alert is better than a missed one). */
  | { kind: 'unknown'; error: string };

export interface ClaimRequest {
  readonly key: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** Repeats to add to an existing claim (grouping) when this one is a duplicate. */
  readonly repeats?: number;
}

export interface CallOptions {
  readonly deadline: number;
  readonly now: () => number;
  readonly callTimeoutMs: number;
}

export interface DedupStore {
  claim(requests: readonly ClaimRequest[], options: CallOptions): Promise<Map<string, ClaimOutcome>>;
  /** Gives back claims whose findings could not be sent, so a retried batch can send them. */
  release(claims: readonly { key: string; token: string }[], options: CallOptions): Promise<void>;
}

/** Per-process memory of claimed keys (bounded; oldest forgotten first). Also the L1 in front of DynamoDB. */
export class MemoryDedup implements DedupStore {
  private readonly keys = new Map<string, { expiresAt: number; token: string }>();

  constructor(private readonly maxKeys = 100_000) {}

  has(key: string, nowSeconds: number): boolean {
    const entry = this.keys.get(key);
    if (entry === undefined) return false;
    if (entry.expiresAt < nowSeconds) {
      this.keys.delete(key);
      return false;
    }
    return true;
  }

  remember(key: string, expiresAt: number, token = ''): void {
    this.keys.delete(key);
    this.keys.set(key, { expiresAt, token });
    if (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value!);
  }

  forget(key: string): void {
    this.keys.delete(key);
  }

  async claim(requests: readonly ClaimRequest[], options: CallOptions): Promise<Map<string, ClaimOutcome>> {
    const now = Math.floor(options.now() / 1000);
    const out = new Map<string, ClaimOutcome>();
    for (const r of requests) {
      if (this.has(r.key, now)) out.set(r.key, { kind: 'duplicate' });
      else {
        const token = randomUUID();
        this.remember(r.key, r.expiresAt, token);
        out.set(r.key, { kind: 'claimed', token });
      }
    }
    return out;
  }

  async release(claims: readonly { key: string; token: string }[]): Promise<void> {
    for (const c of claims) if (this.keys.get(c.key)?.token === c.token) this.keys.delete(c.key);
  }
}

/** Conditional writes in flight at once (each is one PutItem: conditions cannot be batched in BatchWriteItem). */
const PARALLEL_CALLS = 16;

export class DynamoDbDedup implements DedupStore {
  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'> | (() => Promise<Pick<DynamoDBClient, 'send'>>),
    private readonly tableName: string,
    private readonly log?: Log,
  ) {}

  private async dynamo(): Promise<Pick<DynamoDBClient, 'send'>> {
    return typeof this.client === 'function' ? this.client() : this.client;
  }

  async claim(requests: readonly ClaimRequest[], options: CallOptions): Promise<Map<string, ClaimOutcome>> {
    const out = new Map<string, ClaimOutcome>();
    if (requests.length === 0) return out;
    const client = await this.dynamo();
    const { PutItemCommand, UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    await inParallel(requests, PARALLEL_CALLS, async (r) => {
      const signal = callSignal(options);
      if (signal === undefined) {
        out.set(r.key, { kind: 'unknown', error: 'invocation deadline reached' });
        return;
      }
      const token = randomUUID();
      const nowSeconds = Math.floor(options.now() / 1000);
      try {
        await bounded(
          client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: {
                [DEDUP_KEY_ATTRIBUTE]: { S: r.key },
                [DEDUP_TTL_ATTRIBUTE]: { N: String(r.expiresAt) },
                claim: { S: token },
                claimedAt: { N: String(options.now()) },
              },
              // Absent, or present but expired (TTL deletion is lazy): ours.
              ConditionExpression: 'attribute_not_exists(#pk) OR #exp < :now',
              ExpressionAttributeNames: { '#pk': DEDUP_KEY_ATTRIBUTE, '#exp': DEDUP_TTL_ATTRIBUTE },
              ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
            }),
            { abortSignal: signal },
          ),
          signal,
        );
        out.set(r.key, { kind: 'claimed', token });
      } catch (err) {
        if ((err as { name?: string }).name === 'ConditionalCheckFailedException') {
          out.set(r.key, { kind: 'duplicate' });
          if (r.repeats !== undefined && r.repeats > 0) {
            const again = callSignal(options);
            if (again === undefined) return;
            try {
              await bounded(
                client.send(
                  new UpdateItemCommand({
                    TableName: this.tableName,
                    Key: { [DEDUP_KEY_ATTRIBUTE]: { S: r.key } },
                    UpdateExpression: 'ADD repeats :n',
                    ConditionExpression: 'attribute_exists(#pk)',
                    ExpressionAttributeNames: { '#pk': DEDUP_KEY_ATTRIBUTE },
                    ExpressionAttributeValues: { ':n': { N: String(r.repeats) } },
                  }),
                  { abortSignal: again },
                ),
                again,
              );
            } catch (e) {
              this.log?.debug('alert group repeat count not updated', { error: errorText(e) });
            }
          }
        } else out.set(r.key, { kind: 'unknown', error: errorText(err) });
      }
    });
    return out;
  }

  async release(claims: readonly { key: string; token: string }[], options: CallOptions): Promise<void> {
    if (claims.length === 0) return;
    const client = await this.dynamo();
    const { DeleteItemCommand } = await import('@aws-sdk/client-dynamodb');
    await inParallel(claims, PARALLEL_CALLS, async (c) => {
      const signal = callSignal(options);
      if (signal === undefined) return;
      try {
        await bounded(
          client.send(
            new DeleteItemCommand({
              TableName: this.tableName,
              Key: { [DEDUP_KEY_ATTRIBUTE]: { S: c.key } },
              // Only our own claim: another container may have claimed the key since.
              ConditionExpression: 'claim = :token',
              ExpressionAttributeValues: { ':token': { S: c.token } },
            }),
            { abortSignal: signal },
          ),
          signal,
        );
      } catch (err) {
        this.log?.debug('alert claim not released', { error: errorText(err) });
      }
    });
  }
}
