// Reads a Kong declarative config (_format_version "3.0", YAML or JSON) into consumers to import:
// identity from `consumers[]`, metadata from a `user-metadata` plugin nested in the consumer or at
// the top level with `consumer:`. Every problem of a consumer is collected, naming its field.
import { isScalar, parseDocument, visit } from "yaml";
import { z } from "zod";
import { MetadataSchema, type ConsumerBody, type MetadataInput } from "./consumer.schema.ts";
import { validationFailed } from "../domain/errors.ts";
import { isJsonObject } from "../domain/json.ts";

const PLUGIN_NAME = "user-metadata";
const PRICE_FIELDS = new Set(["input_cost_per_token", "output_cost_per_token"]);
/** The plugin's own connection settings: meaningful to Kong, not metadata. */
const CONNECTION_FIELDS = new Set(["tokenmeter_url", "gateway_secret", "timeout_ms", "fail_open"]);
const REQUIRED_FIELDS = [
  "id",
  "provider_name",
  "tdl_matrix",
  "capabilities",
  "max_input_tokens",
  "max_output_tokens",
  ...PRICE_FIELDS,
];

export type Problem = { field: string; message: string };
export type ImportCandidate = {
  /** Position in the file's consumers[]. */
  index: number;
  identity: { username?: string; custom_id?: string; kong_id?: string };
  body: ConsumerBody;
  hasMetadata: boolean;
  credentials: number;
  problems: Problem[];
};

type Json = Record<string, unknown>;

/**
 * Parses YAML (JSON is YAML too). Prices keep the digits written in the file: a YAML number is a
 * binary float, so each price is taken from its source text instead (0.000000083 stays exact).
 */
function parseText(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
    const what = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw validationFailed(`body: not valid YAML or JSON${at}: ${what}`, "body");
  }
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && PRICE_FIELDS.has(String(pair.key.value)) && isScalar(pair.value)) {
        if (typeof pair.value.value === "number" && pair.value.source) pair.value.value = pair.value.source;
      }
    },
  });
  return doc.toJS();
}

const Identity = z
  .object({
    id: z.string().uuid().optional(),
    username: z.string().min(1).max(200).optional(),
    custom_id: z.string().min(1).max(200).optional(),
  })
  .passthrough();

function pluginMetadata(config: unknown, at: string, problems: Problem[]): MetadataInput | undefined {
  if (!isJsonObject(config)) {
    problems.push({ field: `${at}.config`, message: "must be an object" });
    return undefined;
  }
  const fields = Object.fromEntries(Object.entries(config).filter(([k, v]) => !CONNECTION_FIELDS.has(k) && v !== null));
  for (const f of REQUIRED_FIELDS)
    if (fields[f] === undefined) problems.push({ field: `${at}.config.${f}`, message: "is required" });
  const parsed = MetadataSchema.safeParse(fields);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const keys = i.code === "unrecognized_keys" ? i.keys : [""];
      for (const k of keys)
        problems.push({
          field: [`${at}.config`, ...i.path.map(String), k].filter(Boolean).join("."),
          message: i.message,
        });
    }
    return undefined;
  }
  return { tags: [], ...parsed.data };
}

/** The file's consumers with their metadata; throws 400 only when the file as a whole is unusable. */
export function readKongConfig(text: string): { formatVersion: string; candidates: ImportCandidate[] } {
  const root = parseText(text);
  if (!isJsonObject(root))
    throw validationFailed("body: must be a Kong declarative config (a mapping with _format_version)", "body");
  if (root._format_version !== "3.0") {
    throw validationFailed(
      `_format_version: must be "3.0" (a quoted string), got ${JSON.stringify(root._format_version ?? null)}`,
      "_format_version",
    );
  }
  const consumers = root.consumers ?? [];
  if (!Array.isArray(consumers)) throw validationFailed("consumers: must be a list", "consumers");
  const candidates = consumers.map((c, index) => candidateOf(c, index));
  attachTopLevelPlugins(root.plugins, candidates);
  rejectDuplicates(candidates);
  return { formatVersion: root._format_version, candidates };
}

function candidateOf(raw: unknown, index: number): ImportCandidate {
  const at = `consumers.${index}`;
  const problems: Problem[] = [];
  const c = isJsonObject(raw) ? raw : {};
  if (!isJsonObject(raw)) problems.push({ field: at, message: "must be a mapping" });
  const identity = Identity.safeParse(c);
  const ids = identity.success ? identity.data : {};
  if (!identity.success)
    for (const i of identity.error.issues)
      problems.push({ field: [at, ...i.path.map(String)].join("."), message: i.message });
  if (identity.success && !ids.username && !ids.custom_id)
    problems.push({ field: `${at}.username`, message: "a consumer needs a username or a custom_id" });

  const plugins = Array.isArray(c.plugins) ? c.plugins : [];
  const mine = plugins.map((p, i) => [p, i] as const).filter(([p]) => isJsonObject(p) && p.name === PLUGIN_NAME);
  if (mine.length > 1)
    problems.push({ field: `${at}.plugins`, message: `${PLUGIN_NAME} is configured more than once` });
  const metadata =
    mine.length === 1
      ? pluginMetadata((mine[0]![0] as Json).config, `${at}.plugins.${mine[0]![1]}`, problems)
      : undefined;
  return {
    index,
    identity: { username: ids.username, custom_id: ids.custom_id, kong_id: ids.id },
    body: { username: ids.username, custom_id: ids.custom_id, kong_id: ids.id, metadata },
    hasMetadata: mine.length === 1,
    credentials: Array.isArray(c.keyauth_credentials) ? c.keyauth_credentials.length : 0,
    problems,
  };
}

/** Top-level `plugins[]` entries scoped to a consumer by `consumer: <username or id>`. */
function attachTopLevelPlugins(plugins: unknown, candidates: ImportCandidate[]): void {
  if (!Array.isArray(plugins)) return;
  plugins.forEach((p, i) => {
    if (!isJsonObject(p) || p.name !== PLUGIN_NAME) return;
    const ref = isJsonObject(p.consumer) ? (p.consumer.username ?? p.consumer.id) : p.consumer;
    const target = candidates.find(
      (c) => ref !== undefined && (c.identity.username === ref || c.identity.kong_id === ref),
    );
    if (!target) return; // a global or unknown-consumer instance carries no consumer's metadata
    if (target.hasMetadata) {
      target.problems.push({
        field: `plugins.${i}`,
        message: `${PLUGIN_NAME} is configured more than once for this consumer`,
      });
      return;
    }
    target.hasMetadata = true;
    target.body.metadata = pluginMetadata(p.config, `plugins.${i}`, target.problems);
  });
}

function rejectDuplicates(candidates: ImportCandidate[]): void {
  for (const key of ["username", "custom_id", "kong_id"] as const) {
    const seen = new Map<string, ImportCandidate[]>();
    for (const c of candidates) {
      const v = c.identity[key];
      if (v) seen.set(v, [...(seen.get(v) ?? []), c]);
    }
    for (const [value, group] of seen) {
      if (group.length < 2) continue;
      for (const c of group)
        c.problems.push({
          field: `consumers.${c.index}.${key === "kong_id" ? "id" : key}`,
          message: `${value} appears ${group.length} times in the file`,
        });
    }
  }
}
