// Fastify's own request lines (two per request) are off; the app writes one line per request
// itself (app.ts). Fastify 5.12 takes this as a LogController.
import { LogController } from "fastify";

export const quietRequestLogs = () => new LogController({ disableRequestLogging: true });
