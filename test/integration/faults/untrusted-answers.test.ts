import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { GeoDatabase } from '../../../src/3-lookup/geo/geo-database.ts';
import { cloudTrailEvent, cloudWatchLogsData, firehoseEvent, firehoseRecord } from '../../helpers/factories.ts';
import { startFirehoseServer } from '../../helpers/loopback.ts';
import { startDynalite, type LocalDynamo } from '../lookup/dynalite.ts';
import { startFakeServer, type FakeServer, type RecordedRequest, type ScriptedResponse } from '../lookup/fake-provider-server.ts';
import {
  KEYS,
  capturingLog,
  coldStart,
  conservation,
  drive,
  faultBatch,
  healthyAnswer,
  providerEnv,
  routeOf,
  sharedGeo,
  type DriveOutcome,
} from './support.ts';

/**
 * Issue 11, cases 2 and 4–7 end to end: the real handler and stages, providers on loopback answering what a hostile
 * or broken provider (or a proxy in front of it) could answer, DynamoDB on dynalite.
 */
const TABLE = 'untrusted-ip-cache';
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** A healthy answer whose kept text fields carry `text` (ipstack city/isp, IPQS ISP/organization, AbuseIPDB isp/domain). */
function withKeptText(req: RecordedRequest, text: string): ScriptedResponse {
  const base = healthyAnswer(req).body as Record<string, unknown>;
  switch (routeOf(req).provider) {
    case 'ipstack':
      return { body: { ...base, city: text, region_name: text, connection: { asn: 25876, isp: text } } };
    case 'ipqualityscore':
      return { body: { ...base, ISP: text, organization: text, host: text } };
    case 'abuseipdb': {
      const data = (base as { data: Record<string, unknown> }).data;
      return { body: { data: { ...data, isp: text, domain: text, usageType: text, hostnames: [text, text] } } };
    }
    default:
      return { body: base };
  }
}

/**
 * The case 4: one huge kept field per answer, in a body under the 2 MB cap, so the answer is accepted and
 * the field would be kept whole (the multi-field answer above passes the cap and is rejected as a whole instead).
 */
function withOneHugeField(req: RecordedRequest, text: string): ScriptedResponse {
  const base = healthyAnswer(req).body as Record<string, unknown>;
  switch (routeOf(req).provider) {
    case 'ipstack':
      return { body: { ...base, city: text } };
    case 'ipqualityscore':
      return { body: { ...base, ISP: text } };
    case 'abuseipdb': {
      const data = (base as { data: Record<string, unknown> }).data;
      return { body: { data: { ...data, isp: text } } };
    }
    default:
      return { body: base };
  }
}

function leakForms(key: string): string[] {
  return [key, encodeURIComponent(key), Buffer.from(key).toString('base64').replace(/=+$/, ''), JSON.stringify(key).slice(1, -1)];
}

describe('untrusted provider answers end to end (issue 11 cases 4–7)', function () {
  this.timeout(60_000);
  let geo: GeoDatabase;
  let providers: FakeServer;
  let firehose: Awaited<ReturnType<typeof startFirehoseServer>>;
  let dynamo: LocalDynamo;
  let validate: ReturnType<Ajv2020['compile']>;

  before(async () => {
    geo = await sharedGeo();
    providers = await startFakeServer(healthyAnswer);
    firehose = await startFirehoseServer();
    dynamo = await startDynalite([TABLE]);
    validate = new Ajv2020({ allErrors: true }).compile(
      JSON.parse(await readFile(`${REPO}schema/enrichment.schema.json`, 'utf8')) as object,
    );
  });
  after(async () => {
    await providers.close();
    await firehose.close();
    await dynamo.close();
  });

  async function runBatch(
    answer: (req: RecordedRequest) => ScriptedResponse,
    extra: { log?: string[]; event?: ReturnType<typeof faultBatch>['event'] } = {},
  ): Promise<{ outcome: DriveOutcome; lines: Record<string, unknown>[] }> {
    providers.reset(answer);
    firehose.drain();
    const rig = coldStart({
      // Timeouts with room for a loaded 2-core machine: these cases are about answers, not slowness.
      env: providerEnv(providers.baseUrl, {
        CACHE_TABLE_NAME: TABLE,
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
        ...Object.fromEntries(['IPSTACK', 'IPQUALITYSCORE', 'AUTOFOCUS', 'ABUSEIPDB'].map((p) => [`${p}_TIMEOUT_MS`, '3000'])),
      }),
      geo,
      firehoseUrl: firehose.url,
      dynamoUrl: dynamo.endpoint,
      ...(extra.log !== undefined ? { log: capturingLog(extra.log) } : {}),
    });
    try {
      const batch = faultBatch();
      const outcome = await drive(rig.handler, extra.event ?? batch.event, firehose);
      expect(outcome.thrown, 'the handler threw').to.deep.equal([]);
      if (extra.event === undefined) {
        const { lost, duplicated } = conservation(outcome.delivered, batch.expected);
        expect({ lost, duplicated }).to.deep.equal({ lost: [], duplicated: [] });
      }
      const lines = [...outcome.delivered.values()].flatMap((list) => list.map((d) => d.line));
      return { outcome, lines };
    } finally {
      rig.close();
    }
  }

  it('case 4: a 1.9 MB kept field is cut, the records holding its IP are delivered (not ProcessingFailed) and lines match the schema', async () => {
    const huge = 'A'.repeat(1_900_000);
    const { outcome, lines } = await runBatch((req) => withOneHugeField(req, huge));
    const failed = outcome.first.records.filter((r) => r.result === 'ProcessingFailed');
    expect(failed, 'only the garbage record fails').to.have.length(1);
    for (const line of lines) {
      expect(JSON.stringify(line).length).to.be.lessThan(20_000);
      expect(validate(line), JSON.stringify(validate.errors)).to.equal(true);
    }
  });

  it('case 5: providers echoing the request (URL with the key, headers) in kept fields leak no key to output lines, DynamoDB items or logs', async () => {
    const logs: string[] = [];
    const { outcome } = await runBatch((req) => withKeptText(req, `echo ${req.url} ${JSON.stringify(req.headers)}`), { log: logs });
    const cache = await dynamo.client.send(new ScanCommand({ TableName: TABLE }));
    expect(cache.Items?.length ?? 0, 'answers were cached').to.be.greaterThan(0);
    const haystacks = {
      output: [...outcome.delivered.values()].map((l) => JSON.stringify(l)).join('\n') + JSON.stringify(outcome.first),
      dynamodb: JSON.stringify(cache.Items),
      logs: logs.join('\n'),
    };
    expect(haystacks.output, 'the echo itself reached the output (scrubbed)').to.include('echo');
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [name, key] of Object.entries(KEYS))
        for (const form of leakForms(key)) expect(text.includes(form), `${name} key in ${where}`).to.equal(false);
    }
  });

  it('case 6: fraud_score 1e308 is dropped, the event is not raised to CRITICAL by it, and every line matches schema/enrichment.schema.json', async () => {
    const ipqs =
      (score: number | undefined) =>
      (req: RecordedRequest): ScriptedResponse => {
        const a = healthyAnswer(req);
        if (routeOf(req).provider !== 'ipqualityscore') return a;
        const { fraud_score: _, ...rest } = a.body as Record<string, unknown>;
        return { body: score === undefined ? rest : { ...rest, fraud_score: score } };
      };
    const priorities = (lines: Record<string, unknown>[]) =>
      lines.map((l) => String((l.enrichment as { priority?: string }).priority)).sort();
    const baseline = await runBatch(ipqs(undefined));
    const { lines } = await runBatch(ipqs(1e308));
    expect(lines.length).to.be.greaterThan(0);
    for (const line of lines) {
      expect(validate(line), JSON.stringify(validate.errors)).to.equal(true);
      expect(JSON.stringify(line)).not.to.include('1e+308');
      const enrichment = line.enrichment as { source?: { reputation?: { fraudScore?: number } }; risk?: { reasons: { detail: string }[] } };
      expect(enrichment.source?.reputation?.fraudScore).to.equal(undefined);
    }
    // The same answers without any fraud score give the same priorities: the dropped value raised nothing.
    expect(priorities(lines)).to.deep.equal(priorities(baseline.lines));
  });

  it('case 7: one oversized answer does not fail the BatchWriteItem of the other 24 IPs; the next container asks no provider', async () => {
    const ips = Array.from({ length: 25 }, (_, i) => `81.200.${7 + Math.floor(Math.random() * 200)}.${i + 1}`);
    const event = firehoseEvent([
      firehoseRecord(cloudWatchLogsData(ips.map((ip) => JSON.stringify(cloudTrailEvent({ sourceIPAddress: ip }))))),
    ]);
    const huge = 'B'.repeat(350_000); // the answer's fields together pass DynamoDB's 400 KB item limit, its body stays under the 2 MB cap
    const answer = (req: RecordedRequest): ScriptedResponse => (routeOf(req).ip === ips[0] ? withKeptText(req, huge) : healthyAnswer(req));
    await runBatch(answer, { event });
    expect(providers.requests.length, 'first container asked the providers').to.be.greaterThan(0);
    await runBatch(answer, { event }); // a new container: empty L1, same table
    expect(
      providers.requests.map((r) => `${routeOf(r).provider} ${routeOf(r).ip}`),
      'requests of the second container',
    ).to.deep.equal([]);
  });
});

describe('many unique sources against hanging providers (issue 11 case 2, heap capped at 700 MB in a child process)', function () {
  this.timeout(120_000);
  for (const version of ['4', '6', '64']) {
    it(`answers before the deadline with 8,000 unique sources (IPv${version === '64' ? '6, one /64' : version}), no record failed`, async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--max-old-space-size=700', '--expose-gc', '--import', 'tsx', `${REPO}scripts/unique-sources.ts`, '8000', version, '15000'],
        {
          encoding: 'utf8',
          timeout: 100_000,
          cwd: REPO,
        },
      );
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        marginBeforeDeadlineMs: number;
        peakRssMb: number;
        statuses: Record<string, number>;
      };
      expect(out.marginBeforeDeadlineMs, 'margin before the deadline').to.be.greaterThan(0);
      expect(out.peakRssMb).to.be.lessThan(700);
      // Events beyond the response size limit are re-ingested (Dropped here, delivered later); none fails.
      expect(out.statuses.ProcessingFailed ?? 0).to.equal(0);
      expect(out.statuses.partial ?? 0).to.be.greaterThan(0);
    });
  }
});
