/**
 * Threshold rules through the enrichment pipeline (judge → thresholds → encode): two pipelines with their own
 * engines, counters and DynamoDB clients play two containers sharing the baseline table in dynalite.
 */
import { expect } from 'chai';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynalite, type LocalDynamo } from '../lookup/dynalite.ts';
import { DYNAMODB_ERRORS, startAwsJsonServer, type AwsJsonServer } from '../faults/support.ts';
import { compileRules } from '../../../src/5-rules/index.ts';
import { createThresholdCounter } from '../../../src/5-rules/thresholds/stage.ts';
import { DynamoDbThresholdStore } from '../../../src/5-rules/thresholds/store.ts';
import { emptyEnrichCounters, enrichEventGroups, type EnrichCounters } from '../../../src/pipeline/enrich.ts';
import { parseCoreConfig } from '../../../src/config/core.ts';
import type { EventItem } from '../../../src/1-decode/event-text.ts';
import type { OutputLine } from '../../../src/8-deliver/plan.ts';

const TABLE = 'baseline';
const RULES = {
  version: 1,
  rules: [
    {
      id: 'recon.denied',
      description: 'many denied calls',
      priority: 'MEDIUM',
      score: 40,
      reason: 'denied calls',
      when: { field: 'errorCode', in: ['AccessDenied', 'UnauthorizedOperation'] },
      threshold: { count: 20, within: '10m', by: ['userIdentity.arn'] },
    },
  ],
};

function denied(i: number, arn: string): EventItem {
  const event = {
    eventID: `id-${i}`,
    eventTime: '2026-12-03T05:01:00Z',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    errorCode: 'UnauthorizedOperation',
    awsRegion: 'us-east-1',
    userIdentity: { type: 'IAMUser', arn },
    sourceIPAddress: 'AWS Internal',
  };
  return { ok: true, event, text: JSON.stringify(event) } as unknown as EventItem;
}

function enrichmentOf(line: OutputLine): Record<string, unknown> {
  const text = line.text + (line.shared?.toString('utf8') ?? '') + (line.tail ?? '');
  return (JSON.parse(text) as { enrichment: Record<string, unknown> }).enrichment;
}

const ruleIds = (e: Record<string, unknown>) =>
  ((e['risk'] as { reasons: { rule: string }[] } | undefined)?.reasons ?? []).map((r) => r.rule);

function container(endpoint: string) {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const rules = compileRules(RULES);
  const thresholds = createThresholdCounter(rules.info.thresholds!, new DynamoDbThresholdStore({ client, tableName: TABLE }));
  return {
    client,
    async invoke(
      events: EventItem[],
      budgetMs = 3000,
    ): Promise<{ lines: Record<string, unknown>[]; counters: EnrichCounters; ms: number }> {
      const counters = emptyEnrichCounters();
      const started = Date.now();
      const [lines] = await enrichEventGroups(
        [{ events, arrival: Date.now() }],
        { config: parseCoreConfig({}), rules, thresholds },
        Date.now() + budgetMs,
        counters,
      );
      return { lines: lines!.map(enrichmentOf), counters, ms: Date.now() - started };
    },
  };
}

describe('threshold rules in the pipeline, two containers sharing DynamoDB (dynalite)', function () {
  this.timeout(20_000);
  let local: LocalDynamo;
  before(async () => {
    local = await startDynalite([]);
    await local.client.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  after(async () => {
    await local.close();
  });

  it('a threshold counts events spread across both containers: the 20th event matches, once', async () => {
    const a = container(local.endpoint);
    const b = container(local.endpoint);
    const arn = 'arn:aws:iam::111122223333:user/mallory';
    const seq = Array.from({ length: 40 }, (_, i) => denied(i, arn));
    const runs = [
      await a.invoke(seq.slice(0, 12)),
      await b.invoke(seq.slice(12, 25)),
      await a.invoke(seq.slice(25, 32)),
      await b.invoke(seq.slice(32, 40)),
    ];
    const all = runs.flatMap((r) => r.lines);
    const hits = all.flatMap((e, i) => (ruleIds(e).includes('recon.denied') ? [i] : []));
    expect(hits).to.deep.equal([19]);
    expect(all[19]!['priority']).to.equal('MEDIUM');
    expect(all.every((e) => e['status'] === 'complete')).to.equal(true);
    // One counter update per invocation (one principal, one window).
    expect(runs.map((r) => r.counters.thresholds?.updates)).to.deep.equal([1, 1, 1, 1]);
    a.client.destroy();
    b.client.destroy();
  });

  describe('DynamoDB faults', () => {
    let server: AwsJsonServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    for (const [name, reply] of [
      ['throttled', { type: DYNAMODB_ERRORS.provisionedThroughputExceeded }],
      ['down', { status: 503, type: DYNAMODB_ERRORS.internalServerError }],
      ['slow', { hang: true }],
    ] as const) {
      it(`DynamoDB ${name}: events go out partial (cause threshold) before the deadline, with no invented match`, async () => {
        server = await startAwsJsonServer('application/x-amz-json-1.0', () => reply);
        const a = container(server.url);
        const run = await a.invoke(
          Array.from({ length: 25 }, (_, i) => denied(i, 'arn:aws:iam::111122223333:user/oscar')),
          400,
        );
        expect(run.ms).to.be.below(1500);
        expect(run.lines.every((e) => e['status'] === 'partial')).to.equal(true);
        expect(run.lines.some((e) => ruleIds(e).includes('recon.denied'))).to.equal(false);
        expect(run.counters.partialByCause).to.deep.equal({ threshold: 25 });
        a.client.destroy();
      });
    }
  });
});
