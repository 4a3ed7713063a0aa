// The document record as the API shows it (the contract's fields, and more).
import {
  listAttachmentsFor,
  listDeliveriesFor,
  listRecipientsFor,
  listStatusesFor,
  type Attachment,
  type Db,
  type Delivery,
  type DocumentRow,
  type StatusRow,
} from "../storage/index.ts";

/** The records of a page of documents in a fixed number of queries, whatever the page size. */
export async function documentRecords(db: Db, rows: DocumentRow[]) {
  const ids = rows.map((d) => d.id);
  const outbound = rows.filter((d) => d.direction === "out").map((d) => d.id);
  const [to, deliveries, statuses, attachments] = await Promise.all([
    listRecipientsFor(db, ids),
    listDeliveriesFor(db, outbound, "edoc"),
    listStatusesFor(db, ids),
    listAttachmentsFor(db, ids),
  ]);
  return rows.map((d) => record(d, to.get(d.id)!, deliveries.get(d.id) ?? [], statuses.get(d.id)!, attachments.get(d.id)!));
}

export async function documentRecord(db: Db, d: DocumentRow) {
  return (await documentRecords(db, [d]))[0];
}

function record(d: DocumentRow, to: string[], deliveries: Delivery[], statuses: StatusRow[], attachments: Attachment[]) {
  return {
    id: d.id,
    documentId: d.documentId,
    direction: d.direction,
    localOrganId: d.localOrgan,
    from: d.from,
    to,
    code: d.code,
    subject: d.subject,
    type: d.type,
    businessType: d.businessType,
    relatedDocumentId: d.relatedDocumentId,
    businessState: d.businessState,
    promulgationDate: d.promulgationDate,
    status: d.status,
    createdAt: d.createdAt,
    // per recipient: the transport state until the receipt, then the last status it sent back
    deliveries: deliveries.map((x) => ({
      organId: x.organId,
      state: x.state === "delivered" && x.statusCode ? x.statusCode : x.state,
      attempts: x.attempts,
      nextAttemptAt: x.state === "queued" ? x.nextAttemptAt : null,
      lastError: x.lastError,
    })),
    statuses: statuses.map((s) => ({ code: s.code, from: s.from, to: s.to, at: s.at, direction: s.direction, description: s.description })),
    attachments: attachments.map((a) => ({ n: a.n, name: a.name, contentType: a.contentType, size: a.size, sha256: a.sha256 })),
    verification: {
      valid: d.report.valid,
      indication: d.report.indication,
      subIndication: d.report.subIndication,
      signer: d.report.signer,
      signingTime: d.report.signingTime,
    },
    header: d.header,
    bussiness: d.bussiness,
  };
}

export type DocumentRecord = ReturnType<typeof record>;
