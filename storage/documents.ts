// Documents in and out, their recipients, attachments, status packets and search terms.
import type { Knex } from "knex";
import type { Bussiness, EdocHeader } from "../envelopes/index.ts";
import type { VerificationReport } from "../signing/index.ts";
import type { BlobRef } from "./blobs.ts";
import { byDocument, type Db } from "./db.ts";
import { hotAll, hotInsert } from "./hot.ts";
import { HANDLING_OVER, dueDate, foldedPhrase, namesText, prefixEnd, queryTerms, terms } from "./search.ts";

export interface NewDocument {
  id: string;
  direction: "in" | "out";
  localOrgan: string;
  packet: BlobRef;
  header: EdocHeader;
  bussiness?: Bussiness;
  report: VerificationReport;
  attachments: Array<{ name: string; contentType: string; blob: BlobRef }>;
  status: string;
}

/**
 * Inserts a document with its recipients, attachments and search terms (call inside a
 * transaction): one insert per table. Returns the row as a read would give it.
 */
export async function insertDocument(trx: Db, d: NewDocument): Promise<DocumentRow> {
  const h = d.header;
  const type = d.bussiness?.BussinessDocType ?? 0;
  const createdAt = new Date();
  const row = {
    id: d.id,
    direction: d.direction,
    local_organ: d.localOrgan,
    document_id: h.DocumentId,
    from_organ: h.From.OrganId,
    code: `${h.Code.CodeNumber}/${h.Code.CodeNotation}`,
    subject: h.Subject.slice(0, 1000),
    business_type: type,
    doc_type: (h.DocumentType.TypeName ?? "").slice(0, 100),
    doc_type_folded: foldedPhrase(h.DocumentType.TypeName ?? "").slice(0, 100),
    promulgation_date: h.PromulgationInfo.PromulgationDate.replace(/\//g, "-"),
    status: d.status,
    related_document_id: type ? (d.bussiness?.DocumentId ?? d.bussiness?.ReplacementInfoList?.[0]?.DocumentId ?? null) : null,
    business_state: null,
    due_date: dueDate(h),
    packet_sha256: d.packet.sha256,
    header_json: JSON.stringify({ header: h, bussiness: d.bussiness ?? null }),
    report_json: JSON.stringify(d.report),
    created_at: createdAt,
  };
  await hotInsert(trx, "documents", [row]);
  const recipients = [...new Set(h.To.map((t) => t.OrganId))];
  if (recipients.length) await hotInsert(trx, "document_recipients", recipients.map((organ_id) => ({ document: d.id, organ_id })));
  if (d.attachments.length) {
    await hotInsert(
      trx,
      "attachments",
      d.attachments.map((a, i) => ({ document: d.id, n: i + 1, name: a.name, content_type: a.contentType, sha256: a.blob.sha256, size: a.blob.size })),
    );
  }
  const words = terms([h.Subject, h.Content ?? "", `${h.Code.CodeNumber}/${h.Code.CodeNotation}`, h.Code.CodeNumber, namesText(h, d.attachments)].join(" "));
  for (let i = 0; i < words.length; i += 200) {
    await hotInsert(trx, "search_terms", words.slice(i, i + 200).map((term) => ({ local_organ: d.localOrgan, term, created_at: createdAt, document: d.id })));
  }
  return toRow(row);
}

export interface DocumentRow {
  id: string;
  direction: "in" | "out";
  localOrgan: string;
  documentId: string;
  from: string;
  code: string;
  subject: string;
  businessType: number;
  type: string;
  promulgationDate: string;
  status: string;
  relatedDocumentId: string | null;
  businessState: string | null;
  packetSha256: string;
  header: EdocHeader;
  bussiness: Bussiness | null;
  report: VerificationReport;
  createdAt: string;
}

function toRow(r: Record<string, unknown>): DocumentRow {
  const parsed = JSON.parse(r.header_json as string);
  return {
    id: r.id as string,
    direction: r.direction as "in" | "out",
    localOrgan: r.local_organ as string,
    documentId: r.document_id as string,
    from: r.from_organ as string,
    code: r.code as string,
    subject: r.subject as string,
    businessType: Number(r.business_type),
    type: r.doc_type as string,
    promulgationDate: r.promulgation_date as string,
    status: r.status as string,
    relatedDocumentId: (r.related_document_id as string | null) ?? null,
    businessState: (r.business_state as string | null) ?? null,
    packetSha256: r.packet_sha256 as string,
    header: parsed.header,
    bussiness: parsed.bussiness,
    report: JSON.parse(r.report_json as string),
    createdAt: new Date(r.created_at as string).toISOString(),
  };
}

export async function getDocument(db: Db, id: string): Promise<DocumentRow | null> {
  const r = await db("documents").where({ id }).first();
  return r ? toRow(r) : null;
}

/** The documents of `ids` that exist, in the order of `ids`. */
export async function getDocuments(db: Db, ids: readonly string[]): Promise<DocumentRow[]> {
  const byId = new Map<string, DocumentRow>();
  for (let i = 0; i < ids.length; i += 500) for (const r of await db("documents").whereIn("id", ids.slice(i, i + 500))) byId.set(r.id, toRow(r));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

export async function findDocument(
  db: Db,
  k: { direction: "in" | "out"; localOrgan: string; from: string; documentId: string },
): Promise<DocumentRow | null> {
  const [r] = await hotAll(db, `select * from "documents" where "direction" = ? and "local_organ" = ? and "from_organ" = ? and "document_id" = ? limit 1`, [
    k.direction,
    k.localOrgan,
    k.from,
    k.documentId,
  ]);
  return r ? toRow(r) : null;
}

export async function setDocumentStatus(db: Db, id: string, status: string): Promise<void> {
  await db("documents").where({ id }).update({ status });
}

/** Marks the documents a revoke / update / replace acts on. */
export async function markBusinessState(
  db: Db,
  k: { direction: "in" | "out"; localOrgan: string; from: string; documentId: string },
  state: "revoked" | "updated" | "replaced",
): Promise<void> {
  await db("documents").where({ direction: k.direction, local_organ: k.localOrgan, from_organ: k.from, document_id: k.documentId }).update({ business_state: state });
}

export interface Attachment {
  n: number;
  name: string;
  contentType: string;
  sha256: string;
  size: number;
}

const toAttachment = (a: Record<string, unknown>): Attachment => ({
  n: Number(a.n),
  name: a.name as string,
  contentType: a.content_type as string,
  sha256: a.sha256 as string,
  size: Number(a.size),
});

/** Attachments of each document, in order. */
export function listAttachmentsFor(db: Db, ids: readonly string[]): Promise<Map<string, Attachment[]>> {
  return byDocument(ids, (chunk) => db("attachments").whereIn("document", chunk).orderBy(["document", "n"]), toAttachment);
}

export async function listAttachments(db: Db, document: string): Promise<Attachment[]> {
  return (await listAttachmentsFor(db, [document])).get(document)!;
}

/** Recipients (organ ids) of each document, in organ id order. */
export function listRecipientsFor(db: Db, ids: readonly string[]): Promise<Map<string, string[]>> {
  return byDocument(ids, (chunk) => db("document_recipients").whereIn("document", chunk).orderBy(["document", "organ_id"]), (r) => r.organ_id as string);
}

export async function listRecipients(db: Db, document: string): Promise<string[]> {
  return (await listRecipientsFor(db, [document])).get(document)!;
}

// ---- status packets -----------------------------------------------------------------------

export interface StatusRow {
  id: number;
  code: string;
  from: string;
  to: string;
  direction: "sent" | "received";
  packetSha256: string;
  description: string;
  at: string;
  /** The packet's signed Timestamp (ISO 8601); null for rows recorded before it was kept. */
  timestamp: string | null;
  /** The digest of the signed MessageHeader of a received status (see SignedContent.headerDigest). */
  headerDigest: string | null;
}

export async function addStatus(
  db: Db,
  s: {
    document: string;
    code: string;
    from: string;
    to: string;
    direction: "sent" | "received";
    packet: BlobRef;
    description: string;
    at?: Date;
    /** The signed Timestamp of the packet. */
    timestamp?: Date;
    headerDigest?: string;
  },
): Promise<void> {
  await hotInsert(db, "statuses", [
    {
      document: s.document,
      code: s.code,
      from_organ: s.from,
      to_organ: s.to,
      direction: s.direction,
      packet_sha256: s.packet.sha256,
      description: s.description.slice(0, 1000),
      at: s.at ?? new Date(),
      signed_timestamp: s.timestamp ?? null,
      header_digest: s.headerDigest ?? null,
    },
  ]);
}

const toStatus = (s: Record<string, unknown>): StatusRow => ({
  id: Number(s.id),
  code: s.code as string,
  from: s.from_organ as string,
  to: s.to_organ as string,
  direction: s.direction as StatusRow["direction"],
  packetSha256: s.packet_sha256 as string,
  description: s.description as string,
  at: new Date(s.at as string).toISOString(),
  timestamp: s.signed_timestamp == null ? null : new Date(s.signed_timestamp as string).toISOString(),
  headerDigest: (s.header_digest as string | null) ?? null,
});

/** Whether the document holds a received 01 (receipt) from `organId`. */
export async function hasReceipt(db: Db, document: string, organId: string): Promise<boolean> {
  const rows = await hotAll(db, `select 1 from "statuses" where "document" = ? and "code" = '01' and "from_organ" = ? and "direction" = 'received' limit 1`, [document, organId]);
  return rows.length > 0;
}

/** Status packets of each document, oldest first. */
export function listStatusesFor(db: Db, ids: readonly string[]): Promise<Map<string, StatusRow[]>> {
  return byDocument(ids, (chunk) => db("statuses").whereIn("document", chunk).orderBy("id"), toStatus);
}

export async function listStatuses(db: Db, document: string): Promise<StatusRow[]> {
  return (await listStatusesFor(db, [document])).get(document)!;
}

// ---- search -------------------------------------------------------------------------------

export interface SearchFilter {
  localOrgan: string;
  direction?: "in" | "out";
  /** Full text over subject, content, number, signer and attachment names, diacritics-insensitive; the last word may be the beginning of a word. */
  q?: string;
  code?: string;
  sender?: string;
  recipient?: string;
  status?: string;
  /** DocumentType/TypeName, compared folded like `q` ("quyet dinh" is "Quyết định"). */
  type?: string;
  /** yyyy-mm-dd, on the date the record was created. */
  from?: string;
  to?: string;
  /** yyyy-mm-dd: only documents whose DueDate is before this day and whose handling is not over (HANDLING_OVER). */
  overdueOn?: string;
  page?: number;
  pageSize?: number;
}


/** At most this many words beginning with a lone prefix are read as separate runs of the index. */
const MAX_PREFIX_WORDS = 16;

/**
 * Newest first. Words in `q` match whole folded words ("quyet dinh" finds "Quyết định"), the
 * last one also the beginning of a word ("quyet d" and "quy" find it too). The longest whole word
 * (usually the rarest) is read in date order off the search index; every other word, and the
 * filters on the document, are probes of that index row, so a page costs the same at a thousand
 * or a million documents. A query of one word reads each word it begins (found by a loose index
 * scan) in date order and merges them; a prefix that begins more words than that is common, so
 * the documents are then read in date order and probed.
 *
 * Probes are scalar subqueries (`(select 1 … limit 1) is not null`): PostgreSQL evaluates them
 * row by row along the index, where it would plan an EXISTS as a join over every matching row.
 */
export async function searchDocuments(db: Db, f: SearchFilter): Promise<{ items: DocumentRow[]; page: number; pageSize: number; hasMore: boolean }> {
  const pageSize = Math.min(Math.max(f.pageSize ?? 50, 1), 200);
  const page = Math.max(f.page ?? 1, 1);
  const offset = (page - 1) * pageSize;
  const { exact, prefix } = queryTerms(f.q ?? "");
  const filtered = (query: Knex.QueryBuilder) => {
    if (f.direction) query.where("d.direction", f.direction);
    if (f.code) query.where("d.code", f.code);
    if (f.sender) query.where("d.from_organ", f.sender);
    if (f.status) query.where("d.status", f.status);
    if (f.type) query.where("d.doc_type_folded", foldedPhrase(f.type) || f.type);
    if (f.from) query.where("d.created_at", ">=", new Date(`${f.from}T00:00:00+07:00`));
    if (f.to) query.where("d.created_at", "<", new Date(new Date(`${f.to}T00:00:00+07:00`).getTime() + 86_400_000));
    if (f.overdueOn) query.where("d.due_date", "<", f.overdueOn).whereNotIn("d.status", HANDLING_OVER);
    if (f.recipient) query.whereExists(db("document_recipients as r").whereRaw("r.document = d.id").andWhere("r.organ_id", f.recipient));
    return query;
  };
  const filters = Boolean(f.direction || f.code || f.sender || f.status || f.type || f.from || f.to || f.recipient || f.overdueOn);
  const probe = (query: Knex.QueryBuilder, sub: Knex.QueryBuilder) => query.whereRaw("(?) is not null", [sub.select(db.raw("1")).limit(1)]);
  // does the document (`column`) have the word, or a word beginning with it?
  const hasWord = (query: Knex.QueryBuilder, column: string, word: string, begun = false) =>
    probe(
      query,
      db("search_terms as p")
        .whereRaw(`p.document = ${column}`)
        .andWhere("p.term", begun ? ">=" : "=", word)
        .modify((p) => (begun ? p.andWhere("p.term", "<", prefixEnd(word)) : p)),
    );
  /** The index run of `word`, newest first, with the other words and the filters as probes. */
  const run = (word: string, others: string[], begun?: string) => {
    const query = db("search_terms as t0").where("t0.local_organ", f.localOrgan).andWhere("t0.term", word);
    for (const other of others) hasWord(query, "t0.document", other);
    if (begun) hasWord(query, "t0.document", begun, true);
    if (filters) probe(query, filtered(db("documents as d").whereRaw("d.id = t0.document")));
    return query.select("t0.document as id", "t0.created_at").orderBy("t0.created_at", "desc").orderBy("t0.document", "desc");
  };
  const pageOf = async (ids: Array<{ id: string }>) => {
    const rows = ids.length ? await db("documents").whereIn("id", ids.map((r) => r.id)) : [];
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    return result(ids.map((r) => byId.get(r.id)!));
  };
  const result = (rows: Array<Record<string, unknown>>) => ({ items: rows.slice(0, pageSize).map(toRow), page, pageSize, hasMore: rows.length > pageSize });
  const newest = (query: Knex.QueryBuilder) => query.orderBy("d.created_at", "desc").orderBy("d.id", "desc").limit(pageSize + 1).offset(offset);

  if (exact.length) {
    const [driver, ...others] = [...exact].sort((a, b) => b.length - a.length);
    return pageOf(await run(driver, others, prefix).limit(pageSize + 1).offset(offset));
  }
  if (!prefix) return result(await newest(filtered(db("documents as d").where("d.local_organ", f.localOrgan)).select("d.*")));
  const begun = await wordsBeginning(db, f.localOrgan, prefix, MAX_PREFIX_WORDS + 1);
  if (!begun.length) return result([]);
  if (begun.length === 1) return pageOf(await run(begun[0], []).limit(pageSize + 1).offset(offset));
  if (begun.length <= MAX_PREFIX_WORDS) {
    // each word's newest matches, merged: a document among the page's is among the newest
    // offset + pageSize of every word it has
    const runs = begun.map((word, i) => db.select("*").from(run(word, []).limit(offset + pageSize + 1).as(`w${i}`)));
    return pageOf(await db.select("id").from(runs[0].union(runs.slice(1)).as("u")).orderBy("created_at", "desc").orderBy("id", "desc").limit(pageSize + 1).offset(offset));
  }
  return result(await newest(hasWord(filtered(db("documents as d").where("d.local_organ", f.localOrgan)), "d.id", prefix, true)).select("d.*"));
}

/**
 * Up to `max` distinct words of an agency's documents beginning with `prefix`, in order: one
 * index step per word (a loose index scan), however many documents have them.
 */
async function wordsBeginning(db: Db, localOrgan: string, prefix: string, max: number): Promise<string[]> {
  const end = prefixEnd(prefix);
  const next = (after: string) => `(SELECT s.term FROM search_terms s WHERE s.local_organ = ? AND s.term ${after} AND s.term < ? ORDER BY s.term LIMIT 1)`;
  const rows = await db.raw(
    `WITH RECURSIVE w(term, n) AS (SELECT ${next(">= ?")}, 1 UNION ALL SELECT ${next("> w.term")}, w.n + 1 FROM w WHERE w.term IS NOT NULL AND w.n < ?)
     SELECT term FROM w WHERE term IS NOT NULL`,
    [localOrgan, prefix, end, localOrgan, end, max],
  );
  return (Array.isArray(rows) ? rows : rows.rows).map((r: { term: string }) => r.term);
}

/**
 * Holds the document's row until the transaction ends, so that writers of its statuses take turns
 * (PostgreSQL; SQLite serialises every writer already).
 */
export async function lockDocument(trx: Db, id: string): Promise<void> {
  if (trx.client.config.client === "pg") await trx("documents").where({ id }).forUpdate().first("id");
}
