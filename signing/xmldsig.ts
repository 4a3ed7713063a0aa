// The XMLDSig pieces both the signer and the verifier use, so that what one computes the other
// checks the same way: algorithm identifiers, exclusive canonicalisation (xml-crypto's), digests,
// and the streamed digest of an attachment.
import { createHash, type Hash } from "node:crypto";
import { ExclusiveCanonicalization } from "xml-crypto";
import { isComment } from "../envelopes/xml.ts";

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
 * Exclusive C14N (no comments) of one element, as a same-document reference dereferences it:
 * comments are dropped first (XMLDSig 1.1 §4.4.3.3), from a copy: the element is never changed.
 */
export function canonicalize(el: Element): string {
  let copy = el;
  if (hasComment(el)) {
    copy = el.cloneNode(true) as Element;
    dropComments(copy);
  }
  return new ExclusiveCanonicalization().process(copy, {
    defaultNs: "",
    ancestorNamespaces: [],
    defaultNsForPrefix: {},
    inclusiveNamespacesPrefixList: [],
  }) as string;
}

function hasComment(node: Node): boolean {
  for (let n = node.firstChild; n; n = n.nextSibling) if (isComment(n) || hasComment(n)) return true;
  return false;
}

function dropComments(node: Node): void {
  for (let n = node.firstChild; n; ) {
    const next = n.nextSibling;
    if (isComment(n)) node.removeChild(n);
    else dropComments(n);
    n = next;
  }
}

export function digest(algorithm: string, data: string | Buffer): string {
  return createHash(DIGESTS[algorithm]).update(data).digest("base64");
}

/**
 * Digest of an Attachment element whose base64 text is streamed: `canonical` is the element's
 * canonical form with `marker` standing for the text; the text's bytes come from `content`.
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
  for await (const chunk of content) hash.update(chunk);
  hash.update(canonical.slice(at + marker.length));
  return hash.digest("base64");
}
