/**
 * The alert stage (after rules): events at or above ALERT_MIN_PRIORITY become findings, sent once each per
 * (eventID, rule set) — or, with a grouping window, once per (rule set, principal, window).
 *
 * Per invocation: candidates are collected while events are judged, reduced to unique keys, checked against the
 * per-process memory (L1), claimed in the dedup store (conditional PutItem), sent to every publisher, and the
 * claims of findings that could not be sent are given back. Never throws and never fails a record: what could
 * not be sent is counted (`AlertsFailed`) and logged in one line.
 */
import { createHash } from 'node:crypto';
import { silentLog, type Log, type Priority } from '../model.ts';
import type { AlertConfig } from './config.ts';
import { MemoryDedup, type ClaimOutcome, type DedupStore } from './dedup.ts';
import { buildFinding, eventIdOf, principalOf, ruleSetOf, findingId, type Candidate, type Finding } from './finding.ts';
import type { FindingPublisher } from './publish.ts';

export interface AlertStats {
  /** Events at or above the threshold. */
  candidates: number;
  /** Findings every publisher accepted. */
  sent: number;
  /** Not sent: already sent (same event, a retried batch, another container). */
  duplicates: number;
  /** Not sent: counted on the first finding of their group. */
  grouped: number;
  /** Given up after all retries or at the deadline. */
  failed: number;
  /** The dedup store could not answer; sent anyway. */
  dedupErrors: number;
  calls: number;
  retries: number;
}

export function emptyAlertStats(): AlertStats {
  return { candidates: 0, sent: 0, duplicates: 0, grouped: 0, failed: 0, dedupErrors: 0, calls: 0, retries: 0 };
}

export interface AlertStageOptions {
  readonly config: Pick<AlertConfig, 'minPriority' | 'dedupTtlSeconds' | 'groupWindowSeconds' | 'callTimeoutMs' | 'maxAttempts'>;
  readonly publishers: readonly FindingPublisher[];
  /** The shared once-each store (DynamoDB); without it, dedup is per process. */
  readonly dedup?: DedupStore;
  readonly log?: Log;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

export interface AlertRunOptions {
  /** The invocation's deadline (epoch ms): alerting shares it. */
  readonly deadline: number;
  readonly now?: () => number;
}

const PRIORITY_RANK: Readonly<Record<Priority, number>> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

/** Built once per container: the per-process memory of sent keys survives warm invocations. */
export class AlertStage {
  readonly memory = new MemoryDedup();
  private readonly log: Log;

  constructor(readonly options: AlertStageOptions) {
    this.log = options.log ?? silentLog;
  }

  /** Whether an event with this priority becomes a finding. */
  qualifies(priority: Priority): boolean {
    return PRIORITY_RANK[priority] >= PRIORITY_RANK[this.options.config.minPriority];
  }

  begin(now: () => number = Date.now): AlertBatch {
    return new AlertBatch(this, this.log, Math.floor(now() / 1000));
  }
}

interface Pending {
  readonly key: string;
  readonly candidate: Candidate;
  readonly expiresAt: number;
  readonly window?: { start: number; end: number };
  count: number;
}

/** The candidates of one invocation. */
export class AlertBatch {
  private readonly byKey = new Map<string, Pending>();
  private readonly stats = emptyAlertStats();
  constructor(
    private readonly stage: AlertStage,
    private readonly log: Log,
    /** When the batch started (epoch seconds, the handler's clock), for TTLs. */
    private readonly nowSeconds: number,
  ) {}

  /** Called for every judged event; keeps those at or above the threshold. Cheap: keys only, no finding yet. */
  consider(candidate: Candidate): void {
    if (!this.stage.qualifies(candidate.verdict.priority)) return;
    this.stats.candidates++;
    const { groupWindowSeconds, dedupTtlSeconds } = this.stage.options.config;
    const rules = ruleSetOf(candidate.verdict);
    let key: string;
    let expiresAt: number;
    let window: Pending['window'];
    if (groupWindowSeconds === undefined) {
      key = `alert#${findingId(eventIdOf(candidate), rules)}`;
      expiresAt = this.nowSeconds + dedupTtlSeconds;
    } else {
      const t = Date.parse(typeof candidate.event.eventTime === 'string' ? candidate.event.eventTime : '');
      const at = Number.isFinite(t) ? Math.floor(t / 1000) : this.nowSeconds;
      const index = Math.floor(at / groupWindowSeconds);
      window = { start: index * groupWindowSeconds, end: (index + 1) * groupWindowSeconds };
      const principal = principalOf(candidate.event).id;
      key = `alert-group#${createHash('sha256')
        .update(`${rules.join('+')}\n${principal}`)
        .digest('hex')
        .slice(0, 40)}#${window.start}`;
      // Kept past the window's end so late repeats of the window still find it.
      expiresAt = Math.max(window.end, this.nowSeconds) + groupWindowSeconds;
    }
    const existing = this.byKey.get(key);
    if (existing !== undefined) {
      existing.count++;
      if (groupWindowSeconds === undefined) this.stats.duplicates++;
      else this.stats.grouped++;
      return;
    }
    this.byKey.set(key, { key, candidate, expiresAt, window, count: 1 });
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Sends the findings of this invocation within the deadline. Never throws. */
  async send(options: AlertRunOptions): Promise<{ stats: AlertStats; findings: Finding[] }> {
    try {
      return await this.sendUnsafe(options);
    } catch (err) {
      this.log.error('alerting failed', { error: err instanceof Error ? `${err.name}: ${err.message}` : 'non-error thrown' });
      this.stats.failed += this.byKey.size;
      return { stats: this.stats, findings: [] };
    }
  }

  private async sendUnsafe(options: AlertRunOptions): Promise<{ stats: AlertStats; findings: Finding[] }> {
    const now = options.now ?? Date.now;
    const { config, publishers, dedup } = this.stage.options;
    const memory = this.stage.memory;
    const grouping = config.groupWindowSeconds !== undefined;
    const nowSeconds = Math.floor(now() / 1000);
    const fresh: Pending[] = [];
    for (const p of this.byKey.values()) {
      if (memory.has(p.key, nowSeconds)) {
        if (grouping) this.stats.grouped += 1;
        else this.stats.duplicates += 1;
      } else fresh.push(p);
    }
    if (fresh.length === 0) return { stats: this.stats, findings: [] };

    const calls = { deadline: options.deadline, now, callTimeoutMs: config.callTimeoutMs };
    const store = dedup ?? memory;
    const outcomes: Map<string, ClaimOutcome> = await store.claim(
      fresh.map((p) => ({ key: p.key, expiresAt: p.expiresAt, repeats: grouping ? p.count : undefined })),
      calls,
    );
    const toSend: { pending: Pending; finding: Finding; token?: string }[] = [];
    for (const p of fresh) {
      const outcome = outcomes.get(p.key) ?? { kind: 'unknown', error: 'no answer' };
      if (outcome.kind === 'duplicate') {
        if (grouping) this.stats.grouped += 1;
        else this.stats.duplicates += 1;
        // Known as sent: later invocations of this container need not ask the table again.
        memory.remember(p.key, p.expiresAt);
        continue;
      }
      if (outcome.kind === 'unknown') this.stats.dedupErrors++;
      const group =
        p.window === undefined
          ? undefined
          : {
              windowStart: new Date(p.window.start * 1000).toISOString(),
              windowEnd: new Date(p.window.end * 1000).toISOString(),
              count: p.count,
            };
      toSend.push({ pending: p, finding: buildFinding(p.candidate, group), token: outcome.kind === 'claimed' ? outcome.token : undefined });
    }
    if (toSend.length === 0) return { stats: this.stats, findings: [] };

    const findings = toSend.map((s) => s.finding);
    const results = await Promise.all(
      publishers.map((publisher) =>
        publisher.publish(findings, {
          deadline: options.deadline,
          now,
          callTimeoutMs: config.callTimeoutMs,
          maxAttempts: config.maxAttempts,
          sleep: this.stage.options.sleep,
        }),
      ),
    );
    const release: { key: string; token: string }[] = [];
    const reasons = new Map<string, number>();
    const accepted: Finding[] = [];
    toSend.forEach((s, index) => {
      let lost = false;
      let anyFailed = false;
      results.forEach((result, i) => {
        const why = result.failed.get(index);
        if (why === undefined) return;
        anyFailed = true;
        const key = `${publishers[i]!.name}: ${why}`;
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
        // A resend to an idempotent publisher updates; to any other it would duplicate, so only those hold the claim.
        if (!publishers[i]!.idempotent || publishers.length === 1) lost = true;
      });
      if (anyFailed) this.stats.failed++;
      if (lost) {
        memory.forget(s.pending.key);
        if (s.token !== undefined && dedup !== undefined) release.push({ key: s.pending.key, token: s.token });
        else if (s.token !== undefined) void memory.release([{ key: s.pending.key, token: s.token }]);
      } else {
        memory.remember(s.pending.key, s.pending.expiresAt);
        if (!anyFailed) this.stats.sent++;
        accepted.push(s.finding);
      }
    });
    for (const r of results) {
      this.stats.calls += r.calls;
      this.stats.retries += r.retries;
    }
    if (release.length > 0 && dedup !== undefined) await dedup.release(release, calls);
    if (this.stats.failed > 0) {
      // One line per invocation, whatever the number of findings.
      this.log.error('alerts failed after all retries; the records are delivered as usual', {
        failed: this.stats.failed,
        reasons: Object.fromEntries(reasons),
      });
    }
    return { stats: this.stats, findings: accepted };
  }
}
