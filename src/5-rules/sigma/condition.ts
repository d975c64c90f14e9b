/**
 * Sigma `detection.condition` expressions: `and`, `or`, `not`, parentheses, `1 of x*`, `all of x*`,
 * `1 of them`, `all of them` (https://github.com/SigmaHQ/sigma-specification, "Condition").
 *
 * Precedence, loosest first: `or`, `and`, `not`. Keywords are case-insensitive. `them` means every search
 * identifier except those starting with `_`. `x*` is a wildcard over identifier names (`*` only).
 * `N of` with N > 1 is reported as an unsupported feature; so are aggregations (`| count() > 5`) other than those
 * {@link parseAggregation} reads (the translator maps them, with the rule's `timeframe`, to a threshold).
 */

export type ConditionNode =
  | { kind: 'id'; name: string }
  | { kind: 'and' | 'or'; parts: ConditionNode[] }
  | { kind: 'not'; part: ConditionNode }
  | { kind: 'of'; quantifier: 'one' | 'all'; pattern: string };

/** A parse problem: `unsupported` names a Sigma feature the engine lacks, otherwise the text is malformed. */
export interface ConditionError {
  unsupported: boolean;
  message: string;
}

type Token = { type: '(' | ')' | 'word'; text: string; at: number };

function tokenize(text: string): Token[] | ConditionError {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push({ type: ch, text: ch, at: i });
      i++;
    } else if (ch === '|') {
      return {
        unsupported: true,
        message: `aggregation expression "${text.slice(i).trim()}" in the condition (correlation rules come with baselines)`,
      };
    } else {
      const start = i;
      while (i < text.length && !/[\s()|]/.test(text[i]!)) i++;
      tokens.push({ type: 'word', text: text.slice(start, i), at: start });
    }
  }
  return tokens;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them', 'all']);

/** Parses a condition into a tree; identifiers are not resolved here (see {@link resolveOf}). */
export function parseCondition(text: string): { ok: true; value: ConditionNode } | { ok: false; error: ConditionError } {
  const lexed = tokenize(text);
  if (!Array.isArray(lexed)) return { ok: false, error: lexed };
  const tokens: Token[] = lexed;
  let pos = 0;
  const fail = (message: string, unsupported = false): never => {
    throw { unsupported, message } satisfies ConditionError;
  };
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (t: Token | undefined, word: string): boolean => t?.type === 'word' && t.text.toLowerCase() === word;

  function parseOr(): ConditionNode {
    const parts = [parseAnd()];
    while (isWord(peek(), 'or')) {
      pos++;
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'or', parts };
  }
  function parseAnd(): ConditionNode {
    const parts = [parseNot()];
    while (isWord(peek(), 'and')) {
      pos++;
      parts.push(parseNot());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'and', parts };
  }
  function parseNot(): ConditionNode {
    if (isWord(peek(), 'not')) {
      pos++;
      return { kind: 'not', part: parseNot() };
    }
    return parseAtom();
  }
  function parseAtom(): ConditionNode {
    const t = peek();
    if (t === undefined) return fail('ends where an identifier or "(" was expected');
    if (t.type === '(') {
      pos++;
      const inner = parseOr();
      if (peek()?.type !== ')') fail(`has an unclosed "(" at column ${t.at + 1}`);
      pos++;
      return inner;
    }
    if (t.type === ')') return fail(`has an unexpected ")" at column ${t.at + 1}`);
    const word = t.text.toLowerCase();
    if (isWord(tokens[pos + 1], 'of')) {
      let quantifier: 'one' | 'all';
      if (word === '1' || word === 'any') quantifier = 'one';
      else if (word === 'all') quantifier = 'all';
      else if (/^\d+$/.test(word)) return fail(`"${t.text} of" (only "1 of" and "all of")`, true);
      else return fail(`has "${t.text} of" where "1 of" or "all of" was expected`);
      pos += 2;
      const target = peek();
      if (target?.type !== 'word' || (KEYWORDS.has(target.text.toLowerCase()) && target.text.toLowerCase() !== 'them')) {
        return fail(`"${t.text} of" needs "them" or an identifier pattern`);
      }
      pos++;
      return { kind: 'of', quantifier, pattern: target.text.toLowerCase() === 'them' ? 'them' : target.text };
    }
    if (KEYWORDS.has(word)) return fail(`has "${t.text}" where an identifier was expected (column ${t.at + 1})`);
    pos++;
    return { kind: 'id', name: t.text };
  }

  try {
    if (tokens.length === 0) fail('is empty');
    const value = parseOr();
    if (pos < tokens.length) fail(`has unexpected "${tokens[pos]!.text}" at column ${tokens[pos]!.at + 1}`);
    return { ok: true, value };
  } catch (error) {
    if (error !== null && typeof error === 'object' && 'message' in error && 'unsupported' in error)
      return { ok: false, error: error as ConditionError };
    throw error;
  }
}

/** The identifiers `1 of`/`all of` ranges over: `them` (all but `_…`), or names matching a `*` pattern. */
export function resolveOf(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern === 'them') return identifiers.filter((name) => !name.startsWith('_'));
  const body = pattern
    .split('*')
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${body}$`);
  return identifiers.filter((name) => re.test(name));
}

/** A Sigma v1 aggregation the engine has: `| count() [by f] > N` (events) or `| count(x) [by f] > N` (distinct x). */
export interface Aggregation {
  /** The field whose distinct values are counted (`count(x)`); undefined for `count()`. */
  readonly distinct: string | undefined;
  readonly by: string | undefined;
  /** The number of events (or values) at which the rule matches: N + 1 for `> N`, N for `>= N`. */
  readonly count: number;
}

const AGGREGATION = /^count\(\s*([A-Za-z0-9_.$@:-]*)\s*\)\s*(?:by\s+([A-Za-z0-9_.$@:-]+)\s*)?(>=|>)\s*(\d{1,6})$/i;

/**
 * Splits `search | aggregation` into the search and its aggregation. Anything else after `|` (min, max, sum, avg,
 * `<`, `=`, several `by` fields) is an unsupported feature.
 */
export function splitAggregation(
  text: string,
): { ok: true; search: string; aggregation: Aggregation | undefined } | { ok: false; error: ConditionError } {
  const bar = text.indexOf('|');
  if (bar < 0) return { ok: true, search: text, aggregation: undefined };
  const tail = text.slice(bar + 1).trim();
  const m = AGGREGATION.exec(tail);
  if (!m)
    return {
      ok: false,
      error: {
        unsupported: true,
        message: `aggregation expression "| ${tail}" in the condition (only count() / count(field), optionally by one field, with > or >=)`,
      },
    };
  const n = Number(m[4]);
  return {
    ok: true,
    search: text.slice(0, bar),
    aggregation: { distinct: m[1] === '' ? undefined : m[1], by: m[2], count: m[3] === '>' ? n + 1 : n },
  };
}
