/**
 * The lookup stage's variables through `src/config/env.ts` (the one set of parsers and rules), with defaults given as
 * text (as listed in LOOKUP_CONFIG_VARIABLES) and the stage's range wording ("between 0 and 10"); shared by
 * config.ts and the provider registry.
 */
import { boolVar, intVar, numberVar, parseBool, type Env } from '../config/env.ts';
import { ConfigError } from '../errors.ts';

export function lookupInt(env: Env, name: string, fallback: string, min: number, max: number): number {
  return intVar(env, name, Number(fallback), min, max, 'between');
}

export function lookupNumber(env: Env, name: string, fallback: string, min: number, max: number): number {
  return numberVar(env, name, Number(fallback), min, max, 'between');
}

export function lookupBool(env: Env, name: string, fallback: string): boolean {
  const value = parseBool(fallback);
  if (value === undefined) throw new ConfigError(`${name}'s default must be true or false, got "${fallback}"`);
  return boolVar(env, name, value);
}
