/**
 * The shape of every OCSF document ocsf.ts writes, for all its classes (API Activity, Authentication, Base
 * Event): one struct, so that one Glue table (Firehose record format conversion takes one) holds all of them; a
 * class's Parquet objects carry the other classes' columns as NULL. The Glue columns of the Security Lake stream
 * are generated from this (schema/ocsf/glue-columns.json, `npm run build:layouts`), and tests check every
 * document against it, so a field the mapper adds without declaring it here fails the tests.
 */
import { arrayOf, glueColumns, json, struct, type Shape } from './shape.ts';

const account = struct({ uid: 'string' });
const user = struct({
  uid: 'string',
  uid_alt: 'string',
  type_id: 'int',
  type: 'string',
  name: 'string',
  account,
  credential_uid: 'string',
});
const session = struct({
  created_time: 'long',
  created_time_dt: 'timestamp-string',
  is_mfa: 'boolean',
  issuer: 'string',
  credential_uid: 'string',
});
const location = struct({
  city: 'string',
  country: 'string',
  region: 'string',
  coordinates: arrayOf('double'),
  isp: 'string',
  provider: 'string',
});

export const OCSF_DOCUMENT_SHAPE: Shape = struct({
  activity_id: 'int',
  activity_name: 'string',
  category_uid: 'int',
  category_name: 'string',
  class_uid: 'int',
  class_name: 'string',
  type_uid: 'long',
  type_name: 'string',
  severity_id: 'int',
  severity: 'string',
  time: 'long',
  time_dt: 'timestamp-string',
  timezone_offset: 'int',
  status_id: 'int',
  status: 'string',
  status_code: 'string',
  status_detail: 'string',
  message: 'string',
  metadata: struct({
    product: struct({ name: 'string', vendor_name: 'string', version: 'string' }),
    uid: 'string',
    event_code: 'string',
    version: 'string',
    profiles: arrayOf('string'),
  }),
  actor: struct({ user, session, invoked_by: 'string' }),
  // Authentication
  user,
  session,
  service: struct({ name: 'string' }),
  is_mfa: 'boolean',
  is_remote: 'boolean',
  auth_protocol_id: 'int',
  auth_protocol: 'string',
  api: struct({
    operation: 'string',
    service: struct({ name: 'string' }),
    request: struct({ uid: 'string' }),
    version: 'string',
    response: struct({ error: 'string', error_message: 'string' }),
  }),
  src_endpoint: struct({ ip: 'ip', domain: 'string', name: 'string', uid: 'string', location }),
  dst_endpoint: struct({ hostname: 'string', svc_name: 'string' }),
  http_request: struct({ user_agent: 'string' }),
  resources: arrayOf(struct({ uid: 'string', type: 'string', owner: struct({ account }) })),
  cloud: struct({ provider: 'string', region: 'string', account }),
  observables: arrayOf(struct({ name: 'string', value: 'string', type_id: 'int', type: 'string' })),
  enrichments: arrayOf(struct({ name: 'string', value: 'string', type: 'string', provider: 'string', data: json })),
  unmapped: { map: 'string' },
  raw_data: 'string',
});

/** The Glue columns of the OCSF table (Parquet schema), in document order. */
export function ocsfGlueColumns(): { Name: string; Type: string }[] {
  return glueColumns(OCSF_DOCUMENT_SHAPE);
}
