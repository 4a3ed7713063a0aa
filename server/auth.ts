// Who is calling: `Authorization: Bearer TOKEN` → the caller (agency, role, name). What each role
// may do is the application's rule (app/access.ts); routes call it early, before reading a body.
//
// 401 when there is no usable token (missing, malformed, unknown, revoked or expired: one answer
// for the last three, so that a probe learns nothing about which tokens ever existed); 403 when the
// token is good but its role may not do that.
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AppError, assertRole, authenticateToken, type AppContext, type Caller, type Role } from "../app/index.ts";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The caller, set by authenticate(). */
      caller?: Caller;
    }
  }
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/;
/** Longer than any token the node makes; longer ones are refused without a database query. */
const MAX_TOKEN_LENGTH = 512;

function unauthorized(res: Response, message: string, invalidToken: boolean): AppError {
  // RFC 6750 §3: the scheme, and error="invalid_token" when a token was given but is no good
  res.setHeader("WWW-Authenticate", invalidToken ? 'Bearer realm="edoc", error="invalid_token"' : 'Bearer realm="edoc"');
  return new AppError("unauthenticated", message);
}

/** Sets req.caller from the bearer token, or answers 401. */
export function authenticate(ctx: AppContext): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get("authorization");
    if (header === undefined || header.trim() === "") {
      return next(unauthorized(res, "authentication required: send the header Authorization: Bearer <your API token>", false));
    }
    const m = BEARER.exec(header.trim());
    if (!m || m[1].length > MAX_TOKEN_LENGTH) return next(unauthorized(res, 'the Authorization header must be "Bearer <your API token>"', true));
    try {
      req.caller = await authenticateToken(ctx, m[1]);
      next();
    } catch (err) {
      next(err instanceof AppError && err.kind === "unauthenticated" ? unauthorized(res, err.message, true) : err);
    }
  };
}

/** 403 unless the caller has one of the roles; `what` says what is refused. */
export function requireRole(roles: readonly Role[], what: string): RequestHandler {
  return (req, _res, next) => {
    try {
      assertRole(callerOf(req), roles, what);
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** The authenticated caller (after authenticate()). */
export function callerOf(req: Request): Caller {
  if (!req.caller) throw new AppError("unauthenticated", "authentication required");
  return req.caller;
}
