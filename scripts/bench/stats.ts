// Small statistics for the benchmarks: the machines are noisy, so figures are medians and percentiles.
import { loadavg } from "node:os";

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};

/** The p-th percentile of already sorted values (nearest rank). */
export const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** The 1, 5 and 15 minute load averages, for every printed line: a busy machine explains a slow figure. */
export const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(",");

/** `key=value` pairs on one line, in the order given. */
export const line = (fields: Record<string, string | number>): string =>
  Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : v}`)
    .join(" ");

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const clock = (): number => performance.timeOrigin + performance.now();
