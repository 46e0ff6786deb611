// The `user-metadata` Kong plugin, for Kong's JavaScript plugin server (npm package kong-pdk).
// In the access phase it asks tokenmeter's authorize endpoint about the call, then either sets
// the X-User-* headers upstream or answers the client itself: 403 for a capability or token
// limit, 429 for a TDL slot limit or a budget, 402 for spent prepaid credit, with a JSON reason.
// On /api/user-metadata and /api/tdl-matrix it answers with tokenmeter's view of the caller, as
// the original plugin did.
//
// The plugin server loads this file with ts-node as CommonJS, alone in its plugins directory: it
// imports nothing, so it runs there exactly as it is tested here.

/** The part of kong-pdk's bridge this plugin calls (camelCase names become Kong's snake_case). */
export type Pdk = {
  client: { getConsumer(): Promise<KongConsumer | null | undefined> };
  request: {
    getPath(): Promise<string>;
    getRawQuery(): Promise<string>;
    getRawBody(): Promise<string | null | undefined>;
  };
  router: {
    getRoute(): Promise<{ id?: string; name?: string } | null | undefined>;
    getService(): Promise<
      { connect_timeout?: number; write_timeout?: number; read_timeout?: number } | null | undefined
    >;
  };
  service: {
    request: {
      setHeaders(headers: Record<string, string>): Promise<unknown>;
      setRawBody(body: string): Promise<unknown>;
    };
  };
  response: { exit(status: number, body?: string, headers?: Record<string, string>): Promise<unknown> };
  log: {
    warn(...args: unknown[]): Promise<unknown>;
    err(...args: unknown[]): Promise<unknown>;
    setSerializeValue(key: string, value: unknown): Promise<unknown>;
  };
};

type KongConsumer = { id?: string; username?: string; custom_id?: string };

export type UserMetadataConfig = {
  tokenmeter_url: string;
  /** Kong's shared secret with tokenmeter; a vault reference works. Falls back to TOKENMETER_GATEWAY_SECRET. */
  gateway_secret?: string | null;
  timeout_ms: number;
  /** When tokenmeter cannot answer in time: true lets the call through, false answers 503. */
  fail_open: boolean;
};

type Decision = {
  allow: boolean;
  status: number;
  reason: { code: string; message: string; [detail: string]: unknown } | null;
  headers: Record<string, string>;
  /** Output caps to set in the upstream body (dotted paths), so it generates no more than was held. */
  body_fields?: Record<string, number>;
};

const SEED_PATHS = new Set(["/api/user-metadata", "/api/tdl-matrix"]);
const JSON_TYPE = { "Content-Type": "application/json; charset=utf-8" };

export const Name = "user-metadata";
export const Version = "1.0.0";
// after authentication (key-auth 1250) and before ai-proxy (770) rewrites the client's body
export const Priority = 900;

export const Schema = [
  { tokenmeter_url: { type: "string", required: true, default: "http://tokenmeter:8080" } },
  { gateway_secret: { type: "string", required: false, referenceable: true, encrypted: true } },
  { timeout_ms: { type: "integer", required: true, default: 300, between: [1, 60000] } },
  { fail_open: { type: "boolean", required: true, default: true } },
  // The original plugin kept each consumer's metadata here. They are accepted so an existing
  // config still loads, and ignored: tokenmeter holds the metadata (import the file into it).
  { id: { type: "string" } },
  { provider_name: { type: "string" } },
  { tags: { type: "array", elements: { type: "string" } } },
  { tdl_matrix: { type: "map", keys: { type: "string" }, values: { type: "array", elements: { type: "integer" } } } },
  { capabilities: { type: "array", elements: { type: "integer" } } },
  { max_input_tokens: { type: "integer" } },
  { max_output_tokens: { type: "integer" } },
  { input_cost_per_token: { type: "number" } },
  { output_cost_per_token: { type: "number" } },
];

function withDefaults(config: Partial<UserMetadataConfig>): UserMetadataConfig {
  return {
    tokenmeter_url: (config.tokenmeter_url ?? "http://tokenmeter:8080").replace(/\/+$/, ""),
    gateway_secret: config.gateway_secret ?? process.env.TOKENMETER_GATEWAY_SECRET ?? null,
    timeout_ms: config.timeout_ms ?? 300,
    fail_open: config.fail_open ?? true,
  };
}

/** A random id for a budget hold (Web Crypto's UUID: global in the plugin server's Node). */
function newHoldId(): string {
  return `hold-${globalThis.crypto.randomUUID()}`;
}

/** The body with each dotted field set (objects made on the way), as JSON text. */
export function withFields(rawBody: string, fields: Record<string, number>): string {
  const body = JSON.parse(rawBody) as Record<string, unknown>;
  for (const [path, value] of Object.entries(fields)) {
    const keys = path.split(".");
    let at = body;
    for (const key of keys.slice(0, -1)) {
      const next = at[key];
      at = (at[key] = typeof next === "object" && next !== null && !Array.isArray(next) ? next : {}) as Record<
        string,
        unknown
      >;
    }
    at[keys[keys.length - 1]!] = value;
  }
  return JSON.stringify(body);
}

export class Plugin {
  private readonly config: UserMetadataConfig;

  constructor(config: Partial<UserMetadataConfig>) {
    this.config = withDefaults(config ?? {});
  }

  async access(kong: Pdk): Promise<void> {
    const consumer = await kong.client.getConsumer();
    const path = await kong.request.getPath();
    if (SEED_PATHS.has(path)) return this.answerSeedPath(kong, path, consumer);
    if (!consumer) return; // not authenticated on this route: nothing to authorize or describe

    const route = await kong.router.getRoute();
    const service = await kong.router.getService().catch(() => null);
    // the longest Kong lets the call run: a budget hold outlives it (Kong's defaults: 60 s each)
    const timeoutMs = service
      ? (service.connect_timeout ?? 60_000) + (service.write_timeout ?? 60_000) + (service.read_timeout ?? 60_000)
      : undefined;
    // nil when Kong buffered it to disk: held at the consumer's max_input_tokens
    const body = await kong.request.getRawBody();
    // The budget hold this call takes is settled by the metered log: the plugin names the hold in
    // the log itself (Kong's plugin API gives it no request id), which works on every Kong version.
    const holdId = newHoldId();
    await kong.log.setSerializeValue("tokenmeter.hold_id", holdId).catch(() => undefined); // unsettled, it expires
    let decision: Decision;
    try {
      const res = await this.call("POST", "/v1/gateway/authorize", {
        consumer: { id: consumer.id, username: consumer.username, custom_id: consumer.custom_id },
        route: route ? { id: route.id, name: route.name } : undefined,
        body: body ?? null,
        request_id: holdId,
        timeout_ms: timeoutMs,
      });
      if (res.status !== 200) throw new Error(`authorize answered ${res.status}: ${res.text.slice(0, 200)}`);
      decision = JSON.parse(res.text) as Decision;
    } catch (err) {
      return this.unavailable(kong, err);
    }

    if (decision.allow) {
      if (Object.keys(decision.headers).length > 0) await kong.service.request.setHeaders(decision.headers);
      if (decision.body_fields && body) await kong.service.request.setRawBody(withFields(body, decision.body_fields));
      return;
    }
    const reason = decision.reason ?? { code: "denied", message: "denied" };
    const { message, code, ...details } = reason;
    await kong.response.exit(decision.status, JSON.stringify({ message, reason: code, ...details }), JSON_TYPE);
  }

  private async answerSeedPath(kong: Pdk, path: string, consumer: KongConsumer | null | undefined): Promise<void> {
    if (!consumer) {
      await kong.response.exit(401, JSON.stringify({ message: "Unauthorized" }), JSON_TYPE);
      return;
    }
    const query = await kong.request.getRawQuery();
    try {
      const headers: Record<string, string> = {};
      if (consumer.id) headers["X-Consumer-ID"] = consumer.id;
      if (consumer.username) headers["X-Consumer-Username"] = consumer.username;
      if (consumer.custom_id) headers["X-Consumer-Custom-ID"] = consumer.custom_id;
      const res = await this.call("GET", `${path}${query ? `?${query}` : ""}`, undefined, headers);
      await kong.response.exit(res.status, res.text, JSON_TYPE);
    } catch (err) {
      await kong.log.err(`user-metadata: tokenmeter unavailable: ${String(err)}`);
      await kong.response.exit(503, JSON.stringify({ message: "user metadata is unavailable" }), JSON_TYPE);
    }
  }

  private async unavailable(kong: Pdk, err: unknown): Promise<void> {
    if (this.config.fail_open) {
      await kong.log.warn(`user-metadata: authorize failed, letting the call through (fail_open): ${String(err)}`);
      return;
    }
    await kong.log.err(`user-metadata: authorize failed, refusing the call (fail_open=false): ${String(err)}`);
    await kong.response.exit(
      503,
      JSON.stringify({ message: "usage authorization is unavailable", reason: "authorize_unavailable" }),
      JSON_TYPE,
    );
  }

  private async call(method: "GET" | "POST", path: string, body?: unknown, headers: Record<string, string> = {}) {
    const auth: Record<string, string> = this.config.gateway_secret
      ? { Authorization: `Bearer ${this.config.gateway_secret}` }
      : {};
    const res = await fetch(`${this.config.tokenmeter_url}${path}`, {
      method,
      headers: { ...auth, ...headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.config.timeout_ms),
    });
    return { status: res.status, text: await res.text() };
  }
}
