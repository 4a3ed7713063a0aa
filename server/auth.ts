// Who is calling: `Authorization: Bearer TOKEN` → the token's owner (agency, role, name), and what
// each role may do.
//
// Roles (service contract, "Roles and words"):
//   clerk      (văn thư)   sends, receives, sets statuses, reads its agency's documents
//   archivist  (lưu trữ)   reads and exports everything of its agency, changes nothing
//   admin      (quản trị)  manages the registry; does NOT read documents (see api.ts)
// Every role may read the registry and verify packets.
//
// 401 when there is no usable token (missing, malformed, unknown or revoked: one answer for the
// last two, so that a probe learns nothing about which tokens ever existed); 403 when the token is
// good but its role may not do that.
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { findToken, type Role, type TokenOwner } from "../storage/index.ts";
import type { Node } from "./context.ts";
import { HttpError } from "./errors.ts";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The token's owner, set by authenticate(). */
      user?: TokenOwner;
    }
  }
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/;
/** Longer than any token createToken makes; longer ones are refused without a database query. */
const MAX_TOKEN_LENGTH = 512;

function unauthorized(res: Response, message: string, invalidToken: boolean): HttpError {
  // RFC 6750 §3: the scheme, and error="invalid_token" when a token was given but is no good
  res.setHeader("WWW-Authenticate", invalidToken ? 'Bearer realm="edoc", error="invalid_token"' : 'Bearer realm="edoc"');
  return new HttpError(401, message);
}

/** Sets req.user from the bearer token, or answers 401. */
export function authenticate(node: Node): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get("authorization");
    if (header === undefined || header.trim() === "") {
      return next(unauthorized(res, "authentication required: send the header Authorization: Bearer <your API token>", false));
    }
    const m = BEARER.exec(header.trim());
    if (!m || m[1].length > MAX_TOKEN_LENGTH) {
      return next(unauthorized(res, 'the Authorization header must be "Bearer <your API token>"', true));
    }
    try {
      const user = await findToken(node.storage.db, m[1]);
      if (!user) return next(unauthorized(res, "the API token is not valid (unknown or revoked); ask your administrator for a new one", true));
      req.user = user;
      next();
    } catch (err) {
      next(err);
    }
  };
}

const ROLE_NAMES: Record<Role, string> = { clerk: "clerk (văn thư)", archivist: "archivist (lưu trữ)", admin: "administrator (quản trị)" };

/** 403 unless the authenticated user has one of the roles; `what` says what is refused. */
export function requireRole(roles: readonly Role[], what: string): RequestHandler {
  return (req, _res, next) => {
    const user = req.user;
    if (!user) return next(new HttpError(401, "authentication required"));
    if (!roles.includes(user.role)) {
      return next(new HttpError(403, `your token's role, ${ROLE_NAMES[user.role]}, may not ${what}; this needs ${roles.map((r) => ROLE_NAMES[r]).join(" or ")}`));
    }
    next();
  };
}

/** The authenticated user (after authenticate()). */
export function userOf(req: Request): TokenOwner {
  if (!req.user) throw new HttpError(401, "authentication required");
  return req.user;
}

/** The audit log's name for the user. */
export const actorOf = (user: TokenOwner) => `token:${user.id}`;
