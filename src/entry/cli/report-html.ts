/**
 * `out/report.html`: one self-contained page about a local run (inline SVG and CSS, no script, no fetch):
 * a world map of source locations, events by priority over time, the top rules, principals, countries and
 * networks, and the CRITICAL/HIGH events with their reasons. Every value that comes from an event is
 * HTML-escaped: event fields are attacker-controlled text.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const PRIORITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
const COLOURS: Record<string, string> = { CRITICAL: '#b3001b', HIGH: '#e8590c', MEDIUM: '#f2c14e', LOW: '#7aa6c2', NONE: '#c8c8c8' };
/** The table lists at most this many CRITICAL/HIGH events (the page stays small; the count says how many exist). */
export const MAX_TABLE_ROWS = 1000;

interface Line {
  eventTime?: unknown;
  eventName?: unknown;
  eventSource?: unknown;
  sourceIPAddress?: unknown;
  userIdentity?: { arn?: unknown; type?: unknown };
  enrichment?: {
    priority?: string;
    source?: {
      ip?: string;
      geo?: { countryCode?: string; latitude?: number; longitude?: number; city?: string };
      as?: { number?: number; organization?: string };
    };
    risk?: { score?: number; reasons?: { rule?: string; priority?: string; detail?: string }[] };
  };
}

export interface ReportData {
  readonly events: number;
  readonly byPriority: Record<string, number>;
  /** Per hour (yyyy-MM-ddTHH), events per priority. */
  readonly timeline: [string, Record<string, number>][];
  readonly locations: { lat: number; lon: number; label: string; count: number }[];
  readonly topRules: [string, number][];
  readonly topPrincipals: [string, number][];
  readonly topCountries: [string, number][];
  readonly topNetworks: [string, number][];
  readonly alerts: {
    time: string;
    priority: string;
    score: number;
    event: string;
    principal: string;
    source: string;
    country: string;
    reasons: string;
  }[];
  readonly alertCount: number;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
const top = (m: Map<string, number>, n = 10): [string, number][] =>
  [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
const bump = (m: Map<string, number>, k: string | undefined) => {
  if (k !== undefined && k !== '') m.set(k, (m.get(k) ?? 0) + 1);
};

/** Aggregates the delivered NDJSON lines (one enriched event each). */
export function reportData(lines: Iterable<string>): ReportData {
  const byPriority: Record<string, number> = {};
  const timeline = new Map<string, Record<string, number>>();
  const locations = new Map<string, { lat: number; lon: number; label: string; count: number }>();
  const rules = new Map<string, number>();
  const principals = new Map<string, number>();
  const countries = new Map<string, number>();
  const networks = new Map<string, number>();
  const alerts: ReportData['alerts'][number][] = [];
  let events = 0;
  let alertCount = 0;
  for (const text of lines) {
    if (text === '') continue;
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      continue;
    }
    const e = line.enrichment ?? {};
    events++;
    const priority = e.priority ?? 'NONE';
    byPriority[priority] = (byPriority[priority] ?? 0) + 1;
    const time = str(line.eventTime);
    if (/^\d{4}-\d{2}-\d{2}T\d{2}/.test(time)) {
      const hour = time.slice(0, 13);
      const bucket = timeline.get(hour) ?? {};
      bucket[priority] = (bucket[priority] ?? 0) + 1;
      timeline.set(hour, bucket);
    }
    const geo = e.source?.geo;
    if (typeof geo?.latitude === 'number' && typeof geo.longitude === 'number') {
      const key = `${geo.latitude.toFixed(1)},${geo.longitude.toFixed(1)}`;
      const loc = locations.get(key) ?? {
        lat: geo.latitude,
        lon: geo.longitude,
        label: [geo.city, geo.countryCode].filter(Boolean).join(', '),
        count: 0,
      };
      loc.count++;
      locations.set(key, loc);
    }
    for (const reason of e.risk?.reasons ?? []) bump(rules, reason.rule);
    bump(principals, str(line.userIdentity?.arn) || undefined);
    bump(countries, geo?.countryCode);
    const as = e.source?.as;
    if (typeof as?.number === 'number') bump(networks, `AS${as.number}${as.organization !== undefined ? ` ${as.organization}` : ''}`);
    if (priority === 'CRITICAL' || priority === 'HIGH') {
      alertCount++;
      alerts.push({
        time,
        priority,
        score: e.risk?.score ?? 0,
        event: `${str(line.eventSource).replace('.amazonaws.com', '')}:${str(line.eventName)}`,
        principal: str(line.userIdentity?.arn) || str(line.userIdentity?.type),
        source: str(line.sourceIPAddress),
        country: geo?.countryCode ?? '',
        reasons: (e.risk?.reasons ?? []).map((r) => `${r.rule ?? ''} (${r.priority ?? ''}): ${r.detail ?? ''}`).join('\n'),
      });
    }
  }
  const rank = (p: string) => PRIORITIES.indexOf(p as (typeof PRIORITIES)[number]);
  alerts.sort((a, b) => rank(a.priority) - rank(b.priority) || b.score - a.score || (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  return {
    events,
    byPriority,
    timeline: [...timeline].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    locations: [...locations.values()].sort((a, b) => b.count - a.count),
    topRules: top(rules),
    topPrincipals: top(principals),
    topCountries: top(countries),
    topNetworks: top(networks),
    alerts: alerts.slice(0, MAX_TABLE_ROWS),
    alertCount,
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Rough continent outlines (lon, lat), enough to place the dots; no map data is fetched. */
const CONTINENTS: [number, number][][] = [
  [
    [-168, 66],
    [-140, 70],
    [-95, 72],
    [-78, 62],
    [-60, 53],
    [-66, 44],
    [-81, 25],
    [-97, 18],
    [-88, 15],
    [-78, 8],
    [-105, 22],
    [-117, 32],
    [-124, 40],
    [-124, 48],
    [-135, 58],
    [-152, 60],
    [-165, 60],
  ],
  [
    [-78, 8],
    [-60, 10],
    [-50, 0],
    [-35, -7],
    [-40, -22],
    [-52, -33],
    [-65, -42],
    [-68, -55],
    [-75, -45],
    [-71, -18],
    [-81, -5],
    [-78, 8],
  ],
  [
    [-10, 36],
    [-9, 43],
    [-2, 47],
    [-5, 58],
    [5, 62],
    [20, 70],
    [30, 70],
    [40, 65],
    [30, 46],
    [28, 41],
    [12, 44],
    [10, 38],
    [-10, 36],
  ],
  [
    [-17, 21],
    [-10, 35],
    [10, 37],
    [32, 31],
    [43, 12],
    [51, 12],
    [40, -15],
    [35, -25],
    [20, -35],
    [12, -18],
    [9, 4],
    [-8, 4],
    [-17, 14],
  ],
  [
    [30, 46],
    [40, 65],
    [60, 70],
    [100, 77],
    [140, 72],
    [180, 67],
    [160, 60],
    [142, 50],
    [130, 35],
    [122, 30],
    [120, 22],
    [108, 20],
    [105, 9],
    [98, 15],
    [92, 22],
    [80, 8],
    [72, 20],
    [57, 25],
    [48, 30],
    [35, 36],
  ],
  [
    [114, -22],
    [114, -34],
    [130, -32],
    [140, -38],
    [150, -37],
    [153, -25],
    [142, -11],
    [131, -12],
    [123, -17],
    [114, -22],
  ],
];

const W = 960;
const H = 480;
const project = (lon: number, lat: number): [number, number] => [((lon + 180) / 360) * W, ((90 - lat) / 180) * H];

function worldMap(data: ReportData): string {
  const land = CONTINENTS.map(
    (poly) =>
      `<polygon points="${poly
        .map(([lon, lat]) =>
          project(lon, lat)
            .map((v) => v.toFixed(1))
            .join(','),
        )
        .join(' ')}"/>`,
  ).join('');
  const grid =
    [-60, -30, 0, 30, 60].map((lat) => `<line x1="0" x2="${W}" y1="${project(0, lat)[1]}" y2="${project(0, lat)[1]}"/>`).join('') +
    [-120, -60, 0, 60, 120].map((lon) => `<line y1="0" y2="${H}" x1="${project(lon, 0)[0]}" x2="${project(lon, 0)[0]}"/>`).join('');
  const max = Math.max(1, ...data.locations.map((l) => l.count));
  const dots = data.locations
    .map((l) => {
      const [x, y] = project(l.lon, l.lat);
      const r = 3 + 12 * Math.sqrt(l.count / max);
      return `<circle class="location" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.toFixed(1)}" data-count="${l.count}"><title>${escapeHtml(l.label)}: ${l.count} events</title></circle>`;
    })
    .join('');
  return `<svg id="world-map" viewBox="0 0 ${W} ${H}" role="img" aria-label="source locations"><rect width="${W}" height="${H}" fill="#eef3f7"/><g class="grid" stroke="#d5dee6" stroke-width="1">${grid}</g><g fill="#d9d4c7" stroke="#b9b2a0">${land}</g><g fill="#b3001b" fill-opacity="0.55" stroke="#fff">${dots}</g></svg>`;
}

function timelineChart(data: ReportData): string {
  const cw = 960;
  const ch = 240;
  const n = Math.max(1, data.timeline.length);
  const barW = (cw - 40) / n;
  const max = Math.max(1, ...data.timeline.map(([, b]) => Object.values(b).reduce((s, v) => s + v, 0)));
  const bars = data.timeline
    .map(([hour, bucket], i) => {
      let y = ch - 20;
      return [...PRIORITIES, 'NONE']
        .filter((p) => (bucket[p] ?? 0) > 0)
        .map((p) => {
          const h = ((bucket[p] ?? 0) / max) * (ch - 40);
          y -= h;
          return `<rect class="bar" data-hour="${hour}" data-priority="${p}" data-count="${bucket[p]}" x="${(30 + i * barW).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[p]}"><title>${hour}:00 ${p}: ${bucket[p]}</title></rect>`;
        })
        .join('');
    })
    .join('');
  const first = data.timeline[0]?.[0] ?? '';
  const last = data.timeline.at(-1)?.[0] ?? '';
  return `<svg id="priority-timeline" viewBox="0 0 ${cw} ${ch}" role="img" aria-label="events by priority over time"><line x1="30" x2="${cw - 10}" y1="${ch - 20}" y2="${ch - 20}" stroke="#999"/><text x="30" y="${ch - 4}" font-size="11">${escapeHtml(first)}:00</text><text x="${cw - 10}" y="${ch - 4}" font-size="11" text-anchor="end">${escapeHtml(last)}:00</text><text x="26" y="24" font-size="11" text-anchor="end">${max}</text>${bars}</svg>`;
}

function topTable(id: string, title: string, rows: [string, number][]): string {
  const body = rows.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td class="n">${v}</td></tr>`).join('');
  return `<section class="top"><h2>${title}</h2><table id="${id}"><tbody>${body || '<tr><td>(none)</td><td></td></tr>'}</tbody></table></section>`;
}

export function renderReport(data: ReportData, title = 'cloudtrail-enricher run'): string {
  const legend = [...PRIORITIES, 'NONE']
    .filter((p) => p !== 'NONE' || (data.byPriority.NONE ?? 0) > 0)
    .map(
      (p) =>
        `<li><span class="swatch" style="background:${COLOURS[p]}"></span>${p === 'NONE' ? 'no verdict' : p} <b class="priority-total" data-priority="${p}">${data.byPriority[p] ?? 0}</b></li>`,
    )
    .join('');
  const alerts = data.alerts
    .map(
      (a) =>
        `<tr class="alert ${a.priority.toLowerCase()}"><td>${escapeHtml(a.time)}</td><td>${a.priority}</td><td class="n">${a.score}</td><td>${escapeHtml(a.event)}</td><td>${escapeHtml(a.principal)}</td><td>${escapeHtml(a.source)}</td><td>${escapeHtml(a.country)}</td><td class="reasons">${escapeHtml(a.reasons)}</td></tr>`,
    )
    .join('');
  const more = data.alertCount > data.alerts.length ? `<p>Showing ${data.alerts.length} of ${data.alertCount}.</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:16px;margin:18px 0 6px}svg{width:100%;height:auto;border:1px solid #ddd}
.tops{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}.reasons{white-space:pre-line;font-size:12px}
ul.legend{list-style:none;padding:0;display:flex;gap:18px}.swatch{display:inline-block;width:12px;height:12px;margin-right:5px}
tr.critical td:nth-child(2){color:#b3001b;font-weight:bold}tr.high td:nth-child(2){color:#e8590c;font-weight:bold}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>Events: <b id="total-events">${data.events}</b> · CRITICAL/HIGH: <b id="alert-count">${data.alertCount}</b> · located sources: <b id="location-count">${data.locations.length}</b></p>
<h2>Source locations</h2>${worldMap(data)}
<h2>Events by priority over time (per hour, UTC)</h2><ul class="legend">${legend}</ul>${timelineChart(data)}
<div class="tops">${topTable('top-rules', 'Top rules', data.topRules)}${topTable('top-principals', 'Top principals', data.topPrincipals)}${topTable('top-countries', 'Top countries', data.topCountries)}${topTable('top-networks', 'Top networks (AS)', data.topNetworks)}</div>
<h2>CRITICAL and HIGH events</h2>${more}
<table id="alerts"><thead><tr><th>time</th><th>priority</th><th>score</th><th>event</th><th>principal</th><th>source</th><th>country</th><th>reasons</th></tr></thead><tbody>${alerts}</tbody></table>
</body></html>
`;
}

/** Writes `<outDir>/report.html` from the delivered bodies (NDJSON) and returns its path. */
export async function writeReport(outDir: string, bodies: Iterable<Buffer>): Promise<string> {
  function* lines(): Generator<string> {
    for (const body of bodies) yield* body.toString('utf8').split('\n');
  }
  const path = join(outDir, 'report.html');
  await writeFile(path, renderReport(reportData(lines())));
  return path;
}
