// The audit log: who (a token or a user) changed what, and when; rows are only ever added.
import type { Db } from "./db.ts";

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  organId: string | null;
  action: string;
  document: string | null;
  detail: Record<string, unknown>;
}

export async function audit(
  db: Db,
  e: { actor: string; organId?: string | null; action: string; document?: string | null; detail?: Record<string, unknown> },
): Promise<void> {
  await db("audit_log").insert({
    at: new Date(),
    actor: e.actor,
    organ_id: e.organId ?? null,
    action: e.action,
    document: e.document ?? null,
    detail: JSON.stringify(e.detail ?? {}),
  });
}

const MAX_PAGE = 1000;

/** Newest first; the next page is `beforeId` = the last id of this one. */
export async function listAudit(
  db: Db,
  f: { since?: Date; until?: Date; organId?: string; limit?: number; beforeId?: number; actor?: string; action?: string } = {},
): Promise<AuditEntry[]> {
  const q = db("audit_log")
    .orderBy("id", "desc")
    .limit(Math.min(Math.max(f.limit ?? 100, 1), MAX_PAGE));
  if (f.since) q.where("at", ">=", f.since);
  if (f.until) q.where("at", "<", f.until);
  if (f.actor) q.where({ actor: f.actor });
  // "user" stands for every user.* action too (action names hold no LIKE wildcards: AuditQuery)
  if (f.action) q.where((w) => w.where({ action: f.action }).orWhere("action", "like", `${f.action}.%`));
  if (f.organId) q.where({ organ_id: f.organId });
  if (f.beforeId !== undefined) q.where("id", "<", f.beforeId);
  return (await q).map((r) => ({
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    organId: r.organ_id ?? null,
    action: r.action,
    document: r.document ?? null,
    detail: JSON.parse(r.detail),
  }));
}
