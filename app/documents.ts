// A clerk's documents: sending one (built, signed, verified by this node, stored and queued for
// every recipient in one transaction), setting a status (signed and queued for the other party),
// sending failed deliveries again, searching and reading records, packets and attachments.
import { randomUUID } from "node:crypto";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  BUSINESS_KINDS,
  RECIPIENT_CODES,
  SENDER_CODES,
  STATUS_CODES,
  ValidationError,
  attachmentInfoFor,
  businessTargets,
  edocFromInput,
  formatTimestamp,
  parseVnTimestamp,
  statusProblem,
  stripBidiControls,
  validateEdoc,
  type StatusCode,
  type StatusPacket,
} from "../envelopes/index.ts";
import { fitsInMemory, ownPacketReport, packEdoc, signEdoc, signStatus, verifyPacket } from "../signing/index.ts";
import {
  addStatus,
  assignIncomingNumber,
  audit,
  blobSize,
  claimSendKey,
  documentForSendKey,
  enqueueDeliveries,
  findDocument,
  getDocument,
  getLocalAgency,
  insertDocument,
  isUniqueViolation,
  listAttachments,
  listAttachmentsFor,
  listDeliveriesFor,
  listRecipients,
  listRecipientsFor,
  listStatuses,
  listStatusesFor,
  lockDocument,
  markBusinessState,
  prepareFile,
  preparedBytes,
  type PreparedBlob,
  putBlobs,
  addPendingTimestamp,
  keptTimestampsFor,
  storeBlobs,
  readBlob,
  resendFailed,
  searchDocuments,
  setDocumentStatus,
  type Attachment,
  type Delivery,
  type DocumentRow,
  type StatusRow,
} from "../storage/index.ts";
import { ADMINS, CLERKS, DOCUMENT_READERS, assertRole } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { AppError, conflict, forbidden, invalid, notFound } from "./errors.ts";
import { keepFresh, queueAndSend } from "./fresh.ts";
import { activeAgency, localAgenciesAmong } from "./registry.ts";
import { isUnsignedReport } from "./unsigned.ts";
import { DocumentMetadata, ResendInput, SearchQuery, StatusInput, parseInput, type DocumentRecord } from "./schemas.ts";
import { stampOwnPacket, stampOwnBytes } from "./timestamps.ts";

/** A file a clerk attached: on disk (the transport streamed it there), or a small one in memory. */
export type UploadedFile = ({ path: string } | { bytes: Buffer }) & {
  name: string;
  contentType?: string;
};

/** The caller's agency's document, or not-found (for a missing one and another agency's alike). */
export async function ownDocument(ctx: AppContext, caller: Caller, id: string): Promise<DocumentRow> {
  assertRole(caller, DOCUMENT_READERS, "read documents");
  return agencyDocument(ctx, caller, id);
}

/** The caller's agency's document (another agency's is "not found", exactly as one that does not exist). */
async function agencyDocument(ctx: AppContext, caller: Caller, id: string): Promise<DocumentRow> {
  const doc = /^[0-9A-Za-z-]{1,64}$/.test(id) ? await getDocument(ctx.storage.db, id) : null;
  if (!doc || doc.localOrgan !== caller.organId) throw notFound(`no document ${JSON.stringify(id)} for your agency ${caller.organId}`);
  return doc;
}

// Vietnam's calendar (UTC+7, no daylight saving): the day a DueDate is compared with, the year of a book
const inVietnam = (at: Date) => new Date(at.getTime() + 7 * 3_600_000).toISOString();
export const vnDay = (at: Date) => inVietnam(at).slice(0, 10);
export const vnYear = (at: Date) => Number(inVietnam(at).slice(0, 4));

// ---- records ------------------------------------------------------------------------------------

type DeliveryView = DocumentRecord["deliveries"][number];
type DeliverySummary = NonNullable<DocumentRecord["delivery"]>;

/**
 * Where an outbound document's deliveries stand, the least advanced recipient first: failed, then
 * retrying (an attempt failed; when the next is due and why), sending, queued, delivered.
 */
function deliverySummary(deliveries: DeliveryView[]): DeliverySummary {
  const pick = (state: DeliverySummary["state"], of: DeliveryView[]): DeliverySummary => {
    const next = of.map((d) => d.nextAttemptAt).filter((t): t is string => !!t).sort()[0] ?? null;
    return { state, nextAttemptAt: state === "retrying" || state === "queued" ? next : null, lastError: of.find((d) => d.lastError)?.lastError ?? null };
  };
  const failed = deliveries.filter((d) => d.state === "failed");
  if (failed.length) return pick("failed", failed);
  const queued = deliveries.filter((d) => d.state === "queued");
  const retrying = queued.filter((d) => d.attempts > 0);
  if (retrying.length) return pick("retrying", retrying);
  const sending = deliveries.filter((d) => d.state === "sending");
  if (sending.length) return pick("sending", sending);
  if (queued.length) return pick("queued", queued);
  const relayed = deliveries.filter((d) => d.state === "relayed");
  if (relayed.length) return pick("relayed", relayed);
  return { state: "delivered", nextAttemptAt: null, lastError: null };
}

/** What a record shows besides the document's row: read by documentRecords, known without reading right after a send. */
interface RecordParts {
  to: string[];
  deliveries: Array<Pick<Delivery, "organId" | "state" | "statusCode" | "attempts" | "nextAttemptAt" | "lastError">>;
  statuses: StatusRow[];
  attachments: Attachment[];
  /** Its kept signature time-stamp: obtained (true), pending (false), none (undefined). */
  kept: boolean | undefined;
}

/** The records of `rows` as the API and the pages show them: five queries whatever the count. */
export async function documentRecords(ctx: Pick<AppContext, "storage">, rows: DocumentRow[]): Promise<DocumentRecord[]> {
  // beside the writer: an answer never waits behind other documents' commits (what it shows is committed)
  const db = ctx.storage.reader;
  const ids = rows.map((d) => d.id);
  const outIds = rows.filter((d) => d.direction === "out").map((d) => d.id);
  const [to, deliveries, statuses, attachments, kept] = await Promise.all([
    listRecipientsFor(db, ids),
    listDeliveriesFor(db, outIds, "edoc"),
    listStatusesFor(db, ids),
    listAttachmentsFor(db, ids),
    keptTimestampsFor(db, rows.map((d) => d.packetSha256)),
  ]);
  return rows.map((d) =>
    recordOf(d, {
      to: to.get(d.id) ?? [],
      deliveries: deliveries.get(d.id) ?? [],
      statuses: statuses.get(d.id) ?? [],
      attachments: attachments.get(d.id) ?? [],
      kept: kept.get(d.packetSha256),
    }),
  );
}

function recordOf(d: DocumentRow, parts: RecordParts): DocumentRecord {
  const views = parts.deliveries.map((x) => ({
    organId: x.organId,
    state: x.state === "delivered" && x.statusCode ? x.statusCode : x.state,
    attempts: x.attempts,
    nextAttemptAt: x.state === "queued" ? x.nextAttemptAt : null,
    lastError: x.lastError,
  }));
  return {
    id: d.id,
    documentId: d.documentId,
    direction: d.direction,
    localOrganId: d.localOrgan,
    from: d.from,
    to: parts.to,
    code: d.code,
    subject: d.subject,
    type: d.type,
    businessType: d.businessType,
    relatedDocumentId: d.relatedDocumentId,
    businessState: d.businessState as DocumentRecord["businessState"],
    promulgationDate: d.promulgationDate,
    status: d.status,
    createdAt: d.createdAt,
    // per recipient: the transport state until the receipt, then the last status it sent back
    deliveries: views,
    delivery: d.direction === "out" ? deliverySummary(views) : null,
    statuses: parts.statuses.map((s) => ({ code: s.code, from: s.from, to: s.to, at: s.at, direction: s.direction, description: s.description })),
    // a received packet's names are shown without bidi controls (the signed packet keeps them)
    attachments: parts.attachments.map((a) => ({ n: a.n, name: stripBidiControls(a.name), contentType: a.contentType, size: a.size, sha256: a.sha256 })),
    verification: {
      valid: d.report.valid,
      indication: d.report.indication,
      subIndication: d.report.subIndication,
      signer: d.report.signer,
      signingTime: d.report.signingTime,
      // accepted from the national axle without a signature (app/unsigned.ts): "Chưa ký số"
      unsigned: isUnsignedReport(d.report),
      label: isUnsignedReport(d.report) ? "Chưa ký số" : "Hợp lệ",
      // B-T: the packet's own signature time-stamp, or one kept beside it (obtained after sending)
      level: d.report.level === "B-T" || parts.kept ? "B-T" : "B-B",
      timestampPending: parts.kept === false,
    },
    header: d.header as unknown as Record<string, unknown>,
    bussiness: (d.bussiness ?? null) as Record<string, unknown> | null,
  };
}

export async function documentRecord(ctx: Pick<AppContext, "storage">, d: DocumentRow): Promise<DocumentRecord> {
  return (await documentRecords(ctx, [d]))[0];
}

/** Search the caller's agency's documents (one page, newest first). */
export async function searchAgencyDocuments(ctx: AppContext, caller: Caller, query: unknown) {
  assertRole(caller, DOCUMENT_READERS, "read documents");
  const q = parseInput(SearchQuery, query, "the search parameters are not valid");
  const { overdue, ...filter } = q;
  const found = await searchDocuments(ctx.storage.db, { localOrgan: caller.organId, ...filter, overdueOn: overdue ? vnDay(ctx.now()) : undefined });
  return { items: await documentRecords(ctx, found.items), page: found.page, pageSize: found.pageSize, hasMore: found.hasMore };
}

/**
 * Puts blobs in the node's blob store before the transaction that references them (a store other
 * than the database holds them durably before that commit); a store that does not answer fails
 * the whole operation, with nothing recorded.
 */
export async function storeFirst(ctx: AppContext, blobs: readonly PreparedBlob[]): Promise<void> {
  try {
    await storeBlobs(ctx.storage.blobs, blobs);
  } catch (err) {
    const store = ctx.storage.blobs.name;
    ctx.log.error({ err, store }, "the blob store refused a write");
    throw new AppError("unavailable", `the blob store (${store}) cannot store the content now; nothing was recorded, try again later`);
  }
}

/** The stored packet, byte-exact. */
export async function documentPacket(ctx: AppContext, doc: DocumentRow): Promise<{ size: number; sha256: string; bytes: AsyncIterable<Buffer> }> {
  const db = ctx.storage.db;
  const size = await blobSize(db, doc.packetSha256);
  if (size === null) throw new AppError("internal", `the stored packet of document ${doc.id} is missing`);
  return { size, sha256: doc.packetSha256, bytes: readBlob(db, ctx.storage.blobs, doc.packetSha256) };
}

/** Attachment `n` (from 1) of the document. */
export async function documentAttachment(ctx: AppContext, doc: DocumentRow, n: string) {
  const db = ctx.storage.db;
  const attachments = await listAttachments(db, doc.id);
  const a = /^\d{1,6}$/.test(n) ? attachments.find((x) => x.n === Number(n)) : undefined;
  if (!a) {
    throw notFound(attachments.length ? `no attachment ${JSON.stringify(n)}: this document has attachments 1 to ${attachments.length}` : "this document has no attachments");
  }
  return { ...a, name: stripBidiControls(a.name), bytes: readBlob(db, ctx.storage.blobs, a.sha256) };
}

// ---- sending ------------------------------------------------------------------------------------

const duplicateSend = () =>
  conflict(
    "your agency already sent a document with the same number, notation and promulgation date (the same edXML DocumentId): " +
      "give it its own number, or send a correction as an update or replacement (Bussiness)",
  );

/**
 * Builds, signs, stores and queues an edoc from a clerk's metadata and files. With `sendKey` (the
 * key of a compose form) a second send of the same form answers the document the first one sent.
 */
export async function sendDocument(
  ctx: AppContext,
  caller: Caller,
  metadata: unknown,
  files: UploadedFile[],
  /** `problems`: the caller's own findings (a form's), reported with the document's. */
  opts: { sendKey?: string; problems?: string[] } = {},
): Promise<DocumentRow> {
  return (await send(ctx, caller, metadata, files, opts)).row;
}

/** An API client's Idempotency-Key: visible ASCII, as long as a UUID or a little longer. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,60}$/;

/**
 * sendDocument, answering the document's record: a new one's from what was just written, not read
 * back. With an `idempotencyKey` (the API's Idempotency-Key header) a request sent again — a client
 * retrying after a lost answer — answers the record of the document the first one sent, provided
 * it is the same document (the same edXML DocumentId); the key used for another one is refused.
 */
export async function sendDocumentRecord(ctx: AppContext, caller: Caller, metadata: unknown, files: UploadedFile[], opts: { idempotencyKey?: string } = {}): Promise<{ record: DocumentRecord; replayed: boolean }> {
  const k = opts.idempotencyKey;
  if (k !== undefined && !IDEMPOTENCY_KEY.test(k)) throw invalid("the Idempotency-Key header must be 1 to 60 visible ASCII characters (a UUID, for example)");
  const { row, parts } = await send(ctx, caller, metadata, files, k === undefined ? {} : { sendKey: `api:${k}`, sameDocument: true });
  return { record: parts ? recordOf(row, parts) : await documentRecord(ctx, row), replayed: !parts };
}

/**
 * The send; `parts` when it stored a new document (not for one sent before). `sameDocument`: the
 * send key answers its document only for the same DocumentId (checked once the metadata is read),
 * not for whatever the form sent before it.
 */
async function send(
  ctx: AppContext,
  caller: Caller,
  metadata: unknown,
  files: UploadedFile[],
  opts: { sendKey?: string; sameDocument?: boolean; problems?: string[] },
): Promise<{ row: DocumentRow; parts?: RecordParts }> {
  assertRole(caller, CLERKS, "send documents or set their status");
  // the look-ups before the transaction never wait behind other documents' writes
  const db = ctx.storage.reader;
  let documentId: string | null = null;
  const sentBefore = async () => {
    const id = opts.sendKey ? await documentForSendKey(db, caller.organId, opts.sendKey) : null;
    const row = id ? await getDocument(db, id) : null;
    if (row && opts.sameDocument && documentId !== null && row.documentId !== documentId) {
      throw new AppError("conflict", `this Idempotency-Key was used for another document (DocumentId ${row.documentId}); use a new key for a new document`);
    }
    return row;
  };
  const before = opts.sameDocument ? null : await sentBefore();
  if (before) return { row: before };
  const agency = (await localAgenciesAmong(ctx, [caller.organId])).get(caller.organId);
  if (!agency) throw forbidden(`${caller.organId} is not an agency of this node`);
  if (!metadata || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw invalid('the form field "metadata" must be a JSON object with the MessageHeader fields (From, To, Code, Subject, …)');
  }
  const input = { ...(parseInput(DocumentMetadata, metadata, "the document is not valid") as Record<string, unknown>) };
  const from = input.From;
  const fromId = typeof from === "string" ? from : (from as { OrganId?: string } | undefined)?.OrganId;
  if (fromId && fromId !== caller.organId) throw forbidden(`you send for ${caller.organId}, not for ${fromId}`);
  input.From = { OrganName: agency.name, ...(typeof from === "object" && from ? from : {}), OrganId: caller.organId };
  let edoc;
  try {
    edoc = edocFromInput(input, files.map((f) => attachmentInfoFor(f.name, f.contentType)), ctx.now());
  } catch (err) {
    if (err instanceof ValidationError) throw invalid("the document is not valid", err.problems);
    throw err;
  }
  const problems = [...(opts.problems ?? []), ...validateEdoc(edoc, { own: true, now: ctx.now() })];
  for (const [i, to] of edoc.header.To.entries()) {
    const known = to.OrganId ? await activeAgency(ctx, to.OrganId) : null;
    if (to.OrganId && !known) problems.push(`To[${i + 1}]: ${to.OrganId} is not in the registry; ask an administrator to add it`);
    else if (known?.status === "inactive") problems.push(`To[${i + 1}]: ${to.OrganId} is marked inactive in the registry`);
    else if (known && !to.OrganName) to.OrganName = known.name;
  }
  if (problems.length) throw invalid("the document is not valid", problems);
  documentId = edoc.header.DocumentId;
  if (opts.sameDocument) {
    const again = await sentBefore();
    if (again) return { row: again };
  }
  const key = { direction: "out" as const, localOrgan: caller.organId, from: caller.organId, documentId: edoc.header.DocumentId };
  if (await findDocument(db, key)) return { row: (await sentBefore()) ?? (await Promise.reject(duplicateSend())) };

  const tmpDir = join(ctx.config.dataDir, "tmp");
  const packetPath = join(tmpDir, `${randomUUID()}.edxml`);
  // a small packet is signed in memory from the files read once (and stored from those bytes), a
  // large one streamed to a file at flat memory
  const sizes = await Promise.all(files.map(async (f) => ("bytes" in f ? f.bytes.length : (await stat(f.path)).size)));
  const contents = fitsInMemory(sizes) ? await Promise.all(files.map((f) => ("bytes" in f ? f.bytes : readFile(f.path)))) : null;
  if (!contents) await mkdir(tmpDir, { recursive: true });
  try {
    const identity = await ctx.identity(caller.organId);
    let signed = contents
      ? await signEdoc(edoc, contents.map((bytes) => ({ bytes })), identity)
      : await packEdoc(edoc, files.map((f) => ("bytes" in f ? { bytes: f.bytes } : { path: f.path })), identity, packetPath);
    // with EDOC_TSA_URL, its signature time-stamp (B-T); the TSA away: sent at B-B, stamped later
    let stamped = true;
    if ("bytes" in signed) {
      const s = await stampOwnBytes(ctx, signed.bytes);
      signed = { ...signed, bytes: s.bytes };
      stamped = s.stamped;
    } else stamped = await stampOwnPacket(ctx, packetPath);
    // our own packet must be one our own verification accepts before anything is stored or sent:
    // its signer trusted and registered (the signature value was checked as it was made); a stamped
    // packet is verified whole, so that its report says what the stamp proves
    const trust = await ctx.trust();
    const report = ctx.config.tsa && stamped ? (await verifyPacket("bytes" in signed ? { bytes: signed.bytes } : { path: packetPath }, trust)).report : await ownPacketReport(signed.signed, trust);
    if (!report.valid) {
      throw new AppError("internal", `this node's own packet does not verify (${report.subIndication}): check the agency's certificate, trust anchors and registry`, report.errors);
    }
    const id = randomUUID();
    const recipients = [...new Set(edoc.header.To.map((t) => t.OrganId))];
    // the files are read and hashed before the transaction, which then only writes
    const packet = "bytes" in signed ? preparedBytes(signed.bytes) : await prepareFile(packetPath);
    const blobs = contents ? contents.map(preparedBytes) : await Promise.all(files.map((f) => ("bytes" in f ? preparedBytes(f.bytes) : prepareFile(f.path))));
    const attachments = blobs.map((blob, i) => ({ name: edoc.attachments[i].AttachmentName, contentType: edoc.attachments[i].ContentType, blob }));
    await storeFirst(ctx, [packet, ...blobs]);
    const queue = recipients.map((organId) => ({ document: id, organId, kind: "edoc" as const, packetSha256: packet.sha256 }));
    const row = await queueAndSend(ctx, queue, async (claim) => {
      const out = await ctx.storage.write(async (trx) => {
        // (a concurrent send of the same DocumentId is caught by the unique index)
        await putBlobs(trx, ctx.storage.blobs, [packet, ...blobs]);
        if (!stamped) await addPendingTimestamp(trx, packet.sha256, ctx.now());
        const stored = await insertDocument(trx, { id, direction: "out", localOrgan: caller.organId, packet, header: edoc.header, bussiness: edoc.bussiness, report, attachments, status: "sent" });
        if (opts.sendKey) await claimSendKey(trx, { localOrgan: caller.organId, key: opts.sendKey, document: id });
        const queued = await enqueueDeliveries(trx, queue, claim);
        for (const t of businessTargets(edoc.bussiness)) await markBusinessState(trx, { ...key, documentId: t.documentId }, t.state);
        await audit(trx, {
          actor: caller.actor,
          organId: caller.organId,
          action: `send.${BUSINESS_KINDS[edoc.bussiness?.BussinessDocType ?? 0].name}`,
          document: id,
          detail: { documentId: edoc.header.DocumentId, to: recipients },
        });
        return { value: { stored, queued }, claimed: queued.claimed };
      });
      // kept for the worker, which is handed the claimed rows next
      if ("bytes" in signed) keepFresh(ctx, out.value.stored, signed.bytes);
      return out;
    }).then(
      ({ stored, queued }) => ({ stored, queued, again: null }),
      async (err: unknown) => {
        // the same form sent at the same time (a double click): the first one's document
        if (!isUniqueViolation(err)) throw err;
        return { stored: null, queued: null, again: (await sentBefore()) ?? (await Promise.reject(duplicateSend())) };
      },
    );
    if (row.again) return { row: row.again };
    ctx.metrics.documentsSent.inc({ organ_id: caller.organId });
    // the record as documentRecords would read it back: each recipient's delivery as just queued
    const at = row.queued!.at.toISOString();
    const claimed = new Map(row.queued!.claimed.map((d) => [d.organId, d]));
    const parts: RecordParts = {
      to: [...recipients].sort(),
      deliveries: recipients.map((organId) => ({ organId, state: claimed.has(organId) ? "sending" : "queued", statusCode: null, attempts: claimed.has(organId) ? 1 : 0, nextAttemptAt: at, lastError: null })),
      statuses: [],
      attachments: attachments.map((a, i) => ({ n: i + 1, name: a.name, contentType: a.contentType, sha256: a.blob.sha256, size: a.blob.size })),
      kept: stamped ? undefined : false,
    };
    return { row: row.stored!, parts };
  } finally {
    if (!contents) await rm(packetPath, { force: true });
  }
}

/**
 * A status set by a clerk: on a received document the recipient's codes (02–06, 15, 16) go back
 * to the sender; on a sent document 13 (take-back) goes to every recipient.
 */
export async function setStatus(ctx: AppContext, caller: Caller, documentId: string, body: unknown): Promise<DocumentRow> {
  assertRole(caller, CLERKS, "send documents or set their status");
  const doc = await ownDocument(ctx, caller, documentId);
  const { code, description } = parseInput(StatusInput, body, "the status is not valid");
  const db = ctx.storage.db;
  if (doc.direction === "in" && !RECIPIENT_CODES.includes(code)) {
    throw invalid(`on a received document you can set 02, 03, 04, 05, 06, 15 or 16, not ${code}`);
  }
  if (doc.direction === "out" && !SENDER_CODES.includes(code)) throw invalid(`on a sent document you can only request it back (13), not ${code}`);
  const agency = (await getLocalAgency(db, caller.organId))!;
  const previous = await listStatuses(db, doc.id);
  const targets = doc.direction === "in" ? [doc.from] : await listRecipients(db, doc.id);
  // kept as signed (to the second), so that it compares like with like with the statuses received
  const timestamp = formatTimestamp(ctx.now());
  const signedAt = parseVnTimestamp(timestamp)!;
  const checkOrder = (held: typeof previous) => {
    for (const target of targets) {
      const problem = statusProblem(held.filter((s) => s.from === target || s.to === target), { code, timestamp: signedAt.toISOString() });
      if (problem) throw conflict(problem);
    }
  };
  checkOrder(previous);
  const text = description?.trim() || STATUS_CODES[code as StatusCode];
  const identity = await ctx.identity(caller.organId);
  const packets: Array<{ target: string; bytes: Buffer; stamped: boolean }> = [];
  for (const target of targets) {
    const status: StatusPacket = {
      kind: "status",
      header: {
        From: { OrganId: agency.organId, OrganName: agency.name },
        // for 13 the ResponseFor organ is the recipient asked to give the document back
        ResponseFor: { OrganId: doc.direction === "in" ? doc.from : target, Code: doc.code, PromulgationDate: doc.promulgationDate.replace(/-/g, "/"), DocumentId: doc.documentId },
        StaffInfo: caller.name ? { Staff: caller.name } : undefined,
        StatusCode: code as StatusCode,
        Description: text,
        Timestamp: timestamp,
      },
    };
    packets.push({ target, ...(await stampOwnBytes(ctx, signStatus(status, identity))) });
  }
  const blobs = packets.map((p) => preparedBytes(p.bytes));
  await storeFirst(ctx, blobs);
  const queue = packets.map((p, i) => ({ document: doc.id, organId: p.target, kind: "status" as const, packetSha256: blobs[i].sha256 }));
  await queueAndSend(ctx, queue, (claim) =>
    ctx.storage.write(async (trx) => {
      // one status at a time per document: a concurrent one (another tab, the API) is checked against this one
      await lockDocument(trx, doc.id);
      checkOrder(await listStatuses(trx, doc.id));
      await putBlobs(trx, ctx.storage.blobs, blobs);
      for (const [i, p] of packets.entries()) {
        if (!p.stamped) await addPendingTimestamp(trx, blobs[i].sha256, ctx.now());
        await addStatus(trx, { document: doc.id, code, from: caller.organId, to: p.target, direction: "sent", packet: blobs[i], description: text, timestamp: signedAt });
      }
      const { claimed } = await enqueueDeliveries(trx, queue, claim);
      if (doc.direction === "in") await setDocumentStatus(trx, doc.id, code);
      // accepting (03) enters the document in the incoming book (vào sổ): its số đến, in this transaction
      const number = doc.direction === "in" && code === "03" ? await assignIncomingNumber(trx, { localOrgan: doc.localOrgan, document: doc.id, year: vnYear(signedAt), at: signedAt }) : undefined;
      await audit(trx, { actor: caller.actor, organId: caller.organId, action: `status.${code}`, document: doc.id, detail: { to: targets, ...(number ? { incomingNumber: number } : {}) } });
      return { value: undefined, claimed };
    }),
  );
  return (await getDocument(db, doc.id))!;
}

/** Queues a sent document's failed deliveries again (every recipient, or `organId`): the clerk's "resend". */
export async function resendDocument(ctx: AppContext, caller: Caller, documentId: string, body: unknown): Promise<DocumentRow> {
  // a clerk from the document, an administrator from the delivery queue (who reads no document, only its deliveries)
  assertRole(caller, [...CLERKS, ...ADMINS], "send failed deliveries again");
  const doc = caller.role === "admin" ? await agencyDocument(ctx, caller, documentId) : await ownDocument(ctx, caller, documentId);
  if (doc.direction !== "out") throw invalid("only a document this agency sent can be sent again");
  const { organId } = parseInput(ResendInput, body ?? {}, "the request is not valid");
  const db = ctx.storage.db;
  const n = await db.transaction(async (trx) => {
    const rows = await resendFailed(trx, doc.id, organId);
    if (rows) await audit(trx, { actor: caller.actor, organId: doc.localOrgan, action: "resend", document: doc.id, detail: { organId: organId ?? null, rows } });
    return rows;
  });
  if (!n) throw conflict("no delivery of this document has failed, so there is nothing to send again");
  ctx.storage.queued();
  ctx.log.info({ document: doc.id, organId: organId ?? null, rows: n }, "failed deliveries queued again");
  return (await getDocument(db, doc.id))!;
}
