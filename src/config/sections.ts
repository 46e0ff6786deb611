// The configuration by section: each section reads its environment variables and builds what the
// code uses, and its type is what its schema outputs. A variable's comment says what it sets.
import { z } from "zod";
import { AllowedNetworks } from "../alerts/destination.ts";
import { modelMatcher } from "../domain/billing-policy.ts";
import { DEFAULT_BODY_PATHS } from "../domain/kong-log.ts";
import { Decimal, isCurrencyCode } from "../domain/money.ts";
import { knownEncodingOf } from "../tokens/encoding.ts";
import { ENCODINGS } from "../tokens/ranks.ts";
import {
  base64Key,
  bodyPaths,
  decimalString,
  intFrom,
  jsonMap,
  levelBounds,
  list,
  modelPatterns,
  timeZone,
} from "./fields.ts";

export const DEV_INGEST_SECRET = "dev-ingest-secret";
export const DEV_ADMIN_API_KEY = "dev-admin-key";

const INGEST_BODY_LIMIT_BYTES = intFrom(1024, 10 * 1024 * 1024);

const process = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    DATABASE_URL: z.string().url().default("postgresql://postgres@127.0.0.1:5432/tokenmeter"),
    // the operator's key: it opens everything
    ADMIN_API_KEY: z.string().min(8).default(DEV_ADMIN_API_KEY),
  })
  .transform((e) => ({
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    adminApiKey: e.ADMIN_API_KEY,
  }));

const http = z
  .object({
    HOST: z.string().default("127.0.0.1"),
    PORT: intFrom(0, 8080),
    // addresses or CIDRs of load balancers whose X-Forwarded-For names the client (comma-separated); empty: none
    TRUST_PROXY: list.prefault(""),
  })
  .transform((e) => ({ host: e.HOST, port: e.PORT, trustProxy: e.TRUST_PROXY }));

const kafka = z
  .object({
    KAFKA_BROKERS: list.prefault("127.0.0.1:9092"),
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
    INGEST_BODY_LIMIT_BYTES,
    METER_MAX_WAIT_MS: intFrom(10, 100),
    // how long the group waits for a meter that stopped answering (crashed) before moving its partitions
    METER_SESSION_TIMEOUT_MS: intFrom(6000, 30_000),
  })
  .transform((e) => ({
    brokers: e.KAFKA_BROKERS,
    clientId: e.KAFKA_CLIENT_ID,
    rawTopic: e.KAFKA_TOPIC_RAW,
    deadLetterTopic: e.KAFKA_TOPIC_DLQ,
    partitions: e.KAFKA_PARTITIONS,
    groupId: e.KAFKA_GROUP_ID,
    maxWaitMs: e.METER_MAX_WAIT_MS,
    sessionTimeoutMs: e.METER_SESSION_TIMEOUT_MS,
    maxMessageBytes: e.KAFKA_MAX_MESSAGE_BYTES ?? 2 * e.INGEST_BODY_LIMIT_BYTES + 1024 * 1024,
  }));

const ingest = z
  .object({
    // the secret Kong proves itself with (http-log's Authorization header, the gateway plugin)
    INGEST_SECRET: z.string().min(8).default(DEV_INGEST_SECRET),
    INGEST_BODY_LIMIT_BYTES,
    INGEST_PRODUCE_TIMEOUT_MS: intFrom(100, 5000),
    // header and query-argument names whose values are credentials (key-auth's key names, provider keys)
    REDACT_KEYS: list.prefault(
      "apikey,api-key,x-api-key,api_key,key,cookie,set-cookie,authorization,proxy-authorization,jwt,access_token,id_token,refresh_token," +
        "client_secret,password,x-goog-api-key,x-amz-security-token,x-auth-token",
    ),
  })
  .transform((e) => ({
    secret: e.INGEST_SECRET,
    bodyLimitBytes: e.INGEST_BODY_LIMIT_BYTES,
    produceTimeoutMs: e.INGEST_PRODUCE_TIMEOUT_MS,
    redactKeys: new Set(e.REDACT_KEYS.map((k) => k.toLowerCase())) as ReadonlySet<string>,
  }));

const billing = z
  .object({
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
    // drafts of a closed period wait this long after the grace (and after the period closed) for review
    BILLING_REVIEW_HOURS: z.coerce
      .number()
      .int()
      .min(0)
      .max(366 * 24)
      .default(72),
    // the issuer's postal address on invoice documents: lines separated by newlines or by "\n"
    BILLING_ISSUER_ADDRESS: z.string().max(500).default(""),
    // invoice numbers are this prefix and a gapless per-issuer sequence, e.g. INV-000042
    BILLING_INVOICE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_/-]{0,20}$/, "must be up to 20 letters, digits, -, _ or /")
      .default("INV-"),
    // how often the invoice worker looks for periods to close or finalize (catch-up after an outage)
    BILLING_TICK_MINUTES: intFrom(1, 15),
  })
  .transform((e) => ({
    timeZone: e.BILLING_TIMEZONE,
    period: e.BILLING_PERIOD,
    currency: e.BILLING_CURRENCY,
    rounding: e.BILLING_ROUNDING,
    issuerName: e.BILLING_ISSUER_NAME,
    issuerAddress: e.BILLING_ISSUER_ADDRESS.split(/\r?\n|\\n/)
      .map((l) => l.trim())
      .filter(Boolean),
    invoicePrefix: e.BILLING_INVOICE_PREFIX,
    graceMs: e.BILLING_GRACE_MINUTES * 60_000,
    reviewMs: e.BILLING_REVIEW_HOURS * 3_600_000,
    tickMs: e.BILLING_TICK_MINUTES * 60_000,
  }));

const redis = z
  .object({
    REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
    // prefix of every key tokenmeter keeps in Redis (several deployments can share one Redis)
    REDIS_PREFIX: z.string().min(1).default("tokenmeter"),
  })
  .transform((e) => ({ url: e.REDIS_URL, prefix: e.REDIS_PREFIX }));

const usage = z
  .object({
    // the longest range a usage or report query may span, in days (its cost grows with the events in range)
    USAGE_MAX_SPAN_DAYS: intFrom(1, 400),
  })
  .transform((e) => ({ maxSpanDays: e.USAGE_MAX_SPAN_DAYS }));

const rateLimits = z
  .object({
    // requests a minute each API key (the admin key, every consumer key) may make; 0 = no limit
    RATE_LIMIT_PER_MINUTE: intFrom(0, 1200),
    // requests with a wrong key a client address may make a minute before it is refused outright; 0 = no limit
    RATE_LIMIT_FAILED_AUTH_PER_MINUTE: intFrom(0, 30),
  })
  .transform((e) => ({
    perKeyPerMinute: e.RATE_LIMIT_PER_MINUTE,
    failedAuthPerMinute: e.RATE_LIMIT_FAILED_AUTH_PER_MINUTE,
  }));

const ops = z
  .object({
    // a partition with lag whose committed offset has not moved for this long is reported stalled
    METER_STALL_AFTER_MS: intFrom(1000, 30_000),
    // a meter process run alone serves /livez, /readyz and /metrics on this port (0 = none)
    METER_HTTP_PORT: intFrom(0, 8081),
    // the same for an invoice worker run alone
    INVOICES_HTTP_PORT: intFrom(0, 8082),
    // token and cost counters per consumer in /metrics (one series per consumer: off by default)
    METRICS_PER_CONSUMER: z.enum(["true", "false"]).default("false"),
    // readiness probes, lag and database gauges are computed at most once per this interval, whatever the request rate
    OPS_CACHE_MS: intFrom(0, 2000),
    // when set, /metrics answers only Authorization: Bearer <token> (Prometheus: authorization.credentials)
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    // the API serves /livez, /readyz and /metrics on this port of its own instead of its main one (0 = the main port)
    METRICS_PORT: intFrom(0, 0),
  })
  .transform((e) => ({
    stallAfterMs: e.METER_STALL_AFTER_MS,
    meterHttpPort: e.METER_HTTP_PORT,
    invoicesHttpPort: e.INVOICES_HTTP_PORT,
    metricsPerConsumer: e.METRICS_PER_CONSUMER === "true",
    cacheMs: e.OPS_CACHE_MS,
    metricsToken: e.METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
  }));

const authorize = z
  .object({
    // what authorize answers for a consumer tokenmeter has no metadata for
    AUTHORIZE_UNCONFIGURED: z.enum(["allow", "deny"]).default("allow"),
    // how long an API process may serve cached metadata if a change notice from Redis was missed; 0 = no cache
    METADATA_CACHE_TTL_MS: intFrom(0, 30_000),
    // time authorize may spend counting a request's input tokens (off the event loop)
    AUTHORIZE_COUNT_BUDGET_MS: intFrom(1, 100),
    // what authorize does when counting ran past its budget and the body may exceed max_input_tokens
    AUTHORIZE_COUNT_OVER_BUDGET: z.enum(["allow", "deny"]).default("allow"),
    // worker threads that count large authorize bodies (0 = count on the event loop)
    AUTHORIZE_COUNT_WORKERS: intFrom(0, 2),
    // input tokens held for a body the gateway could not read, or with parts stored elsewhere, when the consumer has no
    // max_input_tokens
    AUTHORIZE_UNSIZED_INPUT_TOKENS: intFrom(0, 128_000),
  })
  .transform((e) => ({
    unconfigured: e.AUTHORIZE_UNCONFIGURED,
    cacheTtlMs: e.METADATA_CACHE_TTL_MS,
    countBudgetMs: e.AUTHORIZE_COUNT_BUDGET_MS,
    countOverBudget: e.AUTHORIZE_COUNT_OVER_BUDGET,
    countWorkers: e.AUTHORIZE_COUNT_WORKERS,
    unsizedInputTokens: e.AUTHORIZE_UNSIZED_INPUT_TOKENS,
  }));

const tdl = z
  .object({
    // the upper token bounds of load levels 0-8 (level 9 is everything above)
    TDL_LEVEL_BOUNDS: levelBounds.prefault("256,512,1024,2048,4096,8192,16384,32768,65536"),
  })
  .transform((e) => ({ levelBounds: e.TDL_LEVEL_BOUNDS }));

const budgets = z
  .object({
    // what authorize does while Redis (the hold ledger) is away: closed checks committed spend in
    // PostgreSQL (no holds, so concurrent calls may pass the limit by what they spend), open allows
    BUDGET_REDIS_DOWN: z.enum(["closed", "open"]).default("closed"),
    // a hold no metered event settles is released after this long (longer than a call plus metering lag)
    BUDGET_HOLD_TTL_MS: intFrom(1000, 15 * 60_000),
    // output tokens held for a call with no max-tokens field and no max_output_tokens limit
    BUDGET_UNBOUNDED_OUTPUT_TOKENS: intFrom(0, 4096),
    // the least output, per completion, a budget may cap a call to; below it the call is refused with 429
    BUDGET_MIN_OUTPUT_TOKENS: intFrom(1, 16),
  })
  .transform((e) => ({
    redisDown: e.BUDGET_REDIS_DOWN,
    holdTtlMs: e.BUDGET_HOLD_TTL_MS,
    unboundedOutputTokens: e.BUDGET_UNBOUNDED_OUTPUT_TOKENS,
    minOutputTokens: e.BUDGET_MIN_OUTPUT_TOKENS,
  }));

const credits = z
  .object({
    // credits.expiring is sent this many days before a grant with something left expires (0: never)
    CREDITS_EXPIRING_DAYS: intFrom(0, 7).pipe(z.number().max(365)),
  })
  .transform((e) => ({ expiringDays: e.CREDITS_EXPIRING_DAYS }));

const webhooks = z
  .object({
    // 32 bytes, base64, that encrypt endpoints' signing secrets at rest (required to add endpoints)
    WEBHOOK_SECRET_KEY: z.string().optional(),
    // keys secrets were encrypted under before (comma-separated, base64): they decrypt, never encrypt
    WEBHOOK_PREVIOUS_SECRET_KEYS: list.prefault(""),
    // the operator's own networks webhooks may be delivered to (CIDRs); every other internal address is refused
    WEBHOOK_ALLOWED_NETWORKS: z.string().default(""),
    WEBHOOK_ATTEMPTS: intFrom(1, 10),
    // first retry after this long, then doubling
    WEBHOOK_BACKOFF_MS: intFrom(10, 10_000),
    WEBHOOK_TIMEOUT_MS: intFrom(100, 10_000),
  })
  .transform((e, ctx) => {
    let allowedNetworks = AllowedNetworks.parse("");
    try {
      allowedNetworks = AllowedNetworks.parse(e.WEBHOOK_ALLOWED_NETWORKS);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message, path: ["WEBHOOK_ALLOWED_NETWORKS"] });
    }
    return {
      secretKey: e.WEBHOOK_SECRET_KEY ? base64Key(e.WEBHOOK_SECRET_KEY, ctx, "WEBHOOK_SECRET_KEY") : null,
      previousKeys: e.WEBHOOK_PREVIOUS_SECRET_KEYS.map((k) => base64Key(k, ctx, "WEBHOOK_PREVIOUS_SECRET_KEYS")!),
      allowedNetworks,
      attempts: e.WEBHOOK_ATTEMPTS,
      backoffMs: e.WEBHOOK_BACKOFF_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    };
  });

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

const metering = z
  .object({
    // prices of consumers created or registered without any: both or neither (unset: their calls are unpriced, never
    // free)
    DEFAULT_INPUT_COST_PER_TOKEN: decimalString.optional(),
    DEFAULT_OUTPUT_COST_PER_TOKEN: decimalString.optional(),
    // the price book (name) that consumers registered from logs are billed by
    DEFAULT_PLAN: z.string().trim().min(1).max(100).optional(),
    // the encoding of a model tiktoken does not know
    DEFAULT_TOKEN_ENCODING: z.enum(ENCODINGS).default("cl100k_base"),
    // time one event's payloads may take to count (10 s holds the worst 10 MiB body); past it the provider's figure is
    // billed, flagged
    METER_COUNT_BUDGET_MS: intFrom(1, 10_000),
    // route name or id -> the model a log without one is metered as
    MODEL_BY_ROUTE: jsonMap.prefault("{}"),
    // route name, route id or model -> capability index 0-4
    CAPABILITY_MAP: jsonMap.prefault("{}"),
    // where a log entry holds the request and response bodies, first found wins (ai-proxy's logged payloads come after)
    METER_REQUEST_BODY_PATHS: bodyPaths.prefault(DEFAULT_BODY_PATHS.request.join(",")),
    METER_RESPONSE_BODY_PATHS: bodyPaths.prefault(DEFAULT_BODY_PATHS.response.join(",")),
    // model families billed from the provider's figure rather than our tiktoken count (their tokenizer is not
    // tiktoken's)
    METER_PROVIDER_BILLED_MODELS: modelPatterns.prefault(""),
    // model families billed from our count first; empty: the models whose tokenizer tiktoken has (OpenAI's)
    METER_COUNT_BILLED_MODELS: modelPatterns.prefault(""),
  })
  .transform((e, ctx) => {
    const input = e.DEFAULT_INPUT_COST_PER_TOKEN;
    const output = e.DEFAULT_OUTPUT_COST_PER_TOKEN;
    if ((input === undefined) !== (output === undefined)) {
      const missing = input === undefined ? "DEFAULT_INPUT_COST_PER_TOKEN" : "DEFAULT_OUTPUT_COST_PER_TOKEN";
      ctx.addIssue({
        code: "custom",
        message: "must be set with the other default price (state 0 for a free one)",
        path: [missing],
      });
    }
    const capabilityMap = new Map<string, number>();
    for (const [route, index] of e.CAPABILITY_MAP) {
      const n = Number(index);
      if (Number.isInteger(n) && n >= 0 && n <= 4) capabilityMap.set(route, n);
      else ctx.addIssue({ code: "custom", message: "must be a capability index 0-4", path: ["CAPABILITY_MAP", route] });
    }
    return {
      /** Prices of consumers created or registered without any; null: their calls stay unpriced. */
      defaultPrices:
        input !== undefined && output !== undefined
          ? { inputCostPerToken: new Decimal(input), outputCostPerToken: new Decimal(output) }
          : null,
      /** The price book consumers registered from logs are billed by. */
      defaultPlan: e.DEFAULT_PLAN ?? null,
      defaultEncoding: e.DEFAULT_TOKEN_ENCODING,
      countBudgetMs: e.METER_COUNT_BUDGET_MS,
      /** Keyed by names from logs: Maps, so "__proto__" or "constructor" is just a name. */
      modelByRoute: e.MODEL_BY_ROUTE as ReadonlyMap<string, string>,
      capabilityMap: capabilityMap as ReadonlyMap<string, number>,
      requestBodyPaths: e.METER_REQUEST_BODY_PATHS as readonly string[],
      responseBodyPaths: e.METER_RESPONSE_BODY_PATHS as readonly string[],
      /** Models whose billed tokens are the provider's figure when there is one (see billing-policy.ts). */
      providerBilled: providerBilledFor(e.METER_PROVIDER_BILLED_MODELS, e.METER_COUNT_BILLED_MODELS),
    };
  });

export const SECTIONS = {
  http,
  kafka,
  ingest,
  billing,
  redis,
  usage,
  rateLimits,
  ops,
  authorize,
  tdl,
  budgets,
  credits,
  webhooks,
  metering,
};

export const PROCESS = process;
