/**
 * AbuseIPDB APIv2: GET {base}/api/v2/check?ipAddress={ip}&maxAgeInDays=N with headers `Key` and
 * `Accept: application/json`. Answer {"data": {abuseConfidenceScore, totalReports, …}}; errors
 * {"errors": [{detail, status}]} with the HTTP status (401, 422, 429 + Retry-After when the daily quota is used up).
 */
import { classifyStatus, type Classified, type HttpResponse, type ResilientClient } from '../http/resilient-client.ts';
import type { Normalised, OnResult, Provider, ProviderAnswer, ProviderContext } from './types.ts';
import { bool, compact, eachIp, isObject, num, parseJson, str } from './util.ts';

export interface AbuseIpdbOptions {
  baseUrl: string;
  maxAgeInDays: number;
  client: ResilientClient;
  /** The stage's clock (epoch ms): Retry-After dates are read against it. */
  now: () => number;
}

export function trimAbuseIpdb(d: Record<string, unknown>): Record<string, unknown> | undefined {
  return compact({
    abuseConfidenceScore: num(d['abuseConfidenceScore']),
    totalReports: num(d['totalReports']),
    numDistinctUsers: num(d['numDistinctUsers']),
    lastReportedAt: str(d['lastReportedAt']),
    isWhitelisted: bool(d['isWhitelisted']),
    isTor: bool(d['isTor']),
    usageType: str(d['usageType']),
    isp: str(d['isp']),
    domain: str(d['domain']),
    countryCode: str(d['countryCode']),
  });
}

export function normaliseAbuseIpdb(d: Record<string, unknown>): Normalised {
  const countryCode = str(d['countryCode']);
  const reputation = compact({ abuseConfidence: num(d['abuseConfidenceScore']), tor: bool(d['isTor']) });
  const as = compact({ organization: str(d['isp']) });
  return {
    ...(countryCode !== undefined ? { geo: { countryCode } } : {}),
    ...(as ? { as } : {}),
    ...(reputation ? { reputation } : {}),
  };
}

function classify(res: HttpResponse, now: number): Classified<ProviderAnswer> {
  if (res.status === 422) return { kind: 'ok', value: { status: 'none' } }; // AbuseIPDB refuses the address itself
  const status = classifyStatus(res, now);
  if (status !== undefined) return status;
  const parsed = parseJson(res.body);
  if (!parsed.ok) return parsed.verdict;
  const body = parsed.value;
  if (!isObject(body) || !isObject(body['data'])) return { kind: 'retry', reason: 'unexpected answer shape' };
  const trimmed = trimAbuseIpdb(body['data']);
  return { kind: 'ok', value: trimmed !== undefined ? { status: 'found', data: trimmed } : { status: 'none' } };
}

export class AbuseIpdbProvider implements Provider {
  readonly name = 'abuseipdb' as const;
  readonly #o: AbuseIpdbOptions;

  constructor(options: AbuseIpdbOptions) {
    this.#o = options;
  }

  normalise(data: Record<string, unknown>): Normalised {
    return normaliseAbuseIpdb(data);
  }

  async lookup(ips: readonly string[], ctx: ProviderContext, onResult: OnResult): Promise<void> {
    await eachIp(ips, async (ip) => {
      const q = new URLSearchParams({ ipAddress: ip, maxAgeInDays: String(this.#o.maxAgeInDays) });
      const res = await this.#o.client.call(
        { url: `${this.#o.baseUrl}/api/v2/check?${q.toString()}`, headers: { Key: ctx.key, Accept: 'application/json' } },
        (r) => classify(r, this.#o.now()),
        { deadline: ctx.deadline, signal: ctx.signal, secrets: [ctx.key] },
      );
      onResult(ip, res);
    });
  }
}
