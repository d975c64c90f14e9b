import { expect } from 'chai';
import { envelopeBodyProblem } from '../../../src/1-decode/envelope-body.ts';

const pk = { account: '111122223333', region: 'us-east-1', dt: '2026-11-20' };
const line = '{"eventID":"e1","enrichment":{"version":1,"status":"complete"}}';
const envelope = (body: string | Buffer, n: number, s3 = true) => ({
  header: { v: 1 as const, n, origin: 'r1', ...(s3 ? { pk } : {}) },
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
});

describe('envelopeBodyProblem', () => {
  it('accepts the bodies this Lambda writes: S3 NDJSON and one OpenSearch document', () => {
    expect(envelopeBodyProblem(envelope(`${line}\n${line}\n`, 2))).to.equal(undefined);
    expect(envelopeBodyProblem(envelope(line, 1, false))).to.equal(undefined);
  });

  it('accepts OCSF and ECS lines (OUTPUT_FORMAT=ocsf|ecs), and nothing that only looks half like them', () => {
    expect(envelopeBodyProblem(envelope('{"class_uid":6003,"metadata":{"version":"1.1.0"}}\n', 1))).to.equal(undefined);
    expect(envelopeBodyProblem(envelope('{"@timestamp":"2026-11-20T14:03:21Z","event":{"id":"e1"}}', 1, false))).to.equal(undefined);
    expect(envelopeBodyProblem(envelope('{"class_uid":"6003","metadata":{}}\n', 1))).to.match(/not an enriched event/);
    expect(envelopeBodyProblem(envelope('{"@timestamp":"x","event":"y"}\n', 1))).to.match(/not an enriched event/);
  });

  it('rejects a forged body that would break NDJSON or carry lines that are not enriched events', () => {
    expect(envelopeBodyProblem(envelope('not json\n', 1))).to.match(/not JSON/);
    expect(envelopeBodyProblem(envelope(line, 1))).to.match(/newline-terminated/);
    expect(envelopeBodyProblem(envelope(`${line}\n`, 2))).to.match(/line count/);
    expect(envelopeBodyProblem(envelope('{"eventID":"e1"}\n', 1))).to.match(/not an enriched event/);
    expect(envelopeBodyProblem(envelope(`${line}\n${line}`, 2, false))).to.match(/more than one document/);
    expect(
      envelopeBodyProblem(envelope(Buffer.concat([Buffer.from(line.slice(0, -2)), Buffer.from([0xff]), Buffer.from('}}\n')]), 1)),
    ).to.match(/UTF-8/);
  });
});
