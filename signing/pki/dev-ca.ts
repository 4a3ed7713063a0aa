// Issuing certificates: the development CA of a node (createDevCa, issueDevAgencyCertificate) and,
// for tests, any certificate (issueCertificate, exported by signing/testing.ts only).
import crypto, { X509Certificate, type KeyObject } from "node:crypto";
import forge from "node-forge";
import { bin, fromBin, parsed, serialForDer, subjectNameDer, x509 } from "./certificates.ts";
import type { CertAndKey, Identity } from "./identity.ts";

type KeyUsageName =
  | "digitalSignature"
  | "nonRepudiation"
  | "keyCertSign"
  | "cRLSign"
  | "keyEncipherment";

interface SubjectFields {
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
  /** An extendedKeyUsage extension with these purpose OIDs (critical unless said otherwise). Default: none. */
  extendedKeyUsage?: { purposes: string[]; critical?: boolean };
}

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
  if (opts.extendedKeyUsage) {
    const { purposes, critical = true } = opts.extendedKeyUsage;
    extensions.push({ name: "extKeyUsage", critical, ...Object.fromEntries(purposes.map((oid) => [forge.pki.oids[oid] ?? oid, true])) }); // forge takes its own names for the OIDs it knows
  }
  extensions.push({ name: "subjectKeyIdentifier" });
  const issuerSki = opts.issuer ? parsed(opts.issuer.certificate).getExtension(x509().SubjectKeyIdentifierExtension) : null;
  if (!opts.issuer) extensions.push({ name: "authorityKeyIdentifier", keyIdentifier: true });
  else if (issuerSki) extensions.push({ name: "authorityKeyIdentifier", keyIdentifier: forge.util.hexToBytes(issuerSki.keyId) });
  cert.setExtensions(extensions);

  // sha256WithRSAEncryption; forge builds the TBS, Node signs it.
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  if (opts.issuer) {
    // Copy the issuer's subject Name byte for byte so name chaining never depends on re-encoding.
    // TBSCertificate: version, serialNumber, signature, issuer, …
    (tbs.value as forge.asn1.Asn1[])[3] = forge.asn1.fromDer(bin(subjectNameDer(opts.issuer.certificate)));
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
