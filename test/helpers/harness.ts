import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { transformBatch, type InvocationSummary, type TransformDeps } from '../../src/pipeline/transform.ts';
import { firehoseEvent, firehoseRecord, lambdaContext } from './factories.ts';
import type { MemorySink } from './sinks.ts';

export interface Round {
  readonly event: FirehoseTransformationEvent;
  readonly result: FirehoseTransformationResult;
  readonly summary: InvocationSummary;
}

/**
 * Runs a batch through the transform and feeds whatever it re-ingested back in, as Firehose would,
 * until nothing is re-ingested. Throws if that does not terminate.
 */
export async function runUntilDrained(
  first: FirehoseTransformationEvent,
  sink: MemorySink,
  deps: Omit<TransformDeps, 'sinkFor'>,
  maxRounds = 50,
): Promise<Round[]> {
  const rounds: Round[] = [];
  let event = first;
  for (let i = 0; i < maxRounds; i++) {
    const { result, summary } = await transformBatch(event, lambdaContext(), { ...deps, sinkFor: () => sink });
    rounds.push({ event, result, summary });
    const back = sink.drain();
    if (back.length === 0) return rounds;
    event = firehoseEvent(back.map((r) => firehoseRecord(r.data.toString('base64'))));
  }
  throw new Error(`re-ingestion did not terminate within ${maxRounds} rounds`);
}
