// The bridge to the national document axle (Trục liên thông văn bản quốc gia, VDXP) through a hub
// speaking the VPCP/VNPT SDK protocol (../shared/reference/edxml.md §7; headers in vdxp-protocol.ts).
//
// Outbound: a recipient whose registry endpoint is `vdxp:` is delivered by the same durable queue
// (app/delivery.ts hands it to relayThroughHub): sendEdoc, and once the hub accepts the packet the
// delivery is `relayed` with the hub's DocId and is not sent again; the recipient's 01, when it comes
// back through the axle, makes it `delivered` (app/receive.ts).
// Inbound: every EDOC_VDXP_POLL_MS, getReceivedEdocList (edoc, then status), getEdoc, the same
// receive use case as POST /edxml, then updateStatus done (stored, or held already) or fail
// (refused; kept in the rejection log). The 01 of a received edoc goes back through the queue.
// Directory: getAgenciesList + getSynchronizeUnit into the registry (source "vdxp", endpoint
// `vdxp:`, no certificate), never over an entry added otherwise.
import { createHash, randomUUID, X509Certificate } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DSIG_NS, VDXP_ENDPOINT, allElements, organIdProblem, parseStrict, readPacket, scanPacket } from "../envelopes/index.ts";
import { fingerprint } from "../signing/index.ts";
import {
  audit,
  blobSize,
  enqueueDeliveries,
  findDocument,
  findStatusDelivery,
  finishAttempt,
  forgetSeenCertificate,
  getAgency,
  getDocument,
  hasReceipt,
  listAgencies,
  listLocalAgencies,
  listStatuses,
  markRelayedDelivered,
  readBlob,
  recordSeenCertificate,
  upsertAgency,
  type Delivery,
  type DocumentRow,
} from "../storage/index.ts";
import { ADMINS, assertNodeAdmin, assertRole } from "./access.ts";
import type { VdxpConfig } from "./config.ts";
import type { AppContext, Caller } from "./context.ts";
import { AppError, conflict, invalid, notFound } from "./errors.ts";
import { receivePacket } from "./receive.ts";
import { CertificateConfirmation, parseInput } from "./schemas.ts";
import { answerProblem, sdkHashFile, sdkHeaders, sdkTimestamp, type HubAnswer } from "./vdxp-protocol.ts";

const CRLF = Buffer.from("\r\n");

/** A call to the hub that did not succeed (network, timeout, an answer that is not JSON, or not OK). */
class HubError extends Error {
  override name = "HubError";
}

/** One entry of getReceivedEdocList. */
interface HubItem {
  docId: string;
  from?: string;
  messageType?: string;
}

/** What the hub client does; one per node (the SDK's service object). */
interface HubClient {
  sendEdoc(packet: { sha256: string; size: number; bytes: AsyncIterable<Buffer> }, h: { from: string; messageType: "edoc" | "status"; to: string[] }): Promise<string>;
  receivedList(messageType: "edoc" | "status"): Promise<HubItem[]>;
  getEdoc(docId: string): Promise<Buffer>;
  updateStatus(docId: string, status: "done" | "fail"): Promise<void>;
  directory(path: "/getAgenciesList" | "/getSynchronizeUnit"): Promise<Array<Record<string, unknown>>>;
}

export function hubClient(cfg: VdxpConfig, timeoutMs: number): HubClient {
  async function call(path: string, headers: Record<string, string>, body: { contentType: string; size: number; bytes: BodyInit }): Promise<HubAnswer> {
    const url = `${cfg.endpoint}${path}`;
    let response: globalThis.Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { ...sdkHeaders({ systemId: cfg.systemId, secret: cfg.secret, timestamp: sdkTimestamp(new Date()), contentType: body.contentType, call: headers }), "content-length": String(body.size) },
        body: body.bytes,
        duplex: "half",
        signal: AbortSignal.timeout(timeoutMs),
      } as RequestInit);
      text = await response.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new HubError(`${url}: ${e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message)}`);
    }
    let answer: HubAnswer;
    try {
      answer = JSON.parse(text);
    } catch {
      // (the SDK takes such an answer to getReceivedEdocList for an empty list: it is not one)
      throw new HubError(`${url}: HTTP ${response.status}, the answer is not JSON: ${text.slice(0, 200) || "(empty)"}`);
    }
    if (!answer || typeof answer !== "object") throw new HubError(`${url}: HTTP ${response.status}, the answer is not a JSON object`);
    const problem = answerProblem(answer);
    if (problem) throw new HubError(`${url}: HTTP ${response.status}, ${problem}`);
    return answer;
  }
  const json = { contentType: "application/json", size: 2, bytes: "{}" };
  const list = (a: HubAnswer, path: string): Array<Record<string, unknown>> => {
    if (!Array.isArray(a.data)) throw new HubError(`${cfg.endpoint}${path}: the answer has no data list`);
    return a.data.filter((x): x is Record<string, unknown> => !!x && typeof x === "object");
  };
  return {
    async sendEdoc(packet, h) {
      const digest = Buffer.from(packet.sha256, "hex");
      const body = (async function* () {
        yield* packet.bytes;
        yield CRLF;
      })();
      const a = await call(
        "/sendEdoc",
        { from: h.from, servicetype: "eDoc", messagetype: h.messageType, to: JSON.stringify(h.to), "hash-file": sdkHashFile(digest) },
        { contentType: "application/octet-stream", size: packet.size + CRLF.length, bytes: body as unknown as BodyInit },
      );
      if (typeof a.DocId !== "string" || !a.DocId) throw new HubError(`${cfg.endpoint}/sendEdoc: the hub accepted the packet but gave no DocId`);
      return a.DocId;
    },
    async receivedList(messageType) {
      const a = await call("/getReceivedEdocList", { servicetype: "eDoc", messagetype: messageType }, { contentType: "application/x-www-form-urlencoded", size: 0, bytes: "" });
      return list(a, "/getReceivedEdocList")
        .filter((x) => typeof x.docId === "string" && x.docId)
        .map((x) => ({ docId: x.docId as string, from: typeof x.from === "string" ? x.from : undefined, messageType: typeof x.messageType === "string" ? x.messageType : undefined }));
    },
    async getEdoc(docId) {
      const a = await call("/getEdoc", { docId }, json);
      if (typeof a.data !== "string" || !a.data) throw new HubError(`${cfg.endpoint}/getEdoc: the answer for ${docId} carries no packet`);
      return Buffer.from(a.data, "base64");
    },
    async updateStatus(docId, status) {
      await call("/updateStatus", { docid: docId, status }, json);
    },
    async directory(path) {
      return list(await call(path, {}, json), path);
    },
  };
}

// ---- outbound: the delivery worker's transport for `vdxp:` --------------------------------------

export type RelayOutcome = { state: "relayed"; hubDocId: string } | { state: "retry"; error: string } | { state: "failed"; error: string };

/** One attempt of a delivery to an agency reached through the axle: sendEdoc. */
export async function relayThroughHub(ctx: AppContext, d: Delivery, doc: DocumentRow): Promise<RelayOutcome> {
  const cfg = ctx.config.vdxp;
  if (!cfg) {
    return { state: "failed", error: `${d.organId} is reached through the national axle (endpoint vdxp:), but this node has no hub: set EDOC_VDXP_ENDPOINT, EDOC_VDXP_SYSTEM_ID and EDOC_VDXP_SECRET` };
  }
  const db = ctx.storage.db;
  const size = await blobSize(db, d.packetSha256);
  if (size === null) return { state: "failed", error: `the stored packet ${d.packetSha256} is missing` };
  try {
    const hubDocId = await hubClient(cfg, ctx.config.delivery.timeoutMs).sendEdoc(
      { sha256: d.packetSha256, size, bytes: readBlob(db, ctx.storage.blobs, d.packetSha256) },
      { from: doc.localOrgan, messageType: d.kind, to: [d.organId] },
    );
    return { state: "relayed", hubDocId };
  } catch (err) {
    if (err instanceof HubError) return { state: "retry", error: err.message };
    throw err;
  }
}

/**
 * Records that the hub accepted a delivery: an edoc is `relayed` (its 01 may already be here, if
 * it came back before this was written), a status packet `delivered`. False when the claim was lost.
 */
export async function recordRelayed(ctx: AppContext, d: Delivery, hubDocId: string): Promise<boolean> {
  const db = ctx.storage.db;
  if (!(await finishAttempt(db, d.id, ctx.workerId, { state: d.kind === "edoc" ? "relayed" : "delivered", hubDocId }))) return false;
  if (d.kind === "edoc" && (await hasReceipt(db, d.document, d.organId))) {
    await markRelayedDelivered(db, d.document, d.organId);
  }
  return true;
}

// ---- inbound: the poll ---------------------------------------------------------------------------

export interface PollResult {
  /** Stored (or already held) and acked done. */
  done: number;
  /** Refused and acked fail. */
  failed: number;
  /** Not handled this time (the hub or this node failed); tried again at the next poll. */
  errors: string[];
}

/** One poll: every document, then every status packet waiting at the hub for this system. */
export async function pollHub(ctx: AppContext): Promise<PollResult> {
  const cfg = ctx.config.vdxp;
  if (!cfg) throw invalid("this node has no national axle hub: set EDOC_VDXP_ENDPOINT, EDOC_VDXP_SYSTEM_ID and EDOC_VDXP_SECRET");
  const hub = hubClient(cfg, ctx.config.delivery.timeoutMs);
  const result: PollResult = { done: 0, failed: 0, errors: [] };
  for (const messageType of ["edoc", "status"] as const) {
    let items: HubItem[];
    try {
      items = await hub.receivedList(messageType);
    } catch (err) {
      if (!(err instanceof HubError)) throw err;
      result.errors.push(err.message);
      continue;
    }
    for (const item of items) {
      try {
        const ack = await takeItem(ctx, hub, item);
        await hub.updateStatus(item.docId, ack);
        result[ack === "done" ? "done" : "failed"]++;
      } catch (err) {
        result.errors.push(`${item.docId}: ${(err as Error).message}`);
        ctx.log.warn({ err, hubDocId: item.docId }, "a packet waiting at the hub was not taken; trying again at the next poll");
      }
    }
  }
  return result;
}

/** Fetches and receives one packet; what to ack. Throws when it should be tried again. */
async function takeItem(ctx: AppContext, hub: HubClient, item: HubItem): Promise<"done" | "fail"> {
  const bytes = await hub.getEdoc(item.docId);
  const dir = join(ctx.config.dataDir, "tmp");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${randomUUID()}.edxml`);
  await writeFile(path, bytes);
  const remote = `vdxp:${item.docId}`;
  try {
    const body = { path, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
    let outcome;
    try {
      outcome = await receivePacket(ctx, body, { remote, viaAxle: true });
    } catch (err) {
      if (!(err instanceof AppError) || err.kind === "internal") throw err;
      // verified, but not for this node or not acceptable here (the POST /edxml door's 4xx)
      const detail = { via: "vdxp", hubDocId: item.docId, sha256: body.sha256, size: body.size, reason: err.message, details: err.details ?? null };
      ctx.log.warn(detail, "packet from the national axle refused");
      await audit(ctx.storage.db, { actor: `peer:${remote}`, organId: null, action: "inbound.rejected", detail });
      return "fail";
    }
    if (outcome.kind === "refused") {
      if (outcome.report.subIndication === "SIGNER_NOT_BOUND") await noteSigner(ctx, path);
      return "fail";
    }
    if (outcome.kind === "receipt") await queueReceipts(ctx, outcome.document);
    return "done";
  } finally {
    await rm(path, { force: true });
  }
}

/** The 01 of every local recipient of a document received through the axle, queued to its sender (once). */
async function queueReceipts(ctx: AppContext, id: string): Promise<void> {
  const db = ctx.storage.db;
  const doc = (await getDocument(db, id))!;
  const locals = new Set((await listLocalAgencies(db)).map((a) => a.organId));
  for (const organ of new Set(doc.header.To.map((t) => t.OrganId).filter((o) => locals.has(o)))) {
    const record = await findDocument(db, { direction: "in", localOrgan: organ, from: doc.from, documentId: doc.documentId });
    const receipt = record && (await listStatuses(db, record.id)).find((s) => s.code === "01" && s.direction === "sent");
    if (!record || !receipt) continue;
    await ctx.storage.write(async (trx) => {
      if (!(await findStatusDelivery(trx, record.id, doc.from, receipt.packetSha256))) {
        await enqueueDeliveries(trx, [{ document: record.id, organId: doc.from, kind: "status", packetSha256: receipt.packetSha256 }]);
      }
    });
    ctx.storage.queued();
  }
}

/**
 * A signed packet from an agency the registry binds no certificate to (imported from the hub's
 * directory): its signer's certificate is kept for an admin to confirm (confirmSeenCertificate),
 * never bound here.
 */
async function noteSigner(ctx: AppContext, path: string): Promise<void> {
  // the verifier checked everything but the binding: the signed From, and the signer's chain
  const doc = parseStrict((await scanPacket({ path })).skeleton);
  const organId = readPacket(doc).packet.header.From.OrganId;
  const entry = organId ? await getAgency(ctx.storage.db, organId) : null;
  if (!entry || entry.certificateFingerprints.length || entry.seenCertificate) return;
  for (const el of allElements(doc.documentElement)) {
    if (el.localName !== "X509Certificate" || el.namespaceURI !== DSIG_NS) continue;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from((el.textContent ?? "").replace(/\s+/g, ""), "base64"));
    } catch {
      continue; // not a certificate: nothing to offer
    }
    if (cert.ca) continue; // the chain's CAs, not the signer
    await recordSeenCertificate(ctx.storage.db, entry.organId, cert);
    ctx.log.warn({ organId: entry.organId, fingerprint: fingerprint(cert) }, "a signed packet from an agency with no bound certificate: its certificate waits for an admin to confirm it");
    return;
  }
}

/** An admin confirms the certificate seen in an agency's first packet: it is bound from now on. */
export async function confirmSeenCertificate(ctx: AppContext, caller: Caller, organId: string, body: unknown): Promise<{ organId: string; fingerprint: string }> {
  assertRole(caller, ADMINS, "change the registry");
  await assertNodeAdmin(ctx, caller, "bind a certificate to an agency hosted elsewhere");
  const { fingerprint: fp } = parseInput(CertificateConfirmation, body, "the confirmation is not valid");
  const db = ctx.storage.db;
  const entry = organIdProblem(organId, "organId") ? null : await getAgency(db, organId);
  if (!entry) throw notFound(`no agency ${JSON.stringify(organId)} in the registry`);
  if (!entry.seenCertificate) throw conflict(`no certificate of ${organId} waits for confirmation: none was seen in a packet from it, or one is bound already`);
  const seen = fingerprint(entry.seenCertificate);
  if (fp !== seen) {
    throw invalid(`give the SHA-256 fingerprint of the certificate you checked with ${organId}: the one waiting is ${seen}`);
  }
  await db.transaction(async (trx) => {
    await upsertAgency(trx, { ...entry, certificates: [...entry.certificates, entry.seenCertificate!], certificateFingerprints: entry.certificateFingerprints, source: entry.source });
    await forgetSeenCertificate(trx, organId);
    await audit(trx, { actor: caller.actor, organId: caller.organId, action: "registry.confirm-certificate", detail: { organId, fingerprint: seen } });
  });
  ctx.trustChanged();
  return { organId, fingerprint: seen };
}

// ---- the hub's agency directory ---------------------------------------------------------------------

export interface DirectoryImport {
  added: string[];
  updated: string[];
  deactivated: string[];
  /** Codes left alone: entries added by hand, from a snapshot, or this node's own agencies. */
  kept: string[];
}

const truthy = (v: unknown) => v === true || v === 1 || v === "1" || v === "true";

/**
 * Imports the hub's directory: getAgenciesList and getSynchronizeUnit (code, name, parent,
 * deleted). An entry this import made before is updated (its certificates kept); a deleted unit,
 * or one the hub no longer lists, becomes inactive; any other entry is never touched.
 */
export async function importDirectory(ctx: AppContext, caller: Caller): Promise<DirectoryImport> {
  assertRole(caller, ADMINS, "change the registry");
  await assertNodeAdmin(ctx, caller, "import the national axle's agency directory");
  return applyDirectory(ctx, { actor: caller.actor, organId: caller.organId });
}

/** The import itself, by an admin or by the node's scheduled job. */
async function applyDirectory(ctx: AppContext, by: { actor: string; organId: string | null }): Promise<DirectoryImport> {
  const cfg = ctx.config.vdxp;
  if (!cfg) throw invalid("this node has no national axle hub: set EDOC_VDXP_ENDPOINT, EDOC_VDXP_SYSTEM_ID and EDOC_VDXP_SECRET");
  const hub = hubClient(cfg, ctx.config.delivery.timeoutMs);
  let lists: Array<Array<Record<string, unknown>>>;
  try {
    lists = [await hub.directory("/getAgenciesList"), await hub.directory("/getSynchronizeUnit")];
  } catch (err) {
    if (err instanceof HubError) throw new AppError("unavailable", `the hub's agency directory could not be read: ${err.message}`);
    throw err;
  }
  // units by code; the hub's parent (pid) is a unit id, read as that unit's code
  const codeOf = new Map<string, string>();
  const units = new Map<string, { name: string; pid: string | null; deleted: boolean }>();
  for (const list of lists) {
    for (const u of list) {
      const code = typeof u.code === "string" ? u.code.trim() : "";
      if (!code || organIdProblem(code, "code") || typeof u.name !== "string" || !u.name.trim()) continue;
      if (u.id !== undefined && u.id !== null) codeOf.set(String(u.id), code);
      const before = units.get(code);
      units.set(code, { name: u.name.trim(), pid: u.pid === undefined || u.pid === null || u.pid === "" ? (before?.pid ?? null) : String(u.pid), deleted: truthy(u.deleted) || (before?.deleted ?? false) });
    }
  }
  const db = ctx.storage.db;
  const out: DirectoryImport = { added: [], updated: [], deactivated: [], kept: [] };
  await db.transaction(async (trx) => {
    const locals = new Set((await listLocalAgencies(trx)).map((a) => a.organId));
    const existing = new Map((await listAgencies(trx)).map((a) => [a.organId, a]));
    for (const [code, u] of units) {
      const mine = existing.get(code);
      if (locals.has(code) || (mine && mine.source !== "vdxp")) {
        out.kept.push(code);
        continue;
      }
      const parent = u.pid ? (codeOf.get(u.pid) ?? (organIdProblem(u.pid, "pid") ? null : u.pid)) : null;
      const status = u.deleted ? "inactive" : "active";
      if (mine && mine.name === u.name && mine.parentId === (parent === code ? null : parent) && mine.status === status) continue;
      await upsertAgency(trx, {
        organId: code,
        name: u.name,
        parentId: parent === code ? null : parent,
        endpoint: VDXP_ENDPOINT,
        certificates: mine?.certificates ?? [],
        certificateFingerprints: mine?.certificateFingerprints ?? [],
        status,
        source: "vdxp",
      });
      (u.deleted && mine?.status === "active" ? out.deactivated : mine ? out.updated : out.added).push(code);
    }
    for (const a of existing.values()) {
      if (a.source === "vdxp" && !units.has(a.organId) && a.status === "active") {
        await upsertAgency(trx, { ...a, status: "inactive" });
        out.deactivated.push(a.organId);
      }
    }
    await audit(trx, { actor: by.actor, organId: by.organId, action: "registry.import-vdxp", detail: { hub: cfg.endpoint, ...out, kept: out.kept.length } });
  });
  ctx.trustChanged();
  return out;
}

// ---- the scheduled jobs ------------------------------------------------------------------------------

export interface VdxpBridge {
  pollNow(): Promise<PollResult>;
  stop(): Promise<void>;
}

/** Polls the hub every pollMs and imports its directory every directoryMs (each with up to 10 % jitter). */
export function startVdxpBridge(ctx: AppContext): VdxpBridge {
  const cfg = ctx.config.vdxp!;
  const log = ctx.log.child({ component: "vdxp", hub: cfg.endpoint });
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let polling: Promise<PollResult> | null = null;
  let importing: Promise<unknown> | null = null;
  const pollNow = () =>
    (polling ??= pollHub(ctx)
      .then((r) => {
        if (r.errors.length) log.warn({ errors: r.errors.slice(0, 5) }, "polling the hub met errors; trying again at the next poll");
        else if (r.done || r.failed) log.info(r, "packets taken from the hub");
        return r;
      })
      .finally(() => (polling = null)));
  const importNow = () =>
    (importing ??= applyDirectory(ctx, { actor: "node:vdxp", organId: null })
      .then((r) => log.info({ added: r.added.length, updated: r.updated.length, deactivated: r.deactivated.length, kept: r.kept.length }, "hub directory imported"))
      .catch((err) => log.warn({ err: (err as Error).message }, "importing the hub's directory failed; the registry stays as it is"))
      .finally(() => (importing = null)));
  const every = (ms: number, job: () => Promise<unknown>) => {
    const next = () => {
      if (stopped) return;
      const t = setTimeout(() => {
        timers.delete(t);
        void job().catch((err) => log.error({ err }, "a hub job failed")).finally(next);
      }, ms * (0.9 + Math.random() * 0.1));
      t.unref();
      timers.add(t);
    };
    void job().catch((err) => log.error({ err }, "a hub job failed")).finally(next);
  };
  // one process of those sharing a database polls the hub and imports its directory (storage.once)
  every(cfg.directoryMs, () => ctx.storage.once("vdxp-directory", importNow));
  every(cfg.pollMs, () => ctx.storage.once("vdxp-poll", pollNow));
  return {
    pollNow,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([polling, importing]);
    },
  };
}
