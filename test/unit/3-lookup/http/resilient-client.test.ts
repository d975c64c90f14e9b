import { expect } from 'chai';
import { CircuitBreaker } from '../../../../src/3-lookup/http/circuit-breaker.ts';
import { Limiter } from '../../../../src/3-lookup/http/limiter.ts';
import {
  classifyStatus,
  parseRetryAfter,
  ResilientClient,
  type Classified,
  type HttpFetch,
  type HttpResponse,
} from '../../../../src/3-lookup/http/resilient-client.ts';

const KEY = 'k3y-SECRET-value-123';

function client(responses: (HttpResponse | Error)[], opts: { maxRetries?: number; now?: () => number } = {}) {
  const sleeps: number[] = [];
  const urls: string[] = [];
  const fetch: HttpFetch = async (req) => {
    urls.push(req.url);
    const next = responses.shift();
    if (next === undefined) throw new Error('no more responses');
    if (next instanceof Error) throw next;
    return next;
  };
  const now = opts.now ?? Date.now;
  const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 60_000, now });
  const c = new ResilientClient({
    name: 'test',
    timeoutMs: 1000,
    maxRetries: opts.maxRetries ?? 2,
    breaker,
    limiter: new Limiter({ concurrency: 2, ratePerSecond: 1000 }),
    fetch,
    now,
    random: () => 0.5,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { c, sleeps, urls, breaker };
}

const ok = (body: unknown, status = 200, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers,
  body: JSON.stringify(body),
});
const classify = (res: HttpResponse): Classified<unknown> => classifyStatus(res, Date.now()) ?? { kind: 'ok', value: JSON.parse(res.body) };
const ctx = () => ({ deadline: Date.now() + 60_000, signal: new AbortController().signal, secrets: [KEY] });

describe('ResilientClient', () => {
  it('retries a 500 with exponential backoff and returns the later success', async () => {
    const { c, sleeps } = client([ok({}, 500), ok({}, 502), ok({ fine: true })]);
    const res = await c.call({ url: `https://x/?access_key=${KEY}` }, classify, ctx());
    expect(res).to.deep.equal({ ok: true, value: { fine: true } });
    expect(sleeps).to.deep.equal([100, 200]); // random 0.5 × 200 × 2^n
  });

  it('waits exactly what Retry-After asks on a 429', async () => {
    const { c, sleeps } = client([ok({}, 429, { 'retry-after': '3' }), ok({ fine: true })]);
    const res = await c.call({ url: 'https://x/' }, classify, ctx());
    expect(res.ok).to.equal(true);
    expect(sleeps).to.deep.equal([3000]);
  });

  it('does not retry when Retry-After passes the deadline, and opens the breaker for that long', async () => {
    let now = 1_000_000;
    const { c, sleeps, urls, breaker } = client([ok({}, 429, { 'retry-after': '120' })], { now: () => now });
    const res = await c.call({ url: 'https://x/' }, classify, { deadline: now + 5000, signal: new AbortController().signal, secrets: [] });
    expect(res.ok).to.equal(false);
    expect(sleeps).to.deep.equal([]);
    expect(urls).to.have.length(1);
    expect(breaker.state).to.equal('open');
    now += 119_000;
    expect(breaker.tryAcquire()).to.equal(false);
  });

  it('does not retry a 401 and opens the breaker', async () => {
    const { c, urls, breaker } = client([ok({ errors: [{ detail: 'Authentication failed', status: 401 }] }, 401)]);
    const res = await c.call({ url: 'https://x/' }, classify, ctx());
    expect(res.ok).to.equal(false);
    expect(urls).to.have.length(1);
    expect(breaker.state).to.equal('open');
    const skipped = await c.call({ url: 'https://x/' }, classify, ctx());
    expect(skipped).to.deep.include({ ok: false });
    expect(!skipped.ok && skipped.error.kind).to.equal('breaker');
    expect(urls).to.have.length(1);
  });

  it('gives up after maxRetries and scrubs the key from the error', async () => {
    const boom = new Error(`connect ECONNREFUSED while fetching https://x/api/json/ip/${KEY}/8.8.8.8`);
    const { c, urls } = client([boom, boom, boom]);
    const res = await c.call({ url: `https://x/api/json/ip/${KEY}/8.8.8.8` }, classify, ctx());
    expect(urls).to.have.length(3);
    expect(res.ok).to.equal(false);
    if (!res.ok) {
      expect(res.error.kind).to.equal('error');
      expect(res.error.message).to.match(/after 3 attempts/);
      expect(res.error.message).not.to.include(KEY);
    }
  });

  it('sends nothing once the deadline has passed', async () => {
    const { c, urls } = client([ok({})]);
    const res = await c.call({ url: 'https://x/' }, classify, {
      deadline: Date.now() - 1,
      signal: new AbortController().signal,
      secrets: [],
    });
    expect(!res.ok && res.error.kind).to.equal('deadline');
    expect(urls).to.have.length(0);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('7', 0)).to.equal(7000);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1_000)).to.equal(60_000);
    expect(parseRetryAfter('soon', 0)).to.equal(undefined);
    expect(parseRetryAfter(undefined, 0)).to.equal(undefined);
  });
});
