/**
 * Test helper: a minimal MaxMind DB (MMDB 2.0) writer, enough to generate small GeoLite2-shaped and DB-IP-shaped
 * databases in a test (maps, strings, doubles, unsigned ints, booleans, arrays; 24-bit records; disjoint networks).
 * Spec: https://maxmind.github.io/MaxMind-DB/
 */
import ipaddr from 'ipaddr.js';

type Value = string | number | bigint | boolean | Value[] | { [k: string]: Value };

function ctrl(type: number, size: number): Buffer {
  const ext = type > 7;
  const typeBits = ext ? 0 : type;
  let sizeField: number;
  let sizeBytes: Buffer;
  if (size < 29) {
    sizeField = size;
    sizeBytes = Buffer.alloc(0);
  } else if (size < 29 + 256) {
    sizeField = 29;
    sizeBytes = Buffer.from([size - 29]);
  } else if (size < 285 + 65536) {
    sizeField = 30;
    sizeBytes = Buffer.alloc(2);
    sizeBytes.writeUInt16BE(size - 285);
  } else {
    sizeField = 31;
    sizeBytes = Buffer.alloc(3);
    sizeBytes.writeUIntBE(size - 65821, 0, 3);
  }
  const head = Buffer.from([(typeBits << 5) | sizeField]);
  return Buffer.concat([head, ext ? Buffer.from([type - 7]) : Buffer.alloc(0), sizeBytes]);
}

function uintBytes(n: bigint): Buffer {
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return Buffer.from(bytes);
}

export function encodeValue(v: Value): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([ctrl(2, b.length), b]);
  }
  if (typeof v === 'boolean') return ctrl(14, v ? 1 : 0);
  if (typeof v === 'bigint') {
    const b = uintBytes(v);
    return Buffer.concat([ctrl(9, b.length), b]); // uint64
  }
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) {
      const b = uintBytes(BigInt(v));
      return Buffer.concat([ctrl(6, b.length), b]); // uint32
    }
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return Buffer.concat([ctrl(3, 8), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([ctrl(11, v.length), ...v.map(encodeValue)]);
  const entries = Object.entries(v);
  return Buffer.concat([ctrl(7, entries.length), ...entries.flatMap(([k, x]) => [encodeValue(k), encodeValue(x)])]);
}

type Rec = { node: number } | { data: number } | undefined;

export interface MmdbNetwork {
  /** CIDR, IPv4 or IPv6. IPv4 networks are stored under ::/96 (how MaxMind IPv6 trees hold IPv4). */
  cidr: string;
  record: Value;
}

function bitsOf(cidr: string, ipVersion: 4 | 6): { bits: number[]; prefix: number } {
  const [addr, prefix] = ipaddr.parseCIDR(cidr);
  let bytes = addr.toByteArray();
  let p = prefix;
  if (addr.kind() === 'ipv4' && ipVersion === 6) {
    bytes = [...new Array<number>(12).fill(0), ...bytes];
    p += 96;
  }
  const bits: number[] = [];
  for (const b of bytes) for (let i = 7; i >= 0; i--) bits.push((b >> i) & 1);
  return { bits, prefix: p };
}

export function writeMmdb(options: { databaseType: string; ipVersion: 4 | 6; networks: MmdbNetwork[] }): Buffer {
  const nodes: [Rec, Rec][] = [[undefined, undefined]];
  const data: Buffer[] = [];
  let dataSize = 0;
  for (const net of options.networks) {
    const encoded = encodeValue(net.record);
    const offset = dataSize;
    data.push(encoded);
    dataSize += encoded.length;
    const { bits, prefix } = bitsOf(net.cidr, options.ipVersion);
    let node = 0;
    for (let i = 0; i < prefix - 1; i++) {
      const bit = bits[i]!;
      const rec = nodes[node]![bit];
      if (rec !== undefined && 'node' in rec) {
        node = rec.node;
      } else {
        nodes.push([undefined, undefined]);
        nodes[node]![bit] = { node: nodes.length - 1 };
        node = nodes.length - 1;
      }
    }
    nodes[node]![bits[prefix - 1]!] = { data: offset };
  }
  const nodeCount = nodes.length;
  const tree = Buffer.alloc(nodeCount * 6);
  const value = (r: Rec): number => (r === undefined ? nodeCount : 'node' in r ? r.node : nodeCount + 16 + r.data);
  nodes.forEach(([l, r], i) => {
    tree.writeUIntBE(value(l), i * 6, 3);
    tree.writeUIntBE(value(r), i * 6 + 3, 3);
  });
  const metadata = encodeValue({
    node_count: nodeCount,
    record_size: 24,
    ip_version: options.ipVersion,
    database_type: options.databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: BigInt(Math.floor(Date.UTC(2026, 0, 1) / 1000)),
    description: { en: 'test database' },
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...data, Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), metadata]);
}
