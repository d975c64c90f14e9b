import { expect } from 'chai';
import type { GeoDatabase } from '../../../src/3-lookup/geo/geo-database.ts';
import { startFirehoseServer } from '../../helpers/loopback.ts';
import { startFakeServer, type FakeServer } from '../lookup/fake-provider-server.ts';
import {
  KEYS,
  PROVIDER_ROUTES,
  coldStart,
  conservation,
  drive,
  faultBatch,
  healthyAnswer,
  providerEnv,
  routeOf,
  sharedGeo,
  startKeyStoreServer,
  statusOf,
  type AwsJsonServer,
  type DriveOutcome,
  type FaultBatch,
  type KeyStore,
} from './support.ts';

function publicStatuses(batch: FaultBatch, outcome: DriveOutcome): string[] {
  return [...new Set([...outcome.delivered].filter(([id]) => batch.publicEvents.has(id)).map(([, [d]]) => statusOf(d!)))];
}

function expectConserved(batch: FaultBatch, outcome: DriveOutcome): void {
  expect(outcome.thrown, 'the handler threw').to.deep.equal([]);
  expect(conservation(outcome.delivered, batch.expected)).to.deep.equal({ lost: [], duplicated: [], unexpected: [] });
}

describe('fault matrix: deadline nearly exhausted', function () {
  this.timeout(30_000);
  let geo: GeoDatabase;
  let providers: FakeServer;
  let firehose: Awaited<ReturnType<typeof startFirehoseServer>>;

  before(async () => {
    geo = await sharedGeo();
    providers = await startFakeServer(() => ({ hang: true }));
    firehose = await startFirehoseServer();
  });
  after(async () => {
    await providers.close();
    await firehose.close();
  });

  for (const remainingMs of [2500, 1500]) {
    it(`answers before the deadline with partial events when ${remainingMs} ms are left and providers hang`, async () => {
      // Provider timeouts (2 s, the default) are longer than the whole budget: only the deadline can stop them.
      const env = providerEnv(providers.baseUrl, Object.fromEntries(PROVIDER_ROUTES.map((p) => [`${p.toUpperCase()}_TIMEOUT_MS`, '2000'])));
      const rig = coldStart({ env, geo, firehoseUrl: firehose.url });
      try {
        firehose.drain();
        const batch = faultBatch();
        const outcome = await drive(rig.handler, batch.event, firehose, { remainingMs });
        expectConserved(batch, outcome);
        expect(publicStatuses(batch, outcome)).to.deep.equal(['partial']);
        // Correctness of the deadline (not a speed claim): every invocation returned within its Lambda time.
        for (const ms of outcome.durations) expect(ms).to.be.below(remainingMs);
        expect(rig.summaries[0]!.partial).to.equal(batch.publicEvents.size - rig.summaries.slice(1).reduce((n, s) => n + s.partial, 0));
      } finally {
        rig.close();
      }
    });
  }
});

/**
 * Keys in SSM Parameter Store / Secrets Manager (the production form, `<P>_API_KEY_PARAM`), served by a loopback
 * endpoint speaking their JSON protocol. When the key store is unavailable at cold start, the providers are skipped
 * and events are partial, never failed; once it recovers, the same container fetches the keys and completes.
 */
describe('fault matrix: SSM / Secrets Manager unavailable at cold start', function () {
  this.timeout(30_000);
  let geo: GeoDatabase;
  let providers: FakeServer;
  let firehose: Awaited<ReturnType<typeof startFirehoseServer>>;
  let keyServer: AwsJsonServer;
  const store: KeyStore = { ssm: new Map(), secrets: new Map(), fault: undefined };

  before(async () => {
    geo = await sharedGeo();
    providers = await startFakeServer(healthyAnswer);
    firehose = await startFirehoseServer();
    keyServer = await startKeyStoreServer(store);
    store.ssm.set('/enricher/test/ipstack', KEYS.IPSTACK);
    store.ssm.set('/enricher/test/ipqualityscore', KEYS.IPQUALITYSCORE);
    store.secrets.set('enricher/test/autofocus', KEYS.AUTOFOCUS);
    store.secrets.set('enricher/test/keys', JSON.stringify({ abuseipdb: KEYS.ABUSEIPDB }));
  });
  after(async () => {
    await keyServer.close();
    await providers.close();
    await firehose.close();
  });

  function env(): Record<string, string> {
    const e = providerEnv(providers.baseUrl, {
      IPSTACK_API_KEY_PARAM: '/enricher/test/ipstack',
      IPQUALITYSCORE_API_KEY_PARAM: '/enricher/test/ipqualityscore',
      AUTOFOCUS_API_KEY_PARAM: 'secretsmanager:enricher/test/autofocus',
      ABUSEIPDB_API_KEY_PARAM: 'secretsmanager:enricher/test/keys#abuseipdb',
    });
    for (const p of PROVIDER_ROUTES) delete e[`${p.toUpperCase()}_API_KEY`];
    return e;
  }

  for (const [name, fault, remainingMs] of [
    ['answers HTTP 500', { status: 500, type: 'InternalServerError' }, 60_000],
    ['never answers', { hang: true }, 4000],
  ] as const) {
    it(`delivers partial events when the key store ${name}, then complete ones from the same container once it recovers`, async () => {
      store.fault = fault;
      providers.reset(healthyAnswer);
      const rig = coldStart({ env: env(), geo, firehoseUrl: firehose.url, keyStoreUrl: keyServer.url });
      try {
        firehose.drain();
        const cold = faultBatch();
        const first = await drive(rig.handler, cold.event, firehose, { remainingMs });
        expectConserved(cold, first);
        expect(publicStatuses(cold, first)).to.deep.equal(['partial']);
        expect(providers.requests, 'no provider is called without its key').to.have.length(0);
        for (const ms of first.durations) expect(ms).to.be.below(remainingMs);

        store.fault = undefined;
        const warm = faultBatch();
        const second = await drive(rig.handler, warm.event, firehose);
        expectConserved(warm, second);
        expect(publicStatuses(warm, second)).to.deep.equal(['complete']);
        for (const req of providers.requests) {
          const { provider, key } = routeOf(req);
          expect(key, provider).to.equal(KEYS[provider.toUpperCase() as keyof typeof KEYS]);
        }
      } finally {
        rig.close();
      }
    });
  }
});
