// Database configuration: SQLite in EDOC_DATA_DIR by default, PostgreSQL when DATABASE_URL is set.
// The same migrations (storage/migrations.ts) and queries serve both.
import { join, resolve } from "node:path";
import type { Knex } from "knex";
import { migrationSource } from "./storage/migrations.ts";

/**
 * The writer's configuration, or (`role` "reader") the configuration of the connections that
 * never wait behind it: on SQLite two more connections that refuse to write, on PostgreSQL a pool
 * of its own.
 */
export function knexConfig(env: { dataDir: string; databaseUrl?: string; poolMax?: number }, role: "writer" | "reader" = "writer"): Knex.Config {
  const migrations = { migrationSource };
  if (env.databaseUrl) {
    return { client: "pg", connection: env.databaseUrl, pool: { min: 0, max: role === "writer" ? (env.poolMax ?? 10) : 4 }, migrations };
  }
  // the writer is one connection: SQLite serialises writers anyway, and one connection makes every
  // transaction see the others' committed writes without busy errors. synchronous=FULL: a commit
  // is on disk (the WAL fsynced) before anyone is told. Readers see every committed write (WAL).
  const pragmas = ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000"];
  if (role === "reader") pragmas.push("PRAGMA query_only = ON");
  return {
    client: "sqlite3",
    connection: { filename: join(resolve(env.dataDir), "edoc.sqlite") },
    useNullAsDefault: true,
    pool: {
      min: role === "writer" ? 1 : 0,
      max: role === "writer" ? 1 : 2,
      afterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        const next = (i: number) => (i === pragmas.length ? done(null, conn) : conn.run(pragmas[i], (err) => (err ? done(err, conn) : next(i + 1))));
        next(0);
      },
    },
    migrations,
  };
}

export default knexConfig({ dataDir: process.env.EDOC_DATA_DIR ?? "./data", databaseUrl: process.env.DATABASE_URL });
