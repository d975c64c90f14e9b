import ecs from '@elastic/ecs';
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ECS_MAX_FREE_FORM, ECS_VERSION, ecsDocument } from '../../../../src/7-encode/layouts/ecs.ts';
import { ECS_DOCUMENT_SHAPE } from '../../../../src/7-encode/layouts/ecs-shape.ts';
import { ecsIndexTemplate } from '../../../../src/7-encode/layouts/ecs-template.ts';
import { shapeProblems } from '../../../../src/7-encode/layouts/shape.ts';
import { eventFromParsed } from '../../../../src/1-decode/event-text.ts';
import { cloudTrailEvent } from '../../../helpers/factories.ts';
import { layoutDocuments } from './support/documents.ts';

interface EcsField {
  type: string;
  normalize?: string[];
  allowed_values?: { name: string; expected_event_types?: string[] }[];
}
const FIELDS = ecs.EcsFlat as unknown as Record<string, EcsField>;

/** Dotted leaves of a document (arrays of scalars are one leaf; objects inside arrays are walked). */
function leaves(value: unknown, path = ''): [string, unknown][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if (FIELDS[path]?.type === 'geo_point') return [[path, value]];
    return Object.entries(value).flatMap(([k, v]) => leaves(v, path === '' ? k : `${path}.${k}`));
  }
  if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) return value.flatMap((v) => leaves(v, path));
  return [[path, value]];
}

function fits(type: string, value: unknown): boolean {
  switch (type) {
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'match_only_text':
    case 'text':
      return typeof value === 'string';
    case 'long':
      return Number.isSafeInteger(value);
    case 'float':
    case 'scaled_float':
    case 'double':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    case 'ip':
      return typeof value === 'string' && isIP(value) !== 0;
    case 'geo_point': {
      const p = value as { lat?: unknown; lon?: unknown };
      return typeof p.lat === 'number' && typeof p.lon === 'number' && Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180;
    }
    default:
      return false;
  }
}

/** Problems of one ECS document against the published ECS 8.x definitions (names, types, allowed values). */
function ecsProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [path, value] of leaves(doc)) {
    if (path.startsWith('aws.')) continue;
    const field = FIELDS[path];
    if (field === undefined) {
      problems.push(`${path}: not an ECS ${ECS_VERSION} field`);
      continue;
    }
    const values = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && !field.normalize?.includes('array') && field.type !== 'keyword')
      problems.push(`${path}: array for a non-array field`);
    for (const v of values) if (!fits(field.type, v)) problems.push(`${path}: ${JSON.stringify(v)?.slice(0, 60)} is not a ${field.type}`);
    if (field.allowed_values !== undefined) {
      const allowed = new Set(field.allowed_values.map((a) => a.name));
      for (const v of values) if (!allowed.has(v as string)) problems.push(`${path}: ${String(v)} is not an allowed value`);
    }
  }
  // event.type must be one the categories expect.
  const event = doc.event as { category?: string[]; type?: string[] } | undefined;
  if (event?.category !== undefined && event.type !== undefined) {
    const expected = new Set(
      event.category.flatMap((c) => FIELDS['event.category']!.allowed_values!.find((a) => a.name === c)?.expected_event_types ?? []),
    );
    for (const t of event.type) if (!expected.has(t)) problems.push(`event.type ${t} is not expected for ${event.category.join(',')}`);
  }
  return problems;
}

describe('ECS 8.x layout', () => {
  let docs: Record<string, unknown>[];
  before(async function () {
    this.timeout(60_000);
    ({ docs } = await layoutDocuments({ OUTPUT_FORMAT: 'ecs' }));
  });

  it(`pins the ECS definitions it validates against (${ECS_VERSION})`, () => {
    expect(ecs.EcsVersion).to.equal(ECS_VERSION);
  });

  it('writes every document of the sample and the fixtures with ECS names, types and allowed values', () => {
    expect(docs.length).to.be.greaterThan(2000);
    const invalid = docs.map((d, i) => ({ i, problems: ecsProblems(d) })).filter((r) => r.problems.length > 0);
    expect(invalid.slice(0, 3), `${invalid.length} invalid documents`).to.deep.equal([]);
  });

  it('writes every document within the declared shape the index template comes from', () => {
    expect(docs.flatMap((d) => shapeProblems(d, ECS_DOCUMENT_SHAPE)).slice(0, 5)).to.deep.equal([]);
  });

  it('ships the index template generated from the shape and the ECS definitions (npm run build:layouts)', async () => {
    const committed = JSON.parse(
      await readFile(join(import.meta.dirname, '..', '..', '..', '..', 'resources', 'opensearch', 'ecs', 'index-template.json'), 'utf8'),
    ) as unknown;
    expect(committed).to.deep.equal(ecsIndexTemplate(ecs.EcsFlat));
  });

  it('maps the source with geo.location and as.*, and the verdict to rule.*, event.risk_score and event.severity', () => {
    const judged = docs.find(
      (d) => (d.event as { kind: string }).kind === 'alert' && (d.source as { geo?: unknown } | undefined)?.geo !== undefined,
    )!;
    const source = judged.source as {
      geo: { location: { lat: number; lon: number } };
      as: { number: number; organization: { name: string } };
    };
    expect(source.geo.location.lon).to.equal(8.68);
    expect(source.as.organization.name).to.equal('Example Networks GmbH');
    expect((judged.rule as { ruleset: string }).ruleset).to.equal('cloudtrail-enricher');
    expect((judged.event as { risk_score: number }).risk_score).to.be.greaterThan(0);
    expect([21, 47, 73, 99]).to.include((judged.event as { severity: number }).severity);
  });

  it('keeps request parameters and response elements as size-guarded strings, never objects', () => {
    const requestParameters = { policy: 'x'.repeat(ECS_MAX_FREE_FORM * 2) };
    const item = eventFromParsed(cloudTrailEvent({ requestParameters, responseElements: { ok: true } }));
    if (!item.ok) throw new Error('fixture');
    const doc = ecsDocument({ event: item.event, text: item.text, enrichment: { version: 1, status: 'complete' }, arrival: 0 });
    const ct = (doc.aws as { cloudtrail: Record<string, unknown> }).cloudtrail;
    expect(ct.request_parameters).to.be.a('string').with.lengthOf(ECS_MAX_FREE_FORM);
    expect(ct.response_elements).to.equal('{"ok":true}');
    expect(ct.truncated_fields).to.deep.equal(['request_parameters']);
    for (const d of docs) {
      const c = (d.aws as { cloudtrail?: Record<string, unknown> } | undefined)?.cloudtrail ?? {};
      for (const k of ['request_parameters', 'response_elements', 'additional_eventdata', 'service_event_details'])
        if (c[k] !== undefined) expect(c[k]).to.be.a('string');
    }
  });

  it('writes failed console sign-ins as authentication start with outcome failure', () => {
    const failed = docs.filter(
      (d) => (d.event as { action?: string }).action === 'ConsoleLogin' && (d.event as { outcome: string }).outcome === 'failure',
    );
    expect(failed.length).to.be.greaterThan(0);
    for (const d of failed) expect(d.event).to.deep.include({ category: ['authentication'], type: ['start'] });
  });
});
