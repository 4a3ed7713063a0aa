// The document record as the API shows it (the contract's fields, and more).
import type { Db } from "../storage/index.ts";
import { listAttachments, listDeliveries, listRecipients, listStatuses, type DocumentRow } from "../storage/index.ts";

export async function documentRecord(db: Db, d: DocumentRow) {
  const [to, deliveries, statuses, attachments] = await Promise.all([
    listRecipients(db, d.id),
    d.direction === "out" ? listDeliveries(db, d.id, "edoc") : Promise.resolve([]),
    listStatuses(db, d.id),
    listAttachments(db, d.id),
  ]);
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

export type DocumentRecord = Awaited<ReturnType<typeof documentRecord>>;
