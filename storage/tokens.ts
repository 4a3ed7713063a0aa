// API tokens: only a SHA-256 hash of each token is kept. A token may expire; its last use is
// recorded at most once a minute.
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "./db.ts";
import { hotAll } from "./hot.ts";
import type { Role } from "./users.ts";

/** Who calls with a good token. */
export interface TokenOwner {
  id: number;
  organId: string;
  role: Role;
  name: string;
}

/** A token as listed (never the token nor its hash); times are ISO strings. */
export interface TokenInfo {
  id: number;
  organId: string;
  role: Role;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A write per request would serialise SQLite: last use is kept to this precision. */
const LAST_USE_PRECISION_MS = 60_000;

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");
const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

function toInfo(r: Record<string, unknown>): TokenInfo {
  return {
    id: Number(r.id),
    organId: r.organ_id as string,
    role: r.role as Role,
    name: r.name as string,
    createdAt: iso(r.created_at)!,
    expiresAt: iso(r.expires_at),
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at),
  };
}

/** A new API token; only its hash is stored, so this is the one time it can be shown. */
export async function createToken(
  db: Db,
  t: { organId: string; role: Role; name?: string; expiresAt?: Date | null },
): Promise<{ id: number; token: string }> {
  const token = `edoc_${randomBytes(32).toString("base64url")}`;
  const [row] = await db("tokens")
    .insert({ token_hash: hashToken(token), organ_id: t.organId, role: t.role, name: t.name ?? "", created_at: new Date(), expires_at: t.expiresAt ?? null })
    .returning("id");
  return { id: Number(typeof row === "object" ? row.id : row), token };
}

/** Oldest first. */
export async function listTokens(db: Db, f: { organId?: string } = {}): Promise<TokenInfo[]> {
  const q = db("tokens").orderBy("id");
  if (f.organId) q.where({ organ_id: f.organId });
  return (await q).map(toInfo);
}

export async function getToken(db: Db, id: number): Promise<TokenInfo | null> {
  const r = await db("tokens").where({ id }).first();
  return r ? toInfo(r) : null;
}

/**
 * The owner of a token that is neither revoked nor expired at `now`, recording its use. The
 * common case is one read: even an UPDATE that matches no row takes SQLite's write lock, so the
 * write is issued only when the read shows a use older than a minute, and its own condition (in
 * the UPDATE, not decided here) makes concurrent requests write it once. `writer` records the use
 * when `db` is a reader (which never waits behind the writer).
 */
export async function findToken(db: Db, token: string, now = new Date(), writer: Db = db): Promise<TokenOwner | null> {
  const [row] = await hotAll(db, `select * from "tokens" where "token_hash" = ? and "revoked_at" is null and ("expires_at" is null or "expires_at" > ?) limit 1`, [hashToken(token), now]);
  if (!row) return null;
  const staleBefore = new Date(now.getTime() - LAST_USE_PRECISION_MS);
  if (row.last_used_at === null || new Date(row.last_used_at as string | number) <= staleBefore) {
    await writer("tokens")
      .where({ id: row.id })
      .andWhere((w) => w.whereNull("last_used_at").orWhere("last_used_at", "<=", staleBefore))
      .update({ last_used_at: now });
  }
  return { id: Number(row.id), organId: row.organ_id as string, role: row.role as Role, name: row.name as string };
}

/** false when there is no such token or it was already revoked. */
export async function revokeToken(db: Db, id: number): Promise<boolean> {
  return (await db("tokens").where({ id }).whereNull("revoked_at").update({ revoked_at: new Date() })) > 0;
}

/** Tokens that still open the API (not revoked, not expired). */
export async function countActiveTokens(db: Db, now = new Date()): Promise<number> {
  const row = await db("tokens")
    .whereNull("revoked_at")
    .andWhere((q) => q.whereNull("expires_at").orWhere("expires_at", ">", now))
    .count({ n: "*" })
    .first();
  return Number(row?.n ?? 0);
}
