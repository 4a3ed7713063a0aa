// Archive time-stamps: a Merkle tree over the SHA-256 of stored items (packets, status packets,
// attachments), its root time-stamped, each item's inclusion path kept. With the path and the
// stamp an archivist proves an item existed unchanged at the stamp's time, whatever happened to the
// certificates since. Hashing as RFC 9162 §2.1 (Certificate Transparency): leaf = SHA-256(0x00 ||
// item digest), node = SHA-256(0x01 || left || right), a tree of n items split at the largest power
// of two below n. The stamp is over the root's 32 bytes.
import { createHash } from "node:crypto";

/** An item's place in a round's tree: what the evidence bundle carries for it. */
export interface InclusionProof {
  /** The item's SHA-256, lowercase hex. */
  sha256: string;
  leafIndex: number;
  treeSize: number;
  /** Sibling hashes from the leaf up (hex). */
  path: string[];
  /** The tree's root (hex): what the archive time-stamp stamps (as 32 bytes). */
  root: string;
}

const leafHash = (digest: Buffer) => createHash("sha256").update(Buffer.from([0])).update(digest).digest();
const nodeHash = (left: Buffer, right: Buffer) => createHash("sha256").update(Buffer.from([1])).update(left).update(right).digest();
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

/** The tree over `items` (SHA-256 hex digests, in this order): its root and every item's proof. */
export function merkleTree(items: string[]): { root: string; proofs: InclusionProof[] } {
  if (!items.length) throw new Error("a Merkle tree needs at least one item");
  const leaves = items.map((h) => leafHash(Buffer.from(h, "hex")));
  const paths: Buffer[][] = items.map(() => []);
  // the subtree's hash over leaves [from, to), appending each sibling to the paths of the leaves below
  const build = (from: number, to: number): Buffer => {
    if (to - from === 1) return leaves[from];
    const mid = from + split(to - from);
    const left = build(from, mid);
    const right = build(mid, to);
    for (let i = from; i < mid; i++) paths[i].push(right);
    for (let i = mid; i < to; i++) paths[i].push(left);
    return nodeHash(left, right);
  };
  const root = build(0, items.length).toString("hex");
  return { root, proofs: items.map((sha256, i) => ({ sha256, leafIndex: i, treeSize: items.length, path: paths[i].map((p) => p.toString("hex")), root })) };
}

/** Whether `proof` leads from its item to its root (RFC 9162 §2.1.3.2). */
export function proofHolds(proof: InclusionProof): boolean {
  const { leafIndex, treeSize, path } = proof;
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) return false;
  if (![proof.sha256, proof.root, ...path].every((h) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h))) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash(Buffer.from(proof.sha256, "hex"));
  for (const hex of path) {
    const p = Buffer.from(hex, "hex");
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.toString("hex") === proof.root;
}
