// The XMLDSig pieces both the signer and the verifiers use, so that what one computes the others
// check the same way: algorithm identifiers, exclusive canonicalisation, digests,
// the streamed digest of an attachment, and the structural checks of a received signature.
import { createHash, timingSafeEqual, verify as rsaVerify, type Hash, type KeyObject, type X509Certificate } from "node:crypto";
import { DSIG_NS, XADES_NS, allElements, children, type Refuse } from "../envelopes/xml.ts";

export const ALG = {
  EXC_C14N: "http://www.w3.org/2001/10/xml-exc-c14n#",
  RSA_SHA256: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  RSA_SHA512: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
  SHA256: "http://www.w3.org/2001/04/xmlenc#sha256",
  SHA512: "http://www.w3.org/2001/04/xmlenc#sha512",
  SIGNED_PROPERTIES_TYPE: "http://uri.etsi.org/01903#SignedProperties",
} as const;

/** The allow-list of the profile: digest URI → Node hash name. */
export const DIGESTS: Record<string, string> = { [ALG.SHA256]: "sha256", [ALG.SHA512]: "sha512" };
/** Signature URI → Node hash name (RSA PKCS#1 v1.5). */
export const SIGNATURES: Record<string, string> = { [ALG.RSA_SHA256]: "sha256", [ALG.RSA_SHA512]: "sha512" };

/** Fixed Ids of the profile. */
export const IDS = {
  header: "edxml-header",
  business: "edxml-business",
  manifest: "edxml-manifest",
  signature: "edxml-signature",
  signedProps: "edxml-signed-props",
  attachment: (n: number) => `edxml-att-${n}`,
} as const;

/**
 * Exclusive XML Canonicalization 1.0 without comments (https://www.w3.org/TR/xml-exc-c14n/) of the
 * subtree at `el`, as a same-document reference dereferences it (comments dropped, XMLDSig 1.1
 * §4.4.3.3); the profile allows no InclusiveNamespaces PrefixList. Written over the strict parser's
 * tree in one pass, about 4 times faster than xml-crypto's canonicaliser, which it replaces
 * (test/c14n.test.ts compares the two); where that one departs from the recommendation
 * (prefixes ordered by locale, `xmlns…` attribute names skipped), this follows the recommendation,
 * as libxml2 (xmlsec1) does: test/c14n.test.ts compares the bytes with libxml2's on every element.
 * Namespace names that would need escaping never get here (the strict parser refuses them: libxml2
 * writes them bare). The element is never changed.
 */
export function canonicalize(el: Element): string {
  return canonicalElement(el, APEX_SCOPE);
}

/** prefix ("" for the default namespace) → URI as rendered on the output ancestors; none at the apex. */
type Scope = ReadonlyMap<string, string>;
const APEX_SCOPE: Scope = new Map([["", ""]]);
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";

// (No closures made per call below: each would cost more than rendering its element.)
function canonicalElement(el: Element, inherited: Scope): string {
  const ns: Namespaces = { scope: inherited, copied: false, declared: [] };
  utilise(ns, el.prefix ?? "", el.namespaceURI ?? "");
  const attributes: Attr[] = [];
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes[i];
    if (a.namespaceURI === XMLNS_NS) continue; // a declaration: rendered only where utilised
    if (a.prefix) utilise(ns, a.prefix, a.namespaceURI ?? "");
    attributes.push(a);
  }
  let out = `<${el.tagName}`;
  if (ns.declared.length > 1) ns.declared.sort(byPrefix);
  for (const [prefix, uri] of ns.declared) out += `${prefix ? ` xmlns:${prefix}` : " xmlns"}="${escapeAttribute(uri)}"`;
  if (attributes.length > 1) attributes.sort(byAttributeName);
  for (const a of attributes) out += ` ${a.name}="${escapeAttribute(a.value)}"`;
  out += ">";
  for (let n = el.firstChild; n; n = n.nextSibling) {
    const type = n.nodeType;
    if (type === 1) out += canonicalElement(n as Element, ns.scope);
    else if (type === 3 || type === 4) out += escapeText((n as CharacterData).data);
    else if (type !== 8) throw new Error(`internal error: a node of type ${type} cannot be canonicalised`);
  }
  return `${out}</${el.tagName}>`;
}

interface Namespaces {
  scope: Scope;
  copied: boolean;
  declared: [prefix: string, uri: string][];
}

/**
 * A namespace is rendered where it is visibly utilised (by the element's or an attribute's prefix,
 * the default one by an unprefixed element) unless the output ancestors rendered it with that value.
 */
function utilise(ns: Namespaces, prefix: string, uri: string): void {
  if (prefix === "xml" || ns.scope.get(prefix) === uri) return;
  if (!ns.copied) [ns.scope, ns.copied] = [new Map(ns.scope), true];
  (ns.scope as Map<string, string>).set(prefix, uri);
  ns.declared.push([prefix, uri]);
}

function byPrefix(a: [string, string], b: [string, string]): number {
  return byCodePoint(a[0], b[0]);
}

/** Attributes by namespace URI (none first), then local name. */
function byAttributeName(a: Attr, b: Attr): number {
  return byCodePoint(a.namespaceURI ?? "", b.namespaceURI ?? "") || byCodePoint(a.localName, b.localName);
}

/** Lexicographic order of code points (UTF-16 code units differ above U+FFFF). */
function byCodePoint(a: string, b: string): number {
  if (a === b) return 0;
  for (let i = 0; i < a.length && i < b.length; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

const ESCAPE: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;" };
const escaped = (c: string) => ESCAPE[c];
const escapeText = (t: string) => (/[&<>\r]/.test(t) ? t.replace(/[&<>\r]/g, escaped) : t);
const escapeAttribute = (v: string) => (/[&<"\t\n\r]/.test(v) ? v.replace(/[&<"\t\n\r]/g, escaped) : v);

export function digest(algorithm: string, data: string | Buffer): string {
  return createHash(DIGESTS[algorithm]).update(data).digest("base64");
}

/**
 * Digest of an Attachment element whose base64 text is streamed: `canonical` is the element's
 * canonical form with `marker` standing for the text; the text's bytes come from `content` (as
 * bytes, or as strings of base64).
 */
export async function digestWithContent(
  algorithm: string,
  canonical: string,
  marker: string,
  content: AsyncIterable<Buffer | string>,
): Promise<string> {
  const at = canonical.indexOf(marker);
  if (at < 0 || canonical.indexOf(marker, at + 1) >= 0) {
    throw new Error("attachment marker must appear exactly once in the canonical attachment");
  }
  const hash: Hash = createHash(DIGESTS[algorithm]);
  hash.update(canonical.slice(0, at));
  // base64 text is ASCII: as Latin-1 it is hashed without a UTF-8 encoding pass
  for await (const chunk of content) typeof chunk === "string" ? hash.update(chunk, "latin1") : hash.update(chunk);
  hash.update(canonical.slice(at + marker.length));
  return hash.digest("base64");
}

// ---------------------------------------------------------------------------------------------
// Checking a received signature. The packet verifier and the registry snapshot reader share these;
// each passes a `refuse` that turns a problem into its own error (a bilingual FORMAT_FAILURE, a
// SnapshotError), so the rules are written once.

export type { Refuse };

/** Whether `el` is the element `localName` in namespace `ns` (whatever its prefix). */
export function isNamed(el: Element | undefined, ns: string, localName: string): boolean {
  return el?.localName === localName && el.namespaceURI === ns;
}

/** Every node below `node`, in document order; iterative, so no wide or deep tree overflows the stack. */
export function allNodes(node: Node): Node[] {
  const out: Node[] = [];
  const todo: Node[] = [node];
  while (todo.length) {
    const n = todo.pop()!;
    if (n !== node) out.push(n);
    for (let c = n.lastChild; c; c = c.previousSibling) todo.push(c);
  }
  return out;
}

/** Every Id/ID/id attribute value, in any namespace, must be unique (no wrapping by duplicate Ids). */
export function uniqueIds(elements: Element[], refuse: Refuse): Map<string, Element> {
  const ids = new Map<string, Element>();
  for (const el of elements) {
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes[i];
      if (a.localName !== "Id" && a.localName !== "ID" && a.localName !== "id") continue;
      if (ids.has(a.value)) refuse(`two elements carry the Id "${a.value}"`, `hai phần tử có cùng Id "${a.value}"`);
      ids.set(a.value, el);
    }
  }
  return ids;
}

/**
 * The one element called `localName` among the children of `parent` (or all its descendants, when
 * `deep`), in namespace `ns`; null when there is none, more than one, or it is in another namespace.
 */
export function soleElement(parent: Element, ns: string, localName: string, deep = false): Element | null {
  const found = (deep ? allElements(parent).slice(1) : children(parent)).filter((e) => e.localName === localName);
  return found.length === 1 && found[0].namespaceURI === ns ? found[0] : null;
}

/** The bytes of a base64 element: one text node, nothing else. XML white space (base64Binary's)
 *  may wrap it; no other (\s would pass NBSP, BOM, U+2028: a SignatureValue no other verifier reads). */
export function base64Value(el: Element, what: string, refuse: Refuse): Buffer {
  const nodes = allNodes(el);
  const value = nodes.length === 1 && nodes[0].nodeType === 3 ? (nodes[0].nodeValue ?? "").replace(/[ \t\n\r]+/g, "") : "";
  if (!value || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value)) {
    refuse(`${what} is not a base64 value`, `${what} không phải giá trị base64`);
  }
  return Buffer.from(value, "base64");
}

/** Object → QualifyingProperties (Target = the signature) → SignedProperties: exactly one such path. */
export function findSignedProperties(objects: Element[], signatureId: string, refuse: Refuse): Element {
  const found = objects.flatMap((o) =>
    children(o, "QualifyingProperties")
      .filter((q) => q.namespaceURI === XADES_NS)
      .flatMap((q) => children(q, "SignedProperties").map((sp) => ({ q, sp }))),
  );
  if (found.length !== 1 || found[0].sp.namespaceURI !== XADES_NS) {
    refuse("the signature must hold exactly one XAdES SignedProperties", "chữ ký phải có đúng một SignedProperties (XAdES)");
  }
  if (found[0].q.getAttribute("Target") !== `#${signatureId}`) {
    refuse(`QualifyingProperties must target #${signatureId}`, `QualifyingProperties phải trỏ tới #${signatureId}`);
  }
  return found[0].sp;
}

/**
 * Whether the signed SigningCertificateV2 names `cert`: one of its CertDigests (ds:DigestMethod of
 * an allowed algorithm, then ds:DigestValue) is the digest of its DER. null when the signed
 * properties hold no single SigningCertificateV2 with a CertDigest.
 */
export function namesCertificate(props: Element, cert: X509Certificate, refuse: Refuse): boolean | null {
  const v2 = soleElement(props, XADES_NS, "SigningCertificateV2", true);
  const certDigests = v2 ? allElements(v2).filter((e) => isNamed(e, XADES_NS, "CertDigest")) : [];
  if (!certDigests.length) return null;
  return certDigests.some((cd) => {
    const [method, value] = children(cd);
    const alg = isNamed(method, DSIG_NS, "DigestMethod") ? (method.getAttribute("Algorithm") ?? "") : "";
    if (!DIGESTS[alg] || !isNamed(value, DSIG_NS, "DigestValue")) return false;
    return createHash(DIGESTS[alg]).update(cert.raw).digest().equals(base64Value(value, "CertDigest", refuse));
  });
}

/** A reference the layout requires: its URI ("#Id"), the element it must resolve to, and its Type. */
export interface Target {
  uri: string;
  element: Element;
  /** What it covers, in words, for messages. */
  covers: string;
  /** Only the SignedProperties reference has one. */
  type?: string;
}

/**
 * Each target's reference (`refOf`) must resolve, through the document's one Id map, to the very
 * element the layout puts there, by an unqualified Id attribute, and carry the Type it must.
 */
export function checkTargets(targets: Target[], refOf: (uri: string) => Element, ids: Map<string, Element>, refuse: Refuse): void {
  for (const t of targets) {
    const id = t.uri.slice(1);
    if (ids.get(id) !== t.element) refuse(`${t.uri} does not point at the ${t.covers} where the profile puts it`, `${t.uri} không trỏ tới đúng phần tử`);
    if (t.element.getAttribute("Id") !== id) refuse(`${t.uri} must be an unqualified Id attribute`, `${t.uri} phải là thuộc tính Id`);
    const type = refOf(t.uri).getAttribute("Type");
    if (t.type ? type !== t.type : type !== null && type !== "") refuse(`reference ${t.uri} has the wrong Type`, `tham chiếu ${t.uri} có Type sai`);
  }
}

/** A computed digest (base64) against a DigestValue's bytes, in constant time. */
export function digestEquals(computed: string, value: Buffer): boolean {
  const bytes = Buffer.from(computed, "base64");
  return bytes.length === value.length && timingSafeEqual(bytes, value);
}

/** The profile's keys: RSA of at least 2048 bits. */
export function strongRsaKey(key: KeyObject): boolean {
  return key.asymmetricKeyType === "rsa" && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
}

/** The SignatureValue over the canonical SignedInfo, with an allowed `sigAlg` (see SIGNATURES). */
export function signatureValueOk(signedInfo: Element, sigAlg: string, key: KeyObject, value: Buffer): boolean {
  return rsaVerify(SIGNATURES[sigAlg], Buffer.from(canonicalize(signedInfo)), key, value);
}
