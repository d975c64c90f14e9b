/**
 * Sigma's wildcard syntax (the `wildcard` operator, and the Sigma translation's choice of the cheapest
 * equivalent operator): `*` any run of characters, `?` exactly one, `\` escapes `*`, `?` and `\` (a
 * backslash before anything else is a literal backslash). Matching is against the whole value, iterative,
 * O(value × pattern), no regex, so a hostile value cannot make it backtrack.
 */

const GLOB_LITERAL = 0;
const GLOB_ONE = 1;
const GLOB_ANY = 2;

/** The tokens of a wildcard pattern: a literal code unit, `?` or `*`. */
export function parseWildcard(pattern: string): { kinds: Uint8Array; chars: string[] } {
  const kinds: number[] = [];
  const chars: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length && (pattern[i + 1] === '*' || pattern[i + 1] === '?' || pattern[i + 1] === '\\')) {
      kinds.push(GLOB_LITERAL);
      chars.push(pattern[++i]!);
    } else if (ch === '*') {
      // Consecutive stars are one star.
      if (kinds[kinds.length - 1] !== GLOB_ANY) {
        kinds.push(GLOB_ANY);
        chars.push('');
      }
    } else if (ch === '?') {
      kinds.push(GLOB_ONE);
      chars.push('');
    } else {
      kinds.push(GLOB_LITERAL);
      chars.push(ch);
    }
  }
  return { kinds: Uint8Array.from(kinds), chars };
}

/** A predicate matching whole strings against a wildcard pattern (iterative, last-star backtracking). */
export function compileWildcard(pattern: string, ignoreCase: boolean): (value: string) => boolean {
  const { kinds, chars } = parseWildcard(ignoreCase ? pattern.toLowerCase() : pattern);
  const n = kinds.length;
  return (value) => {
    const s = ignoreCase ? value.toLowerCase() : value;
    let i = 0;
    let j = 0;
    let star = -1;
    let mark = 0;
    while (i < s.length) {
      if (j < n && (kinds[j] === GLOB_ONE || (kinds[j] === GLOB_LITERAL && chars[j] === s[i]))) {
        i++;
        j++;
      } else if (j < n && kinds[j] === GLOB_ANY) {
        star = j++;
        mark = i;
      } else if (star >= 0) {
        j = star + 1;
        i = ++mark;
      } else return false;
    }
    while (j < n && kinds[j] === GLOB_ANY) j++;
    return j === n;
  };
}
