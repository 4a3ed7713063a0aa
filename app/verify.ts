// Verifying what someone uploads (a packet or an evidence bundle) against this node's trust
// anchors, CRLs and registry, and exporting a document's evidence bundle.
import { createWriteStream } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { randomUUID } from "node:crypto";
import { BundleError, formatFailureReport, verifyEvidenceBundle, verifyPacket, writeEvidenceBundle, type EvidenceInput, type VerificationReport } from "../signing/index.ts";
import { audit, blobBytes, listAttachments, listRecipients, listStatuses, readBlob, type DocumentRow } from "../storage/index.ts";
import type { AppContext, Caller } from "./context.ts";
import { snapshotPublisher } from "./snapshots.ts";
import { VerifyQuery, parseInput } from "./schemas.ts";

async function isZipFile(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
  } finally {
    await fh.close();
  }
}

/**
 * The report for the packet or evidence bundle at `path` (the transport saved the upload there),
 * against this node's trust: its registry binds the signers, the bundle's manifest signature included.
 */
export async function verifyUpload(ctx: AppContext, path: string, query: unknown = {}): Promise<VerificationReport> {
  const { at } = parseInput(VerifyQuery, query, (problems) => problems.join("; "));
  const trust = await ctx.trust();
  if (!(await isZipFile(path))) return (await verifyPacket({ path }, { ...trust, at })).report;
  try {
    return await verifyEvidenceBundle(path, { ...trust, at });
  } catch (err) {
    if (!(err instanceof BundleError)) throw err;
    return formatFailureReport(at ?? ctx.now(), err.message.replace(path, "the upload"));
  }
}

/**
 * Writes the document's evidence bundle to `out`; the export is audited once the bundle is
 * complete, before `out` is ended.
 */
export async function exportEvidence(ctx: AppContext, caller: Caller, doc: DocumentRow, out: (beforeEnd: () => Promise<void>) => Writable): Promise<void> {
  const db = ctx.storage.db;
  const [to, attachments, statuses, trust, publisher] = await Promise.all([
    listRecipients(db, doc.id),
    listAttachments(db, doc.id),
    listStatuses(db, doc.id),
    ctx.trust(),
    snapshotPublisher(ctx),
  ]);
  const tmpDir = join(ctx.config.dataDir, "tmp");
  await mkdir(tmpDir, { recursive: true });
  // the packet goes to a file first: the bundle writer reads it twice (scan, then copy)
  const packetPath = join(tmpDir, `${randomUUID()}.edxml`);
  try {
    await pipeline(Readable.from(readBlob(db, ctx.storage.blobs, doc.packetSha256)), createWriteStream(packetPath, { flags: "wx" }));
    const input: EvidenceInput = {
      record: { id: doc.id, documentId: doc.documentId, direction: doc.direction, from: doc.from, to, code: doc.code, subject: doc.header?.Subject ?? doc.subject },
      packet: { path: packetPath },
      attachments: attachments.map((a) => ({ name: a.name, bytes: readBlob(db, ctx.storage.blobs, a.sha256) })),
      statuses: await Promise.all(statuses.map(async (s) => ({ code: s.code, from: s.from, at: s.at, packet: await blobBytes(db, ctx.storage.blobs, s.packetSha256) }))),
      report: doc.report,
      anchors: trust.anchors,
      registry: trust.registry ?? new Map(),
      publisher,
    };
    await writeEvidenceBundle(
      input,
      out(async () => {
        await rm(packetPath, { force: true });
        await audit(db, { actor: caller.actor, organId: caller.organId, action: "evidence.export", document: doc.id, detail: { documentId: doc.documentId } });
      }),
    );
  } finally {
    await rm(packetPath, { force: true });
  }
}
