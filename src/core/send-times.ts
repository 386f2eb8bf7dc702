import type { FieldError } from './errors.js';
import {
  nextTimeOfDay,
  parseClockTime,
  parseDailyWindow,
  sendableFrom,
  timeZoneOr,
  WEEKDAYS,
  windowEndAt,
  type Weekday,
} from './local-time.js';
import type { QuietHours } from './preferences.js';
import type { MessageChannel, SendWindow } from './types.js';

/**
 * When a send may go out, in the recipient's local time (core/local-time.ts holds the time zone
 * and daylight-saving rules): a sending step's `window`, a digest's `schedule`, and the
 * subscriber's quiet hours. Every rule reads the subscriber's `timezone`, or the fallback zone
 * (`--default-timezone`) when it is missing or not a zone the time zone database knows.
 */

/** The channels quiet hours hold back: those that reach a person's device or mailbox. */
export const QUIET_HOURS_CHANNELS: readonly MessageChannel[] = ['email', 'sms', 'push', 'chat'];

const DAY_SETS: Record<string, readonly Weekday[] | undefined> = {
  daily: undefined,
  weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  weekends: ['sat', 'sun'],
};

/** A digest schedule: the days it closes on (every day when absent) and the local time. */
export interface Schedule {
  days?: readonly Weekday[];
  at: number;
}

/**
 * Reads a digest schedule: `daily 09:00`, `weekdays 09:00`, `weekends 10:00`, or days by name,
 * `mon 09:00`, `mon,thu 17:30` (24-hour time). Undefined when it is not one.
 */
export function parseSchedule(text: string): Schedule | undefined {
  const match = /^\s*([a-z,]+)\s+(\d\d:\d\d)\s*$/.exec(text);
  if (!match) return undefined;
  const at = parseClockTime(match[2]!);
  if (at === undefined) return undefined;
  const [, dayText] = match;
  if (Object.hasOwn(DAY_SETS, dayText!)) {
    const days = DAY_SETS[dayText!];
    return days ? { days, at } : { at };
  }
  const days = dayText!.split(',');
  if (!days.every((day) => (WEEKDAYS as readonly string[]).includes(day)) || new Set(days).size !== days.length) {
    return undefined;
  }
  return { days: days as Weekday[], at };
}

/** The first instant after `instant` that `schedule` names, in `zone`. */
export function nextScheduled(instant: number, schedule: Schedule, zone: string): number {
  return nextTimeOfDay(instant, schedule.at, schedule.days, zone)!;
}

/** The save rules of a step's send window, each error naming its field under `at`. */
export function checkSendWindow(window: SendWindow, at: string): FieldError[] {
  const errors: FieldError[] = [];
  if (parseClockTime(window.start) === undefined) {
    errors.push({ path: `${at}/start`, message: 'is not a time such as 09:00 (00:00 to 23:59)' });
  }
  if (parseClockTime(window.end, { end: true }) === undefined) {
    errors.push({ path: `${at}/end`, message: 'is not a time such as 18:00 (00:00 to 24:00)' });
  }
  if (errors.length === 0 && window.start === window.end) {
    errors.push({ path: `${at}/end`, message: 'must differ from start (a whole day is 00:00 to 24:00)' });
  }
  if (window.days !== undefined) {
    if (window.days.length === 0) errors.push({ path: `${at}/days`, message: 'must name at least one day' });
    window.days.forEach((day, i) => {
      if (!(WEEKDAYS as readonly string[]).includes(day)) {
        errors.push({ path: `${at}/days/${i}`, message: `is not one of ${WEEKDAYS.join(', ')}` });
      } else if (window.days!.indexOf(day) !== i) {
        errors.push({ path: `${at}/days/${i}`, message: `${day} is already listed` });
      }
    });
  }
  return errors;
}

/**
 * When a run that reached a step with `window` at `now` may send it: `now` when the window is
 * open, else its next opening.
 */
export function sendWindowOpensAt(window: SendWindow, zone: string, now: number): number {
  const parsed = parseDailyWindow(window);
  // Windows are checked on save: one that cannot be read or never opens holds nothing back.
  return (parsed && sendableFrom(now, parsed, zone)) ?? now;
}

/** What the quiet-hours rule reads about one send. */
export interface QuietHoursInput {
  quietHours: QuietHours | null | undefined;
  /** The subscriber's time zone, as stored (may be missing or not a zone). */
  timezone: string | null | undefined;
  /** The zone used when `timezone` is not one (`--default-timezone`). */
  fallbackTimeZone: string;
  /** A critical workflow's sends ignore quiet hours. */
  critical: boolean;
  channel: MessageChannel;
}

/**
 * Quiet hours: a non-critical send to a person's device or mailbox (QUIET_HOURS_CHANNELS) due
 * inside the subscriber's quiet hours waits until they end. Returns that instant, or undefined
 * when the send may go now. Quiet hours that cannot be read (or start where they end) hold nothing.
 */
export function quietHoursEnd(input: QuietHoursInput, now: number): number | undefined {
  if (input.critical || !input.quietHours || !QUIET_HOURS_CHANNELS.includes(input.channel)) return undefined;
  const { start, end } = input.quietHours;
  if (typeof start !== 'string' || typeof end !== 'string') return undefined;
  const window = parseDailyWindow({ start, end });
  if (!window) return undefined;
  return windowEndAt(now, window, timeZoneOr(input.timezone, input.fallbackTimeZone));
}
