/**
 * What a compiled condition runs on: one {@link EvalContext} per engine, reused for every event (evaluation
 * is synchronous and not re-entrant), and the two function shapes the interpreter, the operators and the
 * generated code share.
 */
import type { CloudTrailEvent, Enrichment } from '../model.ts';
import type { FieldPath } from './path.ts';
import { parseEventTime } from './time.ts';

export interface EvalContext {
  event: CloudTrailEvent;
  enrichment: Readonly<Enrichment>;
  /** The base for relative paths: the event, or the current element inside `some`. */
  scope: unknown;
  /** eventTime as epoch ms; NaN when invalid; undefined until first needed. */
  epochMs: number | undefined;
}

/** A compiled condition. */
export type Cond = (ctx: EvalContext) => boolean;
/** A compiled test of one value a field path reached. */
export type ValuePred = (value: unknown, ctx: EvalContext) => boolean;

/** The value a path starts from: the current scope, the event root (`$.`) or the enrichment. */
export function baseFor(path: FieldPath, ctx: EvalContext): unknown {
  return path.root === 'scope' ? ctx.scope : path.root === 'enrichment' ? ctx.enrichment : ctx.event;
}

let lastTimeText: unknown;
let lastTimeEpoch = Number.NaN;

/** The event's eventTime as epoch ms (NaN when invalid), parsed at most once per event. */
export function eventEpoch(ctx: EvalContext): number {
  if (ctx.epochMs === undefined) {
    const text = (ctx.event as { eventTime?: unknown }).eventTime;
    // Events of one batch share few distinct seconds: remember the last parse.
    if (text !== lastTimeText || typeof text !== 'string') {
      lastTimeEpoch = parseEventTime(text);
      lastTimeText = text;
    }
    ctx.epochMs = lastTimeEpoch;
  }
  return ctx.epochMs;
}
