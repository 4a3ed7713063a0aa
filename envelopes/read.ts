// Tolerant readers for edXML packets (QCVN 102:2016/BTTTT) as they appear in the wild.
// Elements are matched by LOCAL NAME only (any prefix or none, any namespace), in any order;
// empty elements count as absent; both `Bussiness` and `Business` spellings are accepted.
// Readers produce the best model they can: a missing required text becomes "", a missing or
// non-numeric required number becomes NaN (so validation reports it), optional values that are
// absent, empty or non-numeric are left out of the object (the property is not set at all).
// Only a document that is not an edXML packet at all, or one without a MessageHeader, is an error.
//
// Signed content is read strictly instead (pass a `refuse`): every element must be in the QCVN
// namespace, a single-valued field may appear once (both spellings of one count as one) and a text
// field holds text only, so that what a namespace-aware reader and a reader by local name see is
// one and the same; anything else is refused.
import type {
  AttachmentInfo,
  Bussiness,
  BussinessDocType,
  BussinessDocumentInfo,
  Code,
  Edoc,
  EdocHeader,
  Organization,
  OtherInfo,
  Packet,
  Receiver,
  ReplacementInfo,
  ResponseFor,
  SignerInfo,
  StaffInfo,
  StatusCode,
  StatusHeader,
  TraceHeader,
} from "./model.ts";
import { EDXML_NS } from "./model.ts";
import { DSIG_NS, allElements, child, children, text, type Refuse } from "./xml.ts";

/** Whether the edXMLHeader carries an XMLDSig signature, a non-XMLDSig placeholder, or nothing. */
export type SignatureKind = "xmldsig" | "placeholder" | "none";

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Set obj[key] only when value is defined, so absent data leaves no `undefined` property. */
function put<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}

/** Lenient number: decimal notation only; anything else (empty, "abc", "0x10") → undefined. */
function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A 0/1 flag; also accepts true/false as some Java libraries write booleans. */
function flag(value: string | undefined): number | undefined {
  const v = value?.trim().toLowerCase();
  if (v === "true") return 1;
  if (v === "false") return 0;
  return parseNumber(v);
}

/** Strip `cid:` (any case) and MIME-style angle brackets from a content id. */
function stripCid(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().replace(/^cid:/i, "").trim().replace(/^<(.*)>$/, "$1").trim();
  return v || undefined;
}

/** Attributes by local name, any namespace (e.g. `xlink:href`). */
function attrs(el: Element, localName: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes[i];
    if (a && (a.localName ?? a.name) === localName) out.push(a.value);
  }
  return out;
}

/** How the readers find what they read: tolerantly (TOLERANT) or strictly (see `finder`). */
interface Finder {
  /** The child with one of these local names (alternative spellings of one field). */
  child(el: Element, ...names: string[]): Element | undefined;
  /** Every child with this local name (a field that may repeat). */
  children(el: Element, name: string): Element[];
  /** Text of the element, or of its child with one of these local names; see xml.ts `text`. */
  text(el: Element | undefined, ...names: string[]): string | undefined;
  /** An attribute by local name. */
  attr(el: Element, localName: string): string | undefined;
  /** Whether a field written as text or as elements (Code) holds elements; text beside them is
   *  ignored, and refused strictly: one reader would read the text, another the elements. */
  elementForm(el: Element): boolean;
}

const TOLERANT: Finder = { child, children, text, attr: (el, name) => attrs(el, name)[0], elementForm: (el) => children(el).length > 0 };

/** The finder for reading `root`: TOLERANT, or, given `refuse`, strict (`root` checked whole first). */
function finder(root: Element, refuse?: Refuse): Finder {
  if (!refuse) return TOLERANT;
  for (const el of allElements(root)) {
    if (el.namespaceURI !== EDXML_NS) refuse(`<${el.tagName}> is not in the edXML namespace`, `<${el.tagName}> không thuộc không gian tên edXML`);
  }
  return new StrictFinder(refuse);
}

/**
 * The strict finder: a class, so that its methods are the same functions for every packet read.
 * Closures made per packet were optimized again after each full GC (V8 holds optimized code
 * weakly): about 0.1 s of the compiler's time per thousand documents on each node.
 */
class StrictFinder implements Finder {
  constructor(private readonly refuse: Refuse) {}

  readonly children = children;

  child(el: Element, ...names: string[]): Element | undefined {
    return this.one(el, names);
  }

  elementForm(el: Element): boolean {
    const kids = children(el).length > 0;
    for (let n = el.firstChild; n && kids; n = n.nextSibling) {
      if ((n.nodeType === 3 || n.nodeType === 4) && n.nodeValue?.trim()) {
        this.refuse(`<${el.localName}> mixes text and elements`, `<${el.localName}> lẫn văn bản với phần tử`);
      }
    }
    return kids;
  }

  text(el: Element | undefined, ...names: string[]): string | undefined {
    return text(this.leaf(names.length && el ? this.one(el, names) : el));
  }

  attr(el: Element, name: string): string | undefined {
    const found = attrs(el, name);
    if (found.length > 1) this.refuse(`<${el.localName}> carries more than one ${name} attribute`, `<${el.localName}> có nhiều hơn một thuộc tính ${name}`);
    return found[0];
  }

  private one(el: Element, names: string[]): Element | undefined {
    const found = children(el).filter((e) => names.includes(e.localName));
    if (found.length > 1) {
      this.refuse(`<${el.localName}> holds more than one <${found[1].localName}>`, `<${el.localName}> có nhiều hơn một <${found[1].localName}>`);
    }
    return found[0];
  }

  private leaf(el: Element | undefined): Element | undefined {
    if (el && children(el).length) this.refuse(`<${el.localName}> must hold text only`, `<${el.localName}> chỉ được chứa văn bản`);
    return el;
  }
}

// ---------------------------------------------------------------------------------------------
// Building blocks

/** Organization (From / To). */
function readOrganization(f: Finder, el: Element | undefined): Organization {
  const org: Organization = { OrganId: (el && f.text(el, "OrganId")) ?? "" };
  if (!el) return org;
  put(org, "OrganizationInCharge", f.text(el, "OrganizationInCharge"));
  put(org, "OrganName", f.text(el, "OrganName"));
  put(org, "OrganAdd", f.text(el, "OrganAdd"));
  put(org, "Email", f.text(el, "Email"));
  put(org, "Telephone", f.text(el, "Telephone"));
  put(org, "Fax", f.text(el, "Fax"));
  put(org, "Website", f.text(el, "Website"));
  return org;
}

/** `Code` of a ResponseFor is "số/ký hiệu" text; tolerate the CodeNumber/CodeNotation form too. */
function readCombinedCode(f: Finder, el: Element | undefined): string | undefined {
  if (!el) return undefined;
  const number = f.text(el, "CodeNumber");
  const notation = f.text(el, "CodeNotation");
  if ((number !== undefined || notation !== undefined) && f.elementForm(el)) return `${number ?? ""}/${notation ?? ""}`;
  return f.text(el);
}

/** `Code` of a MessageHeader has CodeNumber/CodeNotation; tolerate plain "số/ký hiệu" text too. */
function readCode(f: Finder, el: Element | undefined): Code {
  const code: Code = { CodeNumber: "", CodeNotation: "" };
  if (!el) return code;
  const number = f.text(el, "CodeNumber");
  const notation = f.text(el, "CodeNotation");
  if (f.elementForm(el) || number !== undefined || notation !== undefined) {
    code.CodeNumber = number ?? "";
    code.CodeNotation = notation ?? "";
    return code;
  }
  const whole = f.text(el);
  if (whole) {
    const slash = whole.indexOf("/");
    if (slash < 0) code.CodeNumber = whole;
    else {
      code.CodeNumber = whole.slice(0, slash).trim();
      code.CodeNotation = whole.slice(slash + 1).trim();
    }
  }
  return code;
}

function readResponseFor(f: Finder, el: Element | undefined): ResponseFor {
  const r: ResponseFor = { OrganId: (el && f.text(el, "OrganId")) ?? "", DocumentId: "" };
  if (!el) return r;
  put(r, "Code", readCombinedCode(f, f.child(el, "Code")));
  put(r, "PromulgationDate", f.text(el, "PromulgationDate"));
  r.DocumentId = f.text(el, "DocumentId") ?? "";
  return r;
}

function readStaffInfo(f: Finder, el: Element): StaffInfo {
  const s: StaffInfo = {};
  put(s, "Department", f.text(el, "Department"));
  put(s, "Staff", f.text(el, "Staff"));
  put(s, "Mobile", f.text(el, "Mobile"));
  put(s, "Email", f.text(el, "Email"));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Public readers: each reads strictly when given a `refuse` (see the top of this file)

/** Does this MessageHeader belong to a status packet (it has a StatusCode)? */
export function isStatusHeader(messageHeader: Element): boolean {
  return child(messageHeader, "StatusCode") !== undefined;
}

/** MessageHeader of an edoc. */
export function readEdocHeader(messageHeader: Element, refuse?: Refuse): EdocHeader {
  const f = finder(messageHeader, refuse);
  const mh = messageHeader;
  const pi = f.child(mh, "PromulgationInfo");
  const dt = f.child(mh, "DocumentType");
  const h: EdocHeader = {
    From: readOrganization(f, f.child(mh, "From")),
    To: f.children(mh, "To").map((el) => readOrganization(f, el)),
    DocumentId: f.text(mh, "DocumentId") ?? "",
    Code: readCode(f, f.child(mh, "Code")),
    PromulgationInfo: { PromulgationDate: "" },
    DocumentType: { Type: NaN },
    Subject: "",
  };

  const promulgation: EdocHeader["PromulgationInfo"] = {} as EdocHeader["PromulgationInfo"];
  put(promulgation, "Place", pi && f.text(pi, "Place"));
  promulgation.PromulgationDate = (pi && f.text(pi, "PromulgationDate")) ?? "";
  h.PromulgationInfo = promulgation;

  h.DocumentType = { Type: parseNumber(dt && f.text(dt, "Type")) ?? NaN };
  if (dt) {
    put(h.DocumentType, "TypeDetail", parseNumber(f.text(dt, "TypeDetail")));
    put(h.DocumentType, "TypeName", f.text(dt, "TypeName"));
  }

  h.Subject = f.text(mh, "Subject") ?? "";
  put(h, "Content", f.text(mh, "Content"));

  const si = f.child(mh, "SignerInfo");
  if (si) {
    const signer: SignerInfo = {};
    put(signer, "Competence", f.text(si, "Competence"));
    put(signer, "Position", f.text(si, "Position"));
    put(signer, "FullName", f.text(si, "FullName"));
    h.SignerInfo = signer;
  }
  put(h, "DueDate", f.text(mh, "DueDate"));

  const oi = f.child(mh, "OtherInfo");
  if (oi) {
    const other: OtherInfo = {};
    put(other, "Priority", parseNumber(f.text(oi, "Priority")));
    put(other, "SphereOfPromulgation", f.text(oi, "SphereOfPromulgation"));
    put(other, "TyperNotation", f.text(oi, "TyperNotation"));
    put(other, "PromulgationAmount", parseNumber(f.text(oi, "PromulgationAmount")));
    put(other, "PageAmount", parseNumber(f.text(oi, "PageAmount")));
    const ap = f.child(oi, "Appendixes");
    if (ap) other.Appendixes = f.children(ap, "Appendix").map((a) => f.text(a) ?? "");
    h.OtherInfo = other;
  }

  const rf = f.children(mh, "ResponseFor");
  if (rf.length) h.ResponseFor = rf.map((el) => readResponseFor(f, el));
  put(h, "SteeringType", parseNumber(f.text(mh, "SteeringType")));
  const tp = f.child(mh, "ToPlaces");
  if (tp) h.ToPlaces = f.children(tp, "Place").map((p) => f.text(p) ?? "");
  return h;
}

/** MessageHeader of a status packet. A one-digit StatusCode ("5") is read as two digits ("05"). */
export function readStatusHeader(messageHeader: Element, refuse?: Refuse): StatusHeader {
  const f = finder(messageHeader, refuse);
  const mh = messageHeader;
  let code = f.text(mh, "StatusCode") ?? "";
  if (/^\d$/.test(code)) code = "0" + code;
  const h: StatusHeader = {
    From: readOrganization(f, f.child(mh, "From")),
    ResponseFor: readResponseFor(f, f.child(mh, "ResponseFor")),
  } as StatusHeader;
  const staff = f.child(mh, "StaffInfo");
  if (staff) h.StaffInfo = readStaffInfo(f, staff);
  h.StatusCode = code as StatusCode;
  put(h, "Description", f.text(mh, "Description"));
  h.Timestamp = f.text(mh, "Timestamp") ?? "";
  return h;
}

/** The Bussiness (or Business) block. */
export function readBussiness(el: Element, refuse?: Refuse): Bussiness {
  const f = finder(el, refuse);
  const b = {} as Bussiness;
  put(b, "DocumentId", f.text(el, "DocumentId"));
  b.BussinessDocType = (parseNumber(f.text(el, "BussinessDocType", "BusinessDocType")) ?? NaN) as BussinessDocType;
  put(b, "BussinessDocReason", f.text(el, "BussinessDocReason", "BusinessDocReason"));
  put(b, "Paper", flag(f.text(el, "Paper")) as Bussiness["Paper"]);

  const info = f.child(el, "BussinessDocumentInfo", "BusinessDocumentInfo");
  if (info) {
    const list = f.child(info, "ReceiverList");
    const bi: BussinessDocumentInfo = {
      DocumentInfo: (flag(f.text(info, "DocumentInfo")) ?? 0) as 0 | 1,
      DocumentReceiver: (flag(f.text(info, "DocumentReceiver")) ?? 0) as 0 | 1,
      ReceiverList: (list ? f.children(list, "Receiver") : []).map(
        (r): Receiver => ({
          OrganId: f.text(r, "OrganId") ?? "",
          ReceiverType: (parseNumber(f.text(r, "ReceiverType")) ?? NaN) as 0 | 1,
        }),
      ),
    };
    b.BussinessDocumentInfo = bi;
  }
  const repl = f.child(el, "ReplacementInfoList");
  if (repl) {
    b.ReplacementInfoList = f.children(repl, "ReplacementInfo").map((r): ReplacementInfo => {
      const ids = f.child(r, "OrganIdList");
      return {
        DocumentId: f.text(r, "DocumentId") ?? "",
        OrganIdList: (ids ? f.children(ids, "OrganId") : []).map((o) => f.text(o) ?? ""),
      };
    });
  }
  const staff = f.child(el, "StaffInfo");
  if (staff) b.StaffInfo = readStaffInfo(f, staff);
  return b;
}

/** TraceHeader entries of a TraceHeaderList, in document order. */
export function readTraceHeaders(traceHeaderList: Element): TraceHeader[] {
  return children(traceHeaderList, "TraceHeader").map((t) => ({
    OrganId: text(t, "OrganId") ?? "",
    Timestamp: text(t, "Timestamp") ?? "",
  }));
}

/**
 * A manifest `Reference` or an `Attachment` element. The `cid:` prefix is stripped; a Reference
 * that carries its id as an `href` attribute (`xlink:href="cid:…"`, a .NET variant) is accepted.
 */
export function readAttachmentInfo(el: Element, refuse?: Refuse): AttachmentInfo {
  return attachmentInfo(finder(el, refuse), el);
}

function attachmentInfo(f: Finder, el: Element): AttachmentInfo {
  const a: AttachmentInfo = {
    ContentId: stripCid(f.text(el, "ContentId")) ?? stripCid(f.attr(el, "href")) ?? "",
    AttachmentName: f.text(el, "AttachmentName") ?? "",
    ContentType: f.text(el, "ContentType") ?? "",
  };
  put(a, "Description", f.text(el, "Description"));
  return a;
}

/** The `Reference` entries of an edXMLManifest, in document order. */
export function readManifest(manifest: Element, refuse?: Refuse): AttachmentInfo[] {
  const f = finder(manifest, refuse);
  return f.children(manifest, "Reference").map((r) => attachmentInfo(f, r));
}

/** The elements of a packet, found by local name. */
export interface PacketParts {
  root: Element;
  envelope: Element;
  header: Element;
  messageHeader: Element;
  traceHeaderList?: Element;
  bussiness?: Element;
  manifest?: Element;
  /** Manifest `Reference` elements, document order. */
  references: Element[];
  /** `AttachmentEncoded/Attachment` elements, document order. */
  attachments: Element[];
  /** `Signature` children of edXMLHeader (any namespace). */
  signatures: Element[];
}

/** Locate the parts of a packet; throws when it is not an edXML packet or has no MessageHeader. */
export function locateParts(doc: Document): PacketParts {
  const root = doc?.documentElement;
  if (!root || root.localName !== "edXML") {
    const name = root ? root.nodeName : "nothing";
    throw new Error(`not an edXML packet: the root element is <${name}>, expected <edXML>`);
  }
  const envelope = child(root, "edXMLEnvelope");
  if (!envelope) throw new Error("not an edXML packet: edXML has no edXMLEnvelope element");
  const header = child(envelope, "edXMLHeader");
  if (!header) throw new Error("not an edXML packet: edXMLEnvelope has no edXMLHeader element");
  const messageHeader = child(header, "MessageHeader");
  if (!messageHeader) throw new Error("edXML packet without a MessageHeader: edXMLEnvelope/edXMLHeader/MessageHeader is missing");

  const traceHeaderList = child(header, "TraceHeaderList");
  // The layout puts Bussiness inside TraceHeaderList; accept it directly under edXMLHeader too.
  const bussiness =
    (traceHeaderList && child(traceHeaderList, "Bussiness", "Business")) ?? child(header, "Bussiness", "Business");
  const body = child(envelope, "edXMLBody");
  const manifest = body && child(body, "edXMLManifest");
  const encoded = child(root, "AttachmentEncoded");
  return {
    root,
    envelope,
    header,
    messageHeader,
    traceHeaderList,
    bussiness,
    manifest,
    references: manifest ? children(manifest, "Reference") : [],
    attachments: encoded ? children(encoded, "Attachment") : [],
    signatures: children(header, "Signature"),
  };
}

/** What kind of Signature the edXMLHeader holds. */
function signatureKind(signatures: Element[]): SignatureKind {
  if (signatures.some((s) => s.namespaceURI === DSIG_NS)) return "xmldsig";
  return signatures.length ? "placeholder" : "none";
}

/**
 * Read a whole packet (edoc or status packet). For an edoc the attachment list comes from the
 * `AttachmentEncoded/Attachment` elements (the ones carrying data), any field they lack filled in
 * from the manifest `Reference` with the same ContentId; with no Attachment elements it is the
 * manifest's list.
 */
export function readPacket(doc: Document): { packet: Packet; signature: SignatureKind } {
  const parts = locateParts(doc);
  const signature = signatureKind(parts.signatures);
  if (isStatusHeader(parts.messageHeader)) {
    return { packet: { kind: "status", header: readStatusHeader(parts.messageHeader) }, signature };
  }
  const header = readEdocHeader(parts.messageHeader);
  const traces = parts.traceHeaderList ? readTraceHeaders(parts.traceHeaderList) : [];
  const refs = parts.references.map((r) => readAttachmentInfo(r));
  let attachments: AttachmentInfo[];
  if (parts.attachments.length) {
    attachments = parts.attachments.map((el) => {
      const a = readAttachmentInfo(el);
      const ref = refs.find((r) => r.ContentId !== "" && r.ContentId === a.ContentId);
      if (ref) {
        if (!a.AttachmentName) a.AttachmentName = ref.AttachmentName;
        if (!a.ContentType) a.ContentType = ref.ContentType;
        if (a.Description === undefined && ref.Description !== undefined) a.Description = ref.Description;
      }
      return a;
    });
  } else {
    attachments = refs;
  }
  const packet: Edoc = { kind: "edoc", header, traces, attachments };
  if (parts.bussiness) packet.bussiness = readBussiness(parts.bussiness);
  return { packet, signature };
}
