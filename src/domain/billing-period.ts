// Billing periods bounded by local midnights in the billing time zone. A period is named by its
// local start date (its key); months have their real length and daylight-saving days are 23 or
// 25 hours long, because the bounds are computed from the zone's offset at each midnight.
export type PeriodKind = "monthly" | "weekly" | "daily";
export type Period = { kind: PeriodKind; key: string; timeZone: string; startsAt: Date; endsAt: Date };

const DAY_MS = 86_400_000;
const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(at: number, timeZone: string) {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    partsFormatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    asUtc: Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!),
  };
}

const ymd = (date: string) => date.split("-").map(Number) as [number, number, number];
const fmt = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Calendar arithmetic on local dates (YYYY-MM-DD), independent of any time zone. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = ymd(date);
  return fmt(Date.UTC(y, m - 1, d) + days * DAY_MS);
}

function addMonths(date: string, months: number): string {
  const [y, m] = ymd(date);
  return fmt(Date.UTC(y, m - 1 + months, 1));
}

/** The first instant of a local date in a time zone. */
export function localMidnight(date: string, timeZone: string): Date {
  const [y, m, d] = ymd(date);
  const wall = Date.UTC(y, m - 1, d);
  // Two passes: the offset at the first guess may differ from the offset at midnight itself.
  let t = wall - (wallClock(wall, timeZone).asUtc - wall);
  t = wall - (wallClock(t, timeZone).asUtc - t);
  // In zones whose clocks skip midnight, the day starts at the first instant that is on that date.
  while (wallClock(t, timeZone).date < date) t += 15 * 60_000;
  return new Date(t);
}

export function localDateOf(at: Date, timeZone: string): string {
  return wallClock(at.getTime(), timeZone).date;
}

/** The key of the period containing a local date (YYYY-MM-DD): its first day. */
export function startKey(date: string, kind: PeriodKind): string {
  if (kind === "daily") return date;
  if (kind === "monthly") return `${date.slice(0, 8)}01`;
  const [y, m, d] = ymd(date);
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay(); // 0 = Sunday
  return addDays(date, -((weekday + 6) % 7)); // weeks start on Monday
}

function nextKey(key: string, kind: PeriodKind): string {
  return kind === "daily" ? addDays(key, 1) : kind === "weekly" ? addDays(key, 7) : addMonths(key, 1);
}

export function periodOfKey(key: string, kind: PeriodKind, timeZone: string): Period {
  return {
    kind,
    key,
    timeZone,
    startsAt: localMidnight(key, timeZone),
    endsAt: localMidnight(nextKey(key, kind), timeZone),
  };
}

export function isPeriodKey(key: string, kind: PeriodKind): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}$/.test(key) && !Number.isNaN(Date.parse(`${key}T00:00:00Z`)) && startKey(key, kind) === key
  );
}

/** A period as the API and alerts show it. */
export function periodJson(p: Pick<Period, "key" | "timeZone" | "startsAt" | "endsAt"> & { kind: string }) {
  return {
    kind: p.kind,
    key: p.key,
    time_zone: p.timeZone,
    starts_at: p.startsAt.toISOString(),
    ends_at: p.endsAt.toISOString(),
  };
}

export function periodContaining(at: Date, kind: PeriodKind, timeZone: string): Period {
  return periodOfKey(startKey(localDateOf(at, timeZone), kind), kind, timeZone);
}

function nextPeriod(p: Period): Period {
  return periodOfKey(nextKey(p.key, p.kind), p.kind, p.timeZone);
}

/** Periods that have ended by `now`, from the one containing `since` onwards, oldest first. */
export function endedPeriods(since: Date, now: Date, kind: PeriodKind, timeZone: string): Period[] {
  const out: Period[] = [];
  for (let p = periodContaining(since, kind, timeZone); p.endsAt <= now; p = nextPeriod(p)) out.push(p);
  return out;
}
