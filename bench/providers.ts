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

export async function startProviders(latencyMs = 0): Promise<LoopbackProviders> {
  const state = { latencyMs };
  const server = await startFakeServer((req) => {
    const delayMs = state.latencyMs > 0 ? state.latencyMs : undefined;
    const ip = decodeURIComponent(req.path.split('/').pop() ?? '');
    if (req.path.startsWith('/ipstack/')) {
      const ips = ip.split(',');
      return { delayMs, body: ips.length > 1 ? ips.map((one) => documented.ipstack(one)) : documented.ipstack(ip) };
    }
    if (req.path.startsWith('/ipqs/')) return { delayMs, body: documented.ipqualityscore() };
    if (req.path.startsWith('/autofocus')) return { delayMs, body: documented.autofocusUnknown() };
    if (req.path.startsWith('/abuseipdb')) return { delayMs, body: documented.abuseipdb(req.query.get('ipAddress') ?? '') };
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
    env: (extra = {}) => ({
      IPSTACK_ENABLED: 'true',
      IPSTACK_API_KEY: 'bench-ipstack-key',
      IPSTACK_BASE_URL: `${server.baseUrl}/ipstack`,
      IPQUALITYSCORE_ENABLED: 'true',
      IPQUALITYSCORE_API_KEY: 'bench-ipqs-key',
      IPQUALITYSCORE_BASE_URL: `${server.baseUrl}/ipqs`,
      AUTOFOCUS_ENABLED: 'true',
      AUTOFOCUS_API_KEY: 'bench-autofocus-key',
      AUTOFOCUS_BASE_URL: `${server.baseUrl}/autofocus`,
      ABUSEIPDB_ENABLED: 'true',
      ABUSEIPDB_API_KEY: 'bench-abuseipdb-key',
      ABUSEIPDB_BASE_URL: `${server.baseUrl}/abuseipdb`,
      ...Object.fromEntries(
        ['IPSTACK', 'IPQUALITYSCORE', 'AUTOFOCUS', 'ABUSEIPDB'].flatMap((p) => [
          [`${p}_CONCURRENCY`, '32'],
          [`${p}_RATE_PER_SECOND`, '1000'],
        ]),
      ),
      ...extra,
    }),
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
