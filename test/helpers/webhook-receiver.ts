// A webhook endpoint for tests: a real HTTP server that records what it receives, checks each
// Standard Webhooks signature with the endpoint's secret, and answers with the statuses given
// (then 204 for ever after).
import { createServer, type Server } from "node:http";
import { verify } from "../../src/alerts/webhook-signature.ts";

export type Received = {
  headers: Record<string, string>;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
  signatureValid: boolean;
  answered: number;
};

export class WebhookReceiver {
  readonly received: Received[] = [];
  secret = "";
  private server: Server | undefined;

  constructor(private readonly statuses: number[] = []) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        const answered = this.statuses.shift() ?? 204;
        this.received.push({
          headers,
          body,
          json: JSON.parse(body),
          signatureValid: verify(this.secret, headers, body),
          answered,
        });
        res.statusCode = answered;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}/hooks/tokenmeter`;
  }

  ofType(type: string): Received[] {
    return this.received.filter((r) => r.json.type === type);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
