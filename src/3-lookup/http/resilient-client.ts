/**
 * HTTP for providers: one attempt = one `got` request with its own timeout; around it retries with exponential
 * backoff and full jitter that honour `Retry-After`, the per-provider limiter, the circuit breaker, and the
 * invocation deadline. Never throws: the answer is a Result whose error text is scrubbed of keys.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import type { Result } from '../../model.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { Limiter } from './limiter.ts';
import { scrubError, scrubSecrets } from './scrub.ts';
import { sleep } from './sleep.ts';

export interface HttpRequest {
  url: string;
  headers?: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type HttpFetch = (request: HttpRequest & { timeoutMs: number; signal: AbortSignal }) => Promise<HttpResponse>;

/**
 * Providers answer in a few KB; anything far larger is not one of their documented answers. The cap holds while
 * the body streams in (the request is aborted at the limit, a 50 MB body is never read whole) and counts both the
 * bytes on the wire and, for a compressed answer, the decompressed bytes (a 2 MB gzip can inflate to gigabytes).
 */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** A provider answer that broke the body cap or could not be decoded: thrown by `gotFetch`, retried like a network error. */
export class ProviderBodyError extends Error {
  override name = 'ProviderBodyError';
}

/**
 * Decoder for a `content-encoding` (a proxy or CDN may compress although we never ask it to): `gzip`, `deflate`
 * (zlib-wrapped, or raw as some servers send it: told apart by the first two bytes), `br`; identity otherwise.
 */
function decoderFor(encoding: string, first: Buffer): Transform | undefined | 'unsupported' {
  switch (encoding) {
    case '':
    case 'identity':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate': {
      const zlibWrapped = first.length >= 2 && (first[0]! & 0x0f) === 8 && ((first[0]! << 8) | first[1]!) % 31 === 0;
      return zlibWrapped ? createInflate() : createInflateRaw();
    }
    case 'br':
      return createBrotliDecompress();
    default:
      return 'unsupported';
  }
}

type GotStream = Readable & {
  on(event: 'response', fn: (res: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => void): GotStream;
};

/**
 * Reads a streamed answer under `cap`: aborts the request as soon as the wire bytes or the decoded bytes pass it
 * (or `content-length` announces more), and decodes gzip/deflate/br on the way.
 */
export function readCapped(stream: GotStream, cap = MAX_BODY_BYTES): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    let encoding = '';
    let decoder: Transform | undefined;
    let started = false;
    let wire = 0;
    let decoded = 0;
    const parts: Buffer[] = [];
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      if (err !== undefined) {
        stream.destroy();
        decoder?.destroy();
        reject(err);
        return;
      }
      resolve({ status, headers, body: Buffer.concat(parts).toString('utf8') });
    };
    const keep = (chunk: Buffer): void => {
      decoded += chunk.length;
      if (decoded > cap)
        finish(
          new ProviderBodyError(
            `answer body over the ${cap}-byte cap${encoding !== '' ? ` once decoded (${encoding})` : ''}; request aborted`,
          ),
        );
      else parts.push(chunk);
    };
    stream.on('response', (res) => {
      status = res.statusCode;
      headers = res.headers;
      const h = res.headers['content-encoding'];
      encoding = (Array.isArray(h) ? h.join(',') : (h ?? '')).trim().toLowerCase();
      const length = Number(res.headers['content-length']);
      if (Number.isFinite(length) && length > cap)
        finish(new ProviderBodyError(`answer announces ${length} bytes, over the ${cap}-byte cap; request aborted`));
    });
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      wire += chunk.length;
      if (wire > cap) return finish(new ProviderBodyError(`answer body over the ${cap}-byte cap; request aborted`));
      if (!started) {
        started = true;
        const d = decoderFor(encoding, chunk);
        if (d === 'unsupported') return finish(new ProviderBodyError(`unsupported content-encoding ${JSON.stringify(encoding)}`));
        decoder = d;
        if (decoder !== undefined) {
          decoder.on('data', keep);
          decoder.on('error', (err: Error) => finish(new ProviderBodyError(`answer not decodable as ${encoding}: ${err.message}`)));
          decoder.on('end', () => finish());
        }
      }
      if (decoder !== undefined) decoder.write(chunk);
      else keep(chunk);
    });
    stream.on('error', (err: Error) => finish(err));
    stream.on('end', () => {
      if (settled) return;
      if (decoder !== undefined) decoder.end();
      else finish();
    });
  });
}

/**
 * `got` (and its HTTP/2, cache and DNS dependencies) is loaded on the first provider request, not at import:
 * a container with no provider enabled never pays for it at cold start.
 */
type Got = (typeof import('got'))['default'];
let gotModule: Promise<typeof import('got')> | undefined;
/**
 * One `got` instance per timeout, with every fixed option merged in once: got normalises and merges options
 * on each call, and doing that for options that never change doubled the CPU cost of a request (measured:
 * ~1.3 ms → ~0.7 ms per request), which matters when a cold container resolves hundreds of IPs.
 */
const instances = new Map<number, Got>();
let agents: { http: HttpAgent; https: HttpsAgent } | undefined;

async function instanceFor(requestedMs: number): Promise<Got> {
  // Near the deadline the attempt timeout shrinks; the deadline's abort signal stops the request on time, so
  // the timeout can be rounded up to 250 ms steps and the set of instances stays small.
  const timeoutMs = Math.max(250, Math.ceil(requestedMs / 250) * 250);
  let instance = instances.get(timeoutMs);
  if (instance === undefined) {
    if (instances.size >= 32) instances.clear();
    const got = (await (gotModule ??= import('got'))).default;
    agents ??= {
      // Keep-alive connections: providers are called in bursts of hundreds of requests per invocation.
      http: new HttpAgent({ keepAlive: true, maxSockets: 256 }),
      https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
    };
    instance = got.extend({
      agent: agents,
      // Answers are a few KB of JSON: not asking for compression saves a decompression stream per request. An
      // answer compressed anyway (a proxy, a CDN) is decoded by readCapped, within the body cap.
      decompress: false,
      headers: { accept: 'application/json', 'user-agent': 'cloudtrail-enricher' },
      timeout: { request: timeoutMs },
      retry: { limit: 0 }, // retries are ours: deadline-aware and breaker-aware
      throwHttpErrors: false,
      followRedirect: false, // a redirect could carry the key to another host
    });
    instances.set(timeoutMs, instance);
  }
  return instance;
}

export const gotFetch: HttpFetch = async ({ url, headers, timeoutMs, signal }) => {
  const request = await instanceFor(timeoutMs);
  return readCapped(request.stream(url, { headers, signal }));
};

/**
 * A signal of its own for each request, aborted when the invocation's deadline signal aborts. Hundreds of
 * requests share one deadline; giving each of them a listener on it made every new listener scan all the others
 * (EventTarget checks for duplicates), quadratic in the number of requests of an invocation.
 */
const children = new WeakMap<AbortSignal, Set<AbortController>>();

export function childSignal(parent: AbortSignal): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, release: () => {} };
  }
  let set = children.get(parent);
  if (set === undefined) {
    const created = new Set<AbortController>();
    children.set(parent, created);
    parent.addEventListener(
      'abort',
      () => {
        for (const c of created) c.abort(parent.reason);
        created.clear();
      },
      { once: true },
    );
    set = created;
  }
  set.add(controller);
  const owner = set;
  return { signal: controller.signal, release: () => void owner.delete(controller) };
}

/** What a provider makes of one HTTP answer. */
export type Classified<T> =
  | { kind: 'ok'; value: T }
  /** Transient: try again (after `retryAfterMs` when the provider said so). */
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  /**
   * Permanent for this request. `openBreaker` opens the breaker at once for its cooldown (key rejected, quota
   * exhausted: retrying cannot help); `cooldownMs` for at least that long.
   */
  | { kind: 'fail'; reason: string; openBreaker?: boolean; cooldownMs?: number };

export type FailureKind = 'deadline' | 'breaker' | 'key' | 'error';

export interface LookupFailure {
  kind: FailureKind;
  message: string;
}

export interface ResilientClientOptions {
  name: string;
  timeoutMs: number;
  maxRetries: number;
  breaker: CircuitBreaker;
  limiter: Limiter;
  fetch?: HttpFetch;
  now?: () => number;
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Waits between attempts (injectable so tests can observe backoff without waiting). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Parses `Retry-After`: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v.trim()) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Default classification of HTTP status codes shared by the providers (bodies are provider specific). */
export function classifyStatus(res: HttpResponse, now: number): Classified<never> | undefined {
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);
  if (res.status === 429 || res.status === 503) {
    return { kind: 'retry', reason: `HTTP ${res.status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (res.status >= 500) return { kind: 'retry', reason: `HTTP ${res.status}` };
  if (res.status === 401 || res.status === 403) return { kind: 'fail', reason: `HTTP ${res.status} (key rejected)`, openBreaker: true };
  if (res.status >= 400) return { kind: 'fail', reason: `HTTP ${res.status}` };
  if (res.status < 200 || res.status >= 300) return { kind: 'fail', reason: `HTTP ${res.status}` };
  return undefined;
}

export class ResilientClient {
  readonly #o: Required<Omit<ResilientClientOptions, 'fetch'>> & { fetch: HttpFetch };

  constructor(options: ResilientClientOptions) {
    this.#o = {
      now: Date.now,
      random: Math.random,
      baseDelayMs: 200,
      maxDelayMs: 5000,
      fetch: gotFetch,
      sleep,
      ...options,
    };
  }

  get breaker(): CircuitBreaker {
    return this.#o.breaker;
  }

  /** Round trips (ms) of the HTTP requests sent since the last call, at most 100 (one EMF metric's values). */
  takeLatencies(): number[] {
    const out = this.#latencies;
    this.#latencies = [];
    return out;
  }

  #latencies: number[] = [];

  /**
   * Sends `request` (retrying) and classifies each answer. `secrets` are scrubbed from every error text.
   * The deadline (epoch ms) bounds every wait and every attempt; `signal` aborts in-flight work at the deadline.
   */
  async call<T>(
    request: HttpRequest,
    classify: (res: HttpResponse) => Classified<T>,
    ctx: { deadline: number; signal: AbortSignal; secrets: readonly string[] },
  ): Promise<Result<T, LookupFailure>> {
    const child = childSignal(ctx.signal);
    try {
      return await this.#call(request, classify, { ...ctx, signal: child.signal });
    } finally {
      child.release();
    }
  }

  async #call<T>(
    request: HttpRequest,
    classify: (res: HttpResponse) => Classified<T>,
    ctx: { deadline: number; signal: AbortSignal; secrets: readonly string[] },
  ): Promise<Result<T, LookupFailure>> {
    const o = this.#o;
    const fail = (kind: FailureKind, message: string): Result<T, LookupFailure> => ({
      ok: false,
      error: { kind, message: scrubSecrets(`${o.name}: ${message}`, ctx.secrets) },
    });
    if (ctx.signal.aborted || o.now() >= ctx.deadline) return fail('deadline', 'deadline reached before the request');
    if (!o.breaker.tryAcquire()) return fail('breaker', 'circuit open, provider skipped');

    let lastReason = 'no attempt';
    for (let attempt = 0; attempt <= o.maxRetries; attempt++) {
      let verdict: Classified<T>;
      try {
        verdict = await o.limiter.run(async () => {
          const remaining = ctx.deadline - o.now();
          if (remaining <= 0) throw new DeadlineSignal();
          const timeoutMs = Math.min(o.timeoutMs, remaining);
          try {
            const sent = o.now();
            const res = await o.fetch({ ...request, timeoutMs, signal: ctx.signal });
            // EMF takes at most 100 values per metric: later requests of a very busy invocation are not timed.
            if (this.#latencies.length < 100) this.#latencies.push(o.now() - sent);
            return classify(res);
          } catch (err) {
            if (ctx.signal.aborted) throw new DeadlineSignal();
            return { kind: 'retry', reason: scrubError(err, ctx.secrets) };
          }
        }, ctx.signal);
      } catch {
        // Aborted while queued in the limiter, or the budget ran out: our deadline, not the provider's fault.
        o.breaker.onAbandon();
        return fail('deadline', `deadline reached (${lastReason})`);
      }
      if (verdict.kind === 'ok') {
        o.breaker.onSuccess();
        return { ok: true, value: verdict.value };
      }
      lastReason = verdict.reason;
      if (verdict.kind === 'fail') {
        if (verdict.cooldownMs !== undefined) o.breaker.openFor(verdict.cooldownMs);
        else if (verdict.openBreaker === true) o.breaker.trip();
        else o.breaker.onFailure();
        return fail('error', verdict.reason);
      }
      if (attempt === o.maxRetries) break;
      const backoff = o.random() * Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** attempt);
      const wait = verdict.retryAfterMs ?? backoff;
      if (o.now() + wait >= ctx.deadline) {
        // The provider asked for more time than this invocation has: stop calling it until then.
        if (verdict.retryAfterMs !== undefined) o.breaker.openFor(verdict.retryAfterMs);
        else o.breaker.onFailure();
        return fail('error', `${verdict.reason}; retry would pass the deadline`);
      }
      try {
        await o.sleep(wait, ctx.signal);
      } catch {
        o.breaker.onAbandon();
        return fail('deadline', `deadline reached (${lastReason})`);
      }
    }
    o.breaker.onFailure();
    return fail('error', `${lastReason} after ${o.maxRetries + 1} attempts`);
  }
}

class DeadlineSignal extends Error {}
