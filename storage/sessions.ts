// Sessions of the web pages and failed sign-ins. A session row is found by the SHA-256 of the
// cookie's id (computed by the caller); timeouts are the application's rule, applied on reading.
import type { Db } from "./db.ts";

export interface SessionRow {
  idHash: string;
  userId: number;
  csrfSecret: string;
  createdAt: Date;
  lastSeenAt: Date;
}

export async function addSession(db: Db, s: { idHash: string; userId: number; csrfSecret: string; at: Date }): Promise<void> {
  await db("sessions").insert({ id_hash: s.idHash, user_id: s.userId, csrf_secret: s.csrfSecret, created_at: s.at, last_seen_at: s.at });
}

export async function getSession(db: Db, idHash: string): Promise<SessionRow | null> {
  const r = await db("sessions").where({ id_hash: idHash }).first();
  if (!r) return null;
  return { idHash: r.id_hash, userId: Number(r.user_id), csrfSecret: r.csrf_secret, createdAt: new Date(r.created_at), lastSeenAt: new Date(r.last_seen_at) };
}

export async function touchSession(db: Db, idHash: string, at: Date): Promise<void> {
  await db("sessions").where({ id_hash: idHash }).update({ last_seen_at: at });
}

/** false when there was no such session. */
export async function deleteSession(db: Db, idHash: string): Promise<boolean> {
  return (await db("sessions").where({ id_hash: idHash }).delete()) > 0;
}

/** Removes sessions unused since `idleBefore` or created before `createdBefore`. */
export async function deleteStaleSessions(db: Db, f: { idleBefore: Date; createdBefore: Date }): Promise<void> {
  await db("sessions").where("last_seen_at", "<", f.idleBefore).orWhere("created_at", "<", f.createdBefore).delete();
}

export async function addSignInFailure(db: Db, keys: readonly string[], at: Date): Promise<void> {
  await db("sign_in_failures").insert(keys.map((key) => ({ key, at })));
}

/** How many failures `key` has since `since`, and when the oldest of them was. */
export async function countSignInFailures(db: Db, key: string, since: Date): Promise<{ count: number; oldest: Date | null }> {
  const r = await db("sign_in_failures").where({ key }).andWhere("at", ">=", since).count({ n: "*" }).min({ oldest: "at" }).first();
  const count = Number(r?.n ?? 0);
  return { count, oldest: count && r?.oldest != null ? new Date(r.oldest as string) : null };
}

/** Forgets one attempt recorded for `key` at `at` (a success, or an attempt refused unchecked). */
export async function forgetSignInAttempt(db: Db, key: string, at: Date): Promise<void> {
  await db("sign_in_failures").whereIn("id", db("sign_in_failures").where({ key, at }).orderBy("id", "desc").limit(1).select("id")).delete();
}

/** Forgets `key`'s failures, and everyone's older than `before`. */
export async function clearSignInFailures(db: Db, key: string, before: Date): Promise<void> {
  await db("sign_in_failures").where({ key }).orWhere("at", "<", before).delete();
}
