import type { CloudTrailEvent, Enrichment, Verdict } from '../model.ts';

/**
 * The rules stage: a compiled rule set evaluated once per event, after source enrichment.
 * Field paths in rules address the event (`eventName`, `userIdentity.type`) or the enrichment
 * (`enrichment.source.geo.countryCode`). Evaluation is pure and synchronous.
 */
export interface RuleEngine {
  /**
   * The verdict of the rules without thresholds. Threshold rules whose condition matched are pushed to `hits`
   * (when given) as candidates; the pipeline counts them (5-rules/thresholds) and adds those that cross with
   * {@link RuleEngine.withThresholds}.
   */
  evaluate(event: CloudTrailEvent, enrichment: Readonly<Enrichment>, hits?: ThresholdHit[]): Verdict;
  /** `verdict` with the threshold rules `crossed` (ids) added as matches. */
  withThresholds?(verdict: Verdict, event: CloudTrailEvent, enrichment: Readonly<Enrichment>, crossed: readonly string[]): Verdict;
}

/** A threshold rule whose condition matched an event: its counter key values and distinct value. */
export interface ThresholdHit {
  readonly rule: string;
  /** The `by` values, in the rule's order (null when absent or not a scalar). */
  readonly by: readonly (string | null)[];
  /** The `distinct` value (distinct thresholds only). */
  readonly value: string | undefined;
}
