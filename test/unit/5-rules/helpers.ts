/** Shared test helpers for the rules stage: fixtures and hand-built enrichments. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudTrailEvent, Enrichment, Geo, Reputation, SourceKind } from '../../../src/model.ts';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'cloudtrail');

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** A fresh copy of a fixture event (tests may modify it). */
export function fixture(name: string): CloudTrailEvent & Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, name.endsWith('.json') ? name : `${name}.json`), 'utf8')) as CloudTrailEvent &
    Record<string, unknown>;
}

export interface SourceSpec {
  kind?: SourceKind;
  ip?: string;
  geo?: Geo;
  reputation?: Reputation;
  as?: { number?: number; organization?: string };
}

/** The enrichment the lookup stage would produce for an event's sourceIPAddress. */
export function enrichmentFor(event: CloudTrailEvent, spec: SourceSpec = {}): Enrichment {
  const address = typeof event.sourceIPAddress === 'string' ? event.sourceIPAddress : undefined;
  const kind: SourceKind =
    spec.kind ??
    (address === undefined
      ? 'missing'
      : address === 'AWS Internal'
        ? 'aws-internal'
        : address.endsWith('.amazonaws.com')
          ? 'aws-service'
          : /^[\d.]+$|:/.test(address)
            ? 'public'
            : 'invalid');
  const ip = spec.ip ?? (kind === 'public' || kind === 'private' || kind === 'reserved' ? address : undefined);
  return {
    version: 1,
    status: 'complete',
    source: {
      ...(address !== undefined ? { address } : {}),
      kind,
      ...(ip !== undefined ? { ip, ipVersion: ip.includes(':') ? 6 : 4 } : {}),
      ...(spec.geo ? { geo: spec.geo } : {}),
      ...(spec.as ? { as: spec.as } : {}),
      ...(spec.reputation ? { reputation: spec.reputation } : {}),
    },
  };
}

export const US: Geo = {
  countryCode: 'US',
  countryName: 'United States',
  region: 'California',
  city: 'San Jose',
  timezone: 'America/Los_Angeles',
};
export const GB: Geo = { countryCode: 'GB', countryName: 'United Kingdom', region: 'England', city: 'Boxford', timezone: 'Europe/London' };
export const RU: Geo = { countryCode: 'RU', countryName: 'Russia', city: 'Moscow', timezone: 'Europe/Moscow' };

/** A minimal valid rules document around the given rules (and watchlists). */
export function doc(rules: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { version: 1, ...extra, rules };
}

/** One rule with sensible defaults around a condition. */
export function rule(when: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'test.rule', description: 'test rule', priority: 'MEDIUM', score: 10, reason: 'matched', when, ...overrides };
}
