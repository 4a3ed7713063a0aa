// What every `edoc` command shares: its shape, and the error for bad input (exit 2 with a sentence).
import { readFile } from "node:fs/promises";
import type { ParseArgsConfig } from "node:util";

/** An error in what the user gave: exit 2 with this message. */
export class InputError extends Error {}

export interface Command {
  usage: string;
  options: ParseArgsConfig["options"];
  positionals?: number;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

export async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new InputError(`cannot read the ${what} file ${path}`);
  }
}
