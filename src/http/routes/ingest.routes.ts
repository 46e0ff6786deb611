// POST /ingest/kong: what Kong's http-log plugin sends. The answer is 2xx only once Kafka holds
// every accepted entry and every dead letter, since Kong drops a batch after a minute of retries.
import type { FastifyInstance } from "fastify";
import { ingestBody, type IngestDeps } from "../../ingest/ingest-body.ts";
import { CLOUDEVENT_TYPES, ingestCloudEvents, mediaTypeOf } from "../../ingest/ingest-events.ts";
import { AppError } from "../../domain/errors.ts";
import type { Metrics } from "../../ops/metrics.ts";
import { requireIngestSecret } from "../auth.ts";
import { answers, SECURITY } from "../openapi.ts";
import * as C from "../contract/operations.ts";

export async function ingestRoutes(app: FastifyInstance, deps: IngestDeps & { metrics: Metrics }): Promise<void> {
  const { config, metrics } = deps;

  // Kong sends application/json; take any type as raw bytes so a wrong label is not a lost batch.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: config.ingest.bodyLimitBytes }, (_req, body, done) =>
    done(null, body),
  );
  app.addHook("onRequest", requireIngestSecret(config.ingest.secret));
  app.addHook("onResponse", async (request, reply) => {
    const url = request.routeOptions.url;
    if (url === "/ingest/kong" || url === "/ingest/events")
      metrics.ingestRequests.inc({ status: String(reply.statusCode) });
  });

  const schema = {
    tags: ["gateway"],
    security: SECURITY.gateway,
    summary: "Kong's http-log batches",
    description:
      "The http-log plugin's body: one log entry or an array of them (any content type). 202 once Kafka holds every accepted entry; " +
      "an entry that cannot be metered is kept as a dead letter and listed in `rejected` with its index and reason.",
    response: answers(202, C.IngestAnswer, 413, 503),
  };
  app.post("/ingest/kong", { schema }, async (request, reply) => {
    const result = await ingestBody((request.body as Buffer | undefined) ?? Buffer.alloc(0), deps);
    if (result.rejected.length) request.log.warn({ rejected: result.rejected }, "ingest entries dead-lettered");
    return reply.code(202).send(result);
  });

  const accepted = new Set<string>(Object.values(CLOUDEVENT_TYPES));
  const events = {
    tags: ["gateway"],
    security: SECURITY.gateway,
    summary: "Kong's metering-and-billing CloudEvents",
    description:
      `CloudEvents 1.0 as ${CLOUDEVENT_TYPES.single} (one event), ${CLOUDEVENT_TYPES.batch} (an array) or ${CLOUDEVENT_TYPES.json} (either); ` +
      "charset parameters are accepted. `kong.api_request` and `kong.llm_request` are metered; the subject is the consumer's username or " +
      "`consumer:<id>`. Deduplicated by (source, id); a call also reported by http-log is one usage event. 202 once Kafka holds every accepted " +
      "event; an event that cannot be metered is kept as a dead letter and listed in `rejected` with its index and reason.",
    response: answers(202, C.IngestAnswer, 413, 415, 503),
  };
  app.post("/ingest/events", { schema: events }, async (request, reply) => {
    const mediaType = mediaTypeOf(request.headers["content-type"]);
    if (!accepted.has(mediaType)) {
      throw new AppError("unsupported_media_type", `content-type: must be one of ${[...accepted].join(", ")}`, {
        field: "headers.content-type",
      });
    }
    const result = await ingestCloudEvents((request.body as Buffer | undefined) ?? Buffer.alloc(0), mediaType, deps);
    if (result.rejected.length) request.log.warn({ rejected: result.rejected }, "ingest events dead-lettered");
    return reply.code(202).send(result);
  });
}
