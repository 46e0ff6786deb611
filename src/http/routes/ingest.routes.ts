// POST /ingest/kong: what Kong's http-log plugin sends. The answer is 2xx only once Kafka holds
// every accepted entry and every dead letter, since Kong drops a batch after a minute of retries.
import type { FastifyInstance } from "fastify";
import { ingestBody, type IngestDeps } from "../../kafka/ingest-body.ts";
import type { Metrics } from "../../ops/metrics.ts";
import { requireIngestSecret } from "../auth.ts";
import { answers, SECURITY } from "../openapi.ts";

export async function ingestRoutes(app: FastifyInstance, deps: IngestDeps & { metrics: Metrics }): Promise<void> {
  const { config, metrics } = deps;

  // Kong sends application/json; take any type as raw bytes so a wrong label is not a lost batch.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: config.ingest.bodyLimitBytes }, (_req, body, done) =>
    done(null, body),
  );
  app.addHook("onRequest", requireIngestSecret(config.ingest.secret));
  app.addHook("onResponse", async (request, reply) => {
    if (request.routeOptions.url === "/ingest/kong") metrics.ingestRequests.inc({ status: String(reply.statusCode) });
  });

  const schema = {
    tags: ["gateway"],
    security: SECURITY.gateway,
    summary: "Kong's http-log batches",
    description:
      "The http-log plugin's body: one log entry or an array of them (any content type). 202 once Kafka holds every accepted entry; " +
      "an entry that cannot be metered is kept as a dead letter and listed in `rejected` with its index and reason.",
    response: answers(202, 413, 503),
  };
  app.post("/ingest/kong", { schema }, async (request, reply) => {
    const result = await ingestBody((request.body as Buffer | undefined) ?? Buffer.alloc(0), deps);
    if (result.rejected.length) request.log.warn({ rejected: result.rejected }, "ingest entries dead-lettered");
    return reply.code(202).send(result);
  });
}
