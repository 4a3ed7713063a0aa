// xmlsec1 (the reference XMLDSig implementation, libxml2 + OpenSSL) as an independent peer:
// runs it without a shell, and writes signing templates that follow the profile layout
// (shared/spec/signature-profile.md) for it to fill in.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import type { X509Certificate } from "node:crypto";
import {
  attachmentSlot,
  EDXML_NS,
  renderEdocTemplate,
  renderStatusTemplate,
  SIGNATURE_SLOT,
  XADES_NS,
  type Edoc,
  type StatusPacket,
} from "../../envelopes/index.ts";
import { ALG, IDS } from "../../signing/index.ts";

/** The binary; XMLSEC1 overrides it (e.g. to check the "not installed" path). */
const XMLSEC1 = process.env.XMLSEC1 || "xmlsec1";

export interface XmlsecRun {
  /** Exit status: 0 success, 1 verification failure or error. */
  code: number;
  stdout: string;
  /** xmlsec1 prints its verdict ("OK" / "FAIL") and the reference counts here. */
  stderr: string;
}

/** Runs xmlsec1 with these arguments (no shell). Rejects only when it cannot be started. */
export function xmlsec(args: string[]): Promise<XmlsecRun> {
  return new Promise((resolve, reject) => {
    execFile(XMLSEC1, args, { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(err); // ENOENT, killed by the timeout, …
      resolve({ code: err ? (err.code as number) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** "xmlsec1 1.2.37 (openssl)", or null when xmlsec1 cannot be run. */
async function xmlsecVersion(): Promise<string | null> {
  try {
    const r = await xmlsec(["--version"]);
    return r.code === 0 ? r.stdout.trim() : null;
  } catch {
    return null;
  }
}

/**
 * For a `before` hook: skips the suite with a printed reason when xmlsec1 is missing, except in
 * CI (process.env.CI set), where a missing peer is a failure: the interop tests must run there.
 */
export async function requireXmlsec(ctx: Mocha.Context): Promise<string> {
  const version = await xmlsecVersion();
  if (version) return version;
  const reason = `xmlsec1 ("${XMLSEC1}") cannot be run; install it (Debian: apt-get install -y xmlsec1) to run the XMLDSig interop tests`;
  if (process.env.CI) throw new Error(`CI is set, so the interop tests may not be skipped: ${reason}`);
  console.log(`      SKIPPED: ${reason}`);
  ctx.skip();
  throw new Error("unreachable"); // ctx.skip() throws
}

/** `--id-attr` declarations of the profile: which attributes are IDs, on which elements. */
export const ID_ATTR_ARGS: string[] = [
  ...["MessageHeader", "Bussiness", "edXMLManifest", "Attachment"].flatMap((el) => ["--id-attr:Id", `${EDXML_NS}:${el}`]),
  "--id-attr:Id",
  `${XADES_NS}:SignedProperties`,
];

/** RFC 2045 style: lines of `width` characters separated by LF, with an LF before and after. */
function wrapBase64(b64: string, width = 76): string {
  return `\n${b64.match(new RegExp(`.{1,${width}}`, "g"))!.join("\n")}\n`;
}

interface SignatureTemplateOptions {
  /** Reference URIs in order, without the signed properties (added last). */
  references: string[];
  signer: X509Certificate;
  /** xades:SigningTime text, e.g. 2026-11-22T10:00:00+07:00. */
  signingTime: string;
}

/**
 * A ds:Signature template of the profile: exc-c14n, rsa-sha256, one exc-c14n transform and a
 * sha256 digest per reference (DigestValue/SignatureValue empty for xmlsec1 to fill), an empty
 * X509Certificate (xmlsec1 writes the certificates given with --privkey-pem), and the XAdES
 * SignedProperties with SigningTime and SigningCertificateV2 (sha256 of the signer's DER).
 */
function signatureTemplate(opts: SignatureTemplateOptions): string {
  const ref = (uri: string, type?: string) => `
      <ds:Reference URI="${uri}"${type ? ` Type="${type}"` : ""}>
        <ds:Transforms>
          <ds:Transform Algorithm="${ALG.EXC_C14N}"/>
        </ds:Transforms>
        <ds:DigestMethod Algorithm="${ALG.SHA256}"/>
        <ds:DigestValue></ds:DigestValue>
      </ds:Reference>`;
  const certDigest = createHash("sha256").update(opts.signer.raw).digest("base64");
  return `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="${IDS.signature}">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="${ALG.EXC_C14N}"/>
      <ds:SignatureMethod Algorithm="${ALG.RSA_SHA256}"/>${opts.references.map((u) => ref(u)).join("")}${ref(`#${IDS.signedProps}`, ALG.SIGNED_PROPERTIES_TYPE)}
    </ds:SignedInfo>
    <ds:SignatureValue></ds:SignatureValue>
    <ds:KeyInfo>
      <ds:X509Data>
        <ds:X509Certificate></ds:X509Certificate>
      </ds:X509Data>
    </ds:KeyInfo>
    <ds:Object>
      <xades:QualifyingProperties xmlns:xades="${XADES_NS}" Target="#${IDS.signature}">
        <xades:SignedProperties Id="${IDS.signedProps}">
          <xades:SignedSignatureProperties>
            <xades:SigningTime>${opts.signingTime}</xades:SigningTime>
            <xades:SigningCertificateV2>
              <xades:Cert>
                <xades:CertDigest>
                  <ds:DigestMethod Algorithm="${ALG.SHA256}"/>
                  <ds:DigestValue>${certDigest}</ds:DigestValue>
                </xades:CertDigest>
              </xades:Cert>
            </xades:SigningCertificateV2>
          </xades:SignedSignatureProperties>
        </xades:SignedProperties>
      </xades:QualifyingProperties>
    </ds:Object>
  </ds:Signature>`;
}

export interface EdocTemplateOptions {
  signer: X509Certificate;
  signingTime: string;
  /** Wrap each attachment's base64 in 76-character lines. */
  wrap?: boolean;
}

/** The whole edoc for `xmlsec1 --sign`: our rendering, the signature template, real base64 content. */
export function xmlsecEdocTemplate(edoc: Edoc, files: Buffer[], opts: EdocTemplateOptions): string {
  if (files.length !== edoc.attachments.length) throw new Error("one file per attachment");
  const refs = [`#${IDS.header}`, `#${IDS.business}`, `#${IDS.manifest}`, ...files.map((_, i) => `#${IDS.attachment(i + 1)}`)];
  let text = renderEdocTemplate(edoc);
  text = replaceOnce(text, SIGNATURE_SLOT, signatureTemplate({ references: refs, signer: opts.signer, signingTime: opts.signingTime }));
  files.forEach((bytes, i) => {
    const b64 = bytes.toString("base64");
    text = replaceOnce(text, attachmentSlot(i + 1), opts.wrap ? wrapBase64(b64) : b64);
  });
  return text;
}

/** The status packet for `xmlsec1 --sign`. */
export function xmlsecStatusTemplate(status: StatusPacket, opts: Omit<EdocTemplateOptions, "wrap">): string {
  return replaceOnce(
    renderStatusTemplate(status),
    SIGNATURE_SLOT,
    signatureTemplate({ references: [`#${IDS.header}`], signer: opts.signer, signingTime: opts.signingTime }),
  );
}

function replaceOnce(text: string, marker: string, value: string): string {
  const at = text.indexOf(marker);
  if (at < 0 || text.indexOf(marker, at + 1) >= 0) throw new Error(`marker ${marker} must appear exactly once`);
  return text.slice(0, at) + value + text.slice(at + marker.length);
}
