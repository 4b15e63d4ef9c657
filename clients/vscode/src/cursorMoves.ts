// When to tell the server that the cursor went somewhere without typing (ghosttype/didMoveCursor):
// once it has settled on another line than the last one sent or typed on. Pure, for the unit tests.

export const MOVED_NOTIFICATION = "ghosttype/didMoveCursor";
/** How long the cursor must rest before its place is sent: one cue per jump, not one per line passed. */
export const SETTLE_MS = 120;
/** A selection change this soon after an edit of its document is the edit's own cursor move. */
export const EDIT_MOVE_MS = 100;

export interface Place {
  uri: string;
  line: number;
  /** UTF-16 code units, as VS Code and LSP count them. */
  character: number;
}

/** Whether the cursor settling at `next` is a move worth a cue: not typing, and another line. */
export function isCursorMove(last: Place | undefined, next: Place, edited: boolean): boolean {
  if (edited) {
    return false;
  }
  return last === undefined || last.uri !== next.uri || last.line !== next.line;
}

/** Debounces cursor places into cues; the editor wiring feeds it events and sends what it emits. */
export class CursorMoveTracker {
  /** The last place sent, or typed at. */
  private last: Place | undefined;
  private edit: { uri: string; at: number } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** Sends the cue; false when it could not go (no server running), so the place is not "sent". */
    private readonly send: (place: Place) => boolean,
    private readonly now: () => number = Date.now,
    private readonly settleMs: number = SETTLE_MS,
  ) {}

  /** The document at `place` was edited there: the place counts as typed on. */
  edited(place: Place): void {
    this.cancel();
    this.edit = { uri: place.uri, at: this.now() };
    this.last = place;
  }

  /** The cursor is at `place` now (a selection change, or another editor became active). */
  moved(place: Place): void {
    this.cancel();
    const edit = this.edit;
    if (edit !== undefined && edit.uri === place.uri && this.now() - edit.at <= EDIT_MOVE_MS) {
      // The cursor move that typing causes: where it lands is the typed place.
      this.last = place;
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (isCursorMove(this.last, place, false) && this.send(place)) {
        this.last = place;
      }
    }, this.settleMs);
  }

  cancel(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
