// Errors people see: an HTTP status and a sentence a clerk understands, as JSON.
import type { ErrorRequestHandler } from "express";
import type { Logger } from "pino";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, message, details);
export const notFound = (message: string) => new HttpError(404, message);

/** Last handler: HttpErrors as they are, body-parser and multer errors as 400/413, the rest as 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    void _next;
    let status = 500;
    let message = "internal error; the incident was logged";
    let details: unknown;
    if (err instanceof HttpError) {
      ({ status, message, details } = err);
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
    res.status(status).json(details === undefined ? { error: message } : { error: message, details });
  };
}
