// Verifies the signatures of a PDF (PAdES B-B/B-T/LT/LTA, adbe.pkcs7.detached, adbe.pkcs7.sha1)
// and its document time-stamps (ETSI.RFC3161), each on its own: the /ByteRange layout, integrity,
// the signature value, algorithm constraints, the signing certificate, the signature time-stamp,
// the chain at the proven time; then what changed in the file after each signed revision.
import type { X509Certificate } from "node:crypto";
import type { PDFDocument } from "pdf-lib";
import { certificateFromDer, fingerprint, parsed } from "../pki/certificates.ts";
import { parseCrl } from "../pki/crl.ts";
import { INDICATION_OF, type Indication } from "../report.ts";
import {
  PdfCheckFailure,
  checkAlgorithms,
  checkChain,
  checkIntegrityAndSignature,
  checkSigningCertificateAttribute,
  digestOf,
  parseCms,
  signatureTimeStampOf,
  signatureValueOf,
  signingTimeOf,
  stop,
  type Finding,
  type PdfSubIndication,
  type TrustInput,
} from "../cms.ts";
import { TimestampError, verifyTimestampToken, type TsaTrust } from "../timestamp.ts";
import { PdfReadError, isPdf, type PdfReport, type PdfSignatureReport, type PdfSigner, type PdfTrust } from "./report.ts";
import { changesSince, loadPdf, xrefChanges, signatureFields, validationData, type Change, type SignatureField } from "./document.ts";

const DETACHED = new Set(["adbe.pkcs7.detached", "ETSI.CAdES.detached"]);
const bilingual = (f: Finding): string => `${f.en} — ${f.vi}`;

/** INDETERMINATE for a missing proof, TOTAL_FAILED for a proven fault (as INDICATION_OF). */
function indicationOf(sub: PdfSubIndication): Indication {
  return sub === "CRYPTO_CONSTRAINTS_FAILURE" ? "INDETERMINATE" : INDICATION_OF[sub];
}

function signerSummary(cert: X509Certificate): PdfSigner {
  const p = parsed(cert);
  return {
    subject: p.subject,
    issuer: p.issuer,
    serialNumber: p.serialNumber.toLowerCase(),
    fingerprint: fingerprint(cert),
    notBefore: p.notBefore.toISOString(),
    notAfter: p.notAfter.toISOString(),
  };
}

export async function verifyPdfSignatures(bytes: Buffer, trust: PdfTrust): Promise<PdfReport> {
  const at = trust.at ?? new Date();
  const report: PdfReport = { valid: false, validationTime: at.toISOString(), signatures: [], documentTimestamps: [], errors: [], warnings: [] };
  if (!isPdf(bytes)) throw new PdfReadError("the file is not a PDF (no %PDF- header)");
  let final: PDFDocument;
  try {
    final = await loadPdf(bytes);
  } catch (e) {
    throw new PdfReadError(`the file cannot be read as a PDF (${(e as Error).message})`);
  }
  let fields: SignatureField[];
  let dss: ReturnType<typeof validationData>;
  try {
    fields = signatureFields(final);
    dss = validationData(final);
  } catch (e) {
    throw new PdfReadError(`the PDF's form fields cannot be read (${(e as Error).message})`);
  }
  const pool = dss.certificates.flatMap((der) => {
    try {
      return [certificateFromDer(der)];
    } catch {
      return [];
    }
  });
  // DSS CRLs are signed by their issuers: the chain check verifies each before using it.
  const crls = [...trust.crls, ...dss.crls.flatMap((der) => {
    try {
      return [parseCrl(der)];
    } catch {
      return [];
    }
  })];
  const revisions = new Map<number, Promise<PDFDocument | null>>();
  const revision = (end: number) => {
    let r = revisions.get(end);
    if (!r) revisions.set(end, (r = loadPdf(bytes.subarray(0, end)).catch(() => null)));
    return r;
  };
  const ordered = [...fields].sort((a, b) => revisionEnd(a) - revisionEnd(b));
  let previousEnd = 0;
  for (const field of ordered) {
    const r = await verifyField(field, bytes, previousEnd, { anchors: trust.anchors, crls, pool }, { anchors: trust.tsaAnchors, crls, pool }, at, revision, final);
    previousEnd = Math.max(previousEnd, revisionEnd(field));
    (field.type === "DocTimeStamp" ? report.documentTimestamps : report.signatures).push(r);
  }
  // Fields in the order the file declares them (the reader's order), not by revision.
  const order = (list: PdfSignatureReport[]) => list.sort((a, b) => fields.findIndex((f) => f.name === a.field) - fields.findIndex((f) => f.name === b.field));
  order(report.signatures);
  order(report.documentTimestamps);
  for (const ts of report.documentTimestamps) {
    if (!ts.valid) report.warnings.push(`document time-stamp "${ts.field}" is not valid (${ts.subIndication}) — dấu thời gian tài liệu "${ts.field}" không hợp lệ`);
  }
  if (report.signatures.length === 0) report.errors.push("the PDF has no signature — tệp PDF không có chữ ký số");
  report.valid = report.signatures.length > 0 && report.signatures.every((s) => s.valid && !s.modifiedAfterSigning);
  return report;
}

const revisionEnd = (f: SignatureField): number => (f.byteRange ? f.byteRange[2]! + f.byteRange[3]! : 0);

async function verifyField(
  field: SignatureField,
  bytes: Buffer,
  previousEnd: number,
  trust: TrustInput,
  tsaTrust: TsaTrust,
  at: Date,
  revision: (end: number) => Promise<PDFDocument | null>,
  final: PDFDocument,
): Promise<PdfSignatureReport> {
  const r: PdfSignatureReport = {
    field: field.name,
    subFilter: field.subFilter,
    valid: false,
    indication: "TOTAL_FAILED",
    subIndication: null,
    signer: null,
    signingTime: field.claimedTime?.toISOString() ?? null,
    timestamp: null,
    coversWholeDocument: false,
    byteRange: field.byteRange,
    certification: field.docMdp,
    reason: field.reason,
    changesAfterSigning: [],
    modifiedAfterSigning: false,
    errors: [],
    warnings: [],
  };
  try {
    const ranges = checkLayout(field, bytes, previousEnd);
    const end = revisionEnd(field);
    r.coversWholeDocument = end === bytes.length;
    const signed = await revision(end);
    if (!signed) stop("FORMAT_FAILURE", "the signed revision cannot be read as a PDF", "không đọc được phiên bản tài liệu đã ký");
    if (!r.coversWholeDocument) {
      r.changesAfterSigning = restrictByCertification([...changesSince(signed, final), ...xrefChanges(bytes, end, signed)], field.docMdp);
      r.modifiedAfterSigning = r.changesAfterSigning.some((c) => !c.permitted);
    }
    if (field.ref && !signed.context.lookup(field.ref)) {
      stop("FORMAT_FAILURE", "the signature dictionary is not part of the revision it signs", "từ điển chữ ký không nằm trong phiên bản tài liệu được ký");
    }
    if (field.type === "DocTimeStamp") await verifyDocumentTimestamp(field, ranges, tsaTrust, at, r);
    else await verifySignature(field, ranges, trust, tsaTrust, at, r);
    r.valid = true;
    r.indication = "TOTAL_PASSED";
  } catch (e) {
    // A structure the readers above did not expect is a format failure of this signature, not a crash.
    const finding: Finding =
      e instanceof PdfCheckFailure
        ? e.finding
        : { subIndication: "FORMAT_FAILURE", en: `the signature cannot be read (${(e as Error).message})`, vi: "không đọc được chữ ký" };
    r.valid = false;
    r.indication = indicationOf(finding.subIndication);
    r.subIndication = finding.subIndication;
    r.errors.push(bilingual(finding));
  }
  for (const c of r.changesAfterSigning) if (!c.permitted) r.warnings.push(`${c.en} — ${c.vi}`);
  return r;
}

/**
 * The /ByteRange layout: two ranges [0, a) and [b, b+len) with the hole [a, b) being exactly the
 * /Contents hex string of this dictionary (no gap, no overlap, nothing outside the file), and the
 * hole after every earlier signed revision (an incremental update cannot reach back into one).
 */
function checkLayout(field: SignatureField, bytes: Buffer, previousEnd: number): Buffer[] {
  const br = field.byteRange;
  const bad = (en: string, vi: string): never => stop("FORMAT_FAILURE", `invalid /ByteRange: ${en}`, `/ByteRange không hợp lệ: ${vi}`);
  if (!br) bad("it must be an array of four non-negative integers", "phải là mảng gồm bốn số nguyên không âm");
  const [start, len1, off2, len2] = br as [number, number, number, number];
  if (start !== 0) bad("the first range must start at byte 0", "khoảng thứ nhất phải bắt đầu từ byte 0");
  if (len1 < 1 || off2 <= len1 + 1) bad("the ranges overlap or leave no room for /Contents", "các khoảng chồng lấn hoặc không chừa chỗ cho /Contents");
  if (off2 + len2 > bytes.length) bad("the second range goes beyond the end of the file", "khoảng thứ hai vượt quá cuối tệp");
  if (len1 < previousEnd) bad("the signature's /Contents lies inside an earlier signed revision (overlapping signatures)", "vùng /Contents nằm trong một phiên bản đã ký trước đó (chữ ký chồng lấn)");
  const hole = bytes.subarray(len1, off2);
  if (hole[0] !== 0x3c || hole[hole.length - 1] !== 0x3e || !/^[0-9a-fA-F]*$/.test(hole.subarray(1, -1).toString("latin1")) || (hole.length - 2) % 2 !== 0) {
    bad("the excluded bytes are not exactly one hexadecimal string", "phần bị loại trừ không phải đúng một chuỗi thập lục phân");
  }
  if (!/\/Contents\s*$/.test(bytes.subarray(Math.max(0, len1 - 32), len1).toString("latin1"))) {
    bad("the excluded bytes are not the value of /Contents", "phần bị loại trừ không phải giá trị của /Contents");
  }
  const holeValue = Buffer.from(hole.subarray(1, -1).toString("latin1"), "hex");
  if (!field.contents || !holeValue.equals(field.contents)) {
    bad("the excluded bytes are not this signature's /Contents", "phần bị loại trừ không phải /Contents của chữ ký này");
  }
  return [bytes.subarray(0, len1), bytes.subarray(off2, off2 + len2)];
}

/** A certification with "no changes" (DocMDP P=1) allows only validation data afterwards; P=2 no annotations. */
function restrictByCertification(changes: Change[], docMdp: number | null): Change[] {
  if (docMdp === null || docMdp >= 3) return changes;
  const allowed = new Set<Change["kind"]>(docMdp === 1 ? ["validation-data", "document-timestamp", "metadata"] : ["validation-data", "document-timestamp", "metadata", "signature", "signature-field", "form"]);
  return changes.map((c) =>
    c.permitted && !allowed.has(c.kind)
      ? { ...c, permitted: false, en: `${c.en}, which the certification signature does not permit`, vi: `${c.vi}, điều mà chữ ký chứng nhận không cho phép` }
      : c,
  );
}

async function verifySignature(field: SignatureField, ranges: Buffer[], trust: TrustInput, tsaTrust: TsaTrust, at: Date, r: PdfSignatureReport): Promise<void> {
  const subFilter = field.subFilter ?? "";
  if (!DETACHED.has(subFilter) && subFilter !== "adbe.pkcs7.sha1") {
    stop("FORMAT_FAILURE", `unsupported signature sub-filter /${subFilter}`, `không hỗ trợ kiểu chữ ký /${subFilter}`);
  }
  const cms = parseCms(field.contents!);
  r.signer = cms.signer ? signerSummary(cms.signer) : null;
  r.signingTime = signingTimeOf(cms)?.toISOString() ?? r.signingTime;
  if (subFilter === "adbe.pkcs7.sha1") {
    // The signed content is the SHA-1 of the ranges (ISO 32000-1 §12.8.3.3.1), inside the CMS.
    if (!cms.eContent || !digestOf("sha1", ranges).equals(cms.eContent.subarray(-20))) {
      stop("HASH_FAILURE", "the signed data does not match the digest in the signature: the document was changed", "dữ liệu đã ký không khớp giá trị băm trong chữ ký: tài liệu đã bị thay đổi");
    }
    checkIntegrityAndSignature(cms, cms.eContent);
    stop("CRYPTO_CONSTRAINTS_FAILURE", "the signature digests the document with SHA-1 (adbe.pkcs7.sha1), which is no longer allowed", "chữ ký băm tài liệu bằng SHA-1 (adbe.pkcs7.sha1), không còn được chấp nhận");
  }
  if (cms.eContent) stop("FORMAT_FAILURE", "a detached PDF signature must not encapsulate content", "chữ ký PDF dạng tách rời không được chứa nội dung");
  checkIntegrityAndSignature(cms, ranges);
  checkAlgorithms(cms, { en: "the signature", vi: "chữ ký" });
  checkSigningCertificateAttribute(cms);

  let chainAt = at;
  const token = signatureTimeStampOf(cms);
  if (token) {
    const ts = await timestampOf(token, signatureValueOf(cms), tsaTrust, at);
    r.timestamp = { time: ts.time, tsa: ts.tsa, valid: !ts.error };
    if (ts.error) r.warnings.push(`the signature time-stamp is not valid, the signature is judged without it: ${ts.error.message} — ${ts.error.vi}`);
    else chainAt = new Date(ts.time!);
  }
  r.warnings.push(...checkChain(cms.signer!, [...cms.certificates, ...trust.pool], trust, chainAt));
}

/** A time-stamp token over `imprinted` (timestamp.ts, as every RFC 3161 token): what it states, and why it does not count. */
async function timestampOf(
  token: Buffer,
  imprinted: Buffer | Buffer[],
  tsaTrust: TsaTrust,
  at: Date,
): Promise<{ time: string | null; tsa: string | null; certificate: X509Certificate | null; error: TimestampError | null }> {
  try {
    const ts = await verifyTimestampToken(token, imprinted, tsaTrust, at, { pades: true });
    return { time: ts.time.toISOString(), tsa: ts.tsa, certificate: ts.certificate, error: null };
  } catch (e) {
    if (!(e instanceof TimestampError)) throw e;
    return { time: e.time?.toISOString() ?? null, tsa: e.tsa ?? null, certificate: e.certificate ?? null, error: e };
  }
}

async function verifyDocumentTimestamp(field: SignatureField, ranges: Buffer[], tsaTrust: TsaTrust, at: Date, r: PdfSignatureReport): Promise<void> {
  if (field.subFilter !== "ETSI.RFC3161") {
    stop("FORMAT_FAILURE", `a document time-stamp must have the sub-filter /ETSI.RFC3161 (found /${field.subFilter})`, "dấu thời gian tài liệu phải có kiểu /ETSI.RFC3161");
  }
  const ts = await timestampOf(field.contents!, ranges, tsaTrust, at);
  r.signer = ts.certificate ? signerSummary(ts.certificate) : null;
  r.signingTime = ts.time;
  r.timestamp = { time: ts.time, tsa: ts.tsa, valid: !ts.error };
  if (ts.error) stop(ts.error.subIndication, ts.error.message, ts.error.vi);
}
