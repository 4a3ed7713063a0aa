// HTTP plumbing of the API: uploads in memory or streamed to disk (multer, with limits and errors a client can
// act on), request bodies saved to a file, downloads streamed out, and file names in both
// directions (RFC 6266 / 5987); a document's attachment and evidence bundle as downloads (the API's and the pages').
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Request, RequestHandler, Response } from "express";
import multer from "multer";
import { AppError, documentAttachment, exportEvidence, type AppContext, type Caller, type DocumentRow } from "../app/index.ts";

/** Files per document. */
export const MAX_FILES = 100;
/** The `metadata` form field (MessageHeader fields as JSON). */
const MAX_METADATA_BYTES = 256 * 1024;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,99}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,99}$/i;
export const MULTIPART_HINT =
  'send the document as multipart/form-data: a field "metadata" with the MessageHeader fields as JSON, and one or more files in the field "files"';

const badRequest = (message: string, details?: unknown) => new AppError("invalid", message, details);

/** Bytes of one request's files kept in memory; the files past it go to uploads/ as they arrive. */
const IN_MEMORY_UPLOADS = 4 << 20;

/**
 * Where the API's uploads go: a request's files in memory while they total at most
 * IN_MEMORY_UPLOADS (signed and stored from there, never written to disk first), the others
 * streamed to uploads/ at flat memory, as multer's disk storage would.
 */
function uploadStorage(dir: string): multer.StorageEngine {
  const held = new WeakMap<object, number>();
  return {
    _handleFile(req, file, cb) {
      const kept: Buffer[] = [];
      let size = 0;
      let out: WriteStream | null = null;
      let path = "";
      let done = false;
      const finish = (err: Error | null, info?: Partial<Express.Multer.File>) => {
        if (done) return;
        done = true;
        if (err) out?.destroy();
        cb(err, info);
      };
      file.stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (!out && (held.get(req) ?? 0) + chunk.length <= IN_MEMORY_UPLOADS) {
          held.set(req, (held.get(req) ?? 0) + chunk.length);
          return void kept.push(chunk);
        }
        if (!out) {
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          path = join(dir, randomUUID());
          out = createWriteStream(path, { flags: "wx", mode: 0o600 });
          out.once("error", (err) => finish(err));
          for (const k of kept.splice(0)) out.write(k);
        }
        if (!out.write(chunk)) {
          file.stream.pause();
          out.once("drain", () => file.stream.resume());
        }
      });
      file.stream.once("error", (err: Error) => finish(err));
      file.stream.once("end", () => {
        if (out) out.end(() => finish(null, { path, size }));
        else finish(null, { buffer: Buffer.concat(kept, size), size });
      });
    },
    _removeFile(_req, file, cb) {
      if (!file.path) return cb(null);
      rm(file.path, { force: true }).then(() => cb(null), cb);
    },
  };
}

const uploads = new WeakMap<AppContext, RequestHandler>();
export function upload(ctx: AppContext): RequestHandler {
  let u = uploads.get(ctx);
  if (!u) {
    u = multer({
      storage: uploadStorage(join(ctx.config.dataDir, "uploads")),
      limits: { fileSize: ctx.config.maxUploadBytes, files: MAX_FILES, fields: 10, fieldSize: MAX_METADATA_BYTES, fieldNameSize: 100, parts: MAX_FILES + 10, headerPairs: 200 },
    }).array("files", MAX_FILES);
    uploads.set(ctx, u);
  }
  return u;
}

// ---- uploads ------------------------------------------------------------------------------------

/** A multer or busboy failure as the HTTP error a client can act on. */
export function uploadError(err: unknown, maxFileBytes: number): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof multer.MulterError) {
    const filename = (err as { filename?: string }).filename;
    const file = filename ? ` "${uploadedFileName(filename)}"` : "";
    switch (err.code) {
      case "LIMIT_FILE_SIZE":
        return new AppError("too-large", `the file${file} is larger than this node accepts (at most ${maxFileBytes} bytes per file)`);
      case "LIMIT_FIELD_VALUE":
        return new AppError("too-large", `the field "${err.field}" is too large (at most ${MAX_METADATA_BYTES} bytes)`);
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

/** The form field "metadata" as JSON; what it must hold is the use case's rule (app/documents.ts). */
export function parseMetadata(body: Record<string, unknown>): unknown {
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
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw badRequest(`the form field "metadata" is not valid JSON: ${(err as Error).message}`);
  }
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

/** The part's declared type, unless it says nothing (octet-stream: the extension then decides). */
export function uploadedContentType(mimetype: string | undefined): string | undefined {
  const t = (mimetype ?? "").toLowerCase();
  return MEDIA_TYPE.test(t) && t !== "application/octet-stream" ? t : undefined;
}

/** Streams the request body to `path`; beyond `limit` the rest is read and dropped. */
export async function saveBody(req: Request, path: string, limit: number): Promise<{ size: number; tooLarge: boolean }> {
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
export async function streamOut(ctx: AppContext, res: Response, chunks: AsyncIterable<Buffer>): Promise<void> {
  try {
    await pipeline(Readable.from(chunks), res);
  } catch (err) {
    if (!res.headersSent) throw err;
    res.destroy();
    if ((err as NodeJS.ErrnoException)?.code !== "ERR_STREAM_PREMATURE_CLOSE") ctx.log.warn({ err }, "download interrupted");
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



/** Attachment `n` of the document, as a download. */
export async function sendAttachment(ctx: AppContext, res: Response, doc: DocumentRow, n: string): Promise<void> {
  const a = await documentAttachment(ctx, doc, n);
  res.status(200);
  res.setHeader("Content-Type", MEDIA_TYPE.test(a.contentType) ? a.contentType : "application/octet-stream");
  res.setHeader("Content-Length", String(a.size));
  // attachment, never inline: the bytes come from other agencies, and must not run as a page of this origin
  res.setHeader("Content-Disposition", contentDisposition("attachment", a.name));
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Content-Security-Policy", "sandbox");
  res.setHeader("ETag", `"${a.sha256}"`);
  await streamOut(ctx, res, a.bytes);
}

/** The document's evidence bundle, as a download (streamed; a failure once it has begun only cuts it short). */
export async function sendEvidence(ctx: AppContext, res: Response, caller: Caller, doc: DocumentRow): Promise<void> {
  try {
    await exportEvidence(ctx, caller, doc, (beforeEnd) =>
      lazyResponse(
        res,
        () => {
          res.status(200);
          res.setHeader("Content-Type", "application/zip");
          res.setHeader("Content-Disposition", contentDisposition("attachment", `evidence-${doc.id}.zip`));
        },
        beforeEnd,
      ),
    );
  } catch (err) {
    if (!res.headersSent) throw err;
    ctx.log.warn({ err, document: doc.id }, "evidence bundle interrupted");
  }
}
