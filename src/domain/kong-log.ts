// The fields of Kong's http-log entry that metering reads, in every shape from Kong 3.6 on
// (shared fact sheet: kong-payloads.md). Everything else in the entry is kept but not interpreted.
// Every value the meter stores passes through src/domain/storable.ts here, on its way in.
import { z } from "zod";
import { providerFigures, usageFigures, type ProviderFigures, type UsageFigures } from "./provider-usage.ts";
import { storableId, storableText } from "./storable.ts";
import { asJsonObject } from "./json.ts";

const headerValue = z.union([z.string(), z.array(z.string())]);
const headers = z.record(z.string(), headerValue).optional();
const body = z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional();
const name = z.string().transform((s) => storableText(s));
const id = z.string().transform((s) => storableId(s));
const entity = z.object({ id: name.optional(), name: name.optional() }).passthrough();

/** How Kong names a consumer: its id, username or custom id (any of them). */
export type KongConsumerRef = { kongId?: string; username?: string; customId?: string };

export const KongLogSchema = z
  .object({
    request: z
      .object({
        id: z.string().optional(),
        method: z.string().optional(),
        uri: z.string().optional(),
        url: z.string().optional(),
        headers,
        querystring: z.record(z.string(), z.unknown()).optional(),
        body,
      })
      .passthrough(),
    response: z.object({ status: z.number().int().min(0).max(999), headers, body }).passthrough(),
    upstream_status: z
      .union([z.string(), z.number()])
      .transform((v) => storableText(String(v), 64))
      .optional(),
    started_at: z
      .number()
      .finite()
      // 2000-01-01 .. 2100-01-01: anything else is a corrupt clock or not milliseconds
      .min(946_684_800_000, "must be epoch milliseconds after 2000")
      .max(4_102_444_800_000, "must be epoch milliseconds before 2100"),
    consumer: z
      .object({ id: id.optional(), username: id.optional(), custom_id: id.optional() })
      .passthrough()
      .optional(),
    route: entity.optional(),
    service: entity.optional(),
    source: name.optional(),
    ai: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export type KongLog = z.infer<typeof KongLogSchema>;

/**
 * The budget hold id the user-metadata plugin wrote into the log (kong.log.set_serialize_value
 * "tokenmeter.hold_id"), for Kong versions whose plugin API has no request id. Absent otherwise.
 */
export function holdIdOf(log: KongLog): string | undefined {
  const v = (log.tokenmeter as { hold_id?: unknown } | undefined)?.hold_id;
  return typeof v === "string" && v !== "" && v.length <= 200 ? v : undefined;
}

/** One AI usage block: `ai` itself in 3.6, `ai["ai-proxy"]` in 3.7/3.8, `ai.proxy` from 3.9. */
export type AiBlock = {
  name: string;
  /** Token figures of its `usage` (details included, see provider-usage.ts). */
  usage: UsageFigures;
  requestModel?: string;
  responseModel?: string;
  provider?: string;
  requestPayload?: unknown;
  responsePayload?: unknown;
};

/** Where a log entry holds the request and response bodies (METER_REQUEST_BODY_PATHS, METER_RESPONSE_BODY_PATHS). */
export type BodyPaths = { request: readonly string[]; response: readonly string[] };

/** The names operators commonly give custom_fields_by_lua for the bodies. */
export const DEFAULT_BODY_PATHS: BodyPaths = {
  request: ["request.body", "request_body", "req_body", "body.request"],
  response: ["response.body", "response_body", "resp_body", "res_body", "body.response"],
};

const PROXY_BLOCKS = new Set(["proxy", "ai-proxy", "ai-proxy-advanced"]);

const obj = asJsonObject;
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? storableText(v) : undefined);

function readBlock(name: string, b: Record<string, unknown>): AiBlock {
  const meta = obj(b.meta) ?? {};
  const payload = obj(b.payload) ?? {};
  return {
    name,
    usage: usageFigures(obj(b.usage)),
    requestModel: str(meta.request_model),
    responseModel: str(meta.response_model),
    provider: str(meta.provider_name),
    requestPayload: payload.request,
    responsePayload: payload.response,
  };
}

export function aiBlocks(log: KongLog): AiBlock[] {
  const ai = log.ai;
  if (!ai) return [];
  if (obj(ai.usage) || obj(ai.meta) || obj(ai.payload)) return [readBlock("proxy", ai)];
  const blocks: AiBlock[] = [];
  for (const [name, value] of Object.entries(ai)) {
    const b = obj(value);
    if (b) blocks.push(readBlock(PROXY_BLOCKS.has(name) ? "proxy" : name, b));
  }
  return blocks;
}

export function proxyBlock(blocks: AiBlock[]): AiBlock | undefined {
  return blocks.find((b) => b.name === "proxy");
}

/**
 * Provider-reported figures: summed over every AI block that reported one (each block is its own
 * LLM call), each missing figure taken from `responseUsage`, the logged response's own `usage`.
 */
export function providerCounts(blocks: AiBlock[], responseUsage: UsageFigures = {}): ProviderFigures {
  return providerFigures(
    blocks.map((b) => b.usage),
    responseUsage,
  );
}

function headerOf(h: Record<string, string | string[]> | undefined, name: string): string | undefined {
  const v = h?.[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** The status the upstream finally answered with: the last of "502, 200", or undefined. */
export function finalUpstreamStatus(log: KongLog): number | undefined | null {
  if (log.upstream_status === undefined) return undefined; // before Kong 3.3
  const last = String(log.upstream_status).split(",").pop()?.trim() ?? "";
  if (last === "") return null; // Kong answered without proxying
  const n = Number(last);
  return Number.isInteger(n) ? n : null;
}

/**
 * A call is billable when the upstream answered it successfully. Kong's own answers (401, its
 * rate-limiting 429) and provider failures (429, 5xx) are kept as non-billable events.
 */
export function isBillable(log: KongLog): boolean {
  if (log.response.status >= 400 || log.source === "kong") return false;
  const upstream = finalUpstreamStatus(log);
  if (upstream === null) return false;
  if (upstream === undefined) return log.response.status >= 200;
  return upstream >= 200 && upstream < 300;
}

/** The model: ai-proxy's log block, ai-proxy's response header, the request body, the route map. */
export function modelOf(
  log: KongLog,
  proxy: AiBlock | undefined,
  requestBody: unknown,
  modelByRoute: ReadonlyMap<string, string>,
): string {
  const named =
    proxy?.responseModel ??
    proxy?.requestModel ??
    str(headerOf(log.response.headers, "x-kong-llm-model")) ??
    str(obj(requestBody)?.model);
  return modelOrRoute(named, log.route ?? {}, modelByRoute);
}

/** The model a report names, else its route's configured model (by name, then id), else "unknown". */
export function modelOrRoute(
  named: string | undefined,
  route: { id?: string; name?: string },
  modelByRoute: ReadonlyMap<string, string>,
): string {
  const key = route.name ?? route.id;
  return named ?? (key ? modelByRoute.get(key) : undefined) ?? "unknown";
}
