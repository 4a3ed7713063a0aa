// Packets and status packets, verified by the engine (engine.ts) with the packet profile: the edXML
// layout, chain-and-registry signer policy, bilingual FORMAT_FAILURE messages. What it returns of
// the packet is read only from the canonical bytes that were digested (node-saml's rule): never
// from the received DOM, which may hold more than what was signed.
import type { X509Certificate } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import {
  EDXML_NS,
  DSIG_NS,
  XADES_NS,
  XmlError,
  allElements,
  children,
  parseStrict,
  readAttachmentInfo,
  readBussiness,
  readEdocHeader,
  readManifest,
  readStatusHeader,
  readTraceHeaders,
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
import { trustSigner, verifySignature, type Located, type SignatureProfile, type SignedTarget } from "./engine.ts";
import type { Crl } from "./pki/crl.ts";
import type { Registry } from "./registry.ts";
import { INDICATION_OF, VerificationFailure, emptyReport, fail, type VerificationReport } from "./report.ts";
import type { SignedEdoc } from "./sign.ts";
import { SMALL_PACKET_BYTES } from "./sign.ts";
import { checkSignatureTimestamp, signatureTimestamp } from "./xades-t.ts";
import { IDS, allNodes, isNamed, soleElement, uniqueIds } from "./xmldsig.ts";

export interface TrustConfig {
  /** Trust anchors (root CAs, or pinned agency certificates). */
  anchors: X509Certificate[];
  crls: Crl[];
  /** organ id → certificate fingerprints; null when none is configured (then nothing is bound). */
  registry: Registry | null;
  /** Anchors of the time-stamping authorities whose signature time-stamps count (level B-T). */
  tsaAnchors?: X509Certificate[];
}

export interface VerifyOptions extends TrustConfig {
  /** Time at which certificates are checked; defaults to now. */
  at?: Date;
  limits?: ScanLimits;
  /** A signature time-stamp kept beside the packet (DER), used when the packet carries none. */
  timestamp?: Buffer;
}

interface VerifiedAttachment {
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
  /** The digest (base64) of the signed MessageHeader, as its reference's DigestValue: what
   *  identifies the packet's signed content whatever bytes carry it. */
  headerDigest: string;
}

export interface VerificationResult {
  report: VerificationReport;
  content: SignedContent | null;
}

/** A signed element of the packet; attachments carry their number, from 1. */
interface PacketTarget extends SignedTarget {
  attachment?: number;
}

export async function verifyPacket(source: PacketSource, opts: VerifyOptions): Promise<VerificationResult> {
  const at = opts.at ?? new Date();
  const report = emptyReport(at);
  return settle(report, async () => run(await inMemory(source), opts, at, report));
}

/**
 * A small packet file is read at once, in one buffer, and nothing is read twice; synchronously: on
 * a thread-pool round trip per call (open, stat, read, close) a 140 KB packet took 340 µs here,
 * read at once 30 µs, more than the rest of its verification costs, and a file this small (at most
 * SMALL_PACKET_BYTES, usually just written) holds the event loop no longer than parsing it does.
 */
async function inMemory(source: PacketSource): Promise<PacketSource> {
  if ("bytes" in source) return source;
  const fd = openSync(source.path, "r");
  try {
    const { size } = fstatSync(fd);
    if (size > SMALL_PACKET_BYTES) return source;
    const bytes = Buffer.allocUnsafe(size);
    for (let at = 0; at < size; ) {
      const read = readSync(fd, bytes, at, size - at, at);
      if (!read) return { bytes: bytes.subarray(0, at) }; // shortened while being read
      at += read;
    }
    return { bytes };
  } finally {
    closeSync(fd);
  }
}

/** The report and content of `check`, or the report of the VerificationFailure it threw. */
async function settle(report: VerificationReport, check: () => Promise<SignedContent | null>): Promise<VerificationResult> {
  try {
    const content = await check();
    report.valid = true;
    report.indication = "TOTAL_PASSED";
    if (report.timestamp?.valid) report.level = "B-T";
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

/**
 * The report on an edoc this node has just signed (signEdoc, packEdoc), without verifying it again:
 * what the signer wrote it wrote in canonical form and digested itself, and the signature value was
 * checked with the certificate's key as it was made. What is left is what the verifier would decide
 * about the signer: a chain to a trust anchor, not revoked, and the registry binding it to the sender.
 * The same report as verifyPacket's on the packet (test/signing.test.ts compares them).
 */
export async function ownPacketReport(signed: SignedEdoc, trust: TrustConfig, at = new Date()): Promise<VerificationReport> {
  const { edoc, identity, signingTime } = signed;
  const report = emptyReport(at);
  report.packetKind = "edoc";
  report.documentId = edoc.header.DocumentId;
  report.signingTime = signingTime;
  const kind = BUSINESS_KINDS[edoc.bussiness?.BussinessDocType ?? 0].name;
  const references = [
    { uri: `#${IDS.header}`, covers: COVERS.header },
    { uri: `#${IDS.business}`, covers: `${COVERS.business} (${kind})` },
    { uri: `#${IDS.manifest}`, covers: COVERS.manifest },
    ...edoc.attachments.map((a, i) => ({ uri: `#${IDS.attachment(i + 1)}`, covers: `attachment ${i + 1}: ${a.AttachmentName}` })),
    { uri: `#${IDS.signedProps}`, covers: COVERS.signedProps },
  ];
  report.references = references.map((r) => ({ ...r, digestOk: null }));
  await settle(report, async () => {
    trustSigner(trust, identity.certificate, identity.chain, edoc.header.From.OrganId, at, report);
    report.references = references.map((r) => ({ ...r, digestOk: true }));
    signingTimeWarnings(report, identity.certificate, at);
    relayWarning(report, edoc.traces ?? [], edoc.header.From.OrganId);
    return null;
  });
  return report;
}

/** What each reference covers, in words, for reports. */
const COVERS = {
  header: "message header",
  statusHeader: "status message header",
  business: "business block",
  manifest: "attachment manifest",
  signedProps: "signed properties (signing time, signer certificate)",
};

const format = (en: string, vi: string) => fail("FORMAT_FAILURE", en, vi);

/** The packet's parts found by `locatePacket`. */
interface PacketParts extends Located {
  targets: PacketTarget[];
  messageHeader: Element;
  business: Element | undefined;
  manifest: Element | undefined;
  traceList: Element | undefined;
}

async function run(source: PacketSource, opts: VerifyOptions, at: Date, report: VerificationReport): Promise<SignedContent> {
  let regions: ContentRegion[] = [];
  let parts: PacketParts | undefined;
  let packet: Packet | undefined;
  let attachments: VerifiedAttachment[] = [];
  const profile: SignatureProfile = {
    read: async () => {
      const scanned = await scanPacket(source, opts.limits);
      regions = scanned.regions;
      return parseStrict(scanned.skeleton);
    },
    malformed: (message) => [message, `gói tin không đúng định dạng: ${message}`],
    locate: (doc) => (parts = locatePacket(doc, regions, report)),
    source,
    noun: ["packet", "gói tin"],
    ids: IDS,
    signedPropsCovers: COVERS.signedProps,
    signatureParts: {
      pattern: /^SignedInfo,SignatureValue(,KeyInfo)?(,Object)+$/,
      wrong: (found) => [`the signature must hold SignedInfo, SignatureValue, KeyInfo and Object in that order, found ${found}`, "cấu trúc chữ ký không đúng"],
      foreign: { words: ["unexpected element inside the signature", "phần tử lạ trong chữ ký"], first: true },
    },
    signedInfoParts: {
      pattern: /^CanonicalizationMethod,SignatureMethod(,Reference)+$/,
      wrong: () => ["SignedInfo must hold CanonicalizationMethod, SignatureMethod and References", "SignedInfo không đúng cấu trúc"],
      foreign: { words: ["unexpected element inside SignedInfo", "phần tử lạ trong SignedInfo"], first: false },
    },
    // The signed content is read only from the very element objects that are canonicalised and
    // digested (each was checked to be the one its reference's Id resolves to), so nothing outside
    // the signature can be read as business data.
    covered: (targets, signedProps) => {
      ({ packet, attachments } = readSigned(parts!, targets as PacketTarget[]));
      report.documentId = packet.kind === "edoc" ? packet.header.DocumentId : packet.header.ResponseFor.DocumentId;
      report.signingTime = signingTime(signedProps);
    },
    signer: { kind: "chain-and-registry", anchors: opts.anchors, crls: opts.crls, registry: opts.registry, sender: () => packet!.header.From.OrganId },
    signerTime: async (signatureValue, qualifyingProperties) => {
      const token = signatureTimestamp(qualifyingProperties, format) ?? opts.timestamp;
      if (!token) return null;
      const { summary, warning } = await checkSignatureTimestamp(token, signatureValue, { tsaAnchors: opts.tsaAnchors ?? [], crls: opts.crls }, at);
      report.timestamp = summary;
      if (warning) report.warnings.push(warning);
      return summary.valid ? new Date(summary.time!) : null;
    },
    changed: (broken) => {
      const list = broken.map((r) => `${r.uri} (${r.covers})`).join(", ");
      return [`signed content was changed after signing: ${list}`, `nội dung đã ký bị thay đổi sau khi ký: ${list}`];
    },
    badValue: ["the signature value does not match the signer's key", "giá trị chữ ký không khớp với khóa của người ký"],
  };
  const { signer, digests } = await verifySignature(profile, at, report);
  signingTimeWarnings(report, signer, at);
  const unsignedTraces = parts!.traceList ? readTraceHeaders(parts!.traceList) : [];
  relayWarning(report, unsignedTraces, packet!.header.From.OrganId);
  if (packet!.kind === "edoc") packet!.traces = unsignedTraces;
  return { packet: packet!, attachments, unsignedTraces, signer, headerDigest: digests.get(`#${IDS.header}`)! };
}

/** The sender writes its own trace entry first (a direct send has only that one); relays append theirs, unsigned. */
function relayWarning(report: VerificationReport, traces: TraceHeader[], sender: string): void {
  const relayed = traces.length - (traces[0]?.OrganId === sender ? 1 : 0);
  if (relayed) {
    report.warnings.push(
      `${relayed} trace entr${relayed === 1 ? "y is" : "ies are"} not covered by the signature (relays add them) — ${relayed} dấu vết chuyển tiếp không nằm trong phạm vi chữ ký`,
    );
  }
}

/** Step 2 for a packet: the edXML layout, the one signature last in the header, the signed parts. */
function locatePacket(doc: Document, regions: ContentRegion[], report: VerificationReport): PacketParts {
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
  report.documentId = text(messageHeader, "DocumentId") ?? text(children(messageHeader, "ResponseFor")[0], "DocumentId") ?? null;
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
  for (const container of [root, envelope, header]) elementsOnly(container);
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

  // the references the layout requires (the engine adds the SignedProperties)
  const targets: PacketTarget[] = [{ uri: `#${IDS.header}`, element: messageHeader, covers: isStatus ? COVERS.statusHeader : COVERS.header }];
  if (businesses[0]) targets.push({ uri: `#${IDS.business}`, element: businesses[0], covers: COVERS.business });
  if (manifest) targets.push({ uri: `#${IDS.manifest}`, element: manifest, covers: COVERS.manifest });
  const regionOf = new Map(regions.map((r) => [r.marker, r]));
  attachments.forEach((att, i) => {
    const n = i + 1;
    targets.push({ uri: `#${IDS.attachment(n)}`, element: att, covers: `attachment ${n}`, attachment: n, region: contentRegion(att, regionOf) });
  });
  if (regionOf.size !== regions.length || targets.filter((e) => e.region).length !== regions.length) {
    format("attachment content found outside an attachment", "nội dung tệp đính kèm nằm ngoài phần tệp đính kèm");
  }
  return { elements, signature, ids, targets, messageHeader, business: businesses[0], manifest, traceList };
}

/** The packet and its attachments as signed, read from the target elements (which get their final words). */
function readSigned(parts: PacketParts, targets: PacketTarget[]): { packet: Packet; attachments: VerifiedAttachment[] } {
  // strictly: what other readers (namespace-aware or by local name) see in these parts is the same
  const packet: Packet = isStatusHeader(parts.messageHeader)
    ? { kind: "status", header: readStatusHeader(parts.messageHeader, format) }
    : {
        kind: "edoc",
        header: readEdocHeader(parts.messageHeader, format),
        bussiness: parts.business ? readBussiness(parts.business, format) : undefined,
        traces: [],
        attachments: [],
      };
  if (parts.manifest) readManifest(parts.manifest, format); // not shown, but signed: other readers show it
  const attachments = targets
    .filter((e) => e.attachment)
    .map((e) => {
      const info = readAttachmentInfo(e.element, format);
      e.covers = `attachment ${e.attachment}: ${info.AttachmentName}`;
      return { info, region: e.region ?? null };
    });
  if (packet.kind === "edoc") {
    packet.attachments = attachments.map((a) => a.info);
    const kind = packet.bussiness ? BUSINESS_KINDS[packet.bussiness.BussinessDocType]?.name : undefined;
    if (kind) targets.find((e) => e.uri === `#${IDS.business}`)!.covers = `${COVERS.business} (${kind})`;
  }
  return { packet, attachments };
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

/**
 * The unsigned frame around the signed parts carries nothing of its own: no text (pretty-printing
 * aside) and no attributes but namespace declarations, so that no reader can be shown words, a
 * schema location or an xml:base that no signature covers.
 */
function elementsOnly(container: Element): void {
  for (let n = container.firstChild; n; n = n.nextSibling) {
    if ((n.nodeType === 3 || n.nodeType === 4) && (n.nodeValue ?? "").trim()) {
      format(`<${container.localName}> holds text of its own, which no signature covers`, `<${container.localName}> chứa văn bản không được chữ ký bảo vệ`);
    }
  }
  for (const a of Array.from(container.attributes)) {
    if (a.name !== "xmlns" && a.prefix !== "xmlns") {
      format(`<${container.localName}> carries the attribute ${a.name}, which no signature covers`, `<${container.localName}> mang thuộc tính ${a.name} không được chữ ký bảo vệ`);
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

/** The one xades:SigningTime of the signed properties (a second one, or one in another namespace, would be read by one reader and not another). */
export function signingTime(signedProps: Element): string | null {
  const times = allElements(signedProps).filter((e) => e.localName === "SigningTime");
  if (times.length > 1 || (times[0] && times[0].namespaceURI !== XADES_NS)) {
    format("the signed properties must hold at most one xades:SigningTime", "thuộc tính đã ký chỉ được có tối đa một xades:SigningTime");
  }
  return text(times[0]) ?? null;
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
