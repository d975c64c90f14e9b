/**
 * Every problem of a rules document, for `rules validate`: the cold start stops at the first error (a broken
 * file must fail loudly, and fast), but a person fixing a file wants the whole list in one run.
 *
 * The document is checked in parts, each with the same validator and compiler the cold start uses, so the
 * messages are the same ones: the top level (version, timezone), each watchlist on its own, then each rule on
 * its own (against the watchlists that compiled), then what only the whole file can show (duplicate ids,
 * unknown ids in RULES_DISABLED). A part that fails does not hide the problems of the others.
 */
import { RulesValidationError } from '../errors.ts';
import { compileRules, type CompileOptions } from './compile.ts';
import type { WatchlistDoc } from './watchlists.ts';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The message of a validation error thrown while compiling `doc`, or undefined when it compiles. */
function problemOf(doc: unknown, options: CompileOptions): string | undefined {
  try {
    compileRules(doc, options);
    return undefined;
  } catch (error) {
    if (error instanceof RulesValidationError) return error.message;
    throw error;
  }
}

/**
 * All problems of `doc`, each in the cold start's words (`<file>: rule "x" (rules[3]) field "when.regex" …`);
 * empty when the document compiles.
 */
export function findRulesProblems(doc: unknown, options: CompileOptions = {}): string[] {
  const whole = problemOf(doc, options);
  if (whole === undefined) return [];
  if (!isObject(doc) || !Array.isArray(doc.rules) || (doc.watchlists !== undefined && !isObject(doc.watchlists))) return [whole];

  const problems: string[] = [];
  const add = (message: string | undefined) => {
    if (message !== undefined && !problems.includes(message)) problems.push(message);
  };
  const top = Object.fromEntries(Object.entries(doc).filter(([key]) => key !== 'rules' && key !== 'watchlists'));
  const partOptions: CompileOptions = { ...options, disabledRules: [] };

  // The top level alone (version, timezone, unknown keys).
  const topProblem = problemOf({ ...top, rules: [] }, partOptions);
  add(topProblem);
  const base = topProblem === undefined ? top : { version: 1 };

  // Each watchlist alone; one that fails is replaced by an empty list of its type, so rules using it still compile.
  const watchlists: Record<string, unknown> = {};
  for (const [name, list] of Object.entries(doc.watchlists ?? {})) {
    const problem = problemOf({ ...base, watchlists: { [name]: list }, rules: [] }, partOptions);
    add(problem);
    if (problem === undefined) watchlists[name] = list;
    else {
      const type = isObject(list) ? list.type : undefined;
      if (type === 'cidrs' || type === 'values' || type === 'windows') watchlists[name] = { type, entries: [] } satisfies WatchlistDoc;
    }
  }

  // Each rule alone, reported at its own index.
  for (const [i, rule] of (doc.rules as unknown[]).entries()) {
    const problem = problemOf({ ...base, watchlists, rules: [rule] }, partOptions);
    add(problem?.replace(' (rules[0])', ` (rules[${i}])`).replace('rule rules[0]', `rule rules[${i}]`));
  }

  // What only the whole file shows: duplicate ids, RULES_DISABLED naming no rule.
  const seen = new Map<string, number>();
  for (const [i, rule] of (doc.rules as unknown[]).entries()) {
    const id = isObject(rule) && typeof rule.id === 'string' ? rule.id : undefined;
    if (id === undefined) continue;
    const previous = seen.get(id);
    if (previous !== undefined)
      add(`${options.source ?? 'rules'}: rule "${id}" (rules[${i}]) field "id" duplicates the id of rules[${previous}]`);
    else seen.set(id, i);
  }
  for (const id of options.disabledRules ?? []) {
    if (!seen.has(id)) add(`${options.source ?? 'rules'}: disabled rule "${id}" is not a rule id of this file`);
  }
  if (problems.length === 0) add(whole);
  return problems;
}
