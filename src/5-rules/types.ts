import type { CloudTrailEvent, Enrichment, Verdict } from '../model.ts';

/**
 * The rules stage: a compiled rule set evaluated once per event, after source enrichment.
 * Field paths in rules address the event (`eventName`, `userIdentity.type`) or the enrichment
 * (`enrichment.source.geo.countryCode`). Evaluation is pure and synchronous.
 */
export interface RuleEngine {
  evaluate(event: CloudTrailEvent, enrichment: Readonly<Enrichment>): Verdict;
}
