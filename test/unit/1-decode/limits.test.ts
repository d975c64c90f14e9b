import { expect } from 'chai';
import fc from 'fast-check';
import { chargeParsed, newDecompressionBudget, parsedCostEstimate } from '../../../src/1-decode/limits.ts';

describe('parsed-cost estimate', () => {
  it('weighs empty objects far above their text', () => {
    const text = Buffer.from('[' + Array(1000).fill('{}').join(',') + ']');
    expect(parsedCostEstimate(text, Infinity)).to.be.greaterThan(20 * text.length);
  });

  it('fails a record over the per-record limit and charges nothing', () => {
    const budget = newDecompressionBudget(1 << 20, 1 << 20, 4096, 1 << 20);
    expect(chargeParsed(budget, Buffer.from('[' + Array(200).fill('{}').join(',') + ']'))).to.equal(
      'parsed size estimate exceeds the per-record limit',
    );
    expect(budget.parsedRemaining).to.equal(1 << 20);
  });

  it('fails records once the invocation budget is used, after charging the ones that fit', () => {
    const budget = newDecompressionBudget(1 << 20, 1 << 20, 1 << 20, 450);
    const record = Buffer.from('{"a":"' + 'x'.repeat(60) + '"}');
    expect(chargeParsed(budget, record)).to.equal(undefined);
    expect(chargeParsed(budget, record)).to.equal(undefined);
    expect(chargeParsed(budget, record)).to.equal('parsed-size budget of the invocation exhausted');
  });

  it('never lets the charged total exceed the invocation budget, whatever the records', () => {
    fc.assert(
      fc.property(fc.array(fc.json(), { maxLength: 30 }), fc.integer({ min: 1024, max: 65536 }), (texts, total) => {
        const budget = newDecompressionBudget(1 << 20, 1 << 20, 1 << 20, total);
        let charged = 0;
        for (const t of texts) {
          const bytes = Buffer.from(t);
          const before = budget.parsedRemaining;
          if (chargeParsed(budget, bytes) === undefined) charged += before - budget.parsedRemaining;
        }
        return charged <= total && budget.parsedRemaining >= 0;
      }),
    );
  });
});
