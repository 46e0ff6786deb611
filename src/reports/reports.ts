// Reports for the API: drift between our counts and the providers', the events the meter flagged,
// lineage from an invoice line to its events and from an event to its price, and the FOCUS export.
// A consumer key reads only its own lines and events.
import type { Config } from "../config.ts";
import { resolveConsumer } from "../consumers/consumer.service.ts";
import type { Db } from "../db/client.ts";
import type { Anomaly } from "../domain/anomalies.ts";
import { notFound } from "../domain/errors.ts";
import { assertVisible, type Viewer } from "../domain/viewer.ts";
import type { Invoices } from "../billing/invoices.ts";
import { driftReport } from "./drift.ts";
import { focusCsv, focusRows } from "./focus.ts";
import { explainEvent, lineEvents } from "./lineage.ts";

export type FlaggedQuery = {
  from: Date;
  to: Date;
  anomaly?: Anomaly;
  consumer?: string;
  after?: string;
  limit: number;
};

export class Reports {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly invoices: Invoices,
  ) {}

  private async consumerIdOf(ref: string | undefined) {
    return ref ? (await resolveConsumer(this.db, ref)).id : undefined;
  }

  async drift(q: { from: Date; to: Date; consumer?: string; threshold: number; limit: number }) {
    return driftReport(this.db, { ...q, consumerId: await this.consumerIdOf(q.consumer) });
  }

  /** Flagged events in id order, a page at a time. */
  async flagged(q: FlaggedQuery) {
    const consumerId = await this.consumerIdOf(q.consumer);
    const rows = await this.db.usageEvent.findMany({
      where: {
        occurredAt: { gte: q.from, lt: q.to },
        ...(q.anomaly ? { anomalies: { has: q.anomaly } } : { NOT: { anomalies: { isEmpty: true } } }),
        ...(consumerId ? { consumerId } : {}),
        ...(q.after ? { id: { gt: q.after } } : {}),
      },
      orderBy: { id: "asc" },
      take: q.limit + 1,
      select: {
        id: true,
        consumerId: true,
        occurredAt: true,
        model: true,
        billable: true,
        anomalies: true,
        inputSource: true,
        outputSource: true,
      },
    });
    const page = rows.slice(0, q.limit);
    return { events: page, next: rows.length > q.limit ? page[page.length - 1]!.id : null };
  }

  async lineEvents(invoiceId: string, position: number, page: { after?: string; limit: number }, viewer?: Viewer) {
    const inv = await this.db.invoice.findUnique({ where: { id: invoiceId }, select: { consumerId: true } });
    if (!inv) throw notFound(`invoice ${invoiceId} not found`);
    assertVisible(viewer, inv.consumerId);
    return lineEvents(this.db, invoiceId, position, page.after, page.limit);
  }

  /** Another consumer's event answers 404, exactly as one that does not exist. */
  async explain(eventId: string, viewer?: Viewer) {
    const explained = await explainEvent(this.db, eventId);
    if (viewer?.kind === "consumer" && explained.consumer_id !== viewer.consumerId)
      throw notFound(`event ${eventId} not found`);
    return explained;
  }

  /** A period's spend as FOCUS CSV: a consumer key gets its own rows only. */
  async focus(periodKey: string, consumer: string | undefined, viewer?: Viewer) {
    let consumerId = viewer?.kind === "consumer" ? viewer.consumerId : await this.consumerIdOf(consumer);
    if (consumer && viewer?.kind === "consumer") {
      const named = await resolveConsumer(this.db, consumer);
      assertVisible(viewer, named.id, consumer);
      consumerId = named.id;
    }
    const period = await this.invoices.closedPeriod(periodKey, "query.period");
    return { period, csv: focusCsv(await focusRows(this.db, period.id, this.config.billing.issuerName, consumerId)) };
  }
}
