import type { Context, FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { CoreConfig } from '../config/core.ts';
import { ReingestionError } from '../errors.ts';
import { FirehoseSink, KinesisSink, deliveryStreamNameFromArn } from '../8-deliver/sinks.ts';
import type { RecordSink } from '../8-deliver/reingest.ts';
import type { IpIntelligence } from '../3-lookup/types.ts';
import { silentLog, type Log } from '../model.ts';
import { publishReingestFailure, publishSummaryMetrics, summaryLogFields, type MetricsSink } from '../observability/report.ts';
import type { RuleEngine } from '../5-rules/types.ts';
import type { BaselineStage } from '../4-baseline/stage.ts';
import type { ThresholdCounter } from '../5-rules/thresholds/stage.ts';
import type { AlertStage } from '../6-alert/stage.ts';
import { transformBatch, type InvocationSummary } from './transform.ts';

export interface TransformHandlerOptions {
  readonly config: CoreConfig;
  /** Built once per container (cold start) and reused, so caches survive warm invocations. */
  readonly intel?: IpIntelligence | Promise<IpIntelligence>;
  /** Built once per container: its L1 of known facts survives warm invocations. */
  readonly baseline?: BaselineStage;
  readonly rules?: RuleEngine;
  /** Built once per container: threshold rules' counters (without a table, its memory is the counter). */
  readonly thresholds?: ThresholdCounter;
  /** Findings to EventBridge / Security Hub (built once per container: its memory of sent findings is the L1). */
  readonly alerts?: AlertStage;
  /** Stream clients, created (and their modules loaded) on the first re-ingestion. */
  readonly firehose: () => FirehoseClient | Promise<FirehoseClient>;
  readonly kinesis: () => KinesisClient | Promise<KinesisClient>;
  /** Tests and the local runner can replace the stream the overflow goes to. */
  readonly sinkFor?: (event: FirehoseTransformationEvent) => RecordSink;
  readonly log?: Log;
  readonly metrics?: MetricsSink;
  readonly onSummary?: (summary: InvocationSummary) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

export type TransformHandler = (
  event: FirehoseTransformationEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<FirehoseTransformationResult>;

/** Builds the Lambda handler around the pure pipeline: one summary log line and one set of metrics per invocation. */
export function createTransformHandler(options: TransformHandlerOptions): TransformHandler {
  const log = options.log ?? silentLog;
  const sinks = new Map<string, RecordSink>();
  const sinkFor =
    options.sinkFor ??
    ((event: FirehoseTransformationEvent): RecordSink => {
      const key = event.sourceKinesisStreamArn ?? event.deliveryStreamArn;
      let sink = sinks.get(key);
      if (sink === undefined) {
        sink =
          event.sourceKinesisStreamArn !== undefined
            ? new KinesisSink(options.kinesis, event.sourceKinesisStreamArn)
            : new FirehoseSink(options.firehose, deliveryStreamNameFromArn(event.deliveryStreamArn));
        sinks.set(key, sink);
      }
      return sink;
    });

  return async (event, context) => {
    const intel = await options.intel;
    try {
      const { result, summary } = await transformBatch(event, context, {
        config: options.config,
        intel,
        baseline: options.baseline,
        rules: options.rules,
        thresholds: options.thresholds,
        alerts: options.alerts,
        sinkFor,
        log,
        now: options.now,
        sleep: options.sleep,
      });
      log.info('invocation summary', summaryLogFields(summary));
      if (options.metrics !== undefined) publishSummaryMetrics(summary, options.metrics);
      options.onSummary?.(summary);
      return result;
    } catch (err) {
      if (err instanceof ReingestionError) {
        log.error('re-ingestion failed after all retries; failing the invocation so Firehose retries the batch', {
          error: err.message,
          records: event.records.length,
        });
        if (options.metrics !== undefined) publishReingestFailure(options.metrics);
      }
      throw err;
    }
  };
}
