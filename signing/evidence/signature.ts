// The bundle's own signature: the exporting node signs manifest.json, so that nothing can be left
// out of (or added to) a bundle without breaking it. The digests in manifest.json cover every other
// file, so this one signature covers them all, trust/registry.json included.
//
// manifest-signature.xml is a small signed XML document, signed like the registry snapshot
// (signing/snapshot.ts) and our packets: one ds:Signature, exc-c14n, RSA-SHA256, SHA-256, references
// by Id to the content element and to the XAdES SignedProperties. The content element names the
// exact bytes signed (a detached signature over manifest.json, by its SHA-256 and size) and the
// publishing agency (the node's registry snapshot publisher):
//
//   <ManifestSignature xmlns="urn:edoc:evidence:1">
//     <Manifest Id="evidence-manifest" path="manifest.json" publisher="organ id" sha256="hex" size="bytes"/>
//     <ds:Signature Id="evidence-signature"> … </ds:Signature>
//   </ManifestSignature>
//
// xmlsec1 verifies it with --id-attr:Id urn:edoc:evidence:1:Manifest and
// --id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties; `sha256sum manifest.json` then
// must print the signed sha256.
//
// The seal's time-stamp: when the node has a TSA, the export stamps the seal as a packet is stamped
// (xades-t.ts: an UnsignedProperties with one SignatureTimeStamp over the exc-c14n ds:SignatureValue,
// outside every reference); its certificate is then checked at the stamp's time. Without one that
// counts, a certificate that has merely expired leaves the seal "claimed": checked at the time it
// states, which proves nothing by itself (report.ts, ManifestSignatureResult; verify.ts decides).
//
// Who may have signed it, as the verifier decides: the publisher certificate the archivist pinned
// (`--registry-cert`), or else a certificate that chains to a trust anchor and that the caller's
// registry binds to the publishing agency. Never a certificate the bundle brings, on its own.
import { createHash, type X509Certificate } from "node:crypto";
import { create } from "xmlbuilder2";
import { DSIG_NS, ORGAN_ID_LENIENT, SIGNATURE_SLOT, allElements, children, isCData, isComment, parseStrict } from "../../envelopes/index.ts";
import { verifySignature, type SignatureProfile } from "../engine.ts";
import { fingerprint } from "../pki/certificates.ts";
import type { Identity } from "../pki/identity.ts";
import { VerificationFailure, emptyReport, fail, type TimestampSummary } from "../report.ts";
import { signDocument } from "../sign.ts";
import { ONE_CONTENT_SIGNATURE } from "../snapshot.ts";
import { signingTime, type TrustConfig } from "../verify.ts";
import { checkSignatureTimestamp, signatureTimestamp, stampedSignatureValue, withTimestamp } from "../xades-t.ts";
import { allNodes, isNamed, uniqueIds, type Refuse } from "../xmldsig.ts";
import { MANIFEST_PATH, MANIFEST_SIGNATURE_PATH } from "./layout.ts";
import { bi, type BundleTrust, type ManifestSignatureResult } from "./report.ts";

const EVIDENCE_NS = "urn:edoc:evidence:1";
const IDS = { content: "evidence-manifest", signature: "evidence-signature", signedProps: "evidence-signed-props" } as const;
/** Far more than the document ever is (a few kilobytes: one element and a signature). */
const MAX_BYTES = 256 * 1024;
const CONTENT_ATTRIBUTES = "Id,path,publisher,sha256,size";

/** The publishing identity of the node that makes a bundle: its registry snapshot publisher. */
export interface BundlePublisher {
  organId: string;
  identity: Identity;
}

/** manifest-signature.xml for these exact manifest.json bytes. */
export function signManifest(manifest: Buffer, publisher: BundlePublisher, signingTime: Date): Buffer {
  if (!ORGAN_ID_LENIENT.test(publisher.organId)) throw new Error(`the bundle publisher "${publisher.organId}" is not an organ id`);
  const doc = create({ version: "1.0", encoding: "UTF-8" });
  const root = doc.ele(EVIDENCE_NS, "ManifestSignature");
  root
    .ele("Manifest")
    .att("Id", IDS.content)
    .att("path", MANIFEST_PATH)
    .att("publisher", publisher.organId)
    .att("sha256", createHash("sha256").update(manifest).digest("hex"))
    .att("size", String(manifest.length));
  root.txt(SIGNATURE_SLOT);
  const template = doc.end({ prettyPrint: true, indent: "  ", newline: "\n" });
  return signDocument(template, [IDS.content], publisher.identity, IDS, { signingTime });
}

/** The seal with its time-stamp: `stamp` is asked for a token over its canonical ds:SignatureValue; null (the TSA away) leaves the seal without. */
export async function stampSeal(seal: Buffer, stamp: (data: string) => Promise<Buffer | null>): Promise<Buffer> {
  const token = await stamp(stampedSignatureValue(seal.toString("latin1")));
  return token ? withTimestamp(seal, token) : seal;
}

/**
 * Checks manifest-signature.xml (null: missing) against manifest.json's exact bytes: signed by the
 * pinned publisher certificate, or by a certificate the caller's registry binds to the agency it
 * names; that certificate checked at the time its time-stamp states when it carries one that
 * counts, else at `at`. A seal whose certificate has only expired by `at`, with no stamp that
 * counts, is checked again at the time it states, any revocation up to `at` counting: passing,
 * it is "claimed" (not valid: the caller decides, see ManifestSignatureResult). A stamp that does
 * not count adds its warning to `warnings`. Never throws: the result says what failed.
 */
export async function checkManifestSignature(signature: Buffer | null, manifest: Buffer | null, trust: BundleTrust, at: Date, warnings: string[]): Promise<ManifestSignatureResult> {
  if (!signature) return { ...notChecked(), subIndication: "NO_SIGNATURE", problem: `${MANIFEST_SIGNATURE_PATH} is missing: nothing vouches that the bundle is complete` };
  const first = await checkSeal(signature, manifest, trust, at, null);
  if (first.warning) warnings.push(bi(`the time-stamp of the node's seal (${MANIFEST_SIGNATURE_PATH}) does not count`, "dấu thời gian trên chữ ký niêm phong của nút không được công nhận") + `: ${first.warning}`);
  const { result, claimed } = first;
  if (result.valid || result.subIndication !== "EXPIRED" || result.timestamp?.valid || !claimed || claimed > at) return result;
  const again = (await checkSeal(signature, manifest, trust, claimed, at)).result;
  if (again.valid) return { ...again, valid: false, timestamp: result.timestamp, basis: "claimed", subIndication: "EXPIRED", problem: result.problem };
  return { ...again, timestamp: result.timestamp, problem: `${result.problem}; and at the time the seal states (${claimed.toISOString()}): ${again.problem}` };
}

/**
 * One check of the seal at `at`. `revokedBy` null: its stamp, when it counts, gives the time its
 * certificate is checked at; else (the check at the time it claims) the stamp is not used and
 * revocation is checked as of `revokedBy`. `claimed`: the SigningTime it states, once read.
 */
async function checkSeal(
  signature: Buffer,
  manifest: Buffer | null,
  trust: BundleTrust,
  at: Date,
  revokedBy: Date | null,
): Promise<{ result: ManifestSignatureResult; claimed: Date | null; warning: string | null }> {
  const result = notChecked();
  const seal: SealFacts = { content: undefined, claimed: null, timestamp: null, warning: null };
  const report = emptyReport(at);
  const pinned = trust.publisherCert ?? null;
  try {
    const profile = manifestProfile(signature, pinned, trust, at, revokedBy, seal);
    const { signer } = await verifySignature(profile, at, report);
    result.signer = { subject: signer.subject.replace(/\n/g, ", "), fingerprint: fingerprint(signer) };
    result.publisher = seal.content!.getAttribute("publisher");
    const want = { sha256: seal.content!.getAttribute("sha256"), size: seal.content!.getAttribute("size") };
    const got = manifest && { sha256: createHash("sha256").update(manifest).digest("hex"), size: String(manifest.length) };
    if (!got || got.sha256 !== want.sha256 || got.size !== want.size) {
      fail("HASH_FAILURE", `${MANIFEST_PATH} is not the manifest the node signed: its SHA-256 or size differs from ${MANIFEST_SIGNATURE_PATH}`, `${MANIFEST_PATH} không phải bản đã được ký`);
    }
    const stamped = seal.timestamp?.valid ? new Date(seal.timestamp.time!) : null;
    Object.assign(result, { valid: true, trustedBy: pinned ? "pinned" : "registry", basis: stamped ? "timestamp" : "verification", checkedAt: (stamped ?? at).toISOString() });
  } catch (err) {
    if (!(err instanceof VerificationFailure)) throw err;
    result.publisher ??= seal.content?.getAttribute("publisher") ?? null;
    if (!result.signer && report.signer) result.signer = { subject: report.signer.subject, fingerprint: report.signer.fingerprint };
    Object.assign(result, { subIndication: err.subIndication, problem: err.message });
  }
  result.timestamp = seal.timestamp;
  return { result, claimed: seal.claimed, warning: seal.warning };
}

const notChecked = (): ManifestSignatureResult => ({
  valid: false,
  trustedBy: null,
  publisher: null,
  signer: null,
  subIndication: null,
  problem: null,
  timestamp: null,
  timestampRequested: false,
  basis: null,
  checkedAt: null,
});

/** What the seal's profile learns as the steps go: its content element, the time it states, its stamp. */
interface SealFacts {
  content: Element | undefined;
  claimed: Date | null;
  timestamp: TimestampSummary | null;
  warning: string | null;
}

/** The signature profile of manifest-signature.xml checked at `at`; `seal` learns what it finds (see checkSeal for `revokedBy`). */
function manifestProfile(bytes: Buffer, pinned: X509Certificate | null, trust: TrustConfig, at: Date, revokedBy: Date | null, seal: SealFacts): SignatureProfile {
  const format: Refuse = (en, vi) => fail("FORMAT_FAILURE", en, vi);
  let content: Element | undefined;
  return {
    read: () => {
      if (bytes.length > MAX_BYTES) format(`${MANIFEST_SIGNATURE_PATH} is larger than ${MAX_BYTES} bytes`, `${MANIFEST_SIGNATURE_PATH} quá lớn`);
      let text = "";
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        format(`${MANIFEST_SIGNATURE_PATH} is not UTF-8 text`, `${MANIFEST_SIGNATURE_PATH} không phải văn bản UTF-8`);
      }
      return parseStrict(text);
    },
    malformed: (message) => [`${MANIFEST_SIGNATURE_PATH} is not acceptable XML: ${message}`, `${MANIFEST_SIGNATURE_PATH} không phải XML hợp lệ`],
    locate: (doc) => {
      const root = doc.documentElement;
      if (!isNamed(root, EVIDENCE_NS, "ManifestSignature")) format(`the root element must be ManifestSignature in ${EVIDENCE_NS}`, "phần tử gốc phải là ManifestSignature");
      if (allNodes(root).some((n) => isComment(n) || isCData(n))) format("comments and CDATA sections are not allowed", "không được có chú thích hoặc CDATA");
      const elements = allElements(root);
      const ids = uniqueIds(elements, format);
      const signatures = elements.filter((e) => isNamed(e, DSIG_NS, "Signature"));
      const top = children(root);
      const text = [root, ...top.slice(0, 1)].some((el) => Array.from(el.childNodes).some((n) => n.nodeType === 3 && (n.nodeValue ?? "").trim()));
      if (top.length !== 2 || !isNamed(top[0], EVIDENCE_NS, "Manifest") || signatures.length !== 1 || top[1] !== signatures[0] || text || children(top[0]).length) {
        format("ManifestSignature holds exactly an empty <Manifest> and then the <ds:Signature>", "ManifestSignature chỉ gồm <Manifest> rồi <ds:Signature>");
      }
      const attributes = (el: Element) => Array.from(el.attributes).filter((a) => a.name !== "xmlns" && a.prefix !== "xmlns").map((a) => a.name).sort();
      if (attributes(top[0]).join(",") !== CONTENT_ATTRIBUTES || attributes(root).length) {
        format(`<Manifest> must carry exactly ${CONTENT_ATTRIBUTES.replace(/,/g, ", ")}`, "<Manifest> không đúng thuộc tính");
      }
      if (top[0].getAttribute("path") !== MANIFEST_PATH || !ORGAN_ID_LENIENT.test(top[0].getAttribute("publisher") ?? "")) {
        format(`<Manifest> must name ${MANIFEST_PATH} and the publishing agency's organ id`, "<Manifest> phải nêu manifest.json và mã cơ quan công bố");
      }
      content = seal.content = top[0];
      return { elements, signature: top[1], ids, targets: [{ uri: `#${IDS.content}`, element: top[0], covers: "manifest.json digest" }] };
    },
    noun: ["manifest signature", "chữ ký manifest"],
    ids: IDS,
    ...ONE_CONTENT_SIGNATURE,
    covered: (_targets, signedProps) => {
      const claimed = signingTime(signedProps);
      seal.claimed = claimed && !Number.isNaN(Date.parse(claimed)) ? new Date(claimed) : null;
    },
    signer: pinned
      ? { kind: "pinned", certificate: pinned }
      : { kind: "chain-and-registry", anchors: trust.anchors, crls: trust.crls, registry: trust.registry, sender: () => content!.getAttribute("publisher")!, revokedBy: revokedBy ?? undefined },
    // the seal's time-stamp, as a packet's (signature-profile.md, Level B-T); not used when checked at the time it claims
    signerTime: async (signatureValue, qualifyingProperties) => {
      const token = signatureTimestamp(qualifyingProperties, format);
      if (!token || revokedBy) return null;
      const { summary, warning } = await checkSignatureTimestamp(token, signatureValue, { tsaAnchors: trust.tsaAnchors ?? [], crls: trust.crls }, at);
      Object.assign(seal, { timestamp: summary, warning });
      return summary.valid ? new Date(summary.time!) : null;
    },
    changed: () => [`${MANIFEST_SIGNATURE_PATH} was changed after signing`, `${MANIFEST_SIGNATURE_PATH} bị thay đổi sau khi ký`],
    badValue: ["the manifest signature value does not match the signer's key", "giá trị chữ ký manifest không khớp với khóa của người ký"],
  };
}
