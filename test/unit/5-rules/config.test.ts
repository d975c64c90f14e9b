import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors.ts';
import { defaultRulesFile, loadRuleEngine, parseRulesConfig, RULES_CONFIG_VARIABLES } from '../../../src/5-rules/index.ts';

describe('rules configuration', () => {
  describe('parseRulesConfig', () => {
    it('defaults to the bundled rules, the file timezone, its allowed countries and nothing disabled', () => {
      const config = parseRulesConfig({});
      expect(config.rulesFile).to.equal(defaultRulesFile({}));
      expect(config).to.not.have.property('timezone');
      expect(config).to.not.have.property('allowedCountries');
      expect(config.disabledRules).to.deep.equal([]);
    });

    it('reads every variable it documents', () => {
      const config = parseRulesConfig({
        RULES_FILE: 'custom/rules.yaml',
        RULES_TIMEZONE: 'Europe/Berlin',
        ALLOWED_COUNTRIES: ' us, ca ,DE',
        RULES_DISABLED: 'activity.off-hours,iam.activity',
      });
      expect(config.rulesFile).to.match(/custom\/rules\.yaml$/);
      expect(config.timezone).to.equal('Europe/Berlin');
      expect(config.allowedCountries).to.deep.equal(['US', 'CA', 'DE']);
      expect(config.disabledRules).to.deep.equal(['activity.off-hours', 'iam.activity']);
      expect(RULES_CONFIG_VARIABLES.map((v) => v.name)).to.deep.equal([
        'RULES_FILE',
        'RULES_TIMEZONE',
        'ALLOWED_COUNTRIES',
        'RULES_DISABLED',
        'SIGMA_RULES_DIR',
        'SIGMA_UNSUPPORTED',
      ]);
      for (const v of RULES_CONFIG_VARIABLES) expect(v.description).to.not.be.empty;
    });

    it('treats empty values as unset', () => {
      expect(parseRulesConfig({ RULES_FILE: ' ', RULES_TIMEZONE: '', ALLOWED_COUNTRIES: '', RULES_DISABLED: '' })).to.deep.equal(
        parseRulesConfig({}),
      );
    });

    it('throws a ConfigError naming the variable', () => {
      expect(() => parseRulesConfig({ RULES_TIMEZONE: 'Mars/Olympus' })).to.throw(
        ConfigError,
        /^RULES_TIMEZONE: "Mars\/Olympus" is not an IANA timezone/,
      );
      expect(() => parseRulesConfig({ ALLOWED_COUNTRIES: 'US,USA' })).to.throw(
        ConfigError,
        /^ALLOWED_COUNTRIES: "USA" is not an ISO 3166-1 alpha-2/,
      );
      expect(() => parseRulesConfig({ RULES_DISABLED: 'ok,Not An Id' })).to.throw(ConfigError, /^RULES_DISABLED: "Not An Id"/);
    });
  });

  describe('defaultRulesFile', () => {
    it('is under LAMBDA_TASK_ROOT in Lambda', () => {
      expect(defaultRulesFile({ LAMBDA_TASK_ROOT: '/var/task' })).to.equal(join('/var/task', 'rules', 'default.yaml'));
    });

    it('finds the repository copy otherwise', () => {
      const file = defaultRulesFile({});
      expect(file).to.match(/rules\/default\.yaml$/);
      expect(existsSync(file)).to.equal(true);
    });
  });

  describe('loadRuleEngine', () => {
    it('compiles the bundled rules', () => {
      const engine = loadRuleEngine(parseRulesConfig({}));
      expect(engine.info.ruleIds.length).to.be.greaterThanOrEqual(20);
      expect(engine.info.timezone).to.equal('UTC');
      expect(engine.info.watchlists.allowedCountries).to.equal(1);
    });

    it('applies RULES_TIMEZONE, ALLOWED_COUNTRIES and RULES_DISABLED', () => {
      const engine = loadRuleEngine(
        parseRulesConfig({ RULES_TIMEZONE: 'America/Chicago', ALLOWED_COUNTRIES: 'US,CA,MX', RULES_DISABLED: 'iam.activity' }),
      );
      expect(engine.info.timezone).to.equal('America/Chicago');
      expect(engine.info.watchlists.allowedCountries).to.equal(3);
      expect(engine.info.ruleIds).to.not.include('iam.activity');
      expect(engine.info.disabled).to.deep.equal(['iam.activity']);
    });

    it('fails the cold start with a ConfigError naming RULES_FILE when the file is unreadable', () => {
      expect(() => loadRuleEngine({ rulesFile: '/nonexistent/rules.yaml', disabledRules: [] })).to.throw(
        ConfigError,
        /^RULES_FILE: cannot read rules file \/nonexistent\/rules\.yaml/,
      );
    });

    it('logs a summary through the injected logger', () => {
      const lines: Array<[string, Record<string, unknown> | undefined]> = [];
      const log = { debug() {}, info: (m: string, e?: Record<string, unknown>) => lines.push([m, e]), warn() {}, error() {} };
      const config = parseRulesConfig({});
      loadRuleEngine(config, { log, readFile: (p) => readFileSync(p, 'utf8') });
      expect(lines).to.have.length(1);
      expect(lines[0]![0]).to.equal('rules compiled');
      expect(lines[0]![1]).to.include({ rulesFile: config.rulesFile, timezone: 'UTC' });
    });
  });
});
