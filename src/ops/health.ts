// Readiness checks of the dependencies: each one answers within a timeout or counts as down.
import type { Admin, Kafka } from "kafkajs";
import type { Redis } from "ioredis";
import type { PrismaClient } from "../db/client.ts";
import { withinTimeout } from "../lib/timeout.ts";

export type Dependency = "postgres" | "kafka" | "redis";
export type CheckResult = { ok: boolean; latency_ms: number; error?: string };

const DEFAULT_TIMEOUT_MS = 2000;

async function timed(timeoutMs: number, probe: () => Promise<unknown>): Promise<CheckResult> {
  const t0 = performance.now();
  try {
    await withinTimeout(timeoutMs, `no answer within ${timeoutMs} ms`, probe());
    return { ok: true, latency_ms: Math.round(performance.now() - t0) };
  } catch (err) {
    const message = (err as Error).message
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    return {
      ok: false,
      latency_ms: Math.round(performance.now() - t0),
      error: message[message.length - 1] ?? "unavailable",
    };
  }
}

export class DependencyChecks {
  /** Connecting or connected: concurrent callers share one connection, never open two. */
  private admin: Promise<Admin> | undefined;

  constructor(
    private readonly deps: { db?: PrismaClient; kafka?: Kafka; redis?: Redis },
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  check(dependency: Dependency): Promise<CheckResult> {
    switch (dependency) {
      case "postgres":
        return timed(this.timeoutMs, () => this.deps.db!.$queryRaw`SELECT 1`);
      case "redis":
        return timed(this.timeoutMs, () => this.deps.redis!.ping());
      case "kafka":
        return timed(this.timeoutMs, async () => {
          try {
            await (await this.kafkaAdmin()).describeCluster();
          } catch (err) {
            await this.dropAdmin();
            throw err;
          }
        });
    }
  }

  async all(dependencies: readonly Dependency[]): Promise<Record<string, CheckResult>> {
    const results = await Promise.all(dependencies.map((d) => this.check(d)));
    return Object.fromEntries(dependencies.map((d, i) => [d, results[i]!]));
  }

  /** One admin connection for all checks (a new one per probe would be slow and noisy). */
  kafkaAdmin(): Promise<Admin> {
    if (!this.admin) {
      if (!this.deps.kafka) return Promise.reject(new Error("this process has no Kafka client"));
      const admin = this.deps.kafka.admin();
      const connecting = admin.connect().then(() => admin);
      // a connection that failed is forgotten, so the next check tries again
      connecting.catch(() => {
        if (this.admin === connecting) this.admin = undefined;
      });
      this.admin = connecting;
    }
    return this.admin;
  }

  private async dropAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => {});
  }

  close(): Promise<void> {
    return this.dropAdmin();
  }
}
