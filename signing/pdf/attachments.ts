// The document's own signatures beside the transport signature: each attachment of a verified
// packet that is a PDF gets its signatures verified and reported (attachments[].pdfSignatures).
// The packet's verdict is the edXML signature's alone; a PDF attachment never changes it.
import { regionBytes, type PacketSource } from "../../envelopes/index.ts";
import type { VerificationReport } from "../report.ts";
import type { SignedContent } from "../verify.ts";
import { isPdf, isPdfReadError, type PdfReport, type PdfTrust } from "./report.ts";

/** PDFs above this size are not checked (pdf-lib holds the whole file in memory). */
const MAX_PDF_BYTES = 64 * 1024 * 1024;

interface AttachmentSignatures {
  /** The attachment's number in the packet, from 1. */
  n: number;
  name: string;
  /** The PDF's own signatures and document time-stamps. */
  pdfSignatures: PdfReport;
}

function unchecked(at: Date, error: string): PdfReport {
  return { valid: false, validationTime: at.toISOString(), signatures: [], documentTimestamps: [], errors: [error], warnings: [] };
}

/** A packet's report with its PDF attachments' own signatures: facts beside its verdict, never part of it. */
export type ReportWithPdfs = VerificationReport & { attachments?: AttachmentSignatures[] };

/** Adds `attachments` (one entry per PDF attachment) to the packet's report; nothing else changes. */
export async function addPdfSignatures(report: ReportWithPdfs, source: PacketSource, content: SignedContent | null, trust: PdfTrust): Promise<void> {
  if (!content || content.packet.kind !== "edoc") return;
  const at = trust.at ?? new Date();
  const out: AttachmentSignatures[] = [];
  for (const [i, a] of content.attachments.entries()) {
    if (!a.region) continue;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    for await (const chunk of regionBytes(source, a.region)) {
      if (chunks.length === 0 && !isPdf(chunk)) break;
      size += chunk.length;
      if (size > MAX_PDF_BYTES) {
        tooLarge = true;
        break;
      }
      chunks.push(chunk);
    }
    if (chunks.length === 0) continue;
    const name = a.info.AttachmentName;
    if (tooLarge) {
      out.push({ n: i + 1, name, pdfSignatures: unchecked(at, `the PDF is larger than ${MAX_PDF_BYTES / 1048576} MiB: its signatures were not checked — tệp PDF quá lớn, chữ ký trong tệp chưa được kiểm tra`) });
      continue;
    }
    const pdfSignatures = await (await import("./verify.ts"))
      .verifyPdfSignatures(Buffer.concat(chunks), trust).catch((err: unknown) => {
      if (isPdfReadError(err)) return unchecked(at, `${err.message} — không đọc được tệp PDF`);
      throw err;
    });
    out.push({ n: i + 1, name, pdfSignatures });
  }
  if (out.length > 0) report.attachments = out;
}
