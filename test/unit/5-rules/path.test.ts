import { expect } from 'chai';
import fc from 'fast-check';
import { parseFieldPath, type FieldPath } from '../../../src/5-rules/path.ts';

function path(text: string): FieldPath {
  const parsed = parseFieldPath(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

function values(p: FieldPath, base: unknown): unknown[] {
  const out: unknown[] = [];
  p.some(base, (v, acc: unknown[]) => (acc.push(v), false), out);
  return out;
}

describe('field paths', () => {
  it('splits roots: enrichment., $. and relative', () => {
    expect(path('enrichment.source.kind').root).to.equal('enrichment');
    expect(path('$.eventName').root).to.equal('event');
    expect(path('eventName').root).to.equal('scope');
    expect(path('enrichmentLike').root).to.equal('scope');
  });

  it('reads nested own properties and array indexes', () => {
    const event = { a: { b: [{ c: 1 }, { c: 2 }] } };
    expect(path('a.b[1].c').get(event)).to.equal(2);
    expect(path('a.b[5].c').get(event)).to.equal(undefined);
    expect(path('a.x.c').get(event)).to.equal(undefined);
    expect(path('a.b').fanOut).to.equal(false);
  });

  it('fans out over every element of nested [] paths', () => {
    const event = { items: [{ r: { items: [{ ip: 'a' }, { ip: 'b' }] } }, { r: { items: [{ ip: 'c' }] } }, { r: null }] };
    const p = path('items[].r.items[].ip');
    expect(p.fanOut).to.equal(true);
    expect(values(p, event)).to.deep.equal(['a', 'b', 'c']);
  });

  it('stops at the first element the visitor accepts', () => {
    const seen: unknown[] = [];
    const found = path('x[]').some({ x: [1, 2, 3] }, (v, s: unknown[]) => (s.push(v), v === 2), seen);
    expect(found).to.equal(true);
    expect(seen).to.deep.equal([1, 2]);
  });

  it('never reads inherited properties', () => {
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'length']) {
      expect(path(key).get({}), key).to.equal(undefined);
      expect(path(`a.${key}`).get({ a: 'text' }), key).to.equal(undefined);
      expect(path(`a.${key}`).get({ a: [1] }), key).to.equal(undefined);
    }
  });

  it('rejects malformed paths with a reason', () => {
    for (const bad of ['', 'a..b', '.a', 'a.', 'a[x]', 'a b', 'a[]]', 'x'.repeat(600)]) {
      const parsed = parseFieldPath(bad);
      expect(parsed.ok, bad).to.equal(false);
    }
  });

  it('never throws on arbitrary JSON', () => {
    const paths = ['a', 'a.b', 'a[].b', 'a[0].b[].c', 'a[].b[]'].map((t) => path(t));
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const p of paths) {
          expect(() => values(p, value)).to.not.throw();
          if (!p.fanOut) expect(() => p.get(value)).to.not.throw();
        }
      }),
      { numRuns: 300 },
    );
  });
});
