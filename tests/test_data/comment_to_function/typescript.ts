import { readFileSync } from "fs";

/** Count the lines of a text that contain the given word. */
export function countLines(text: string, word: string): number {
  █
}
