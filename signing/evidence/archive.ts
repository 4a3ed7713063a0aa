// archive/<file>.json in a bundle: an archive time-stamp's proof for one file (the packet, an
// attachment, a status packet). Written from the node's archive rounds; checked offline: the file's
// SHA-256, the inclusion path to the root (signing/archive.ts), the root's RFC 3161 stamp against
// the caller's TSA anchors. A proof that does not fit its file is a problem of the bundle; a stamp
// that does not count (untrusted TSA, say) only a warning, as for signature time-stamps.
import { proofHolds, type InclusionProof } from "../archive.ts";
import { TimestampError, verifyTimestampToken } from "../timestamp.ts";
import { bi, type ArchiveProofResult, type BundleTrust } from "./report.ts";
import type { FileFacts } from "./zip-read.ts";

const FORMAT = "edoc-archive-proof/1";
const PREFIX = "archive/";

/** Where the proof of bundle file `path` goes. */
export function archiveProofPath(path: string): string {
  return `${PREFIX}${path}.json`;
}

/** The proof file's bytes for `path`: the inclusion proof and the root's stamp (base64 DER). */
export function archiveProofFile(path: string, proof: InclusionProof, token: Buffer): Buffer {
  const { sha256, leafIndex, treeSize, path: siblings, root } = proof;
  const doc = { format: FORMAT, file: path, hashing: "RFC 9162 §2.1, SHA-256; the stamp is over the root's 32 bytes", sha256, leafIndex, treeSize, path: siblings, root, timestamp: token.toString("base64") };
  return Buffer.from(JSON.stringify(doc, null, 2) + "\n");
}

export async function checkArchiveProofs(facts: Map<string, FileFacts>, trust: BundleTrust, problems: string[], warnings: string[]): Promise<ArchiveProofResult[]> {
  const results: ArchiveProofResult[] = [];
  for (const [name, f] of facts) {
    if (!name.startsWith(PREFIX)) continue;
    const path = name.endsWith(".json") ? name.slice(PREFIX.length, -".json".length) : name;
    const result: ArchiveProofResult = { path, included: false, stamped: false, root: null, time: null, tsa: null, reason: null };
    results.push(result);
    let doc: (InclusionProof & { format?: string; file?: string; timestamp?: string }) | null = null;
    try {
      doc = JSON.parse((f.bytes ?? Buffer.alloc(0)).toString("utf8"));
    } catch {
      /* below */
    }
    const target = facts.get(path);
    if (!doc || doc.format !== FORMAT || doc.file !== path || typeof doc.timestamp !== "string") {
      problems.push(bi(`${name} is not a readable archive proof for ${path}`, `${name} không phải bằng chứng lưu trữ đọc được`));
      continue;
    }
    result.root = typeof doc.root === "string" ? doc.root : null;
    result.included = !!target && target.sha256 === doc.sha256 && proofHolds(doc);
    if (!result.included) {
      problems.push(bi(`${name}: the archive proof does not lead from ${path} to its stamped root`, `${name}: bằng chứng lưu trữ không khớp với tệp ${path}`));
      continue;
    }
    try {
      const stamp = await verifyTimestampToken(Buffer.from(doc.timestamp, "base64"), Buffer.from(doc.root, "hex"), { anchors: trust.tsaAnchors ?? [], crls: trust.crls }, trust.at ?? new Date());
      Object.assign(result, { stamped: true, time: stamp.time.toISOString(), tsa: stamp.tsa });
    } catch (err) {
      if (!(err instanceof TimestampError)) throw err;
      Object.assign(result, { time: err.time?.toISOString() ?? null, tsa: err.tsa ?? null, reason: err.reason });
      warnings.push(bi(`${name}: the archive time-stamp does not count (${err.reason}): ${err.message}`, `${name}: dấu thời gian lưu trữ không được công nhận (${err.reason}): ${err.vi}`));
    }
  }
  return results;
}
