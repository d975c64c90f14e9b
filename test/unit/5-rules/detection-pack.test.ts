import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventsFromText } from '../../../src/entry/cli/rules.ts';
import { runDetectionFixtures } from '../../../src/5-rules/detection-fixtures.ts';
import { defaultRulesFile, loadRuleEngine, parseRulesConfig, parseRulesText, type RuleDoc } from '../../../src/5-rules/index.ts';
import type { CloudTrailEvent, Enrichment } from '../../../src/model.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'detections');
const config = parseRulesConfig({});
const engine = loadRuleEngine(config);
const rules = (parseRulesText(readFileSync(defaultRulesFile({}), 'utf8'), 'default.yaml') as { rules: RuleDoc[] }).rules;
const pack = rules.filter((r) => r.tags?.includes('detection-pack'));

/** Context rules that only add or remove score and map to no technique. */
const CONTEXT_RULES = ['watchlist.trusted-network', 'iam.activity', 'activity.off-hours'];

describe('detection pack (rules/default.yaml, test/fixtures/detections)', () => {
  const report = runDetectionFixtures(
    FIXTURES,
    (watchlists) => (watchlists ? loadRuleEngine(config, { watchlistEntries: watchlists }) : engine),
    engine.info.ruleIds,
    (text, source) => eventsFromText(text, source),
  );

  it('has at least 40 rules of its own, on by default', () => {
    expect(pack.length).to.be.greaterThanOrEqual(37);
    expect(engine.info.ruleIds.length).to.be.greaterThanOrEqual(40);
    for (const r of pack) expect(engine.info.ruleIds, r.id).to.include(r.id);
  });

  it('gives every rule a match and a no-match fixture', () => {
    expect(report.uncovered).to.deep.equal([]);
  });

  for (const outcome of report.outcomes) {
    it(`${outcome.rule}: ${outcome.expect} ${outcome.file.slice(FIXTURES.length + 1)}`, () => {
      expect(outcome.problem ?? 'ok').to.equal('ok');
    });
  }

  it('maps every rule but the context rules to ATT&CK tactics and techniques', () => {
    for (const r of rules) {
      if (CONTEXT_RULES.includes(r.id)) continue;
      expect(r.attack, r.id).to.exist;
      expect(r.attack!.tactics, r.id).to.not.be.empty;
      expect(r.attack!.techniques, r.id).to.not.be.empty;
    }
  });

  it('copies the mapping onto every reason of a mapped rule', () => {
    for (const o of report.outcomes.filter((x) => x.expect === 'match')) {
      const reason = o.verdict!.risk.reasons.find((r) => r.rule === o.rule)!;
      const rule = rules.find((r) => r.id === o.rule)!;
      if (rule.attack) expect(reason.attack, o.rule).to.deep.equal(rule.attack);
      else expect(reason, o.rule).to.not.have.property('attack');
    }
  });

  it('names the actor and the source in each pack reason', () => {
    for (const o of report.outcomes.filter((x) => x.expect === 'match' && pack.some((r) => r.id === x.rule))) {
      const event = eventsFromText(readFileSync(o.file, 'utf8'), o.file)[0]!;
      const reason = o.verdict!.risk.reasons.find((r) => r.rule === o.rule)!;
      const who = (event.userIdentity ?? {}) as { arn?: unknown; accessKeyId?: unknown };
      const actor = [who.arn, who.accessKeyId, event.recipientAccountId].filter((v): v is string => typeof v === 'string' && v !== '');
      expect(
        actor.some((a) => reason.detail.includes(a)),
        `${o.rule}: ${reason.detail}`,
      ).to.equal(true);
      expect(reason.detail, o.rule).to.include(String(event.sourceIPAddress));
    }
  });

  it('lists every rule in docs/detections.md with its priority and ATT&CK mapping', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'detections.md'), 'utf8');
    for (const r of rules) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${r.id}\` |`));
      expect(row, r.id).to.be.a('string');
      expect(row, r.id).to.include(`${r.priority} (${r.score})`);
      for (const t of r.attack?.techniques ?? []) expect(row, r.id).to.include(t);
    }
  });

  it('judges under 1 % of the benign corpus HIGH or above', () => {
    const lines = readFileSync(join(ROOT, 'test', 'fixtures', 'benign', 'corpus.ndjson'), 'utf8')
      .trim()
      .split('\n');
    expect(lines.length).to.be.greaterThanOrEqual(1000);
    let high = 0;
    for (const line of lines) {
      const event = JSON.parse(line) as CloudTrailEvent & { enrichment: Enrichment };
      const { priority } = engine.evaluate(event, event.enrichment);
      if (priority === 'HIGH' || priority === 'CRITICAL') high++;
    }
    expect(high / lines.length).to.be.lessThan(0.01);
  });
});
