// Webhook endpoints for the API: add one (its signing secret is kept encrypted and shown once),
// list, disable; an endpoint's delivery log; and the alerts raised.
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { conflict, notFound, validationFailed } from "../domain/errors.ts";
import type { AlertType } from "./alert-types.ts";
import { sendTestAlert, type AlertDeps } from "./alert.service.ts";
import { checkDestination } from "./destination.ts";
import { encryptSecret } from "./endpoint-secret.ts";
import { newSigningSecret } from "./webhook-signature.ts";

export type NewEndpoint = { url: string; eventTypes: AlertType[]; description?: string };

export class WebhookEndpoints {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly alertDeps: AlertDeps,
  ) {}

  async add(e: NewEndpoint) {
    const key = this.config.webhooks.secretKey;
    if (!key)
      throw conflict(
        "WEBHOOK_SECRET_KEY is not set: tokenmeter cannot keep an endpoint's signing secret (set 32 random bytes in base64)",
      );
    // checked now so an operator hears at once; a host that does not resolve yet is checked at each delivery
    const dest = await checkDestination(new URL(e.url), this.config.webhooks.allowedNetworks);
    if (!dest.ok && !dest.unresolved) throw validationFailed(`url: ${dest.reason}`, "url");
    const secret = newSigningSecret();
    const row = await this.db.webhookEndpoint.create({
      data: {
        url: e.url,
        eventTypes: e.eventTypes,
        description: e.description,
        secretEncrypted: encryptSecret(key, secret),
      },
    });
    return { endpoint: row, secret };
  }

  list() {
    return this.db.webhookEndpoint.findMany({ orderBy: { createdAt: "asc" } });
  }

  private async find(id: string) {
    const e = await this.db.webhookEndpoint.findUnique({ where: { id } });
    if (!e) throw notFound("no such webhook endpoint");
    return e;
  }

  /** Nothing more is sent to it; disabling twice keeps the first time. */
  async disable(id: string) {
    const e = await this.find(id);
    if (!e.enabled) return e;
    return this.db.webhookEndpoint.update({ where: { id: e.id }, data: { enabled: false, disabledAt: new Date() } });
  }

  /** Sends the endpoint a test event now; its delivery log shows how it answered. */
  async sendTest(id: string) {
    const e = await this.find(id);
    if (!e.enabled) throw conflict("enabled: the endpoint is disabled; nothing is sent to it", "enabled");
    return sendTestAlert(this.alertDeps, e.id);
  }

  async deliveries(id: string, q: { status?: "pending" | "delivered" | "failed"; limit: number }) {
    const endpoint = await this.find(id);
    const deliveries = await this.db.webhookDelivery.findMany({
      where: { endpointId: endpoint.id, ...(q.status ? { status: q.status } : {}) },
      orderBy: { createdAt: "desc" },
      take: q.limit,
      include: { alert: { select: { type: true, createdAt: true } }, attemptLog: { orderBy: { attempt: "asc" } } },
    });
    return { endpoint, deliveries };
  }

  /** Alerts raised, newest first, with their deliveries. */
  alerts(q: { type?: AlertType; limit: number }) {
    return this.db.alert.findMany({
      where: q.type ? { type: q.type } : {},
      orderBy: { createdAt: "desc" },
      take: q.limit,
      include: { deliveries: { select: { endpointId: true, status: true, attempts: true } } },
    });
  }
}
