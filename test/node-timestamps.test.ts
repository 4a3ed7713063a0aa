// A node with EDOC_TSA_URL stamps what it signs (packets, status packets, receipts) with a real
// TSA (test/helpers/tsa.ts); when the TSA is down the packet goes out at B-B and the background job
// keeps the stamp beside the stored copy later: the sent bytes never change, the record and the
// evidence bundle reach B-T. On SQLite and PostgreSQL; `edoc trust add --tsa` on both.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { archiveRound, documentRecord, linkAuditLog, sendDocument, setStatus, stampCheckpoints, stampPending, startDeliveryWorker, tokenCaller, verifyAuditLog, type Caller } from "../app/index.ts";
import { verifyEvidenceBundle, verifyPacket } from "../signing/index.ts";
import { addTrustAnchor, blobBytes, findDocument, getDocument, listDeliveries, listStatuses, listTrustAnchors, openStorage, type DocumentRow } from "../storage/index.ts";
import { RECIPIENT, SENDER, scratch, testPki } from "../fixtures/index.ts";
import { onEachDatabase, anotherDatabase, type TestDatabase } from "./helpers/db.ts";
import { link, startNode, type TestNode } from "./helpers/node.ts";
import { startTsa, type TestTsa } from "./helpers/tsa.ts";
import { waitFor } from "./helpers/wait.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
const DELIVERY = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000, leaseMs: 5000, pollMs: 20, timeoutMs: 5000 };
const STAMPED = "<xades:UnsignedProperties>";
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const clerk = (organId: string): Caller => tokenCaller({ id: 0, organId, role: "clerk", name: "Văn thư" });


onEachDatabase("a node that time-stamps what it signs", (database) => {
  describe("A (G22) sends to B (H41), both with EDOC_TSA_URL and the TSA's anchor", () => suite(database));
});

function suite(database: () => TestDatabase) {
  let tsa: TestTsa;
  let a: TestNode;
  let b: TestNode;
  let bDb: ReturnType<typeof anotherDatabase>;
  let n = 0;

  before(async function () {
    this.timeout(120_000);
    tsa = await startTsa();
    bDb = anotherDatabase(database());
    const config = { delivery: DELIVERY, tsa: { url: tsa.url, timeoutMs: 5000, retryMs: 1000, archiveMs: 3_600_000, renewDays: 180 } };
    const worker = (h: TestNode) => {
      const w = startDeliveryWorker(h.node);
      return () => w.stop();
    };
    a = await startNode({ database: database(), organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }], config, onListening: worker });
    b = await startNode({ database: bDb.options, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], config, onListening: worker });
    for (const t of [a, b]) {
      await addTrustAnchor(t.node.storage.db, new X509Certificate(tsa.caPem), "tsa");
      t.node.trustChanged();
    }
    await link(a, b);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await bDb?.cleanup();
    await tsa?.close();
  });

  const send = () => {
    const number = String(++n);
    return sendDocument(a.node, clerk(SENDER), { To: [RECIPIENT], Code: `${number}/QĐ-VPCP`, Subject: `Quyết định số ${number}`, DocumentType: { Type: 1, TypeName: "Quyết định" } }, []);
  };
  const envelope = async (t: TestNode, doc: DocumentRow) => blobBytes(t.node.storage.db, t.node.storage.blobs, (await getDocument(t.node.storage.db, doc.id))!.packetSha256);
  const record = async (t: TestNode, id: string) => documentRecord(t.node, (await getDocument(t.node.storage.db, id))!);
  const atB = (doc: DocumentRow) => waitFor(`${doc.documentId} at B`, () => findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: SENDER, documentId: doc.documentId }));
  const delivered = (doc: DocumentRow) =>
    waitFor(`delivery of ${doc.documentId}`, async () => (await listDeliveries(a.node.storage.db, doc.id, "edoc")).every((d) => d.state === "delivered"));
  const trust = (t: TestNode) => t.node.trust();
  const files = scratch();
  after(() => files.cleanup());
  const writeTemp = (name: string, text: string) => {
    const path = files.path(`${++n}-${name}`);
    writeFileSync(path, text);
    return path;
  };

  it("TSA up: the packet, the receipt 01 and a status packet go out stamped (B-T); both records say B-T", async function () {
    this.timeout(60_000);
    const doc = await send();
    const sent = await envelope(a, doc);
    expect(sent.includes(STAMPED)).to.equal(true);
    expect((await verifyPacket({ bytes: sent }, await trust(a))).report).to.include({ valid: true, level: "B-T" });
    expect((await record(a, doc.id)).verification).to.include({ level: "B-T", timestampPending: false });
    const received = await atB(doc);
    expect(sha256(await envelope(b, received))).to.equal(sha256(sent));
    expect((await record(b, received.id)).verification).to.include({ level: "B-T", timestampPending: false });
    await delivered(doc);
    const receipt = (await listStatuses(a.node.storage.db, doc.id)).find((s) => s.code === "01")!;
    const receiptBytes = await blobBytes(a.node.storage.db, a.node.storage.blobs, receipt.packetSha256);
    expect(receiptBytes.includes(STAMPED)).to.equal(true);
    expect((await verifyPacket({ bytes: receiptBytes }, await trust(a))).report).to.include({ valid: true, level: "B-T" });
    await setStatus(b.node, clerk(RECIPIENT), received.id, { code: "03" });
    const status = (await listStatuses(b.node.storage.db, received.id)).find((s) => s.code === "03")!;
    expect((await blobBytes(b.node.storage.db, b.node.storage.blobs, status.packetSha256)).includes(STAMPED)).to.equal(true);
  });

  it("TSA down at signing: the packet goes out at B-B; the job stamps it later beside the stored copy, sent bytes unchanged; the evidence bundle reaches B-T", async function () {
    this.timeout(90_000);
    tsa.mode = "down";
    let doc: DocumentRow;
    try {
      doc = await send();
      const received = await atB(doc);
      await delivered(doc);
      expect((await record(b, received.id)).verification).to.include({ level: "B-B" });
    } finally {
      tsa.mode = "ok";
    }
    const sent = await envelope(a, doc);
    expect(sent.includes(STAMPED)).to.equal(false);
    expect((await record(a, doc.id)).verification).to.include({ level: "B-B", timestampPending: true });

    // the TSA is back: one round of the job stamps A's packet, another B's receipt
    expect(await stampPending(a.node)).to.equal(1);
    expect(await stampPending(b.node)).to.equal(1);
    expect(await stampPending(a.node)).to.equal(0);
    const after = await envelope(a, doc);
    expect(sha256(after)).to.equal(sha256(sent));
    expect((await record(a, doc.id)).verification).to.include({ level: "B-T", timestampPending: false });

    const res = await fetch(`${a.url}/api/v1/documents/${doc.id}/evidence`, { headers: a.auth(SENDER, "archivist") });
    expect(res.status).to.equal(200);
    const s = scratch();
    try {
      writeFileSync(s.path("bundle.zip"), Buffer.from(await res.arrayBuffer()));
      const { anchors, registry } = testPki().trust;
      const tsaAnchors = [new X509Certificate(tsa.caPem)];
      const bundle = await verifyEvidenceBundle(s.path("bundle.zip"), { anchors, crls: [], registry, tsaAnchors });
      expect(bundle.valid, bundle.errors.join("\n")).to.equal(true);
      expect(bundle.level).to.equal("B-T");
      expect(bundle.timestamp).to.include({ valid: true });
      expect(bundle.bundle.files.map((f) => f.path)).to.include("timestamps/packet.edxml.tst").and.include(`trust/tsa-anchor-${createHash("sha256").update(tsaAnchors[0].raw).digest("hex").slice(0, 16)}.pem`);
      // without the TSA anchor the kept stamp does not count
      const untrusted = await verifyEvidenceBundle(s.path("bundle.zip"), { anchors, crls: [], registry });
      expect(untrusted.level).to.equal("B-B");
      expect(untrusted.timestamp).to.include({ reason: "TIMESTAMP_UNTRUSTED" });
    } finally {
      s.cleanup();
    }
  });

  it("archive rounds: a Merkle root over the stored items' SHA-256, stamped; the bundle proves each file existed then, after the signers' certificates expired too", async function () {
    this.timeout(90_000);
    tsa.mode = "down";
    try {
      expect(await archiveRound(a.node)).to.equal(0); // nothing stored: the items wait
    } finally {
      tsa.mode = "ok";
    }
    const doc = await sendDocument(a.node, clerk(SENDER), { To: [RECIPIENT], Code: `${++n}/QĐ-VPCP`, Subject: "Lưu trữ", DocumentType: { Type: 1, TypeName: "Quyết định" } }, [
      { path: writeTemp("phụ lục.pdf", "%PDF-1.7 lưu trữ"), name: "phụ lục.pdf", contentType: "application/pdf" },
    ]);
    await delivered(doc);
    const items = await archiveRound(a.node);
    expect(items).to.be.at.least(3); // every packet, status packet and attachment so far
    expect(await archiveRound(a.node)).to.equal(0);

    const s = scratch();
    try {
      const res = await fetch(`${a.url}/api/v1/documents/${doc.id}/evidence`, { headers: a.auth(SENDER, "archivist") });
      writeFileSync(s.path("bundle.zip"), Buffer.from(await res.arrayBuffer()));
      const { anchors, registry } = testPki().trust;
      const tsaAnchors = [new X509Certificate(tsa.caPem)];
      const bundle = await verifyEvidenceBundle(s.path("bundle.zip"), { anchors, crls: [], registry, tsaAnchors });
      expect(bundle.valid, bundle.errors.join("\n")).to.equal(true);
      expect(bundle.bundle.archive.map((x) => x.path).sort()).to.deep.equal(["attachments/01-phụ lục.pdf", "packet.edxml", bundle.bundle.statuses[0].path].sort());
      for (const proof of bundle.bundle.archive) expect(proof).to.include({ included: true, stamped: true, reason: null });
      // five years on the signers' certificates have expired, the archive stamps still prove existence
      const later = await verifyEvidenceBundle(s.path("bundle.zip"), { anchors, crls: [], registry, tsaAnchors, at: new Date(Date.now() + 5 * 365 * 86400_000) });
      for (const proof of later.bundle.archive) expect(proof).to.include({ included: true, stamped: true });
      // ten years on the TSA's certificate has expired too: the stamp needs its renewal (test/archive-renewal.test.ts)
      const unrenewed = await verifyEvidenceBundle(s.path("bundle.zip"), { anchors, crls: [], registry, tsaAnchors, at: new Date(Date.now() + 10 * 365 * 86400_000) });
      for (const proof of unrenewed.bundle.archive) expect(proof).to.include({ included: true, stamped: false, reason: "TIMESTAMP_UNTRUSTED" });
      // without the TSA's anchor: a warning, not proof
      const untrusted = await verifyEvidenceBundle(s.path("bundle.zip"), { anchors, crls: [], registry });
      for (const proof of untrusted.bundle.archive) expect(proof).to.include({ included: true, stamped: false, reason: "TIMESTAMP_UNTRUSTED" });
      expect(untrusted.valid).to.equal(true);
    } finally {
      s.cleanup();
    }
  });

  it("audit checkpoints: time-stamped by the job (the TSA away: asked again), checked by the audit verification; a forged stamp is named", async function () {
    this.timeout(60_000);
    const operator: Caller = { organId: SENDER, role: "admin", name: "cli:test", actor: "cli:test" };
    await send();
    tsa.mode = "down";
    try {
      await linkAuditLog(a.node, { checkpoint: "now" });
      expect(await stampCheckpoints(a.node)).to.equal(0);
    } finally {
      tsa.mode = "ok";
    }
    expect((await verifyAuditLog(a.node, operator)).latestCheckpoint).to.include({ timestamped: false });
    expect(await stampCheckpoints(a.node)).to.be.at.least(1);
    const v = await verifyAuditLog(a.node, operator);
    expect(v.broken).to.equal(null);
    expect(v.latestCheckpoint).to.include({ timestamped: true });
    // the stamp of another checkpoint's bytes put on this one
    const [last, other] = await a.node.storage.db("audit_checkpoints").orderBy("id", "desc").limit(2);
    if (other?.timestamp_token) {
      await a.node.storage.db("audit_checkpoints").where({ id: last.id }).update({ timestamp_token: other.timestamp_token });
      const forged = await verifyAuditLog(a.node, operator);
      expect(forged.broken?.reason).to.match(/the time-stamp of the checkpoint .* does not verify/);
      await a.node.storage.db("audit_checkpoints").where({ id: last.id }).update({ timestamp_token: last.timestamp_token });
    }
    const token = Buffer.from(last.timestamp_token, "base64");
    token[token.length - 5] ^= 0xff;
    await a.node.storage.db("audit_checkpoints").where({ id: last.id }).update({ timestamp_token: token.toString("base64") });
    expect((await verifyAuditLog(a.node, operator)).broken?.reason).to.match(/the time-stamp of the checkpoint .* does not verify/);
  });

  it("edoc trust add --tsa CA.pem makes a TSA anchor, not a signer anchor", async function () {
    this.timeout(60_000);
    const s = scratch();
    const other = anotherDatabase(database());
    try {
      writeFileSync(s.path("tsa-ca.pem"), tsa.caPem);
      const o = other.options;
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, EDOC_DATA_DIR: o.dataDir };
      if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
      if (o.schema) env.EDOC_DB_SCHEMA = o.schema;
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(EDOC, ["trust", "add", "--tsa", s.path("tsa-ca.pem")], { env }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr })),
      );
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include("trusted for time-stamps: ");
      const storage = await openStorage(o);
      try {
        expect((await listTrustAnchors(storage.db, "tsa")).map((c) => c.subject)).to.deep.equal([new X509Certificate(tsa.caPem).subject]);
        expect((await listTrustAnchors(storage.db)).map((c) => c.subject)).to.not.include(new X509Certificate(tsa.caPem).subject);
      } finally {
        await storage.close();
      }
    } finally {
      await other.cleanup();
      s.cleanup();
    }
  });
}
