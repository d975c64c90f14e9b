import { expect } from 'chai';
import { gunzipSync } from 'node:zlib';
import { CloudWatchLogsPacker, type PackOptions } from '../../../src/codec/cloudwatch-logs-pack.ts';
import { decodeRecord } from '../../../src/1-decode/record.ts';
import { newDecompressionBudget } from '../../../src/1-decode/limits.ts';
import { cloudTrailEvent } from '../../helpers/factories.ts';

interface Payload {
  messageType: string;
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  logEvents: { id: string; timestamp: number; message: string }[];
}

function pack(texts: readonly string[], options: PackOptions = {}, flush = true): { payloads: Payload[]; raw: Buffer[] } {
  const raw: Buffer[] = [];
  const packer = new CloudWatchLogsPacker((data) => raw.push(data), options);
  for (const text of texts) packer.add(text);
  if (flush) packer.flush();
  return { raw, payloads: raw.map((data) => JSON.parse(gunzipSync(data).toString('utf8')) as Payload) };
}

function at(iso: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify(cloudTrailEvent({ eventTime: iso, ...overrides }));
}

describe('CloudWatchLogsPacker', () => {
  it('groups events by the <account>_CloudTrail_<region> stream CloudTrail writes to', () => {
    const texts = [
      at('2026-11-20T10:00:00Z', { recipientAccountId: '111122223333', awsRegion: 'us-east-1' }),
      at('2026-11-20T10:00:01Z', { recipientAccountId: '111122223333', awsRegion: 'eu-west-1' }),
      at('2026-11-20T10:00:02Z', { recipientAccountId: '444455556666', awsRegion: 'us-east-1' }),
      at('2026-11-20T10:00:03Z', { recipientAccountId: '111122223333', awsRegion: 'us-east-1' }),
    ];
    const { payloads } = pack(texts);
    expect(payloads.map((p) => [p.logStream, p.owner, p.logGroup, p.logEvents.length])).to.deep.equal([
      ['111122223333_CloudTrail_us-east-1', '111122223333', 'aws-cloudtrail-logs-111122223333', 2],
      ['111122223333_CloudTrail_eu-west-1', '111122223333', 'aws-cloudtrail-logs-111122223333', 1],
      ['444455556666_CloudTrail_us-east-1', '444455556666', 'aws-cloudtrail-logs-444455556666', 1],
    ]);
    expect(payloads[0]!.logEvents.map((e) => e.message)).to.deep.equal([texts[0], texts[3]]);
  });

  it('uses a configured log group name', () => {
    const { payloads } = pack([at('2026-11-20T10:00:00Z')], { logGroup: 'my-trail-group' });
    expect(payloads[0]!.logGroup).to.equal('my-trail-group');
  });

  it('puts events without account or region, and text that is not JSON, in a fallback stream', () => {
    const { payloads } = pack([at('2026-11-20T10:00:00Z', { recipientAccountId: undefined, awsRegion: undefined }), 'not json']);
    // (the text without an eventTime is stamped with the current time, so it may start a batch of its own)
    for (const p of payloads) expect(p).to.deep.include({ logStream: '000000000000_CloudTrail_unknown', owner: '000000000000' });
    expect(payloads.flatMap((p) => p.logEvents.map((e) => e.message))).to.have.length(2);
  });

  it('emits nothing before flush while no batch is full', () => {
    expect(pack([at('2026-11-20T10:00:00Z'), at('2026-11-20T10:00:01Z')], {}, false).raw).to.deep.equal([]);
  });

  it('closes a batch at the maximum number of events', () => {
    const texts = Array.from({ length: 5 }, (_, i) => at(`2026-11-20T10:00:0${i}Z`));
    const { payloads } = pack(texts, { maxEvents: 2 });
    expect(payloads.map((p) => p.logEvents.length)).to.deep.equal([2, 2, 1]);
    expect(payloads.flatMap((p) => p.logEvents.map((e) => e.message))).to.deep.equal(texts);
  });

  it('closes a batch before its messages (plus 26 bytes each) would exceed the maximum bytes', () => {
    const texts = Array.from({ length: 5 }, (_, i) => at(`2026-11-20T10:00:0${i}Z`));
    const size = Math.max(...texts.map((t) => Buffer.byteLength(t))) + 26;
    const { payloads } = pack(texts, { maxBytes: size * 2 });
    expect(payloads.map((p) => p.logEvents.length)).to.deep.equal([2, 2, 1]);
    for (const p of payloads) expect(p.logEvents.reduce((n, e) => n + Buffer.byteLength(e.message) + 26, 0)).to.be.at.most(size * 2);
  });

  it('closes a batch when an event is more than 5 minutes from the batch’s first', () => {
    const texts = [
      at('2026-11-20T10:00:00Z'),
      at('2026-11-20T10:04:59Z'),
      at('2026-11-20T10:05:01Z'),
      at('2026-11-20T10:05:02Z'),
      at('2026-11-20T09:59:00Z'),
    ];
    const { payloads } = pack(texts);
    expect(payloads.map((p) => p.logEvents.map((e) => e.message))).to.deep.equal([[texts[0], texts[1]], [texts[2], texts[3]], [texts[4]]]);
  });

  it('writes valid gzip CloudWatch Logs DATA_MESSAGEs that the transform decodes back to the same texts', () => {
    const texts = Array.from({ length: 7 }, (_, i) => at(`2026-11-20T10:00:0${i}Z`, { eventName: `Call${i}` }));
    const { raw, payloads } = pack(texts, { maxEvents: 3 });
    for (const p of payloads) {
      expect(p.messageType).to.equal('DATA_MESSAGE');
      expect(p.subscriptionFilters).to.be.an('array').that.is.not.empty;
      for (const e of p.logEvents) {
        expect(e.id).to.match(/^\d{56}$/);
        expect(e.timestamp).to.equal(Date.parse((JSON.parse(e.message) as { eventTime: string }).eventTime));
      }
    }
    const ids = payloads.flatMap((p) => p.logEvents.map((e) => e.id));
    expect(new Set(ids).size).to.equal(ids.length);
    const decodedTexts = raw.flatMap((data) => {
      const decoded = decodeRecord(data.toString('base64'), newDecompressionBudget());
      expect(decoded).to.deep.include({ kind: 'events', format: 'cloudwatch-logs' });
      return decoded.kind === 'events' ? decoded.events.map((item) => (item.ok ? item.text : '')) : [];
    });
    expect(decodedTexts).to.deep.equal(texts);
  });
});
