import { closeSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';

/**
 * CPU time of single threads, from Linux's schedstat (nanoseconds on a CPU). A render's time
 * limit is meant as CPU, not wall-clock time: on a busy machine a thread waits for a CPU, and a
 * wall-clock limit then fails a render that needed 100 µs (seen with 20,000 emails on a machine
 * loaded three times over). Elsewhere these return undefined and the limits stay wall-clock.
 */

/** Parses the first field of a schedstat line: nanoseconds on a CPU, as milliseconds. */
function parse(text: string): number | undefined {
  const ns = Number(text.slice(0, text.indexOf(' ')));
  return Number.isFinite(ns) ? ns / 1e6 : undefined;
}

/** A reader of the calling thread's CPU ms (one pread, 3–25 µs), or undefined off Linux. */
export function ownThreadCpu(): (() => number) | undefined {
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return undefined;
  }
  const buffer = Buffer.alloc(128);
  const read = () => parse(buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0)));
  if (read() === undefined) {
    closeSync(fd);
    return undefined;
  }
  return () => read() ?? 0;
}

/** The calling thread's kernel id, for threadCpuMs in another thread; undefined off Linux. */
export function ownThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** CPU ms a thread of this process has used, by its kernel id; undefined if unknown or gone. */
export function threadCpuMs(tid: number): number | undefined {
  try {
    return parse(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** CPU ms are shared as int32 in the progress array: modulo this, and compared modulo it. */
export const CPU_MS_MODULO = 2 ** 30;

/** `later - earlier` of two CPU ms readings taken modulo CPU_MS_MODULO. */
export function cpuMsBetween(earlier: number, later: number): number {
  return (((Math.floor(later) - earlier) % CPU_MS_MODULO) + CPU_MS_MODULO) % CPU_MS_MODULO;
}
