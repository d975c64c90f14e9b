import { expect } from 'chai';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import {
  buildFinding,
  consoleUrlOf,
  entryBytes,
  findingId,
  PUT_EVENTS_MAX_ENTRY_BYTES,
  withEvent,
  type Candidate,
} from '../../../src/6-alert/finding.ts';
import { findingSchemaText, FINDING_SCHEMA_FILE } from '../../../scripts/build-finding-schema.ts';
import { toAsff } from '../../../src/6-alert/securityhub.ts';
import { cloudTrailEvent } from '../../helpers/factories.ts';

function candidate(event: Record<string, unknown>, attack = true): Candidate {
  return {
    event,
    text: JSON.stringify(event),
    enrichment: {
      version: 1,
      status: 'complete',
      source: {
        kind: 'public',
        address: '203.0.113.7',
        ip: '203.0.113.7',
        ipVersion: 4,
        geo: { countryCode: 'RU' },
        as: { number: 64500, organization: 'Example' },
      },
    },
    verdict: {
      priority: 'CRITICAL',
      risk: {
        score: 90,
        reasons: [
          {
            rule: 'logging.cloudtrail-tampering',
            priority: 'CRITICAL',
            score: 90,
            detail: 'StopLogging',
            ...(attack ? { attack: { tactics: ['defense-evasion'], techniques: ['T1562.008'] } } : {}),
          },
          { rule: 'activity.off-hours', priority: 'MEDIUM', score: 10, detail: 'at night' },
        ],
      },
    },
  };
}

describe('findings', () => {
  it('keeps schema/finding.schema.json identical to the schema in the code (npm run build:schemas)', async () => {
    expect(await readFile(FINDING_SCHEMA_FILE, 'utf8')).to.equal(findingSchemaText());
  });

  it('writes one readable line led by the strongest rule, and the ATT&CK union', () => {
    const f = buildFinding(candidate(cloudTrailEvent({ eventName: 'StopLogging' })));
    expect(f.summary).to.equal(
      'CRITICAL logging.cloudtrail-tampering (+1): StopLogging by arn:aws:iam::111122223333:user/Alice from 203.0.113.7 (RU, AS64500 Example) in 111122223333/us-east-1',
    );
    expect(f.attack).to.deep.equal({ tactics: ['defense-evasion'], techniques: ['T1562.008'] });
    expect(f.rules).to.deep.equal(['activity.off-hours', 'logging.cloudtrail-tampering']);
  });

  it('links to the event in the console of its partition', () => {
    expect(consoleUrlOf('eu-west-1', 'abc')).to.equal(
      'https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/events/abc',
    );
    expect(consoleUrlOf('cn-north-1', 'abc')).to.match(/^https:\/\/console\.amazonaws\.cn\//);
    expect(consoleUrlOf('us-gov-west-1', 'abc')).to.match(/^https:\/\/console\.amazonaws-us-gov\.com\//);
    expect(consoleUrlOf('../evil', 'abc')).to.equal(undefined);
  });

  it('bounds the id however many rules fired', () => {
    const rules = Array.from({ length: 50 }, (_, i) => `rule.number-${i}`);
    expect(findingId('e', rules).length).to.be.below(220);
    expect(findingId('e', rules)).to.not.equal(findingId('e', rules.slice(1)));
  });

  it('keeps every entry under 256 KB, whole when it fits, else a prefix of the text (property)', () => {
    const base = buildFinding(candidate(cloudTrailEvent()));
    const { event: _e, ...bare } = base;
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 3000 }), fc.integer({ min: 1, max: 200 }), (chunk, times) => {
        const text = JSON.stringify({ eventID: 'x', padding: chunk.repeat(times) });
        const f = withEvent(bare, text, 64 * 1024);
        const size = Buffer.byteLength(JSON.stringify(f));
        expect(size).to.be.at.most(64 * 1024);
        if (f.event === undefined) expect(text.startsWith(f.eventTruncated!.text)).to.equal(true);
        else expect(JSON.stringify(f.event)).to.equal(text);
      }),
      { numRuns: 60 },
    );
    const huge = JSON.stringify({ big: '\u0001'.repeat(300_000) });
    expect(entryBytes(JSON.stringify(withEvent(bare, huge)))).to.be.at.most(PUT_EVENTS_MAX_ENTRY_BYTES);
  });

  it('maps to ASFF with severity, ATT&CK types, resources and bounded fields', () => {
    const f = buildFinding(candidate(cloudTrailEvent({ eventName: 'StopLogging' })));
    const asff = toAsff(f, 'arn:aws:securityhub:us-east-1:999988887777:product/999988887777/default', new Date('2026-11-21T00:00:00Z'));
    expect(asff).to.deep.include({
      Id: f.id,
      AwsAccountId: '999988887777',
      Types: ['TTPs/Defense Evasion'],
      Severity: { Label: 'CRITICAL', Original: '90' },
    });
    expect(asff.ProductFields).to.include({ 'attack/techniques': 'T1562.008' });
    expect(asff.Resources).to.deep.include({
      Type: 'AwsAccount',
      Id: 'AWS::::Account:111122223333',
      Partition: 'aws',
      Region: 'us-east-1',
    });
    expect(asff.Title!.length).to.be.at.most(256);
    expect(asff.Description!.length).to.be.at.most(1024);
    const plain = toAsff(
      buildFinding(candidate(cloudTrailEvent(), false)),
      'arn:aws:securityhub:us-east-1:999988887777:product/999988887777/default',
      new Date(),
    );
    expect(plain.Types).to.deep.equal(['Unusual Behaviors/User']);
  });
});
