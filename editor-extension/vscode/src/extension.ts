/**
 * The VS Code glue, and the only module that imports `vscode`: it reads settings, asks the server, shows the
 * QuickPick / completion items and applies edits. All decisions live in the plain modules it calls.
 */
import * as vscode from "vscode";
import { StartrefError, suggest } from "./client";
import { citeContextAt } from "./citeContext";
import { editForChoice } from "./edits";
import { completionEntries, pickItems } from "./items";
import type { PickItem } from "./items";
import { buildSuggestRequest } from "./protocol";
import type { SuggestResponse } from "./protocol";
import { ServerManager } from "./serverManager";
import type { ServerState } from "./serverProcess";
import { parseSettings } from "./settings";
import type { Settings } from "./settings";

/** Completion asks for more candidates than the hotkey: the typed prefix filters them further. */
const COMPLETION_K = 20;

let manager: ServerManager | null = null;

function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration("startref");
  const keys = [
    "serverUrl", "token", "k", "citeCommand", "autoStart", "serverCommand", "pythonPath", "serverArgs",
    "startTimeoutSeconds", "requestTimeoutSeconds",
  ];
  const raw: Record<string, unknown> = {};
  for (const key of keys) raw[key] = config.get(key);
  return parseSettings(raw);
}

function showError(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  void vscode.window.showErrorMessage(message.startsWith("startref") ? message : `startref: ${message}`);
}

function statusText(state: ServerState): string {
  switch (state) {
    case "loading":
      return "$(sync~spin) startref";
    case "ready":
      return "$(check) startref";
    case "error":
      return "$(error) startref";
    default:
      return "$(circle-outline) startref";
  }
}

async function request(
  document: vscode.TextDocument,
  position: vscode.Position,
  settings: Settings,
  k: number,
): Promise<SuggestResponse> {
  await manager!.ensure(settings);
  const body = buildSuggestRequest({
    text: document.getText(),
    position: { line: position.line, character: position.character },
    path: document.uri.scheme === "file" ? document.uri.fsPath : undefined,
    k,
    command: settings.citeCommand || undefined,
  });
  return suggest({ serverUrl: settings.serverUrl, token: settings.token, timeoutMs: settings.requestTimeoutMs }, body);
}

interface StartrefPick extends vscode.QuickPickItem {
  item: PickItem;
}

async function choose(response: SuggestResponse): Promise<PickItem | undefined> {
  const picks: StartrefPick[] = pickItems(response).map((item) => ({
    label: item.label,
    description: item.description,
    detail: item.detail || undefined,
    kind: item.separator ? vscode.QuickPickItemKind.Separator : vscode.QuickPickItemKind.Default,
    item,
  }));
  const quickPick = vscode.window.createQuickPick<StartrefPick>();
  quickPick.title = "startref: Suggest citation";
  quickPick.placeholder = "Best first; Enter inserts, Escape cancels";
  quickPick.matchOnDescription = true;
  quickPick.matchOnDetail = true;
  quickPick.items = picks;
  const first = picks.find((p) => p.item.key !== null);
  if (first) quickPick.activeItems = [first];
  return new Promise<PickItem | undefined>((resolve) => {
    let chosen: PickItem | undefined;
    quickPick.onDidAccept(() => {
      chosen = quickPick.selectedItems[0]?.item ?? quickPick.activeItems[0]?.item;
      quickPick.hide();
    });
    quickPick.onDidHide(() => {
      quickPick.dispose();
      resolve(chosen);
    });
    quickPick.show();
  });
}

async function suggestCitation(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage("startref: open a LaTeX file first");
    return;
  }
  const document = editor.document;
  const position = editor.selection.active;
  const version = document.version;
  const text = document.getText();
  let settings: Settings;
  let response: SuggestResponse;
  try {
    settings = readSettings();
    response = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: "startref: ranking your bibliography" },
      () => request(document, position, settings, settings.k),
    );
  } catch (err) {
    showError(err);
    return;
  }
  if (response.candidates.length === 0 && response.unresolved.length === 0) {
    const problems = response.problems.length > 0 ? `: ${response.problems.slice(0, 3).join("; ")}` : "";
    void vscode.window.showWarningMessage(`startref: no candidates from your bibliography${problems}`);
    return;
  }
  const picked = await choose(response);
  if (!picked) return;
  if (picked.key === null) {
    void vscode.window.showInformationMessage(
      "startref: this generation is not in your bibliography; add the entry to your .bib to cite it",
    );
    return;
  }
  if (document.version !== version && document.getText() !== text) {
    void vscode.window.showWarningMessage("startref: the document changed while choosing; nothing inserted, try again");
    return;
  }
  try {
    const edit = editForChoice({
      text,
      cursor: document.offsetAt(position),
      serverEdit: response.insert,
      topKey: response.candidates[0]?.key ?? null,
      chosenKey: picked.key,
      commandOverride: settings.citeCommand || undefined,
    });
    const range = new vscode.Range(document.positionAt(edit.start), document.positionAt(edit.end));
    let applied: boolean;
    if (picked.bibEdit) {
      // A library entry: the \cite and the new .bib entry go in as one workspace edit (appended at the end of
      // the .bib as it is open now, which is where the server planned it on disk).
      const bib = await vscode.workspace.openTextDocument(vscode.Uri.file(picked.bibEdit.file));
      const bibEnd = bib.lineAt(bib.lineCount - 1).range.end;
      const both = new vscode.WorkspaceEdit();
      both.replace(document.uri, range, edit.text);
      both.insert(bib.uri, bibEnd, picked.bibEdit.text);
      applied = await vscode.workspace.applyEdit(both);
    } else {
      applied = await editor.edit((builder) => builder.replace(range, edit.text));
    }
    if (applied) {
      const end = document.positionAt(edit.start + edit.text.length);
      editor.selection = new vscode.Selection(end, end);
    }
  } catch (err) {
    showError(err);
  }
}

class CiteCompletionProvider implements vscode.CompletionItemProvider {
  async provideCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    token: vscode.CancellationToken,
  ): Promise<vscode.CompletionList | undefined> {
    const text = document.getText();
    const context = citeContextAt(text, document.offsetAt(position));
    if (!context) return undefined;
    let response: SuggestResponse;
    try {
      const settings = readSettings();
      response = await request(document, position, settings, Math.max(settings.k, COMPLETION_K));
    } catch (err) {
      if (err instanceof StartrefError && err.kind === "server") showError(err);
      return undefined;
    }
    if (token.isCancellationRequested) return undefined;
    const range = new vscode.Range(document.positionAt(context.keyStart), position);
    const items = completionEntries(response, context.prefix, context.existingKeys).map((entry) => {
      const item = new vscode.CompletionItem(entry.label, vscode.CompletionItemKind.Reference);
      item.detail = entry.detail;
      item.documentation = entry.documentation || undefined;
      item.sortText = entry.sortText;
      item.filterText = entry.filterText;
      item.insertText = entry.insertText;
      item.range = range;
      return item;
    });
    return new vscode.CompletionList(items, true);
  }
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("startref");
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.text = statusText("stopped");
  status.tooltip = "startref: server not contacted yet";
  status.command = "startref.showOutput";
  status.show();
  manager = new ServerManager({
    cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    onOutput: (line) => output.appendLine(line),
    onState: (state, detail) => {
      status.text = statusText(state);
      status.tooltip = `startref: ${state} — ${detail}`;
      output.appendLine(`[${state}] ${detail}`);
    },
  });
  context.subscriptions.push(
    output,
    status,
    vscode.commands.registerCommand("startref.suggestCitation", suggestCitation),
    vscode.commands.registerCommand("startref.showOutput", () => output.show()),
    vscode.commands.registerCommand("startref.restartServer", async () => {
      try {
        await manager!.stop();
        await manager!.ensure(readSettings());
      } catch (err) {
        showError(err);
      }
    }),
    vscode.languages.registerCompletionItemProvider({ language: "latex" }, new CiteCompletionProvider(), "{", ","),
  );
  // Warm the server up front so the first hotkey does not wait for model loading.
  try {
    const settings = readSettings();
    if (settings.autoStart) manager.ensure(settings).catch(() => undefined);
  } catch (err) {
    showError(err);
  }
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
  manager = null;
}
