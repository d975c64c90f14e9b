/**
 * The stage's CloudWatch dashboard and the alarms on the project's own metrics, built from the metric constants
 * (metric-names.ts) so nothing is retyped. resources/observability.cjs calls `operationsResources` at package time
 * with the stage's parameters; docs/operations.md explains every widget and alarm.
 *
 * To add a widget or an alarm (issue 15: baseline facts): add one entry to PANELS or
 * ALARMS below. The deployment tests then check that its metrics are ones the code emits, with the same dimensions.
 */
import { Dimension, METRICS_NAMESPACE, MetricName, PartialCause, ObjectFunction, type MetricNameValue } from './metric-names.ts';

/** Stage values the dashboard and alarms need (resources/observability.cjs reads them from serverless params). */
export interface OperationsInput {
  /** `<service>-<stage>`: alarm names start with it. */
  readonly namePrefix: string;
  /** The `service` dimension (POWERTOOLS_SERVICE_NAME). */
  readonly service: string;
  readonly namespace?: string;
  readonly dashboardName: string;
  readonly transformFunction: string;
  readonly transformMemoryMb: number;
  readonly transformTimeoutSeconds: number;
  readonly stream: string;
  readonly outputMode: 's3' | 'opensearch';
  /** Enabled providers. */
  readonly providers: readonly string[];
  /** Present when the backfill function is deployed. */
  readonly backfill?: { readonly functionName: string; readonly deadLetterQueueName: string; readonly failedEventsQueueName: string };
  /** Present when the Object Lambda function is deployed. */
  readonly objectLambda?: { readonly functionName: string };
  /** True when findings go to EventBridge (stage parameter alertsEnabled). */
  readonly alerts?: boolean;
  /** True when the baseline table is deployed (stage parameter baselineEnabled); threshold rules then count in it. */
  readonly baseline?: boolean;
  readonly thresholds: Thresholds;
}

/** Alarm thresholds, each a stage parameter (serverless.yml `params`, documented in docs/operations.md). */
export interface Thresholds {
  /** Partial events, % of events, over three 5-minute periods in a row. */
  readonly partialPercent: number;
  /** 5-minute periods in a row a provider's breaker must be open. */
  readonly breakerOpenPeriods: number;
  readonly processingFailedRecords: number;
  readonly reingestFailures: number;
  readonly transformErrors: number;
  readonly transformThrottles: number;
  readonly backfillFailedObjects: number;
  readonly objectLambdaFailedObjects: number;
  /** Findings given up (AlertsFailed) per 5 minutes. */
  readonly alertsFailed: number;
}

// ---- metric references -------------------------------------------------------------------------------------------

type Stat = 'Sum' | 'Maximum' | 'Minimum' | 'Average' | 'p50' | 'p99';

/** One metric on a widget or in an alarm: namespace, name, dimensions (name → value). */
export interface MetricRef {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: Stat;
  readonly label?: string;
  /** Set when an expression refers to it. */
  readonly id?: string;
  /** Only used by an expression, not drawn. */
  readonly hidden?: boolean;
}

export interface ExpressionRef {
  readonly expression: string;
  readonly label: string;
  readonly id: string;
}

type Line = MetricRef | ExpressionRef;

function own(
  input: OperationsInput,
  name: MetricNameValue,
  stat: Stat,
  extra: Record<string, string> = {},
  more: Partial<MetricRef> = {},
): MetricRef {
  return {
    namespace: input.namespace ?? METRICS_NAMESPACE,
    name,
    dimensions: { [Dimension.Service]: input.service, ...extra },
    stat,
    ...more,
  };
}

function lambda(fn: string, name: string, stat: Stat, more: Partial<MetricRef> = {}): MetricRef {
  return { namespace: 'AWS/Lambda', name, dimensions: { FunctionName: fn }, stat, ...more };
}

function firehose(input: OperationsInput, name: string, stat: Stat, more: Partial<MetricRef> = {}): MetricRef {
  return { namespace: 'AWS/Firehose', name, dimensions: { DeliveryStreamName: input.stream }, stat, ...more };
}

function sqs(queue: string, name: string, stat: Stat, more: Partial<MetricRef> = {}): MetricRef {
  return { namespace: 'AWS/SQS', name, dimensions: { QueueName: queue }, stat, ...more };
}

const expr = (id: string, expression: string, label: string): ExpressionRef => ({ id, expression, label });

// ---- the dashboard -------------------------------------------------------------------------------------------------

export interface PanelSpec {
  /** Says what good looks like. */
  readonly title: string;
  readonly lines: (input: OperationsInput) => readonly Line[];
  /** Only on stages where this is true (an optional function, enabled providers). */
  readonly when?: (input: OperationsInput) => boolean;
  readonly yLabel?: string;
}

const freshnessMetric = (input: OperationsInput) =>
  input.outputMode === 's3' ? 'DeliveryToS3.DataFreshness' : 'DeliveryToAmazonOpenSearchService.DataFreshness';

/** The dashboard, top to bottom, two widgets per row. */
export const PANELS: readonly PanelSpec[] = [
  {
    title: 'Events in vs delivered — good: returned + re-ingested = in',
    lines: (i) => [
      own(i, MetricName.EventsIn, 'Sum'),
      own(i, MetricName.EventsReturned, 'Sum'),
      own(i, MetricName.EventsReingested, 'Sum'),
      firehose(i, 'IncomingRecords', 'Sum', { label: 'Firehose IncomingRecords (CloudWatch Logs batches)' }),
    ],
  },
  {
    title: 'Records by result — good: Ok, some Dropped (control messages), ProcessingFailed 0',
    lines: (i) => [
      own(i, MetricName.RecordsOk, 'Sum'),
      own(i, MetricName.RecordsDropped, 'Sum'),
      own(i, MetricName.RecordsProcessingFailed, 'Sum'),
    ],
  },
  {
    title: 'Re-ingested records — good: a few % of records, retries rare, failures 0',
    lines: (i) => [
      own(i, MetricName.RecordsReingested, 'Sum'),
      own(i, MetricName.ReingestRetries, 'Sum'),
      own(i, MetricName.ReingestFailures, 'Sum'),
    ],
  },
  {
    title: 'Partial enrichment, % of events, by cause — good: under the alarm threshold, mostly 0',
    yLabel: '%',
    lines: (i) => [
      own(i, MetricName.EventsPartial, 'Sum', {}, { id: 'partial', hidden: true }),
      own(i, MetricName.EventsIn, 'Sum', {}, { id: 'events', hidden: true }),
      expr('partialPct', '100 * partial / events', 'all causes'),
      ...Object.values(PartialCause).flatMap((cause, n) => [
        own(i, MetricName.EventsPartial, 'Sum', { [Dimension.Cause]: cause }, { id: `c${n}`, hidden: true }),
        expr(`c${n}Pct`, `100 * FILL(c${n}, 0) / events`, cause),
      ]),
    ],
  },
  {
    title: 'Provider calls and errors — good: errors a small share of calls, calls fall as the caches warm',
    when: (i) => i.providers.length > 0,
    lines: (i) =>
      i.providers.flatMap((p) => [
        own(i, MetricName.ProviderCalls, 'Sum', { [Dimension.Provider]: p }, { label: `${p} calls` }),
        own(i, MetricName.ProviderErrors, 'Sum', { [Dimension.Provider]: p }, { label: `${p} errors` }),
      ]),
  },
  {
    title: 'Provider latency p50 / p99, ms — good: p99 well under the provider timeout',
    when: (i) => i.providers.length > 0,
    yLabel: 'ms',
    lines: (i) =>
      i.providers.flatMap((p) =>
        (['p50', 'p99'] as const).map((stat) =>
          own(i, MetricName.ProviderLatency, stat, { [Dimension.Provider]: p }, { label: `${p} ${stat}` }),
        ),
      ),
  },
  {
    title: 'Provider breaker open (1 = open) — good: 0',
    when: (i) => i.providers.length > 0,
    lines: (i) => i.providers.map((p) => own(i, MetricName.ProviderBreakerOpen, 'Maximum', { [Dimension.Provider]: p }, { label: p })),
  },
  {
    title: 'Cache hit rates, % — good: L1 high on warm containers, DynamoDB answers most of the rest',
    yLabel: '%',
    lines: (i) => [
      own(i, MetricName.L1Hits, 'Sum', {}, { id: 'l1', hidden: true }),
      own(i, MetricName.UniqueIps, 'Sum', {}, { id: 'ips', hidden: true }),
      own(i, MetricName.DynamoDbHits, 'Sum', {}, { id: 'ddbHits', hidden: true }),
      own(i, MetricName.DynamoDbMisses, 'Sum', {}, { id: 'ddbMisses', hidden: true }),
      expr('l1Rate', '100 * l1 / ips', 'L1 (in-container), % of unique IPs'),
      expr('ddbRate', '100 * ddbHits / (ddbHits + ddbMisses)', 'DynamoDB, % of L1 misses'),
    ],
  },
  {
    title: 'Transform duration p50 / p99, ms — good: far under the timeout',
    yLabel: 'ms',
    lines: (i) => [
      lambda(i.transformFunction, 'Duration', 'p50', { label: 'p50' }),
      lambda(i.transformFunction, 'Duration', 'p99', { label: 'p99' }),
    ],
  },
  {
    title: 'Transform errors, throttles and cold starts — good: errors 0, throttles 0',
    lines: (i) => [
      lambda(i.transformFunction, 'Errors', 'Sum', { label: 'Errors' }),
      lambda(i.transformFunction, 'Throttles', 'Sum', { label: 'Throttles' }),
      own(i, MetricName.ColdStart, 'Sum', { [Dimension.FunctionName]: i.transformFunction }, { label: 'ColdStart' }),
    ],
  },
  {
    title: 'Firehose data freshness, s — good: a few buffer intervals, under the freshness alarm',
    yLabel: 's',
    lines: (i) => [firehose(i, freshnessMetric(i), 'Maximum', { label: 'oldest record, s' })],
  },
  {
    title: 'To the error prefix — good: 0 ProcessingFailed records, invocation success 1',
    lines: (i) => [
      own(i, MetricName.RecordsProcessingFailed, 'Sum', {}, { label: 'ProcessingFailed records (error prefix)' }),
      firehose(i, 'ExecuteProcessing.Success', 'Minimum', {
        label: 'Firehose invocation success (< 1: whole batches go to the error prefix after retries)',
      }),
    ],
  },
  {
    title: 'What it costs — good: GB-seconds follow events, provider calls follow new IPs',
    lines: (i) => [
      lambda(i.transformFunction, 'Duration', 'Sum', { id: 'duration', hidden: true }),
      expr('gbSeconds', `duration / 1000 * ${i.transformMemoryMb} / 1024`, 'transform GB-seconds'),
      own(i, MetricName.ProviderCalls, 'Sum', {}, { label: 'provider calls (billed per lookup)' }),
      firehose(i, 'IncomingBytes', 'Sum', { label: 'Firehose bytes in (billed per GB)' }),
    ],
  },
  {
    title: 'Backfill objects — good: failed 0, DLQ empty',
    when: (i) => i.backfill !== undefined,
    lines: (i) => [
      own(i, MetricName.ObjectsProcessed, 'Sum', { [Dimension.Function]: ObjectFunction.Backfill }, { label: 'written' }),
      own(
        i,
        MetricName.ObjectsSkipped,
        'Sum',
        { [Dimension.Function]: ObjectFunction.Backfill },
        { label: 'skipped (digests, not CloudTrail)' },
      ),
      own(i, MetricName.ObjectsFailed, 'Sum', { [Dimension.Function]: ObjectFunction.Backfill }, { label: 'failed' }),
      own(i, MetricName.ObjectEvents, 'Sum', { [Dimension.Function]: ObjectFunction.Backfill }, { label: 'events' }),
      sqs(i.backfill!.deadLetterQueueName, 'ApproximateNumberOfMessagesVisible', 'Maximum', { label: 'dead-letter queue' }),
      sqs(i.backfill!.failedEventsQueueName, 'ApproximateNumberOfMessagesVisible', 'Maximum', { label: 'failed async events' }),
    ],
  },
  {
    title: 'Object Lambda answers — good: failed 0, p99 well under 60 s',
    when: (i) => i.objectLambda !== undefined,
    lines: (i) => [
      own(i, MetricName.ObjectsProcessed, 'Sum', { [Dimension.Function]: ObjectFunction.ObjectLambda }, { label: 'returned' }),
      own(i, MetricName.ObjectsFailed, 'Sum', { [Dimension.Function]: ObjectFunction.ObjectLambda }, { label: 'failed' }),
      own(i, MetricName.ObjectDurationMs, 'p99', { [Dimension.Function]: ObjectFunction.ObjectLambda }, { label: 'duration p99, ms' }),
    ],
  },
  {
    title: 'Findings — good: failed 0; duplicates and grouped are repeats not resent',
    when: (i) => i.alerts === true,
    lines: (i) => [
      own(i, MetricName.AlertsSent, 'Sum', {}, { label: 'sent (EventBridge / Security Hub)' }),
      own(i, MetricName.AlertsDuplicate, 'Sum', {}, { label: 'duplicates not resent' }),
      own(i, MetricName.AlertsGrouped, 'Sum', {}, { label: 'grouped repeats' }),
      own(i, MetricName.AlertsFailed, 'Sum', {}, { label: 'failed (given up)' }),
    ],
  },
  {
    // Baseline unavailability also makes events partial (cause baseline / threshold): PartialEnrichmentAlarm covers it.
    title: 'Baselines and thresholds — good: unavailable 0; writes fall to ~0 once facts are known',
    when: (i) => i.baseline === true,
    lines: (i) => [
      own(i, MetricName.BaselineReads, 'Sum', {}, { label: 'baseline BatchGetItem calls' }),
      own(i, MetricName.BaselineWrites, 'Sum', {}, { label: 'baseline writes (new facts, daily refresh)' }),
      own(i, MetricName.BaselineNewFacts, 'Sum', {}, { label: 'facts new for their principal' }),
      own(i, MetricName.BaselineUnavailable, 'Sum', {}, { label: 'events without a baseline (DynamoDB failed)' }),
      own(i, MetricName.ThresholdUpdates, 'Sum', {}, { label: 'threshold counter updates' }),
      own(i, MetricName.ThresholdCrossed, 'Sum', {}, { label: 'thresholds crossed' }),
      own(i, MetricName.ThresholdUnavailable, 'Sum', {}, { label: 'events not counted (DynamoDB failed)' }),
    ],
  },
];

// ---- the alarms ----------------------------------------------------------------------------------------------------

export interface AlarmSpec {
  /** CloudFormation logical id. */
  readonly id: string;
  /** Suffix of the alarm name (`<namePrefix>-<suffix>`). */
  readonly name: string;
  /** The runbook line: what it means and what to check first. */
  readonly description: (input: OperationsInput) => string;
  readonly lines: (input: OperationsInput) => readonly Line[];
  /** Id of the line compared with the threshold (default: the only line). */
  readonly returns?: string;
  readonly threshold: (t: Thresholds) => number;
  readonly comparison?: 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold';
  readonly periods?: (t: Thresholds) => number;
  readonly when?: (input: OperationsInput) => boolean;
}

const SUM_GE = 'GreaterThanOrEqualToThreshold' as const;

export const ALARMS: readonly AlarmSpec[] = [
  {
    id: 'PartialEnrichmentAlarm',
    name: 'partial-enrichment',
    description: (i) =>
      `Over ${i.thresholds.partialPercent} % of events went out partial for 15 minutes. Check first: the dashboard's partial-by-cause widget, then the provider breaker and error widgets (a provider down or its key rejected), then transform duration (deadline).`,
    lines: (i) => [
      own(i, MetricName.EventsPartial, 'Sum', {}, { id: 'partial', hidden: true }),
      own(i, MetricName.EventsIn, 'Sum', {}, { id: 'events', hidden: true }),
      expr('partialPct', '100 * partial / events', 'partial, % of events'),
    ],
    returns: 'partialPct',
    threshold: (t) => t.partialPercent,
    comparison: 'GreaterThanThreshold',
    periods: () => 3,
  },
  {
    id: 'ProcessingFailedRecordsAlarm',
    name: 'processing-failed-records',
    description: () =>
      'Records returned as ProcessingFailed (undecodable input) are in the error prefix. Check first: the transform log line "invocation summary" (failureReasons), then the objects under errors/processing-failed/.',
    lines: (i) => [own(i, MetricName.RecordsProcessingFailed, 'Sum')],
    threshold: (t) => t.processingFailedRecords,
  },
  {
    id: 'ReingestFailuresAlarm',
    name: 'reingest-failures',
    description: () =>
      "Re-ingestion of records that did not fit the response failed after all retries; Firehose retries the batch. Check first: Firehose ThrottledRecords (stream quota), then the transform role's firehose:PutRecordBatch permission.",
    lines: (i) => [own(i, MetricName.ReingestFailures, 'Sum')],
    threshold: (t) => t.reingestFailures,
  },
  {
    id: 'TransformErrorsAlarm',
    name: 'transform-errors',
    description: () =>
      'The transform threw (re-ingestion failed for good, or a bug); Firehose retries the batch, then sends it to the error prefix. Check first: ERROR lines in the transform log group (function_request_id), then ReingestFailures.',
    lines: (i) => [lambda(i.transformFunction, 'Errors', 'Sum')],
    threshold: (t) => t.transformErrors,
  },
  {
    id: 'TransformThrottlesAlarm',
    name: 'transform-throttles',
    description: () =>
      "Lambda throttled Firehose's invocations of the transform; delivery falls behind. Check first: the account's concurrent executions and any reserved concurrency on other functions, then Firehose freshness.",
    lines: (i) => [lambda(i.transformFunction, 'Throttles', 'Sum')],
    threshold: (t) => t.transformThrottles,
  },
  {
    id: 'BackfillFailedObjectsAlarm',
    name: 'backfill-failed-objects',
    when: (i) => i.backfill !== undefined,
    description: () =>
      'Backfill objects failed (retryable ones are retried, permanent ones are not). Check first: "backfill failed" lines in the backfill log group (code, bucket, key), then the role\'s access to the trail bucket and its KMS key.',
    lines: (i) => [own(i, MetricName.ObjectsFailed, 'Sum', { [Dimension.Function]: ObjectFunction.Backfill })],
    threshold: (t) => t.backfillFailedObjects,
  },
  {
    id: 'BackfillDeadLetterAlarm',
    name: 'backfill-dead-letters',
    when: (i) => i.backfill !== undefined,
    description: () =>
      'Notifications kept failing and were moved to the backfill dead-letter queue (SQS) or the failed-events queue (asynchronous invocations). Check first: the backfill log for those objects; once fixed, redrive the DLQ to the backfill queue (SQS console "Start DLQ redrive").',
    lines: (i) => [
      sqs(i.backfill!.deadLetterQueueName, 'ApproximateNumberOfMessagesVisible', 'Maximum', { id: 'dlq', hidden: true }),
      sqs(i.backfill!.failedEventsQueueName, 'ApproximateNumberOfMessagesVisible', 'Maximum', { id: 'failedEvents', hidden: true }),
      expr('deadLetters', 'FILL(dlq, 0) + FILL(failedEvents, 0)', 'dead letters'),
    ],
    returns: 'deadLetters',
    threshold: () => 1,
  },
  {
    id: 'ObjectLambdaFailedObjectsAlarm',
    name: 'object-lambda-failed-objects',
    when: (i) => i.objectLambda !== undefined,
    description: () =>
      'GetObject through the Object Lambda access point failed (the caller got an S3 error). Check first: "object not enriched" lines in the object-lambda log (statusCode, errorCode), then the supporting access point policy.',
    lines: (i) => [own(i, MetricName.ObjectsFailed, 'Sum', { [Dimension.Function]: ObjectFunction.ObjectLambda })],
    threshold: (t) => t.objectLambdaFailedObjects,
  },
  {
    id: 'AlertFailuresAlarm',
    name: 'alert-failures',
    when: (i) => i.alerts === true,
    description: () =>
      'Findings could not be sent to EventBridge or Security Hub after all retries (the records themselves were delivered). Check first: "alerts failed after all retries" lines in the transform log (reasons), then the role\'s events:PutEvents on the findings bus and, with Security Hub on, that Security Hub is enabled in the account.',
    lines: (i) => [own(i, MetricName.AlertsFailed, 'Sum')],
    threshold: (t) => t.alertsFailed,
  },
];

/** One breaker alarm per enabled provider (a table entry would need the provider list; built here instead). */
function breakerAlarms(input: OperationsInput): AlarmSpec[] {
  return input.providers.map((provider) => ({
    id: `ProviderBreakerOpen${provider.charAt(0).toUpperCase()}${provider.slice(1)}Alarm`,
    name: `provider-breaker-open-${provider}`,
    description: (i: OperationsInput) =>
      `The ${provider} circuit breaker stayed open for ${i.thresholds.breakerOpenPeriods * 5} minutes: its lookups are skipped and events go out partial. Check first: WARN lines with provider=${provider} in the transform log (HTTP 401/403 = key rejected or quota used up, 429 = rate limit), then the provider's status page.`,
    lines: (i: OperationsInput) => [own(i, MetricName.ProviderBreakerOpen, 'Maximum', { [Dimension.Provider]: provider })],
    threshold: () => 1,
    periods: (t: Thresholds) => t.breakerOpenPeriods,
  }));
}

// ---- CloudFormation ------------------------------------------------------------------------------------------------

type Json = unknown;

function widgetMetric(line: Line): Json[] {
  if ('expression' in line) return [{ expression: line.expression, label: line.label, id: line.id }];
  const options: Record<string, Json> = { stat: line.stat };
  if (line.label !== undefined) options.label = line.label;
  if (line.id !== undefined) options.id = line.id;
  if (line.hidden === true) options.visible = false;
  return [line.namespace, line.name, ...Object.entries(line.dimensions).flat(), options];
}

/** The dashboard body (JSON text with `${AWS::Region}` for Fn::Sub). */
export function dashboardBody(input: OperationsInput): { widgets: Json[] } {
  const panels = PANELS.filter((p) => p.when?.(input) ?? true);
  const widgets = panels.map((panel, n) => ({
    type: 'metric',
    x: (n % 2) * 12,
    y: Math.floor(n / 2) * 6,
    width: 12,
    height: 6,
    properties: {
      title: panel.title,
      view: 'timeSeries',
      stacked: false,
      region: '${AWS::Region}',
      period: 300,
      metrics: panel.lines(input).map(widgetMetric),
      ...(panel.yLabel !== undefined ? { yAxis: { left: { label: panel.yLabel, showUnits: false, min: 0 } } } : {}),
    },
  }));
  return { widgets };
}

function alarmMetrics(lines: readonly Line[], returns: string | undefined): Json[] {
  return lines.map((line, n) => {
    const id = line.id ?? `m${n}`;
    const returnData = returns === undefined ? true : id === returns;
    if ('expression' in line) return { Id: id, Expression: line.expression, Label: line.label, ReturnData: returnData };
    return {
      Id: id,
      ReturnData: returnData,
      MetricStat: {
        Metric: {
          Namespace: line.namespace,
          MetricName: line.name,
          Dimensions: Object.entries(line.dimensions).map(([Name, Value]) => ({ Name, Value })),
        },
        Period: 300,
        Stat: line.stat,
      },
    };
  });
}

function alarmResource(spec: AlarmSpec, input: OperationsInput): Json {
  const lines = spec.lines(input);
  const common = {
    AlarmName: `${input.namePrefix}-${spec.name}`,
    AlarmDescription: spec.description(input),
    EvaluationPeriods: spec.periods?.(input.thresholds) ?? 1,
    Threshold: spec.threshold(input.thresholds),
    ComparisonOperator: spec.comparison ?? SUM_GE,
    // No traffic is not an incident (the freshness alarm covers stalls).
    TreatMissingData: 'notBreaching',
    AlarmActions: [{ Ref: 'AlarmTopic' }],
    OKActions: [{ Ref: 'AlarmTopic' }],
  };
  const only = lines[0];
  if (lines.length === 1 && only !== undefined && !('expression' in only)) {
    return {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        ...common,
        Namespace: only.namespace,
        MetricName: only.name,
        Dimensions: Object.entries(only.dimensions).map(([Name, Value]) => ({ Name, Value })),
        Statistic: only.stat,
        Period: 300,
      },
    };
  }
  return { Type: 'AWS::CloudWatch::Alarm', Properties: { ...common, Metrics: alarmMetrics(lines, spec.returns) } };
}

/** The CloudFormation fragment (`Resources`, `Outputs`) of the dashboard and the alarms on the project's metrics. */
export function operationsResources(input: OperationsInput): { Resources: Record<string, Json>; Outputs: Record<string, Json> } {
  const resources: Record<string, Json> = {
    OperationsDashboard: {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: { DashboardName: input.dashboardName, DashboardBody: { 'Fn::Sub': JSON.stringify(dashboardBody(input)) } },
    },
  };
  for (const spec of [...ALARMS, ...breakerAlarms(input)]) {
    if (spec.when?.(input) ?? true) resources[spec.id] = alarmResource(spec, input);
  }
  return {
    Resources: resources,
    Outputs: {
      DashboardUrl: {
        Description: 'The operations dashboard of this stage (docs/operations.md)',
        Value: {
          'Fn::Sub': `https://\${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=\${AWS::Region}#dashboards:name=${input.dashboardName}`,
        },
      },
    },
  };
}
