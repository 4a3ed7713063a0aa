// Signature time-stamps kept beside stored packets (migration 012): a packet this node signed
// while the time-stamping authority was away went out at B-B; its stamp, obtained later by the
// background job, is kept here by the SHA-256 of the stored bytes, which never change.
import type { Db } from "./db.ts";

/** A stamp still to get. */
export interface PendingTimestamp {
  packetSha256: string;
  attempts: number;
}

/** Records that the packet stored as `packetSha256` needs its stamp (idempotent). */
export async function addPendingTimestamp(db: Db, packetSha256: string, now: Date): Promise<void> {
  await db("signature_timestamps")
    .insert({ packet_sha256: packetSha256, token: null, stamped_at: null, attempts: 0, next_attempt_at: now, last_error: null, created_at: now })
    .onConflict("packet_sha256")
    .ignore();
}

export async function listPendingTimestamps(db: Db, now: Date, limit: number): Promise<PendingTimestamp[]> {
  const rows = await db("signature_timestamps").whereNull("token").where("next_attempt_at", "<=", now).orderBy("next_attempt_at").limit(limit);
  return rows.map((r) => ({ packetSha256: r.packet_sha256, attempts: Number(r.attempts) }));
}

/** Keeps the stamp of a pending row (a row stamped already keeps its first stamp). */
export async function storeTimestamp(db: Db, packetSha256: string, token: Buffer, now: Date): Promise<void> {
  await db("signature_timestamps").where({ packet_sha256: packetSha256 }).whereNull("token").update({ token, stamped_at: now, last_error: null });
}

export async function timestampRetryLater(db: Db, packetSha256: string, error: string, next: Date): Promise<void> {
  await db("signature_timestamps")
    .where({ packet_sha256: packetSha256 })
    .whereNull("token")
    .update({ attempts: db.raw("attempts + 1"), next_attempt_at: next, last_error: error.slice(0, 1000) });
}

/** The stamp kept beside the packet stored as `packetSha256` (DER); null when none (yet). */
export async function getKeptTimestamp(db: Db, packetSha256: string): Promise<Buffer | null> {
  const row = await db("signature_timestamps").where({ packet_sha256: packetSha256 }).whereNotNull("token").first("token");
  return row ? Buffer.from(row.token) : null;
}

/** For each of `packetSha256s` with a row: whether its stamp is kept (true) or still pending (false). */
export async function keptTimestampsFor(db: Db, packetSha256s: string[]): Promise<Map<string, boolean>> {
  if (!packetSha256s.length) return new Map();
  const rows = await db("signature_timestamps").whereIn("packet_sha256", [...new Set(packetSha256s)]).select("packet_sha256", db.raw("token is not null as stamped"));
  return new Map(rows.map((r: { packet_sha256: string; stamped: unknown }) => [r.packet_sha256, Boolean(r.stamped)]));
}
