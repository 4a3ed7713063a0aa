// The HTTP API for people's software, under /api/v1 (service contract, "HTTP API"): documents
// (send, search, read, packet, attachments, evidence, statuses), verification, the registry,
// tokens and the audit log. Each route is declared once (API_ROUTES): its schemas, roles and
// answers are what server/openapi.ts describes, and its handler only parses, calls the use case
// (app/) and answers. Who may do what is the application's rule (app/access.ts).
//
// Uploads are streamed to disk (never held in memory) and removed when the request ends whatever
// happened; nothing is stored unless the whole document is (app/documents.ts writes in one
// transaction).
import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import express, { Router, type Request, type RequestHandler, type Response } from "express";
import { z } from "zod";
import {
  ADMINS,
  AppError,
  Agency,
  AgencyInput,
  AuditEntry,
  AuditQuery,
  CLERKS,
  CertificateConfirmation,
  confirmSeenCertificate,
  DOCUMENT_READERS,
  DocumentRecord,
  ErrorBody,
  ResendInput,
  SearchQuery,
  SearchResult,
  StatusInput,
  TokenInfo,
  TokenInput,
  VerificationReport,
  VerifyQuery,
  createApiToken,
  deleteAgency,
  documentPacket,
  documentRecord,
  listApiTokens,
  listRegistry,
  ownDocument,
  readAudit,
  registryEntry,
  resendDocument,
  revokeApiToken,
  saveAgency,
  searchAgencyDocuments,
  sendDocumentRecord,
  setStatus,
  verifyUpload,
  type AppContext,
  type Role,
  type UploadedFile,
} from "../app/index.ts";
import { authenticate, callerOf, requireRole } from "./auth.ts";
import {
  MAX_FILES,
  MULTIPART_HINT,
  contentDisposition,
  sendAttachment,
  sendEvidence,
  parseMetadata,
  saveBody,
  streamOut,
  upload,
  uploadError,
  uploadedContentType,
  uploadedFileName,
} from "./http.ts";

/** JSON bodies: a status, an agency with its certificates. */
const MAX_JSON_BYTES = "256kb";
/** Content types /verify accepts (besides none at all); the body is sniffed either way. */
const VERIFY_TYPES = ["application/xml", "text/xml", "application/zip", "application/x-zip-compressed", "application/octet-stream"];


const badRequest = (message: string, details?: unknown) => new AppError("invalid", message, details);

/** One answer of a route, for the description. */
export interface Answer {
  description: string;
  /** A JSON body of this shape. */
  schema?: z.ZodType;
  /** Other bodies, by media type (an OpenAPI content map). */
  content?: Record<string, object>;
  headers?: Record<string, object>;
}

/** A route of the API: what it takes and answers (described by server/openapi.ts) and its handler. */
export interface RouteSpec {
  method: "get" | "post" | "put" | "delete";
  /** Express path under /api/v1. */
  path: string;
  tag: "documents" | "verification" | "registry" | "administration";
  summary: string;
  description?: string;
  /** Roles allowed (checked before the body is read); every authenticated caller when absent. */
  roles?: readonly Role[];
  refusal?: string;
  params?: Record<string, { description: string; schema: object }>;
  /** Optional request headers the route reads. */
  headers?: Record<string, { description: string; schema: object }>;
  query?: z.ZodType;
  /** A JSON body of this shape. */
  json?: z.ZodType;
  /** A JSON body may be left out. */
  jsonOptional?: boolean;
  /** Any other body (an OpenAPI requestBody). */
  body?: object;
  responses: Record<string, Answer>;
  /** A query or JSON body the schema refuses (the accepted one is the schema's first example). */
  refused?: unknown;
  handle(ctx: AppContext, req: Request, res: Response): Promise<void>;
}

const idParam = { id: { description: "This node's id for the document", schema: { type: "string" } } };
const organIdParam = { organId: { description: "The agency's organ id", schema: { type: "string", pattern: "^[0-9A-Za-z.]{1,35}$" } } };
const notMine = { "404": { description: "No such document for your agency", schema: ErrorBody } };
const invalidAnswer = (description: string): Record<string, Answer> => ({ "400": { description, schema: ErrorBody } });
const notJson: Record<string, Answer> = { "415": { description: "Not JSON", schema: ErrorBody } };

/** The JSON body, once the route's own schema has looked at it (415 when it is not JSON). */
function jsonBody(req: Request, example: string): unknown {
  if (req.body === undefined) {
    throw new AppError("unsupported", `wrong content type ${JSON.stringify(req.get("content-type") ?? "none")}: send JSON (Content-Type: application/json), for example ${example}`);
  }
  if (!req.body || typeof req.body !== "object" || Array.isArray(req.body)) throw badRequest(`the body must be a JSON object, for example ${example}`);
  return req.body;
}

export const API_ROUTES: RouteSpec[] = [
  {
    method: "post",
    path: "/documents",
    tag: "documents",
    summary: "Send a document",
    description: `Builds, signs, stores and queues the packet for every recipient. Nothing is stored unless all of it is. At most ${MAX_FILES} files; each at most the node's EDOC_MAX_UPLOAD_BYTES.`,
    roles: CLERKS,
    refusal: "send documents or set their status",
    headers: {
      "Idempotency-Key": {
        description:
          "Any unique value per document (a UUID): a request sent again with the same key — a retry after a lost answer — answers the first one's document (201, Idempotency-Replayed: true) and sends nothing again; the key used for another document is refused with 409",
        schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,60}$" },
      },
    },
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: {
            type: "object",
            required: ["metadata", "files"],
            properties: {
              metadata: { type: "string", contentMediaType: "application/json", description: "DocumentMetadata as JSON text", contentSchema: { $ref: "#/components/schemas/DocumentMetadata" } },
              files: { type: "array", minItems: 1, maxItems: MAX_FILES, items: { type: "string", contentMediaType: "application/octet-stream" } },
            },
          },
          encoding: { metadata: { contentType: "application/json" } },
        },
      },
    },
    responses: {
      "201": {
        description: "Sent: stored and queued (or, with an Idempotency-Key sent before, the document that request sent)",
        schema: DocumentRecord,
        headers: { Location: { schema: { type: "string" } }, "Idempotency-Replayed": { schema: { type: "string", enum: ["true"] } } },
      },
      ...invalidAnswer("Malformed metadata, no files, or the document is not valid (details lists every problem)"),
      "409": { description: "Your agency already sent a document with this DocumentId, or the Idempotency-Key was used for another document", schema: ErrorBody },
      "413": { description: "A file or the metadata is larger than the node accepts", schema: ErrorBody },
      "415": { description: "Not multipart/form-data", schema: ErrorBody },
    },
    async handle(ctx, req, res) {
      if (!req.is("multipart/form-data")) throw new AppError("unsupported", `wrong content type ${JSON.stringify(req.get("content-type") ?? "none")}: ${MULTIPART_HINT}`);
      let sent: { record: DocumentRecord; replayed: boolean };
      try {
        await new Promise<void>((resolve, reject) => upload(ctx)(req, res, (err?: unknown) => (err ? reject(uploadError(err, ctx.config.maxUploadBytes)) : resolve())));
        const files = (req.files ?? []) as Express.Multer.File[];
        const metadata = parseMetadata((req.body ?? {}) as Record<string, unknown>);
        if (!files.length) throw badRequest(`a document must carry at least one file: ${MULTIPART_HINT}`);
        const uploaded: UploadedFile[] = files.map((f) => ({ ...(f.buffer ? { bytes: f.buffer } : { path: f.path }), name: uploadedFileName(f.originalname), contentType: uploadedContentType(f.mimetype) }));
        sent = await sendDocumentRecord(ctx, callerOf(req), metadata, uploaded, { idempotencyKey: req.get("idempotency-key") });
      } finally {
        // removed before answering, so that a client never sees an answer while they still exist
        const files = Array.isArray(req.files) ? req.files : [];
        await Promise.all(files.map((f) => (f.path ? rm(f.path, { force: true }) : undefined)));
      }
      // a request sent again with its Idempotency-Key gets the first one's answer
      if (sent.replayed) res.set("Idempotency-Replayed", "true");
      res.status(201).location(`${req.baseUrl}/documents/${sent.record.id}`).json(sent.record);
    },
  },
  {
    method: "get",
    path: "/documents",
    tag: "documents",
    summary: "Search the agency's documents",
    description: "Newest first. q is full text over subject, content and number, insensitive to Vietnamese diacritics (quyet dinh finds Quyết định).",
    roles: DOCUMENT_READERS,
    refusal: "read documents",
    query: SearchQuery,
    refused: { pageSize: "1000" },
    responses: { "200": { description: "One page", schema: SearchResult }, ...invalidAnswer("A parameter is not valid") },
    async handle(ctx, req, res) {
      res.json(await searchAgencyDocuments(ctx, callerOf(req), req.query));
    },
  },
  {
    method: "get",
    path: "/documents/:id",
    tag: "documents",
    summary: "The document record, with per-recipient delivery state and the status timeline",
    roles: DOCUMENT_READERS,
    refusal: "read documents",
    params: idParam,
    responses: { "200": { description: "The record", schema: DocumentRecord }, ...notMine },
    async handle(ctx, req, res) {
      res.json(await documentRecord(ctx, await ownDocument(ctx, callerOf(req), String(req.params.id))));
    },
  },
  {
    method: "get",
    path: "/documents/:id/envelope",
    tag: "documents",
    summary: "The stored packet, byte-exact",
    roles: DOCUMENT_READERS,
    refusal: "read documents",
    params: idParam,
    responses: { "200": { description: "The signed edXML packet", content: { "application/xml": { schema: { type: "string" } } } }, ...notMine },
    async handle(ctx, req, res) {
      const doc = await ownDocument(ctx, callerOf(req), String(req.params.id));
      const packet = await documentPacket(ctx, doc);
      res.status(200);
      res.setHeader("Content-Type", "application/xml");
      res.setHeader("Content-Length", String(packet.size));
      res.setHeader("Content-Disposition", contentDisposition("attachment", `${doc.id}.edxml`));
      res.setHeader("ETag", `"${packet.sha256}"`);
      res.setHeader("X-Content-Type-Options", "nosniff");
      await streamOut(ctx, res, packet.bytes);
    },
  },
  {
    method: "get",
    path: "/documents/:id/attachments/:n",
    tag: "documents",
    summary: "One attachment, with its file name (Content-Disposition, RFC 5987 filename*)",
    roles: DOCUMENT_READERS,
    refusal: "read documents",
    params: { ...idParam, n: { description: "1 for the first attachment", schema: { type: "integer", minimum: 1 } } },
    responses: {
      "200": {
        description: "The file",
        headers: { "Content-Disposition": { schema: { type: "string" }, description: "attachment; filename=\"…\"; filename*=UTF-8''…" } },
        content: { "*/*": { schema: { type: "string", contentMediaType: "application/octet-stream" } } },
      },
      "404": { description: "No such document for your agency, or no such attachment", schema: ErrorBody },
    },
    async handle(ctx, req, res) {
      await sendAttachment(ctx, res, await ownDocument(ctx, callerOf(req), String(req.params.id)), String(req.params.n));
    },
  },
  {
    method: "get",
    path: "/documents/:id/evidence",
    tag: "documents",
    summary: "A ZIP evidence bundle",
    description: "The packet, its attachments, every signed status packet, the verification report and a manifest of SHA-256 digests; `bin/edoc verify` and POST /api/v1/verify accept it.",
    roles: DOCUMENT_READERS,
    refusal: "read documents",
    params: idParam,
    responses: { "200": { description: "The bundle", content: { "application/zip": { schema: { type: "string", contentMediaType: "application/zip" } } } }, ...notMine },
    async handle(ctx, req, res) {
      const caller = callerOf(req);
      await sendEvidence(ctx, res, caller, await ownDocument(ctx, caller, String(req.params.id)));
    },
  },
  {
    method: "post",
    path: "/documents/:id/status",
    tag: "documents",
    summary: "Set a processing status: signs and sends the status packet to the other party",
    roles: CLERKS,
    refusal: "send documents or set their status",
    params: idParam,
    json: StatusInput,
    refused: { code: "99" },
    responses: {
      "200": { description: "The record, with the new status", schema: DocumentRecord },
      ...invalidAnswer("Not a code a clerk can set here"),
      ...notMine,
      "409": { description: "The code cannot follow the statuses already exchanged (e.g. 06 before 03)", schema: ErrorBody },
      ...notJson,
    },
    async handle(ctx, req, res) {
      const row = await setStatus(ctx, callerOf(req), String(req.params.id), jsonBody(req, '{"code":"03","description":"Đã tiếp nhận"}'));
      res.json(await documentRecord(ctx, row));
    },
  },
  {
    method: "post",
    path: "/documents/:id/resend",
    tag: "documents",
    summary: "Queue the failed deliveries of a sent document again (every recipient, or the one given)",
    roles: CLERKS,
    refusal: "send documents or set their status",
    params: idParam,
    json: ResendInput,
    jsonOptional: true,
    refused: { organId: 5 },
    responses: {
      "202": { description: "The record, its failed deliveries queued again", schema: DocumentRecord },
      ...invalidAnswer("Not a document this agency sent"),
      ...notMine,
      "409": { description: "No delivery of it has failed", schema: ErrorBody },
    },
    async handle(ctx, req, res) {
      const row = await resendDocument(ctx, callerOf(req), String(req.params.id), req.body ?? {});
      res.status(202).json(await documentRecord(ctx, row));
    },
  },
  {
    method: "post",
    path: "/verify",
    tag: "verification",
    summary: "Verify a packet or an evidence bundle against this node's trust anchors, CRLs and registry",
    query: VerifyQuery,
    refused: { at: "yesterday" },
    body: {
      required: true,
      content: {
        "application/xml": { schema: { type: "string" } },
        "application/zip": { schema: { type: "string", contentMediaType: "application/zip" } },
        "application/octet-stream": { schema: { type: "string" } },
      },
    },
    responses: {
      "200": { description: "The report, valid or not (a body that is not edXML is FORMAT_FAILURE)", schema: VerificationReport },
      ...invalidAnswer("Empty body, or a parameter that is not valid"),
      "413": { description: "Larger than the node verifies", schema: ErrorBody },
      "415": { description: "Not XML, ZIP or raw bytes", schema: ErrorBody },
    },
    async handle(ctx, req, res) {
      const type = (req.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (type && !VERIFY_TYPES.includes(type) && !type.endsWith("+xml")) {
        throw new AppError("unsupported", `wrong content type ${JSON.stringify(type)}: send the packet (application/xml) or the evidence bundle (application/zip) itself as the request body`);
      }
      const tmpDir = join(ctx.config.dataDir, "tmp");
      await mkdir(tmpDir, { recursive: true });
      const path = join(tmpDir, `${randomUUID()}.verify`);
      try {
        const { size, tooLarge } = await saveBody(req, path, ctx.config.maxPacketBytes);
        if (tooLarge) throw new AppError("too-large", `the body is larger than this node verifies (at most ${ctx.config.maxPacketBytes} bytes)`);
        if (size === 0) throw badRequest("the body is empty: send the packet (application/xml) or the evidence bundle (application/zip) as the request body");
        res.json(await verifyUpload(ctx, path, req.query));
      } finally {
        await rm(path, { force: true });
      }
    },
  },
  {
    method: "get",
    path: "/agencies",
    tag: "registry",
    summary: "Every agency in the registry",
    responses: { "200": { description: "The registry", schema: z.object({ items: z.array(Agency) }) } },
    async handle(ctx, _req, res) {
      res.json({ items: await listRegistry(ctx) });
    },
  },
  {
    method: "get",
    path: "/agencies/:organId",
    tag: "registry",
    summary: "One agency",
    params: organIdParam,
    responses: { "200": { description: "The agency", schema: Agency }, "404": { description: "Not in the registry", schema: ErrorBody } },
    async handle(ctx, req, res) {
      res.json(await registryEntry(ctx, String(req.params.organId)));
    },
  },
  {
    method: "post",
    path: "/agencies",
    tag: "registry",
    summary: "Add an agency (admin)",
    roles: ADMINS,
    refusal: "change the registry",
    json: AgencyInput,
    refused: { organId: "000.00.00.Q09", name: "Sở Nội vụ", endpoint: "ftp://edoc.example.gov.vn" },
    responses: {
      "201": { description: "Added", schema: Agency },
      ...invalidAnswer("Not valid (details lists every problem)"),
      "409": { description: "Already in the registry", schema: ErrorBody },
      ...notJson,
    },
    async handle(ctx, req, res) {
      const saved = await saveAgency(ctx, callerOf(req), jsonBody(req, AGENCY_EXAMPLE), { mode: "create" });
      res.status(201).location(`${req.baseUrl}/agencies/${encodeURIComponent(saved.agency.organId)}`).json(saved.agency);
    },
  },
  {
    method: "put",
    path: "/agencies/:organId",
    tag: "registry",
    summary: "Add or replace an agency (admin)",
    description: "An agency hosted by this node may only be changed by its own administrators, and must keep its signing certificate.",
    roles: ADMINS,
    refusal: "change the registry",
    params: organIdParam,
    json: AgencyInput,
    refused: { name: "Sở Nội vụ", endpoint: "https://edoc.example.gov.vn", status: "sleeping" },
    responses: {
      "200": { description: "Replaced", schema: Agency },
      "201": { description: "Added", schema: Agency },
      ...invalidAnswer("Not valid (details lists every problem)"),
      "409": { description: "Would unbind this node's own signing certificate", schema: ErrorBody },
      ...notJson,
    },
    async handle(ctx, req, res) {
      const saved = await saveAgency(ctx, callerOf(req), jsonBody(req, AGENCY_EXAMPLE), { mode: "replace", organId: String(req.params.organId) });
      if (saved.created) res.status(201).location(`${req.baseUrl}/agencies/${encodeURIComponent(saved.agency.organId)}`);
      res.json(saved.agency);
    },
  },
  {
    method: "delete",
    path: "/agencies/:organId",
    tag: "registry",
    summary: "Remove an agency (admin)",
    roles: ADMINS,
    refusal: "change the registry",
    params: organIdParam,
    responses: { "204": { description: "Removed" }, "404": { description: "Not in the registry", schema: ErrorBody }, "409": { description: "An agency hosted by this node", schema: ErrorBody } },
    async handle(ctx, req, res) {
      await deleteAgency(ctx, callerOf(req), String(req.params.organId));
      res.status(204).end();
    },
  },
  {
    method: "post",
    path: "/agencies/:organId/confirm-certificate",
    tag: "registry",
    summary: "Bind the certificate seen in an agency's first packet (node admin)",
    description:
      "An agency imported from the national axle's directory has no certificate, so its signed packets are refused (SIGNER_NOT_BOUND); the certificate of the first one is kept (seenCertificate). After checking its fingerprint with the agency out of band, an admin binds it here; nothing is ever bound without this.",
    roles: ADMINS,
    refusal: "change the registry",
    params: organIdParam,
    json: CertificateConfirmation,
    refused: { fingerprint: "not hex" },
    responses: {
      "200": { description: "Bound", schema: Agency },
      ...invalidAnswer("Not the fingerprint of the certificate waiting"),
      "404": { description: "Not in the registry", schema: ErrorBody },
      "409": { description: "No certificate waits for confirmation", schema: ErrorBody },
      ...notJson,
    },
    async handle(ctx, req, res) {
      const organId = String(req.params.organId);
      await confirmSeenCertificate(ctx, callerOf(req), organId, jsonBody(req, `{"fingerprint":"${"3f".repeat(32)}"}`));
      res.json(await registryEntry(ctx, organId));
    },
  },
  {
    method: "get",
    path: "/tokens",
    tag: "administration",
    summary: "The API tokens of your agency (never the tokens themselves)",
    roles: ADMINS,
    refusal: "manage API tokens",
    responses: { "200": { description: "The tokens, oldest first", schema: z.object({ items: z.array(TokenInfo) }) } },
    async handle(ctx, req, res) {
      res.json({ items: await listApiTokens(ctx, callerOf(req)) });
    },
  },
  {
    method: "post",
    path: "/tokens",
    tag: "administration",
    summary: "Create an API token for a user of your agency; the answer shows it once",
    roles: ADMINS,
    refusal: "manage API tokens",
    json: TokenInput,
    refused: { organId: "000.00.00.G22", role: "boss" },
    responses: {
      "201": { description: "Created", schema: TokenInfo.extend({ token: z.string().meta({ description: "Shown only this once" }) }) },
      ...invalidAnswer("Not valid"),
      ...notJson,
    },
    async handle(ctx, req, res) {
      const t = await createApiToken(ctx, callerOf(req), jsonBody(req, '{"organId":"000.00.00.G22","role":"clerk","name":"Văn thư"}'));
      const info = (await listApiTokens(ctx, callerOf(req))).find((x) => x.id === t.id)!;
      res.status(201).json({ ...info, token: t.token });
    },
  },
  {
    method: "delete",
    path: "/tokens/:tokenId",
    tag: "administration",
    summary: "Revoke a token: it gets 401 at once",
    roles: ADMINS,
    refusal: "manage API tokens",
    params: { tokenId: { description: "The token's id (from GET /tokens)", schema: { type: "integer" } } },
    responses: { "200": { description: "Revoked", schema: TokenInfo }, "404": { description: "No such token of your agency", schema: ErrorBody } },
    async handle(ctx, req, res) {
      const { alreadyRevoked: _, ...info } = await revokeApiToken(ctx, callerOf(req), String(req.params.tokenId));
      void _;
      res.json(info);
    },
  },
  {
    method: "get",
    path: "/audit",
    tag: "administration",
    summary: "The audit log of your agency, newest first: every change, with who, what and when",
    roles: ADMINS,
    refusal: "read the audit log",
    query: AuditQuery,
    refused: { limit: "0" },
    responses: { "200": { description: "One page; pass the last id as before for the next", schema: z.object({ items: z.array(AuditEntry) }) }, ...invalidAnswer("A parameter is not valid") },
    async handle(ctx, req, res) {
      res.json({ items: await readAudit(ctx, callerOf(req), req.query) });
    },
  },
];

const AGENCY_EXAMPLE = '{"organId":"000.00.00.H41","name":"UBND tỉnh Nghệ An","endpoint":"https://edoc.nghean.gov.vn","certificates":["-----BEGIN CERTIFICATE-----…"]}';

export function apiRoutes(ctx: AppContext): Router {
  const r = Router();
  const json = express.json({ limit: MAX_JSON_BYTES });
  // responses about documents are nobody's to cache
  r.use((_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });
  r.use(authenticate(ctx));
  for (const route of API_ROUTES) {
    const handlers: RequestHandler[] = [];
    if (route.roles) handlers.push(requireRole(route.roles, route.refusal ?? "do this"));
    if (route.json) handlers.push(json);
    handlers.push((req, res) => route.handle(ctx, req, res));
    r[route.method](route.path, ...handlers);
  }
  return r;
}
