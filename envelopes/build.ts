// Builds edXML packets (QCVN 102:2016/BTTTT) as text: the layout of a packet and of a status
// packet, with a slot where the signature goes and one for each attachment's base64 content.
//
// The packet is written by a small writer of its own, which also writes the exclusive canonical
// form (exc-c14n) of each element the signature covers: names are fixed strings, text is escaped
// the one way canonical XML escapes it, and the subtrees use only the edXML namespace, so the
// canonical form is the same text with its namespace declared on its first element, attributes in
// canonical order and empty elements written as a start and an end tag. Signing therefore parses
// nothing of its own output (test/envelopes.test.ts checks it against the canonicaliser).
import {
  BUSINESS_KINDS,
  EDXML_NS,
  type AttachmentInfo,
  type Bussiness,
  type Code,
  type Edoc,
  type EdocHeader,
  type Organization,
  type ResponseFor,
  type StaffInfo,
  type StatusPacket,
  type TraceHeader,
} from "./model.ts";

/** Text put where the `ds:Signature` element goes (last child of `edXMLHeader`). */
export const SIGNATURE_SLOT = "@@edxml-signature@@";

/** Text put inside attachment n's `ContentTransferEncoded` (n counts from 1, document order). */
export function attachmentSlot(n: number): string {
  return `@@edxml-att-${n}@@`;
}

// Fixed Id values of the signature profile (signing/xmldsig.ts holds the full list).
const ID_HEADER = "edxml-header";
const ID_BUSINESS = "edxml-business";
const ID_MANIFEST = "edxml-manifest";
const idAttachment = (n: number) => `edxml-att-${n}`;

/** An element being written; `ele`, `att` and `txt` as xmlbuilder2's, which this replaces. */
class Builder {
  private readonly attrs: [string, string][] = [];
  private readonly kids: (Builder | string)[] = [];
  constructor(
    private readonly name: string,
    /** Its depth in the document: the pretty-printing of its content, in the canonical form too. */
    private readonly level = 0,
  ) {}
  ele(name: string): Builder {
    const el = new Builder(name, this.level + 1);
    this.kids.push(el);
    return el;
  }
  att(name: string, value: string): Builder {
    this.attrs.push([name, value]);
    return this;
  }
  /** Text, escaped as canonical XML escapes it (it never holds CR: see clean). */
  txt(value: string): Builder {
    if (value) this.kids.push(value.replace(/[&<>]/g, (c) => ESCAPE[c]));
    return this;
  }
  /** Pretty-printed, two spaces a level; with `canonical` (the form exc-c14n gives this subtree when
   *  `decl` declares its namespace): attributes in canonical order, empty elements as two tags. */
  write(canonical = false, decl: [string, string] | null = null): string {
    const attrs = decl ? [decl, ...this.attrs] : this.attrs;
    // exc-c14n: namespace declarations first, then attributes by name (all ours are unqualified)
    const ordered = canonical ? [...attrs].sort(([a], [b]) => Number(!a.startsWith("xmlns")) - Number(!b.startsWith("xmlns")) || (a < b ? -1 : a > b ? 1 : 0)) : attrs;
    const open = `<${this.name}${ordered.map(([n, v]) => ` ${n}="${v.replace(/[&<"]/g, (c) => ESCAPE[c])}"`).join("")}`;
    if (!this.kids.length) return canonical ? `${open}></${this.name}>` : `${open}/>`;
    if (this.kids.length === 1 && typeof this.kids[0] === "string") return `${open}>${this.kids[0]}</${this.name}>`;
    const pad = "\n" + "  ".repeat(this.level + 1);
    const inner = this.kids.map((k) => pad + (typeof k === "string" ? k : k.write(canonical))).join("");
    return `${open}>${inner}\n${"  ".repeat(this.level)}</${this.name}>`;
  }
}
const ESCAPE: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

const P = "edXML:"; // the prefix of the layout
const VN_OFFSET_MS = 7 * 3600 * 1000; // Asia/Ho_Chi_Minh: UTC+7, no daylight saving time

// ---------------------------------------------------------------------------------------------
// Dates and identifiers

function vnParts(d: Date): { y: string; M: string; d: string; H: string; m: string; s: string } {
  const t = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(t)) throw new RangeError("invalid date");
  const v = new Date(t + VN_OFFSET_MS);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return {
    y: pad(v.getUTCFullYear(), 4),
    M: pad(v.getUTCMonth() + 1),
    d: pad(v.getUTCDate()),
    H: pad(v.getUTCHours()),
    m: pad(v.getUTCMinutes()),
    s: pad(v.getUTCSeconds()),
  };
}

/** `yyyy/MM/dd` of the instant in Vietnam time (UTC+7), whatever the machine's time zone. */
export function formatDate(d: Date): string {
  const p = vnParts(d);
  return `${p.y}/${p.M}/${p.d}`;
}

/** `yyyy/MM/dd HH:mm:ss` of the instant in Vietnam time (UTC+7), whatever the machine's time zone. */
export function formatTimestamp(d: Date): string {
  const p = vnParts(d);
  return `${p.y}/${p.M}/${p.d} ${p.H}:${p.m}:${p.s}`;
}

/** "số/ký hiệu", e.g. `7816/VPCP-TTĐT`. */
export function formatCode(code: Code): string {
  return `${code.CodeNumber}/${code.CodeNotation}`;
}

/**
 * The VPCP-style DocumentId `<OrganId>,<yyyy/MM/dd>,<CodeNumber>/<CodeNotation>`,
 * e.g. `000.00.00.G22,2015/09/30,7816/VPCP-TTĐT`. A Date is formatted in Vietnam time.
 */
export function makeDocumentId(fromOrganId: string, promulgationDate: string | Date, code: Code | string): string {
  const date = typeof promulgationDate === "string" ? promulgationDate : formatDate(promulgationDate);
  const c = typeof code === "string" ? code : formatCode(code);
  return `${fromOrganId},${date},${c}`;
}

// ---------------------------------------------------------------------------------------------
// Small writing helpers

// Characters XML 1.0 cannot carry at all (not even as references): C0 controls other than
// tab/LF/CR, lone surrogates, U+FFFE, U+FFFF.
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function clean(value: string, what: string): string {
  if (typeof value !== "string") throw new Error(`${what} must be text, got ${typeof value}`);
  const bad = NOT_XML_CHAR.exec(value);
  if (bad) {
    const cp = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw new Error(`${what} contains the character U+${cp}, which XML cannot carry`);
  }
  // A parser turns CR LF and lone CR into LF; do it here so the template says what readers see.
  return value.replace(/\r\n?/g, "\n");
}

function int(value: number | undefined, what: string): string {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new Error(`${what} must be an integer, got ${String(value)}`);
  }
  return BigInt(value).toString();
}

function stripCid(id: string): string {
  return id.trim().replace(/^cid:/i, "");
}

/** Child element with text; the text is emitted even when empty (a required element). */
function leaf(parent: Builder, name: string, value: string, path: string): void {
  parent.ele(name).txt(clean(value ?? "", path));
}

/** Optional child element: omitted when undefined or empty. */
function optLeaf(parent: Builder, name: string, value: string | undefined, path: string): void {
  if (value !== undefined && value !== null && value !== "") leaf(parent, name, value, path);
}

function optInt(parent: Builder, name: string, value: number | undefined, path: string): void {
  if (value !== undefined && value !== null) parent.ele(name).txt(int(value, path));
}

function organization(parent: Builder, name: string, org: Organization, path: string): void {
  const el = parent.ele(P + name);
  leaf(el, P + "OrganId", org.OrganId, `${path}/OrganId`);
  optLeaf(el, P + "OrganizationInCharge", org.OrganizationInCharge, `${path}/OrganizationInCharge`);
  optLeaf(el, P + "OrganName", org.OrganName, `${path}/OrganName`);
  optLeaf(el, P + "OrganAdd", org.OrganAdd, `${path}/OrganAdd`);
  optLeaf(el, P + "Email", org.Email, `${path}/Email`);
  optLeaf(el, P + "Telephone", org.Telephone, `${path}/Telephone`);
  optLeaf(el, P + "Fax", org.Fax, `${path}/Fax`);
  optLeaf(el, P + "Website", org.Website, `${path}/Website`);
}

function responseFor(parent: Builder, r: ResponseFor, path: string): void {
  const el = parent.ele(P + "ResponseFor");
  leaf(el, P + "OrganId", r.OrganId, `${path}/OrganId`);
  optLeaf(el, P + "Code", r.Code, `${path}/Code`);
  optLeaf(el, P + "PromulgationDate", r.PromulgationDate, `${path}/PromulgationDate`);
  leaf(el, P + "DocumentId", r.DocumentId, `${path}/DocumentId`);
}

function staffInfo(parent: Builder, s: StaffInfo, order: (keyof StaffInfo)[], path: string): void {
  const el = parent.ele(P + "StaffInfo");
  for (const k of order) optLeaf(el, P + k, s[k], `${path}/${k}`);
}

function edocHeader(parent: Builder, h: EdocHeader): Builder {
  const mh = parent.ele(P + "MessageHeader").att("Id", ID_HEADER);
  organization(mh, "From", h.From, "From");
  (h.To ?? []).forEach((to, i) => organization(mh, "To", to, `To[${i + 1}]`));
  leaf(mh, P + "DocumentId", h.DocumentId, "DocumentId");

  const code = mh.ele(P + "Code");
  leaf(code, P + "CodeNumber", h.Code?.CodeNumber ?? "", "Code/CodeNumber");
  leaf(code, P + "CodeNotation", h.Code?.CodeNotation ?? "", "Code/CodeNotation");

  const pi = mh.ele(P + "PromulgationInfo");
  optLeaf(pi, P + "Place", h.PromulgationInfo?.Place, "PromulgationInfo/Place");
  leaf(pi, P + "PromulgationDate", h.PromulgationInfo?.PromulgationDate ?? "", "PromulgationInfo/PromulgationDate");

  const dt = mh.ele(P + "DocumentType");
  dt.ele(P + "Type").txt(int(h.DocumentType?.Type, "DocumentType/Type"));
  optInt(dt, P + "TypeDetail", h.DocumentType?.TypeDetail, "DocumentType/TypeDetail");
  optLeaf(dt, P + "TypeName", h.DocumentType?.TypeName, "DocumentType/TypeName");

  leaf(mh, P + "Subject", h.Subject, "Subject");
  optLeaf(mh, P + "Content", h.Content, "Content");

  if (h.SignerInfo) {
    const si = mh.ele(P + "SignerInfo");
    optLeaf(si, P + "Competence", h.SignerInfo.Competence, "SignerInfo/Competence");
    optLeaf(si, P + "Position", h.SignerInfo.Position, "SignerInfo/Position");
    optLeaf(si, P + "FullName", h.SignerInfo.FullName, "SignerInfo/FullName");
  }
  optLeaf(mh, P + "DueDate", h.DueDate, "DueDate");

  if (h.OtherInfo) {
    const o = h.OtherInfo;
    const oi = mh.ele(P + "OtherInfo");
    optInt(oi, P + "Priority", o.Priority, "OtherInfo/Priority");
    optLeaf(oi, P + "SphereOfPromulgation", o.SphereOfPromulgation, "OtherInfo/SphereOfPromulgation");
    optLeaf(oi, P + "TyperNotation", o.TyperNotation, "OtherInfo/TyperNotation");
    optInt(oi, P + "PromulgationAmount", o.PromulgationAmount, "OtherInfo/PromulgationAmount");
    optInt(oi, P + "PageAmount", o.PageAmount, "OtherInfo/PageAmount");
    if (o.Appendixes) {
      const ap = oi.ele(P + "Appendixes");
      o.Appendixes.forEach((a, i) => leaf(ap, P + "Appendix", a, `OtherInfo/Appendixes/Appendix[${i + 1}]`));
    }
  }
  (h.ResponseFor ?? []).forEach((r, i) => responseFor(mh, r, `ResponseFor[${i + 1}]`));
  optInt(mh, P + "SteeringType", h.SteeringType, "SteeringType");
  if (h.ToPlaces) {
    const tp = mh.ele(P + "ToPlaces");
    h.ToPlaces.forEach((p, i) => leaf(tp, P + "Place", p, `ToPlaces/Place[${i + 1}]`));
  }
  return mh;
}

function traceHeader(parent: Builder, t: TraceHeader, i: number): void {
  const el = parent.ele(P + "TraceHeader");
  leaf(el, P + "OrganId", t.OrganId, `TraceHeader[${i + 1}]/OrganId`);
  leaf(el, P + "Timestamp", t.Timestamp, `TraceHeader[${i + 1}]/Timestamp`);
}

function bussiness(parent: Builder, b: Bussiness): Builder {
  const el = parent.ele(P + "Bussiness").att("Id", ID_BUSINESS);
  optLeaf(el, P + "DocumentId", b.DocumentId, "Bussiness/DocumentId");
  el.ele(P + "BussinessDocType").txt(int(b.BussinessDocType, "Bussiness/BussinessDocType"));
  optLeaf(el, P + "BussinessDocReason", b.BussinessDocReason, "Bussiness/BussinessDocReason");
  optInt(el, P + "Paper", b.Paper, "Bussiness/Paper");
  if (b.BussinessDocumentInfo) {
    const info = b.BussinessDocumentInfo;
    const bi = el.ele(P + "BussinessDocumentInfo");
    bi.ele(P + "DocumentInfo").txt(int(info.DocumentInfo, "BussinessDocumentInfo/DocumentInfo"));
    bi.ele(P + "DocumentReceiver").txt(int(info.DocumentReceiver, "BussinessDocumentInfo/DocumentReceiver"));
    const rl = bi.ele(P + "ReceiverList");
    (info.ReceiverList ?? []).forEach((r, i) => {
      const re = rl.ele(P + "Receiver");
      leaf(re, P + "OrganId", r.OrganId, `ReceiverList/Receiver[${i + 1}]/OrganId`);
      re.ele(P + "ReceiverType").txt(int(r.ReceiverType, `ReceiverList/Receiver[${i + 1}]/ReceiverType`));
    });
  }
  if (b.ReplacementInfoList) {
    const list = el.ele(P + "ReplacementInfoList");
    b.ReplacementInfoList.forEach((r, i) => {
      const ri = list.ele(P + "ReplacementInfo");
      leaf(ri, P + "DocumentId", r.DocumentId, `ReplacementInfo[${i + 1}]/DocumentId`);
      const ids = ri.ele(P + "OrganIdList");
      (r.OrganIdList ?? []).forEach((id, j) =>
        leaf(ids, P + "OrganId", id, `ReplacementInfo[${i + 1}]/OrganIdList/OrganId[${j + 1}]`),
      );
    });
  }
  if (b.StaffInfo) staffInfo(el, b.StaffInfo, ["Department", "Staff", "Email", "Mobile"], "Bussiness/StaffInfo");
  return el;
}

function reference(parent: Builder, a: AttachmentInfo, n: number): void {
  const el = parent.ele(P + "Reference");
  const path = `attachment ${n}`;
  leaf(el, P + "ContentId", "cid:" + stripCid(a.ContentId), `${path} ContentId`);
  leaf(el, P + "ContentType", a.ContentType, `${path} ContentType`);
  optLeaf(el, P + "Description", a.Description, `${path} Description`);
  leaf(el, P + "AttachmentName", a.AttachmentName, `${path} AttachmentName`);
}

function attachment(parent: Builder, a: AttachmentInfo, n: number): Builder {
  const el = parent.ele("Attachment").att("Id", idAttachment(n));
  const path = `attachment ${n}`;
  leaf(el, "ContentId", "cid:" + stripCid(a.ContentId), `${path} ContentId`);
  leaf(el, "AttachmentName", a.AttachmentName, `${path} AttachmentName`);
  optLeaf(el, "Description", a.Description, `${path} Description`);
  leaf(el, "ContentType", a.ContentType, `${path} ContentType`);
  el.ele(P + "ContentTransferEncoded").att("xmlns:edXML", EDXML_NS).txt(attachmentSlot(n));
  return el;
}

/** A rendered packet: its text with the slots, and the canonical form of each signed element. */
export interface RenderedPacket {
  text: string;
  /** By Id, in the order the signature references them: header, business block, manifest, attachments. */
  canonical: Map<string, string>;
}

const EDXML_PREFIX_DECL: [string, string] = ["xmlns:edXML", EDXML_NS];

/** The text, each slot checked to appear exactly once, and the canonical forms of `signed`. */
function finish(root: Builder, slots: string[], signed: [string, Builder, [string, string]][]): RenderedPacket {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${root.write()}`;
  for (const slot of slots) {
    const at = text.indexOf(slot);
    if (at < 0 || text.indexOf(slot, at + 1) >= 0) {
      throw new Error(`the reserved marker ${slot} must appear exactly once in the packet, found ${text.split(slot).length - 1} times`);
    }
  }
  return { text, canonical: new Map(signed.map(([id, el, decl]) => [id, el.write(true, decl)])) };
}

/**
 * The complete edoc packet text, except that the text SIGNATURE_SLOT stands where the
 * `ds:Signature` element goes and attachmentSlot(n) is the text of each ContentTransferEncoded.
 * When `edoc.bussiness` is absent a "new document" block (type 0) is written, because the
 * signature profile always signs `#edxml-business`.
 */
export function renderEdoc(edoc: Edoc): RenderedPacket {
  // The layout's namespace: the default one on the root (AttachmentEncoded is unprefixed) and the
  // edXML prefix on the envelope and on each ContentTransferEncoded, as the layout writes them.
  const root = new Builder("edXML").att("xmlns", EDXML_NS);
  const envelope = root.ele(P + "edXMLEnvelope").att("xmlns:edXML", EDXML_NS);
  const header = envelope.ele(P + "edXMLHeader");
  const mh = edocHeader(header, edoc.header);

  const traces = header.ele(P + "TraceHeaderList");
  (edoc.traces ?? []).forEach((t, i) => traceHeader(traces, t, i));
  const business = bussiness(traces, edoc.bussiness ?? { BussinessDocType: 0, BussinessDocReason: BUSINESS_KINDS[0].reason });
  header.txt(SIGNATURE_SLOT);

  const manifest = envelope.ele(P + "edXMLBody").ele(P + "edXMLManifest").att("version", "1.0").att("Id", ID_MANIFEST);
  const atts = edoc.attachments ?? [];
  atts.forEach((a, i) => reference(manifest, a, i + 1));
  const signed: [string, Builder, [string, string]][] = [
    [ID_HEADER, mh, EDXML_PREFIX_DECL],
    [ID_BUSINESS, business, EDXML_PREFIX_DECL],
    [ID_MANIFEST, manifest, EDXML_PREFIX_DECL],
  ];
  if (atts.length) {
    const encoded = root.ele("AttachmentEncoded");
    atts.forEach((a, i) => signed.push([idAttachment(i + 1), attachment(encoded, a, i + 1), ["xmlns", EDXML_NS]]));
  }
  return finish(root, [SIGNATURE_SLOT, ...atts.map((_, i) => attachmentSlot(i + 1))], signed);
}

/** renderEdoc's text. */
export function renderEdocTemplate(edoc: Edoc): string {
  return renderEdoc(edoc).text;
}

/** The status packet text with SIGNATURE_SLOT as the last child of `edXMLHeader`, and its signed header. */
export function renderStatus(status: StatusPacket): RenderedPacket {
  const h = status.header;
  const root = new Builder("edXML").att("xmlns", EDXML_NS);
  const header = root.ele(P + "edXMLEnvelope").att("xmlns:edXML", EDXML_NS).ele(P + "edXMLHeader");
  const mh = header.ele(P + "MessageHeader").att("Id", ID_HEADER);
  organization(mh, "From", h.From, "From");
  responseFor(mh, h.ResponseFor ?? { OrganId: "", DocumentId: "" }, "ResponseFor");
  if (h.StaffInfo) staffInfo(mh, h.StaffInfo, ["Department", "Staff", "Mobile", "Email"], "StaffInfo");
  leaf(mh, P + "StatusCode", h.StatusCode, "StatusCode");
  optLeaf(mh, P + "Description", h.Description, "Description");
  leaf(mh, P + "Timestamp", h.Timestamp, "Timestamp");
  header.txt(SIGNATURE_SLOT);
  return finish(root, [SIGNATURE_SLOT], [[ID_HEADER, mh, EDXML_PREFIX_DECL]]);
}

/** renderStatus's text. */
export function renderStatusTemplate(status: StatusPacket): string {
  return renderStatus(status).text;
}
