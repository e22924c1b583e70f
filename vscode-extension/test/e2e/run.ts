// End-to-end test in a real VS Code (code-server 4.100.3, driven by Playwright with Debian's
// Chromium): the packaged extension starts the real codeloupe server on a fixture repository
// with two branches, and the test uses the search view, the commands and Go to Symbol as a
// person would, asserting on what the workbench shows. Screenshots go to test-artifacts/.
//
// Prerequisites missing → it says which and exits 0 ("skipped"), unless
// CODELOUPE_E2E_REQUIRED=1 (scripts/test_vscode.sh sets it where it could install them all).
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, FrameLocator, Page } from "playwright-core";
import { chromium } from "playwright-core";
import type { Dirs, Prereqs } from "./codeServer";
import { findPrereqs, freePort, installExtensions, startCodeServer, stopCodeServer, writeUserSettings } from "./codeServer";
import { buildFixture, expected } from "./fixture";
import { dismissNotifications, notification, pickQuickItem, quickInput, runCommand, searchView, statusBarText, typeInQuickInput, workspaceSymbols } from "./workbench";

const extensionDir = resolve(__dirname, "..", "..");
const artifacts = join(extensionDir, "test-artifacts");
const started = Date.now();
let passed = 0;

function log(message: string): void {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

async function step(name: string, run: () => Promise<void>): Promise<void> {
  const t = Date.now();
  await run();
  passed++;
  log(`ok - ${name} (${((Date.now() - t) / 1000).toFixed(1)}s)`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(400); // let toasts and quick inputs finish their animation
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

interface ProbeReport {
  editor?: { uri: string; scheme: string; languageId: string; isUntitled: boolean; selection: { line: number; character: number }; text: string };
  clipboard: string;
  symbols: { ok?: { name: string; uri: string; line: number }[]; error?: string };
  tools: string[];
  searchTool: { ok?: string; error?: string };
  contextTool: { ok?: string; error?: string };
  context: { ok?: { text: string }; error?: string };
}

/** Runs the probe extension's command and reads what it wrote. */
async function probe(page: Page, out: string): Promise<ProbeReport> {
  rmSync(out, { force: true });
  await runCommand(page, "codeloupe probe: report");
  const deadline = Date.now() + 30_000;
  while (!existsSync(out)) {
    if (Date.now() > deadline) throw new Error("the probe wrote no report");
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(100); // written in one call; let it land
  return JSON.parse(readFileSync(out, "utf8")) as ProbeReport;
}

/** Waits until the view's summary line reads `summary` and returns the files with their counts. */
async function results(view: FrameLocator, summary: string): Promise<Record<string, number>> {
  await view.locator("#message", { hasText: summary }).waitFor({ timeout: 60_000 });
  const rows = view.locator(".row.file");
  const files: Record<string, number> = {};
  for (let i = 0; i < (await rows.count()); i++) {
    files[await rows.nth(i).locator(".name").innerText()] = Number(await rows.nth(i).locator(".badge").innerText());
  }
  return files;
}

async function activeLine(page: Page): Promise<string> {
  const item = page.locator("#status\\.editor\\.selection");
  await item.waitFor({ timeout: 15_000 });
  return item.innerText();
}

async function scenario(page: Page, probeOut: string, workspace: string): Promise<void> {
  await step("the workbench loads with the codeloupe status bar item", async () => {
    await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
    await page.locator("#codeloupe\\.codeloupe\\.status, [id$='codeloupe.status']").first().waitFor({ timeout: 60_000 });
  });

  let view!: FrameLocator;
  await step("the search view opens from the activity bar", async () => {
    await page.locator(".activitybar [aria-label^='codeloupe']").first().click();
    view = await searchView(page);
    await view.locator("#rev option[value='feature']").waitFor({ state: "attached", timeout: 60_000 });
  });

  await step(`typing the regex ${expected.pattern} shows the files and counts of main`, async () => {
    await view.locator("#regex").click();
    await view.locator("#query").pressSequentially(expected.pattern, { delay: 40 });
    const files = await results(view, expected.main.summary);
    assert.deepEqual(files, expected.main.files);
    assert.equal(await view.locator("#regex").getAttribute("aria-pressed"), "true");
    const highlights = await view.locator(".row.match .highlight").allInnerTexts();
    assert.ok(highlights.includes("retry_delay") && highlights.includes("retry_limit"), `highlights: ${highlights}`);
    await shot(page, "01-search-main");
  });

  await step("files to exclude narrows the results; clearing it brings them back", async () => {
    await view.locator("#details-toggle").click();
    await view.locator("#excludes").fill("config.py");
    assert.deepEqual(await results(view, "4 results in 1 file"), { "client.py": 4 });
    await view.locator("#excludes").fill("");
    assert.deepEqual(await results(view, expected.main.summary), expected.main.files);
    await view.locator("#details-toggle").click();
  });

  await step("clicking a result opens the working-tree file at the match", async () => {
    await view.locator(`.row.match[title='${expected.clickMain.file}:${expected.clickMain.line}']`).click();
    await page.locator(".tab.active", { hasText: "client.py" }).waitFor({ timeout: 15_000 });
    assert.match(await activeLine(page), new RegExp(`Ln ${expected.clickMain.line},`));
    const report = await probe(page, probeOut);
    assert.equal(report.editor?.scheme, "file");
    assert.ok(report.editor?.uri.endsWith(expected.clickMain.file));
    assert.equal(report.editor?.selection.line, expected.clickMain.line - 1);
    await shot(page, "02-open-result-main");
  });

  await step("keyboard: Down from the query enters the results, Enter opens the selected match", async () => {
    await view.locator("#query").focus();
    await page.keyboard.press("ArrowDown"); // first row: client.py
    await page.keyboard.press("ArrowDown"); // its first match, line 4
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("#status\\.editor\\.selection")?.textContent?.includes("Ln 4,"), undefined, { timeout: 15_000 });
  });

  await step("Switch search branch → feature shows that branch's results", async () => {
    await runCommand(page, "codeloupe: Switch search branch");
    await pickQuickItem(page, "feature");
    const files = await results(view, expected.feature.summary);
    assert.deepEqual(files, expected.feature.files);
    assert.equal(await view.locator("#rev").inputValue(), "feature");
    await shot(page, "03-search-feature");
  });

  await step("a result on feature opens the file at that rev, read-only, at the match", async () => {
    await view.locator(`.row.match[title='${expected.clickFeature.file}:${expected.clickFeature.line}']`).click();
    await page.locator(".tab.active", { hasText: "backoff.py" }).waitFor({ timeout: 15_000 });
    assert.match(await activeLine(page), new RegExp(`Ln ${expected.clickFeature.line},`));
    const report = await probe(page, probeOut);
    assert.equal(report.editor?.scheme, "codeloupe-rev");
    assert.equal(report.editor?.selection.line, expected.clickFeature.line - 1);
    assert.ok(report.editor?.text.includes(expected.clickFeature.text));
    assert.ok(!existsSync(join(workspace, expected.clickFeature.file)), "backoff.py must exist only on feature");
    await shot(page, "04-open-result-feature");
  });

  await step("the rev picker in the view goes back to the working tree", async () => {
    await view.locator("#rev").selectOption("worktree");
    assert.deepEqual(await results(view, expected.main.summary), expected.main.files);
  });

  await step("Go to Symbol in Workspace lists the server's symbols", async () => {
    const labels = await workspaceSymbols(page, expected.symbol.query, expected.symbol.name);
    assert.ok(labels.some((l) => l.includes(expected.symbol.name)), `symbols: ${labels}`);
    await shot(page, "05-workspace-symbol");
    await page.keyboard.press("Escape");
    const report = await probe(page, probeOut);
    assert.ok(report.symbols.ok?.some((s) => s.name === expected.symbol.name), JSON.stringify(report.symbols));
  });

  let contextAvailable = false;
  await step("the language model tools are registered and codeloupe_search answers", async () => {
    const report = await probe(page, probeOut);
    assert.ok(report.tools.includes("codeloupe_search") && report.tools.includes("codeloupe_context"), `tools: ${report.tools}`);
    assert.ok(report.searchTool.ok?.includes("src/net/client.py"), JSON.stringify(report.searchTool));
    assert.ok(report.searchTool.ok?.includes("20: def retry_delay(attempt):"), JSON.stringify(report.searchTool));
    contextAvailable = report.context.ok !== undefined;
    if (!contextAvailable) {
      assert.match(report.context.error ?? "", /not available yet/);
      assert.match(report.contextTool.ok ?? "", /semantic layer/);
    } else {
      assert.ok((report.contextTool.ok ?? "").length > 0);
    }
    log(`codeloupe/context on this server: ${contextAvailable ? "available" : "not available yet"}`);
  });

  await step("Pack context for assistant: the selection plus a question → the pack (or the server's reason)", async () => {
    await dismissNotifications(page);
    // Select the retry loop in the working-tree client.py, then run the command.
    await view.locator(`.row.match[title='src/net/client.py:12']`).dblclick();
    await page.locator(".tab.active", { hasText: "client.py" }).waitFor({ timeout: 15_000 });
    await runCommand(page, "codeloupe: Pack context for assistant");
    await typeInQuickInput(page, "how are uploads retried?");
    await page.keyboard.press("Enter");
    if (contextAvailable) {
      await page.locator(".tab.active", { hasText: "Untitled" }).waitFor({ timeout: 60_000 });
      await notification(page, /Context pack copied to the clipboard/);
      const report = await probe(page, probeOut);
      assert.equal(report.editor?.isUntitled, true);
      assert.ok((report.editor?.text ?? "").length > 0, "the pack is empty");
      assert.equal(report.editor?.text, report.clipboard, "the editor and the clipboard must hold the same pack");
      assert.ok(report.editor?.text.includes("src/net/client.py"), "the pack must include the file at the cursor");
    } else {
      const text = await notification(page, /semantic layer/);
      assert.match(text, /Pack context for assistant needs the codeloupe server's semantic layer/);
    }
    await shot(page, "06-pack-context");
  });

  await step("Ask the codebase: a quick pick over hybrid results (or the server's reason)", async () => {
    await dismissNotifications(page);
    await runCommand(page, "codeloupe: Ask the codebase");
    await typeInQuickInput(page, "where are uploads retried");
    const row = page.locator(".quick-input-list .monaco-list-row", { hasText: contextAvailable ? "client.py" : "not available" }).first();
    await row.waitFor({ timeout: 60_000 });
    await shot(page, "07-ask");
    await page.keyboard.press("Escape");
  });

  await step("Show index status lists the folder's snapshots; the status bar shows the index", async () => {
    await runCommand(page, "codeloupe: Show index status");
    await page.locator(".quick-input-list .monaco-list-row", { hasText: "ready" }).first().waitFor({ timeout: 15_000 });
    const rows = await quickInput(page).locator(".monaco-list-row").allInnerTexts();
    assert.ok(rows.some((r) => r.includes("working tree")), `status rows: ${rows}`);
    assert.ok(rows.some((r) => r.includes("Reindex")), `status rows: ${rows}`);
    await shot(page, "08-status");
    await page.keyboard.press("Escape");
    assert.match(await statusBarText(page), /codeloupe \d+ files/);
  });

  await step("Reindex answers with a summary", async () => {
    await dismissNotifications(page);
    await runCommand(page, "codeloupe: Reindex");
    await notification(page, /codeloupe: (the index is up to date|reindexed \d+ files)/, 60_000);
  });
}

async function main(): Promise<number> {
  const found = findPrereqs(extensionDir);
  if (!found.prereqs) {
    const required = process.env.CODELOUPE_E2E_REQUIRED === "1";
    console.log(`e2e ${required ? "FAILED" : "SKIPPED"}: missing prerequisites:\n  - ${found.missing.join("\n  - ")}`);
    return required ? 1 : 0;
  }
  const p: Prereqs = found.prereqs;
  rmSync(artifacts, { recursive: true, force: true }); // no stale screenshots from an older run
  mkdirSync(artifacts, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), "codeloupe-e2e-"));
  const dirs: Dirs = { root: tmp, user: join(tmp, "user"), extensions: join(tmp, "extensions") };
  const workspace = join(tmp, "shop-net");
  const probeOut = join(tmp, "probe.json");
  const serverLog = join(artifacts, "code-server.log");
  let codeServer: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  try {
    buildFixture(workspace);
    installExtensions(p.codeServer, dirs, p.vsix, join(extensionDir, "out-test", "probe"));
    writeUserSettings(dirs, {
      "codeloupe.server.command": p.codeloupe,
      "codeloupe.index.directory": join(tmp, "index"),
      "codeloupe.search.debounceMs": 150,
      "workbench.startupEditor": "none",
      "workbench.tips.enabled": false,
      "workbench.enableExperiments": false,
      "telemetry.telemetryLevel": "off",
      "extensions.autoCheckUpdates": false,
      "extensions.autoUpdate": false,
      "extensions.ignoreRecommendations": true,
      "chat.commandCenter.enabled": false,
      "git.enabled": false,
    });
    const port = await freePort();
    log(`starting code-server on 127.0.0.1:${port} (${p.codeServer})`);
    codeServer = await startCodeServer(p.codeServer, dirs, port, { CODELOUPE_E2E_PROBE_OUT: probeOut }, serverLog);
    browser = await chromium.launch({ executablePath: p.chromium, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: `http://127.0.0.1:${port}` });
    page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await scenario(page, probeOut, workspace);
    log(`${passed} passed, 0 failed`);
    return 0;
  } catch (err) {
    if (page) await shot(page, "99-failure").catch(() => undefined);
    console.error(err);
    log(`${passed} passed, 1 failed (screenshot: test-artifacts/99-failure.png, log: test-artifacts/code-server.log)`);
    return 1;
  } finally {
    await browser?.close().catch(() => undefined);
    stopCodeServer(codeServer);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code));
