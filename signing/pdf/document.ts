// The PDF side of a PDF signature, read with pdf-lib: the signature fields (/FT /Sig) and their
// dictionaries (/ByteRange, /Contents, /SubFilter, /M, /Reason), the certification (DocMDP)
// permissions, the DSS dictionary's validation data, and what changed between a signed revision
// and the final file. pdf-lib parses objects in file order (a later definition replaces an earlier
// one), so parsing the bytes up to a revision's end gives that revision's objects.
import { inflateSync } from "node:zlib";
import {
  PDFArray,
  PDFContext,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFObjectParser,
  PDFRawStream,
  PDFRef,
  PDFStream,
  PDFString,
  ParseSpeeds,
  type PDFObject,
} from "pdf-lib";

export interface SignatureField {
  /** Fully qualified field name (parent names joined with "."). */
  name: string;
  /** The signature dictionary's object (null when it is a direct object in the field). */
  ref: PDFRef | null;
  dict: PDFDict;
  type: "Sig" | "DocTimeStamp";
  subFilter: string | null;
  /** Four numbers when the dictionary has a well-formed /ByteRange; otherwise null. */
  byteRange: number[] | null;
  contents: Buffer | null;
  /** /M: the signing time the PDF claims (unsigned for CMS, but inside the signed revision). */
  claimedTime: Date | null;
  reason: string | null;
  /** DocMDP permission level (1 no changes, 2 form fill-in and signing, 3 also annotations) when this is a certification signature. */
  docMdp: number | null;
}


/** Reads a PDF (or one revision of it); throws when it has no document catalog. */
export async function loadPdf(bytes: Uint8Array): Promise<PDFDocument> {
  const doc = await PDFDocument.load(bytes, { ignoreEncryption: true, updateMetadata: false, throwOnInvalidObject: false, parseSpeed: ParseSpeeds.Fastest });
  if (!(doc.context.lookup(doc.context.trailerInfo.Root) instanceof PDFDict)) throw new Error("no document catalog");
  return doc;
}

const name = (o: PDFObject | undefined): string | null => (o instanceof PDFName ? o.decodeText() : null);
const text = (o: PDFObject | undefined): string | null => (o instanceof PDFString || o instanceof PDFHexString ? o.decodeText() : null);

function lookup(doc: PDFDocument, o: PDFObject | undefined): PDFObject | undefined {
  return o instanceof PDFRef ? doc.context.lookup(o) : o;
}

function dictOf(doc: PDFDocument, o: PDFObject | undefined): PDFDict | null {
  const v = lookup(doc, o);
  return v instanceof PDFDict ? v : null;
}

function arrayOf(doc: PDFDocument, o: PDFObject | undefined): PDFObject[] {
  const v = lookup(doc, o);
  return v instanceof PDFArray ? v.asArray() : [];
}

function dateOf(s: string | null): Date | null {
  // PDF date: D:YYYYMMDDHHmmSSOHH'mm'
  const m = s && /^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Z+-])?(\d{2})?'?(\d{2})?/.exec(s);
  if (!m) return null;
  const utc = Date.UTC(Number(m[1]), Number(m[2] ?? 1) - 1, Number(m[3] ?? 1), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  const offset = m[7] === "+" || m[7] === "-" ? (m[7] === "-" ? -1 : 1) * (Number(m[8] ?? 0) * 60 + Number(m[9] ?? 0)) : 0;
  return new Date(utc - offset * 60_000);
}

/** The signature fields of the AcroForm that hold a value (signed fields), in field order. */
export function signatureFields(doc: PDFDocument): SignatureField[] {
  const out: SignatureField[] = [];
  const acroForm = dictOf(doc, doc.catalog.get(PDFName.of("AcroForm")));
  const certification = certificationRef(doc);
  const seen = new Set<PDFDict>();
  const walk = (o: PDFObject | undefined, parentName: string, inheritedFt: string | null, depth: number): void => {
    const field = dictOf(doc, o);
    if (!field || seen.has(field) || depth > 32) return;
    seen.add(field);
    const partial = text(field.get(PDFName.of("T")));
    const fullName = partial === null ? parentName : parentName ? `${parentName}.${partial}` : partial;
    const ft = name(field.get(PDFName.of("FT"))) ?? inheritedFt;
    const kids = arrayOf(doc, field.get(PDFName.of("Kids")));
    for (const kid of kids) walk(kid, fullName, ft, depth + 1);
    const vRaw = field.get(PDFName.of("V"));
    const v = dictOf(doc, vRaw);
    if (ft !== "Sig" || !v) return;
    out.push(readSignatureDict(v, vRaw instanceof PDFRef ? vRaw : null, fullName, certification));
  };
  for (const f of arrayOf(doc, acroForm?.get(PDFName.of("Fields")))) walk(f, "", null, 0);
  return out;
}

function readSignatureDict(dict: PDFDict, ref: PDFRef | null, fieldName: string, certification: PDFRef | PDFDict | null): SignatureField {
  const br = dict.get(PDFName.of("ByteRange"));
  const numbers = br instanceof PDFArray ? br.asArray() : [];
  const byteRange =
    numbers.length === 4 && numbers.every((n) => n instanceof PDFNumber && Number.isSafeInteger(n.asNumber()) && n.asNumber() >= 0)
      ? numbers.map((n) => (n as PDFNumber).asNumber())
      : null;
  const c = dict.get(PDFName.of("Contents"));
  const contents = c instanceof PDFHexString || c instanceof PDFString ? Buffer.from(c.asBytes()) : null;
  let docMdp: number | null = null;
  if (certification && (certification === ref || certification === dict)) {
    docMdp = 2; // the default permission level (ISO 32000-1 §12.8.2.2)
    for (const r of dict.lookupMaybe(PDFName.of("Reference"), PDFArray)?.asArray() ?? []) {
      const sigRef = r instanceof PDFDict ? r : null;
      const params = sigRef?.lookupMaybe(PDFName.of("TransformParams"), PDFDict);
      const p = params?.get(PDFName.of("P"));
      if (p instanceof PDFNumber) docMdp = p.asNumber();
    }
  }
  return {
    name: fieldName,
    ref,
    dict,
    type: name(dict.get(PDFName.of("Type"))) === "DocTimeStamp" ? "DocTimeStamp" : "Sig",
    subFilter: name(dict.get(PDFName.of("SubFilter"))),
    byteRange,
    contents,
    claimedTime: dateOf(text(dict.get(PDFName.of("M")))),
    reason: text(dict.get(PDFName.of("Reason"))),
    docMdp,
  };
}

/** The certification signature named by the catalog's /Perms /DocMDP. */
function certificationRef(doc: PDFDocument): PDFRef | PDFDict | null {
  const perms = dictOf(doc, doc.catalog.get(PDFName.of("Perms")));
  const v = perms?.get(PDFName.of("DocMDP"));
  return v instanceof PDFRef || v instanceof PDFDict ? v : null;
}

function streamBytes(o: PDFObject | undefined, doc: PDFDocument): Buffer | null {
  const s = lookup(doc, o);
  if (!(s instanceof PDFRawStream)) return null;
  const filter = name(s.dict.get(PDFName.of("Filter")));
  if (filter === null) return Buffer.from(s.contents);
  if (filter !== "FlateDecode") return null;
  try {
    return inflateSync(s.contents);
  } catch {
    return null;
  }
}

/** Certificates and CRLs of the catalog's /DSS dictionary (ETSI EN 319 142-1 §5.4). */
export function validationData(doc: PDFDocument): { certificates: Buffer[]; crls: Buffer[] } {
  const dss = dictOf(doc, doc.catalog.get(PDFName.of("DSS")));
  const read = (key: string) =>
    arrayOf(doc, dss?.get(PDFName.of(key)))
      .map((o) => streamBytes(o, doc))
      .filter((b): b is Buffer => b !== null);
  return { certificates: read("Certs"), crls: read("CRLs") };
}

/** One object that differs between a signed revision and the final file. */
export interface Change {
  /** "12 0 R" */
  object: string;
  kind:
    | "validation-data"
    | "document-timestamp"
    | "signature"
    | "signature-field"
    | "form"
    | "catalog"
    | "metadata"
    | "annotation"
    | "page"
    | "signature-dictionary"
    | "object";
  /** Whether the change is one a later signer or an archive may make (ISO 32000-1 §12.8.2.2, PAdES LT/LTA). */
  permitted: boolean;
  /** English, then Vietnamese. */
  en: string;
  vi: string;
}

const serialize = (o: PDFObject | undefined): string => (o === undefined ? "" : o.toString());

/** A form that does not depend on dictionary key order (writers reorder keys when they rewrite). */
function canonical(o: PDFObject | undefined, depth = 0): string {
  if (o === undefined) return "";
  if (depth > 64) return o.toString();
  if (o instanceof PDFDict) {
    const entries = o.entries().map(([k, v]) => [k.toString(), canonical(v, depth + 1)] as const);
    return "<<" + entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k} ${v}`).join(" ") + ">>";
  }
  if (o instanceof PDFArray) return "[" + o.asArray().map((v) => canonical(v, depth + 1)).join(" ") + "]";
  if (o instanceof PDFRawStream) return canonical(o.dict, depth + 1) + "stream" + Buffer.from(o.contents).toString("latin1");
  return o.toString();
}

/** Type keys that make an object structural (the file's own bookkeeping, not content). */
const STRUCTURAL = new Set(["XRef", "ObjStm"]);

function isSignatureDict(d: PDFDict): boolean {
  return d.has(PDFName.of("ByteRange")) && d.has(PDFName.of("Contents"));
}

/** A widget or field dictionary of a signature field (the field and its widget may be merged). */
function isSignatureField(doc: PDFDocument, d: PDFDict): boolean {
  for (let cur: PDFDict | null = d, i = 0; cur && i < 32; i++) {
    const ft = name(cur.get(PDFName.of("FT")));
    if (ft) return ft === "Sig";
    cur = dictOf(doc, cur.get(PDFName.of("Parent")));
  }
  return false;
}

function refsIn(doc: PDFDocument, o: PDFObject | undefined): string[] {
  const v = o instanceof PDFRef ? o : undefined;
  if (v) {
    const target = doc.context.lookup(v);
    return target instanceof PDFArray ? target.asArray().map(serialize) : [serialize(v)];
  }
  return o instanceof PDFArray ? o.asArray().map(serialize) : [];
}

/** Objects reachable from the catalog's /DSS: all of it is validation data. */
function dssObjects(doc: PDFDocument): Set<string> {
  const out = new Set<string>();
  const visit = (o: PDFObject | undefined, depth: number): void => {
    if (depth > 6 || o === undefined) return;
    if (o instanceof PDFRef) {
      if (out.has(o.toString())) return;
      out.add(o.toString());
      visit(doc.context.lookup(o), depth + 1);
    } else if (o instanceof PDFDict) {
      for (const [, v] of o.entries()) visit(v, depth + 1);
    } else if (o instanceof PDFArray) {
      for (const v of o.asArray()) visit(v, depth + 1);
    } else if (o instanceof PDFStream) {
      visit(o.dict, depth + 1);
    }
  };
  visit(doc.catalog.get(PDFName.of("DSS")), 0);
  const direct = doc.context.getObjectRef(doc.catalog);
  if (direct) out.delete(direct.toString());
  return out;
}

function differingKeys(a: PDFDict, b: PDFDict): string[] {
  const keys = new Set([...a.keys(), ...b.keys()].map((k) => k.decodeText()));
  return [...keys].filter((k) => canonical(a.get(PDFName.of(k))) !== canonical(b.get(PDFName.of(k))));
}

/**
 * What changed between `signed` (the revision a signature covers) and `final`, object by object.
 * New objects no existing object points to are inert and not listed; a new annotation or content
 * stream shows through the page (or array) that now refers to it.
 */
export function changesSince(signed: PDFDocument, final: PDFDocument): Change[] {
  const changes: Change[] = [];
  const dss = dssObjects(final);
  const signedSigDicts = new Set(signatureFields(signed).flatMap((f) => (f.ref ? [f.ref.toString()] : [])));
  const signedFieldValues = new Map<string, boolean>();
  const infoRef = serialize(final.context.trailerInfo.Info);
  const catalogRef = serialize(final.context.trailerInfo.Root);
  const add = (object: string, kind: Change["kind"], permitted: boolean, en: string, vi: string) => changes.push({ object, kind, permitted, en, vi });

  for (const [ref, obj] of final.context.enumerateIndirectObjects()) {
    const key = ref.toString();
    const before = signed.context.lookup(ref);
    if (before !== undefined && canonical(before) === canonical(obj)) continue;
    const dict = obj instanceof PDFDict ? obj : obj instanceof PDFStream ? obj.dict : null;
    const type = dict ? name(dict.get(PDFName.of("Type"))) : null;
    if (type && STRUCTURAL.has(type)) continue;
    const isNew = before === undefined;

    if (dss.has(key) || type === "DSS") {
      add(key, "validation-data", true, "validation data (DSS dictionary: certificates, revocation data)", "dữ liệu kiểm tra (từ điển DSS: chứng thư số, dữ liệu thu hồi)");
    } else if (dict && isSignatureDict(dict)) {
      if (!isNew && signedSigDicts.has(key)) {
        add(key, "signature-dictionary", false, `the signature dictionary ${key} was changed after signing (for example its /Reason or /M)`, `từ điển chữ ký ${key} bị sửa sau khi ký (ví dụ /Reason hoặc /M)`);
      } else if (type === "DocTimeStamp") {
        add(key, "document-timestamp", true, "a document time-stamp was added", "đã thêm dấu thời gian cho tài liệu");
      } else {
        add(key, "signature", true, "a later signature was added", "đã thêm một chữ ký sau");
      }
    } else if (key === catalogRef && dict && before instanceof PDFDict) {
      const keys = differingKeys(before, dict).filter((k) => !["DSS", "AcroForm", "Extensions", "Metadata"].includes(k));
      if (keys.length === 0) continue; // a new DSS, form or extension entry: shown by the objects themselves
      add(key, "catalog", false, `the document catalog was changed after signing (${keys.map((k) => "/" + k).join(", ")})`, `danh mục tài liệu bị sửa sau khi ký (${keys.map((k) => "/" + k).join(", ")})`);
    } else if (key === infoRef || type === "Metadata") {
      add(key, "metadata", true, "document metadata (information dictionary or XMP) was updated", "siêu dữ liệu của tài liệu được cập nhật");
    } else if (dict && isSignatureField(final, dict)) {
      // A signature field may gain its value (signing an empty field); a signed one must not change.
      const wasSigned = before instanceof PDFDict && before.has(PDFName.of("V"));
      signedFieldValues.set(key, wasSigned);
      if (wasSigned) add(key, "signature-field", false, `the signed signature field ${key} was changed after signing`, `trường chữ ký đã ký ${key} bị sửa sau khi ký`);
      else add(key, "signature-field", true, "a signature field was added or signed", "đã thêm hoặc ký một trường chữ ký");
    } else if (dict && before instanceof PDFDict && dict.has(PDFName.of("Fields"))) {
      const kept = refsIn(signed, before.get(PDFName.of("Fields")));
      const now = new Set(refsIn(final, dict.get(PDFName.of("Fields"))));
      const ok = kept.every((r) => now.has(r));
      add(key, "form", ok, ok ? "form fields were added" : "form fields were removed after signing", ok ? "đã thêm trường biểu mẫu" : "trường biểu mẫu bị xóa sau khi ký");
    } else if (type === "Page" && dict && before instanceof PDFDict) {
      const other = differingKeys(before, dict).filter((k) => k !== "Annots");
      if (other.length > 0) {
        add(key, "page", false, `a page was changed after signing (${other.map((k) => "/" + k).join(", ")}): what is shown may differ from what was signed`, `một trang bị sửa sau khi ký (${other.map((k) => "/" + k).join(", ")}): nội dung hiển thị có thể khác nội dung đã ký`);
      } else {
        annotationChange(key, refsIn(signed, before.get(PDFName.of("Annots"))), refsIn(final, dict.get(PDFName.of("Annots"))), final, add);
      }
    } else if (obj instanceof PDFArray && before instanceof PDFArray && isAnnotsArray(final, ref)) {
      annotationChange(key, before.asArray().map(serialize), obj.asArray().map(serialize), final, add);
    } else if (dict && name(dict.get(PDFName.of("Subtype"))) !== null && type === "Annot") {
      add(key, "annotation", false, `the annotation ${key} was changed after signing`, `chú thích ${key} bị sửa sau khi ký`);
    } else if (!isNew) {
      const what = type === "Pages" ? "the page tree" : dict ? `object ${key}${type ? ` (/${type})` : ""}` : `object ${key}`;
      add(key, type === "Pages" ? "page" : "object", false, `${what} was changed after signing: what is shown may differ from what was signed`, `${type === "Pages" ? "cây trang" : `đối tượng ${key}`} bị sửa sau khi ký: nội dung hiển thị có thể khác nội dung đã ký`);
    }
  }
  return changes;
}

function isAnnotsArray(doc: PDFDocument, ref: PDFRef): boolean {
  return doc.getPages().some((p) => serialize(p.node.get(PDFName.of("Annots"))) === ref.toString());
}

function annotationChange(
  key: string,
  before: string[],
  after: string[],
  final: PDFDocument,
  add: (object: string, kind: Change["kind"], permitted: boolean, en: string, vi: string) => void,
): void {
  const was = new Set(before);
  const now = new Set(after);
  const removed = before.filter((r) => !now.has(r));
  const added = after.filter((r) => !was.has(r));
  if (removed.length > 0) add(key, "annotation", false, `annotations were removed from a page after signing (${removed.join(", ")})`, `chú thích bị xóa khỏi trang sau khi ký (${removed.join(", ")})`);
  for (const r of added) {
    const [num, gen] = r.split(" ").map(Number);
    const annot = final.context.lookup(PDFRef.of(num!, gen!));
    if (annot instanceof PDFDict && isSignatureField(final, annot)) continue; // a new signature's widget
    const subtype = annot instanceof PDFDict ? name(annot.get(PDFName.of("Subtype"))) : null;
    add(r, "annotation", false, `an annotation (${subtype ?? "unknown"}) was added to a page after signing`, `một chú thích (${subtype ?? "không rõ"}) được thêm vào trang sau khi ký`);
  }
}

interface XrefEntry {
  object: number;
  offset: number;
  free: boolean;
}

/** The cross-reference entries written after `from`: classic tables and cross-reference streams. */
function xrefEntriesAfter(bytes: Buffer, from: number): XrefEntry[] {
  const tail = bytes.subarray(from).toString("latin1");
  const out: XrefEntry[] = [];
  for (const table of tail.matchAll(/(?:^|[\r\n])xref\s+([\s\S]*?)trailer/g)) {
    const tokens = table[1]!.trim().split(/\s+/);
    for (let i = 0; i + 1 < tokens.length; ) {
      const first = Number(tokens[i]);
      const count = Number(tokens[i + 1]);
      i += 2;
      for (let k = 0; k < count && i + 2 < tokens.length + 1; k++, i += 3) {
        out.push({ object: first + k, offset: Number(tokens[i]), free: tokens[i + 2] === "f" });
      }
    }
  }
  // bounded and anchored: /Contents holes are long runs of digits
  for (const m of tail.matchAll(/(?<!\d)\d{1,10}[ \t\r\n]+\d{1,5}[ \t\r\n]+obj\b/g)) {
    const at = from + m.index! + m[0].length;
    if (!/\/Type\s*\/XRef\b/.test(bytes.subarray(at, at + 512).toString("latin1"))) continue;
    try {
      const stream = PDFObjectParser.forBytes(bytes.subarray(at), PDFContext.create()).parseObject();
      if (stream instanceof PDFRawStream) out.push(...xrefStreamEntries(stream));
    } catch {
      // an unreadable cross-reference stream: the objects it would list are compared anyway
    }
  }
  return out;
}

/**
 * A reader finds objects through the cross-reference entries, pdf-lib by reading the file in
 * order. An entry written after signing that points into the signed bytes, or at another object's
 * header, makes the reader show bytes the signature never meant there (the "shadow" attacks of
 * DSS-2236): each is a change. So is an object freed after signing.
 */
export function xrefChanges(bytes: Buffer, revisionEnd: number, signed: PDFDocument): Change[] {
  const changes: Change[] = [];
  const existing = new Set(signed.context.enumerateIndirectObjects().map(([r]) => r.objectNumber));
  for (const e of xrefEntriesAfter(bytes, revisionEnd)) {
    if (e.object === 0) continue;
    const key = `${e.object} 0 R`;
    if (e.free) {
      if (existing.has(e.object)) {
        changes.push({ object: key, kind: "object", permitted: false, en: `object ${e.object} was deleted after signing`, vi: `đối tượng ${e.object} bị xóa sau khi ký` });
      }
      continue;
    }
    const header = /^\s*(\d+)\s+\d+\s+obj\b/.exec(bytes.subarray(e.offset, e.offset + 32).toString("latin1"));
    if (e.offset < revisionEnd || !header || Number(header[1]) !== e.object) {
      changes.push({
        object: key,
        kind: "object",
        permitted: false,
        en: `after signing, the cross-reference table sends object ${e.object} to other bytes (offset ${e.offset}): a reader may show content the signature does not cover`,
        vi: `sau khi ký, bảng tham chiếu chéo trỏ đối tượng ${e.object} sang dữ liệu khác (vị trí ${e.offset}): trình đọc có thể hiển thị nội dung không được chữ ký bảo vệ`,
      });
    }
  }
  return changes;
}

/** Entries of a cross-reference stream (ISO 32000-1 §7.5.8), PNG predictors included. */
function xrefStreamEntries(stream: PDFRawStream): XrefEntry[] {
  const d = stream.dict;
  const w = (d.lookupMaybe(PDFName.of("W"), PDFArray)?.asArray() ?? []).map((n) => (n instanceof PDFNumber ? n.asNumber() : 0));
  const size = d.lookupMaybe(PDFName.of("Size"), PDFNumber)?.asNumber() ?? 0;
  const index = (d.lookupMaybe(PDFName.of("Index"), PDFArray)?.asArray() ?? [PDFNumber.of(0), PDFNumber.of(size)]).map((n) => (n instanceof PDFNumber ? n.asNumber() : 0));
  if (w.length !== 3) return [];
  let data: Buffer = name(d.get(PDFName.of("Filter"))) === "FlateDecode" ? inflateSync(stream.contents) : Buffer.from(stream.contents);
  const rowLength = w[0]! + w[1]! + w[2]!;
  const predictor = d.lookupMaybe(PDFName.of("DecodeParms"), PDFDict)?.lookupMaybe(PDFName.of("Predictor"), PDFNumber)?.asNumber() ?? 1;
  if (predictor >= 10) data = unpredictPng(data, rowLength);
  const field = (row: number, from: number, width: number) => {
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + data[row * rowLength + from + i]!;
    return v;
  };
  const out: XrefEntry[] = [];
  let row = 0;
  for (let i = 0; i + 1 < index.length; i += 2) {
    for (let k = 0; k < index[i + 1]! && (row + 1) * rowLength <= data.length; k++, row++) {
      const type = w[0] === 0 ? 1 : field(row, 0, w[0]!);
      if (type === 2) continue; // inside an object stream, whose own entry is checked
      out.push({ object: index[i]! + k, offset: field(row, w[0]!, w[1]!), free: type === 0 });
    }
  }
  return out;
}

/** Undoes PNG row predictors (each row: one filter byte, then `columns` bytes). */
function unpredictPng(data: Buffer, columns: number): Buffer {
  const rows = Math.floor(data.length / (columns + 1));
  const out = Buffer.alloc(rows * columns);
  for (let r = 0; r < rows; r++) {
    const filter = data[r * (columns + 1)]!;
    for (let c = 0; c < columns; c++) {
      const raw = data[r * (columns + 1) + 1 + c]!;
      const left = c > 0 ? out[r * columns + c - 1]! : 0;
      const up = r > 0 ? out[(r - 1) * columns + c]! : 0;
      const upLeft = r > 0 && c > 0 ? out[(r - 1) * columns + c - 1]! : 0;
      let pred = 0;
      if (filter === 1) pred = left;
      else if (filter === 2) pred = up;
      else if (filter === 3) pred = Math.floor((left + up) / 2);
      else if (filter === 4) {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        pred = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      out[r * columns + c] = (raw + pred) & 0xff;
    }
  }
  return out;
}
