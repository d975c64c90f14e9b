/**
 * IPQualityScore proxy/VPN detection: GET {base}/api/json/ip/{key}/{ip}?strictness=…
 * The key is in the URL PATH: the URL is built here and handed to the HTTP client only; every error text is scrubbed.
 * Errors come back as HTTP 200 with {"success": false, "message": "…"}.
 */
import { classifyStatus, type Classified, type HttpResponse, type ResilientClient } from '../http/resilient-client.ts';
import type { Normalised, OnResult, Provider, ProviderAnswer, ProviderContext } from './types.ts';
import { bool, compact, eachIp, int, isObject, num, parseJson, str } from './util.ts';

export interface IpqsOptions {
  baseUrl: string;
  strictness: number;
  client: ResilientClient;
  /** The stage's clock (epoch ms): Retry-After dates are read against it. */
  now: () => number;
}

export function trimIpqs(r: Record<string, unknown>): Record<string, unknown> | undefined {
  return compact({
    fraudScore: num(r['fraud_score']),
    proxy: bool(r['proxy']),
    vpn: bool(r['vpn']),
    tor: bool(r['tor']),
    activeVpn: bool(r['active_vpn']),
    activeTor: bool(r['active_tor']),
    recentAbuse: bool(r['recent_abuse']),
    botStatus: bool(r['bot_status']),
    isCrawler: bool(r['is_crawler']),
    mobile: bool(r['mobile']),
    connectionType: str(r['connection_type']),
    abuseVelocity: str(r['abuse_velocity']),
    isp: str(r['ISP']),
    organization: str(r['organization']),
    asn: int(r['ASN']),
    host: str(r['host']),
    countryCode: str(r['country_code']),
    region: str(r['region']),
    city: str(r['city']),
    latitude: num(r['latitude']),
    longitude: num(r['longitude']),
    timezone: str(r['timezone']),
  });
}

export function normaliseIpqs(d: Record<string, unknown>): Normalised {
  const countryCode = str(d['countryCode']);
  // IPQS answers "N/A" for unknown text fields.
  const known = (v: unknown): string | undefined => {
    const s = str(v);
    return s === undefined || s === 'N/A' ? undefined : s;
  };
  const geo =
    countryCode !== undefined && countryCode !== 'N/A'
      ? compact({
          countryCode,
          region: known(d['region']),
          city: known(d['city']),
          latitude: num(d['latitude']),
          longitude: num(d['longitude']),
          timezone: known(d['timezone']),
        })
      : undefined;
  const asn = num(d['asn']);
  const as = compact({ number: asn !== undefined && asn > 0 ? asn : undefined, organization: known(d['organization']) ?? known(d['isp']) });
  const reputation = compact({
    fraudScore: num(d['fraudScore']),
    proxy: bool(d['proxy']),
    vpn: bool(d['vpn']),
    tor: bool(d['tor']),
    recentAbuse: bool(d['recentAbuse']),
  });
  return { ...(geo ? { geo } : {}), ...(as ? { as } : {}), ...(reputation ? { reputation } : {}) };
}

function classify(res: HttpResponse, now: number): Classified<ProviderAnswer> {
  const status = classifyStatus(res, now);
  if (status !== undefined) return status;
  const parsed = parseJson(res.body);
  if (!parsed.ok) return parsed.verdict;
  const body = parsed.value;
  if (!isObject(body)) return { kind: 'retry', reason: 'unexpected answer shape' };
  if (body['success'] !== true) {
    const message = str(body['message']) ?? 'success: false';
    // Keep only a short, known classification; the message is not echoed verbatim.
    if (/invalid ip|private|reserved/i.test(message)) return { kind: 'ok', value: { status: 'none' } };
    if (/too many|slow down|rate/i.test(message)) return { kind: 'retry', reason: 'success: false (rate limited)' };
    if (/quota|credits|exceeded/i.test(message)) return { kind: 'fail', reason: 'success: false (quota exhausted)', openBreaker: true };
    if (/key/i.test(message)) return { kind: 'fail', reason: 'success: false (key rejected)', openBreaker: true };
    return { kind: 'fail', reason: 'success: false' };
  }
  const trimmed = trimIpqs(body);
  return { kind: 'ok', value: trimmed !== undefined ? { status: 'found', data: trimmed } : { status: 'none' } };
}

export class IpqsProvider implements Provider {
  readonly name = 'ipqualityscore' as const;
  readonly #o: IpqsOptions;

  constructor(options: IpqsOptions) {
    this.#o = options;
  }

  normalise(data: Record<string, unknown>): Normalised {
    return normaliseIpqs(data);
  }

  async lookup(ips: readonly string[], ctx: ProviderContext, onResult: OnResult): Promise<void> {
    await eachIp(ips, async (ip) => {
      const q = new URLSearchParams({ strictness: String(this.#o.strictness), allow_public_access_points: 'true' });
      const url = `${this.#o.baseUrl}/api/json/ip/${encodeURIComponent(ctx.key)}/${encodeURIComponent(ip)}?${q.toString()}`;
      const res = await this.#o.client.call({ url }, (r) => classify(r, this.#o.now()), {
        deadline: ctx.deadline,
        signal: ctx.signal,
        secrets: [ctx.key],
      });
      onResult(ip, res);
    });
  }
}
