// Bundles the extension (node, CommonJS, `vscode` external), the search webview (browser IIFE)
// and, with --tests, the unit and end-to-end tests. One esbuild call per target, all in parallel.
import * as esbuild from "esbuild";
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const production = args.has("--production");
const watch = args.has("--watch");

const common = {
  absWorkingDir: root,
  bundle: true,
  sourcemap: production ? false : "linked",
  minify: production,
  logLevel: "warning",
};

const targets = [
  { ...common, entryPoints: ["src/extension.ts"], outfile: "out/extension.js",
    platform: "node", format: "cjs", target: "node20", external: ["vscode"] },
  { ...common, entryPoints: ["src/webview/main.ts"], outfile: "out/webview/search.js",
    platform: "browser", format: "iife", target: "es2022" },
];

if (args.has("--tests")) {
  const unit = readdirSync(join(root, "test/unit")).filter((f) => f.endsWith(".test.ts"));
  rmSync(join(root, "out-test"), { recursive: true, force: true });
  targets.push(
    { ...common, entryPoints: unit.map((f) => `test/unit/${f}`), outdir: "out-test/unit",
      platform: "node", format: "cjs", target: "node20" },
    { ...common, entryPoints: ["test/e2e/run.ts"], outfile: "out-test/e2e/run.js",
      platform: "node", format: "cjs", target: "node20", external: ["playwright-core"] },
    { ...common, entryPoints: ["test/e2e/probe/extension.ts"], outfile: "out-test/probe/out/extension.js",
      platform: "node", format: "cjs", target: "node20", external: ["vscode"] },
  );
}

// Webview assets the view loads from the extension folder (the .vsix has no node_modules).
function copyAssets() {
  mkdirSync(join(root, "out/webview"), { recursive: true });
  for (const f of ["codicon.css", "codicon.ttf"]) {
    cpSync(join(root, "node_modules/@vscode/codicons/dist", f), join(root, "out/webview", f));
  }
  cpSync(join(root, "src/webview/search.css"), join(root, "out/webview/search.css"));
  if (args.has("--tests")) {
    cpSync(join(root, "test/e2e/probe/package.json"), join(root, "out-test/probe/package.json"));
  }
}

// A stale bundle or source map must not end up in the .vsix.
if (!watch) rmSync(join(root, "out"), { recursive: true, force: true });

if (watch) {
  copyAssets();
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  copyAssets();
}
