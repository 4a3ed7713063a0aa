// The errors of the use cases. Each carries a kind, a sentence a clerk (or the clerk's IT
// department) can act on, and for "invalid" the list of every problem found. Each transport maps
// the kind to its own form: an HTTP status (server/errors.ts), exit status 2 (bin/), a message
// beside a form field (pages).
import { isDatabaseUnavailable } from "../storage/index.ts";

export type ErrorKind =
  | "invalid" // the input is wrong: 400, exit 2
  | "unauthenticated" // no usable credentials: 401
  | "forbidden" // the caller may not do this: 403
  | "not-found" // no such thing (for this caller): 404
  | "conflict" // the state does not allow it: 409
  | "too-large" // 413
  | "unsupported" // the wrong kind of body: 415
  | "throttled" // too many attempts: wait (details: { retryAfterSeconds }): 429
  | "unavailable" // the node cannot do it now (details may hold { retryAfterSeconds }): 503
  | "internal"; // this node's own fault: 500

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** For "invalid": every problem, as sentences; otherwise anything worth showing (a report). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const invalid = (message: string, problems?: unknown) => new AppError("invalid", message, problems);
export const forbidden = (message: string) => new AppError("forbidden", message);
export const notFound = (message: string) => new AppError("not-found", message);
export const conflict = (message: string) => new AppError("conflict", message);

/** How long a client waits before trying again when the database is busy or out of reach. */
const DATABASE_RETRY_SECONDS = 5;

/**
 * The error a client can act on for a database that is busy or out of reach for now (storage's
 * isDatabaseUnavailable): unavailable, try again in a few seconds; the database's own error is its
 * cause (for the log). Any other error as it is.
 */
export function databaseUnavailable(err: unknown): unknown {
  if (!isDatabaseUnavailable(err)) return err;
  const e = new AppError(
    "unavailable",
    "the database is busy or cannot be reached for now; nothing was recorded, try again in a few seconds",
    { retryAfterSeconds: DATABASE_RETRY_SECONDS },
  );
  e.cause = err;
  return e;
}
