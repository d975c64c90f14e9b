import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRulesCli } from '../../../../src/entry/cli/rules.ts';
import { FIXTURE_DIR, fixture } from '../../5-rules/helpers.ts';

function run(argv: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runRulesCli(argv, { env, stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe('rules CLI (runRulesCli)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rules-cli-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('validates the bundled rules', () => {
    const { code, out } = run(['validate']);
    expect(code).to.equal(0);
    expect(out).to.match(/default\.yaml: ok, \d+ rules enabled, timezone UTC, watchlists allowedCountries=1/);
  });

  it('prints one verdict line per event and checks expectations', () => {
    const { code, out, err } = run([
      'test',
      '--expect-priority',
      'CRITICAL',
      '--expect-rule',
      'logging.cloudtrail-tampering',
      join(FIXTURE_DIR, 'cloudtrail-stop-logging.json'),
    ]);
    expect(err).to.equal('');
    expect(code).to.equal(0);
    const verdict = JSON.parse(out) as { eventName: string; priority: string; score: number; reasons: Array<{ rule: string }> };
    expect(verdict).to.include({ eventName: 'StopLogging', priority: 'CRITICAL', score: 60 });
    expect(verdict.reasons.map((r) => r.rule)).to.deep.equal(['logging.cloudtrail-tampering']);
  });

  it('exits 1 and says why when an expectation fails', () => {
    const { code, err } = run([
      'test',
      '--expect-no-rule',
      'iam.activity',
      '--expect-score',
      '0',
      join(FIXTURE_DIR, 'iam-list-users.json'),
    ]);
    expect(code).to.equal(1);
    expect(err).to.match(/FAIL .*: score 5, expected 0; rule iam.activity matched/); // iam.activity: LOW context, score 5 (detection pack)
  });

  it("uses an event's own enrichment, or --enrichment, for location rules", () => {
    const event = {
      ...fixture('console-login-success-no-mfa'),
      enrichment: { version: 1, status: 'complete', source: { kind: 'public', ip: '81.2.69.160', geo: { countryCode: 'GB' } } },
    };
    const ndjson = join(dir, 'enriched.ndjson');
    writeFileSync(
      ndjson,
      `${JSON.stringify(event)}\n${JSON.stringify({ ...event, enrichment: { version: 1, status: 'complete', source: { kind: 'aws-internal' } } })}\n`,
    );
    const { code, out } = run(['test', ndjson]);
    expect(code).to.equal(0);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reasons: Array<{ rule: string }> });
    expect(lines[0]!.reasons.map((r) => r.rule)).to.include('location.outside-allowed-countries');
    expect(lines[1]!.reasons.map((r) => r.rule)).to.not.include('location.outside-allowed-countries');

    const enrichment = join(dir, 'enrichment.json');
    writeFileSync(enrichment, JSON.stringify({ source: { kind: 'public', ip: '81.2.69.160', geo: { countryCode: 'GB' } } }));
    const viaFlag = run([
      'test',
      '--enrichment',
      enrichment,
      '--allowed-countries',
      'US,GB',
      '--expect-no-rule',
      'location.outside-allowed-countries',
      join(FIXTURE_DIR, 'console-login-success-no-mfa.json'),
    ]);
    expect(viaFlag.code).to.equal(0);
  });

  it('reads CloudTrail log files ({"Records": [...]}) and EventBridge envelopes', () => {
    const file = join(dir, 'log.json');
    writeFileSync(
      file,
      JSON.stringify({
        Records: [
          fixture('ec2-describe-instances'),
          { 'detail-type': 'AWS API Call via CloudTrail', detail: fixture('cloudtrail-delete-trail') },
        ],
      }),
    );
    const { code, out } = run(['test', file]);
    expect(code).to.equal(0);
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { priority: string }).priority),
    ).to.deep.equal(['LOW', 'CRITICAL']);
  });

  it('tests a custom rules file from RULES_FILE or --rules', () => {
    const rules = join(dir, 'custom.yaml');
    writeFileSync(
      rules,
      'version: 1\nrules:\n  - id: prod.delete\n    description: deletes in prod\n    priority: HIGH\n    score: 30\n    reason: "{eventName} in {recipientAccountId}"\n    when:\n      field: eventName\n      prefix: Delete\n',
    );
    const a = run(['test', '--expect-rule', 'prod.delete', join(FIXTURE_DIR, 'cloudtrail-delete-trail.json')], { RULES_FILE: rules });
    expect(a.code).to.equal(0);
    expect(a.out).to.include('"detail":"DeleteTrail in 123456789012"');
    const b = run(['test', '--rules', rules, '--expect-rule', 'prod.delete', join(FIXTURE_DIR, 'ec2-describe-instances.json')]);
    expect(b.code).to.equal(1);
  });

  it('exits 2 with the rule and field on an invalid rules file', () => {
    const rules = join(dir, 'broken.yaml');
    writeFileSync(
      rules,
      'version: 1\nrules:\n  - id: broken\n    description: x\n    priority: SEVERE\n    score: 1\n    reason: r\n    when: { field: eventName, exists: true }\n',
    );
    const { code, err } = run(['validate', '--rules', rules]);
    expect(code).to.equal(2);
    expect(err).to.match(/RulesValidationError: .*broken\.yaml: rule "broken" \(rules\[0\]\) field "priority" must be one of/);
  });

  it('lists every problem of a rules file in one validate run', () => {
    const rules = join(dir, 'four-problems.yaml');
    writeFileSync(
      rules,
      [
        'version: 1',
        'watchlists:',
        '  trustedCidrs: { type: cidrs, entries: ["10.0.0/8"] }',
        'rules:',
        '  - { id: bad-priority, description: x, priority: SEVERE, score: 1, reason: r, when: { field: eventName, exists: true } }',
        '  - { id: bad-regex, description: x, priority: LOW, score: 1, reason: r, when: { field: eventName, regex: "(" } }',
        '  - { id: fine, description: x, priority: LOW, score: 1, reason: r, when: { field: sourceIPAddress, inWatchlist: trustedCidrs } }',
        '  - { id: fine, description: x, priority: LOW, score: 1, reason: r, when: { field: eventName, exists: true } }',
        '  - { id: bad-template, description: x, priority: LOW, score: 1, reason: "{unclosed", when: { field: eventName, exists: true } }',
        '',
      ].join('\n'),
    );
    const { code, out, err } = run(['validate', '--rules', rules]);
    expect(code).to.equal(2);
    expect(out).to.equal('');
    const lines = err.trim().split('\n');
    expect(lines.at(-1)).to.equal(`rules: 5 problems in ${rules}`);
    const text = lines.slice(0, -1).join('\n');
    expect(text).to.match(/watchlist "trustedCidrs" field "entries\[0\]" .*10\.0\.0\/8/);
    expect(text).to.match(/rule "bad-priority" \(rules\[0\]\) field "priority" must be one of/);
    expect(text).to.match(/rule "bad-regex" \(rules\[1\]\) field "when.regex" is not a valid regular expression/);
    expect(text).to.match(/rule "fine" \(rules\[3\]\) field "id" duplicates the id of rules\[2\]/);
    expect(text).to.match(/rule "bad-template" \(rules\[4\]\) field "reason"/);
    expect(lines.slice(0, -1).every((l) => l.startsWith('rules: RulesValidationError: '))).to.equal(true);
  });

  it('reports a file with one problem on one line, as before', () => {
    const rules = join(dir, 'one-problem.yaml');
    writeFileSync(
      rules,
      'version: 1\nrules:\n  - { id: only, description: x, priority: LOW, score: 1, reason: r, when: { field: eventName, regex: "(" } }\n',
    );
    const { code, err } = run(['validate', '--rules', rules]);
    expect(code).to.equal(2);
    expect(err.trim().split('\n')).to.have.length(1);
    expect(err).to.match(/rule "only" \(rules\[0\]\) field "when.regex"/);
  });

  it('walks a directory of event files for rules test, in name order, following symbolic links', () => {
    const events = join(dir, 'events');
    mkdirSync(join(events, 'nested'), { recursive: true });
    writeFileSync(join(events, 'a-stop.json'), readFileSync(join(FIXTURE_DIR, 'cloudtrail-stop-logging.json')));
    writeFileSync(
      join(events, 'nested', 'b-delete.ndjson'),
      JSON.stringify(JSON.parse(readFileSync(join(FIXTURE_DIR, 'cloudtrail-delete-trail.json'), 'utf8'))) + '\n',
    );
    symlinkSync(join(FIXTURE_DIR, 'cloudtrail-update-trail.json'), join(events, 'c-update.json'));
    writeFileSync(join(events, 'notes.txt'), 'not events');
    const { code, out, err } = run(['test', '--expect-rule', 'logging.cloudtrail-tampering', events]);
    expect(err).to.equal('');
    expect(code).to.equal(0);
    const names = out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { eventName: string }).eventName);
    expect(names).to.deep.equal(['StopLogging', 'UpdateTrail', 'DeleteTrail']); // a-stop.json, c-update.json, nested/b-delete.ndjson
  });

  it('exits 2 with usage on bad arguments', () => {
    expect(run([]).code).to.equal(2);
    expect(run(['frobnicate']).err).to.match(/unknown command "frobnicate"/);
    expect(run(['test', '--fixtures']).err).to.match(/--fixtures needs a value/);
    expect(run(['test', '--expect-priority', 'URGENT', 'x.json']).code).to.equal(2);
    expect(run(['test', join(dir, 'missing.json')]).code).to.equal(2);
  });
});
