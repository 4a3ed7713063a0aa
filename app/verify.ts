// Verifying what someone uploads (a packet or an evidence bundle) against this node's trust
// anchors, CRLs and registry, and exporting a document's evidence bundle.
import { createWriteStream } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { randomUUID } from "node:crypto";
import { BundleError, addPdfSignatures, formatFailureReport, verifyEvidenceBundle, verifyPacket, writeEvidenceBundle, type EvidenceInput, type VerificationReport } from "../signing/index.ts";
import { archiveProofsFor, audit, blobBytes, getKeptTimestamp, latestCheckpoint, listAttachments, listRecipients, listStatuses, readBlob, type DocumentRow } from "../storage/index.ts";
import type { AppContext, Caller } from "./context.ts";
import { snapshotPublisher } from "./snapshots.ts";
import { sealTimestamper } from "./timestamps.ts";
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
  if (!(await isZipFile(path))) {
    const { report, content } = await verifyPacket({ path }, { ...trust, at });
    await addPdfSignatures(report, { path }, content, { anchors: trust.anchors, tsaAnchors: trust.tsaAnchors ?? [], crls: trust.crls, at });
    return report;
  }
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
  const [to, attachments, statuses, trust, publisher, auditCheckpoint] = await Promise.all([
    listRecipients(db, doc.id),
    listAttachments(db, doc.id),
    listStatuses(db, doc.id),
    ctx.trust(),
    snapshotPublisher(ctx),
    latestCheckpoint(db),
  ]);
  // what became of the seal's time-stamp, for the audit entry (null: the node has no TSA)
  let sealTimestamped: boolean | null = null;
  const stamper = sealTimestamper(ctx);
  // the packet goes to a file first: the bundle writer reads it twice (scan, then copy)
  await withPacketFile(ctx, doc, async (packetPath) => {
    const input: EvidenceInput = {
      record: { id: doc.id, documentId: doc.documentId, direction: doc.direction, from: doc.from, to, code: doc.code, subject: doc.header?.Subject ?? doc.subject },
      packet: { path: packetPath },
      attachments: attachments.map((a) => ({ name: a.name, bytes: readBlob(db, ctx.storage.blobs, a.sha256) })),
      statuses: await Promise.all(
        statuses.map(async (s) => ({ code: s.code, from: s.from, at: s.at, packet: await blobBytes(db, ctx.storage.blobs, s.packetSha256), timestamp: (await getKeptTimestamp(db, s.packetSha256)) ?? undefined })),
      ),
      packetTimestamp: (await getKeptTimestamp(db, doc.packetSha256)) ?? undefined,
      archive: await archiveProofsFor(db, [doc.packetSha256, ...attachments.map((a) => a.sha256), ...statuses.map((s) => s.packetSha256)]),
      report: doc.report,
      anchors: trust.anchors,
      tsaAnchors: trust.tsaAnchors,
      registry: trust.registry ?? new Map(),
      publisher,
      auditCheckpoint,
      tsa:
        stamper &&
        (async (data) => {
          const token = await stamper(data);
          sealTimestamped = token !== null;
          return token;
        }),
    };
    await writeEvidenceBundle(
      input,
      out(async () => {
        await rm(packetPath, { force: true });
        await audit(db, { actor: caller.actor, organId: caller.organId, action: "evidence.export", document: doc.id, detail: { documentId: doc.documentId, ...(sealTimestamped === null ? {} : { sealTimestamped }) } });
      }),
    );
  });
}

/** Runs `use` with the document's stored packet copied, byte-exact, to a work file (removed after). */
export async function withPacketFile<T>(ctx: AppContext, doc: DocumentRow, use: (path: string) => Promise<T>): Promise<T> {
  const tmpDir = join(ctx.config.dataDir, "tmp");
  await mkdir(tmpDir, { recursive: true });
  const packetPath = join(tmpDir, `${randomUUID()}.edxml`);
  try {
    await pipeline(Readable.from(readBlob(ctx.storage.db, ctx.storage.blobs, doc.packetSha256)), createWriteStream(packetPath, { flags: "wx" }));
    return await use(packetPath);
  } finally {
    await rm(packetPath, { force: true });
  }
}
