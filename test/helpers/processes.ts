// Node processes of the crash and several-process tests: started as children (their stdout read
// as JSON lines), killed with SIGKILL; and a door whose answers to /edxml are counted and held back
// a while, the window a kill hits.
import { spawn, type ChildProcess } from "node:child_process";
import type { RequestListener } from "node:http";
import { fileURLToPath } from "node:url";
import { createApp } from "../../server/app.ts";
import type { AppContext as Node } from "../../app/index.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Child {
  proc: ChildProcess;
  /** Its stdout's JSON lines (other lines, such as the node's banner, are left out). */
  lines: Array<Record<string, unknown>>;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node ARGS…` in the repository's root with `env` (nothing of the test's environment is added). */
export function spawnChild(args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const child: Child = {
    proc,
    lines: [],
    stderr: "",
    exited: new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal }))),
  };
  let buffered = "";
  proc.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      const line = buffered.slice(0, i).trim();
      buffered = buffered.slice(i + 1);
      if (line.startsWith("{")) child.lines.push(JSON.parse(line));
    }
  });
  proc.stderr!.on("data", (chunk: Buffer) => (child.stderr += chunk.toString("utf8")));
  return child;
}

export async function killIfRunning(child: Child | undefined): Promise<void> {
  if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
    child.proc.kill("SIGKILL");
    await child.exited;
  }
}

/** The app, counting the requests to /edxml in `counter.hits` and holding each answer back `delayMs` after the packet was handled. */
export function slowDoor(counter: { hits: number }, delayMs: number) {
  return (node: Node): RequestListener => {
    const app = createApp(node);
    return (req, res) => {
      if (req.url === "/edxml") {
        counter.hits++;
        const end = res.end.bind(res) as (...args: unknown[]) => unknown;
        res.end = ((...args: unknown[]) => {
          setTimeout(() => end(...args), delayMs);
          return res;
        }) as typeof res.end;
      }
      app(req, res);
    };
  };
}
