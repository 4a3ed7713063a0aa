// archive/<file>.json in a bundle: an archive time-stamp's proof for one file (the packet, an
// attachment, a status packet). Written from the node's archive rounds; checked offline: the file's
// SHA-256, the inclusion path to the root (signing/archive.ts), then the chain of RFC 3161 stamps
// (RFC 4998 §5.2, time-stamp renewal): the root's stamp over the root's 32 bytes, each renewal over
// the SHA-256 of the previous stamp's DER. Each stamp's TSA must be trusted at the time the next
// stamp states (the stamp was still good when it was renewed), the last one at the verification
// time; the proof's time is the root stamp's. A proof whose links do not fit (its file, its root,
// the stamp it renews) is a problem of the bundle; a stamp that does not count (an untrusted or
// expired TSA) only a warning, as for signature time-stamps.
import { proofHolds, type InclusionProof } from "../archive.ts";
import { TimestampError, verifyTimestampToken } from "../timestamp.ts";
import { bi, type ArchiveProofResult, type ArchiveStampResult, type BundleTrust } from "./report.ts";
import type { FileFacts } from "./zip-read.ts";

const FORMAT = "edoc-archive-proof/1";
const PREFIX = "archive/";
/** Renewals a proof may carry: one every few years is centuries of them; more is a bundle built to make verification slow. */
const MAX_RENEWALS = 100;

/** Where the proof of bundle file `path` goes. */
export function archiveProofPath(path: string): string {
  return `${PREFIX}${path}.json`;
}

/** The proof file's bytes for `path`: the inclusion proof, the root's stamp and its renewals in order (base64 DER). */
export function archiveProofFile(path: string, proof: InclusionProof, token: Buffer, renewals: Buffer[]): Buffer {
  const { sha256, leafIndex, treeSize, path: siblings, root } = proof;
  const doc = {
    format: FORMAT,
    file: path,
    hashing: "RFC 9162 §2.1, SHA-256; the stamp is over the root's 32 bytes, each renewal over the SHA-256 of the previous stamp's DER (RFC 4998 §5.2)",
    sha256,
    leafIndex,
    treeSize,
    path: siblings,
    root,
    timestamp: token.toString("base64"),
    renewals: renewals.map((r) => r.toString("base64")),
  };
  return Buffer.from(JSON.stringify(doc, null, 2) + "\n");
}

type ProofDoc = InclusionProof & { format?: string; file?: string; timestamp?: string; renewals?: unknown };

export async function checkArchiveProofs(facts: Map<string, FileFacts>, trust: BundleTrust, problems: string[], warnings: string[]): Promise<ArchiveProofResult[]> {
  const results: ArchiveProofResult[] = [];
  for (const [name, f] of facts) {
    if (!name.startsWith(PREFIX)) continue;
    const path = name.endsWith(".json") ? name.slice(PREFIX.length, -".json".length) : name;
    const result: ArchiveProofResult = { path, included: false, stamped: false, root: null, time: null, tsa: null, reason: null, stamps: [] };
    results.push(result);
    let doc: ProofDoc | null = null;
    try {
      doc = JSON.parse((f.bytes ?? Buffer.alloc(0)).toString("utf8"));
    } catch {
      /* below */
    }
    const target = facts.get(path);
    const renewals = doc?.renewals ?? []; // a proof written before renewals existed has none
    if (!doc || doc.format !== FORMAT || doc.file !== path || typeof doc.timestamp !== "string" || !Array.isArray(renewals) || renewals.length > MAX_RENEWALS || !renewals.every((r) => typeof r === "string")) {
      problems.push(bi(`${name} is not a readable archive proof for ${path}`, `${name} không phải bằng chứng lưu trữ đọc được`));
      continue;
    }
    result.root = typeof doc.root === "string" ? doc.root : null;
    result.included = !!target && target.sha256 === doc.sha256 && proofHolds(doc);
    if (!result.included) {
      problems.push(bi(`${name}: the archive proof does not lead from ${path} to its stamped root`, `${name}: bằng chứng lưu trữ không khớp với tệp ${path}`));
      continue;
    }
    await checkChain(name, [doc.timestamp, ...(renewals as string[])].map((t) => Buffer.from(t, "base64")), Buffer.from(doc.root, "hex"), trust, result, problems, warnings);
  }
  return results;
}

/** The stamp's name in messages: the root's, or renewal n. */
const stampName = (i: number) => (i === 0 ? { en: "the root's stamp", vi: "dấu thời gian của gốc" } : { en: `renewal ${i}`, vi: `lần gia hạn ${i}` });

/**
 * The chain of stamps of one proof, from the last back to the first: stamp i is checked at the time
 * stamp i+1 states (which it covers, so that time is proven), the last at the verification time.
 */
async function checkChain(name: string, tokens: Buffer[], root: Buffer, trust: BundleTrust, result: ArchiveProofResult, problems: string[], warnings: string[]): Promise<void> {
  const at = trust.at ?? new Date();
  const tsaTrust = { anchors: trust.tsaAnchors ?? [], crls: trust.crls };
  const stamps: ArchiveStampResult[] = tokens.map(() => ({ time: null, tsa: null, checkedAt: null, valid: false, reason: null }));
  const why: Array<{ en: string; vi: string }> = [];
  let checkedAt = at;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const stamp = stamps[i];
    stamp.checkedAt = checkedAt.toISOString();
    try {
      const ok = await verifyTimestampToken(tokens[i], i === 0 ? root : tokens[i - 1], tsaTrust, at, { chainAt: checkedAt });
      if (i < tokens.length - 1 && ok.time > checkedAt) {
        const err = new TimestampError("TIMESTAMP_INVALID", `${stampName(i + 1).en} states a time before the stamp it renews`, `${stampName(i + 1).vi} ghi thời điểm trước dấu thời gian mà nó gia hạn`);
        throw Object.assign(err, { time: ok.time, tsa: ok.tsa });
      }
      Object.assign(stamp, { time: ok.time.toISOString(), tsa: ok.tsa, valid: true });
    } catch (err) {
      if (!(err instanceof TimestampError)) throw err;
      Object.assign(stamp, { time: err.time?.toISOString() ?? null, tsa: err.tsa ?? null, reason: err.reason });
      why[i] = { en: err.message, vi: err.vi };
    }
    // the next stamp back is checked at this one's time, when it can be read (else: the verification time)
    if (stamp.time) checkedAt = new Date(stamp.time);
  }
  Object.assign(result, { stamps, time: stamps[0].time, tsa: stamps[0].tsa });
  const broken = stamps.findIndex((s) => s.reason === "TIMESTAMP_IMPRINT_MISMATCH");
  if (broken >= 0) {
    result.reason = "TIMESTAMP_IMPRINT_MISMATCH";
    const what = broken === 0 ? { en: "the Merkle root", vi: "gốc cây Merkle" } : { en: `the stamp before it`, vi: "dấu thời gian trước nó" };
    problems.push(
      bi(
        `${name}: the chain of archive time-stamps is broken at ${stampName(broken).en}: it is not over ${what.en} (a renewal changed, reordered or removed)`,
        `${name}: chuỗi dấu thời gian lưu trữ bị đứt tại ${stampName(broken).vi}: không phải dấu trên ${what.vi} (một lần gia hạn bị sửa, đổi thứ tự hoặc bị bỏ)`,
      ),
    );
    return;
  }
  const failed = stamps.findIndex((s) => !s.valid);
  if (failed < 0) {
    result.stamped = true;
    return;
  }
  result.reason = stamps[failed].reason;
  const when = failed === tokens.length - 1 ? { en: "at the verification time", vi: "tại thời điểm kiểm tra" } : { en: `at the time of ${stampName(failed + 1).en}`, vi: `tại thời điểm của ${stampName(failed + 1).vi}` };
  warnings.push(
    bi(
      `${name}: the archive time-stamp does not count: ${stampName(failed).en} is not valid ${when.en} (${stamps[failed].checkedAt}, ${stamps[failed].reason}): ${why[failed].en}`,
      `${name}: dấu thời gian lưu trữ không được công nhận: ${stampName(failed).vi} không hợp lệ ${when.vi} (${stamps[failed].checkedAt}, ${stamps[failed].reason}): ${why[failed].vi}`,
    ),
  );
}
