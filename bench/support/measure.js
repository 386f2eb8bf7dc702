import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Wall-clock milliseconds with sub-millisecond resolution. Every bench process (the driver, the
 * SMTP sink) stamps events with this, so stamps taken in different processes compare.
 */
export function wallClockMs() {
  return performance.timeOrigin + performance.now();
}

/** The p-th percentile (0–100) of numbers already sorted ascending, nearest-rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

// Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel build.
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, or undefined where /proc is missing. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by this process. */
export function ownCpuSeconds() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Busy and total CPU seconds of the whole machine so far, from /proc/stat (undefined elsewhere). */
function machineCpuSeconds() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    const idle = fields[3] + fields[4]; // idle + iowait
    return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/**
 * Measures CPU over an interval: this process (`driver`), each named child, and `other` —
 * whatever else kept the machine busy, which makes the figures of that interval suspect.
 * `const stop = cpuMeter({ herald: pid }); …; const { cores, cpuSeconds } = stop();`
 *
 * A name may stand for a group of pids (an array), summed: the PostgreSQL backends of a run, say.
 * `stop({ postgres: [...] })` adds pids of a group that appeared during the interval (counted from
 * zero); a group member that exited during the interval is left out.
 */
export function cpuMeter(pids) {
  const startedAt = performance.now();
  const groups = new Map(Object.entries(pids).map(([name, pid]) => [name, Array.isArray(pid) ? [...pid] : pid]));
  const before = new Map();
  for (const group of groups.values()) for (const pid of [group].flat()) before.set(pid, cpuSeconds(pid));
  const driverBefore = ownCpuSeconds();
  const machineBefore = machineCpuSeconds();
  return (appeared = {}) => {
    const seconds = (performance.now() - startedAt) / 1000;
    for (const [name, list] of Object.entries(appeared)) {
      const group = groups.get(name) ?? [];
      groups.set(name, [...new Set([...group, ...list])]);
    }
    const used = { driver: ownCpuSeconds() - driverBefore };
    for (const [name, group] of groups) {
      if (!Array.isArray(group)) {
        const after = cpuSeconds(group);
        const start = before.get(group);
        used[name] = after === undefined || start === undefined ? null : after - start;
        continue;
      }
      let sum = null;
      for (const pid of group) {
        const after = cpuSeconds(pid);
        const start = before.has(pid) ? before.get(pid) : 0;
        if (after !== undefined && start !== undefined) sum = (sum ?? 0) + after - start;
      }
      used[name] = sum;
    }
    const cores = Object.fromEntries(
      Object.entries(used).map(([name, value]) => [name, value === null ? null : round(value / seconds, 2)]),
    );
    const machineAfter = machineCpuSeconds();
    if (machineBefore && machineAfter) {
      const ours = Object.values(used).reduce((sum, value) => sum + (value ?? 0), 0);
      cores.other = round(Math.max(0, (machineAfter.busy - machineBefore.busy - ours) / seconds), 2);
    }
    return { seconds, cores, cpuSeconds: used };
  };
}

/** Cores the whole machine keeps busy over `windowMs`, or undefined where /proc/stat is missing. */
async function busyCores(windowMs) {
  const before = machineCpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = machineCpuSeconds();
  if (!before || !after) return undefined;
  return (after.busy - before.busy) / ((after.total - before.total) / os.cpus().length);
}

/**
 * Waits, at most `maxWaitMs`, until the machine is nearly idle (under `threshold` cores busy for
 * one `windowMs`), so other work on the box — a test run, a build — does not skew a measurement.
 * Returns the last busy figure; the caller reports it rather than failing.
 */
export async function waitForIdleMachine({ threshold = 0.25, windowMs = 1_000, maxWaitMs = 5_000 } = {}) {
  const startedAt = Date.now();
  for (;;) {
    const busy = await busyCores(windowMs);
    if (busy === undefined || busy < threshold)
      return { idle: true, busyCores: busy === undefined ? null : round(busy, 2), waitedMs: Date.now() - startedAt };
    if (Date.now() - startedAt >= maxWaitMs)
      return { idle: false, busyCores: round(busy, 2), waitedMs: Date.now() - startedAt };
  }
}

/** waitForIdleMachine, logging a warning when the machine stays busy. */
export async function idleOrWarn(log) {
  const machine = await waitForIdleMachine();
  if (!machine.idle)
    log(`  warning: the machine is busy (${machine.busyCores} cores) with other work; figures will be low`);
  return machine;
}

export function round(value, digits = 0) {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** What the figures were measured on; written into every results file. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}
