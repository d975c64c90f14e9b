/**
 * Where findings go. A publisher sends a list of findings in calls within the service's limits and reports
 * which of them failed for good. One retry layer: failed entries and failed calls are resent with backoff, up
 * to `maxAttempts` and never past the invocation deadline; the SDK clients make one attempt per call.
 */
import type { Finding } from './finding.ts';
import { backoffMs, bounded, callSignal, errorText } from './util.ts';

export interface PublishOptions {
  readonly deadline: number;
  readonly now: () => number;
  readonly callTimeoutMs: number;
  readonly maxAttempts: number;
  readonly sleep?: (ms: number) => Promise<unknown>;
  readonly random?: () => number;
}

export interface PublishResult {
  /** Index into the findings → why it was given up. */
  readonly failed: Map<number, string>;
  readonly calls: number;
  readonly retries: number;
}

export interface FindingPublisher {
  readonly name: string;
  /** Re-sending a finding updates it instead of duplicating it (Security Hub ids): its failures keep the claim. */
  readonly idempotent: boolean;
  publish(findings: readonly Finding[], options: PublishOptions): Promise<PublishResult>;
}

/** One call's answer: per entry (by position in the call) an error code, or undefined when accepted. */
export type CallAnswer = { entryErrors: (string | undefined)[] };

export interface EntryCalls {
  /** Cuts the pending findings (indices) into calls within the service limits; an index that can never fit is returned in `unsendable`. */
  plan(pending: readonly number[]): { calls: number[][]; unsendable: Map<number, string> };
  send(indices: readonly number[], signal: AbortSignal): Promise<CallAnswer>;
  /** Entry error codes worth another attempt. */
  retryable(code: string): boolean;
}

const sleepFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The retry loop shared by the publishers. Never throws. */
export async function sendWithRetries(count: number, calls: EntryCalls, options: PublishOptions): Promise<PublishResult> {
  const failed = new Map<number, string>();
  let pending = Array.from({ length: count }, (_, i) => i);
  let callCount = 0;
  let retries = 0;
  const lastError = new Map<number, string>();
  for (let attempt = 0; attempt < options.maxAttempts && pending.length > 0; attempt++) {
    if (attempt > 0) {
      retries += pending.length;
      const wait = backoffMs(attempt, options.deadline, options.now(), options.random);
      if (wait > 0) await (options.sleep ?? sleepFor)(wait);
    }
    const { calls: planned, unsendable } = calls.plan(pending);
    for (const [index, why] of unsendable) failed.set(index, why);
    const next: number[] = [];
    // Calls of one attempt go out together (a handful: findings are rare), each with its own timeout.
    await Promise.all(
      planned.map(async (indices) => {
        const signal = callSignal(options);
        if (signal === undefined) {
          for (const i of indices) lastError.set(i, 'invocation deadline reached');
          next.push(...indices);
          return;
        }
        callCount++;
        try {
          const answer = await bounded(calls.send(indices, signal), signal);
          indices.forEach((index, position) => {
            const code = answer.entryErrors[position];
            if (code === undefined) return;
            lastError.set(index, code);
            if (calls.retryable(code)) next.push(index);
            else failed.set(index, code);
          });
        } catch (err) {
          for (const i of indices) lastError.set(i, errorText(err));
          next.push(...indices);
        }
      }),
    );
    pending = next.sort((a, b) => a - b);
    if (options.deadline - options.now() <= 0) break;
  }
  for (const index of pending) failed.set(index, lastError.get(index) ?? 'invocation deadline reached');
  return { failed, calls: callCount, retries };
}
