import type { AppConfig } from '../config/index.ts';
import type { IpIntelligence } from '../lookup/types.ts';
import type { Log } from '../model.ts';
import type { RuleEngine } from '../rules/types.ts';

/** The enrichment stages built once per container from the configuration. */
export interface Stages {
  readonly intel?: Promise<IpIntelligence>;
  readonly rules?: RuleEngine;
}

export function buildStages(_config: AppConfig, _deps: { log?: Log } = {}): Stages {
  return {};
}
