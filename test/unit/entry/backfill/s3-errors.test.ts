import { expect } from 'chai';
import { classifyFailure, isMissing } from '../../../../src/entry/backfill/s3-errors.ts';

function sdkError(name: string, status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error('message naming s3://secret-bucket/secret-key'), {
    name,
    $metadata: { httpStatusCode: status },
    $fault: status >= 500 ? 'server' : 'client',
    ...extra,
  });
}

describe('classifyFailure', () => {
  it('retries throttling, timeouts, server errors and broken connections', () => {
    for (const err of [
      sdkError('SlowDown', 503),
      sdkError('InternalError', 500),
      sdkError('ServiceUnavailable', 503),
      sdkError('RequestTimeout', 400),
      sdkError('TooManyRequestsException', 429),
      Object.assign(new Error('x'), { name: 'TimeoutError' }),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      sdkError('Anything', 400, { $retryable: { throttling: true } }),
    ]) {
      expect(classifyFailure(err).retryable, err.name).to.equal(true);
    }
  });

  it('does not retry what a retry cannot fix', () => {
    for (const err of [
      sdkError('NoSuchKey', 404),
      sdkError('AccessDenied', 403),
      sdkError('InvalidObjectState', 403),
      sdkError('NoSuchBucket', 404),
    ]) {
      expect(classifyFailure(err), err.name).to.deep.equal({ retryable: false, code: err.name });
    }
  });

  it('names the failure by its code only, never by its message', () => {
    expect(JSON.stringify(classifyFailure(sdkError('AccessDenied', 403)))).to.not.include('secret');
    expect(classifyFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).code).to.equal('ECONNREFUSED');
  });

  it('tells a missing object from other failures', () => {
    expect(isMissing(sdkError('NoSuchKey', 404))).to.equal(true);
    expect(isMissing(sdkError('AccessDenied', 403))).to.equal(false);
  });
});
