/**
 * Every document the transform emits in OpenSearch mode, indexed by a simulator of OpenSearch's mapping
 * (test/helpers/opensearch-simulator.ts) against the index template in resources/opensearch/, composed both
 * ways: with flat_object (OpenSearch ≥ 2.7) and with the legacy component. Corpus: the sample, every fixture,
 * and a fast-check corpus of odd events (the same field as a string and as an object, thousands of parameter
 * keys, 40 KB values, forged enrichment, dotted and metadata names, deep nesting, duplicate keys).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { parseCoreConfig } from '../../../src/config/core.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { parseEventText } from '../../../src/1-decode/event-text.ts';
import { readEventTexts } from '../../../src/entry/cli/inputs.ts';
import { emptyEnrichCounters, enrichEventGroups, type EnrichDeps } from '../../../src/pipeline/enrich.ts';
import { buildStages } from '../../../src/pipeline/stages.ts';
import { emptyLookupStats, type IpIntelligence } from '../../../src/3-lookup/types.ts';
import type { IpIntel } from '../../../src/model.ts';
import { cloudTrailEvent } from '../../helpers/factories.ts';
import { composeMappings, countFields, indexDocument, parseDate, type Mapping } from '../../helpers/opensearch-simulator.ts';

const DIR = 'resources/opensearch';
const ARRIVAL = Date.parse('2026-11-20T12:00:00Z');
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

async function json<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

interface Template {
  index_patterns: string[];
  composed_of: string[];
  template: { mappings?: Mapping };
}

async function composed(legacy: boolean): Promise<Mapping> {
  const index = await json<Template>(join(DIR, 'index-template.json'));
  const names = index.composed_of.map((n) =>
    legacy && n === 'cloudtrail-enricher-enrichment' ? 'cloudtrail-enricher-enrichment-legacy' : n,
  );
  const parts: Mapping[] = [];
  for (const name of names)
    parts.push(
      (await json<{ template: { mappings?: Mapping } }>(join(DIR, 'component-templates', `${name}.json`))).template.mappings ?? {},
    );
  return composeMappings([...parts, index.template.mappings ?? {}]);
}

/** Geo for every public IP (a real-looking answer with a location), like the bundled databases give. */
class GeoEverywhere implements IpIntelligence {
  async lookup(ips: readonly string[]) {
    const intel = new Map<string, IpIntel>();
    for (const ip of ips)
      intel.set(ip, {
        complete: true,
        geo: { countryCode: 'DE', latitude: 50.11, longitude: 8.68 },
        as: { number: 3320, organization: 'DTAG' },
      });
    return { intel, stats: { ...emptyLookupStats(), uniqueIps: ips.length } };
  }
}

async function documents(texts: readonly string[], deps: Omit<EnrichDeps, 'config'>): Promise<string[]> {
  const config = parseCoreConfig({ OUTPUT_MODE: 'opensearch' });
  const [lines] = await enrichEventGroups(
    [{ events: texts.map(parseEventText), arrival: ARRIVAL }],
    { ...deps, config },
    Date.now() + 30_000,
    emptyEnrichCounters(),
  );
  return lines!.map((l) => l.text + (l.tail ?? ''));
}

function expectIndexed(doc: string, mappings: Mapping[]): void {
  for (const mapping of mappings) {
    const result = indexDocument(doc, mapping);
    expect(result.accepted, `${result.error}: ${doc.slice(0, 300)}`).to.equal(true);
    expect(result.newFields).to.equal(0);
    const times = result.values.get('eventTime') ?? [];
    expect(times, doc.slice(0, 200)).to.have.length(1);
    expect(Number.isFinite(times[0])).to.equal(true);
    for (const point of result.values.get('enrichment.source.geo.location') ?? []) {
      const { lat, lon } = point as { lat: number; lon: number };
      expect(Math.abs(lat)).to.be.at.most(90);
      expect(Math.abs(lon)).to.be.at.most(180);
    }
  }
}

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const mappedFields = [
  'eventTime',
  'eventName',
  'eventSource',
  'userIdentity',
  'resources',
  'tlsDetails',
  'sourceIPAddress',
  'readOnly',
  'errorMessage',
  'addendum',
  'requestParameters',
  'responseElements',
  'enrichment',
];
const oddEvent = fc.oneof(
  // Any JSON type in any mapped field, and in a field the mapping does not know.
  fc
    .record({ field: fc.constantFrom(...mappedFields, 'somethingNew'), value: jsonValue })
    .map(({ field, value }) => ({ ...cloudTrailEvent(), [field]: value })),
  fc
    .record({ field: fc.constantFrom('type', 'arn', 'sessionContext', 'userName'), value: jsonValue })
    .map(({ field, value }) => ({ ...cloudTrailEvent(), userIdentity: { type: 'IAMUser', [field]: value } })),
  // The same parameter as a string in one event and an object in the next.
  fc.boolean().map((asObject) => ({ ...cloudTrailEvent(), requestParameters: { bucketName: asObject ? { nested: 'x' } : 'x' } })),
  // Thousands of distinct parameter keys.
  fc
    .integer({ min: 1000, max: 4000 })
    .map((n) => ({ ...cloudTrailEvent(), requestParameters: Object.fromEntries(Array.from({ length: n }, (_, i) => [`key${i}`, i])) })),
  // 40 KB values where a keyword or a flat_object leaf would take them.
  fc
    .constantFrom('eventName', 'userAgent', 'errorMessage', 'sourceIPAddress')
    .map((field) => ({ ...cloudTrailEvent(), [field]: 'é'.repeat(20_480), requestParameters: { policy: 'x'.repeat(40_960) } })),
  fc.constant({ ...cloudTrailEvent(), resources: [{ ARN: `arn:aws:s3:::${'b'.repeat(40_000)}` }, { ARN: 'arn:aws:s3:::ok' }] }),
  // Names OpenSearch refuses or maps somewhere else.
  fc
    .constantFrom('', ' ', '.', 'a..b', 'eventName.x', 'enrichment.source.ip', '_id', '_source', 'k'.repeat(60_000))
    .map((name) => ({ ...cloudTrailEvent(), [name]: 'forged' })),
  fc.constantFrom('', 'a.b', '.x').map((name) => ({ ...cloudTrailEvent(), userIdentity: { type: 'Root', [name]: 1 } })),
  // Times OpenSearch cannot parse, and none at all.
  fc
    .oneof(fc.string(), fc.constantFrom('2026-02-30T00:00:00Z', '2026-11-19 12:00:00', 'yesterday', ''), fc.integer(), fc.constant(null))
    .map((eventTime) => ({ ...cloudTrailEvent(), eventTime })),
  fc.constant((({ eventTime: _t, ...rest }) => rest)(cloudTrailEvent())),
  // Deep nesting inside a free-form object.
  fc.integer({ min: 30, max: 1200 }).map((depth) => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++) value = { d: value };
    return { ...cloudTrailEvent(), requestParameters: value, additionalEventData: [value] };
  }),
);

describe('OpenSearch mapping (simulated) against every document the transform emits', function () {
  this.timeout(180_000);
  let modern: Mapping;
  let legacy: Mapping;

  before(async () => {
    modern = await composed(false);
    legacy = await composed(true);
  });

  it('composes an index template whose patterns match the indices Firehose writes with every rotation', async () => {
    const index = await json<Template>(join(DIR, 'index-template.json'));
    const matches = (name: string) => index.index_patterns.some((p) => new RegExp(`^${p.replace(/\*/g, '.*')}$`).test(name));
    // IndexRotationPeriod: NoRotation, OneHour, OneDay, OneWeek, OneMonth (the stage's openSearchIndexName is cloudtrail).
    for (const name of ['cloudtrail', 'cloudtrail-2026-11-20-13', 'cloudtrail-2026-11-20', 'cloudtrail-2026-w47', 'cloudtrail-2026-11'])
      expect(matches(name), name).to.equal(true);
    for (const name of index.composed_of) await json(join(DIR, 'component-templates', `${name}.json`));
  });

  it('has a dynamic:false root, a bounded field count and no flat_object in the legacy composition', () => {
    expect(modern.dynamic).to.equal(false);
    for (const m of [modern, legacy]) expect(countFields(m)).to.be.within(100, 1000);
    expect(JSON.stringify(legacy)).not.to.include('flat_object');
    expect(JSON.stringify(modern)).to.include('flat_object');
    const props = modern.properties!;
    expect(props.eventTime!.type).to.equal('date');
    expect(props.sourceIPAddress!.type).to.equal('keyword');
    expect(props.enrichment!.properties!.source!.properties!.ip!.type).to.equal('ip');
    expect(props.enrichment!.properties!.source!.properties!.geo!.properties!.location!.type).to.equal('geo_point');
    for (const free of ['requestParameters', 'responseElements', 'additionalEventData', 'serviceEventDetails'])
      expect(props[free]!.enabled, free).to.equal(false);
  });

  it('maps every field of the CloudTrail record contents reference explicitly', () => {
    const reference = [
      'eventTime',
      'eventVersion',
      'userIdentity',
      'eventSource',
      'eventName',
      'awsRegion',
      'sourceIPAddress',
      'userAgent',
      'errorCode',
      'errorMessage',
      'requestParameters',
      'responseElements',
      'additionalEventData',
      'requestID',
      'eventID',
      'eventType',
      'apiVersion',
      'managementEvent',
      'readOnly',
      'resources',
      'recipientAccountId',
      'serviceEventDetails',
      'sharedEventID',
      'vpcEndpointId',
      'vpcEndpointAccountId',
      'eventCategory',
      'addendum',
      'sessionCredentialFromConsole',
      'edgeDeviceDetails',
      'tlsDetails',
      'insightDetails',
    ];
    expect(reference.filter((f) => modern.properties![f] === undefined)).to.deep.equal([]);
  });

  it('rejects what OpenSearch rejects (the simulator is not lenient)', () => {
    const cases: [string, RegExp][] = [
      ['{"eventTime":"2026-11-20T00:00:00Z","userIdentity":"root"}', /found a concrete value/],
      ['{"eventTime":"2026-11-20T00:00:00Z","eventName":{"a":1}}', /keyword/],
      ['{"eventTime":"not a time"}', /failed to parse date/],
      ['{"eventTime":"2026-11-20T00:00:00Z","a":1,"a":2}', /Duplicate field/],
      ['{"eventTime":"2026-11-20T00:00:00Z","_id":"x"}', /metadata field/],
      ['{"eventTime":"2026-11-20T00:00:00Z","":1}', /empty string/],
      [`{"eventTime":"2026-11-20T00:00:00Z","enrichment":{"search":{"requestParameters":{"p":"${'x'.repeat(40_000)}"}}}}`, /immense term/],
      ['{"eventTime":"2026-11-20T00:00:00Z","enrichment":{"search":{"requestParameters":"text"}}}', /expects an object/],
      ['{"eventTime":"2026-11-20T00:00:00Z","enrichment":{"source":{"ip":"AWS Internal"}}}', /not an IP/],
      ['{"eventTime":"2026-11-20T00:00:00Z","enrichment":{"source":{"geo":{"location":{"lat":91,"lon":0}}}}}', /geo_point/],
    ];
    for (const [doc, error] of cases) expect(indexDocument(doc, modern).error, doc.slice(0, 80)).to.match(error);
    expect(
      indexDocument(`{"eventTime":"2026-11-20T00:00:00Z","eventName":"${'x'.repeat(40_000)}"}`, modern).accepted,
      'ignore_above',
    ).to.equal(true);
    expect(parseDate('2026-11-20T10:11:12.123+02:00')).to.equal(Date.UTC(2026, 10, 20, 10, 11, 12));
  });

  it('accepts every document of the sample, unchanged but for the enrichment', async () => {
    const config = loadConfig({ ...process.env, OUTPUT_MODE: 'opensearch' });
    const stages = buildStages(config);
    const texts: string[] = [];
    for await (const { text } of readEventTexts(['sample'])) texts.push(text);
    const docs = await documents(texts, { intel: await stages.intel, rules: stages.rules });
    expect(docs).to.have.length(texts.length);
    let located = 0;
    for (const [i, doc] of docs.entries()) {
      expectIndexed(doc, [modern, legacy]);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field below
      const { enrichment, ...original } = JSON.parse(doc) as Record<string, unknown> & { enrichment: Record<string, any> };
      expect(original).to.deep.equal(JSON.parse(texts[i]!));
      expect(enrichment.displaced).to.equal(undefined);
      if (enrichment.source?.geo?.location !== undefined) located++;
    }
    expect(located).to.be.greaterThan(100);
  });

  it('accepts every fixture', async () => {
    const dir = 'test/fixtures/cloudtrail';
    const texts = await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.json')).map((f) => readFile(join(dir, f), 'utf8')));
    const docs = await documents(
      texts.map((t) => JSON.stringify(JSON.parse(t))),
      { intel: new GeoEverywhere() },
    );
    expect(docs).to.have.length(texts.length);
    for (const doc of docs) expectIndexed(doc, [modern, legacy]);
  });

  it('accepts every odd event, keeping what does not fit in enrichment.displaced', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(oddEvent, { minLength: 1, maxLength: 4 }), async (events) => {
        const texts = events.map((e) => JSON.stringify(e));
        const docs = await documents(texts, { intel: new GeoEverywhere() });
        expect(docs).to.have.length(texts.length);
        for (const [i, doc] of docs.entries()) {
          expectIndexed(doc, [modern, legacy]);
          // Nothing is lost: every original field is at the top level or in displaced.
          const parsed = JSON.parse(doc) as Record<string, unknown> & { enrichment: Record<string, unknown> };
          if (parsed.enrichment.status === 'skipped') {
            // An event that already has an `enrichment` key is kept verbatim as a skipped document.
            expect(parsed.enrichment.raw).to.equal(texts[i]);
            continue;
          }
          const displaced =
            typeof parsed.enrichment.displaced === 'string' ? (JSON.parse(parsed.enrichment.displaced) as Record<string, unknown>) : {};
          const original = JSON.parse(texts[i]!) as Record<string, unknown>;
          for (const key of Object.keys(original)) {
            const here = Object.prototype.hasOwnProperty.call(displaced, key)
              ? displaced[key]
              : key === 'eventTime' && parsed.enrichment.eventTimeFrom === 'arrival'
                ? original[key]
                : parsed[key];
            expect(here, key.slice(0, 40)).to.deep.equal(original[key]);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts a document whose text repeats a key (the original text is not reused in OpenSearch mode)', async () => {
    const [doc] = await documents(
      [
        '{"eventVersion":"1.09","eventName":"A","eventName":{"x":1},"eventTime":"2026-11-20T00:00:00Z","eventID":"e1","userIdentity":{"type":"Root","type":"IAMUser"}}',
      ],
      {},
    );
    expectIndexed(doc!, [modern, legacy]);
  });

  it('builds every dashboard panel on a field the mapping indexes and can aggregate', async () => {
    const lines = (await readFile(join(DIR, 'dashboards.ndjson'), 'utf8')).split('\n').filter((l) => l !== '');
    const objects = lines.map(
      (l) => JSON.parse(l) as { type: string; id: string; attributes: Record<string, string>; references: { id: string; type: string }[] },
    );
    const typeOf = (path: string): string | undefined => {
      let node: Mapping | undefined = modern;
      for (const part of path.split('.')) node = node?.properties?.[part];
      return node?.type;
    };
    const pattern = objects.find((o) => o.type === 'index-pattern')!;
    expect(typeOf(pattern.attributes.timeFieldName!)).to.equal('date');
    const ids = new Set(objects.map((o) => o.id));
    for (const o of objects) for (const ref of o.references) expect(ids.has(ref.id), `${o.id} → ${ref.id}`).to.equal(true);
    const fields = objects
      .filter((o) => o.type === 'visualization')
      .flatMap((o) =>
        (JSON.parse(o.attributes.visState!) as { aggs: { params: { field?: string } }[] }).aggs
          .map((a) => a.params.field)
          .filter((f): f is string => f !== undefined),
      );
    expect(fields).to.include.members([
      'enrichment.source.geo.location',
      'eventTime',
      'enrichment.priority',
      'userIdentity.arn',
      'enrichment.source.ip',
      'enrichment.source.geo.countryCode',
      'enrichment.risk.reasons.rule',
    ]);
    for (const field of fields) expect(['keyword', 'ip', 'geo_point', 'date'], field).to.include(typeOf(field));
    const dashboard = objects.find((o) => o.type === 'dashboard')!;
    expect(JSON.parse(dashboard.attributes.panelsJSON!)).to.have.length(objects.length - 2);
  });

  it('accepts a message that is not a CloudTrail event', async () => {
    const docs = await documents(['hello', '[1,2]', `{"x":"${'y'.repeat(50_000)}"`], {});
    for (const doc of docs) expectIndexed(doc, [modern, legacy]);
  });
});
