// Identities (a private key, its certificate and the chain that came with it) from PKCS#12 and PEM,
// and the PKCS#12 export. The PKCS#12 structure (PFX, MacData, AuthenticatedSafe, SafeBags) is read
// with @peculiar/asn1-pfx; the password-based decryption is node-forge's (PBES2 and the legacy
// pbeWithSHAAnd3-KeyTripleDES-CBC / pbeWithSHAAnd40BitRC2-CBC: Node 20's OpenSSL refuses RC2).
import crypto, { X509Certificate, type KeyObject } from "node:crypto";
import forge from "node-forge";
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from "@peculiar/asn1-schema";
import { ContentInfo, EncryptedContentInfo, id_data, id_encryptedData } from "@peculiar/asn1-cms";
import { EncryptedPrivateKeyInfo } from "@peculiar/asn1-pkcs8";
import { AuthenticatedSafe, CertBag, MacData, PFX, SafeContents, id_certBag, id_keyBag, id_pkcs8ShroudedKeyBag, id_x509Certificate } from "@peculiar/asn1-pfx";
import { DigestInfo } from "@peculiar/asn1-rsa";
import { AlgorithmIdentifier } from "@peculiar/asn1-x509";
import { bin, fingerprint, fromBin, label, parseCertificates } from "./certificates.ts";

export interface CertAndKey {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

export interface Identity extends CertAndKey {
  /** Other certificates that came with the leaf (intermediates, possibly the root), leaf excluded,
   *  ordered leaf-issuer first when they chain. */
  chain: X509Certificate[];
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
// PKCS#12 (RFC 7292)

const WRONG_P12 = "wrong password for the PKCS#12 file or the file is damaged";
const P12_ITERATIONS = 2048; // OpenSSL 3 default; forge writes the count as a 16-bit INTEGER (< 32768)

const MAC_DIGESTS: Record<string, { forge: () => forge.md.MessageDigest; node: string; len: number }> = {
  [forge.pki.oids.sha1!]: { forge: () => forge.md.sha1.create(), node: "sha1", len: 20 },
  [forge.pki.oids.sha256!]: { forge: () => forge.md.sha256.create(), node: "sha256", len: 32 },
  [forge.pki.oids.sha384!]: { forge: () => forge.md.sha384.create(), node: "sha384", len: 48 },
  [forge.pki.oids.sha512!]: { forge: () => forge.md.sha512.create(), node: "sha512", len: 64 },
};

/** PKCS#12 MAC (RFC 7292 appendix B key derivation; the password is used as BMPString). */
function p12Mac(data: Buffer, password: string, salt: Buffer, iterations: number, oid: string): Buffer {
  const d = MAC_DIGESTS[oid];
  if (!d) throw new Error("unsupported PKCS#12 MAC algorithm " + oid);
  const key = forge.pkcs12.generateKey(password, forge.util.createBuffer(bin(salt)), 3, iterations, d.len, d.forge());
  return crypto.createHmac(d.node, fromBin(key.getBytes())).update(data).digest();
}

const bytes = (b: ArrayBuffer | ArrayBufferView): Buffer =>
  ArrayBuffer.isView(b) ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.from(b);
const octetString = (der: ArrayBuffer): Buffer => bytes(AsnConvert.parse(der, OctetString).buffer);

/**
 * CMS EncryptedData (RFC 5652 §8), which @peculiar/asn1-cms does not define: a version, then the
 * EncryptedContentInfo. The schema is declared by calling the library's decorators directly.
 */
class EncryptedData {
  version = 0;
  encryptedContentInfo = new EncryptedContentInfo();
}
AsnType({ type: AsnTypeTypes.Sequence })(EncryptedData);
AsnProp({ type: AsnPropTypes.Integer })(EncryptedData.prototype, "version");
AsnProp({ type: EncryptedContentInfo })(EncryptedData.prototype, "encryptedContentInfo");

/**
 * Password-based decryption with node-forge. PBES2 (the OpenSSL 3 default) gets the password's
 * UTF-8 bytes, as OpenSSL gives them (forge would take only the low byte of each character); the
 * legacy PKCS#12 PBE (3DES, RC2-40) gets the Unicode string, made into a BMPString by forge.
 */
function decrypt(algorithm: AlgorithmIdentifier, data: Buffer, password: string): Buffer {
  const params = algorithm.parameters ? forge.asn1.fromDer(bin(bytes(algorithm.parameters))) : null;
  const pbes2 = algorithm.algorithm === forge.pki.oids.pkcs5PBES2;
  const cipher = (forge.pki as unknown as ForgePbe).pbe.getCipher(algorithm.algorithm, params as forge.asn1.Asn1, pbes2 ? forge.util.encodeUtf8(password) : password);
  cipher.update(forge.util.createBuffer(bin(data)));
  if (!cipher.finish()) throw new Error("decryption failed");
  return fromBin(cipher.output.getBytes());
}

/** node-forge's PBE entry point, missing from @types/node-forge. */
interface ForgePbe {
  pbe: { getCipher(oid: string, params: forge.asn1.Asn1, password: string): forge.cipher.BlockCipher };
}

/** The PFX, its MAC checked (when it has one) and every SafeContents decrypted. */
function decodeP12(p12: Buffer, password: string): SafeContents[] {
  try {
    const pfx = AsnConvert.parse(p12, PFX);
    if (pfx.authSafe.contentType !== id_data) throw new Error("only password-integrity PKCS#12 files are supported");
    const data = octetString(pfx.authSafe.content);
    if (pfx.macData && !macOk(pfx.macData, data, password)) throw new Error("MAC mismatch");
    return [...AsnConvert.parse(data, AuthenticatedSafe)].map((info: ContentInfo) => {
      if (info.contentType === id_data) return AsnConvert.parse(octetString(info.content), SafeContents);
      if (info.contentType !== id_encryptedData) throw new Error(`unsupported PKCS#12 content ${info.contentType}`);
      const { contentEncryptionAlgorithm, encryptedContent } = AsnConvert.parse(info.content, EncryptedData).encryptedContentInfo;
      const parts = encryptedContent?.value ? [encryptedContent.value] : (encryptedContent?.constructedValue ?? []);
      const encrypted = Buffer.concat(parts.map((o) => bytes(o.buffer)));
      return AsnConvert.parse(decrypt(contentEncryptionAlgorithm, encrypted, password), SafeContents);
    });
  } catch (err) {
    throw new Error(WRONG_P12, { cause: err });
  }
}

function macOk(macData: MacData, data: Buffer, password: string): boolean {
  const { mac, macSalt, iterations } = macData;
  if (!(iterations >= 1)) return false;
  const computed = p12Mac(data, password, bytes(macSalt.buffer), iterations, mac.digestAlgorithm.algorithm);
  const want = bytes(mac.digest.buffer);
  return computed.length === want.length && crypto.timingSafeEqual(computed, want);
}

/** Reads a .p12/.pfx: OpenSSL 3 default (PBES2/AES-256, SHA-256 MAC) and legacy (3DES/RC2-40, SHA-1 MAC). */
export function loadIdentityP12(p12: Buffer, password: string): Identity {
  const keys: KeyObject[] = [];
  const certs: X509Certificate[] = [];
  for (const bag of decodeP12(p12, password).flatMap((s) => [...s])) {
    if (bag.bagId === id_pkcs8ShroudedKeyBag || bag.bagId === id_keyBag) {
      let der = bytes(bag.bagValue);
      if (bag.bagId === id_pkcs8ShroudedKeyBag) {
        const info = AsnConvert.parse(der, EncryptedPrivateKeyInfo);
        try {
          der = decrypt(info.encryptionAlgorithm, bytes(info.encryptedData.buffer), password);
        } catch (err) {
          throw new Error(WRONG_P12, { cause: err });
        }
      }
      keys.push(crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
    } else if (bag.bagId === id_certBag) {
      const cert = AsnConvert.parse(bag.bagValue, CertBag);
      if (cert.certId === id_x509Certificate) certs.push(new X509Certificate(octetString(cert.certValue)));
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
  // PBKDF2 must get the UTF-8 bytes (see decrypt) while the MAC needs the Unicode string, so forge
  // encrypts without a MAC and we add an HMAC-SHA256 MacData ourselves.
  const options = {
    algorithm: "aes256" as const,
    prfAlgorithm: "sha256",
    count: P12_ITERATIONS,
    saltSize: 16,
    useMac: false,
    friendlyName,
  };
  const pfx = AsnConvert.parse(fromBin(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(key, certs, forge.util.encodeUtf8(password), options)).getBytes()), PFX);
  const salt = crypto.randomBytes(16);
  const mac = p12Mac(octetString(pfx.authSafe.content), password, salt, P12_ITERATIONS, forge.pki.oids.sha256!);
  pfx.macData = new MacData({
    mac: new DigestInfo({ digestAlgorithm: new AlgorithmIdentifier({ algorithm: forge.pki.oids.sha256!, parameters: null }), digest: new OctetString(mac) }),
    macSalt: new OctetString(salt),
    iterations: P12_ITERATIONS,
  });
  return Buffer.from(AsnConvert.serialize(pfx));
}
