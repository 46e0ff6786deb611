// Kong as the plugin sees it through kong-pdk, without Kong: kong-pdk's own bridge (pdk.js, the
// camelCase -> snake_case RPC proxy the plugin server hands to every phase) talks to a recorded
// Kong on the other end of its pipe. The recorded answers are what Kong 3.9 returns for a
// key-auth consumer on an ai-proxy route; a method Kong's PDK does not have is refused, and the
// list of Kong's methods is the one kong-pdk generated from Kong's pdk.lua.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";

const require = createRequire(import.meta.url);
const PDK = require("kong-pdk/pdk.js") as new (pipe: unknown) => { kong: unknown };
const PDK_ROOT = join(require.resolve("kong-pdk/pdk.js"), "..", "kong");

// the bridge's own name mapping, so the recording is keyed as Kong receives the calls
const snake = (name: string) => name.replace(/[a-z][A-Z]/g, (s) => `${s[0]}_${s[1]!.toLowerCase()}`);

/** Every `kong.*` method kong-pdk's declarations (generated from Kong's pdk.lua) list. */
export function kongPdkMethods(): Set<string> {
  const methods = new Set<string>();
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const path = join(dir, f);
      if (statSync(path).isDirectory()) walk(path);
      else if (f.endsWith(".d.ts")) {
        const module = relative(PDK_ROOT, path)
          .replace(/(\/index)?\.d\.ts$/, "")
          .replace(/\//g, ".");
        const prefix = module === "index" ? "kong" : `kong.${module}`;
        for (const m of readFileSync(path, "utf8").matchAll(/^ {4}(\w+)\(/gm)) methods.add(`${prefix}.${snake(m[1]!)}`);
      }
    }
  };
  walk(PDK_ROOT);
  return methods;
}

export type ProxiedRequest = {
  path: string;
  query?: string;
  body?: string | null;
  /** Kong's consumer entity; null when the route has no authentication. */
  consumer?: { id: string; username?: string; custom_id?: string } | null;
  route?: { id: string; name: string };
  /** The route's service timeouts (ms); Kong's defaults when absent. */
  timeouts?: { connect_timeout: number; write_timeout: number; read_timeout: number };
};

export type Recording = {
  calls: Array<{ method: string; args: unknown[] }>;
  exit?: { status: number; body?: string; headers?: Record<string, string> };
  upstreamHeaders: Record<string, string>;
  /** The body the plugin set for the upstream request (kong.service.request.set_raw_body), if it did. */
  upstreamBody?: string;
  logs: Array<{ level: string; message: string }>;
  /** What the plugin added to Kong's log entry (kong.log.set_serialize_value). */
  serialized: Record<string, unknown>;
};

/** A recorded Kong for one request, and the `kong` object the plugin server would pass to a phase. */
export function recordedKong(req: ProxiedRequest): { kong: unknown; recording: Recording } {
  const consumer = req.consumer === undefined ? null : req.consumer;
  const entity = (e: object) => ({
    created_at: 1764000000,
    updated_at: 1764000000,
    ws_id: "0dc6f45b-8f8d-40d2-a504-473544ee190b",
    ...e,
  });
  const answers: Record<string, (...args: unknown[]) => unknown> = {
    "kong.client.get_consumer": () => (consumer ? entity({ type: 0, tags: null, ...consumer }) : null),
    "kong.request.get_path": () => req.path,
    "kong.request.get_raw_query": () => req.query ?? "",
    "kong.request.get_raw_body": () => req.body ?? null,
    "kong.router.get_route": () =>
      req.route
        ? entity({
            protocols: ["http", "https"],
            paths: ["/llama2/chat"],
            strip_path: true,
            preserve_host: false,
            ...req.route,
          })
        : null,
    "kong.router.get_service": () =>
      entity({
        id: "6f2b7c1e-3f7d-4a3e-9a52-0b7d3c1d2e4f",
        name: "llm",
        protocol: "https",
        host: "api.openai.com",
        port: 443,
        retries: 5,
        connect_timeout: 60000,
        write_timeout: 60000,
        read_timeout: 60000,
        ...req.timeouts,
      }),
    "kong.service.request.set_headers": (headers) => Object.assign(recording.upstreamHeaders, headers),
    "kong.service.request.set_raw_body": (body) => {
      recording.upstreamBody = body as string;
    },
    "kong.response.exit": (status, body, headers) => {
      recording.exit = {
        status: status as number,
        body: body as string | undefined,
        headers: headers as Record<string, string> | undefined,
      };
    },
    "kong.log.set_serialize_value": (key, value) => {
      recording.serialized[key as string] = value;
    },
    "kong.log.warn": (...args) => recording.logs.push({ level: "warn", message: args.join("") }),
    "kong.log.err": (...args) => recording.logs.push({ level: "err", message: args.join("") }),
  };
  const recording: Recording = { calls: [], upstreamHeaders: {}, logs: [], serialized: {} };
  let pending: [unknown, string | null] = [null, null];
  const pipe = {
    put({ Method, Args }: { Method: string; Args: unknown[] }) {
      recording.calls.push({ method: Method, args: Args });
      const answer = answers[Method];
      // Kong answers an unknown method with an error, which the bridge throws as a PDKError
      pending = answer ? [answer(...Args) ?? null, null] : [null, `no PDK method ${Method} recorded`];
    },
    async get() {
      return pending;
    },
  };
  return { kong: new PDK(pipe).kong, recording };
}
