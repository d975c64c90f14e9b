import { expect } from 'chai';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { decodeBase64Strict, decodeRecord, type DecodedRecord } from '../../../src/1-decode/record.ts';
import { newDecompressionBudget } from '../../../src/1-decode/limits.ts';
import { encodeEnvelope } from '../../../src/codec/envelope.ts';
import type { EventItem } from '../../../src/1-decode/event-text.ts';
import { cloudTrailEvent, cloudWatchLogsData, cwlRecordOf, plainData } from '../../helpers/factories.ts';

function decode(data: string): DecodedRecord {
  return decodeRecord(data, newDecompressionBudget());
}

function gzipBase64(text: string | Buffer): string {
  return gzipSync(text).toString('base64');
}

function eventsOf(decoded: DecodedRecord): EventItem[] {
  expect(decoded.kind).to.equal('events');
  return decoded.kind === 'events' ? decoded.events : [];
}

function okTexts(items: EventItem[]): string[] {
  return items.map((item) => {
    expect(item.ok, JSON.stringify(item)).to.equal(true);
    return item.ok ? item.text : '';
  });
}

describe('decodeRecord', () => {
  describe('base64', () => {
    for (const [data, what] of [
      ['eyJh*mI6MX0=', 'a character outside the alphabet'],
      ['eyJhIjoxfQ', 'a length that is not a multiple of 4'],
      ['eyJh IjoxfQ==', 'an embedded space'],
      ['eyJhIjoxfQ==\n', 'a trailing newline'],
      ['eyJh\nIjoxfQ=', 'an embedded newline'],
      ['eyJhIj=xfQ==', 'padding in the middle'],
      ['ey-hIjoxfQ==', 'the URL-safe alphabet (-)'],
      ['eyJ_IjoxfQ==', 'the URL-safe alphabet (_)'],
    ] as [string, string][]) {
      it(`fails a record whose data has ${what}`, () => {
        expect(decode(data)).to.deep.equal({ kind: 'failed', error: 'data is not valid base64' });
      });
    }

    it('fails a record with empty data', () => {
      expect(decode('')).to.deep.equal({ kind: 'failed', error: 'data is empty' });
    });

    it('decodes canonical base64 to exactly the encoded bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          const decoded = decodeBase64Strict(Buffer.from(bytes).toString('base64'));
          expect(decoded).to.not.equal(undefined);
          expect(Buffer.compare(decoded!, Buffer.from(bytes))).to.equal(0);
        }),
        { numRuns: 200 },
      );
    });

    it('rejects any base64 in which one character was replaced by one outside the alphabet', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 48 }),
          fc.nat(),
          fc.constantFrom(' ', '\n', '\t', '*', '.', '!', '-', '_', 'é'),
          (bytes, at, extra) => {
            const b64 = Buffer.from(bytes).toString('base64');
            const pos = at % b64.length; // same length: only the alphabet check can catch it
            expect(decodeBase64Strict(b64.slice(0, pos) + extra + b64.slice(pos + 1))).to.equal(undefined);
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('CloudWatch Logs subscription payloads', () => {
    it('returns every message of a DATA_MESSAGE, text verbatim', () => {
      const messages = [
        JSON.stringify(cloudTrailEvent({ eventName: 'A' })),
        '{"eventName":"B","big":12345678901234567890,"dup":1,"dup":2}',
        JSON.stringify(cloudTrailEvent({ eventName: 'C', sourceIPAddress: 'AWS Internal' })),
      ];
      const decoded = decode(cloudWatchLogsData(messages));
      expect(decoded).to.deep.include({ kind: 'events', format: 'cloudwatch-logs' });
      expect(okTexts(eventsOf(decoded))).to.deep.equal(messages);
    });

    it('keeps the order of the log events', () => {
      const events = Array.from({ length: 25 }, (_, i) => cloudTrailEvent({ eventName: `E${i}` }));
      const names = eventsOf(decode(cwlRecordOf(events))).map((item) => (item.ok ? item.event.eventName : undefined));
      expect(names).to.deep.equal(events.map((e) => e.eventName));
    });

    it('recognises a CONTROL_MESSAGE', () => {
      expect(
        decode(cloudWatchLogsData(['CWL CONTROL MESSAGE: Checking health of destination Firehose.'], { messageType: 'CONTROL_MESSAGE' })),
      ).to.deep.equal({
        kind: 'control',
      });
    });

    it('keeps messages that are not events as items with their raw text', () => {
      const messages = ['not json at all', '[1,2]', '"a string"', JSON.stringify(cloudTrailEvent())];
      const items = eventsOf(decode(cloudWatchLogsData(messages)));
      expect(items.map((i) => i.ok)).to.deep.equal([false, false, false, true]);
      expect(items.slice(0, 3).map((i) => (i.ok ? '' : i.raw))).to.deep.equal(messages.slice(0, 3));
    });

    it('keeps a log event without message text as an item with its JSON', () => {
      const payload = { messageType: 'DATA_MESSAGE', logEvents: [{ id: '1', timestamp: 1, message: 42 }, null] };
      const items = eventsOf(decode(gzipBase64(JSON.stringify(payload))));
      expect(items).to.have.length(2);
      expect(items[0]).to.deep.include({ ok: false, raw: '{"id":"1","timestamp":1,"message":42}' });
      expect(items[1]).to.deep.include({ ok: false, raw: 'null' });
    });

    it('fails gzip whose content is not JSON', () => {
      expect(decode(gzipBase64('this is not json'))).to.deep.equal({ kind: 'failed', error: 'gzip content is not JSON' });
    });

    it('fails gzip whose JSON is not a CloudWatch Logs payload', () => {
      for (const content of [
        'null',
        '42',
        '[]',
        '{"messageType":"OTHER","logEvents":[]}',
        '{"messageType":"DATA_MESSAGE"}',
        '{"Records":[]}',
      ]) {
        const decoded = decode(gzipBase64(content));
        expect(decoded.kind, content).to.equal('failed');
      }
    });

    it('fails truncated gzip', () => {
      const full = Buffer.from(cwlRecordOf([cloudTrailEvent(), cloudTrailEvent()]), 'base64');
      for (const keep of [3, 10, Math.floor(full.length / 2), full.length - 4]) {
        expect(decode(full.subarray(0, keep).toString('base64')), `kept ${keep} bytes`).to.deep.equal({
          kind: 'failed',
          error: 'not valid gzip',
        });
      }
    });

    it('fails a gzip bomb at the per-record limit', () => {
      const bomb = gzipBase64(Buffer.alloc(1024 * 1024, 0x20));
      const budget = newDecompressionBudget(64 * 1024, 10 * 1024 * 1024);
      expect(decodeRecord(bomb, budget)).to.deep.equal({ kind: 'failed', error: 'decompressed size exceeds the limit' });
      expect(budget.remaining).to.equal(10 * 1024 * 1024);
    });

    it('fails a gzip bomb at the invocation budget when that is smaller than the per-record limit', () => {
      const bomb = gzipBase64(Buffer.alloc(1024 * 1024, 0x20));
      const budget = newDecompressionBudget(2 * 1024 * 1024, 64 * 1024);
      expect(decodeRecord(bomb, budget)).to.deep.equal({ kind: 'failed', error: 'decompression budget of the invocation exhausted' });
      expect(budget.remaining).to.equal(64 * 1024);
    });

    it('fails records once the invocation budget is used up, and charges what was decompressed', () => {
      const record = cwlRecordOf([cloudTrailEvent()]);
      const size = gzipSizeOf(record);
      const budget = newDecompressionBudget(size * 2, size * 2 + size / 2);
      expect(decodeRecord(record, budget).kind).to.equal('events');
      expect(budget.remaining).to.equal(size + size / 2);
      expect(decodeRecord(record, budget).kind).to.equal('events');
      expect(budget.remaining).to.equal(size / 2);
      expect(decodeRecord(record, budget)).to.deep.equal({ kind: 'failed', error: 'decompression budget of the invocation exhausted' });
      // A plain JSON record needs no decompression and still decodes.
      expect(decodeRecord(plainData(cloudTrailEvent()), budget).kind).to.equal('events');
    });

    it('fails any gzip record when the invocation budget is exactly used up', () => {
      const record = cwlRecordOf([cloudTrailEvent()]);
      const budget = newDecompressionBudget(1024 * 1024, gzipSizeOf(record));
      expect(decodeRecord(record, budget).kind).to.equal('events');
      expect(budget.remaining).to.equal(0);
      expect(decodeRecord(record, budget).kind).to.equal('failed');
    });
  });

  describe('plain JSON records', () => {
    it('keeps the text of a single event verbatim, trimmed', () => {
      const text = '{"eventName":"ConsoleLogin","big":12345678901234567890,"sourceIPAddress":"8.8.8.8"}';
      const decoded = decode(plainData(`  ${text}\n`));
      expect(decoded).to.deep.include({ kind: 'events', format: 'cloudtrail-event' });
      expect(okTexts(eventsOf(decoded))).to.deep.equal([text]);
    });

    it('removes the line breaks of a pretty-printed event, which still parses to the same value', () => {
      const event = cloudTrailEvent();
      const [text] = okTexts(eventsOf(decode(plainData(JSON.stringify(event, null, 4)))));
      expect(text).not.to.match(/[\r\n]/);
      expect(JSON.parse(text!)).to.deep.equal(event);
    });

    it('splits a CloudTrail file body into its events', () => {
      const events = [cloudTrailEvent({ eventName: 'A' }), cloudTrailEvent({ eventName: 'B' })];
      const decoded = decode(plainData({ Records: events }));
      expect(decoded).to.deep.include({ kind: 'events', format: 'cloudtrail-file' });
      expect(okTexts(eventsOf(decoded)).map((t) => JSON.parse(t))).to.deep.equal(events);
    });

    for (const detailType of ['AWS API Call via CloudTrail', 'AWS Console Sign In via CloudTrail']) {
      it(`unwraps the detail of an EventBridge envelope (${detailType})`, () => {
        const detail = cloudTrailEvent({ eventName: 'ConsoleLogin' });
        const envelope = { version: '0', id: 'x', 'detail-type': detailType, source: 'aws.signin', account: '111122223333', detail };
        const decoded = decode(plainData(envelope));
        expect(decoded).to.deep.include({ kind: 'events', format: 'eventbridge' });
        expect(okTexts(eventsOf(decoded)).map((t) => JSON.parse(t))).to.deep.equal([detail]);
      });
    }

    it('treats an object with another detail-type as an event in its own right', () => {
      const decoded = decode(plainData({ 'detail-type': 'EC2 Instance State-change Notification', detail: {} }));
      expect(decoded).to.deep.include({ kind: 'events', format: 'cloudtrail-event' });
    });

    it('splits a JSON array into its events, non-objects becoming raw items', () => {
      const event = cloudTrailEvent();
      const items = eventsOf(decode(plainData([event, 5, 'x'])));
      expect(items.map((i) => i.ok)).to.deep.equal([true, false, false]);
      expect(items[1]).to.deep.include({ raw: '5' });
      expect(items[2]).to.deep.include({ raw: '"x"' });
    });

    it('splits NDJSON into its lines, each kept verbatim', () => {
      const lines = ['{"eventName":"A","n":12345678901234567890}', '{"eventName":"B"}', '{"eventName":"C"}'];
      const decoded = decode(plainData(`${lines[0]}\r\n${lines[1]}\n\n${lines[2]}\n`));
      expect(decoded).to.deep.include({ kind: 'events', format: 'ndjson' });
      expect(okTexts(eventsOf(decoded))).to.deep.equal(lines);
    });

    it('keeps NDJSON lines that are JSON but not objects as raw items', () => {
      const items = eventsOf(decode(plainData('{"eventName":"A"}\n7\n')));
      expect(items.map((i) => i.ok)).to.deep.equal([true, false]);
      expect(items[1]).to.deep.include({ raw: '7' });
    });

    it('fails text that is neither gzip nor JSON, including NDJSON with a broken line', () => {
      for (const text of ['hello', '{"eventName":', '{"eventName":"A"}\n{"broken"\n', '\n\n']) {
        expect(decode(plainData(text)), JSON.stringify(text)).to.deep.equal({ kind: 'failed', error: 'data is neither gzip nor JSON' });
      }
    });

    it('fails a plain JSON value that is not an object or array', () => {
      for (const text of ['42', '"text"', 'null', 'true']) {
        expect(decode(plainData(text)).kind, text).to.equal('failed');
      }
    });

    it('skips an event that already has a top-level enrichment key', () => {
      const text = '{"eventName":"X","enrichment":{"version":1}}';
      const items = eventsOf(decode(plainData(text)));
      expect(items).to.have.length(1);
      expect(items[0]).to.deep.include({ ok: false, raw: text });
    });

    it('does not let __proto__ keys pollute Object.prototype', () => {
      const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted2":true}},"eventName":"X"}';
      const decodedPlain = decode(plainData(text));
      const decodedCwl = decode(cloudWatchLogsData([text]));
      const decodedFile = decode(plainData(`{"Records":[${text}],"__proto__":{"polluted3":true}}`));
      for (const decoded of [decodedPlain, decodedCwl, decodedFile]) {
        const [item] = eventsOf(decoded);
        expect(item!.ok).to.equal(true);
        if (item!.ok) expect(Object.getPrototypeOf(item!.event)).to.equal(Object.prototype);
      }
      const probe: Record<string, unknown> = {};
      expect(probe.polluted).to.equal(undefined);
      expect(probe.polluted2).to.equal(undefined);
      expect(probe.polluted3).to.equal(undefined);
    });
  });

  describe('re-ingested envelopes', () => {
    it('recognises an envelope made by encodeEnvelope and returns its header and body', () => {
      const body = '{"eventName":"A","enrichment":{"version":1}}\n{"eventName":"B","enrichment":{"version":1}}\n';
      const header = { v: 1 as const, pk: { account: '111122223333', region: 'us-east-1', dt: '2026-11-20' }, n: 2, origin: 'rec-1' };
      const budget = newDecompressionBudget();
      const before = budget.remaining;
      const decoded = decodeRecord(encodeEnvelope(header, body).toString('base64'), budget);
      expect(decoded.kind).to.equal('reingested');
      if (decoded.kind !== 'reingested') return;
      expect(decoded.envelope.header).to.deep.equal(header);
      expect(decoded.envelope.body.toString('utf8')).to.equal(body);
      expect(before - budget.remaining).to.equal(Buffer.byteLength(body));
    });

    it('fails a corrupted envelope', () => {
      const data = encodeEnvelope({ v: 1, n: 1, origin: 'rec-1' }, '{"a":1}\n');
      const corrupted = Buffer.from(data);
      const at = corrupted.length - 6; // inside the gzip CRC-32 trailer
      corrupted.writeUInt8(corrupted.readUInt8(at) ^ 0xff, at);
      const truncated = data.subarray(0, data.length - 10);
      for (const bytes of [corrupted, truncated]) {
        const decoded = decode(bytes.toString('base64'));
        expect(decoded.kind).to.equal('failed');
        if (decoded.kind === 'failed') expect(decoded.error).to.match(/^re-ingested record/);
      }
    });

    it('fails an envelope whose header is not a valid header', () => {
      const magic = encodeEnvelope({ v: 1, n: 0, origin: 'x' }, '').subarray(0, 5);
      for (const content of [
        'no newline at all',
        'not json\n{"a":1}\n',
        '{"v":2,"n":1,"origin":"x"}\n',
        '{"v":1,"n":-1,"origin":"x"}\n',
        '{"v":1,"n":1,"origin":"x","pk":null}\n',
      ]) {
        const decoded = decode(Buffer.concat([magic, gzipSync(content)]).toString('base64'));
        expect(decoded.kind, content).to.equal('failed');
      }
    });
  });

  it('never throws, whatever the data', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 100 }),
          fc.base64String({ maxLength: 100 }),
          fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b).toString('base64')),
          fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.concat([Buffer.from([0x1f, 0x8b]), b]).toString('base64')),
          fc.json({ maxDepth: 3 }).map((j) => plainData(j)),
          fc.json({ maxDepth: 3 }).map((j) => gzipBase64(j)),
        ),
        (data) => {
          const decoded = decodeRecord(data, newDecompressionBudget(4096, 16384));
          expect(['events', 'control', 'reingested', 'failed']).to.include(decoded.kind);
        },
      ),
      { numRuns: 200 },
    );
  });
});

function gzipSizeOf(record: string): number {
  const budget = newDecompressionBudget();
  const before = budget.remaining;
  decodeRecord(record, budget);
  return before - budget.remaining;
}
