// Code actions' client side (docs/actions.md). The actions are ordinary LSP code actions that
// vscode-languageclient shows in the light bulb and Quick Fix menus; only "Refactor with an
// instruction" needs the client: its command, ghosttype.refactor, carries `[data]`, and the
// client asks the person for the instruction and sends it as `data.instruction`.

export const REFACTOR_COMMAND = "ghosttype.refactor";

/** Asks the person for the instruction; undefined when they cancel. */
export type AskInstruction = () => PromiseLike<string | undefined>;

/**
 * The arguments to send with `command`: unchanged for every command but ghosttype.refactor, which
 * gets the instruction asked for. Undefined when the person cancelled: nothing is sent. An empty
 * answer sends no instruction (the server then takes the comment right above the code).
 */
export async function commandArguments(command: string, args: unknown[], ask: AskInstruction): Promise<unknown[] | undefined> {
  if (command !== REFACTOR_COMMAND) {
    return args;
  }
  const answer = await ask();
  if (answer === undefined) {
    return undefined;
  }
  const [data, ...rest] = args;
  const instruction = answer.trim();
  if (instruction === "" || typeof data !== "object" || data === null) {
    return args;
  }
  return [{ ...(data as Record<string, unknown>), instruction }, ...rest];
}
