const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `250ms`, `5s`, `2m`, `1h`, `30d` into milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * UNITS[match[2]!]!;
  return Number.isFinite(value) ? Math.round(value) : undefined;
}

/** Parses a comma-separated list of durations such as `5s,30s,2m`; undefined when any item is not one. */
export function parseDurationList(text: string): number[] | undefined {
  const parts = text.split(',').map((part) => parseDuration(part));
  if (parts.length === 0 || parts.some((part) => part === undefined)) return undefined;
  return parts as number[];
}
