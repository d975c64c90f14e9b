import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudTrailEvent, Enrichment } from '../../../src/model.ts';
import { compileRules, type ConditionDoc, type RuleDoc } from '../../../src/5-rules/index.ts';
import { MODIFIER_NAMES, OPERATOR_NAMES, OPERATORS, OPERATORS_WITH, type OperatorName } from '../../../src/5-rules/operators.ts';
import { SIGMA_MODIFIERS, translateSigma } from '../../../src/5-rules/sigma/translate.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCHEMA_FILE = join(ROOT, 'rules', 'rules.schema.json');

/** The names in the first column of docs/rules.md's operator table (section "Operators"). */
function documentedOperators(): string[] {
  const text = readFileSync(join(ROOT, 'docs', 'rules.md'), 'utf8');
  const section = text.slice(text.indexOf('### Operators'));
  const table = section.slice(section.indexOf('| operator |'), section.indexOf('\n\n', section.indexOf('| operator |')));
  return table
    .split('\n')
    .slice(2)
    .flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!));
}

/** The keys the rules JSON Schema allows in a field condition. */
function schemaFieldConditionKeys(): string[] {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as {
    definitions: { fieldCondition: { properties: Record<string, unknown> } };
  };
  return Object.keys(schema.definitions.fieldCondition.properties);
}

/** Every field-condition key a condition tree uses (below all/any/not/some). */
function fieldConditionKeys(cond: ConditionDoc, out = new Set<string>()): Set<string> {
  for (const c of [...(cond.all ?? []), ...(cond.any ?? []), ...(cond.not ? [cond.not] : []), ...(cond.some ? [cond.some] : [])])
    fieldConditionKeys(c, out);
  if (cond.field !== undefined && cond.inWindow === undefined) for (const key of Object.keys(cond)) if (key !== 'field') out.add(key);
  return out;
}

const rule = (id: string, when: ConditionDoc): RuleDoc => ({ id, description: id, priority: 'LOW', score: 1, reason: id, when });

describe('rule operators: one table', () => {
  it('are exactly the operators the rules JSON Schema allows in a field condition', () => {
    const modifiers = new Set<string>(MODIFIER_NAMES);
    const operators = schemaFieldConditionKeys().filter((key) => key !== 'field' && !modifiers.has(key));
    expect([...operators].sort()).to.deep.equal([...OPERATOR_NAMES].sort());
  });

  it('are each documented once in docs/rules.md, with the modifiers', () => {
    const documented = documentedOperators();
    expect([...documented].sort()).to.deep.equal([...OPERATOR_NAMES, ...MODIFIER_NAMES].sort());
  });

  it('has every modifier of the schema, each honoured by at least one operator', () => {
    const keys = new Set(schemaFieldConditionKeys());
    for (const m of MODIFIER_NAMES) {
      expect(keys.has(m), m).to.equal(true);
      expect(OPERATORS_WITH[m], m).to.not.be.empty;
    }
  });

  it('names only table operators and modifiers in the Sigma translation, for every supported Sigma modifier', () => {
    // A sample value per Sigma modifier; i, m and s go with re.
    const samples: Record<string, unknown> = {
      contains: 'a*b',
      startswith: 'a?b',
      endswith: 'ab',
      gt: 5,
      gte: 5,
      lt: 5,
      lte: 5,
      all: ['a', 'b'],
      re: '^a',
      cidr: '10.0.0.0/8',
      exists: true,
      fieldref: 'userIdentity.arn',
      expand: '%allowedCountries%',
      cased: 'Abc',
    };
    const selections: Record<string, unknown>[] = [
      ...SIGMA_MODIFIERS.map((m) =>
        m === 'i' || m === 'm' || m === 's' ? { [`userAgent|re|${m}`]: '^a' } : { [`userAgent|${m}`]: samples[m] },
      ),
      ...['a?b*', 'plain', 5, true, null].map((v) => ({ userAgent: v })),
    ];
    const used = new Set<string>();
    for (const selection of selections) {
      const name = JSON.stringify(selection);
      const translated = translateSigma(
        { title: name, logsource: { product: 'aws', service: 'cloudtrail' }, detection: { selection, condition: 'selection' } },
        'rule.yml',
      );
      expect(translated.kind, name).to.equal('rule');
      if (translated.kind !== 'rule') continue;
      for (const key of fieldConditionKeys(translated.rule.when)) used.add(key);
      expect(() => compileRules({ version: 1, rules: [translated.rule] }), name).to.not.throw();
    }
    const known = new Set<string>([...OPERATOR_NAMES, ...MODIFIER_NAMES]);
    expect([...used].filter((key) => !known.has(key))).to.deep.equal([]);
    expect([...used]).to.include.members(['equals', 'in', 'wildcard', 'regex', 'regexFlags', 'ignoreCase', 'exists', 'equalsField']);
  });

  it('lists the operators that honour ignoreCase and regexFlags in the errors', () => {
    const ignoreCase = OPERATORS_WITH.ignoreCase.join(', ');
    expect(ignoreCase).to.equal('equals, in, prefix, suffix, contains, regex, inWatchlist, equalsField, wildcard');
    expect(OPERATORS_WITH.regexFlags).to.deep.equal(['regex']);
    expect(() => compileRules({ version: 1, rules: [rule('r', { field: 'a', gt: 1, ignoreCase: true })] })).to.throw(
      /only applies to equals, in, prefix, suffix, contains, regex, inWatchlist, equalsField and wildcard/,
    );
  });

  describe('generated code agrees with the interpreter for every operator', () => {
    // One or more operands per operator: a new table entry needs its samples here (the type requires it).
    const operands: Record<OperatorName, unknown[]> = {
      equals: ['ab', 'AB', 5, true, null],
      in: [
        ['ab', 'Cd'],
        ['ab', 5, null],
      ],
      prefix: ['a', ['A', 'x']],
      suffix: ['b', ['B', 'y']],
      contains: ['b', ['B', '1']],
      regex: ['^a.b$', 'B'],
      exists: [true, false],
      gt: [3],
      gte: [3],
      lt: [3],
      lte: [3],
      cidr: ['10.0.0.0/8', ['10.0.0.0/8', '2001:db8::/32']],
      inWatchlist: ['names', 'foldedNames', 'nets'],
      equalsField: ['w'],
      some: [{ field: 'x', equals: 'ab' }],
      wildcard: ['a*b', ['?B*', '*\\*']],
      otherAccountThan: ['recipientAccountId'],
    };
    const rules: RuleDoc[] = [];
    for (const op of OPERATOR_NAMES) {
      for (const [i, operand] of operands[op].entries()) {
        const field = op === 'some' ? 'v[]' : 'v';
        const variants: ConditionDoc[] = [{ field, [op]: operand }];
        if (OPERATORS[op].modifiers.includes('ignoreCase')) variants.push({ field, [op]: operand, ignoreCase: true });
        if (OPERATORS[op].modifiers.includes('regexFlags'))
          variants.push({ field, [op]: operand, regexFlags: 'ms' }, { field, [op]: operand, regexFlags: 'i', ignoreCase: true });
        for (const [j, when] of variants.entries()) rules.push(rule(`${op.toLowerCase()}.${i}.${j}`, when));
        rules.push(rule(`${op.toLowerCase()}.${i}.arrays`, { field: 'v[]', [op]: operand }));
      }
    }
    rules.push(rule('combined', { field: 'v', prefix: 'a', suffix: 'b', ignoreCase: true }));
    rules.push(rule('combined.cased', { field: 'v', gte: 1, lt: 9 }));
    const doc = {
      version: 1,
      watchlists: {
        names: { type: 'values', entries: ['ab', 'Cd'] },
        foldedNames: { type: 'values', ignoreCase: true, entries: ['ab', 'Cd'] },
        nets: { type: 'cidrs', entries: ['10.0.0.0/8'] },
      },
      rules,
    };
    const generated = compileRules(doc, { index: false });
    const reference = compileRules(doc, { index: false, codegen: false });

    const scalar = fc.oneof(
      fc.constantFrom(
        'ab',
        'AB',
        'a\nb',
        'aXb',
        'Cd',
        'cd',
        'x*',
        '10.1.2.3',
        '2001:db8::1',
        '111122223333',
        'arn:aws:iam::444455556666:root',
      ),
      fc.string({ maxLength: 6 }),
      fc.integer({ min: -2, max: 10 }),
      fc.constantFrom(null, true, false, undefined),
    );
    const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.array(fc.record({ x: scalar }), { maxLength: 3 }));
    const enrichment: Enrichment = { version: 1, status: 'complete' };

    it('gives the same verdict on arbitrary values', () => {
      const matched = new Set<string>();
      fc.assert(
        fc.property(value, scalar, fc.constantFrom('111122223333', '', undefined), (v, w, account) => {
          const event = { v, w, recipientAccountId: account } as CloudTrailEvent;
          const verdict = generated.evaluate(event, enrichment);
          expect(verdict).to.deep.equal(reference.evaluate(event, enrichment));
          for (const reason of verdict.risk.reasons) matched.add(reason.rule.split('.')[0]!);
        }),
        { numRuns: 1000 },
      );
      // Not vacuous: every operator matched some of the values.
      expect([...matched]).to.include.members(OPERATOR_NAMES.map((op) => op.toLowerCase()));
    });
  });
});
