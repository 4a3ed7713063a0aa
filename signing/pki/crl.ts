// Certificate revocation lists: reading (PEM or DER), checking a CRL's signature with Node's crypto,
// and making one (tests and the development CA).
import crypto, { type KeyObject } from "node:crypto";
import type * as X509 from "@peculiar/x509";
import { normSerial, parsed, readTlv, serialForDer, tlvChildren, x509 } from "./certificates.ts";
import type { CertAndKey } from "./identity.ts";

interface CrlEntry {
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
    const crl = crlFrom(new (x509().X509Crl)(new Uint8Array(der)));
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
  const px = x509();
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
export function crlSignatureOk(crl: Crl, issuerKey: KeyObject): boolean {
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
