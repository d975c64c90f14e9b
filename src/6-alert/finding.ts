/**
 * A finding: what one judged event at or above ALERT_MIN_PRIORITY sends out (EventBridge detail, Security Hub
 * ASFF, `out/findings.ndjson`). Pure: built from the event, its enrichment and its verdict.
 * Shape: schema/finding.schema.json (generated from FINDING_SCHEMA in ./schema.ts).
 */
import { createHash } from 'node:crypto';
import type { CloudTrailEvent, Enrichment, Priority, RiskReason, Verdict } from '../model.ts';

export const FINDING_SOURCE = 'cloudtrail-enricher';
export const FINDING_DETAIL_TYPE = 'CloudTrail Enrichment Finding';
export const FINDING_VERSION = 1;

/** PutEvents: an entry (Time + Source + DetailType + Detail + Resources, UTF-8) is at most 256 KB = 262,144 bytes. */
export const PUT_EVENTS_MAX_ENTRY_BYTES = 256 * 1024;
/** PutEvents counts a present `Time` as 14 bytes; we always set it. */
const TIME_BYTES = 14;
/** Kept free under the entry limit so a finding never sits on the edge of it. */
const ENTRY_MARGIN_BYTES = 1024;

export interface AttackMapping {
  tactics: string[];
  techniques: string[];
}

export interface FindingReason {
  rule: string;
  priority: Priority;
  score: number;
  detail: string;
  attack?: AttackMapping;
}

export interface FindingPrincipal {
  type?: string;
  arn?: string;
  accountId?: string;
  userName?: string;
  principalId?: string;
  /** For assumed roles: the role the session was issued by. */
  sessionIssuerArn?: string;
  /** One stable string for the principal (grouping key, readable line): arn, else type/principalId. */
  id: string;
}

export interface FindingSource {
  address?: string;
  kind: string;
  ip?: string;
  countryCode?: string;
  countryName?: string;
  as?: { number?: number; organization?: string };
}

export interface FindingGroup {
  /** Start and end of the grouping window (ISO 8601, UTC) this finding opened. */
  windowStart: string;
  windowEnd: string;
  /** Events of the group seen when the finding was sent (this one included). */
  count: number;
}

/** The EventBridge `detail` (and one line of out/findings.ndjson). */
export interface Finding {
  version: 1;
  /** Stable id: derived from eventID and the rule set, the Security Hub finding id too. */
  id: string;
  eventID: string;
  eventTime?: string;
  eventName?: string;
  eventSource?: string;
  account?: string;
  region?: string;
  principal: FindingPrincipal;
  source: FindingSource;
  priority: Priority;
  score: number;
  /** Rule ids of the reasons, sorted: with eventID, what makes a finding once-each. */
  rules: string[];
  reasons: FindingReason[];
  attack?: AttackMapping;
  /** The event in the CloudTrail console (event history; management events of the last 90 days). */
  consoleUrl?: string;
  /** One readable line, e.g. `CRITICAL logging.cloudtrail-tampering: StopLogging by … from 203.0.113.7 (RU, AS…)`. */
  summary: string;
  group?: FindingGroup;
  /** The original event, when the entry stays under the PutEvents limit with it. */
  event?: Record<string, unknown>;
  /** Otherwise the start of its JSON text, cut so the entry fits. */
  eventTruncated?: { text: string; originalBytes: number };
}

/** What the rules stage hands the alert stage for one judged event. */
export interface Candidate {
  readonly event: CloudTrailEvent;
  /** The event's JSON text exactly as received. */
  readonly text: string;
  readonly enrichment: Readonly<Enrichment>;
  readonly verdict: Verdict;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function principalOf(event: CloudTrailEvent): FindingPrincipal {
  const identity = (typeof event.userIdentity === 'object' && event.userIdentity !== null ? event.userIdentity : {}) as Record<
    string,
    unknown
  >;
  const issuer = (identity.sessionContext as { sessionIssuer?: { arn?: unknown } } | undefined)?.sessionIssuer;
  const p: FindingPrincipal = { id: '' };
  const type = str(identity.type);
  if (type !== undefined) p.type = type;
  const arn = str(identity.arn);
  if (arn !== undefined) p.arn = arn;
  const accountId = str(identity.accountId);
  if (accountId !== undefined) p.accountId = accountId;
  const userName = str(identity.userName);
  if (userName !== undefined) p.userName = userName;
  const principalId = str(identity.principalId);
  if (principalId !== undefined) p.principalId = principalId;
  const issuerArn = str(issuer?.arn);
  if (issuerArn !== undefined) p.sessionIssuerArn = issuerArn;
  p.id =
    arn ??
    (str(identity.invokedBy) ? `service:${str(identity.invokedBy)}` : `${type ?? 'unknown'}/${principalId ?? accountId ?? 'unknown'}`);
  return p;
}

/** Sorted rule ids of a verdict; the key part that says which rule set judged the event. */
export function ruleSetOf(verdict: Verdict): string[] {
  return [...new Set(verdict.risk.reasons.map((r) => r.rule))].sort();
}

/** `eventID` + rule set as one bounded string (a hash once the rule list is long). */
export function findingId(eventID: string, rules: readonly string[]): string {
  const joined = rules.join('+');
  const ruleKey = joined.length <= 160 ? joined : `sha256-${createHash('sha256').update(joined).digest('hex').slice(0, 32)}`;
  return `${FINDING_SOURCE}/${eventID}/${ruleKey}`;
}

/** An event without an eventID (not CloudTrail as documented) is identified by the hash of its text. */
export function eventIdOf(candidate: Candidate): string {
  return str(candidate.event.eventID) ?? `sha256-${createHash('sha256').update(candidate.text).digest('hex').slice(0, 32)}`;
}

/** `https://<region>.console.aws.amazon.com/cloudtrailv2/home?region=<region>#/events/<eventID>` (per partition). */
export function consoleUrlOf(region: string | undefined, eventID: string | undefined): string | undefined {
  if (region === undefined || eventID === undefined || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) return undefined;
  const host = region.startsWith('cn-')
    ? 'console.amazonaws.cn'
    : region.startsWith('us-gov-')
      ? 'console.amazonaws-us-gov.com'
      : `${region}.console.aws.amazon.com`;
  return `https://${host}/cloudtrailv2/home?region=${region}#/events/${encodeURIComponent(eventID)}`;
}

function attackOf(reason: RiskReason): AttackMapping | undefined {
  // Reasons carry an ATT&CK mapping when the rule has one (rules file `attack:`).
  const attack = (reason as RiskReason & { attack?: unknown }).attack as Partial<AttackMapping> | undefined;
  if (attack === undefined || typeof attack !== 'object' || attack === null) return undefined;
  const tactics = Array.isArray(attack.tactics) ? attack.tactics.filter((t): t is string => typeof t === 'string') : [];
  const techniques = Array.isArray(attack.techniques) ? attack.techniques.filter((t): t is string => typeof t === 'string') : [];
  return tactics.length + techniques.length === 0 ? undefined : { tactics, techniques };
}

function sourceOf(enrichment: Readonly<Enrichment>): FindingSource {
  const s = enrichment.source;
  const out: FindingSource = { kind: s?.kind ?? 'missing' };
  if (s?.address !== undefined) out.address = s.address;
  if (s?.ip !== undefined) out.ip = s.ip;
  if (s?.geo?.countryCode !== undefined) out.countryCode = s.geo.countryCode;
  if (s?.geo?.countryName !== undefined) out.countryName = s.geo.countryName;
  if (s?.as !== undefined && (s.as.number !== undefined || s.as.organization !== undefined)) out.as = { ...s.as };
  return out;
}

const RANK = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 } as const;

/** The rule a person reads first: the highest priority among the reasons, then the highest score, then the id. */
function leadRule(f: Pick<Finding, 'reasons' | 'rules'>): string | undefined {
  let lead: FindingReason | undefined;
  for (const r of f.reasons) {
    if (
      lead === undefined ||
      RANK[r.priority] > RANK[lead.priority] ||
      (RANK[r.priority] === RANK[lead.priority] && (r.score > lead.score || (r.score === lead.score && r.rule < lead.rule)))
    )
      lead = r;
  }
  return lead?.rule ?? f.rules[0];
}

/** `CRITICAL rule: EventName by principal from 203.0.113.7 (RU, AS64500 Org) in 111122223333/us-east-1`. */
export function summaryLine(f: Omit<Finding, 'summary'>): string {
  const where = [
    f.source.countryCode,
    f.source.as?.number !== undefined
      ? `AS${f.source.as.number}${f.source.as.organization ? ` ${f.source.as.organization}` : ''}`
      : undefined,
  ].filter(Boolean);
  const from = f.source.address === undefined ? '' : ` from ${f.source.address}${where.length > 0 ? ` (${where.join(', ')})` : ''}`;
  const line = `${f.priority} ${leadRule(f) ?? 'unknown-rule'}${f.rules.length > 1 ? ` (+${f.rules.length - 1})` : ''}: ${f.eventName ?? 'unknown event'} by ${f.principal.id}${from} in ${f.account ?? '?'}/${f.region ?? '?'}`;
  return line.length <= 512 ? line : line.slice(0, 509) + '...';
}

export function buildFinding(candidate: Candidate, group?: FindingGroup): Finding {
  const { event, verdict, enrichment } = candidate;
  const eventID = eventIdOf(candidate);
  const rules = ruleSetOf(verdict);
  const reasons: FindingReason[] = verdict.risk.reasons.map((r) => {
    const out: FindingReason = { rule: r.rule, priority: r.priority, score: r.score, detail: r.detail };
    const attack = attackOf(r);
    if (attack !== undefined) out.attack = attack;
    return out;
  });
  const tactics = new Set<string>();
  const techniques = new Set<string>();
  for (const r of reasons) {
    for (const t of r.attack?.tactics ?? []) tactics.add(t);
    for (const t of r.attack?.techniques ?? []) techniques.add(t);
  }
  const base: Omit<Finding, 'summary'> = {
    version: FINDING_VERSION,
    id: findingId(eventID, rules),
    eventID,
    principal: principalOf(event),
    source: sourceOf(enrichment),
    priority: verdict.priority,
    score: verdict.risk.score,
    rules,
    reasons,
  };
  const eventTime = str(event.eventTime);
  if (eventTime !== undefined) base.eventTime = eventTime;
  const eventName = str(event.eventName);
  if (eventName !== undefined) base.eventName = eventName;
  const eventSource = str(event.eventSource);
  if (eventSource !== undefined) base.eventSource = eventSource;
  const account = str(event.recipientAccountId);
  if (account !== undefined) base.account = account;
  const region = str(event.awsRegion);
  if (region !== undefined) base.region = region;
  if (tactics.size + techniques.size > 0) base.attack = { tactics: [...tactics], techniques: [...techniques] };
  const consoleUrl = consoleUrlOf(region, str(event.eventID));
  if (consoleUrl !== undefined) base.consoleUrl = consoleUrl;
  if (group !== undefined) base.group = group;
  const finding: Finding = { ...base, summary: summaryLine(base) };
  return withEvent(finding, candidate.text);
}

/** Bytes PutEvents counts for an entry with this detail text. */
export function entryBytes(detail: string): number {
  return TIME_BYTES + Buffer.byteLength(FINDING_SOURCE) + Buffer.byteLength(FINDING_DETAIL_TYPE) + Buffer.byteLength(detail, 'utf8');
}

/** The budget of a finding's detail text. */
export const MAX_DETAIL_BYTES = PUT_EVENTS_MAX_ENTRY_BYTES - ENTRY_MARGIN_BYTES - entryBytes('');

/**
 * Adds the original event: whole when the detail stays under the limit, else `eventTruncated` with the start of
 * its text (cut on a character boundary, re-measured after JSON escaping).
 */
export function withEvent(finding: Finding, text: string, maxDetailBytes: number = MAX_DETAIL_BYTES): Finding {
  let parsed: Record<string, unknown> | undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed = value as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  const bare = JSON.stringify(finding);
  const whole = parsed === undefined ? undefined : { ...finding, event: parsed };
  if (whole !== undefined && Buffer.byteLength(bare) + Buffer.byteLength(text) + 16 <= maxDetailBytes) {
    if (Buffer.byteLength(JSON.stringify(whole)) <= maxDetailBytes) return whole;
  }
  const originalBytes = Buffer.byteLength(text, 'utf8');
  const overhead = Buffer.byteLength(JSON.stringify({ ...finding, eventTruncated: { text: '', originalBytes } }));
  let budget = maxDetailBytes - overhead;
  if (budget <= 0) return finding;
  // JSON escaping can grow a character up to 6 bytes (\u001f); shrink until the escaped slice fits.
  let chars = Math.min(text.length, budget);
  for (let i = 0; i < 20 && chars > 0; i++) {
    let slice = text.slice(0, chars);
    if (/[\uD800-\uDBFF]$/.test(slice)) slice = slice.slice(0, -1);
    const size = Buffer.byteLength(JSON.stringify(slice)) - 2;
    if (size <= budget) return { ...finding, eventTruncated: { text: slice, originalBytes } };
    chars = Math.floor(chars * (budget / size) * 0.98);
  }
  budget = 0;
  return finding;
}
