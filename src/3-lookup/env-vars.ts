/**
 * The lookup stage's variable parsers on top of `src/config/env.ts`: defaults given as text (as listed in
 * LOOKUP_CONFIG_VARIABLES) and the stage's own error wording, shared by config.ts and the provider registry.
 */
import { ConfigError } from '../errors.ts';
import { DECIMAL_TEXT, envText, INTEGER_TEXT, parseBool, type Env } from '../config/env.ts';

export function lookupInt(env: Env, name: string, fallback: string, min: number, max: number): number {
  const text = envText(env, name) ?? fallback;
  if (!INTEGER_TEXT.test(text)) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got ${n}`);
  return n;
}

export function lookupNumber(env: Env, name: string, fallback: string, min: number, max: number): number {
  const text = envText(env, name) ?? fallback;
  const n = Number(text);
  if (!DECIMAL_TEXT.test(text) || n < min || n > max) {
    throw new ConfigError(`${name} must be a number between ${min} and ${max}, got "${text}"`);
  }
  return n;
}

export function lookupBool(env: Env, name: string, fallback: string): boolean {
  const text = (envText(env, name) ?? fallback).toLowerCase();
  const value = parseBool(text);
  if (value !== undefined) return value;
  throw new ConfigError(`${name} must be true or false, got "${text}"`);
}
