// RFC 3161 time-stamps with pkijs: the request a node sends to a time-stamping authority (TSA), the
// check of its reply before the token is kept, and the verification of a token found later. No
// network I/O here: the caller POSTs the request (app/timestamps.ts, bin/offline.ts).
// The token's signer is trusted only through validateChain with TSA anchors (purpose
// "timestamping": the critical id-kp-timeStamping extended key usage), at the time the token states.
import { createHash, randomBytes, webcrypto, type X509Certificate } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { certificateFromDer, label } from "./pki/certificates.ts";
import { validateChain } from "./pki/chain.ts";
import type { Crl } from "./pki/crl.ts";
import type { TimestampSummary } from "./report.ts";

pkijs.setEngine("node", new pkijs.CryptoEngine({ name: "node", crypto: webcrypto as unknown as Crypto }));

/** Why a time-stamp does not count (the profile's warning codes). */
type TimestampReason = NonNullable<TimestampSummary["reason"]>;

/** The imprint's hash: SHA-256 when we ask; SHA-256 or SHA-512 accepted (the profile). */
const IMPRINT_OIDS: Record<string, "sha256" | "sha512"> = {
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.3": "sha512",
};
const SHA256_OID = "2.16.840.1.101.3.4.2.1";
/** Digests allowed for the token's own signature: no SHA-1. */
const SIGNER_DIGESTS = new Set(["2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.2", "2.16.840.1.101.3.4.2.3"]);
const SIGNED_DATA = "1.2.840.113549.1.7.2";
const TST_INFO = "1.2.840.113549.1.9.16.1.4";

export class TimestampError extends Error {
  constructor(
    readonly reason: TimestampReason,
    en: string,
    readonly vi: string,
  ) {
    super(en);
  }
  /** What the token states, when it could be read that far. */
  time?: Date;
  tsa?: string;
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
}

export interface CheckedTimestamp {
  /** genTime: when the TSA saw the imprint. */
  time: Date;
  /** The TSA, by the subject of the token's signer certificate. */
  tsa: string;
}

/**
 * Verifies a TimeStampToken over `data` (the canonical bytes it must stamp) against TSA anchors:
 * what it says, or a TimestampError with the reason. `at` bounds the time it states from above.
 * Its signer's chain is checked at the time the token states, or at `chainAt` (an archive stamp
 * renewed later is checked at its renewal's time, the last of a chain now: RFC 4998 §5.3).
 */
export function verifyTimestampToken(token: Buffer, data: string | Buffer, trust: TsaTrust, at: Date, chainAt?: Date): Promise<CheckedTimestamp> {
  return checkToken(token, Buffer.from(data), trust, at, chainAt);
}

/**
 * When a token stops being checkable: the first expiry among its signer's certificate and the other
 * certificates it carries (its CAs). The token is not checked otherwise. When to renew it.
 */
export function timestampSignerExpiry(token: Buffer): Date {
  const { signed } = readToken(token);
  const sid = signed.signerInfos[0]?.sid;
  // the signer by issuer and serial number, or by subject key identifier ([0] IMPLICIT, RFC 5652 §5.3)
  const keyId = sid instanceof pkijs.IssuerAndSerialNumber ? null : Buffer.from((sid as asn1js.Primitive | undefined)?.valueBlock.valueHexView ?? []);
  const signer = (signed.certificates ?? []).find(
    (c): c is pkijs.Certificate =>
      c instanceof pkijs.Certificate &&
      (sid instanceof pkijs.IssuerAndSerialNumber
        ? c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber)
        : !!keyId?.length && !!c.extensions?.some((e) => e.extnID === "2.5.29.14" && Buffer.from((e.parsedValue as asn1js.OctetString).valueBlock.valueHexView).equals(keyId))),
  );
  if (!signer) return invalid("the time-stamp token does not carry its signer's certificate", "dấu thời gian không mang chứng thư số của đơn vị cấp");
  const carried = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  return new Date(Math.min(...carried.map((c) => c.notAfter.value.getTime())));
}

function readToken(token: Buffer): { signed: pkijs.SignedData; tst: pkijs.TSTInfo } {
  try {
    const info = pkijs.ContentInfo.fromBER(new Uint8Array(token));
    if (info.contentType !== SIGNED_DATA) throw new Error("not SignedData");
    const signed = new pkijs.SignedData({ schema: info.content });
    const eContent = signed.encapContentInfo.eContent;
    if (signed.encapContentInfo.eContentType !== TST_INFO || !eContent) throw new Error("not a TSTInfo");
    return { signed, tst: pkijs.TSTInfo.fromBER(eContent.getValue()) };
  } catch {
    return invalid("the time-stamp token cannot be read (not an RFC 3161 TimeStampToken)", "không đọc được dấu thời gian (không phải TimeStampToken theo RFC 3161)");
  }
}

async function checkToken(
  token: Buffer,
  data: Buffer,
  trust: TsaTrust | null,
  at: Date | null,
  chainAt?: Date,
): Promise<CheckedTimestamp> {
  const { signed, tst } = readToken(token);
  const stated: { tsa?: string } = {};
  try {
    return await checkTokenContent(signed, tst, data, trust, at, stated, chainAt);
  } catch (err) {
    if (err instanceof TimestampError) Object.assign(err, { time: tst.genTime, tsa: stated.tsa });
    throw err;
  }
}

async function checkTokenContent(
  signed: pkijs.SignedData,
  tst: pkijs.TSTInfo,
  data: Buffer,
  trust: TsaTrust | null,
  at: Date | null,
  stated: { tsa?: string },
  chainAt?: Date,
): Promise<CheckedTimestamp> {
  const hash = IMPRINT_OIDS[tst.messageImprint.hashAlgorithm.algorithmId];
  if (!hash) invalid(`the time-stamp's imprint uses the hash ${tst.messageImprint.hashAlgorithm.algorithmId} (SHA-256 or SHA-512 required)`, "dấu thời gian dùng thuật toán băm không được phép");
  if (!Buffer.from(tst.messageImprint.hashedMessage.valueBlock.valueHexView).equals(createHash(hash!).update(data).digest())) {
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
  if (signed.signerInfos.length !== 1) invalid("the time-stamp token must have exactly one signer", "dấu thời gian phải có đúng một người ký");
  const signerInfo = signed.signerInfos[0];
  if (!SIGNER_DIGESTS.has(signerInfo.digestAlgorithm.algorithmId)) {
    invalid(`the time-stamp is signed with the digest ${signerInfo.digestAlgorithm.algorithmId} (SHA-256, SHA-384 or SHA-512 required)`, "dấu thời gian được ký bằng thuật toán băm không được phép");
  }
  const pool = [...(signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate), ...(trust?.anchors ?? []).map(toPkijs)];
  let result: pkijs.SignedDataVerifyResult;
  try {
    result = await signed.verify({ signer: 0, data: new Uint8Array(data).buffer, checkChain: false, extendedMode: true, trustedCerts: pool });
  } catch (err) {
    const message = (err as { message?: string })?.message ?? String(err);
    return invalid(`the time-stamp's signature does not verify (${message})`, "chữ ký của dấu thời gian không hợp lệ");
  }
  if (!result.signatureVerified || !result.signerCertificate) invalid("the time-stamp's signature does not verify", "chữ ký của dấu thời gian không hợp lệ");
  const signer = certificateFromDer(Buffer.from(result.signerCertificate!.toSchema().toBER()));
  const tsa = signer.subject.replace(/\n/g, ", ");
  stated.tsa = tsa;
  // without anchors (packing with --tsa alone) the token is only checked to answer the request:
  // whether its signer may be trusted to time-stamp is the verifier's question (--tsa-trust)
  if (!trust) return { time, tsa };
  const intermediates = pool.map((c) => certificateFromDer(Buffer.from(c.toSchema().toBER())));
  const chain = validateChain({ leaf: signer, intermediates, anchors: trust.anchors, crls: trust.crls, at: chainAt ?? time, purpose: "timestamping" });
  if (!chain.ok) {
    throw new TimestampError(
      "TIMESTAMP_UNTRUSTED",
      `the time-stamping authority "${label(signer)}" is not trusted: ${chain.message}`,
      `đơn vị cấp dấu thời gian "${label(signer)}" không được tin cậy: ${chain.vi}`,
    );
  }
  return { time, tsa };
}

function toPkijs(cert: X509Certificate): pkijs.Certificate {
  return pkijs.Certificate.fromBER(new Uint8Array(cert.raw));
}
