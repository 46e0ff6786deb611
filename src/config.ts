// The one place that reads the environment. Every entry point calls loadConfig(process.env) and
// passes the result down; defaults work on a development machine with local services.
import { z } from "zod";
import { Decimal, isCurrencyCode, type RoundingMode } from "./domain/money.ts";
import type { PeriodKind } from "./domain/billing-period.ts";
import { modelMatcher } from "./domain/billing-policy.ts";
import { DEFAULT_BODY_PATHS } from "./domain/kong-log.ts";
import { AllowedNetworks } from "./alerts/destination.ts";
import { knownEncodingOf } from "./tokens/encoding.ts";

const DEV_INGEST_SECRET = "dev-ingest-secret";
const DEV_ADMIN_API_KEY = "dev-admin-key";
const MIN_PRODUCTION_ADMIN_KEY = 32;

const intFrom = (min: number, def: number) => z.coerce.number().int().min(min).default(def);

const decimalString = z
  .string()
  .refine((s) => /^\d+(\.\d{1,12})?$/.test(s), "must be a non-negative decimal with at most 12 decimal places");

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "must be an IANA time zone such as Asia/Seoul");

const levelBounds = z
  .string()
  .transform((s) => s.split(",").map((p) => Number(p.trim())))
  .refine(
    (b) => b.length === 9 && b.every((n, i) => Number.isInteger(n) && n > 0 && (i === 0 || n > b[i - 1]!)),
    "must be 9 increasing positive integers separated by commas",
  );

const list = z.string().transform((s) =>
  s
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== ""),
);

/** Dot paths into a log entry (custom_fields_by_lua names nest the same way: "request.body"). */
const bodyPaths = list.refine(
  (ps) => ps.every((p) => p.split(".").every((k) => k !== "")),
  "must be dot paths such as request.body, separated by commas",
);

/** Model-name patterns: `*` matches any run of characters; matched whole, case-insensitively. */
const modelPatterns = list.refine(
  (ps) => ps.every((p) => /^[\w.:/@*-]+$/.test(p)),
  "must be model names or patterns such as claude-*, separated by commas",
);

const jsonRecord = z.string().transform((s, ctx) => {
  try {
    const v = JSON.parse(s) as unknown;
    const parsed = z.record(z.string(), z.string()).safeParse(v);
    if (parsed.success) return parsed.data;
  } catch {
    /* reported below */
  }
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message: 'must be a JSON object of strings, e.g. {"chat-route":"gpt-4o"}',
  });
  return z.NEVER;
});

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HOST: z.string().default("127.0.0.1"),
  PORT: intFrom(0, 8080),
  DATABASE_URL: z.string().url().default("postgresql://postgres@127.0.0.1:5432/tokenmeter"),
  KAFKA_BROKERS: z.string().default("127.0.0.1:9092"),
  KAFKA_CLIENT_ID: z.string().default("tokenmeter"),
  KAFKA_TOPIC_RAW: z.string().default("usage.raw"),
  KAFKA_TOPIC_DLQ: z.string().default("usage.dlq"),
  KAFKA_PARTITIONS: intFrom(1, 3),
  KAFKA_GROUP_ID: z.string().default("tokenmeter-meter"),
  // the topics' max.message.bytes; default: twice the body limit plus 1 MiB, room for any accepted entry
  KAFKA_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .optional(),
  METER_MAX_WAIT_MS: intFrom(10, 100),
  // how long the group waits for a meter that stopped answering (crashed) before moving its partitions
  METER_SESSION_TIMEOUT_MS: intFrom(6000, 30_000),
  // time one event's payloads may take to count (10 s holds the worst 10 MiB body); past it the provider's figure is billed, flagged
  METER_COUNT_BUDGET_MS: intFrom(1, 10_000),
  // time authorize may spend counting a request's input tokens (off the event loop)
  AUTHORIZE_COUNT_BUDGET_MS: intFrom(1, 100),
  // what authorize does when counting ran past its budget and the body may exceed max_input_tokens
  AUTHORIZE_COUNT_OVER_BUDGET: z.enum(["allow", "deny"]).default("allow"),
  // input tokens held for a body the gateway could not read, or with parts stored elsewhere, when the consumer has no max_input_tokens
  AUTHORIZE_UNSIZED_INPUT_TOKENS: intFrom(0, 128_000),
  // worker threads that count large authorize bodies (0 = count on the event loop)
  AUTHORIZE_COUNT_WORKERS: intFrom(0, 2),
  INGEST_SECRET: z.string().min(8).default(DEV_INGEST_SECRET),
  INGEST_BODY_LIMIT_BYTES: intFrom(1024, 10 * 1024 * 1024),
  INGEST_PRODUCE_TIMEOUT_MS: intFrom(100, 5000),
  ADMIN_API_KEY: z.string().min(8).default(DEV_ADMIN_API_KEY),
  BILLING_TIMEZONE: timeZone.default("UTC"),
  BILLING_PERIOD: z.enum(["monthly", "weekly", "daily"]).default("monthly"),
  BILLING_CURRENCY: z
    .string()
    .refine(isCurrencyCode, "must be an ISO 4217 currency code such as USD or KRW")
    .default("USD"),
  BILLING_ROUNDING: z.enum(["half_up", "half_even"]).default("half_up"),
  // who issues the invoices, as the FOCUS export names it (InvoiceIssuerName, ProviderName)
  BILLING_ISSUER_NAME: z.string().trim().min(1).max(200).default("tokenmeter"),
  // late events inside this window after a period closes still land on its (draft) invoices
  BILLING_GRACE_MINUTES: intFrom(0, 24 * 60),
  // how often the invoice worker looks for periods to close or finalize (catch-up after an outage)
  BILLING_TICK_MINUTES: intFrom(1, 15),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  // key prefix of the job queues in Redis (several deployments can share one Redis)
  REDIS_PREFIX: z.string().min(1).default("tokenmeter"),
  TDL_LEVEL_BOUNDS: levelBounds.prefault("256,512,1024,2048,4096,8192,16384,32768,65536"),
  // prices of consumers created or registered without any: both or neither (unset: their calls are unpriced, never free)
  DEFAULT_INPUT_COST_PER_TOKEN: decimalString.optional(),
  DEFAULT_OUTPUT_COST_PER_TOKEN: decimalString.optional(),
  // the price book (name) that consumers registered from logs are billed by
  DEFAULT_PLAN: z.string().trim().min(1).max(100).optional(),
  DEFAULT_TOKEN_ENCODING: z.enum(["cl100k_base", "o200k_base", "p50k_base", "r50k_base"]).default("cl100k_base"),
  MODEL_BY_ROUTE: jsonRecord.prefault("{}"),
  // where a log entry holds the request and response bodies, first found wins (ai-proxy's logged payloads come after)
  METER_REQUEST_BODY_PATHS: bodyPaths.prefault(DEFAULT_BODY_PATHS.request.join(",")),
  METER_RESPONSE_BODY_PATHS: bodyPaths.prefault(DEFAULT_BODY_PATHS.response.join(",")),
  // model families billed from the provider's figure rather than our tiktoken count (their tokenizer is not tiktoken's)
  METER_PROVIDER_BILLED_MODELS: modelPatterns.prefault(""),
  // model families billed from our count first; empty: the models whose tokenizer tiktoken has (OpenAI's)
  METER_COUNT_BILLED_MODELS: modelPatterns.prefault(""),
  // route name, route id or model -> capability index 0-4
  CAPABILITY_MAP: jsonRecord.prefault("{}"),
  // what authorize answers for a consumer tokenmeter has no metadata for
  AUTHORIZE_UNCONFIGURED: z.enum(["allow", "deny"]).default("allow"),
  // how long an API process may serve cached metadata if a change notice from Redis was missed; 0 = no cache
  METADATA_CACHE_TTL_MS: intFrom(0, 30_000),
  // header and query-argument names whose values are credentials (key-auth's key names, provider keys)
  // a partition with lag whose committed offset has not moved for this long is reported stalled
  METER_STALL_AFTER_MS: intFrom(1000, 30_000),
  // a meter process run alone serves /livez, /readyz and /metrics on this port (0 = none)
  METER_HTTP_PORT: intFrom(0, 8081),
  // the same for an invoice worker run alone
  INVOICES_HTTP_PORT: intFrom(0, 8082),
  // addresses or CIDRs of load balancers whose X-Forwarded-For names the client (comma-separated); empty: none
  TRUST_PROXY: z.string().default(""),
  // requests a minute each API key (the admin key, every consumer key) may make; 0 = no limit
  RATE_LIMIT_PER_MINUTE: intFrom(0, 1200),
  // requests with a wrong key a client address may make a minute before it is refused outright; 0 = no limit
  RATE_LIMIT_FAILED_AUTH_PER_MINUTE: intFrom(0, 30),
  // the longest range a usage or report query may span, in days (its cost grows with the events in range)
  USAGE_MAX_SPAN_DAYS: intFrom(1, 400),
  // readiness probes, lag and database gauges are computed at most once per this interval, whatever the request rate
  OPS_CACHE_MS: intFrom(0, 2000),
  // when set, /metrics answers only Authorization: Bearer <token> (Prometheus: authorization.credentials)
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  // the API serves /livez, /readyz and /metrics on this port of its own instead of its main one (0 = the main port)
  METRICS_PORT: intFrom(0, 0),
  // token and cost counters per consumer in /metrics (one series per consumer: off by default)
  METRICS_PER_CONSUMER: z.enum(["true", "false"]).default("false"),
  // budgets: what authorize does while Redis (the hold ledger) is away: closed checks committed
  // spend in PostgreSQL (no holds, so concurrent calls may pass the limit by what they spend), open allows
  BUDGET_REDIS_DOWN: z.enum(["closed", "open"]).default("closed"),
  // a hold no metered event settles is released after this long (longer than a call plus metering lag)
  BUDGET_HOLD_TTL_MS: intFrom(1000, 15 * 60_000),
  // output tokens held for a call with no max-tokens field and no max_output_tokens limit
  BUDGET_UNBOUNDED_OUTPUT_TOKENS: intFrom(0, 4096),
  // the least output, per completion, a budget may cap a call to; below it the call is refused with 429
  BUDGET_MIN_OUTPUT_TOKENS: intFrom(1, 16),
  // credits.expiring is sent this many days before a grant with something left expires (0: never)
  CREDITS_EXPIRING_DAYS: intFrom(0, 7).pipe(z.number().max(365)),
  // webhooks: 32 bytes, base64, that encrypt endpoints' signing secrets at rest (required to add endpoints)
  WEBHOOK_SECRET_KEY: z.string().optional(),
  // keys secrets were encrypted under before (comma-separated, base64): they decrypt, never encrypt
  WEBHOOK_PREVIOUS_SECRET_KEYS: z.string().default(""),
  // the operator's own networks webhooks may be delivered to (CIDRs); every other internal address is refused
  WEBHOOK_ALLOWED_NETWORKS: z.string().default(""),
  WEBHOOK_ATTEMPTS: intFrom(1, 10),
  // first retry after this long, then doubling
  WEBHOOK_BACKOFF_MS: intFrom(10, 10_000),
  WEBHOOK_TIMEOUT_MS: intFrom(100, 10_000),
  REDACT_KEYS: z
    .string()
    .default(
      "apikey,api-key,x-api-key,api_key,key,cookie,set-cookie,authorization,proxy-authorization,jwt,access_token,id_token,refresh_token," +
        "client_secret,password,x-goog-api-key,x-amz-security-token,x-auth-token",
    ),
});

export type Config = Readonly<{
  env: "development" | "test" | "production";
  logLevel: string;
  http: { host: string; port: number; trustProxy: string[] };
  databaseUrl: string;
  kafka: {
    brokers: string[];
    clientId: string;
    rawTopic: string;
    deadLetterTopic: string;
    partitions: number;
    groupId: string;
    maxWaitMs: number;
    sessionTimeoutMs: number;
    maxMessageBytes: number;
  };
  ingest: { secret: string; bodyLimitBytes: number; produceTimeoutMs: number; redactKeys: ReadonlySet<string> };
  adminApiKey: string;
  billing: {
    timeZone: string;
    period: PeriodKind;
    currency: string;
    rounding: RoundingMode;
    issuerName: string;
    graceMs: number;
    tickMs: number;
  };
  redis: { url: string; prefix: string };
  usage: { maxSpanDays: number };
  rateLimits: { perKeyPerMinute: number; failedAuthPerMinute: number };
  ops: {
    stallAfterMs: number;
    meterHttpPort: number;
    invoicesHttpPort: number;
    metricsPerConsumer: boolean;
    cacheMs: number;
    metricsToken: string | undefined;
    metricsPort: number;
  };
  authorize: {
    unconfigured: "allow" | "deny";
    cacheTtlMs: number;
    countBudgetMs: number;
    countOverBudget: "allow" | "deny";
    countWorkers: number;
    unsizedInputTokens: number;
  };
  tdl: { levelBounds: number[] };
  budgets: { redisDown: "closed" | "open"; holdTtlMs: number; unboundedOutputTokens: number; minOutputTokens: number };
  credits: { expiringDays: number };
  webhooks: {
    secretKey: Buffer | null;
    previousKeys: Buffer[];
    allowedNetworks: AllowedNetworks;
    attempts: number;
    backoffMs: number;
    timeoutMs: number;
  };
  metering: {
    /** Prices of consumers created or registered without any; null: their calls stay unpriced. */
    defaultPrices: { inputCostPerToken: Decimal; outputCostPerToken: Decimal } | null;
    /** The price book consumers registered from logs are billed by. */
    defaultPlan: string | null;
    defaultEncoding: "cl100k_base" | "o200k_base" | "p50k_base" | "r50k_base";
    /** Keyed by names from logs: Maps, so "__proto__" or "constructor" is just a name. */
    countBudgetMs: number;
    modelByRoute: ReadonlyMap<string, string>;
    capabilityMap: ReadonlyMap<string, number>;
    requestBodyPaths: readonly string[];
    responseBodyPaths: readonly string[];
    /** Models whose billed tokens are the provider's figure when there is one (see billing-policy.ts). */
    providerBilled: (model: string) => boolean;
  };
}>;

class ConfigError extends Error {}

/**
 * Which models bill from the provider's figure first: those named for it, and every model not
 * billed from our count, which by default is every model whose tokenizer tiktoken does not have.
 */
function providerBilledFor(providerPatterns: string[], countPatterns: string[]): (model: string) => boolean {
  const provider = modelMatcher(providerPatterns);
  const count =
    countPatterns.length > 0 ? modelMatcher(countPatterns) : (model: string) => knownEncodingOf(model) !== undefined;
  return (model) => provider(model) || !count(model);
}

function webhookKey(value: string | undefined, name = "WEBHOOK_SECRET_KEY"): Buffer | null {
  if (value === undefined || value === "") return null;
  const key = Buffer.from(value, "base64");
  if (key.length !== 32)
    throw new ConfigError(`invalid configuration:\n  ${name}: must be 32 bytes in base64 (openssl rand -base64 32)`);
  return key;
}

const previousKeys = (value: string) =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((k) => webhookKey(k, "WEBHOOK_PREVIOUS_SECRET_KEYS")!);

function allowedNetworks(value: string): AllowedNetworks {
  try {
    return AllowedNetworks.parse(value);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  WEBHOOK_ALLOWED_NETWORKS: ${(err as Error).message}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === "production" && (e.INGEST_SECRET === DEV_INGEST_SECRET || e.ADMIN_API_KEY === DEV_ADMIN_API_KEY)) {
    throw new ConfigError("invalid configuration:\n  INGEST_SECRET and ADMIN_API_KEY must be set in production");
  }
  // the admin key opens everything: in production it is long, and not the secret every Kong node holds
  if (e.NODE_ENV === "production" && e.ADMIN_API_KEY.length < MIN_PRODUCTION_ADMIN_KEY) {
    throw new ConfigError(
      `invalid configuration:\n  ADMIN_API_KEY: must be at least ${MIN_PRODUCTION_ADMIN_KEY} characters in production`,
    );
  }
  if (e.NODE_ENV === "production" && e.ADMIN_API_KEY === e.INGEST_SECRET) {
    throw new ConfigError(
      "invalid configuration:\n  ADMIN_API_KEY: must differ from INGEST_SECRET (Kong holds that one)",
    );
  }
  if ((e.DEFAULT_INPUT_COST_PER_TOKEN === undefined) !== (e.DEFAULT_OUTPUT_COST_PER_TOKEN === undefined)) {
    const missing =
      e.DEFAULT_INPUT_COST_PER_TOKEN === undefined ? "DEFAULT_INPUT_COST_PER_TOKEN" : "DEFAULT_OUTPUT_COST_PER_TOKEN";
    throw new ConfigError(
      `invalid configuration:\n  ${missing}: must be set with the other default price (state 0 for a free one)`,
    );
  }
  const capabilityMap = new Map<string, number>();
  for (const [route, index] of Object.entries(e.CAPABILITY_MAP)) {
    const n = Number(index);
    if (!Number.isInteger(n) || n < 0 || n > 4) {
      throw new ConfigError(`invalid configuration:\n  CAPABILITY_MAP.${route}: must be a capability index 0-4`);
    }
    capabilityMap.set(route, n);
  }
  return Object.freeze({
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    http: {
      host: e.HOST,
      port: e.PORT,
      trustProxy: e.TRUST_PROXY.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    },
    databaseUrl: e.DATABASE_URL,
    kafka: {
      brokers: e.KAFKA_BROKERS.split(",")
        .map((b) => b.trim())
        .filter(Boolean),
      clientId: e.KAFKA_CLIENT_ID,
      rawTopic: e.KAFKA_TOPIC_RAW,
      deadLetterTopic: e.KAFKA_TOPIC_DLQ,
      partitions: e.KAFKA_PARTITIONS,
      groupId: e.KAFKA_GROUP_ID,
      maxWaitMs: e.METER_MAX_WAIT_MS,
      sessionTimeoutMs: e.METER_SESSION_TIMEOUT_MS,
      maxMessageBytes: e.KAFKA_MAX_MESSAGE_BYTES ?? 2 * e.INGEST_BODY_LIMIT_BYTES + 1024 * 1024,
    },
    ingest: {
      secret: e.INGEST_SECRET,
      bodyLimitBytes: e.INGEST_BODY_LIMIT_BYTES,
      produceTimeoutMs: e.INGEST_PRODUCE_TIMEOUT_MS,
      redactKeys: new Set(
        e.REDACT_KEYS.split(",")
          .map((k) => k.trim().toLowerCase())
          .filter(Boolean),
      ),
    },
    adminApiKey: e.ADMIN_API_KEY,
    billing: {
      timeZone: e.BILLING_TIMEZONE,
      period: e.BILLING_PERIOD,
      currency: e.BILLING_CURRENCY,
      rounding: e.BILLING_ROUNDING,
      issuerName: e.BILLING_ISSUER_NAME,
      graceMs: e.BILLING_GRACE_MINUTES * 60_000,
      tickMs: e.BILLING_TICK_MINUTES * 60_000,
    },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    usage: { maxSpanDays: e.USAGE_MAX_SPAN_DAYS },
    rateLimits: { perKeyPerMinute: e.RATE_LIMIT_PER_MINUTE, failedAuthPerMinute: e.RATE_LIMIT_FAILED_AUTH_PER_MINUTE },
    ops: {
      stallAfterMs: e.METER_STALL_AFTER_MS,
      meterHttpPort: e.METER_HTTP_PORT,
      invoicesHttpPort: e.INVOICES_HTTP_PORT,
      metricsPerConsumer: e.METRICS_PER_CONSUMER === "true",
      cacheMs: e.OPS_CACHE_MS,
      metricsToken: e.METRICS_TOKEN,
      metricsPort: e.METRICS_PORT,
    },
    authorize: {
      unconfigured: e.AUTHORIZE_UNCONFIGURED,
      cacheTtlMs: e.METADATA_CACHE_TTL_MS,
      countBudgetMs: e.AUTHORIZE_COUNT_BUDGET_MS,
      countOverBudget: e.AUTHORIZE_COUNT_OVER_BUDGET,
      countWorkers: e.AUTHORIZE_COUNT_WORKERS,
      unsizedInputTokens: e.AUTHORIZE_UNSIZED_INPUT_TOKENS,
    },
    tdl: { levelBounds: e.TDL_LEVEL_BOUNDS },
    budgets: {
      redisDown: e.BUDGET_REDIS_DOWN,
      holdTtlMs: e.BUDGET_HOLD_TTL_MS,
      unboundedOutputTokens: e.BUDGET_UNBOUNDED_OUTPUT_TOKENS,
      minOutputTokens: e.BUDGET_MIN_OUTPUT_TOKENS,
    },
    credits: { expiringDays: e.CREDITS_EXPIRING_DAYS },
    webhooks: {
      secretKey: webhookKey(e.WEBHOOK_SECRET_KEY),
      previousKeys: previousKeys(e.WEBHOOK_PREVIOUS_SECRET_KEYS),
      allowedNetworks: allowedNetworks(e.WEBHOOK_ALLOWED_NETWORKS),
      attempts: e.WEBHOOK_ATTEMPTS,
      backoffMs: e.WEBHOOK_BACKOFF_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    },
    metering: {
      defaultPrices:
        e.DEFAULT_INPUT_COST_PER_TOKEN === undefined
          ? null
          : {
              inputCostPerToken: new Decimal(e.DEFAULT_INPUT_COST_PER_TOKEN),
              outputCostPerToken: new Decimal(e.DEFAULT_OUTPUT_COST_PER_TOKEN!),
            },
      defaultPlan: e.DEFAULT_PLAN ?? null,
      defaultEncoding: e.DEFAULT_TOKEN_ENCODING,
      countBudgetMs: e.METER_COUNT_BUDGET_MS,
      modelByRoute: new Map(Object.entries(e.MODEL_BY_ROUTE)),
      capabilityMap,
      requestBodyPaths: e.METER_REQUEST_BODY_PATHS,
      responseBodyPaths: e.METER_RESPONSE_BODY_PATHS,
      providerBilled: providerBilledFor(e.METER_PROVIDER_BILLED_MODELS, e.METER_COUNT_BILLED_MODELS),
    },
  });
}
