/**
 * The project's own encoding of the parts of OCSF 1.1.0 this layout emits: attribute types, requirements and
 * enums of the classes and objects written by src/7-encode/layouts/ocsf.ts. Written by hand from the published
 * schema, ocsf/ocsf-schema at tag v1.1.0 (https://github.com/ocsf/ocsf-schema/tree/v1.1.0):
 *   events/base_event.json                 base attributes (required: activity_id, category_uid, class_uid, metadata,
 *                                          severity_id, time, type_uid; recommended: message, observables, status,
 *                                          status_code, status_detail, status_id, timezone_offset)
 *   events/application/api_activity.json   class 6003 (actor, api, src_endpoint required; dst_endpoint, http_request,
 *                                          resources recommended; activity 1 Create … 4 Delete)
 *   events/iam/authentication.json         class 3002 (user required; activity 1 Logon … 6 Preauth)
 *   profiles/cloud.json, profiles/datetime.json
 *   objects/{metadata,product,actor,user,account,session,api,service,request,response,network_endpoint,endpoint,
 *            location,http_request,resource_details,cloud,observable,enrichment}.json
 *   dictionary.json                        attribute types (timestamp_t = long ms, datetime_t = RFC 3339 string,
 *                                          float_t, integer_t, long_t, boolean_t, ip_t, json_t, object_t)
 * Only what is emitted is encoded; an attribute the mapper writes that is not listed here fails the test, so
 * the encoding must be extended (from the same files) before the mapper is.
 */
export type OcsfType =
  'string_t' | 'integer_t' | 'long_t' | 'float_t' | 'boolean_t' | 'timestamp_t' | 'datetime_t' | 'ip_t' | 'json_t' | 'object_t';

export type Requirement = 'required' | 'recommended' | 'optional';

export interface AttributeDef {
  readonly type: OcsfType | { readonly object: string };
  readonly requirement: Requirement;
  readonly array?: boolean;
  /** Allowed values of an enum attribute (`*_id`), with their captions. */
  readonly enum?: Readonly<Record<number, string>>;
  /** The sibling caption attribute of an enum (`activity_id` → `activity_name`). */
  readonly sibling?: string;
}

export type ObjectDef = Readonly<Record<string, AttributeDef>>;

const t = (type: OcsfType, requirement: Requirement = 'optional', extra: Partial<AttributeDef> = {}): AttributeDef => ({
  type,
  requirement,
  ...extra,
});
const o = (object: string, requirement: Requirement = 'optional', extra: Partial<AttributeDef> = {}): AttributeDef => ({
  type: { object },
  requirement,
  ...extra,
});

const STATUS_ID = { 0: 'Unknown', 1: 'Success', 2: 'Failure', 99: 'Other' };
const SEVERITY_ID = { 0: 'Unknown', 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical', 6: 'Fatal', 99: 'Other' };

/** events/base_event.json + profiles/datetime.json (the `_dt` siblings of timestamp_t attributes). */
const BASE_EVENT: ObjectDef = {
  activity_id: t('integer_t', 'required', { sibling: 'activity_name', enum: { 0: 'Unknown', 99: 'Other' } }),
  activity_name: t('string_t'),
  category_uid: t('integer_t', 'required', { sibling: 'category_name' }),
  category_name: t('string_t'),
  class_uid: t('integer_t', 'required', { sibling: 'class_name' }),
  class_name: t('string_t'),
  count: t('integer_t'),
  duration: t('integer_t'),
  end_time: t('timestamp_t'),
  enrichments: o('enrichment', 'optional', { array: true }),
  message: t('string_t', 'recommended'),
  metadata: o('metadata', 'required'),
  observables: o('observable', 'recommended', { array: true }),
  raw_data: t('string_t'),
  severity: t('string_t'),
  severity_id: t('integer_t', 'required', { sibling: 'severity', enum: SEVERITY_ID }),
  start_time: t('timestamp_t'),
  status: t('string_t', 'recommended'),
  status_code: t('string_t', 'recommended'),
  status_detail: t('string_t', 'recommended'),
  status_id: t('integer_t', 'recommended', { sibling: 'status', enum: STATUS_ID }),
  time: t('timestamp_t', 'required'),
  time_dt: t('datetime_t'),
  timezone_offset: t('integer_t', 'recommended'),
  type_name: t('string_t'),
  type_uid: t('long_t', 'required'),
  unmapped: t('object_t'),
};

/** profiles/cloud.json: `cloud` required, `api` optional. */
const CLOUD_PROFILE: ObjectDef = {
  cloud: o('cloud', 'required'),
  api: o('api'),
};

export interface ClassDef {
  readonly uid: number;
  readonly name: string;
  readonly category_uid: number;
  readonly category_name: string;
  readonly attributes: ObjectDef;
  readonly profiles: readonly string[];
}

export const CLASSES: Readonly<Record<number, ClassDef>> = {
  0: { uid: 0, name: 'Base Event', category_uid: 0, category_name: 'Uncategorized', attributes: BASE_EVENT, profiles: ['datetime'] },
  6003: {
    uid: 6003,
    name: 'API Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    profiles: ['cloud', 'datetime'],
    attributes: {
      ...BASE_EVENT,
      ...CLOUD_PROFILE,
      activity_id: t('integer_t', 'required', {
        sibling: 'activity_name',
        enum: { 0: 'Unknown', 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
      }),
      actor: o('actor', 'required'),
      api: o('api', 'required'),
      dst_endpoint: o('network_endpoint', 'recommended'),
      http_request: o('http_request', 'recommended'),
      resources: o('resource_details', 'recommended', { array: true }),
      src_endpoint: o('network_endpoint', 'required'),
    },
  },
  3002: {
    uid: 3002,
    name: 'Authentication',
    category_uid: 3,
    category_name: 'Identity & Access Management',
    profiles: ['cloud', 'datetime'],
    attributes: {
      ...BASE_EVENT,
      ...CLOUD_PROFILE,
      activity_id: t('integer_t', 'required', {
        sibling: 'activity_name',
        enum: {
          0: 'Unknown',
          1: 'Logon',
          2: 'Logoff',
          3: 'Authentication Ticket',
          4: 'Service Ticket Request',
          5: 'Service Ticket Renew',
          6: 'Preauth',
          99: 'Other',
        },
      }),
      actor: o('actor'),
      auth_protocol: t('string_t'),
      auth_protocol_id: t('integer_t', 'recommended', {
        sibling: 'auth_protocol',
        enum: {
          0: 'Unknown',
          1: 'NTLM',
          2: 'Kerberos',
          3: 'Digest',
          4: 'OpenID',
          5: 'SAML',
          6: 'OAUTH 2.0',
          7: 'PAP',
          8: 'CHAP',
          9: 'EAP',
          10: 'RADIUS',
          99: 'Other',
        },
      }),
      dst_endpoint: o('network_endpoint', 'recommended'),
      http_request: o('http_request'),
      is_mfa: t('boolean_t'),
      is_remote: t('boolean_t', 'recommended'),
      logon_type_id: t('integer_t', 'recommended'),
      service: o('service', 'recommended'),
      session: o('session'),
      src_endpoint: o('network_endpoint', 'recommended'),
      status_detail: t('string_t', 'recommended'),
      user: o('user', 'required'),
    },
  },
};

const ACCOUNT: ObjectDef = {
  uid: t('string_t', 'recommended'),
  name: t('string_t', 'recommended'),
  type: t('string_t'),
  type_id: t('integer_t', 'recommended'),
};

export const OBJECTS: Readonly<Record<string, ObjectDef>> = {
  metadata: {
    product: o('product', 'required'),
    version: t('string_t', 'required'),
    uid: t('string_t'),
    event_code: t('string_t'),
    profiles: t('string_t', 'optional', { array: true }),
    log_name: t('string_t', 'recommended'),
    original_time: t('string_t'),
  },
  product: {
    name: t('string_t', 'recommended'),
    vendor_name: t('string_t', 'required'),
    version: t('string_t', 'recommended'),
    uid: t('string_t', 'recommended'),
  },
  actor: { user: o('user', 'recommended'), session: o('session', 'recommended'), invoked_by: t('string_t'), app_name: t('string_t') },
  user: {
    uid: t('string_t', 'recommended'),
    uid_alt: t('string_t'),
    name: t('string_t', 'recommended'),
    type: t('string_t'),
    type_id: t('integer_t', 'recommended', { sibling: 'type', enum: { 0: 'Unknown', 1: 'User', 2: 'Admin', 3: 'System', 99: 'Other' } }),
    account: o('account'),
    credential_uid: t('string_t'),
  },
  account: ACCOUNT,
  session: {
    created_time: t('timestamp_t'),
    created_time_dt: t('datetime_t'),
    is_mfa: t('boolean_t'),
    issuer: t('string_t', 'recommended'),
    credential_uid: t('string_t'),
    uid: t('string_t', 'recommended'),
  },
  api: {
    operation: t('string_t', 'required'),
    service: o('service'),
    request: o('request'),
    response: o('response'),
    version: t('string_t'),
  },
  service: { name: t('string_t', 'recommended'), uid: t('string_t', 'recommended') },
  request: { uid: t('string_t', 'required') },
  response: { error: t('string_t'), error_message: t('string_t'), code: t('integer_t') },
  network_endpoint: {
    ip: t('ip_t', 'recommended'),
    domain: t('string_t'),
    hostname: t('string_t', 'recommended'),
    name: t('string_t', 'recommended'),
    uid: t('string_t', 'recommended'),
    svc_name: t('string_t', 'recommended'),
    location: o('location'),
    port: t('integer_t', 'recommended'),
  },
  location: {
    city: t('string_t', 'recommended'),
    country: t('string_t', 'recommended'),
    region: t('string_t', 'recommended'),
    coordinates: t('float_t', 'optional', { array: true }),
    isp: t('string_t'),
    provider: t('string_t'),
    continent: t('string_t', 'recommended'),
    postal_code: t('string_t', 'recommended'),
  },
  http_request: { user_agent: t('string_t', 'recommended'), url: t('object_t', 'recommended'), http_method: t('string_t', 'recommended') },
  resource_details: {
    uid: t('string_t', 'recommended'),
    name: t('string_t', 'recommended'),
    type: t('string_t'),
    owner: o('user', 'recommended'),
  },
  cloud: { provider: t('string_t', 'required'), region: t('string_t', 'recommended'), account: o('account') },
  observable: {
    name: t('string_t', 'required'),
    type_id: t('integer_t', 'required', {
      sibling: 'type',
      enum: {
        0: 'Unknown',
        1: 'Hostname',
        2: 'IP Address',
        3: 'MAC Address',
        4: 'User Name',
        5: 'Email Address',
        6: 'URL String',
        7: 'File Name',
        8: 'Hash',
        9: 'Process Name',
        10: 'Resource UID',
        16: 'HTTP User-Agent',
        99: 'Other',
      },
    }),
    type: t('string_t'),
    value: t('string_t'),
  },
  enrichment: {
    name: t('string_t', 'required'),
    value: t('string_t', 'required'),
    data: t('json_t', 'required'),
    type: t('string_t', 'recommended'),
    provider: t('string_t', 'recommended'),
  },
};

/**
 * Recommended attributes CloudTrail has no data for, per class (where a value would have to be invented).
 * Everything else recommended must be present whenever the source event has the data.
 */
export const RECOMMENDED_WITHOUT_SOURCE: Readonly<Record<number, readonly string[]>> = {
  0: ['observables', 'status_code', 'timezone_offset'],
  // message: CloudTrail has no free-text summary; status_code/status_detail: only on errors.
  6003: ['message', 'status_code', 'status_detail', 'resources', 'dst_endpoint', 'http_request', 'observables'],
  // logon_type_id: CloudTrail does not say; auth_protocol_id: only known for IAM/root/SAML/OIDC sign-ins.
  3002: ['message', 'status_code', 'status_detail', 'logon_type_id', 'auth_protocol_id', 'src_endpoint', 'dst_endpoint', 'observables'],
};
