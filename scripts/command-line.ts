// What the list-style commands (dead-letters, events) share: their options read once, and a
// mistake printed with the usage and answered by an exit code (2: a usage error, 1: refused).
import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

/** The command line's options and positionals; an unknown or malformed option exits 2 with `usage`. */
export function commandLine<const O extends Options>(options: O, usage: string) {
  try {
    return parseArgs({ allowPositionals: true, options, args: process.argv.slice(2) });
  } catch (err) {
    return fail(`${(err as Error).message}\n${usage}`, 2);
  }
}
