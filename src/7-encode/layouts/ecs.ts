/**
 * ECS 8.x layout (Elastic Common Schema, what Elastic/OpenSearch SIEM content expects): the CloudTrail event's
 * standard facts under ECS field sets (`event.*`, `cloud.*`, `user.*`, `source.*` with `geo` and `as`,
 * `user_agent.*`, `tls.*`, `related.*`, and the rules verdict as `rule.*`/`threat.*`), everything else under
 * `aws.cloudtrail.*` with the same names Elastic's own CloudTrail integration uses. Free-form parts
 * (requestParameters, responseElements, …) are JSON strings cut to ECS_MAX_FREE_FORM characters, never dynamic
 * objects: one API's parameters must not add mapped fields to the index. The shape is in ecs-shape.ts.
 */
import type { CloudTrailEvent, Enrichment, Priority } from '../../model.ts';
import {
  attackOf,
  isConsoleLogin,
  obj,
  str,
  strongestReason,
  verbOf,
  type LayoutEvent,
  type LayoutLine,
  type LayoutSkipped,
  type ReasonWithAttack,
} from './types.ts';

export const ECS_VERSION = '8.11.0';
/** Free-form JSON strings are cut to this many characters (and named in `aws.cloudtrail.truncated_fields`). */
export const ECS_MAX_FREE_FORM = 16_384;

/** Elastic's detection severities (low 21, medium 47, high 73, critical 99). */
export const ECS_SEVERITY: Record<Priority, number> = { LOW: 21, MEDIUM: 47, HIGH: 73, CRITICAL: 99 };

type Doc = Record<string, unknown>;

/** CloudTrail top-level fields and their `aws.cloudtrail.*` names (scalars as they are). */
const SCALARS: Record<string, string> = {
  eventVersion: 'event_version',
  eventType: 'event_type',
  eventCategory: 'event_category',
  requestID: 'request_id',
  apiVersion: 'api_version',
  recipientAccountId: 'recipient_account_id',
  sharedEventID: 'shared_event_id',
  vpcEndpointId: 'vpc_endpoint_id',
  vpcEndpointAccountId: 'vpc_endpoint_account_id',
  sessionCredentialFromConsole: 'session_credential_from_console',
  errorCode: 'error_code',
  errorMessage: 'error_message',
};
const BOOLEANS: Record<string, string> = { managementEvent: 'management_event', readOnly: 'read_only' };
/** Free-form objects, kept as size-guarded JSON strings. */
const FREE_FORM: Record<string, string> = {
  requestParameters: 'request_parameters',
  responseElements: 'response_elements',
  additionalEventData: 'additional_eventdata',
  serviceEventDetails: 'service_event_details',
  edgeDeviceDetails: 'edge_device_details',
  insightDetails: 'insight_details',
};
/** Fields the ECS part maps completely (nothing of them is repeated under aws.cloudtrail). */
const MAPPED = new Set([
  'eventTime',
  'eventSource',
  'eventName',
  'awsRegion',
  'sourceIPAddress',
  'userAgent',
  'eventID',
  'userIdentity',
  'tlsDetails',
  'resources',
]);

export function ecsLine(input: LayoutEvent): LayoutLine {
  return { text: JSON.stringify(ecsDocument(input)) };
}

export function ecsDocument(input: LayoutEvent): Doc {
  const { event, enrichment } = input;
  const login = isConsoleLogin(event);
  const eventName = str(event.eventName);
  const eventSource = str(event.eventSource);
  const time =
    typeof event.eventTime === 'string' && !Number.isNaN(Date.parse(event.eventTime))
      ? event.eventTime
      : new Date(input.arrival).toISOString();
  const failed = str(event.errorCode) !== undefined || (login && obj(event.responseElements)?.ConsoleLogin === 'Failure');
  const reasons = (enrichment.risk?.reasons ?? []) as readonly ReasonWithAttack[];

  const ev: Doc = { kind: reasons.length > 0 ? 'alert' : 'event', ...categoryOf(login, eventSource, eventName) };
  if (eventName !== undefined) ev.action = eventName;
  if (eventSource !== undefined) ev.provider = eventSource;
  ev.outcome = failed ? 'failure' : 'success';
  const id = str(event.eventID);
  if (id !== undefined) ev.id = id;
  if (enrichment.priority !== undefined) ev.severity = ECS_SEVERITY[enrichment.priority];
  if (enrichment.risk !== undefined) ev.risk_score = enrichment.risk.score;
  ev.dataset = 'aws.cloudtrail';
  ev.module = 'aws';

  const doc: Doc = { '@timestamp': time, ecs: { version: ECS_VERSION }, event: ev };

  const cloud: Doc = { provider: 'aws' };
  const region = str(event.awsRegion);
  if (region !== undefined) cloud.region = region;
  const account = str(event.recipientAccountId);
  if (account !== undefined) cloud.account = { id: account };
  if (eventSource !== undefined) cloud.service = { name: eventSource };
  doc.cloud = cloud;

  const identity = obj(event.userIdentity);
  const issuer = obj(obj(identity?.sessionContext)?.sessionIssuer);
  const userName = str(identity?.userName) ?? str(issuer?.userName);
  const user: Doc = {};
  const userId = str(identity?.arn) ?? str(identity?.principalId);
  if (userId !== undefined) user.id = userId;
  if (userName !== undefined) user.name = userName;
  if (Object.keys(user).length > 0) doc.user = user;

  const source = sourceOf(event, enrichment);
  if (source !== undefined) doc.source = source;
  const userAgent = str(event.userAgent);
  if (userAgent !== undefined) doc.user_agent = { original: userAgent };
  const tls = tlsOf(obj(event.tlsDetails));
  if (tls !== undefined) doc.tls = tls;
  const errorCode = str(event.errorCode);
  const errorMessage = str(event.errorMessage);
  if (errorCode !== undefined || errorMessage !== undefined) {
    const error: Doc = {};
    if (errorCode !== undefined) error.code = errorCode;
    if (errorMessage !== undefined) error.message = errorMessage;
    doc.error = error;
  }

  const related: Doc = {};
  const ip = str(source?.ip);
  if (ip !== undefined) related.ip = [ip];
  const users = [...new Set([userName, str(identity?.principalId)].filter((u): u is string => u !== undefined))];
  if (users.length > 0) related.user = users;
  if (Object.keys(related).length > 0) doc.related = related;

  const strongest = strongestReason(reasons);
  if (strongest !== undefined) {
    doc.rule = { id: strongest.rule, name: strongest.rule, description: strongest.detail, ruleset: 'cloudtrail-enricher' };
    const attack = attackOf(reasons);
    if (attack.tactics.length > 0 || attack.techniques.length > 0) {
      const threat: Doc = { framework: 'MITRE ATT&CK' };
      if (attack.tactics.length > 0) threat.tactic = { name: attack.tactics };
      const techniques = [...new Set(attack.techniques.map((t) => t.split('.')[0]!))];
      const subtechniques = attack.techniques.filter((t) => t.includes('.'));
      if (techniques.length > 0)
        threat.technique = subtechniques.length > 0 ? { id: techniques, subtechnique: { id: subtechniques } } : { id: techniques };
      doc.threat = threat;
    }
  }

  doc.aws = { cloudtrail: cloudtrailOf(event, enrichment, identity) };
  return doc;
}

/** A message that is not a CloudTrail event: kept whole in `event.original`, marked by its error. */
export function ecsSkippedLine(input: LayoutSkipped): LayoutLine {
  const doc: Doc = {
    '@timestamp': new Date(input.arrival).toISOString(),
    ecs: { version: ECS_VERSION },
    event: { kind: 'pipeline_error', original: input.raw, dataset: 'aws.cloudtrail', module: 'aws' },
    error: { message: input.error },
    tags: ['cloudtrail_enricher_skipped'],
  };
  return { text: JSON.stringify(doc) };
}

function categoryOf(login: boolean, eventSource: string | undefined, eventName: string | undefined): Doc {
  if (login) return { category: ['authentication'], type: ['start'] };
  const verb = verbOf(eventName);
  const type =
    verb === 'create' ? 'creation' : verb === 'delete' ? 'deletion' : verb === 'update' ? 'change' : verb === 'read' ? 'access' : 'info';
  const category = eventSource === 'iam.amazonaws.com' ? ['api', 'iam'] : ['api'];
  return { category, type: [type] };
}

function sourceOf(event: CloudTrailEvent, enrichment: Enrichment): Doc | undefined {
  const address = str(event.sourceIPAddress);
  const s = enrichment.source;
  const source: Doc = {};
  if (address !== undefined) source.address = address;
  if (s?.ip !== undefined) source.ip = s.ip;
  else if (s?.kind === 'aws-service' && address !== undefined) source.domain = address;
  const geo = s?.geo;
  if (geo !== undefined) {
    const g: Doc = {};
    if (geo.latitude !== undefined && geo.longitude !== undefined) g.location = { lat: geo.latitude, lon: geo.longitude };
    if (geo.countryCode !== undefined) g.country_iso_code = geo.countryCode;
    if (geo.countryName !== undefined) g.country_name = geo.countryName;
    if (geo.region !== undefined) g.region_name = geo.region;
    if (geo.city !== undefined) g.city_name = geo.city;
    if (geo.timezone !== undefined) g.timezone = geo.timezone;
    if (Object.keys(g).length > 0) source.geo = g;
  }
  const as = s?.as;
  if (as !== undefined) {
    const a: Doc = {};
    if (as.number !== undefined) a.number = as.number;
    if (as.organization !== undefined) a.organization = { name: as.organization };
    if (Object.keys(a).length > 0) source.as = a;
  }
  return Object.keys(source).length > 0 ? source : undefined;
}

function tlsOf(details: Record<string, unknown> | undefined): Doc | undefined {
  if (details === undefined) return undefined;
  const tls: Doc = {};
  const version = str(details.tlsVersion);
  const m = version === undefined ? null : /^(TLS|SSL)v?(\d+(?:\.\d+)?)$/i.exec(version);
  if (m !== null) {
    tls.version = m[2];
    tls.version_protocol = m[1]!.toLowerCase();
  }
  const cipher = str(details.cipherSuite);
  if (cipher !== undefined) tls.cipher = cipher;
  const host = str(details.clientProvidedHostHeader);
  if (host !== undefined) tls.client = { server_name: host };
  return Object.keys(tls).length > 0 ? tls : undefined;
}

function freeForm(value: unknown, name: string, truncated: string[]): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  if (text.length <= ECS_MAX_FREE_FORM) return text;
  truncated.push(name);
  return text.slice(0, ECS_MAX_FREE_FORM);
}

function cloudtrailOf(event: CloudTrailEvent, enrichment: Enrichment, identity: Record<string, unknown> | undefined): Doc {
  const ct: Doc = {};
  const truncated: string[] = [];
  const other: Record<string, unknown> = {};
  for (const key of Object.keys(event)) {
    const value = event[key];
    if (value === undefined || value === null) continue;
    if (MAPPED.has(key)) continue;
    const scalar = SCALARS[key];
    if (scalar !== undefined && typeof value === 'string') ct[scalar] = value;
    else if (BOOLEANS[key] !== undefined && typeof value === 'boolean') ct[BOOLEANS[key]] = value;
    else if (FREE_FORM[key] !== undefined) ct[FREE_FORM[key]] = freeForm(value, FREE_FORM[key], truncated);
    else other[key] = value;
  }
  if (str(event.eventTime) !== undefined && Number.isNaN(Date.parse(String(event.eventTime)))) other.eventTime = event.eventTime;
  const sourceKind = enrichment.source?.kind;
  if (sourceKind === 'invalid' && event.sourceIPAddress !== undefined) other.sourceIPAddress = event.sourceIPAddress;

  if (identity !== undefined) ct.user_identity = userIdentityOf(identity, truncated);
  const resources = Array.isArray(event.resources) ? event.resources.map(obj).filter((r) => r !== undefined) : [];
  if (resources.length > 0) {
    ct.resources = resources.map((r) => {
      const out: Doc = {};
      if (str(r.ARN) !== undefined) out.arn = r.ARN;
      if (str(r.accountId) !== undefined) out.account_id = r.accountId;
      if (str(r.type) !== undefined) out.type = r.type;
      return out;
    });
  }
  const tls = obj(event.tlsDetails);
  if (tls !== undefined) {
    const rest = Object.fromEntries(
      Object.entries(tls).filter(([k]) => k !== 'tlsVersion' && k !== 'cipherSuite' && k !== 'clientProvidedHostHeader'),
    );
    if (Object.keys(rest).length > 0) other.tlsDetails = rest;
  }
  if (Object.keys(other).length > 0) ct.other = freeForm(other, 'other', truncated);

  const en: Doc = { status: enrichment.status };
  if (sourceKind !== undefined) en.source_kind = sourceKind;
  const reputation = enrichment.source?.reputation;
  if (reputation !== undefined) {
    const r: Doc = {};
    if (reputation.fraudScore !== undefined) r.fraud_score = reputation.fraudScore;
    if (reputation.abuseConfidence !== undefined) r.abuse_confidence = reputation.abuseConfidence;
    if (reputation.proxy !== undefined) r.proxy = reputation.proxy;
    if (reputation.vpn !== undefined) r.vpn = reputation.vpn;
    if (reputation.tor !== undefined) r.tor = reputation.tor;
    if (reputation.recentAbuse !== undefined) r.recent_abuse = reputation.recentAbuse;
    if (reputation.verdict !== undefined) r.verdict = reputation.verdict;
    en.reputation = r;
  }
  if (enrichment.providers !== undefined) en.providers = freeForm(enrichment.providers, 'enrichment.providers', truncated);
  if (enrichment.priority !== undefined) en.priority = enrichment.priority;
  const reasons = (enrichment.risk?.reasons ?? []) as readonly ReasonWithAttack[];
  if (reasons.length > 0) {
    en.reasons = reasons.map((r) => {
      const out: Doc = { rule: r.rule, priority: r.priority, score: r.score, detail: r.detail };
      if (r.attack?.tactics !== undefined) out.tactics = [...r.attack.tactics];
      if (r.attack?.techniques !== undefined) out.techniques = [...r.attack.techniques];
      return out;
    });
  }
  const baseline = (enrichment as { baseline?: unknown }).baseline;
  if (baseline !== undefined) en.baseline = freeForm(baseline, 'enrichment.baseline', truncated);
  ct.enrichment = en;
  if (truncated.length > 0) ct.truncated_fields = truncated;
  return ct;
}

function userIdentityOf(identity: Record<string, unknown>, truncated: string[]): Doc {
  const out: Doc = {};
  const names: Record<string, string> = {
    type: 'type',
    principalId: 'principal_id',
    arn: 'arn',
    accountId: 'account_id',
    accessKeyId: 'access_key_id',
    userName: 'user_name',
    invokedBy: 'invoked_by',
    identityStoreUserId: 'identity_store_user_id',
  };
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(identity)) {
    if (names[k] !== undefined && typeof v === 'string') out[names[k]] = v;
    else if (k !== 'sessionContext') rest[k] = v;
  }
  const context = obj(identity.sessionContext);
  if (context !== undefined) {
    const sc: Doc = {};
    const attributes = obj(context.attributes);
    if (str(attributes?.mfaAuthenticated) !== undefined) sc.mfa_authenticated = attributes!.mfaAuthenticated;
    if (str(attributes?.creationDate) !== undefined && !Number.isNaN(Date.parse(String(attributes!.creationDate))))
      sc.creation_date = attributes!.creationDate;
    if (str(context.sourceIdentity) !== undefined) sc.source_identity = context.sourceIdentity;
    const issuer = obj(context.sessionIssuer);
    if (issuer !== undefined) {
      const si: Doc = {};
      for (const [k, n] of [
        ['type', 'type'],
        ['principalId', 'principal_id'],
        ['arn', 'arn'],
        ['accountId', 'account_id'],
        ['userName', 'user_name'],
      ] as const) {
        if (str(issuer[k]) !== undefined) si[n] = issuer[k];
      }
      sc.session_issuer = si;
    }
    const contextRest = Object.fromEntries(
      Object.entries(context).filter(([k]) => k !== 'attributes' && k !== 'sessionIssuer' && k !== 'sourceIdentity'),
    );
    if (Object.keys(contextRest).length > 0) rest.sessionContext = contextRest;
    if (Object.keys(sc).length > 0) out.session_context = sc;
  }
  if (Object.keys(rest).length > 0) out.other = freeForm(rest, 'user_identity.other', truncated);
  return out;
}
