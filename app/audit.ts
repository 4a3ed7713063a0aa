// Reading the audit log: every change made through any door (API, CLI, pages, other nodes), with
// who, what and when. Node administrators read all of it; an agency's admin reads its agency's.
import { listAudit } from "../storage/index.ts";
import { ADMINS, assertRole, isOperator } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { AuditQuery, parseInput } from "./schemas.ts";

export async function readAudit(ctx: AppContext, caller: Caller, query: unknown) {
  assertRole(caller, ADMINS, "read the audit log");
  const q = parseInput(AuditQuery, query ?? {}, "the audit query is not valid");
  return listAudit(ctx.storage.db, {
    since: q.since,
    until: q.until,
    actor: q.actor,
    action: q.action,
    limit: q.limit === undefined ? 100 : Number(q.limit),
    beforeId: q.before === undefined ? undefined : Number(q.before),
    organId: isOperator(caller) ? undefined : caller.organId,
  });
}
