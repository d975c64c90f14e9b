import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { decodeCloudTrailObject } from '../../../src/1-decode/cloudtrail-object.ts';

const limits = { maxObjectBytes: 64 * 1024, maxDecompressedBytes: 256 * 1024 };

describe('decodeCloudTrailObject', () => {
  it('turns every element of Records into one event, non-objects into skipped items', async () => {
    const records = [{ eventID: 'a', eventName: 'X', sourceIPAddress: '8.8.8.8' }, { eventID: 'b', enrichment: 'x' }, 42];
    const decoded = await decodeCloudTrailObject(gzipSync(JSON.stringify({ Records: records })), limits);
    expect(decoded.ok).to.equal(true);
    if (!decoded.ok) return;
    expect(decoded.events.map((e) => e.ok)).to.deep.equal([true, false, false]);
    expect(decoded.events[0]).to.deep.include({ text: '{"eventID":"a","eventName":"X","sourceIPAddress":"8.8.8.8"}' });
  });

  it('accepts plain JSON (a .json copy) and a byte order mark', async () => {
    const decoded = await decodeCloudTrailObject(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"Records":[{"eventID":"a"}]}')]),
      limits,
    );
    expect(decoded.ok && decoded.events.length).to.equal(1);
  });

  it('recognises digests, and refuses what is not a CloudTrail log file', async () => {
    expect(await decodeCloudTrailObject(gzipSync('{"digestStartTime":"x","logFiles":[]}'), limits)).to.include({
      ok: false,
      problem: 'digest',
    });
    expect(await decodeCloudTrailObject(gzipSync('{"hello":1}'), limits)).to.include({ ok: false, problem: 'not-cloudtrail' });
    expect(await decodeCloudTrailObject(gzipSync('[1,2]'), limits)).to.include({ ok: false, problem: 'not-cloudtrail' });
    expect(await decodeCloudTrailObject(gzipSync('{"Records":'), limits)).to.include({ ok: false, problem: 'not-json' });
    expect(await decodeCloudTrailObject(Buffer.from([0x1f, 0x8b, 1, 2, 3]), limits)).to.include({ ok: false, problem: 'not-gzip' });
  });

  it('stops a gzip bomb at the decompressed limit', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect(bomb.length).to.be.below(limits.maxObjectBytes);
    expect(await decodeCloudTrailObject(bomb, limits)).to.include({ ok: false, problem: 'decompressed-too-large' });
  });

  it('refuses an object over the stored-size limit', async () => {
    expect(await decodeCloudTrailObject(Buffer.alloc(limits.maxObjectBytes + 1), limits)).to.include({ ok: false, problem: 'too-large' });
  });
});
