// tokenmeter's API or meter as a separate process, started with its own environment, killed with
// SIGKILL (a crash: no shutdown hook runs) and started again.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { waitFor } from "../helpers/wait.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

export class ServiceProcess {
  private child: ChildProcess | undefined;
  restarts = 0;

  /** Running: neither exited nor ended by a signal (a killed child has exitCode null). */
  private get running(): ChildProcess | undefined {
    const c = this.child;
    return c && c.exitCode === null && c.signalCode === null ? c : undefined;
  }

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: Record<string, string>,
    /** URL answering 200 once the process is ready. */
    private readonly readyUrl: string,
    private readonly logFile: string,
  ) {}

  async start(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: "a" });
    this.child = spawn(process.execPath, ["--import", "tsx", this.entry], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.pipe(log);
    this.child.stderr!.pipe(log);
    const child = this.child;
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`${this.name} exited (${child.exitCode ?? child.signalCode}); see ${this.logFile}`);
        const res = await fetch(this.readyUrl, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        return res?.status === 200;
      },
      60_000,
      `${this.name} to be ready`,
    );
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    const child = this.running;
    if (!child) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    this.restarts++;
    await this.start();
  }

  /** SIGTERM (a clean stop), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.running;
    if (!child) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
