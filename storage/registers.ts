// The books of Nghị định 30/2020 (sổ văn bản đến / đi) and what each user has opened.
import type { Db } from "./db.ts";

/**
 * Gives `document` the next số đến of its agency's incoming book for `year` (call inside the
 * transaction that records the 03). The counter row is raised by one statement, which PostgreSQL
 * runs under the row's lock and SQLite under its single writer: two transactions never read the
 * same number. The book's keys refuse a second number for one document, or one number twice.
 */
export async function assignIncomingNumber(trx: Db, e: { localOrgan: string; document: string; year: number; at: Date }): Promise<number> {
  const rows = await trx.raw(
    `INSERT INTO register_counters (local_organ, book, year, last_number) VALUES (?, 'in', ?, 1)
     ON CONFLICT (local_organ, book, year) DO UPDATE SET last_number = register_counters.last_number + 1
     RETURNING last_number`,
    [e.localOrgan, e.year],
  );
  const number = Number((Array.isArray(rows) ? rows : rows.rows)[0].last_number);
  await trx("incoming_register").insert({ local_organ: e.localOrgan, year: e.year, number, document: e.document, recorded_at: e.at });
  return number;
}

export interface IncomingNumber {
  year: number;
  number: number;
  recordedAt: string;
}

/** The số đến of each document that has one. */
export async function incomingNumbersFor(db: Db, ids: readonly string[]): Promise<Map<string, IncomingNumber>> {
  const out = new Map<string, IncomingNumber>();
  for (let i = 0; i < ids.length; i += 500) {
    for (const r of await db("incoming_register").whereIn("document", ids.slice(i, i + 500))) {
      out.set(r.document, { year: Number(r.year), number: Number(r.number), recordedAt: new Date(r.recorded_at).toISOString() });
    }
  }
  return out;
}

/** The documents of the agency's incoming book for the year, by số đến. */
export async function incomingBook(db: Db, localOrgan: string, year: number): Promise<Array<{ document: string; number: number; recordedAt: string }>> {
  const rows = await db("incoming_register").where({ local_organ: localOrgan, year }).orderBy("number");
  return rows.map((r) => ({ document: r.document as string, number: Number(r.number), recordedAt: new Date(r.recorded_at).toISOString() }));
}

/** The ids of the documents the agency sent with a promulgation date in the year, oldest first: the outgoing book. */
export async function outgoingBook(db: Db, localOrgan: string, year: number): Promise<string[]> {
  const rows = await db("documents")
    .where({ local_organ: localOrgan, direction: "out" })
    .andWhere("promulgation_date", ">=", `${year}-01-01`)
    .andWhere("promulgation_date", "<=", `${year}-12-31`)
    .orderBy("created_at")
    .orderBy("id")
    .select("id");
  return rows.map((r) => r.id as string);
}

/** Records that the user opened the document (the first time only). */
export async function markRead(db: Db, userId: number, document: string): Promise<void> {
  await db("document_reads").insert({ user_id: userId, document, read_at: new Date() }).onConflict(["user_id", "document"]).ignore();
}

/** Which of the documents the user has opened. */
export async function readBy(db: Db, userId: number, ids: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    for (const r of await db("document_reads").where({ user_id: userId }).whereIn("document", ids.slice(i, i + 500)).select("document")) out.add(r.document);
  }
  return out;
}
