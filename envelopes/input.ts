// People's input (HEADER.json for `edoc pack`, the `metadata` field of the HTTP API) → the model.
// Shorthands a clerk's software will use are accepted: an organ id string for an Organization,
// "7816/VPCP-TTĐT" for Code; DocumentId and PromulgationDate default to the usual values; dates
// may be written as people do (dd/mm/yyyy, yyyy-mm-dd) and become edXML's yyyy/MM/dd.
import { randomUUID } from "node:crypto";
import { basename, extname } from "node:path";
import { formatDate, formatTimestamp, makeDocumentId } from "./build.ts";
import type { AttachmentInfo, Bussiness, Code, Edoc, EdocHeader, Organization } from "./model.ts";
import { ValidationError } from "./validate.ts";

const CONTENT_TYPES: Record<string, string> = {
  ".pdf": "application/pdf",
  ".doc": "application/msword",
  ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  ".xls": "application/vnd.ms-excel",
  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ".odt": "application/vnd.oasis.opendocument.text",
  ".zip": "application/zip",
  ".xml": "application/xml",
  ".txt": "text/plain",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
};

/** Attachment description for a file: a fresh ContentId, its name and a content type from its extension. */
export function attachmentInfoFor(fileName: string, contentType?: string): AttachmentInfo {
  const name = basename(fileName);
  return {
    ContentId: randomUUID(),
    AttachmentName: name,
    ContentType: contentType || CONTENT_TYPES[extname(name).toLowerCase()] || "application/octet-stream",
    Description: name,
  };
}

const YEAR_FIRST = /^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$/;
const DAY_FIRST = /^(\d{1,2})([-/])(\d{1,2})\2(\d{4})$/;

/**
 * A date in a form people write: yyyy-mm-dd, yyyy/mm/dd, or day first as in Vietnam, dd/mm/yyyy
 * (or dd-mm-yyyy; one-digit days and months too), as zero-padded [year, month, day]; undefined
 * for any other form. Whether it is a real calendar date is left to the caller's check.
 */
export function peopleDateParts(text: string): [string, string, string] | undefined {
  const s = text.trim();
  const y = YEAR_FIRST.exec(s);
  const d = DAY_FIRST.exec(s);
  const parts = y ? [y[1], y[3], y[4]] : d ? [d[4], d[3], d[1]] : undefined;
  return parts && [parts[0], parts[1].padStart(2, "0"), parts[2].padStart(2, "0")];
}

/** A date from people's input in edXML's yyyy/MM/dd; anything else is left for validation to name. */
function edxmlDate<T>(value: T): T | string {
  const parts = typeof value === "string" ? peopleDateParts(value) : undefined;
  return parts ? parts.join("/") : value;
}

function organization(value: unknown, field: string): Organization {
  if (typeof value === "string") return { OrganId: value.trim() };
  if (value && typeof value === "object" && typeof (value as Organization).OrganId === "string") {
    return value as Organization;
  }
  throw new ValidationError([`${field} must be an organ id or an object with OrganId`]);
}

function code(value: unknown): Code {
  if (typeof value === "string") {
    const slash = value.indexOf("/");
    if (slash < 0) throw new ValidationError(['Code must look like "số/ký hiệu", for example "123/QĐ-UBND"']);
    return { CodeNumber: value.slice(0, slash).trim(), CodeNotation: value.slice(slash + 1).trim() };
  }
  return (value ?? {}) as Code;
}

/**
 * An outgoing edoc from input JSON (MessageHeader fields by their edXML names, plus an optional
 * `Bussiness`). Adds the sender's own TraceHeader. Does not validate: call validateEdoc.
 */
export function edocFromInput(input: unknown, attachments: AttachmentInfo[], now = new Date()): Edoc {
  if (!input || typeof input !== "object" || Array.isArray(input)) {
    throw new ValidationError(["the header must be a JSON object with the MessageHeader fields"]);
  }
  const raw = input as Record<string, unknown>;
  const from = organization(raw.From, "From");
  const to = (Array.isArray(raw.To) ? raw.To : raw.To === undefined ? [] : [raw.To]).map((t, i) => organization(t, `To[${i + 1}]`));
  const promulgation = { PromulgationDate: formatDate(now), ...(raw.PromulgationInfo as object) } as EdocHeader["PromulgationInfo"];
  promulgation.PromulgationDate = edxmlDate(promulgation.PromulgationDate);
  const header: EdocHeader = {
    ...(raw as unknown as EdocHeader),
    From: from,
    To: to,
    Code: code(raw.Code),
    PromulgationInfo: promulgation,
  };
  delete (header as unknown as Record<string, unknown>).Bussiness;
  if (header.DueDate !== undefined) header.DueDate = edxmlDate(header.DueDate);
  header.DocumentId ||= makeDocumentId(from.OrganId, promulgation.PromulgationDate, header.Code);
  const bussiness = (raw.Bussiness as Bussiness | undefined) ?? { BussinessDocType: 0, BussinessDocReason: "Văn bản điện tử mới", Paper: 0 };
  return {
    kind: "edoc",
    header,
    bussiness,
    traces: [{ OrganId: from.OrganId, Timestamp: formatTimestamp(now) }],
    attachments,
  };
}
