/**
 * Compact, in-memory ASN table: sorted, non-overlapping address ranges with an AS number and an organisation,
 * searched by binary search. Built at data-build time from @ip-location-db/asn (CSV, ~45 MB) into one small
 * binary file per address family, so a cold start reads a few MB instead of parsing CSV.
 *
 * File layout (little-endian, every section 8-byte aligned):
 *   0  magic "CTASN" 0 0 1          8 bytes (format version 1)
 *   8  u32 family (4 | 6)
 *  12  u32 count                    number of ranges
 *  16  u32 orgCount                 number of distinct organisation strings
 *  20  u32 orgBytes                 size of the UTF-8 string blob
 *  24  u32 byteOrderMark 0x01020304 (refuse files written on a big-endian machine)
 *  28  u32 reserved
 *  32  starts, ends                 v4: u32[count] each; v6: u64 hi[count], u64 lo[count] each
 *      asn u32[count], org u32[count] (index into the string table)
 *      orgOffsets u32[orgCount + 1] (byte offsets into the blob), blob
 */
import { AsnTableFormatError } from '../../errors.ts';

const MAGIC = Buffer.from([0x43, 0x54, 0x41, 0x53, 0x4e, 0x00, 0x00, 0x01]);
const BOM = 0x01020304;
const HEADER = 32;

export interface AsnRange {
  /** IPv4: 0..2^32-1; IPv6: 0..2^128-1. */
  start: bigint;
  end: bigint;
  asn: number;
  organization: string;
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** Parses one line of the @ip-location-db `*-num.csv` files: `start,end,asn,organisation` (RFC 4180 quoting). */
export function parseAsnCsvLine(line: string): AsnRange | undefined {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return undefined;
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push(value);
      i++; // the comma
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  const [s, e, a, org] = fields;
  if (s === undefined || e === undefined || a === undefined || !/^\d+$/.test(s) || !/^\d+$/.test(e) || !/^\d+$/.test(a)) {
    return undefined;
  }
  return { start: BigInt(s), end: BigInt(e), asn: Number(a), organization: (org ?? '').trim() };
}

/** Sorts, drops overlaps (first wins) and merges adjacent ranges of the same AS and organisation. */
export function normaliseRanges(ranges: readonly AsnRange[]): AsnRange[] {
  const sorted = [...ranges].sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
  const out: AsnRange[] = [];
  for (const r of sorted) {
    if (r.end < r.start) continue;
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end) continue; // overlap: the source is sorted and disjoint; be defensive
    if (last !== undefined && last.end + 1n === r.start && last.asn === r.asn && last.organization === r.organization) {
      last.end = r.end;
    } else {
      out.push({ ...r });
    }
  }
  return out;
}

export function encodeAsnTable(family: 4 | 6, input: readonly AsnRange[]): Buffer {
  const ranges = normaliseRanges(input);
  const count = ranges.length;
  const orgIndex = new Map<string, number>();
  const orgs: string[] = [];
  for (const r of ranges) {
    if (!orgIndex.has(r.organization)) {
      orgIndex.set(r.organization, orgs.length);
      orgs.push(r.organization);
    }
  }
  const encoded = orgs.map((o) => Buffer.from(o, 'utf8'));
  const orgBytes = encoded.reduce((n, b) => n + b.length, 0);
  const addrBytes = family === 4 ? 4 : 16;
  const size = pad8(HEADER + pad8(count * addrBytes) * 2 + pad8(count * 4) * 2 + pad8((orgs.length + 1) * 4) + orgBytes);
  const buf = Buffer.alloc(size);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(family, 8);
  buf.writeUInt32LE(count, 12);
  buf.writeUInt32LE(orgs.length, 16);
  buf.writeUInt32LE(orgBytes, 20);
  buf.writeUInt32LE(BOM, 24);
  let off = HEADER;
  const mask64 = (1n << 64n) - 1n;
  const writeAddrs = (get: (r: AsnRange) => bigint): void => {
    if (family === 4) {
      ranges.forEach((r, i) => buf.writeUInt32LE(Number(get(r)), off + i * 4));
      off += pad8(count * 4);
    } else {
      ranges.forEach((r, i) => buf.writeBigUInt64LE(get(r) >> 64n, off + i * 8));
      ranges.forEach((r, i) => buf.writeBigUInt64LE(get(r) & mask64, off + count * 8 + i * 8));
      off += count * 16;
    }
  };
  writeAddrs((r) => r.start);
  writeAddrs((r) => r.end);
  ranges.forEach((r, i) => buf.writeUInt32LE(r.asn, off + i * 4));
  off += pad8(count * 4);
  ranges.forEach((r, i) => buf.writeUInt32LE(orgIndex.get(r.organization) ?? 0, off + i * 4));
  off += pad8(count * 4);
  let blobOff = 0;
  encoded.forEach((b, i) => {
    buf.writeUInt32LE(blobOff, off + i * 4);
    blobOff += b.length;
  });
  buf.writeUInt32LE(blobOff, off + encoded.length * 4);
  off += pad8((orgs.length + 1) * 4);
  for (const b of encoded) {
    b.copy(buf, off);
    off += b.length;
  }
  return buf;
}

export interface AsnHit {
  number: number;
  organization?: string;
}

/** A loaded table. `lookup` takes the address as an integer (IPv4 number or IPv6 bigint). */
export class AsnTable {
  readonly family: 4 | 6;
  readonly size: number;
  readonly #v4Starts?: Uint32Array;
  readonly #v4Ends?: Uint32Array;
  readonly #v6StartHi?: BigUint64Array;
  readonly #v6StartLo?: BigUint64Array;
  readonly #v6EndHi?: BigUint64Array;
  readonly #v6EndLo?: BigUint64Array;
  readonly #asn: Uint32Array;
  readonly #org: Uint32Array;
  readonly #orgs: string[];

  constructor(buf: Buffer) {
    if (buf.length < HEADER || !buf.subarray(0, 8).equals(MAGIC)) {
      throw new AsnTableFormatError('not an ASN table (bad magic or version)');
    }
    if (buf.readUInt32LE(24) !== BOM) throw new AsnTableFormatError('ASN table byte order mark mismatch');
    const family = buf.readUInt32LE(8);
    if (family !== 4 && family !== 6) throw new AsnTableFormatError(`ASN table has unknown family ${family}`);
    this.family = family;
    const count = buf.readUInt32LE(12);
    const orgCount = buf.readUInt32LE(16);
    const orgBytes = buf.readUInt32LE(20);
    this.size = count;
    // Copy each section into its own ArrayBuffer: typed arrays need aligned offsets, and Buffer's may not be.
    let off = HEADER;
    const take = (bytes: number): ArrayBuffer => {
      if (off + bytes > buf.length) throw new AsnTableFormatError('ASN table is truncated');
      const ab = new ArrayBuffer(bytes);
      new Uint8Array(ab).set(buf.subarray(off, off + bytes));
      off += pad8(bytes);
      return ab;
    };
    if (family === 4) {
      this.#v4Starts = new Uint32Array(take(count * 4));
      this.#v4Ends = new Uint32Array(take(count * 4));
    } else {
      this.#v6StartHi = new BigUint64Array(take(count * 8));
      this.#v6StartLo = new BigUint64Array(take(count * 8));
      this.#v6EndHi = new BigUint64Array(take(count * 8));
      this.#v6EndLo = new BigUint64Array(take(count * 8));
    }
    this.#asn = new Uint32Array(take(count * 4));
    this.#org = new Uint32Array(take(count * 4));
    const offsets = new Uint32Array(take((orgCount + 1) * 4));
    if (off + orgBytes > buf.length) throw new AsnTableFormatError('ASN table is truncated');
    const blob = buf.subarray(off, off + orgBytes);
    this.#orgs = [];
    for (let i = 0; i < orgCount; i++) this.#orgs.push(blob.toString('utf8', offsets[i], offsets[i + 1]));
  }

  lookup(address: bigint): AsnHit | undefined {
    const i = this.family === 4 ? this.#find4(Number(address)) : this.#find6(address);
    if (i < 0) return undefined;
    const number = this.#asn[i] ?? 0;
    if (number === 0) return undefined; // AS0 = "not routed" in the source data
    const organization = this.#orgs[this.#org[i] ?? 0];
    return organization !== undefined && organization !== '' ? { number, organization } : { number };
  }

  #find4(ip: number): number {
    const starts = this.#v4Starts!;
    const ends = this.#v4Ends!;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] ?? 0) <= ip) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found >= 0 && ip <= (ends[found] ?? -1) ? found : -1;
  }

  #find6(ip: bigint): number {
    const sh = this.#v6StartHi!;
    const sl = this.#v6StartLo!;
    const at = (h: BigUint64Array, l: BigUint64Array, i: number): bigint => ((h[i] ?? 0n) << 64n) | (l[i] ?? 0n);
    let lo = 0;
    let hi = sh.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (at(sh, sl, mid) <= ip) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found >= 0 && ip <= at(this.#v6EndHi!, this.#v6EndLo!, found) ? found : -1;
  }
}

export { AsnTableFormatError };
