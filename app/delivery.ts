// The delivery worker: claims due rows of the durable queue (leased, so several workers and several
// nodes on one PostgreSQL never send the same row at once, and a row whose worker died is claimed
// again when its lease runs out), sends each packet to the recipient's registry endpoint, and
// records the outcome. An edoc is delivered when the recipient answers 202 with a signed receipt
// (status 01) that verifies; a status packet when it answers 202. Errors that will never go away
// fail the row at once; the others are retried with exponential backoff and full jitter.
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { STATUS_CODES, VDXP_ENDPOINT, parseVnTimestamp } from "../envelopes/index.ts";
import { verifyPacket } from "../signing/index.ts";
import {
  addStatus,
  claimDeliveries,
  claimedUnsent,
  finishAttempt,
  getDocument,
  hasReceipt,
  listDeliveries,
  preparedBytes,
  putBlobs,
  blobSize,
  type Delivery,
  type DocumentRow,
  type NewDelivery,
} from "../storage/index.ts";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { storeFirst } from "./documents.ts";
import { freshFor, offerRoom, type HeldRoom } from "./fresh.ts";
import { activeAgency } from "./registry.ts";
import { recordRelayed, relayThroughHub, type RelayOutcome } from "./vdxp.ts";

/** Which local agency a delivery is for (the receiving node may host several of the recipients). */
export const RECIPIENT_HEADER = "X-Edoc-Recipient";

/** HTTP answers that mean "this packet will never be accepted there": no retry. */
const PERMANENT_STATUSES: ReadonlySet<number> = new Set([400, 404, 409, 410, 413, 415, 422]);

/** Largest receipt read back from a recipient (a status packet is a few KB). */
const MAX_RECEIPT_BYTES = 1 << 20;

export interface WorkerOptions {
  /** Sends in flight at once (default EDOC_DELIVERY_CONCURRENCY). */
  concurrency?: number;
  /** Source of randomness for the jitter, in [0, 1) (tests make it predictable). */
  random?: () => number;
}

export interface DeliveryWorker {
  /** Look at the queue now instead of at the next poll. */
  kick(): void;
  /** Stops claiming and waits for the sends in flight. */
  stop(): Promise<void>;
}

/**
 * Delay before the next attempt after `attempts` attempts, with full jitter:
 * random(0, min(maxDelayMs, baseDelayMs · 2^(attempts − 1))).
 */
export function retryDelay(attempts: number, cfg: Pick<Config["delivery"], "baseDelayMs" | "maxDelayMs">, random: () => number = Math.random): number {
  const cap = Math.min(cfg.maxDelayMs, cfg.baseDelayMs * 2 ** Math.max(0, Math.min(attempts - 1, 52)));
  return Math.floor(random() * cap);
}

type Outcome = { state: "delivered" } | { state: "lost" } | RelayOutcome | { state: "wait"; until: Date; error: string };

export function startDeliveryWorker(ctx: AppContext, opts: WorkerOptions = {}): DeliveryWorker {
  const cfg = ctx.config.delivery;
  const concurrency = Math.max(1, opts.concurrency ?? cfg.concurrency);
  const random = opts.random ?? Math.random;
  // the worker reads through the storage's reader and writes in its own lane: it never waits
  // behind the uploads' transactions
  const storage = ctx.storage;
  const db = storage.reader;
  const finish = (id: number, outcome: Parameters<typeof finishAttempt>[3]) => storage.write((trx) => finishAttempt(trx, id, ctx.workerId, outcome), "deliveries");
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let wake: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  // set by a kick: deliveries were queued after the last claim began, so look again before sleeping
  let kicked = false;
  const kick = () => {
    kicked = true;
    wake?.();
  };

  // room held for deliveries being queued in a transaction not yet committed (queueAndSend), and
  // for the loop's claim while it runs
  let holding = 0;
  const holds = new Set<Promise<void>>();
  // the loop waits for room: a send that ends wakes it (otherwise the next poll or kick does)
  let waitingForRoom = false;
  // the rows being sent, by id (a row found again by lookFor is not sent twice)
  const sending = new Set<number>();
  const launch = (d: Delivery) => {
    if (sending.has(d.id)) return;
    sending.add(d.id);
    const p: Promise<void> = attempt(d).finally(() => {
      sending.delete(d.id);
      inFlight.delete(p);
      if (waitingForRoom) wake?.();
    });
    inFlight.add(p);
  };

  const loop = async () => {
    while (!stopping) {
      kicked = false;
      let claimed: Delivery[] = [];
      const free = concurrency - inFlight.size - holding;
      if (free > 0) {
        // the claim's room is held while it runs (a send queued meanwhile finds it taken)
        holding += free;
        try {
          claimed = await storage.write((trx) => claimDeliveries(trx, ctx.workerId, free, cfg.leaseMs, storage.dialect), "deliveries");
        } catch (err) {
          ctx.log.error({ err }, "claiming deliveries failed; trying again at the next poll");
        } finally {
          holding -= free;
        }
      }
      claimed.forEach(launch);
      // full: wait for a send to finish; nothing due: wait for the next poll (or a kick)
      if (stopping) break;
      waitingForRoom = inFlight.size + holding >= concurrency;
      if (waitingForRoom || (claimed.length === 0 && !kicked)) await sleep(waitingForRoom ? 60_000 : cfg.pollMs);
      waitingForRoom = false;
    }
  };

  async function attempt(d: Delivery): Promise<void> {
    const started = Date.now();
    let outcome: Outcome;
    let doc: DocumentRow | null = null;
    try {
      const fresh = freshFor(ctx, d.document, d.packetSha256);
      doc = fresh?.row ?? (await getDocument(db, d.document));
      outcome = doc ? await send(d, doc, fresh?.packet) : { state: "failed", error: `document ${d.document} no longer exists` };
    } catch (err) {
      outcome = { state: "retry", error: `internal error: ${(err as Error).message}` };
      ctx.log.error({ err, delivery: d.id }, "delivery attempt failed unexpectedly");
    }
    const base = { delivery: d.id, document: d.document, documentId: doc?.documentId, kind: d.kind, organId: d.organId, attempt: d.attempts, ms: Date.now() - started };
    try {
      if (outcome.state === "lost") {
        ctx.log.warn(base, "delivery claim lost before the receipt could be recorded; another worker has it");
      } else if (outcome.state === "delivered") {
        // (edoc deliveries were finished together with their receipt in send())
        if (d.kind === "status" && !(await finish(d.id, { state: "delivered" }))) {
          ctx.log.warn(base, "delivery claim lost before it could be recorded; another worker has it");
          return;
        }
        ctx.log.info({ ...base, outcome: "delivered" }, "delivery attempt succeeded");
      } else if (outcome.state === "relayed") {
        if (!(await recordRelayed(ctx, d, outcome.hubDocId))) {
          ctx.log.warn(base, "delivery claim lost before it could be recorded; another worker has it");
          return;
        }
        ctx.log.info({ ...base, outcome: "relayed", hubDocId: outcome.hubDocId }, "delivery accepted by the national axle's hub");
      } else if (outcome.state === "wait") {
        // waiting behind an earlier packet is not an attempt
        await finish(d.id, { state: "waiting", retryAt: outcome.until, error: outcome.error });
        ctx.log.info({ ...base, outcome: "waiting", until: outcome.until.toISOString(), reason: outcome.error }, "delivery waits for an earlier packet");
      } else if (outcome.state === "failed" || d.attempts >= cfg.maxAttempts) {
        const error = outcome.state === "failed" ? outcome.error : `${outcome.error} (gave up after ${d.attempts} attempts)`;
        await finish(d.id, { state: "failed", error });
        ctx.log.warn({ ...base, outcome: "failed", error }, "delivery failed; the clerk can send it again");
      } else {
        const delayMs = retryDelay(d.attempts, cfg, random);
        await finish(d.id, { state: "queued", retryInMs: delayMs, error: outcome.error });
        ctx.log.warn({ ...base, outcome: "retry", error: outcome.error, retryInMs: delayMs }, "delivery attempt failed; will retry");
      }
    } catch (err) {
      // the lease runs out and the row is claimed again
      ctx.log.error({ err, ...base }, "delivery outcome not recorded");
    }
  }

  /** One attempt. Edoc successes are recorded here, with their receipt, in one transaction. */
  /** `packet`: its bytes when this process has them in memory (app/fresh.ts). */
  async function send(d: Delivery, doc: DocumentRow, packet?: Buffer): Promise<Outcome> {
    const agency = await activeAgency(ctx, d.organId);
    if (!agency) return { state: "failed", error: `${d.organId} is not in the registry; add it (with its endpoint), then send again` };
    if (agency.status !== "active") return { state: "failed", error: `${d.organId} is marked inactive in the registry` };
    const viaHub = agency.endpoint === VDXP_ENDPOINT;
    if (!viaHub && !/^https?:\/\//i.test(agency.endpoint)) return { state: "failed", error: `${d.organId} has no usable endpoint in the registry ("${agency.endpoint}")` };

    // a status packet goes only after the packets queued before it for the same recipient and
    // document (the document itself, earlier statuses), so that it never overtakes them
    if (d.kind === "status") {
      const earlier = (await listDeliveries(db, d.document)).filter((x) => x.organId === d.organId && x.id < d.id && (x.state === "queued" || x.state === "sending"));
      if (earlier.length) {
        const after = Math.max(Date.now(), ...earlier.map((x) => Date.parse(x.nextAttemptAt)));
        return { state: "wait", until: new Date(after + cfg.pollMs), error: `waiting for the ${earlier[0].kind} queued before it to be delivered` };
      }
    }

    if (viaHub) return relayThroughHub(ctx, d, doc);
    const url = `${agency.endpoint.replace(/\/+$/, "")}/edxml`;
    const size = packet ? packet.length : await blobSize(db, d.packetSha256);
    if (size === null) return { state: "failed", error: `the stored packet ${d.packetSha256} is missing` };
    let response: { status: number; body: Promise<Buffer> };
    try {
      response = await post(url, { "content-type": "application/xml", "content-length": String(size), [RECIPIENT_HEADER]: d.organId }, () => packet ?? storage.blobs.get(d.packetSha256, size), cfg.timeoutMs);
    } catch (err) {
      return { state: "retry", error: `${url}: ${networkError(err, cfg.timeoutMs)}` };
    }
    let answer: Buffer;
    try {
      answer = await response.body;
    } catch (err) {
      return { state: "retry", error: `${url}: HTTP ${response.status}, the answer could not be read (${networkError(err, cfg.timeoutMs)})` };
    }
    // the contract answers 202; any 2xx is taken as an answer (an edoc still needs its receipt)
    if (response.status < 200 || response.status > 299) {
      const error = `${url}: HTTP ${response.status}: ${describeAnswer(answer)}`;
      return PERMANENT_STATUSES.has(response.status) ? { state: "failed", error } : { state: "retry", error };
    }
    if (d.kind === "status") return { state: "delivered" };
    return acceptReceipt(d, doc, answer, url);
  }

  /** The 202 answer to an edoc must be a verifying 01 from that recipient about this document. */
  async function acceptReceipt(d: Delivery, doc: DocumentRow, receipt: Buffer, url: string): Promise<Outcome> {
    const { report, content } = await verifyPacket({ bytes: receipt }, await ctx.trust());
    const wrong = (why: string): Outcome => ({ state: "retry", error: `${url}: accepted, but ${why}` });
    if (!report.valid || !content) return wrong(`the receipt does not verify (${report.subIndication}: ${report.errors[0] ?? ""})`);
    const p = content.packet;
    if (p.kind !== "status") return wrong("the answer is not a status packet");
    if (p.header.StatusCode !== "01") return wrong(`the receipt has status ${p.header.StatusCode}, not 01`);
    if (p.header.From.OrganId !== d.organId) return wrong(`the receipt is from ${p.header.From.OrganId}, not from ${d.organId}`);
    if (p.header.ResponseFor.DocumentId !== doc.documentId || p.header.ResponseFor.OrganId !== doc.localOrgan) {
      return wrong(`the receipt is about ${p.header.ResponseFor.OrganId} ${p.header.ResponseFor.DocumentId}, not this document`);
    }
    const blob = preparedBytes(receipt);
    await storeFirst(ctx, [blob]);
    const recorded = await storage.write(async (trx) => {
      if (!(await finishAttempt(trx, d.id, ctx.workerId, { state: "delivered" }))) return false;
      if (!(await hasReceipt(trx, doc.id, d.organId))) {
        await putBlobs(trx, storage.blobs, [blob]);
        await addStatus(trx, {
          document: doc.id,
          code: "01",
          from: d.organId,
          to: doc.localOrgan,
          direction: "received",
          packet: blob,
          description: p.header.Description?.trim() || STATUS_CODES["01"],
          timestamp: parseVnTimestamp(p.header.Timestamp),
          headerDigest: content.headerDigest,
        });
      }
      return true;
    }, "deliveries");
    return recorded ? { state: "delivered" } : { state: "lost" };
  }

  if (cfg.timeoutMs >= cfg.leaseMs) {
    ctx.log.warn({ timeoutMs: cfg.timeoutMs, leaseMs: cfg.leaseMs }, "the delivery lease is not longer than the send timeout: a slow send may be claimed again by another worker");
  }
  const unsubscribe = storage.onQueued(kick);
  const direct = {
    hold(n: number): HeldRoom | undefined {
      if (stopping || n < 1 || inFlight.size + holding + n > concurrency) return undefined;
      holding += n;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      holds.add(held);
      return {
        claim: { worker: ctx.workerId, leaseMs: cfg.leaseMs },
        settle(claimed, unknown) {
          holding -= n;
          claimed.forEach(launch);
          if (unknown) lookFor(unknown);
          holds.delete(held);
          release();
          if (waitingForRoom) wake?.();
        },
      };
    },
  };
  // rows of a transaction that failed at its COMMIT may be in the database, claimed for this
  // worker: looked for a second later (while the database cannot be asked, again 2, 4 and 8 s
  // after that) and sent if found; if the commit shows only later, the lease hands them on
  const lookups = new Set<NodeJS.Timeout>();
  const lookFor = (rows: readonly NewDelivery[], tries = 0) => {
    if (stopping) return;
    const timer = setTimeout(() => {
      lookups.delete(timer);
      if (stopping) return;
      const looked = claimedUnsent(db, ctx.workerId, rows).then(
        (found) => {
          // (rows already being sent: an identical status packet's, launch leaves alone)
          const unsent = found.filter((d) => !sending.has(d.id));
          if (!unsent.length || stopping) return;
          ctx.log.warn({ deliveries: unsent.map((d) => d.id) }, "a transaction reported failed had committed its deliveries; sending them now");
          unsent.forEach(launch);
        },
        (err) => {
          if (tries < 3) lookFor(rows, tries + 1);
          else if (!stopping) ctx.log.warn({ err }, "could not look for the deliveries of a failed transaction; if it committed, their lease hands them on");
        },
      );
      holds.add(looked);
      void looked.finally(() => holds.delete(looked));
    }, 1000 * 2 ** tries).unref();
    lookups.add(timer);
  };
  const withdraw = offerRoom(ctx, direct);
  const running = loop();
  return {
    kick,
    async stop() {
      stopping = true;
      withdraw();
      for (const t of lookups) clearTimeout(t);
      unsubscribe();
      wake?.();
      await running;
      // sends held for a transaction still committing start when it does: wait for those too
      while (inFlight.size || holds.size) await Promise.allSettled([...inFlight, ...holds]);
    },
  };
}

function networkError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `no answer within ${timeoutMs} ms`;
  if (!e?.code) return e?.message ?? String(err);
  return e.message && e.message !== e.code ? `${e.code} (${e.message})` : e.code;
}

// node:http rather than fetch: a delivery is one POST of bytes and one small answer, and fetch's
// web streams cost more CPU than the rest of the send. Connections to a peer are kept open.
const agents = { "http:": new HttpAgent({ keepAlive: true }), "https:": new HttpsAgent({ keepAlive: true }) };

/**
 * POSTs the bytes `body` gives to `url`, the whole exchange within `timeoutMs`; answers once the
 * response's head is in, with its body being read to the end (at most MAX_RECEIPT_BYTES, or it
 * fails). A kept-open connection the peer closed just then is opened anew once (a delivery may be
 * sent twice: the recipient answers a packet it holds with the receipt it gave).
 */
function post(url: string, headers: Record<string, string>, body: () => Buffer | AsyncIterable<Buffer>, timeoutMs: number): Promise<{ status: number; body: Promise<Buffer> }> {
  const target = new URL(url);
  const https = target.protocol === "https:";
  const signal = AbortSignal.timeout(timeoutMs);
  // the attempt's timeout ends it wherever it is, also while the answer is being read
  const failure = (err: unknown) => (signal.aborted ? signal.reason : err);
  const once = (fresh: boolean) =>
    new Promise<{ status: number; body: Promise<Buffer> }>((resolve, reject) => {
      let answered = false;
      // a failure of the packet's own source (the blob store), not of the network: never sent again
      let sourceFailed: Error | null = null;
      const req = (https ? httpsRequest : httpRequest)(target, { method: "POST", headers, agent: fresh ? false : agents[https ? "https:" : "http:"], signal }, (res) => {
        answered = true;
        const read = new Promise<Buffer>((done, fail) => {
          const parts: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RECEIPT_BYTES) res.destroy(new Error(`the answer is larger than ${MAX_RECEIPT_BYTES} bytes`));
            else parts.push(chunk);
          });
          res.once("end", () => done(Buffer.concat(parts)));
          res.once("error", (err) => fail(failure(err)));
          res.once("close", () => fail(failure(new Error("the connection closed before the answer was complete"))));
        });
        read.catch(() => {}); // the caller reads it; a failure before then is not unhandled
        resolve({ status: res.statusCode ?? 0, body: read });
      });
      req.once("error", (err: NodeJS.ErrnoException) => {
        if (sourceFailed) reject(sourceFailed);
        // a kept-open connection the peer had just closed: nothing of the answer came, so the packet goes once more
        else if (!fresh && !answered && req.reusedSocket && err.code === "ECONNRESET") once(true).then(resolve, reject);
        else reject(failure(err));
      });
      const bytes = body();
      if (Buffer.isBuffer(bytes)) req.end(bytes);
      else {
        const source = async function* () {
          try {
            yield* bytes;
          } catch (err) {
            sourceFailed = new Error(`the stored packet could not be read: ${(err as Error).message}`);
            throw err;
          }
        };
        pipeline(Readable.from(source()), req).catch(() => sourceFailed && req.destroy(sourceFailed));
      }
    });
  return once(false);
}

/** A clerk-readable line from an error answer: {error} JSON, a verification report, or text. */
function describeAnswer(body: Buffer): string {
  const text = body.toString("utf8").trim();
  try {
    const json = JSON.parse(text);
    if (json && typeof json === "object") {
      if (typeof json.subIndication === "string" || typeof json.indication === "string") {
        return `the recipient refused the packet's signature (${json.subIndication ?? json.indication}): ${json.errors?.[0] ?? ""}`.trim();
      }
      if (typeof json.error === "string") {
        const details = Array.isArray(json.details) ? `: ${json.details.slice(0, 3).join("; ")}` : "";
        return `${json.error}${details}`;
      }
    }
  } catch {
    // not JSON
  }
  return text.slice(0, 300) || "(no explanation given)";
}
