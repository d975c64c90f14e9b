/**
 * The rules stage's configuration, parsed from the environment once at cold start.
 * This is the only place in src/5-rules that reads environment variables.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import { isValidTimezone } from './time.ts';

import type { Env } from '../config/env.ts';

export type { Env };

export interface RulesConfig {
  /** Absolute path of the rules file (YAML or JSON). */
  rulesFile: string;
  /** RULES_TIMEZONE; undefined → the file's `timezone`, else UTC. */
  timezone?: string;
  /** ALLOWED_COUNTRIES (upper-case ISO 3166-1 alpha-2); undefined → the file's allowedCountries watchlist, else US. */
  allowedCountries?: string[];
  /** RULES_DISABLED: rule ids to switch off without editing the file. */
  disabledRules: string[];
  /** SIGMA_RULES_DIR: absolute path of a directory (read recursively) or file of Sigma rules; undefined = none. */
  sigmaRulesDir?: string;
  /** SIGMA_UNSUPPORTED: what a CloudTrail Sigma rule using an unsupported feature does (default fail). */
  sigmaUnsupported?: 'fail' | 'skip';
}

export const RULES_CONFIG_VARIABLES: ReadonlyArray<{ name: string; default?: string; description: string }> = [
  {
    name: 'RULES_FILE',
    default: 'rules/default.yaml (bundled)',
    description: 'Rules file (YAML or JSON) compiled at cold start; an invalid file fails the cold start naming the rule and field.',
  },
  {
    name: 'RULES_TIMEZONE',
    default: 'UTC',
    description: "IANA timezone for time-of-day, day-of-week and date-only windows; overrides the file's `timezone`.",
  },
  {
    name: 'ALLOWED_COUNTRIES',
    default: 'US',
    description:
      "Comma-separated ISO 3166-1 alpha-2 codes of countries activity may come from; when set, replaces the file's allowedCountries watchlist.",
  },
  {
    name: 'RULES_DISABLED',
    description: 'Comma-separated rule ids to switch off without editing the rules file (an unknown id fails the cold start).',
  },
  {
    name: 'SIGMA_RULES_DIR',
    description:
      'Directory of Sigma rules (read recursively) or one Sigma file, compiled with the rules at cold start; only `product: aws, service: cloudtrail` rules are used. A relative path is resolved against the package root (LAMBDA_TASK_ROOT), e.g. rules/sigma.',
  },
  {
    name: 'SIGMA_UNSUPPORTED',
    default: 'fail',
    description:
      '`fail`: a CloudTrail Sigma rule using an unsupported feature fails the cold start naming file and feature; `skip`: such rules are skipped with one warning each.',
  },
];

/**
 * The bundled rules file: `$LAMBDA_TASK_ROOT/rules/default.yaml` in Lambda (the package ships `rules/**`),
 * else the first `rules/default.yaml` found walking up from this module (the repository checkout, or a
 * bundle placed beside a `rules/` folder).
 */
export function defaultRulesFile(env: Env = process.env): string {
  const taskRoot = env.LAMBDA_TASK_ROOT;
  if (taskRoot) return join(taskRoot, 'rules', 'default.yaml');
  const here = moduleDir();
  let dir = here;
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'rules', 'default.yaml');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return resolve(here, '..', '..', 'rules', 'default.yaml');
}

/** This module's directory; the working directory when bundled to CommonJS (where import.meta is empty). */
function moduleDir(): string {
  const url: unknown = import.meta.url;
  return typeof url === 'string' ? dirname(fileURLToPath(url)) : process.cwd();
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Throws {@link ConfigError} naming the variable when a value is malformed. */
export function parseRulesConfig(env: Env = process.env): RulesConfig {
  const file = env.RULES_FILE?.trim();
  const rulesFile = file ? resolve(file) : defaultRulesFile(env);

  const tz = env.RULES_TIMEZONE?.trim();
  if (tz && !isValidTimezone(tz)) {
    throw new ConfigError(
      `RULES_TIMEZONE: "${tz}" is not an IANA timezone known to this runtime (e.g. UTC, Europe/Berlin, America/New_York)`,
    );
  }

  const countries = list(env.ALLOWED_COUNTRIES);
  if (countries) {
    for (const code of countries) {
      if (!/^[A-Za-z]{2}$/.test(code)) {
        throw new ConfigError(`ALLOWED_COUNTRIES: "${code}" is not an ISO 3166-1 alpha-2 country code (expected e.g. "US,CA,DE")`);
      }
    }
  }

  const disabled = list(env.RULES_DISABLED) ?? [];
  for (const id of disabled) {
    if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(id)) throw new ConfigError(`RULES_DISABLED: "${id}" is not a rule id`);
  }

  const sigmaDir = env.SIGMA_RULES_DIR?.trim();
  const sigmaUnsupported = (env.SIGMA_UNSUPPORTED?.trim() || 'fail').toLowerCase();
  if (sigmaUnsupported !== 'fail' && sigmaUnsupported !== 'skip') {
    throw new ConfigError(`SIGMA_UNSUPPORTED: "${env.SIGMA_UNSUPPORTED}" is not fail or skip`);
  }

  return {
    rulesFile,
    ...(tz ? { timezone: tz } : {}),
    ...(countries ? { allowedCountries: countries.map((c) => c.toUpperCase()) } : {}),
    disabledRules: disabled,
    ...(sigmaDir ? { sigmaRulesDir: env.LAMBDA_TASK_ROOT ? resolve(env.LAMBDA_TASK_ROOT, sigmaDir) : resolve(sigmaDir) } : {}),
    sigmaUnsupported,
  };
}
