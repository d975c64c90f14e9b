/**
 * CloudWatch metric names (EMF) emitted once per invocation. Alarms in resources/ refer to these names,
 * so they are constants shared by code and deployment tests.
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
  CacheHits: 'CacheHits',
  ProviderCalls: 'ProviderCalls',
  ProviderErrors: 'ProviderErrors',
  /** Findings sent (EventBridge / Security Hub), duplicates and grouped repeats not sent, findings given up. */
  AlertsSent: 'AlertsSent',
  AlertsDuplicate: 'AlertsDuplicate',
  AlertsGrouped: 'AlertsGrouped',
  AlertsFailed: 'AlertsFailed',
} as const;
