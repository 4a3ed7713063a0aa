// The manifest's document record: normalised when a bundle is written, compared with the signed
// packet's header on both sides, and the manifest as read back from a bundle.
import { formatCode, type Edoc } from "../../envelopes/index.ts";
import { EVIDENCE_FORMAT, type EvidenceManifest, type EvidenceRecord } from "./layout.ts";

export function normalizeRecord(r: EvidenceRecord): EvidenceRecord {
  const to = (r.to as unknown) === undefined ? [] : Array.isArray(r.to) ? r.to : [r.to as unknown as string];
  for (const key of ["id", "documentId", "from", "code", "subject"] as const) {
    if (typeof r[key] !== "string") throw new Error(`the document record has no ${key}`);
  }
  if (r.direction !== "in" && r.direction !== "out") throw new Error('the document record\'s direction must be "in" or "out"');
  return { id: r.id, documentId: r.documentId, direction: r.direction, from: r.from, to: [...to], code: r.code, subject: r.subject };
}

/** Where the record disagrees with the packet's header (the record's `to` may be a subset of To). */
export function recordMismatches(record: EvidenceRecord, packet: Edoc): string[] {
  const h = packet.header;
  const out: string[] = [];
  const differs = (what: string, recorded: string, signed: string) => {
    if (recorded.normalize("NFC").trim() !== signed.normalize("NFC").trim()) out.push(`${what} "${recorded}" ≠ "${signed}"`);
  };
  differs("documentId", record.documentId, h.DocumentId);
  differs("from", record.from, h.From.OrganId);
  differs("code", record.code, formatCode(h.Code));
  differs("subject", record.subject, h.Subject);
  const to = new Set(h.To.map((t) => t.OrganId));
  const stranger = record.to.filter((id) => !to.has(id));
  if (stranger.length) out.push(`to: ${stranger.join(", ")} not among the packet's recipients`);
  return out;
}

export function parseManifest(json: unknown): EvidenceManifest {
  const m = json as EvidenceManifest;
  if (!m || typeof m !== "object") throw new Error("not a JSON object");
  if (m.format !== EVIDENCE_FORMAT) throw new Error(`the format is ${JSON.stringify(m.format)}, expected "${EVIDENCE_FORMAT}"`);
  const str = (v: unknown) => typeof v === "string";
  if (!Array.isArray(m.files) || m.files.some((f) => !f || !str(f.path) || !/^[0-9a-f]{64}$/.test(f.sha256) || !Number.isSafeInteger(f.size))) {
    throw new Error("its file list is not a list of {path, sha256, size}");
  }
  if (new Set(m.files.map((f) => f.path)).size !== m.files.length) throw new Error("its file list names a file twice");
  const r = m.record;
  if (!r || !str(r.documentId) || !str(r.from) || !Array.isArray(r.to) || !str(r.code) || !str(r.subject)) {
    throw new Error("its document record is incomplete");
  }
  if (!str(m.created) || !str(m.verifiedAt)) throw new Error("its times are missing");
  if (!Array.isArray(m.attachments) || !Array.isArray(m.statuses) || !m.trust || !Array.isArray(m.trust.anchors)) {
    throw new Error("its attachment, status or trust lists are missing");
  }
  return m;
}
