import { expect } from 'chai';
import fc from 'fast-check';
import { enrichedLine, skippedLine } from '../../../src/7-encode/line.ts';
import type { Enrichment } from '../../../src/model.ts';

const ENRICHMENT: Enrichment = {
  version: 1,
  status: 'complete',
  source: { address: '8.8.8.8', kind: 'public', ip: '8.8.8.8', ipVersion: 4, geo: { countryCode: 'US' } },
  priority: 'LOW',
  risk: { score: 0, reasons: [] },
};
const ENRICHMENT_JSON = JSON.stringify(ENRICHMENT);

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

function prefixOf(text: string): string {
  return text.slice(0, text.trimEnd().length - 1); // everything before the final `}`
}

describe('enrichedLine', () => {
  for (const [text, what] of [
    ['{"eventName":"X","n":12345678901234567890}', 'a number beyond 2^53'],
    ['{"z":1,"a":2,"m":3}', 'a key order that is not sorted'],
    ['{"a":1,"a":2}', 'duplicate keys'],
    ['{"user":"Zoë","emoji":"🚀","escaped":"\\u00e9\\n","cjk":"漢字"}', 'unicode and escapes'],
    ['{"nested":{"deep":[1,{"x":{}}]},"f":1.50,"e":1E+3}', 'nesting and number spellings'],
  ] as [string, string][]) {
    it(`keeps the original text byte for byte as a prefix (${what})`, () => {
      const line = enrichedLine(text, ENRICHMENT_JSON);
      expect(line.startsWith(prefixOf(text))).to.equal(true);
      expect(
        Buffer.from(line, 'utf8')
          .subarray(0, Buffer.byteLength(prefixOf(text)))
          .equals(Buffer.from(prefixOf(text), 'utf8')),
      ).to.equal(true);
      expect(line).to.equal(`${prefixOf(text)},"enrichment":${ENRICHMENT_JSON}}`);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(parsed.enrichment).to.deep.equal(ENRICHMENT);
    });
  }

  it('adds the enrichment to an empty object without a leading comma', () => {
    for (const text of ['{}', '{ }', '{\t}', '{}  ']) {
      const line = enrichedLine(text, ENRICHMENT_JSON);
      expect(JSON.parse(line), JSON.stringify(text)).to.deep.equal({ enrichment: ENRICHMENT });
    }
  });

  it('drops trailing whitespace after the closing brace', () => {
    const line = enrichedLine('{"a":1}  \t ', ENRICHMENT_JSON);
    expect(line).to.equal(`{"a":1,"enrichment":${ENRICHMENT_JSON}}`);
  });

  it('handles whitespace before the closing brace', () => {
    const line = enrichedLine('{"a":1 }', ENRICHMENT_JSON);
    expect(JSON.parse(line)).to.deep.equal({ a: 1, enrichment: ENRICHMENT });
  });

  it('does not mistake a brace inside a string for an empty object', () => {
    const line = enrichedLine('{"a":"{"}', ENRICHMENT_JSON);
    expect(JSON.parse(line)).to.deep.equal({ a: '{', enrichment: ENRICHMENT });
  });

  it('produces valid JSON whose original fields are unchanged, for any JSON object', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ maxLength: 8 }).filter((k) => k !== 'enrichment'),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        (object) => {
          const text = JSON.stringify(object);
          const line = enrichedLine(text, ENRICHMENT_JSON);
          expect(line.startsWith(text.slice(0, -1))).to.equal(true);
          const parsed = JSON.parse(line) as Record<string, unknown>;
          expect(parsed.enrichment).to.deep.equal(ENRICHMENT);
          delete parsed.enrichment;
          expect(parsed).to.deep.equal(JSON.parse(text));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('skippedLine', () => {
  it('keeps the raw text under enrichment.raw with status skipped and the error', () => {
    const raw = 'CWL CONTROL MESSAGE: not an event';
    const line = skippedLine(raw, 'message is not valid JSON');
    expect(JSON.parse(line)).to.deep.equal({ enrichment: { version: 1, status: 'skipped', error: 'message is not valid JSON', raw } });
  });

  it('escapes newlines and control characters, so the line stays one line', () => {
    const raw = 'line one\nline two\r\n\ttab \u0000 nul \u001f unit \u2028 separator "quoted" \\ backslash';
    const line = skippedLine(raw, 'message is not valid JSON');
    expect(hasControlCharacter(line)).to.equal(false);
    const parsed = JSON.parse(line) as { enrichment: Enrichment };
    expect(parsed.enrichment.raw).to.equal(raw);
  });

  it('round-trips any raw text and never contains a raw control character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 40 }), (raw, error) => {
        const line = skippedLine(raw, error);
        expect(hasControlCharacter(line)).to.equal(false);
        const parsed = JSON.parse(line) as { enrichment: Enrichment };
        expect(parsed.enrichment).to.deep.equal({ version: 1, status: 'skipped', error, raw });
      }),
      { numRuns: 200 },
    );
  });
});
