// Errors people see: an HTTP status and a sentence a clerk understands, as JSON, in Vietnamese when
// the client's Accept-Language ranks it above English (app/i18n.ts). The use cases' errors
// (AppError) carry a kind; this is where a kind becomes a status.
import type { ErrorRequestHandler } from "express";
import multer from "multer";
import type { Logger } from "pino";
import { AppError, preferredLanguage, translate, type ErrorKind } from "../app/index.ts";

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
 * Any error as the answer a client can act on: AppErrors by their kind; multer's and body-parser's
 * refusals and Express's own 4xx (an undecodable path, an unsupported charset or encoding) with
 * their status; anything else is this node's fault, 500.
 */
export function httpError(err: unknown): { status: number; message: string; details?: unknown } {
  if (err instanceof AppError) return { status: STATUS[err.kind], message: err.message, details: err.details };
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

/** Last handler: every error as JSON (httpError), in the client's language; 5xx logged. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    void _next;
    const answer = httpError(err);
    const { status, message } = answer;
    let { details } = answer;
    if (status >= 500) log.error({ err, method: req.method, url: req.originalUrl }, "request failed");
    // the sentence and each problem listed; anything else in details (a report) stays as it is
    const lang = preferredLanguage(req.get("accept-language"));
    const error = translate(message, lang);
    if (Array.isArray(details)) details = details.map((d: unknown) => (typeof d === "string" ? translate(d, lang) : d));
    res.vary("Accept-Language").set("Content-Language", lang);
    res.status(status).json(details === undefined ? { error } : { error, details });
  };
}
