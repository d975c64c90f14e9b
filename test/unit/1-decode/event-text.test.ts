import { expect } from 'chai';
import fc from 'fast-check';
import { eventFromParsed, parseEventText } from '../../../src/1-decode/event-text.ts';
import { cloudTrailEvent } from '../../helpers/factories.ts';

describe('parseEventText', () => {
  it('keeps the text of a one-line event exactly as received', () => {
    const text = '{"eventVersion":"1.09","eventName":"X","big":12345678901234567890,"b":1,"a":2,"b":3,"name":"Zoë 🚀"}';
    const item = parseEventText(text);
    expect(item.ok).to.equal(true);
    if (!item.ok) return;
    expect(item.text).to.equal(text);
    expect(item.event.name).to.equal('Zoë 🚀');
  });

  it('removes the line breaks of a pretty-printed event and still parses to the same value', () => {
    const event = cloudTrailEvent();
    const pretty = JSON.stringify(event, null, 2).replace(/\n/g, '\r\n');
    const item = parseEventText(pretty);
    expect(item.ok).to.equal(true);
    if (!item.ok) return;
    expect(item.text).not.to.match(/[\r\n]/);
    expect(JSON.parse(item.text)).to.deep.equal(event);
    expect(item.event).to.deep.equal(event);
  });

  it('reports text that is not JSON, keeping it raw', () => {
    expect(parseEventText('{"eventName": "Describe')).to.deep.equal({
      ok: false,
      raw: '{"eventName": "Describe',
      error: 'message is not valid JSON',
    });
    expect(parseEventText('')).to.deep.include({ ok: false, raw: '' });
  });

  for (const text of ['42', '"a string"', 'null', 'true', '[{"eventName":"X"}]']) {
    it(`reports the JSON value ${text} as not an object, keeping its raw text`, () => {
      expect(parseEventText(text)).to.deep.equal({ ok: false, raw: text, error: 'message is not a JSON object' });
    });
  }

  it('skips an event that already has a top-level enrichment key, keeping it verbatim', () => {
    const text = '{"eventName":"X","enrichment":{"status":"complete"}}';
    const item = parseEventText(text);
    expect(item).to.deep.include({ ok: false, raw: text });
    if (!item.ok) expect(item.error).to.match(/enrichment/);
  });

  it('recognises an enrichment key spelled with an escape sequence', () => {
    expect(parseEventText('{"enrichmen\\u0074":1}').ok).to.equal(false);
  });

  it('accepts an event with a nested enrichment key', () => {
    expect(parseEventText('{"eventName":"X","requestParameters":{"enrichment":1}}').ok).to.equal(true);
  });

  it('keeps a __proto__ key as plain data without polluting Object.prototype', () => {
    const item = parseEventText('{"__proto__":{"polluted":"yes"},"eventName":"X"}');
    expect(item.ok).to.equal(true);
    if (!item.ok) return;
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(Object.hasOwn(item.event, '__proto__')).to.equal(true);
    expect(Object.getPrototypeOf(item.event)).to.equal(Object.prototype);
  });

  it('never throws and keeps any text it cannot accept as raw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.json({ maxDepth: 3 })), (text) => {
        const item = parseEventText(text);
        if (item.ok) {
          expect(item.text).not.to.match(/[\r\n]/);
          expect(JSON.parse(item.text)).to.deep.equal(JSON.parse(text));
        } else {
          expect(item.raw).to.equal(text);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('eventFromParsed', () => {
  it('serialises an already parsed event when no text is given', () => {
    const event = cloudTrailEvent();
    const item = eventFromParsed(event);
    expect(item.ok).to.equal(true);
    if (item.ok) expect(JSON.parse(item.text)).to.deep.equal(event);
  });

  it('reports non-objects with their JSON text as raw', () => {
    expect(eventFromParsed(7)).to.deep.equal({ ok: false, raw: '7', error: 'message is not a JSON object' });
    expect(eventFromParsed(null)).to.deep.include({ ok: false, raw: 'null' });
    expect(eventFromParsed(['x'])).to.deep.include({ ok: false, raw: '["x"]' });
  });
});
