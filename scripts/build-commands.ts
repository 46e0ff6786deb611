// Bundles the operator's commands (import:kong, prices, credits, dead-letters, events, webhook-secrets)
// into dist/commands, one file each, so a call starts in a fraction of a second instead of
// compiling some 200 TypeScript modules on every run. Packages stay external (Node loads them from
// node_modules), and each module's import.meta.url stays its own source file's, so the paths it
// resolves from there (the migrations, the shipped price list, the generated client) hold.
// `npm run setup` builds them; a command whose sources changed since is rebuilt before it runs.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const COMMANDS = ["import-kong", "prices", "credits", "dead-letters", "events", "webhook-secrets"];

const ownUrls: Plugin = {
  name: "own-import-meta-url",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      const url = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: text.replaceAll("import.meta.url", url), loader: "ts" };
    });
  },
};

const only = process.argv.slice(2);
const names = only.length ? only : COMMANDS;
await build({
  entryPoints: names.map((n) => join(root, "scripts", `${n}.ts`)),
  outdir: join(root, "dist/commands"),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  plugins: [ownUrls],
  logLevel: "warning",
});
