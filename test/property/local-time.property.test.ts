import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  instantAt,
  localTime,
  nextOpening,
  nextTimeOfDay,
  openWindowAt,
  WEEKDAYS,
  weekdayOf,
  windowEndAt,
  type CivilDate,
  type DailyWindow,
  type Weekday,
} from '../../src/core/local-time.js';

/**
 * The local-time rules against brute force: the instant of a wall-clock time is found by scanning
 * minute by minute for the first instant whose wall clock reads that time or later (which is, by
 * definition, the first occurrence of a time that happens twice and the end of the gap for one
 * that does not happen), and windows are built from those scans. Instants are drawn around every
 * daylight-saving change of 2027 in zones that move by an hour (north and south), by half an hour
 * (Lord Howe), at midnight (Santiago), by 45-minute offsets (Chatham), and in zones that never move.
 */
const RUNS = 300;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Each zone's changes in 2027 (read from the tz database Node ships), or a plain date. */
const CHANGES: Record<string, string[]> = {
  'Europe/Berlin': ['2027-03-28T01:00Z', '2027-10-31T01:00Z'],
  'America/New_York': ['2027-03-14T07:00Z', '2027-11-07T06:00Z'],
  'Australia/Sydney': ['2027-04-03T16:00Z', '2027-10-02T16:00Z'],
  'Australia/Lord_Howe': ['2027-04-03T15:00Z', '2027-10-02T15:30Z'],
  'America/Santiago': ['2027-04-04T03:00Z', '2027-09-05T04:00Z'],
  'Pacific/Chatham': ['2027-04-03T14:00Z', '2027-09-25T14:00Z'],
  'Asia/Kolkata': ['2027-06-01T00:00Z'],
  UTC: ['2027-06-01T00:00Z'],
};
const ZONES = Object.keys(CHANGES);

/** Wall-clock readings by zone and minute, so scans share their work. */
const readings = new Map<string, Map<number, number>>();

function reading(instant: number, zone: string): number {
  let byMinute = readings.get(zone);
  if (!byMinute) readings.set(zone, (byMinute = new Map()));
  let found = byMinute.get(instant);
  if (found === undefined) {
    const l = localTime(instant, zone);
    found = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
    byMinute.set(instant, found);
  }
  return found;
}

/** The first minute whose wall clock reads `minuteOfDay` on `date` or later: a scan, minute by minute. */
function scannedInstantAt(date: CivilDate, minuteOfDay: number, zone: string): number {
  const target = Date.UTC(date.year, date.month - 1, date.day) + minuteOfDay * MINUTE;
  // Offsets are within -12h..+14h: 15 hours before reads earlier than the target.
  for (let t = target - 15 * HOUR; ; t += MINUTE) {
    if (reading(t, zone) >= target) return t;
  }
}

function scannedOpening(window: DailyWindow, date: CivilDate, zone: string) {
  const opensOn = window.start !== window.end && (!window.days || window.days.includes(weekdayOf(date)));
  if (!opensOn) return undefined;
  const start = scannedInstantAt(date, window.start, zone);
  const end = scannedInstantAt(window.end < window.start ? addDays(date, 1) : date, window.end, zone);
  return start < end ? { start, end } : undefined;
}

function scannedOpenAt(instant: number, window: DailyWindow, zone: string) {
  const today = localTime(instant, zone);
  for (const offset of [-1, 0, 1]) {
    const open = scannedOpening(window, addDays(today, offset), zone);
    if (open && open.start <= instant && instant < open.end) return open;
  }
  return undefined;
}

function scannedNextOpening(instant: number, window: DailyWindow, zone: string): number | undefined {
  const today = localTime(instant, zone);
  let best: number | undefined;
  for (let offset = -1; offset <= 9; offset++) {
    const open = scannedOpening(window, addDays(today, offset), zone);
    if (open && open.start > instant && (best === undefined || open.start < best)) best = open.start;
  }
  return best;
}

/** A zone and a whole minute within a day and a half of one of its changes. */
const aroundAChange = fc.constantFrom(...ZONES).chain((zone) =>
  fc.record({
    zone: fc.constant(zone),
    instant: fc
      .tuple(fc.constantFrom(...CHANGES[zone]!), fc.integer({ min: -36 * 60, max: 36 * 60 }))
      .map(([change, minutes]) => Date.parse(change) + minutes * MINUTE),
  }),
);

const minuteOfDay = fc.integer({ min: 0, max: 1439 });
const dailyWindow: fc.Arbitrary<DailyWindow> = fc
  .record({
    start: minuteOfDay,
    end: fc.integer({ min: 0, max: 1440 }),
    days: fc.option(fc.subarray([...WEEKDAYS] as Weekday[], { minLength: 1 }), { nil: undefined }),
  })
  .map(({ days, ...times }) => (days ? { ...times, days } : times));

describe('instantAt', () => {
  it('is the first minute whose wall clock reads the time or later', () => {
    fc.assert(
      fc.property(aroundAChange, minuteOfDay, ({ zone, instant }, minute) => {
        const date = localTime(instant, zone);
        expect(instantAt(date, minute, zone)).toBe(scannedInstantAt(date, minute, zone));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('daily windows', () => {
  it('are open exactly where the scanned openings say', () => {
    fc.assert(
      fc.property(aroundAChange, dailyWindow, ({ zone, instant }, window) => {
        const open = openWindowAt(instant, window, zone);
        const scanned = scannedOpenAt(instant, window, zone);
        expect(open !== undefined).toBe(scanned !== undefined);
        if (open && scanned) expect(open.end).toBe(scanned.end);
      }),
      { numRuns: RUNS },
    );
  });

  it('open next where the scanned openings say', () => {
    fc.assert(
      fc.property(aroundAChange, dailyWindow, ({ zone, instant }, window) => {
        expect(nextOpening(instant, window, zone)).toBe(scannedNextOpening(instant, window, zone));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('every five minutes across each change', () => {
  // Every edge below (window times, changes, offsets) falls on a multiple of 15 minutes, so steps
  // of five minutes meet each one exactly.
  const scan = (zone: string, change: string, each: (instant: number) => void) => {
    const at = Date.parse(change);
    for (let t = at - 48 * HOUR; t <= at + 48 * HOUR; t += 5 * MINUTE) each(t);
  };

  it.each(ZONES)('%s: a window opens once a day, at its start, and a schedule fires once a day', (zone) => {
    // A night window, and one whose edges fall in the hours the changes skip or repeat.
    const windows: DailyWindow[] = [
      { start: 22 * 60, end: 8 * 60 },
      { start: 2 * 60 + 30, end: 3 * 60 + 30 },
      { start: 23 * 60 + 30, end: 30 },
      { start: 1 * 60 + 45, end: 2 * 60 + 15 },
    ];
    for (const change of CHANGES[zone]!) {
      for (const window of windows) {
        let wasOpen: boolean | undefined;
        const openings: number[] = [];
        scan(zone, change, (t) => {
          const open = openWindowAt(t, window, zone) !== undefined;
          if (open && wasOpen === false) openings.push(t);
          wasOpen = open;
        });
        // Each opening is the start of a day's window, and no day's window opens twice.
        const days = openings.map((t) => {
          const local = localTime(t, zone);
          const date = local.hour * 60 + local.minute >= window.start ? local : addDays(local, -1);
          expect(t).toBe(instantAt(date, window.start, zone));
          return `${date.year}-${date.month}-${date.day}`;
        });
        expect(new Set(days).size).toBe(days.length);
        expect(days.length).toBeGreaterThanOrEqual(3);
        // The end of each opening is where it closes.
        for (const t of openings) expect(openWindowAt(windowEndAt(t, window, zone)!, window, zone)).toBeUndefined();
      }
      for (const at of [2 * 60 + 30, 9 * 60, 0, 23 * 60 + 30]) {
        const fired = new Set<number>();
        scan(zone, change, (t) => fired.add(nextTimeOfDay(t, at, undefined, zone)!));
        const times = [...fired].sort((a, b) => a - b);
        // One firing a day: consecutive ones 23 to 25 hours apart (22.5 to 25.5 where the clock moves
        // half an hour, or less than an hour when the time is in a gap that ends the previous day).
        for (let i = 1; i < times.length; i++) {
          const gap = times[i]! - times[i - 1]!;
          expect(gap).toBeGreaterThanOrEqual(22 * HOUR);
          expect(gap).toBeLessThanOrEqual(26 * HOUR);
        }
        expect(times.length).toBeGreaterThanOrEqual(4);
      }
    }
  });
});
