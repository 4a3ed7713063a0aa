// Opening the database: SQLite in the data directory by default, PostgreSQL when a URL is given,
// migrated to the latest schema on open; and the helpers every table's module shares.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import knexFactory, { type Knex } from "knex";
import { knexConfig } from "../knexfile.ts";

/** A connection or a transaction: every storage function takes either. */
export type Db = Knex | Knex.Transaction;

export interface Storage {
  db: Knex;
  dialect: "sqlite" | "pg";
  dataDir: string;
  close(): Promise<void>;
}

export interface StorageOptions {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema to use (tests isolate themselves in their own schema). */
  schema?: string;
  /** Where knex's own warnings go (default: nowhere). */
  warn?: (message: string) => void;
}

/**
 * knex's logger: its warnings to `warn`, except the connection failures it prints with their stack
 * (the failure itself reaches the caller, which says it in a sentence).
 */
function knexLog(warn: (message: string) => void = () => {}): Knex.Config["log"] {
  const say = (m: unknown) => {
    const text = String(m);
    if (!text.startsWith("Acquire connection error")) warn(text);
  };
  return { warn: say, error: say, deprecate: say, debug: () => {} };
}

export async function openStorage(opts: StorageOptions): Promise<Storage> {
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  // SQLite creates its file 0644 & ~umask, and the -wal and -shm beside it with the file's mode:
  // created here 0600, all three are private to this account (they hold documents in clear)
  if (!opts.databaseUrl) closeSync(openSync(join(opts.dataDir, "edoc.sqlite"), "a", 0o600));
  const config = { ...knexConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl }), log: knexLog(opts.warn) };
  if (opts.databaseUrl && opts.schema) {
    config.searchPath = [opts.schema];
    const admin = knexFactory({ client: "pg", connection: opts.databaseUrl, log: knexLog(opts.warn) });
    try {
      await admin.raw("CREATE SCHEMA IF NOT EXISTS ??", [opts.schema]);
    } finally {
      await admin.destroy();
    }
  }
  const db = knexFactory(config);
  await db.migrate.latest();
  return {
    db,
    dialect: opts.databaseUrl ? "pg" : "sqlite",
    dataDir: opts.dataDir,
    close: () => db.destroy(),
  };
}

/**
 * An online copy of a SQLite database into `target` (a new file): `VACUUM INTO` reads one
 * consistent snapshot while the node goes on writing, and the copy holds no WAL of its own.
 * Then the copy is opened on its own and checked page by page.
 */
export async function backupSqlite(db: Knex, target: string): Promise<{ migrations: number; documents: number }> {
  await db.raw("VACUUM INTO ?", [target]);
  const copy = knexFactory({ client: "sqlite3", connection: { filename: target }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
  try {
    const check = (await copy.raw("PRAGMA integrity_check")) as Array<{ integrity_check: string }>;
    if (check.map((r) => r.integrity_check).join("; ") !== "ok") throw new Error(`the copy fails SQLite's integrity check: ${check.map((r) => r.integrity_check).join("; ")}`);
    const [m] = await copy("knex_migrations").count({ n: "*" });
    const [d] = await copy("documents").count({ n: "*" });
    return { migrations: Number(m.n), documents: Number(d.n) };
  } finally {
    await copy.destroy();
  }
}

/** True when `err` is a unique-constraint violation (a concurrent writer stored the same row first). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === "23505" || /UNIQUE constraint failed/i.test(e?.message ?? "");
}

/** Ids per IN list: far below SQLite's limit on bound parameters. */
const IN_CHUNK = 500;

/**
 * The rows of many documents in one query per 500 ids (not one per document), grouped by their
 * `document` column, each group in the order `read` gives; every id has an entry.
 */
export async function byDocument<T>(
  ids: readonly string[],
  read: (chunk: string[]) => Promise<Array<Record<string, unknown>>>,
  map: (row: Record<string, unknown>) => T,
): Promise<Map<string, T[]>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, T[]>(unique.map((id) => [id, []]));
  for (let i = 0; i < unique.length; i += IN_CHUNK) {
    for (const row of await read(unique.slice(i, i + IN_CHUNK))) out.get(row.document as string)!.push(map(row));
  }
  return out;
}

/** Whether the database answers `select 1` within `timeoutMs`. */
export async function databaseAnswers(db: Db, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.raw("select 1"),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the database did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
