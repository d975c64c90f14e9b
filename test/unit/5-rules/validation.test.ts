import { expect } from 'chai';
import { RulesValidationError } from '../../../src/errors.ts';
import { compileRules, parseRulesText } from '../../../src/5-rules/index.ts';
import { doc, rule } from './helpers.ts';

/** Compiles and returns the RulesValidationError message (fails the test when nothing is thrown). */
function errorOf(d: unknown, options: Parameters<typeof compileRules>[1] = {}): string {
  try {
    compileRules(d, { source: 'custom.yaml', ...options });
  } catch (error) {
    expect(error).to.be.instanceOf(RulesValidationError);
    expect((error as Error).name).to.equal('RulesValidationError');
    return (error as Error).message;
  }
  expect.fail('expected a RulesValidationError');
}

const ok = { field: 'eventName', equals: 'X' };

describe('rules validation', () => {
  describe('schema (ajv)', () => {
    it('accepts a minimal document', () => {
      expect(compileRules({ version: 1, rules: [] }).info.ruleIds).to.deep.equal([]);
    });

    it('rejects a document that is not an object, or has the wrong version', () => {
      expect(errorOf('rules: []')).to.match(/custom\.yaml: document must be object/);
      expect(errorOf({ version: 2, rules: [] })).to.match(/field "version" must be equal to constant/);
      expect(errorOf({ version: 1 })).to.match(/field "rules" is required/);
    });

    it('names the rule and the missing field', () => {
      const d = doc([rule(ok, { id: 'first' }), { id: 'second', description: 'x', priority: 'HIGH', score: 1, when: ok }]);
      expect(errorOf(d)).to.equal('custom.yaml: rule "second" (rules[1]) field "reason" is required');
    });

    it('names a rule without an id by its index', () => {
      const d = doc([{ description: 'x', priority: 'HIGH', score: 1, reason: 'r', when: ok }]);
      expect(errorOf(d)).to.equal('custom.yaml: rule rules[0] field "id" is required');
    });

    it('rejects an unknown priority, listing the allowed ones', () => {
      expect(errorOf(doc([rule(ok, { id: 'p', priority: 'URGENT' })]))).to.equal(
        'custom.yaml: rule "p" (rules[0]) field "priority" must be one of "LOW", "MEDIUM", "HIGH", "CRITICAL"',
      );
    });

    it('rejects a score outside -100..100 or not an integer', () => {
      expect(errorOf(doc([rule(ok, { id: 's', score: 101 })]))).to.match(/rule "s" \(rules\[0\]\) field "score" must be <= 100/);
      expect(errorOf(doc([rule(ok, { id: 's', score: -101 })]))).to.match(/field "score" must be >= -100/);
      expect(errorOf(doc([rule(ok, { id: 's', score: 2.5 })]))).to.match(/field "score" must be integer/);
    });

    it('rejects an unknown operator inside a nested condition, naming its path', () => {
      const d = doc([rule({ all: [ok, { any: [ok, { field: 'eventName', startsWith: 'Get' }] }] }, { id: 'nested' })]);
      expect(errorOf(d)).to.equal('custom.yaml: rule "nested" (rules[0]) field "when.all[1].any[1].startsWith" is not a known field');
    });

    it('rejects a condition without a known key', () => {
      expect(errorOf(doc([rule({ eventName: 'X' }, { id: 'k' })]))).to.match(
        /rule "k" \(rules\[0\]\) field "when" a condition needs one of the keys all, any, not, field/,
      );
    });

    it('rejects a wrongly typed operand', () => {
      expect(errorOf(doc([rule({ field: 'eventName', in: 'X' }, { id: 't' })]))).to.equal(
        'custom.yaml: rule "t" (rules[0]) field "when.in" must be array',
      );
      expect(errorOf(doc([rule({ field: 'eventName', prefix: 3 }, { id: 't' })]))).to.equal(
        'custom.yaml: rule "t" (rules[0]) field "when.prefix" must be a string or a non-empty list of strings',
      );
      expect(errorOf(doc([rule({ field: 'x', gt: '5' }, { id: 't' })]))).to.match(/field "when.gt" must be number/);
    });

    it('rejects an invalid rule id and unknown top-level fields', () => {
      expect(errorOf(doc([rule(ok, { id: 'Has Spaces' })]))).to.match(/rule "Has Spaces" \(rules\[0\]\) field "id" must match pattern/);
      expect(errorOf({ version: 1, rules: [], rulez: [] })).to.equal('custom.yaml: field "rulez" is not a known field');
    });

    it('rejects a bad time of day and day name', () => {
      expect(errorOf(doc([rule({ timeOfDay: { from: '25:00', to: '06:00' } }, { id: 'tod' })]))).to.match(
        /rule "tod" \(rules\[0\]\) field "when.timeOfDay.from" must match pattern/,
      );
      expect(errorOf(doc([rule({ dayOfWeek: ['Caturday'] }, { id: 'dow' })]))).to.match(
        /rule "dow" \(rules\[0\]\) field "when.dayOfWeek\[0\]" must be one of/,
      );
    });

    it('rejects a watchlist of unknown type or with bad entries', () => {
      expect(errorOf(doc([], { watchlists: { bad: { type: 'ips' } } }))).to.match(
        /watchlist "bad" field "type" must be one of "cidrs", "values", "windows"/,
      );
      expect(
        errorOf(doc([], { watchlists: { w: { type: 'windows', entries: [{ start: '2026-01-01', end: '2026-01-02', who: 'x' }] } } })),
      ).to.equal('custom.yaml: watchlist "w" field "entries[0].who" is not a known field');
    });
  });

  describe('semantic checks', () => {
    it('rejects duplicate rule ids', () => {
      expect(errorOf(doc([rule(ok, { id: 'same' }), rule(ok, { id: 'same' })]))).to.equal(
        'custom.yaml: rule "same" (rules[1]) field "id" duplicates the id of rules[0]',
      );
    });

    it('rejects an invalid regular expression', () => {
      expect(errorOf(doc([rule({ field: 'eventName', regex: '(unclosed' }, { id: 're' })]))).to.match(
        /rule "re" \(rules\[0\]\) field "when.regex" is not a valid regular expression/,
      );
    });

    it('rejects a regex with nested quantifiers (catastrophic backtracking on attacker input)', () => {
      expect(errorOf(doc([rule({ field: 'userAgent', regex: '^(a+)+$' }, { id: 'redos' })]))).to.match(
        /rule "redos" \(rules\[0\]\) field "when.regex" has a nested quantifier/,
      );
      expect(errorOf(doc([rule({ field: 'userAgent', regex: '(\\w*)*x' }, { id: 'redos' })]))).to.match(/nested quantifier/);
      expect(() => compileRules(doc([rule({ field: 'userAgent', regex: '^(aws-cli|Boto3)/\\d+' }, { id: 'fine' })]))).to.not.throw();
    });

    it('rejects an invalid CIDR, naming the list position', () => {
      expect(errorOf(doc([rule({ field: 'sourceIPAddress', cidr: ['10.0.0.0/8', '10.0.0/8'] }, { id: 'c' })]))).to.equal(
        'custom.yaml: rule "c" (rules[0]) field "when.cidr[1]" "10.0.0/8" is not an IP address or CIDR block',
      );
      expect(errorOf(doc([rule({ field: 'sourceIPAddress', cidr: '10.0.0.0/33' }, { id: 'c' })]))).to.match(
        /field "when.cidr" "10.0.0.0\/33": prefix length 33 exceeds \/32/,
      );
      expect(errorOf(doc([rule({ field: 'sourceIPAddress', cidr: '0x7f.1' }, { id: 'c' })]))).to.match(/is not an IP address/);
    });

    it('rejects an invalid field path', () => {
      expect(errorOf(doc([rule({ field: 'a..b', exists: true }, { id: 'path' })]))).to.match(
        /rule "path" \(rules\[0\]\) field "when.field" invalid segment ""/,
      );
      expect(errorOf(doc([rule({ field: 'a[x]', exists: true }, { id: 'path' })]))).to.match(/invalid segment "a\[x\]"/);
    });

    it('rejects a field condition without an operator, or exists combined with another', () => {
      expect(errorOf(doc([rule({ field: 'eventName' }, { id: 'noop' })]))).to.match(
        /rule "noop" \(rules\[0\]\) field "when" needs an operator/,
      );
      expect(errorOf(doc([rule({ field: 'eventName', exists: true, equals: 'X' }, { id: 'ex' })]))).to.match(
        /field "when.exists" cannot be combined/,
      );
      expect(errorOf(doc([rule({ field: 'eventName', gt: 1, ignoreCase: true }, { id: 'ic' })]))).to.match(
        /field "when.ignoreCase" only applies to/,
      );
    });

    it('rejects a reference to an unknown watchlist or one of the wrong type', () => {
      expect(errorOf(doc([rule({ field: 'sourceIPAddress', inWatchlist: 'nope' }, { id: 'w' })]))).to.match(
        /rule "w" \(rules\[0\]\) field "when.inWatchlist" names no watchlist \(known: allowedCountries\)/,
      );
      const lists = { watchlists: { away: { type: 'windows', entries: [] }, ips: { type: 'cidrs', entries: [] } } };
      expect(errorOf(doc([rule({ field: 'x', inWatchlist: 'away' }, { id: 'w' })], lists))).to.match(
        /"away" is a windows watchlist: use inWindow/,
      );
      expect(errorOf(doc([rule({ inWindow: 'ips' }, { id: 'w' })], lists))).to.match(
        /field "when.inWindow" "ips" is a cidrs watchlist, not windows/,
      );
    });

    it('rejects an empty time range and an unknown timezone', () => {
      expect(errorOf(doc([rule({ timeOfDay: { from: '08:00', to: '08:00' } }, { id: 'tod' })]))).to.match(
        /field "when.timeOfDay" from and to must differ/,
      );
      expect(errorOf(doc([rule({ dayOfWeek: ['Mon'], timezone: 'Mars/Olympus' }, { id: 'tz' })]))).to.match(
        /rule "tz" \(rules\[0\]\) field "when.timezone" "Mars\/Olympus" is not an IANA timezone/,
      );
      expect(errorOf(doc([], { timezone: 'Europe/Atlantis' }))).to.match(/field "timezone" "Europe\/Atlantis" is not an IANA timezone/);
    });

    it('rejects a reason template with a bad placeholder', () => {
      expect(errorOf(doc([rule(ok, { id: 'tpl', reason: 'by {userIdentity.arn' })]))).to.match(
        /rule "tpl" \(rules\[0\]\) field "reason" unclosed "\{"/,
      );
      expect(errorOf(doc([rule(ok, { id: 'tpl', reason: 'a } b' })]))).to.match(/field "reason" unmatched "\}"/);
      expect(errorOf(doc([rule(ok, { id: 'tpl', reason: '{a b}' })]))).to.match(/field "reason" invalid segment "a b"/);
    });

    it('rejects bad window entries', () => {
      const w = (entry: unknown) => doc([], { watchlists: { away: { type: 'windows', entries: [entry] } } });
      expect(errorOf(w({ start: '2026-01-02', end: '2026-01-01' }))).to.equal(
        'custom.yaml: watchlist "away" field "entries[0].end" must be after start',
      );
      expect(errorOf(w({ start: '2026-02-30', end: '2026-03-01' }))).to.match(
        /field "entries\[0\].start" "2026-02-30" is not a valid date/,
      );
      expect(errorOf(w({ start: 'next monday', end: '2026-03-01' }))).to.match(
        /field "entries\[0\].start" "next monday" is not an ISO 8601 date/,
      );
      expect(errorOf(w({ start: '2026-01-01' }))).to.match(/field "entries\[0\].end" start and end go together/);
      expect(errorOf(w({ principals: ['x'] }))).to.match(/field "entries\[0\]" needs start\/end, days or timeOfDay/);
    });

    it('validates disabled rules too, and rejects disabling an unknown id', () => {
      expect(errorOf(doc([rule({ field: 'eventName', regex: '(' }, { id: 'off', enabled: false })]))).to.match(/rule "off"/);
      expect(errorOf(doc([rule(ok, { id: 'on' })]), { disabledRules: ['typo'] })).to.match(/disabled rule "typo" is not a rule id/);
    });
  });

  describe('parseRulesText', () => {
    it('reads YAML 1.2: No stays a string, times stay strings', () => {
      expect(parseRulesText('a: No\nb: 02:00\nc: 2026-12-20\n', 'x.yaml')).to.deep.equal({ a: 'No', b: '02:00', c: '2026-12-20' });
    });

    it('names the line of a syntax error', () => {
      expect(() => parseRulesText('version: 1\nrules:\n  - id: a\n   bad: [\n', 'broken.yaml')).to.throw(
        RulesValidationError,
        /broken\.yaml: not valid YAML at line \d+/,
      );
    });

    it('rejects duplicate keys', () => {
      expect(() => parseRulesText('version: 1\nversion: 2\n', 'dup.yaml')).to.throw(RulesValidationError, /dup\.yaml: not valid YAML/);
    });

    it('bounds alias expansion (billion laughs)', () => {
      const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
      for (let i = 1; i < 10; i++)
        bomb.push(
          `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
            .fill(`*${String.fromCharCode(96 + i)}`)
            .join(',')}]`,
        );
      expect(() => parseRulesText(bomb.join('\n'), 'bomb.yaml')).to.throw(RulesValidationError, /bomb\.yaml: .*alias/i);
    });
  });
});
