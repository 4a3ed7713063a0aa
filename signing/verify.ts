// Verification exactly per the profile, steps 1–5 in order, failing closed. What it returns of the
// packet is read only from the canonical bytes that were digested (node-saml's rule): never from
// the received DOM, which may hold more than what was signed.
import type { X509Certificate } from "node:crypto";
import {
  EDXML_NS,
  DSIG_NS,
  XmlError,
  allElements,
  children,
  isComment,
  parseStrict,
  readAttachmentInfo,
  readBussiness,
  readEdocHeader,
  readStatusHeader,
  readTraceHeaders,
  regionText,
  scanPacket,
  isStatusHeader,
  text,
  BUSINESS_KINDS,
  type AttachmentInfo,
  type ContentRegion,
  type Packet,
  type PacketSource,
  type ScanLimits,
  type TraceHeader,
} from "../envelopes/index.ts";
import { certificateFromDer, fingerprint } from "./pki/certificates.ts";
import { validateChain } from "./pki/chain.ts";
import type { Crl } from "./pki/crl.ts";
import { isBound, type Registry } from "./registry.ts";
import {
  INDICATION_OF,
  VerificationFailure,
  emptyReport,
  fail,
  type ReferenceResult,
  type SignerSummary,
  type VerificationReport,
} from "./report.ts";
import {
  ALG,
  DIGESTS,
  IDS,
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
  soleElement,
  strongRsaKey,
  uniqueIds,
  type Target,
} from "./xmldsig.ts";

export interface TrustConfig {
  /** Trust anchors (root CAs, or pinned agency certificates). */
  anchors: X509Certificate[];
  crls: Crl[];
  /** organ id → certificate fingerprints; null when none is configured (then nothing is bound). */
  registry: Registry | null;
}

export interface VerifyOptions extends TrustConfig {
  /** Time at which certificates are checked; defaults to now. */
  at?: Date;
  limits?: ScanLimits;
}

export interface VerifiedAttachment {
  info: AttachmentInfo;
  /** Where its base64 text lies in the source (see regionBytes). */
  region: ContentRegion | null;
}

/** What the signature proves, read only from signed bytes. */
export interface SignedContent {
  packet: Packet;
  attachments: VerifiedAttachment[];
  /** Relay hops: NOT covered by the signature. */
  unsignedTraces: TraceHeader[];
  signer: X509Certificate;
}

export interface VerificationResult {
  report: VerificationReport;
  content: SignedContent | null;
}

interface Expected extends Target {
  /** Attachment number, from 1. */
  attachment?: number;
  region?: ContentRegion;
}

export async function verifyPacket(source: PacketSource, opts: VerifyOptions): Promise<VerificationResult> {
  const at = opts.at ?? new Date();
  const report = emptyReport(at);
  try {
    const content = await run(source, opts, at, report);
    report.valid = true;
    report.indication = "TOTAL_PASSED";
    return { report, content };
  } catch (err) {
    const failure =
      err instanceof VerificationFailure
        ? err
        : err instanceof XmlError
          ? new VerificationFailure("FORMAT_FAILURE", err.message, `gói tin không đúng định dạng: ${err.message}`)
          : null;
    if (!failure) throw err;
    report.subIndication = failure.subIndication;
    report.indication = INDICATION_OF[failure.subIndication];
    report.errors.push(failure.bilingual);
    return { report, content: null };
  }
}

const format = (en: string, vi: string) => fail("FORMAT_FAILURE", en, vi);

async function run(source: PacketSource, opts: VerifyOptions, at: Date, report: VerificationReport): Promise<SignedContent> {
  // 1. size limits, no DTD/entities/PIs, UTF-8, strict parse
  const scanned = await scanPacket(source, opts.limits);
  const doc = parseStrict(scanned.skeleton);

  // 2. structure
  const root = doc.documentElement;
  if (root.localName !== "edXML" || root.namespaceURI !== EDXML_NS) {
    format(`not an edXML packet: the root element is <${root.tagName}>`, `không phải gói tin edXML: phần tử gốc là <${root.tagName}>`);
  }
  const elements = allElements(root);
  const signatures = elements.filter((e) => isNamed(e, DSIG_NS, "Signature"));
  const envelope = only(root, "edXMLEnvelope");
  const header = only(envelope, "edXMLHeader");
  const messageHeader = only(header, "MessageHeader");
  const isStatus = isStatusHeader(messageHeader);
  report.packetKind = isStatus ? "status" : "edoc";
  report.documentId = text(messageHeader, "DocumentId") ?? text(messageHeader, "ResponseFor", "DocumentId") ?? null;
  if (signatures.length === 0) {
    const placeholder = elements.some((e) => e.localName === "Signature");
    fail(
      "NO_SIGNATURE",
      placeholder
        ? "the packet is not signed: its <Signature> is a placeholder outside the XML Signature namespace"
        : "the packet is not signed",
      placeholder ? "gói tin chưa được ký số: thẻ <Signature> chỉ là phần giữ chỗ" : "gói tin chưa được ký số",
    );
  }
  if (signatures.length > 1) {
    format(`the packet holds ${signatures.length} XML signatures; exactly one is allowed`, `gói tin có ${signatures.length} chữ ký; chỉ được có một`);
  }
  const signature = signatures[0];
  const ids = uniqueIds(elements, format);
  allowOnly(root, ["edXMLEnvelope", "AttachmentEncoded"]);
  allowOnly(envelope, ["edXMLHeader", "edXMLBody"]);
  allowOnly(header, ["MessageHeader", "TraceHeaderList", "Signature"]);
  const headerChildren = children(header);
  if (signature.parentNode !== header || headerChildren[headerChildren.length - 1] !== signature) {
    format("the signature must be the last element of edXMLHeader", "chữ ký phải là phần tử cuối cùng của edXMLHeader");
  }
  const traceList = optional(header, "TraceHeaderList");
  const businesses = traceList ? children(traceList).filter((e) => e.localName === "Bussiness" || e.localName === "Business") : [];
  if (businesses.length > 1) format("more than one Bussiness block", "có nhiều hơn một khối Bussiness");
  const body = optional(envelope, "edXMLBody");
  const manifest = body ? optional(body, "edXMLManifest") : undefined;
  const attachmentEncoded = optional(root, "AttachmentEncoded");
  if (attachmentEncoded) allowOnly(attachmentEncoded, ["Attachment"]);
  const attachments = attachmentEncoded ? children(attachmentEncoded, "Attachment") : [];
  if (isStatus && (body || attachmentEncoded || businesses.length)) {
    format("a status packet carries only a MessageHeader", "gói tin trạng thái chỉ gồm MessageHeader");
  }

  // the signature element itself
  if (signature.getAttribute("Id") !== IDS.signature) format(`the signature's Id must be "${IDS.signature}"`, `Id của chữ ký phải là "${IDS.signature}"`);
  if (allNodes(signature).some(isComment)) format("comments are not allowed inside the signature", "không được có chú thích trong chữ ký");
  const sigParts = children(signature);
  if (sigParts.some((e) => e.namespaceURI !== DSIG_NS)) format("unexpected element inside the signature", "phần tử lạ trong chữ ký");
  const names = sigParts.map((e) => e.localName).join(",");
  if (!/^SignedInfo,SignatureValue(,KeyInfo)?(,Object)+$/.test(names)) {
    format(`the signature must hold SignedInfo, SignatureValue, KeyInfo and Object in that order, found ${names}`, "cấu trúc chữ ký không đúng");
  }
  // one SignedInfo in the whole packet: no second one (nested in Object or KeyInfo) to confuse a reader
  if (elements.filter((e) => isNamed(e, DSIG_NS, "SignedInfo")).length !== 1) {
    format("the packet must hold exactly one SignedInfo", "gói tin phải có đúng một SignedInfo");
  }
  const [signedInfo, signatureValue] = sigParts;
  const siParts = children(signedInfo);
  if (!/^CanonicalizationMethod,SignatureMethod(,Reference)+$/.test(siParts.map((e) => e.localName).join(","))) {
    format("SignedInfo must hold CanonicalizationMethod, SignatureMethod and References", "SignedInfo không đúng cấu trúc");
  }
  if (siParts.some((e) => e.namespaceURI !== DSIG_NS)) format("unexpected element inside SignedInfo", "phần tử lạ trong SignedInfo");
  const signedProps = findSignedProperties(sigParts.filter((e) => e.localName === "Object"), IDS.signature, format);

  // the references must be exactly the set the layout requires
  const expected: Expected[] = [
    { uri: `#${IDS.header}`, element: messageHeader, covers: isStatus ? "status message header" : "message header" },
  ];
  if (businesses[0]) expected.push({ uri: `#${IDS.business}`, element: businesses[0], covers: "business block" });
  if (manifest) expected.push({ uri: `#${IDS.manifest}`, element: manifest, covers: "attachment manifest" });
  const regionOf = new Map(scanned.regions.map((r) => [r.marker, r]));
  attachments.forEach((att, i) => {
    const n = i + 1;
    expected.push({ uri: `#${IDS.attachment(n)}`, element: att, covers: `attachment ${n}`, attachment: n, region: contentRegion(att, regionOf) });
  });
  expected.push({
    uri: `#${IDS.signedProps}`,
    element: signedProps,
    covers: "signed properties (signing time, signer certificate)",
    type: ALG.SIGNED_PROPERTIES_TYPE,
  });
  if (regionOf.size !== scanned.regions.length || expected.filter((e) => e.region).length !== scanned.regions.length) {
    format("attachment content found outside an attachment", "nội dung tệp đính kèm nằm ngoài phần tệp đính kèm");
  }
  const references = siParts.slice(2);
  const byUri = new Map<string, Element>();
  for (const ref of references) {
    const uri = ref.getAttribute("URI") ?? "";
    if (!/^#[A-Za-z0-9_.-]+$/.test(uri)) {
      format(`reference URI "${uri}" is not allowed: only same-document "#Id" references are`, `tham chiếu "${uri}" không được phép`);
    }
    if (byUri.has(uri)) format(`reference ${uri} appears twice`, `tham chiếu ${uri} xuất hiện hai lần`);
    byUri.set(uri, ref);
  }
  const missing = expected.filter((e) => !byUri.has(e.uri)).map((e) => e.uri);
  const extra = [...byUri.keys()].filter((u) => !expected.some((e) => e.uri === u));
  if (missing.length || extra.length) {
    const what = [missing.length ? `not signed: ${missing.join(", ")}` : "", extra.length ? `unexpected: ${extra.join(", ")}` : ""]
      .filter(Boolean)
      .join("; ");
    format(`the signature does not cover exactly the parts the profile requires (${what})`, `chữ ký không bao phủ đúng các phần bắt buộc (${what})`);
  }
  checkTargets(expected, (uri) => byUri.get(uri)!, ids, format);

  // 3. algorithms
  const { sigAlg, refAlgs } = checkAlgorithms(signedInfo);

  // The signed content is read only from the very element objects that are canonicalised and
  // digested below (each was checked above to be the one its reference's Id resolves to), so
  // nothing outside the signature can be read as business data.
  const canonical = new Map(expected.map((e) => [e.uri, canonicalize(e.element)]));
  const packet: Packet = isStatus
    ? { kind: "status", header: readStatusHeader(messageHeader) }
    : {
        kind: "edoc",
        header: readEdocHeader(messageHeader),
        bussiness: businesses[0] ? readBussiness(businesses[0]) : undefined,
        traces: [],
        attachments: [],
      };
  const verifiedAttachments: VerifiedAttachment[] = expected
    .filter((e) => e.attachment)
    .map((e) => {
      const info = readAttachmentInfo(e.element);
      e.covers = `attachment ${e.attachment}: ${info.AttachmentName}`;
      return { info, region: e.region ?? null };
    });
  if (packet.kind === "edoc") {
    packet.attachments = verifiedAttachments.map((a) => a.info);
    const kind = packet.bussiness ? BUSINESS_KINDS[packet.bussiness.BussinessDocType]?.name : undefined;
    if (kind) expected.find((e) => e.uri === `#${IDS.business}`)!.covers = `business block (${kind})`;
  }
  const organId = packet.header.From.OrganId;
  report.documentId = packet.kind === "edoc" ? packet.header.DocumentId : packet.header.ResponseFor.DocumentId;
  report.references = expected.map((e) => ({ uri: e.uri, covers: e.covers, digestOk: null }));
  const props = signedProps;
  report.signingTime = textDeep(props, "SigningTime") ?? null;

  // 4. the signer certificate: chain, revocation, SigningCertificateV2, binding to the sender
  const keyInfo = sigParts.find((e) => e.localName === "KeyInfo");
  const certElements = keyInfo ? children(keyInfo, "X509Data").flatMap((d) => children(d, "X509Certificate")) : [];
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
  const named = namesCertificate(props, signer, format);
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
  const chain = await validateChain({ leaf: signer, intermediates: certs.slice(1), anchors: opts.anchors, crls: opts.crls, at });
  if (!chain.ok) fail(chain.subIndication, chain.message, chain.vi);
  report.warnings.push(...chain.warnings);
  if (!opts.registry) {
    fail(
      "SIGNER_NOT_BOUND",
      `no agency registry was given, so the signer cannot be bound to the sender ${organId}`,
      `không có danh bạ cơ quan nên không xác định được người ký thuộc cơ quan gửi ${organId}`,
    );
  }
  if (!isBound(opts.registry, organId, fingerprint(signer))) {
    fail(
      "SIGNER_NOT_BOUND",
      opts.registry.has(organId)
        ? `the signer certificate is valid but is not registered for the sender ${organId}`
        : `the sender ${organId} is not in the agency registry`,
      opts.registry.has(organId)
        ? `chứng thư số hợp lệ nhưng không được đăng ký cho cơ quan gửi ${organId}`
        : `cơ quan gửi ${organId} không có trong danh bạ`,
    );
  }
  report.signer = summary(signer, organId);

  // 5. every digest, then the signature value
  const results: ReferenceResult[] = [];
  for (const e of expected) {
    const alg = refAlgs.get(e.uri)!;
    const want = base64Value(children(byUri.get(e.uri)!)[2], "DigestValue", format);
    const got = e.region
      ? await digestWithContent(alg, canonical.get(e.uri)!, e.region.marker, regionText(source, e.region))
      : digest(alg, canonical.get(e.uri)!);
    results.push({ uri: e.uri, covers: e.covers, digestOk: digestEquals(got, want) });
  }
  report.references = results;
  const broken = results.filter((r) => !r.digestOk);
  if (broken.length) {
    const list = broken.map((r) => `${r.uri} (${r.covers})`).join(", ");
    fail("HASH_FAILURE", `signed content was changed after signing: ${list}`, `nội dung đã ký bị thay đổi sau khi ký: ${list}`);
  }
  if (!signatureValueOk(signedInfo, sigAlg, key, base64Value(signatureValue, "SignatureValue", format))) {
    fail("SIG_CRYPTO_FAILURE", "the signature value does not match the signer's key", "giá trị chữ ký không khớp với khóa của người ký");
  }
  signingTimeWarnings(report, signer, at);
  const unsignedTraces = traceList ? readTraceHeaders(traceList) : [];
  if (unsignedTraces.length) {
    report.warnings.push(
      `${unsignedTraces.length} trace entr${unsignedTraces.length === 1 ? "y is" : "ies are"} not covered by the signature (relays add them) — các dấu vết chuyển tiếp không nằm trong phạm vi chữ ký`,
    );
  }
  if (packet.kind === "edoc") packet.traces = unsignedTraces;
  return { packet, attachments: verifiedAttachments, unsignedTraces, signer };
}

/**
 * Step 3 on its own: the SignedInfo's algorithms against the allow-list (exc-c14n as the only
 * canonicalisation and transform, RSA-SHA256/512, SHA-256/512). Throws a VerificationFailure.
 */
export function checkAlgorithms(signedInfo: Element): { sigAlg: string; refAlgs: Map<string, string> } {
  const [c14nMethod, sigMethod, ...references] = children(signedInfo);
  const c14n = c14nMethod ? attr(c14nMethod, "Algorithm") : "";
  if (c14nMethod?.localName !== "CanonicalizationMethod" || c14n !== ALG.EXC_C14N || children(c14nMethod).length) {
    disallowed(`canonicalization ${c14n || "(none)"}`);
  }
  const sigAlg = sigMethod ? attr(sigMethod, "Algorithm") : "";
  if (sigMethod?.localName !== "SignatureMethod" || !SIGNATURES[sigAlg] || children(sigMethod).length) {
    disallowed(`signature algorithm ${sigAlg || "(none)"}`);
  }
  const refAlgs = new Map<string, string>();
  for (const ref of references) {
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

function only(parent: Element, localName: string): Element {
  return (
    soleElement(parent, EDXML_NS, localName) ??
    format(`<${parent.localName}> must contain exactly one <${localName}> in the edXML namespace`, `<${parent.localName}> phải có đúng một <${localName}>`)
  );
}

function optional(parent: Element, localName: string): Element | undefined {
  const found = children(parent, localName);
  if (found.length > 1) format(`<${parent.localName}> holds more than one <${localName}>`, `<${parent.localName}> có nhiều hơn một <${localName}>`);
  if (found[0] && found[0].namespaceURI !== EDXML_NS) format(`<${localName}> is not in the edXML namespace`, `<${localName}> không thuộc không gian tên edXML`);
  return found[0];
}

function allowOnly(parent: Element, names: string[]): void {
  for (const el of children(parent)) {
    if (!names.includes(el.localName)) {
      format(`unexpected element <${el.tagName}> inside <${parent.localName}>`, `phần tử lạ <${el.tagName}> trong <${parent.localName}>`);
    }
  }
}

/** The elided base64 text of an Attachment must be the only content of its ContentTransferEncoded. */
function contentRegion(att: Element, regions: Map<string, ContentRegion>): ContentRegion | undefined {
  const cte = children(att, "ContentTransferEncoded");
  if (cte.length > 1) format("an attachment holds more than one ContentTransferEncoded", "tệp đính kèm có nhiều hơn một ContentTransferEncoded");
  const nodes = cte[0] ? allNodes(cte[0]) : [];
  const region = nodes.length === 1 ? regions.get(nodes[0].nodeValue ?? "") : undefined;
  if (cte[0] && nodes.length && !region) {
    format("an attachment's content must be plain base64 text", "nội dung tệp đính kèm phải là văn bản base64");
  }
  return region;
}

function textDeep(el: Element, localName: string): string | undefined {
  return text(allElements(el).find((e) => e.localName === localName));
}

function summary(cert: X509Certificate, organId: string | null): SignerSummary {
  return {
    organId,
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

function signingTimeWarnings(report: VerificationReport, cert: X509Certificate, at: Date): void {
  if (!report.signingTime) return;
  const t = new Date(report.signingTime);
  if (Number.isNaN(t.getTime())) {
    report.warnings.push(`the signing time "${report.signingTime}" cannot be read — không đọc được thời điểm ký`);
  } else if (t.getTime() > at.getTime() + 5 * 60 * 1000) {
    report.warnings.push("the claimed signing time is later than the validation time — thời điểm ký muộn hơn thời điểm kiểm tra");
  } else if (t < new Date(cert.validFrom) || t > new Date(cert.validTo)) {
    report.warnings.push("the claimed signing time is outside the certificate's validity — thời điểm ký nằm ngoài thời hạn chứng thư số");
  }
}
