import { expect } from 'chai';
import fc from 'fast-check';
import { AsnTable, AsnTableFormatError, encodeAsnTable, parseAsnCsvLine, type AsnRange } from '../../../../src/3-lookup/geo/asn-table.ts';

function linear(ranges: AsnRange[], ip: bigint): AsnRange | undefined {
  return ranges.find((r) => r.start <= ip && ip <= r.end);
}

/** Disjoint sorted ranges from random cut points. */
function rangesArb(bits: number): fc.Arbitrary<AsnRange[]> {
  const max = (1n << BigInt(bits)) - 1n;
  return fc.uniqueArray(fc.bigInt({ min: 0n, max }), { minLength: 2, maxLength: 60 }).chain((cuts) =>
    fc
      .array(fc.record({ asn: fc.integer({ min: 0, max: 4_294_967_295 }), org: fc.constantFrom('', 'A, Inc.', 'Ünïcode Org', 'B') }), {
        minLength: cuts.length,
        maxLength: cuts.length,
      })
      .map((meta) => {
        const sorted = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const out: AsnRange[] = [];
        for (let i = 0; i + 1 < sorted.length; i += 2) {
          out.push({ start: sorted[i]!, end: sorted[i + 1]!, asn: meta[i]!.asn, organization: meta[i]!.org });
        }
        return out;
      }),
  );
}

describe('AsnTable', () => {
  it('parses quoted CSV organisations with commas and doubled quotes', () => {
    expect(parseAsnCsvLine('16777216,16777471,13335,"Cloudflare, Inc."')).to.deep.equal({
      start: 16777216n,
      end: 16777471n,
      asn: 13335,
      organization: 'Cloudflare, Inc.',
    });
    expect(parseAsnCsvLine('1,2,3,"The ""Best"" ISP"')?.organization).to.equal('The "Best" ISP');
    expect(parseAsnCsvLine('1,2,3,Plain Org')?.organization).to.equal('Plain Org');
    expect(parseAsnCsvLine('not,a,line')).to.equal(undefined);
  });

  for (const [family, bits] of [
    [4, 32],
    [6, 128],
  ] as const) {
    it(`finds the same range as a linear scan (IPv${family}, property)`, () => {
      fc.assert(
        fc.property(
          rangesArb(bits),
          fc.array(fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }), { maxLength: 30 }),
          (ranges, probes) => {
            const table = new AsnTable(encodeAsnTable(family, ranges));
            expect(table.family).to.equal(family);
            for (const ip of [...probes, ...ranges.flatMap((r) => [r.start, r.end, r.start - 1n, r.end + 1n].filter((x) => x >= 0n))]) {
              const expected = linear(ranges, ip);
              const got = table.lookup(ip);
              if (expected === undefined || expected.asn === 0) expect(got, String(ip)).to.equal(undefined);
              else {
                expect(got?.number).to.equal(expected.asn);
                expect(got?.organization).to.equal(expected.organization === '' ? undefined : expected.organization);
              }
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('merges adjacent ranges of the same AS into one', () => {
    const t = new AsnTable(
      encodeAsnTable(4, [
        { start: 0n, end: 9n, asn: 7, organization: 'X' },
        { start: 10n, end: 19n, asn: 7, organization: 'X' },
        { start: 20n, end: 29n, asn: 8, organization: 'Y' },
      ]),
    );
    expect(t.size).to.equal(2);
    expect(t.lookup(15n)).to.deep.equal({ number: 7, organization: 'X' });
  });

  it('refuses a file that is not an ASN table', () => {
    expect(() => new AsnTable(Buffer.from('definitely not a table, just text of some length'))).to.throw(AsnTableFormatError);
    const good = encodeAsnTable(4, [{ start: 1n, end: 2n, asn: 3, organization: 'Z' }]);
    expect(() => new AsnTable(good.subarray(0, 40))).to.throw(AsnTableFormatError, /truncated/);
  });
});
