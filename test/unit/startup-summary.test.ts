// The start-up summary names every address an operator needs, shows the keys only while they are
// the development defaults, and never a credential from a database or Redis URL.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config.ts";
import { startupSummary } from "../../src/ops/startup-summary.ts";

describe("start-up summary", () => {
  it("development: addresses, the development keys, and what start-up did", () => {
    const text = startupSummary(loadConfig({}), {
      kafka: "started here",
      database: "created",
      migrationsApplied: "24",
    });
    for (const s of [
      "tokenmeter is ready (development)",
      "http://127.0.0.1:8080/ui/",
      "http://127.0.0.1:8080/docs",
      "http://127.0.0.1:8080/openapi.json",
      "http://127.0.0.1:8080/metrics",
      "http://127.0.0.1:8080/ingest/kong",
      "dev-admin-key (the development default",
      "dev-ingest-secret (the development default",
      "127.0.0.1:9092, started here",
      "127.0.0.1:5432/tokenmeter, created now, 24 migration(s) applied now",
    ])
      assert.ok(text.includes(s), `missing ${s}:\n${text}`);
  });

  it("keys the operator set are named, never shown; URLs lose their credentials", () => {
    const config = loadConfig({
      ADMIN_API_KEY: "operator-chosen-admin-key",
      INGEST_SECRET: "operator-chosen-ingest-secret",
      DATABASE_URL: "postgresql://billing:pg-password-1@db.internal:6432/meter",
      REDIS_URL: "redis://:redis-password-2@cache.internal:6380",
      METRICS_PORT: "9464",
      HOST: "0.0.0.0",
    });
    const text = startupSummary(config, {});
    for (const secret of ["operator-chosen", "pg-password-1", "redis-password-2", "billing:"])
      assert.ok(!text.includes(secret), `${secret} shown:\n${text}`);
    assert.ok(text.includes("set by ADMIN_API_KEY") && text.includes("set by INGEST_SECRET"));
    assert.ok(text.includes("db.internal:6432/meter, migrations up to date"));
    assert.ok(text.includes("cache.internal:6380"));
    assert.ok(text.includes("http://localhost:9464/metrics"), text);
  });
});
