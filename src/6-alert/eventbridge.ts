/** EventBridge adapter: findings → PutEvents on the configured bus. */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { entryBytes, FINDING_DETAIL_TYPE, FINDING_SOURCE, PUT_EVENTS_MAX_ENTRY_BYTES, type Finding } from './finding.ts';
import { sendWithRetries, type FindingPublisher, type PublishOptions, type PublishResult } from './publish.ts';

/** PutEvents accepts at most 10 entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** PutEvents: the entries of one request together must stay under 256 KB (262,144 bytes). */
export const PUT_EVENTS_MAX_REQUEST_BYTES = 256 * 1024;

/** Per-entry codes PutEvents documents as transient. */
const RETRYABLE = new Set(['ThrottlingException', 'InternalFailure', 'InternalException', 'ServiceUnavailable']);

/** One attempt per call: our loop is the one retry layer (an SDK retry would resend accepted entries). */
export const ALERT_CLIENT_CONFIG = { maxAttempts: 1 } as const;

export class EventBridgePublisher implements FindingPublisher {
  readonly name = 'eventbridge';
  readonly idempotent = false;

  constructor(
    private readonly client: Pick<EventBridgeClient, 'send'> | (() => Promise<Pick<EventBridgeClient, 'send'>>),
    private readonly eventBusName: string,
  ) {}

  async publish(findings: readonly Finding[], options: PublishOptions): Promise<PublishResult> {
    if (findings.length === 0) return { failed: new Map(), calls: 0, retries: 0 };
    const client = typeof this.client === 'function' ? await this.client() : this.client;
    const { PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    const details = findings.map((f) => JSON.stringify(f));
    const sizes = details.map((d) => entryBytes(d));
    return sendWithRetries(
      findings.length,
      {
        plan: (pending) => {
          const calls: number[][] = [];
          const unsendable = new Map<number, string>();
          let current: number[] = [];
          let bytes = 0;
          for (const i of pending) {
            if (sizes[i]! > PUT_EVENTS_MAX_ENTRY_BYTES) {
              unsendable.set(i, `entry of ${sizes[i]} bytes over the 256 KB PutEvents limit`);
              continue;
            }
            if (current.length === PUT_EVENTS_MAX_ENTRIES || (current.length > 0 && bytes + sizes[i]! > PUT_EVENTS_MAX_REQUEST_BYTES)) {
              calls.push(current);
              current = [];
              bytes = 0;
            }
            current.push(i);
            bytes += sizes[i]!;
          }
          if (current.length > 0) calls.push(current);
          return { calls, unsendable };
        },
        send: async (indices, signal) => {
          const out = await client.send(
            new PutEventsCommand({
              Entries: indices.map((i) => ({
                EventBusName: this.eventBusName,
                Source: FINDING_SOURCE,
                DetailType: FINDING_DETAIL_TYPE,
                Detail: details[i]!,
                Time: eventTimeOf(findings[i]!),
              })),
            }),
            { abortSignal: signal },
          );
          const entries = out.Entries ?? [];
          return {
            entryErrors: indices.map(
              (_, position) =>
                entries[position]?.ErrorCode ??
                (entries[position] === undefined && (out.FailedEntryCount ?? 0) > 0 ? 'MissingEntry' : undefined),
            ),
          };
        },
        retryable: (code) => RETRYABLE.has(code) || code === 'MissingEntry',
      },
      options,
    );
  }
}

/** The event's own time (EventBridge `time`), when it is a valid date. */
function eventTimeOf(f: Finding): Date | undefined {
  if (f.eventTime === undefined) return undefined;
  const t = Date.parse(f.eventTime);
  return Number.isFinite(t) ? new Date(t) : undefined;
}
