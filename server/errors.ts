// Errors people see: an HTTP status and a sentence a clerk understands, as JSON, in Vietnamese when
// the client's Accept-Language ranks it above English (app/i18n.ts). The use cases' errors
// (AppError) carry a kind; this is where a kind becomes a status. A database or blob store that is
// busy or out of reach is a 503 with Retry-After (app/errors.ts storageUnavailable), logged as a warning.
import type { ErrorRequestHandler, Request } from "express";
import multer from "multer";
import type { Logger } from "pino";
import { AppError, storageUnavailable, preferredLanguage, translate, type ErrorKind } from "../app/index.ts";

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  "not-found": 404,
  conflict: 409,
  "too-large": 413,
  unsupported: 415,
  throttled: 429,
  unavailable: 503,
  internal: 500,
};

/**
 * Any error as the answer a client can act on: AppErrors by their kind (a database busy or out of
 * reach is one: unavailable), with the seconds to wait before trying again (Retry-After) when
 * they say; multer's and body-parser's refusals and Express's own 4xx (an undecodable path, an
 * unsupported charset or encoding) with their status; anything else is this node's fault, 500.
 */
export function httpError(error: unknown): { status: number; message: string; details?: unknown; retryAfterSeconds?: number } {
  const err = storageUnavailable(error);
  if (err instanceof AppError) {
    const wait = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    const retryAfterSeconds = (err.kind === "throttled" || err.kind === "unavailable") && typeof wait === "number" ? wait : undefined;
    return { status: STATUS[err.kind], message: err.message, details: err.details, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
  }
  const e = err as { type?: string; code?: string; message?: string; status?: number; statusCode?: number; expose?: boolean } | null;
  if (err instanceof multer.MulterError) {
    const tooLarge = e!.code === "LIMIT_FILE_SIZE" || e!.code === "LIMIT_FIELD_VALUE";
    return { status: tooLarge ? 413 : 400, message: tooLarge ? "the upload is larger than this node accepts" : `the upload is not acceptable: ${e!.message}` };
  }
  if (e?.type === "entity.too.large") return { status: 413, message: "the upload is larger than this node accepts" };
  if (e?.type === "entity.parse.failed") return { status: 400, message: "the request body is not valid JSON" };
  const status = e?.status ?? e?.statusCode;
  if (e?.expose !== false && typeof status === "number" && status >= 400 && status < 500) return { status, message: `the request cannot be read: ${e!.message}` };
  return { status: 500, message: "internal error; the incident was logged" };
}

/**
 * Logs a request that failed on this node's side (5xx): a database busy or out of reach as a
 * warning with its cause (the database's state, not a fault here: the client was told to try
 * again), anything else as an error with its stack.
 */
export function logFailure(log: Logger, err: unknown, req: Request, what: string): void {
  const where = { method: req.method, url: req.originalUrl };
  const unavailable = storageUnavailable(err);
  if (unavailable !== err) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    // the driver's sentence without the statement knex puts before it (" - "): its values are documents' text
    const said = String(message ?? "");
    const at = said.lastIndexOf(" - ");
    log.warn({ ...where, cause: { code, message: at < 0 ? said : said.slice(at + 3) } }, `${what}: ${(unavailable as Error).message}; answered 503`);
  } else if (httpError(err).status >= 500) log.error({ err, ...where }, what);
}

/** Last handler: every error as JSON (httpError), in the client's language; 5xx logged. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    void _next;
    const answer = httpError(err);
    const { status, message, retryAfterSeconds } = answer;
    let { details } = answer;
    logFailure(log, err, req, "request failed");
    // the sentence and each problem listed; anything else in details (a report) stays as it is
    const lang = preferredLanguage(req.get("accept-language"));
    const error = translate(message, lang);
    if (Array.isArray(details)) details = details.map((d: unknown) => (typeof d === "string" ? translate(d, lang) : d));
    if (retryAfterSeconds !== undefined) res.set("Retry-After", String(retryAfterSeconds));
    res.vary("Accept-Language").set("Content-Language", lang);
    res.status(status).json(details === undefined ? { error } : { error, details });
  };
}
