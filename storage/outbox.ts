// What the compose, search and indicators pages read and write besides the documents themselves:
// the compose forms' keys (a form sent twice finds its document), the agencies' names, the numbers
// of the year's outgoing documents (the next số), and the light rows of a period the indicators
// are counted from.
import type { Db } from "./db.ts";

/** Records that the compose form `key` sent `document` (inside the sending transaction). */
export async function claimSendKey(trx: Db, k: { localOrgan: string; key: string; document: string }): Promise<void> {
  await trx("send_keys").insert({ local_organ: k.localOrgan, key: k.key, document: k.document, created_at: new Date() });
}

/** The document the compose form `key` sent, if it did. */
export async function documentForSendKey(db: Db, localOrgan: string, key: string): Promise<string | null> {
  const r = await db("send_keys").where({ local_organ: localOrgan, key }).first("document");
  return (r?.document as string | undefined) ?? null;
}

/** Every registry entry's organ id, name, parent and status: what pages show and group agencies by, without their certificates. */
export async function agencyDirectory(db: Db): Promise<Array<{ organId: string; name: string; parentId: string | null; active: boolean }>> {
  const rows = await db("registry").orderBy("organ_id").select("organ_id", "name", "parent_id", "status");
  return rows.map((r: Record<string, unknown>) => ({ organId: r.organ_id as string, name: r.name as string, parentId: (r.parent_id as string | null) ?? null, active: r.status === "active" }));
}

/** The "số/ký hiệu" of the documents the agency sent with a promulgation date in `year`. */
export async function outgoingCodes(db: Db, localOrgan: string, year: number): Promise<string[]> {
  const rows = await db("documents")
    .where({ local_organ: localOrgan, direction: "out" })
    .andWhere("promulgation_date", ">=", `${year}-01-01`)
    .andWhere("promulgation_date", "<=", `${year}-12-31`)
    .select("code");
  return rows.map((r: { code: string }) => r.code);
}

export interface PeriodDocument {
  id: string;
  direction: "in" | "out";
  from: string;
  code: string;
  subject: string;
  createdAt: string;
  status: string;
  /** The signed DueDate, yyyy/MM/dd, when the document has one. */
  dueDate: string | null;
}

/** The agency's documents created in [from, until), oldest first, without their packets. */
export async function documentsOfPeriod(db: Db, localOrgan: string, from: Date, until: Date): Promise<PeriodDocument[]> {
  const rows = await db("documents")
    .where({ local_organ: localOrgan })
    .andWhere("created_at", ">=", from)
    .andWhere("created_at", "<", until)
    .orderBy("created_at")
    .select("id", "direction", "from_organ", "code", "subject", "created_at", "status", "header_json");
  return rows.map((r: Record<string, unknown>) => {
    const due = (JSON.parse(r.header_json as string).header?.DueDate ?? null) as unknown;
    return {
      id: r.id as string,
      direction: r.direction as "in" | "out",
      from: r.from_organ as string,
      code: r.code as string,
      subject: r.subject as string,
      createdAt: new Date(r.created_at as string).toISOString(),
      status: r.status as string,
      dueDate: typeof due === "string" && /^\d{4}\/\d{2}\/\d{2}$/.test(due) ? due : null,
    };
  });
}
