/**
 * A loopback HTTP server that plays a provider: answers from a scripted handler, records every request
 * (for call-count and privacy assertions). Always close() it in after().
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  at: number;
}

export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are (e.g. malformed JSON). */
  body?: unknown;
  delayMs?: number;
  /** Never answer (until the server closes). */
  hang?: boolean;
}

export type Handler = (req: RecordedRequest, nth: number) => ScriptedResponse;

export interface FakeServer {
  baseUrl: string;
  requests: RecordedRequest[];
  handler: Handler;
  reset(handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakeServer(handler: Handler): Promise<FakeServer> {
  const pending = new Set<ServerResponse>();
  const state: FakeServer = {
    baseUrl: '',
    requests: [],
    handler,
    reset(h) {
      state.handler = h;
      state.requests.length = 0;
    },
    close: async () => {
      for (const res of pending) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: req.headers,
      at: Date.now(),
    };
    state.requests.push(recorded);
    const out = state.handler(recorded, state.requests.length);
    if (out.hang === true) {
      pending.add(res);
      return;
    }
    const send = (): void => {
      pending.delete(res);
      if (res.destroyed) return;
      const body = typeof out.body === 'string' ? out.body : JSON.stringify(out.body ?? {});
      res.writeHead(out.status ?? 200, { 'content-type': 'application/json', ...out.headers });
      res.end(body);
    };
    if (out.delayMs !== undefined) {
      pending.add(res);
      setTimeout(send, out.delayMs);
    } else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** Documented answer shapes (trimmed to what the tests and the code read, values invented). */
export const documented = {
  ipstack: (ip: string) => ({
    ip,
    type: ip.includes(':') ? 'ipv6' : 'ipv4',
    continent_code: 'NA',
    continent_name: 'North America',
    country_code: 'US',
    country_name: 'United States',
    region_code: 'CA',
    region_name: 'California',
    city: 'Los Angeles',
    zip: '90013',
    latitude: 34.0453,
    longitude: -118.2413,
    location: {
      geoname_id: 5368361,
      capital: 'Washington D.C.',
      languages: [{ code: 'en', name: 'English', native: 'English' }],
      is_eu: false,
    },
    time_zone: {
      id: 'America/Los_Angeles',
      current_time: '2026-01-01T00:00:00-08:00',
      gmt_offset: -28800,
      code: 'PST',
      is_daylight_saving: false,
    },
    connection: { asn: 25876, isp: 'Los Angeles Department of Water & Power' },
    security: {
      is_proxy: false,
      proxy_type: null,
      is_crawler: false,
      crawler_name: null,
      crawler_type: null,
      is_tor: false,
      threat_level: 'low',
      threat_types: null,
    },
  }),
  ipstackError: (code: number, type: string) => ({
    success: false,
    error: { code, type, info: `Error ${type}. [Technical Support: support@apilayer.com]` },
  }),
  ipqualityscore: () => ({
    success: true,
    message: 'Success',
    fraud_score: 88,
    country_code: 'NL',
    region: 'North Holland',
    city: 'Amsterdam',
    ISP: 'DigitalOcean',
    ASN: 14061,
    organization: 'DigitalOcean',
    is_crawler: false,
    timezone: 'Europe/Amsterdam',
    mobile: false,
    host: 'example-host.invalid',
    proxy: true,
    vpn: true,
    tor: false,
    active_vpn: false,
    active_tor: false,
    recent_abuse: true,
    bot_status: false,
    connection_type: 'Data Center',
    abuse_velocity: 'high',
    zip_code: 'N/A',
    latitude: 52.37,
    longitude: 4.89,
    request_id: '4DZWa1XbTz',
  }),
  ipqualityscoreError: (message: string) => ({ success: false, message, request_id: '4DZWa1XbTy' }),
  autofocus: (ip: string) => ({
    indicator: {
      indicatorValue: ip,
      indicatorType: ip.includes(':') ? 'IPV6_ADDRESS' : 'IPV4_ADDRESS',
      summaryGenerationTs: 1767225600000,
      firstSeenTsGlobal: 1704067200000,
      lastSeenTsGlobal: 1767225600000,
      latestPanVerdicts: { PAN_DB: 'MALWARE' },
      seenByDataSourceIds: ['WF_SAMPLE'],
      wildfireRelatedSampleVerdictCounts: { malware: 3 },
    },
    tags: [{ public_tag_name: 'Unit42.Emotet', tag_name: 'Emotet', customer_name: 'Palo Alto Networks Unit42' }],
    bucketInfo: { minutePoints: 200, dailyPoints: 25000, minutePointsRemaining: 196, dailyPointsRemaining: 24980, waitInSeconds: 0 },
  }),
  autofocusUnknown: () => ({
    bucketInfo: { minutePoints: 200, dailyPoints: 25000, minutePointsRemaining: 195, dailyPointsRemaining: 24979, waitInSeconds: 0 },
  }),
  abuseipdb: (ip: string) => ({
    data: {
      ipAddress: ip,
      isPublic: true,
      ipVersion: ip.includes(':') ? 6 : 4,
      isWhitelisted: false,
      abuseConfidenceScore: 100,
      countryCode: 'CN',
      usageType: 'Data Center/Web Hosting/Transit',
      isp: 'Example Hosting',
      domain: 'example.invalid',
      hostnames: [],
      isTor: false,
      totalReports: 1039,
      numDistinctUsers: 200,
      lastReportedAt: '2026-01-01T00:00:00+00:00',
    },
  }),
  abuseipdbError: (status: number, detail: string) => ({ errors: [{ detail, status }] }),
};

/** One loopback server plays all four providers, each under its own path prefix (`/ipstack`, `/ipqs`, `/autofocus`, `/abuseipdb`). */
export type ProviderRoute = 'ipstack' | 'ipqualityscore' | 'autofocus' | 'abuseipdb';
export const PROVIDER_ROUTES: readonly ProviderRoute[] = ['ipstack', 'ipqualityscore', 'autofocus', 'abuseipdb'];

/** Which provider a request was meant for, the IP it asks about, and the key it carried. */
export function routeOf(req: RecordedRequest): { provider: ProviderRoute; ip: string; key: string | undefined } {
  if (req.path.startsWith('/ipstack/'))
    return { provider: 'ipstack', ip: req.path.slice('/ipstack/'.length), key: req.query.get('access_key') ?? undefined };
  if (req.path.startsWith('/ipqs/')) {
    const parts = req.path.split('/'); // ['', 'ipqs', 'api', 'json', 'ip', key, ip]
    return { provider: 'ipqualityscore', ip: parts[6] ?? '', key: parts[5] };
  }
  if (req.path.startsWith('/autofocus/'))
    return { provider: 'autofocus', ip: req.query.get('indicatorValue') ?? '', key: header(req, 'apikey') };
  return { provider: 'abuseipdb', ip: req.query.get('ipAddress') ?? '', key: header(req, 'key') };
}

function header(req: RecordedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The documented success answer of each provider. */
export function healthyAnswer(req: RecordedRequest): ScriptedResponse {
  const { provider, ip } = routeOf(req);
  switch (provider) {
    case 'ipstack':
      return { body: documented.ipstack(ip) };
    case 'ipqualityscore':
      return { body: documented.ipqualityscore() };
    case 'autofocus':
      return { body: documented.autofocus(ip) };
    case 'abuseipdb':
      return { body: documented.abuseipdb(ip) };
  }
}
