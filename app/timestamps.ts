// Signature time-stamps (XAdES B-T) from an RFC 3161 time-stamping authority (TSA): the HTTP
// exchange (signing/ builds the request and checks the reply), stamping what this node signs,
// and the background job that gets the stamps a TSA could not give at signing time. Those are kept
// beside the stored packet (signature_timestamps), never in it: the bytes sent stay the bytes stored.
import type { AppContext } from "./context.ts";
import {
  acceptTimestampReply,
  addTimestampToFile,
  checkpointBytes,
  merkleTree,
  packetHead,
  stampedSignatureValue,
  timestampRequest,
  timestampSignerExpiry,
  TimestampError,
  withTimestamp,
  type TsaTrust,
} from "../signing/index.ts";
import {
  addArchiveRenewal,
  addArchiveRound,
  isUniqueViolation,
  dueArchiveStamps,
  listPendingTimestamps,
  readBlob,
  setCheckpointTimestamp,
  unstampedCheckpoints,
  storeTimestamp,
  timestampRetryLater,
  unarchivedItems,
  type Db,
  type Storage,
} from "../storage/index.ts";

/** Why a stamp could not be had: the TSA unreachable, or its answer not acceptable. */
export class TimestampUnavailable extends Error {}

/**
 * A time-stamp token over `data` from the TSA at `url`: POSTed as application/timestamp-query,
 * and checked (nonce, imprint, signature, the signer's timeStamping usage, and the chain to `trust`
 * when given) before it is returned.
 */
async function fetchTimestamp(url: string, data: string | Buffer, trust: TsaTrust | null, timeoutMs: number): Promise<Buffer> {
  const request = timestampRequest(data);
  let reply: Buffer;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/timestamp-query", accept: "application/timestamp-reply" },
      body: new Uint8Array(request.der),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    reply = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    throw new TimestampUnavailable(`the time-stamping service at ${url} cannot be reached (${(err as Error).message})`);
  }
  try {
    return await acceptTimestampReply(request, reply, trust);
  } catch (err) {
    throw new TimestampUnavailable(`the time-stamping service at ${url} gave no acceptable time-stamp: ${(err as Error).message}`);
  }
}

/**
 * When an archive stamp from `url` stops being checkable (its certificates' first expiry). A token
 * without its TSA's certificate (which the request asks for) is refused like an unavailable TSA.
 */
function archiveStampExpiry(url: string, token: Buffer): Date {
  try {
    return timestampSignerExpiry(token);
  } catch (err) {
    if (!(err instanceof TimestampError)) throw err;
    throw new TimestampUnavailable(`the time-stamping service at ${url} gave no acceptable time-stamp: ${err.message}`);
  }
}

/** Adds a signature time-stamp from `url` to a packet file this signer just wrote. */
export async function stampPacketFile(url: string, path: string, trust: TsaTrust | null, timeoutMs: number): Promise<void> {
  const token = await fetchTimestamp(url, stampedSignatureValue(await packetHead(path)), trust, timeoutMs);
  await addTimestampToFile(path, token);
}

/** The TSA anchors a node holds, or null: then a stamp is only checked for itself (signature, usage). */
async function nodeTsaTrust(ctx: AppContext): Promise<TsaTrust | null> {
  const trust = await ctx.trust();
  return trust.tsaAnchors?.length ? { anchors: trust.tsaAnchors, crls: trust.crls } : null;
}

/**
 * Stamps a packet file the node signed, when EDOC_TSA_URL is set. false when it must go out at
 * B-B (the TSA away or its answer refused: logged, and the caller records the stamp as pending).
 */
export async function stampOwnPacket(ctx: AppContext, path: string): Promise<boolean> {
  if (!ctx.config.tsa) return true;
  try {
    await stampPacketFile(ctx.config.tsa.url, path, await nodeTsaTrust(ctx), ctx.config.tsa.timeoutMs);
    return true;
  } catch (err) {
    if (!(err instanceof TimestampUnavailable)) throw err;
    ctx.log.warn({ err: err.message }, "packet sent without its time-stamp (B-B); it will be stamped later");
    return false;
  }
}

/** A packet (edoc or status) the node signed, in memory, with its time-stamp when EDOC_TSA_URL is set; `stamped` false: pending. */
export async function stampOwnBytes(ctx: AppContext, bytes: Buffer): Promise<{ bytes: Buffer; stamped: boolean }> {
  if (!ctx.config.tsa) return { bytes, stamped: true };
  try {
    const data = stampedSignatureValue(bytes.toString("latin1"));
    const token = await fetchTimestamp(ctx.config.tsa.url, data, await nodeTsaTrust(ctx), ctx.config.tsa.timeoutMs);
    return { bytes: withTimestamp(bytes, token), stamped: true };
  } catch (err) {
    if (!(err instanceof TimestampUnavailable)) throw err;
    ctx.log.warn({ err: err.message }, "packet sent without its time-stamp (B-B); it will be stamped later");
    return { bytes, stamped: false };
  }
}

/**
 * A token over `data` from the node's TSA for an evidence bundle's seal, when EDOC_TSA_URL is set;
 * null when it is away or its answer is refused (logged: the bundle is exported without the stamp,
 * and its manifest says one was asked for). undefined: the node has no TSA.
 */
export function sealTimestamper(ctx: AppContext): ((data: string) => Promise<Buffer | null>) | undefined {
  const tsa = ctx.config.tsa;
  if (!tsa) return undefined;
  return async (data) => {
    try {
      return await fetchTimestamp(tsa.url, data, await nodeTsaTrust(ctx), tsa.timeoutMs);
    } catch (err) {
      if (!(err instanceof TimestampUnavailable)) throw err;
      ctx.log.warn({ err: err.message }, "evidence bundle exported without the time-stamp of its seal");
      return null;
    }
  };
}

/**
 * One round of the background job: every pending stamp that is due is asked for again; a stamp
 * obtained is stored beside the packet (the stored bytes are not touched). Returns how many were stamped.
 */
export async function stampPending(ctx: AppContext): Promise<number> {
  const tsa = ctx.config.tsa;
  if (!tsa) return 0;
  const db: Db = ctx.storage.db;
  const trust = await nodeTsaTrust(ctx);
  let stamped = 0;
  for (const row of await listPendingTimestamps(db, ctx.now(), 100)) {
    try {
      const head = await blobHead(db, ctx.storage.blobs, row.packetSha256);
      const token = await fetchTimestamp(tsa.url, stampedSignatureValue(head), trust, tsa.timeoutMs);
      await storeTimestamp(db, row.packetSha256, token, ctx.now());
      stamped++;
    } catch (err) {
      if (!(err instanceof TimestampUnavailable)) throw err;
      await timestampRetryLater(db, row.packetSha256, err.message, new Date(ctx.now().getTime() + tsa.retryMs));
      break; // the TSA is away: the others wait for the next round
    }
  }
  return stamped;
}

/** The first bytes of a stored packet, up to its signature's end (a packet may be gigabytes). */
async function blobHead(db: Db, store: Storage["blobs"], sha256: string): Promise<string> {
  let head = "";
  for await (const chunk of readBlob(db, store, sha256)) {
    head += chunk.toString("latin1");
    if (head.includes("</ds:Signature>")) break;
  }
  return head;
}

/** The largest archive round: a bigger backlog is stamped over several rounds. */
const ARCHIVE_ROUND_MAX = 100_000;

/**
 * One archive round: a Merkle tree over the SHA-256 of every stored packet, status packet and
 * attachment in no round yet, its root time-stamped; each item keeps its inclusion path. Nothing
 * is stored when the TSA is away (the items wait for the next round). Returns the items stamped.
 */
export async function archiveRound(ctx: AppContext): Promise<number> {
  const tsa = ctx.config.tsa;
  if (!tsa) return 0;
  const db = ctx.storage.db;
  const items = await unarchivedItems(db, ARCHIVE_ROUND_MAX);
  if (!items.length) return 0;
  const { root, proofs } = merkleTree(items);
  let token: Buffer;
  let expiresAt: Date;
  try {
    token = await fetchTimestamp(tsa.url, Buffer.from(root, "hex"), await nodeTsaTrust(ctx), tsa.timeoutMs);
    expiresAt = archiveStampExpiry(tsa.url, token);
  } catch (err) {
    if (!(err instanceof TimestampUnavailable)) throw err;
    ctx.log.warn({ err: err.message, items: items.length }, "archive round not stamped; its items wait for the next round");
    return 0;
  }
  try {
    await addArchiveRound(db, { root, token, expiresAt, proofs, now: ctx.now() });
  } catch (err) {
    // another process of the node stamped some of these items meanwhile: they wait for the next round
    if (isUniqueViolation(err)) return 0;
    throw err;
  }
  return items.length;
}

const DAY_MS = 86_400_000;

/**
 * Archive stamp renewal (RFC 4998 §5.2, the chain of stamps being the long-term proof): every round
 * whose latest stamp was made under a TSA certificate that expires within EDOC_ARCHIVE_RENEW_DAYS
 * gets a new stamp over the SHA-256 of that stamp's DER, appended to its chain. One process of
 * those sharing the database runs it (storage.once). The TSA away, or still signing under a
 * certificate that expires no later than the stamp to renew: nothing stored, the rounds are asked
 * again at the next run. A revoked TSA certificate is no reason to renew: the verifier checks each
 * stamp at the time of the next, and a renewal made after the revocation cannot make the earlier
 * stamp good at that time. Returns the rounds renewed.
 */
export async function renewArchiveStamps(ctx: AppContext): Promise<number> {
  return (await ctx.storage.once("archive-renewal", () => renewRounds(ctx))) ?? 0;
}

async function renewRounds(ctx: AppContext): Promise<number> {
  const tsa = ctx.config.tsa;
  if (!tsa) return 0;
  const db = ctx.storage.db;
  const due = new Date(ctx.now().getTime() + tsa.renewDays * DAY_MS);
  const trust = await nodeTsaTrust(ctx);
  // when the TSA's current certificates expire, once an answer told: a stamp that expires no
  // earlier gains nothing from it, and is not asked for
  let tsaExpires: Date | null = null;
  let renewed = 0;
  for (let after = 0; ; ) {
    const batch = await dueArchiveStamps(db, due, after, 500);
    if (!batch.length) return renewed;
    after = batch[batch.length - 1].round;
    for (const latest of batch) {
      if (tsaExpires && tsaExpires.getTime() <= latest.expiresAt.getTime()) continue;
      let token: Buffer;
      try {
        token = await fetchTimestamp(tsa.url, latest.token, trust, tsa.timeoutMs);
        tsaExpires = archiveStampExpiry(tsa.url, token);
      } catch (err) {
        if (!(err instanceof TimestampUnavailable)) throw err;
        ctx.log.warn({ err: err.message, round: latest.round }, "archive stamp not renewed; it is asked again at the next run");
        return renewed;
      }
      if (tsaExpires.getTime() <= latest.expiresAt.getTime()) {
        ctx.log.warn(
          { round: latest.round, expires: latest.expiresAt, tsaCertificateExpires: tsaExpires },
          "archive stamps not renewed: the TSA still signs under a certificate that expires no later; they are asked again at the next run",
        );
        continue;
      }
      try {
        await addArchiveRenewal(db, { round: latest.round, seq: latest.seq + 1, token, expiresAt: tsaExpires, now: ctx.now() });
        renewed++;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err; // renewed meanwhile by another process (on SQLite, once holds no lock)
      }
    }
  }
}

/**
 * The audit log's signed checkpoints get their time-stamp (over the bytes their signature covers):
 * then even the node's own key cannot re-sign a rewritten past. A TSA away: they wait for the next round.
 */
export async function stampCheckpoints(ctx: AppContext): Promise<number> {
  const tsa = ctx.config.tsa;
  if (!tsa) return 0;
  let stamped = 0;
  for (const cp of await unstampedCheckpoints(ctx.storage.db)) {
    try {
      const token = await fetchTimestamp(tsa.url, checkpointBytes(cp), await nodeTsaTrust(ctx), tsa.timeoutMs);
      await setCheckpointTimestamp(ctx.storage.db, cp.id, token);
      stamped++;
    } catch (err) {
      if (!(err instanceof TimestampUnavailable)) throw err;
      ctx.log.warn({ err: err.message }, "audit checkpoint not time-stamped yet; it is asked again at the next round");
      break;
    }
  }
  return stamped;
}

/**
 * The time-stamp jobs, when EDOC_TSA_URL is set: pending signature stamps and audit checkpoints every EDOC_TSA_RETRY_MS,
 * archive rounds and their renewals every EDOC_ARCHIVE_STAMP_MS. Returns the function that stops them.
 */
export function startTimestampJob(ctx: AppContext): () => void {
  const tsa = ctx.config.tsa;
  if (!tsa) return () => {};
  const stops = [
    // one process of those sharing a database runs each (storage.once)
    every(ctx, tsa.retryMs, "time-stamps added beside packets sent without them", async () => (await ctx.storage.once("pending-timestamps", () => stampPending(ctx))) ?? 0),
    every(ctx, tsa.retryMs, "audit checkpoints time-stamped", async () => (await ctx.storage.once("checkpoint-timestamps", () => stampCheckpoints(ctx))) ?? 0),
    every(ctx, tsa.archiveMs, "stored items archive-stamped", async () => (await ctx.storage.once("archive-round", () => archiveRound(ctx))) ?? 0),
    every(ctx, tsa.archiveMs, "archive stamps renewed", () => renewArchiveStamps(ctx)),
  ];
  return () => stops.forEach((stop) => stop());
}

/** Runs `job` every `ms`, one run at a time; logs what it did (a count) and its failures. */
function every(ctx: AppContext, ms: number, did: string, job: () => Promise<number>): () => void {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const n = await job();
      if (n) ctx.log.info({ count: n }, did);
    } catch (err) {
      ctx.log.error({ err }, `a time-stamp job failed (${did}); it runs again`);
    } finally {
      busy = false;
    }
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
