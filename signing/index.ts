// Public face of signing: identities and trust (pki), packing and signing, verification and its report.
export * from "./pki.ts";
export { packEdoc, signStatus, type SignOptions } from "./sign.ts";
export { verifyPacket, checkAlgorithms, type TrustConfig, type VerifyOptions, type VerificationResult, type SignedContent, type VerifiedAttachment } from "./verify.ts";
export * from "./report.ts";
export * from "./registry.ts";
export { ALG, IDS } from "./xmldsig.ts";
