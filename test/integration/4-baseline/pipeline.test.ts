import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { startDynalite, type LocalDynamo } from '../lookup/dynalite.ts';
import { createBaselineStage } from '../../../src/4-baseline/stage.ts';
import { parseBaselineConfig } from '../../../src/4-baseline/config.ts';
import { compileRules } from '../../../src/5-rules/compile.ts';
import { emptyEnrichCounters, enrichEventGroups } from '../../../src/pipeline/enrich.ts';
import { parseCoreConfig } from '../../../src/config/core.ts';
import type { EventItem } from '../../../src/1-decode/event-text.ts';
import type { OutputLine } from '../../../src/8-deliver/plan.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const ROLE = 'arn:aws:iam::123456789012:role/ci/deployer';

function item(id: string, region: string, userAgent: string): EventItem {
  const event = {
    eventVersion: '1.09',
    eventID: id,
    eventTime: '2026-01-09T10:00:00Z',
    eventSource: 'sts.amazonaws.com',
    eventName: 'GetCallerIdentity',
    awsRegion: region,
    sourceIPAddress: 'AWS Internal',
    userAgent,
    recipientAccountId: '123456789012',
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::123456789012:assumed-role/deployer/session-${id}`,
      sessionContext: { sessionIssuer: { type: 'Role', arn: ROLE } },
    },
  };
  return { ok: true, event, text: JSON.stringify(event) } as unknown as EventItem;
}

const text = (line: OutputLine) => line.text + (line.shared?.toString('utf8') ?? '') + (line.tail ?? '');

describe('baseline in the pipeline (classify → lookup → baseline → judge → encode)', () => {
  let dynamo: LocalDynamo;
  let validate: ReturnType<Ajv2020['compile']>;

  before(async () => {
    dynamo = await startDynalite([]);
    await dynamo.client.send(
      new CreateTableCommand({
        TableName: 'baseline',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    validate = new Ajv2020({ allErrors: true }).compile(JSON.parse(await readFile('schema/enrichment.schema.json', 'utf8')) as object);
  });
  after(async () => {
    await dynamo.close();
  });

  it('puts each event baseline in its line after the shared source prefix, lets rules read firstSeen, and matches the schema', async () => {
    let clock = T0;
    const stage = createBaselineStage({ ...parseBaselineConfig({}), tableName: 'baseline' }, { client: dynamo.client, now: () => clock });
    const rules = compileRules({
      version: 1,
      rules: [
        {
          id: 'baseline.new-region',
          description: 'A principal acts in a region it has never used.',
          priority: 'MEDIUM',
          score: 30,
          reason: '{eventName} in a new region',
          when: { field: 'enrichment.baseline.firstSeen[]', equals: 'region' },
        },
      ],
    });
    const deps = { config: parseCoreConfig({}), baseline: stage, rules };
    const cli = 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2023 prompt/off';
    await enrichEventGroups([{ events: [item('a', 'eu-west-1', cli)], arrival: T0 }], deps, Date.now() + 5_000, emptyEnrichCounters());
    clock = T0 + 8 * DAY;
    const counters = emptyEnrichCounters();
    const [lines] = await enrichEventGroups(
      [{ events: [item('b', 'eu-west-1', cli), item('c', 'ap-south-1', cli), item('d', 'ap-south-1', cli)], arrival: clock }],
      deps,
      Date.now() + 5_000,
      counters,
    );
    const out = lines!.map((l) => JSON.parse(text(l)) as { enrichment: Record<string, unknown> });
    expect(lines!.every((l) => l.shared !== undefined)).to.equal(true);
    expect(out.map((o) => o.enrichment['baseline'])).to.deep.equal([
      { principal: ROLE, firstSeen: [] },
      { principal: ROLE, firstSeen: ['region'] },
      { principal: ROLE, firstSeen: [] },
    ]);
    expect(out[1]!.enrichment['priority']).to.equal('MEDIUM');
    expect(out[0]!.enrichment['priority']).to.not.equal('MEDIUM');
    for (const o of out) expect(validate(o), JSON.stringify(validate.errors)).to.equal(true);
    expect(counters.baseline?.newFacts).to.equal(1);
  });

  it('leaves lines byte-identical to the stage being off for events without a principal (AWS services)', async () => {
    const service = item('svc', 'eu-west-1', 'lambda.amazonaws.com');
    (service as unknown as { event: Record<string, unknown> }).event['userIdentity'] = {
      type: 'AWSService',
      invokedBy: 'lambda.amazonaws.com',
    };
    const stage = createBaselineStage({ ...parseBaselineConfig({}), tableName: 'baseline' }, { client: dynamo.client });
    const run = async (on: boolean) =>
      (
        await enrichEventGroups(
          [{ events: [service], arrival: T0 }],
          { config: parseCoreConfig({}), ...(on ? { baseline: stage } : {}) },
          Date.now() + 5_000,
          emptyEnrichCounters(),
        )
      )[0]!.map(text);
    const [off, on] = [await run(false), await run(true)];
    expect(on).to.deep.equal(off);
    expect(off[0]).to.not.include('"baseline"');
  });
});
