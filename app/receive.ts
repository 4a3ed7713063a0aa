// Receiving a packet from another agency's node (the inbound door, POST /edxml, hands the body
// here once it is on disk): it is verified, and then either stored as a received document with a
// signed receipt (status 01) for each local recipient, or, for a status packet, recorded against
// the document it reports on. Nothing is stored for a packet that fails verification but the
// rejection in the audit log.
import { randomUUID } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import {
  BUSINESS_KINDS,
  RECIPIENT_CODES,
  SENDER_CODES,
  STATUS_CODES,
  ScanLimitError,
  TIMESTAMP_SKEW_MS,
  XmlError,
  businessTargets,
  formatCode,
  formatTimestamp,
  packetScanner,
  parseVnTimestamp,
  readSource,
  regionBytes,
  statusProblem,
  validateEdoc,
  validateStatus,
  type Edoc,
  type PacketSource,
  type StatusCode,
  type StatusPacket,
} from "../envelopes/index.ts";
import { signStatus, verifyPacket, type Identity, type SignedContent, type VerificationReport } from "../signing/index.ts";
import {
  addStatus,
  addPendingTimestamp,
  audit,
  blobBytes,
  findDocument,
  insertDocument,
  isUniqueViolation,
  listRecipients,
  listStatuses,
  lockDocument,
  markBusinessState,
  markRelayedDelivered,
  prepareBlob,
  preparedBytes,
  putBlobs,
  setDocumentStatus,
  type PreparedBlob,
  setRecipientStatus,
  type DocumentRow,
} from "../storage/index.ts";
import type { AppContext } from "./context.ts";
import { storeFirst } from "./documents.ts";
import { AppError, conflict, invalid, notFound } from "./errors.ts";
import { localAgenciesAmong } from "./registry.ts";
import { acceptUnsigned, type ReceivedContent } from "./unsigned.ts";
import { stampOwnBytes } from "./timestamps.ts";

/** A received body: on disk, or (a small one) in memory. */
export type ReceivedBody = { size: number; sha256: string } & ({ path: string } | { bytes: Buffer });

export interface ReceiveOptions {
  /** Which local recipient this delivery is for (the sender's worker says so; see delivery.ts). */
  recipient?: string;
  /** The peer's address, for the log. */
  remote?: string | null;
  /** It came through the national axle's hub (app/vdxp.ts): unsigned packets may be accepted (app/unsigned.ts). */
  viaAxle?: boolean;
}

export type ReceiveOutcome =
  /** Verification failed; `notEdxml` when the body is not even an edXML packet. */
  | { kind: "refused"; report: VerificationReport; notEdxml: boolean }
  /** An edoc: the receipt (signed 01) for the recipient, the same bytes for a redelivery. */
  | { kind: "receipt"; receipt: Buffer; document: string; created: boolean }
  /** A status packet, recorded (or already held). */
  | { kind: "status"; document: string; duplicate: boolean };

/**
 * The verifier's scan, run on a body as it arrives (feed it each chunk): a body over a scan limit
 * (the XML outside attachments, one tag, the attributes of one element) or with a DOCTYPE is
 * refused at the chunk that crosses the line, not after up to maxPacketBytes have been received.
 * The verifier scans the saved body again; this only decides early what it would decide late.
 */
export function inboundScan(): (chunk: Buffer) => void {
  const scanner = packetScanner(undefined, { keep: false });
  return (chunk) => {
    try {
      scanner.feed(chunk);
    } catch (err) {
      if (err instanceof ScanLimitError) throw new AppError("too-large", `the packet is refused while it arrives: ${err.message}`);
      if (err instanceof XmlError) throw invalid(`the body is not an edXML packet: ${err.message}`);
      throw err;
    }
  };
}

/** Bodies up to this size are read once, verified and stored from memory; bigger ones stream from their file. */
const IN_MEMORY_BYTES = 8 << 20;

export async function receivePacket(ctx: AppContext, body: ReceivedBody, opts: ReceiveOptions = {}): Promise<ReceiveOutcome> {
  const source: PacketSource = "bytes" in body ? { bytes: body.bytes } : body.size <= IN_MEMORY_BYTES ? { bytes: await readFile(body.path) } : { path: body.path };
  const verified = await verifyPacket(source, await ctx.trust());
  // what the signature covers; from the national axle, an unsigned packet its sender's entry accepts
  let accepted: ReceivedContent | null = verified.report.valid && verified.content ? { ...verified.content, report: verified.report } : null;
  if (!accepted && opts.viaAxle) accepted = await acceptUnsigned(ctx, source, verified.report);
  if (!accepted) return refuse(ctx, body, verified.report, opts);
  const { packet, report } = accepted;
  return packet.kind === "edoc" ? receiveEdoc(ctx, body, source, packet, accepted, report, opts) : receiveStatus(ctx, body, source, packet, accepted.headerDigest, report, opts);
}

/** The sender a refused packet claims (From/OrganId near its start), for the log only. */
async function claimedSender(body: ReceivedBody): Promise<string | null> {
  if ("bytes" in body) return claimedIn(body.bytes.toString("utf8", 0, HEAD_BYTES));
  const fh = await open(body.path, "r");
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return claimedIn(buf.toString("utf8", 0, bytesRead));
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

const HEAD_BYTES = 64 * 1024;

function claimedIn(head: string): string | null {
  const m = /<(?:[\w.-]+:)?From\b[^>]*>\s*(?:<(?:[\w.-]+:)?[\w.-]+\b[^>]*>[^<]*<\/[^>]+>\s*)*?<(?:[\w.-]+:)?OrganId\b[^>]*>([^<]{1,100})</.exec(head);
  return m ? m[1].trim() : null;
}

async function refuse(ctx: AppContext, body: ReceivedBody, report: VerificationReport, opts: ReceiveOptions): Promise<ReceiveOutcome> {
  const sub = report.subIndication ?? "FORMAT_FAILURE";
  ctx.metrics.verificationFailures.inc({ sub_indication: sub });
  const detail = {
    subIndication: sub,
    sender: await claimedSender(body),
    senderVerified: false,
    documentId: report.documentId,
    packetKind: report.packetKind,
    size: body.size,
    sha256: body.sha256,
    remote: opts.remote ?? null,
    errors: report.errors,
  };
  ctx.log.warn(detail, "inbound packet refused");
  // "not edXML": the verifier could not even tell an edoc from a status packet
  const notEdxml = sub === "FORMAT_FAILURE" && report.packetKind === null;
  if (!notEdxml) await audit(ctx.storage.db, { actor: `peer:${opts.remote ?? "unknown"}`, organId: null, action: "inbound.rejected", detail });
  return { kind: "refused", report, notEdxml };
}

/** The receipt (the signed 01 packet) held for an inbound document. */
async function storedReceipt(ctx: AppContext, doc: DocumentRow): Promise<Buffer> {
  const receipt = (await listStatuses(ctx.storage.db, doc.id)).find((s) => s.code === "01" && s.direction === "sent");
  if (!receipt) throw new AppError("internal", `the receipt of document ${doc.id} is missing`);
  return blobBytes(ctx.storage.db, ctx.storage.blobs, receipt.packetSha256);
}

/** The signed 01 (Đã đến) status packet a local recipient returns for an edoc, and its Timestamp. */
function receiptFor(identity: Identity, own: string, name: string, edoc: Edoc, now: Date): { bytes: Buffer; timestamp: Date } {
  const h = edoc.header;
  const timestamp = formatTimestamp(now);
  const status: StatusPacket = {
    kind: "status",
    header: {
      From: { OrganId: own, OrganName: name },
      ResponseFor: { OrganId: h.From.OrganId, Code: formatCode(h.Code), PromulgationDate: h.PromulgationInfo.PromulgationDate, DocumentId: h.DocumentId },
      StatusCode: "01",
      Description: STATUS_CODES["01"],
      Timestamp: timestamp,
    },
  };
  return { bytes: signStatus(status, identity), timestamp: parseVnTimestamp(timestamp)! };
}

async function receiveEdoc(
  ctx: AppContext,
  body: ReceivedBody,
  source: PacketSource,
  edoc: Edoc,
  content: Pick<SignedContent, "attachments">,
  report: VerificationReport,
  opts: ReceiveOptions,
): Promise<ReceiveOutcome> {
  // look-ups through the reader (they never wait behind other documents' writes); the writes in one short transaction
  const db = ctx.storage.reader;
  const h = edoc.header;
  const sender = h.From.OrganId;
  // dates "in the future" are judged with the same clock tolerance as status timestamps
  const problems = validateEdoc(edoc, { own: false, now: new Date(ctx.now().getTime() + TIMESTAMP_SKEW_MS) });
  if (problems.length) throw invalid("the packet is signed correctly but is not a valid edXML document", problems);

  const addressed = [...new Set(h.To.map((t) => t.OrganId))];
  const locals = await localAgenciesAmong(ctx, addressed);
  const mine = addressed.filter((id) => locals.has(id));
  if (!mine.length) throw notFound(`the document is addressed to ${addressed.join(", ")}, and none of them is an agency of this node`);
  const asked = opts.recipient;
  if (asked && !mine.includes(asked)) {
    throw invalid(
      addressed.includes(asked)
        ? `${asked} is not an agency of this node; check the sender's registry entry for it`
        : `the delivery names ${asked} as its recipient, which is not among the document's recipients (To)`,
    );
  }
  const selected = asked || mine[0];
  const key = (organ: string) => ({ direction: "in" as const, localOrgan: organ, from: sender, documentId: h.DocumentId });
  const targets = businessTargets(edoc.bussiness);
  const kind = BUSINESS_KINDS[edoc.bussiness?.BussinessDocType ?? 0]?.name ?? "new";

  // Every local recipient in To gets its own record and receipt the first time the packet comes;
  // a packet that comes again (another recipient's delivery, a retry) creates nothing.
  // (organ → the new record's id and its receipt)
  let created = new Map<string, { id: string; receipt: Buffer }>();
  let blobs: { packet: PreparedBlob; attachments: Array<{ name: string; contentType: string; blob: PreparedBlob }> } | null = null;
  for (let round = 0; ; round++) {
    const missing: string[] = [];
    for (const organ of mine) if (!(await findDocument(db, key(organ)))) missing.push(organ);
    if (!missing.length) break;
    const receipts = new Map<string, ReturnType<typeof receiptFor> & { blob: PreparedBlob; stamped: boolean }>();
    for (const organ of missing) {
      const receipt = receiptFor(await ctx.identity(organ), organ, locals.get(organ)!.name, edoc, ctx.now());
      const stamped = await stampOwnBytes(ctx, receipt.bytes);
      receipts.set(organ, { ...receipt, ...stamped, blob: preparedBytes(stamped.bytes) });
    }
    // read and hashed before the transaction
    blobs ??= {
      // (a body in memory is stored from those bytes, not copied again)
      packet: "bytes" in source ? preparedBytes(source.bytes) : await prepareBlob(() => readSource(source)),
      attachments: await Promise.all(
        content.attachments.map(async (a) => ({
          name: a.info.AttachmentName,
          contentType: a.info.ContentType || "application/octet-stream",
          blob: a.region ? await prepareBlob(() => regionBytes(source, a.region!)) : preparedBytes(Buffer.alloc(0)),
        })),
      ),
    };
    const { packet, attachments } = blobs;
    const all = [packet, ...attachments.map((a) => a.blob), ...[...receipts.values()].map((r) => r.blob)];
    await storeFirst(ctx, all);
    try {
      created = await ctx.storage.write(async (trx) => {
        const made = new Map<string, { id: string; receipt: Buffer }>();
        await putBlobs(trx, ctx.storage.blobs, all);
        // a record stored meanwhile (a concurrent delivery of the same packet) fails the unique
        // index on its key: the round is rolled back and the next one finds it and answers its receipt
        for (const organ of missing) {
          const id = randomUUID();
          await insertDocument(trx, { id, direction: "in", localOrgan: organ, packet, header: h, bussiness: edoc.bussiness, report, attachments, status: "received" });
          const receipt = receipts.get(organ)!;
          if (!receipt.stamped) await addPendingTimestamp(trx, receipt.blob.sha256, ctx.now());
          await addStatus(trx, { document: id, code: "01", from: organ, to: sender, direction: "sent", packet: receipt.blob, description: STATUS_CODES["01"], timestamp: receipt.timestamp });
          for (const t of targets) await markBusinessState(trx, { ...key(organ), documentId: t.documentId }, t.state);
          await audit(trx, {
            actor: `agency:${sender}`,
            organId: organ,
            action: `receive.${kind}`,
            document: id,
            detail: { documentId: h.DocumentId, from: sender, packetSha256: packet.sha256, size: body.size, signer: report.signer?.fingerprint ?? null },
          });
          made.set(organ, { id, receipt: receipt.bytes });
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
  for (const organ of created.keys()) ctx.metrics.documentsReceived.inc({ organ_id: organ });

  const fresh = created.get(selected);
  if (fresh) {
    ctx.log.info({ document: fresh.id, documentId: h.DocumentId, from: sender, to: [...created.keys()], size: body.size }, "inbound document received");
    return { kind: "receipt", receipt: fresh.receipt, document: fresh.id, created: true };
  }
  // delivered again (another recipient's delivery, a retry): the receipt held for it
  const doc = (await findDocument(db, key(selected)))!;
  const samePacket = doc.packetSha256 === body.sha256;
  // a VPCP-style revocation reuses the original's DocumentId: the record exists, the act is new
  if (!samePacket && edoc.bussiness?.BussinessDocType === 1 && targets.some((t) => t.documentId === h.DocumentId) && doc.businessState !== "revoked") {
    await ctx.storage.write(async (trx) => {
      for (const organ of mine) await markBusinessState(trx, key(organ), "revoked");
      await audit(trx, { actor: `agency:${sender}`, organId: selected, action: "receive.revoke", document: doc.id, detail: { documentId: h.DocumentId, from: sender, packetSha256: body.sha256 } });
    });
  }
  ctx.log.info({ document: doc.id, documentId: h.DocumentId, from: sender, to: selected, samePacket }, "inbound document delivered again; same receipt returned");
  return { kind: "receipt", receipt: await storedReceipt(ctx, doc), document: doc.id, created: false };
}

/**
 * A status packet: 01–06, 15, 16 from a recipient about a document a local agency sent; 13 from
 * an original sender about a document a local agency received. The verifier has already bound the
 * signer to `From`. A status is what its signature covers (`headerDigest`, the digest of the signed
 * MessageHeader: sender, document, code, Timestamp), not the bytes that carry it: the same signed
 * header again is a replay, answered as a duplicate, and changes nothing.
 */
async function receiveStatus(
  ctx: AppContext,
  body: ReceivedBody,
  source: PacketSource,
  status: StatusPacket,
  headerDigest: string,
  report: VerificationReport,
  opts: ReceiveOptions,
): Promise<ReceiveOutcome> {
  const db = ctx.storage.db;
  const h = status.header;
  const from = h.From.OrganId;
  const code = h.StatusCode;
  const about = h.ResponseFor;
  const problems = validateStatus(status, { own: false });
  if (problems.length) throw invalid("the status packet is signed correctly but is not valid", problems);
  const timestamp = parseVnTimestamp(h.Timestamp)!; // validateStatus checked it
  if (!(await localAgenciesAmong(ctx, [about.OrganId])).has(about.OrganId)) throw notFound(`the status is about a document of ${about.OrganId}, which is not an agency of this node`);
  const refused = async (message: string, document: string | null) => {
    const detail = { from, code, documentId: about.DocumentId, timestamp: h.Timestamp, reason: message, headerDigest, sha256: body.sha256, remote: opts.remote ?? null };
    ctx.log.warn(detail, "inbound status refused");
    await audit(db, { actor: `agency:${from}`, organId: about.OrganId, action: "inbound.status.refused", document, detail });
    return conflict(message);
  };

  let doc: DocumentRow | null;
  if (SENDER_CODES.includes(code)) {
    // 13: the original sender asks a local recipient to give the document back
    doc = await findDocument(db, { direction: "in", localOrgan: about.OrganId, from, documentId: about.DocumentId });
    if (!doc) throw notFound(`${about.OrganId} has received no document ${about.DocumentId} from ${from}`);
  } else if (RECIPIENT_CODES.includes(code)) {
    doc = await findDocument(db, { direction: "out", localOrgan: about.OrganId, from: about.OrganId, documentId: about.DocumentId });
    if (!doc) throw notFound(`${about.OrganId} has sent no document ${about.DocumentId}`);
    if (!(await listRecipients(db, doc.id)).includes(from)) throw await refused(`${from} was not a recipient of ${about.DocumentId}, so it cannot report status ${code} on it`, doc.id);
  } else {
    throw invalid(`unknown status code "${code}"`);
  }
  const found = doc;
  const blob = preparedBytes("bytes" in source ? source.bytes : await readFile(source.path));
  await storeFirst(ctx, [blob]);
  const record = () => ctx.storage.write(async (trx) => {
    // one status at a time per document, so that the order check sees every earlier status
    await lockDocument(trx, found.id);
    const previous = await listStatuses(trx, found.id);
    // rows recorded before header digests were kept are matched by their bytes
    const held = previous.find((s) => s.direction === "received" && s.from === from && (s.headerDigest === headerDigest || s.packetSha256 === body.sha256));
    if (held) return { duplicate: true as const, samePacket: held.packetSha256 === body.sha256 };
    const problem = statusProblem(previous.filter((s) => s.from === from || s.to === from), { code, timestamp: timestamp.toISOString() });
    if (problem) return { problem };
    await putBlobs(trx, ctx.storage.blobs, [blob]);
    const description = h.Description?.trim() || STATUS_CODES[code as StatusCode];
    await addStatus(trx, { document: found.id, code, from, to: about.OrganId, direction: "received", packet: blob, description, timestamp, headerDigest });
    // the receipt (01) only proves arrival; the delivery state shows the later codes
    if (found.direction === "out" && code !== "01") await setRecipientStatus(trx, found.id, from, code);
    // a 01 through the national axle: the delivery the hub accepted has arrived
    if (found.direction === "out" && code === "01") await markRelayedDelivered(trx, found.id, from);
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
  // the same status arriving twice at once: the identity index lets one in; the other, once more, finds it
  const outcome = await record().catch((err) => (isUniqueViolation(err) ? record() : Promise.reject(err)));
  if ("problem" in outcome) throw await refused(outcome.problem!, found.id);
  if ("duplicate" in outcome) {
    // other bytes around the same signed header: not the sender's retry, someone replays it
    const line = { document: found.id, from, code, timestamp: h.Timestamp, sha256: body.sha256, remote: opts.remote ?? null };
    if (outcome.samePacket) ctx.log.info(line, "inbound status delivered again; nothing new");
    else ctx.log.warn(line, "inbound status replayed in other bytes; nothing new");
    return { kind: "status", document: found.id, duplicate: true };
  }
  ctx.log.info({ document: found.id, documentId: about.DocumentId, from, code }, "inbound status received");
  return { kind: "status", document: found.id, duplicate: false };
}
