// Reading the audit log: every change made through any door (API, CLI, pages, other nodes), with
// who, what and when. Node administrators read all of it; an agency's admin reads its agency's.
// The log is a hash chain with signed checkpoints, so that an edited, deleted or inserted row shows.
import { checkpointBytes, signCheckpoint, verifyCheckpoint, verifyTimestampToken, type TrustConfig } from "../signing/index.ts";
import {
  AUDIT_GENESIS,
  addCheckpoint,
  auditRowHash,
  latestCheckpoint,
  linkAudit,
  listAudit,
  listCheckpoints,
  readChain,
  unlinkedAudit,
  withChainLock,
  type StoredCheckpoint,
} from "../storage/index.ts";
import { ADMINS, assertRole, isOperator } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { AppError } from "./errors.ts";
import { snapshotPublisher } from "./snapshots.ts";
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

// ---- the hash chain and its checkpoints -------------------------------------------------------

/** How far a TSA's clock may be behind ours. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** How often the linker runs: a row is in the chain within about this long of its commit. */
const LINK_EVERY_MS = 1000;

/**
 * Links the rows committed since the last run into the chain and, when due (`EDOC_AUDIT_CHECKPOINT_MS`
 * since the last checkpoint, or `EDOC_AUDIT_CHECKPOINT_ROWS` rows), signs a checkpoint of the head
 * with the node's publishing identity. Under one lock, so several processes never fork the chain.
 */
export async function linkAuditLog(ctx: AppContext, opts: { checkpoint?: "due" | "now" | "never" } = {}): Promise<void> {
  const { db, dialect } = ctx.storage;
  const h = await linkAudit(db, dialect);
  if (!h || opts.checkpoint === "never") return;
  const last = await latestCheckpoint(db);
  const { everyMs, everyRows } = ctx.config.auditCheckpoint;
  const now = ctx.now();
  const due = !last || (h.seq > last.seq && (opts.checkpoint === "now" || now.getTime() - Date.parse(last.at) >= everyMs || h.seq - last.seq >= everyRows));
  if (!due) return;
  const publisher = await snapshotPublisher(ctx);
  await withChainLock(db, dialect, async (trx, head) => {
    const latest = await latestCheckpoint(trx);
    if (!head || (latest && latest.seq >= head.seq)) return; // another process was quicker
    const cp = signCheckpoint(publisher.identity, { seq: head.seq, hash: head.hash, at: now.toISOString(), organId: publisher.organId });
    await addCheckpoint(trx, cp);
  });
}

/**
 * Runs the linker every second until stopped; the returned function stops it and waits for the
 * round in flight (rows of the last moment are linked at the next start, or by another process).
 */
export function startAuditChain(ctx: AppContext): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  // one process of those sharing a database links (the chain's own lock keeps any other writer right)
  const run = () =>
    (running = running.then(() => ctx.storage.once("audit-chain", () => linkAuditLog(ctx))).catch((err: Error) => ctx.log.warn({ err: err.message }, "cannot link the audit log's new rows into its hash chain")));
  void run();
  const timer = setInterval(run, LINK_EVERY_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

interface AuditBreak {
  /** The first row found broken (null when the break is a missing row past the end). */
  rowId: number | null;
  seq: number | null;
  reason: string;
  vi: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Rows in the chain. */
  rows: number;
  head: { seq: number; hash: string } | null;
  checkpoints: number;
  /** `timestamped`: its RFC 3161 time-stamp verified against the node's TSA anchors. */
  latestCheckpoint: { seq: number; at: string; organId: string; timestamped: boolean } | null;
  /** Rows committed in the last moments, not linked yet (not an error). */
  pending: number;
  broken: AuditBreak | null;
}

/**
 * Walks the chain from its first row: each row's seq follows the previous one (a gap is a deleted
 * row), its hash is recomputed (a mismatch is an edited row), the chain passes through every
 * checkpoint's hash (else rows were rewritten), reaches every checkpoint (else it was cut back), and
 * every checkpoint is signed by a trusted agency; a row outside the chain older than its head was
 * slipped in. The first break found is named.
 */
export async function verifyAuditLog(ctx: AppContext, caller: Caller, trust?: TrustConfig): Promise<AuditVerification> {
  assertRole(caller, ADMINS, "verify the audit log");
  if (!isOperator(caller)) throw new AppError("forbidden", "only a node administrator may verify the audit log");
  const db = ctx.storage.db;
  const anchors = trust ?? (await ctx.trust());
  const checkpoints = await listCheckpoints(db);
  const bySeq = new Map<number, StoredCheckpoint[]>();
  for (const c of checkpoints) bySeq.set(c.seq, [...(bySeq.get(c.seq) ?? []), c]);
  let broken: AuditBreak | null = null;
  let prev = AUDIT_GENESIS;
  let seq = 0;
  let lastGood = 0; // the seq of the last checkpoint the chain passed through
  walk: for (;;) {
    const page = await readChain(db, seq);
    if (page.length === 0) break;
    for (const r of page) {
      if (r.seq !== seq + 1) {
        broken = {
          rowId: r.id,
          seq: seq + 1,
          reason: `row ${seq + 1} of the chain is missing (deleted): the chain jumps from row ${seq} to row ${r.seq} (id ${r.id})`,
          vi: `dòng ${seq + 1} của chuỗi bị mất (đã bị xóa): chuỗi nhảy từ dòng ${seq} sang dòng ${r.seq} (id ${r.id})`,
        };
        break walk;
      }
      const hash = auditRowHash(prev, r);
      if (hash !== r.hash) {
        broken = {
          rowId: r.id,
          seq: r.seq,
          reason: `row ${r.seq} (id ${r.id}, ${r.action} by ${r.actor}) was changed after it was written: its hash does not match`,
          vi: `dòng ${r.seq} (id ${r.id}, ${r.action} bởi ${r.actor}) đã bị sửa sau khi ghi: mã băm không khớp`,
        };
        break walk;
      }
      const cp = bySeq.get(r.seq)?.find((c) => c.hash !== hash);
      if (cp) {
        broken = {
          rowId: r.id,
          seq: r.seq,
          reason: `rows ${lastGood + 1} to ${r.seq} were rewritten: row ${r.seq} (id ${r.id}) does not match the signed checkpoint of ${cp.at}`,
          vi: `các dòng ${lastGood + 1} đến ${r.seq} đã bị viết lại: dòng ${r.seq} (id ${r.id}) không khớp điểm kiểm tra đã ký lúc ${cp.at}`,
        };
        break walk;
      }
      if (bySeq.has(r.seq)) lastGood = r.seq;
      prev = hash;
      seq = r.seq;
    }
  }
  if (!broken) {
    const beyond = checkpoints.find((c) => c.seq > seq);
    if (beyond) {
      broken = {
        rowId: null,
        seq: seq + 1,
        reason: `the log was cut back: it ends at row ${seq}, but the signed checkpoint of ${beyond.at} saw ${beyond.seq} rows`,
        vi: `nhật ký đã bị cắt bớt: nó kết thúc ở dòng ${seq}, nhưng điểm kiểm tra đã ký lúc ${beyond.at} ghi nhận ${beyond.seq} dòng`,
      };
    }
  }
  const unlinked = await unlinkedAudit(db, ctx.storage.dialect);
  if (!broken && unlinked.forged.length) {
    const r = unlinked.forged[0];
    broken = {
      rowId: r.id,
      seq: null,
      reason: `row id ${r.id} (${r.at}, ${r.action} by ${r.actor}) was inserted behind the node's back: it is older than the chain's head and not in the chain`,
      vi: `dòng id ${r.id} (${r.at}, ${r.action} bởi ${r.actor}) đã bị chèn ngoài hệ thống: nó cũ hơn đầu chuỗi và không nằm trong chuỗi`,
    };
  }
  // a checkpoint's time-stamp proves it existed then: checked against the TSA anchors when there are some
  const stamped = new Set<number>();
  if (!broken) {
    for (const c of checkpoints) {
      const check = verifyCheckpoint(c, anchors);
      if (!check.ok) {
        broken = { rowId: null, seq: c.seq, reason: `the checkpoint of ${c.at} (row ${c.seq}) is not genuine: ${check.message}`, vi: `điểm kiểm tra lúc ${c.at} (dòng ${c.seq}) không xác thực: ${check.vi}` };
        break;
      }
      if (!c.timestampToken || !anchors.tsaAnchors?.length) continue;
      try {
        const ts = await verifyTimestampToken(Buffer.from(c.timestampToken, "base64"), checkpointBytes(c), { anchors: anchors.tsaAnchors, crls: anchors.crls }, ctx.now());
        if (ts.time.getTime() < Date.parse(c.at) - CLOCK_SKEW_MS) throw new Error(`it is dated ${ts.time.toISOString()}, before the checkpoint`);
        stamped.add(c.id);
      } catch (err) {
        broken = {
          rowId: null,
          seq: c.seq,
          reason: `the time-stamp of the checkpoint of ${c.at} (row ${c.seq}) does not verify: ${(err as Error).message}`,
          vi: `dấu thời gian của điểm kiểm tra lúc ${c.at} (dòng ${c.seq}) không hợp lệ: ${(err as Error).message}`,
        };
        break;
      }
    }
  }
  const latest = checkpoints.at(-1) ?? null;
  return {
    ok: broken === null,
    rows: seq,
    head: seq ? { seq, hash: prev } : null,
    checkpoints: checkpoints.length,
    latestCheckpoint: latest && { seq: latest.seq, at: latest.at, organId: latest.organId, timestamped: stamped.has(latest.id) },
    pending: unlinked.pending,
    broken,
  };
}
