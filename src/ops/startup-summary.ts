// What `npm start` says once everything is up: where the API, dashboard, docs, metrics and Kong's
// endpoint are, the development keys when they are the development defaults (never a key the
// operator set), and what the start-up script started or reused. Addresses name host, port and
// database only, never credentials.
import type { Config } from "../config.ts";
import { DEV_ADMIN_API_KEY, DEV_INGEST_SECRET } from "../config/sections.ts";
import { addressOf } from "../lib/address.ts";

/** What scripts/start.sh did before this process started, from its environment. */
export type StartFacts = { kafka?: string; database?: string; migrationsApplied?: string };

function keyLine(value: string, devDefault: string, variable: string): string {
  return value === devDefault
    ? `${value} (the development default; set ${variable} for anything else)`
    : `set by ${variable}`;
}

export function startupSummary(config: Config, facts: StartFacts): string {
  const host = config.http.host === "0.0.0.0" || config.http.host === "::" ? "localhost" : config.http.host;
  const base = `http://${host}:${config.http.port}`;
  const metrics = config.ops.metricsPort ? `http://${host}:${config.ops.metricsPort}/metrics` : `${base}/metrics`;
  const applied = Number(facts.migrationsApplied ?? 0);
  const database = [
    addressOf(config.databaseUrl),
    facts.database === "created" ? "created now" : undefined,
    applied > 0 ? `${applied} migration(s) applied now` : "migrations up to date",
  ].filter(Boolean);
  const rows: Array<[string, string]> = [
    ["API", base],
    ["dashboard", `${base}/ui/`],
    ["API docs", `${base}/docs (the OpenAPI document: ${base}/openapi.json)`],
    ["metrics", metrics],
    ["Kong http-log", `${base}/ingest/kong`],
    ...(config.env === "production"
      ? []
      : ([
          ["admin key", keyLine(config.adminApiKey, DEV_ADMIN_API_KEY, "ADMIN_API_KEY")],
          ["ingest secret", keyLine(config.ingest.secret, DEV_INGEST_SECRET, "INGEST_SECRET")],
        ] as Array<[string, string]>)),
    ["Kafka", `${config.kafka.brokers.join(",")}${facts.kafka ? `, ${facts.kafka}` : ""}`],
    ["PostgreSQL", database.join(", ")],
    ["Redis", addressOf(config.redis.url)],
    ["workers", "meter, dead-letter recorder, invoices, webhooks"],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [`tokenmeter is ready (${config.env})`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join("\n");
}
