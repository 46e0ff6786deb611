// The TDL matrix: 12 two-hour slots of the local day (T1 = 00:00-01:59) by 10 load levels.
// The slot is the local wall-clock hour divided by two, so a daylight-saving day simply has one
// shorter or longer slot; every instant maps to exactly one existing slot.

export const SLOTS = 12;
export const LEVELS = 10;
export const SLOT_NAMES = Array.from({ length: SLOTS }, (_, i) => `T${i + 1}`);

export type TdlMatrix = Record<string, number[]>;
/** The largest limit a cell takes: far beyond any gateway's calls in two hours, and exact in every counter. */
const MAX_CELL_LIMIT = 1_000_000_000;
export type LocalSlot = { localDate: string; slot: number };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Local calendar date (YYYY-MM-DD) and slot 0-11 of an instant in a time zone. */
export function localSlotOf(at: Date, timeZone: string): LocalSlot {
  const t = at.getTime();
  if (!Number.isFinite(t)) return computeSlot(at, timeZone);
  const bucket = Math.floor(t / BUCKET_MS);
  const key = `${timeZone}|${bucket}`;
  const known = slotCache.get(key);
  if (known) return { ...known };
  // a bucket is kept only when its first and last millisecond agree: then every instant in it does
  const first = computeSlot(new Date(bucket * BUCKET_MS), timeZone);
  const last = computeSlot(new Date(bucket * BUCKET_MS + BUCKET_MS - 1), timeZone);
  if (first.localDate !== last.localDate || first.slot !== last.slot) return computeSlot(at, timeZone);
  if (slotCache.size >= SLOT_CACHE_ENTRIES) slotCache.clear();
  slotCache.set(key, first);
  return { ...first };
}

// Formatting a date in a time zone is slow (~5 µs) and the meter does it for every call. Local
// hours begin on quarter hours of UTC in every zone in use, so the answer is cached per UTC
// quarter hour; a bucket a transition cuts through is never cached. computeSlot is the uncached answer.
const BUCKET_MS = 15 * 60 * 1000;
const SLOT_CACHE_ENTRIES = 10_000;
const slotCache = new Map<string, LocalSlot>();

export function computeSlot(at: Date, timeZone: string): LocalSlot {
  const parts = formatterFor(timeZone).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const hour = Number(get("hour"));
  return { localDate: `${get("year")}-${get("month")}-${get("day")}`, slot: Math.floor(hour / 2) };
}

/** Load level 0-9: the number of bounds the input token count reaches. */
export function levelOf(inputTokens: number, bounds: readonly number[]): number {
  let level = 0;
  for (const b of bounds) if (inputTokens >= b) level++;
  return Math.min(level, LEVELS - 1);
}

export function emptyMatrix(): TdlMatrix {
  return Object.fromEntries(SLOT_NAMES.map((n) => [n, Array<number>(LEVELS).fill(0)]));
}

/** The same matrix with its rows in T1..T12 order, whatever order it was stored in. */
export function inSlotOrder(matrix: TdlMatrix): TdlMatrix {
  return Object.fromEntries(SLOT_NAMES.map((n) => [n, matrix[n] ?? Array<number>(LEVELS).fill(0)]));
}

/** Builds the seed's {"T1":[...],...} shape from sparse (slot, level, value) cells. */
export function toMatrix(cells: Iterable<{ slot: number; level: number; value: number }>): TdlMatrix {
  const m = emptyMatrix();
  for (const c of cells) m[SLOT_NAMES[c.slot]!]![c.level] = c.value;
  return m;
}

/**
 * Validates a limit policy in the seed's shape. Missing rows mean "no limit" (all zeros); unknown
 * rows, wrong lengths and values that are not non-negative integers are errors naming the row.
 */
export function parseMatrix(value: unknown): TdlMatrix | { error: string; path: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { error: 'must be an object like {"T1":[10 numbers],...,"T12":[...]}', path: "" };
  }
  const m = emptyMatrix();
  for (const [key, row] of Object.entries(value)) {
    if (!(key in m)) return { error: "unknown slot; slots are T1..T12", path: key };
    if (!Array.isArray(row) || row.length !== LEVELS)
      return { error: `must be an array of ${LEVELS} numbers`, path: key };
    if (!row.every((n) => Number.isInteger(n) && n >= 0))
      return { error: "values must be non-negative integers", path: key };
    if (!row.every((n) => n <= MAX_CELL_LIMIT))
      return { error: `values must be at most ${MAX_CELL_LIMIT.toLocaleString("en-US")} calls`, path: key };
    m[key] = [...row] as number[];
  }
  return m;
}
