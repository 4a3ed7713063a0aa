// The status packets of a bundle: each verifies, says what its file name and the manifest say,
// answers this document, and comes from the party that sends its code (envelopes' statusSender).
import { statusSender, type Edoc, type StatusPacket } from "../../envelopes/index.ts";
import type { VerificationReport } from "../report.ts";
import { verifyPacket, type VerifyOptions } from "../verify.ts";
import { STATUS_PATH, bundleFileName, timestampPath, type EvidenceManifest } from "./layout.ts";
import { bi, unreadable, type BundleStatusResult } from "./report.ts";
import type { FileFacts } from "./zip-read.ts";

/** Status packets: each verifies, is signed by the party it claims, answers this document. */
export async function checkStatuses(
  facts: Map<string, FileFacts>,
  manifest: EvidenceManifest | null,
  verifyOpts: VerifyOptions,
  documentId: string | null,
  signed: Edoc | null,
  problems: string[],
): Promise<BundleStatusResult[]> {
  const statuses: BundleStatusResult[] = [];
  const statusFiles = [...facts.keys()].filter((n) => n.startsWith("statuses/")).sort();
  const listedStatuses = new Map((manifest?.statuses ?? []).map((s) => [s.path, s]));
  for (const name of statusFiles) {
    const f = facts.get(name)!;
    const m = STATUS_PATH.exec(name);
    const code = m?.[2] ?? "";
    const from = m?.[3] ?? "";
    const entryProblems: string[] = [];
    let report: VerificationReport;
    if (!f.bytes) {
      report = unreadable(verifyOpts.at, f.error ?? "cannot be read", "không đọc được");
      entryProblems.push(f.error ?? "cannot be read");
    } else {
      const result = await verifyPacket({ bytes: f.bytes }, { ...verifyOpts, timestamp: facts.get(timestampPath(name))?.bytes });
      report = result.report;
      if (!report.valid) entryProblems.push(`its signature does not verify (${report.subIndication}): ${report.errors.join("; ")}`);
      const content = result.content?.packet;
      if (content && content.kind !== "status") entryProblems.push("it is not a status packet");
      if (content?.kind === "status") entryProblems.push(...statusMismatches(content, m, documentId, signed));
    }
    const listedAs = listedStatuses.get(name);
    if (manifest && !listedAs) entryProblems.push("manifest.json does not list it among the statuses");
    if (listedAs && (listedAs.code !== code || listedAs.from !== from)) entryProblems.push("manifest.json lists it with another code or sender");
    for (const p of entryProblems) problems.push(bi(`${name}: ${p}`, `${name}: gói tin trạng thái không hợp lệ`));
    statuses.push({ path: name, code, from, at: listedAs?.at ?? null, ok: entryProblems.length === 0, problems: entryProblems, report });
  }
  for (const s of listedStatuses.keys()) {
    if (!facts.has(s) && !problems.some((p) => p.startsWith(`${s}:`))) {
      problems.push(bi(`${s}: listed in manifest.json but missing from the bundle`, `thiếu tệp ${s}`));
    }
  }
  return statuses;
}

/** A status packet must say what its file name says, answer this document, and come from a party to it. */
function statusMismatches(s: StatusPacket, m: RegExpExecArray | null, documentId: string | null, edoc: Edoc | null): string[] {
  const out: string[] = [];
  const h = s.header;
  if (!m) out.push(`its file name is not statuses/<seq>-<code>-<from>.edxml`);
  else {
    if (m[2] !== h.StatusCode) out.push(`the file name says code ${m[2]} but the signed packet says ${h.StatusCode}`);
    if (m[3] !== bundleFileName(h.From.OrganId)) out.push(`the file name says it is from ${m[3]} but the signed packet is from ${h.From.OrganId}`);
  }
  if (h.ResponseFor.DocumentId !== documentId) {
    out.push(`it answers the document ${JSON.stringify(h.ResponseFor.DocumentId)}, not ${JSON.stringify(documentId)}`);
  }
  if (edoc) {
    // the sender's codes (13, take back) come from the document's sender, the others from a recipient
    const sender = edoc.header.From.OrganId;
    const recipients = edoc.header.To.map((t) => t.OrganId);
    const bySender = statusSender(h.StatusCode) === "sender";
    if (bySender ? h.From.OrganId !== sender : !recipients.includes(h.From.OrganId)) {
      out.push(
        bySender
          ? `status ${h.StatusCode} must come from the document's sender ${sender}, not ${h.From.OrganId}`
          : `it comes from ${h.From.OrganId}, which is not a recipient of the document`,
      );
    }
  }
  return out;
}
