// The durable delivery queue: one row per (packet, recipient). Rows are claimed with a lease, so
// several workers and several nodes on one PostgreSQL never send the same row at once, and a
// worker that dies mid-send leaves a row that is claimed again when its lease runs out.
import type { Knex } from "knex";
import { byDocument, queueChannel, type Db } from "./db.ts";
import { hotAll, hotInsert, hotRun, insertOf } from "./hot.ts";

/** `relayed`: the national axle's hub accepted the packet (see app/vdxp.ts); delivered when the 01 comes back. */
export type DeliveryState = "queued" | "sending" | "relayed" | "delivered" | "failed";

export interface Delivery {
  id: number;
  document: string;
  organId: string;
  kind: "edoc" | "status";
  packetSha256: string;
  state: DeliveryState;
  statusCode: string | null;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  /** The hub's DocId, for a packet sent through the national axle. */
  hubDocId: string | null;
}

function toDelivery(r: Record<string, unknown>): Delivery {
  return {
    id: Number(r.id),
    document: r.document as string,
    organId: r.organ_id as string,
    kind: r.kind as "edoc" | "status",
    packetSha256: r.packet_sha256 as string,
    state: r.state as DeliveryState,
    statusCode: (r.status_code as string | null) ?? null,
    attempts: Number(r.attempts),
    nextAttemptAt: new Date(r.next_attempt_at as string).toISOString(),
    lastError: (r.last_error as string | null) ?? null,
    hubDocId: (r.hub_doc_id as string | null) ?? null,
  };
}

/** A claim taken as deliveries are queued: this process's worker sends them straight away. */
export interface DeliveryClaim {
  worker: string;
  leaseMs: number;
}

/** A delivery to queue: the packet (a document's or a status's) for one recipient. */
export interface NewDelivery {
  document: string;
  organId: string;
  kind: "edoc" | "status";
  packetSha256: string;
}

/**
 * The rows of `rows` claimed for `worker` at their first attempt and not finished: after a
 * transaction that queued them with that claim failed at its COMMIT (isCommitUnknown), that
 * transaction's rows if it committed, or (a status signed twice in one second is the same packet)
 * rows the worker is sending already, which it leaves alone.
 */
export async function claimedUnsent(db: Db, worker: string, rows: readonly NewDelivery[]): Promise<Delivery[]> {
  if (!rows.length) return [];
  const found = await db("deliveries")
    .where({ claimed_by: worker, state: "sending", attempts: 1 })
    .whereIn("document", [...new Set(rows.map((r) => r.document))])
    .whereIn("packet_sha256", [...new Set(rows.map((r) => r.packetSha256))])
    .orderBy("id");
  return found.map(toDelivery);
}

/**
 * Queues deliveries (one insert), due at once; answers that time (their next_attempt_at) and, with
 * `claim`, the rows, already claimed for that worker (the first attempt: as claimDeliveries would
 * leave them; a worker that dies before sending leaves them to be claimed again when the lease runs
 * out). Unclaimed, the workers of every process on a PostgreSQL database are woken at commit
 * (NOTIFY); in this process the caller says `Storage.queued()` once committed.
 */
export async function enqueueDeliveries(
  db: Db,
  rows: readonly NewDelivery[],
  claim?: DeliveryClaim,
): Promise<{ at: Date; claimed: Delivery[] }> {
  const now = new Date();
  if (!rows.length) return { at: now, claimed: [] };
  const held = claim ? { state: "sending", attempts: 1, claimed_by: claim.worker, claimed_until: new Date(now.getTime() + claim.leaseMs) } : { state: "queued", attempts: 0 };
  const queued = rows.map((d) => ({ document: d.document, organ_id: d.organId, kind: d.kind, packet_sha256: d.packetSha256, ...held, next_attempt_at: now, updated_at: now }));
  if (claim) {
    const { sql, params } = insertOf("deliveries", queued);
    return { at: now, claimed: (await hotAll(db, `${sql} returning *`, params)).map(toDelivery) };
  }
  await hotInsert(db, "deliveries", queued);
  if (db.client.config.client === "pg") {
    const schema = (db.client.config.searchPath as string[] | undefined)?.[0];
    await db.raw("select pg_notify(?, '')", [queueChannel(schema)]);
  }
  return { at: now, claimed: [] };
}

/** Deliveries of each document (of one kind, or all), in queue order. */
export function listDeliveriesFor(db: Db, ids: readonly string[], kind?: "edoc" | "status"): Promise<Map<string, Delivery[]>> {
  return byDocument(
    ids,
    (chunk) => {
      const q = db("deliveries").whereIn("document", chunk).orderBy("id");
      return kind ? q.where({ kind }) : q;
    },
    toDelivery,
  );
}

export async function listDeliveries(db: Db, document: string, kind?: "edoc" | "status"): Promise<Delivery[]> {
  return (await listDeliveriesFor(db, [document], kind)).get(document)!;
}

/**
 * Claims up to `limit` due rows for `worker` for `leaseMs`: queued rows whose time has come, and
 * rows whose sender's lease ran out. Each claim counts as an attempt.
 */
export async function claimDeliveries(db: Db, worker: string, limit: number, leaseMs: number, dialect: "sqlite" | "pg"): Promise<Delivery[]> {
  const now = new Date();
  const until = new Date(now.getTime() + leaseMs);
  const due = (w: Knex.QueryBuilder) =>
    w.where((q) => q.where("state", "queued").andWhere("next_attempt_at", "<=", now)).orWhere((q) => q.where("state", "sending").andWhere("claimed_until", "<", now));
  const claim = { state: "sending", claimed_by: worker, claimed_until: until, updated_at: now, attempts: db.raw("attempts + 1") };
  // one UPDATE … RETURNING; on PostgreSQL FOR UPDATE SKIP LOCKED makes concurrent workers pick
  // disjoint rows, on SQLite the one writer runs it alone
  const pick = db("deliveries").select("id").where(due).orderBy("next_attempt_at").limit(limit);
  const rows = await db("deliveries")
    .whereIn("id", dialect === "pg" ? pick.forUpdate().skipLocked() : pick)
    .update(claim)
    .returning("*");
  return rows.map(toDelivery);
}

/** The outcome of one attempt, applied only if `worker` still holds the claim. */
export async function finishAttempt(
  db: Db,
  id: number,
  worker: string,
  outcome:
    | { state: "delivered"; hubDocId?: string }
    /** The national axle's hub accepted it: not sent again, delivered when its 01 arrives. */
    | { state: "relayed"; hubDocId: string }
    /** Tried and failed: due again this long after the failure is recorded (the row's updated_at). */
    | { state: "queued"; retryInMs: number; error: string }
    /** Not tried (it waits behind an earlier packet): the claim's attempt is given back. */
    | { state: "waiting"; retryAt: Date; error: string }
    | { state: "failed"; error: string },
): Promise<boolean> {
  const now = new Date();
  const o = outcome;
  const state = o.state === "waiting" ? "queued" : o.state;
  const error = "error" in o ? o.error.slice(0, 1000) : null;
  const hubDocId = "hubDocId" in o ? (o.hubDocId ?? null) : null;
  const nextAttemptAt = o.state === "queued" ? new Date(now.getTime() + o.retryInMs) : o.state === "waiting" ? o.retryAt : null;
  // one statement for every outcome (prepared once): what an outcome leaves alone is kept by coalesce
  const n = await hotRun(
    db,
    `update "deliveries" set "state" = ?, "last_error" = ?, "hub_doc_id" = coalesce(?, "hub_doc_id"), "next_attempt_at" = coalesce(?, "next_attempt_at"),
     "attempts" = "attempts" - ?, "claimed_by" = null, "claimed_until" = null, "updated_at" = ? where "id" = ? and "claimed_by" = ? and "state" = 'sending'`,
    [state, error, hubDocId, nextAttemptAt, o.state === "waiting" ? 1 : 0, now, id, worker],
  );
  return n > 0;
}

/** Puts failed deliveries of a document back in the queue (all recipients, or one). */
export async function resendFailed(db: Db, document: string, organId?: string): Promise<number> {
  const q = db("deliveries").where({ document, state: "failed" });
  if (organId) q.where({ organ_id: organId });
  return q.update({ state: "queued", attempts: 0, next_attempt_at: new Date(), last_error: null, updated_at: new Date() });
}

/** Records the latest status a recipient sent back for an outbound document. */
export async function setRecipientStatus(db: Db, document: string, organId: string, code: string): Promise<void> {
  await db("deliveries").where({ document, organ_id: organId, kind: "edoc" }).update({ status_code: code, updated_at: new Date() });
}

export async function queueDepth(db: Db): Promise<Record<DeliveryState, number>> {
  const rows = await db("deliveries").select("state").count({ n: "*" }).groupBy("state");
  const depth: Record<DeliveryState, number> = { queued: 0, sending: 0, relayed: 0, delivered: 0, failed: 0 };
  for (const r of rows as Array<{ state: DeliveryState; n: string | number }>) depth[r.state] = Number(r.n);
  return depth;
}

/** How long a due delivery may wait before the administrators' page calls it stuck (no worker is taking it). */
const STUCK_AFTER_MS = 5 * 60_000;

/**
 * An agency's deliveries that need a look, for its administrators: failed ones, ones retrying
 * after an error, ones due for over five minutes that no worker took, and ones whose sender's
 * lease ran out. Failed first, then the longest waiting.
 */
export async function listTroubledDeliveries(db: Db, localOrgan: string, now: Date, limit: number): Promise<Array<Delivery & { updatedAt: string }>> {
  const stuckBefore = new Date(now.getTime() - STUCK_AFTER_MS);
  const rows = await db("deliveries as d")
    .join("documents as doc", "doc.id", "d.document")
    .where("doc.local_organ", localOrgan)
    .andWhere((w) =>
      w
        .where("d.state", "failed")
        .orWhere((q) => q.whereIn("d.state", ["queued", "sending"]).whereNotNull("d.last_error"))
        .orWhere((q) => q.where("d.state", "queued").andWhere("d.next_attempt_at", "<", stuckBefore))
        .orWhere((q) => q.where("d.state", "sending").andWhere("d.claimed_until", "<", now)),
    )
    .select("d.*")
    .orderByRaw("case when d.state = 'failed' then 0 else 1 end")
    .orderBy("d.updated_at")
    .limit(limit);
  return rows.map((r: Record<string, unknown>) => ({ ...toDelivery(r), updatedAt: new Date(r.updated_at as string).toISOString() }));
}

/** An agency's deliveries by state (its share of the queue). */
export async function agencyQueueDepth(db: Db, localOrgan: string): Promise<Record<DeliveryState, number>> {
  const rows = await db("deliveries as d").join("documents as doc", "doc.id", "d.document").where("doc.local_organ", localOrgan).select("d.state").count({ n: "*" }).groupBy("d.state");
  const depth: Record<DeliveryState, number> = { queued: 0, sending: 0, relayed: 0, delivered: 0, failed: 0 };
  for (const r of rows as Array<{ state: DeliveryState; n: string | number }>) depth[r.state] = Number(r.n);
  return depth;
}
