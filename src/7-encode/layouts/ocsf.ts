/**
 * OCSF 1.1.0 layout (what Amazon Security Lake stores): API Activity (6003) for API calls and Authentication
 * (3002) for console sign-ins, mapped the way Security Lake maps its own CloudTrail source, plus what that source
 * leaves empty: `src_endpoint.location` and `enrichments[]` (geolocation, AS, reputation per provider, the rules
 * verdict). Every CloudTrail field without an OCSF home goes to `unmapped` (flattened keys → strings, as Security
 * Lake does); `raw_data` keeps the original text unless OCSF_RAW_DATA=false. docs/layouts.md shows an example.
 *
 * The shape of everything written here is declared in ocsf-shape.ts (Glue columns are generated from it).
 */
import type { CloudTrailEvent, Enrichment, Priority } from '../../model.ts';
import type { EventClassKey } from '../partition.ts';
import {
  attackOf,
  epochMs,
  isConsoleLogin,
  obj,
  str,
  verbOf,
  type LayoutEvent,
  type LayoutLine,
  type LayoutSkipped,
  type ReasonWithAttack,
} from './types.ts';

export const OCSF_VERSION = '1.1.0';
export const OCSF_PROFILES = ['cloud', 'datetime'] as const;

export const OCSF_CLASSES = {
  'api-activity': { class_uid: 6003, class_name: 'API Activity', category_uid: 6, category_name: 'Application Activity' },
  authentication: { class_uid: 3002, class_name: 'Authentication', category_uid: 3, category_name: 'Identity & Access Management' },
  'base-event': { class_uid: 0, class_name: 'Base Event', category_uid: 0, category_name: 'Uncategorized' },
} as const satisfies Record<EventClassKey, unknown>;

const API_ACTIVITY: Record<ReturnType<typeof verbOf>, [number, string]> = {
  create: [1, 'Create'],
  read: [2, 'Read'],
  update: [3, 'Update'],
  delete: [4, 'Delete'],
  other: [99, 'Other'],
};

/** Our priority → OCSF severity_id (2 Low … 5 Critical); an event no rule judged is 1 Informational. */
export const OCSF_SEVERITY: Record<Priority | 'NONE', [number, string]> = {
  NONE: [1, 'Informational'],
  LOW: [2, 'Low'],
  MEDIUM: [3, 'Medium'],
  HIGH: [4, 'High'],
  CRITICAL: [5, 'Critical'],
};

/** `unmapped` is bounded: at most this many keys per event (the rest is in `raw_data`), and a marker when cut. */
export const UNMAPPED_MAX_KEYS = 1000;
/** Each flattened value is cut to this many characters (Parquet strings have no limit, Athena rows do: 32 MB). */
export const UNMAPPED_MAX_VALUE = 32_768;

export interface OcsfOptions {
  readonly rawData: boolean;
}

type Doc = Record<string, unknown>;

export function ocsfLine(input: LayoutEvent, options: OcsfOptions): LayoutLine {
  const { doc, eventClass } = ocsfDocument(input, options);
  return { text: JSON.stringify(doc), eventClass };
}

/** The OCSF document of one event (exported for tests and docs). */
export function ocsfDocument(input: LayoutEvent, options: OcsfOptions): { doc: Doc; eventClass: EventClassKey } {
  const { event, enrichment } = input;
  const consumed = new Set<string>();
  const take = (path: string, value: unknown): string | undefined => {
    const s = str(value);
    if (s !== undefined) consumed.add(path);
    return s;
  };
  const login = isConsoleLogin(event);
  const eventClass: EventClassKey = login ? 'authentication' : 'api-activity';
  const cls = OCSF_CLASSES[eventClass];

  const eventName = take('eventName', event.eventName);
  const eventSource = take('eventSource', event.eventSource);
  let activityId: number;
  let activityName: string;
  if (login) {
    [activityId, activityName] = [1, 'Logon'];
  } else {
    [activityId, activityName] = API_ACTIVITY[verbOf(eventName)];
    if (activityId === 99 && eventName !== undefined) activityName = eventName;
  }

  const eventTimeMs = epochMs(event.eventTime);
  if (eventTimeMs !== undefined) consumed.add('eventTime');
  const time = eventTimeMs ?? input.arrival;

  const [severityId, severity] = OCSF_SEVERITY[enrichment.priority ?? 'NONE'];
  const doc: Doc = {
    activity_id: activityId,
    activity_name: activityName,
    category_uid: cls.category_uid,
    category_name: cls.category_name,
    class_uid: cls.class_uid,
    class_name: cls.class_name,
    type_uid: cls.class_uid * 100 + activityId,
    type_name: `${cls.class_name}: ${activityName}`,
    severity_id: severityId,
    severity,
    time,
    time_dt: new Date(time).toISOString(),
    // CloudTrail writes UTC.
    timezone_offset: 0,
  };

  // Status: errorCode (and, for sign-ins, responseElements.ConsoleLogin).
  const errorCode = take('errorCode', event.errorCode);
  const errorMessage = take('errorMessage', event.errorMessage);
  const loginResult = login ? take('responseElements.ConsoleLogin', obj(event.responseElements)?.ConsoleLogin) : undefined;
  const failed = errorCode !== undefined || loginResult === 'Failure';
  doc.status_id = failed ? 2 : 1;
  doc.status = failed ? 'Failure' : 'Success';
  if (errorCode !== undefined) doc.status_code = errorCode;
  if (errorMessage !== undefined) doc.status_detail = errorMessage;

  doc.metadata = metadataOf(event, take);

  // Who.
  const user = userOf(event, take);
  const session = sessionOf(event, take);
  const invokedBy = take('userIdentity.invokedBy', obj(event.userIdentity)?.invokedBy);
  const actor: Doc = {};
  if (user !== undefined) actor.user = user;
  if (session !== undefined) actor.session = session;
  if (invokedBy !== undefined) actor.invoked_by = invokedBy;

  // The call.
  const api: Doc = {};
  if (eventName !== undefined) api.operation = eventName;
  if (eventSource !== undefined) api.service = { name: eventSource };
  const requestId = take('requestID', event.requestID);
  if (requestId !== undefined) api.request = { uid: requestId };
  const apiVersion = take('apiVersion', event.apiVersion);
  if (apiVersion !== undefined) api.version = apiVersion;
  if (errorCode !== undefined || errorMessage !== undefined) {
    const response: Doc = {};
    if (errorCode !== undefined) response.error = errorCode;
    if (errorMessage !== undefined) response.error_message = errorMessage;
    api.response = response;
  }

  const src = srcEndpointOf(event, enrichment, take);
  const dst = dstEndpointOf(event, eventSource, take);
  const userAgent = take('userAgent', event.userAgent);

  if (login) {
    // Authentication: the signing-in principal is `user`; the call itself is still described by `api` (cloud profile).
    if (user !== undefined) doc.user = user;
    if (session !== undefined) doc.session = session;
    if (invokedBy !== undefined) doc.actor = { invoked_by: invokedBy };
    if (eventSource !== undefined) doc.service = { name: eventSource };
    const additional = obj(event.additionalEventData);
    const mfa = take('additionalEventData.MFAUsed', additional?.MFAUsed);
    if (mfa === 'Yes' || mfa === 'No') doc.is_mfa = mfa === 'Yes';
    // A console sign-in always comes over the network to the AWS sign-in endpoint.
    doc.is_remote = true;
    const protocol = authProtocolOf(str(obj(event.userIdentity)?.type));
    if (protocol !== undefined) [doc.auth_protocol_id, doc.auth_protocol] = protocol;
  } else if (Object.keys(actor).length > 0) {
    doc.actor = actor;
  }
  if (Object.keys(api).length > 0) doc.api = api;
  if (src !== undefined) doc.src_endpoint = src;
  if (dst !== undefined) doc.dst_endpoint = dst;
  if (userAgent !== undefined) doc.http_request = { user_agent: userAgent };

  const resources = resourcesOf(event.resources, consumed);
  if (resources !== undefined) doc.resources = resources;

  const cloud: Doc = { provider: 'AWS' };
  const region = take('awsRegion', event.awsRegion);
  if (region !== undefined) cloud.region = region;
  const account = take('recipientAccountId', event.recipientAccountId);
  if (account !== undefined) cloud.account = { uid: account };
  doc.cloud = cloud;

  const observables = observablesOf(doc, src);
  if (observables.length > 0) doc.observables = observables;
  const enrichments = enrichmentsOf(enrichment, str(src?.ip) ?? '', str(obj(doc.metadata)?.uid));
  if (enrichments.length > 0) doc.enrichments = enrichments;

  const unmapped = unmappedOf(event, consumed, enrichment);
  if (Object.keys(unmapped).length > 0) doc.unmapped = unmapped;
  if (options.rawData) doc.raw_data = input.text;
  return { doc, eventClass };
}

/** A message that is not a CloudTrail event: an OCSF Base Event (class 0) that keeps it whole. */
export function ocsfSkippedLine(input: LayoutSkipped): LayoutLine {
  const cls = OCSF_CLASSES['base-event'];
  const doc: Doc = {
    activity_id: 0,
    activity_name: 'Unknown',
    category_uid: cls.category_uid,
    category_name: cls.category_name,
    class_uid: cls.class_uid,
    class_name: cls.class_name,
    type_uid: 0,
    type_name: 'Base Event: Unknown',
    severity_id: 0,
    severity: 'Unknown',
    time: input.arrival,
    time_dt: new Date(input.arrival).toISOString(),
    status_id: 2,
    status: 'Failure',
    status_detail: input.error,
    message: input.error,
    metadata: {
      product: { name: 'cloudtrail-enricher', vendor_name: 'cloudtrail-enricher' },
      version: OCSF_VERSION,
      profiles: ['datetime'],
    },
    // The message is kept whatever OCSF_RAW_DATA says: it is all there is of it.
    raw_data: input.raw,
  };
  return { text: JSON.stringify(doc), eventClass: 'base-event' };
}

type Take = (path: string, value: unknown) => string | undefined;

function metadataOf(event: CloudTrailEvent, take: Take): Doc {
  const product: Doc = { name: 'CloudTrail', vendor_name: 'AWS' };
  const version = take('eventVersion', event.eventVersion);
  if (version !== undefined) product.version = version;
  const metadata: Doc = { product, version: OCSF_VERSION, profiles: [...OCSF_PROFILES] };
  const uid = take('eventID', event.eventID);
  if (uid !== undefined) metadata.uid = uid;
  const code = take('eventType', event.eventType);
  if (code !== undefined) metadata.event_code = code;
  return metadata;
}

/** userIdentity.type → OCSF user type_id (1 User, 2 Admin, 3 System, 99 Other with the CloudTrail type). */
function userTypeOf(type: string): [number, string] {
  switch (type) {
    case 'IAMUser':
      return [1, 'User'];
    case 'Root':
      return [2, 'Admin'];
    case 'AWSService':
      return [3, 'System'];
    default:
      return [99, type];
  }
}

function userOf(event: CloudTrailEvent, take: Take): Doc | undefined {
  const identity = obj(event.userIdentity);
  if (identity === undefined) return undefined;
  const user: Doc = {};
  const arn = take('userIdentity.arn', identity.arn);
  if (arn !== undefined) user.uid = arn;
  const principal = take('userIdentity.principalId', identity.principalId);
  if (principal !== undefined) user.uid_alt = principal;
  const type = str(identity.type);
  if (type !== undefined) {
    const [typeId, caption] = userTypeOf(type);
    user.type_id = typeId;
    user.type = caption;
    // The CloudTrail type is kept as is: `unmapped` keeps it when the caption differs (IAMUser → User).
  }
  const issuer = obj(obj(identity.sessionContext)?.sessionIssuer);
  const name =
    take('userIdentity.userName', identity.userName) ?? take('userIdentity.sessionContext.sessionIssuer.userName', issuer?.userName);
  if (name !== undefined) user.name = name;
  const accountId = take('userIdentity.accountId', identity.accountId);
  if (accountId !== undefined) user.account = { uid: accountId };
  const key = take('userIdentity.accessKeyId', identity.accessKeyId);
  if (key !== undefined) user.credential_uid = key;
  return Object.keys(user).length > 0 ? user : undefined;
}

function sessionOf(event: CloudTrailEvent, take: Take): Doc | undefined {
  const context = obj(obj(event.userIdentity)?.sessionContext);
  if (context === undefined) return undefined;
  const session: Doc = {};
  const attributes = obj(context.attributes);
  const created = epochMs(attributes?.creationDate);
  if (created !== undefined) {
    take('userIdentity.sessionContext.attributes.creationDate', attributes?.creationDate);
    session.created_time = created;
    session.created_time_dt = new Date(created).toISOString();
  }
  const mfa = take('userIdentity.sessionContext.attributes.mfaAuthenticated', attributes?.mfaAuthenticated);
  if (mfa === 'true' || mfa === 'false') session.is_mfa = mfa === 'true';
  const issuer = take('userIdentity.sessionContext.sessionIssuer.arn', obj(context.sessionIssuer)?.arn);
  if (issuer !== undefined) session.issuer = issuer;
  const key = str(obj(event.userIdentity)?.accessKeyId);
  if (key !== undefined && Object.keys(session).length > 0) session.credential_uid = key;
  return Object.keys(session).length > 0 ? session : undefined;
}

function srcEndpointOf(event: CloudTrailEvent, enrichment: Enrichment, take: Take): Doc | undefined {
  const source = enrichment.source;
  const endpoint: Doc = {};
  const address = str(event.sourceIPAddress);
  if (source?.ip !== undefined && (source.kind === 'public' || source.kind === 'private' || source.kind === 'reserved')) {
    endpoint.ip = source.ip;
    // The normalised form is what `ip` holds; the text as received is kept when it differs (::ffff:1.2.3.4).
    if (address === source.ip) take('sourceIPAddress', address);
  } else if (source?.kind === 'aws-service' && address !== undefined) {
    endpoint.domain = take('sourceIPAddress', address);
  } else if ((source?.kind === 'aws-internal' || source?.kind === 'invalid') && address !== undefined) {
    // `AWS Internal`, or a malformed address: named as received (an `ip` must be a valid address).
    endpoint.name = take('sourceIPAddress', address);
  }
  const vpce = take('vpcEndpointId', event.vpcEndpointId);
  if (vpce !== undefined) endpoint.uid = vpce;
  const location = locationOf(enrichment);
  if (location !== undefined) endpoint.location = location;
  return Object.keys(endpoint).length > 0 ? endpoint : undefined;
}

function locationOf(enrichment: Enrichment): Doc | undefined {
  const geo = enrichment.source?.geo;
  const as = enrichment.source?.as;
  const location: Doc = {};
  if (geo?.city !== undefined) location.city = geo.city;
  if (geo?.countryCode !== undefined) location.country = geo.countryCode;
  if (geo?.region !== undefined) location.region = geo.region;
  // GeoJSON order: longitude first.
  if (geo?.latitude !== undefined && geo.longitude !== undefined) location.coordinates = [geo.longitude, geo.latitude];
  if (as?.organization !== undefined) location.isp = as.organization;
  if (Object.keys(location).length === 0) return undefined;
  location.provider = 'cloudtrail-enricher';
  return location;
}

function dstEndpointOf(event: CloudTrailEvent, eventSource: string | undefined, take: Take): Doc | undefined {
  const endpoint: Doc = {};
  const host = take('tlsDetails.clientProvidedHostHeader', obj(event.tlsDetails)?.clientProvidedHostHeader);
  if (host !== undefined) endpoint.hostname = host;
  if (eventSource !== undefined) endpoint.svc_name = eventSource;
  return Object.keys(endpoint).length > 0 ? endpoint : undefined;
}

function authProtocolOf(type: string | undefined): [number, string] | undefined {
  switch (type) {
    case 'SAMLUser':
      return [5, 'SAML'];
    case 'WebIdentityUser':
      return [4, 'OpenID'];
    case 'IAMUser':
    case 'Root':
      // Console sign-in of an IAM user or the root user: a password (and MFA, see is_mfa).
      return [99, 'Password'];
    default:
      return undefined;
  }
}

function resourcesOf(value: unknown, consumed: Set<string>): Doc[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const out: Doc[] = [];
  value.forEach((item, i) => {
    const r = obj(item);
    if (r === undefined) return;
    const resource: Doc = {};
    const arn = str(r.ARN);
    const type = str(r.type);
    const account = str(r.accountId);
    if (arn !== undefined) {
      resource.uid = arn;
      consumed.add(`resources[${i}].ARN`);
    }
    if (type !== undefined) {
      resource.type = type;
      consumed.add(`resources[${i}].type`);
    }
    if (account !== undefined) {
      resource.owner = { account: { uid: account } };
      consumed.add(`resources[${i}].accountId`);
    }
    if (Object.keys(resource).length > 0) out.push(resource);
  });
  return out.length > 0 ? out : undefined;
}

/** OCSF 1.1.0 observable type_ids used here. */
const OBSERVABLE = {
  hostname: [1, 'Hostname'],
  ip: [2, 'IP Address'],
  userName: [4, 'User Name'],
  resourceUid: [10, 'Resource UID'],
  userAgent: [16, 'HTTP User-Agent'],
} as const;

function observablesOf(doc: Doc, src: Doc | undefined): Doc[] {
  const out: Doc[] = [];
  const add = (name: string, value: unknown, [typeId, type]: readonly [number, string]) => {
    if (typeof value === 'string' && value !== '') out.push({ name, value, type_id: typeId, type });
  };
  add('src_endpoint.ip', src?.ip, OBSERVABLE.ip);
  add('src_endpoint.domain', src?.domain, OBSERVABLE.hostname);
  const user = obj(obj(doc.actor)?.user) ?? obj(doc.user);
  const userPath = doc.user !== undefined ? 'user' : 'actor.user';
  add(`${userPath}.name`, user?.name, OBSERVABLE.userName);
  add(`${userPath}.uid`, user?.uid, OBSERVABLE.resourceUid);
  add('http_request.user_agent', obj(doc.http_request)?.user_agent, OBSERVABLE.userAgent);
  return out;
}

/**
 * `enrichments[]` in the 1.1.0 shape {name, value, type, provider, data}: geolocation and AS of the source
 * address, one reputation entry per provider that answered, and the rules verdict (priority, score, reasons with
 * their ATT&CK tactics and techniques). `data` is an object here; in Parquet it is its JSON text (ocsf-shape.ts).
 */
function enrichmentsOf(enrichment: Enrichment, ip: string, eventId: string | undefined): Doc[] {
  const out: Doc[] = [];
  const source = enrichment.source;
  if (ip !== '' && source?.geo !== undefined)
    out.push({ name: 'src_endpoint.ip', value: ip, type: 'location', provider: 'cloudtrail-enricher', data: source.geo });
  if (ip !== '' && source?.as !== undefined)
    out.push({ name: 'src_endpoint.ip', value: ip, type: 'autonomous_system', provider: 'cloudtrail-enricher', data: source.as });
  const providers = enrichment.providers ?? {};
  for (const [provider, answer] of Object.entries(providers)) {
    if (ip !== '') out.push({ name: 'src_endpoint.ip', value: ip, type: 'reputation', provider, data: answer });
  }
  if (ip !== '' && source?.reputation !== undefined && Object.keys(providers).length === 0) {
    out.push({ name: 'src_endpoint.ip', value: ip, type: 'reputation', provider: 'cloudtrail-enricher', data: source.reputation });
  }
  if (enrichment.priority !== undefined && enrichment.risk !== undefined) {
    const reasons = enrichment.risk.reasons as readonly ReasonWithAttack[];
    out.push({
      name: 'metadata.uid',
      value: eventId ?? '',
      type: 'verdict',
      provider: 'cloudtrail-enricher',
      data: { priority: enrichment.priority, score: enrichment.risk.score, reasons, attack: attackOf(reasons) },
    });
  }
  const baseline = (enrichment as { baseline?: unknown }).baseline;
  if (baseline !== undefined && eventId !== undefined)
    out.push({ name: 'metadata.uid', value: eventId, type: 'baseline', provider: 'cloudtrail-enricher', data: baseline });
  return out;
}

/**
 * Every CloudTrail field no attribute holds, flattened (`requestParameters.bucketName`, `resources[0].ARN`) with
 * string values (other JSON values as their JSON text), plus the enrichment's own status and source kind.
 */
function unmappedOf(event: CloudTrailEvent, consumed: ReadonlySet<string>, enrichment: Enrichment): Record<string, string> {
  const out: Record<string, string> = {};
  let count = 0;
  let truncated = false;
  const put = (key: string, value: string) => {
    if (count >= UNMAPPED_MAX_KEYS) {
      truncated = true;
      return;
    }
    out[key] = value.length > UNMAPPED_MAX_VALUE ? value.slice(0, UNMAPPED_MAX_VALUE) : value;
    count++;
  };
  const walk = (value: unknown, path: string, depth: number) => {
    if (consumed.has(path)) return;
    if (value === null || typeof value !== 'object' || depth >= 16) {
      put(path, typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null'));
      return;
    }
    if (Array.isArray(value)) {
      if (value.length === 0) put(path, '[]');
      value.forEach((v, i) => walk(v, `${path}[${i}]`, depth + 1));
      return;
    }
    const keys = Object.keys(value);
    if (keys.length === 0) put(path, '{}');
    for (const k of keys) walk((value as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, depth + 1);
  };
  for (const k of Object.keys(event)) walk(event[k], k, 0);
  put('enrichment.status', enrichment.status);
  if (enrichment.source?.kind !== undefined) put('enrichment.source.kind', enrichment.source.kind);
  if (enrichment.source?.address !== undefined && enrichment.source.address !== enrichment.source.ip)
    put('enrichment.source.address', enrichment.source.address);
  if (truncated) out['unmapped.truncated'] = 'true';
  return out;
}
