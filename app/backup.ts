// An online backup of a SQLite node (`bin/edoc backup DIR`): one consistent copy of the database,
// checked, with its SHA-256 beside it. The master key is not in it, on purpose: a backup that
// leaks stays sealed as long as the key is kept apart (see the README's deployment guide).
// A PostgreSQL node is backed up with the database's own tools (pg_dump).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, mkdir, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { audit, backupSqlite } from "../storage/index.ts";
import { assertNodeAdmin } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { AppError } from "./errors.ts";

export interface Backup {
  path: string;
  bytes: number;
  sha256: string;
  documents: number;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

export async function backupNode(ctx: AppContext, caller: Caller, dir: string): Promise<Backup> {
  await assertNodeAdmin(ctx, caller, "back up the node");
  if (ctx.storage.dialect !== "sqlite") {
    throw new AppError("invalid", "this node keeps its data in PostgreSQL: back it up with pg_dump (see the README's deployment guide)");
  }
  const target = join(resolve(dir), `edoc-${ctx.now().toISOString().replace(/[:.]/g, "-")}.sqlite`);
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  let copied: { documents: number };
  try {
    copied = await backupSqlite(ctx.storage.db, target);
  } catch (err) {
    throw new AppError("unavailable", `cannot write the backup ${target}: ${(err as Error).message}`);
  }
  await chmod(target, 0o600); // it holds the documents in clear
  const sha256 = await sha256File(target);
  await writeFile(`${target}.sha256`, `${sha256}  ${basename(target)}\n`, { mode: 0o600 });
  const { size } = await stat(target);
  await audit(ctx.storage.db, { actor: caller.actor, organId: caller.organId, action: "backup.create", detail: { path: target, sha256, bytes: size } });
  return { path: target, bytes: size, sha256, documents: copied.documents };
}
