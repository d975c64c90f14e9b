import { expect } from 'chai';
import fc from 'fast-check';
import { compileRules } from '../../../src/5-rules/index.ts';
import { inClockRange, isValidTimezone, parseEventTime, zonedClock } from '../../../src/5-rules/time.ts';
import type { CloudTrailEvent, Enrichment } from '../../../src/model.ts';
import { doc, rule } from './helpers.ts';

const EMPTY: Enrichment = { version: 1, status: 'complete' };

/** Reference: local wall clock of an instant via Intl, the slow way. */
function intlLocal(timezone: string, epochMs: number): { minuteOfDay: number; dayOfWeek: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    weekday: 'short',
    hour: 'numeric',
    minute: 'numeric',
  }).formatToParts(epochMs);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  return { minuteOfDay: Number(get('hour')) * 60 + Number(get('minute')), dayOfWeek: days.indexOf(get('weekday')) };
}

function at(eventTime: unknown): CloudTrailEvent {
  return { eventName: 'X', eventTime };
}

describe('rules time handling', () => {
  describe('parseEventTime', () => {
    it('reads CloudTrail eventTime, with fractions and offsets', () => {
      expect(parseEventTime('2014-03-06T21:22:54Z')).to.equal(Date.UTC(2014, 2, 6, 21, 22, 54));
      expect(parseEventTime('2014-03-06T21:22:54.123Z')).to.equal(Date.UTC(2014, 2, 6, 21, 22, 54));
      expect(parseEventTime('2014-03-06T23:22:54+02:00')).to.equal(Date.UTC(2014, 2, 6, 21, 22, 54));
      expect(parseEventTime('2014-03-06T16:22:54-05:00')).to.equal(Date.UTC(2014, 2, 6, 21, 22, 54));
    });

    it('rejects anything else, including impossible dates', () => {
      for (const bad of [
        '',
        '2014-03-06',
        '2014-03-06 21:22:54Z',
        '2014-03-06T21:22:54',
        '1394140974',
        'yesterday',
        '2026-02-29T00:00:00Z',
        '2026-04-31T00:00:00Z',
        '2026-13-01T00:00:00Z',
        '2026-01-01T24:00:00Z',
        1394140974000,
        null,
        undefined,
        {},
      ]) {
        expect(parseEventTime(bad), String(bad)).to.be.NaN;
      }
      expect(parseEventTime('2024-02-29T00:00:00Z')).to.equal(Date.UTC(2024, 1, 29));
    });
  });

  describe('zonedClock', () => {
    it('agrees with Intl for any instant in zones with whole, half and quarter-hour offsets and DST', () => {
      const zones = [
        'UTC',
        'Europe/Berlin',
        'America/New_York',
        'Asia/Kolkata',
        'Asia/Kathmandu',
        'Australia/Lord_Howe',
        'America/St_Johns',
        'Pacific/Chatham',
      ];
      fc.assert(
        fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }), (zone, epoch) => {
          const local = zonedClock(zone).local(epoch);
          expect({ ...local }).to.deep.equal(intlLocal(zone, epoch));
        }),
        { numRuns: 2000 },
      );
    });

    it('follows DST transitions to the minute (Europe/Berlin, 29 March 2026)', () => {
      const berlin = zonedClock('Europe/Berlin');
      expect(berlin.local(Date.UTC(2026, 2, 29, 0, 59, 59)).minuteOfDay).to.equal(1 * 60 + 59);
      expect(berlin.local(Date.UTC(2026, 2, 29, 1, 0, 0)).minuteOfDay).to.equal(3 * 60);
      expect(berlin.offsetMinutes(Date.UTC(2026, 9, 25, 0, 59))).to.equal(120);
      expect(berlin.offsetMinutes(Date.UTC(2026, 9, 25, 1, 0))).to.equal(60);
    });

    it('knows valid and invalid zones', () => {
      expect(isValidTimezone('America/Los_Angeles')).to.equal(true);
      expect(isValidTimezone('UTC')).to.equal(true);
      expect(isValidTimezone('Mars/Olympus')).to.equal(false);
      expect(isValidTimezone('')).to.equal(false);
    });

    it('inClockRange is half-open and wraps midnight', () => {
      expect(inClockRange(8 * 60, 8 * 60, 17 * 60)).to.equal(true);
      expect(inClockRange(17 * 60, 8 * 60, 17 * 60)).to.equal(false);
      expect(inClockRange(23 * 60, 22 * 60, 6 * 60)).to.equal(true);
      expect(inClockRange(0, 22 * 60, 6 * 60)).to.equal(true);
      expect(inClockRange(6 * 60, 22 * 60, 6 * 60)).to.equal(false);
      expect(inClockRange(1439, 0, 1440)).to.equal(true);
    });
  });

  describe('time conditions in rules', () => {
    const night = doc([rule({ timeOfDay: { from: '22:00', to: '06:00' } })]);
    const weekend = doc([rule({ dayOfWeek: ['Sat', 'sunday'] })]);
    const fires = (d: unknown, eventTime: unknown, timezone?: string) =>
      compileRules(d, timezone ? { timezone } : {}).evaluate(at(eventTime), EMPTY).risk.reasons.length === 1;

    it('includes the start minute and excludes the end minute, across midnight', () => {
      expect(fires(night, '2026-03-10T21:59:59Z')).to.equal(false);
      expect(fires(night, '2026-03-10T22:00:00Z')).to.equal(true);
      expect(fires(night, '2026-03-10T23:59:59Z')).to.equal(true);
      expect(fires(night, '2026-03-11T00:00:00Z')).to.equal(true);
      expect(fires(night, '2026-03-11T05:59:59Z')).to.equal(true);
      expect(fires(night, '2026-03-11T06:00:00Z')).to.equal(false);
    });

    it('changes day exactly at local midnight', () => {
      expect(fires(weekend, '2026-03-13T23:59:59Z')).to.equal(false); // Friday
      expect(fires(weekend, '2026-03-14T00:00:00Z')).to.equal(true); // Saturday
      expect(fires(weekend, '2026-03-15T23:59:59Z')).to.equal(true); // Sunday
      expect(fires(weekend, '2026-03-16T00:00:00Z')).to.equal(false); // Monday
    });

    it('uses the configured timezone: Saturday 03:30 UTC is Friday 22:30 in New York', () => {
      expect(fires(weekend, '2026-03-14T03:30:00Z')).to.equal(true);
      expect(fires(weekend, '2026-03-14T03:30:00Z', 'America/New_York')).to.equal(false);
      expect(fires(night, '2026-03-14T03:30:00Z', 'America/New_York')).to.equal(true);
      expect(fires(night, '2026-03-14T03:30:00Z', 'Asia/Tokyo')).to.equal(false); // 12:30 in Tokyo
    });

    it('takes the timezone from the file, and RULES_TIMEZONE (options.timezone) over the file', () => {
      const inTokyo = doc([rule({ dayOfWeek: ['Sat'] })], { timezone: 'Asia/Tokyo' });
      expect(fires(inTokyo, '2026-03-13T15:00:00Z')).to.equal(true); // Saturday 00:00 in Tokyo
      expect(fires(inTokyo, '2026-03-13T15:00:00Z', 'UTC')).to.equal(false);
    });

    it('lets a condition name its own timezone', () => {
      const d = doc([rule({ timeOfDay: { from: '09:00', to: '10:00' }, timezone: 'Asia/Kolkata' })]);
      expect(fires(d, '2026-03-10T03:30:00Z')).to.equal(true); // 09:00 IST
      expect(fires(d, '2026-03-10T03:29:59Z')).to.equal(false);
    });

    it('is false for a missing or invalid eventTime (and "not" of it is therefore true)', () => {
      for (const bad of [undefined, '', 'not a date', '2026-02-30T23:00:00Z', 1773180000000]) {
        expect(fires(night, bad), String(bad)).to.equal(false);
        expect(fires(weekend, bad), String(bad)).to.equal(false);
      }
      expect(fires(doc([rule({ not: { timeOfDay: { from: '22:00', to: '06:00' } } })]), 'garbage')).to.equal(true);
    });
  });
});
