// The inputs and outputs of the use cases, each declared once as a zod schema: the TypeScript type
// (z.infer), the validation (parseInput, with sentences a clerk's IT department can act on) and
// the OpenAPI description (server/openapi.ts renders these schemas) all come from here.
import type { X509Certificate } from "node:crypto";
import { z } from "zod";
import {
  AGENCY_STATUSES,
  ORGAN_ID_LENIENT,
  STATUS_CODES,
  agencyName,
  agencyNameProblem,
  endpointBase,
  endpointProblem,
  organIdProblem,
  parentProblem,
  peopleDateParts,
} from "../envelopes/index.ts";
import { INDICATION_OF, normalizeFingerprint, parseCertificates, type SubIndication } from "../signing/index.ts";
import { ROLES } from "../storage/index.ts";
import { invalid } from "./errors.ts";

/**
 * Parses `value` with `schema`; every problem in one AppError("invalid") titled `title`. Unexpected
 * fields are named first: they are usually the reason for the rest.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, title: string | ((problems: string[]) => string)): z.output<S> {
  if (nestedDeeperThan(value, MAX_INPUT_DEPTH)) {
    // the checks and messages below walk values recursively: 100,000 levels overflow the stack
    const problems = [`the input nests objects and lists more than ${MAX_INPUT_DEPTH} levels deep; no field of it nests that deep`];
    throw invalid(typeof title === "string" ? title : title(problems), problems);
  }
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = [...r.error.issues].sort((a, b) => Number(isUnexpected(b)) - Number(isUnexpected(a))).map((i) => i.message);
  throw invalid(typeof title === "string" ? title : title(problems), problems);
}
const MAX_INPUT_DEPTH = 32;

/** Whether objects and lists nest more than `max` levels deep (without recursion). */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (!v || typeof v !== "object") continue;
    if (depth >= max) return true;
    for (const x of Object.values(v)) stack.push([x, depth + 1]);
  }
  return false;
}
const isUnexpected = (i: z.core.$ZodIssue) => i.message.startsWith("unexpected field") || i.message.startsWith("unknown parameter");
/** Run an object's own checks even when a field failed, so that every problem is listed at once. */
const always = { when: () => true };

const show = (v: unknown) => JSON.stringify(v) ?? String(v);
/** A field's check as a zod refinement, from a rule that answers a problem or null. */
const rule = <T>(problem: (v: T) => string | null) => (v: T, ctx: z.RefinementCtx) => {
  const p = problem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
};
/** An object that names unexpected fields, allowing `ignored` ones (read-only fields sent back). */
function fields<T extends z.ZodRawShape>(shape: T, hint: string, ignored: string[] = []) {
  const known = [...Object.keys(shape), ...ignored];
  return z
    .looseObject(shape)
    .superRefine((o, ctx) => {
      for (const k of Object.keys(o ?? {})) if (!known.includes(k)) ctx.addIssue({ code: "custom", message: `unexpected field "${k}"; ${hint}` });
    }, always)
    .meta({ additionalProperties: false })
    .transform((o) => Object.fromEntries(Object.entries(o).filter(([k]) => k in shape)) as z.output<z.ZodObject<T>>);
}

const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const OrganId = z.string().regex(ORGAN_ID_LENIENT).meta({ description: "Organ id (mã định danh)", examples: ["000.00.00.G22"] });

/** An ISO 8601 time with its offset, as a Date. */
const IsoTime = (what: string) =>
  z
    .string({ error: `${what} must be an ISO 8601 time with its offset, for example 2026-11-22T10:00:00+07:00` })
    .refine((v) => ISO_TIME.test(v) && !Number.isNaN(Date.parse(v)), { error: `${what} must be an ISO 8601 time with its offset, for example 2026-11-22T10:00:00+07:00` })
    .transform((v) => new Date(v))
    .meta({ format: "date-time", examples: ["2026-11-22T10:00:00+07:00"] });

// ---- statuses -----------------------------------------------------------------------------------

/** The codes a clerk may set (01 is the receipt, sent by the node itself). */
const SETTABLE_STATUS_CODES = ["02", "03", "04", "05", "06", "13", "15", "16"] as const;
const codeWords = SETTABLE_STATUS_CODES.map((c) => `${c} (${STATUS_CODES[c]})`).join(", ");

export const StatusInput = fields(
  {
    code: z
      .enum(SETTABLE_STATUS_CODES, {
        error: (iss) =>
          iss.input === undefined
            ? `code is required: one of ${SETTABLE_STATUS_CODES.join(", ")}`
            : `code ${show(iss.input)} is not a status a clerk can set; use one of ${codeWords}`,
      })
      .meta({ description: `${SETTABLE_STATUS_CODES.map((c) => `${c} ${STATUS_CODES[c]}`).join("; ")}. On a received document 02–06, 15, 16; on a sent one 13.` }),
    description: z
      .string({ error: "description must be text" })
      .refine((d) => [...d].length <= 1000, { error: "description: at most 1000 characters" })
      .refine((d) => !NOT_XML_CHAR.test(d), { error: "description contains a control character that cannot be carried in XML" })
      .nullish()
      .transform((d) => d ?? undefined)
      .meta({ description: "Shown to the other party; the status name when empty", maxLength: 1000 }),
  },
  "send code and description",
).meta({ id: "StatusInput", examples: [{ code: "03", description: "Đã tiếp nhận" }] });
export type StatusInput = z.output<typeof StatusInput>;

export const ResendInput = fields(
  { organId: z.string({ error: "organId must be an organ id" }).regex(ORGAN_ID_LENIENT, { error: "organId must be an organ id" }).optional().meta({ description: "Only this recipient" }) },
  "send organId or nothing",
).meta({ id: "ResendInput", examples: [{}] });

// ---- agencies -----------------------------------------------------------------------------------

const pemList = z
  .array(z.unknown(), { error: "certificates must be a list of PEM certificates" })
  .max(20, { error: "certificates: at most 20" })
  .nullish()
  .transform((pems, ctx): X509Certificate[] => {
    const certs: X509Certificate[] = [];
    (pems ?? []).forEach((pem, i) => {
      if (typeof pem !== "string" || !pem.includes("-----BEGIN CERTIFICATE-----")) {
        ctx.addIssue({ code: "custom", message: `certificates[${i + 1}] is not a PEM certificate (-----BEGIN CERTIFICATE----- …)` });
        return;
      }
      try {
        certs.push(...parseCertificates(pem));
      } catch (err) {
        ctx.addIssue({ code: "custom", message: `certificates[${i + 1}] cannot be read: ${(err as Error).message}` });
      }
    });
    return certs;
  })
  .meta({ description: "PEM certificates that may sign for the agency", items: { type: "string" } });

const fingerprintList = z
  .array(z.unknown(), { error: "certificateFingerprints must be a list of SHA-256 fingerprints (64 hex digits)" })
  .superRefine((fps, ctx) =>
    fps.forEach((fp, i) => {
      if (!/^[0-9a-f]{64}$/.test(typeof fp === "string" ? normalizeFingerprint(fp) : "")) {
        ctx.addIssue({ code: "custom", message: `certificateFingerprints[${i + 1}] ${show(fp)} is not a SHA-256 fingerprint (64 hex digits)` });
      }
    }),
  )
  .nullish()
  .transform((fps) => (fps ?? []).map((fp) => normalizeFingerprint(fp as string)))
  .meta({ description: "SHA-256 of each certificate's DER, hex (colons allowed)", items: { type: "string", pattern: "^[0-9a-fA-F:]{64,95}$" } });

/** A registry entry as people give it (API body, CLI options, the admin page). */
export const AgencyInput = fields(
  {
    organId: z.unknown().optional().superRefine(rule((v) => organIdProblem(v, "organId"))).transform((v) => v as string).meta({ type: "string", pattern: ORGAN_ID_LENIENT.source, examples: ["000.00.00.H41"] }),
    name: z.unknown().optional().superRefine(rule((v) => agencyNameProblem(v, "name"))).transform((v) => agencyName(v as string)).meta({ type: "string", maxLength: 200 }),
    parentId: z
      .unknown()
      .optional()
      .superRefine(rule((v) => (v === undefined || v === null || v === "" || (typeof v === "string" && ORGAN_ID_LENIENT.test(v)) ? null : `parentId ${show(v)} is not an organ id`)))
      .transform((v) => (typeof v === "string" && v ? v : null))
      .meta({ type: ["string", "null"], pattern: ORGAN_ID_LENIENT.source }),
    endpoint: z
      .unknown()
      .optional()
      .superRefine(rule((v) => endpointProblem(v, "endpoint")))
      .transform((v) => endpointBase(v as string))
      .meta({ type: "string", format: "uri", description: "Base URL (http or https) of the node hosting the agency (packets go to {endpoint}/edxml), or the literal vdxp: for an agency reached through the national axle" }),
    certificates: pemList,
    certificateFingerprints: fingerprintList,
    status: z.enum(AGENCY_STATUSES, { error: (iss) => `status: "active" or "inactive", not ${show(iss.input)}` }).default("active"),
    acceptUnsigned: z
      .boolean({ error: (iss) => `acceptUnsigned: true or false, not ${show(iss.input)}` })
      .default(false)
      .meta({ description: 'Accept its unsigned packets (the QCVN placeholder signature) when they come through the national axle; they are shown as "Chưa ký số" (not signed)' }),
  },
  "the fields are organId, name, parentId, endpoint, certificates, certificateFingerprints, status, acceptUnsigned",
  ["source", "local", "updatedAt", "seenCertificate"],
)
  .superRefine((a, ctx) => {
    const p = parentProblem(a.parentId, a.organId, "parentId");
    if (p) ctx.addIssue({ code: "custom", message: p });
  })
  .meta({
    id: "AgencyInput",
    required: ["organId", "name", "endpoint"],
    examples: [{ organId: "000.00.00.T01", name: "Sở Tư pháp tỉnh Nghệ An", endpoint: "https://edoc.stp.nghean.gov.vn", certificateFingerprints: ["3f".repeat(32)] }],
  });
export type AgencyInput = z.output<typeof AgencyInput>;

/** An admin confirms the certificate seen in an agency's first packet (the national axle's directory binds none). */
export const CertificateConfirmation = fields(
  {
    fingerprint: z
      .unknown()
      .superRefine(rule((v) => (typeof v === "string" && /^[0-9a-f]{64}$/.test(normalizeFingerprint(v)) ? null : `fingerprint ${show(v)} is not a SHA-256 fingerprint (64 hex digits)`)))
      .transform((v) => normalizeFingerprint(v as string))
      .meta({ type: "string", description: "The SHA-256 fingerprint of the certificate waiting (seenCertificate), as checked with the agency out of band" }),
  },
  "send the fingerprint",
).meta({ id: "CertificateConfirmation", examples: [{ fingerprint: "3f".repeat(32) }] });

export const Agency = z
  .object({
    organId: OrganId,
    name: z.string(),
    parentId: z.string().nullable(),
    endpoint: z.string(),
    certificates: z.array(z.string()),
    certificateFingerprints: z.array(z.string()),
    status: z.enum(AGENCY_STATUSES),
    source: z.string().meta({ description: '"local" (entered on this node), the snapshot URL it was synced from, or "vdxp" (imported from the national axle\'s directory)' }),
    acceptUnsigned: z.boolean().meta({ description: "Its unsigned packets are accepted through the national axle" }),
    seenCertificate: z
      .object({ pem: z.string(), fingerprint: z.string(), subject: z.string() })
      .nullable()
      .meta({ description: "The certificate of its first signed packet while none was bound, waiting for an admin to confirm it (POST /api/v1/agencies/:organId/confirm-certificate)" }),
    local: z.boolean().meta({ description: "Hosted by this node" }),
    updatedAt: z.string().meta({ format: "date-time" }),
  })
  .meta({ id: "Agency" });
export type Agency = z.infer<typeof Agency>;

// ---- search -------------------------------------------------------------------------------------

const MAX_PAGE_SIZE = 200;
const FILTER_STATUSES = ["received", "sent", ...Object.keys(STATUS_CODES).sort()];
/** A date people wrote (yyyy-mm-dd, dd/mm/yyyy, yyyy/mm/dd) as yyyy-mm-dd, when it is a real calendar date. */
function searchDate(s: string): string | undefined {
  const parts = peopleDateParts(s);
  if (!parts) return undefined;
  const [y, m, d] = parts.map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d ? parts.join("-") : undefined;
}
/** A query parameter: text given once. */
const param = (name: string, problem: (v: string) => string | null, meta: Record<string, unknown>) =>
  z
    .string({ error: `${name}: give it once` })
    .superRefine(rule(problem))
    .optional()
    .meta(meta);
const textParam = (name: string, max: number, description: string) =>
  param(name, (v) => (v.length > max ? `${name}: at most ${max} characters` : null), { maxLength: max, description });
const organParam = (name: string, description: string) =>
  param(name, (v) => (ORGAN_ID_LENIENT.test(v) ? null : `${name}: ${show(v)} is not an organ id (1 to 35 letters, digits or dots, e.g. 000.00.00.G22)`), {
    pattern: ORGAN_ID_LENIENT.source,
    description,
  });
const DATE_FORMS = "yyyy-mm-dd (or dd/mm/yyyy, yyyy/mm/dd)";
const dateParam = (name: string, description: string) =>
  param(name, (v) => (searchDate(v) ? null : `${name}: a date in the form ${DATE_FORMS}, not ${show(v)}`), {
    pattern: "^(\\d{4}[-/]\\d{1,2}[-/]\\d{1,2}|\\d{1,2}[-/]\\d{1,2}[-/]\\d{4})$",
    description: `${description}: ${DATE_FORMS}, e.g. 2026-11-20 or 20/11/2026`,
  });
const numberParam = (name: string, max: number, description: string) =>
  param(name, (v) => (/^\d{1,6}$/.test(v) && +v >= 1 && +v <= max ? null : `${name}: a whole number from 1${max < 1e6 ? ` to ${max}` : ""}, not ${show(v)}`), {
    type: "integer",
    minimum: 1,
    ...(max < 1e6 ? { maximum: max } : {}),
    description,
  });

const SEARCH_PARAMS = ["direction", "q", "code", "from", "to", "sender", "recipient", "status", "type", "overdue", "page", "pageSize"] as const;
export const SearchQuery = z
  .looseObject({
    direction: param("direction", (v) => (v === "in" || v === "out" ? null : `direction: "in" (received) or "out" (sent), not ${show(v)}`), { enum: ["in", "out"] }),
    q: textParam(
      "q",
      200,
      "Words of the subject, content, number, signer's name or attachment names, matched whole and without diacritics (quyet dinh finds Quyết định); the last word also matches the beginning of a word (quy finds Quyết)",
    ),
    code: textParam("code", 100, 'Exactly "số/ký hiệu", e.g. 45/QĐ-VPCP'),
    from: dateParam("from", "Created on or after this day (Vietnam time)"),
    to: dateParam("to", "Created on or before this day (Vietnam time)"),
    sender: organParam("sender", "The sending agency"),
    recipient: organParam("recipient", "A recipient"),
    status: param("status", (v) => (FILTER_STATUSES.includes(v) ? null : `status: one of ${FILTER_STATUSES.join(", ")}, not ${show(v)}`), { enum: FILTER_STATUSES }),
    type: textParam("type", 100, "DocumentType/TypeName, without diacritics or case mattering (quyet dinh is Quyết định)"),
    overdue: param("overdue", (v) => (v === "true" ? null : `overdue: "true" or nothing, not ${show(v)}`), {
      enum: ["true"],
      description: "Only documents past their DueDate (hạn xử lý) whose handling is not over (06 Hoàn thành, 02, 15)",
    }),
    page: numberParam("page", 1e6, "From 1 (default 1)"),
    pageSize: numberParam("pageSize", MAX_PAGE_SIZE, "Default 50"),
  })
  .superRefine((o, ctx) => {
    for (const k of Object.keys(o ?? {})) {
      if (!(SEARCH_PARAMS as readonly string[]).includes(k)) ctx.addIssue({ code: "custom", message: `unknown parameter "${k}"; the parameters are ${SEARCH_PARAMS.join(", ")}` });
    }
    const { from, to } = (o ?? {}) as { from?: unknown; to?: unknown };
    const [first, last] = [from, to].map((v) => (typeof v === "string" ? searchDate(v) : undefined));
    if (first && last && first > last) ctx.addIssue({ code: "custom", message: `from (${from}) is after to (${to})` });
  }, always)
  .transform((o) => ({
    direction: o.direction as "in" | "out" | undefined,
    q: o.q?.trim() || undefined,
    code: o.code?.trim() || undefined,
    type: o.type?.trim() || undefined,
    from: o.from && searchDate(o.from),
    to: o.to && searchDate(o.to),
    sender: o.sender,
    recipient: o.recipient,
    status: o.status,
    overdue: o.overdue === "true",
    page: o.page === undefined ? undefined : Number(o.page),
    pageSize: o.pageSize === undefined ? undefined : Number(o.pageSize),
  }))
  .meta({ id: "SearchQuery", examples: [{ q: "quyết định", direction: "out", page: "1" }] });
export type SearchQuery = z.output<typeof SearchQuery>;

/** A book (sổ văn bản) of one year: "in" the incoming book (sổ văn bản đến), "out" the outgoing (sổ văn bản đi). */
export const RegisterQuery = fields(
  {
    book: z.enum(["in", "out"], { error: 'book: "in" (sổ văn bản đến) or "out" (sổ văn bản đi)' }),
    year: param("year", (v) => (/^\d{4}$/.test(v) && +v >= 2000 && +v <= 2999 ? null : `year: a year from 2000 to 2999, not ${show(v)}`), { type: "integer" }).transform((v) => (v === undefined ? undefined : Number(v))),
  },
  "the parameters are book and year",
);
/** The period of the indicators page (Chỉ số): days in Vietnam's time; default this year until today. */
export const IndicatorsQuery = fields(
  {
    from: dateParam("from", "The first day"),
    to: dateParam("to", "The last day"),
  },
  "the parameters are from, to",
)
  .superRefine((o, ctx) => {
    if (o.from && o.to && searchDate(o.from)! > searchDate(o.to)!) ctx.addIssue({ code: "custom", message: `from (${o.from}) is after to (${o.to})` });
  })
  .transform((o) => ({ from: o.from ? searchDate(o.from) : undefined, to: o.to ? searchDate(o.to) : undefined }));

export const VerifyQuery = fields({ at: IsoTime('"at"').optional().meta({ description: "Check certificates at this time instead of now" }) }, "the only parameter is at").meta({ id: "VerifyQuery", examples: [{ at: "2026-11-22T10:00:00+07:00" }] });

// ---- tokens, users, audit -----------------------------------------------------------------------

const role = z.enum(ROLES, { error: (iss) => (iss.input === undefined ? `role is required: ${ROLES.join(", ")}` : `role ${show(iss.input)} is not a role; the roles are ${ROLES.join(", ")}`) });
const label = (what: string) => z.unknown().optional().superRefine(rule((v) => (v === undefined || v === "" ? null : agencyNameProblem(v, what)))).transform((v) => (typeof v === "string" ? agencyName(v) : ""));
const DURATION = /^(\d{1,5})(d|h|m)$/;

export const TokenInput = fields(
  {
    organId: z.unknown().optional().superRefine(rule((v) => organIdProblem(v, "organId", true))).transform((v) => v as string).meta({ type: "string", examples: ["000.00.00.G22"] }),
    role,
    name: label("name").meta({ type: "string", maxLength: 200, description: "Who or what the token is for, shown in the audit log" }),
    expiresIn: z
      .string({ error: 'expiresIn: a duration such as "90d", "12h" or "30m"' })
      .regex(DURATION, { error: 'expiresIn: a duration such as "90d", "12h" or "30m"' })
      .optional()
      .meta({ description: "Lifetime (e.g. 90d); no expiry when absent" }),
  },
  "the fields are organId, role, name, expiresIn",
).meta({ id: "TokenInput", required: ["organId", "role"], examples: [{ organId: "000.00.00.G22", role: "clerk", name: "Văn thư", expiresIn: "90d" }] });
export type TokenInput = z.output<typeof TokenInput>;

/** "90d" → milliseconds. */
export function durationMs(text: string): number {
  const [, n, unit] = DURATION.exec(text)!;
  return Number(n) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[unit as "d" | "h" | "m"];
}

export const TokenInfo = z
  .object({
    id: z.number().int(),
    organId: OrganId,
    role: z.enum(ROLES),
    name: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: "TokenInfo" });

const USERNAME = /^[\p{L}\p{N}._-]{1,64}$/u;
export const Password = z.string({ error: "password is required" }).refine((p) => [...p].length >= 10 && [...p].length <= 200, { error: "password: 10 to 200 characters" });
export const UserInput = fields(
  {
    organId: z.unknown().optional().superRefine(rule((v) => organIdProblem(v, "organId", true))).transform((v) => v as string).meta({ type: "string" }),
    role,
    username: z
      .string({ error: "username is required" })
      .refine((u) => USERNAME.test(u.normalize("NFC")), { error: "username: 1 to 64 letters, digits, dots, dashes or underscores" })
      .transform((u) => u.normalize("NFC").toLowerCase()),
    fullName: label("fullName").meta({ type: "string", maxLength: 200 }),
    password: Password,
  },
  "the fields are organId, role, username, fullName, password",
).meta({ id: "UserInput", required: ["organId", "role", "username", "password"] });
export type UserInput = z.output<typeof UserInput>;

export const AuditQuery = fields(
  {
    since: IsoTime("since").optional(),
    until: IsoTime("until").optional().meta({ description: "Entries before this time" }),
    actor: textParam("actor", 200, 'Who: "user:ID", "token:ID", "cli:NAME", "system"'),
    action: param("action", (v) => (/^[a-z][a-z0-9.-]{0,63}$/.test(v) ? null : `action: an action name such as user.add, or its first part (user), not ${show(v)}`), {
      description: "An action, or its first part for all of them (user: user.add, user.disable, …)",
    }),
    limit: param("limit", (v) => (/^\d{1,4}$/.test(v) && +v >= 1 && +v <= 1000 ? null : `limit: a whole number from 1 to 1000, not ${show(v)}`), { type: "integer", minimum: 1, maximum: 1000 }),
    before: param("before", (v) => (/^\d{1,12}$/.test(v) ? null : `before: an audit entry id, not ${show(v)}`), { type: "integer", description: "Entries older than this id (paging)" }),
  },
  "the parameters are since, until, actor, action, limit, before",
).meta({ id: "AuditQuery", examples: [{ since: "2026-11-01T00:00:00+07:00", limit: "10" }] });

export const AuditEntry = z
  .object({ id: z.number().int(), at: z.string(), actor: z.string(), organId: z.string().nullable(), action: z.string(), document: z.string().nullable(), detail: z.record(z.string(), z.unknown()) })
  .meta({ id: "AuditEntry" });

// ---- documents ----------------------------------------------------------------------------------

const Organization = z
  .looseObject({
    OrganId: OrganId,
    OrganName: z.string().max(200).optional(),
    OrganizationInCharge: z.string().max(500).optional(),
    OrganAdd: z.string().max(500).optional(),
    Email: z.string().max(100).optional(),
    Telephone: z.string().max(20).optional(),
    Fax: z.string().max(20).optional(),
    Website: z.string().optional(),
  })
  .meta({ id: "Organization" });
const organOrId = (what: string) =>
  z.union([z.string(), Organization], { error: (iss) => `${what} must be an organ id or an Organization object (OrganId, OrganName, …), not ${show(iss.input)}` });

/** A date of the metadata: stored as edXML's yyyy/MM/dd, also accepted as people write it (envelopes/input.ts). */
const metadataDate = (description: string) =>
  z
    .string()
    .optional()
    .meta({ description: `${description}: yyyy/MM/dd as in edXML, or dd/mm/yyyy, yyyy-mm-dd (e.g. 2026/11/20, 20/11/2026)`, examples: ["2026/11/20", "20/11/2026"] });

/**
 * The MessageHeader fields of a document a clerk sends. This schema checks the JSON shape; the
 * edXML rules themselves (lengths, dates, organ ids, business blocks) are the model's
 * (envelopes/validate.ts), which names each problem by its edXML path.
 */
export const DocumentMetadata = z
  .looseObject({
    From: organOrId("From").optional(),
    To: z.array(organOrId("To[…]"), { error: (iss) => `To must be a list of organ ids or Organization objects, not ${show(iss.input)}` }).optional(),
    Code: z.union([z.string(), z.looseObject({ CodeNumber: z.string().max(11).optional(), CodeNotation: z.string().max(30).optional() })], {
      error: 'Code must be "số/ký hiệu" (e.g. "45/QĐ-VPCP") or {CodeNumber, CodeNotation}',
    })
      .optional()
      .meta({ examples: ["45/QĐ-VPCP"] }),
    DocumentId: z.string().max(200).optional(),
    PromulgationInfo: z.looseObject({ Place: z.string().max(50).optional(), PromulgationDate: metadataDate("Default: today") }).optional(),
    DocumentType: z
      .looseObject({ Type: z.number().int().optional(), TypeDetail: z.number().int().optional(), TypeName: z.string().max(100).optional() }, { error: "DocumentType must be an object: {Type, TypeName}" })
      .optional(),
    Subject: z.string({ error: "Subject must be text" }).optional(),
    Content: z.string().optional(),
    SignerInfo: z.looseObject({ Competence: z.string().optional(), Position: z.string().optional(), FullName: z.string().optional() }).optional(),
    DueDate: metadataDate("The date a reply is due"),
    ToPlaces: z.array(z.string()).optional(),
    OtherInfo: z.looseObject({}).optional(),
    SteeringType: z.number().int().min(0).optional(),
    ResponseFor: z.array(z.looseObject({})).optional(),
    Bussiness: z
      .looseObject({
        BussinessDocType: z.number().int().optional().meta({ description: "0 new, 1 revoke, 2 update, 3 replace" }),
        BussinessDocReason: z.string().optional(),
        DocumentId: z.string().optional().meta({ description: "The DocumentId of the document revoked or updated" }),
        Paper: z.number().int().optional(),
        BussinessDocumentInfo: z.looseObject({}).optional(),
        ReplacementInfoList: z.array(z.looseObject({})).optional(),
      })
      .optional(),
  })
  .meta({
    id: "DocumentMetadata",
    // what the model requires (envelopes/validate.ts names each missing one by its edXML path)
    required: ["To", "Code", "Subject", "DocumentType"],
    description:
      "The MessageHeader fields with their edXML names. From defaults to the token's agency (and must be it); To lists organ ids or Organization objects; " +
      'Code may be "số/ký hiệu"; DocumentId and PromulgationInfo/PromulgationDate are filled in when missing. An optional Bussiness block makes a revoke (1), update (2) or replace (3).',
    examples: [{ To: ["000.00.00.H41"], Code: "45/QĐ-VPCP", Subject: "V/v triển khai …", DocumentType: { Type: 1, TypeName: "Quyết định" } }],
  });

/**
 * The compose page's form (Soạn văn bản), before it becomes MessageHeader fields (app/compose.ts):
 * text as the browser sends it, recipients once or repeated, and the form's key, which makes a
 * second send of the same form find the document the first one sent.
 */
const formText = (name: string) =>
  z
    .string({ error: `${name} must be text` })
    .optional()
    .transform((v) => v?.trim() ?? "");
export const ComposeInput = fields(
  {
    key: z.string({ error: "the form has no key: reload the page and send it again" }).regex(/^[A-Za-z0-9_-]{16,64}$/, { error: "the form has no key: reload the page and send it again" }),
    to: z
      .union([z.string(), z.array(z.string())], { error: "To: choose at least one recipient" })
      .optional()
      .transform((v) => (v === undefined ? [] : typeof v === "string" ? [v] : v).filter(Boolean)),
    number: formText("Code/CodeNumber"),
    notation: formText("Code/CodeNotation"),
    kind: formText("DocumentType/TypeName"),
    subject: formText("Subject"),
    content: formText("Content"),
    signerCompetence: formText("SignerInfo/Competence"),
    signerPosition: formText("SignerInfo/Position"),
    signerName: formText("SignerInfo/FullName"),
    dueDate: formText("DueDate"),
    // độ khẩn, OtherInfo/Priority: 0 Thường, 1 Khẩn, 2 Thượng khẩn, 3 Hỏa tốc, 4 Hỏa tốc hẹn giờ
    priority: z
      .enum(["0", "1", "2", "3", "4"], { error: "OtherInfo/Priority: choose one of the list" })
      .default("0")
      .transform(Number),
  },
  "the fields are those of the compose page",
  ["csrf"],
);

const Delivery = z
  .object({
    organId: OrganId,
    state: z.string().meta({
      description: "queued, sending, relayed (the national axle's hub accepted it; its 01 has not come back), delivered, failed; after the receipt, the last status code the recipient sent (02–06, 13, 15, 16)",
      examples: ["queued", "delivered", "03"],
    }),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastError: z.string().nullable(),
  })
  .meta({ id: "Delivery" });

const StatusEntry = z
  .object({
    code: z.enum(Object.keys(STATUS_CODES).sort() as [string, ...string[]]),
    from: OrganId,
    to: OrganId,
    at: z.string().meta({ format: "date-time" }),
    direction: z.enum(["sent", "received"]),
    description: z.string(),
  })
  .meta({ id: "Status" });

const Signer = z
  .object({
    organId: z.string().nullable(),
    subject: z.string(),
    issuer: z.string(),
    serialNumber: z.string(),
    fingerprint: z.string(),
    notBefore: z.string(),
    notAfter: z.string(),
  })
  .meta({ id: "Signer" });

export const DocumentRecord = z
  .object({
    id: z.string().meta({ description: "This node's id for the document" }),
    documentId: z.string().meta({ description: "The edXML DocumentId" }),
    direction: z.enum(["in", "out"]),
    localOrganId: OrganId,
    from: OrganId,
    to: z.array(OrganId),
    code: z.string().meta({ examples: ["45/QĐ-VPCP"] }),
    subject: z.string(),
    type: z.string().meta({ description: "DocumentType/TypeName" }),
    businessType: z.number().int(),
    relatedDocumentId: z.string().nullable(),
    businessState: z.enum(["revoked", "updated", "replaced"]).nullable(),
    promulgationDate: z.string().meta({ format: "date" }),
    status: z.string().meta({ description: "out: sent; in: received, or the last code set here" }),
    createdAt: z.string().meta({ format: "date-time" }),
    deliveries: z.array(Delivery).meta({ description: "Outbound: one per recipient" }),
    delivery: z
      .object({
        state: z.enum(["queued", "retrying", "sending", "relayed", "delivered", "failed"]),
        nextAttemptAt: z.string().nullable(),
        lastError: z.string().nullable(),
      })
      .nullable()
      .meta({
        description:
          "Outbound: where the deliveries stand, the least advanced recipient first (failed, then retrying — an attempt failed, the next is due at nextAttemptAt —, sending, queued, delivered); null for a received document",
      }),
    statuses: z.array(StatusEntry).meta({ description: "Every status packet sent or received, oldest first" }),
    attachments: z.array(z.object({ n: z.number().int().min(1), name: z.string(), contentType: z.string(), size: z.number().int(), sha256: z.string() })),
    verification: z.object({
      valid: z.boolean(),
      indication: z.string(),
      subIndication: z.string().nullable(),
      signer: Signer.nullable(),
      signingTime: z.string().nullable(),
      unsigned: z.boolean().meta({
        description: 'Accepted from the national axle without a digital signature (the sender\'s registry entry allows it): shown as "Chưa ký số" (not signed), never as valid; then valid is false and subIndication NO_SIGNATURE',
      }),
      label: z.enum(["Hợp lệ", "Chưa ký số"]).meta({ description: "The verification in the clerk's words: Hợp lệ (valid signature) or Chưa ký số (not signed)" }),
      level: z.enum(["B-B", "B-T"]).meta({ description: "B-T: the signature's time-stamp, in the packet or kept beside it, proves when it was signed" }),
      timestampPending: z.boolean().meta({ description: "This node signed it while the time-stamping service was away; the stamp is asked for again" }),
    }),
    header: z.record(z.string(), z.unknown()).meta({ description: "The signed MessageHeader" }),
    bussiness: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: "DocumentRecord" });
export type DocumentRecord = z.infer<typeof DocumentRecord>;

export const SearchResult = z
  .object({ items: z.array(DocumentRecord), page: z.number().int(), pageSize: z.number().int(), hasMore: z.boolean() })
  .meta({ id: "SearchResult" });

const Indication = z.enum(["TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE"]);

/** One signature (or document time-stamp) of a PDF: signing/pdf's report, with the DSS words. */
const PdfSignature = z.object({
  field: z.string(),
  subFilter: z.string().nullable(),
  valid: z.boolean(),
  indication: Indication,
  subIndication: z.string().nullable(),
  signer: z.object({ subject: z.string(), issuer: z.string(), serialNumber: z.string(), fingerprint: z.string(), notBefore: z.string(), notAfter: z.string() }).nullable(),
  signingTime: z.string().nullable(),
  timestamp: z.object({ time: z.string().nullable(), tsa: z.string().nullable(), valid: z.boolean() }).nullable(),
  coversWholeDocument: z.boolean(),
  byteRange: z.array(z.number()).nullable(),
  certification: z.number().nullable(),
  reason: z.string().nullable(),
  changesAfterSigning: z.array(z.object({ object: z.string(), kind: z.string(), permitted: z.boolean(), en: z.string(), vi: z.string() })),
  modifiedAfterSigning: z.boolean(),
  errors: z.array(z.string()),
  warnings: z.array(z.string()),
});

const PdfReport = z
  .object({
    valid: z.boolean().meta({ description: "Every signature valid, and nothing but validation data or later signatures added after each" }),
    validationTime: z.string(),
    signatures: z.array(PdfSignature),
    documentTimestamps: z.array(PdfSignature),
    errors: z.array(z.string()),
    warnings: z.array(z.string()),
  })
  .meta({ id: "PdfReport" });

export const VerificationReport = z
  .object({
    valid: z.boolean(),
    indication: Indication,
    subIndication: z.enum(Object.keys(INDICATION_OF) as [SubIndication, ...SubIndication[]]).nullable(),
    packetKind: z.enum(["edoc", "status"]).nullable(),
    documentId: z.string().nullable(),
    signer: Signer.nullable(),
    signingTime: z.string().nullable(),
    level: z.enum(["B-B", "B-T"]).meta({ description: "B-T: the signature is valid and so is its signature time-stamp, which proves when it was signed; B-B otherwise" }),
    timestamp: z
      .object({
        time: z.string().nullable().meta({ description: "genTime: when the time-stamping authority saw the signature value" }),
        tsa: z.string().nullable().meta({ description: "The time-stamping authority: the subject of the token's signer certificate" }),
        valid: z.boolean(),
        level: z.enum(["B-B", "B-T"]),
        reason: z.enum(["TIMESTAMP_INVALID", "TIMESTAMP_UNTRUSTED", "TIMESTAMP_IMPRINT_MISMATCH"]).nullable().meta({ description: "Why the stamp does not count; null when valid" }),
      })
      .nullable()
      .meta({ description: "The signature time-stamp (XAdES B-T), in the packet or kept beside it; null when there is none" }),
    validationTime: z.string().meta({ format: "date-time" }),
    references: z.array(z.object({ uri: z.string(), covers: z.string(), digestOk: z.boolean().nullable() })),
    errors: z.array(z.string()).meta({ description: "English, then Vietnamese" }),
    warnings: z.array(z.string()),
    bundle: z.record(z.string(), z.unknown()).optional().meta({ description: "For an evidence bundle: the manifest, files, attachments and status packets checked" }),
    attachments: z
      .array(z.object({ n: z.number().int().min(1), name: z.string(), pdfSignatures: PdfReport }))
      .optional()
      .meta({ description: "Each PDF attachment's own signatures (signatures[], documentTimestamps[]): facts beside the packet's verdict, which they never change" }),
  })
  .meta({ id: "VerificationReport" });

export const ErrorBody = z
  .object({
    error: z.string().meta({ description: "What went wrong, in a sentence a clerk's IT department can act on" }),
    details: z.unknown().optional().meta({ description: "Each problem found (for validation errors, a list of sentences)" }),
  })
  .meta({ id: "Error" });
