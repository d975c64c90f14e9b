import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./batch-child.ts', import.meta.url));

/** Runs one adversarial batch in a child whose heap is capped like a 1,024 MB Lambda (700 MB). */
function runChild(
  mode: 'empty' | 'strings' | 'worst',
  heapMb = 700,
): { results: string; maxRssMb: number; reasons: Record<string, number> } {
  const out = execFileSync(process.execPath, [`--max-old-space-size=${heapMb}`, '--import', 'tsx', CHILD, mode], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { results: string; maxRssMb: number; reasons: Record<string, number> };
}

describe('parsed-cost budget (heap capped at 700 MB in a child process)', function () {
  this.timeout(150_000);

  it('fails a record of ~30 MB of empty objects alone instead of running out of memory, and delivers the rest', () => {
    const { results, reasons } = runChild('empty');
    expect(results).to.equal('ProcessingFailed,Ok');
    expect(reasons).to.deep.equal({ 'parsed size estimate exceeds the per-record limit': 1 });
  });

  it('runs a batch of worst-case records (distinct keys, each just under the per-record budget) in half the heap cap', () => {
    // With the heap capped at 350 MB the child dies of out-of-memory if the live heap ever needs more; at 700 MB V8
    // collects lazily and RSS says little about what is live. The records past the invocation's budget fail alone.
    const { results, maxRssMb, reasons } = runChild('worst', 350);
    const out = results.split(',');
    expect(out[0]).to.equal('Ok');
    expect(out.at(-1)).to.equal('Ok');
    expect(reasons['parsed-size budget of the invocation exhausted']).to.be.at.least(1);
    expect(maxRssMb).to.be.lessThan(700);
  });

  it('keeps a 3 MB buffer of 200 KB strings under 700 MB RSS, delivering the small record', () => {
    const { results, maxRssMb } = runChild('strings');
    expect(results.split(',').at(-1)).to.equal('Ok');
    expect(maxRssMb).to.be.lessThan(700);
  });
});
