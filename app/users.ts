// People who sign in to the web pages: per local agency, with a role, a full name and a password
// hashed with scrypt (Node's crypto; N = 2^15, r = 8, p = 1, 16-byte salt, 32-byte hash).
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { addUser, audit, getLocalAgency, getUserByUsername, getUserCredentials, listUsers as storedUsers, setUserDisabled, setUserPassword } from "../storage/index.ts";
import { ADMINS, assertRole, isOperator } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { AppError, conflict, invalid, notFound } from "./errors.ts";
import { Password, UserInput, parseInput } from "./schemas.ts";

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const scrypt = (password: string, salt: Buffer, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password.normalize("NFC"), salt, 32, opts, (err, key) => (err ? reject(err) : resolve(key))));

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const got = await scrypt(password, Buffer.from(salt, "base64"), { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** An admin manages its own agency's users; the operator at the command line any agency's. */
function assertUserAdmin(caller: Caller, organId: string): void {
  assertRole(caller, ADMINS, "manage users");
  if (!isOperator(caller) && organId !== caller.organId) throw notFound(`no agency ${organId} among yours`);
}

export async function createUser(ctx: AppContext, caller: Caller, body: unknown) {
  const input = parseInput(UserInput, body, "the user is not valid");
  assertUserAdmin(caller, input.organId);
  const db = ctx.storage.db;
  if (!(await getLocalAgency(db, input.organId))) throw invalid(`${input.organId} is not an agency of this node (see edoc agency list)`);
  if (await getUserByUsername(db, input.username)) throw conflict(`the user name ${input.username} is taken`);
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (trx) => {
    const user = await addUser(trx, { organId: input.organId, username: input.username, fullName: input.fullName, role: input.role, passwordHash });
    await audit(trx, { actor: caller.actor, organId: input.organId, action: "user.add", detail: { id: user.id, username: user.username, role: user.role } });
    return user;
  });
}

export async function listAgencyUsers(ctx: AppContext, caller: Caller, organId?: string) {
  assertRole(caller, ADMINS, "manage users");
  return storedUsers(ctx.storage.db, { organId: isOperator(caller) ? organId : caller.organId });
}

async function ownUser(ctx: AppContext, caller: Caller, username: string) {
  const user = await getUserByUsername(ctx.storage.db, username.normalize("NFC").toLowerCase());
  if (!user) throw notFound(`no user ${JSON.stringify(username)} (see edoc user list)`);
  assertUserAdmin(caller, user.organId);
  return user;
}

export async function disableUser(ctx: AppContext, caller: Caller, username: string) {
  const user = await ownUser(ctx, caller, username);
  await ctx.storage.db.transaction(async (trx) => {
    await setUserDisabled(trx, user.id, true);
    await audit(trx, { actor: caller.actor, organId: user.organId, action: "user.disable", detail: { id: user.id, username: user.username } });
  });
  return { ...user, disabled: true };
}

export async function changePassword(ctx: AppContext, caller: Caller, username: string, password: string) {
  const user = await ownUser(ctx, caller, username);
  const hash = await hashPassword(parseInput(Password, password, "the password is not valid"));
  await ctx.storage.db.transaction(async (trx) => {
    await setUserPassword(trx, user.id, hash);
    await audit(trx, { actor: caller.actor, organId: user.organId, action: "user.password", detail: { id: user.id, username: user.username } });
  });
}

/**
 * Password checks at once: each holds 64 MiB and a thread of libuv's pool, which the database
 * driver shares, so a burst of sign-ins must not starve every query. A few more may wait; beyond
 * that the node says it is busy.
 */
const CHECKS = { max: 2, queue: 32 };
let checking = 0;
const waitingChecks: Array<() => void> = [];
async function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  if (checking < CHECKS.max) checking++;
  else {
    if (waitingChecks.length >= CHECKS.queue) throw new AppError("unavailable", "the node is busy checking other sign-ins; try again in a moment");
    await new Promise<void>((resolve) => waitingChecks.push(resolve)); // the slot is handed over
  }
  try {
    return await fn();
  } finally {
    const next = waitingChecks.shift();
    if (next) next();
    else checking--;
  }
}

/** The signed-in user for a user name and password, or null (one answer for both being wrong). */
export async function checkCredentials(ctx: AppContext, username: string, password: string): Promise<Caller | null> {
  const found = await getUserCredentials(ctx.storage.db, username.normalize("NFC").toLowerCase());
  // the same work whether or not the user exists, so that timing does not tell
  const ok = await oneAtATime(() => passwordMatches(password, found?.passwordHash ?? `scrypt$${SCRYPT.N}$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`));
  if (!found || !ok || found.user.disabled) return null;
  const u = found.user;
  return { organId: u.organId, role: u.role, name: u.fullName || u.username, actor: `user:${u.id}` };
}
