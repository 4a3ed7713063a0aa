// `edoc verify FILE.pdf`: the PDF's own signatures (PAdES, adbe.pkcs7.detached) and document
// time-stamps, one report each. Exit 0 only when every signature is valid and nothing but
// validation data (or a later signature) was added after each one.
import type { X509Certificate } from "node:crypto";
import { isPdfReadError, verifyPdf, type Crl, type PdfReport, type PdfSignatureReport } from "../signing/index.ts";
import { InputError } from "./input.ts";

export interface PdfVerifyInput {
  bytes: Buffer;
  anchors: X509Certificate[];
  tsaAnchors: X509Certificate[];
  crls: Crl[];
  at: Date | undefined;
  json: boolean;
}

export async function verifyPdfCommand(v: PdfVerifyInput): Promise<number> {
  const report = await verifyPdf(v.bytes, { anchors: v.anchors, tsaAnchors: v.tsaAnchors, crls: v.crls, at: v.at }).catch((err: unknown) => {
    throw isPdfReadError(err) ? new InputError(err.message) : err;
  });
  process.stdout.write(v.json ? JSON.stringify(report, null, 2) + "\n" : describePdf(report));
  return report.valid ? 0 : 1;
}

function describeSignature(s: PdfSignatureReport, what: string): string[] {
  const lines = [`${what} "${s.field}" (${s.subFilter ?? "?"}): ${s.valid ? "VALID — hợp lệ" : `NOT VALID — không hợp lệ (${s.indication}/${s.subIndication})`}`];
  if (s.signer) lines.push(`  signer:        ${s.signer.subject}`, `  issuer:        ${s.signer.issuer}`, `  fingerprint:   ${s.signer.fingerprint}`);
  if (s.signingTime) lines.push(`  signing time:  ${s.signingTime}`);
  if (s.timestamp) lines.push(`  time-stamp:    ${s.timestamp.time ?? "?"} by ${s.timestamp.tsa ?? "?"} (${s.timestamp.valid ? "valid — hợp lệ" : "not valid — không hợp lệ"})`);
  if (s.certification !== null) lines.push(`  certification: DocMDP level ${s.certification}`);
  lines.push(`  covers whole document: ${s.coversWholeDocument ? "yes — toàn bộ tài liệu" : "no — không phải toàn bộ tài liệu"}`);
  for (const e of s.errors) lines.push(`  error:   ${e}`);
  for (const w of s.warnings) lines.push(`  warning: ${w}`);
  return lines;
}

function describePdf(r: PdfReport): string {
  const lines = [r.valid ? "VALID — các chữ ký của tệp PDF hợp lệ" : "NOT VALID — tệp PDF có chữ ký không hợp lệ hoặc bị sửa sau khi ký"];
  lines.push(`checked at:    ${r.validationTime}`);
  r.signatures.forEach((s, i) => lines.push(...describeSignature(s, `signature ${i + 1}`)));
  r.documentTimestamps.forEach((s, i) => lines.push(...describeSignature(s, `document time-stamp ${i + 1}`)));
  for (const e of r.errors) lines.push(`error:   ${e}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n") + "\n";
}
