import { expect } from 'chai';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { RulesValidationError } from '../../../src/errors.ts';
import { runRulesCli } from '../../../src/entry/cli/rules.ts';
import {
  buildRulesSidecar,
  loadRuleEngine,
  parseRulesFile,
  parseRulesText,
  rulesSidecarPath,
  writeRulesSidecar,
} from '../../../src/5-rules/load.ts';
import type { Log } from '../../../src/model.ts';
import { doc, rule } from './helpers.ts';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** A YAML rules file with one rule of the given id. */
function yamlWithRule(id: string): string {
  return stringify(doc([rule({ field: 'eventName', equals: 'DeleteTrail' }, { id })]));
}

/** An in-memory file system that records every read. */
function memoryFs(files: Record<string, string>): { readFile: (path: string) => string; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readFile: (path) => {
      reads.push(path);
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
  };
}

function recordingLog(): Log & { lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(extra ? { extra } : {}) });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const RULES = '/rules/custom.yaml';
const SIDECAR = '/rules/custom.yaml.json';

describe('compiled rules sidecar (X.yaml.json)', () => {
  describe('loadRuleEngine', () => {
    it('uses the sidecar document when its sourceSha256 matches the YAML just read', () => {
      // The sidecar's document differs from the YAML's (rule id), so the engine shows which one was used.
      const yaml = yamlWithRule('from.yaml');
      const sidecar = {
        format: 1,
        sourceSha256: sha256(yaml),
        document: doc([rule({ field: 'eventName', equals: 'DeleteTrail' }, { id: 'from.sidecar' })]),
      };
      const fs = memoryFs({ [RULES]: yaml, [SIDECAR]: JSON.stringify(sidecar) });
      const log = recordingLog();
      const engine = loadRuleEngine({ rulesFile: RULES, disabledRules: [] }, { readFile: fs.readFile, log });
      expect(engine.info.ruleIds).to.deep.equal(['from.sidecar']);
      expect(fs.reads).to.deep.equal([RULES, SIDECAR]);
      expect(log.lines.find((l) => l.message === 'rules compiled')?.extra).to.include({ parsedFrom: 'sidecar' });
      expect(log.lines.filter((l) => l.level === 'debug')).to.be.empty;
    });

    it('parses the YAML when the sidecar is stale (the YAML was edited by hand), logging why at debug level', () => {
      const edited = yamlWithRule('edited.by-hand');
      const stale = {
        format: 1,
        sourceSha256: sha256(yamlWithRule('original')),
        document: doc([rule({ field: 'eventName', equals: 'X' }, { id: 'original' })]),
      };
      const fs = memoryFs({ [RULES]: edited, [SIDECAR]: JSON.stringify(stale) });
      const log = recordingLog();
      const engine = loadRuleEngine({ rulesFile: RULES, disabledRules: [] }, { readFile: fs.readFile, log });
      expect(engine.info.ruleIds).to.deep.equal(['edited.by-hand']);
      const debug = log.lines.filter((l) => l.level === 'debug');
      expect(debug).to.have.length(1);
      expect(debug[0]!.extra).to.include({ rulesFile: RULES, sidecarFile: SIDECAR });
      expect(String(debug[0]!.extra!.reason)).to.match(/^stale/);
      expect(log.lines.find((l) => l.message === 'rules compiled')?.extra).to.include({ parsedFrom: 'text' });
    });

    it('parses the YAML when there is no sidecar, logging "absent" at debug level', () => {
      const fs = memoryFs({ [RULES]: yamlWithRule('only.yaml') });
      const log = recordingLog();
      expect(loadRuleEngine({ rulesFile: RULES, disabledRules: [] }, { readFile: fs.readFile, log }).info.ruleIds).to.deep.equal([
        'only.yaml',
      ]);
      expect(log.lines.filter((l) => l.level === 'debug').map((l) => l.extra?.reason)).to.deep.equal(['absent']);
    });

    it('ignores a malformed sidecar or one of another format version', () => {
      const yaml = yamlWithRule('from.yaml');
      const good = {
        format: 1,
        sourceSha256: sha256(yaml),
        document: doc([rule({ field: 'eventName', equals: 'X' }, { id: 'from.sidecar' })]),
      };
      const cases: Array<[string, RegExp]> = [
        ['{"format": 1, "sourceSha256": ', /not valid JSON/],
        ['[]', /not a JSON object/],
        [JSON.stringify({ ...good, format: 2 }), /format 2 is not 1/],
        [JSON.stringify({ format: 1, sourceSha256: good.sourceSha256 }), /no document/],
      ];
      for (const [text, reason] of cases) {
        const log = recordingLog();
        const fs = memoryFs({ [RULES]: yaml, [SIDECAR]: text });
        expect(loadRuleEngine({ rulesFile: RULES, disabledRules: [] }, { readFile: fs.readFile, log }).info.ruleIds, text).to.deep.equal([
          'from.yaml',
        ]);
        expect(String(log.lines.find((l) => l.level === 'debug')?.extra?.reason), text).to.match(reason);
      }
    });

    it('still validates a matching sidecar document in full', () => {
      const yaml = yamlWithRule('fine');
      const broken = {
        format: 1,
        sourceSha256: sha256(yaml),
        document: doc([rule({ field: 'eventName', equals: 'X' }, { id: 'broken', priority: 'SEVERE' })]),
      };
      const fs = memoryFs({ [RULES]: yaml, [SIDECAR]: JSON.stringify(broken) });
      expect(() => loadRuleEngine({ rulesFile: RULES, disabledRules: [] }, { readFile: fs.readFile })).to.throw(
        RulesValidationError,
        /custom\.yaml: rule "broken" \(rules\[0\]\) field "priority" must be one of/,
      );
    });

    it('looks for no sidecar next to a JSON rules file', () => {
      const file = '/rules/custom.json';
      const fs = memoryFs({ [file]: JSON.stringify(doc([rule({ field: 'eventName', equals: 'X' }, { id: 'json.rule' })])) });
      expect(loadRuleEngine({ rulesFile: file, disabledRules: [] }, { readFile: fs.readFile }).info.ruleIds).to.deep.equal(['json.rule']);
      expect(fs.reads).to.deep.equal([file]);
      expect(rulesSidecarPath(file)).to.equal(undefined);
      expect(rulesSidecarPath('/a/b.YML')).to.equal('/a/b.YML.json');
    });

    it('applies the rules file size bound even when a sidecar matches', () => {
      const huge = `${yamlWithRule('x')}#${' '.repeat(5 * 1024 * 1024)}\n`;
      const fs = memoryFs({ [RULES]: huge, [SIDECAR]: JSON.stringify({ format: 1, sourceSha256: sha256(huge), document: doc([]) }) });
      expect(() => parseRulesFile(RULES, huge, { readFile: fs.readFile })).to.throw(RulesValidationError, /larger than/);
    });
  });

  describe('buildRulesSidecar', () => {
    it('holds the YAML document and the SHA-256 of its text', () => {
      const yaml = yamlWithRule('a.rule');
      const sidecar = JSON.parse(buildRulesSidecar(yaml, RULES)) as Record<string, unknown>;
      expect(sidecar).to.deep.equal({ format: 1, sourceSha256: sha256(yaml), document: parseRulesText(yaml, RULES) });
    });

    it('means what the YAML means, for any JSON-representable document (-0 becomes 0)', () => {
      const withoutNegativeZero = (v: unknown): unknown =>
        Object.is(v, -0)
          ? 0
          : Array.isArray(v)
            ? v.map(withoutNegativeZero)
            : v !== null && typeof v === 'object'
              ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutNegativeZero(x)]))
              : v;
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          const yaml = stringify({ value });
          const { document } = JSON.parse(buildRulesSidecar(yaml, 'p.yaml')) as { document: unknown };
          expect(document).to.deep.equal(withoutNegativeZero(parseRulesText(yaml, 'p.yaml')));
        }),
        { numRuns: 100 },
      );
    });

    it('refuses a document JSON cannot represent, naming the field, and reports YAML errors like the parser', () => {
      expect(() => buildRulesSidecar('version: 1\nrules:\n  - id: x\n    when: { field: n, gt: .inf }\n', 'inf.yaml')).to.throw(
        RulesValidationError,
        /^inf\.yaml: field "rules\[0\]\.when\.gt" holds a value JSON cannot represent/,
      );
      expect(() => buildRulesSidecar('.nan\n', 'nan.yaml')).to.throw(RulesValidationError, /nan\.yaml: field "document"/);
      expect(() => buildRulesSidecar('version: 1\nversion: 2\n', 'dup.yaml')).to.throw(RulesValidationError, /dup\.yaml: not valid YAML/);
    });
  });

  describe('rules compile (CLI) and writeRulesSidecar', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'rules-sidecar-'));
    });
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    function cli(argv: string[]): { code: number; out: string; err: string } {
      let out = '';
      let err = '';
      const code = runRulesCli(argv, { env: {}, stdout: (t) => (out += t), stderr: (t) => (err += t) });
      return { code, out, err };
    }

    it('writes FILE.yaml.json, which the next cold start then uses', () => {
      const file = join(dir, 'mine.yaml');
      writeFileSync(file, yamlWithRule('mine.rule'));
      const { code, out, err } = cli(['compile', file]);
      expect(err).to.equal('');
      expect(code).to.equal(0);
      expect(out).to.equal(`${file}.json: written, 1 rules, sourceSha256 ${sha256(readFileSync(file, 'utf8'))}\n`);
      expect(readFileSync(`${file}.json`, 'utf8')).to.equal(buildRulesSidecar(readFileSync(file, 'utf8'), file));
      const log = recordingLog();
      loadRuleEngine({ rulesFile: file, disabledRules: [] }, { log });
      expect(log.lines.find((l) => l.message === 'rules compiled')?.extra).to.include({ parsedFrom: 'sidecar' });
    });

    it('writes no sidecar for an invalid rules file, and exits 2 naming the rule and field', () => {
      const file = join(dir, 'broken.yaml');
      writeFileSync(file, stringify(doc([rule({ field: 'eventName', regex: '(unclosed' }, { id: 'bad.regex' })])));
      const { code, err } = cli(['compile', file]);
      expect(code).to.equal(2);
      expect(err).to.match(
        /RulesValidationError: .*broken\.yaml: rule "bad\.regex" \(rules\[0\]\) field "when\.regex" is not a valid regular expression/,
      );
      expect(existsSync(`${file}.json`)).to.equal(false);
    });

    it('refuses a JSON rules file and a missing argument', () => {
      const json = join(dir, 'rules.json');
      writeFileSync(json, JSON.stringify(doc([])));
      expect(cli(['compile', json]))
        .to.include({ code: 2 })
        .and.have.property('err')
        .that.matches(/only a \.yaml\/\.yml rules file gets a sidecar/);
      const missing = cli(['compile']);
      expect(missing.code).to.equal(2);
      expect(missing.err).to.match(/compile needs at least one RULES_FILE\.yaml/);
    });

    it('writes through the injected writeFile', () => {
      const written: Array<[string, string]> = [];
      const yaml = yamlWithRule('injected');
      const result = writeRulesSidecar('/x/in-memory.yml', {
        readFile: memoryFs({ '/x/in-memory.yml': yaml }).readFile,
        writeFile: (p, t) => written.push([p, t]),
      });
      expect(result).to.deep.equal({ sidecarFile: '/x/in-memory.yml.json', sourceSha256: sha256(yaml), rules: 1 });
      expect(written).to.deep.equal([['/x/in-memory.yml.json', buildRulesSidecar(yaml, '/x/in-memory.yml')]]);
    });
  });
});
