// Calls admitted per consumer, local day, slot and level, counted in Redis so that concurrent
// authorizations of one consumer cannot both take the last call of a cell. Check and count are one
// Lua script (atomic in Redis). A day's counters start from the metered matrix in PostgreSQL, so a
// restarted or emptied Redis does not hand out a cell's calls a second time.
import type { Redis } from "ioredis";
import type { Db } from "../db/client.ts";
import { emptyMatrix, SLOT_NAMES, type TdlMatrix } from "../domain/tdl.ts";
import { observedMatrix } from "../usage/usage.service.ts";

const SEEDED = "_seeded";
const DAY_TTL_SECONDS = 2 * 86_400;

// KEYS[1] = the day's hash; ARGV = field "slot:level", limit (0 = none).
// Returns -1 when the day is not seeded yet, else {admitted 0|1, calls in the cell, HGETALL}.
const ADMIT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local calls = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local limit = tonumber(ARGV[2])
local admitted = 0
if limit == 0 or calls < limit then
  calls = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
  admitted = 1
end
return {admitted, calls, redis.call('HGETALL', KEYS[1])}`;

// KEYS[1] = the day's hash; ARGV = ttl, then field/value pairs. Only the first seeder writes.
const SEED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], '${SEEDED}', '1', unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1`;

export type Admission = {
  admitted: boolean;
  /** Calls in the cell, this one included when admitted. */
  calls: number;
  /** The day's calls per cell, this one included when admitted. */
  matrix: TdlMatrix;
  /** `admission`: Redis counters; `metered`: Redis was away, PostgreSQL's metered matrix was read. */
  source: "admission" | "metered";
};

export type CellRef = { consumerId: string; localDate: string; slot: number; level: number };

const field = (slot: number, level: number) => `${slot}:${level}`;

function matrixOfHash(flat: string[]): TdlMatrix {
  const m = emptyMatrix();
  for (let i = 0; i < flat.length; i += 2) {
    if (flat[i] === SEEDED) continue;
    const [slot, level] = flat[i]!.split(":").map(Number);
    m[SLOT_NAMES[slot!]!]![level!] = Number(flat[i + 1]);
  }
  return m;
}

export class TdlCounter {
  constructor(
    private readonly redis: Redis,
    private readonly db: Db,
    private readonly prefix: string,
    /** Called when Redis fails and the metered matrix answers instead (for the error metric). */
    private readonly onRedisError: () => void = () => {},
  ) {}

  private key(c: CellRef) {
    return `${this.prefix}:tdl:${c.consumerId}:${c.localDate}`;
  }

  /** Admits the call if its cell is under `limit` (0 = no limit), counting it. */
  async admit(cell: CellRef, limit: number): Promise<Admission> {
    let reply: unknown;
    try {
      reply = await this.redis.eval(ADMIT, 1, this.key(cell), field(cell.slot, cell.level), limit);
      if (reply === -1) {
        await this.seed(cell);
        reply = await this.redis.eval(ADMIT, 1, this.key(cell), field(cell.slot, cell.level), limit);
      }
    } catch {
      this.onRedisError();
      return this.fromMetered(cell, limit);
    }
    const [admitted, calls, flat] = reply as [number, number, string[]];
    return { admitted: admitted === 1, calls, matrix: matrixOfHash(flat), source: "admission" };
  }

  private async seed(cell: CellRef): Promise<void> {
    const observed = await observedMatrix(this.db, cell.consumerId, cell.localDate);
    const pairs: string[] = [];
    for (const [slot, name] of SLOT_NAMES.entries()) {
      for (const [level, calls] of observed[name]!.entries())
        if (calls > 0) pairs.push(field(slot, level), String(calls));
    }
    await this.redis.eval(SEED, 1, this.key(cell), DAY_TTL_SECONDS, ...pairs);
  }

  /** Without Redis the check reads what has been metered; concurrent calls may then overshoot by a few. */
  private async fromMetered(cell: CellRef, limit: number): Promise<Admission> {
    const matrix = await observedMatrix(this.db, cell.consumerId, cell.localDate);
    const row = matrix[SLOT_NAMES[cell.slot]!]!;
    const admitted = limit === 0 || row[cell.level]! < limit;
    if (admitted) row[cell.level]! += 1;
    return { admitted, calls: row[cell.level]!, matrix, source: "metered" };
  }
}
