/**
 * out/report.html of a sample run, opened in real headless Chromium (Debian's chromium driven by
 * playwright-core): it renders with the sample's numbers, fetches nothing, and a screenshot is kept under
 * test-artifacts/ (git-ignored).
 */
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { escapeHtml } from '../../../src/entry/cli/report-html.ts';
import { REPO, releaseSampleRun, sampleRun, type SampleRun } from '../../helpers/sample-run.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'test-artifacts');

function counts(values: (string | undefined)[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) if (v !== undefined && v !== '') m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}
const top10 = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 10)
    .map(([k, v]) => [k, String(v)]);

describe('report.html of a local run (headless Chromium)', function () {
  this.timeout(240_000);
  let run: SampleRun;
  let browser: Browser;

  before(async () => {
    run = await sampleRun();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await releaseSampleRun();
  });

  it('names the report in the run summary', () => {
    expect(run.stdout).to.include(join(run.outDir, 'report.html'));
  });

  it('renders the map, the timeline, the top lists and the CRITICAL/HIGH table with the sample numbers, fetching nothing', async () => {
    const file = join(run.outDir, 'report.html');
    await access(file);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    expect(requests.filter((u) => !u.startsWith('file:'))).to.deep.equal([]);

    const docs = run.rows.map((r) => r.doc);
    const priorities = counts(docs.map((d) => d.enrichment.priority as string | undefined));
    expect(await page.textContent('#total-events')).to.equal(String(docs.length));
    for (const p of ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'])
      expect(await page.textContent(`.priority-total[data-priority="${p}"]`), p).to.equal(String(priorities.get(p) ?? 0));
    const alerts = (priorities.get('CRITICAL') ?? 0) + (priorities.get('HIGH') ?? 0);
    expect(await page.textContent('#alert-count')).to.equal(String(alerts));
    expect(await page.locator('#alerts tbody tr').count()).to.equal(Math.min(alerts, 1000));

    // The timeline's bars add up to every event with a time, per priority.
    const bars = await page.$$eval('#priority-timeline rect.bar', (rects) =>
      rects.map((r) => [r.getAttribute('data-priority'), Number(r.getAttribute('data-count')), r.getBoundingClientRect().height]),
    );
    for (const p of ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']) {
      expect(
        bars.filter((b) => b[0] === p).reduce((s, b) => s + (b[1] as number), 0),
        p,
      ).to.equal(priorities.get(p) ?? 0);
    }
    expect(bars.every((b) => (b[2] as number) > 0)).to.equal(true);

    // Map: one dot per located place, sized, with every located event counted.
    const located = docs.filter((d) => typeof d.enrichment.source?.geo?.latitude === 'number');
    const dots = await page.$$eval('#world-map circle.location', (cs) =>
      cs.map((c) => [Number(c.getAttribute('data-count')), c.getBoundingClientRect().width]),
    );
    expect(dots.reduce((s, d) => s + d[0]!, 0)).to.equal(located.length);
    expect(dots.length).to.be.greaterThan(5);
    expect(dots.every((d) => d[1]! > 0)).to.equal(true);

    const table = (id: string) =>
      page.$$eval(`#${id} tbody tr`, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const reasons = docs.flatMap((d) => ((d.enrichment.risk?.reasons ?? []) as { rule: string }[]).map((r) => r.rule));
    expect(await table('top-rules')).to.deep.equal(top10(counts(reasons)));
    expect(await table('top-principals')).to.deep.equal(
      top10(counts(docs.map((d) => (d.userIdentity as { arn?: string } | undefined)?.arn))),
    );
    expect(await table('top-countries')).to.deep.equal(
      top10(counts(docs.map((d) => d.enrichment.source?.geo?.countryCode as string | undefined))),
    );
    const asName = (d: (typeof docs)[number]) => {
      const as = d.enrichment.source?.as as { number?: number; organization?: string } | undefined;
      return as?.number === undefined ? undefined : `AS${as.number}${as.organization !== undefined ? ` ${as.organization}` : ''}`;
    };
    expect(await table('top-networks')).to.deep.equal(top10(counts(docs.map(asName))));

    // Reasons are listed with the events; the first rows are the CRITICAL ones.
    const firstRow = (await table('alerts'))[0]!;
    expect(firstRow[1]).to.equal(priorities.has('CRITICAL') ? 'CRITICAL' : 'HIGH');
    expect(firstRow[7]).to.match(/\(CRITICAL|\(HIGH/);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await access(join(ARTIFACTS, 'report.png'));
    await page.close();
  });

  it('escapes event text, so a forged field cannot inject markup', () => {
    expect(escapeHtml('<script>alert("x")</script>&\'')).to.equal('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  });
});
