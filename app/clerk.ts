// What a clerk's and an archivist's pages show: the inbox and outbox (unread marks per user, the
// số đến), one document as its signature covers it (the stored packet verified again, never the
// unsigned record), the status transitions a clerk may set now, and the books of Nghị định 30/2020
// (sổ văn bản đến / đi) per year.
import { RECIPIENT_CODES, SENDER_CODES, statusProblem, stripBidiControls } from "../envelopes/index.ts";
import { verifyPacket, type VerificationReport } from "../signing/index.ts";
import { HANDLING_OVER, audit, dueDate, incomingBook, incomingNumbersFor, getDocuments, getKeptTimestamp, getLocalAgency, markRead, outgoingBook, readBy, type IncomingNumber } from "../storage/index.ts";
import { CLERKS, DOCUMENT_READERS, assertRole } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { documentRecords, ownDocument, searchAgencyDocuments, vnDay, vnYear } from "./documents.ts";
import { RegisterQuery, parseInput, type DocumentRecord } from "./schemas.ts";
import { withPacketFile } from "./verify.ts";

/** A person at the pages: the caller, and the user whose read marks count. */
export interface Reader {
  caller: Caller;
  userId: number;
}

export interface Listed {
  record: DocumentRecord;
  unread: boolean;
  /** The số đến (incoming documents entered in the book). */
  incoming: IncomingNumber | null;
  /** The DueDate (hạn xử lý), yyyy-mm-dd, and whether it has passed with the handling not over. */
  dueDate: string | null;
  overdue: boolean;
}

/** One page of the caller's documents in one direction (inbox or outbox), newest first. */
export async function documentList(ctx: AppContext, reader: Reader, direction: "in" | "out", query: Record<string, string>) {
  const found = await searchAgencyDocuments(ctx, reader.caller, { ...query, direction });
  const ids = found.items.map((r) => r.id);
  const [read, numbers] = await Promise.all([readBy(ctx.storage.db, reader.userId, ids), incomingNumbersFor(ctx.storage.db, ids)]);
  const today = vnDay(ctx.now());
  const items: Listed[] = found.items.map((record) => {
    const due = dueDate(record.header as { DueDate?: string });
    const overdue = !!due && due < today && !HANDLING_OVER.includes(record.status);
    return { record, unread: !read.has(record.id), incoming: numbers.get(record.id) ?? null, dueDate: due, overdue };
  });
  return { ...found, items };
}

/** What the signature covers, read from the verified packet. */
export interface SignedView {
  code: string;
  subject: string;
  content: string | null;
  kind: string | null;
  from: { organId: string; name: string };
  to: Array<{ organId: string; name: string }>;
  place: string;
  promulgationDate: string;
  signer: { position: string; fullName: string } | null;
  dueDate: string | null;
  attachments: Array<{ n: number; name: string }>;
}

/** The codes a clerk may set on the document now, in the order of the flow. */
function allowedCodes(record: DocumentRecord): string[] {
  const statuses = record.statuses;
  if (record.direction === "in") {
    const withSender = statuses.filter((s) => s.from === record.from || s.to === record.from);
    return RECIPIENT_CODES.filter((c) => c !== "01" && !statusProblem(withSender, { code: c }));
  }
  return SENDER_CODES.filter((c) => record.to.every((organ) => !statusProblem(statuses.filter((s) => s.from === organ || s.to === organ), { code: c })));
}

/**
 * A document's page: the record (statuses, deliveries), the stored packet verified again as it
 * was checked when it came (the same validation time; with a stamp kept beside it, now), the signed content, the clerk's actions
 * and the số đến. Opening it marks it read for the user.
 */
export async function documentView(ctx: AppContext, reader: Reader, id: string) {
  const doc = await ownDocument(ctx, reader.caller, id);
  const db = ctx.storage.db;
  const [[record], numbers, trust, kept] = await Promise.all([documentRecords(ctx, [doc]), incomingNumbersFor(db, [doc.id]), ctx.trust(), getKeptTimestamp(db, doc.packetSha256)]);
  // A stamp kept beside the stored copy (obtained after sending, the TSA being away) is the
  // packet's own: it came after the first check, so the check is made now — a valid stamp then
  // bounds the certificates' check to its own time, as the evidence bundle's verification does.
  const at = kept ? ctx.now() : new Date(doc.report.validationTime);
  const { report, content } = await withPacketFile(ctx, doc, (path) => verifyPacket({ path }, { ...trust, at, timestamp: kept ?? undefined }));
  let signed: SignedView | null = null;
  if (content?.packet.kind === "edoc") {
    const h = content.packet.header;
    signed = {
      code: `${h.Code.CodeNumber}/${h.Code.CodeNotation}`,
      subject: h.Subject,
      content: h.Content ?? null,
      kind: h.DocumentType.TypeName ?? null,
      from: { organId: h.From.OrganId, name: h.From.OrganName ?? "" },
      to: h.To.map((t) => ({ organId: t.OrganId, name: t.OrganName ?? "" })),
      place: h.PromulgationInfo.Place ?? "",
      promulgationDate: h.PromulgationInfo.PromulgationDate,
      signer: h.SignerInfo ? { position: h.SignerInfo.Position ?? "", fullName: h.SignerInfo.FullName ?? "" } : null,
      dueDate: h.DueDate ?? null,
      attachments: content.attachments.map((a, i) => ({ n: i + 1, name: stripBidiControls(a.info.AttachmentName) })),
    };
  }
  await markRead(db, reader.userId, doc.id);
  const actions = CLERKS.includes(reader.caller.role) && signed ? allowedCodes(record) : [];
  const agency = (await getLocalAgency(db, doc.localOrgan))?.name ?? doc.localOrgan;
  return { record, report: report as VerificationReport, signed, actions, incoming: numbers.get(doc.id) ?? null, agency, packetSha256: doc.packetSha256 };
}

/**
 * A book of one year: the incoming book in số đến order, the outgoing one in the order the
 * documents were sent. An export (CSV, print) is audited.
 */
export async function readRegister(ctx: AppContext, caller: Caller, query: unknown, opts: { exported?: boolean } = {}) {
  assertRole(caller, DOCUMENT_READERS, "read documents");
  const q = parseInput(RegisterQuery, query, "the book is not valid");
  const year = q.year ?? vnYear(ctx.now());
  const db = ctx.storage.db;
  const rows = q.book === "in" ? await incomingBook(db, caller.organId, year) : (await outgoingBook(db, caller.organId, year)).map((document) => ({ document, number: null, recordedAt: null }));
  const records = new Map((await documentRecords(ctx, await getDocuments(db, rows.map((r) => r.document)))).map((r) => [r.id, r]));
  if (opts.exported) await audit(db, { actor: caller.actor, organId: caller.organId, action: `register.export.${q.book}`, detail: { year, entries: rows.length } });
  return { book: q.book, year, entries: rows.map((r) => ({ number: r.number, recordedAt: r.recordedAt, record: records.get(r.document)! })) };
}
