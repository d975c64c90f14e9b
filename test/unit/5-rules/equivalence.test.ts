import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { compileRules, defaultRulesFile, parseRulesText } from '../../../src/5-rules/index.ts';
import { possibleValues } from '../../../src/5-rules/engine.ts';
import type { CloudTrailEvent, Enrichment, SourceKind } from '../../../src/model.ts';
import { enrichmentFor, fixture, fixtureNames } from './helpers.ts';

/**
 * The fast paths (generated code per rule, rules indexed by eventName/eventSource) must never change a
 * verdict: compare them with the plain closure interpreter on realistic and on mangled events.
 */
describe('rule engine fast paths', () => {
  const file = defaultRulesFile({});
  const doc = parseRulesText(readFileSync(file, 'utf8'), file) as Record<string, unknown> & {
    watchlists: Record<string, Record<string, unknown>>;
  };
  doc.watchlists.knownBadIps = { type: 'cidrs', entries: ['185.220.101.0/24', '2a0b:f4c0::/32'] };
  doc.watchlists.trustedCidrs = { type: 'cidrs', entries: ['73.162.0.0/16'] };
  doc.watchlists.awayPrincipals = {
    type: 'windows',
    entries: [{ principals: ['arn:aws:iam::123456789012:user/Alice'], start: '2026-03-09', end: '2026-03-12' }],
  };
  doc.watchlists.maintenanceWindows = { type: 'windows', entries: [{ days: ['Sat'], timeOfDay: { from: '01:00', to: '03:00' } }] };
  const options = { source: file, baseDir: dirname(file) };
  const fast = compileRules(doc, options);
  const reference = compileRules(doc, { ...options, codegen: false, index: false });
  const events = fixtureNames().map((n) => fixture(n));

  const kinds: SourceKind[] = ['public', 'private', 'reserved', 'aws-internal', 'aws-service', 'invalid', 'missing'];
  const enrichmentArb = fc.record(
    {
      kind: fc.constantFrom(...kinds),
      geo: fc.record({ countryCode: fc.constantFrom('US', 'GB', 'RU', 'us', '') }, { requiredKeys: [] }),
      reputation: fc.record(
        {
          fraudScore: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constant('90')),
          tor: fc.boolean(),
          vpn: fc.boolean(),
          proxy: fc.boolean(),
          abuseConfidence: fc.integer({ min: 0, max: 100 }),
          recentAbuse: fc.boolean(),
          verdict: fc.constantFrom('malware', 'benign', 'unknown', 'Phishing'),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['kind'] },
  );
  const mutation = fc.record(
    {
      eventName: fc.constantFrom('ConsoleLogin', 'StopLogging', 'CreateAccessKey', 'DescribeInstances', 'constructor', '__proto__'),
      eventSource: fc.constantFrom('iam.amazonaws.com', 'cloudtrail.amazonaws.com', 's3.amazonaws.com', 'ec2.amazonaws.com', 42),
      eventTime: fc.oneof(
        fc
          .date({ min: new Date('2025-01-01'), max: new Date('2027-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')),
        fc.string(),
      ),
      errorCode: fc.constantFrom('AccessDenied', 'Client.UnauthorizedOperation', 'ThrottlingException'),
      sourceIPAddress: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('AWS Internal', '185.220.101.9', '73.162.1.1')),
      userIdentity: fc.oneof(
        fc.constant(null),
        fc.jsonValue(),
        fc.constantFrom({ type: 'Root' }, { type: 'IAMUser', userName: 'Alice', arn: 'arn:aws:iam::123456789012:user/Alice' }),
      ),
      requestParameters: fc.oneof(fc.constant(null), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );

  it('gives the same verdict as the reference interpreter on every fixture', () => {
    for (const event of events) {
      const enrichment = enrichmentFor(event, { geo: { countryCode: 'GB' }, reputation: { tor: true, fraudScore: 90 } });
      expect(fast.evaluate(event, enrichment), String(event.eventName)).to.deep.equal(reference.evaluate(event, enrichment));
    }
  });

  it('gives the same verdict on mangled events and enrichments', () => {
    fc.assert(
      fc.property(fc.constantFrom(...events), mutation, enrichmentArb, (base, changes, spec) => {
        const event = { ...base, ...changes } as CloudTrailEvent;
        const enrichment = {
          ...enrichmentFor(event, { kind: spec.kind, geo: spec.geo, reputation: spec.reputation as never }),
        } as Enrichment;
        expect(fast.evaluate(event, enrichment)).to.deep.equal(reference.evaluate(event, enrichment));
      }),
      { numRuns: 1500 },
    );
  });

  describe('possibleValues (the index)', () => {
    it('derives event names from equals, in, all and any', () => {
      expect(possibleValues({ field: 'eventName', equals: 'A' }, 'eventName')).to.deep.equal(new Set(['A']));
      expect(
        possibleValues(
          {
            all: [
              { field: 'x', exists: true },
              { field: 'eventName', in: ['A', 'B'] },
            ],
          },
          'eventName',
        ),
      ).to.deep.equal(new Set(['A', 'B']));
      expect(
        possibleValues(
          {
            all: [
              { field: 'eventName', in: ['A', 'B'] },
              { field: '$.eventName', in: ['B', 'C'] },
            ],
          },
          'eventName',
        ),
      ).to.deep.equal(new Set(['B']));
      expect(
        possibleValues(
          {
            any: [
              { field: 'eventName', equals: 'A' },
              { field: 'eventName', equals: 'B' },
            ],
          },
          'eventName',
        ),
      ).to.deep.equal(new Set(['A', 'B']));
    });

    it('gives up when a branch could match any name', () => {
      expect(
        possibleValues(
          {
            any: [
              { field: 'eventName', equals: 'A' },
              { field: 'x', exists: true },
            ],
          },
          'eventName',
        ),
      ).to.equal(undefined);
      expect(possibleValues({ not: { field: 'eventName', equals: 'A' } }, 'eventName')).to.equal(undefined);
      expect(possibleValues({ field: 'eventName', equals: 'a', ignoreCase: true }, 'eventName')).to.equal(undefined);
      expect(possibleValues({ field: 'eventName', prefix: 'Delete' }, 'eventName')).to.equal(undefined);
    });
  });
});
