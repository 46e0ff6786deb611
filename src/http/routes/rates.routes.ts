// A consumer's rate history (operator): list, add (a correction may reprice an invoiced period,
// billed as adjustment lines on the next invoice), delete a rate that has not taken effect.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { rateFromRow } from "../../consumers/consumer.repository.ts";
import type { Consumers } from "../../consumers/consumers.ts";
import { instantString, price } from "../../domain/field-types.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerIdParams, ConsumerParams, correctionField } from "./common.schemas.ts";
import { presentRate } from "./consumers.presenter.ts";
import * as C from "../contract/consumers.ts";
import { Empty } from "../contract/common.ts";

const CreateRateSchema = z
  .object({
    effective_from: instantString,
    input_cost_per_token: price,
    output_cost_per_token: price,
    cached_input_cost_per_token: price
      .optional()
      .meta({ description: "Price of a cached input token (cache read). Unset: the input price." }),
    cache_write_cost_per_token: price
      .optional()
      .meta({ description: "Price of an input token written to the provider's cache. Unset: the input price." }),
    reasoning_cost_per_token: price
      .optional()
      .meta({ description: "Price of a reasoning token (part of the output). Unset: the output price." }),
    correction: correctionField(
      "Send to reprice a period whose invoice is finalized: the difference is billed (or credited) as adjustment lines on the consumer's next invoice. Without it such a rate is refused with 409.",
    ),
  })
  .strict();

const admin = { tags: ["consumers"], security: SECURITY.admin };

export async function rateRoutes(app: FastifyInstance, { consumers }: { consumers: Consumers }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/v1/consumers/:consumer/rates",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "A consumer's rate history",
        params: ConsumerParams,
        response: answers(200, C.RateList, 403, 404),
      },
    },
    async (request) => {
      const { consumer, rates } = await consumers.show(request.params.consumer);
      return { consumer_id: consumer.id, rates: rates.map(presentRate) };
    },
  );

  r.post(
    "/v1/consumers/:consumer/rates",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Add a rate from a given time on",
        params: ConsumerParams,
        headers: ActorHeaders,
        body: CreateRateSchema,
        response: answers(201, C.CreatedRate, 403, 404, 409),
      },
    },
    async (request, reply) => {
      const by = actorOf(request, "rates");
      const { rate, repriced, adjustments } = await consumers.addRate(request.params.consumer, request.body, by);
      return reply
        .code(201)
        .send({ ...presentRate(rateFromRow(rate)), repriced_events: repriced, price_adjustments: adjustments });
    },
  );

  r.delete(
    "/v1/consumers/:consumer/rates/:id",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Delete a rate that has not taken effect yet",
        params: ConsumerIdParams,
        headers: ActorHeaders,
        response: answers(204, Empty, 403, 404, 409),
      },
    },
    async (request, reply) => {
      await consumers.deleteFutureRate(request.params.consumer, request.params.id, actorOf(request, "rates"));
      return reply.code(204).send();
    },
  );
}
