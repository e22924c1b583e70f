// Driving VS Code's workbench in the browser: the command palette, quick picks, the status bar,
// notifications and the codeloupe search webview (two nested iframes).
import type { FrameLocator, Locator, Page } from "playwright-core";

export const quickInput = (page: Page): Locator => page.locator(".quick-input-widget");
const quickInputBox = (page: Page): Locator => page.locator(".quick-input-widget .quick-input-box input");

async function openPalette(page: Page, prefix: string): Promise<Locator> {
  await page.keyboard.press("F1");
  const input = quickInputBox(page);
  await input.waitFor({ state: "visible", timeout: 15_000 });
  await input.fill(prefix);
  return input;
}

/** Runs a command by its palette title ("codeloupe: Reindex"). */
export async function runCommand(page: Page, title: string): Promise<void> {
  await openPalette(page, `>${title}`);
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
  await row.waitFor({ state: "visible", timeout: 15_000 });
  await page.keyboard.press("Enter");
}

/** Workspace symbols ("Go to Symbol in Workspace", the "#" mode of quick open): the labels shown. */
export async function workspaceSymbols(page: Page, query: string, expect: string): Promise<string[]> {
  await openPalette(page, `#${query}`);
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: expect }).first();
  await row.waitFor({ state: "visible", timeout: 20_000 });
  return page.locator(".quick-input-list .monaco-list-row .label-name").allInnerTexts();
}

export async function pickQuickItem(page: Page, label: string): Promise<void> {
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: label }).first();
  await row.waitFor({ state: "visible", timeout: 15_000 });
  await row.click();
}

export async function typeInQuickInput(page: Page, text: string): Promise<void> {
  const input = quickInputBox(page);
  await input.waitFor({ state: "visible", timeout: 15_000 });
  await input.fill(text);
}

/** The codeloupe search view's page, inside the webview's outer and inner iframes. */
export async function searchView(page: Page): Promise<FrameLocator> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const outer = page.locator("iframe.webview");
    const n = await outer.count();
    for (let i = 0; i < n; i++) {
      const inner = page.frameLocator("iframe.webview").nth(i).frameLocator("iframe#active-frame");
      if (await inner.locator("#query").count()) return inner;
    }
    await page.waitForTimeout(250);
  }
  throw new Error("the codeloupe search webview did not appear");
}

export async function statusBarText(page: Page): Promise<string> {
  return (await page.locator("#workbench\\.parts\\.statusbar").innerText()).replace(/\s+/g, " ");
}

/** Waits for a notification toast whose text matches. */
export async function notification(page: Page, text: RegExp, timeout = 20_000): Promise<string> {
  const toast = page.locator(".notification-toast", { hasText: text }).first();
  await toast.waitFor({ state: "visible", timeout });
  return toast.innerText();
}

export async function dismissNotifications(page: Page): Promise<void> {
  await runCommand(page, "Notifications: Clear All Notifications").catch(() => undefined);
}
