// Who reads: the operator, or one consumer. A consumer may see only its own consumer's data.
import { AppError } from "./errors.ts";

export type Viewer = { kind: "admin" } | { kind: "consumer"; consumerId: string };

/**
 * Another consumer's data answers 404, exactly as a consumer that does not exist, so a key cannot
 * probe who else is billed.
 */
export function assertVisible(viewer: Viewer | undefined, consumerId: string | null, ref: string = consumerId ?? "") {
  if (viewer?.kind === "consumer" && viewer.consumerId !== consumerId)
    throw new AppError("not_found", `consumer ${ref} not found`);
}
