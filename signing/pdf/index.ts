// Public face of signing/pdf. pdf-lib takes a few hundred milliseconds to import: the verifier is
// loaded on first use, so that `edoc verify` of a packet (or a node that never sees a PDF) does not pay.
import type { PdfReport, PdfTrust } from "./report.ts";

export { isPdf, isPdfReadError, type PdfReport, type PdfSignatureReport, type PdfTrust } from "./report.ts";
export { addPdfSignatures, type ReportWithPdfs } from "./attachments.ts";

/** Verifies a PDF's signatures and document time-stamps, each on its own. */
export async function verifyPdf(bytes: Buffer, trust: PdfTrust): Promise<PdfReport> {
  return (await import("./verify.ts")).verifyPdfSignatures(bytes, trust);
}
