// The one verification engine: the five steps of the signature profile
// (shared/spec/signature-profile.md), written once, failing closed, in this order:
//   1. size limits, no DTD/entities/PIs, UTF-8, strict parse          (the profile's `read`)
//   2. structure: the document's layout (the profile's `locate`), then the ds:Signature, SignedInfo
//      and SignedProperties, the exact set of references and the element each must resolve to
//   3. algorithms: the allow-list (checkAlgorithms)
//   4. the signer, by the profile's policy: a chain to a trust anchor bound to the sender through
//      the agency registry (packets, status packets), or one pinned certificate (registry snapshots)
//   5. every digest (attachments streamed from the source), then the SignatureValue
// What differs between packets, status packets and registry snapshots is data: a SignatureProfile.
// Every problem is thrown as a VerificationFailure with a sub-indication; a profile whose errors
// are of another kind maps them (see snapshot.ts, SNAPSHOT_FAILURE_OF).
import type { X509Certificate } from "node:crypto";
import { DSIG_NS, XmlError, children, isComment, regionText, type ContentRegion, type PacketSource } from "../envelopes/index.ts";
import { certificateFromDer, fingerprint } from "./pki/certificates.ts";
import { validateChain } from "./pki/chain.ts";
import type { Crl } from "./pki/crl.ts";
import { isBound, type Registry } from "./registry.ts";
import { VerificationFailure, fail, type ReferenceResult, type SignerSummary, type VerificationReport } from "./report.ts";
import {
  ALG,
  DIGESTS,
  SIGNATURES,
  allNodes,
  base64Value,
  canonicalize,
  checkTargets,
  digest,
  digestEquals,
  digestWithContent,
  findSignedProperties,
  isNamed,
  namesCertificate,
  signatureValueOk,
  strongRsaKey,
  type Refuse,
  type Target,
} from "./xmldsig.ts";

/** A message in English and in Vietnamese. */
type Words = readonly [en: string, vi: string];

/** A signed element the layout requires. */
export interface SignedTarget extends Target {
  /** Where an attachment's base64 text lies in the source: its digest is streamed from there. */
  region?: ContentRegion;
}

/** What step 2 finds in the document itself, before the signature's own structure is checked. */
export interface Located {
  /** Every element of the document, in document order. */
  elements: Element[];
  /** The one ds:Signature. */
  signature: Element;
  /** The document's Id map (every Id unique: see uniqueIds). */
  ids: Map<string, Element>;
  /** The signed elements, in order; the SignedProperties (always signed, always last) excluded. */
  targets: SignedTarget[];
}

/** The children an element must have, by local name in the XML Signature namespace. */
interface Layout {
  pattern: RegExp;
  /** The message when they do not match; `found` lists their local names. */
  wrong: (found: string) => Words;
  /** A child outside the XML Signature namespace: its own message, checked before or after `pattern`
   *  (without one, such a child fails `pattern`). */
  foreign?: { words: Words; first: boolean };
}

/** Who may have signed (step 4). */
type SignerPolicy =
  | {
      /** A chain from the KeyInfo certificate to a trust anchor, and the agency registry binding it to the sender. */
      kind: "chain-and-registry";
      anchors: X509Certificate[];
      crls: Crl[];
      registry: Registry | null;
      /** The sender the signer must be registered for, read from the signed content. */
      sender: () => string;
      /** Revocation checked as of this time rather than the time the signer is checked at (see validateChain). */
      revokedBy?: Date;
    }
  | {
      /** Exactly this certificate, configured out of band (X-Road's configuration anchor), valid at the time. */
      kind: "pinned";
      certificate: X509Certificate;
    };

export interface SignatureProfile {
  /** Step 1: the strictly parsed document. XmlError is turned into a FORMAT_FAILURE with `malformed`.
   *  A profile whose `read` returns the document itself (and has no `source`) runs synchronously. */
  read: () => Document | Promise<Document>;
  malformed: (message: string) => Words;
  /** Step 2, the document's own layout. */
  locate: (doc: Document, refuse: Refuse) => Located;
  /** Where attachment regions are read from (step 5). */
  source?: PacketSource;
  /** What the document is called: "packet", "snapshot". */
  noun: Words;
  ids: { signature: string; signedProps: string };
  signedPropsCovers: string;
  signatureParts: Layout;
  signedInfoParts: Layout;
  /** When set, the Object must hold only QualifyingProperties, and that only SignedProperties (and,
   *  with `signerTime`, the UnsignedProperties holding a signature time-stamp, which it reads strictly). */
  bareObject?: Words;
  /** When set, any difference between the references and the targets is reported with this one message. */
  referenceSet?: (expected: string[], found: string[]) => Words;
  /** Called once steps 1–3 passed: what the signature covers may now be read (and `covers` refined). */
  covered?: (targets: SignedTarget[], signedProps: Element) => void;
  signer: SignerPolicy;
  /** When set, the time the signer's certificate is checked at instead of `at` (a valid signature
   *  time-stamp's: proof that the signature existed then); null keeps `at`. Called after step 3. */
  signerTime?: (signatureValue: Element, qualifyingProperties: Element) => Promise<Date | null>;
  /** The message when digests do not match. */
  changed: (broken: ReferenceResult[]) => Words;
  /** The message when the SignatureValue does not match the signer's key. */
  badValue: Words;
}

export interface Verified {
  signer: X509Certificate;
  signedProps: Element;
  /** Each reference's digest (base64) by URI: computed, and equal to the signed DigestValue. */
  digests: Map<string, string>;
}

const format: Refuse = (en, vi) => fail("FORMAT_FAILURE", en, vi);

/**
 * Runs the five steps for `profile` at time `at`. Records what it learns in `report` as it goes
 * (references and their digests, the signer, chain warnings), so that a failure still says how far
 * verification got. Throws a VerificationFailure.
 */
export async function verifySignature(profile: SignatureProfile, at: Date, report: VerificationReport): Promise<Verified> {
  const run = steps(profile, at, report);
  let next = run.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = await next.value;
    } catch (err) {
      next = run.throw(err);
      continue;
    }
    next = run.next(value);
  }
  return next.value;
}

/** verifySignature for a profile that needs no input or output (a document already in memory). */
export function verifySignatureSync(profile: SignatureProfile, at: Date, report: VerificationReport): Verified {
  const next = steps(profile, at, report).next();
  if (!next.done) throw new Error("internal error: this signature profile reads its input asynchronously");
  return next.value;
}

/** `value`, waited for by the runner when it is a promise: the steps are written once for both runners. */
function* wait<T>(value: T | Promise<T>): Generator<Promise<T>, T, unknown> {
  return value instanceof Promise ? ((yield value) as T) : value;
}

function* steps(profile: SignatureProfile, at: Date, report: VerificationReport): Generator<Promise<unknown>, Verified, unknown> {
  // 1. the strict parse
  let doc: Document;
  try {
    doc = yield* wait(profile.read());
  } catch (err) {
    if (err instanceof XmlError) format(...profile.malformed(err.message));
    throw err;
  }

  // 2. structure: the document's layout, then the signature's
  const { elements, signature, ids, targets } = profile.locate(doc, format);
  const [noun, nounVi] = profile.noun;
  const { signature: signatureId, signedProps: signedPropsId } = profile.ids;
  if (signature.getAttribute("Id") !== signatureId) format(`the signature's Id must be "${signatureId}"`, `Id của chữ ký phải là "${signatureId}"`);
  if (allNodes(signature).some(isComment)) format("comments are not allowed inside the signature", "không được có chú thích trong chữ ký");
  const sigParts = children(signature);
  checkLayout(sigParts, profile.signatureParts);
  // one SignedInfo in the whole document: no second one (nested in Object or KeyInfo) to confuse a reader
  if (elements.filter((e) => isNamed(e, DSIG_NS, "SignedInfo")).length !== 1) {
    format(`the ${noun} must hold exactly one SignedInfo`, `${nounVi} phải có đúng một SignedInfo`);
  }
  const [signedInfo, signatureValue] = sigParts;
  const siParts = children(signedInfo);
  checkLayout(siParts, profile.signedInfoParts);
  const objects = sigParts.filter((e) => e.localName === "Object");
  const signedProps = findSignedProperties(objects, signatureId, format);
  const qualifying = children(signedProps.parentNode as Element).length;
  if (profile.bareObject && (objects.length !== 1 || children(objects[0]).length !== 1 || qualifying > (profile.signerTime ? 2 : 1))) {
    format(...profile.bareObject);
  }
  const expected: SignedTarget[] = [
    ...targets,
    { uri: `#${signedPropsId}`, element: signedProps, covers: profile.signedPropsCovers, type: ALG.SIGNED_PROPERTIES_TYPE },
  ];
  const byUri = references(siParts.slice(2), expected, profile);
  checkTargets(expected, (uri) => byUri.get(uri)!, ids, format);

  // 3. algorithms
  const { sigAlg, refAlgs } = checkAlgorithms(signedInfo);
  profile.covered?.(expected, signedProps);
  report.references = expected.map((e) => ({ uri: e.uri, covers: e.covers, digestOk: null }));

  // 4. the signer (at the time a signature time-stamp proves, when there is a valid one)
  const keyInfo = sigParts.find((e) => e.localName === "KeyInfo");
  const signerAt = (profile.signerTime && (yield* wait(profile.signerTime(signatureValue, signedProps.parentNode as Element)))) || at;
  const signer =
    profile.signer.kind === "pinned"
      ? pinnedSigner(profile.signer.certificate, keyInfo, signedProps, signerAt, noun)
      : chainSigner(profile.signer, keyInfo, signedProps, signerAt, report);

  // 5. every digest, then the signature value
  const results: ReferenceResult[] = [];
  const digests = new Map<string, string>();
  for (const e of expected) {
    const alg = refAlgs.get(e.uri)!;
    const want = base64Value(children(byUri.get(e.uri)!)[2], "DigestValue", format);
    const canonical = canonicalize(e.element);
    if (e.region && !profile.source) throw new Error("internal error: an attachment region without its source");
    const got = e.region
      ? yield* wait(digestWithContent(alg, canonical, e.region.marker, regionText(profile.source!, e.region)))
      : digest(alg, canonical);
    results.push({ uri: e.uri, covers: e.covers, digestOk: digestEquals(got, want) });
    digests.set(e.uri, got);
  }
  report.references = results;
  const broken = results.filter((r) => !r.digestOk);
  if (broken.length) fail("HASH_FAILURE", ...profile.changed(broken));
  if (!signatureValueOk(signedInfo, sigAlg, signer.publicKey, base64Value(signatureValue, "SignatureValue", format))) {
    fail("SIG_CRYPTO_FAILURE", ...profile.badValue);
  }
  return { signer, signedProps, digests };
}

function checkLayout(parts: Element[], layout: Layout): void {
  const foreign = () => {
    if (layout.foreign && parts.some((e) => e.namespaceURI !== DSIG_NS)) format(...layout.foreign.words);
  };
  if (layout.foreign?.first) foreign();
  const names = parts.map((e) => (e.namespaceURI === DSIG_NS || layout.foreign ? e.localName : `{${e.namespaceURI ?? ""}}${e.localName}`)).join(",");
  if (!layout.pattern.test(names)) format(...layout.wrong(names));
  foreign();
}

/** The references by URI: same-document "#Id" ones only, each once, exactly one per target. */
function references(refs: Element[], expected: SignedTarget[], profile: SignatureProfile): Map<string, Element> {
  const uris = refs.map((r) => r.getAttribute("URI") ?? "");
  const want = expected.map((e) => e.uri);
  if (profile.referenceSet && [...uris].sort().join(" ") !== [...want].sort().join(" ")) format(...profile.referenceSet(want, uris));
  const byUri = new Map<string, Element>();
  refs.forEach((ref, i) => {
    const uri = uris[i];
    if (!/^#[A-Za-z0-9_.-]+$/.test(uri)) {
      format(`reference URI "${uri}" is not allowed: only same-document "#Id" references are`, `tham chiếu "${uri}" không được phép`);
    }
    if (byUri.has(uri)) format(`reference ${uri} appears twice`, `tham chiếu ${uri} xuất hiện hai lần`);
    byUri.set(uri, ref);
  });
  const missing = want.filter((u) => !byUri.has(u));
  const extra = [...byUri.keys()].filter((u) => !want.includes(u));
  if (missing.length || extra.length) {
    const what = [missing.length ? `not signed: ${missing.join(", ")}` : "", extra.length ? `unexpected: ${extra.join(", ")}` : ""]
      .filter(Boolean)
      .join("; ");
    format(`the signature does not cover exactly the parts the profile requires (${what})`, `chữ ký không bao phủ đúng các phần bắt buộc (${what})`);
  }
  return byUri;
}

// ---------------------------------------------------------------------------------------------
// Step 3

/**
 * Step 3 on its own: the SignedInfo's algorithms against the allow-list (exc-c14n as the only
 * canonicalisation and transform, RSA-SHA256/512, SHA-256/512). Throws a VerificationFailure.
 */
export function checkAlgorithms(signedInfo: Element): { sigAlg: string; refAlgs: Map<string, string> } {
  const [c14nMethod, sigMethod, ...refs] = children(signedInfo);
  const c14n = c14nMethod ? attr(c14nMethod, "Algorithm") : "";
  if (c14nMethod?.localName !== "CanonicalizationMethod" || c14n !== ALG.EXC_C14N || children(c14nMethod).length) {
    disallowed(`canonicalization ${c14n || "(none)"}`);
  }
  const sigAlg = sigMethod ? attr(sigMethod, "Algorithm") : "";
  if (sigMethod?.localName !== "SignatureMethod" || !SIGNATURES[sigAlg] || children(sigMethod).length) {
    disallowed(`signature algorithm ${sigAlg || "(none)"}`);
  }
  const refAlgs = new Map<string, string>();
  for (const ref of refs) {
    const uri = attr(ref, "URI");
    const parts = children(ref);
    const transformsEl = parts.find((e) => e.localName === "Transforms");
    if (!transformsEl) disallowed(`reference "${uri}" without the exc-c14n transform`);
    const transforms = children(transformsEl);
    for (const t of transforms) {
      if (t.localName !== "Transform" || t.namespaceURI !== DSIG_NS || attr(t, "Algorithm") !== ALG.EXC_C14N || children(t).length) {
        const what = t.namespaceURI === DSIG_NS ? attr(t, "Algorithm") || t.localName : `<${t.tagName}> outside the XML Signature namespace`;
        disallowed(`transform ${what} in reference "${uri}"`);
      }
    }
    if (transforms.length !== 1) disallowed(`reference "${uri}" must have exactly one transform (exc-c14n), it has ${transforms.length}`);
    const digestMethod = parts.find((e) => e.localName === "DigestMethod");
    const digestAlg = digestMethod ? attr(digestMethod, "Algorithm") : "";
    if (!DIGESTS[digestAlg]) disallowed(`digest ${digestAlg || "(none)"} in reference "${uri}"`);
    if (parts.map((e) => e.localName).join(",") !== "Transforms,DigestMethod,DigestValue" || parts.some((e) => e.namespaceURI !== DSIG_NS)) {
      format(`reference "${uri}" must hold Transforms, DigestMethod and DigestValue`, `tham chiếu "${uri}" không đúng cấu trúc`);
    }
    base64Value(parts[2], `DigestValue of ${uri}`, format);
    refAlgs.set(uri, digestAlg);
  }
  return { sigAlg, refAlgs };
}

function disallowed(what: string): never {
  return fail("DISALLOWED_ALGORITHM", `${what} is not allowed by the signature profile`, `thuật toán không được phép: ${what}`);
}

function attr(el: Element, name: string): string {
  return el.getAttribute(name) ?? "";
}

// ---------------------------------------------------------------------------------------------
// Step 4: the two signer policies

/** Chain and registry: the KeyInfo certificate, named by SigningCertificateV2, chains to an anchor and is registered for the sender. */
function chainSigner(
  policy: Extract<SignerPolicy, { kind: "chain-and-registry" }>,
  keyInfo: Element | undefined,
  signedProps: Element,
  at: Date,
  report: VerificationReport,
): X509Certificate {
  // namespace-aware, as every XMLDSig verifier reads KeyInfo: a foreign X509Data is another kind of key information
  const certElements = (keyInfo ? children(keyInfo) : [])
    .filter((e) => isNamed(e, DSIG_NS, "X509Data"))
    .flatMap((d) => children(d).filter((e) => isNamed(e, DSIG_NS, "X509Certificate")));
  if (!certElements.length) {
    fail("NO_SIGNING_CERTIFICATE_FOUND", "the signature carries no signer certificate", "chữ ký không kèm chứng thư số của người ký");
  }
  const certs = certElements.map((el, i) => {
    try {
      return certificateFromDer(base64Value(el, `certificate ${i + 1}`, format));
    } catch (err) {
      if (err instanceof VerificationFailure) throw err;
      return format(`certificate ${i + 1} in KeyInfo cannot be read`, `không đọc được chứng thư số thứ ${i + 1}`);
    }
  });
  const signer = certs[0];
  report.signer = summary(signer, null);
  const key = signer.publicKey;
  if (!strongRsaKey(key)) {
    disallowed(`signer key ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.modulusLength ?? "?"} bits (RSA ≥ 2048 required)`);
  }
  const named = namesCertificate(signedProps, signer, format);
  if (named === null) {
    fail("NO_SIGNING_CERTIFICATE_FOUND", "the signed properties hold no SigningCertificateV2", "thuộc tính đã ký thiếu SigningCertificateV2");
  }
  if (!named) {
    fail(
      "NO_SIGNING_CERTIFICATE_FOUND",
      "the certificate in KeyInfo is not the one the signed SigningCertificateV2 names",
      "chứng thư số trong KeyInfo không phải chứng thư được nêu trong SigningCertificateV2",
    );
  }
  trustSigner(policy, signer, certs.slice(1), policy.sender(), at, report);
  return signer;
}

/**
 * The trust decision on a signer certificate: a chain through `intermediates` to a trust anchor at
 * `at`, and the registry binding it to the sender `organId`. Records the signer and the chain's
 * warnings in `report`; throws a VerificationFailure. Also what our own fresh packet is checked with.
 */
export function trustSigner(
  trust: { anchors: X509Certificate[]; crls: Crl[]; registry: Registry | null; revokedBy?: Date },
  signer: X509Certificate,
  intermediates: X509Certificate[],
  organId: string,
  at: Date,
  report: VerificationReport,
): void {
  report.signer = summary(signer, null);
  const chain = validateChain({ leaf: signer, intermediates, anchors: trust.anchors, crls: trust.crls, at, revokedBy: trust.revokedBy });
  if (!chain.ok) fail(chain.subIndication, chain.message, chain.vi);
  report.warnings.push(...chain.warnings);
  if (!trust.registry) {
    fail(
      "SIGNER_NOT_BOUND",
      `no agency registry was given, so the signer cannot be bound to the sender ${organId}`,
      `không có danh bạ cơ quan nên không xác định được người ký thuộc cơ quan gửi ${organId}`,
    );
  }
  if (!isBound(trust.registry, organId, fingerprint(signer))) {
    const known = trust.registry.has(organId);
    fail(
      "SIGNER_NOT_BOUND",
      known ? `the signer certificate is valid but is not registered for the sender ${organId}` : `the sender ${organId} is not in the agency registry`,
      known ? `chứng thư số hợp lệ nhưng không được đăng ký cho cơ quan gửi ${organId}` : `cơ quan gửi ${organId} không có trong danh bạ`,
    );
  }
  report.signer = summary(signer, organId);
}

/**
 * Pinned: KeyInfo holds one X509Data whose first certificate is the pinned one, byte for byte; it is
 * RSA ≥ 2048, valid at `at` (a valid signature time-stamp's time, when the profile reads one), and
 * named by SigningCertificateV2. Someone else's certificate is
 * SIGNER_NOT_BOUND (the signer is not the one bound to the publisher), a pinned certificate out of
 * its validity EXPIRED or NOT_YET_VALID.
 */
function pinnedSigner(pinned: X509Certificate, keyInfo: Element | undefined, signedProps: Element, at: Date, noun: string): X509Certificate {
  const keyParts = keyInfo ? children(keyInfo) : [];
  const certElements = keyParts.length === 1 && isNamed(keyParts[0], DSIG_NS, "X509Data") ? children(keyParts[0]) : [];
  if (!certElements.length || certElements.some((e) => !isNamed(e, DSIG_NS, "X509Certificate"))) {
    format("KeyInfo must hold one X509Data with the publisher's X509Certificate first", "KeyInfo phải có một X509Data, chứng thư số của nơi công bố đứng đầu");
  }
  const signerDer = base64Value(certElements[0], "the X509Certificate", format);
  if (!signerDer.equals(pinned.raw)) {
    let found = "an unreadable certificate";
    try {
      const cert = certificateFromDer(signerDer);
      found = `${cert.subject.replace(/\n/g, ", ")} (SHA-256 ${fingerprint(cert)})`;
    } catch {
      /* keep the generic words */
    }
    fail(
      "SIGNER_NOT_BOUND",
      `the ${noun} is signed by ${found}, not by the configured publisher certificate (SHA-256 ${fingerprint(pinned)})`,
      `chữ ký không phải của chứng thư số đã cấu hình (SHA-256 ${fingerprint(pinned)})`,
    );
  }
  if (!strongRsaKey(pinned.publicKey)) {
    fail("DISALLOWED_ALGORITHM", "the publisher key must be RSA with at least 2048 bits", "khóa của nơi công bố phải là RSA từ 2048 bit");
  }
  const notBefore = new Date(pinned.validFrom);
  const notAfter = new Date(pinned.validTo);
  if (!(notBefore.getTime() <= at.getTime() && at.getTime() <= notAfter.getTime())) {
    fail(
      at.getTime() < notBefore.getTime() ? "NOT_YET_VALID" : "EXPIRED",
      `the publisher certificate is not valid at ${at.toISOString()} (valid ${pinned.validFrom} to ${pinned.validTo})`,
      `chứng thư số của nơi công bố không có hiệu lực tại ${at.toISOString()}`,
    );
  }
  const named = namesCertificate(signedProps, pinned, format);
  if (named === null) format("the signed properties must hold exactly one SigningCertificateV2 with a CertDigest", "thuộc tính đã ký phải có đúng một SigningCertificateV2");
  if (!named) {
    fail("SIGNER_NOT_BOUND", "the signed SigningCertificateV2 does not name the publisher certificate", "SigningCertificateV2 không nêu chứng thư số của nơi công bố");
  }
  return pinned;
}

const summaries = new WeakMap<X509Certificate, CertificateDescription>();

function summary(cert: X509Certificate, organId: string | null): SignerSummary {
  let known = summaries.get(cert);
  if (!known) summaries.set(cert, (known = describeCertificate(cert)));
  return { organId, ...known };
}

/** What a report or a page says of a certificate: names, serial, fingerprint and validity. */
export type CertificateDescription = Omit<SignerSummary, "organId">;

export function describeCertificate(cert: X509Certificate): CertificateDescription {
  return {
    subject: cert.subject.replace(/\n/g, ", "),
    issuer: cert.issuer.replace(/\n/g, ", "),
    serialNumber: cert.serialNumber.toLowerCase(),
    fingerprint: fingerprint(cert),
    notBefore: isoDate(cert.validFrom),
    notAfter: isoDate(cert.validTo),
  };
}

/** ISO 8601, or Node's own text when it cannot give a date (it says "Bad time value" for year 1). */
function isoDate(text: string): string {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}
