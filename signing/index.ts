// Public face of signing: identities and trust (pki/), packing and signing, verification and its
// report, the agency registry and its signed snapshots, evidence bundles. Test-only helpers
// (issuing any certificate, making CRLs) are in signing/testing.ts.
export { fingerprint, parseCertificates } from "./pki/certificates.ts";
export { loadIdentityP12, identityToP12, type Identity } from "./pki/identity.ts";
export { validateChain } from "./pki/chain.ts";
export { parseCrl, type Crl } from "./pki/crl.ts";
export { createDevCa, issueDevAgencyCertificate } from "./pki/dev-ca.ts";
export { SMALL_PACKET_BYTES, fitsInMemory, packEdoc, signEdoc, signStatus, type SignedEdoc } from "./sign.ts";
export { checkAlgorithms, describeCertificate, type CertificateDescription } from "./engine.ts";
export { ownPacketReport, verifyPacket, type TrustConfig, type VerifyOptions, type VerificationResult, type SignedContent } from "./verify.ts";
export { INDICATION_OF, formatFailureReport, VerificationFailure, type SubIndication, type VerificationReport } from "./report.ts";
export { isBound, normalizeFingerprint, registryFromJson, type Registry, type RegistryEntry } from "./registry.ts";
export {
  signRegistrySnapshot,
  verifyRegistrySnapshot,
  registryFromSnapshot,
  snapshotEntryProblem,
  SnapshotError,
  MAX_SNAPSHOT_BYTES,
  REGISTRY_NS,
  type SnapshotFailure,
  type VerifiedSnapshot,
} from "./snapshot.ts";
export { ALG, IDS } from "./xmldsig.ts";
export { timestampRequest, acceptTimestampReply, verifyTimestampToken, timestampSignerExpiry, TimestampError, type TsaTrust } from "./timestamp.ts";
export { merkleTree, proofHolds, type InclusionProof } from "./archive.ts";
export { addTimestampToFile, packetHead, stampedSignatureValue, withTimestamp } from "./xades-t.ts";
export { bundleFileName, type EvidenceManifest, type EvidenceStatus } from "./evidence/layout.ts";
export { writeEvidenceBundle, type EvidenceInput } from "./evidence/write.ts";
export { BundleError } from "./evidence/zip-read.ts";
export { verifyEvidenceBundle } from "./evidence/verify.ts";
export type { BundleReport } from "./evidence/report.ts";
export { describeBundle } from "./evidence/describe.ts";
export { checkpointBytes, signCheckpoint, verifyCheckpoint } from "./checkpoint.ts";
export { verifyPdf, isPdf, isPdfReadError, addPdfSignatures, type PdfReport, type PdfSignatureReport, type PdfTrust, type ReportWithPdfs } from "./pdf/index.ts";
