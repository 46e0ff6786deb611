import { PrismaPg } from "@prisma/adapter-pg";
import { Prisma, PrismaClient } from "./generated/client.ts";

export { Prisma, PrismaClient };
/**
 * A client or an open transaction: what every query takes, so it runs the same inside a
 * transaction. Only a function that opens a transaction itself takes the PrismaClient.
 */
export type Db = PrismaClient | Prisma.TransactionClient;

export function createPrisma(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002";
}

/**
 * The columns or index named by a unique violation. With a driver adapter Prisma reports the
 * index name (e.g. consumers_username_key) instead of `meta.target`.
 */
export function uniqueViolationTarget(err: unknown): string {
  if (!isUniqueViolation(err)) return "";
  const meta = (err as Prisma.PrismaClientKnownRequestError).meta as
    | { target?: unknown; driverAdapterError?: { cause?: { constraint?: { index?: string; fields?: string[] } } } }
    | undefined;
  const constraint = meta?.driverAdapterError?.cause?.constraint;
  return String(meta?.target ?? constraint?.index ?? constraint?.fields?.join(",") ?? "");
}
