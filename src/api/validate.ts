import type { z } from "zod";
import { validationFailed } from "../domain/errors.ts";

/** Parses with a zod schema; the first problem becomes a 400 that names its field. */
export function validate<T extends z.ZodTypeAny>(schema: T, value: unknown, prefix = ""): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const unknownKeys = issue.code === "unrecognized_keys" ? issue.keys : [];
  const path = [prefix, ...issue.path.map(String), ...unknownKeys.slice(0, 1)].filter(Boolean).join(".");
  throw validationFailed(`${path || "body"}: ${issue.message}`, path || "body");
}
