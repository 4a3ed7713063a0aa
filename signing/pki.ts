// Keys, certificates, CRLs and the certificate trust decision.
//
// Division of labour (see shared/reference/xmldsig-security.md section 6):
// - node-forge builds certificates and reads/writes PKCS#12 (it is good at encoding, and Node has no
//   PKCS#12 API), but never decides trust: its JS RSA verifier has had forgery bugs.
// - every signature that matters (certificate links, CRLs) is checked by Node's crypto (OpenSSL).
// - @peculiar/x509 parses extensions (basicConstraints, keyUsage) and CRLs.

import crypto, { X509Certificate, type KeyObject } from "node:crypto";
import forge from "node-forge";
// @peculiar/x509 (through tsyringe) needs the Reflect metadata polyfill loaded before it.
import "reflect-metadata";
import * as px from "@peculiar/x509";
import type * as X509 from "@peculiar/x509";
import type { SubIndication } from "./report.ts";

// ---------------------------------------------------------------------------------------------
// Types

export interface CertAndKey {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

export interface Identity extends CertAndKey {
  /** Other certificates that came with the leaf (intermediates, possibly the root), leaf excluded,
   *  ordered leaf-issuer first when they chain. */
  chain: X509Certificate[];
}

export type KeyUsageName =
  | "digitalSignature"
  | "nonRepudiation"
  | "keyCertSign"
  | "cRLSign"
  | "keyEncipherment";

export interface SubjectFields {
  CN: string;
  O?: string;
  OU?: string;
  C?: string;
  serialNumber?: string;
}

export interface IssueOptions {
  subject: SubjectFields;
  /** Absent = self-signed. */
  issuer?: CertAndKey;
  /** Default: now - 1 hour. */
  notBefore?: Date;
  /** Default: now + 2 years. */
  notAfter?: Date;
  ca?: boolean;
  pathLen?: number;
  /** Default: CA [keyCertSign, cRLSign], leaf [digitalSignature, nonRepudiation]. */
  keyUsage?: KeyUsageName[];
  /** Default true; false omits the basicConstraints extension altogether. */
  basicConstraints?: boolean;
  /** RSA only (node-forge encodes the subject key). Default: a fresh RSA-2048 key. */
  keyPair?: { privateKey: KeyObject; publicKey: KeyObject };
  /** Hex. Default: random positive 128-bit. */
  serial?: string;
}

export interface CrlEntry {
  /** Lowercase hex without leading zeros. */
  serialNumber: string;
  revocationDate: Date;
}

export interface Crl {
  /** Issuer DN as text, e.g. "CN=Root, O=Org". */
  issuer: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  revoked: CrlEntry[];
  der: Buffer;
  parsed: X509.X509Crl;
}

export interface ValidateChainOptions {
  leaf: X509Certificate;
  /** Untrusted pool (e.g. from KeyInfo or configuration); only used to build the path. */
  intermediates: X509Certificate[];
  anchors: X509Certificate[];
  crls: Crl[];
  at: Date;
}

export type ChainResult =
  | { ok: true; path: X509Certificate[]; warnings: string[] }
  | { ok: false; subIndication: SubIndication; message: string; vi: string };

// ---------------------------------------------------------------------------------------------
// Small helpers

const bin = (buf: Buffer | Uint8Array): string => Buffer.from(buf).toString("binary");
const fromBin = (s: string): Buffer => Buffer.from(s, "binary");

/** SHA-256 of the DER, lowercase hex, no colons. */
export function fingerprint(cert: X509Certificate): string {
  return crypto.createHash("sha256").update(cert.raw).digest("hex");
}

/** Serial numbers come as "00AB..", "ab..", "0x.."; compare them as numbers. */
function normSerial(hex: string): string {
  const h = hex.toLowerCase().replace(/^0x/, "").replace(/[^0-9a-f]/g, "");
  return h.replace(/^0+(?=.)/, "") || "0";
}

/** DER INTEGER content for a positive serial: even length, leading 00 when the top bit is set. */
function serialForDer(hex: string): string {
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
function memo<T>(limit: number): (key: string, compute: () => T) => T {
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
const issuedMemo = memo<boolean>(16384);

const certificateMemo = memo<X509Certificate>(4096);

/** A certificate from its DER bytes; parsed once per distinct certificate. */
export function certificateFromDer(der: Buffer): X509Certificate {
  return certificateMemo(crypto.createHash("sha256").update(der).digest("hex"), () => new X509Certificate(der));
}

/** @peculiar/x509 view of a certificate, for extensions and decoded names. */
function parsed(cert: X509Certificate): X509.X509Certificate {
  return parsedMemo(fingerprint(cert), () => new px.X509Certificate(new Uint8Array(cert.raw)));
}

/** A short human name for messages: the CN, else the whole subject. */
function label(cert: X509Certificate): string {
  const p = parsed(cert);
  return p.subjectName.getField("CN")[0] ?? p.subject;
}

function nameKey(name: X509.Name): string {
  return name.toString().toLowerCase().replace(/\s+/g, " ").trim();
}

const day = (d: Date): string => d.toISOString().slice(0, 10);
const stamp = (d: Date): string => d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");

// Minimal DER walking: used to take byte-exact slices (signed TBS parts, names) that re-encoding
// through a parser could alter.
interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(buf: Buffer, off: number): Tlv {
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

function tlvChildren(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.contentStart; p < parent.end; ) {
    const c = readTlv(buf, p);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** The DER of a certificate's subject Name, byte for byte. */
function subjectNameDer(cert: X509Certificate): Buffer {
  const der = cert.raw;
  const tbs = tlvChildren(der, readTlv(der, 0))[0]!;
  const kids = tlvChildren(der, tbs);
  const base = kids[0]!.tag === 0xa0 ? 1 : 0; // optional [0] version
  const subj = kids[base + 4]!;
  return der.subarray(subj.start, subj.end);
}

// ---------------------------------------------------------------------------------------------
// Parsing certificates

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

/** Puts the leaf's issuer first, then its issuer, …; unrelated certificates go last. */
function orderChain(leaf: X509Certificate, others: X509Certificate[]): X509Certificate[] {
  const seen = new Set([fingerprint(leaf)]);
  const rest = others.filter((c) => !seen.has(fingerprint(c)) && seen.add(fingerprint(c)));
  const out: X509Certificate[] = [];
  for (let cur = leaf; cur.subject !== cur.issuer; ) {
    const i = rest.findIndex((c) => cur.checkIssued(c) && cur.verify(c.publicKey));
    if (i < 0) break;
    cur = rest.splice(i, 1)[0]!;
    out.push(cur);
  }
  return [...out, ...rest];
}

function identityFrom(keys: KeyObject[], certs: X509Certificate[], what: string): Identity {
  if (keys.length === 0) throw new Error(`${what} holds no private key`);
  if (certs.length === 0) throw new Error(`${what} holds no certificate`);
  for (const privateKey of keys) {
    const leaf = certs.find((c) => c.checkPrivateKey(privateKey));
    if (leaf) return { privateKey, certificate: leaf, chain: orderChain(leaf, certs) };
  }
  throw new Error(`${what}: no certificate matches the private key`);
}

// ---------------------------------------------------------------------------------------------
// PKCS#12

const WRONG_P12 = "wrong password for the PKCS#12 file or the file is damaged";
const P12_ITERATIONS = 2048; // OpenSSL 3 default; forge writes the count as a 16-bit INTEGER (< 32768)

const MAC_DIGESTS: Record<string, { forge: () => forge.md.MessageDigest; node: string; len: number }> = {
  [forge.pki.oids.sha1!]: { forge: () => forge.md.sha1.create(), node: "sha1", len: 20 },
  [forge.pki.oids.sha256!]: { forge: () => forge.md.sha256.create(), node: "sha256", len: 32 },
  [forge.pki.oids.sha384!]: { forge: () => forge.md.sha384.create(), node: "sha384", len: 48 },
  [forge.pki.oids.sha512!]: { forge: () => forge.md.sha512.create(), node: "sha512", len: 64 },
};

/** PKCS#12 MAC (RFC 7292 appendix B key derivation; the password is used as BMPString). */
function p12Mac(data: string, password: string, salt: string, iterations: number, oid: string): Buffer {
  const d = MAC_DIGESTS[oid];
  if (!d) throw new Error("unsupported PKCS#12 MAC algorithm " + oid);
  const key = forge.pkcs12.generateKey(password, forge.util.createBuffer(salt), 3, iterations, d.len, d.forge());
  return crypto.createHmac(d.node, fromBin(key.getBytes())).update(fromBin(data)).digest();
}

type A = forge.asn1.Asn1;
const kids = (a: A): A[] => (Array.isArray(a.value) ? (a.value as A[]) : []);
const octets = (a: A): string => (Array.isArray(a.value) ? kids(a).map(octets).join("") : (a.value as string));

/** Checks the PFX MacData ourselves: "absent" when the file has none. */
function checkP12Mac(pfx: A, password: string): "ok" | "bad" | "absent" {
  const [, authSafe, macData] = kids(pfx);
  if (!macData) return "absent";
  const data = octets(kids(kids(authSafe!)[1]!)[0]!);
  const [digestInfo, salt, iter] = kids(macData);
  const [algId, digest] = kids(digestInfo!);
  const oid = forge.asn1.derToOid(kids(algId!)[0]!.value as string);
  const iterations = iter ? parseInt(forge.util.bytesToHex(iter.value as string), 16) : 1;
  if (!(iterations >= 1)) return "bad";
  const mac = p12Mac(data, password, octets(salt!), iterations, oid);
  const want = fromBin(octets(digest!));
  return mac.length === want.length && crypto.timingSafeEqual(mac, want) ? "ok" : "bad";
}

function decodeP12(p12: Buffer, password: string): forge.pkcs12.Pkcs12Pfx {
  const parse = () => forge.asn1.fromDer(bin(p12));
  try {
    return forge.pkcs12.pkcs12FromAsn1(parse(), true, password);
  } catch (first) {
    // node-forge passes the password to PBKDF2 (PBES2, the OpenSSL 3 default) as a "binary string",
    // i.e. only the low byte of each character, while OpenSSL uses the UTF-8 bytes. The MAC and
    // the legacy PKCS#12 PBE need the Unicode string (BMPString). So for a non-ASCII password:
    // check the MAC ourselves with the Unicode string, then decrypt with the UTF-8 bytes.
    if (/^[\x00-\x7f]*$/.test(password)) throw new Error(WRONG_P12, { cause: first });
    try {
      const pfx = parse();
      if (checkP12Mac(pfx, password) === "bad") throw first;
      pfx.value = kids(pfx).slice(0, 2); // MAC verified above
      return forge.pkcs12.pkcs12FromAsn1(pfx, true, forge.util.encodeUtf8(password));
    } catch (second) {
      throw new Error(WRONG_P12, { cause: second });
    }
  }
}

/** Reads a .p12/.pfx: OpenSSL 3 default (PBES2/AES-256, SHA-256 MAC) and legacy (3DES/RC2-40, SHA-1 MAC). */
export function loadIdentityP12(p12: Buffer, password: string): Identity {
  const pfx = decodeP12(p12, password);
  const keys: KeyObject[] = [];
  const certs: X509Certificate[] = [];
  for (const bag of pfx.safeContents.flatMap((s) => s.safeBags)) {
    if (bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) {
      // forge only understands RSA keys; other key types come back as raw PrivateKeyInfo ASN.1.
      const info = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : bag.asn1;
      const der = fromBin(forge.asn1.toDer(info).getBytes());
      keys.push(crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
    } else if (bag.type === forge.pki.oids.certBag) {
      const a = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
      certs.push(new X509Certificate(fromBin(forge.asn1.toDer(a).getBytes())));
    }
  }
  return identityFrom(keys, certs, "the PKCS#12 file");
}

/** Private key PEM (PKCS#8 or PKCS#1, unencrypted) + certificate PEM (leaf, optionally intermediates). */
export function loadIdentityPem(keyPem: string, certsPem: string): Identity {
  return identityFrom([crypto.createPrivateKey(keyPem)], parseCertificates(certsPem), "the PEM files");
}

/** Exports an RSA identity as PKCS#12, readable by OpenSSL 3 and Windows.
 *  Default: key PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) + HMAC-SHA256 MAC.
 *  legacy: key pbeWithSHAAnd3-KeyTripleDES-CBC + HMAC-SHA1 MAC (for old importers).
 *  Certificates are stored unencrypted (they are public). */
export function identityToP12(id: Identity, password: string, opts: { legacy?: boolean } = {}): Buffer {
  if (id.privateKey.asymmetricKeyType !== "rsa") throw new Error("PKCS#12 export supports RSA keys only");
  const key = forge.pki.privateKeyFromPem(id.privateKey.export({ type: "pkcs1", format: "pem" }) as string);
  const certs = [id.certificate, ...id.chain].map((c) => forge.pki.certificateFromAsn1(forge.asn1.fromDer(bin(c.raw))));
  const friendlyName = label(id.certificate);
  if (opts.legacy) {
    return fromBin(
      forge.asn1
        .toDer(forge.pkcs12.toPkcs12Asn1(key, certs, password, { algorithm: "3des", count: P12_ITERATIONS, friendlyName }))
        .getBytes(),
    );
  }
  // PBKDF2 must get the UTF-8 bytes (see decodeP12) while the MAC needs the Unicode string, so forge
  // encrypts without a MAC and we add an HMAC-SHA256 MacData ourselves.
  const options = {
    algorithm: "aes256" as const,
    prfAlgorithm: "sha256",
    count: P12_ITERATIONS,
    saltSize: 16,
    useMac: false,
    friendlyName,
  };
  const pfx = forge.pkcs12.toPkcs12Asn1(key, certs, forge.util.encodeUtf8(password), options);
  const data = octets(kids(kids(kids(pfx)[1]!)[1]!)[0]!);
  const salt = crypto.randomBytes(16);
  const mac = p12Mac(data, password, bin(salt), P12_ITERATIONS, forge.pki.oids.sha256!);
  const { create, Class, Type, oidToDer } = forge.asn1;
  const U = Class.UNIVERSAL;
  const iterations = forge.util.hexToBytes(P12_ITERATIONS.toString(16).padStart(4, "0"));
  kids(pfx).push(
    create(U, Type.SEQUENCE, true, [
      create(U, Type.SEQUENCE, true, [
        create(U, Type.SEQUENCE, true, [
          create(U, Type.OID, false, oidToDer(forge.pki.oids.sha256!).getBytes()),
          create(U, Type.NULL, false, ""),
        ]),
        create(U, Type.OCTETSTRING, false, bin(mac)),
      ]),
      create(U, Type.OCTETSTRING, false, bin(salt)),
      create(U, Type.INTEGER, false, iterations),
    ]),
  );
  return fromBin(forge.asn1.toDer(pfx).getBytes());
}

// ---------------------------------------------------------------------------------------------
// Issuing certificates (development and tests)

function addYears(d: Date, years: number): Date {
  const r = new Date(d);
  r.setUTCFullYear(r.getUTCFullYear() + years);
  return r;
}

function rsaKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  // Node/OpenSSL key generation: forge's JS prime search takes seconds.
  return crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
}

function subjectAttrs(s: SubjectFields): forge.pki.CertificateField[] {
  // UTF8String for names (Vietnamese agency names are not PrintableString), PrintableString where
  // the standard wants it and the value allows it.
  const printable = (v: string) => /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(v);
  const attrs: forge.pki.CertificateField[] = [];
  const add = (name: string, value: string | undefined, preferPrintable = false) => {
    if (value === undefined) return;
    const tag = preferPrintable && printable(value) ? forge.asn1.Type.PRINTABLESTRING : forge.asn1.Type.UTF8;
    attrs.push({ name, value, valueTagClass: tag } as unknown as forge.pki.CertificateField); // @types has the wrong type for valueTagClass
  };
  add("countryName", s.C, true);
  add("organizationName", s.O);
  add("organizationalUnitName", s.OU);
  add("serialNumber", s.serialNumber, true);
  add("commonName", s.CN);
  return attrs;
}

/** Builds and signs a certificate (RSA keys, SHA-256). The signature is made by Node's crypto. */
export function issueCertificate(opts: IssueOptions): CertAndKey {
  const keys = opts.keyPair ?? rsaKeyPair();
  const signer = opts.issuer?.privateKey ?? keys.privateKey;
  if (keys.publicKey.asymmetricKeyType !== "rsa" || signer.asymmetricKeyType !== "rsa") {
    throw new Error("issueCertificate supports RSA keys only");
  }
  const ca = opts.ca === true;
  const now = Date.now();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey.export({ type: "spki", format: "pem" }) as string);
  cert.serialNumber = serialForDer(opts.serial ?? crypto.randomBytes(16).toString("hex").replace(/^./, "4"));
  cert.validity.notBefore = opts.notBefore ?? new Date(now - 3600_000);
  cert.validity.notAfter = opts.notAfter ?? addYears(new Date(now), 2);
  const attrs = subjectAttrs(opts.subject);
  cert.setSubject(attrs);
  cert.setIssuer(attrs); // replaced below by the issuer's exact subject bytes

  const usage = opts.keyUsage ?? (ca ? ["keyCertSign", "cRLSign"] : ["digitalSignature", "nonRepudiation"]);
  const extensions: object[] = [];
  if (opts.basicConstraints !== false) {
    extensions.push({ name: "basicConstraints", critical: true, cA: ca, ...(opts.pathLen !== undefined && { pathLenConstraint: opts.pathLen }) });
  }
  if (usage.length > 0) {
    extensions.push({ name: "keyUsage", critical: true, ...Object.fromEntries(usage.map((u) => [u, true])) });
  }
  extensions.push({ name: "subjectKeyIdentifier" });
  const issuerSki = opts.issuer ? parsed(opts.issuer.certificate).getExtension(px.SubjectKeyIdentifierExtension) : null;
  if (!opts.issuer) extensions.push({ name: "authorityKeyIdentifier", keyIdentifier: true });
  else if (issuerSki) extensions.push({ name: "authorityKeyIdentifier", keyIdentifier: forge.util.hexToBytes(issuerSki.keyId) });
  cert.setExtensions(extensions);

  // sha256WithRSAEncryption; forge builds the TBS, Node signs it.
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): A }).getTBSCertificate(cert);
  if (opts.issuer) {
    // Copy the issuer's subject Name byte for byte so name chaining never depends on re-encoding.
    kids(tbs)[3] = forge.asn1.fromDer(bin(subjectNameDer(opts.issuer.certificate)));
  }
  cert.tbsCertificate = tbs;
  cert.signature = bin(crypto.sign("sha256", fromBin(forge.asn1.toDer(tbs).getBytes()), signer));
  const der = fromBin(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes());
  return { certificate: new X509Certificate(der), privateKey: keys.privateKey };
}

/** A self-signed CA for development, impossible to mistake for a real one. Valid 10 years. */
export function createDevCa(name: string): Identity {
  const { certificate, privateKey } = issueCertificate({
    subject: { CN: `${name} DEVELOPMENT CA - NOT FOR PRODUCTION`, O: name, OU: "DEVELOPMENT ONLY" },
    ca: true,
    notAfter: addYears(new Date(), 10),
  });
  return { certificate, privateKey, chain: [] };
}

/** A 2-year signing certificate for an agency; the organ id (mã định danh) goes into the subject
 *  serialNumber attribute (2.5.4.5). */
export function issueDevAgencyCertificate(ca: CertAndKey & { chain?: X509Certificate[] }, organId: string, agencyName: string): Identity {
  const { certificate, privateKey } = issueCertificate({
    subject: { CN: agencyName, OU: "DEVELOPMENT ONLY", serialNumber: organId },
    issuer: ca,
  });
  const caIsRoot = ca.certificate.subject === ca.certificate.issuer;
  return { certificate, privateKey, chain: caIsRoot ? [] : [ca.certificate, ...(ca.chain ?? [])] };
}

// ---------------------------------------------------------------------------------------------
// CRLs

function crlFrom(parsedCrl: X509.X509Crl): Crl {
  return {
    issuer: parsedCrl.issuer,
    thisUpdate: parsedCrl.thisUpdate,
    nextUpdate: parsedCrl.nextUpdate,
    revoked: parsedCrl.entries.map((e) => ({ serialNumber: normSerial(e.serialNumber), revocationDate: e.revocationDate })),
    der: Buffer.from(parsedCrl.rawData),
    parsed: parsedCrl,
  };
}

/** Reads a CRL from PEM ("X509 CRL") or DER. */
export function parseCrl(pemOrDer: Buffer | string): Crl {
  const text = typeof pemOrDer === "string" ? pemOrDer : pemOrDer.includes("-----BEGIN") ? pemOrDer.toString("latin1") : null;
  let der: Buffer;
  if (text !== null) {
    const m = /-----BEGIN X509 CRL-----([\s\S]+?)-----END X509 CRL-----/.exec(text);
    if (!m) throw new Error("not a certificate revocation list: no -----BEGIN X509 CRL----- block");
    der = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  } else {
    der = pemOrDer as Buffer;
  }
  try {
    const crl = crlFrom(new px.X509Crl(new Uint8Array(der)));
    crlSignedParts(crl); // fail now, not during validation, on structures we cannot check
    return crl;
  } catch (e) {
    throw new Error("not a valid certificate revocation list (CRL): " + (e as Error).message, { cause: e });
  }
}

/** Creates a CRL signed by `issuer` (RSA or EC key). Async because @peculiar/x509 signs with WebCrypto. */
export async function createCrl(
  issuer: CertAndKey,
  revoked: Array<{ serial: string; date: Date }>,
  opts: { thisUpdate?: Date; nextUpdate?: Date } = {},
): Promise<Crl> {
  const thisUpdate = opts.thisUpdate ?? new Date();
  const nextUpdate = opts.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * 86400_000);
  const keyType = issuer.privateKey.asymmetricKeyType;
  let importAlg: RsaHashedImportParams | EcKeyImportParams;
  let signingAlgorithm: Algorithm | EcdsaParams;
  if (keyType === "rsa") {
    importAlg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    signingAlgorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm;
  } else if (keyType === "ec") {
    const curve = issuer.privateKey.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === "prime256v1" ? "P-256" : curve === "secp384r1" ? "P-384" : "P-521";
    importAlg = { name: "ECDSA", namedCurve };
    signingAlgorithm = { name: "ECDSA", hash: "SHA-256" } as EcdsaParams;
  } else {
    throw new Error("createCrl supports RSA and EC keys only");
  }
  const der = issuer.privateKey.export({ type: "pkcs8", format: "der" });
  const signingKey = await crypto.webcrypto.subtle.importKey("pkcs8", der, importAlg, false, ["sign"]);
  const issuerCert = parsed(issuer.certificate);
  const extensions: X509.Extension[] = [];
  const ski = issuerCert.getExtension(px.SubjectKeyIdentifierExtension);
  if (ski) extensions.push(new px.AuthorityKeyIdentifierExtension(ski.keyId));
  // cRLNumber (RFC 5280 5.2.3): increases with thisUpdate.
  const num = Buffer.from(serialForDer(Math.floor(thisUpdate.getTime() / 1000).toString(16)), "hex");
  extensions.push(new px.Extension("2.5.29.20", false, Buffer.concat([Buffer.from([0x02, num.length]), num])));
  const crl = await px.X509CrlGenerator.create({
    issuer: issuerCert.subjectName,
    thisUpdate,
    nextUpdate,
    signingAlgorithm,
    signingKey: signingKey as unknown as CryptoKey,
    extensions,
    entries: revoked.map((r) => ({ serialNumber: serialForDer(r.serial), revocationDate: r.date })),
  });
  return crlFrom(new px.X509Crl(crl.rawData));
}

export function crlToPem(crl: Crl): string {
  const b64 = crl.der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`;
}

/** The signed bytes and the signature of a CRL, sliced from its DER. */
function crlSignedParts(crl: Crl): { tbs: Buffer; signature: Buffer } {
  const der = crl.der;
  const [tbs, , sig] = tlvChildren(der, readTlv(der, 0));
  if (!tbs || !sig || sig.tag !== 0x03) throw new Error("malformed CertificateList");
  return { tbs: der.subarray(tbs.start, tbs.end), signature: der.subarray(sig.contentStart + 1, sig.end) };
}

/** Verifies a CRL signature with Node's crypto (synchronous, OpenSSL). */
function crlSignatureOk(crl: Crl, issuerKey: KeyObject): boolean {
  try {
    const { tbs, signature } = crlSignedParts(crl);
    const alg = crl.parsed.signatureAlgorithm as X509.HashedAlgorithm & { saltLength?: number };
    const hash = alg.hash?.name?.replace("-", "").toLowerCase() ?? null; // "SHA-256" -> "sha256"
    switch (alg.name) {
      case "RSASSA-PKCS1-v1_5":
      case "ECDSA":
        return crypto.verify(hash, tbs, issuerKey, signature);
      case "RSA-PSS":
        return crypto.verify(hash, tbs, { key: issuerKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength ?? 20 }, signature);
      case "Ed25519":
      case "Ed448":
        return crypto.verify(null, tbs, issuerKey, signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Path validation

/** Issuer certificates above the leaf: path[i] is at depth i, the deepest allowed is 6. */
const MAX_DEPTH = 6;
/** Caps the path search so a hostile pool (e.g. from KeyInfo) cannot make it explode. */
const MAX_PATHS = 8;
const MAX_STEPS = 500;

/** Critical extensions we understand or may safely treat as informational. Anything else critical
 *  (nameConstraints, policyConstraints, …) would need enforcing, so the certificate is refused. */
const KNOWN_CRITICAL = new Set([
  "2.5.29.19", // basicConstraints
  "2.5.29.15", // keyUsage
  "2.5.29.14", // subjectKeyIdentifier
  "2.5.29.35", // authorityKeyIdentifier
  "2.5.29.17", // subjectAltName
  "2.5.29.18", // issuerAltName
  "2.5.29.32", // certificatePolicies (any policy accepted)
  "2.5.29.37", // extKeyUsage
  "2.5.29.31", // cRLDistributionPoints
]);

type Failure = Extract<ChainResult, { ok: false }>;
const failure = (subIndication: SubIndication, message: string, vi: string): Failure => ({ ok: false, subIndication, message, vi });
const bilingual = (en: string, vi: string) => `${en} — ${vi}`;

function keyUsage(cert: X509Certificate): number | null {
  const ku = parsed(cert).getExtension(px.KeyUsagesExtension);
  return ku ? ku.usages : null;
}

/** The trust decision: builds a path leaf → anchor and checks it (signatures with Node's crypto). */
export function validateChain(opts: ValidateChainOptions): ChainResult {
  const { leaf, at } = opts;
  if (opts.anchors.length === 0) {
    return failure("NO_CERTIFICATE_CHAIN_FOUND", "no trusted root certificates are configured", "chưa cấu hình chứng thư số gốc tin cậy nào");
  }
  const { paths, hint } = buildPaths(leaf, opts.intermediates, opts.anchors);
  if (paths.length === 0) {
    return failure(
      "NO_CERTIFICATE_CHAIN_FOUND",
      `no chain of trust from certificate "${label(leaf)}" to a trusted root certificate` + (hint ? `; ${hint.en}` : ""),
      `không xây dựng được chuỗi chứng thực từ chứng thư số "${label(leaf)}" đến chứng thư số gốc tin cậy` + (hint ? `; ${hint.vi}` : ""),
    );
  }
  // Several paths only exist with re-issued or cross-certified CAs; any fully valid one will do.
  let first: Failure | null = null;
  for (const path of paths) {
    const r = checkPath(path, opts.crls, at);
    if (r.ok) return r;
    first ??= r;
  }
  return first!;
}

function buildPaths(
  leaf: X509Certificate,
  intermediates: X509Certificate[],
  anchors: X509Certificate[],
): { paths: X509Certificate[][]; hint: { en: string; vi: string } | null } {
  const anchorFps = new Set(anchors.map(fingerprint));
  // Pinning: a leaf that is itself an anchor is trusted directly.
  if (anchorFps.has(fingerprint(leaf))) return { paths: [[leaf]], hint: null };

  const byFp = new Map<string, X509Certificate>();
  for (const c of [...anchors, ...intermediates]) if (!byFp.has(fingerprint(c))) byFp.set(fingerprint(c), c);
  byFp.delete(fingerprint(leaf));
  const pool = [...byFp.values()]; // anchors first: shortest paths are found first

  let hint: { en: string; vi: string } | null = null;
  const issued = (child: X509Certificate, parent: X509Certificate): boolean => {
    // checkIssued = names + key identifiers + issuer keyUsage; verify = the signature itself.
    const ok = issuedMemo(fingerprint(child) + ">" + fingerprint(parent), () => child.checkIssued(parent) && child.verify(parent.publicKey));
    if (!ok) {
      if (!hint && parsed(child).issuer === parsed(parent).subject) {
        hint = {
          en: `certificate "${label(parent)}" has the issuer's name but did not issue "${label(child)}" (other key, or not allowed to sign certificates)`,
          vi: `chứng thư số "${label(parent)}" trùng tên với tổ chức phát hành nhưng không phát hành chứng thư số "${label(child)}"`,
        };
      }
    }
    return ok;
  };

  const paths: X509Certificate[][] = [];
  let steps = 0;
  const walk = (path: X509Certificate[]): void => {
    const cur = path[path.length - 1]!;
    for (const cand of pool) {
      if (paths.length >= MAX_PATHS || ++steps > MAX_STEPS) return;
      if (path.includes(cand) || !issued(cur, cand)) continue;
      if (anchorFps.has(fingerprint(cand))) paths.push([...path, cand]);
      else if (path.length < MAX_DEPTH) walk([...path, cand]);
    }
  };
  walk([leaf]);
  return { paths, hint };
}

/** Checks one candidate path leaf..anchor. Order follows RFC 5280: CA constraints, validity and
 *  revocation of every certificate (§6.1.3-6.1.4), then the end-entity usage checks (§6.1.5). */
function checkPath(path: X509Certificate[], crls: Crl[], at: Date): ChainResult {
  const warnings: string[] = [];
  const leaf = path[0]!;

  for (let i = 0; i < path.length; i++) {
    const cert = path[i]!;
    for (const ext of parsed(cert).extensions) {
      if (ext.critical && !KNOWN_CRITICAL.has(ext.type)) {
        return failure(
          "NO_CERTIFICATE_CHAIN_FOUND",
          `certificate "${label(cert)}" has an unsupported critical extension ${ext.type}`,
          `chứng thư số "${label(cert)}" có phần mở rộng bắt buộc (critical) không được hỗ trợ: ${ext.type}`,
        );
      }
    }
    if (i === 0) continue;
    // Issuers must be CAs: a missing basicConstraints extension means "not a CA".
    const child = path[i - 1]!;
    const bc = parsed(cert).getExtension(px.BasicConstraintsExtension);
    if (!bc || !bc.ca) {
      return failure(
        "NO_CERTIFICATE_CHAIN_FOUND",
        `certificate "${label(cert)}" is not a CA certificate (${bc ? "basicConstraints cA is false" : "no basicConstraints extension"}) and cannot issue "${label(child)}"`,
        `chứng thư số "${label(cert)}" không phải là chứng thư số của tổ chức chứng thực (CA) nên không được phát hành chứng thư số "${label(child)}"`,
      );
    }
    const ku = keyUsage(cert);
    if (ku !== null && !(ku & px.KeyUsageFlags.keyCertSign)) {
      return failure(
        "NO_CERTIFICATE_CHAIN_FOUND",
        `certificate "${label(cert)}" is not a CA: its key usage does not allow signing certificates`,
        `chứng thư số "${label(cert)}" không phải là CA: mục đích sử dụng khóa không cho phép ký chứng thư số`,
      );
    }
    // pathLenConstraint counts the intermediate CA certificates below this one (leaf excluded).
    const below = i - 1;
    if (bc.pathLength !== undefined && below > bc.pathLength) {
      return failure(
        "NO_CERTIFICATE_CHAIN_FOUND",
        `certificate "${label(cert)}" allows at most ${bc.pathLength} intermediate CA certificate(s) below it, the chain has ${below}`,
        `chứng thư số "${label(cert)}" chỉ cho phép tối đa ${bc.pathLength} chứng thư số CA trung gian phía dưới, chuỗi có ${below}`,
      );
    }
  }

  for (const cert of path) {
    const p = parsed(cert);
    const range = `${stamp(p.notBefore)} – ${stamp(p.notAfter)}`;
    if (at < p.notBefore) {
      return failure(
        "NOT_YET_VALID",
        `certificate "${label(cert)}" is not yet valid: valid from ${day(p.notBefore)} (${range})`,
        `chứng thư số "${label(cert)}" chưa có hiệu lực: hiệu lực từ ngày ${day(p.notBefore)} (${range})`,
      );
    }
    if (at > p.notAfter) {
      return failure(
        "EXPIRED",
        `certificate "${label(cert)}" expired on ${day(p.notAfter)} (valid ${range})`,
        `chứng thư số "${label(cert)}" đã hết hạn ngày ${day(p.notAfter)} (hiệu lực ${range})`,
      );
    }
  }

  const revoked = checkRevocation(path, crls, at, warnings);
  if (revoked) return revoked;

  // End entity: the key must be meant for signatures; a CA key signs documents only when pinned.
  const ku = keyUsage(leaf);
  if (ku !== null && !(ku & (px.KeyUsageFlags.digitalSignature | px.KeyUsageFlags.nonRepudiation))) {
    return failure(
      "NO_CERTIFICATE_CHAIN_FOUND",
      `certificate key usage does not allow signing (certificate "${label(leaf)}")`,
      `mục đích sử dụng khóa của chứng thư số "${label(leaf)}" không cho phép ký số`,
    );
  }
  if (path.length > 1 && parsed(leaf).getExtension(px.BasicConstraintsExtension)?.ca) {
    return failure(
      "NO_CERTIFICATE_CHAIN_FOUND",
      `certificate "${label(leaf)}" is a CA certificate and may not sign documents (unless it is configured as a trusted certificate itself)`,
      `chứng thư số "${label(leaf)}" là chứng thư số CA, không được dùng để ký văn bản (trừ khi được cấu hình là chứng thư số tin cậy)`,
    );
  }
  return { ok: true, path, warnings };
}

function checkRevocation(path: X509Certificate[], crls: Crl[], at: Date, warnings: string[]): Failure | null {
  const warned = new Set<Crl>();
  for (let i = 0; i < path.length - 1; i++) {
    const cert = path[i]!;
    const issuer = path[i + 1]!;
    const issuerName = nameKey(parsed(cert).issuerName);
    const candidates = crls.filter((c) => nameKey(c.parsed.issuerName) === issuerName);
    let covered = false;
    const ku = keyUsage(issuer);
    const mayIssueCrls = ku === null || (ku & px.KeyUsageFlags.cRLSign) !== 0;
    for (const crl of candidates) {
      const sigOk = crlSignatureOk(crl, issuer.publicKey);
      if (!sigOk || !mayIssueCrls) {
        if (!warned.has(crl)) {
          warned.add(crl);
          warnings.push(
            sigOk
              ? bilingual(
                  `revocation list issued by "${crl.issuer}" was ignored: the key usage of "${label(issuer)}" does not allow signing revocation lists`,
                  `danh sách chứng thư số bị thu hồi do "${crl.issuer}" phát hành bị bỏ qua: chứng thư số "${label(issuer)}" không được phép ký danh sách thu hồi`,
                )
              : bilingual(
                  `revocation list issued by "${crl.issuer}" was ignored: its signature does not verify with the issuing certificate "${label(issuer)}"`,
                  `danh sách chứng thư số bị thu hồi do "${crl.issuer}" phát hành bị bỏ qua: chữ ký không khớp với chứng thư số "${label(issuer)}"`,
                ),
          );
        }
        continue;
      }
      covered = true;
      if (crl.nextUpdate && crl.nextUpdate < at && !warned.has(crl)) {
        warned.add(crl);
        warnings.push(
          bilingual(
            `revocation list is out of date: the list issued by "${label(issuer)}" should have been renewed on ${stamp(crl.nextUpdate)}`,
            `danh sách chứng thư số bị thu hồi do "${label(issuer)}" phát hành đã quá hạn cập nhật (hạn ${stamp(crl.nextUpdate)})`,
          ),
        );
      }
      const serial = normSerial(cert.serialNumber);
      const entry = crl.revoked.find((e) => e.serialNumber === serial);
      if (!entry) continue;
      if (entry.revocationDate <= at) {
        return failure(
          "REVOKED",
          `certificate "${label(cert)}" was revoked on ${day(entry.revocationDate)} (${stamp(entry.revocationDate)})`,
          `chứng thư số "${label(cert)}" đã bị thu hồi ngày ${day(entry.revocationDate)} (${stamp(entry.revocationDate)})`,
        );
      }
      warnings.push(
        bilingual(
          `certificate "${label(cert)}" was revoked later, on ${stamp(entry.revocationDate)}`,
          `chứng thư số "${label(cert)}" bị thu hồi sau thời điểm kiểm tra, ngày ${stamp(entry.revocationDate)}`,
        ),
      );
    }
    if (!covered && crls.length > 0) {
      warnings.push(
        bilingual(
          `no revocation list found for certificate "${label(cert)}"`,
          `không có danh sách chứng thư số bị thu hồi cho chứng thư số "${label(cert)}"`,
        ),
      );
    }
  }
  return null;
}
