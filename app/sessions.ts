// Signing in to the web pages: sessions kept in the database (they survive restarts and are shared
// by the nodes of one PostgreSQL), with idle and absolute timeouts (app/config.ts), a CSRF secret
// each, and sign-in throttling per user name and per address counted in the database, so that
// several processes agree. Every sign-in, failure, refusal and sign-out is audited.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  addSession,
  addSignInFailure,
  audit,
  clearSignInFailures,
  countSignInFailures,
  forgetSignInAttempt,
  type Db,
  deleteSession,
  deleteStaleSessions,
  getSession,
  getUser,
  getUserByUsername,
  setUserLanguage,
  touchSession,
  LANGUAGES,
  type Language,
  type Role,
} from "../storage/index.ts";
import type { AppContext, Caller } from "./context.ts";
import { AppError } from "./errors.ts";
import { checkCredentials } from "./users.ts";

export { LANGUAGES, type Language };

/** A signed-in person, as the pages need them. */
export interface Session {
  caller: Caller;
  userId: number;
  username: string;
  fullName: string;
  role: Role;
  /** null: none chosen yet. */
  language: Language | null;
  /** Forms carry csrfToken(csrfSecret, …). */
  csrfSecret: string;
}

/** last_seen_at is written at most this often: a page view is not a database write each time. */
const TOUCH_EVERY_MS = 60_000;
// 32 random bytes in base64url
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

const hashId = (id: string) => createHash("sha256").update(id).digest("hex");
const newSecret = () => randomBytes(32).toString("base64url");
const normalize = (username: string) => username.normalize("NFC").toLowerCase();

/** The token a form (or link) of `purpose` carries for the holder of `secret`. */
export function csrfToken(secret: string, purpose = "form"): string {
  return createHmac("sha256", secret).update(purpose).digest("base64url");
}

export function csrfTokenMatches(secret: string, token: unknown, purpose = "form"): boolean {
  if (typeof token !== "string") return false;
  const expected = Buffer.from(csrfToken(secret, purpose));
  const got = Buffer.from(token);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/**
 * The CSRF secret of a visitor who is not signed in yet (the sign-in form), from a random value
 * of their own cookie: derived with the node's key, so that nodes sharing the key agree and a
 * cookie set by someone else comes with no matching token.
 */
export function visitorSecret(ctx: AppContext, visitorId: string): string {
  return createHmac("sha256", ctx.key).update(`edoc sign-in form\n${visitorId}`).digest("base64url");
}

export const newVisitorId = newSecret;

async function throttle(ctx: AppContext, db: Db, keys: Array<{ key: string; max: number }>, now: Date): Promise<number> {
  const { windowMs } = ctx.config.signIn;
  let waitMs = 0;
  for (const { key, max } of keys) {
    const { count, oldest } = await countSignInFailures(db, key, new Date(now.getTime() - windowMs));
    // the attempt being made is among them (it is recorded first)
    if (count > max && oldest) waitMs = Math.max(waitMs, oldest.getTime() + windowMs - now.getTime());
  }
  return waitMs;
}

/**
 * Opens a session for a user name and password from `address`. The cookie gets `sessionId`;
 * throws unauthenticated (one answer whichever of the two was wrong, or a disabled user) or
 * throttled (details.retryAfterSeconds) after too many failures for the user name or the address.
 */
export async function signIn(ctx: AppContext, input: { username: string; password: string; address: string }): Promise<{ sessionId: string; session: Session }> {
  const db = ctx.storage.db;
  const username = normalize(input.username.trim()).slice(0, 100);
  const { maxFailuresPerUser, maxFailuresPerAddress, windowMs } = ctx.config.signIn;
  const userKey = `user:${username}`;
  const addressKey = `address:${input.address}`;
  const known = await getUserByUsername(db, username);
  const detail = { username, address: input.address };
  const now = ctx.now();
  // the attempt is recorded as a failure before anything is counted or checked, so that attempts
  // sent at once see each other (each counts every attempt committed before its own count; a
  // success takes its record back)
  await addSignInFailure(db, [userKey, addressKey], now);
  const waitMs = await throttle(ctx, db, [
    { key: userKey, max: maxFailuresPerUser },
    { key: addressKey, max: maxFailuresPerAddress },
  ], now);
  if (waitMs > 0) {
    // a refused attempt checked no password: it does not lengthen the wait
    for (const key of [userKey, addressKey]) await forgetSignInAttempt(db, key, now);
    await audit(db, { actor: `web:${input.address}`, organId: known?.organId, action: "session.throttled", detail });
    const retryAfterSeconds = Math.ceil(waitMs / 1000);
    throw new AppError("throttled", `too many failed sign-ins: try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s)`, { retryAfterSeconds });
  }
  const caller = await checkCredentials(ctx, username, input.password);
  if (!caller || !known) {
    await audit(db, { actor: `web:${input.address}`, organId: known?.organId, action: "session.sign-in-failed", detail });
    throw new AppError("unauthenticated", "wrong user name or password");
  }
  const sessionId = newSecret();
  const csrfSecret = newSecret();
  const { idleMs, maxMs } = ctx.config.sessions;
  await db.transaction(async (trx) => {
    await deleteStaleSessions(trx, { idleBefore: new Date(now.getTime() - idleMs), createdBefore: new Date(now.getTime() - maxMs) });
    await clearSignInFailures(trx, userKey, new Date(now.getTime() - windowMs));
    await forgetSignInAttempt(trx, addressKey, now);
    await addSession(trx, { idHash: hashId(sessionId), userId: known.id, csrfSecret, at: now });
    await audit(trx, { actor: caller.actor, organId: caller.organId, action: "session.sign-in", detail: { address: input.address } });
  });
  return {
    sessionId,
    session: { caller, userId: known.id, username: known.username, fullName: known.fullName, role: known.role, language: known.language, csrfSecret },
  };
}

/** The session of a cookie's id, or null when there is none, it timed out, or its user is disabled. */
export async function sessionCaller(ctx: AppContext, sessionId: string | undefined): Promise<Session | null> {
  if (!sessionId || !SESSION_ID.test(sessionId)) return null;
  const db = ctx.storage.db;
  const idHash = hashId(sessionId);
  const row = await getSession(db, idHash);
  if (!row) return null;
  const now = ctx.now().getTime();
  const { idleMs, maxMs } = ctx.config.sessions;
  const user = await getUser(db, row.userId);
  if (!user || user.disabled || now - row.lastSeenAt.getTime() > idleMs || now - row.createdAt.getTime() > maxMs) {
    await deleteSession(db, idHash);
    return null;
  }
  if (now - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) await touchSession(db, idHash, new Date(now));
  return {
    caller: { organId: user.organId, role: user.role, name: user.fullName || user.username, actor: `user:${user.id}` },
    userId: user.id,
    username: user.username,
    fullName: user.fullName,
    role: user.role,
    language: user.language,
    csrfSecret: row.csrfSecret,
  };
}

export async function signOut(ctx: AppContext, sessionId: string | undefined): Promise<void> {
  const session = await sessionCaller(ctx, sessionId);
  if (!session || !sessionId) return;
  await ctx.storage.db.transaction(async (trx) => {
    await deleteSession(trx, hashId(sessionId));
    await audit(trx, { actor: session.caller.actor, organId: session.caller.organId, action: "session.sign-out" });
  });
}

/** Remembers the language the user chose. */
export async function chooseLanguage(ctx: AppContext, session: Session, language: Language): Promise<void> {
  await ctx.storage.db.transaction(async (trx) => {
    await setUserLanguage(trx, session.userId, language);
    await audit(trx, { actor: session.caller.actor, organId: session.caller.organId, action: "user.language", detail: { language } });
  });
}
