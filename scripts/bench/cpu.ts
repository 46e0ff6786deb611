// CPU time each part of the service used, read from /proc (Linux): the API and meter processes by
// pid, the broker (the JVM running kafka.Kafka) and PostgreSQL (every postgres process, plus what
// the postmaster's exited backends used). Sampled around a phase, it gives the phase's CPU
// microseconds per event for each part, beside its rate.
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc's times (USER_HZ): 100 on every Linux build Node runs on. */
const TICKS = 100;

type ProcStat = { pid: number; comm: string; ppid: number; own: number; reaped: number };

function statOf(pid: number): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = s.lastIndexOf(")");
    // after "(comm)": state ppid ... utime(14) stime(15) cutime(16) cstime(17), counted from 1
    const f = s.slice(close + 2).split(" ");
    return {
      pid,
      comm: s.slice(s.indexOf("(") + 1, close),
      ppid: Number(f[1]),
      own: (Number(f[11]) + Number(f[12])) / TICKS,
      reaped: (Number(f[13]) + Number(f[14])) / TICKS,
    };
  } catch {
    return undefined; // it exited between the listing and the read
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

function allStats(): ProcStat[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => statOf(Number(d)) ?? []);
}

export type CpuParts = Record<string, number>;

/** Seconds of CPU used so far by each named group of pids, the broker and PostgreSQL. */
export function cpuNow(groups: Record<string, number[]>): CpuParts {
  const stats = allStats();
  const out: CpuParts = {};
  for (const [name, pids] of Object.entries(groups))
    out[name] = pids.reduce((s, pid) => s + (stats.find((p) => p.pid === pid)?.own ?? 0), 0);
  out.broker = stats
    .filter((p) => p.comm === "java" && cmdlineOf(p.pid).includes("kafka.Kafka"))
    .reduce((s, p) => s + p.own, 0);
  const pg = stats.filter((p) => p.comm.startsWith("postgres"));
  const pgPids = new Set(pg.map((p) => p.pid));
  // a backend that exited is counted in its parent's reaped time
  out.postgres = pg.reduce((s, p) => s + p.own + (pgPids.has(p.ppid) ? 0 : p.reaped), 0);
  return out;
}

/** CPU microseconds per event each part used between two samples, as `cpu_us_<part>` fields. */
export function cpuPerEvent(before: CpuParts, after: CpuParts, events: number): Record<string, number> {
  const fields: Record<string, number> = {};
  let total = 0;
  for (const part of Object.keys(after)) {
    const us = ((after[part]! - (before[part] ?? 0)) * 1e6) / events;
    fields[`cpu_us_${part}`] = Math.round(us);
    total += us;
  }
  fields.cpu_us_total = Math.round(total);
  return fields;
}
