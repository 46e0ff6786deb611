// The service's processes as the benchmark runs them: the API (src/server.ts) and meter processes,
// each a separate Node process like a deployment, optionally under --cpu-prof.
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

export type ProcessOptions = { env: NodeJS.ProcessEnv; profileDir?: string; name: string };

function start(script: string, o: ProcessOptions): ChildProcess {
  const execArgv = ["--import", "tsx"];
  if (o.profileDir) {
    // one folder per process: tsx's loader thread writes a profile of its own beside the main thread's
    const dir = resolve(o.profileDir, o.name);
    mkdirSync(dir, { recursive: true });
    execArgv.push("--cpu-prof", "--cpu-prof-dir", dir);
  }
  return fork(resolve(ROOT, script), [], {
    cwd: ROOT,
    env: o.env,
    execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

export type ApiProcess = { address: string; pid: number; stop(): Promise<void> };

/** A port nothing listens on now (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

export async function startApi(o: ProcessOptions): Promise<ApiProcess> {
  const port = await freePort();
  const child = start("src/server.ts", { ...o, env: { ...o.env, PORT: String(port) } });
  const address = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API process exited with ${child.exitCode}`);
    const ok = await fetch(`${address}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error("the API did not become ready within 60 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

export type ChunkReport = { at: number; n: number; ids?: string[] };
export type MeterProcess = { pid: number; reportIds(on: boolean): void; stop(): Promise<void> };

export async function startMeterProcess(o: ProcessOptions, onChunk: (r: ChunkReport) => void): Promise<MeterProcess> {
  const child = start("scripts/bench/meter-child.ts", o);
  await new Promise<void>((resolveReady, reject) => {
    child.on("message", (m: ChunkReport & { ready?: boolean }) => {
      if (m.ready) resolveReady();
      else onChunk(m);
    });
    child.once("exit", (code) => reject(new Error(`meter process exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    reportIds: (on) => child.send({ reportIds: on }),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.send({ stop: true });
      await once(child, "exit");
    },
  };
}
