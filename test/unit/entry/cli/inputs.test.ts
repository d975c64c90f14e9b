import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { eventTextsOf, readEventTexts } from '../../../../src/entry/cli/inputs.ts';
import { cloudTrailEvent } from '../../../helpers/factories.ts';

async function collect(paths: string[]): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for await (const item of readEventTexts(paths)) out.push(item);
  return out;
}

describe('readEventTexts', () => {
  let dir: string;
  const e = Array.from({ length: 8 }, (_, i) => cloudTrailEvent({ eventName: `Event${i}` }));
  const ndjsonLines = ['{"eventName":"Nd1","n":12345678901234567890}', '{"eventName":"Nd2"}'];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cte-inputs-'));
    await writeFile(join(dir, 'a.json.gz'), gzipSync(JSON.stringify({ Records: [e[0], e[1]] })));
    await writeFile(join(dir, 'b.json'), JSON.stringify(e[2], null, 2));
    await writeFile(join(dir, 'c.json'), JSON.stringify([e[3], e[4]]));
    await writeFile(join(dir, 'd.ndjson'), `${ndjsonLines[0]}\r\n\n${ndjsonLines[1]}\n`);
    await writeFile(join(dir, 'empty.json'), '  \n');
    await writeFile(join(dir, 'notes.txt'), JSON.stringify(e[7]));
    await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'sub', 'deeper', 'f.jsonl'), `${JSON.stringify(e[5])}\n`);
    await writeFile(join(dir, 'sub', 'g.json'), JSON.stringify({ Records: [e[6]] }));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every supported file of a directory tree, recursively and in name order, skipping other files', async () => {
    const items = await collect([dir]);
    expect(items.map((i) => i.file.slice(dir.length + 1))).to.deep.equal([
      'a.json.gz',
      'a.json.gz',
      'b.json',
      'c.json',
      'c.json',
      'd.ndjson',
      'd.ndjson',
      join('sub', 'deeper', 'f.jsonl'),
      join('sub', 'g.json'),
    ]);
    const names = items.map((i) => (JSON.parse(i.text) as { eventName: string }).eventName);
    expect(names).to.deep.equal(['Event0', 'Event1', 'Event2', 'Event3', 'Event4', 'Nd1', 'Nd2', 'Event5', 'Event6']);
  });

  it('reads a gzip CloudTrail log file', async () => {
    const items = await collect([join(dir, 'a.json.gz')]);
    expect(items.map((i) => JSON.parse(i.text))).to.deep.equal([e[0], e[1]]);
  });

  it('reads a pretty-printed single event as one line with the same value', async () => {
    const [item, ...rest] = await collect([join(dir, 'b.json')]);
    expect(rest).to.deep.equal([]);
    expect(item!.text).not.to.match(/[\r\n]/);
    expect(JSON.parse(item!.text)).to.deep.equal(e[2]);
  });

  it('keeps NDJSON lines verbatim', async () => {
    expect((await collect([join(dir, 'd.ndjson')])).map((i) => i.text)).to.deep.equal(ndjsonLines);
  });

  it('reads a file named directly even when its extension is not a known one', async () => {
    const items = await collect([join(dir, 'notes.txt')]);
    expect(items.map((i) => JSON.parse(i.text))).to.deep.equal([e[7]]);
  });

  it('reads several paths in the order given', async () => {
    const items = await collect([join(dir, 'sub', 'g.json'), join(dir, 'c.json')]);
    expect(items.map((i) => (JSON.parse(i.text) as { eventName: string }).eventName)).to.deep.equal(['Event6', 'Event3', 'Event4']);
  });

  it('rejects a path that does not exist, naming it', async () => {
    let error: unknown;
    try {
      await collect([join(dir, 'missing.json')]);
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.include('missing.json: no such file or directory');
  });
});

describe('eventTextsOf', () => {
  it('returns nothing for empty content', () => {
    expect(eventTextsOf('')).to.deep.equal([]);
    expect(eventTextsOf(' \n\t')).to.deep.equal([]);
  });

  it('splits a CloudTrail file body and a JSON array into events', () => {
    const a = cloudTrailEvent();
    const b = cloudTrailEvent();
    expect(eventTextsOf(JSON.stringify({ Records: [a, b] })).map((t) => JSON.parse(t))).to.deep.equal([a, b]);
    expect(eventTextsOf(JSON.stringify([a, b])).map((t) => JSON.parse(t))).to.deep.equal([a, b]);
  });

  it('keeps a single event text as written, without line breaks', () => {
    const text = '{"eventName":"X","n":12345678901234567890}';
    expect(eventTextsOf(`\n${text}\n`)).to.deep.equal([text]);
    expect(eventTextsOf('{\r\n  "a": 1\r\n}')).to.deep.equal(['{  "a": 1}']);
  });

  it('treats content that is not one JSON value as NDJSON', () => {
    expect(eventTextsOf('{"a":1}\n\n  {"b":2}  \r\n')).to.deep.equal(['{"a":1}', '{"b":2}']);
  });
});
