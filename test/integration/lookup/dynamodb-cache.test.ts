import { expect } from 'chai';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbIpCache } from '../../../src/3-lookup/cache/dynamodb-cache.ts';
import type { CachedIp } from '../../../src/3-lookup/cache/types.ts';
import { startDynalite, type LocalDynamo } from './dynalite.ts';

const TABLE = 'ip-cache';
const NOW = Date.UTC(2026, 5, 1);
const S = Math.floor(NOW / 1000);
const signal = (): AbortSignal => new AbortController().signal;

function entry(ip: string, expiresIn: number, status: 'found' | 'none' = 'found'): CachedIp {
  return {
    abuseipdb:
      status === 'found'
        ? { status, fetchedAt: NOW, expiresAt: S + expiresIn, data: { abuseConfidenceScore: 42, ip } }
        : { status, fetchedAt: NOW, expiresAt: S + expiresIn },
  };
}

/** Wraps the real client: the first BatchGetItem/BatchWriteItem answers only part of the batch (as DynamoDB may). */
function partial(client: DynamoDBClient, calls: Record<string, number[]>): DynamoDBClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '';
      const input = args.input as { RequestItems?: Record<string, { Keys?: unknown[] } | unknown[]> };
      const req = input.RequestItems?.[TABLE];
      const size = Array.isArray(req) ? req.length : (req?.Keys?.length ?? 0);
      (calls[name] ??= []).push(size);
      if ((name === 'BatchWriteItemCommand' || name === 'BatchGetItemCommand') && calls[name].length === 1 && size > 1) {
        const half = Math.floor(size / 2);
        if (Array.isArray(req)) {
          const withheld = req.slice(half);
          input.RequestItems![TABLE] = req.slice(0, half);
          const out = await next(args);
          (out.output as { UnprocessedItems?: unknown }).UnprocessedItems = { [TABLE]: withheld };
          return out;
        }
        const keys = req!.Keys!;
        input.RequestItems![TABLE] = { ...req, Keys: keys.slice(0, half) };
        const out = await next(args);
        (out.output as { UnprocessedKeys?: unknown }).UnprocessedKeys = { [TABLE]: { Keys: keys.slice(half) } };
        return out;
      }
      return next(args);
    },
    { step: 'initialize', name: 'partialBatches' },
  );
  return client;
}

describe('DynamoDbIpCache against dynalite', () => {
  let dynamo: LocalDynamo;
  let cache: DynamoDbIpCache;
  before(async () => {
    dynamo = await startDynalite([TABLE]);
    cache = new DynamoDbIpCache({ client: dynamo.client, tableName: TABLE, baseDelayMs: 1 });
  });
  after(async () => {
    await dynamo.close();
  });

  it('reads back what it wrote (hits) and reports absent IPs as misses', async () => {
    const items = new Map([
      ['8.8.8.8', entry('8.8.8.8', 3600)],
      ['2001:4860:4860::8888', entry('2001:4860:4860::8888', 3600)],
    ]);
    expect(await cache.putMany(items, { signal: signal(), now: NOW })).to.deep.equal({ ok: true, value: { written: 2 } });
    const read = await cache.getMany(['8.8.8.8', '2001:4860:4860::8888', '9.9.9.9'], { signal: signal(), now: NOW + 1000 });
    expect(read.failed).to.equal(0);
    expect([...read.entries.keys()].sort()).to.deep.equal(['2001:4860:4860::8888', '8.8.8.8']);
    expect(read.entries.get('8.8.8.8')).to.deep.equal(entry('8.8.8.8', 3600));
  });

  it('stores the documented item shape with the TTL attribute in epoch seconds', async () => {
    await cache.putMany(
      new Map([['1.1.1.1', { ...entry('1.1.1.1', 600), ipstack: { status: 'none', fetchedAt: NOW, expiresAt: S + 60 } }]]),
      {
        signal: signal(),
        now: NOW,
      },
    );
    const out = await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { ip: { S: '1.1.1.1' } } }));
    expect(out.Item?.['expiresAt']).to.deep.equal({ N: String(S + 600) });
    expect(out.Item?.['v']).to.deep.equal({ N: '1' });
    expect(out.Item?.['providers']?.M?.['ipstack']?.M).to.deep.equal({
      status: { S: 'none' },
      fetchedAt: { N: String(NOW) },
      expiresAt: { N: String(S + 60) },
    });
    expect(JSON.parse(out.Item?.['providers']?.M?.['abuseipdb']?.M?.['data']?.S ?? '')).to.deep.equal({
      abuseConfidenceScore: 42,
      ip: '1.1.1.1',
    });
  });

  it('treats an expired item as a miss even though TTL has not deleted it yet', async () => {
    await cache.putMany(new Map([['4.4.4.4', entry('4.4.4.4', 60)]]), { signal: signal(), now: NOW });
    const fresh = await cache.getMany(['4.4.4.4'], { signal: signal(), now: NOW + 59_000 });
    expect(fresh.entries.has('4.4.4.4')).to.equal(true);
    const later = await cache.getMany(['4.4.4.4'], { signal: signal(), now: NOW + 60_000 });
    expect(later.entries.has('4.4.4.4')).to.equal(false);
  });

  it('keeps the fresh entries of an item whose other entry expired', async () => {
    const mixed: CachedIp = {
      ...entry('5.5.5.5', 86400),
      ipstack: { status: 'found', fetchedAt: NOW, expiresAt: S + 10, data: { countryCode: 'US' } },
    };
    await cache.putMany(new Map([['5.5.5.5', mixed]]), { signal: signal(), now: NOW });
    const read = await cache.getMany(['5.5.5.5'], { signal: signal(), now: NOW + 20_000 });
    expect(Object.keys(read.entries.get('5.5.5.5') ?? {})).to.deep.equal(['abuseipdb']);
  });

  it('returns negative entries as answers until their shorter TTL passes', async () => {
    await cache.putMany(new Map([['6.6.6.6', entry('6.6.6.6', 3600, 'none')]]), { signal: signal(), now: NOW });
    const read = await cache.getMany(['6.6.6.6'], { signal: signal(), now: NOW });
    expect(read.entries.get('6.6.6.6')).to.deep.equal({ abuseipdb: { status: 'none', fetchedAt: NOW, expiresAt: S + 3600 } });
    expect((await cache.getMany(['6.6.6.6'], { signal: signal(), now: NOW + 3600_000 })).entries.size).to.equal(0);
  });

  it('splits into batches of 100 keys / 25 items and retries unprocessed keys and items', async () => {
    const local = await startDynalite([TABLE]);
    try {
      const calls: Record<string, number[]> = {};
      const c = new DynamoDbIpCache({ client: partial(local.client, calls), tableName: TABLE, baseDelayMs: 1, parallelism: 1 });
      const ips = Array.from({ length: 230 }, (_, i) => `7.7.${Math.floor(i / 100)}.${i % 100}`);
      const put = await c.putMany(new Map(ips.map((ip) => [ip, entry(ip, 3600)])), { signal: signal(), now: NOW });
      expect(put).to.deep.equal({ ok: true, value: { written: 230 } });
      expect(Math.max(...calls['BatchWriteItemCommand']!)).to.equal(25);
      expect(calls['BatchWriteItemCommand']).to.have.length(Math.ceil(230 / 25) + 1); // + the retry of the withheld half
      const read = await c.getMany([...ips, '7.7.9.9'], { signal: signal(), now: NOW });
      expect(read.entries.size).to.equal(230);
      expect(read.failed).to.equal(0);
      expect(Math.max(...calls['BatchGetItemCommand']!)).to.equal(100);
      expect(calls['BatchGetItemCommand']).to.have.length(3 + 1);
    } finally {
      await local.close();
    }
  });

  it('turns DynamoDB errors into misses, never exceptions', async () => {
    const missing = new DynamoDbIpCache({ client: dynamo.client, tableName: 'no-such-table', baseDelayMs: 1 });
    const read = await missing.getMany(['8.8.8.8'], { signal: signal(), now: NOW });
    expect(read.entries.size).to.equal(0);
    expect(read.failed).to.equal(1);
    expect(read.errors[0]).to.match(/ResourceNotFoundException/);
    const put = await missing.putMany(new Map([['8.8.8.8', entry('8.8.8.8', 60)]]), { signal: signal(), now: NOW });
    expect(put.ok).to.equal(false);
  });
});
