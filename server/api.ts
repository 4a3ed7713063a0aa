// The HTTP API for people's software, under /api/v1 (service contract, "HTTP API"): documents
// (send, search, read, packet, attachments, evidence, statuses), verification, and the registry.
//
// Who may do what (auth.ts has the roles):
//   documents: send and set statuses — clerk; read, download, export evidence — clerk, archivist.
//     Administrators manage the node (registry, trust), not the correspondence: they get 403 on
//     documents. Official documents are read by the văn thư and the archive, and separating the
//     person who can re-bind certificates in the registry from the people who read and act on
//     documents keeps either from doing both unseen; an administrator who must read a document is
//     given a clerk or archivist token, which is itself a recorded act.
//   A user sees only its own agency's documents: another agency's document is 404, exactly as a
//   document that does not exist, so nobody learns what other agencies hold.
//   verify, agencies (read) — every role; agencies (create, change, delete) — admin.
//
// Uploads are streamed to disk (never held in memory), removed when the request ends whatever
// happened, and nothing is stored unless the whole document is (outbound.ts writes in one
// transaction).
import { randomUUID, type X509Certificate } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import express, { Router, type Request, type Response } from "express";
import multer from "multer";
import { ORGAN_ID_LENIENT, STATUS_CODES } from "../envelopes/index.ts";
import {
  BundleError,
  normalizeFingerprint,
  parseCertificates,
  verifyEvidenceBundle,
  formatFailureReport,
  verifyPacket,
  writeEvidenceBundle,
  fingerprint,
  type EvidenceInput,
  type VerificationReport,
} from "../signing/index.ts";
import {
  audit,
  blobBytes,
  blobSize,
  deleteAgency,
  getAgency,
  getDocument,
  getLocalAgency,
  listAgencies,
  listAttachments,
  listLocalAgencies,
  listRecipients,
  listStatuses,
  readBlob,
  searchDocuments,
  upsertAgency,
  type AgencyRecord,
  type DocumentRow,
  type SearchFilter,
  type TokenOwner,
} from "../storage/index.ts";
import { actorOf, authenticate, requireRole, userOf } from "./auth.ts";
import type { Node } from "./context.ts";
import { HttpError, badRequest, notFound } from "./errors.ts";
import { sendDocument, sendStatus, type UploadedFile } from "./outbound.ts";
import { documentRecord, documentRecords } from "./records.ts";
import { resendDocument } from "./worker.ts";

/** Files per document. */
export const MAX_FILES = 100;
/** The `metadata` form field (MessageHeader fields as JSON). */
export const MAX_METADATA_BYTES = 256 * 1024;
/** JSON bodies: a status, an agency with its certificates. */
const MAX_JSON_BYTES = "256kb";
/** The codes a clerk may set (01 is the receipt, sent by the node itself). */
export const SETTABLE_STATUS_CODES = ["02", "03", "04", "05", "06", "13", "15", "16"] as const;
export const SEARCH_PARAMS = ["direction", "q", "code", "from", "to", "sender", "recipient", "status", "type", "page", "pageSize"] as const;
export const MAX_PAGE_SIZE = 200;

const DOCUMENT_READERS = ["clerk", "archivist"] as const;
/** Content types /verify accepts (besides none at all); the body is sniffed either way. */
const VERIFY_TYPES = ["application/xml", "text/xml", "application/zip", "application/x-zip-compressed", "application/octet-stream"];
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,99}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,99}$/i;
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const MULTIPART_HINT =
  'send the document as multipart/form-data: a field "metadata" with the MessageHeader fields as JSON, and one or more files in the field "files"';

export function apiRoutes(node: Node): Router {
  const db = node.storage.db;
  const r = Router();
  const json = express.json({ limit: MAX_JSON_BYTES });
  const tmpDir = join(node.config.dataDir, "tmp");

  const upload = multer({
    dest: join(node.config.dataDir, "uploads"),
    limits: {
      fileSize: node.config.maxUploadBytes,
      files: MAX_FILES,
      fields: 10,
      fieldSize: MAX_METADATA_BYTES,
      fieldNameSize: 100,
      parts: MAX_FILES + 10,
      headerPairs: 200,
    },
  }).array("files", MAX_FILES);

  // responses about documents are nobody's to cache
  r.use((_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });
  r.use(authenticate(node));

  const readers = requireRole(DOCUMENT_READERS, "read documents");
  const clerks = requireRole(["clerk"], "send documents or set their status");
  const admins = requireRole(["admin"], "change the registry");

  /** The user's agency's document, or 404 (for a missing one and another agency's alike). */
  async function ownDocument(req: Request): Promise<DocumentRow> {
    const user = userOf(req);
    const id = String(req.params.id);
    const doc = /^[0-9A-Za-z-]{1,64}$/.test(id) ? await getDocument(db, id) : null;
    if (!doc || doc.localOrgan !== user.organId) throw notFound(`no document ${JSON.stringify(id)} for your agency ${user.organId}`);
    return doc;
  }

  // ---- documents ------------------------------------------------------------------------------

  r.post("/documents", clerks, async (req, res) => {
    if (!req.is("multipart/form-data")) throw new HttpError(415, `wrong content type ${JSON.stringify(req.get("content-type") ?? "none")}: ${MULTIPART_HINT}`);
    const user = userOf(req);
    let row: DocumentRow;
    try {
      await new Promise<void>((resolve, reject) => upload(req, res, (err?: unknown) => (err ? reject(uploadError(err, node.config.maxUploadBytes)) : resolve())));
      const files = (req.files ?? []) as Express.Multer.File[];
      const body = (req.body ?? {}) as Record<string, unknown>;
      const metadata = parseMetadata(body);
      if (!files.length) throw badRequest(`a document must carry at least one file: ${MULTIPART_HINT}`);
      const uploaded: UploadedFile[] = files.map((f) => ({ path: f.path, name: uploadedFileName(f.originalname), contentType: uploadedContentType(f.mimetype) }));
      row = await sendDocument(node, user, metadata, uploaded);
    } finally {
      // removed before answering, so that a client never sees an answer while they still exist
      const files = Array.isArray(req.files) ? req.files : [];
      await Promise.all(files.map((f) => (f.path ? rm(f.path, { force: true }) : undefined)));
    }
    res.status(201).location(`${req.baseUrl}/documents/${row.id}`).json(await documentRecord(db, row));
  });

  r.get("/documents", readers, async (req, res) => {
    const filter = searchFilter(req.query as Record<string, unknown>, userOf(req));
    const found = await searchDocuments(db, filter);
    res.json({ items: await documentRecords(db, found.items), page: found.page, pageSize: found.pageSize, hasMore: found.hasMore });
  });

  r.get("/documents/:id", readers, async (req, res) => {
    res.json(await documentRecord(db, await ownDocument(req)));
  });

  r.get("/documents/:id/envelope", readers, async (req, res) => {
    const doc = await ownDocument(req);
    const size = await blobSize(db, doc.packetSha256);
    if (size === null) throw new HttpError(500, `the stored packet of document ${doc.id} is missing`);
    res.status(200);
    res.setHeader("Content-Type", "application/xml");
    res.setHeader("Content-Length", String(size));
    res.setHeader("Content-Disposition", contentDisposition("attachment", `${doc.id}.edxml`));
    res.setHeader("ETag", `"${doc.packetSha256}"`);
    res.setHeader("X-Content-Type-Options", "nosniff");
    await streamOut(node, res, readBlob(db, doc.packetSha256));
  });

  r.get("/documents/:id/attachments/:n", readers, async (req, res) => {
    const doc = await ownDocument(req);
    const attachments = await listAttachments(db, doc.id);
    const n = /^\d{1,6}$/.test(String(req.params.n)) ? Number(req.params.n) : NaN;
    const a = attachments.find((x) => x.n === n);
    if (!a) {
      throw notFound(
        attachments.length
          ? `no attachment ${JSON.stringify(String(req.params.n))}: this document has attachments 1 to ${attachments.length}`
          : "this document has no attachments",
      );
    }
    res.status(200);
    res.setHeader("Content-Type", MEDIA_TYPE.test(a.contentType) ? a.contentType : "application/octet-stream");
    res.setHeader("Content-Length", String(a.size));
    // attachment, never inline: the bytes come from other agencies, and must not run as a page of this origin
    res.setHeader("Content-Disposition", contentDisposition("attachment", a.name));
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Content-Security-Policy", "sandbox");
    res.setHeader("ETag", `"${a.sha256}"`);
    await streamOut(node, res, readBlob(db, a.sha256));
  });

  r.get("/documents/:id/evidence", readers, async (req, res) => {
    const doc = await ownDocument(req);
    const [to, attachments, statuses, trust] = await Promise.all([listRecipients(db, doc.id), listAttachments(db, doc.id), listStatuses(db, doc.id), node.trust()]);
    await mkdir(tmpDir, { recursive: true });
    // the packet goes to a file first: the bundle writer reads it twice (scan, then copy)
    const packetPath = join(tmpDir, `${randomUUID()}.edxml`);
    try {
      await pipeline(Readable.from(readBlob(db, doc.packetSha256)), createWriteStream(packetPath, { flags: "wx" }));
      const input: EvidenceInput = {
        record: { id: doc.id, documentId: doc.documentId, direction: doc.direction, from: doc.from, to, code: doc.code, subject: doc.header?.Subject ?? doc.subject },
        packet: { path: packetPath },
        attachments: attachments.map((a) => ({ name: a.name, bytes: readBlob(db, a.sha256) })),
        statuses: await Promise.all(statuses.map(async (s) => ({ code: s.code, from: s.from, at: s.at, packet: await blobBytes(db, s.packetSha256) }))),
        report: doc.report,
        anchors: trust.anchors,
        registry: trust.registry ?? new Map(),
      };
      const user = userOf(req);
      const out = lazyResponse(
        res,
        () => {
          res.status(200);
          res.setHeader("Content-Type", "application/zip");
          res.setHeader("Content-Disposition", contentDisposition("attachment", `evidence-${doc.id}.zip`));
        },
        // the bundle is complete: record the export and clean up before the client sees the end
        async () => {
          await rm(packetPath, { force: true });
          await audit(db, { actor: actorOf(user), organId: user.organId, action: "evidence.export", document: doc.id, detail: { documentId: doc.documentId } });
        },
      );
      try {
        await writeEvidenceBundle(input, out);
      } catch (err) {
        if (!res.headersSent) throw err;
        node.log.warn({ err, document: doc.id }, "evidence bundle interrupted");
      }
    } finally {
      await rm(packetPath, { force: true });
    }
  });

  r.post("/documents/:id/status", clerks, json, async (req, res) => {
    const doc = await ownDocument(req);
    const { code, description } = statusInput(req);
    const row = await sendStatus(node, userOf(req), doc.id, code, description);
    res.json(await documentRecord(db, row));
  });

  // Failed deliveries of a sent document queued again (all recipients, or `organId`).
  r.post("/documents/:id/resend", clerks, json, async (req, res) => {
    const doc = await ownDocument(req);
    if (doc.direction !== "out") throw badRequest("only a document this agency sent can be sent again");
    const organId = (req.body as { organId?: unknown } | undefined)?.organId;
    if (organId !== undefined && typeof organId !== "string") throw badRequest("organId must be an organ id");
    if (!(await resendDocument(node, doc.id, organId))) throw new HttpError(409, "no delivery of this document has failed, so there is nothing to send again");
    await audit(db, { actor: `token:${userOf(req).id}`, organId: doc.localOrgan, action: "resend", document: doc.id, detail: { organId: organId ?? null } });
    res.status(202).json(await documentRecord(db, (await getDocument(db, doc.id))!));
  });

  // ---- verification ---------------------------------------------------------------------------

  r.post("/verify", async (req, res) => {
    const type = (req.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type && !VERIFY_TYPES.includes(type) && !type.endsWith("+xml")) {
      throw new HttpError(415, `wrong content type ${JSON.stringify(type)}: send the packet (application/xml) or the evidence bundle (application/zip) itself as the request body`);
    }
    const at = verificationTime(req.query.at);
    await mkdir(tmpDir, { recursive: true });
    const path = join(tmpDir, `${randomUUID()}.verify`);
    let report: VerificationReport;
    try {
      const { size, tooLarge } = await saveBody(req, path, node.config.maxPacketBytes);
      if (tooLarge) throw new HttpError(413, `the body is larger than this node verifies (at most ${node.config.maxPacketBytes} bytes)`);
      if (size === 0) throw badRequest("the body is empty: send the packet (application/xml) or the evidence bundle (application/zip) as the request body");
      const trust = await node.trust();
      if (await isZipFile(path)) {
        try {
          report = await verifyEvidenceBundle(path, { ...trust, at });
        } catch (err) {
          if (!(err instanceof BundleError)) throw err;
          report = formatFailureReport(at ?? new Date(), err.message.replace(path, "the body"));
        }
      } else {
        report = (await verifyPacket({ path }, { ...trust, at })).report;
      }
    } finally {
      await rm(path, { force: true });
    }
    res.json(report);
  });

  // ---- registry -------------------------------------------------------------------------------

  r.get("/agencies", async (_req, res) => {
    const local = new Set((await listLocalAgencies(db)).map((a) => a.organId));
    res.json({ items: (await listAgencies(db)).map((a) => agencyJson(a, local.has(a.organId))) });
  });

  r.get("/agencies/:organId", async (req, res) => {
    const organId = String(req.params.organId);
    const a = ORGAN_ID_LENIENT.test(organId) ? await getAgency(db, organId) : null;
    if (!a) throw notFound(`no agency ${JSON.stringify(organId)} in the registry`);
    res.json(agencyJson(a, (await getLocalAgency(db, organId)) !== null));
  });

  /** Creates (POST) or replaces (PUT) a registry entry, after every check. */
  async function saveAgency(req: Request, res: Response, mode: "create" | "replace") {
    const user = userOf(req);
    const input = agencyInput(req, mode === "replace" ? String(req.params.organId) : undefined);
    const local = await getLocalAgency(db, input.organId);
    if (local) {
      if (local.organId !== user.organId) {
        throw new HttpError(403, `${input.organId} is an agency of this node: only its own administrators may change its registry entry`);
      }
      const own = fingerprint(local.certificate);
      const fps = new Set([...input.certificateFingerprints, ...input.certificates.map(fingerprint)]);
      if (!fps.has(own)) {
        throw new HttpError(409, `the entry must keep ${input.organId}'s current signing certificate (SHA-256 ${own}); without it this node's own packets would not verify`);
      }
    }
    let created = false;
    const record = await db.transaction(async (trx) => {
      const existing = await getAgency(trx, input.organId);
      if (existing && mode === "create") throw new HttpError(409, `${input.organId} is already in the registry: change it with PUT /api/v1/agencies/${input.organId}`);
      created = !existing;
      const saved = await upsertAgency(trx, { ...input, source: "local" });
      await audit(trx, {
        actor: actorOf(user),
        organId: user.organId,
        action: created ? "registry.create" : "registry.update",
        detail: { organId: saved.organId, name: saved.name, endpoint: saved.endpoint, status: saved.status, certificateFingerprints: saved.certificateFingerprints, before: existing ? agencySummary(existing) : null },
      });
      return saved;
    });
    node.trustChanged();
    res.status(created ? 201 : 200);
    if (created) res.location(`${req.baseUrl}/agencies/${encodeURIComponent(record.organId)}`);
    res.json(agencyJson(record, local !== null));
  }

  r.post("/agencies", admins, json, (req, res) => saveAgency(req, res, "create"));
  r.put("/agencies/:organId", admins, json, (req, res) => saveAgency(req, res, "replace"));

  r.delete("/agencies/:organId", admins, async (req, res) => {
    const user = userOf(req);
    const organId = String(req.params.organId);
    if (!ORGAN_ID_LENIENT.test(organId)) throw notFound(`no agency ${JSON.stringify(organId)} in the registry`);
    if (await getLocalAgency(db, organId)) {
      throw new HttpError(409, `${organId} is an agency of this node; its registry entry binds its signing certificate and cannot be deleted`);
    }
    await db.transaction(async (trx) => {
      const existing = await getAgency(trx, organId);
      if (!existing || !(await deleteAgency(trx, organId))) throw notFound(`no agency ${JSON.stringify(organId)} in the registry`);
      await audit(trx, { actor: actorOf(user), organId: user.organId, action: "registry.delete", detail: { organId, before: agencySummary(existing) } });
    });
    node.trustChanged();
    res.status(204).end();
  });

  return r;
}

// ---- uploads ------------------------------------------------------------------------------------

/** A multer or busboy failure as the HTTP error a client can act on. */
export function uploadError(err: unknown, maxFileBytes: number): unknown {
  if (err instanceof HttpError) return err;
  if (err instanceof multer.MulterError) {
    const filename = (err as { filename?: string }).filename;
    const file = filename ? ` "${uploadedFileName(filename)}"` : "";
    switch (err.code) {
      case "LIMIT_FILE_SIZE":
        return new HttpError(413, `the file${file} is larger than this node accepts (at most ${maxFileBytes} bytes per file)`);
      case "LIMIT_FIELD_VALUE":
        return new HttpError(413, `the field "${err.field}" is too large (at most ${MAX_METADATA_BYTES} bytes)`);
      case "LIMIT_FILE_COUNT":
        return badRequest(`too many files: a document carries at most ${MAX_FILES}`);
      case "LIMIT_UNEXPECTED_FILE":
        return badRequest(
          err.field === "files" ? `too many files: a document carries at most ${MAX_FILES}` : `unexpected file field "${err.field}": put every file in the field "files"`,
        );
      default:
        return badRequest(`the multipart body is not acceptable (${err.message}): ${MULTIPART_HINT}`);
    }
  }
  // file system trouble is ours (500); anything else is a body busboy could not read
  if (err && typeof err === "object" && "syscall" in err) return err;
  return badRequest(`the multipart body cannot be read (${(err as Error)?.message ?? err}): ${MULTIPART_HINT}`);
}

function parseMetadata(body: Record<string, unknown>): Record<string, unknown> {
  const unexpected = Object.keys(body).filter((k) => k !== "metadata");
  if (unexpected.length) {
    throw badRequest(`unexpected form field${unexpected.length > 1 ? "s" : ""} ${unexpected.map((k) => JSON.stringify(k)).join(", ")}: ${MULTIPART_HINT}`);
  }
  const raw = body.metadata;
  if (raw === undefined) {
    throw badRequest(
      'the form field "metadata" is missing: it holds the MessageHeader fields as JSON, for example ' +
        '{"To":["000.00.00.H41"],"Code":"45/QĐ-VPCP","Subject":"…","DocumentType":{"Type":1,"TypeName":"Quyết định"}}',
    );
  }
  if (typeof raw !== "string") throw badRequest('send the form field "metadata" once, as one JSON text');
  let metadata: unknown;
  try {
    metadata = JSON.parse(raw);
  } catch (err) {
    throw badRequest(`the form field "metadata" is not valid JSON: ${(err as Error).message}`);
  }
  if (!metadata || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw badRequest('the form field "metadata" must be a JSON object with the MessageHeader fields (From, To, Code, Subject, …)');
  }
  return metadata as Record<string, unknown>;
}

/**
 * A file name as the client meant it. Busboy decodes a plain `filename="…"` as Latin-1, but browsers
 * and fetch send UTF-8 bytes there: re-read those bytes as UTF-8 when they are valid UTF-8 (a real
 * Latin-1 name stays as it is). A name from `filename*=UTF-8''…` is already right. NFC, as
 * Vietnamese text is compared and searched in that form (TCVN 6909 "dựng sẵn").
 */
export function uploadedFileName(raw: string): string {
  let name = raw;
  if (!/[^\u0000-\u00ff]/.test(raw) && /[\u0080-\u00ff]/.test(raw)) {
    try {
      name = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(raw, "latin1"));
    } catch {
      name = raw;
    }
  }
  return name.normalize("NFC");
}

/** The database refused a second outbound document with the same (agency, DocumentId). */
/** The part's declared type, unless it says nothing (octet-stream: the extension then decides). */
function uploadedContentType(mimetype: string | undefined): string | undefined {
  const t = (mimetype ?? "").toLowerCase();
  return MEDIA_TYPE.test(t) && t !== "application/octet-stream" ? t : undefined;
}

/** Streams the request body to `path`; beyond `limit` the rest is read and dropped. */
async function saveBody(req: Request, path: string, limit: number): Promise<{ size: number; tooLarge: boolean }> {
  let size = 0;
  let tooLarge = Number(req.get("content-length") ?? 0) > limit;
  await pipeline(
    req,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > limit) tooLarge = true;
        if (!tooLarge) yield chunk;
      }
    },
    createWriteStream(path, { flags: "wx" }),
  );
  return { size, tooLarge };
}

async function isZipFile(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
  } finally {
    await fh.close();
  }
}

function verificationTime(value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  const t = typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? new Date(value) : null;
  if (!t || Number.isNaN(t.getTime())) throw badRequest(`"at" must be an ISO 8601 time with its offset, for example 2026-11-22T10:00:00+07:00`);
  return t;
}

// ---- responses ----------------------------------------------------------------------------------

/**
 * `attachment; filename="ascii"; filename*=UTF-8''…` (RFC 6266 / RFC 5987): the Vietnamese name
 * exactly, and for old clients the same name without its marks.
 */
export function contentDisposition(kind: "attachment" | "inline", name: string): string {
  const nfc = name.normalize("NFC");
  const ascii =
    nfc
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d")
      .replace(/Đ/g, "D")
      .replace(/[^\x20-\x7e]|["\\%]/g, "_")
      .trim() || "file";
  const encoded = encodeURIComponent(nfc).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Streams chunks to the response; a failure after the headers went out cuts the connection. */
async function streamOut(node: Node, res: Response, chunks: AsyncIterable<Buffer>): Promise<void> {
  try {
    await pipeline(Readable.from(chunks), res);
  } catch (err) {
    if (!res.headersSent) throw err;
    res.destroy();
    if ((err as NodeJS.ErrnoException)?.code !== "ERR_STREAM_PREMATURE_CLOSE") node.log.warn({ err }, "download interrupted");
  }
}

/**
 * A writable that sends its first bytes only once they exist: until then the response is free, so
 * an error before any output still gets a proper JSON answer.
 */
function lazyResponse(res: Response, start: () => void, beforeEnd: () => Promise<void>): Writable {
  const begin = () => {
    if (!res.headersSent) start();
  };
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      begin();
      if (res.destroyed) return callback(new Error("the client closed the connection"));
      if (res.write(chunk)) return callback();
      const onDrain = () => {
        res.off("close", onClose);
        callback();
      };
      const onClose = () => {
        res.off("drain", onDrain);
        callback(new Error("the client closed the connection"));
      };
      res.once("drain", onDrain);
      res.once("close", onClose);
    },
    final(callback) {
      begin();
      beforeEnd().then(
        () => res.end(() => callback()),
        (err: Error) => callback(err),
      );
    },
    destroy(err, callback) {
      if (err && res.headersSent) res.destroy();
      callback(err);
    },
  });
}

// ---- search ---------------------------------------------------------------------------------------

const STATUS_FILTERS = ["received", "sent", ...Object.keys(STATUS_CODES).sort()];
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function realDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

/** The query string as a SearchFilter; every problem listed in one 400. */
export function searchFilter(query: Record<string, unknown>, user: TokenOwner): SearchFilter {
  const problems: string[] = [];
  const p: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!(SEARCH_PARAMS as readonly string[]).includes(key)) problems.push(`unknown parameter "${key}"; the parameters are ${SEARCH_PARAMS.join(", ")}`);
    else if (typeof value !== "string") problems.push(`${key}: give it once`);
    else p[key] = value;
  }
  const f: SearchFilter = { localOrgan: user.organId };
  const text = (key: "q" | "code" | "type", max: number) => {
    if (p[key] === undefined) return;
    if (p[key].length > max) problems.push(`${key}: at most ${max} characters`);
    else if (p[key].trim()) f[key] = p[key].trim();
  };
  if (p.direction !== undefined) {
    if (p.direction === "in" || p.direction === "out") f.direction = p.direction;
    else problems.push(`direction: "in" (received) or "out" (sent), not ${JSON.stringify(p.direction)}`);
  }
  text("q", 200);
  text("code", 100);
  text("type", 100);
  for (const key of ["sender", "recipient"] as const) {
    if (p[key] === undefined) continue;
    if (ORGAN_ID_LENIENT.test(p[key])) f[key] = p[key];
    else problems.push(`${key}: ${JSON.stringify(p[key])} is not an organ id (1 to 35 letters, digits or dots, e.g. 000.00.00.G22)`);
  }
  if (p.status !== undefined) {
    if (STATUS_FILTERS.includes(p.status)) f.status = p.status;
    else problems.push(`status: one of ${STATUS_FILTERS.join(", ")}, not ${JSON.stringify(p.status)}`);
  }
  for (const key of ["from", "to"] as const) {
    if (p[key] === undefined) continue;
    if (realDate(p[key])) f[key] = p[key];
    else problems.push(`${key}: a date in the form yyyy-mm-dd, not ${JSON.stringify(p[key])}`);
  }
  if (f.from && f.to && f.from > f.to) problems.push(`from (${f.from}) is after to (${f.to})`);
  if (p.page !== undefined) {
    if (/^\d{1,6}$/.test(p.page) && Number(p.page) >= 1) f.page = Number(p.page);
    else problems.push(`page: a whole number from 1, not ${JSON.stringify(p.page)}`);
  }
  if (p.pageSize !== undefined) {
    if (/^\d{1,3}$/.test(p.pageSize) && Number(p.pageSize) >= 1 && Number(p.pageSize) <= MAX_PAGE_SIZE) f.pageSize = Number(p.pageSize);
    else problems.push(`pageSize: a whole number from 1 to ${MAX_PAGE_SIZE}, not ${JSON.stringify(p.pageSize)}`);
  }
  if (problems.length) throw badRequest("the search parameters are not valid", problems);
  return f;
}

// ---- statuses -------------------------------------------------------------------------------------

function jsonBody(req: Request, example: string): Record<string, unknown> {
  if (req.body === undefined) {
    throw new HttpError(415, `wrong content type ${JSON.stringify(req.get("content-type") ?? "none")}: send JSON (Content-Type: application/json), for example ${example}`);
  }
  if (!req.body || typeof req.body !== "object" || Array.isArray(req.body)) throw badRequest(`the body must be a JSON object, for example ${example}`);
  return req.body as Record<string, unknown>;
}

function statusInput(req: Request): { code: string; description?: string } {
  const body = jsonBody(req, '{"code":"03","description":"Đã tiếp nhận"}');
  const problems: string[] = [];
  for (const key of Object.keys(body)) if (key !== "code" && key !== "description") problems.push(`unexpected field "${key}"; send code and description`);
  const { code, description } = body;
  if (code === undefined) problems.push(`code is required: one of ${SETTABLE_STATUS_CODES.join(", ")}`);
  else if (typeof code !== "string" || !(SETTABLE_STATUS_CODES as readonly string[]).includes(code)) {
    problems.push(
      `code ${JSON.stringify(code)} is not a status a clerk can set; use one of ${SETTABLE_STATUS_CODES.map((c) => `${c} (${STATUS_CODES[c]})`).join(", ")}`,
    );
  }
  if (description !== undefined && description !== null) {
    if (typeof description !== "string") problems.push("description must be text");
    else if ([...description].length > 1000) problems.push("description: at most 1000 characters");
    else if (NOT_XML_CHAR.test(description)) problems.push("description contains a control character that cannot be carried in XML");
  }
  if (problems.length) throw badRequest("the status is not valid", problems);
  return { code: code as string, description: typeof description === "string" ? description : undefined };
}

// ---- agencies -------------------------------------------------------------------------------------

export function agencyJson(a: AgencyRecord, local: boolean) {
  return {
    organId: a.organId,
    name: a.name,
    parentId: a.parentId,
    endpoint: a.endpoint,
    certificates: a.certificates.map((c) => c.toString()),
    certificateFingerprints: a.certificateFingerprints,
    status: a.status,
    source: a.source,
    /** Hosted by this node. */
    local,
    updatedAt: a.updatedAt,
  };
}

const agencySummary = (a: AgencyRecord) => ({ name: a.name, endpoint: a.endpoint, status: a.status, certificateFingerprints: a.certificateFingerprints });

const AGENCY_FIELDS = ["organId", "name", "parentId", "endpoint", "certificates", "certificateFingerprints", "status"];
/** What GET answers besides the input fields: sent back unchanged, they are ignored. */
const AGENCY_READ_ONLY = ["source", "local", "updatedAt"];

type AgencyInput = Omit<AgencyRecord, "source" | "updatedAt">;

/** A registry entry from a JSON body; every problem listed in one 400. */
function agencyInput(req: Request, pathId: string | undefined): AgencyInput {
  const example = '{"organId":"000.00.00.H41","name":"UBND tỉnh Nghệ An","endpoint":"https://edoc.nghean.gov.vn","certificates":["-----BEGIN CERTIFICATE-----…"]}';
  const b = jsonBody(req, example);
  const problems: string[] = [];
  for (const key of Object.keys(b)) {
    if (!AGENCY_FIELDS.includes(key) && !AGENCY_READ_ONLY.includes(key)) problems.push(`unexpected field "${key}"; the fields are ${AGENCY_FIELDS.join(", ")}`);
  }
  let organId = "";
  if (pathId !== undefined) {
    if (!ORGAN_ID_LENIENT.test(pathId)) problems.push(`${JSON.stringify(pathId)} in the path is not an organ id (1 to 35 letters, digits or dots)`);
    else if (b.organId !== undefined && b.organId !== pathId) problems.push(`organId ${JSON.stringify(b.organId)} differs from ${pathId} in the path; an organ id cannot be changed`);
    organId = pathId;
  } else if (typeof b.organId !== "string" || !b.organId) {
    problems.push("organId is required (e.g. 000.00.00.H41)");
  } else if (!ORGAN_ID_LENIENT.test(b.organId)) {
    problems.push(`organId ${JSON.stringify(b.organId)} is not an organ id (1 to 35 letters, digits or dots, e.g. 000.00.00.H41)`);
  } else organId = b.organId;

  let name = "";
  if (typeof b.name !== "string" || !b.name.trim()) problems.push("name is required");
  else if ([...b.name.trim()].length > 200) problems.push("name: at most 200 characters");
  else if (/[\u0000-\u001f\u007f]/.test(b.name)) problems.push("name contains a control character");
  else name = b.name.trim().normalize("NFC");

  let parentId: string | null = null;
  if (b.parentId !== undefined && b.parentId !== null && b.parentId !== "") {
    if (typeof b.parentId !== "string" || !ORGAN_ID_LENIENT.test(b.parentId)) problems.push(`parentId ${JSON.stringify(b.parentId)} is not an organ id`);
    else if (b.parentId === organId) problems.push("parentId: an agency cannot be its own parent");
    else parentId = b.parentId;
  }

  let endpoint = "";
  if (typeof b.endpoint !== "string" || !b.endpoint) problems.push("endpoint is required: the base URL of the node hosting the agency (packets go to {endpoint}/edxml)");
  else {
    let url: URL | null = null;
    try {
      url = new URL(b.endpoint);
    } catch {
      problems.push(`endpoint ${JSON.stringify(b.endpoint)} is not a URL`);
    }
    if (url) {
      if (url.protocol !== "http:" && url.protocol !== "https:") problems.push(`endpoint must be an http or https URL, not ${url.protocol}`);
      else if (url.username || url.password) problems.push("endpoint must not carry a user name or password");
      else if (url.search || url.hash) problems.push("endpoint must not carry a query or fragment: it is a base URL");
      else if (b.endpoint.length > 500) problems.push("endpoint: at most 500 characters");
      else endpoint = b.endpoint.replace(/\/+$/, "");
    }
  }

  const certificates: X509Certificate[] = [];
  if (b.certificates !== undefined && b.certificates !== null) {
    if (!Array.isArray(b.certificates)) problems.push("certificates must be a list of PEM certificates");
    else if (b.certificates.length > 20) problems.push("certificates: at most 20");
    else {
      b.certificates.forEach((pem: unknown, i: number) => {
        if (typeof pem !== "string" || !pem.includes("-----BEGIN CERTIFICATE-----")) {
          problems.push(`certificates[${i + 1}] is not a PEM certificate (-----BEGIN CERTIFICATE----- …)`);
          return;
        }
        try {
          certificates.push(...parseCertificates(pem));
        } catch (err) {
          problems.push(`certificates[${i + 1}] cannot be read: ${(err as Error).message}`);
        }
      });
    }
  }
  const certificateFingerprints: string[] = [];
  if (b.certificateFingerprints !== undefined && b.certificateFingerprints !== null) {
    if (!Array.isArray(b.certificateFingerprints)) problems.push("certificateFingerprints must be a list of SHA-256 fingerprints (64 hex digits)");
    else {
      b.certificateFingerprints.forEach((fp: unknown, i: number) => {
        const n = typeof fp === "string" ? normalizeFingerprint(fp) : "";
        if (!/^[0-9a-f]{64}$/.test(n)) problems.push(`certificateFingerprints[${i + 1}] ${JSON.stringify(fp)} is not a SHA-256 fingerprint (64 hex digits)`);
        else certificateFingerprints.push(n);
      });
    }
  }
  let status: "active" | "inactive" = "active";
  if (b.status !== undefined) {
    if (b.status === "active" || b.status === "inactive") status = b.status;
    else problems.push(`status: "active" or "inactive", not ${JSON.stringify(b.status)}`);
  }
  if (problems.length) throw badRequest("the agency is not valid", problems);
  return { organId, name, parentId, endpoint, certificates, certificateFingerprints, status };
}
