// Errors people see: an HTTP status and a sentence a clerk understands, as JSON, in Vietnamese when
// the client's Accept-Language ranks it above English (app/i18n.ts). The use cases' errors
// (AppError) carry a kind; this is where a kind becomes a status.
import type { ErrorRequestHandler } from "express";
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

/** Last handler: AppErrors by their kind, body-parser and multer errors as 400/413, the rest as 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    void _next;
    let status = 500;
    let message = "internal error; the incident was logged";
    let details: unknown;
    if (err instanceof AppError) {
      status = STATUS[err.kind];
      ({ message, details } = err);
    } else if (err?.type === "entity.too.large" || err?.code === "LIMIT_FILE_SIZE") {
      status = 413;
      message = "the upload is larger than this node accepts";
    } else if (err?.type === "entity.parse.failed") {
      status = 400;
      message = "the request body is not valid JSON";
    } else if (typeof err?.code === "string" && err.code.startsWith("LIMIT_")) {
      status = 400;
      message = `the upload is not acceptable: ${err.message}`;
    }
    if (status >= 500) log.error({ err, method: req.method, url: req.originalUrl }, "request failed");
    // the sentence and each problem listed; anything else in details (a report) stays as it is
    const lang = preferredLanguage(req.get("accept-language"));
    const error = translate(message, lang);
    if (Array.isArray(details)) details = details.map((d: unknown) => (typeof d === "string" ? translate(d, lang) : d));
    res.vary("Accept-Language").set("Content-Language", lang);
    res.status(status).json(details === undefined ? { error } : { error, details });
  };
}
