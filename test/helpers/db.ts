// Runs a suite on both databases: SQLite in a scratch directory and PostgreSQL in a schema of its
// own (DATABASE_URL or the local test database). Without PostgreSQL the PostgreSQL run is skipped
// with a printed reason, except under CI, where it fails.
import { randomBytes } from "node:crypto";
import knexFactory from "knex";
import { openStorage, type Storage } from "../../storage/index.ts";
import { scratch } from "../../fixtures/index.ts";

const PG_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

let pgReachable: Promise<string | null> | undefined;
/** null when PostgreSQL answers, else the reason it does not. */
function pgProblem(): Promise<string | null> {
  pgReachable ??= (async () => {
    const k = knexFactory({ client: "pg", connection: PG_URL, acquireConnectionTimeout: 3000 });
    try {
      await k.raw("select 1");
      return null;
    } catch (err) {
      return `PostgreSQL at ${PG_URL} is not reachable (${(err as Error).message})`;
    } finally {
      await k.destroy();
    }
  })();
  return pgReachable;
}

export interface TestDatabase {
  name: "sqlite" | "postgresql";
  /** Options for openStorage: nodes given the same options share one database. */
  options(): { dataDir: string; databaseUrl?: string; schema?: string };
  open(): Promise<Storage>;
  cleanup(): Promise<void>;
}

function sqlite(): TestDatabase {
  const s = scratch();
  return {
    name: "sqlite",
    options: () => ({ dataDir: s.path("data") }),
    open: () => openStorage({ dataDir: s.path("data") }),
    cleanup: async () => s.cleanup(),
  };
}

function postgres(): TestDatabase {
  const s = scratch();
  const schema = `edoc_test_${randomBytes(6).toString("hex")}`;
  return {
    name: "postgresql",
    options: () => ({ dataDir: s.path("data"), databaseUrl: PG_URL, schema }),
    open: () => openStorage({ dataDir: s.path("data"), databaseUrl: PG_URL, schema }),
    cleanup: async () => {
      const k = knexFactory({ client: "pg", connection: PG_URL });
      try {
        await k.raw("DROP SCHEMA IF EXISTS ?? CASCADE", [schema]);
      } finally {
        await k.destroy();
        s.cleanup();
      }
    },
  };
}

/** A second, separate database of the same kind as `db` (for a node of its own). */
export function anotherDatabase(db: TestDatabase): { options: { dataDir: string; databaseUrl?: string; schema?: string }; cleanup(): Promise<void> } {
  const other = db.name === "sqlite" ? sqlite() : postgres();
  return { options: other.options(), cleanup: () => other.cleanup() };
}

/** describe() the suite once per database; `suite` gets a fresh database for each run. */
export function onEachDatabase(title: string, suite: (db: () => TestDatabase) => void): void {
  for (const make of [sqlite, postgres]) onDatabase(make, title, suite);
}

/** describe() a suite that needs PostgreSQL (several processes on one database). */
export function onPostgreSQL(title: string, suite: (db: () => TestDatabase) => void): void {
  onDatabase(postgres, title, suite);
}

function onDatabase(make: () => TestDatabase, title: string, suite: (db: () => TestDatabase) => void): void {
  describe(`${title} [${make === sqlite ? "sqlite" : "postgresql"}]`, function () {
    let current: TestDatabase;
    before(async function () {
      if (make === postgres) {
        const problem = await pgProblem();
        if (problem) {
          if (process.env.CI) throw new Error(`${problem}: PostgreSQL tests may not skip in CI`);
          console.log(`      skipped: ${problem}`);
          this.skip();
        }
      }
      current = make();
    });
    after(async () => {
      await current?.cleanup();
    });
    suite(() => current);
  });
}
