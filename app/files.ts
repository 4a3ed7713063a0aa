// The node's files in its data directory: the SQLite database (and its -wal and -shm, which hold
// recent writes in clear), the master key, the development CA, uploads being received (uploads/)
// and work files (tmp/). They are private to the node's account whatever the umask: 0700
// directories, 0600 files, checked and fixed at every start. A process killed in the middle of a
// request leaves its upload or work file behind; those are removed once nothing can still be
// writing them (older than the longest request), at start and then periodically.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Config } from "./config.ts";

/** What the sweep needs of the node's context (which opens the data directory with secureDataDir). */
interface Node {
  config: Pick<Config, "dataDir" | "requestTimeoutMs">;
  log: Logger;
  now(): Date;
}

/** Where uploads and work files go, under the data directory. */
const WORK_DIRS = ["uploads", "tmp"];
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * Creates the data directory and its work directories if needed, and takes every permission for
 * the group and others away from them and from everything in them (symbolic links are left as
 * they are, and not followed). Answers the paths it fixed, and those it may not change (another
 * account's: the CLI run by someone else).
 */
export function secureDataDir(dataDir: string): { fixed: string[]; notMine: string[] } {
  const fixed: string[] = [];
  const notMine: string[] = [];
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  for (const d of WORK_DIRS) mkdirSync(join(dataDir, d), { recursive: true, mode: DIR_MODE });
  // another process of the node (the CLI, a second node) may remove its work files meanwhile
  const gone = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";
  const visit = (path: string) => {
    let st;
    try {
      st = lstatSync(path);
    } catch (err) {
      if (gone(err)) return;
      throw err;
    }
    if (st.isSymbolicLink()) return;
    const want = st.isDirectory() ? DIR_MODE : FILE_MODE;
    if ((st.mode & 0o777) !== want) {
      try {
        chmodSync(path, want);
        fixed.push(path);
      } catch (err) {
        if (gone(err)) return;
        if ((err as NodeJS.ErrnoException).code !== "EPERM") throw err;
        notMine.push(path);
      }
    }
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (err) {
      if (gone(err)) return;
      throw err;
    }
    for (const name of names) visit(join(path, name));
  };
  visit(dataDir);
  return { fixed, notMine };
}

const DAY_MS = 86_400_000;

/** How old a work file must be to be an orphan: the longest a request may take (a day when unlimited). */
const orphanAge = (config: Pick<Config, "requestTimeoutMs">) => config.requestTimeoutMs || DAY_MS;

/** Removes what lies in uploads/ and tmp/ untouched for longer than the longest request; answers what went. */
async function removeOrphans(ctx: Node): Promise<{ removed: string[]; bytes: number }> {
  const before = ctx.now().getTime() - orphanAge(ctx.config);
  const removed: string[] = [];
  let bytes = 0;
  for (const d of WORK_DIRS) {
    const dir = join(ctx.config.dataDir, d);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(dir, name);
      const st = await lstat(path).catch(() => null);
      if (!st || st.mtimeMs >= before) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(path);
      bytes += st.isFile() ? st.size : 0;
    }
  }
  if (removed.length) ctx.log.info({ removed, bytes }, `removed ${removed.length} file(s) left by interrupted requests (${bytes} bytes)`);
  return { removed, bytes };
}

/** How often the timer looks for orphans. */
const SWEEP_MS = 10 * 60_000;

/** Removes orphans now, then every `everyMs`; the answer stops the timer. */
export async function startOrphanSweep(ctx: Node, everyMs = SWEEP_MS): Promise<() => void> {
  const sweep = () => removeOrphans(ctx).catch((err: Error) => ctx.log.warn({ err: err.message }, "cannot remove files left by interrupted requests"));
  await sweep();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void sweep().finally(() => (busy = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
