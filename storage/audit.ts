// The audit log: who (a token or a user) changed what, and when; rows are only ever added, and a
// hash chain with signed checkpoints shows whether any was changed, removed or slipped in since.
import { createHash } from "node:crypto";
import type { Knex } from "knex";
import type { Db } from "./db.ts";
import { hotInsert } from "./hot.ts";

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  organId: string | null;
  action: string;
  document: string | null;
  detail: Record<string, unknown>;
}

export async function audit(
  db: Db,
  e: { actor: string; organId?: string | null; action: string; document?: string | null; detail?: Record<string, unknown> },
): Promise<void> {
  await hotInsert(db, "audit_log", [
    { at: new Date(), actor: e.actor, organ_id: e.organId ?? null, action: e.action, document: e.document ?? null, detail: JSON.stringify(e.detail ?? {}) },
  ]);
}

const MAX_PAGE = 1000;

/** Newest first; the next page is `beforeId` = the last id of this one. */
export async function listAudit(
  db: Db,
  f: { since?: Date; until?: Date; organId?: string; limit?: number; beforeId?: number; actor?: string; action?: string } = {},
): Promise<AuditEntry[]> {
  const q = db("audit_log")
    .orderBy("id", "desc")
    .limit(Math.min(Math.max(f.limit ?? 100, 1), MAX_PAGE));
  if (f.since) q.where("at", ">=", f.since);
  if (f.until) q.where("at", "<", f.until);
  if (f.actor) q.where({ actor: f.actor });
  // "user" stands for every user.* action too (action names hold no LIKE wildcards: AuditQuery)
  if (f.action) q.where((w) => w.where({ action: f.action }).orWhere("action", "like", `${f.action}.%`));
  if (f.organId) q.where({ organ_id: f.organId });
  if (f.beforeId !== undefined) q.where("id", "<", f.beforeId);
  return (await q).map((r) => ({
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    organId: r.organ_id ?? null,
    action: r.action,
    document: r.document ?? null,
    detail: JSON.parse(r.detail),
  }));
}

// ---- the hash chain ---------------------------------------------------------------------------
// Rows are written by many transactions (and, on PostgreSQL, many processes); one linker, under a
// lock, gives each committed row the next `seq` and hash = SHA-256(previous hash ‖ its content). So
// the chain follows commit order and never forks; a row is linked within moments of its commit.

/** The hash before the first row. */
export const AUDIT_GENESIS = "0".repeat(64);

/**
 * A row written long before the head yet not linked was put there behind the node's back: SQLite
 * commits one writer at a time, so a lower id can only be a forgery there; on PostgreSQL ids are
 * drawn before commit, so a transaction may commit a little after a later one — up to this long.
 */
const PG_COMMIT_WINDOW_MS = 10 * 60_000;

/**
 * Serializes the linker (and the checkpoint job) across the processes that share a schema; nodes
 * in other schemas of the same database have chains (and locks) of their own.
 */
const CHAIN_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('edoc:' || current_schema() || ':audit-chain-writer', 0))";

interface ChainRow {
  id: number;
  at: string;
  actor: string;
  organ_id: string | null;
  action: string;
  document: string | null;
  detail: string;
  seq: number | null;
  hash: string | null;
}

/** A row's hash: the previous hash and the row's own content, as stored (detail's JSON text as is). */
export function auditRowHash(previous: string, r: Omit<ChainRow, "seq" | "hash">): string {
  const content = JSON.stringify([r.id, new Date(r.at).toISOString(), r.actor, r.organ_id, r.action, r.document, r.detail]);
  return createHash("sha256").update(`${previous}\n${content}`).digest("hex");
}

const chainRow = (r: Record<string, unknown>): ChainRow => ({
  id: Number(r.id),
  at: new Date(r.at as string | number | Date).toISOString(),
  actor: r.actor as string,
  organ_id: (r.organ_id as string | null) ?? null,
  action: r.action as string,
  document: (r.document as string | null) ?? null,
  detail: r.detail as string,
  seq: r.seq === null || r.seq === undefined ? null : Number(r.seq),
  hash: (r.hash as string | null) ?? null,
});

export interface ChainHead {
  seq: number;
  hash: string;
  id: number;
  at: string;
}

async function head(db: Db): Promise<ChainHead | null> {
  const r = await db("audit_log").whereNotNull("seq").orderBy("seq", "desc").first("id", "at", "seq", "hash");
  return r ? { seq: Number(r.seq), hash: r.hash, id: Number(r.id), at: new Date(r.at).toISOString() } : null;
}

/** Rows not linked that the linker will never link (see PG_COMMIT_WINDOW_MS): forgeries. */
function outOfOrder(r: ChainRow, h: ChainHead | null, dialect: "sqlite" | "pg"): boolean {
  if (!h || r.id > h.id) return false;
  return dialect === "sqlite" || Date.parse(r.at) < Date.parse(h.at) - PG_COMMIT_WINDOW_MS;
}

/** Runs `fn` in a transaction that holds the chain's lock (the only writer of seq, hash, checkpoints). */
export async function withChainLock<T>(db: Knex, dialect: "sqlite" | "pg", fn: (trx: Knex.Transaction, h: ChainHead | null) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    if (dialect === "pg") await trx.raw(CHAIN_LOCK);
    // SQLite: a write first takes the write lock (waiting, busy_timeout) before the transaction has
    // read anything, so another process's commit cannot make its later write fail with SQLITE_BUSY
    else await trx.raw("UPDATE audit_checkpoints SET seq = seq WHERE 0 = 1");
    return fn(trx, await head(trx));
  });
}

const LINK_BATCH = 500;
const LINK_STATEMENT = 100;

/** Links the rows committed since the last run; returns the new head (null: the log is empty). */
export async function linkAudit(db: Knex, dialect: "sqlite" | "pg"): Promise<ChainHead | null> {
  for (;;) {
    const { h, more } = await withChainLock(db, dialect, async (trx, h) => {
      const rows = (await trx("audit_log").whereNull("seq").orderBy("id").limit(LINK_BATCH)).map(chainRow);
      const linkable = rows.filter((r) => !outOfOrder(r, h, dialect));
      let cur = h;
      const links: Array<{ id: number; seq: number; hash: string }> = [];
      for (const r of linkable) {
        const seq = (cur?.seq ?? 0) + 1;
        const hash = auditRowHash(cur?.hash ?? AUDIT_GENESIS, r);
        links.push({ id: r.id, seq, hash });
        cur = { seq, hash, id: r.id, at: r.at };
      }
      // a hundred rows per statement: the chain's lock (on SQLite the one writer) is held briefly
      for (let i = 0; i < links.length; i += LINK_STATEMENT) {
        const part = links.slice(i, i + LINK_STATEMENT);
        const cases = (pick: (l: (typeof part)[number]) => Array<string | number>, type: string) => ({
          sql: `CASE id ${part.map(() => `WHEN ? THEN CAST(? AS ${type})`).join(" ")} END`,
          bindings: part.flatMap(pick),
        });
        const seq = cases((l) => [l.id, l.seq], "BIGINT");
        const hash = cases((l) => [l.id, l.hash], "TEXT");
        await trx("audit_log")
          .whereIn("id", part.map((l) => l.id))
          .update({ seq: trx.raw(seq.sql, seq.bindings), hash: trx.raw(hash.sql, hash.bindings) });
      }
      return { h: cur, more: rows.length === LINK_BATCH && linkable.length > 0 };
    });
    if (!more) return h;
  }
}

/** The chain in `seq` order from `afterSeq` on, a page at a time (for the walk of `audit verify`). */
export async function readChain(db: Db, afterSeq: number, limit = 1000): Promise<ChainRow[]> {
  return (await db("audit_log").where("seq", ">", afterSeq).orderBy("seq").limit(limit)).map(chainRow);
}

/** Rows the linker has not linked: written in the last moments, or forged (`outOfOrder`). */
export async function unlinkedAudit(db: Db, dialect: "sqlite" | "pg"): Promise<{ pending: number; forged: ChainRow[] }> {
  const h = await head(db);
  const rows = (await db("audit_log").whereNull("seq").orderBy("id")).map(chainRow);
  const forged = rows.filter((r) => outOfOrder(r, h, dialect));
  return { pending: rows.length - forged.length, forged };
}

// ---- signed checkpoints of the head -----------------------------------------------------------

export interface StoredCheckpoint {
  id: number;
  seq: number;
  hash: string;
  at: string;
  organId: string;
  /** base64 DER */
  certificate: string;
  /** base64 */
  signature: string;
  /** base64 DER RFC 3161 token, when a TSA stamped it */
  timestampToken: string | null;
}

const checkpointRow = (r: Record<string, unknown>): StoredCheckpoint => ({
  id: Number(r.id),
  seq: Number(r.seq),
  hash: r.hash as string,
  at: new Date(r.at as string | number | Date).toISOString(),
  organId: r.organ_id as string,
  certificate: r.certificate as string,
  signature: r.signature as string,
  timestampToken: (r.timestamp_token as string | null) ?? null,
});

export async function addCheckpoint(db: Db, c: Omit<StoredCheckpoint, "id" | "timestampToken">): Promise<void> {
  await db("audit_checkpoints").insert({
    seq: c.seq,
    hash: c.hash,
    at: new Date(c.at),
    organ_id: c.organId,
    certificate: c.certificate,
    signature: c.signature,
  });
}

/** The time-stamp of a checkpoint, once a TSA gave it. */
export async function setCheckpointTimestamp(db: Db, id: number, token: Buffer): Promise<void> {
  await db("audit_checkpoints").where({ id }).whereNull("timestamp_token").update({ timestamp_token: token.toString("base64") });
}

/** The latest checkpoints still without a time-stamp (newest first). */
export async function unstampedCheckpoints(db: Db, limit = 10): Promise<StoredCheckpoint[]> {
  return (await db("audit_checkpoints").whereNull("timestamp_token").orderBy("id", "desc").limit(limit)).map(checkpointRow);
}

export async function listCheckpoints(db: Db): Promise<StoredCheckpoint[]> {
  return (await db("audit_checkpoints").orderBy("seq").orderBy("id")).map(checkpointRow);
}

export async function latestCheckpoint(db: Db): Promise<StoredCheckpoint | null> {
  const r = await db("audit_checkpoints").orderBy("seq", "desc").orderBy("id", "desc").first();
  return r ? checkpointRow(r) : null;
}
