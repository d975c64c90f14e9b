import { expect } from 'chai';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import {
  decodeEnvelope,
  encodeEnvelope,
  ENVELOPE_MAGIC,
  gunzipError,
  isEnvelope,
  type EnvelopeHeader,
} from '../../../src/codec/envelope.ts';

const BODY =
  '{"eventName":"A","enrichment":{"version":1,"status":"complete"}}\n{"eventName":"B","enrichment":{"version":1,"status":"skipped"}}\n';

describe('envelope', () => {
  it('round-trips the header and the body exactly', () => {
    const header: EnvelopeHeader = {
      v: 1,
      pk: { account: '111122223333', region: 'us-east-1', dt: '2026-11-20' },
      n: 2,
      origin: 'record-1',
    };
    const data = encodeEnvelope(header, BODY);
    expect(isEnvelope(data)).to.equal(true);
    const decoded = decodeEnvelope(data, 1024 * 1024);
    expect(decoded.ok).to.equal(true);
    if (!decoded.ok) return;
    expect(decoded.value.header).to.deep.equal(header);
    expect(decoded.value.body.toString('utf8')).to.equal(BODY);
  });

  it('round-trips a header without partition keys (OpenSearch mode) and an empty body', () => {
    const header: EnvelopeHeader = { v: 1, n: 0, origin: 'r' };
    const decoded = decodeEnvelope(encodeEnvelope(header, ''), 1024);
    expect(decoded).to.deep.include({ ok: true });
    if (decoded.ok) {
      expect(decoded.value.header).to.deep.equal(header);
      expect(decoded.value.body.length).to.equal(0);
    }
  });

  it('round-trips any body text and origin', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.nat(1000),
        (body, origin, n) => {
          const decoded = decodeEnvelope(encodeEnvelope({ v: 1, n, origin }, body), 1024 * 1024);
          expect(decoded.ok).to.equal(true);
          if (decoded.ok) {
            expect(decoded.value.header).to.deep.equal({ v: 1, n, origin });
            expect(decoded.value.body.toString('utf8')).to.equal(body);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('starts with bytes that neither JSON nor gzip can start with', () => {
    const data = encodeEnvelope({ v: 1, n: 0, origin: 'x' }, '');
    expect(data.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC)).to.equal(true);
    expect(data[0]).to.equal(0);
    expect(isEnvelope(Buffer.from('{"a":1}'))).to.equal(false);
    expect(isEnvelope(gzipSync('{"a":1}'))).to.equal(false);
    expect(isEnvelope(Buffer.from(ENVELOPE_MAGIC))).to.equal(false); // magic alone carries nothing
    expect(isEnvelope(Buffer.alloc(0))).to.equal(false);
  });

  it('refuses to decompress more than the limit', () => {
    const data = encodeEnvelope({ v: 1, n: 1, origin: 'x' }, 'x'.repeat(100_000));
    expect(decodeEnvelope(data, 10_000)).to.deep.equal({ ok: false, error: 're-ingested record: decompressed size exceeds the limit' });
  });

  it('reports corrupt gzip, a missing header line, a header that is not JSON and an unexpected header shape', () => {
    const wrap = (content: string) => Buffer.concat([ENVELOPE_MAGIC, gzipSync(content)]);
    expect(decodeEnvelope(Buffer.concat([ENVELOPE_MAGIC, Buffer.from('not gzip')]), 1024)).to.deep.equal({
      ok: false,
      error: 're-ingested record: not valid gzip',
    });
    expect(decodeEnvelope(wrap('{"v":1,"n":1,"origin":"x"}'), 1024)).to.deep.equal({
      ok: false,
      error: 're-ingested record: header line missing',
    });
    expect(decodeEnvelope(wrap('{v:1}\n'), 1024)).to.deep.equal({ ok: false, error: 're-ingested record: header is not JSON' });
    for (const header of [
      'null',
      '[]',
      '{"v":1,"n":1.5,"origin":"x"}',
      '{"v":1,"n":1}',
      '{"v":1,"n":1,"origin":"x","pk":{"account":"1","region":"r"}}',
      '{"v":"1","n":1,"origin":"x"}',
    ]) {
      expect(decodeEnvelope(wrap(`${header}\n`), 1024), header).to.deep.equal({
        ok: false,
        error: 're-ingested record: header has an unexpected shape',
      });
    }
  });
});

describe('gunzipError', () => {
  it('tells a size limit from corrupt data', () => {
    expect(gunzipError(new RangeError('Cannot create a Buffer larger than 10 bytes'))).to.equal('decompressed size exceeds the limit');
    expect(gunzipError(Object.assign(new Error('too large'), { code: 'ERR_BUFFER_TOO_LARGE' }))).to.equal(
      'decompressed size exceeds the limit',
    );
    expect(gunzipError(Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' }))).to.equal('not valid gzip');
  });
});
