// The report on a PDF's signatures, and what callers need without loading pdf-lib.
import type { X509Certificate } from "node:crypto";
import type { Crl } from "../pki/crl.ts";
import type { Indication, SignerSummary } from "../report.ts";
import type { PdfSubIndication } from "../cms.ts";
import type { Change } from "./document.ts";

export interface PdfTrust {
  anchors: X509Certificate[];
  /** Anchors for time-stamping authorities (signature and document time-stamps). */
  tsaAnchors: X509Certificate[];
  crls: Crl[];
  /** Validation time; defaults to now. */
  at?: Date;
}

/** The signer as the packet report names it, without the agency binding (a PDF names no sender). */
export type PdfSigner = Omit<SignerSummary, "organId">;

interface PdfTimestamp {
  time: string | null;
  tsa: string | null;
  valid: boolean;
}

export interface PdfSignatureReport {
  /** The signature field's name. */
  field: string;
  subFilter: string | null;
  valid: boolean;
  indication: Indication;
  subIndication: PdfSubIndication | null;
  signer: PdfSigner | null;
  /** The signing time the signature claims (CMS signing-time, else the dictionary's /M), ISO 8601. */
  signingTime: string | null;
  /** The signature time-stamp (PAdES B-T), when there is one. */
  timestamp: PdfTimestamp | null;
  /** Whether the signed revision is the whole file (nothing was appended after signing). */
  coversWholeDocument: boolean;
  byteRange: number[] | null;
  /** DocMDP level when this is a certification signature (1 no changes, 2 forms and signing, 3 also annotations). */
  certification: number | null;
  reason: string | null;
  /** What the file gained or changed after this signature's revision. */
  changesAfterSigning: Change[];
  /** A change after signing that is not a later signature, form signing or validation data. */
  modifiedAfterSigning: boolean;
  /** Each entry in English, then Vietnamese. */
  errors: string[];
  warnings: string[];
}

export interface PdfReport {
  /** Every signature valid, and nothing but validation data / later signatures after each. */
  valid: boolean;
  validationTime: string;
  signatures: PdfSignatureReport[];
  /** Document time-stamps (PAdES LTA): validation data, reported beside the signatures. */
  documentTimestamps: PdfSignatureReport[];
  errors: string[];
  warnings: string[];
}

/** True when the bytes are a PDF by content: they start with "%PDF-" (after optional whitespace). */
export function isPdf(bytes: Uint8Array): boolean {
  return /^\s{0,16}%PDF-/.test(Buffer.from(bytes.subarray(0, 32)).toString("latin1"));
}

/** The bytes are not a PDF that can be read at all: bad input, not a verdict. */
export class PdfReadError extends Error {
  override name = "PdfReadError";
}

/** By name, not instanceof: the verifier is imported lazily, and a test loader may load this module twice. */
export const isPdfReadError = (e: unknown): e is PdfReadError => e instanceof Error && e.name === "PdfReadError";
