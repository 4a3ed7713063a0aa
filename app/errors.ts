// The errors of the use cases. Each carries a kind, a sentence a clerk (or the clerk's IT
// department) can act on, and for "invalid" the list of every problem found. Each transport maps
// the kind to its own form: an HTTP status (server/errors.ts), exit status 2 (bin/), a message
// beside a form field (pages).
import { isBlobStoreUnavailable, isCommitUnknown, isDatabaseUnavailable } from "../storage/index.ts";

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

/** How long a client waits before trying again when the database or the blob store is busy or out of reach. */
const RETRY_SECONDS = 5;

/**
 * The error a client can act on for a database (storage's isDatabaseUnavailable) or a blob store
 * (isBlobStoreUnavailable) busy or out of reach for now: unavailable, try again in a few seconds
 * (or, when the connection was lost at a COMMIT, look first: it may have been recorded); the
 * store's own error is its cause (for the log). Any other error as it is.
 */
export function storageUnavailable(err: unknown): unknown {
  let e: AppError;
  if (isCommitUnknown(err)) {
    e = new AppError("unavailable", "the connection to the database was lost as it recorded this: it may have been recorded; look before you try again", { retryAfterSeconds: RETRY_SECONDS });
  } else if (isDatabaseUnavailable(err)) e = new AppError("unavailable", "the database is busy or cannot be reached for now; nothing was recorded, try again in a few seconds", { retryAfterSeconds: RETRY_SECONDS });
  else if (isBlobStoreUnavailable(err)) e = new AppError("unavailable", `the blob store (${err.store}) cannot be reached for now; try again in a few seconds`, { retryAfterSeconds: RETRY_SECONDS });
  else return err;
  e.cause = err;
  return e;
}
