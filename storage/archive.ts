// Archive rounds (migration 012): Merkle roots over stored items' SHA-256, each root time-stamped,
// and every item's inclusion path; each root stamp's renewals (migration 015), in order. See
// signing/archive.ts for the tree.
import type { InclusionProof } from "../signing/index.ts";
import type { Db } from "./db.ts";

/** The SHA-256 of stored packets, status packets and attachments in no round yet (at most `limit`), sorted. */
export async function unarchivedItems(db: Db, limit: number): Promise<string[]> {
  const stored = db
    .select("packet_sha256 as sha256")
    .from("documents")
    .union((q) => q.select("packet_sha256 as sha256").from("statuses"))
    .union((q) => q.select("sha256").from("attachments"));
  const rows = await db
    .select("s.sha256")
    .from(stored.as("s"))
    .leftJoin("archive_items as a", "a.sha256", "s.sha256")
    .whereNull("a.sha256")
    .orderBy("s.sha256")
    .limit(limit);
  return rows.map((r: { sha256: string }) => r.sha256);
}

/** Stores one round: its stamped root (and when that stamp expires) and every item's path (an item already in a round fails the whole round). */
export async function addArchiveRound(db: Db, round: { root: string; token: Buffer; expiresAt: Date; proofs: InclusionProof[]; now: Date }): Promise<number> {
  return db.transaction(async (trx) => {
    const [row] = await trx("archive_rounds")
      .insert({ root: round.root, size: round.proofs.length, token: round.token, stamp_expires_at: round.expiresAt, created_at: round.now })
      .returning("id");
    const id = typeof row === "object" ? row.id : row;
    const items = round.proofs.map((p) => ({ sha256: p.sha256, round: id, leaf_index: p.leafIndex, path: JSON.stringify(p.path) }));
    for (let i = 0; i < items.length; i += 500) await trx("archive_items").insert(items.slice(i, i + 500));
    return id;
  });
}

/** The inclusion proofs, root stamps and their renewals (in order) of `sha256s` that are in a round. */
export async function archiveProofsFor(db: Db, sha256s: string[]): Promise<Map<string, InclusionProof & { token: Buffer; renewals: Buffer[] }>> {
  if (!sha256s.length) return new Map();
  const rows = await db("archive_items as a")
    .join("archive_rounds as r", "r.id", "a.round")
    .whereIn("a.sha256", [...new Set(sha256s)])
    .select("a.sha256", "a.leaf_index", "a.path", "a.round", "r.root", "r.size", "r.token");
  const renewals = new Map<number, Buffer[]>();
  const rounds = [...new Set(rows.map((r) => Number(r.round)))];
  for (const n of rounds.length ? await db("archive_renewals").whereIn("round", rounds).orderBy(["round", "seq"]).select("round", "token") : []) {
    const round = Number(n.round);
    renewals.set(round, [...(renewals.get(round) ?? []), Buffer.from(n.token)]);
  }
  return new Map(
    rows.map((r) => [
      r.sha256,
      { sha256: r.sha256, leafIndex: Number(r.leaf_index), treeSize: Number(r.size), path: JSON.parse(r.path), root: r.root, token: Buffer.from(r.token), renewals: renewals.get(Number(r.round)) ?? [] },
    ]),
  );
}

/** A round's latest stamp: its root stamp (seq 0) or its last renewal, and when it expires. */
export interface LatestArchiveStamp {
  round: number;
  seq: number;
  token: Buffer;
  expiresAt: Date;
}

/** The rounds after `afterRound` whose latest stamp expires by `due`, at most `limit`, in round order. */
export async function dueArchiveStamps(db: Db, due: Date, afterRound: number, limit: number): Promise<LatestArchiveStamp[]> {
  const last = db("archive_renewals").groupBy("round").select("round", db.raw("max(seq) as seq"));
  const rows = await db("archive_rounds as r")
    .leftJoin(last.as("l"), "l.round", "r.id")
    .leftJoin("archive_renewals as n", (j) => j.on("n.round", "l.round").andOn("n.seq", "l.seq"))
    .where("r.id", ">", afterRound)
    .where(db.raw("coalesce(n.expires_at, r.stamp_expires_at)"), "<=", due)
    .orderBy("r.id")
    .limit(limit)
    .select("r.id", "r.token as root_token", "r.stamp_expires_at", "n.seq", "n.token", "n.expires_at");
  return rows.map((r) =>
    r.seq == null
      ? { round: Number(r.id), seq: 0, token: Buffer.from(r.root_token), expiresAt: new Date(r.stamp_expires_at) }
      : { round: Number(r.id), seq: Number(r.seq), token: Buffer.from(r.token), expiresAt: new Date(r.expires_at) },
  );
}

/** Appends renewal `seq` of a round's stamp chain (the same seq twice fails: another process renewed it). */
export async function addArchiveRenewal(db: Db, renewal: { round: number; seq: number; token: Buffer; expiresAt: Date; now: Date }): Promise<void> {
  await db("archive_renewals").insert({ round: renewal.round, seq: renewal.seq, token: renewal.token, expires_at: renewal.expiresAt, created_at: renewal.now });
}
