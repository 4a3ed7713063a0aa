// Business validation of edXML packets (QCVN 102:2016/BTTTT), in plain English sentences.
// Rules follow the production hub checks summarised in shared/reference/edxml.md §2–§5.
// Lengths count characters (Unicode code points), not bytes.
import { STATUS_CODES, type Edoc, type Organization, type StaffInfo, type StatusPacket } from "./model.ts";
import { formatDate, formatTimestamp } from "./build.ts";

export interface ValidateOptions {
  /** true for packets our own agency sends (strict organ id, Type 1 or 2), false for received ones. */
  own: boolean;
  /** "Now" for the not-in-the-future checks; defaults to the current time. */
  now?: Date;
}

/** Organ id of our own agencies: level4.level3.level2.level1, e.g. 000.00.00.G22. */
export const ORGAN_ID_STRICT = /^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$/;
/** Organ ids of others (QĐ 20/2020 codes included): 1–35 characters from 0-9, A-Z, a-z and dot. */
export const ORGAN_ID_LENIENT = /^[0-9A-Za-z.]{1,35}$/;
const EMAIL = /^[^\s@<>(),;:"\[\]\\]+@[^\s@<>(),;:"\[\]\\]+\.[^\s@<>(),;:"\[\]\\]+$/;
const DATE = /^(\d{4})\/(\d{2})\/(\d{2})$/;
const TIMESTAMP = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const VN_OFFSET_MS = 7 * 3600 * 1000;
/** Clock difference tolerated for status timestamps. */
export const TIMESTAMP_SKEW_MS = 5 * 60 * 1000;

const PRIORITY_WORDS = "0 (Thường), 1 (Khẩn), 2 (Thượng khẩn), 3 (Hỏa tốc) or 4 (Hỏa tốc hẹn giờ)";
const TYPE_WORDS = "0 (new), 1 (revoke), 2 (update) or 3 (replace)";

/** The problems found; message = the problems joined with "; ". */
export class ValidationError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join("; "));
    this.name = "ValidationError";
    this.problems = problems;
  }
}

/** Number of characters (code points), so "Đ" counts 1 although it is 2 bytes in UTF-8. */
export function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `yyyy/MM/dd` that is a real calendar date. */
function isValidDate(s: string): boolean {
  const m = DATE.exec(s);
  return !!m && realDate(+m[1], +m[2], +m[3]);
}

/** Parse `yyyy/MM/dd HH:mm:ss` as Vietnam time; undefined when malformed or not a real instant. */
export function parseVnTimestamp(s: string): Date | undefined {
  const m = TIMESTAMP.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  if (!realDate(y, mo, d) || h > 23 || mi > 59 || se > 59) return undefined;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, se) - VN_OFFSET_MS);
}

function realDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(2000, m - 1, d));
  dt.setUTCFullYear(y);
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null) return "null";
  if (typeof v === "number") return Number.isNaN(v) ? "missing or not a number" : String(v);
  if (typeof v === "object") return Array.isArray(v) ? "a list" : "an object";
  return String(v);
}

class Checker {
  readonly problems: string[] = [];
  readonly today: string;
  readonly nowText: string;
  constructor(readonly now: Date) {
    this.today = formatDate(now);
    this.nowText = formatTimestamp(now);
  }

  add(msg: string): void {
    this.problems.push(msg);
  }

  /** A text value; returns it when it is a non-empty string. */
  text(path: string, v: unknown, o: { required?: boolean; max?: number } = {}): string | undefined {
    if (v === undefined || v === null || v === "") {
      if (o.required) this.add(`${path} is required but missing.`);
      return undefined;
    }
    if (typeof v !== "string") {
      this.add(`${path} must be text, got ${typeof v === "number" ? "the number " + v : show(v)}.`);
      return undefined;
    }
    if (o.required && v.trim() === "") {
      this.add(`${path} is required but contains only spaces.`);
      return undefined;
    }
    if (o.max !== undefined) {
      const n = charLength(v);
      if (n > o.max) this.add(`${path} is ${n} characters long; at most ${o.max} are allowed.`);
    }
    return v;
  }

  organId(path: string, v: unknown, strict: boolean): void {
    const id = this.text(path, v, { required: true });
    if (id === undefined) return;
    if (strict && !ORGAN_ID_STRICT.test(id)) {
      this.add(
        `${path} ${show(id)} is not a valid organ id for our own agency: expected the form 000.00.00.G22 ` +
          `(3 digits, 2 digits, 2 digits, then a capital letter and 2 digits, separated by dots).`,
      );
    } else if (!strict && !ORGAN_ID_LENIENT.test(id)) {
      this.add(`${path} ${show(id)} is not a valid organ id: expected 1 to 35 letters, digits or dots.`);
    }
  }

  /** An integer; returns it when valid. */
  int(path: string, v: unknown, required = false): number | undefined {
    if (v === undefined || v === null) {
      if (required) this.add(`${path} is required but missing.`);
      return undefined;
    }
    if (typeof v === "number" && Number.isNaN(v)) {
      this.add(required ? `${path} is required but missing or not a number.` : `${path} is not a number.`);
      return undefined;
    }
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.add(`${path} must be a whole number, got ${show(v)}.`);
      return undefined;
    }
    return v;
  }

  nonNegative(path: string, v: unknown): void {
    const n = this.int(path, v);
    if (n !== undefined && n < 0) this.add(`${path} is ${n}; it must be 0 or more.`);
  }

  oneOf(path: string, v: unknown, allowed: number[], words: string, required = false): void {
    const n = this.int(path, v, required);
    if (n !== undefined && !allowed.includes(n)) this.add(`${path} is ${n}; it must be ${words}.`);
  }

  date(path: string, v: unknown, o: { required?: boolean; notFuture?: boolean } = {}): void {
    const s = this.text(path, v, { required: o.required });
    if (s === undefined) return;
    if (!DATE.test(s)) this.add(`${path} ${show(s)} is not a date in the form yyyy/MM/dd.`);
    else if (!isValidDate(s)) this.add(`${path} ${show(s)} is not a real calendar date.`);
    else if (o.notFuture && s > this.today) {
      this.add(`${path} ${s} is in the future (today in Vietnam is ${this.today}).`);
    }
  }

  timestamp(path: string, v: unknown, o: { required?: boolean; notFuture?: boolean } = {}): void {
    const s = this.text(path, v, { required: o.required });
    if (s === undefined) return;
    const t = parseVnTimestamp(s);
    if (!TIMESTAMP.test(s)) this.add(`${path} ${show(s)} is not a timestamp in the form yyyy/MM/dd HH:mm:ss.`);
    else if (!t) this.add(`${path} ${show(s)} is not a real date and time.`);
    else if (o.notFuture && t.getTime() > this.now.getTime() + TIMESTAMP_SKEW_MS) {
      this.add(
        `${path} ${s} is in the future (now in Vietnam is ${this.nowText}; ` +
          `up to ${TIMESTAMP_SKEW_MS / 60000} minutes of clock difference is tolerated).`,
      );
    }
  }

  email(path: string, v: unknown): void {
    const s = this.text(path, v, { max: 100 });
    if (s !== undefined && !EMAIL.test(s)) this.add(`${path} ${show(s)} is not a valid e-mail address.`);
  }

  organization(path: string, org: Organization | undefined, strict: boolean): void {
    if (!org || typeof org !== "object") {
      this.add(`${path} is required but missing.`);
      return;
    }
    this.organId(`${path}/OrganId`, org.OrganId, strict);
    this.text(`${path}/OrganizationInCharge`, org.OrganizationInCharge, { max: 500 });
    this.text(`${path}/OrganName`, org.OrganName, { max: 200 });
    this.text(`${path}/OrganAdd`, org.OrganAdd, { max: 500 });
    this.email(`${path}/Email`, org.Email);
    this.text(`${path}/Telephone`, org.Telephone, { max: 20 });
    this.text(`${path}/Fax`, org.Fax, { max: 20 });
    this.text(`${path}/Website`, org.Website);
  }

  staff(path: string, s: StaffInfo | undefined): void {
    if (!s) return;
    this.text(`${path}/Department`, s.Department);
    this.text(`${path}/Staff`, s.Staff);
    this.text(`${path}/Mobile`, s.Mobile);
    this.email(`${path}/Email`, s.Email);
  }

  /** Every string anywhere in the value must be representable in XML. */
  xmlChars(path: string, v: unknown): void {
    if (typeof v === "string") {
      const bad = NOT_XML_CHAR.exec(v);
      if (bad) {
        const cp = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
        this.add(`${path} contains the character U+${cp}, which cannot be carried in XML.`);
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => this.xmlChars(`${path}[${i + 1}]`, x));
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) this.xmlChars(path ? `${path}/${k}` : k, x);
    }
  }
}

const list = <T>(v: T[] | undefined): T[] => (Array.isArray(v) ? v : []);

/**
 * Problems of an edoc, as English sentences (empty = fine). `own` applies the rules for packets
 * our agency sends (strict sender organ id, DocumentType/Type 1 or 2, ContentType required).
 */
export function validateEdoc(edoc: Edoc, opts: ValidateOptions): string[] {
  const c = new Checker(opts.now ?? new Date());
  const h = edoc?.header;
  if (!h) return ["The packet has no MessageHeader."];

  c.organization("From", h.From, opts.own);

  const to = list(h.To);
  if (to.length === 0) c.add("To: at least one recipient is required.");
  const seen = new Set<string>();
  const reported = new Set<string>();
  to.forEach((org, i) => {
    c.organization(`To[${i + 1}]`, org, false);
    const id = org?.OrganId;
    if (typeof id === "string" && id !== "") {
      if (seen.has(id) && !reported.has(id)) {
        c.add(`To: recipient ${id} is listed more than once.`);
        reported.add(id);
      }
      seen.add(id);
    }
  });

  c.text("DocumentId", h.DocumentId, { required: true, max: 200 });
  if (!h.Code) c.add("Code is required but missing.");
  c.text("Code/CodeNumber", h.Code?.CodeNumber, { required: true, max: 11 });
  c.text("Code/CodeNotation", h.Code?.CodeNotation, { required: true, max: 30 });

  c.text("PromulgationInfo/Place", h.PromulgationInfo?.Place, { max: 50 });
  c.date("PromulgationInfo/PromulgationDate", h.PromulgationInfo?.PromulgationDate, { required: true, notFuture: true });

  if (!h.DocumentType) c.add("DocumentType is required but missing.");
  else {
    const type = c.int("DocumentType/Type", h.DocumentType.Type, true);
    if (opts.own && type !== undefined && type !== 1 && type !== 2) {
      c.add(`DocumentType/Type is ${type}; documents we send must use 1 or 2.`);
    }
    c.int("DocumentType/TypeDetail", h.DocumentType.TypeDetail);
    c.text("DocumentType/TypeName", h.DocumentType.TypeName, { max: 100 });
  }

  c.text("Subject", h.Subject, { required: true, max: 500 });
  c.text("Content", h.Content, { max: 500 });
  c.date("DueDate", h.DueDate);

  const o = h.OtherInfo;
  if (o) {
    c.oneOf("OtherInfo/Priority", o.Priority, [0, 1, 2, 3, 4], PRIORITY_WORDS);
    c.text("OtherInfo/SphereOfPromulgation", o.SphereOfPromulgation, { max: 100 });
    c.text("OtherInfo/TyperNotation", o.TyperNotation, { max: 10 });
    c.nonNegative("OtherInfo/PromulgationAmount", o.PromulgationAmount);
    c.nonNegative("OtherInfo/PageAmount", o.PageAmount);
  }

  list(h.ResponseFor).forEach((r, i) => {
    const p = `ResponseFor[${i + 1}]`;
    c.organId(`${p}/OrganId`, r?.OrganId, false);
    c.text(`${p}/Code`, r?.Code);
    c.date(`${p}/PromulgationDate`, r?.PromulgationDate);
    c.text(`${p}/DocumentId`, r?.DocumentId, { required: true, max: 200 });
  });
  c.nonNegative("SteeringType", h.SteeringType);
  list(h.ToPlaces).forEach((p, i) => c.text(`ToPlaces/Place[${i + 1}]`, p, { max: 150 }));

  const b = edoc.bussiness;
  if (b) {
    const t = c.int("Bussiness/BussinessDocType", b.BussinessDocType, true);
    if (t !== undefined && ![0, 1, 2, 3].includes(t)) c.add(`Bussiness/BussinessDocType is ${t}; it must be ${TYPE_WORDS}.`);
    c.text("Bussiness/DocumentId", b.DocumentId, { max: 200 });
    if ((t === 1 || t === 2) && (typeof b.DocumentId !== "string" || b.DocumentId.trim() === "")) {
      c.add(
        t === 1
          ? "Bussiness/DocumentId is required for a revocation (BussinessDocType 1): it names the document being revoked."
          : "Bussiness/DocumentId is required for an update (BussinessDocType 2): it names the document being updated.",
      );
    }
    c.text("Bussiness/BussinessDocReason", b.BussinessDocReason);
    c.oneOf("Bussiness/Paper", b.Paper, [0, 1], "0 or 1");
    if (t === 2 && !b.BussinessDocumentInfo) {
      c.add("Bussiness/BussinessDocumentInfo is required for an update (BussinessDocType 2).");
    }
    const info = b.BussinessDocumentInfo;
    if (info) {
      c.oneOf("BussinessDocumentInfo/DocumentInfo", info.DocumentInfo, [0, 1], "0 or 1", true);
      c.oneOf("BussinessDocumentInfo/DocumentReceiver", info.DocumentReceiver, [0, 1], "0 or 1", true);
      list(info.ReceiverList).forEach((r, i) => {
        const p = `BussinessDocumentInfo/ReceiverList/Receiver[${i + 1}]`;
        c.organId(`${p}/OrganId`, r?.OrganId, false);
        c.oneOf(`${p}/ReceiverType`, r?.ReceiverType, [0, 1], "0 (removed from the recipients) or 1 (newly added)", true);
      });
    }
    if (t === 3 && list(b.ReplacementInfoList).length === 0) {
      c.add("Bussiness/ReplacementInfoList must list at least one replaced document for a replacement (BussinessDocType 3).");
    }
    list(b.ReplacementInfoList).forEach((r, i) => {
      const p = `ReplacementInfoList/ReplacementInfo[${i + 1}]`;
      c.text(`${p}/DocumentId`, r?.DocumentId, { required: true, max: 200 });
      list(r?.OrganIdList).forEach((id, j) => c.organId(`${p}/OrganIdList/OrganId[${j + 1}]`, id, false));
    });
    c.staff("Bussiness/StaffInfo", b.StaffInfo);
  }

  // Trace entries are unsigned and appended by relays; the hub has been seen to append one with a
  // Timestamp only, so in received packets they are checked only for what they do carry.
  list(edoc.traces).forEach((t, i) => {
    const id = t?.OrganId;
    if (opts.own || (id !== undefined && id !== "")) c.organId(`TraceHeader[${i + 1}]/OrganId`, id, false);
    c.timestamp(`TraceHeader[${i + 1}]/Timestamp`, t?.Timestamp, { required: opts.own });
  });

  const ids = new Set<string>();
  list(edoc.attachments).forEach((a, i) => {
    const p = `Attachment[${i + 1}]`;
    const id = c.text(`${p}/ContentId`, a?.ContentId, { required: true });
    if (id !== undefined) {
      const bare = id.replace(/^cid:/i, "");
      if (ids.has(bare)) c.add(`${p}/ContentId ${show(bare)} is used by more than one attachment.`);
      ids.add(bare);
    }
    c.text(`${p}/AttachmentName`, a?.AttachmentName, { required: true, max: 500 });
    c.text(`${p}/ContentType`, a?.ContentType, { required: opts.own });
    c.text(`${p}/Description`, a?.Description, { max: 500 });
  });

  c.xmlChars("", h);
  if (b) c.xmlChars("Bussiness", b);
  c.xmlChars("TraceHeader", edoc.traces);
  c.xmlChars("Attachment", edoc.attachments);
  return c.problems;
}

/** Problems of a status packet, as English sentences (empty = fine). */
export function validateStatus(s: StatusPacket, opts: ValidateOptions): string[] {
  const c = new Checker(opts.now ?? new Date());
  const h = s?.header;
  if (!h) return ["The packet has no MessageHeader."];
  c.organization("From", h.From, opts.own);
  const r = h.ResponseFor;
  if (!r) c.add("ResponseFor is required but missing: a status packet must name the document it reports on.");
  else {
    c.organId("ResponseFor/OrganId", r.OrganId, false);
    c.text("ResponseFor/Code", r.Code);
    c.date("ResponseFor/PromulgationDate", r.PromulgationDate);
    c.text("ResponseFor/DocumentId", r.DocumentId, { required: true, max: 200 });
  }
  c.staff("StaffInfo", h.StaffInfo);
  const code = c.text("StatusCode", h.StatusCode, { required: true });
  if (code !== undefined && !Object.prototype.hasOwnProperty.call(STATUS_CODES, code)) {
    c.add(`StatusCode ${show(code)} is not a known status code; use one of ${Object.keys(STATUS_CODES).sort().join(", ")}.`);
  }
  c.text("Description", h.Description);
  c.timestamp("Timestamp", h.Timestamp, { required: true, notFuture: true });
  c.xmlChars("", h);
  return c.problems;
}

/** Throws a ValidationError listing every problem of the edoc, if any. */
export function assertValidEdoc(edoc: Edoc, opts: ValidateOptions): void {
  const problems = validateEdoc(edoc, opts);
  if (problems.length) throw new ValidationError(problems);
}

/** Throws a ValidationError listing every problem of the status packet, if any. */
export function assertValidStatus(s: StatusPacket, opts: ValidateOptions): void {
  const problems = validateStatus(s, opts);
  if (problems.length) throw new ValidationError(problems);
}
