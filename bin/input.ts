// What every `edoc` command shares: the error for bad input (exit 2 with a sentence) and reading a file it names.
import { readFile } from "node:fs/promises";

/** An error in what the user gave: exit 2 with this message. */
export class InputError extends Error {}

export async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new InputError(`cannot read the ${what} file ${path}`);
  }
}
