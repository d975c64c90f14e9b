/**
 * The one set of environment-parsing helpers and the one `Env` type. Every config parser (config/core.ts,
 * 3-lookup/config.ts, 5-rules/config.ts, codec/s3-object.ts, entry/backfill/config.ts) reads its variables through these.
 *
 * Numbers are strict: an integer is `^\d+$` and a number `^\d+(\.\d+)?$` after trimming, so `1e3`, `0x10`,
 * `+5`, `-1` and `1_000` are refused (`Number()` alone would accept most of them). An empty or blank value
 * means "unset" and takes the default.
 */
import { ConfigError } from '../errors.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Unsigned decimal integer, no sign, exponent, radix prefix or separators. */
export const INTEGER_TEXT = /^\d+$/;
/** Unsigned decimal number with an optional fraction. */
export const DECIMAL_TEXT = /^\d+(\.\d+)?$/;

/** The variable's trimmed text, or undefined when unset or blank. */
export function envText(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * How a range reads in an error message. The lookup stage's variables have always said "between 0 and 10" (and
 * users' runbooks quote it); the rest say "from 0 to 10". The rule behind both is the same.
 */
export type RangeWording = 'from' | 'between';

function rangeText(min: number, max: number, wording: RangeWording): string {
  return wording === 'between' ? `between ${min} and ${max}` : `from ${min} to ${max}`;
}

export function intVar(env: Env, name: string, fallback: number, min: number, max: number, wording: RangeWording = 'from'): number {
  const text = envText(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!INTEGER_TEXT.test(text) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer ${rangeText(min, max, wording)}, got ${JSON.stringify(env[name])}`);
  }
  return value;
}

export function numberVar(env: Env, name: string, fallback: number, min: number, max: number, wording: RangeWording = 'from'): number {
  const text = envText(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!DECIMAL_TEXT.test(text) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number ${rangeText(min, max, wording)}, got ${JSON.stringify(env[name])}`);
  }
  return value;
}

/** true/1/yes and false/0/no, in any case. */
export function parseBool(text: string): boolean | undefined {
  const v = text.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  return undefined;
}

export function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const text = envText(env, name);
  if (text === undefined) return fallback;
  const value = parseBool(text);
  if (value === undefined) throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(env[name])}`);
  return value;
}
