// Archive rounds (migration 012): Merkle roots over stored items' SHA-256, each root time-stamped,
// and every item's inclusion path. See signing/archive.ts for the tree.
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

/** Stores one round: its stamped root and every item's path (an item already in a round fails the whole round). */
export async function addArchiveRound(db: Db, round: { root: string; token: Buffer; proofs: InclusionProof[]; now: Date }): Promise<number> {
  return db.transaction(async (trx) => {
    const [row] = await trx("archive_rounds").insert({ root: round.root, size: round.proofs.length, token: round.token, created_at: round.now }).returning("id");
    const id = typeof row === "object" ? row.id : row;
    const items = round.proofs.map((p) => ({ sha256: p.sha256, round: id, leaf_index: p.leafIndex, path: JSON.stringify(p.path) }));
    for (let i = 0; i < items.length; i += 500) await trx("archive_items").insert(items.slice(i, i + 500));
    return id;
  });
}

/** The inclusion proofs and root stamps of `sha256s` that are in a round. */
export async function archiveProofsFor(db: Db, sha256s: string[]): Promise<Map<string, InclusionProof & { token: Buffer }>> {
  if (!sha256s.length) return new Map();
  const rows = await db("archive_items as a")
    .join("archive_rounds as r", "r.id", "a.round")
    .whereIn("a.sha256", [...new Set(sha256s)])
    .select("a.sha256", "a.leaf_index", "a.path", "r.root", "r.size", "r.token");
  return new Map(
    rows.map((r) => [r.sha256, { sha256: r.sha256, leafIndex: Number(r.leaf_index), treeSize: Number(r.size), path: JSON.parse(r.path), root: r.root, token: Buffer.from(r.token) }]),
  );
}
