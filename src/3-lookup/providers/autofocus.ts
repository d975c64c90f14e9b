/**
 * Palo Alto Networks AutoFocus threat-intelligence card (TIC):
 * GET {base}/api/v1.0/tic?indicatorType=ipv4_address|ipv6_address&indicatorValue={ip}&includeTags=true, header `apiKey`.
 * Answer {"indicator": {latestPanVerdicts: {PAN_DB, WF_SAMPLE}, …}, "tags": […], "bucketInfo": {…}}.
 * An unknown indicator (no `indicator`, or 404) is a negative answer. API use is metered in points per minute/day:
 * when a bucket is exhausted the answer carries bucketInfo.waitInSeconds, which is honoured like Retry-After.
 */
import { parseIp } from '../address.ts';
import { classifyStatus, parseRetryAfter, type Classified, type HttpResponse, type ResilientClient } from '../http/resilient-client.ts';
import type { Normalised, OnResult, Provider, ProviderAnswer, ProviderContext } from './types.ts';
import { compact, eachIp, isObject, num, parseJson, str } from './util.ts';

export interface AutoFocusOptions {
  baseUrl: string;
  client: ResilientClient;
  /** The stage's clock (epoch ms): Retry-After dates are read against it. */
  now: () => number;
}

/** Earliest and latest plausible AutoFocus timestamps (epoch ms): 2000-01-01 to 2100-01-01. */
const TS_MIN = Date.UTC(2000, 0, 1);
const TS_MAX = Date.UTC(2100, 0, 1);

/**
 * Epoch milliseconds → ISO 8601, defensively: anything not a number in [2000, 2100) is dropped. `new Date(1e300)`
 * is an Invalid Date whose toISOString() throws, which used to fail the whole answer.
 */
export const iso = (ms: unknown): string | undefined => {
  const n = num(ms);
  if (n === undefined || n < TS_MIN || n >= TS_MAX) return undefined;
  const d = new Date(n);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
};

export function trimAutoFocus(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const ind = isObject(body['indicator']) ? body['indicator'] : undefined;
  if (ind === undefined) return undefined;
  const verdicts = isObject(ind['latestPanVerdicts'])
    ? Object.fromEntries(Object.entries(ind['latestPanVerdicts']).filter(([, v]) => typeof v === 'string'))
    : {};
  const counts = isObject(ind['wildfireRelatedSampleVerdictCounts'])
    ? Object.fromEntries(Object.entries(ind['wildfireRelatedSampleVerdictCounts']).filter(([, v]) => typeof v === 'number'))
    : {};
  const tags = Array.isArray(body['tags'])
    ? body['tags']
        .filter(isObject)
        .map((t) => str(t['public_tag_name']) ?? str(t['tag_name']))
        .filter((t): t is string => t !== undefined)
        .slice(0, 10)
    : [];
  if (Object.keys(verdicts).length === 0 && Object.keys(counts).length === 0 && tags.length === 0) return undefined;
  return compact({
    verdicts: Object.keys(verdicts).length > 0 ? verdicts : undefined,
    wildfireRelatedSampleVerdictCounts: Object.keys(counts).length > 0 ? counts : undefined,
    firstSeen: iso(ind['firstSeenTsGlobal']),
    lastSeen: iso(ind['lastSeenTsGlobal']),
    seenBy: Array.isArray(ind['seenByDataSourceIds']) ? ind['seenByDataSourceIds'].filter((s) => typeof s === 'string') : undefined,
    tags: tags.length > 0 ? tags : undefined,
  });
}

export function normaliseAutoFocus(d: Record<string, unknown>): Normalised {
  const v = isObject(d['verdicts']) ? d['verdicts'] : {};
  // WildFire's verdict (from samples) is more specific than PAN-DB's URL category verdict.
  const verdict = str(v['WF_SAMPLE']) ?? str(v['PAN_DB']);
  return verdict !== undefined ? { reputation: { verdict: verdict.toLowerCase() } } : {};
}

function classify(res: HttpResponse, now: number): Classified<ProviderAnswer> {
  if (res.status === 404) return { kind: 'ok', value: { status: 'none' } };
  const parsed = res.body !== '' ? parseJson(res.body) : undefined;
  const body = parsed?.ok === true && isObject(parsed.value) ? parsed.value : undefined;
  const bucket = body !== undefined && isObject(body['bucketInfo']) ? body['bucketInfo'] : undefined;
  const wait = num(bucket?.['waitInSeconds']);
  if (res.status === 409 || res.status === 429 || res.status === 503) {
    const message = str(body?.['message']) ?? '';
    const retryAfterMs = wait !== undefined && wait > 0 ? wait * 1000 : parseRetryAfter(res.headers['retry-after'], now);
    if (/daily/i.test(message)) return { kind: 'fail', reason: `HTTP ${res.status} (daily points exhausted)`, openBreaker: true };
    return { kind: 'retry', reason: `HTTP ${res.status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  const status = classifyStatus(res, now);
  if (status !== undefined) return status;
  if (parsed === undefined) return { kind: 'ok', value: { status: 'none' } };
  if (!parsed.ok) return parsed.verdict;
  if (body === undefined) return { kind: 'retry', reason: 'unexpected answer shape' };
  // An error reported with HTTP 200 (`{"message": …}`, no indicator) is not "no data": caching it as a negative
  // answer would hide the address's reputation for NEGATIVE_TTL_SECONDS. The message is not echoed.
  if (!isObject(body['indicator']) && typeof body['message'] === 'string') return { kind: 'retry', reason: 'error answer with HTTP 200' };
  const trimmed = trimAutoFocus(body);
  return { kind: 'ok', value: trimmed !== undefined ? { status: 'found', data: trimmed } : { status: 'none' } };
}

export class AutoFocusProvider implements Provider {
  readonly name = 'autofocus' as const;
  readonly #o: AutoFocusOptions;

  constructor(options: AutoFocusOptions) {
    this.#o = options;
  }

  normalise(data: Record<string, unknown>): Normalised {
    return normaliseAutoFocus(data);
  }

  async lookup(ips: readonly string[], ctx: ProviderContext, onResult: OnResult): Promise<void> {
    await eachIp(ips, async (ip) => {
      const indicatorType = parseIp(ip)?.version === 6 ? 'ipv6_address' : 'ipv4_address';
      const q = new URLSearchParams({ indicatorType, indicatorValue: ip, includeTags: 'true' });
      const res = await this.#o.client.call(
        { url: `${this.#o.baseUrl}/api/v1.0/tic?${q.toString()}`, headers: { apiKey: ctx.key } },
        (r) => classify(r, this.#o.now()),
        { deadline: ctx.deadline, signal: ctx.signal, secrets: [ctx.key] },
      );
      onResult(ip, res);
    });
  }
}
