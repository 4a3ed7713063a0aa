// Signed registry snapshots: the agency registry a node publishes (`GET /registry/snapshot`) as one
// XML document with an issue and an expiry time, like X-Road's global configuration: a signed
// directory that clients refuse once expired, checked against a certificate configured out of band
// (the "configuration anchor"), never against whatever certificate the document brings.
//
// It is signed exactly like our packets (signing/sign.ts, shared/spec/signature-profile.md): one
// ds:Signature, exc-c14n, RSA-SHA256, SHA-256, references by Id to the content element and to the
// XAdES SignedProperties (SigningTime = issuedAt, SigningCertificateV2). Everything that means
// something (times, publisher, agencies) sits inside the one signed element:
//
//   <RegistrySnapshot xmlns="urn:edoc:registry:1">
//     <Agencies Id="registry-agencies" publisher="…" issuedAt="…Z" expiresAt="…Z">
//       <Agency>
//         <OrganId/> <Name/>? <ParentId/>? <Endpoint/>? <Status/>?
//         <CertificateFingerprint>sha256 hex</CertificateFingerprint>*  <Certificate>base64 DER</Certificate>*
//       </Agency>*
//     </Agencies>
//     <ds:Signature Id="registry-signature"> … </ds:Signature>
//   </RegistrySnapshot>
//
// xmlsec1 verifies it with --id-attr:Id urn:edoc:registry:1:Agencies and
// --id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties.
import type { X509Certificate } from "node:crypto";
import { create } from "xmlbuilder2";
import { DSIG_NS, ORGAN_ID_LENIENT, SIGNATURE_SLOT, XADES_NS, allElements, children, isCData, isComment, parseStrict } from "../envelopes/index.ts";
import { verifySignatureSync, type Located, type SignatureProfile } from "./engine.ts";
import { certificateFromDer, fingerprint, parseCertificates } from "./pki/certificates.ts";
import type { Identity } from "./pki/identity.ts";
import { normalizeFingerprint, type Registry, type RegistryEntry } from "./registry.ts";
import { VerificationFailure, emptyReport, type SubIndication } from "./report.ts";
import { signDocument, type SignatureIds } from "./sign.ts";
import { allNodes, base64Value, isNamed, soleElement, uniqueIds } from "./xmldsig.ts";

export const REGISTRY_NS = "urn:edoc:registry:1";

/** Fixed Ids of the snapshot: the signed content, the signature and its signed properties. */
const SNAPSHOT_IDS = {
  content: "registry-agencies",
  signature: "registry-signature",
  signedProps: "registry-signed-props",
} as const satisfies SignatureIds & { content: string };

/** Largest snapshot accepted (bytes); the strict parser also caps elements at 100 000. */
export const MAX_SNAPSHOT_BYTES = 32 << 20;
/** How far in the future `issuedAt` may be (clock skew between nodes). */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export type SnapshotFailure =
  | "FORMAT" // not a snapshot of this format, or a structural rule broken
  | "DISALLOWED_ALGORITHM"
  | "SIGNER_MISMATCH" // signed by another certificate than the configured publisher certificate
  | "PUBLISHER_CERT_NOT_VALID" // the publisher certificate is expired or not yet valid
  | "HASH_FAILURE"
  | "SIG_CRYPTO_FAILURE"
  | "EXPIRED"
  | "NOT_YET_VALID" // issued in the future
  | "INPUT"; // what a signer was asked to sign is not valid

/** A snapshot that must not be used, or entries that cannot be signed; the message says why. */
export class SnapshotError extends Error {
  override name = "SnapshotError";
  constructor(
    readonly reason: SnapshotFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface SignSnapshotOptions {
  /** Defaults to now; kept to the second. */
  issuedAt?: Date;
  /** How long the snapshot may be used, in milliseconds. */
  validFor: number;
  /** Who publishes it: the node's public URL or an organ id. */
  publisher: string;
}

export interface VerifySnapshotOptions {
  /** The publishing node's certificate, configured out of band: the only signer accepted. */
  publisherCert: X509Certificate;
  /** Defaults to now. */
  at?: Date;
}

export interface VerifiedSnapshot {
  entries: RegistryEntry[];
  issuedAt: Date;
  expiresAt: Date;
  publisher: string;
}

function fail(reason: SnapshotFailure, message: string): never {
  throw new SnapshotError(reason, message);
}
const format = (message: string): never => fail("FORMAT", message);

// ---------------------------------------------------------------------------------------------
// Signing

/** The signed snapshot of `entries`, published by `identity`. */
export function signRegistrySnapshot(entries: RegistryEntry[], identity: Identity, opts: SignSnapshotOptions): Buffer {
  const input = (message: string): never => fail("INPUT", message);
  const issuedAt = new Date(Math.floor((opts.issuedAt ?? new Date()).getTime() / 1000) * 1000);
  if (Number.isNaN(issuedAt.getTime())) input("issuedAt is not a valid time");
  if (!Number.isFinite(opts.validFor) || opts.validFor < 1000) input("validFor must be at least 1000 ms");
  const expiresAt = new Date(issuedAt.getTime() + Math.floor(opts.validFor / 1000) * 1000);
  checkPublisher(opts.publisher, input);

  const doc = create({ version: "1.0", encoding: "UTF-8" });
  const root = doc.ele(REGISTRY_NS, "RegistrySnapshot");
  const agencies = root
    .ele("Agencies")
    .att("Id", SNAPSHOT_IDS.content)
    .att("publisher", opts.publisher)
    .att("issuedAt", isoSeconds(issuedAt))
    .att("expiresAt", isoSeconds(expiresAt));
  const seen = new Set<string>();
  for (const entry of entries) {
    const { fps, certs } = prepareEntry(entry, input);
    if (seen.has(entry.organId)) input(`agency ${entry.organId} is listed twice`);
    seen.add(entry.organId);
    const agency = agencies.ele("Agency");
    agency.ele("OrganId").txt(entry.organId);
    for (const [name, value] of [
      ["Name", entry.name],
      ["ParentId", entry.parentId],
      ["Endpoint", entry.endpoint],
      ["Status", entry.status],
    ] as const) {
      if (value !== undefined) agency.ele(name).txt(value);
    }
    for (const fp of fps) agency.ele("CertificateFingerprint").txt(fp);
    for (const cert of certs) agency.ele("Certificate").txt(cert.raw.toString("base64"));
  }
  root.txt(SIGNATURE_SLOT);
  const template = doc.end({ prettyPrint: true, indent: "  ", newline: "\n" });
  return signDocument(template, [SNAPSHOT_IDS.content], identity, SNAPSHOT_IDS, { signingTime: issuedAt });
}

/**
 * Why the snapshot format cannot carry `entry` (the rules signRegistrySnapshot and the verifier
 * apply), or null when it can: for a publisher that leaves such entries out instead of failing.
 */
export function snapshotEntryProblem(entry: RegistryEntry): string | null {
  try {
    prepareEntry(entry, (message) => fail("INPUT", message));
    return null;
  } catch (err) {
    if (err instanceof SnapshotError) return err.message;
    throw err;
  }
}

/** An entry's fingerprints (normalised) and certificates (parsed), once checked. */
function prepareEntry(entry: RegistryEntry, bad: (m: string) => never): { fps: string[]; certs: X509Certificate[] } {
  let certs: X509Certificate[] = [];
  try {
    certs = entry.certificatesPem ? parseCertificates(entry.certificatesPem) : [];
  } catch (err) {
    bad(`agency ${entry.organId}: certificatesPem cannot be read: ${(err as Error).message}`);
  }
  if (!Array.isArray(entry.certificateFingerprints)) bad(`agency ${entry.organId}: certificateFingerprints must be a list`);
  const fps = entry.certificateFingerprints.map((fp) => (typeof fp === "string" ? normalizeFingerprint(fp) : ""));
  checkEntry({ ...entry, certificateFingerprints: fps }, certs, bad);
  return { fps, certs };
}

function isoSeconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// ---------------------------------------------------------------------------------------------
// Rules both sides apply to the content

// no control characters (C0, DEL, C1): names and URLs are one line of text
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const STATUS = /^[a-z][a-z_-]{0,15}$/;

function checkPublisher(publisher: string, bad: (m: string) => never): void {
  if (!publisher || publisher.length > 500 || CONTROL.test(publisher) || publisher.trim() !== publisher) {
    bad(`the publisher "${publisher}" must be a node URL or organ id of 1 to 500 characters on one line`);
  }
}

/** One agency's fields; `certs` are its certificates (parsed), whose fingerprints must be listed. */
function checkEntry(entry: RegistryEntry, certs: X509Certificate[], bad: (m: string) => never): void {
  const id = entry.organId;
  if (typeof id !== "string" || !ORGAN_ID_LENIENT.test(id)) bad(`"${id}" is not an organ id (1 to 35 letters, digits or dots)`);
  const line = (what: string, value: string | undefined, max: number) => {
    if (value !== undefined && (!value.trim() || value.length > max || CONTROL.test(value))) {
      bad(`agency ${id}: the ${what} must be 1 to ${max} characters on one line`);
    }
  };
  line("name", entry.name, 200);
  line("endpoint", entry.endpoint, 500);
  if (entry.parentId !== undefined && !ORGAN_ID_LENIENT.test(entry.parentId)) bad(`agency ${id}: the parent "${entry.parentId}" is not an organ id`);
  if (entry.endpoint !== undefined && !isHttpUrl(entry.endpoint)) bad(`agency ${id}: the endpoint "${entry.endpoint}" is not an http(s) URL`);
  if (entry.status !== undefined && !STATUS.test(entry.status)) bad(`agency ${id}: the status "${entry.status}" is not a status word (a-z, 1 to 16)`);
  const fps = entry.certificateFingerprints;
  if (fps.some((fp) => !/^[0-9a-f]{64}$/.test(fp))) bad(`agency ${id}: certificate fingerprints must be SHA-256 in hex (64 digits)`);
  if (new Set(fps).size !== fps.length) bad(`agency ${id}: a certificate fingerprint is listed twice`);
  for (const cert of certs) {
    if (!fps.includes(fingerprint(cert))) bad(`agency ${id}: the certificate ${fingerprint(cert)} is not among its certificate fingerprints`);
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && value === value.trim();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Verification: fail closed, in the order of the signature profile

/** The error mapping of the snapshot profile: the engine's sub-indication → the snapshot's reason. */
const SNAPSHOT_FAILURE_OF: Record<SubIndication, SnapshotFailure> = {
  FORMAT_FAILURE: "FORMAT",
  NO_SIGNATURE: "FORMAT",
  NO_SIGNING_CERTIFICATE_FOUND: "FORMAT",
  NO_CERTIFICATE_CHAIN_FOUND: "FORMAT",
  DISALLOWED_ALGORITHM: "DISALLOWED_ALGORITHM",
  SIGNER_NOT_BOUND: "SIGNER_MISMATCH", // signed by another certificate than the pinned one
  EXPIRED: "PUBLISHER_CERT_NOT_VALID",
  NOT_YET_VALID: "PUBLISHER_CERT_NOT_VALID",
  REVOKED: "PUBLISHER_CERT_NOT_VALID",
  CHAIN_CONSTRAINTS_FAILURE: "PUBLISHER_CERT_NOT_VALID",
  HASH_FAILURE: "HASH_FAILURE",
  SIG_CRYPTO_FAILURE: "SIG_CRYPTO_FAILURE",
};

/** Step 2 for a snapshot: RegistrySnapshot holding exactly <Agencies> and then the ds:Signature. */
function locateSnapshot(doc: Document): Located {
  const root = doc.documentElement;
  if (root.localName !== "RegistrySnapshot" || root.namespaceURI !== REGISTRY_NS) {
    format(`not a registry snapshot: the root element is <${root.tagName}>, expected RegistrySnapshot in ${REGISTRY_NS}`);
  }
  onlyNamespaceDeclarations(root);
  if (allNodes(root).some((n) => isComment(n) || isCData(n))) format("comments and CDATA sections are not allowed in a snapshot");
  const elements = allElements(root);
  const ids = uniqueIds(elements, format);
  const signatures = elements.filter((e) => isNamed(e, DSIG_NS, "Signature"));
  if (signatures.length !== 1) format(`the snapshot must hold exactly one XML signature, it holds ${signatures.length}`);
  noText(root);
  const top = children(root);
  if (top.length !== 2 || !isNamed(top[0], REGISTRY_NS, "Agencies") || top[1] !== signatures[0]) {
    format("a snapshot holds exactly <Agencies> and then the <ds:Signature>");
  }
  return { elements, signature: top[1], ids, targets: [{ uri: `#${SNAPSHOT_IDS.content}`, element: top[0], covers: "agency list" }] };
}

/**
 * The shape of a signature over one content element plus its signed properties, shared by the
 * documents the node signs for itself (registry snapshots, evidence manifests): two references,
 * KeyInfo, one Object.
 */
export const ONE_CONTENT_SIGNATURE = {
  signedPropsCovers: "signed properties",
  signatureParts: {
    pattern: /^SignedInfo,SignatureValue,KeyInfo,Object$/,
    wrong: () => ["the signature must hold SignedInfo, SignatureValue, KeyInfo and one Object, in that order", "cấu trúc chữ ký không đúng"],
  },
  signedInfoParts: {
    pattern: /^CanonicalizationMethod,SignatureMethod,Reference,Reference$/,
    wrong: () => ["SignedInfo must hold CanonicalizationMethod, SignatureMethod and two References", "SignedInfo không đúng cấu trúc"],
  },
  bareObject: ["the signature's Object must hold only QualifyingProperties, and that only SignedProperties", "Object của chữ ký chỉ được chứa QualifyingProperties"],
  referenceSet: (expected: string[], found: string[]) => [
    `the signature must reference exactly ${expected.join(" and ")}, it references ${found.map((u) => `"${u}"`).join(", ")}`,
    `chữ ký phải tham chiếu đúng ${expected.join(" và ")}`,
  ],
} satisfies Partial<SignatureProfile>;

/**
 * Verifies a snapshot against the configured publisher certificate and returns its entries, read
 * only from the signed element. Throws SnapshotError for anything short of a valid, current snapshot.
 */

export function verifyRegistrySnapshot(bytes: Buffer, opts: VerifySnapshotOptions): VerifiedSnapshot {
  const at = opts.at ?? new Date();
  let content: Element | undefined;
  const profile: SignatureProfile = {
    // 1. size, UTF-8, strict parse (no DOCTYPE, entities, PIs)
    read: () => {
      if (bytes.length > MAX_SNAPSHOT_BYTES) format(`the snapshot is larger than ${MAX_SNAPSHOT_BYTES} bytes`);
      let text = "";
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        format("the snapshot is not UTF-8 text");
      }
      return parseStrict(text);
    },
    malformed: (message) => [`the snapshot is not acceptable XML: ${message}`, `bản danh bạ không phải XML hợp lệ: ${message}`],
    locate: (doc) => {
      const located = locateSnapshot(doc);
      content = located.targets[0].element;
      return located;
    },
    noun: ["snapshot", "bản danh bạ"],
    ids: SNAPSHOT_IDS,
    ...ONE_CONTENT_SIGNATURE,
    signer: { kind: "pinned", certificate: opts.publisherCert },
    changed: (broken) => [`the snapshot was changed after signing (${broken[0].uri} does not match its digest)`, "bản danh bạ bị thay đổi sau khi ký"],
    badValue: ["the signature value does not match the publisher's key", "giá trị chữ ký không khớp với khóa của nơi công bố"],
  };
  let signedProps: Element;
  try {
    ({ signedProps } = verifySignatureSync(profile, at, emptyReport(at)));
  } catch (err) {
    if (err instanceof VerificationFailure) fail(SNAPSHOT_FAILURE_OF[err.subIndication], err.message);
    throw err;
  }
  return readContent(content!, signedProps, at);
}

/** What was signed: times, publisher, entries, read only from the digested content element. */
function readContent(content: Element, signedProps: Element, at: Date): VerifiedSnapshot {
  const attrs = attributeNames(content);
  if (attrs.join(",") !== "Id,expiresAt,issuedAt,publisher") format(`<Agencies> must carry exactly Id, publisher, issuedAt and expiresAt, it carries ${attrs.join(", ")}`);
  const issuedAt = time(content, "issuedAt");
  const expiresAt = time(content, "expiresAt");
  const publisher = content.getAttribute("publisher")!;
  checkPublisher(publisher, format);
  const signingTimeEl = soleElement(signedProps, XADES_NS, "SigningTime", true) ?? format("the signed properties must hold exactly one SigningTime");
  const signingTime = new Date(elementText(signingTimeEl));
  if (signingTime.getTime() !== issuedAt.getTime()) format("the signed SigningTime is not the snapshot's issuedAt");
  if (expiresAt.getTime() <= issuedAt.getTime()) format("the snapshot expires before it is issued");
  if (issuedAt.getTime() > at.getTime() + CLOCK_SKEW_MS) {
    fail("NOT_YET_VALID", `the snapshot is issued at ${issuedAt.toISOString()}, later than ${at.toISOString()} (more than ${CLOCK_SKEW_MS / 60000} minutes ahead)`);
  }
  if (expiresAt.getTime() <= at.getTime()) {
    fail("EXPIRED", `the snapshot expired at ${expiresAt.toISOString()} (checked at ${at.toISOString()}); fetch a fresh one from ${publisher}`);
  }
  return { entries: readEntries(content), issuedAt, expiresAt, publisher };
}

/** The verifier's registry from a snapshot (verified first: see verifyRegistrySnapshot). */
export function registryFromSnapshot(bytes: Buffer, opts: VerifySnapshotOptions): Registry {
  return new Map(verifyRegistrySnapshot(bytes, opts).entries.map((e) => [e.organId, e]));
}

const AGENCY_LAYOUT = /^OrganId(,Name)?(,ParentId)?(,Endpoint)?(,Status)?(,CertificateFingerprint)*(,Certificate)*$/;

function readEntries(content: Element): RegistryEntry[] {
  noText(content);
  const entries: RegistryEntry[] = [];
  const seen = new Set<string>();
  for (const agency of children(content)) {
    if (!isNamed(agency, REGISTRY_NS, "Agency")) format(`unexpected element <${agency.tagName}> in <Agencies>`);
    if (attributeNames(agency).length) format("<Agency> carries no attributes");
    noText(agency);
    const parts = children(agency);
    if (parts.some((e) => e.namespaceURI !== REGISTRY_NS) || !AGENCY_LAYOUT.test(parts.map((e) => e.localName).join(","))) {
      format(`agency ${entries.length + 1}: expected OrganId, Name?, ParentId?, Endpoint?, Status?, CertificateFingerprint*, Certificate* in that order`);
    }
    const one = (name: string) => {
      const el = parts.find((e) => e.localName === name);
      return el ? elementText(el) : undefined;
    };
    const organId = one("OrganId")!;
    const certs = parts
      .filter((e) => e.localName === "Certificate")
      .map((el, i) => {
        const der = base64Value(el, `certificate ${i + 1} of agency ${organId}`, format);
        try {
          return certificateFromDer(der);
        } catch {
          return format(`certificate ${i + 1} of agency ${organId} cannot be read`);
        }
      });
    const entry: RegistryEntry = {
      organId,
      name: one("Name"),
      parentId: one("ParentId"),
      endpoint: one("Endpoint"),
      status: one("Status"),
      certificateFingerprints: parts.filter((e) => e.localName === "CertificateFingerprint").map((e) => elementText(e).toLowerCase()),
      certificatesPem: certs.length ? certs.map((c) => c.toString()).join("") : undefined,
    };
    for (const k of ["name", "parentId", "endpoint", "status", "certificatesPem"] as const) if (entry[k] === undefined) delete entry[k];
    checkEntry(entry, certs, (m) => format(m));
    if (seen.has(organId)) format(`agency ${organId} is listed twice`);
    seen.add(organId);
    entries.push(entry);
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------
// Small readers

/** Non-namespace attribute names, sorted. */
function attributeNames(el: Element): string[] {
  const names: string[] = [];
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes[i];
    if (a.name !== "xmlns" && a.prefix !== "xmlns") names.push(a.namespaceURI ? `{${a.namespaceURI}}${a.localName}` : a.name);
  }
  return names.sort();
}

function onlyNamespaceDeclarations(el: Element): void {
  const names = attributeNames(el);
  if (names.length) format(`<${el.localName}> carries unexpected attributes: ${names.join(", ")}`);
}

/** Only whitespace between the children of a container element. */
function noText(el: Element): void {
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 3 && (n.nodeValue ?? "").trim()) format(`unexpected text inside <${el.localName}>`);
  }
}

/** The text of a leaf element: text nodes only, no child elements. */
function elementText(el: Element): string {
  let value = "";
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== 3) format(`<${el.localName}> must hold text only`);
    value += n.nodeValue ?? "";
  }
  return value;
}

function time(el: Element, name: string): Date {
  const value = el.getAttribute(name) ?? "";
  const t = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(t.getTime())) {
    format(`${name} "${value}" is not an ISO 8601 time with a zone`);
  }
  return t;
}
