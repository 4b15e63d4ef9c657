// The cascade's push (ghosttype/refreshInlineCompletion): the pause role's answer for the place of
// the shown suggestion differs from it, and the server asks the client to ask again. Whether a
// refresh applies, and what the provider answers while one is pending. Pure, for the unit tests.

export const REFRESH_NOTIFICATION = "ghosttype/refreshInlineCompletion";

/** A place in one version of a document; line and character as LSP counts them (UTF-16). */
export interface DocumentPlace {
  uri: string;
  version: number;
  line: number;
  character: number;
}

/** The notification's params as a place, or undefined when malformed. */
export function parseRefresh(params: unknown): DocumentPlace | undefined {
  const p = params as { textDocument?: { uri?: unknown; version?: unknown }; position?: { line?: unknown; character?: unknown } } | null;
  const uri = p?.textDocument?.uri;
  const version = p?.textDocument?.version;
  const line = p?.position?.line;
  const character = p?.position?.character;
  if (typeof uri !== "string" || typeof version !== "number" || typeof line !== "number" || typeof character !== "number") {
    return undefined;
  }
  return { uri, version, line, character };
}

export function samePlace(a: DocumentPlace | undefined, b: DocumentPlace | undefined): boolean {
  return a !== undefined && b !== undefined && a.uri === b.uri && a.version === b.version && a.line === b.line && a.character === b.character;
}

/**
 * Remembers the last suggestion the provider handed out and the refresh asked for, so that a
 * refresh applies only where that suggestion is (the focused editor's document unedited since, its
 * cursor there) and an empty reply to it keeps the suggestion instead of taking it away.
 */
export class RefreshTracker<Item> {
  private shown: { place: DocumentPlace; items: readonly Item[] } | undefined;
  private pending: DocumentPlace | undefined;

  /**
   * A refresh arrived; `cursor` is the focused editor's document version and cursor (undefined:
   * no focused editor, or a selection). True when the caller should ask for completions again.
   */
  refresh(params: unknown, cursor: DocumentPlace | undefined): boolean {
    const place = parseRefresh(params);
    if (place === undefined || !samePlace(place, cursor) || !samePlace(place, this.shown?.place)) {
      return false;
    }
    this.pending = place;
    return true;
  }

  /** The provider's reply at `place`: what it should return instead (the shown items for an empty
   * reply to a refresh), and remembered as shown when it has items. */
  replied(place: DocumentPlace, items: readonly Item[]): readonly Item[] {
    const refreshing = samePlace(place, this.pending);
    this.pending = undefined;
    if (items.length > 0) {
      this.shown = { place, items };
      return items;
    }
    if (refreshing && this.shown !== undefined && samePlace(place, this.shown.place)) {
      return this.shown.items;
    }
    this.shown = undefined; // nothing shown now
    return items;
  }
}
