// `npm run build:ui`: bundles the dashboard (src/ui) with esbuild into dist/ui: one script and
// one stylesheet named by their content's hash, and the page that loads them. Everything comes
// from the repo's own sources and node_modules; nothing is fetched when the page runs.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const out = join(root, "dist/ui");

await rm(out, { recursive: true, force: true });
await mkdir(join(out, "assets"), { recursive: true });
const result = await build({
  entryPoints: [join(root, "src/ui/main.tsx")],
  bundle: true,
  format: "esm",
  target: ["chrome120", "firefox120", "safari17"],
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: true,
  sourcemap: true,
  entryNames: "[name]-[hash]",
  outdir: join(out, "assets"),
  metafile: true,
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith(".js"))!;
const css = outputs.find((f) => f.endsWith(".css"))!;
const page = (await readFile(join(root, "src/ui/index.html"), "utf8")).replace("%JS%", js).replace("%CSS%", css);
await writeFile(join(out, "index.html"), page);
const size = (f: string) =>
  result.metafile.outputs[Object.keys(result.metafile.outputs).find((p) => p.endsWith(f))!]!.bytes;
console.log(
  `dashboard built: dist/ui (${js} ${Math.round(size(js) / 1024)} KiB, ${css} ${Math.round(size(css) / 1024)} KiB)`,
);
