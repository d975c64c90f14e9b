import { expect } from 'chai';
import { batchResult } from '../../../../src/entry/backfill/handler.ts';
import { emptyEnrichCounters } from '../../../../src/pipeline/enrich.ts';

const source = { bucket: 'trail', key: 'AWSLogs/secret/key.json.gz' };

describe('batchResult', () => {
  it('maps outcomes to the Batch Operations result codes', () => {
    expect(
      batchResult({ status: 'written', source, eventsIn: 3, eventsOut: 3, counters: emptyEnrichCounters(), objects: [] }),
    ).to.deep.equal({
      resultCode: 'Succeeded',
      resultString: 'enriched 3 events into 0 objects',
    });
    expect(batchResult({ status: 'ignored', source, reason: 'digest', message: 'CloudTrail digest file (no events)' })).to.deep.equal({
      resultCode: 'Succeeded',
      resultString: 'skipped: CloudTrail digest file (no events)',
    });
    expect(
      batchResult({ status: 'failed', source, retryable: true, code: 'SlowDown', message: 'reading the object failed (SlowDown)' })
        .resultCode,
    ).to.equal('TemporaryFailure');
    expect(batchResult({ status: 'failed', source, retryable: false, code: 'AccessDenied', message: 'access denied' }).resultCode).to.equal(
      'PermanentFailure',
    );
    expect(batchResult(undefined)).to.deep.equal({ resultCode: 'PermanentFailure', resultString: 'task names no bucket and key' });
  });

  it('never puts the object key into the completion report', () => {
    const results = [
      batchResult({ status: 'failed', source, retryable: false, code: 'NoSuchKey', message: 'object does not exist' }),
      batchResult({ status: 'written', source, eventsIn: 1, eventsOut: 1, counters: emptyEnrichCounters(), objects: [] }),
    ];
    for (const result of results) expect(result.resultString).to.not.include('secret');
  });
});
