/**
 * CloudWatch metrics (EMF) the functions emit, one place. The dashboard and the alarms (src/observability/operations.ts,
 * loaded by resources/observability.cjs) refer to these constants, and the deployment tests check every metric on the
 * dashboard and in an alarm against METRIC_CATALOGUE: the same name, the same dimensions.
 */
export const METRICS_NAMESPACE = 'CloudTrailEnricher';

export const MetricName = {
  RecordsIn: 'RecordsIn',
  RecordsOk: 'RecordsOk',
  RecordsDropped: 'RecordsDropped',
  RecordsProcessingFailed: 'RecordsProcessingFailed',
  EventsIn: 'EventsIn',
  EventsReturned: 'EventsReturned',
  EventsReingested: 'EventsReingested',
  RecordsReingested: 'RecordsReingested',
  ReingestRetries: 'ReingestRetries',
  ReingestFailures: 'ReingestFailures',
  EventsSkipped: 'EventsSkipped',
  EventsPartial: 'EventsPartial',
  UniqueIps: 'UniqueIps',
  /** L1 (in-container) plus DynamoDB hits, as before the split below. */
  CacheHits: 'CacheHits',
  L1Hits: 'L1Hits',
  DynamoDbHits: 'DynamoDbHits',
  DynamoDbMisses: 'DynamoDbMisses',
  ProviderCalls: 'ProviderCalls',
  ProviderErrors: 'ProviderErrors',
  /** Findings sent (EventBridge / Security Hub), duplicates and grouped repeats not sent, findings given up. */
  ThresholdUpdates: 'ThresholdUpdates',
  ThresholdCrossed: 'ThresholdCrossed',
  ThresholdUnavailable: 'ThresholdUnavailable',
  AlertsSent: 'AlertsSent',
  AlertsDuplicate: 'AlertsDuplicate',
  AlertsGrouped: 'AlertsGrouped',
  AlertsFailed: 'AlertsFailed',
  /** Baseline stage (src/4-baseline): BatchGetItem calls, PutItem/UpdateItem calls, facts flagged new, events unavailable. */
  BaselineReads: 'BaselineReads',
  BaselineWrites: 'BaselineWrites',
  BaselineNewFacts: 'BaselineNewFacts',
  BaselineUnavailable: 'BaselineUnavailable',
  /** Round trip of one HTTP request to a provider (one value per request, up to 100 per invocation). */
  ProviderLatency: 'ProviderLatency',
  /** 1 while the provider's circuit breaker is open at the end of an invocation, else 0. */
  ProviderBreakerOpen: 'ProviderBreakerOpen',
  /** Powertools' own name for the cold-start metric (dimensions service and function_name). */
  ColdStart: 'ColdStart',
  // Backfill and Object Lambda (dimension `function` = which entry point).
  ObjectsProcessed: 'ObjectsProcessed',
  ObjectsFailed: 'ObjectsFailed',
  ObjectsSkipped: 'ObjectsSkipped',
  ObjectEvents: 'ObjectEvents',
  ObjectDurationMs: 'ObjectDurationMs',
} as const;

export type MetricNameValue = (typeof MetricName)[keyof typeof MetricName];

/** Dimension names. `service` is POWERTOOLS_SERVICE_NAME on every metric. */
export const Dimension = {
  Service: 'service',
  Provider: 'provider',
  Cause: 'cause',
  /** Which S3 entry point published an object metric. */
  Function: 'function',
  /** Powertools' cold-start dimension: the Lambda function name. */
  FunctionName: 'function_name',
} as const;

/** Why an event went out `partial` (values of the `cause` dimension of EventsPartial). */
export const PartialCause = {
  /** The enrichment budget ran out before the lookup finished. */
  Deadline: 'deadline',
  /** A provider answered with an error (after retries). */
  ProviderError: 'provider_error',
  /** A provider was skipped because its circuit breaker was open. */
  BreakerOpen: 'breaker_open',
  /** A provider's API key could not be read. */
  KeyUnavailable: 'key_unavailable',
  /** The invocation already had MAX_PROVIDER_LOOKUPS_PER_INVOCATION new addresses: this one was not looked up. */
  LookupsCapped: 'lookups_capped',
  /** A rule threw while judging the event. */
  RulesError: 'rules_error',
  /** The baseline table could not be read or written within the deadline (src/4-baseline). */
  Baseline: 'baseline',
  /** A threshold rule's counter could not be updated within the deadline (src/5-rules/thresholds). */
  Threshold: 'threshold',
  /** The lookup stage itself failed (a bug: it never throws by contract). */
  Lookup: 'lookup',
} as const;

export type PartialCauseValue = (typeof PartialCause)[keyof typeof PartialCause];

/** Values of the `function` dimension of the object metrics. */
export const ObjectFunction = { Backfill: 'backfill', ObjectLambda: 'object-lambda' } as const;

export type MetricUnitName = 'Count' | 'Milliseconds';

export interface MetricDefinition {
  readonly unit: MetricUnitName;
  /** Each dimension set the metric is emitted with (sorted names; `service` is always present). */
  readonly dimensions: readonly (readonly string[])[];
}

const S = Dimension.Service;
const count = (...sets: (readonly string[])[]): MetricDefinition => ({ unit: 'Count', dimensions: sets.length === 0 ? [[S]] : sets });

/** What the code emits: every metric and its dimension sets. test/unit/observability checks the code against it. */
export const METRIC_CATALOGUE: Readonly<Record<MetricNameValue, MetricDefinition>> = {
  RecordsIn: count(),
  RecordsOk: count(),
  RecordsDropped: count(),
  RecordsProcessingFailed: count(),
  EventsIn: count(),
  EventsReturned: count(),
  EventsReingested: count(),
  RecordsReingested: count(),
  ReingestRetries: count(),
  ReingestFailures: count(),
  EventsSkipped: count(),
  EventsPartial: count([S], [Dimension.Cause, S]),
  UniqueIps: count(),
  CacheHits: count(),
  L1Hits: count(),
  DynamoDbHits: count(),
  DynamoDbMisses: count(),
  ProviderCalls: count([S], [Dimension.Provider, S]),
  ProviderErrors: count([S], [Dimension.Provider, S]),
  ProviderLatency: { unit: 'Milliseconds', dimensions: [[Dimension.Provider, S]] },
  ProviderBreakerOpen: count([Dimension.Provider, S]),
  ColdStart: count([Dimension.FunctionName, S]),
  ObjectsProcessed: count([Dimension.Function, S]),
  ObjectsFailed: count([Dimension.Function, S]),
  ObjectsSkipped: count([Dimension.Function, S]),
  ObjectEvents: count([Dimension.Function, S]),
  ObjectDurationMs: { unit: 'Milliseconds', dimensions: [[Dimension.Function, S]] },
  ThresholdUpdates: count(),
  ThresholdCrossed: count(),
  ThresholdUnavailable: count(),
  AlertsSent: count(),
  AlertsDuplicate: count(),
  AlertsGrouped: count(),
  AlertsFailed: count(),
  BaselineReads: count(),
  BaselineWrites: count(),
  BaselineNewFacts: count(),
  BaselineUnavailable: count(),
};
