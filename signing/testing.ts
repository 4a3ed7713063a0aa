// What tests (and only tests) need from signing/: issuing any certificate, making CRLs, loading PEM
// identities, the canonicaliser. Not part of the public face (signing/index.ts).
export { issueCertificate } from "./pki/dev-ca.ts";
export { createCrl, crlToPem } from "./pki/crl.ts";
export { loadIdentityPem, type CertAndKey } from "./pki/identity.ts";
export type { ChainResult } from "./pki/chain.ts";
export { canonicalize } from "./xmldsig.ts";
