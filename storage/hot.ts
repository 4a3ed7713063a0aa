// The few statements every document runs (its rows, its blobs, its audit row, a delivery's outcome):
// plain SQL with `?` placeholders, the same on both databases. On SQLite each is prepared once per
// connection and run on the sqlite3 handle under knex (knex would build the query, and sqlite3
// prepare and finalize it, every time); on PostgreSQL it goes through knex as it is.
import type { Db } from "./handle.ts";

interface Statement {
  run(params: unknown[], cb: (this: { changes: number }, err: Error | null) => void): void;
  all(params: unknown[], cb: (err: Error | null, rows: Array<Record<string, unknown>>) => void): void;
  finalize(cb: () => void): void;
}
interface Connection {
  prepare(sql: string, cb: (err: Error | null) => void): Statement;
  close(cb: (err: Error | null) => void): void;
}

/** Statements kept per connection: the shapes of the hot path (multi-row inserts vary in rows). */
const MAX_STATEMENTS = 200;
const prepared = new WeakMap<Connection, Map<string, Promise<Statement>>>();

function statementsOf(conn: Connection): Map<string, Promise<Statement>> {
  let cache = prepared.get(conn);
  if (cache) return cache;
  cache = new Map();
  prepared.set(conn, cache);
  // sqlite3 refuses to close a connection with statements not finalized: finalize them first
  const close = conn.close.bind(conn);
  const statements = cache;
  conn.close = (cb) => void finalizeAll(statements).then(() => close(cb));
  return cache;
}

async function finalizeAll(cache: Map<string, Promise<Statement>>): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  await Promise.all(all.map((p) => p.then((s) => new Promise<void>((done) => s.finalize(done)), () => {})));
}

function statement(conn: Connection, sql: string): Promise<Statement> {
  const cache = statementsOf(conn);
  let s = cache.get(sql);
  if (s) {
    // most recently used last: the first is the one to let go
    cache.delete(sql);
    cache.set(sql, s);
    return s;
  }
  s = new Promise<Statement>((resolve, reject) => {
    const st = conn.prepare(sql, (err) => (err ? reject(err) : resolve(st)));
  });
  s.catch(() => cache.delete(sql));
  cache.set(sql, s);
  if (cache.size > MAX_STATEMENTS) {
    const [oldest, old] = cache.entries().next().value!;
    cache.delete(oldest);
    void old.then((st) => st.finalize(() => {}), () => {});
  }
  return s;
}

/** Runs `f` on the raw SQLite connection of `db` (a transaction's own, or one from the pool). */
async function onConnection<T>(db: Db, f: (conn: Connection) => Promise<T>): Promise<T> {
  const client = db.client as { acquireConnection(): Promise<Connection>; releaseConnection(c: Connection): Promise<void> };
  const conn = await client.acquireConnection();
  try {
    return await f(conn);
  } finally {
    await client.releaseConnection(conn);
  }
}

const sqlite = (db: Db) => db.client.config.client === "sqlite3";

/** A write; answers the rows it changed. */
export async function hotRun(db: Db, sql: string, params: unknown[]): Promise<number> {
  if (!sqlite(db)) return ((await db.raw(sql, params as never[])) as { rowCount: number }).rowCount;
  return onConnection(db, async (conn) => {
    const s = await statement(conn, sql);
    return new Promise<number>((resolve, reject) => s.run(params, function (err) { return err ? reject(err) : resolve(this.changes); }));
  });
}

/** A query (or a write with RETURNING) run to its end; answers its rows. */
export async function hotAll<T = Record<string, unknown>>(db: Db, sql: string, params: unknown[]): Promise<T[]> {
  if (!sqlite(db)) return ((await db.raw(sql, params as never[])) as { rows: T[] }).rows;
  return onConnection(db, async (conn) => {
    const s = await statement(conn, sql);
    return new Promise<T[]>((resolve, reject) => s.all(params, (err, rows) => (err ? reject(err) : resolve(rows as T[]))));
  });
}

const quoted = (name: string) => `"${name}"`;

/** The INSERT of `rows` (all with the same columns, in the first row's order) and its parameters. */
export function insertOf(table: string, rows: ReadonlyArray<Record<string, unknown>>): { sql: string; params: unknown[] } {
  const columns = Object.keys(rows[0]);
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  const params: unknown[] = [];
  for (const r of rows) for (const c of columns) params.push(r[c] === undefined ? null : r[c]);
  return { sql: `insert into ${quoted(table)} (${columns.map(quoted).join(", ")}) values ${rows.map(() => tuple).join(", ")}`, params };
}

/** Inserts `rows` (at least one; all with the same columns) in one statement. */
export async function hotInsert(db: Db, table: string, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  const { sql, params } = insertOf(table, rows);
  await hotRun(db, sql, params);
}
