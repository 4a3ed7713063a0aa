// Evidence bundles (hồ sơ chứng cứ): one ZIP that lets an archivist prove offline, years later,
// what was sent, by whom, when, and what the other party acknowledged.
//
// Layout (format "edoc-evidence/1"):
//   README.txt                            what the bundle is and how to check it (Vietnamese, English)
//   packet.edxml                          the signed packet, byte-exact (stored, not compressed)
//   attachments/<n>-<name>                each attachment, decoded (stored, not compressed)
//   statuses/<seq>-<code>-<from>.edxml    each signed status packet, byte-exact, oldest first
//   timestamps/<file>.tst                 the signature time-stamp (RFC 3161, DER) kept beside packet.edxml or
//                                         a status packet that went out without one (level B-T)
//   archive/<file>.json                   an archive time-stamp's proof for that file: its inclusion path in
//                                         a Merkle tree whose root the node had time-stamped, and that stamp's
//                                         renewals in order, each over the one before (RFC 4998; archive.ts)
//   report.json                           the verification report made when the packet was received or sent
//   trust/anchor-<fp>.pem                 the trust anchor(s) the signer chains led to
//   trust/tsa-anchor-<fp>.pem             the node's time-stamping authority anchor(s) (copies, as above)
//   trust/signer-<organ id>-<fp>.pem      each signer certificate, then the intermediates it carried
//   trust/registry.json                   the registry entries of the organ ids involved ({"agencies":[…]})
//   trust/publisher-<organ id>-<fp>.pem   the certificate of the node's publishing identity (a copy)
//   audit-checkpoint.json                 the node's latest signed checkpoint of its audit log's hash
//                                         chain: the log reached at least that far (optional)
//   manifest.json                         format, times, the document record, and every other file's
//                                         SHA-256 and size
//   manifest-signature.xml                the node's signature over manifest.json's bytes, the bundle's seal
//                                         (written last), with its RFC 3161 time-stamp inside (XAdES B-T,
//                                         as a packet's) when the node's TSA answered
//
// This module holds the format's names and paths and the manifest's shape. The others:
//   write.ts, zip-write.ts, readme.ts     making a bundle (the ZIP, README.txt)
//   manifest.ts                           the document record, on both sides
//   signature.ts                          the node's signature over manifest.json
//   zip-read.ts                           the hardened ZIP reader
//   verify.ts (+ attachments.ts,          checking a bundle, and what proves what
//     statuses.ts, report.ts)
//   describe.ts                           the report in words, for the CLI
import { stripBidiControls } from "../../envelopes/index.ts";

export const EVIDENCE_FORMAT = "edoc-evidence/1";
export const MANIFEST_PATH = "manifest.json";
/** The node's signature over manifest.json's bytes (signature.ts). */
export const MANIFEST_SIGNATURE_PATH = "manifest-signature.xml";
/** The node's latest signed audit checkpoint (signing/checkpoint.ts), when it had one. */
export const AUDIT_CHECKPOINT_PATH = "audit-checkpoint.json";

/** The document record's summary, as in the service contract. */
export interface EvidenceRecord {
  /** This node's id for the document. */
  id: string;
  /** The edXML DocumentId. */
  documentId: string;
  direction: "in" | "out";
  /** Organ ids. */
  from: string;
  to: string[];
  /** "số/ký hiệu", e.g. "123/QĐ-VPCP". */
  code: string;
  subject: string;
}

export interface EvidenceStatus {
  /** "01", "03", … */
  code: string;
  /** Organ id of the agency that signed and sent it. */
  from: string;
  /** When this node sent or received it (ISO 8601). */
  at: string;
  /** The signed status packet, byte-exact. */
  packet: Buffer;
  /** Its signature time-stamp kept beside it (DER), when it went out without one. */
  timestamp?: Buffer;
}

export interface ManifestFile {
  path: string;
  /** Lowercase hex. */
  sha256: string;
  size: number;
}

export interface EvidenceManifest {
  format: typeof EVIDENCE_FORMAT;
  /** When the bundle was made. */
  created: string;
  /** The time report.json checked the certificates at (its validationTime). */
  verifiedAt: string;
  record: EvidenceRecord;
  packet: { path: string; signer: string | null; signingTime: string | null };
  attachments: Array<{ n: number; name: string; path: string }>;
  statuses: Array<{ seq: number; code: string; from: string; at: string; path: string }>;
  trust: { anchors: string[]; signers: string[]; registry: string; tsaAnchors?: string[] };
  /**
   * The node's publishing identity, which signs this manifest (manifest-signature.xml): its agency,
   * its certificate's SHA-256 and a copy of it (to compare with the one obtained out of band).
   */
  publisher: { organId: string; fingerprint: string; certificate: string };
  /**
   * "requested" when the node had a time-stamping authority and asked it to stamp its seal
   * (manifest-signature.xml, written after this file): a seal without a stamp then means the
   * authority did not answer at export.
   */
  sealTimestamp?: "requested";
  /** AUDIT_CHECKPOINT_PATH when the bundle carries one. */
  auditCheckpoint?: string;
  /** Every file of the bundle but manifest.json and its signature. */
  files: ManifestFile[];
}

const MAX_NAME_BYTES = 150;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A file name safe on every system, Vietnamese letters kept: NFC; no path separators, control,
 * bidi or zero-width characters, nor the characters Windows forbids; no leading dot, no trailing dot
 * or space; no Windows device name; at most 150 UTF-8 bytes, the extension kept.
 */
export function bundleFileName(name: string): string {
  let s = stripBidiControls(name.normalize("NFC"))
    .replace(/[\u200b-\u200d\ufeff]/g, "")
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, "_")
    .trim()
    .replace(/^[.\s]+/, "")
    .replace(/[.\s]+$/, "");
  if (WINDOWS_RESERVED.test(s)) s = `_${s}`;
  if (!s) s = "attachment";
  if (Buffer.byteLength(s) > MAX_NAME_BYTES) {
    const dot = s.lastIndexOf(".");
    const ext = dot > 0 && s.length - dot <= 10 ? s.slice(dot) : "";
    const chars = [...s.slice(0, s.length - ext.length)];
    while (chars.length && Buffer.byteLength(chars.join("") + ext) > MAX_NAME_BYTES) chars.pop();
    s = chars.join("").replace(/[.\s]+$/, "") + ext;
  }
  return s;
}

const pad = (n: number, count: number) => String(n).padStart(Math.max(2, String(count).length), "0");

export function attachmentPath(n: number, count: number, name: string): string {
  return `attachments/${pad(n, count)}-${bundleFileName(name)}`;
}

export function statusPath(seq: number, count: number, code: string, from: string): string {
  return `statuses/${pad(seq, count)}-${code}-${bundleFileName(from)}.edxml`;
}

/** Where the signature time-stamp kept beside the packet at `path` goes. */
export function timestampPath(path: string): string {
  return `timestamps/${path}.tst`;
}

export const STATUS_PATH = /^statuses\/(\d+)-(\d{2})-(.+)\.edxml$/;
