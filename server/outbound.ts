// Sending: a clerk's document becomes a signed edoc, stored and queued for every recipient in one
// transaction; a status a clerk sets becomes a signed status packet queued for the other party.
import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  BUSINESS_KINDS,
  STATUS_CODES,
  ValidationError,
  attachmentInfoFor,
  edocFromInput,
  formatTimestamp,
  readSource,
  validateEdoc,
  type StatusCode,
  type StatusPacket,
} from "../envelopes/index.ts";
import { packEdoc, signStatus, verifyPacket } from "../signing/index.ts";
import {
  addStatus,
  audit,
  enqueueDelivery,
  getAgency,
  findDocument,
  getDocument,
  getLocalAgency,
  insertDocument,
  isUniqueViolation,
  listRecipients,
  listStatuses,
  markBusinessState,
  putBlob,
  setDocumentStatus,
  type DocumentRow,
  type TokenOwner,
} from "../storage/index.ts";
import type { Node } from "./context.ts";
import { HttpError, badRequest, notFound } from "./errors.ts";
import { RECIPIENT_CODES, SENDER_CODES, statusProblem } from "./statuses.ts";

export interface UploadedFile {
  path: string;
  name: string;
  contentType?: string;
}


/** Builds, signs, stores and queues an edoc from a clerk's metadata and files. */
export async function sendDocument(node: Node, user: TokenOwner, metadata: unknown, files: UploadedFile[]): Promise<DocumentRow> {
  const db = node.storage.db;
  const agency = await getLocalAgency(db, user.organId);
  if (!agency) throw new HttpError(403, `${user.organId} is not an agency of this node`);
  const input = { ...(metadata as Record<string, unknown>) };
  const from = input.From;
  const fromId = typeof from === "string" ? from : (from as { OrganId?: string } | undefined)?.OrganId;
  if (fromId && fromId !== user.organId) throw new HttpError(403, `you send for ${user.organId}, not for ${fromId}`);
  input.From = { OrganName: agency.name, ...(typeof from === "object" && from ? from : {}), OrganId: user.organId };
  let edoc;
  try {
    edoc = edocFromInput(input, files.map((f) => attachmentInfoFor(f.name, f.contentType)));
  } catch (err) {
    if (err instanceof ValidationError) throw badRequest("the document is not valid", err.problems);
    throw err;
  }
  const problems = validateEdoc(edoc, { own: true });
  for (const [i, to] of edoc.header.To.entries()) {
    const known = to.OrganId ? await getAgency(db, to.OrganId) : null;
    if (to.OrganId && !known) problems.push(`To[${i + 1}]: ${to.OrganId} is not in the registry; ask an administrator to add it`);
    else if (known?.status === "inactive") problems.push(`To[${i + 1}]: ${to.OrganId} is marked inactive in the registry`);
    else if (known && !to.OrganName) to.OrganName = known.name;
  }
  if (problems.length) throw badRequest("the document is not valid", problems);
  const duplicate = () =>
    new HttpError(
      409,
      "your agency already sent a document with the same number, notation and promulgation date (the same edXML DocumentId): " +
        "give it its own number, or send a correction as an update or replacement (Bussiness)",
    );
  if (await findDocument(db, { direction: "out", localOrgan: user.organId, from: user.organId, documentId: edoc.header.DocumentId })) {
    throw duplicate();
  }

  const tmpDir = join(node.config.dataDir, "tmp");
  await mkdir(tmpDir, { recursive: true });
  const packetPath = join(tmpDir, `${randomUUID()}.edxml`);
  try {
    await packEdoc(edoc, files.map((f) => ({ path: f.path })), await node.identity(user.organId), packetPath);
    // our own packet must pass our own verification before anything is stored or sent
    const { report } = await verifyPacket({ path: packetPath }, await node.trust());
    if (!report.valid) {
      throw new HttpError(500, `this node's own packet does not verify (${report.subIndication}): check the agency's certificate, trust anchors and registry`, report.errors);
    }
    const id = randomUUID();
    await db.transaction(async (trx) => {
      // (a concurrent send of the same DocumentId is caught by the unique index: see below)
      const packet = await putBlob(trx, readSource({ path: packetPath }));
      const attachments = [];
      for (const [i, f] of files.entries()) {
        attachments.push({ name: edoc.attachments[i].AttachmentName, contentType: edoc.attachments[i].ContentType, blob: await putBlob(trx, readSource({ path: f.path })) });
      }
      await insertDocument(trx, { id, direction: "out", localOrgan: user.organId, packet, header: edoc.header, bussiness: edoc.bussiness, report, attachments, status: "sent" });
      for (const organId of new Set(edoc.header.To.map((t) => t.OrganId))) {
        await enqueueDelivery(trx, { document: id, organId, kind: "edoc", packetSha256: packet.sha256 });
      }
      const b = edoc.bussiness;
      if (b && b.BussinessDocType !== 0) {
        const state = ({ 1: "revoked", 2: "updated", 3: "replaced" } as const)[b.BussinessDocType];
        const targets = b.BussinessDocType === 3 ? (b.ReplacementInfoList ?? []).map((r) => r.DocumentId) : [b.DocumentId];
        for (const documentId of targets.filter((t): t is string => !!t)) {
          await markBusinessState(trx, { direction: "out", localOrgan: user.organId, from: user.organId, documentId }, state);
        }
      }
      await audit(trx, {
        actor: `token:${user.id}`,
        organId: user.organId,
        action: `send.${BUSINESS_KINDS[edoc.bussiness?.BussinessDocType ?? 0].name}`,
        document: id,
        detail: { documentId: edoc.header.DocumentId, to: edoc.header.To.map((t) => t.OrganId) },
      });
    }).catch((err: unknown) => {
      throw isUniqueViolation(err) ? duplicate() : err;
    });
    node.metrics.documentsSent.inc({ organ_id: user.organId });
    return (await getDocument(db, id))!;
  } finally {
    await rm(packetPath, { force: true });
  }
}

/**
 * A status set by a clerk: on a received document the recipient's codes (02–06, 15, 16) go back
 * to the sender; on a sent document 13 (take-back) goes to every recipient.
 */
export async function sendStatus(node: Node, user: TokenOwner, documentId: string, code: string, description?: string): Promise<DocumentRow> {
  const db = node.storage.db;
  const doc = await getDocument(db, documentId);
  if (!doc || doc.localOrgan !== user.organId) throw notFound("no such document for your agency");
  if (!(code in STATUS_CODES)) throw badRequest(`unknown status code "${code}"`, Object.keys(STATUS_CODES));
  if (doc.direction === "in" && (!RECIPIENT_CODES.includes(code) || code === "01")) {
    throw badRequest(`on a received document you can set 02, 03, 04, 05, 06, 15 or 16, not ${code}`);
  }
  if (doc.direction === "out" && !SENDER_CODES.includes(code)) {
    throw badRequest(`on a sent document you can only request it back (13), not ${code}`);
  }
  const agency = (await getLocalAgency(db, user.organId))!;
  const previous = await listStatuses(db, doc.id);
  const targets = doc.direction === "in" ? [doc.from] : await listRecipients(db, doc.id);
  for (const target of targets) {
    const problem = statusProblem(previous.filter((s) => s.from === target || s.to === target).map((s) => s.code), code);
    if (problem) throw new HttpError(409, problem);
  }
  const text = description?.trim() || STATUS_CODES[code as StatusCode];
  const identity = await node.identity(user.organId);
  const packets = targets.map((target) => {
    const status: StatusPacket = {
      kind: "status",
      header: {
        From: { OrganId: agency.organId, OrganName: agency.name },
        // for 13 the ResponseFor organ is the recipient asked to give the document back
        ResponseFor: {
          OrganId: doc.direction === "in" ? doc.from : target,
          Code: doc.code,
          PromulgationDate: doc.promulgationDate.replace(/-/g, "/"),
          DocumentId: doc.documentId,
        },
        StaffInfo: user.name ? { Staff: user.name } : undefined,
        StatusCode: code as StatusCode,
        Description: text,
        Timestamp: formatTimestamp(new Date()),
      },
    };
    return { target, bytes: signStatus(status, identity) };
  });
  await db.transaction(async (trx) => {
    for (const p of packets) {
      const blob = await putBlob(trx, p.bytes);
      await addStatus(trx, { document: doc.id, code, from: user.organId, to: p.target, direction: "sent", packet: blob, description: text });
      await enqueueDelivery(trx, { document: doc.id, organId: p.target, kind: "status", packetSha256: blob.sha256 });
    }
    if (doc.direction === "in") await setDocumentStatus(trx, doc.id, code);
    await audit(trx, { actor: `token:${user.id}`, organId: user.organId, action: `status.${code}`, document: doc.id, detail: { to: targets } });
  });
  return (await getDocument(db, doc.id))!;
}
