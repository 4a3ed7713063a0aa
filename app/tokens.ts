// API tokens for people's software: created (shown once; only the hash is stored), listed (never
// the token), revoked (refused at once), optionally expiring; the last use is recorded.
import { createToken as storeToken, findToken, getLocalAgency, getToken, listTokens as storedTokens, revokeToken as storeRevoke, audit } from "../storage/index.ts";
import { ADMINS, assertRole, isOperator } from "./access.ts";
import { tokenCaller, type AppContext, type Caller } from "./context.ts";
import { AppError, invalid, notFound } from "./errors.ts";
import { TokenInput, durationMs, parseInput } from "./schemas.ts";

/** The caller a bearer token stands for, or unauthenticated (one answer for unknown, revoked and expired). */
export async function authenticateToken(ctx: AppContext, token: string): Promise<Caller> {
  // read beside the writer (a request never waits behind other documents' commits to be let in)
  const owner = await findToken(ctx.storage.reader, token, ctx.now(), ctx.storage.db);
  if (!owner) throw new AppError("unauthenticated", "the API token is not valid (unknown, revoked or expired); ask your administrator for a new one");
  return tokenCaller(owner);
}

/** An admin manages its own agency's tokens; the operator at the command line any agency's. */
function assertTokenAdmin(caller: Caller, organId: string | undefined): void {
  assertRole(caller, ADMINS, "manage API tokens");
  if (!isOperator(caller) && organId !== undefined && organId !== caller.organId) {
    throw notFound(`no agency ${organId} among yours`);
  }
}

export async function createApiToken(ctx: AppContext, caller: Caller, body: unknown) {
  const input = parseInput(TokenInput, body, "the token is not valid");
  assertTokenAdmin(caller, input.organId);
  const agency = await getLocalAgency(ctx.storage.db, input.organId);
  if (!agency) throw invalid(`${input.organId} is not an agency of this node (see edoc agency list)`);
  const expiresAt = input.expiresIn ? new Date(ctx.now().getTime() + durationMs(input.expiresIn)) : null;
  const created = await ctx.storage.db.transaction(async (trx) => {
    const t = await storeToken(trx, { organId: input.organId, role: input.role, name: input.name, expiresAt });
    await audit(trx, { actor: caller.actor, organId: input.organId, action: "token.create", detail: { id: t.id, role: input.role, name: input.name, expiresAt } });
    return t;
  });
  return { ...created, organId: input.organId, agencyName: agency.name, role: input.role, name: input.name, expiresAt };
}

export async function listApiTokens(ctx: AppContext, caller: Caller, organId?: string) {
  assertTokenAdmin(caller, organId);
  return storedTokens(ctx.storage.db, { organId: isOperator(caller) ? organId : caller.organId });
}

export async function revokeApiToken(ctx: AppContext, caller: Caller, id: string | number) {
  assertRole(caller, ADMINS, "manage API tokens");
  const n = typeof id === "number" ? id : /^\d{1,12}$/.test(id) ? Number(id) : NaN;
  const token = Number.isFinite(n) ? await getToken(ctx.storage.db, n) : null;
  if (!token || (!isOperator(caller) && token.organId !== caller.organId)) throw notFound(`no token ${JSON.stringify(String(id))} (see edoc token list)`);
  if (token.revokedAt) return { ...token, alreadyRevoked: true };
  await ctx.storage.db.transaction(async (trx) => {
    await storeRevoke(trx, n);
    await audit(trx, { actor: caller.actor, organId: token.organId, action: "token.revoke", detail: { id: n, role: token.role, name: token.name } });
  });
  return { ...(await getToken(ctx.storage.db, n))!, alreadyRevoked: false };
}
