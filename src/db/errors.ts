// Why a database call failed, as the meter needs to know it:
// - transient: PostgreSQL unreachable, busy, restarting, a serialization failure or deadlock, a
//   timeout; also schema trouble (a missing column is fixed by deploying, not by the data). The
//   same call is retried later and nothing is skipped.
// - data: PostgreSQL refused the values (SQLSTATE class 22 data exception, 23 integrity, 54 limit
//   exceeded, or Prisma's own validation of a value). Retrying cannot help; the event responsible
//   is found and dead-lettered with this reason.
// - unknown: anything else (a trigger's RAISE, an unexpected error). See workers/meter/isolate.ts.
// Errors come from Prisma (the driver adapter's cause inside) or straight from the pg driver (the
// meter's set-based writes, src/db/pool.ts); both carry PostgreSQL's SQLSTATE.
import { Prisma } from "./generated/client.ts";
import { withinTimeout } from "../lib/timeout.ts";

type FailureKind = "transient" | "data" | "unknown";
export type DbFailure = { kind: FailureKind; sqlState?: string; message: string };

const TRANSIENT_CLASSES = new Set(["08", "40", "42", "53", "55", "57", "58", "XX"]);
const DATA_CLASSES = new Set(["22", "23", "54"]);
const TRANSIENT_KINDS = new Set([
  "DatabaseNotReachable",
  "DatabaseDoesNotExist",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "TransactionWriteConflict",
  "TransactionAlreadyClosed",
  "AuthenticationFailed",
  "DatabaseAccessDenied",
]);
const TRANSIENT_PRISMA_CODES = new Set(["P2024", "P2028", "P2034"]);
const DATA_PRISMA_CODES = new Set(["P2000", "P2005", "P2006", "P2007", "P2011", "P2012", "P2019", "P2020", "P2023"]);
// errors of the pg driver or the socket under it, before PostgreSQL said anything
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EAI_AGAIN",
]);

type AdapterCause = { originalCode?: string; code?: string; kind?: string; originalMessage?: string; message?: string };

/** The driver adapter's account of a failure, wherever Prisma put it. */
function adapterCause(err: unknown): AdapterCause | undefined {
  const e = err as { name?: string; cause?: unknown; meta?: { driverAdapterError?: { cause?: unknown } } } | null;
  if (!e || typeof e !== "object") return undefined;
  if (e.name === "DriverAdapterError" && e.cause && typeof e.cause === "object") return e.cause as AdapterCause;
  const meta = e.meta?.driverAdapterError?.cause;
  return meta && typeof meta === "object" ? (meta as AdapterCause) : undefined;
}

/** SQLSTATE of an error PostgreSQL itself returned through the pg driver (it carries a severity). */
function pgSqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; severity?: unknown } | null;
  return e && typeof e === "object" && typeof e.code === "string" && typeof e.severity === "string"
    ? e.code
    : undefined;
}

export function classifyDbError(err: unknown): DbFailure {
  const message = err instanceof Error ? (err.message.split("\n").filter(Boolean).pop() ?? err.message) : String(err);
  const cause = adapterCause(err);
  const sqlState = cause?.originalCode ?? cause?.code ?? pgSqlState(err);
  if (sqlState && /^[0-9A-Z]{5}$/.test(sqlState)) {
    const cls = sqlState.slice(0, 2);
    const reason = `${cause?.originalMessage ?? cause?.message ?? message} (SQLSTATE ${sqlState})`;
    if (DATA_CLASSES.has(cls)) return { kind: "data", sqlState, message: reason };
    if (TRANSIENT_CLASSES.has(cls)) return { kind: "transient", sqlState, message: reason };
    return { kind: "unknown", sqlState, message: reason };
  }
  if (cause?.kind && TRANSIENT_KINDS.has(cause.kind)) return { kind: "transient", message };
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (TRANSIENT_PRISMA_CODES.has(err.code) || err.code.startsWith("P1")) return { kind: "transient", message };
    if (DATA_PRISMA_CODES.has(err.code)) return { kind: "data", message };
  }
  if (err instanceof Prisma.PrismaClientInitializationError || err instanceof Prisma.PrismaClientRustPanicError) {
    return { kind: "transient", message };
  }
  if (err instanceof Prisma.PrismaClientValidationError) return { kind: "data", message };
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && NETWORK_CODES.has(code)) return { kind: "transient", message };
  return { kind: "unknown", message };
}

/** The database cannot take writes now; the work is to be retried as a whole, later. */
export class TransientFailure extends Error {
  constructor(
    readonly failure: DbFailure,
    cause: unknown,
  ) {
    super(`database unavailable: ${failure.message}`, { cause });
    this.name = "TransientFailure";
  }
}

/** Whether PostgreSQL answers at all: an unclassified failure while it does not is transient. */
export async function databaseAnswers(
  db: { $queryRaw: (q: TemplateStringsArray) => Promise<unknown> },
  timeoutMs = 2000,
): Promise<boolean> {
  try {
    await withinTimeout(timeoutMs, "timeout", db.$queryRaw`SELECT 1`);
    return true;
  } catch {
    return false;
  }
}
