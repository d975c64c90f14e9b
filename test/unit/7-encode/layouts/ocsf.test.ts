import { expect } from 'chai';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { eventFromParsed } from '../../../../src/1-decode/event-text.ts';
import { ocsfDocument, UNMAPPED_MAX_KEYS } from '../../../../src/7-encode/layouts/ocsf.ts';
import { OCSF_DOCUMENT_SHAPE } from '../../../../src/7-encode/layouts/ocsf-shape.ts';
import { shapeProblems } from '../../../../src/7-encode/layouts/shape.ts';
import { cloudTrailEvent } from '../../../helpers/factories.ts';
import { layoutDocuments } from './support/documents.ts';
import { CLASSES, OBJECTS, RECOMMENDED_WITHOUT_SOURCE, type AttributeDef, type ObjectDef } from './support/ocsf-1.1.0.ts';

/** Problems of one OCSF document against the 1.1.0 definitions (empty = valid). */
function ocsfProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const cls = CLASSES[doc.class_uid as number];
  if (cls === undefined) return [`class_uid ${String(doc.class_uid)} is not an emitted 1.1.0 class`];
  if (doc.category_uid !== cls.category_uid) problems.push(`category_uid ${String(doc.category_uid)} is not ${cls.category_uid}`);
  if (doc.category_name !== cls.category_name) problems.push(`category_name ${String(doc.category_name)}`);
  if (doc.class_name !== cls.name) problems.push(`class_name ${String(doc.class_name)}`);
  if (doc.type_uid !== (doc.class_uid as number) * 100 + (doc.activity_id as number))
    problems.push(`type_uid ${String(doc.type_uid)} is not class_uid × 100 + activity_id`);
  const metadata = doc.metadata as Record<string, unknown> | undefined;
  if (metadata?.version !== '1.1.0') problems.push(`metadata.version ${String(metadata?.version)}`);
  for (const p of (metadata?.profiles as string[] | undefined) ?? [])
    if (!cls.profiles.includes(p)) problems.push(`profile ${p} is not applicable to ${cls.name}`);
  if (typeof doc.time === 'number' && doc.time_dt !== new Date(doc.time).toISOString()) problems.push('time_dt does not match time');
  problems.push(...objectProblems(doc, cls.attributes, '$'));
  const allowedMissing = RECOMMENDED_WITHOUT_SOURCE[cls.uid] ?? [];
  for (const [name, def] of Object.entries(cls.attributes)) {
    if (def.requirement === 'recommended' && doc[name] === undefined && !allowedMissing.includes(name))
      problems.push(`$.${name}: recommended and missing`);
  }
  return problems;
}

function objectProblems(value: Record<string, unknown>, def: ObjectDef, path: string): string[] {
  const problems: string[] = [];
  for (const [name, attr] of Object.entries(def)) {
    if (attr.requirement === 'required' && value[name] === undefined) problems.push(`${path}.${name}: required and missing`);
  }
  for (const [name, v] of Object.entries(value)) {
    const attr = def[name];
    if (attr === undefined) {
      problems.push(`${path}.${name}: not an attribute here in OCSF 1.1.0`);
      continue;
    }
    if (attr.array) {
      if (!Array.isArray(v)) problems.push(`${path}.${name}: expected an array`);
      else v.forEach((item, i) => problems.push(...valueProblems(item, attr, `${path}.${name}[${i}]`, value)));
    } else {
      problems.push(...valueProblems(v, attr, `${path}.${name}`, value));
    }
  }
  return problems;
}

function valueProblems(v: unknown, attr: AttributeDef, path: string, parent: Record<string, unknown>): string[] {
  if (typeof attr.type === 'object') {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return [`${path}: expected object ${attr.type.object}`];
    const def = OBJECTS[attr.type.object];
    if (def === undefined) return [`${path}: object ${attr.type.object} is not encoded`];
    return objectProblems(v as Record<string, unknown>, def, path);
  }
  const ok = (() => {
    switch (attr.type) {
      case 'string_t':
        return typeof v === 'string';
      case 'integer_t':
        return Number.isInteger(v) && Math.abs(v as number) <= 2 ** 31;
      case 'long_t':
      case 'timestamp_t':
        return Number.isSafeInteger(v);
      case 'float_t':
        return typeof v === 'number' && Number.isFinite(v);
      case 'boolean_t':
        return typeof v === 'boolean';
      case 'datetime_t':
        return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v);
      case 'ip_t':
        return typeof v === 'string' && isIP(v) !== 0;
      case 'object_t':
        return v !== null && typeof v === 'object' && !Array.isArray(v);
      case 'json_t':
        return v !== undefined;
    }
  })();
  if (!ok) return [`${path}: expected ${attr.type}, got ${JSON.stringify(v)?.slice(0, 60)}`];
  if (attr.enum !== undefined) {
    const caption = attr.enum[v as number];
    if (caption === undefined) return [`${path}: ${String(v)} is not an enum value`];
    if (attr.sibling !== undefined && parent[attr.sibling] !== undefined && v !== 99 && parent[attr.sibling] !== caption) {
      return [`${path}: sibling ${attr.sibling} is ${String(parent[attr.sibling])}, the enum caption is ${caption}`];
    }
  }
  return [];
}

describe('OCSF 1.1.0 layout', () => {
  let docs: Record<string, unknown>[];
  before(async function () {
    this.timeout(60_000);
    ({ docs } = await layoutDocuments({ OUTPUT_FORMAT: 'ocsf' }));
  });

  it('writes every document of the sample and the fixtures valid against the 1.1.0 definitions', () => {
    expect(docs.length).to.be.greaterThan(2000);
    const invalid = docs.map((d, i) => ({ i, problems: ocsfProblems(d) })).filter((r) => r.problems.length > 0);
    expect(invalid.slice(0, 3), `${invalid.length} invalid documents`).to.deep.equal([]);
  });

  it('writes every document within the declared shape the Glue columns come from', () => {
    const problems = docs.flatMap((d) => shapeProblems(d, OCSF_DOCUMENT_SHAPE));
    expect(problems.slice(0, 5)).to.deep.equal([]);
  });

  it('maps console sign-ins to Authentication (3002) and API calls to API Activity (6003)', () => {
    const logins = docs.filter((d) => (d.api as { operation?: string } | undefined)?.operation === 'ConsoleLogin');
    expect(logins.length).to.be.greaterThan(0);
    expect(new Set(logins.map((d) => d.class_uid))).to.deep.equal(new Set([3002]));
    expect(docs.filter((d) => d.class_uid === 6003).length).to.be.greaterThan(logins.length);
  });

  it('fills src_endpoint.location with coordinates as [lon, lat] and an enrichment per source of knowledge', () => {
    const located = docs.find((d) => (d.src_endpoint as { location?: unknown } | undefined)?.location !== undefined)!;
    const location = (located.src_endpoint as { location: { coordinates: number[]; country: string; isp: string } }).location;
    expect(location.coordinates[0]).to.equal(8.68);
    expect(location.coordinates[1]).to.be.within(50, 51);
    expect(location).to.include({ country: 'DE', isp: 'Example Networks GmbH' });
    const types = (located.enrichments as { type: string; provider: string }[]).map((e) => `${e.type}/${e.provider}`);
    expect(types).to.include.members([
      'location/cloudtrail-enricher',
      'autonomous_system/cloudtrail-enricher',
      'reputation/ipqualityscore',
      'reputation/abuseipdb',
      'verdict/cloudtrail-enricher',
    ]);
  });

  it('carries the rules verdict as severity_id and as a verdict enrichment with its reasons', () => {
    const critical = docs.find((d) => d.severity_id === 5)!;
    expect(critical.severity).to.equal('Critical');
    const verdict = (critical.enrichments as { type: string; data: { priority: string; score: number; reasons: unknown[] } }[]).find(
      (e) => e.type === 'verdict',
    )!;
    expect(verdict.data.priority).to.equal('CRITICAL');
    expect(verdict.data.reasons.length).to.be.greaterThan(0);
  });

  it('keeps the original text in raw_data, and every unmapped field as a flattened string', () => {
    for (const d of docs.filter((x) => x.class_uid !== 0)) {
      expect(d.raw_data).to.be.a('string');
      for (const v of Object.values((d.unmapped as Record<string, unknown> | undefined) ?? {})) expect(v).to.be.a('string');
    }
  });

  it('leaves raw_data out when OCSF_RAW_DATA=false', async () => {
    const { docs: without } = await layoutDocuments({ OUTPUT_FORMAT: 'ocsf', OCSF_RAW_DATA: 'false' });
    expect(without.filter((d) => d.class_uid !== 0 && d.raw_data !== undefined)).to.deep.equal([]);
  });

  it('keeps non-events as Base Event documents with the message in raw_data', () => {
    const base = docs.filter((d) => d.class_uid === 0);
    expect(base.map((d) => d.raw_data)).to.deep.equal(['not json', '[1,2]', '{"enrichment":{"x":1}}']);
  });

  it('loses no field: every leaf of the event is mapped or in unmapped (property)', () => {
    const leaf = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean());
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.stringMatching(/^[a-z][a-zA-Z]{0,7}$/),
          fc.oneof(leaf, fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), leaf, { maxKeys: 3 })),
          { maxKeys: 5 },
        ),
        (extra) => {
          const base = cloudTrailEvent();
          const fields = Object.fromEntries(Object.entries(extra).filter(([k]) => !(k in base) && k !== 'enrichment'));
          const event = { ...base, ...fields };
          const item = eventFromParsed(event);
          if (!item.ok) return;
          const { doc } = ocsfDocument(
            { event: item.event, text: item.text, enrichment: { version: 1, status: 'complete' }, arrival: 0 },
            { rawData: false },
          );
          const unmapped = doc.unmapped as Record<string, string>;
          for (const [k, v] of Object.entries(fields)) {
            if (v !== null && typeof v === 'object') {
              for (const [k2, v2] of Object.entries(v))
                expect(unmapped[`${k}.${k2}`]).to.equal(typeof v2 === 'string' ? v2 : JSON.stringify(v2));
              if (Object.keys(v).length === 0) expect(unmapped[k]).to.equal('{}');
            } else {
              expect(unmapped[k]).to.equal(typeof v === 'string' ? v : JSON.stringify(v));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('bounds unmapped and says when it cut it', () => {
    const requestParameters = Object.fromEntries(Array.from({ length: UNMAPPED_MAX_KEYS + 50 }, (_, i) => [`k${i}`, i]));
    const item = eventFromParsed(cloudTrailEvent({ requestParameters }));
    if (!item.ok) throw new Error('fixture');
    const { doc } = ocsfDocument(
      { event: item.event, text: item.text, enrichment: { version: 1, status: 'complete' }, arrival: 0 },
      { rawData: true },
    );
    const unmapped = doc.unmapped as Record<string, string>;
    expect(Object.keys(unmapped).length).to.equal(UNMAPPED_MAX_KEYS + 1);
    expect(unmapped['unmapped.truncated']).to.equal('true');
  });

  it('derives activity_id from the verb, 99 (named after the operation) for other verbs', () => {
    const activity = (eventName: string) => {
      const item = eventFromParsed(cloudTrailEvent({ eventName, eventSource: 's3.amazonaws.com' }));
      if (!item.ok) throw new Error('fixture');
      const { doc } = ocsfDocument(
        { event: item.event, text: item.text, enrichment: { version: 1, status: 'complete' }, arrival: 0 },
        { rawData: false },
      );
      return [doc.activity_id, doc.activity_name];
    };
    expect(activity('CreateBucket')).to.deep.equal([1, 'Create']);
    expect(activity('BatchGetItem')).to.deep.equal([2, 'Read']);
    expect(activity('PutBucketPolicy')).to.deep.equal([3, 'Update']);
    expect(activity('DeleteTrail')).to.deep.equal([4, 'Delete']);
    expect(activity('AssumeRole')).to.deep.equal([99, 'AssumeRole']);
  });
});
