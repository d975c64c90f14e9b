import { expect } from 'chai';
import fc from 'fast-check';
import { compileTemplate, MAX_DETAIL_LENGTH, MAX_VALUE_LENGTH, sanitizeValue } from '../../../src/5-rules/interpolate.ts';

function render(template: string, event: unknown, enrichment: unknown = {}): string {
  const t = compileTemplate(template);
  if (!t.ok) throw new Error(t.error);
  return t.value({ event, enrichment });
}

describe('reason templates', () => {
  it('renders scalars, null, objects and missing values', () => {
    expect(render('{a} {b} {c} {d} {e} {f}', { a: 'x', b: 3, c: true, d: null, e: { k: [1] } })).to.equal('x 3 true - {"k":[1]} -');
  });

  it('reads the enrichment under enrichment.', () => {
    expect(render('{enrichment.source.geo.countryCode}', {}, { source: { geo: { countryCode: 'GB' } } })).to.equal('GB');
  });

  it('takes the first alternative that has a value', () => {
    expect(render('{a|b|c}', { b: 'second', c: 'third' })).to.equal('second');
    expect(render('{a|b}', {})).to.equal('-');
  });

  it('lists at most 5 values of an [] path', () => {
    expect(render('{xs[]}', { xs: [1, 2, 3, 4, 5, 6, 7] })).to.equal('1, 2, 3, 4, 5');
  });

  it('keeps a surrogate pair whole when truncating', () => {
    const s = sanitizeValue('a'.repeat(MAX_VALUE_LENGTH - 1) + '😀😀');
    expect(s).to.equal('a'.repeat(MAX_VALUE_LENGTH - 1) + '…');
  });

  it('never lets control or bidi characters through, and bounds the total length', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 300 }), { maxLength: 12 }), (parts) => {
        const event = Object.fromEntries(parts.map((p, i) => [`f${i}`, p]));
        const template = parts.map((_, i) => `[{f${i}}]`).join('');
        const out = render(template, event);
        expect(out).to.not.match(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/); // eslint-disable-line no-control-regex
        expect(out.length).to.be.at.most(MAX_DETAIL_LENGTH + 1);
      }),
      { numRuns: 100 },
    );
  });
});
