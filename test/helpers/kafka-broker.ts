// A broker of the test's own, on its own ports, so a test can stop and restart it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export function localBroker(port: number) {
  const script = new URL("../../scripts/kafka-local.sh", import.meta.url).pathname;
  const call = (cmd: string) => run("bash", [script, cmd], { env: { ...process.env, KAFKA_LOCAL_PORT: String(port) } });
  return {
    brokers: `127.0.0.1:${port}`,
    start: () => call("start"),
    stop: () => call("stop"),
    /** SIGKILL, as a crash would. */
    kill: () => call("kill"),
    /** Stops the broker and deletes its data, for a clean start next time. */
    reset: () => call("reset"),
  };
}
