// Certificates as the rest of signing/ reads them: parsing (PEM bundles, DER), the SHA-256
// fingerprint, names for messages, serial numbers, and the few byte-exact DER slices that must not
// go through a re-encoding parser. Facts that depend only on a certificate's bytes are remembered.
//
// Division of labour (see shared/reference/xmldsig-security.md section 6):
// - node-forge builds certificates and decrypts legacy PKCS#12 (it is good at encoding, and Node
//   has no PKCS#12 API), but never decides trust: its JS RSA verifier has had forgery bugs.
// - every signature that matters (certificate links, CRLs) is checked by Node's crypto (OpenSSL).
// - @peculiar/x509 parses extensions (basicConstraints, keyUsage) and CRLs; @peculiar/asn1-pfx
//   reads the PKCS#12 structure.
import crypto, { X509Certificate } from "node:crypto";
import { createRequire } from "node:module";
import type * as X509 from "@peculiar/x509";

/**
 * @peculiar/x509, loaded the first time it is needed (CRLs, issuing certificates): it and what it
 * loads are half the start-up of `edoc verify`, which reads what it needs of a certificate itself
 * (certificateFacts).
 */
export function x509(): typeof X509 {
  const require = createRequire(import.meta.url);
  // @peculiar/x509 (through tsyringe) needs the Reflect metadata polyfill loaded before it.
  require("reflect-metadata");
  return require("@peculiar/x509") as typeof X509;
}

/** node-forge works on "binary strings" (one char per byte). */
export const bin = (buf: Buffer | Uint8Array): string => Buffer.from(buf).toString("binary");
export const fromBin = (s: string): Buffer => Buffer.from(s, "binary");

const fingerprints = new WeakMap<X509Certificate, string>();

/** SHA-256 of the DER, lowercase hex, no colons (remembered per certificate object). */
export function fingerprint(cert: X509Certificate): string {
  let fp = fingerprints.get(cert);
  if (!fp) fingerprints.set(cert, (fp = crypto.createHash("sha256").update(cert.raw).digest("hex")));
  return fp;
}

/** Serial numbers come as "00AB..", "ab..", "0x.."; compare them as numbers. */
export function normSerial(hex: string): string {
  const h = hex.toLowerCase().replace(/^0x/, "").replace(/[^0-9a-f]/g, "");
  return h.replace(/^0+(?=.)/, "") || "0";
}

/** DER INTEGER content for a positive serial: even length, leading 00 when the top bit is set. */
export function serialForDer(hex: string): string {
  let h = normSerial(hex);
  if (h.length % 2) h = "0" + h;
  if (parseInt(h[0]!, 16) >= 8) h = "00" + h;
  return h;
}

/**
 * Facts that depend only on a certificate's exact bytes (its decoded extensions, whether one
 * certificate's key signed another) are remembered by SHA-256 fingerprint: every packet from an
 * agency carries the same chain, and re-decoding it dominated verification time.
 */
export function memo<T>(limit: number): (key: string, compute: () => T) => T {
  const cache = new Map<string, T>();
  return (key, compute) => {
    let value = cache.get(key);
    if (value === undefined) {
      if (cache.size >= limit) cache.clear();
      value = compute();
      cache.set(key, value);
    }
    return value;
  };
}
const parsedMemo = memo<X509.X509Certificate>(4096);
const certificateMemo = memo<X509Certificate>(4096);

/**
 * A certificate from its DER bytes, exactly (nothing after it); parsed once per distinct certificate.
 * Throws unless every part later checks read can be read: Node parses a certificate whose key
 * OpenSSL cannot decode (one bit flipped in the modulus' length), and that error would surface far
 * from here.
 */
export function certificateFromDer(der: Buffer): X509Certificate {
  return certificateMemo(crypto.createHash("sha256").update(der).digest("hex"), () => {
    const cert = new X509Certificate(der);
    // OpenSSL ignores bytes after the certificate: two encodings would name one certificate
    if (!cert.raw.equals(der)) throw new Error("bytes after the certificate");
    if (!cert.publicKey.asymmetricKeyType) throw new Error("the certificate's public key cannot be read");
    certificateFacts(cert);
    return cert;
  });
}

/** @peculiar/x509 view of a certificate, for decoded names (CRL issuers) and issuing. */
export function parsed(cert: X509Certificate): X509.X509Certificate {
  return parsedMemo(fingerprint(cert), () => new (x509().X509Certificate)(new Uint8Array(cert.raw)));
}

/** What the trust decision reads of a certificate, from its DER (RFC 5280 §4.1). */
export interface CertificateFacts {
  notBefore: Date;
  notAfter: Date;
  /** The DER of the issuer and subject Names, hex: equal bytes, equal names. */
  issuerDer: string;
  subjectDer: string;
  /** The subject's first commonName, if any. */
  commonName: string | undefined;
  extensions: { oid: string; critical: boolean; value: Buffer }[];
}

const factsMemo = memo<CertificateFacts>(4096);

/** The certificate's validity, names and extensions, read from its DER; throws on a malformed one. */
export function certificateFacts(cert: X509Certificate): CertificateFacts {
  return factsMemo(fingerprint(cert), () => {
    const der = cert.raw;
    const tbs = tlvChildren(der, readTlv(der, 0))[0]!;
    const kids = tlvChildren(der, tbs);
    const base = kids[0]!.tag === 0xa0 ? 1 : 0; // optional [0] version
    const [, , issuer, validity, subject] = kids.slice(base);
    if (!issuer || !validity || !subject || validity.tag !== 0x30) throw new Error("malformed TBSCertificate");
    const [from, to] = tlvChildren(der, validity);
    const extensions: CertificateFacts["extensions"] = [];
    const wrapper = kids.find((k) => k.tag === 0xa3);
    for (const ext of wrapper ? tlvChildren(der, tlvChildren(der, wrapper)[0]!) : []) {
      const parts = tlvChildren(der, ext);
      const critical = parts.length === 3 && parts[1]!.tag === 0x01 && der[parts[1]!.contentStart] !== 0;
      const value = parts[parts.length - 1]!;
      if (parts[0]!.tag !== 0x06 || value.tag !== 0x04) throw new Error("malformed extension");
      extensions.push({ oid: oid(der.subarray(parts[0]!.contentStart, parts[0]!.end)), critical, value: der.subarray(value.contentStart, value.end) });
    }
    return {
      notBefore: derTime(der, from!),
      notAfter: derTime(der, to!),
      issuerDer: der.toString("hex", issuer.start, issuer.end),
      subjectDer: der.toString("hex", subject.start, subject.end),
      commonName: commonName(der, subject),
      extensions,
    };
  });
}

/** An OBJECT IDENTIFIER's dotted form. */
export function oid(content: Buffer): string {
  const arcs: number[] = [];
  let n = 0;
  for (const b of content) {
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (!arcs.length) arcs.push(n < 80 ? Math.floor(n / 40) : 2, n < 80 ? n % 40 : n - 80);
      else arcs.push(n);
      n = 0;
    }
  }
  return arcs.join(".");
}

/**
 * UTCTime (YYMMDDHHMMSSZ, RFC 5280: 50–99 are 19xx) or GeneralizedTime (YYYYMMDDHHMMSSZ), read as
 * leniently as @peculiar/x509 reads them (minutes and seconds optional, fractions ignored): some
 * issuers (node-forge for the year 1) write a GeneralizedTime short.
 */
function derTime(der: Buffer, t: Tlv): Date {
  const text = der.toString("latin1", t.contentStart, t.end);
  const m =
    t.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text)
      : t.tag === 0x18
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:\.\d+)?Z$/.exec(text)
        : null;
  if (!m) throw new Error(`malformed certificate validity time "${text}"`);
  const year = t.tag === 0x17 ? (Number(m[1]) >= 50 ? 1900 : 2000) + Number(m[1]) : Number(m[1]);
  const date = new Date(0);
  date.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  date.setUTCHours(Number(m[4]), Number(m[5] ?? 0), Number(m[6] ?? 0));
  return date;
}

/** The first commonName (2.5.4.3) of a Name. */
function commonName(der: Buffer, name: Tlv): string | undefined {
  for (const rdn of tlvChildren(der, name)) {
    for (const atv of tlvChildren(der, rdn)) {
      const [type, value] = tlvChildren(der, atv);
      if (!type || !value || oid(der.subarray(type.contentStart, type.end)) !== "2.5.4.3") continue;
      const bytes = der.subarray(value.contentStart, value.end);
      // BMPString is UTF-16 big-endian; TeletexString is read as Latin-1, as OpenSSL does
      if (value.tag === 0x1e) return Buffer.from(bytes).swap16().toString("utf16le");
      return bytes.toString(value.tag === 0x14 ? "latin1" : "utf8");
    }
  }
  return undefined;
}

/** A short human name for messages: the CN, else the whole subject. */
export function label(cert: X509Certificate): string {
  return certificateFacts(cert).commonName ?? cert.subject.replace(/\n/g, ", ");
}

// Minimal DER walking: used to take byte-exact slices (signed TBS parts, names) that re-encoding
// through a parser could alter.
interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

export function readTlv(buf: Buffer, off: number): Tlv {
  if (off + 2 > buf.length) throw new Error("truncated DER");
  const tag = buf[off]!;
  let len = buf[off + 1]!;
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4) throw new Error("unsupported DER length");
    len = 0;
    for (let i = 0; i < n; i++) {
      if (p >= buf.length) throw new Error("truncated DER");
      len = len * 256 + buf[p++]!;
    }
  }
  const end = p + len;
  if (end > buf.length) throw new Error("truncated DER");
  return { tag, start: off, contentStart: p, end };
}

export function tlvChildren(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.contentStart; p < parent.end; ) {
    const c = readTlv(buf, p);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** The DER of a certificate's subject Name, byte for byte. */
export function subjectNameDer(cert: X509Certificate): Buffer {
  const der = cert.raw;
  const tbs = tlvChildren(der, readTlv(der, 0))[0]!;
  const kids = tlvChildren(der, tbs);
  const base = kids[0]!.tag === 0xa0 ? 1 : 0; // optional [0] version
  const subj = kids[base + 4]!;
  return der.subarray(subj.start, subj.end);
}

/** All certificates of a PEM bundle, or the single certificate of a DER buffer. */
export function parseCertificates(pem: string | Buffer): X509Certificate[] {
  const text = typeof pem === "string" ? pem : pem.includes("-----BEGIN") ? pem.toString("latin1") : null;
  if (text === null) {
    try {
      return [new X509Certificate(pem as Buffer)];
    } catch (e) {
      throw new Error("not a DER certificate: " + (e as Error).message, { cause: e });
    }
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error("no PEM certificate (-----BEGIN CERTIFICATE-----) found");
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new Error(`PEM certificate #${i + 1} cannot be read: ${(e as Error).message}`, { cause: e });
    }
  });
}

