// The verification report, modelled on the EU DSS simple report.

export type Indication = "TOTAL_PASSED" | "TOTAL_FAILED" | "INDETERMINATE";

/** Why a packet did not pass; each maps to one indication (see INDICATION_OF). */
export type SubIndication =
  | "FORMAT_FAILURE"
  | "NO_SIGNATURE"
  | "DISALLOWED_ALGORITHM"
  | "NO_CERTIFICATE_CHAIN_FOUND"
  | "NO_SIGNING_CERTIFICATE_FOUND"
  | "CHAIN_CONSTRAINTS_FAILURE"
  | "EXPIRED"
  | "NOT_YET_VALID"
  | "REVOKED"
  | "SIGNER_NOT_BOUND"
  | "HASH_FAILURE"
  | "SIG_CRYPTO_FAILURE";

/** TOTAL_FAILED: proven wrong. INDETERMINATE: what is needed to prove it right is missing. */
export const INDICATION_OF: Record<SubIndication, Indication> = {
  FORMAT_FAILURE: "TOTAL_FAILED",
  DISALLOWED_ALGORITHM: "TOTAL_FAILED",
  HASH_FAILURE: "TOTAL_FAILED",
  SIG_CRYPTO_FAILURE: "TOTAL_FAILED",
  REVOKED: "TOTAL_FAILED",
  SIGNER_NOT_BOUND: "TOTAL_FAILED",
  NO_SIGNATURE: "INDETERMINATE",
  NO_CERTIFICATE_CHAIN_FOUND: "INDETERMINATE",
  NO_SIGNING_CERTIFICATE_FOUND: "INDETERMINATE",
  // as EU DSS: the certificate is genuine, but a constraint on it (its extended key usage) fails
  CHAIN_CONSTRAINTS_FAILURE: "INDETERMINATE",
  EXPIRED: "INDETERMINATE",
  NOT_YET_VALID: "INDETERMINATE",
};

export interface SignerSummary {
  /** The sender organ id the signer is bound to (From/OrganId of the signed header). */
  organId: string | null;
  subject: string;
  issuer: string;
  serialNumber: string;
  /** SHA-256 of the certificate DER, lowercase hex. */
  fingerprint: string;
  notBefore: string;
  notAfter: string;
}

export interface ReferenceResult {
  uri: string;
  /** What the reference covers, in words: "message header", "attachment 1: QĐ 123.pdf", … */
  covers: string;
  /** null when verification stopped before the digests were checked. */
  digestOk: boolean | null;
}

/** The signature's time-stamp (level B-T): what it states and whether it counts. */
export interface TimestampSummary {
  /** genTime (ISO 8601); null when the token could not be read. */
  time: string | null;
  /** The time-stamping authority: the subject of the token's signer certificate. */
  tsa: string | null;
  valid: boolean;
  /** The level this stamp gives the signature: B-T when valid. */
  level: SignatureLevel;
  /** Why it does not count (also a warning); null when valid. */
  reason: "TIMESTAMP_INVALID" | "TIMESTAMP_UNTRUSTED" | "TIMESTAMP_IMPRINT_MISMATCH" | null;
}

/** XAdES baseline levels reached: B-B (the signature), B-T (and a valid signature time-stamp). */
type SignatureLevel = "B-B" | "B-T";

export interface VerificationReport {
  valid: boolean;
  indication: Indication;
  subIndication: SubIndication | null;
  /** "edoc" or "status" when the packet could be read that far. */
  packetKind: "edoc" | "status" | null;
  documentId: string | null;
  signer: SignerSummary | null;
  signingTime: string | null;
  /** The signature time-stamp, when the packet carries one (or one is kept beside it). */
  timestamp: TimestampSummary | null;
  /** B-T when the signature is valid and so is its time-stamp; B-B otherwise. */
  level: SignatureLevel;
  /** The time certificates were checked at (ISO 8601). */
  validationTime: string;
  references: ReferenceResult[];
  /** Each entry in English, then Vietnamese. */
  errors: string[];
  warnings: string[];
}

/** The report before any check: failed, nothing known yet but the time certificates are checked at. */
export function emptyReport(at: Date): VerificationReport {
  return {
    valid: false,
    indication: "TOTAL_FAILED",
    subIndication: null,
    packetKind: null,
    documentId: null,
    signer: null,
    signingTime: null,
    timestamp: null,
    level: "B-B",
    validationTime: at.toISOString(),
    references: [],
    errors: [],
    warnings: [],
  };
}

/** The report on input that could not be checked at all: FORMAT_FAILURE, with one error. */
export function formatFailureReport(at: Date, error: string): VerificationReport {
  return { ...emptyReport(at), subIndication: "FORMAT_FAILURE", errors: [error] };
}

/** A failure that ends verification; carries its sub-indication and a bilingual message. */
export class VerificationFailure extends Error {
  constructor(
    readonly subIndication: SubIndication,
    en: string,
    readonly vi: string,
  ) {
    super(en);
  }
  get bilingual(): string {
    return `${this.message} — ${this.vi}`;
  }
}

export function fail(sub: SubIndication, en: string, vi: string): never {
  throw new VerificationFailure(sub, en, vi);
}
