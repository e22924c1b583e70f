// "Switch search branch": pick the rev the search view (and Ask) search, from codeloupe/branches;
// any other rev (a commit id, HEAD~3) can be typed in.
import * as vscode from "vscode";
import type { SearchViewProvider } from "../search/searchView";

interface RevItem extends vscode.QuickPickItem {
  rev: string;
}

export async function switchSearchBranch(view: SearchViewProvider): Promise<string | undefined> {
  const pick = vscode.window.createQuickPick<RevItem>();
  pick.title = "Switch search branch";
  pick.placeholder = "Branch, tag or commit to search (type any rev)";
  pick.busy = true;
  const listed = (current: string): RevItem[] => view.revChoices.map((c) => ({
    label: `${c.value === current ? "$(check) " : ""}${c.label}`,
    description: c.description,
    rev: c.value,
  }));
  pick.items = listed(view.rev);
  void view.refreshRevs().then(
    () => {
      pick.items = listed(view.rev);
      pick.busy = false;
    },
    () => {
      pick.busy = false;
    },
  );
  pick.onDidChangeValue((value) => {
    const typed = value.trim();
    const items = listed(view.rev);
    if (typed && !items.some((i) => i.rev === typed)) {
      items.push({ label: typed, description: "search this rev", rev: typed, alwaysShow: true });
    }
    pick.items = items;
  });
  const chosen = await new Promise<string | undefined>((resolve) => {
    pick.onDidAccept(() => {
      resolve(pick.selectedItems[0]?.rev);
      pick.hide();
    });
    pick.onDidHide(() => resolve(undefined));
    pick.show();
  });
  pick.dispose();
  if (chosen) {
    await view.reveal();
    view.setRev(chosen);
  }
  return chosen;
}
