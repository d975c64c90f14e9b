/**
 * ipstack (apilayer): GET {base}/{ip}?access_key=KEY, bulk GET {base}/{ip1},{ip2},…?access_key=KEY (≤ 50 IPs,
 * paid plans). Errors come back as HTTP 200 with {"success": false, "error": {code, type, info}}.
 */
import type { Log } from '../../model.ts';
import { silentLog } from '../../model.ts';
import { parseIp } from '../address.ts';
import { classifyStatus, type Classified, type HttpResponse, type ResilientClient } from '../http/resilient-client.ts';
import type { Normalised, OnResult, Provider, ProviderAnswer, ProviderContext } from './types.ts';
import { bool, compact, inPool, isObject, num, parseJson, str } from './util.ts';

/** ipstack's documented bulk limit. */
export const IPSTACK_BULK_MAX = 50;

export interface IpstackOptions {
  baseUrl: string;
  bulk: boolean;
  security: boolean;
  client: ResilientClient;
  log?: Log;
  /** The stage's clock (epoch ms): Retry-After dates are read against it. */
  now: () => number;
}

export function trimIpstack(r: Record<string, unknown>): Record<string, unknown> | undefined {
  const tz = isObject(r['time_zone']) ? r['time_zone'] : {};
  const conn = isObject(r['connection']) ? r['connection'] : {};
  const sec = isObject(r['security']) ? r['security'] : {};
  const countryCode = str(r['country_code']);
  // Without a country, ipstack has nothing on this address (it answers nulls for unknown ranges).
  if (countryCode === undefined && num(conn['asn']) === undefined) return undefined;
  return compact({
    type: str(r['type']),
    continentCode: str(r['continent_code']),
    countryCode,
    countryName: str(r['country_name']),
    regionCode: str(r['region_code']),
    regionName: str(r['region_name']),
    city: str(r['city']),
    latitude: num(r['latitude']),
    longitude: num(r['longitude']),
    timezone: str(tz['id']),
    asn: num(conn['asn']),
    isp: str(conn['isp']),
    isProxy: bool(sec['is_proxy']),
    proxyType: str(sec['proxy_type']),
    isCrawler: bool(sec['is_crawler']),
    isTor: bool(sec['is_tor']),
    threatLevel: str(sec['threat_level']),
    threatTypes: Array.isArray(sec['threat_types']) ? sec['threat_types'].filter((t) => typeof t === 'string').slice(0, 10) : undefined,
  });
}

export function normaliseIpstack(d: Record<string, unknown>): Normalised {
  const geo = compact({
    countryCode: str(d['countryCode']),
    countryName: str(d['countryName']),
    region: str(d['regionName']),
    city: str(d['city']),
    latitude: num(d['latitude']),
    longitude: num(d['longitude']),
    timezone: str(d['timezone']),
  });
  const as = compact({ number: num(d['asn']), organization: str(d['isp']) });
  const reputation = compact({ proxy: bool(d['isProxy']), tor: bool(d['isTor']) });
  return { ...(geo ? { geo } : {}), ...(as ? { as } : {}), ...(reputation ? { reputation } : {}) };
}

type IpstackBody = { kind: 'records'; records: Record<string, unknown>[] } | { kind: 'invalid-ip' } | { kind: 'no-bulk' };

function classify(res: HttpResponse, now: number): Classified<IpstackBody> {
  const status = classifyStatus(res, now);
  if (status !== undefined) return status;
  const parsed = parseJson(res.body);
  if (!parsed.ok) return parsed.verdict;
  const body = parsed.value;
  if (isObject(body) && body['success'] === false) {
    const e = isObject(body['error']) ? body['error'] : {};
    const code = num(e['code']);
    const type = str(e['type']) ?? 'unknown';
    const reason = `error ${code ?? '?'} ${type}`; // never `info`: it may quote the request
    if (code === 106) return { kind: 'ok', value: { kind: 'invalid-ip' } };
    if (code === 303) return { kind: 'ok', value: { kind: 'no-bulk' } };
    // 101/102 key missing/invalid/inactive, 104 monthly quota reached: retrying cannot help.
    if (code === 101 || code === 102 || code === 104) return { kind: 'fail', reason, openBreaker: true };
    if (code === 429 || type.includes('rate_limit')) return { kind: 'retry', reason };
    return { kind: 'fail', reason };
  }
  if (Array.isArray(body)) return { kind: 'ok', value: { kind: 'records', records: body.filter(isObject) } };
  if (isObject(body)) return { kind: 'ok', value: { kind: 'records', records: [body] } };
  return { kind: 'retry', reason: 'unexpected answer shape' };
}

export class IpstackProvider implements Provider {
  readonly name = 'ipstack' as const;
  readonly #o: IpstackOptions;
  #bulk: boolean;

  constructor(options: IpstackOptions) {
    this.#o = options;
    this.#bulk = options.bulk;
  }

  normalise(data: Record<string, unknown>): Normalised {
    return normaliseIpstack(data);
  }

  #url(ips: readonly string[], key: string): string {
    const q = new URLSearchParams({ access_key: key });
    if (this.#o.security) q.set('security', '1');
    return `${this.#o.baseUrl}/${ips.join(',')}?${q.toString()}`;
  }

  async lookup(ips: readonly string[], ctx: ProviderContext, onResult: OnResult): Promise<void> {
    if (this.#bulk && ips.length > 1) {
      const chunks: string[][] = [];
      for (let i = 0; i < ips.length; i += IPSTACK_BULK_MAX) chunks.push(ips.slice(i, i + IPSTACK_BULK_MAX));
      await inPool(chunks, (chunk) => this.#lookupMany(chunk, ctx, onResult));
    } else {
      await inPool(ips, (ip) => this.#lookupMany([ip], ctx, onResult));
    }
  }

  async #lookupMany(ips: readonly string[], ctx: ProviderContext, onResult: OnResult): Promise<void> {
    const now = this.#o.now;
    const res = await this.#o.client.call({ url: this.#url(ips, ctx.key) }, (r) => classify(r, now()), {
      deadline: ctx.deadline,
      signal: ctx.signal,
      secrets: [ctx.key],
    });
    if (!res.ok) {
      for (const ip of ips) onResult(ip, res);
      return;
    }
    const body = res.value;
    if (body.kind === 'no-bulk') {
      // The plan has no bulk lookup: remember it for the container and fall back to one request per IP.
      (this.#o.log ?? silentLog).warn('ipstack plan does not support bulk lookup; using single lookups (set IPSTACK_BULK=false)');
      this.#bulk = false;
      await inPool(ips, (ip) => this.#lookupMany([ip], ctx, onResult));
      return;
    }
    if (body.kind === 'invalid-ip') {
      for (const ip of ips) onResult(ip, { ok: true, value: { status: 'none' } });
      return;
    }
    const byIp = new Map<string, Record<string, unknown>>();
    for (const r of body.records) {
      const ip = typeof r['ip'] === 'string' ? parseIp(r['ip'])?.text : undefined;
      if (ip !== undefined) byIp.set(ip, r);
    }
    // A single lookup's answer is about the IP asked for, even if the echo is missing.
    const only = body.records[0];
    if (ips.length === 1 && byIp.size === 0 && only !== undefined) byIp.set(ips[0]!, only);
    for (const ip of ips) {
      const r = byIp.get(ip);
      const trimmed = r !== undefined ? trimIpstack(r) : undefined;
      const answer: ProviderAnswer = trimmed !== undefined ? { status: 'found', data: trimmed } : { status: 'none' };
      onResult(ip, { ok: true, value: answer });
    }
  }
}
