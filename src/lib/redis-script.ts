// A Lua script run by its SHA, loaded on first use and again after Redis restarts, so a script
// run on every request does not send its text each time.
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

export class RedisScript {
  private readonly sha: string;
  constructor(private readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }

  async run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).includes("NOSCRIPT")) throw err;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
