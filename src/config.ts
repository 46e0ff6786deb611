// The one place that reads the environment. Every entry point calls loadConfig(process.env) and
// passes the result down; defaults work on a development machine with local services. Each
// section's variables and what they set are in src/config/sections.ts.
import type { z } from "zod";
import { DEV_ADMIN_API_KEY, DEV_INGEST_SECRET, PROCESS, SECTIONS } from "./config/sections.ts";

const MIN_PRODUCTION_ADMIN_KEY = 32;

type Sections = { [K in keyof typeof SECTIONS]: z.output<(typeof SECTIONS)[K]> };
export type Config = Readonly<z.output<typeof PROCESS> & Sections>;

class ConfigError extends Error {}

/** Refusals of a production start whose secrets are the development ones, or too weak. */
function productionProblems(c: Config): string[] {
  if (c.env !== "production") return [];
  if (c.ingest.secret === DEV_INGEST_SECRET || c.adminApiKey === DEV_ADMIN_API_KEY)
    return ["INGEST_SECRET and ADMIN_API_KEY must be set in production"];
  // the admin key opens everything: in production it is long, and not the secret every Kong node holds
  if (c.adminApiKey.length < MIN_PRODUCTION_ADMIN_KEY)
    return [`ADMIN_API_KEY: must be at least ${MIN_PRODUCTION_ADMIN_KEY} characters in production`];
  if (c.adminApiKey === c.ingest.secret) return ["ADMIN_API_KEY: must differ from INGEST_SECRET (Kong holds that one)"];
  return [];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const read = <S extends z.ZodType>(schema: S): z.output<S> | undefined => {
    const parsed = schema.safeParse(env);
    if (parsed.success) return parsed.data;
    problems.push(...parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
    return undefined;
  };
  const top = read(PROCESS);
  const sections = Object.fromEntries(Object.entries(SECTIONS).map(([name, s]) => [name, read(s)])) as Sections;
  const config = { ...top!, ...sections } as Config;
  if (problems.length === 0) problems.push(...productionProblems(config));
  if (problems.length > 0) {
    const unique = [...new Set(problems)];
    throw new ConfigError(`invalid configuration:\n${unique.map((p) => `  ${p}`).join("\n")}`);
  }
  return Object.freeze(config);
}
