// POST /v1/imports/kong-config: a Kong declarative config (YAML or JSON) in, a report out.
// The body is read as text whatever its type: prices keep the digits written in the file.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Config } from "../../config.ts";
import type { Consumers } from "../../consumers/consumers.ts";
import { validationFailed } from "../../domain/errors.ts";
import { queryFlag } from "../../domain/field-types.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders } from "./common.schemas.ts";
import * as C from "../contract/consumers.ts";

const ImportQuery = z
  .object({
    dry_run: queryFlag.default(false).meta({ description: "Report what would change without changing anything." }),
  })
  .strict();

export async function importRoutes(
  app: FastifyInstance,
  { config, consumers }: { config: Config; consumers: Consumers },
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      "*",
      { parseAs: "string", bodyLimit: config.ingest.bodyLimitBytes },
      (_req, body, done) => done(null, body),
    );

    scope.withTypeProvider<ZodTypeProvider>().post(
      "/v1/imports/kong-config",
      {
        onRequest: requireAdmin,
        schema: {
          tags: ["imports"],
          security: SECURITY.admin,
          summary: "Import consumers from a Kong declarative config",
          description:
            "The body is the config file itself (YAML or JSON, _format_version 3.0). Each consumer is applied in a transaction of its own; " +
            "one with problems is rejected with its fields named, the others are imported. The report lists both.",
          querystring: ImportQuery,
          headers: ActorHeaders,
          response: answers(200, C.KongImportReport, 403, 413),
        },
      },
      async (request) => {
        const text = typeof request.body === "string" ? request.body : "";
        if (text.trim() === "") throw validationFailed("body: send the Kong declarative config (YAML or JSON)", "body");
        return consumers.importKong(text, { by: actorOf(request, "import"), dryRun: request.query.dry_run });
      },
    );
  });
}
