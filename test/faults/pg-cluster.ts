// A PostgreSQL cluster of the fault suite's own (Debian's pg_createcluster, on its own port), so
// the suite can stop and start it without touching the machine's shared one.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);
const VERSION = process.env.FAULTS_PG_VERSION ?? "15";

export class PgCluster {
  readonly name: string;
  constructor(readonly port: number) {
    this.name = `tm-faults-${port}`;
  }

  url(database: string): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Creates (or recreates) the cluster with trust authentication and starts it. */
  async create(): Promise<void> {
    await this.drop();
    await run("pg_createcluster", [VERSION, this.name, "-p", String(this.port), "--start", "--", "--auth=trust"]);
  }

  start = () => run("pg_ctlcluster", [VERSION, this.name, "start"]).then(() => undefined);
  /** Fast shutdown: sessions are cut, as on a restart of the server. */
  stop = () => run("pg_ctlcluster", [VERSION, this.name, "stop", "-m", "fast"]).then(() => undefined);

  async drop(): Promise<void> {
    await run("pg_dropcluster", ["--stop", VERSION, this.name]).catch(() => {});
  }

  /** An empty database, or a copy of `template`. */
  async createDatabase(name: string, template?: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.url("postgres") });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ""}`);
    } finally {
      await client.end();
    }
  }
}
