import type { BaselineStage } from '../4-baseline/stage.ts';
import type { ThresholdCounter } from '../5-rules/thresholds/stage.ts';
import type {
  FirehoseTransformationEvent,
  FirehoseTransformationEventRecord,
  FirehoseTransformationResult,
  FirehoseTransformationResultRecord,
} from 'aws-lambda';
import type { CoreConfig } from '../config/core.ts';
import { newDecompressionBudget } from '../1-decode/limits.ts';
import { decodeRecord, type DecodedRecord } from '../1-decode/record.ts';
import { FIREHOSE_MAX_RECORD_BYTES, KINESIS_MAX_RECORD_BYTES } from '../8-deliver/limits.ts';
import { maxEnvelopeBody, planResponse, type PlanInput } from '../8-deliver/plan.ts';
import { buildEnvelopes, reingest, type RecordSink } from '../8-deliver/reingest.ts';
import { layoutPartitionKeys } from '../7-encode/layouts/index.ts';
import { fallbackPartitionKeys, sanitisePartitionKeys } from '../7-encode/partition.ts';
import type { IpIntelligence } from '../3-lookup/types.ts';
import { silentLog, type Log } from '../model.ts';
import type { RuleEngine } from '../5-rules/types.ts';
import { emptyAlertStats, type AlertStage, type AlertStats } from '../6-alert/stage.ts';
import { enrichmentDeadline, finishEstimateMs, slowdownOf } from './deadline.ts';
import { emptyEnrichCounters, enrichEventGroups, errorName, type EnrichCounters, type EventGroup } from './enrich.ts';

export interface TransformDeps {
  readonly config: CoreConfig;
  /** The lookup stage; without it, public addresses are classified but not geolocated. */
  readonly intel?: IpIntelligence;
  /** The baseline stage; without it, events carry no `baseline`. */
  readonly baseline?: BaselineStage;
  /** The rules stage; without it, events carry no priority or risk. */
  readonly rules?: RuleEngine;
  /** Counts threshold rules' candidates; without it, threshold rules never match. */
  readonly thresholds?: ThresholdCounter;
  /** The alert stage; without it, no findings are sent. */
  readonly alerts?: AlertStage;
  /** Where overflow goes: the delivery stream itself, or the source Kinesis stream. */
  readonly sinkFor: (event: FirehoseTransformationEvent) => RecordSink;
  readonly log?: Log;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<unknown>;
  readonly random?: () => number;
}

/** Counts of one invocation: logged as one line and published as metrics. */
export interface InvocationSummary extends EnrichCounters {
  records: number;
  ok: number;
  dropped: number;
  processingFailed: number;
  /** Of `eventsIn`: returned in this response. */
  eventsReturned: number;
  /** Of `eventsIn`: re-ingested for a later invocation. */
  eventsReingested: number;
  /** Events inside re-ingested records that came back and were delivered now. */
  passthroughEvents: number;
  /** Events inside re-ingested records that did not fit and were re-ingested again unchanged. */
  passthroughDeferred: number;
  reingestedRecords: number;
  reingestCalls: number;
  reingestRetries: number;
  failureReasons: Record<string, number>;
  /** Findings of this invocation (sent, duplicates, grouped, failed). */
  alerts: AlertStats;
  /** recordId → why that record was returned `ProcessingFailed` (the local runner writes it into the error record). */
  recordFailures: Record<string, string>;
  durationMs: number;
}

export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/**
 * The Firehose transformation: decode → classify → lookup (per unique public IP) → rules → encode → deliver.
 * Never throws for bad input, failed lookups or rules; throws only `ReingestionError` (all retries used) so that
 * Firehose retries the batch rather than losing events.
 */
export async function transformBatch(
  event: FirehoseTransformationEvent,
  context: InvocationContext,
  deps: TransformDeps,
): Promise<{ result: FirehoseTransformationResult; summary: InvocationSummary }> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? silentLog;
  const { config } = deps;
  const started = now();
  const remaining = safeRemaining(context);
  const invocationDeadline = started + Math.max(0, remaining - config.responseReserveMs);

  const summary = emptySummary(event.records.length);
  const budget = newDecompressionBudget(
    config.maxDecompressedPerRecord,
    config.maxDecompressedPerInvocation,
    config.maxParsedPerRecord,
    config.maxParsedPerInvocation,
  );
  const records = event.records;

  // Decode every record once.
  const decoded: DecodedRecord[] = new Array(records.length);
  const groups: EventGroup[] = [];
  const groupOf: number[] = new Array(records.length).fill(-1);
  for (let r = 0; r < records.length; r++) {
    const d = safeDecode(records[r]!, budget, log);
    decoded[r] = d;
    if (d.kind === 'events') {
      groupOf[r] = groups.length;
      groups.push({ events: d.events, arrival: records[r]!.approximateArrivalTimestamp ?? started });
    }
  }

  // The lookups stop early enough for what follows them to fit before the invocation deadline (deadline.ts).
  let events = 0;
  for (const group of groups) events += group.events.length;
  const decodedBytes = config.maxDecompressedPerInvocation - budget.remaining;
  const slowdown = slowdownOf(now() - started, { events, decodedBytes });
  const lookupDeadline = (publicSources: number): number =>
    enrichmentDeadline({
      started,
      now: now(),
      remainingMs: remaining,
      responseReserveMs: config.responseReserveMs,
      fraction: config.enrichmentBudgetFraction,
      finishMs: finishEstimateMs({ events, publicSources, decodedBytes }, slowdown),
    });

  // Classify, look up (once per unique public IP of the whole invocation), baseline, judge and encode every event.
  const alerts = deps.alerts?.begin(now);
  const lines = await enrichEventGroups(
    groups,
    { config, intel: deps.intel, baseline: deps.baseline, rules: deps.rules, thresholds: deps.thresholds, alerts, log },
    lookupDeadline,
    summary,
  );
  // Parsed events are no longer needed (only text slices and verdicts are): let them be collected before the
  // response and the envelopes are built.
  groups.length = 0;
  for (let r = 0; r < records.length; r++) if (decoded[r]!.kind === 'events') decoded[r] = EVENTS_DONE;

  const inputs: PlanInput[] = new Array(records.length);
  for (let r = 0; r < records.length; r++) {
    const record = records[r]!;
    const d = decoded[r]!;
    const arrival = record.approximateArrivalTimestamp ?? started;
    if (d.kind === 'failed') {
      summary.failureReasons[d.error] = (summary.failureReasons[d.error] ?? 0) + 1;
      summary.recordFailures[record.recordId] = d.error;
      inputs[r] = { kind: 'failed', recordId: record.recordId, data: record.data };
    } else if (d.kind === 'control') {
      inputs[r] = { kind: 'dropped', recordId: record.recordId };
    } else if (d.kind === 'reingested') {
      const { header, body } = d.envelope;
      const keys =
        header.pk === undefined ? undefined : sanitisePartitionKeys(header.pk, arrival, { accountAllowlist: config.accountAllowlist });
      inputs[r] = {
        kind: 'passthrough',
        recordId: record.recordId,
        body,
        keys: config.outputMode === 's3' ? (keys ?? fallbackPartitionKeys(arrival)) : undefined,
        lines: header.n,
      };
    } else {
      const recordLines = lines[groupOf[r]!]!;
      inputs[r] =
        recordLines.length === 0
          ? { kind: 'dropped', recordId: record.recordId }
          : { kind: 'events', recordId: record.recordId, lines: recordLines };
    }
  }

  const plan = planResponse(inputs, { mode: config.outputMode, responseBudget: config.responseBudget });

  // Re-ingest what did not fit, before answering: if that fails for good, the handler throws.
  const kinesisKeys = event.sourceKinesisStreamArn === undefined ? undefined : kinesisPartitionKeys(records);
  const envelopes = buildEnvelopes(plan.reingest, {
    mode: config.outputMode,
    maxBodyBytes: maxEnvelopeBody(config.responseBudget),
    maxRecordBytes: kinesisKeys === undefined ? FIREHOSE_MAX_RECORD_BYTES : KINESIS_MAX_RECORD_BYTES,
    partitionKeyOf: kinesisKeys === undefined ? undefined : (origin) => kinesisKeys.get(origin),
  });
  if (envelopes.records.length > 0) {
    const outcome = await reingest(envelopes.records, deps.sinkFor(event), {
      maxAttempts: config.reingestMaxAttempts,
      baseDelayMs: config.reingestBaseDelayMs,
      maxDelayMs: config.reingestMaxDelayMs,
      deadline: invocationDeadline,
      // A call may run into the first three quarters of the response reserve, never past it: the answer (or the
      // throw) still leaves Lambda a quarter of the reserve.
      callDeadline: started + Math.max(0, remaining - Math.floor(config.responseReserveMs / 4)),
      callTimeoutMs: config.reingestCallTimeoutMs,
      now,
      sleep: deps.sleep,
      random: deps.random,
      log,
    });
    summary.reingestCalls = outcome.calls;
    summary.reingestRetries = outcome.retried;
  }

  // Alerts go out once the records' data is safe (re-ingested overflow accepted), within the same deadline; a
  // failed alert never fails the invocation. Pass-through records are never judged again, so they never alert.
  // See docs/alerts.md, "Ordering".
  if (alerts !== undefined && alerts.size > 0) summary.alerts = (await alerts.send({ deadline: invocationDeadline, now })).stats;

  const originals = new Map<string, string>();
  if (envelopes.unsendable.size > 0) for (const record of records) originals.set(record.recordId, record.data);
  const output: FirehoseTransformationResultRecord[] = new Array(plan.records.length);
  for (let i = 0; i < plan.records.length; i++) {
    const planned = plan.records[i]!;
    const input = inputs[i]!;
    if (envelopes.unsendable.has(planned.recordId)) {
      // A line too large to re-ingest even alone: the whole record goes to the error prefix, unchanged.
      output[i] = { recordId: planned.recordId, result: 'ProcessingFailed', data: originals.get(planned.recordId) ?? '' };
      summary.processingFailed++;
      summary.failureReasons['event too large to re-ingest'] = (summary.failureReasons['event too large to re-ingest'] ?? 0) + 1;
      summary.recordFailures[planned.recordId] = 'event too large to re-ingest';
      if (input.kind === 'events') summary.eventsIn -= input.lines.length;
      continue;
    }
    if (planned.result === 'ProcessingFailed') {
      output[i] = { recordId: planned.recordId, result: 'ProcessingFailed', data: planned.data };
      summary.processingFailed++;
    } else if (planned.result === 'Dropped') {
      output[i] = { recordId: planned.recordId, result: 'Dropped', data: '' };
      summary.dropped++;
    } else {
      const out: FirehoseTransformationResultRecord = { recordId: planned.recordId, result: 'Ok', data: planned.body.toString('base64') };
      if (planned.keys !== undefined && config.outputMode === 's3')
        out.metadata = { partitionKeys: layoutPartitionKeys(config.layout?.format, planned.keys) };
      output[i] = out;
      summary.ok++;
      if (input.kind === 'passthrough') summary.passthroughEvents += planned.lines;
      else summary.eventsReturned += planned.lines;
    }
  }
  const passthroughIds = new Set<string>();
  for (const input of inputs) if (input.kind === 'passthrough') passthroughIds.add(input.recordId);
  for (const record of envelopes.records) {
    summary.reingestedRecords++;
    if (passthroughIds.has(record.origin)) summary.passthroughDeferred += record.lines;
    else summary.eventsReingested += record.lines;
  }
  summary.durationMs = now() - started;
  return { result: { records: output }, summary };
}

/** Stands in for a decoded events record once its events are encoded (the parsed events are released). */
const EVENTS_DONE: DecodedRecord = { kind: 'events', format: 'ndjson', events: [] };

function safeDecode(record: FirehoseTransformationEventRecord, budget: ReturnType<typeof newDecompressionBudget>, log: Log): DecodedRecord {
  try {
    return decodeRecord(record.data, budget);
  } catch (err) {
    log.error('record decoding threw', { recordId: record.recordId, error: errorName(err) });
    return { kind: 'failed', error: 'internal decoding error' };
  }
}

function kinesisPartitionKeys(records: readonly FirehoseTransformationEventRecord[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const record of records) {
    const key = record.kinesisRecordMetadata?.partitionKey;
    if (key !== undefined) keys.set(record.recordId, key);
  }
  return keys;
}

function safeRemaining(context: InvocationContext): number {
  const ms = context.getRemainingTimeInMillis();
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function emptySummary(records: number): InvocationSummary {
  return {
    records,
    ok: 0,
    dropped: 0,
    processingFailed: 0,
    eventsReturned: 0,
    eventsReingested: 0,
    passthroughEvents: 0,
    passthroughDeferred: 0,
    reingestedRecords: 0,
    reingestCalls: 0,
    reingestRetries: 0,
    ...emptyEnrichCounters(),
    failureReasons: {},
    alerts: emptyAlertStats(),
    recordFailures: {},
    durationMs: 0,
  };
}
