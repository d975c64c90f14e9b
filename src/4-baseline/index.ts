export { BASELINE_CONFIG_VARIABLES, parseBaselineConfig, type BaselineConfig } from './config.ts';
export { principalOf } from './principal.ts';
export { userAgentFamily, userAgentKind, USER_AGENT_FAMILIES, type UserAgentFamily, type UserAgentKind } from './user-agent.ts';
export {
  BASELINE_ATTRIBUTES,
  createBaselineStage,
  type BaselineAttribute,
  type BaselineObservation,
  type BaselineStage,
  type BaselineStats,
  type BaselineVerdict,
} from './stage.ts';
