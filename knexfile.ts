// Database configuration: SQLite in EDOC_DATA_DIR by default, PostgreSQL when DATABASE_URL is set.
// The same migrations (storage/migrations.ts) and queries serve both.
import { join, resolve } from "node:path";
import type { Knex } from "knex";
import { migrationSource } from "./storage/migrations.ts";

export function knexConfig(env: { dataDir: string; databaseUrl?: string }): Knex.Config {
  const migrations = { migrationSource };
  if (env.databaseUrl) {
    return { client: "pg", connection: env.databaseUrl, pool: { min: 0, max: 10 }, migrations };
  }
  return {
    client: "sqlite3",
    connection: { filename: join(resolve(env.dataDir), "edoc.sqlite") },
    useNullAsDefault: true,
    // one connection: SQLite serialises writers anyway, and one connection makes every
    // transaction see the others' committed writes without busy errors
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.run("PRAGMA journal_mode = WAL", (e1) => {
          if (e1) return done(e1, conn);
          conn.run("PRAGMA foreign_keys = ON", (e2) => {
            if (e2) return done(e2, conn);
            conn.run("PRAGMA busy_timeout = 5000", (e3) => done(e3, conn));
          });
        });
      },
    },
    migrations,
  };
}

export default knexConfig({ dataDir: process.env.EDOC_DATA_DIR ?? "./data", databaseUrl: process.env.DATABASE_URL });
