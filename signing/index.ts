// Public face of signing: identities and trust (pki), packing and signing, verification and its report.
export * from "./pki.ts";
export { packEdoc, signStatus, type SignOptions } from "./sign.ts";
export { verifyPacket, checkAlgorithms, type TrustConfig, type VerifyOptions, type VerificationResult, type SignedContent, type VerifiedAttachment } from "./verify.ts";
export * from "./report.ts";
export * from "./registry.ts";
export {
  signRegistrySnapshot,
  verifyRegistrySnapshot,
  registryFromSnapshot,
  snapshotEntryProblem,
  SnapshotError,
  REGISTRY_NS,
  SNAPSHOT_IDS,
  type SnapshotFailure,
  type SignSnapshotOptions,
  type VerifySnapshotOptions,
  type VerifiedSnapshot,
} from "./snapshot.ts";
export { ALG, IDS } from "./xmldsig.ts";
export { writeEvidenceBundle, verifyEvidenceBundle, describeBundle, bundleFileName, BundleError, EVIDENCE_FORMAT, type EvidenceInput, type EvidenceRecord, type EvidenceStatus, type EvidenceManifest, type BundleReport, type BundleTrust } from "./evidence.ts";
