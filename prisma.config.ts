// The CLI runs Prisma's WebAssembly schema engine through the pg driver adapter, so it needs no
// download from Prisma's binary host (which these machines cannot reach).
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/tokenmeter";

// schema.prisma reads env("DATABASE_URL"); give it the same local default as the service.
process.env.DATABASE_URL ??= DEFAULT_DATABASE_URL;

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  async adapter() {
    return new PrismaPg({ connectionString: process.env.DATABASE_URL });
  },
});
