import { expect } from 'chai';
import { parseObjectLambdaEvent } from '../../../../src/entry/object-lambda/event.ts';

const base = {
  getObjectContext: {
    inputS3Url: 'https://ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com/k?X-Amz-Signature=abc',
    outputRoute: 'io-use1-001',
    outputToken: 'tok',
  },
  userRequest: { url: 'https://olap-111122223333.s3-object-lambda.us-east-1.amazonaws.com/AWSLogs/a%20b.json.gz', headers: { Host: 'x' } },
  protocolVersion: '1.00',
};

describe('parseObjectLambdaEvent', () => {
  it('reads the presigned URL, route, token and the requested key', () => {
    expect(parseObjectLambdaEvent(base)).to.deep.equal({
      ok: true,
      inputS3Url: base.getObjectContext.inputS3Url,
      route: 'io-use1-001',
      token: 'tok',
      key: 'AWSLogs/a b.json.gz',
      ranged: false,
    });
  });

  it('notices Range (header, any case, or query) and partNumber', () => {
    expect(parseObjectLambdaEvent({ ...base, userRequest: { ...base.userRequest, headers: { range: 'bytes=0-1' } } })).to.include({
      ranged: true,
    });
    expect(
      parseObjectLambdaEvent({ ...base, userRequest: { ...base.userRequest, url: `${base.userRequest.url}?partNumber=2` } }),
    ).to.include({ ranged: true });
    expect(
      parseObjectLambdaEvent({ ...base, userRequest: { ...base.userRequest, url: `${base.userRequest.url}?Range=bytes%3D0-1` } }),
    ).to.include({ ranged: true });
  });

  it('keeps route and token when the presigned URL is missing, so the caller can still be answered', () => {
    expect(
      parseObjectLambdaEvent({ ...base, getObjectContext: { ...base.getObjectContext, inputS3Url: 'file:///etc/passwd' } }),
    ).to.deep.equal({
      ok: false,
      reason: 'event has no getObjectContext.inputS3Url',
      route: 'io-use1-001',
      token: 'tok',
    });
  });

  it('refuses events without a route and token', () => {
    for (const event of [null, {}, { getObjectContext: { outputRoute: 'r' } }, { Records: [] }]) {
      expect(parseObjectLambdaEvent(event)).to.include({ ok: false });
      expect(parseObjectLambdaEvent(event)).to.not.have.property('route');
    }
  });
});
