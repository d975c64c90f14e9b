/**
 * The rules document: the shape rules/rules.schema.json guarantees once `assertRulesDocument` passed.
 * Conditions are typed by the operator table (operators.ts), watchlists by watchlists.ts; both are
 * re-exported here so the whole document reads from one module.
 */
import type { Priority } from '../model.ts';
import type { ConditionDoc } from './operators.ts';
import type { WatchlistDoc } from './watchlists.ts';

export type { ConditionDoc, FieldModifiers, FieldOperands, Scalar } from './operators.ts';
export type { ClockRangeDoc } from './time.ts';
export type { WatchlistDoc, WindowDoc } from './watchlists.ts';

/** A rule's MITRE ATT&CK mapping: tactic short names (`defense-evasion`) and technique ids (`T1562.008`). */
export interface AttackDoc {
  tactics: string[];
  techniques: string[];
}

export interface RuleDoc {
  id: string;
  description: string;
  priority: Priority;
  score: number;
  reason: string;
  when: ConditionDoc;
  enabled?: boolean;
  tags?: string[];
  attack?: AttackDoc;
  /** Count matches first: the rule matches the event that reaches `count` in its window (docs/rules.md, Thresholds). */
  threshold?: ThresholdDoc;
}

/** `threshold: { count: 10, within: 10m, by: [userIdentity.arn], distinct: requestParameters.secretId }` */
export interface ThresholdDoc {
  /** Matches (or distinct values) in one window that make the rule match; 1–500. */
  count: number;
  /** Fixed window length: `<n>s`, `<n>m`, `<n>h`, `<n>d`, at most 7 days. */
  within: string;
  /** Field paths whose values key the counter (no `[]`). */
  by: string[];
  /** Count distinct values of this field path instead of matches (no `[]`). */
  distinct?: string;
}

export interface RulesDocument {
  version: 1;
  timezone?: string;
  watchlists?: Record<string, WatchlistDoc>;
  rules: RuleDoc[];
}
