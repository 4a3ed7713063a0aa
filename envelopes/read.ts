// Tolerant readers for edXML packets (QCVN 102:2016/BTTTT) as they appear in the wild.
// Elements are matched by LOCAL NAME only (any prefix or none, any namespace), in any order;
// empty elements count as absent; both `Bussiness` and `Business` spellings are accepted.
// Readers produce the best model they can: a missing required text becomes "", a missing or
// non-numeric required number becomes NaN (so validation reports it), optional values that are
// absent, empty or non-numeric are left out of the object (the property is not set at all).
// Only a document that is not an edXML packet at all, or one without a MessageHeader, is an error.
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
import { DSIG_NS, child, children, text } from "./xml.ts";

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

function textOf(el: Element | undefined): string | undefined {
  return el ? text(el) : undefined;
}

/** Strip `cid:` (any case) and MIME-style angle brackets from a content id. */
function stripCid(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().replace(/^cid:/i, "").trim().replace(/^<(.*)>$/, "$1").trim();
  return v || undefined;
}

/** Attribute by local name, any namespace (e.g. `xlink:href`). */
function attr(el: Element, localName: string): string | undefined {
  const attrs = el.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs.item(i);
    if (a && (a.localName ?? a.name) === localName) return a.value;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Building blocks

/** Organization (From / To). */
function readOrganization(el: Element | undefined): Organization {
  const org: Organization = { OrganId: (el && text(el, "OrganId")) ?? "" };
  if (!el) return org;
  put(org, "OrganizationInCharge", text(el, "OrganizationInCharge"));
  put(org, "OrganName", text(el, "OrganName"));
  put(org, "OrganAdd", text(el, "OrganAdd"));
  put(org, "Email", text(el, "Email"));
  put(org, "Telephone", text(el, "Telephone"));
  put(org, "Fax", text(el, "Fax"));
  put(org, "Website", text(el, "Website"));
  return org;
}

/** `Code` of a ResponseFor is "số/ký hiệu" text; tolerate the CodeNumber/CodeNotation form too. */
function readCombinedCode(el: Element | undefined): string | undefined {
  if (!el) return undefined;
  const number = text(el, "CodeNumber");
  const notation = text(el, "CodeNotation");
  if (number !== undefined || notation !== undefined) return `${number ?? ""}/${notation ?? ""}`;
  return text(el);
}

/** `Code` of a MessageHeader has CodeNumber/CodeNotation; tolerate plain "số/ký hiệu" text too. */
function readCode(el: Element | undefined): Code {
  const code: Code = { CodeNumber: "", CodeNotation: "" };
  if (!el) return code;
  const number = text(el, "CodeNumber");
  const notation = text(el, "CodeNotation");
  if (number !== undefined || notation !== undefined || children(el).length > 0) {
    code.CodeNumber = number ?? "";
    code.CodeNotation = notation ?? "";
    return code;
  }
  const whole = text(el);
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

function readResponseFor(el: Element | undefined): ResponseFor {
  const r: ResponseFor = { OrganId: (el && text(el, "OrganId")) ?? "", DocumentId: "" };
  if (!el) return r;
  put(r, "Code", readCombinedCode(child(el, "Code")));
  put(r, "PromulgationDate", text(el, "PromulgationDate"));
  r.DocumentId = text(el, "DocumentId") ?? "";
  return r;
}

function readStaffInfo(el: Element): StaffInfo {
  const s: StaffInfo = {};
  put(s, "Department", text(el, "Department"));
  put(s, "Staff", text(el, "Staff"));
  put(s, "Mobile", text(el, "Mobile"));
  put(s, "Email", text(el, "Email"));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Public readers

/** Does this MessageHeader belong to a status packet (it has a StatusCode)? */
export function isStatusHeader(messageHeader: Element): boolean {
  return child(messageHeader, "StatusCode") !== undefined;
}

/** MessageHeader of an edoc. */
export function readEdocHeader(messageHeader: Element): EdocHeader {
  const mh = messageHeader;
  const pi = child(mh, "PromulgationInfo");
  const dt = child(mh, "DocumentType");
  const h: EdocHeader = {
    From: readOrganization(child(mh, "From")),
    To: children(mh, "To").map((el) => readOrganization(el)),
    DocumentId: text(mh, "DocumentId") ?? "",
    Code: readCode(child(mh, "Code")),
    PromulgationInfo: { PromulgationDate: "" },
    DocumentType: { Type: NaN },
    Subject: "",
  };

  const promulgation: EdocHeader["PromulgationInfo"] = {} as EdocHeader["PromulgationInfo"];
  put(promulgation, "Place", textOf(pi && child(pi, "Place")));
  promulgation.PromulgationDate = (pi && text(pi, "PromulgationDate")) ?? "";
  h.PromulgationInfo = promulgation;

  h.DocumentType = { Type: parseNumber(dt && text(dt, "Type")) ?? NaN };
  if (dt) {
    put(h.DocumentType, "TypeDetail", parseNumber(text(dt, "TypeDetail")));
    put(h.DocumentType, "TypeName", text(dt, "TypeName"));
  }

  h.Subject = text(mh, "Subject") ?? "";
  put(h, "Content", text(mh, "Content"));

  const si = child(mh, "SignerInfo");
  if (si) {
    const signer: SignerInfo = {};
    put(signer, "Competence", text(si, "Competence"));
    put(signer, "Position", text(si, "Position"));
    put(signer, "FullName", text(si, "FullName"));
    h.SignerInfo = signer;
  }
  put(h, "DueDate", text(mh, "DueDate"));

  const oi = child(mh, "OtherInfo");
  if (oi) {
    const other: OtherInfo = {};
    put(other, "Priority", parseNumber(text(oi, "Priority")));
    put(other, "SphereOfPromulgation", text(oi, "SphereOfPromulgation"));
    put(other, "TyperNotation", text(oi, "TyperNotation"));
    put(other, "PromulgationAmount", parseNumber(text(oi, "PromulgationAmount")));
    put(other, "PageAmount", parseNumber(text(oi, "PageAmount")));
    const ap = child(oi, "Appendixes");
    if (ap) other.Appendixes = children(ap, "Appendix").map((a) => text(a) ?? "");
    h.OtherInfo = other;
  }

  const rf = children(mh, "ResponseFor");
  if (rf.length) h.ResponseFor = rf.map((el) => readResponseFor(el));
  put(h, "SteeringType", parseNumber(text(mh, "SteeringType")));
  const tp = child(mh, "ToPlaces");
  if (tp) h.ToPlaces = children(tp, "Place").map((p) => text(p) ?? "");
  return h;
}

/** MessageHeader of a status packet. A one-digit StatusCode ("5") is read as two digits ("05"). */
export function readStatusHeader(messageHeader: Element): StatusHeader {
  const mh = messageHeader;
  let code = text(mh, "StatusCode") ?? "";
  if (/^\d$/.test(code)) code = "0" + code;
  const h: StatusHeader = {
    From: readOrganization(child(mh, "From")),
    ResponseFor: readResponseFor(child(mh, "ResponseFor")),
  } as StatusHeader;
  const staff = child(mh, "StaffInfo");
  if (staff) h.StaffInfo = readStaffInfo(staff);
  h.StatusCode = code as StatusCode;
  put(h, "Description", text(mh, "Description"));
  h.Timestamp = text(mh, "Timestamp") ?? "";
  return h;
}

/** The Bussiness (or Business) block. */
export function readBussiness(el: Element): Bussiness {
  const b = {} as Bussiness;
  put(b, "DocumentId", text(el, "DocumentId"));
  b.BussinessDocType = (parseNumber(text(el, "BussinessDocType", "BusinessDocType")) ?? NaN) as BussinessDocType;
  put(b, "BussinessDocReason", text(el, "BussinessDocReason", "BusinessDocReason"));
  put(b, "Paper", flag(text(el, "Paper")) as Bussiness["Paper"]);

  const info = child(el, "BussinessDocumentInfo", "BusinessDocumentInfo");
  if (info) {
    const list = child(info, "ReceiverList");
    const bi: BussinessDocumentInfo = {
      DocumentInfo: (flag(text(info, "DocumentInfo")) ?? 0) as 0 | 1,
      DocumentReceiver: (flag(text(info, "DocumentReceiver")) ?? 0) as 0 | 1,
      ReceiverList: (list ? children(list, "Receiver") : []).map(
        (r): Receiver => ({
          OrganId: text(r, "OrganId") ?? "",
          ReceiverType: (parseNumber(text(r, "ReceiverType")) ?? NaN) as 0 | 1,
        }),
      ),
    };
    b.BussinessDocumentInfo = bi;
  }
  const repl = child(el, "ReplacementInfoList");
  if (repl) {
    b.ReplacementInfoList = children(repl, "ReplacementInfo").map((r): ReplacementInfo => {
      const ids = child(r, "OrganIdList");
      return {
        DocumentId: text(r, "DocumentId") ?? "",
        OrganIdList: (ids ? children(ids, "OrganId") : []).map((o) => text(o) ?? ""),
      };
    });
  }
  const staff = child(el, "StaffInfo");
  if (staff) b.StaffInfo = readStaffInfo(staff);
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
export function readAttachmentInfo(el: Element): AttachmentInfo {
  const a: AttachmentInfo = {
    ContentId: stripCid(text(el, "ContentId")) ?? stripCid(attr(el, "href")) ?? "",
    AttachmentName: text(el, "AttachmentName") ?? "",
    ContentType: text(el, "ContentType") ?? "",
  };
  put(a, "Description", text(el, "Description"));
  return a;
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
