// The search view's page script (runs in the webview, bundled for the browser). It owns the
// inputs and the result tree; every search goes through the extension host, which debounces
// and cancels (src/search/searchView.ts).
import type { FileGroup, GroupedResults, MatchRow } from "../search/group";
import type { FromWebview, OpenTarget, ToWebview } from "../search/messages";
import type { SearchQuery } from "../search/query";
import { emptyQuery } from "../search/query";
import type { RevChoice } from "../search/revs";
import type { Row } from "./navigation";
import { navigate, visibleRows } from "./navigation";

interface WebviewApi {
  postMessage(message: FromWebview): void;
  getState(): Persisted | undefined;
  setState(state: Persisted): void;
}
interface Persisted {
  query: SearchQuery;
  details: boolean;
}
declare function acquireVsCodeApi(): WebviewApi;

const api = acquireVsCodeApi();

function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return found as T;
}

const ui = {
  query: byId<HTMLTextAreaElement>("query"),
  case: byId<HTMLButtonElement>("case"),
  word: byId<HTMLButtonElement>("word"),
  regex: byId<HTMLButtonElement>("regex"),
  rev: byId<HTMLSelectElement>("rev"),
  refreshRevs: byId<HTMLButtonElement>("refresh-revs"),
  detailsToggle: byId<HTMLButtonElement>("details-toggle"),
  details: byId<HTMLDivElement>("details"),
  includes: byId<HTMLInputElement>("includes"),
  excludes: byId<HTMLInputElement>("excludes"),
  message: byId<HTMLDivElement>("message"),
  results: byId<HTMLDivElement>("results"),
};

const persisted = api.getState();
let query: SearchQuery = { ...emptyQuery, ...persisted?.query };
let showDetails = persisted?.details ?? false;
let latestSeq = 0;
let current: GroupedResults | undefined;
let collapsed = new Set<number>();
let rows: Row[] = [];
let selected = -1;

// --- inputs -------------------------------------------------------------------------------

function persist(): void {
  api.setState({ query, details: showDetails });
}

function search(immediate: boolean): void {
  persist();
  api.postMessage({ type: "search", query, immediate });
}

function showQuery(): void {
  ui.query.value = query.query;
  ui.includes.value = query.includes;
  ui.excludes.value = query.excludes;
  setToggle(ui.case, query.isCaseSensitive);
  setToggle(ui.word, query.isWordMatch);
  setToggle(ui.regex, query.isRegex);
  selectRev(query.rev);
  ui.details.hidden = !showDetails;
  ui.detailsToggle.setAttribute("aria-expanded", String(showDetails));
  fitQuery();
}

function setToggle(button: HTMLButtonElement, on: boolean): void {
  button.classList.toggle("checked", on);
  button.setAttribute("aria-pressed", String(on));
}

function fitQuery(): void {
  ui.query.style.height = "auto";
  ui.query.style.height = `${ui.query.scrollHeight}px`;
}

type ToggleKey = "isCaseSensitive" | "isWordMatch" | "isRegex";
const toggles: [HTMLButtonElement, ToggleKey, string][] = [
  [ui.case, "isCaseSensitive", "c"],
  [ui.word, "isWordMatch", "w"],
  [ui.regex, "isRegex", "r"],
];

function flip(key: ToggleKey, button: HTMLButtonElement): void {
  query = { ...query, [key]: !query[key] };
  setToggle(button, query[key]);
  search(true);
}

for (const [button, key] of toggles) {
  button.addEventListener("click", () => flip(key, button));
}

document.addEventListener("keydown", (e) => {
  if (!e.altKey || e.ctrlKey || e.metaKey) return;
  const hit = toggles.find(([, , letter]) => e.key.toLowerCase() === letter || e.code === `Key${letter.toUpperCase()}`);
  if (hit) {
    e.preventDefault();
    flip(hit[1], hit[0]);
  }
});

ui.query.addEventListener("input", () => {
  // One line only, as ripgrep searches line by line: a pasted newline becomes a space.
  if (ui.query.value.includes("\n")) ui.query.value = ui.query.value.replace(/\r?\n/g, " ");
  query = { ...query, query: ui.query.value };
  fitQuery();
  search(false);
});

ui.query.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    e.preventDefault();
    search(true);
  } else if (e.key === "ArrowDown" && rows.length) {
    e.preventDefault();
    ui.results.focus();
    select(0);
  }
});

for (const [input, key] of [[ui.includes, "includes"], [ui.excludes, "excludes"]] as const) {
  input.addEventListener("input", () => {
    query = { ...query, [key]: input.value };
    search(false);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") search(true);
  });
}

ui.rev.addEventListener("change", () => {
  query = { ...query, rev: ui.rev.value };
  search(true);
});

ui.refreshRevs.addEventListener("click", () => api.postMessage({ type: "refreshBranches" }));

ui.detailsToggle.addEventListener("click", () => {
  showDetails = !showDetails;
  ui.details.hidden = !showDetails;
  ui.detailsToggle.setAttribute("aria-expanded", String(showDetails));
  persist();
  if (showDetails) ui.includes.focus();
});

// --- revs -----------------------------------------------------------------------------------

function fillRevs(revs: RevChoice[]): void {
  ui.rev.replaceChildren(
    ...revs.map((r) => {
      const option = document.createElement("option");
      option.value = r.value;
      option.textContent = r.label;
      option.title = r.description;
      return option;
    }),
  );
  selectRev(query.rev);
}

function selectRev(rev: string): void {
  if (![...ui.rev.options].some((o) => o.value === rev)) {
    const option = document.createElement("option");
    option.value = rev;
    option.textContent = rev;
    ui.rev.append(option);
  }
  ui.rev.value = rev;
}

// --- results --------------------------------------------------------------------------------

function rowId(row: Row): string {
  return row.match === -1 ? `f${row.file}` : `m${row.file}-${row.match}`;
}

function target(file: FileGroup, match: MatchRow): OpenTarget {
  return { uri: file.uri, path: file.path, folder: file.folder, rev: current?.rev ?? query.rev, range: match.range };
}

function open(row: Row, preserveFocus: boolean, preview: boolean): void {
  const file = current?.files[row.file];
  if (!file) return;
  if (row.match === -1) {
    setCollapsed(row.file, !collapsed.has(row.file));
    return;
  }
  api.postMessage({ type: "open", target: target(file, file.matches[row.match]), preserveFocus, preview });
}

function fileRow(file: FileGroup, index: number, multiFolder: boolean): HTMLElement {
  const el = document.createElement("div");
  el.className = "row file";
  el.id = rowId({ file: index, match: -1 });
  el.setAttribute("role", "treeitem");
  el.setAttribute("aria-expanded", "true");
  el.setAttribute("aria-level", "1");
  el.title = file.path;
  const twistie = document.createElement("span");
  twistie.className = "twistie codicon codicon-chevron-down";
  const icon = document.createElement("span");
  icon.className = "codicon codicon-file";
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = file.name;
  const dir = document.createElement("span");
  dir.className = "dir";
  dir.textContent = multiFolder ? `${folderName(file.folder)}${file.dir ? " • " + file.dir : ""}` : file.dir;
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.textContent = String(file.count);
  badge.title = `${file.count} result${file.count === 1 ? "" : "s"}`;
  el.append(twistie, icon, name, dir, badge);
  return el;
}

function folderName(uri: string): string {
  const parts = uri.split("/").filter(Boolean);
  return decodeURIComponent(parts[parts.length - 1] ?? uri);
}

function matchRow(file: FileGroup, fileIndex: number, match: MatchRow, index: number): HTMLElement {
  const el = document.createElement("div");
  el.className = "row match";
  el.id = rowId({ file: fileIndex, match: index });
  el.setAttribute("role", "treeitem");
  el.setAttribute("aria-level", "2");
  el.title = `${file.path}:${match.line + 1}`;
  el.dataset.line = String(match.line + 1);
  for (const s of match.segments) {
    const span = document.createElement("span");
    if (s.match) span.className = "highlight";
    span.textContent = s.text;
    el.append(span);
  }
  if (match.count > 1) {
    const more = document.createElement("span");
    more.className = "line-count";
    more.textContent = `×${match.count}`;
    el.append(more);
  }
  return el;
}

function render(results: GroupedResults): void {
  current = results;
  collapsed = new Set();
  selected = -1;
  const groups = results.files.map((file, i) => {
    const group = document.createElement("div");
    group.className = "file-group";
    group.setAttribute("role", "group");
    group.append(fileRow(file, i, results.multiFolder), ...file.matches.map((m, j) => matchRow(file, i, m, j)));
    return group;
  });
  ui.results.replaceChildren(...groups);
  ui.results.removeAttribute("aria-activedescendant");
  rows = visibleRows(results.files.map((f) => f.matches.length), collapsed);
}

function clearResults(): void {
  current = undefined;
  rows = [];
  selected = -1;
  ui.results.replaceChildren();
}

function setCollapsed(file: number, on: boolean): void {
  if (!current) return;
  if (on) collapsed.add(file);
  else collapsed.delete(file);
  const head = document.getElementById(rowId({ file, match: -1 }));
  head?.parentElement?.classList.toggle("collapsed", on);
  head?.setAttribute("aria-expanded", String(!on));
  head?.querySelector(".twistie")?.classList.replace(on ? "codicon-chevron-down" : "codicon-chevron-right", on ? "codicon-chevron-right" : "codicon-chevron-down");
  const keep = rows[selected];
  rows = visibleRows(current.files.map((f) => f.matches.length), collapsed);
  if (keep) select(Math.max(0, rows.findIndex((r) => r.file === keep.file && (r.match === keep.match || r.match === -1))));
}

function select(index: number): void {
  document.querySelector(".row.selected")?.classList.remove("selected");
  selected = index;
  const row = rows[index];
  if (!row) return;
  const el = document.getElementById(rowId(row));
  if (!el) return;
  el.classList.add("selected");
  ui.results.setAttribute("aria-activedescendant", el.id);
  el.scrollIntoView({ block: "nearest" });
}

function rowOf(el: Element | null): number {
  const rowEl = el?.closest(".row");
  if (!rowEl) return -1;
  return rows.findIndex((r) => rowId(r) === rowEl.id);
}

ui.results.addEventListener("click", (e) => {
  const index = rowOf(e.target as Element);
  if (index < 0) return;
  select(index);
  open(rows[index], true, true);
});

ui.results.addEventListener("dblclick", (e) => {
  const index = rowOf(e.target as Element);
  if (index >= 0 && rows[index].match !== -1) open(rows[index], false, false);
});

ui.results.addEventListener("keydown", (e) => {
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    const row = rows[selected];
    // Enter opens and moves to the editor; Space previews and stays in the list.
    if (row) open(row, e.key === " ", e.key === " ");
    return;
  }
  const result = navigate(rows, selected, e.key, collapsed);
  if (!result) return;
  e.preventDefault();
  if (result.leave) {
    select(-1);
    ui.query.focus();
    return;
  }
  if (result.toggle) setCollapsed(result.toggle.file, result.toggle.collapsed);
  select(result.index);
});

ui.results.addEventListener("focus", () => {
  if (selected < 0 && rows.length) select(0);
});

// --- messages from the extension ------------------------------------------------------------

function setMessage(text: string, kind: "info" | "error" | "busy" = "info"): void {
  ui.message.textContent = text;
  ui.message.className = `message ${kind}`;
}

window.addEventListener("message", (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case "init":
      // The page's own saved inputs survive a reload of the view; the rev is the host's (the
      // "Switch search branch" command may have changed it while the view was closed).
      query = persisted ? { ...query, rev: m.query.rev } : { ...query, ...m.query };
      fillRevs(m.revs);
      showQuery();
      if (query.query) search(true);
      break;
    case "revs":
      fillRevs(m.revs);
      break;
    case "setRev":
      query = { ...query, rev: m.rev };
      selectRev(m.rev);
      persist();
      break;
    case "searching":
      latestSeq = Math.max(latestSeq, m.seq);
      document.body.classList.add("busy");
      break;
    case "results": {
      if (m.seq < latestSeq) return;
      document.body.classList.remove("busy");
      render(m.results);
      const where = m.results.rev === "worktree" ? "" : ` · ${m.results.rev}`;
      setMessage(`${m.summary}${where}`);
      break;
    }
    case "error":
      if (m.seq < latestSeq) return;
      document.body.classList.remove("busy");
      clearResults();
      setMessage(m.message, "error");
      break;
    case "cleared":
      document.body.classList.remove("busy");
      clearResults();
      setMessage("");
      break;
    case "focus":
      ui.query.focus();
      ui.query.select();
      break;
    case "notice":
      setMessage(m.message, "error");
      break;
  }
});

showQuery();
api.postMessage({ type: "ready" });
