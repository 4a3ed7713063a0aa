// RFC 3161 time-stamps: the request a node sends to a time-stamping authority (TSA) and its reply
// (pkijs), the check of that reply before the token is kept, and the one verification of a token
// found later — edXML signature time-stamps, archive and checkpoint stamps, and the signature and
// document time-stamps of PDFs alike. No network I/O here: the caller POSTs the request
// (app/timestamps.ts, bin/offline.ts). The token is a CMS SignedData checked as every signature
// is (cms.ts: integrity, value, algorithm constraints, signingCertificateV2); its signer is trusted
// only through validateChain with TSA anchors (purpose "timestamping": the critical
// id-kp-timeStamping extended key usage, alone), at the time the token states.
import { createHash, randomBytes, webcrypto, type X509Certificate } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import {
  PdfCheckFailure,
  checkAlgorithms,
  checkIntegrityAndSignature,
  checkSigningCertificateAttribute,
  parseCms,
  type ParsedCms,
  type PdfSubIndication,
} from "./cms.ts";
import { certificateFacts, fingerprint, label } from "./pki/certificates.ts";
import { validateChain } from "./pki/chain.ts";
import type { Crl } from "./pki/crl.ts";
import type { TimestampSummary } from "./report.ts";

pkijs.setEngine("node", new pkijs.CryptoEngine({ name: "node", crypto: webcrypto as unknown as Crypto }));

/** Why a time-stamp does not count (the profile's warning codes). */
type TimestampReason = NonNullable<TimestampSummary["reason"]>;

/**
 * The imprint's hash: SHA-256 when we ask; SHA-256 or SHA-512 accepted for edXML (the profile),
 * SHA-384 too for a PDF's stamps (PAdES allows it, and other PDF signers use it).
 */
const IMPRINT_OIDS: Record<string, "sha256" | "sha384" | "sha512"> = {
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};
const PROFILE_IMPRINTS = new Set(["sha256", "sha512"]);
const SHA256_OID = "2.16.840.1.101.3.4.2.1";
/** Digests allowed for the token's own signature: no SHA-1. */
const SIGNER_DIGESTS = new Set(["2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.2", "2.16.840.1.101.3.4.2.3"]);
const TST_INFO = "1.2.840.113549.1.9.16.1.4";

/** The DSS sub-indication a PDF report gives each reason when the check names none more precise. */
const SUB_INDICATION: Record<TimestampReason, PdfSubIndication> = {
  TIMESTAMP_INVALID: "FORMAT_FAILURE",
  TIMESTAMP_IMPRINT_MISMATCH: "HASH_FAILURE",
  TIMESTAMP_UNTRUSTED: "NO_CERTIFICATE_CHAIN_FOUND",
};

export class TimestampError extends Error {
  constructor(
    readonly reason: TimestampReason,
    en: string,
    readonly vi: string,
    readonly subIndication: PdfSubIndication = SUB_INDICATION[reason],
  ) {
    super(en);
  }
  /** What the token states, when it could be read that far. */
  time?: Date;
  tsa?: string;
  /** The token's signer certificate, when the token carries it. */
  certificate?: X509Certificate;
  get bilingual(): string {
    return `${this.reason}: ${this.message} — ${this.vi}`;
  }
}

const invalid = (en: string, vi: string): never => {
  throw new TimestampError("TIMESTAMP_INVALID", en, vi);
};

export interface TimestampRequest {
  /** DER of the TimeStampReq, the body of the POST (application/timestamp-query). */
  der: Buffer;
  nonce: Buffer;
  /** The time-stamped bytes. */
  data: Buffer;
}

/** A TimeStampReq over `content` (SHA-256), with a random 64-bit nonce, asking for the TSA's certificate. */
export function timestampRequest(content: string | Buffer): TimestampRequest {
  const data = Buffer.from(content);
  const imprint = createHash("sha256").update(data).digest();
  const nonce = randomBytes(8);
  nonce[0] &= 0x7f; // a positive INTEGER, encoded as is
  nonce[0] |= 0x01; // and without a leading zero byte, so it comes back the same
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256_OID }),
      hashedMessage: new asn1js.OctetString({ valueHex: imprint }),
    }),
    nonce: new asn1js.Integer({ valueHex: nonce }),
    certReq: true,
  });
  return { der: Buffer.from(req.toSchema().toBER()), nonce, data };
}

/**
 * The token of a TSA's reply to `request`, checked before anyone keeps it: granted, the imprint
 * and nonce of the request, a signature that verifies with the token's own signer certificate.
 * With `trust`, its signer must also chain to a TSA anchor with the critical id-kp-timeStamping
 * usage. Throws a TimestampError.
 */
export async function acceptTimestampReply(request: TimestampRequest, reply: Buffer, trust: TsaTrust | null): Promise<Buffer> {
  let resp: pkijs.TimeStampResp;
  try {
    resp = pkijs.TimeStampResp.fromBER(new Uint8Array(reply));
  } catch {
    return invalid("the time-stamping authority's reply is not a TimeStampResp", "phản hồi của đơn vị cấp dấu thời gian không đúng định dạng");
  }
  const status = resp.status.status;
  if ((status !== 0 && status !== 1) || !resp.timeStampToken) {
    const why = resp.status.statusStrings?.map((s) => s.valueBlock.value).join("; ") ?? "";
    return invalid(`the time-stamping authority refused the request (status ${status}${why ? `: ${why}` : ""})`, `đơn vị cấp dấu thời gian từ chối yêu cầu (trạng thái ${status})`);
  }
  const token = Buffer.from(resp.timeStampToken.toSchema().toBER());
  const { tst } = readToken(token);
  const nonce = tst.nonce ? Buffer.from(tst.nonce.valueBlock.valueHexView) : null;
  if (!nonce?.equals(request.nonce)) invalid("the time-stamp does not answer this request (another nonce)", "dấu thời gian không trả lời yêu cầu này (nonce khác)");
  await checkToken(token, request.data, trust, null);
  return token;
}

/** The TSA trust anchors and revocation lists a token's signer is checked against. */
export interface TsaTrust {
  anchors: X509Certificate[];
  crls: Crl[];
  /** Untrusted certificates found beside the token (a PDF's DSS): only used to build the path. */
  pool?: X509Certificate[];
}

export interface CheckedTimestamp {
  /** genTime: when the TSA saw the imprint. */
  time: Date;
  /** The TSA, by the subject of the token's signer certificate. */
  tsa: string;
  /** The token's signer certificate. */
  certificate: X509Certificate;
}

/** What a token stamps: its bytes, or the parts they are made of (a PDF's signed byte ranges). */
type Stamped = string | Buffer | Buffer[];

/**
 * Verifies a TimeStampToken over `data` (the canonical bytes it must stamp) against TSA anchors:
 * what it says, or a TimestampError with the reason. `at` bounds the time it states from above.
 * Its signer's chain is checked at the time the token states, or at `chainAt` (an archive stamp
 * renewed later is checked at its renewal's time, the last of a chain now: RFC 4998 §5.3).
 */
export function verifyTimestampToken(token: Buffer, data: Stamped, trust: TsaTrust, at: Date, opts: { pades?: boolean; chainAt?: Date } = {}): Promise<CheckedTimestamp> {
  return checkToken(token, data, trust, at, opts.pades ?? false, opts.chainAt);
}

/**
 * When a token stops being checkable: the first expiry among its signer's certificate and the other
 * certificates it carries (its CAs). The token is not checked otherwise. When to renew it.
 */
export function timestampSignerExpiry(token: Buffer): Date {
  const { cms } = readToken(token);
  if (!cms.signer) return invalid("the time-stamp token does not carry its signer's certificate", "dấu thời gian không mang chứng thư số của đơn vị cấp");
  return new Date(Math.min(...cms.certificates.map((c) => certificateFacts(c).notAfter.getTime())));
}

/** The token as CMS (one SignerInfo; a PDF's zero padding after it allowed) and its TSTInfo. */
function readToken(token: Buffer): { cms: ParsedCms; tst: pkijs.TSTInfo } {
  try {
    const cms = parseCms(token);
    if (cms.eContentType !== TST_INFO || !cms.eContent) throw new Error("not a TSTInfo");
    return { cms, tst: pkijs.TSTInfo.fromBER(new Uint8Array(cms.eContent)) };
  } catch {
    return invalid("the time-stamp token cannot be read (not an RFC 3161 TimeStampToken)", "không đọc được dấu thời gian (không phải TimeStampToken theo RFC 3161)");
  }
}

async function checkToken(token: Buffer, data: Stamped, trust: TsaTrust | null, at: Date | null, pades = false, chainAt?: Date): Promise<CheckedTimestamp> {
  const { cms, tst } = readToken(token);
  try {
    return checkTokenContent(cms, tst, typeof data === "string" ? [Buffer.from(data)] : Array.isArray(data) ? data : [data], trust, at, pades, chainAt);
  } catch (err) {
    // a CMS check (cms.ts) names its DSS sub-indication: the token is then invalid for that reason
    const e =
      err instanceof PdfCheckFailure
        ? new TimestampError("TIMESTAMP_INVALID", `the time-stamp's signature does not verify: ${err.finding.en}`, `chữ ký của dấu thời gian không hợp lệ: ${err.finding.vi}`, err.finding.subIndication)
        : err;
    if (e instanceof TimestampError) Object.assign(e, { time: tst.genTime, tsa: cms.signer ? tsaName(cms.signer) : undefined, certificate: cms.signer ?? undefined });
    throw e;
  }
}

const tsaName = (signer: X509Certificate): string => signer.subject.replace(/\n/g, ", ");

function checkTokenContent(cms: ParsedCms, tst: pkijs.TSTInfo, data: Buffer[], trust: TsaTrust | null, at: Date | null, pades: boolean, chainAt?: Date): CheckedTimestamp {
  const hash = IMPRINT_OIDS[tst.messageImprint.hashAlgorithm.algorithmId];
  if (!hash || (!pades && !PROFILE_IMPRINTS.has(hash))) {
    throw new TimestampError("TIMESTAMP_INVALID", `the time-stamp's imprint uses the hash ${tst.messageImprint.hashAlgorithm.algorithmId} (SHA-256${pades ? ", SHA-384" : ""} or SHA-512 required)`, "dấu thời gian dùng thuật toán băm không được phép", "CRYPTO_CONSTRAINTS_FAILURE");
  }
  const imprint = createHash(hash);
  for (const part of data) imprint.update(part);
  if (!Buffer.from(tst.messageImprint.hashedMessage.valueBlock.valueHexView).equals(imprint.digest())) {
    throw new TimestampError(
      "TIMESTAMP_IMPRINT_MISMATCH",
      "the time-stamp was issued for other data than this signature value",
      "dấu thời gian được cấp cho dữ liệu khác, không phải giá trị chữ ký này",
    );
  }
  const time = tst.genTime;
  if (at && time.getTime() > at.getTime() + 5 * 60 * 1000) {
    invalid(`the time-stamp states a time (${time.toISOString()}) later than the validation time`, "dấu thời gian ghi thời điểm muộn hơn thời điểm kiểm tra");
  }
  if (!SIGNER_DIGESTS.has(cms.signerInfo.digestAlgorithm.algorithm)) {
    throw new TimestampError("TIMESTAMP_INVALID", `the time-stamp is signed with the digest ${cms.signerInfo.digestAlgorithm.algorithm} (SHA-256, SHA-384 or SHA-512 required)`, "dấu thời gian được ký bằng thuật toán băm không được phép", "CRYPTO_CONSTRAINTS_FAILURE");
  }
  // the signer's certificate must be in the token (certReq): an anchor alone does not stand in for it
  checkIntegrityAndSignature(cms, cms.eContent!);
  checkAlgorithms(cms, { en: "the time-stamp", vi: "dấu thời gian" });
  checkSigningCertificateAttribute(cms);
  const signer = cms.signer!;
  const tsa = tsaName(signer);
  // without anchors (packing with --tsa alone) the token is only checked to answer the request:
  // whether its signer may be trusted to time-stamp is the verifier's question (--tsa-trust)
  if (!trust) return { time, tsa, certificate: signer };
  const intermediates = [...cms.certificates, ...(trust.pool ?? [])].filter((c) => fingerprint(c) !== fingerprint(signer));
  const chain = validateChain({ leaf: signer, intermediates, anchors: trust.anchors, crls: trust.crls, at: chainAt ?? time, purpose: "timestamping" });
  if (!chain.ok) {
    throw new TimestampError(
      "TIMESTAMP_UNTRUSTED",
      `the time-stamping authority "${label(signer)}" is not trusted: ${chain.message}`,
      `đơn vị cấp dấu thời gian "${label(signer)}" không được tin cậy: ${chain.vi}`,
      chain.subIndication,
    );
  }
  return { time, tsa, certificate: signer };
}
