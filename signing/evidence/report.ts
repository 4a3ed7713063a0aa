// The bundle report: the packet's verification report widened to the whole bundle.
import type { X509Certificate } from "node:crypto";
import { formatFailureReport, type SubIndication, type TimestampSummary, type VerificationReport } from "../report.ts";
import type { TrustConfig } from "../verify.ts";
import type { EvidenceRecord } from "./layout.ts";

export interface BundleFileResult {
  path: string;
  sha256Ok: boolean;
  /** Why not, when sha256Ok is false. */
  problem?: string;
}

export interface BundleStatusResult {
  path: string;
  code: string;
  from: string;
  /** When the node sent or received it, from the manifest (unsigned). */
  at: string | null;
  /** The status packet verifies and says what its file name and the manifest say. */
  ok: boolean;
  problems: string[];
  report: VerificationReport;
}

/** archive/<file>.json: an archive time-stamp's proof that `path` existed, unchanged, at `time`. */
export interface ArchiveProofResult {
  /** The bundle file the proof is about. */
  path: string;
  /** The file's digest leads to the stamped root through the inclusion path. */
  included: boolean;
  /** The chain of stamps holds: the root's stamp, each renewal over the previous stamp, each TSA trusted when the next stamp was made, the last one at the verification time. */
  stamped: boolean;
  root: string | null;
  /** What the root's stamp states (genTime): the time the file is proven to have existed, and who stamped it. */
  time: string | null;
  tsa: string | null;
  /** Why the chain does not count (the first stamp that fails), null when stamped. */
  reason: TimestampSummary["reason"];
  /** The chain of stamps: the root's, then each renewal in order (RFC 4998 §5.2). */
  stamps: ArchiveStampResult[];
}

/** One stamp of an archive proof's chain. */
export interface ArchiveStampResult {
  /** What it states (genTime) and who stamped it, when it could be read. */
  time: string | null;
  tsa: string | null;
  /** When its TSA had to be trusted: the next stamp's time, or the verification time for the last. */
  checkedAt: string | null;
  /** It covers what it must (the root, or the previous stamp) and its TSA was trusted at checkedAt. */
  valid: boolean;
  reason: TimestampSummary["reason"];
}

/** manifest-signature.xml: the exporting node's signature over manifest.json, the bundle's seal (signature.ts). */
export interface ManifestSignatureResult {
  /** Signed by a trusted publisher over these exact manifest.json bytes, its certificate valid at a proven time (`basis`). */
  valid: boolean;
  /** Why the signer was trusted: the certificate pinned with --registry-cert, or the caller's registry. */
  trustedBy: "pinned" | "registry" | null;
  /** The publishing agency the signature names (organ id). */
  publisher: string | null;
  signer: { subject: string; fingerprint: string } | null;
  /** Why not, when not valid. */
  subIndication: SubIndication | null;
  problem: string | null;
  /** The seal's time-stamp (a XAdES SignatureTimeStamp over its ds:SignatureValue), checked against the TSA anchors; null: it carries none. */
  timestamp: TimestampSummary | null;
  /** The exporting node had a time-stamping authority and asked it for that stamp (manifest.json says so): a seal without one means it did not answer. */
  timestampRequested: boolean;
  /**
   * The time the seal's certificate was checked at (`checkedAt`): "timestamp", its stamp's (proof
   * the seal existed then); "verification", the verification time (the certificate still valid);
   * "claimed", the time the seal states, when its certificate has expired and nothing proves when it
   * signed while its signature verifies and its chain, revoked by nothing up to the verification
   * time, was valid then. A "claimed" seal is not valid: it is a warning when every document proof
   * of the bundle holds on its own, an error otherwise. null: the seal does not verify.
   */
  basis: "timestamp" | "verification" | "claimed" | null;
  checkedAt: string | null;
}

/**
 * The packet's verification report (signer, signing time, references, …) with `valid`, `indication`,
 * `errors` and `warnings` widened to the whole bundle: `valid` is true only when everything checks.
 */
export interface BundleReport extends VerificationReport {
  bundle: {
    format: string | null;
    created: string | null;
    /** The verification time recorded in the manifest (a claim of the exporting node). */
    recordedVerificationTime: string | null;
    record: EvidenceRecord | null;
    /**
     * Where the registry came from: the caller's; the bundle's own, when the publisher certificate
     * the caller pinned signed the manifest that covers it; or none (then no signer is bound).
     */
    registrySource: "caller" | "bundle" | "none";
    manifestSignature: ManifestSignatureResult;
    /**
     * Which proof carries the verdict: "seal", the node's seal, proven at a time, vouching for every
     * file; "documents", each document's own proofs (packet, status packets, archive stamps), the
     * seal being only "claimed" (a warning). null when the bundle is not valid.
     */
    verdictBy: "seal" | "documents" | null;
    /** The packet's own signature check. */
    packetValid: boolean;
    /** manifest.json is present, readable, of this format, and agrees with the signed packet. */
    manifestOk: boolean;
    files: BundleFileResult[];
    /** Every attachment file equals the decoded attachment of the verified packet, none missing or extra. */
    attachmentsMatchPacket: boolean;
    /** report.json is readable and describes this packet and signer. */
    reportMatchesPacket: boolean;
    statuses: BundleStatusResult[];
    /** The archive time-stamps' proofs carried by the bundle. */
    archive: ArchiveProofResult[];
    /** The node's signed audit checkpoint in the bundle: its audit log reached `seq` rows by `at`. */
    auditCheckpoint: { seq: number; hash: string; at: string; organId: string; valid: boolean } | null;
    /** The bundle's own problems (also in `errors`). */
    errors: string[];
  };
}

export interface BundleTrust extends TrustConfig {
  /** Time at which certificates are checked; defaults to now (see the note at the top). */
  at?: Date;
  /** The publishing node's certificate, pinned by the archivist: the only signer of the manifest accepted. */
  publisherCert?: X509Certificate | null;
}

/** A message in English, then Vietnamese. */
export const bi = (en: string, vi: string) => `${en} — ${vi}`;

/** The report on a file that could not be checked at all. */
export function unreadable(at: Date | undefined, en: string, vi: string): VerificationReport {
  return formatFailureReport(at ?? new Date(), bi(en, vi));
}
