/**
 * Local time in IANA time zones, as plain functions over `Intl.DateTimeFormat` (the time zone
 * database Node ships with): what a wall clock in a zone reads at an instant, the instant a
 * wall-clock time happens, and daily windows ("weekdays 09:00–18:00", "22:00–08:00") over them.
 *
 * Daylight-saving rules, the same wherever Herald reads a local time:
 * - a local time that does not happen (the hour skipped when clocks go forward) is the first
 *   instant after the gap: 02:30 on the night Berlin goes from 02:00 to 03:00 is 03:00 CEST;
 * - a local time that happens twice (the hour repeated when clocks go back) is its first
 *   occurrence only: 02:30 on the night Berlin goes back from 03:00 to 02:00 is 02:30 CEST, and
 *   never also 02:30 CET. So nothing is sent at a time that does not exist, and nothing twice.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A day of the (proleptic Gregorian) calendar; `month` 1–12. */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** What a wall clock in a zone reads. */
export interface LocalTime extends CivilDate {
  hour: number;
  minute: number;
  second: number;
  weekday: Weekday;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;
/** More than any zone's offset change (Troll moves by two hours) plus the gap it opens. */
const EDGE_SLACK_MS = 4 * 3_600_000;

/** One formatter per zone: building one costs far more than formatting with it. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let found = formatters.get(zone);
  if (!found) {
    // Throws a RangeError for a zone the time zone database does not know.
    found = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size >= 1000) formatters.clear(); // names come from subscribers: keep it bounded
    formatters.set(zone, found);
  }
  return found;
}

/** Names found not to be zones: refusing one costs a thrown error, so each is tried once. */
const unknownZones = new Set<string>();

/** True for a zone the time zone database knows (`Europe/Berlin`, `UTC`; any letter case). */
export function isTimeZone(zone: string | null | undefined): zone is string {
  if (typeof zone !== 'string' || zone === '' || zone.length > 64 || unknownZones.has(zone)) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    if (unknownZones.size >= 1000) unknownZones.clear();
    unknownZones.add(zone);
    return false;
  }
}

/** `zone` when it is a known time zone, else `fallback` (itself checked when it was configured). */
export function timeZoneOr(zone: string | null | undefined, fallback: string): string {
  return isTimeZone(zone) ? zone : fallback;
}

/** The zone's canonical name (`europe/berlin` → `Europe/Berlin`). */
export function canonicalTimeZone(zone: string): string {
  return formatter(zone).resolvedOptions().timeZone;
}

/** What a wall clock in `zone` reads at `instant` (epoch ms). */
export function localTime(instant: number, zone: string): LocalTime {
  const local: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of formatter(zone).formatToParts(instant)) local[part.type] = part.value;
  return {
    year: Number(local.year),
    month: Number(local.month),
    day: Number(local.day),
    hour: Number(local.hour),
    minute: Number(local.minute),
    second: Number(local.second),
    weekday: local.weekday!.toLowerCase().slice(0, 3) as Weekday,
  };
}

/** A wall-clock reading as a number: the epoch ms it would be in UTC. Lets readings be compared. */
function wallOf(date: CivilDate, hour = 0, minute = 0, second = 0): number {
  const at = new Date(0);
  at.setUTCFullYear(date.year, date.month - 1, date.day); // years below 100 stay themselves
  at.setUTCHours(hour, minute, second, 0);
  return at.getTime();
}

function wallAt(instant: number, zone: string): number {
  const local = localTime(instant, zone);
  return wallOf(local, local.hour, local.minute, local.second);
}

/** The zone's offset from UTC at `instant`, in ms (CEST: +7,200,000), to the second. */
export function utcOffsetMs(instant: number, zone: string): number {
  const second = Math.floor(instant / 1000) * 1000;
  return wallAt(second, zone) - second;
}

/** The calendar day `days` after `date` (before, when negative). */
export function addDays(date: CivilDate, days: number): CivilDate {
  const at = new Date(wallOf(date) + days * DAY_MS);
  return { year: at.getUTCFullYear(), month: at.getUTCMonth() + 1, day: at.getUTCDate() };
}

export function weekdayOf(date: CivilDate): Weekday {
  return WEEKDAYS[new Date(wallOf(date)).getUTCDay()]!;
}

/**
 * The instant a wall clock in `zone` reads `minuteOfDay` (0–1440; 1440 is the next day's 00:00)
 * on `date`. In a gap (clocks going forward) it is the first instant after the gap; in an overlap
 * (clocks going back) the first of the two.
 */
export function instantAt(date: CivilDate, minuteOfDay: number, zone: string): number {
  const wall = wallOf(date) + minuteOfDay * MINUTE_MS;
  // The offsets a day either side bound every offset the zone has near this time (the way
  // Temporal finds the instants of a wall time): each gives one candidate, one when they agree
  // (no zone changes twice within two days).
  const before = utcOffsetMs(wall - DAY_MS, zone);
  const after = utcOffsetMs(wall + DAY_MS, zone);
  const candidates = (before === after ? [wall - before] : [wall - before, wall - after]).filter(
    (t) => wallAt(t, zone) === wall,
  );
  if (candidates.length > 0) return Math.min(...candidates);
  // A gap: the wall time is skipped. The first instant after the gap is the transition: the
  // first second whose reading is past `wall`, between the two candidates (wall - after reads
  // before `wall`, wall - before after it).
  let low = Math.min(wall - before, wall - after);
  let high = Math.max(wall - before, wall - after);
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (wallAt(middle, zone) >= wall) high = middle;
    else low = middle;
  }
  return high;
}

/** `2027-03-29T09:00+02:00`: the local time and the offset, to the minute (seconds when not 0). */
export function formatLocal(instant: number, zone: string): string {
  const local = localTime(instant, zone);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const offsetMinutes = Math.round(utcOffsetMs(instant, zone) / MINUTE_MS);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const seconds = local.second === 0 ? '' : `:${pad(local.second)}`;
  return (
    `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}T${pad(local.hour)}:${pad(local.minute)}${seconds}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/**
 * `HH:MM` (24-hour, `00:00`–`23:59`) as minutes of the day; with `end`, `24:00` too (the end of
 * the day). Undefined when it is not one.
 */
export function parseClockTime(text: string, options: { end?: boolean } = {}): number | undefined {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  if (minutes > MINUTES_PER_DAY || (minutes === MINUTES_PER_DAY && !options.end)) return undefined;
  return minutes;
}

/**
 * A window that opens every day (or on `days`) at `start` and closes at `end`, in minutes of
 * the day. `end` before `start` crosses midnight (22:00–08:00 closes the next morning), and
 * `days` name the day a window opens: `fri` 22:00–08:00 runs from Friday night into Saturday.
 * `start` equal to `end` is a window that never opens.
 */
export interface DailyWindow {
  /** Every day when absent. */
  days?: readonly Weekday[];
  start: number;
  end: number;
}

/** A window as written (`{days?, start: "09:00", end: "18:00"}`), or undefined when malformed. */
export function parseDailyWindow(written: {
  days?: readonly string[];
  start: string;
  end: string;
}): DailyWindow | undefined {
  const start = parseClockTime(written.start);
  const end = parseClockTime(written.end, { end: true });
  if (start === undefined || end === undefined) return undefined;
  if (written.days !== undefined && !written.days.every((d) => (WEEKDAYS as readonly string[]).includes(d))) {
    return undefined;
  }
  return { start, end, ...(written.days !== undefined && { days: written.days as Weekday[] }) };
}

/** The instants one day's window opens and closes. */
function occurrence(window: DailyWindow, date: CivilDate, zone: string): { start: number; end: number } {
  const endDate = window.end < window.start ? addDays(date, 1) : date;
  return { start: instantAt(date, window.start, zone), end: instantAt(endDate, window.end, zone) };
}

function opensOn(window: DailyWindow, date: CivilDate): boolean {
  return window.start !== window.end && (window.days === undefined || window.days.includes(weekdayOf(date)));
}

/**
 * The opening of `window` that `instant` is inside (its start ≤ instant < its end), or undefined
 * when the window is closed at `instant`.
 */
export function openWindowAt(
  instant: number,
  window: DailyWindow,
  zone: string,
): { start: number; end: number } | undefined {
  const today = localTime(instant, zone);
  const reading = wallOf(today, today.hour, today.minute, today.second);
  // A window lasts at most a day of wall time, so an opening yesterday or today holds it, or
  // tomorrow's where clocks go back at midnight (Chile: a second 23:00–24:00 after tomorrow began).
  for (const offset of [0, -1, 1]) {
    const date = addDays(today, offset);
    if (!opensOn(window, date)) continue;
    // Cheap first: the clock reads within a few hours of an opening it is inside (offsets change
    // by at most two hours, and a gap moves an edge by at most that), so others need no zone math.
    const startWall = wallOf(date) + window.start * MINUTE_MS;
    const endWall = wallOf(window.end < window.start ? addDays(date, 1) : date) + window.end * MINUTE_MS;
    if (reading < startWall - EDGE_SLACK_MS || reading > endWall + EDGE_SLACK_MS) continue;
    const open = occurrence(window, date, zone);
    if (open.start <= instant && instant < open.end) return open;
  }
  return undefined;
}

/**
 * The first instant after `instant` at which a clock in `zone` reads `minuteOfDay` on one of
 * `days` (any day when absent), by the rules above: a skipped time is the end of its gap, a
 * repeated one its first occurrence. Undefined when `days` is empty.
 */
export function nextTimeOfDay(
  instant: number,
  minuteOfDay: number,
  days: readonly Weekday[] | undefined,
  zone: string,
): number | undefined {
  const today = localTime(instant, zone);
  for (let offset = 0; offset <= 8; offset++) {
    const date = addDays(today, offset);
    if (days !== undefined && !days.includes(weekdayOf(date))) continue;
    const at = instantAt(date, minuteOfDay, zone);
    if (at > instant) return at;
  }
  return undefined;
}

/**
 * The first instant after `instant` at which `window` opens; undefined when it never opens. An
 * opening that lasts no time (09:00–09:30 inside a gap of an hour) does not count.
 */
export function nextOpening(instant: number, window: DailyWindow, zone: string): number | undefined {
  let from = instant;
  for (let tries = 0; tries < 8; tries++) {
    const start = window.start === window.end ? undefined : nextTimeOfDay(from, window.start, window.days, zone);
    if (start === undefined) return undefined;
    const open = openWindowAt(start, window, zone);
    if (open?.start === start) return start;
    from = start;
  }
  return undefined;
}

/**
 * When a send due at `instant` may go out under `window`: `instant` itself when the window is
 * open, else its next opening (undefined when it never opens).
 */
export function sendableFrom(instant: number, window: DailyWindow, zone: string): number | undefined {
  return openWindowAt(instant, window, zone) ? instant : nextOpening(instant, window, zone);
}

/**
 * When the window `instant` is inside ends, following openings that begin as one ends (so
 * back-to-back days read as one stretch); undefined when the window is closed at `instant`.
 */
export function windowEndAt(instant: number, window: DailyWindow, zone: string): number | undefined {
  let end = openWindowAt(instant, window, zone)?.end;
  if (end === undefined) return undefined;
  // A week of back-to-back openings is a window that never closes: stop there, and look again then.
  for (let hops = 0; hops < 8; hops++) {
    const next = openWindowAt(end, window, zone);
    if (!next) break;
    end = next.end;
  }
  return end;
}
