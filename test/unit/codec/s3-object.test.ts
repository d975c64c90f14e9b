import { expect } from 'chai';
import { Readable } from 'node:stream';
import { parseObjectLimits, readBounded } from '../../../src/codec/s3-object.ts';
import { ConfigError } from '../../../src/errors.ts';

describe('readBounded', () => {
  it('reads a body up to the limit', async () => {
    const read = await readBounded(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4);
    expect(read.ok && read.bytes.toString()).to.equal('abcd');
  });

  it('stops reading (and destroys the stream) as soon as the limit is passed', async () => {
    let produced = 0;
    const stream = new Readable({
      read() {
        produced++;
        this.push(Buffer.alloc(1024));
      },
    });
    expect(await readBounded(stream, 10 * 1024)).to.include({ ok: false, problem: 'too-large' });
    expect(stream.destroyed).to.equal(true);
    expect(produced).to.be.below(64);
  });

  it('refuses a declared Content-Length over the limit without reading', async () => {
    const stream = Readable.from([Buffer.from('x')]);
    expect(await readBounded(stream, 10, 11)).to.include({ ok: false, problem: 'too-large' });
    expect(stream.destroyed).to.equal(true);
  });
});

describe('parseObjectLimits', () => {
  it('reads the object limits and bounds them', () => {
    expect(parseObjectLimits({ CLOUDTRAIL_OBJECT_MAX_BYTES: '2048', CLOUDTRAIL_OBJECT_MAX_DECOMPRESSED_BYTES: '4096' })).to.deep.equal({
      maxObjectBytes: 2048,
      maxDecompressedBytes: 4096,
    });
    expect(() => parseObjectLimits({ CLOUDTRAIL_OBJECT_MAX_DECOMPRESSED_BYTES: String(1024 ** 3) })).to.throw(
      ConfigError,
      /CLOUDTRAIL_OBJECT_MAX_DECOMPRESSED_BYTES/,
    );
  });
});
