// CMS SignedData (RFC 5652) as PDF signatures and RFC 3161 time-stamp tokens carry it: reading it
// with @peculiar/asn1-cms, then each check on purpose and in order, every signature with Node's
// crypto — integrity (messageDigest over the signed content), the signature value, algorithm
// constraints, the signing certificate (sid, signingCertificateV2/V1), the chain. The checks of
// a time-stamp token itself (imprint, TSTInfo, the TSA) are timestamp.ts's, for PDF and edXML alike.
import crypto, { type X509Certificate } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { ContentInfo, SignedData, type SignerInfo } from "@peculiar/asn1-cms";
import { certificateFromDer, fingerprint, label, parsed, readTlv, tlvChildren, x509 } from "./pki/certificates.ts";
import { validateChain } from "./pki/chain.ts";
import type { Crl } from "./pki/crl.ts";
import type { SubIndication } from "./report.ts";

/** The DSS words of the XML report, plus the one only PDF signatures need here. */
export type PdfSubIndication = SubIndication | "CRYPTO_CONSTRAINTS_FAILURE";

/** A failed check: its sub-indication and the sentence in English and Vietnamese. */
export interface Finding {
  subIndication: PdfSubIndication;
  en: string;
  vi: string;
}

export class PdfCheckFailure extends Error {
  constructor(readonly finding: Finding) {
    super(finding.en);
  }
}

export function stop(subIndication: PdfSubIndication, en: string, vi: string): never {
  throw new PdfCheckFailure({ subIndication, en, vi });
}

const OID = {
  signedData: "1.2.840.113549.1.7.2",
  data: "1.2.840.113549.1.7.1",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  signingCertificate: "1.2.840.113549.1.9.16.2.12",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  signatureTimeStamp: "1.2.840.113549.1.9.16.2.14",
};

/** Digest algorithms by OID, as Node names them. MD5 and SHA-1 are read but refused later. */
const DIGESTS: Record<string, string> = {
  "1.2.840.113549.2.5": "md5",
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};
const WEAK_DIGESTS = new Set(["md5", "sha1"]);

/** Signature algorithms: the hash they carry (null: the SignerInfo's digest algorithm) and the key kind. */
const SIGNATURES: Record<string, { hash: string | null; key: "rsa" | "rsa-pss" | "ec" }> = {
  "1.2.840.113549.1.1.1": { hash: null, key: "rsa" },
  "1.2.840.113549.1.1.4": { hash: "md5", key: "rsa" },
  "1.2.840.113549.1.1.5": { hash: "sha1", key: "rsa" },
  "1.2.840.113549.1.1.14": { hash: "sha224", key: "rsa" },
  "1.2.840.113549.1.1.11": { hash: "sha256", key: "rsa" },
  "1.2.840.113549.1.1.12": { hash: "sha384", key: "rsa" },
  "1.2.840.113549.1.1.13": { hash: "sha512", key: "rsa" },
  "1.2.840.113549.1.1.10": { hash: null, key: "rsa-pss" },
  "1.2.840.10045.2.1": { hash: null, key: "ec" },
  "1.2.840.10045.4.1": { hash: "sha1", key: "ec" },
  "1.2.840.10045.4.3.2": { hash: "sha256", key: "ec" },
  "1.2.840.10045.4.3.3": { hash: "sha384", key: "ec" },
  "1.2.840.10045.4.3.4": { hash: "sha512", key: "ec" },
};

export interface ParsedCms {
  signedData: SignedData;
  signerInfo: SignerInfo;
  certificates: X509Certificate[];
  /** The certificate the SignerInfo's sid names, when the CMS carries it. */
  signer: X509Certificate | null;
  digest: string;
  eContentType: string;
  eContent: Buffer | null;
  /** DER of the signed attributes as a SET (what the signature covers); null when there are none. */
  signedAttrsDer: Buffer | null;
}

const digestOf = (alg: string, data: Buffer | Buffer[]): Buffer => {
  const h = crypto.createHash(alg);
  for (const part of Array.isArray(data) ? data : [data]) h.update(part);
  return h.digest();
};

function format(en: string, vi: string): never {
  stop("FORMAT_FAILURE", en, vi);
}

/** Reads a CMS SignedData with one SignerInfo. `der` may carry the zero padding of a /Contents hole. */
export function parseCms(der: Buffer): ParsedCms {
  let signedData: SignedData;
  try {
    // BER (indefinite lengths) is allowed here: some signers write it; the parser reads one
    // element and the rest of the hole is the signer's zero padding.
    const ci = AsnConvert.parse(der, ContentInfo);
    if (ci.contentType !== OID.signedData) throw new Error("not SignedData");
    signedData = AsnConvert.parse(ci.content, SignedData);
  } catch (e) {
    format(`the signature value is not a CMS SignedData structure (${(e as Error).message})`, "giá trị chữ ký không phải cấu trúc CMS SignedData");
  }
  if (der[1] !== 0x80 && der.subarray(readTlv(der, 0).end).some((b) => b !== 0)) {
    format("bytes other than zero padding follow the CMS structure in /Contents", "sau cấu trúc CMS trong /Contents có dữ liệu không phải phần đệm 0");
  }
  if (signedData.signerInfos.length !== 1) {
    format(`a PDF signature must have exactly one SignerInfo (found ${signedData.signerInfos.length})`, "chữ ký PDF phải có đúng một SignerInfo");
  }
  const signerInfo = signedData.signerInfos[0]!;
  const digest = DIGESTS[signerInfo.digestAlgorithm.algorithm];
  if (!digest) format(`unknown digest algorithm ${signerInfo.digestAlgorithm.algorithm}`, `thuật toán băm không được hỗ trợ: ${signerInfo.digestAlgorithm.algorithm}`);
  const certificates: X509Certificate[] = [];
  for (const choice of signedData.certificates ?? []) {
    if (!choice.certificate) continue;
    try {
      certificates.push(certificateFromDer(Buffer.from(AsnConvert.serialize(choice.certificate))));
    } catch {
      // an unreadable extra certificate only matters if it is the signer's: then none is found
    }
  }
  const e = signedData.encapContentInfo;
  const eContent = e.eContent ? Buffer.from(e.eContent.single ? e.eContent.single.buffer : e.eContent.any!) : null;
  return {
    signedData,
    signerInfo,
    certificates,
    signer: findSigner(signerInfo, certificates),
    digest,
    eContentType: e.eContentType,
    eContent,
    signedAttrsDer: signedAttributesDer(signerInfo),
  };
}

/** Signed attributes are signed in their DER SET form (RFC 5652 §5.4): the [0] field, re-tagged. */
function signedAttributesDer(si: SignerInfo): Buffer | null {
  if (!si.signedAttrs) return null;
  const der = Buffer.from(AsnConvert.serialize(si));
  const field = tlvChildren(der, readTlv(der, 0)).find((t) => t.tag === 0xa0)!;
  const out = Buffer.from(der.subarray(field.start, field.end));
  out[0] = 0x31;
  return out;
}

function findSigner(si: SignerInfo, certs: X509Certificate[]): X509Certificate | null {
  const { issuerAndSerialNumber: ias, subjectKeyIdentifier: ski } = si.sid;
  if (ias) {
    const serial = Buffer.from(ias.serialNumber).toString("hex").replace(/^0+(?=.)/, "");
    const issuer = Buffer.from(AsnConvert.serialize(ias.issuer));
    return (
      certs.find((c) => {
        const p = parsed(c);
        return p.serialNumber.toLowerCase().replace(/^0+(?=.)/, "") === serial && Buffer.from(p.issuerName.toArrayBuffer()).equals(issuer);
      }) ?? null
    );
  }
  if (ski) {
    const want = Buffer.from(ski.buffer).toString("hex");
    return certs.find((c) => parsed(c).getExtension(x509().SubjectKeyIdentifierExtension)?.keyId === want) ?? null;
  }
  return null;
}

/** The values of one signed attribute (raw DER of each value); [] when absent. */
function attribute(cms: ParsedCms, oid: string): Buffer[] {
  return (cms.signerInfo.signedAttrs ?? []).filter((a) => a.attrType === oid).flatMap((a) => a.attrValues.map((v) => Buffer.from(v)));
}

function single(cms: ParsedCms, oid: string, name: string): Buffer | null {
  const values = attribute(cms, oid);
  const count = (cms.signerInfo.signedAttrs ?? []).filter((a) => a.attrType === oid).length;
  if (count > 1 || values.length > 1) format(`the signed attribute ${name} appears more than once`, `thuộc tính đã ký ${name} xuất hiện nhiều lần`);
  return values[0] ?? null;
}

const octets = (der: Buffer): Buffer => {
  const t = readTlv(der, 0);
  if (t.tag !== 0x04) throw new Error("not an OCTET STRING");
  return der.subarray(t.contentStart, t.end);
};

/** ASN.1 UTCTime / GeneralizedTime (DER value with its tag) as a Date. */
function asn1Time(der: Buffer): Date {
  const t = readTlv(der, 0);
  const s = der.subarray(t.contentStart, t.end).toString("latin1");
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(\.\d+)?Z$/.exec(s);
  if (!m || (t.tag !== 0x17 && t.tag !== 0x18)) throw new Error(`unreadable time ${s}`);
  let year = Number(m[1]);
  if (m[1]!.length === 2) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), Math.round(Number(m[7] ?? 0) * 1000)));
}

/** The CMS signing-time attribute, if any (a claim of the signer, not a proof). */
export function signingTimeOf(cms: ParsedCms): Date | null {
  const v = attribute(cms, OID.signingTime)[0];
  try {
    return v ? asn1Time(v) : null;
  } catch {
    return null;
  }
}

/** The signature time-stamp token (unsigned attribute, RFC 3161 TimeStampToken DER), if any. */
export function signatureTimeStampOf(cms: ParsedCms): Buffer | null {
  const attr = (cms.signerInfo.unsignedAttrs ?? []).find((a) => a.attrType === OID.signatureTimeStamp);
  return attr?.attrValues[0] ? Buffer.from(attr.attrValues[0]) : null;
}

/** The signature value octets (what a signature time-stamp's imprint covers). */
export const signatureValueOf = (cms: ParsedCms): Buffer => Buffer.from(cms.signerInfo.signature.buffer);

/**
 * Integrity and the signature value: the signed content's digest against messageDigest (or the
 * content itself when there are no signed attributes), then the signature with the signer's key.
 * `content` is what the CMS covers: the PDF's signed byte ranges for a detached signature, the
 * encapsulated content otherwise.
 */
export function checkIntegrityAndSignature(cms: ParsedCms, content: Buffer | Buffer[]): void {
  let signedBytes: Buffer | Buffer[];
  if (cms.signedAttrsDer) {
    const ct = single(cms, OID.contentType, "content-type");
    const md = single(cms, OID.messageDigest, "message-digest");
    if (!md) format("the signed attributes hold no message-digest", "thuộc tính đã ký thiếu message-digest");
    if (ct && oidText(ct) !== cms.eContentType) {
      format("the signed content-type attribute does not match the content", "thuộc tính content-type đã ký không khớp với nội dung");
    }
    let digest: Buffer;
    try {
      digest = octets(md);
    } catch {
      format("the message-digest attribute is not an OCTET STRING", "thuộc tính message-digest không đúng định dạng");
    }
    if (!digestOf(cms.digest, content).equals(digest)) {
      stop("HASH_FAILURE", "the signed data does not match the digest in the signature: the document was changed", "dữ liệu đã ký không khớp giá trị băm trong chữ ký: tài liệu đã bị thay đổi");
    }
    signedBytes = cms.signedAttrsDer;
  } else {
    signedBytes = content;
  }
  const signer = cms.signer;
  if (!signer) {
    stop("NO_SIGNING_CERTIFICATE_FOUND", "the signature does not carry the certificate of its signer", "chữ ký không kèm chứng thư số của người ký");
  }
  if (!signatureOk(cms, signer, Buffer.concat(Array.isArray(signedBytes) ? signedBytes : [signedBytes]))) {
    stop("SIG_CRYPTO_FAILURE", "the signature value does not verify with the signer's certificate", "giá trị chữ ký không khớp với chứng thư số của người ký");
  }
}

function signatureOk(cms: ParsedCms, signer: X509Certificate, data: Buffer): boolean {
  const alg = SIGNATURES[cms.signerInfo.signatureAlgorithm.algorithm];
  if (!alg) return false;
  const signature = signatureValueOf(cms);
  try {
    if (alg.key === "rsa-pss") {
      const { hash, saltLength } = pssParams(cms);
      return crypto.verify(hash, data, { key: signer.publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    }
    if ((alg.key === "ec") !== (signer.publicKey.asymmetricKeyType === "ec")) return false;
    return crypto.verify(alg.hash ?? cms.digest, data, signer.publicKey, signature);
  } catch {
    return false;
  }
}

/** RSASSA-PSS parameters (RFC 4055): hash and salt length; defaults SHA-1 / 20. */
function pssParams(cms: ParsedCms): { hash: string; saltLength: number } {
  const params = cms.signerInfo.signatureAlgorithm.parameters;
  let hash = "sha1";
  let saltLength = 20;
  if (params) {
    const der = Buffer.from(params);
    for (const field of tlvChildren(der, readTlv(der, 0))) {
      const inner = readTlv(der, field.contentStart);
      if (field.tag === 0xa0) {
        const oidTlv = readTlv(der, inner.contentStart);
        hash = DIGESTS[oidText(der.subarray(oidTlv.start, oidTlv.end))] ?? "unknown";
      } else if (field.tag === 0xa2) {
        saltLength = der.subarray(inner.contentStart, inner.end).reduce((n, b) => n * 256 + b, 0);
      }
    }
  }
  return { hash, saltLength };
}

/** An OBJECT IDENTIFIER (DER, with its tag) in dotted form; "" when it is not one. */
function oidText(der: Buffer): string {
  const t = readTlv(der, 0);
  if (t.tag !== 0x06 || t.end === t.contentStart) return "";
  const arcs: number[] = [];
  let n = 0;
  for (let i = t.contentStart; i < t.end; i++) {
    n = n * 128 + (der[i]! & 0x7f);
    if (!(der[i]! & 0x80)) {
      arcs.push(n);
      n = 0;
    }
  }
  const first = arcs.shift()!;
  return [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80, ...arcs].join(".");
}

/** Algorithm constraints of the profile: no MD5/SHA-1, RSA ≥ 2048 bits, EC ≥ 256 bits. */
export function checkAlgorithms(cms: ParsedCms, what: { en: string; vi: string }): void {
  const sig = SIGNATURES[cms.signerInfo.signatureAlgorithm.algorithm];
  const hashes = [cms.digest, sig?.key === "rsa-pss" ? pssParams(cms).hash : (sig?.hash ?? cms.digest)];
  const weak = hashes.find((h) => WEAK_DIGESTS.has(h));
  if (weak) {
    stop(
      "CRYPTO_CONSTRAINTS_FAILURE",
      `${what.en} uses ${weak === "sha1" ? "SHA-1" : "MD5"}, which is no longer allowed`,
      `${what.vi} dùng thuật toán băm ${weak === "sha1" ? "SHA-1" : "MD5"}, không còn được chấp nhận`,
    );
  }
  const key = cms.signer!.publicKey;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss") {
    if (bits < 2048) {
      stop("CRYPTO_CONSTRAINTS_FAILURE", `${what.en} uses an RSA key of ${bits} bits (at least 2048 required)`, `${what.vi} dùng khóa RSA ${bits} bit (tối thiểu 2048 bit)`);
    }
  } else if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? "";
    if (!["prime256v1", "secp384r1", "secp521r1"].includes(curve)) {
      stop("CRYPTO_CONSTRAINTS_FAILURE", `${what.en} uses the elliptic curve ${curve}, which is not allowed`, `${what.vi} dùng đường cong elliptic ${curve}, không được chấp nhận`);
    }
  } else {
    stop("CRYPTO_CONSTRAINTS_FAILURE", `${what.en} uses an unsupported key type`, `${what.vi} dùng loại khóa không được hỗ trợ`);
  }
}

/**
 * signingCertificateV2 (RFC 5035) or signingCertificate (RFC 2634), when present: the first
 * ESSCertID must name the certificate that verified the signature (its digest, and its issuer
 * serial when given). Without it a signer could swap in another certificate for the same key.
 */
export function checkSigningCertificateAttribute(cms: ParsedCms): void {
  const v2 = single(cms, OID.signingCertificateV2, "signingCertificateV2");
  const v1 = v2 ? null : single(cms, OID.signingCertificate, "signingCertificate");
  const value = v2 ?? v1;
  if (!value) return;
  const signer = cms.signer!;
  let hash = v2 ? "sha256" : "sha1";
  let certHash: Buffer;
  let serial: string | null = null;
  try {
    const seq = readTlv(value, 0);
    const certs = tlvChildren(value, seq)[0]!;
    const first = tlvChildren(value, certs)[0]!;
    const parts = tlvChildren(value, first);
    let i = 0;
    if (v2 && parts[0]!.tag === 0x30) {
      const oidTlv = readTlv(value, parts[0]!.contentStart);
      hash = DIGESTS[oidText(value.subarray(oidTlv.start, oidTlv.end))] ?? "unknown";
      i = 1;
    }
    const h = parts[i]!;
    certHash = value.subarray(h.contentStart, h.end);
    const issuerSerial = parts[i + 1];
    if (issuerSerial) {
      const s = tlvChildren(value, issuerSerial)[1]!;
      serial = value.subarray(s.contentStart, s.end).toString("hex").replace(/^0+(?=.)/, "");
    }
  } catch {
    format("the signingCertificateV2 attribute cannot be read", "không đọc được thuộc tính signingCertificateV2");
  }
  const name = v2 ? "signingCertificateV2" : "signingCertificate";
  const serialOk = serial === null || serial === parsed(signer).serialNumber.toLowerCase().replace(/^0+(?=.)/, "");
  if (hash === "unknown" || !digestOf(hash, signer.raw).equals(certHash) || !serialOk) {
    stop(
      "NO_SIGNING_CERTIFICATE_FOUND",
      `the signed ${name} attribute does not name the certificate "${label(signer)}" that made the signature`,
      `thuộc tính đã ký ${name} không nêu đúng chứng thư số "${label(signer)}" đã tạo chữ ký`,
    );
  }
}

export interface TrustInput {
  anchors: X509Certificate[];
  crls: Crl[];
  /** Certificates found in the PDF (DSS dictionary, CMS sets): only used to build paths. */
  pool: X509Certificate[];
}

/** The chain of a document signer's certificate to the anchors at `at`. */
export function checkChain(leaf: X509Certificate, pool: X509Certificate[], trust: TrustInput, at: Date): string[] {
  const r = validateChain({
    leaf,
    intermediates: pool.filter((c) => fingerprint(c) !== fingerprint(leaf)),
    anchors: trust.anchors,
    crls: trust.crls,
    at,
    purpose: "documents",
  });
  if (r.ok) return r.warnings;
  stop(r.subIndication, r.message, r.vi);
}

export { digestOf };
