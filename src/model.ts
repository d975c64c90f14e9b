/**
 * Plain data types shared by every stage of the pipeline
 * (decode → classify → lookup → rules → encode → deliver).
 * Nothing in here touches the network or the environment.
 */

/** A CloudTrail event as parsed from its JSON text. Only the fields the pipeline reads are typed. */
export interface CloudTrailEvent {
  readonly [field: string]: unknown;
  readonly eventVersion?: unknown;
  readonly eventTime?: unknown;
  readonly eventSource?: unknown;
  readonly eventName?: unknown;
  readonly awsRegion?: unknown;
  readonly sourceIPAddress?: unknown;
  readonly recipientAccountId?: unknown;
  readonly userIdentity?: unknown;
  readonly errorCode?: unknown;
}

export type SourceKind = 'public' | 'private' | 'reserved' | 'aws-internal' | 'aws-service' | 'invalid' | 'missing';

/** Result of classifying `sourceIPAddress` (see src/2-classify). */
export interface SourceClassification {
  /** `sourceIPAddress` exactly as received (omitted when missing or not a string). */
  readonly address?: string;
  readonly kind: SourceKind;
  /** Normalised address (IPv4 dotted quad, IPv6 RFC 5952 lower case), when it is an IP. */
  readonly ip?: string;
  readonly ipVersion?: 4 | 6;
}

export interface Geo {
  countryCode?: string;
  countryName?: string;
  region?: string;
  city?: string;
  latitude?: number;
  longitude?: number;
  timezone?: string;
}

export interface AsInfo {
  number?: number;
  organization?: string;
}

export interface Reputation {
  fraudScore?: number;
  proxy?: boolean;
  vpn?: boolean;
  tor?: boolean;
  recentAbuse?: boolean;
  abuseConfidence?: number;
  verdict?: string;
}

/** What the lookup stage knows about one public IP. Fields without data are absent. */
export interface IpIntel {
  geo?: Geo;
  as?: AsInfo;
  reputation?: Reputation;
  /** Trimmed per-provider answers, keyed by provider name (`ipstack`, `ipqualityscore`, …). */
  providers?: Record<string, Record<string, unknown>>;
  /** False when a source that should have answered did not (timeout, breaker open, deadline): status `partial`. */
  complete: boolean;
}

export type Priority = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface RiskReason {
  rule: string;
  priority: Priority;
  score: number;
  detail: string;
  /** The rule's MITRE ATT&CK mapping, on every reason of a mapped rule. */
  attack?: { tactics: string[]; techniques: string[] };
}

export interface Verdict {
  priority: Priority;
  risk: { score: number; reasons: RiskReason[] };
}

export type EnrichmentStatus = 'complete' | 'partial' | 'skipped';

/** The `enrichment` object appended to every output line (documented in README and schema/enrichment.schema.json). */
export interface Enrichment {
  version: 1;
  status: EnrichmentStatus;
  source?: {
    address?: string;
    kind: SourceKind;
    ip?: string;
    ipVersion?: 4 | 6;
    geo?: Geo;
    as?: AsInfo;
    reputation?: Reputation;
  };
  providers?: Record<string, Record<string, unknown>>;
  /** What is new for the event's principal (src/4-baseline); absent when the stage is off or there is no principal. */
  baseline?: BaselineVerdict;
  priority?: Priority;
  risk?: { score: number; reasons: RiskReason[] };
  /** Only on skipped lines: why the message could not be treated as a CloudTrail event. */
  error?: string;
  /** Only on skipped lines: the message exactly as received. */
  raw?: string;
}

/** The baseline stage's answer for one event (src/4-baseline). */
export interface BaselineVerdict {
  /** The normalised principal (role ARN for assumed roles; role ARN + `/` + user name for Identity Center users). */
  principal: string;
  /** Attribute names (`country`, `asn`, `region`, `userAgentFamily`, `userAgentKind`) new for this principal. */
  firstSeen: string[];
  /** The principal was first seen less than BASELINE_LEARNING_DAYS ago: nothing is new yet. */
  learning?: true;
  /** The baseline could not be read or written in time: nothing is claimed new. */
  status?: 'unavailable';
}

/** The Firehose dynamic-partitioning keys (`metadata.partitionKeys`). */
export interface PartitionKeys {
  account: string;
  region: string;
  dt: string;
  /**
   * OCSF layout only: the event class group (`api-activity`, `authentication`, `base-event`), because Security
   * Lake takes one OCSF class per custom source and per Parquet object (see src/7-encode/layouts/partition.ts).
   */
  eventClass?: string;
}

/** A narrow logger, so the core never depends on a logging library. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export const silentLog: Log = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Expected failures are values, not exceptions. */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

/** Names of the Firehose dynamic-partitioning keys; the Firehose prefix uses `!{partitionKeyFromLambda:<name>}`. */
export const PARTITION_KEY_NAMES = ['account', 'region', 'dt'] as const;

/** DynamoDB IP cache: partition key attribute (string) and TTL attribute (epoch seconds). */
export const CACHE_KEY_ATTRIBUTE = 'ip';
export const CACHE_TTL_ATTRIBUTE = 'expiresAt';
