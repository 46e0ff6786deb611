// The dashboard's files, built from src/ui by `npm run build:ui` into dist/ui. Served as they
// are: nothing is fetched at run time, and the page talks to the API with the key the user gives.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { INVOICE_STYLE_HASH } from "../../billing/documents/invoice-html.ts";

const UI_DIR = new URL("../../../dist/ui/", import.meta.url).pathname;

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
};
// the page runs only its own script and styles, and talks only to this origin; an invoice
// document it shows in a frame (srcdoc, under this policy) brings its one style sheet, allowed by hash
const CSP = `default-src 'self'; script-src 'self'; style-src 'self' ${INVOICE_STYLE_HASH}; img-src 'self' data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
const ASSET = /^[A-Za-z0-9._-]+\.(js|css|map|svg)$/;

async function send(reply: FastifyReply, file: string, type: string, cache: string) {
  try {
    const body = await readFile(join(UI_DIR, file));
    return reply
      .type(type)
      .header("cache-control", cache)
      .header("content-security-policy", CSP)
      .header("x-content-type-options", "nosniff")
      .send(body);
  } catch {
    return reply
      .code(503)
      .type("text/plain; charset=utf-8")
      .send("The dashboard is not built: run `npm run build:ui` (npm start does it).");
  }
}

const ui = { tags: ["dashboard"] };
const Page = z.string().meta({ description: "The dashboard's HTML page." });
const Asset = z.string().meta({ description: "A script, style sheet, source map or image of the dashboard." });
const Redirect = z.undefined();
const NotBuilt = z.string().meta({ description: "The dashboard is not built (npm run build:ui)." });
const NoAsset = z.object({ error: z.object({ code: z.literal("not_found"), message: z.string() }) });

export async function uiRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get("/ui", { schema: { ...ui, summary: "Redirects to /ui/", response: { 302: Redirect } } }, (_request, reply) =>
    reply.redirect("/ui/"),
  );
  r.get(
    "/ui/",
    {
      schema: {
        ...ui,
        summary: "The dashboard's page (no key to load it; it asks for one)",
        response: { 200: Page, 503: NotBuilt },
      },
    },
    (_request, reply) => send(reply, "index.html", "text/html; charset=utf-8", "no-cache"),
  );
  const AssetParams = z.object({
    file: z.string().max(200).meta({ description: "A built asset's file name (content-hashed)." }),
  });
  r.get(
    "/ui/assets/:file",
    {
      schema: {
        ...ui,
        summary: "One of the dashboard's built assets",
        params: AssetParams,
        response: { 200: Asset, 404: NoAsset, 503: NotBuilt },
      },
    },
    async (request, reply) => {
      const { file } = request.params;
      if (!ASSET.test(file)) return reply.code(404).send({ error: { code: "not_found", message: "no such asset" } });
      return send(
        reply,
        join("assets", file),
        TYPES[file.slice(file.lastIndexOf("."))]!,
        "public, max-age=31536000, immutable",
      );
    },
  );
}
