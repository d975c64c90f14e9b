/**
 * JSON Schema (2020-12) of a finding (src/alert/finding.ts): the EventBridge `detail` and one line of
 * out/findings.ndjson. schema/finding.schema.json is written from this constant (`npm run build:schemas`) and a test
 * checks the file is current and that emitted findings validate against it.
 */
import type { Finding, FindingPrincipal, FindingReason, FindingSource } from './finding.ts';

const priority = { enum: ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] } as const;
const attack = {
  type: 'object',
  additionalProperties: false,
  required: ['tactics', 'techniques'],
  properties: {
    tactics: { type: 'array', items: { type: 'string' }, description: 'ATT&CK tactics, e.g. defense-evasion.' },
    techniques: { type: 'array', items: { type: 'string' }, description: 'ATT&CK technique ids, e.g. T1562.008.' },
  },
} as const;

export const FINDING_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://github.com/cloudtrail-enricher/cloudtrail-enricher/schema/finding.schema.json',
  title: 'cloudtrail-enricher finding',
  description:
    'The `detail` of an EventBridge event with source `cloudtrail-enricher` and detail-type `CloudTrail Enrichment Finding`, and one line of out/findings.ndjson. Fields without data are omitted.',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'id', 'eventID', 'principal', 'source', 'priority', 'score', 'rules', 'reasons', 'summary'],
  properties: {
    version: { const: 1 },
    id: {
      type: 'string',
      description: 'cloudtrail-enricher/<eventID>/<rule ids joined by +> (a hash when long); also the Security Hub finding Id.',
    },
    eventID: { type: 'string' },
    eventTime: { type: 'string' },
    eventName: { type: 'string' },
    eventSource: { type: 'string' },
    account: { type: 'string', description: 'recipientAccountId' },
    region: { type: 'string', description: 'awsRegion' },
    principal: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: {
        id: { type: 'string', description: 'userIdentity.arn, else service:<invokedBy>, else <type>/<principalId>.' },
        type: { type: 'string' },
        arn: { type: 'string' },
        accountId: { type: 'string' },
        userName: { type: 'string' },
        principalId: { type: 'string' },
        sessionIssuerArn: { type: 'string' },
      },
    },
    source: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        address: { type: 'string', description: 'sourceIPAddress as received' },
        kind: { enum: ['public', 'private', 'reserved', 'aws-internal', 'aws-service', 'invalid', 'missing'] },
        ip: { type: 'string' },
        countryCode: { type: 'string' },
        countryName: { type: 'string' },
        as: {
          type: 'object',
          additionalProperties: false,
          properties: { number: { type: 'integer' }, organization: { type: 'string' } },
        },
      },
    },
    priority,
    score: { type: 'number', minimum: 0, maximum: 100 },
    rules: { type: 'array', items: { type: 'string' }, description: 'Sorted ids of the rules that fired.' },
    reasons: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['rule', 'priority', 'score', 'detail'],
        properties: { rule: { type: 'string' }, priority, score: { type: 'number' }, detail: { type: 'string' }, attack },
      },
    },
    attack: { ...attack, description: 'Union of the reasons’ ATT&CK mappings.' },
    consoleUrl: { type: 'string', pattern: '^https://', description: 'The event in the CloudTrail console (event history).' },
    summary: { type: 'string', maxLength: 512, description: 'One readable line.' },
    group: {
      type: 'object',
      additionalProperties: false,
      required: ['windowStart', 'windowEnd', 'count'],
      properties: { windowStart: { type: 'string' }, windowEnd: { type: 'string' }, count: { type: 'integer', minimum: 1 } },
    },
    event: { type: 'object', description: 'The original CloudTrail event, when the entry stays under 256 KB with it.' },
    eventTruncated: {
      type: 'object',
      additionalProperties: false,
      required: ['text', 'originalBytes'],
      properties: {
        text: { type: 'string', description: 'The start of the event’s JSON text.' },
        originalBytes: { type: 'integer', description: 'UTF-8 size of the whole event text.' },
      },
    },
  },
} as const;

/** Compile-time check that the schema and the types name the same fields (typecheck fails on drift). */
type Same<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : false;
type Props<T extends { properties: object }> = keyof T['properties'];
const schemaMatchesTypes: [
  Same<keyof Finding, Props<typeof FINDING_SCHEMA>>,
  Same<keyof FindingPrincipal, Props<typeof FINDING_SCHEMA.properties.principal>>,
  Same<keyof FindingSource, Props<typeof FINDING_SCHEMA.properties.source>>,
  Same<keyof FindingReason, Props<typeof FINDING_SCHEMA.properties.reasons.items>>,
] = [true, true, true, true];
void schemaMatchesTypes;
