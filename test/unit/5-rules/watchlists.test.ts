import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RulesValidationError } from '../../../src/errors.ts';
import { compileRules, loadRuleEngine } from '../../../src/5-rules/index.ts';
import type { CloudTrailEvent, Enrichment } from '../../../src/model.ts';
import { doc, enrichmentFor, fixture, GB, rule } from './helpers.ts';

const EMPTY: Enrichment = { version: 1, status: 'complete' };

function ids(engine: ReturnType<typeof compileRules>, event: CloudTrailEvent, enrichment: Enrichment = EMPTY): string[] {
  return engine.evaluate(event, enrichment).risk.reasons.map((r) => r.rule);
}

describe('rules watchlists', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rules-watchlists-'));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('files', () => {
    it('reads cidrs, values and windows files relative to the rules file', () => {
      writeFileSync(join(dir, 'bad.txt'), '# threat intel\n\n185.220.101.0/24   # tor exits\n2a0b:f4c0::/32\n');
      writeFileSync(join(dir, 'users.txt'), 'Alice\nBob # on call\n');
      writeFileSync(
        join(dir, 'away.yaml'),
        '- principals: ["arn:aws:iam::123456789012:user/Alice"]\n  start: 2026-03-01\n  end: 2026-03-31\n',
      );
      writeFileSync(
        join(dir, 'rules.yaml'),
        [
          'version: 1',
          'watchlists:',
          '  bad: { type: cidrs, file: bad.txt }',
          '  users: { type: values, file: users.txt }',
          '  away: { type: windows, file: away.yaml }',
          'rules:',
          '  - { id: bad, description: d, priority: HIGH, score: 10, reason: r, when: { field: sourceIPAddress, inWatchlist: bad } }',
          '  - { id: user, description: d, priority: LOW, score: 1, reason: r, when: { field: userIdentity.userName, inWatchlist: users } }',
          '  - { id: away, description: d, priority: HIGH, score: 10, reason: r, when: { inWindow: away, field: userIdentity.arn } }',
        ].join('\n'),
      );
      const engine = loadRuleEngine({ rulesFile: join(dir, 'rules.yaml'), disabledRules: [] });
      expect(engine.info.watchlists).to.include({ bad: 2, users: 2, away: 1 });
      const tor = { ...fixture('iam-list-users'), sourceIPAddress: '185.220.101.47' };
      expect(ids(engine, tor)).to.deep.equal(['bad', 'away', 'user']);
      expect(ids(engine, { ...tor, sourceIPAddress: '2a0b:f4c0:1::9' })).to.include('bad');
      expect(ids(engine, { ...tor, sourceIPAddress: '185.220.100.1', eventTime: '2026-04-01T00:00:00Z' })).to.deep.equal(['user']);
    });

    it('names the watchlist and line of a bad entry in a file', () => {
      writeFileSync(join(dir, 'broken.txt'), '10.0.0.0/8\n# fine\nnot-an-ip\n');
      const d = doc([], { watchlists: { trusted: { type: 'cidrs', file: 'broken.txt' } } });
      expect(() => compileRules(d, { source: 'r.yaml', baseDir: dir })).to.throw(
        RulesValidationError,
        'r.yaml: watchlist "trusted" field "file line 3" "not-an-ip" is not an IP address or CIDR block',
      );
    });

    it('names the watchlist of a missing file', () => {
      const d = doc([], { watchlists: { trusted: { type: 'cidrs', file: 'nope.txt' } } });
      expect(() => compileRules(d, { source: 'r.yaml', baseDir: dir })).to.throw(
        RulesValidationError,
        /watchlist "trusted" field "file": cannot read .*nope\.txt/,
      );
    });

    it('uses an injected reader for every file', () => {
      const read: string[] = [];
      const d = doc([], {
        watchlists: { a: { type: 'values', file: 'a.txt' }, b: { type: 'cidrs', file: '/abs/b.txt', entries: ['10.0.0.1'] } },
      });
      const engine = compileRules(d, {
        baseDir: '/rules',
        readFile: (p) => {
          read.push(p);
          return '1.2.3.4\n';
        },
      });
      expect(read).to.deep.equal(['/rules/a.txt', '/abs/b.txt']);
      expect(engine.info.watchlists).to.include({ a: 1, b: 2 });
    });
  });

  describe('known-bad and trusted CIDRs', () => {
    it('handles a large list by prefix, not by scanning', () => {
      const entries: string[] = [];
      for (let i = 0; i < 20_000; i++) entries.push(`45.${(i >> 8) & 255}.${i & 255}.${i % 7}`);
      entries.push('100.64.0.0/10', '2001:67c:2e8::/48');
      const engine = compileRules(
        doc([rule({ field: 'sourceIPAddress', inWatchlist: 'bad' }, { id: 'bad' })], { watchlists: { bad: { type: 'cidrs', entries } } }),
      );
      expect(engine.info.watchlists.bad).to.equal(20_002);
      const hit = (ip: string) => ids(engine, { sourceIPAddress: ip }).length === 1;
      expect(hit(entries[5000]!)).to.equal(true); // 45.19.136.2
      expect(hit('45.19.136.3')).to.equal(false);
      expect(hit('100.100.100.100')).to.equal(true);
      expect(hit('2001:67c:2e8::1')).to.equal(true);
      expect(hit('8.8.8.8')).to.equal(false);
    });

    it('matches exactly the listed addresses and blocks', () => {
      const entries = ['45.0.1.1', '100.64.0.0/10', '2001:67c:2e8::/48', '::ffff:192.0.2.0/120'];
      const engine = compileRules(
        doc([rule({ field: 'sourceIPAddress', inWatchlist: 'bad' }, { id: 'bad' })], { watchlists: { bad: { type: 'cidrs', entries } } }),
      );
      const hit = (ip: string) => ids(engine, { sourceIPAddress: ip }).length === 1;
      expect(hit('45.0.1.1')).to.equal(true);
      expect(hit('45.0.1.2')).to.equal(false);
      expect(hit('100.64.0.0')).to.equal(true);
      expect(hit('100.127.255.255')).to.equal(true);
      expect(hit('100.128.0.0')).to.equal(false);
      expect(hit('2001:67c:2e8:22::c100:68b')).to.equal(true);
      expect(hit('2001:67c:2e9::1')).to.equal(false);
      expect(hit('192.0.2.77')).to.equal(true);
      expect(hit('::ffff:45.0.1.1')).to.equal(true);
      expect(hit('045.0.1.1')).to.equal(false); // not a strict dotted quad
      expect(hit('AWS Internal')).to.equal(false);
    });
  });

  describe('allowed countries', () => {
    const location = doc([
      rule({ not: { field: 'enrichment.source.geo.countryCode', inWatchlist: 'allowedCountries' } }, { id: 'abroad' }),
    ]);
    const login = fixture('console-login-success-no-mfa');
    const fromGb = enrichmentFor(login, { geo: GB });

    it('defaults to US when the file has no allowedCountries list', () => {
      expect(ids(compileRules(location), login, fromGb)).to.deep.equal(['abroad']);
      expect(compileRules(location).info.watchlists.allowedCountries).to.equal(1);
    });

    it('is replaced by ALLOWED_COUNTRIES (options.allowedCountries)', () => {
      expect(ids(compileRules(location, { allowedCountries: ['US', 'GB'] }), login, fromGb)).to.deep.equal([]);
    });

    it('keeps the file list when ALLOWED_COUNTRIES is unset, case-insensitively', () => {
      const withList = { ...location, watchlists: { allowedCountries: { type: 'values', ignoreCase: true, entries: ['us', 'gb'] } } };
      expect(ids(compileRules(withList), login, fromGb)).to.deep.equal([]);
      expect(ids(compileRules(withList, { allowedCountries: ['US'] }), login, fromGb)).to.deep.equal(['abroad']);
    });

    it('must be a values list', () => {
      const wrong = { ...location, watchlists: { allowedCountries: { type: 'cidrs', entries: [] } } };
      expect(() => compileRules(wrong)).to.throw(RulesValidationError, /watchlist "allowedCountries" field "type" must be "values"/);
    });
  });

  describe('windows', () => {
    const away = (entries: unknown[], timezone?: string) =>
      compileRules(
        doc([rule({ inWindow: 'away', field: 'userIdentity.arn' }, { id: 'away' })], {
          watchlists: { away: { type: 'windows', entries } },
        }),
        timezone ? { timezone } : {},
      );
    const alice = (eventTime: string): CloudTrailEvent => ({ eventTime, userIdentity: { arn: 'arn:aws:iam::123456789012:user/Alice' } });
    const vacation = [{ principals: ['arn:aws:iam::123456789012:user/alice'], start: '2026-12-21', end: '2026-12-24' }];

    it('covers whole local days for date-only start and end (end inclusive)', () => {
      const engine = away(vacation);
      expect(ids(engine, alice('2026-12-20T23:59:59Z'))).to.deep.equal([]);
      expect(ids(engine, alice('2026-12-21T00:00:00Z'))).to.deep.equal(['away']);
      expect(ids(engine, alice('2026-12-24T23:59:59Z'))).to.deep.equal(['away']);
      expect(ids(engine, alice('2026-12-25T00:00:00Z'))).to.deep.equal([]);
    });

    it('reads date-only windows as local days in the configured timezone', () => {
      const engine = away(vacation, 'Asia/Tokyo'); // UTC+9: 21 Dec 00:00 JST = 20 Dec 15:00 UTC
      expect(ids(engine, alice('2026-12-20T14:59:59Z'))).to.deep.equal([]);
      expect(ids(engine, alice('2026-12-20T15:00:00Z'))).to.deep.equal(['away']);
      expect(ids(engine, alice('2026-12-24T14:59:59Z'))).to.deep.equal(['away']);
      expect(ids(engine, alice('2026-12-24T15:00:00Z'))).to.deep.equal([]);
    });

    it('matches principals case-insensitively and with * wildcards', () => {
      const engine = away([
        {
          principals: ['arn:aws:sts::*:assumed-role/AWSReservedSSO_*/alice@example.com'],
          start: '2026-12-21T08:00:00Z',
          end: '2026-12-21T09:00:00Z',
        },
      ]);
      const sso = {
        eventTime: '2026-12-21T08:30:00Z',
        userIdentity: { arn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123/Alice@Example.com' },
      };
      expect(ids(engine, sso)).to.deep.equal(['away']);
      expect(
        ids(engine, {
          ...sso,
          userIdentity: { arn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123/mallory@example.com' },
        }),
      ).to.deep.equal([]);
      expect(ids(engine, { ...sso, eventTime: '2026-12-21T09:00:00Z' })).to.deep.equal([]); // end is exclusive for date-times
    });

    it('supports recurring maintenance windows that wrap midnight', () => {
      const maintenance = compileRules(
        doc([rule({ inWindow: 'maint' }, { id: 'maint' })], {
          watchlists: { maint: { type: 'windows', entries: [{ days: ['Sat'], timeOfDay: { from: '22:00', to: '02:00' } }] } },
        }),
      );
      const inside = (t: string) => ids(maintenance, { eventTime: t }).length === 1;
      expect(inside('2026-03-14T21:59:00Z')).to.equal(false); // Saturday, before
      expect(inside('2026-03-14T22:00:00Z')).to.equal(true);
      expect(inside('2026-03-14T01:30:00Z')).to.equal(true); // Saturday early morning also matches the clock range
      expect(inside('2026-03-15T01:30:00Z')).to.equal(false); // Sunday: the day is checked on the local date of the event
    });

    it('ignores principal-bound windows when the condition has no field, and time-only windows match anyone', () => {
      const d = doc([rule({ inWindow: 'w' }, { id: 'w' })], {
        watchlists: { w: { type: 'windows', entries: [{ principals: ['x'], start: '2026-01-01', end: '2026-12-31' }] } },
      });
      expect(ids(compileRules(d), { eventTime: '2026-06-01T00:00:00Z' })).to.deep.equal([]);
    });
  });
});
