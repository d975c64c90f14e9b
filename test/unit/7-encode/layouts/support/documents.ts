/**
 * Every event of the sample (sample/AWSLogs) and of the fixtures (test/fixtures/cloudtrail) enriched through the
 * real core (classify → lookup → the bundled rules → encode) in a given layout. Public addresses get a full
 * answer (geo, AS, reputation, two providers) so every enrichment appears; a few non-events exercise the
 * skipped lines.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseCoreConfig } from '../../../../../src/config/core.ts';
import { eventFromParsed, parseEventText, type EventItem } from '../../../../../src/1-decode/event-text.ts';
import type { IpIntelligence } from '../../../../../src/3-lookup/types.ts';
import { emptyLookupStats } from '../../../../../src/3-lookup/types.ts';
import type { IpIntel } from '../../../../../src/model.ts';
import { emptyEnrichCounters, enrichEventGroups } from '../../../../../src/pipeline/enrich.ts';
import type { OutputLine } from '../../../../../src/8-deliver/plan.ts';

const lineString = (l: OutputLine) => l.text + (l.shared?.toString('utf8') ?? '') + (l.tail ?? '');
import { loadRuleEngine } from '../../../../../src/5-rules/index.ts';
import { parseRulesConfig } from '../../../../../src/5-rules/config.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..', '..');

export async function sourceEvents(): Promise<EventItem[]> {
  const items: EventItem[] = [];
  const fixtures = join(ROOT, 'test', 'fixtures', 'cloudtrail');
  for (const name of (await readdir(fixtures)).sort()) {
    items.push(eventFromParsed(JSON.parse(await readFile(join(fixtures, name), 'utf8'))));
  }
  for (const file of (await readdir(join(ROOT, 'sample', 'AWSLogs'), { recursive: true })).sort()) {
    if (!file.endsWith('.json.gz')) continue;
    const body = JSON.parse(gunzipSync(await readFile(join(ROOT, 'sample', 'AWSLogs', file))).toString('utf8')) as { Records: unknown[] };
    for (const record of body.Records) items.push(eventFromParsed(record, JSON.stringify(record)));
  }
  items.push(parseEventText('not json'), parseEventText('[1,2]'), parseEventText('{"enrichment":{"x":1}}'));
  return items;
}

/** A lookup stage that knows everything about every public IP (deterministic per address). */
export const fullIntel: IpIntelligence = {
  async lookup(ips) {
    const intel = new Map<string, IpIntel>();
    for (const ip of ips) {
      const n = [...ip].reduce((a, c) => (a * 31 + c.charCodeAt(0)) % 1000, 7);
      intel.set(ip, {
        geo: {
          countryCode: 'DE',
          countryName: 'Germany',
          region: 'Hesse',
          city: 'Frankfurt am Main',
          latitude: 50.1 + n / 10_000,
          longitude: 8.68,
          timezone: 'Europe/Berlin',
        },
        as: { number: 64_500 + n, organization: 'Example Networks GmbH' },
        reputation: {
          fraudScore: n % 100,
          proxy: n % 2 === 0,
          vpn: false,
          tor: n % 7 === 0,
          recentAbuse: false,
          abuseConfidence: n % 50,
          verdict: 'suspicious',
        },
        providers: {
          ipqualityscore: { fraud_score: n % 100, proxy: n % 2 === 0 },
          abuseipdb: { abuseConfidenceScore: n % 50, totalReports: 3 },
        },
        complete: true,
      });
    }
    return { intel, stats: { ...emptyLookupStats(), uniqueIps: ips.length } };
  },
};

export async function layoutDocuments(
  env: Record<string, string>,
  items?: EventItem[],
): Promise<{ lines: OutputLine[]; docs: Record<string, unknown>[]; items: EventItem[] }> {
  const events = items ?? (await sourceEvents());
  const config = parseCoreConfig(env);
  const rules = loadRuleEngine(parseRulesConfig({}));
  const [lines] = await enrichEventGroups(
    [{ events, arrival: Date.UTC(2026, 11, 1) }],
    { config, intel: fullIntel, rules },
    Date.now() + 10_000,
    emptyEnrichCounters(),
  );
  return { lines: lines!, docs: lines!.map((l) => JSON.parse(lineString(l)) as Record<string, unknown>), items: events };
}
