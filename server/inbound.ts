// The inbound door for other agencies' nodes: POST /edxml. No bearer token: trust comes from the
// signature, the trust anchors and the registry. The body is streamed to a temporary file (never
// held in memory), verified, and then either stored as a received document with a signed receipt
// (status 01) or, for a status packet, recorded against the document it reports on.
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { Router, type Request, type Response } from "express";
import {
  BUSINESS_KINDS,
  STATUS_CODES,
  TIMESTAMP_SKEW_MS,
  formatTimestamp,
  readSource,
  regionBytes,
  validateEdoc,
  validateStatus,
  type Edoc,
  type StatusCode,
  type StatusPacket,
} from "../envelopes/index.ts";
import { signStatus, verifyPacket, type SignedContent, type VerificationReport } from "../signing/index.ts";
import {
  addStatus,
  audit,
  blobBytes,
  findDocument,
  insertDocument,
  isUniqueViolation,
  listLocalAgencies,
  listRecipients,
  listStatuses,
  markBusinessState,
  putBlob,
  setDocumentStatus,
  setRecipientStatus,
  type Db,
  type DocumentRow,
} from "../storage/index.ts";
import type { Node } from "./context.ts";
import { HttpError, badRequest, notFound } from "./errors.ts";
import { RECIPIENT_CODES, SENDER_CODES, statusProblem } from "./statuses.ts";

/** Which local agency a delivery is for (set by the sending worker; see server/worker.ts). */
export const RECIPIENT_HEADER = "X-Edoc-Recipient";

const ACCEPTED_TYPES = new Set(["application/xml", "text/xml", "application/octet-stream"]);

export function inboundRoutes(node: Node): Router {
  const router = Router();
  router.post("/edxml", async (req, res) => {
    await receive(node, req, res);
  });
  return router;
}

async function receive(node: Node, req: Request, res: Response): Promise<void> {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type && !ACCEPTED_TYPES.has(type) && !type.endsWith("+xml")) {
    // answered before reading: the rest of the body is discarded by Node
    throw badRequest(`an edXML packet is sent as application/xml, not ${type}`);
  }
  const limit = node.config.maxPacketBytes;
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    res.set("Connection", "close");
    node.log.warn({ declared, limit, remote: req.socket.remoteAddress }, "inbound packet refused: too large");
    throw new HttpError(413, `the packet is ${declared} bytes; this node accepts at most ${limit}`);
  }
  const tmpDir = join(node.config.dataDir, "tmp");
  await mkdir(tmpDir, { recursive: true });
  const path = join(tmpDir, `in-${randomUUID()}.edxml`);
  try {
    let body: { size: number; sha256: string };
    try {
      body = await receiveBody(req, path, limit);
    } catch (err) {
      if (err instanceof HttpError && err.status === 413) {
        res.set("Connection", "close");
        node.log.warn({ limit, remote: req.socket.remoteAddress }, "inbound packet refused: too large");
      }
      throw err;
    }
    if (body.size === 0) throw badRequest("the request has no body; send one edXML packet as application/xml");

    const { report, content } = await verifyPacket({ path }, await node.trust());
    if (!report.valid || !content) {
      await refuse(node, req, res, path, body, report);
      return;
    }
    if (content.packet.kind === "edoc") {
      await receiveEdoc(node, req, res, path, body, content.packet, content, report);
    } else {
      await receiveStatus(node, req, res, path, body, content.packet, report);
    }
  } finally {
    await rm(path, { force: true });
  }
}

/**
 * The request body into `path`, counting and hashing as it goes; a 413 HttpError as soon as it
 * passes `limit` (the file is then removed by the caller and the rest of the body discarded).
 */
function receiveBody(req: IncomingMessage, path: string, limit: number): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path, { flags: "wx" });
    const hash = createHash("sha256");
    let size = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      req.resume(); // discard what is left; the response closes the connection
      // rejected once the file is closed, so that the caller's removal finds it
      out.once("close", () => reject(err));
      out.destroy();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(new HttpError(413, `the packet is larger than this node accepts (${limit} bytes)`));
      hash.update(chunk);
      if (!out.write(chunk)) {
        req.pause();
        out.once("drain", () => req.resume());
      }
    };
    req.on("data", onData);
    req.once("end", () => {
      if (!settled) out.end();
    });
    req.once("close", () => {
      if (!req.complete) fail(new HttpError(400, "the request was aborted by the client"));
    });
    req.once("error", fail);
    out.once("error", fail);
    out.once("finish", () => {
      if (settled) return;
      settled = true;
      resolve({ size, sha256: hash.digest("hex") });
    });
  });
}

/** The sender a refused packet claims (From/OrganId near its start), for the log only. */
async function claimedSender(path: string): Promise<string | null> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.toString("utf8", 0, bytesRead);
    const m = /<(?:[\w.-]+:)?From\b[^>]*>\s*(?:<(?:[\w.-]+:)?[\w.-]+\b[^>]*>[^<]*<\/[^>]+>\s*)*?<(?:[\w.-]+:)?OrganId\b[^>]*>([^<]{1,100})</.exec(head);
    return m ? m[1].trim() : null;
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

/** Not XML / not edXML → 400; any other verification failure → 422 with the report. Nothing is stored but the log line. */
async function refuse(node: Node, req: Request, res: Response, path: string, body: { size: number; sha256: string }, report: VerificationReport) {
  const sub = report.subIndication ?? "FORMAT_FAILURE";
  node.metrics.verificationFailures.inc({ sub_indication: sub });
  const sender = await claimedSender(path);
  const detail = {
    subIndication: sub,
    sender,
    senderVerified: false,
    documentId: report.documentId,
    packetKind: report.packetKind,
    size: body.size,
    sha256: body.sha256,
    remote: req.socket.remoteAddress ?? null,
    errors: report.errors,
  };
  node.log.warn(detail, "inbound packet refused");
  // "not edXML": the verifier could not even tell an edoc from a status packet
  if (sub === "FORMAT_FAILURE" && report.packetKind === null) {
    throw badRequest(`the body is not an edXML packet: ${report.errors[0] ?? "unreadable"}`, report);
  }
  await audit(node.storage.db, { actor: `peer:${req.socket.remoteAddress ?? "unknown"}`, organId: null, action: "inbound.rejected", detail });
  res.status(422).type("application/json").send(JSON.stringify(report));
}


/** The receipt (the signed 01 packet) held for an inbound document. */
async function storedReceipt(db: Db, doc: DocumentRow): Promise<Buffer> {
  const receipt = (await listStatuses(db, doc.id)).find((s) => s.code === "01" && s.direction === "sent");
  if (!receipt) throw new HttpError(500, `the receipt of document ${doc.id} is missing`);
  return blobBytes(db, receipt.packetSha256);
}

/** What a revoke / update / replace acts on: [DocumentId, state]. */
function businessTargets(edoc: Edoc): Array<[string, "revoked" | "updated" | "replaced"]> {
  const b = edoc.bussiness;
  if (!b || !b.BussinessDocType) return [];
  if (b.BussinessDocType === 3) {
    const ids = (b.ReplacementInfoList ?? []).map((r) => r.DocumentId).filter(Boolean);
    if (b.DocumentId) ids.push(b.DocumentId);
    return [...new Set(ids)].map((id) => [id, "replaced"]);
  }
  return b.DocumentId ? [[b.DocumentId, b.BussinessDocType === 1 ? "revoked" : "updated"]] : [];
}

async function receiveEdoc(
  node: Node,
  req: Request,
  res: Response,
  path: string,
  body: { size: number; sha256: string },
  edoc: Edoc,
  content: SignedContent,
  report: VerificationReport,
) {
  const db = node.storage.db;
  const h = edoc.header;
  const sender = h.From.OrganId;
  // dates "in the future" are judged with the same clock tolerance as status timestamps
  const problems = validateEdoc(edoc, { own: false, now: new Date(Date.now() + TIMESTAMP_SKEW_MS) });
  if (problems.length) throw badRequest("the packet is signed correctly but is not a valid edXML document", problems);

  const locals = new Map((await listLocalAgencies(db)).map((a) => [a.organId, a]));
  const addressed = [...new Set(h.To.map((t) => t.OrganId))];
  const mine = addressed.filter((id) => locals.has(id));
  if (!mine.length) {
    throw notFound(`the document is addressed to ${addressed.join(", ")}, and none of them is an agency of this node`);
  }
  const asked = req.get(RECIPIENT_HEADER)?.trim();
  if (asked && !mine.includes(asked)) {
    throw badRequest(
      addressed.includes(asked)
        ? `${asked} is not an agency of this node; check the sender's registry entry for it`
        : `${RECIPIENT_HEADER} names ${asked}, which is not among the document's recipients (To)`,
    );
  }
  const selected = asked || mine[0];
  const key = (organ: string) => ({ direction: "in" as const, localOrgan: organ, from: sender, documentId: h.DocumentId });

  // Every local recipient in To gets its own record and receipt the first time the packet comes;
  // a packet that comes again (another recipient's delivery, a retry) creates nothing.
  let created: string[] = [];
  for (let round = 0; ; round++) {
    const missing: string[] = [];
    for (const organ of mine) if (!(await findDocument(db, key(organ)))) missing.push(organ);
    if (!missing.length) break;
    const receipts = new Map<string, Buffer>();
    for (const organ of missing) receipts.set(organ, receiptFor(await node.identity(organ), organ, locals.get(organ)!.name, edoc));
    try {
      created = await db.transaction(async (trx) => {
        const made: string[] = [];
        const packet = await putBlob(trx, readSource({ path }));
        const attachments = [];
        for (const a of content.attachments) {
          const blob = await putBlob(trx, a.region ? regionBytes({ path }, a.region) : Buffer.alloc(0));
          attachments.push({ name: a.info.AttachmentName, contentType: a.info.ContentType || "application/octet-stream", blob });
        }
        for (const organ of missing) {
          if (await findDocument(trx, key(organ))) continue;
          const id = randomUUID();
          await insertDocument(trx, { id, direction: "in", localOrgan: organ, packet, header: h, bussiness: edoc.bussiness, report, attachments, status: "received" });
          const receipt = await putBlob(trx, receipts.get(organ)!);
          await addStatus(trx, { document: id, code: "01", from: organ, to: sender, direction: "sent", packet: receipt, description: STATUS_CODES["01"] });
          for (const [target, state] of businessTargets(edoc)) {
            await markBusinessState(trx, { direction: "in", localOrgan: organ, from: sender, documentId: target }, state);
          }
          await audit(trx, {
            actor: `agency:${sender}`,
            organId: organ,
            action: `receive.${BUSINESS_KINDS[edoc.bussiness?.BussinessDocType ?? 0]?.name ?? "new"}`,
            document: id,
            detail: { documentId: h.DocumentId, from: sender, packetSha256: packet.sha256, size: body.size, signer: report.signer?.fingerprint ?? null },
          });
          made.push(organ);
        }
        return made;
      });
      break;
    } catch (err) {
      // a concurrent delivery of the same packet stored it first: answer with its receipt
      if (isUniqueViolation(err) && round < 3) continue;
      throw err;
    }
  }
  for (const organ of created) node.metrics.documentsReceived.inc({ organ_id: organ });

  const doc = (await findDocument(db, key(selected)))!;
  if (!created.includes(selected)) {
    const samePacket = doc.packetSha256 === body.sha256;
    // a VPCP-style revocation reuses the original's DocumentId: the record exists, the act is new
    if (!samePacket && edoc.bussiness?.BussinessDocType === 1 && businessTargets(edoc).some(([id]) => id === h.DocumentId) && doc.businessState !== "revoked") {
      await db.transaction(async (trx) => {
        for (const organ of mine) await markBusinessState(trx, key(organ), "revoked");
        await audit(trx, { actor: `agency:${sender}`, organId: selected, action: "receive.revoke", document: doc.id, detail: { documentId: h.DocumentId, from: sender, packetSha256: body.sha256 } });
      });
    }
    node.log.info({ document: doc.id, documentId: h.DocumentId, from: sender, to: selected, samePacket }, "inbound document delivered again; same receipt returned");
  } else {
    node.log.info({ document: doc.id, documentId: h.DocumentId, from: sender, to: created, size: body.size }, "inbound document received");
  }
  res.status(202).type("application/xml").send(await storedReceipt(db, doc));
}

/** The signed 01 (Đã đến) status packet a local recipient returns for an edoc. */
function receiptFor(identity: Parameters<typeof signStatus>[1], own: string, name: string, edoc: Edoc): Buffer {
  const h = edoc.header;
  const status: StatusPacket = {
    kind: "status",
    header: {
      From: { OrganId: own, OrganName: name },
      ResponseFor: {
        OrganId: h.From.OrganId,
        Code: `${h.Code.CodeNumber}/${h.Code.CodeNotation}`,
        PromulgationDate: h.PromulgationInfo.PromulgationDate,
        DocumentId: h.DocumentId,
      },
      StatusCode: "01",
      Description: STATUS_CODES["01"],
      Timestamp: formatTimestamp(new Date()),
    },
  };
  return signStatus(status, identity);
}

/**
 * A status packet: 01–06, 15, 16 from a recipient about a document a local agency sent; 13 from
 * an original sender about a document a local agency received. The verifier has already bound the
 * signer to `From`.
 */
async function receiveStatus(
  node: Node,
  req: Request,
  res: Response,
  path: string,
  body: { size: number; sha256: string },
  status: StatusPacket,
  report: VerificationReport,
) {
  const db = node.storage.db;
  const h = status.header;
  const from = h.From.OrganId;
  const code = h.StatusCode;
  const about = h.ResponseFor;
  const problems = validateStatus(status, { own: false });
  if (problems.length) throw badRequest("the status packet is signed correctly but is not valid", problems);
  const locals = new Set((await listLocalAgencies(db)).map((a) => a.organId));
  if (!locals.has(about.OrganId)) {
    throw notFound(`the status is about a document of ${about.OrganId}, which is not an agency of this node`);
  }
  const refuse = async (message: string, document: string | null) => {
    const detail = { from, code, documentId: about.DocumentId, reason: message, sha256: body.sha256, remote: req.socket.remoteAddress ?? null };
    node.log.warn(detail, "inbound status refused");
    await audit(db, { actor: `agency:${from}`, organId: about.OrganId, action: "inbound.status.refused", document, detail });
    return new HttpError(409, message);
  };

  let doc: DocumentRow | null;
  if (SENDER_CODES.includes(code)) {
    // 13: the original sender asks a local recipient to give the document back
    doc = await findDocument(db, { direction: "in", localOrgan: about.OrganId, from, documentId: about.DocumentId });
    if (!doc) throw notFound(`${about.OrganId} has received no document ${about.DocumentId} from ${from}`);
  } else if (RECIPIENT_CODES.includes(code)) {
    doc = await findDocument(db, { direction: "out", localOrgan: about.OrganId, from: about.OrganId, documentId: about.DocumentId });
    if (!doc) throw notFound(`${about.OrganId} has sent no document ${about.DocumentId}`);
    if (!(await listRecipients(db, doc.id)).includes(from)) {
      throw await refuse(`${from} was not a recipient of ${about.DocumentId}, so it cannot report status ${code} on it`, doc.id);
    }
  } else {
    throw badRequest(`unknown status code "${code}"`);
  }
  const found = doc;
  const bytes = await readFile(path);
  const outcome = await db.transaction(async (trx) => {
    // one status at a time per document, so that the order check sees every earlier status
    if (node.storage.dialect === "pg") await trx("documents").where({ id: found.id }).forUpdate().first("id");
    const previous = await listStatuses(trx, found.id);
    if (previous.some((s) => s.direction === "received" && s.packetSha256 === body.sha256)) return { duplicate: true as const };
    const problem = statusProblem(previous.filter((s) => s.from === from || s.to === from).map((s) => s.code), code);
    if (problem) return { problem };
    const blob = await putBlob(trx, bytes);
    const description = h.Description?.trim() || STATUS_CODES[code as StatusCode];
    await addStatus(trx, { document: found.id, code, from, to: about.OrganId, direction: "received", packet: blob, description });
    // the receipt (01) only proves arrival; the delivery state shows the later codes
    if (found.direction === "out" && code !== "01") await setRecipientStatus(trx, found.id, from, code);
    if (found.direction === "in") await setDocumentStatus(trx, found.id, code);
    await audit(trx, {
      actor: `agency:${from}`,
      organId: about.OrganId,
      action: `status.received.${code}`,
      document: found.id,
      detail: { documentId: about.DocumentId, from, code, packetSha256: blob.sha256, signer: report.signer?.fingerprint ?? null },
    });
    return { stored: true as const };
  });
  if ("problem" in outcome) throw await refuse(outcome.problem!, found.id);
  if ("duplicate" in outcome) {
    node.log.info({ document: found.id, from, code }, "inbound status delivered again; nothing new");
    res.status(202).json({ accepted: true, duplicate: true });
    return;
  }
  node.log.info({ document: found.id, documentId: about.DocumentId, from, code }, "inbound status received");
  res.status(202).json({ accepted: true });
}


