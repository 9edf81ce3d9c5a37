/**
 * The edit for a chosen key, decided against the document as it is *now*. The server built its edit for the text
 * sent at the keypress; if a collaborator (or the user) changed the document while the list was open, that edit's
 * offsets are stale, so the insertion is rebuilt locally at the current cursor with the same rules
 * (`\cite{key}` in the document's style, or the key inside an existing `\cite{a, |}`).
 */
import { editForChoice, localEdit } from "../../../vscode/src/edits";
import type { Utf16Edit } from "../../../vscode/src/edits";
import type { Insert } from "./messages";

export interface Snapshot {
  text: string;
  cursor: number;
}

export function editFor(choice: Insert, sent: Snapshot, now: Snapshot): Utf16Edit {
  const command = choice.command || undefined;
  if (sent.text === now.text && sent.cursor === now.cursor) {
    return editForChoice({
      text: sent.text, cursor: sent.cursor, serverEdit: choice.serverInsert, topKey: choice.topKey,
      chosenKey: choice.key, commandOverride: command,
    });
  }
  return localEdit(now.text, now.cursor, choice.key, command);
}
