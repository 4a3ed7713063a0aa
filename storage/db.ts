// Opening the database: SQLite in the data directory by default, PostgreSQL when a URL is given,
// migrated to the latest schema on open; and the helpers every table's module shares.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join, resolve } from "node:path";
import knexFactory, { type Knex } from "knex";
import { knexConfig } from "../knexfile.ts";
import type { BlobStore } from "./blobs.ts";
import { openBlobStore, type BlobStoreSpec } from "./stores.ts";

import type { Db } from "./handle.ts";
export type { Db };

/**
 * Which writers a short transaction queues with: the clerks' and peers' documents, or the
 * delivery worker's claims and receipts (on PostgreSQL a pool of its own, so that delivery never
 * waits behind uploads; on SQLite both go through the one writer's group commit).
 */
type WriteLane = "documents" | "deliveries";

export interface Storage {
  /** The writer: every transaction and write goes through it (on SQLite its one connection). */
  db: Knex;
  /**
   * A way in that never waits behind the writer, for the delivery worker and the look-ups of the
   * hot path: on SQLite connections of their own (WAL: readers run beside the writer; they refuse
   * to write), on PostgreSQL a pool of its own (which may also write: the worker's lane).
   */
  reader: Knex;
  dialect: "sqlite" | "pg";
  dataDir: string;
  /** Where the blobs' bytes live (EDOC_BLOB_STORE): the database by default. */
  blobs: BlobStore;
  /**
   * Runs `fn` as one short transaction (nothing awaited in it but SQL) and resolves once it is
   * committed and durable. On SQLite the writer commits every transaction pending at that moment
   * together (group commit: one fsync for many documents); each still succeeds or fails alone (after
   * a failure the batch runs again, a savepoint each: so `fn` must do nothing but SQL), and nobody
   * is answered before the commit that holds their rows returns.
   */
  write<T>(fn: (trx: Knex.Transaction) => Promise<T>, lane?: WriteLane): Promise<T>;
  /** Call after a transaction that queued deliveries committed: wakes the workers at once. */
  queued(): void;
  /** `listener` runs when deliveries were queued, by this process or (PostgreSQL) another one. */
  onQueued(listener: () => void): () => void;
  /**
   * A round of a scheduled job that must run in one process only (it writes, or it costs a
   * remote system a request): runs `round` when this process holds the job and answers its
   * result, else answers undefined (another process holds it; skip the round). On PostgreSQL the
   * first process to ask takes the job's advisory lock and keeps it while its lock connection
   * lives: a killed process's lock goes with its connection and the next asker takes over. On
   * SQLite (one process per database) every round runs.
   */
  once<T>(job: string, round: () => Promise<T>): Promise<T | undefined>;
  close(): Promise<void>;
}

export interface StorageOptions {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema to use (tests isolate themselves in their own schema). */
  schema?: string;
  /** PostgreSQL: the most connections of the writer's pool (default 10). */
  poolMax?: number;
  /** EDOC_BLOB_STORE (default: the database). */
  blobStore?: BlobStoreSpec;
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

/** The NOTIFY channel that says "deliveries were queued" (one per schema: nodes sharing a schema share a queue). */
export function queueChannel(schema: string | undefined): string {
  return `edoc_deliveries_${schema ?? "public"}`.slice(0, 63);
}

export async function openStorage(opts: StorageOptions): Promise<Storage> {
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  // SQLite creates its file 0644 & ~umask, and the -wal and -shm beside it with the file's mode:
  // created here 0600, all three are private to this account (they hold documents in clear)
  if (!opts.databaseUrl) closeSync(openSync(join(opts.dataDir, "edoc.sqlite"), "a", 0o600));
  const env = { dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, poolMax: opts.poolMax };
  const config = { ...knexConfig(env), log: knexLog(opts.warn) };
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
  try {
    await db.migrate.latest();
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const reader = knexFactory({ ...knexConfig(env, "reader"), log: knexLog(opts.warn), ...(config.searchPath ? { searchPath: config.searchPath } : {}) });
  const listeners = new Set<() => void>();
  const queued = () => {
    for (const l of listeners) l();
  };
  const pg = Boolean(opts.databaseUrl);
  const listening = pg ? listenForQueued(reader, queueChannel(opts.schema), queued, opts.warn) : null;
  const jobs = pg ? jobLocks(reader, opts.schema) : null;
  let closed = false;
  const rounds = new Set<Promise<unknown>>();
  return {
    db,
    reader,
    dialect: pg ? "pg" : "sqlite",
    dataDir: opts.dataDir,
    blobs: openBlobStore(opts.blobStore ?? { kind: "db" }, reader),
    write: pg ? (fn, lane = "documents") => pgWrite(lane === "deliveries" ? reader : db, fn) : groupCommit(db),
    queued,
    onQueued(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    // a closed storage runs no job (nor opens a lock connection that nobody would end); closing
    // waits for the rounds in flight, which would otherwise wait for connections of a closed pool
    once: (job, round) => {
      if (closed) return Promise.resolve(undefined);
      const r = jobs ? jobs.once(job, round) : round();
      rounds.add(r);
      void r.catch(() => {}).finally(() => rounds.delete(r));
      return r;
    },
    close: async () => {
      closed = true;
      await Promise.allSettled([...rounds]);
      await jobs?.stop();
      await listening?.stop();
      await Promise.all([reader.destroy(), db.destroy()]);
    },
  };
}

interface PendingWrite {
  fn: (trx: Knex.Transaction) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** The most transactions one group commit holds: the writer is free again within a short batch. */
const MAX_BATCH = 16;

/** Errors of transactions that failed after their body had run: at COMMIT, with its outcome unknown. */
const commitsUnknown = new WeakSet<object>();

/**
 * True when `err` is the failure of a write (Storage.write, PostgreSQL) whose body had run and
 * whose connection was then lost or ended: its COMMIT was sent, and it may have taken effect.
 * (SQLite's commits are local: a failed one is rolled back.)
 */
export function isCommitUnknown(err: unknown): boolean {
  return typeof err === "object" && err !== null && commitsUnknown.has(err);
}

async function pgWrite<T>(pool: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  let ran = false;
  try {
    return await pool.transaction(async (trx) => {
      const value = await fn(trx);
      ran = true;
      return value;
    });
  } catch (err) {
    // (an error isDatabaseUnavailable names is an object: a driver's error or knex's)
    if (ran && isDatabaseUnavailable(err)) commitsUnknown.add(err as object);
    throw err;
  }
}

/**
 * SQLite's group commit: transactions that arrive while the writer is busy wait and are then run
 * one after the other inside one transaction (when one fails, the batch runs again with each in a
 * savepoint of its own, so that the failing one rolls back alone), and committed with one fsync
 * (synchronous=FULL). Nobody gets an answer before the commit: a power
 * loss can undo nothing anyone was told is stored. Idle, a transaction runs at once; under load the batches grow with it, up to MAX_BATCH. The delivery worker's lane goes
 * first: its claims and receipts (a few statements each) wait for at most the batch being
 * committed, never behind a queue of uploads.
 */
function groupCommit(db: Knex): Storage["write"] {
  const pending: Record<WriteLane, PendingWrite[]> = { deliveries: [], documents: [] };
  let busy = false;
  let scheduled = false;
  type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };
  /** The batch in one transaction; `savepoints`: each in one of its own, so that a failing one rolls back alone. */
  const commit = async (batch: PendingWrite[], savepoints: boolean): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    await db.transaction(async (trx) => {
      for (const w of batch) {
        if (!savepoints) {
          outcomes.push({ ok: true, value: await w.fn(trx) });
          continue;
        }
        try {
          outcomes.push({ ok: true, value: await trx.transaction(w.fn) });
        } catch (err) {
          outcomes.push({ ok: false, err });
        }
      }
    });
    return outcomes;
  };
  const runBatch = async (batch: PendingWrite[]) => {
    let outcomes: Outcome[];
    try {
      // first without savepoints (two statements each): a failure rolls the whole batch back, and
      // it runs again with them (every function is SQL only, so running it again is safe); alone
      // in its batch, a transaction's failure is its own
      outcomes = await commit(batch, false).catch((err) => (batch.length === 1 ? Promise.reject(err) : commit(batch, true)));
    } catch (err) {
      // the commit itself failed: nothing of the batch is stored
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      const o = outcomes[i];
      if (o.ok) w.resolve(o.value);
      else w.reject(o.err);
    });
  };
  const pump = () => {
    scheduled = false;
    if (busy) return;
    const lane = pending.deliveries.length ? pending.deliveries : pending.documents;
    if (!lane.length) return;
    busy = true;
    void runBatch(lane.splice(0, MAX_BATCH)).finally(() => {
      busy = false;
      pump();
    });
  };
  return <T>(fn: (trx: Knex.Transaction) => Promise<T>, lane: WriteLane = "documents") =>
    new Promise<T>((resolve, reject) => {
      pending[lane].push({ fn, resolve: resolve as (v: unknown) => void, reject });
      // the writes that arrive in this turn of the event loop join the same batch
      if (!scheduled && !busy) {
        scheduled = true;
        setImmediate(pump);
      }
    });
}

/**
 * LISTEN on its own PostgreSQL connection: another process's enqueue (NOTIFY at its commit) wakes
 * this process's worker. A lost connection is opened again; meanwhile the worker polls.
 */
function listenForQueued(knex: Knex, channel: string, onNotify: () => void, warn: (message: string) => void = () => {}): { stop(): Promise<void> } {
  let client: PgClient | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    try {
      const c = (await knex.client.acquireRawConnection()) as PgClient;
      c.on("notification", () => onNotify());
      c.on("error", () => lost(c));
      c.on("end", () => lost(c));
      await c.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
      if (stopped) await c.end();
      else client = c;
    } catch (err) {
      warn(`cannot listen for queued deliveries (${(err as Error).message}); the worker polls meanwhile`);
      again();
    }
  };
  const again = () => {
    if (!stopped) retry = setTimeout(() => void connect(), 1000);
  };
  const lost = (c: PgClient) => {
    if (client !== c) return;
    client = null;
    again();
  };
  const started = connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await started;
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}

/**
 * An online copy of the SQLite database of `dataDir` into `target` (a new file): `VACUUM INTO`, on
 * a connection of its own, reads one consistent snapshot while the writer goes on committing (WAL),
 * and the copy holds no WAL of its own. Then the copy is opened on its own and checked page by page.
 */
export async function backupSqlite(dataDir: string, target: string): Promise<{ migrations: number; documents: number }> {
  const source = knexFactory({ client: "sqlite3", connection: { filename: join(resolve(dataDir), "edoc.sqlite") }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
  try {
    await source.raw("PRAGMA busy_timeout = 5000");
    await source.raw("VACUUM INTO ?", [target]);
  } finally {
    await source.destroy();
  }
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

type PgClient = {
  query(q: string | { text: string; values: unknown[] }): Promise<{ rows: Array<Record<string, unknown>> }>;
  on(event: string, f: (...a: unknown[]) => void): void;
  end(): Promise<void>;
};

/**
 * The scheduled jobs' session advisory locks, on one PostgreSQL connection of their own (a pooled
 * connection would hand the lock to whoever gets it next). The key is the job's name within the
 * schema, so nodes sharing a schema share the job and other schemas' nodes do not. A lost
 * connection loses every lock with it; the next round connects again and asks again.
 */
function jobLocks(knex: Knex, schema: string | undefined) {
  let client: Promise<PgClient> | null = null;
  const held = new Set<string>();
  const lost = (c: Promise<PgClient>) => {
    if (client !== c) return;
    client = null;
    held.clear();
  };
  const connect = () => {
    if (client) return client;
    const c: Promise<PgClient> = (async () => {
      const raw = (await knex.client.acquireRawConnection()) as PgClient;
      raw.on("error", () => lost(c));
      raw.on("end", () => lost(c));
      return raw;
    })();
    c.catch(() => lost(c));
    return (client = c);
  };
  return {
    async once<T>(job: string, round: () => Promise<T>): Promise<T | undefined> {
      if (!held.has(job)) {
        const c = connect();
        const { rows } = await (await c).query({ text: "SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got", values: [`edoc:${schema ?? "public"}:${job}`] });
        if (rows[0].got !== true) return undefined;
        if (client === c) held.add(job);
      }
      return round();
    },
    async stop() {
      const c = client;
      client = null;
      held.clear();
      await (await c?.catch(() => null))?.end().catch(() => {});
    },
  };
}

/** True when `err` is a unique-constraint violation (a concurrent writer stored the same row first). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === "23505" || /UNIQUE constraint failed/i.test(e?.message ?? "");
}

/**
 * True when `err` says the database cannot serve the request now, though it may in a moment: too
 * busy or out of reach (at a COMMIT, with the outcome unknown: isCommitUnknown). PostgreSQL: SQLSTATE class 53
 * (insufficient resources: too many connections, out of memory or disk), 57P01 and 57P02 (the
 * server ended the connection: an administrator's shutdown or restart, a crash of another
 * backend), 57P03 (cannot connect now: starting up or shutting down), class 08 (connection
 * exception) but 08P01 (a protocol violation: this node's fault), the client's connection
 * refused or reset (on a dual-stack host name, every address's), and node-postgres's "Connection
 * terminated unexpectedly" (the server's socket closed with no error: it went down, or a pooled
 * connection it ended is used once more before the pool hears of it); knex: no pool connection within its acquire timeout; SQLite:
 * SQLITE_BUSY (another connection holds the lock beyond busy_timeout; SQLITE_LOCKED is a conflict
 * within one connection, this node's own). Never a constraint violation, a syntax error or any
 * other refusal of the statement itself. A socket error is the database's only when it reaches
 * here from the database's driver: the blob stores give theirs a code of their own (stores.ts).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  // (knex is CommonJS: its error classes are properties of the default export)
  if (err instanceof knexFactory.KnexTimeoutError) return true;
  // Node tries each address of a host name; when all refuse, it reports them together
  if (err instanceof AggregateError && err.errors.length) return err.errors.every(isDatabaseUnavailable);
  const e = err as { code?: unknown; syscall?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code !== "08P01" && /^(53[0-9A-Z]{3}|57P0[123]|08[0-9A-Z]{3})$/.test(code)) return true;
  if ((code === "ECONNREFUSED" || code === "ECONNRESET") && (e!.syscall === "connect" || e!.syscall === "read")) return true;
  // node-postgres gives this one no code; knex puts the statement before it ("select 1 - …")
  if (!code && err instanceof Error && /(^| - )Connection terminated unexpectedly$/.test(err.message)) return true;
  return code === "SQLITE_BUSY";
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
