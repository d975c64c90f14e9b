/** Loopback stand-ins for the four providers (their documented JSON), with a configurable latency, counting calls. */
import { documented, startFakeServer, type FakeServer } from '../test/integration/lookup/fake-provider-server.ts';

export interface LoopbackProviders {
  readonly server: FakeServer;
  latencyMs: number;
  env(extra?: Record<string, string>): Record<string, string>;
  /** Requests per provider since the last reset. */
  counts(): Record<string, number>;
  reset(): void;
  close(): Promise<void>;
}

/** About one address in twenty is known-bad, as in real traffic; the rest are clean (deterministic per IP). */
function isBad(ip: string): boolean {
  let h = 0;
  for (let i = 0; i < ip.length; i++) h = (h * 31 + ip.charCodeAt(i)) | 0;
  return Math.abs(h) % 20 === 0;
}

/** Environment enabling all four providers against `baseUrl`, with a paid plan's concurrency and rate. */
export function providerEnv(baseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    IPSTACK_ENABLED: 'true',
    IPSTACK_API_KEY: 'bench-ipstack-key',
    IPSTACK_BASE_URL: `${baseUrl}/ipstack`,
    IPQUALITYSCORE_ENABLED: 'true',
    IPQUALITYSCORE_API_KEY: 'bench-ipqs-key',
    IPQUALITYSCORE_BASE_URL: `${baseUrl}/ipqs`,
    AUTOFOCUS_ENABLED: 'true',
    AUTOFOCUS_API_KEY: 'bench-autofocus-key',
    AUTOFOCUS_BASE_URL: `${baseUrl}/autofocus`,
    ABUSEIPDB_ENABLED: 'true',
    ABUSEIPDB_API_KEY: 'bench-abuseipdb-key',
    ABUSEIPDB_BASE_URL: `${baseUrl}/abuseipdb`,
    ...Object.fromEntries(
      ['IPSTACK', 'IPQUALITYSCORE', 'AUTOFOCUS', 'ABUSEIPDB'].flatMap((p) => [
        [`${p}_CONCURRENCY`, '64'],
        [`${p}_RATE_PER_SECOND`, '2000'],
      ]),
    ),
    ...extra,
  };
}

export async function startProviders(latencyMs = 0): Promise<LoopbackProviders> {
  const state = { latencyMs };
  const server = await startFakeServer((req) => {
    const delayMs = state.latencyMs > 0 ? state.latencyMs : undefined;
    const ip = decodeURIComponent(req.path.split('/').pop() ?? '');
    if (req.path.startsWith('/ipstack/')) {
      const ips = ip.split(',');
      return { delayMs, body: ips.length > 1 ? ips.map((one) => documented.ipstack(one)) : documented.ipstack(ip) };
    }
    if (req.path.startsWith('/ipqs/')) {
      const bad = documented.ipqualityscore();
      return {
        delayMs,
        body: isBad(ip)
          ? bad
          : {
              ...bad,
              fraud_score: 12,
              proxy: false,
              vpn: false,
              recent_abuse: false,
              abuse_velocity: 'none',
              connection_type: 'Corporate',
            },
      };
    }
    if (req.path.startsWith('/autofocus')) {
      const value = req.query.get('indicatorValue') ?? '';
      return { delayMs, body: isBad(value) ? documented.autofocus(value) : documented.autofocusUnknown() };
    }
    if (req.path.startsWith('/abuseipdb')) {
      const value = req.query.get('ipAddress') ?? '';
      const bad = documented.abuseipdb(value);
      return {
        delayMs,
        body: isBad(value)
          ? bad
          : { data: { ...bad.data, abuseConfidenceScore: 0, totalReports: 0, numDistinctUsers: 0, lastReportedAt: null } },
      };
    }
    return { status: 404, body: { message: 'not found' } };
  });
  return {
    server,
    get latencyMs() {
      return state.latencyMs;
    },
    set latencyMs(v: number) {
      state.latencyMs = v;
    },
    env: (extra = {}) => providerEnv(server.baseUrl, extra),
    counts: () => {
      const counts: Record<string, number> = {};
      for (const r of server.requests) {
        const name = r.path.split('/')[1] ?? '?';
        counts[name] = (counts[name] ?? 0) + 1;
      }
      return counts;
    },
    reset: () => {
      server.requests.length = 0;
    },
    close: () => server.close(),
  };
}
