import { describe, expect, it } from 'vitest';
import {
  canonicalTimeZone,
  formatLocal,
  instantAt,
  isTimeZone,
  localTime,
  nextOpening,
  openWindowAt,
  parseClockTime,
  parseDailyWindow,
  sendableFrom,
  timeZoneOr,
  utcOffsetMs,
  windowEndAt,
  type DailyWindow,
} from '../../src/core/local-time.js';

// Local time over the time zone database, at the daylight-saving changes of 2027 (the dates and
// instants below are what the tz database says; test/property/local-time.property.test.ts checks
// the same rules against minute-by-minute scans).

const utc = (text: string) => Date.parse(text);
const HOUR = 3_600_000;
const window = (written: { days?: string[]; start: string; end: string }): DailyWindow => parseDailyWindow(written)!;

describe('time zones', () => {
  it('knows IANA zones in any letter case, and nothing else', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('europe/berlin')).toBe(true);
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(isTimeZone('UTC')).toBe(true);
    for (const bad of ['Mars/Olympus', '', 'Europe/Berlin ', '+02:00', null, undefined])
      expect(isTimeZone(bad)).toBe(false);
  });

  it('falls back for a missing or unknown zone', () => {
    expect(timeZoneOr('America/New_York', 'UTC')).toBe('America/New_York');
    expect(timeZoneOr('Mars/Olympus', 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(timeZoneOr(null, 'Europe/Berlin')).toBe('Europe/Berlin');
  });
});

describe('localTime and utcOffsetMs', () => {
  it('reads the wall clock on both sides of a change', () => {
    expect(localTime(utc('2027-03-28T00:59:30Z'), 'Europe/Berlin')).toEqual({
      year: 2027,
      month: 3,
      day: 28,
      hour: 1,
      minute: 59,
      second: 30,
      weekday: 'sun',
    });
    expect(localTime(utc('2027-03-28T01:00:00Z'), 'Europe/Berlin')).toMatchObject({ hour: 3, minute: 0 });
    expect(utcOffsetMs(utc('2027-03-28T00:59:59Z'), 'Europe/Berlin')).toBe(HOUR);
    expect(utcOffsetMs(utc('2027-03-28T01:00:00Z'), 'Europe/Berlin')).toBe(2 * HOUR);
    expect(utcOffsetMs(utc('2027-04-03T15:00:00Z'), 'Australia/Lord_Howe')).toBe(10.5 * HOUR);
  });
});

describe('instantAt', () => {
  it('maps a time in the spring-forward gap to the first instant after the gap', () => {
    // Berlin: 02:00 CET → 03:00 CEST at 01:00Z.
    expect(instantAt({ year: 2027, month: 3, day: 28 }, 2 * 60 + 30, 'Europe/Berlin')).toBe(utc('2027-03-28T01:00Z'));
    expect(instantAt({ year: 2027, month: 3, day: 28 }, 2 * 60, 'Europe/Berlin')).toBe(utc('2027-03-28T01:00Z'));
    expect(instantAt({ year: 2027, month: 3, day: 28 }, 3 * 60, 'Europe/Berlin')).toBe(utc('2027-03-28T01:00Z'));
    expect(instantAt({ year: 2027, month: 3, day: 28 }, 119, 'Europe/Berlin')).toBe(utc('2027-03-28T00:59Z'));
    // New York: 02:00 EST → 03:00 EDT at 07:00Z.
    expect(instantAt({ year: 2027, month: 3, day: 14 }, 2 * 60 + 30, 'America/New_York')).toBe(
      utc('2027-03-14T07:00Z'),
    );
    // Sydney: 02:00 AEST → 03:00 AEDT at 16:00Z the day before.
    expect(instantAt({ year: 2027, month: 10, day: 3 }, 2 * 60 + 30, 'Australia/Sydney')).toBe(
      utc('2027-10-02T16:00Z'),
    );
    // Lord Howe moves half an hour: 02:00 → 02:30.
    expect(instantAt({ year: 2027, month: 10, day: 3 }, 2 * 60 + 15, 'Australia/Lord_Howe')).toBe(
      utc('2027-10-02T15:30Z'),
    );
    // Santiago skips midnight: 00:00 → 01:00.
    expect(instantAt({ year: 2027, month: 9, day: 5 }, 30, 'America/Santiago')).toBe(utc('2027-09-05T04:00Z'));
  });

  it('maps a time that happens twice to its first occurrence only', () => {
    // Berlin: 03:00 CEST → 02:00 CET at 01:00Z; 02:30 is 00:30Z (CEST) and 01:30Z (CET).
    expect(instantAt({ year: 2027, month: 10, day: 31 }, 2 * 60 + 30, 'Europe/Berlin')).toBe(utc('2027-10-31T00:30Z'));
    // New York: 01:30 EDT (05:30Z), not 01:30 EST (06:30Z).
    expect(instantAt({ year: 2027, month: 11, day: 7 }, 90, 'America/New_York')).toBe(utc('2027-11-07T05:30Z'));
    // Sydney: 02:30 AEDT.
    expect(instantAt({ year: 2027, month: 4, day: 4 }, 2 * 60 + 30, 'Australia/Sydney')).toBe(utc('2027-04-03T15:30Z'));
    // Santiago repeats 23:00–24:00 on Saturday: 23:30 at -03.
    expect(instantAt({ year: 2027, month: 4, day: 3 }, 23 * 60 + 30, 'America/Santiago')).toBe(
      utc('2027-04-04T02:30Z'),
    );
  });

  it('reads plain days plainly, 24:00 as the next midnight', () => {
    expect(instantAt({ year: 2027, month: 7, day: 1 }, 9 * 60, 'Europe/Berlin')).toBe(utc('2027-07-01T07:00Z'));
    expect(instantAt({ year: 2027, month: 12, day: 31 }, 1440, 'UTC')).toBe(utc('2028-01-01T00:00Z'));
    expect(instantAt({ year: 2027, month: 1, day: 15 }, 9 * 60, 'Asia/Kolkata')).toBe(utc('2027-01-15T03:30Z'));
  });
});

describe('formatLocal', () => {
  it('writes the local time with its offset', () => {
    expect(formatLocal(utc('2027-03-29T07:00Z'), 'Europe/Berlin')).toBe('2027-03-29T09:00+02:00');
    expect(formatLocal(utc('2027-03-15T13:00Z'), 'America/New_York')).toBe('2027-03-15T09:00-04:00');
    expect(formatLocal(utc('2027-04-05T22:30:15Z'), 'Australia/Lord_Howe')).toBe('2027-04-06T09:00:15+10:30');
  });
});

describe('parseClockTime', () => {
  it('reads HH:MM, and 24:00 only as an end', () => {
    expect(parseClockTime('00:00')).toBe(0);
    expect(parseClockTime('09:05')).toBe(545);
    expect(parseClockTime('23:59')).toBe(1439);
    expect(parseClockTime('24:00')).toBeUndefined();
    expect(parseClockTime('24:00', { end: true })).toBe(1440);
    for (const bad of ['9:00', '24:01', '23:60', '12:00:00', ' 09:00', 'noon']) {
      expect(parseClockTime(bad, { end: true })).toBeUndefined();
    }
  });
});

describe('daily windows', () => {
  const office = window({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00' });
  const nights = window({ start: '22:00', end: '08:00' });

  it('waits from a Saturday evening to Monday 09:00, across the spring change', () => {
    // Saturday 2027-03-27 20:00 CET; Berlin moves to CEST on Sunday.
    const saturday = utc('2027-03-27T19:00Z');
    expect(openWindowAt(saturday, office, 'Europe/Berlin')).toBeUndefined();
    expect(sendableFrom(saturday, office, 'Europe/Berlin')).toBe(utc('2027-03-29T07:00Z'));
    // New York changes two weeks earlier: Saturday 2027-03-13 20:00 EST to Monday 09:00 EDT.
    expect(sendableFrom(utc('2027-03-14T01:00Z'), office, 'America/New_York')).toBe(utc('2027-03-15T13:00Z'));
  });

  it('is open from start up to (not at) end', () => {
    const w = window({ days: ['fri'], start: '09:00', end: '18:00' });
    expect(openWindowAt(utc('2027-03-26T08:00Z'), w, 'Europe/Berlin')).toEqual({
      start: utc('2027-03-26T08:00Z'),
      end: utc('2027-03-26T17:00Z'),
    });
    expect(sendableFrom(utc('2027-03-26T16:59Z'), w, 'Europe/Berlin')).toBe(utc('2027-03-26T16:59Z'));
    expect(sendableFrom(utc('2027-03-26T17:00Z'), w, 'Europe/Berlin')).toBe(utc('2027-04-02T07:00Z'));
  });

  it('crosses midnight, and ends an hour early on the spring night', () => {
    // 22:00 CET Saturday to 08:00 CEST Sunday: nine hours.
    expect(windowEndAt(utc('2027-03-27T22:00Z'), nights, 'Europe/Berlin')).toBe(utc('2027-03-28T06:00Z'));
    // 22:00 EDT Saturday to 08:00 EST Sunday: eleven hours.
    expect(windowEndAt(utc('2027-11-07T03:00Z'), nights, 'America/New_York')).toBe(utc('2027-11-07T13:00Z'));
    expect(windowEndAt(utc('2027-11-07T14:00Z'), nights, 'America/New_York')).toBeUndefined();
  });

  it('names the day a night window opens on', () => {
    const fridayNight = window({ days: ['fri'], start: '22:00', end: '08:00' });
    expect(openWindowAt(utc('2027-06-05T01:00Z'), fridayNight, 'Europe/Berlin')).toBeDefined(); // Sat 03:00
    expect(openWindowAt(utc('2027-06-05T21:00Z'), fridayNight, 'Europe/Berlin')).toBeUndefined(); // Sat 23:00
  });

  it('opens at the end of a gap, and only once in an hour that happens twice', () => {
    const early = window({ start: '02:30', end: '02:45' });
    const later = window({ start: '02:30', end: '03:30' });
    // Spring: 02:30 does not exist; a window to 03:30 opens at 03:00 CEST, the end of the gap.
    expect(nextOpening(utc('2027-03-27T12:00Z'), later, 'Europe/Berlin')).toBe(utc('2027-03-28T01:00Z'));
    // One that ends inside the gap (02:45 is 03:00 too) does not open that day at all.
    expect(nextOpening(utc('2027-03-27T12:00Z'), early, 'Europe/Berlin')).toBe(utc('2027-03-29T00:30Z'));
    // Autumn: open 02:30–02:45 CEST; at 02:35 CET (the second pass) it is closed until the next day.
    expect(openWindowAt(utc('2027-10-31T00:35Z'), early, 'Europe/Berlin')).toBeDefined();
    expect(openWindowAt(utc('2027-10-31T01:35Z'), early, 'Europe/Berlin')).toBeUndefined();
    expect(nextOpening(utc('2027-10-31T00:35Z'), early, 'Europe/Berlin')).toBe(utc('2027-11-01T01:30Z'));
  });

  it('reads 00:00 to 24:00 as a whole day, and start = end as never', () => {
    const weekend = window({ days: ['sat', 'sun'], start: '00:00', end: '24:00' });
    // Saturday 12:00 CET: open until Monday 00:00 CEST (the two days read as one stretch).
    expect(windowEndAt(utc('2027-03-27T11:00Z'), weekend, 'Europe/Berlin')).toBe(utc('2027-03-28T22:00Z'));
    const never = window({ start: '10:00', end: '10:00' });
    expect(openWindowAt(utc('2027-03-27T09:30Z'), never, 'UTC')).toBeUndefined();
    expect(nextOpening(utc('2027-03-27T09:30Z'), never, 'UTC')).toBeUndefined();
  });

  it('stops following a window that never closes after a week', () => {
    const always = window({ start: '00:00', end: '24:00' });
    const now = utc('2027-03-27T11:00Z');
    const end = windowEndAt(now, always, 'UTC')!;
    expect(end).toBeGreaterThan(now + 6 * 24 * HOUR);
    expect(end).toBeLessThanOrEqual(now + 10 * 24 * HOUR);
  });

  it('refuses malformed windows', () => {
    expect(parseDailyWindow({ start: '9:00', end: '18:00' })).toBeUndefined();
    expect(parseDailyWindow({ start: '24:00', end: '18:00' })).toBeUndefined();
    expect(parseDailyWindow({ days: ['monday'], start: '09:00', end: '18:00' })).toBeUndefined();
  });
});
