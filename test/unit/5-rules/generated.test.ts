import { Ajv } from 'ajv';
import { expect } from 'chai';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  DEFAULT_RULES_FILE,
  REPO_ROOT,
  RULES_SCHEMA_AJV_OPTIONS,
  SCHEMA_FILE,
  VALIDATOR_FILE,
  generateValidatorModule,
} from '../../../scripts/build-rules.ts';
import { validate as generatedValidate } from '../../../src/5-rules/generated/validate-rules-schema.js';
import { buildRulesSidecar, parseRulesText, rulesSidecarPath, type RulesSidecar } from '../../../src/5-rules/load.ts';

/** Fails with the first differing line and the fix, instead of a diff of two 70 KB strings. */
function expectSameAsGenerated(committedFile: string, generated: string, source: string): void {
  let committed: string;
  try {
    committed = readFileSync(committedFile, 'utf8');
  } catch {
    expect.fail(`${relative(REPO_ROOT, committedFile)} is missing: run \`npm run build:rules\` and commit it`);
  }
  if (committed === generated) return;
  const a = committed.split('\n');
  const b = generated.split('\n');
  let line = 0;
  while (line < Math.max(a.length, b.length) && a[line] === b[line]) line++;
  expect.fail(
    `${relative(REPO_ROOT, committedFile)} is out of date with ${source} (first difference at line ${line + 1}): ` +
      'run `npm run build:rules` and commit the result',
  );
}

describe('build:rules outputs (committed, generated)', () => {
  it('the committed schema validator is exactly what rules/rules.schema.json generates', () => {
    expectSameAsGenerated(VALIDATOR_FILE, generateValidatorModule(), 'rules/rules.schema.json');
  });

  it('the committed rules/default.yaml.json sidecar is exactly what rules/default.yaml compiles to', () => {
    const sidecarFile = rulesSidecarPath(DEFAULT_RULES_FILE)!;
    expect(sidecarFile).to.equal(join(REPO_ROOT, 'rules', 'default.yaml.json'));
    expectSameAsGenerated(
      sidecarFile,
      buildRulesSidecar(readFileSync(DEFAULT_RULES_FILE, 'utf8'), DEFAULT_RULES_FILE),
      'rules/default.yaml',
    );
  });

  it('records the SHA-256 of the YAML file bytes (what `sha256sum rules/default.yaml` prints)', () => {
    const sidecar = JSON.parse(readFileSync(rulesSidecarPath(DEFAULT_RULES_FILE)!, 'utf8')) as RulesSidecar;
    expect(sidecar.format).to.equal(1);
    expect(sidecar.sourceSha256, 'run `npm run build:rules`').to.equal(
      createHash('sha256').update(readFileSync(DEFAULT_RULES_FILE)).digest('hex'),
    );
  });

  it('the generated validator is a self-contained ES module (no require, no ajv at runtime)', () => {
    const code = readFileSync(VALIDATOR_FILE, 'utf8');
    expect(code).to.not.match(/\brequire\(/);
    expect(code).to.not.match(/^\s*import\b/m);
    expect(code).to.match(/^export const validate = /m);
  });

  it('the generated validator judges like ajv compiling the schema at runtime, errors included', function () {
    this.timeout(20_000); // ajv compiles the schema once (~200 ms) and 200 whole-document mutations are judged twice
    // The reference is what the Lambda ran before: ajv compiling rules.schema.json with the same options.
    const reference = new Ajv({ ...RULES_SCHEMA_AJV_OPTIONS }).compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
    const base = parseRulesText(readFileSync(DEFAULT_RULES_FILE, 'utf8'), DEFAULT_RULES_FILE);
    // Every place in the default document, to replace or delete: exercises each branch of the schema.
    const paths: Array<Array<string | number>> = [];
    const walk = (value: unknown, path: Array<string | number>): void => {
      paths.push(path);
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...path, i]));
      else if (value !== null && typeof value === 'object') for (const [k, item] of Object.entries(value)) walk(item, [...path, k]);
    };
    walk(base, []);
    const mutated = (path: Array<string | number>, replacement: unknown, remove: boolean): unknown => {
      const copy = structuredClone(base) as Record<string | number, unknown>;
      if (path.length === 0) return replacement;
      let parent = copy;
      for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
      const last = path[path.length - 1]!;
      if (remove && !Array.isArray(parent)) delete parent[last];
      else parent[last] = replacement;
      return copy;
    };
    const judge = (fn: typeof generatedValidate, d: unknown): unknown => ({ valid: fn(d), errors: fn.errors ?? null });
    expect(judge(generatedValidate, base)).to.deep.equal({ valid: true, errors: null });
    const replacement = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('', 'X', 'Mon', '25:00', '10.0.0.0/8', 'LOW', 'URGENT', 'a'.repeat(600), -101, 2.5, 100, [], {}, ['x'], {
        field: 'eventName',
      }),
    );
    let invalid = 0;
    fc.assert(
      fc.property(fc.constantFrom(...paths), replacement, fc.boolean(), (path, value, remove) => {
        const d = mutated(path, value, remove);
        const expected = judge(reference as typeof generatedValidate, d) as { valid: boolean };
        if (!expected.valid) invalid++;
        expect(judge(generatedValidate, d), JSON.stringify({ path, value, remove })).to.deep.equal(expected);
      }),
      { numRuns: 200 },
    );
    expect(invalid, 'mutations that the schema rejects').to.be.greaterThan(100);
  });

  it('no runtime module of the rules stage imports ajv', () => {
    const dir = join(REPO_ROOT, 'src', '5-rules');
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(sources).to.include('validate.ts');
    for (const file of sources) {
      expect(readFileSync(join(dir, file), 'utf8'), file).to.not.match(/from\s+'ajv(\/[^']*)?'/);
    }
  });
});
