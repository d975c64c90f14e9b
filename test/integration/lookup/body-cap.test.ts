import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { gotFetch, MAX_BODY_BYTES } from '../../../src/3-lookup/http/resilient-client.ts';

const CHILD = fileURLToPath(new URL('./body-cap-child.ts', import.meta.url));
const FIFTY_MB = 50 * 1024 * 1024;

/** A loopback provider with scripted routes; counts the bytes each streamed answer wrote before the client hung up. */
interface Loopback {
  base: string;
  sent: Map<string, number>;
  close(): Promise<void>;
}

async function startProvider(): Promise<Loopback> {
  const sent = new Map<string, number>();
  const answer = { success: true, fraud_score: 12, ISP: 'Example' };
  const json = Buffer.from(JSON.stringify(answer));
  const stream50 = (res: ServerResponse, path: string): void => {
    const chunk = Buffer.alloc(64 * 1024, 0x20); // JSON whitespace: a valid, endless-looking answer
    let written = 0;
    const pump = (): void => {
      while (written < FIFTY_MB) {
        written += chunk.length;
        sent.set(path, written);
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => sent.set(path, written));
    pump();
  };
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    switch (path) {
      case '/50mb-chunked':
        res.writeHead(200, { 'content-type': 'application/json' });
        return stream50(res, path);
      case '/50mb-length':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(FIFTY_MB) });
        return stream50(res, path);
      case '/gzip':
        return void res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(json));
      case '/deflate':
        return void res.writeHead(200, { 'content-encoding': 'deflate' }).end(deflateSync(json));
      case '/deflate-raw':
        return void res.writeHead(200, { 'content-encoding': 'deflate' }).end(deflateRawSync(json));
      case '/br':
        return void res.writeHead(200, { 'content-encoding': 'br' }).end(brotliCompressSync(json));
      case '/gzip-bomb':
        // ~100 KB on the wire, 100 MB once inflated
        return void res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(100 * 1024 * 1024, 0x20)));
      case '/br-bomb':
        return void res.writeHead(200, { 'content-encoding': 'br' }).end(brotliCompressSync(Buffer.alloc(100 * 1024 * 1024, 0x20)));
      case '/corrupt-gzip':
        return void res.writeHead(200, { 'content-encoding': 'gzip' }).end(Buffer.from('not gzip at all'));
      case '/compress':
        return void res.writeHead(200, { 'content-encoding': 'compress' }).end(json);
      default:
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const fetchPath = (p: Loopback, path: string) => gotFetch({ url: p.base + path, timeoutMs: 30_000, signal: new AbortController().signal });

describe('provider answer body cap and content-encoding (loopback provider)', function () {
  this.timeout(120_000);
  let p: Loopback;
  before(async () => {
    p = await startProvider();
  });
  after(async () => p.close());

  it('reads an identity JSON answer as before', async () => {
    const res = await fetchPath(p, '/plain');
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body)).to.deep.equal({ success: true, fraud_score: 12, ISP: 'Example' });
  });

  for (const enc of ['gzip', 'deflate', 'deflate-raw', 'br']) {
    it(`decodes a ${enc} answer (a proxy or CDN compressed it) instead of leaving the IP partial`, async () => {
      const res = await fetchPath(p, `/${enc}`);
      expect(JSON.parse(res.body)).to.deep.equal({ success: true, fraud_score: 12, ISP: 'Example' });
    });
  }

  it('aborts a chunked 50 MB answer at the cap instead of reading it whole', async () => {
    let error: Error | undefined;
    await fetchPath(p, '/50mb-chunked').catch((e: Error) => (error = e));
    expect(error?.name).to.equal('ProviderBodyError');
    await new Promise((r) => setTimeout(r, 200));
    // the server stopped writing once we hung up: at most the cap plus what the socket buffers held
    expect(p.sent.get('/50mb-chunked')).to.be.lessThan(MAX_BODY_BYTES + 8 * 1024 * 1024);
  });

  it('refuses an answer whose content-length announces 50 MB before reading its body', async () => {
    let error: Error | undefined;
    await fetchPath(p, '/50mb-length').catch((e: Error) => (error = e));
    expect(error?.message).to.match(/announces 52428800 bytes/);
  });

  for (const bomb of ['gzip-bomb', 'br-bomb']) {
    it(`counts decompressed bytes against the cap (${bomb}: 100 MB once inflated)`, async () => {
      let error: Error | undefined;
      await fetchPath(p, `/${bomb}`).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/cap once decoded/);
    });
  }

  it('fails a corrupt or unsupported encoding as a retryable error, not a crash', async () => {
    const errors: string[] = [];
    for (const path of ['/corrupt-gzip', '/compress']) await fetchPath(p, path).catch((e: Error) => errors.push(e.message));
    expect(errors[0]).to.match(/not decodable as gzip/);
    expect(errors[1]).to.match(/unsupported content-encoding "compress"/);
  });

  it('stays small with the heap capped at 64 MB while a provider sends 50 MB (child process)', async () => {
    for (const path of ['/50mb-chunked', '/gzip-bomb']) {
      const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', CHILD, p.base + path], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ok: boolean; error?: string; maxRssMb: number };
      expect(out.ok, path).to.equal(false);
      expect(out.error, path).to.match(/^ProviderBodyError/);
      expect(out.maxRssMb, path).to.be.lessThan(250);
    }
  });
});
