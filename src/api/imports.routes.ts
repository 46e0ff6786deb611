// POST /v1/imports/kong-config: a Kong declarative config (YAML or JSON) in, a report out.
// The body is read as text whatever its type: prices keep the digits written in the file.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { changedConsumerIds, importKongConfig } from "../consumers/import.service.ts";
import { validationFailed } from "../domain/errors.ts";
import { requireAdmin } from "../http/principal.ts";
import { actorOf, type ApiDeps } from "./consumers.routes.ts";
import { validate } from "./validate.ts";

const ImportQuery = z.object({ dry_run: z.enum(["true", "false"]).default("false") }).strict();

export async function importRoutes(app: FastifyInstance, { config, db, metadataChanged }: ApiDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: config.ingest.bodyLimitBytes }, (_req, body, done) => done(null, body));

    scope.post("/v1/imports/kong-config", { preHandler: requireAdmin }, async (request) => {
      const q = validate(ImportQuery, request.query, "query");
      const text = typeof request.body === "string" ? request.body : "";
      if (text.trim() === "") throw validationFailed("body: send the Kong declarative config (YAML or JSON)", "body");
      const report = await importKongConfig(db, text, {
        defaults: config.metering,
        by: actorOf(request, "import"),
        dryRun: q.dry_run === "true",
      });
      if (!report.dry_run) await metadataChanged?.(changedConsumerIds(report));
      return report;
    });
  });
}
