// Two real nodes over HTTP on 127.0.0.1, each with its own database (on SQLite and on PostgreSQL):
// node A hosts the sender G22, node B the recipient H41. Documents travel through the durable
// queue and the /edxml door; receipts, statuses and business operations come back; the door
// refuses what it must; deliveries retry with growing delays and can be sent again.
import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { formatDate, formatTimestamp, type Edoc, type StatusCode, type StatusPacket } from "../envelopes/index.ts";
import { RECIPIENT_HEADER, documentRecord, resendDocument, retryDelay, sendDocument, setStatus, startDeliveryWorker, tokenCaller, type AppContext as Node, type Caller } from "../app/index.ts";
import { signStatus, type Identity } from "../signing/index.ts";
import { issueCertificate } from "../signing/testing.ts";
import {
  addLocalAgency,
  blobBytes,
  findDocument,
  getDocument,
  listAttachments,
  listDeliveries,
  listStatuses,
  type DocumentRow,
} from "../storage/index.ts";
import { anotherDatabase, onEachDatabase, type TestDatabase } from "./helpers/db.ts";
import { pack, RECIPIENT, sampleEdoc, scratch, SENDER, testPki } from "../fixtures/index.ts";
import { link, startNode, testIdentity, type TestNode } from "./helpers/node.ts";
import { waitFor } from "./helpers/wait.ts";

const THIRD = "000.00.00.K01"; // registered at A, hosted nowhere
const DELIVERY = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000, leaseMs: 5000, pollMs: 20, timeoutMs: 5000 };
const MAX_PACKET = 1024 * 1024;



const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const clerk = (organId: string): Caller => tokenCaller({ id: 0, organId, role: "clerk", name: "Văn thư" });
const count = async (node: Node, table: string, where: Record<string, unknown> = {}) => Number((await node.storage.db(table).where(where).count({ n: "*" }))[0].n);

function stopListening(t: TestNode): Promise<void> {
  return new Promise((resolve) => {
    t.server.close(() => resolve());
    t.server.closeAllConnections();
  });
}
function listenAgain(t: TestNode): Promise<void> {
  const port = Number(new URL(t.url).port);
  return new Promise((resolve, reject) => {
    t.server.once("error", reject);
    t.server.listen(port, "127.0.0.1", () => resolve());
  });
}

onEachDatabase("exchange between two nodes", (database) => {
  // nested, so that the nodes close before the database is dropped
  describe("A (G22) and B (H41), each a node with its own database", () => suite(database));
});

function suite(database: () => TestDatabase) {
  let a: TestNode; // sender G22
  let b: TestNode; // recipient H41
  let bDb: ReturnType<typeof anotherDatabase>;
  let files: ReturnType<typeof scratch>;
  let n = 0;

  before(async function () {
    this.timeout(60_000);
    files = scratch();
    bDb = anotherDatabase(database());
    const worker = (random?: () => number) => (h: TestNode) => {
      const w = startDeliveryWorker(h.node, { random });
      return () => w.stop();
    };
    // A's jitter is pinned to the top of its range, so that the growth of the delays is visible
    a = await startNode({
      database: database(),
      organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }],
      config: { delivery: DELIVERY },
      onListening: worker(() => 0.999),
    });
    b = await startNode({
      database: bDb.options,
      organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }],
      config: { delivery: DELIVERY, maxPacketBytes: MAX_PACKET },
      onListening: worker(),
    });
    await link(a, b);
    // a third agency A knows, registered at B's address although B does not host it
    await a.register([{ organId: THIRD, name: "Sở Tư pháp (test)", endpoint: b.url, certificates: [testIdentity(THIRD).certificate] }]);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await bDb?.cleanup();
    files?.cleanup();
  });

  const file = (name: string, bytes: Buffer) => {
    const path = files.path(`${++n}-${name}`);
    writeFileSync(path, bytes);
    return { path, name, contentType: "application/pdf", bytes };
  };

  async function send(meta: Record<string, unknown> = {}, attachments: Array<{ path: string; name: string; contentType: string }> = []): Promise<DocumentRow> {
    const number = String(++n);
    return sendDocument(
      a.node,
      clerk(SENDER),
      {
        To: [RECIPIENT],
        Code: `${number}/QĐ-VPCP`,
        Subject: `Quyết định số ${number} về việc ban hành Quy chế văn thư`,
        DocumentType: { Type: 1, TypeName: "Quyết định" },
        ...meta,
      },
      attachments,
    );
  }

  const delivery = async (doc: DocumentRow, organId = RECIPIENT) => (await listDeliveries(a.node.storage.db, doc.id, "edoc")).find((d) => d.organId === organId)!;
  const delivered = (doc: DocumentRow, organId = RECIPIENT) =>
    waitFor(`delivery of ${doc.documentId} to ${organId}`, async () => {
      const d = await delivery(doc, organId);
      return d.state === "delivered" ? d : null;
    });
  const arrived = (doc: DocumentRow) =>
    waitFor(`${doc.documentId} at B`, () => findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: SENDER, documentId: doc.documentId }));
  const recordState = async (doc: DocumentRow) => (await documentRecord(a.node, (await getDocument(a.node.storage.db, doc.id))!)).deliveries[0].state;
  const stateAtA = (doc: DocumentRow, state: string) => waitFor(`${doc.documentId} to show ${state} at A`, async () => (await recordState(doc)) === state);

  /** A packet from the fixtures' sender, addressed as asked. */
  async function packet(overrides: Partial<Edoc["header"]> = {}, attachments: Buffer[] = [], identity: Identity = testPki().sender): Promise<{ bytes: Buffer; documentId: string }> {
    const number = String(++n);
    const date = formatDate(new Date());
    const base = sampleEdoc({}, attachments.map((_, i) => `Phụ lục ${i + 1}.pdf`));
    const documentId = `${SENDER},${date},${number}/QĐ-VPCP`;
    const edoc: Edoc = {
      ...base,
      header: { ...base.header, DocumentId: documentId, Code: { CodeNumber: number, CodeNotation: "QĐ-VPCP" }, PromulgationInfo: { Place: "Hà Nội", PromulgationDate: date }, ...overrides },
    };
    return { bytes: await pack(edoc, attachments, identity), documentId };
  }

  const post = (url: string, body: BodyInit | Buffer, headers: Record<string, string> = { "content-type": "application/xml" }) =>
    fetch(`${url}/edxml`, { method: "POST", headers, body: body as BodyInit });

  function statusPacket(from: string, identity: Identity, about: DocumentRow, code: StatusCode, organ = SENDER, at = new Date()): Buffer {
    const status: StatusPacket = {
      kind: "status",
      header: {
        From: { OrganId: from, OrganName: from },
        ResponseFor: { OrganId: organ, Code: about.code, PromulgationDate: about.promulgationDate.replace(/-/g, "/"), DocumentId: about.documentId },
        StatusCode: code,
        Description: `test ${code}`,
        Timestamp: formatTimestamp(at),
      },
    };
    return signStatus(status, identity);
  }

  it("delivers a document: the sender holds the receipt 01; packet and attachments arrive byte-exact", async () => {
    const one = file("Quyết định 45.pdf", randomBytes(150_000));
    const two = file("Phụ lục — bảng kê.pdf", randomBytes(70_001));
    const doc = await send({}, [one, two]);
    const d = await delivered(doc);
    expect(d.attempts).to.equal(1);
    expect(d.lastError).to.equal(null);
    const record = await documentRecord(a.node, (await getDocument(a.node.storage.db, doc.id))!);
    expect(record.deliveries).to.deep.include({ organId: RECIPIENT, state: "delivered", attempts: 1, nextAttemptAt: null, lastError: null });
    expect(record.statuses.map((s) => [s.code, s.from, s.direction])).to.deep.equal([["01", RECIPIENT, "received"]]);

    const got = (await findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: SENDER, documentId: doc.documentId }))!;
    expect(got).to.include({ status: "received", subject: doc.subject, code: doc.code });
    expect(got.report.valid).to.equal(true);
    // the packet as sent, byte for byte
    const sent = await blobBytes(a.node.storage.db, a.node.storage.blobs, doc.packetSha256);
    const stored = await blobBytes(b.node.storage.db, b.node.storage.blobs, got.packetSha256);
    expect(stored.equals(sent)).to.equal(true);
    expect(got.packetSha256).to.equal(doc.packetSha256);
    // the attachments decoded to the very bytes the clerk uploaded
    const atts = await listAttachments(b.node.storage.db, got.id);
    expect(atts.map((x) => x.name)).to.deep.equal([one.name, two.name]);
    for (const [i, f] of [one, two].entries()) {
      expect(atts[i].sha256).to.equal(sha256(f.bytes));
      expect(atts[i].size).to.equal(f.bytes.length);
      expect((await blobBytes(b.node.storage.db, b.node.storage.blobs, atts[i].sha256)).equals(f.bytes)).to.equal(true);
    }
    // the receipt B signed is the one A holds
    const bStatuses = await listStatuses(b.node.storage.db, got.id);
    expect(bStatuses.map((s) => [s.code, s.from, s.to, s.direction])).to.deep.equal([["01", RECIPIENT, SENDER, "sent"]]);
    const aStatuses = await listStatuses(a.node.storage.db, doc.id);
    expect(aStatuses[0].packetSha256).to.equal(bStatuses[0].packetSha256);
    expect(await count(b.node, "audit_log", { action: "receive.new", document: got.id })).to.equal(1);
  });

  it("carries the recipient's statuses back: 03 then 06 show on the sender's record", async () => {
    const doc = await send();
    await delivered(doc);
    const got = await arrived(doc);
    await setStatus(b.node, clerk(RECIPIENT), got.id, { code: "03", description: "Đã tiếp nhận, vào sổ văn bản đến" });
    await stateAtA(doc, "03");
    await setStatus(b.node, clerk(RECIPIENT), got.id, { code: "06" });
    await stateAtA(doc, "06");
    const statuses = await listStatuses(a.node.storage.db, doc.id);
    expect(statuses.map((s) => [s.code, s.from, s.direction])).to.deep.equal([
      ["01", RECIPIENT, "received"],
      ["03", RECIPIENT, "received"],
      ["06", RECIPIENT, "received"],
    ]);
    expect(statuses[1].description).to.equal("Đã tiếp nhận, vào sổ văn bản đến");
    // what A holds is what B signed and sent
    const sentByB = await listStatuses(b.node.storage.db, got.id);
    expect(sentByB.map((s) => s.packetSha256)).to.deep.equal(statuses.map((s) => s.packetSha256));
    expect((await getDocument(b.node.storage.db, got.id))!.status).to.equal("06");
    // B's worker records its delivery once A's answer is back, a moment after A stored the status
    const states = async () => (await listDeliveries(b.node.storage.db, got.id, "status")).map((d) => d.state);
    await waitFor("B's status deliveries to be recorded", async () => (await states()).every((x) => x === "delivered"));
    expect(await states()).to.deep.equal(["delivered", "delivered"]);
  });

  it("revoke, update and replace mark the original at both parties", async () => {
    for (const [type, state] of [
      [1, "revoked"],
      [2, "updated"],
      [3, "replaced"],
    ] as const) {
      const original = await send();
      await delivered(original);
      await arrived(original);
      const bussiness =
        type === 1
          ? { BussinessDocType: 1, BussinessDocReason: "Thu hồi do sai sót", DocumentId: original.documentId, Paper: 0 }
          : type === 2
            ? { BussinessDocType: 2, BussinessDocReason: "Cập nhật trích yếu", DocumentId: original.documentId, Paper: 0, BussinessDocumentInfo: { DocumentInfo: 1, DocumentReceiver: 0, ReceiverList: [] } }
            : { BussinessDocType: 3, BussinessDocReason: "Văn bản thay thế", Paper: 0, ReplacementInfoList: [{ DocumentId: original.documentId, OrganIdList: [RECIPIENT] }] };
      const act = await send({ Bussiness: bussiness });
      await delivered(act);
      const actAtB = await arrived(act);
      expect(actAtB.businessType).to.equal(type);
      expect(actAtB.relatedDocumentId).to.equal(original.documentId);
      expect((await getDocument(a.node.storage.db, original.id))!.businessState).to.equal(state);
      const originalAtB = (await findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: SENDER, documentId: original.documentId }))!;
      expect(originalAtB.businessState, `type ${type}`).to.equal(state);
      expect(actAtB.businessState).to.equal(null);
    }
  });

  it("a revocation that reuses the original's DocumentId (VPCP style) marks it revoked and creates nothing", async () => {
    const original = await packet();
    const first = await post(b.url, original.bytes);
    expect(first.status).to.equal(202);
    const receipt = Buffer.from(await first.arrayBuffer());
    const docs = await count(b.node, "documents");
    // same DocumentId and Code as the original, with a Bussiness block of type 1
    const base = sampleEdoc();
    const date = formatDate(new Date());
    const [number] = original.documentId.split(",")[2].split("/");
    const again: Edoc = {
      ...base,
      header: { ...base.header, DocumentId: original.documentId, Code: { CodeNumber: number, CodeNotation: "QĐ-VPCP" }, PromulgationInfo: { Place: "Hà Nội", PromulgationDate: date } },
      bussiness: { BussinessDocType: 1, BussinessDocReason: "Thu hồi văn bản", DocumentId: original.documentId, Paper: 0 },
    };
    const res = await post(b.url, await pack(again, [], testPki().sender));
    expect(res.status).to.equal(202);
    expect(Buffer.from(await res.arrayBuffer()).equals(receipt)).to.equal(true);
    expect(await count(b.node, "documents")).to.equal(docs);
    const atB = (await findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: SENDER, documentId: original.documentId }))!;
    expect(atB.businessState).to.equal("revoked");
  });

  it("a node hosting two recipients stores the document for each; each delivery gets its own recipient's receipt", async () => {
    const second = "000.00.00.H42";
    const identity = testIdentity(second, "Sở Nội vụ Nghệ An");
    await addLocalAgency(b.node.storage.db, b.node.key, { organId: second, name: "Sở Nội vụ Nghệ An", identity });
    await b.register([{ organId: second, name: "Sở Nội vụ Nghệ An", endpoint: b.url, certificates: [identity.certificate] }]);
    await a.register([{ organId: second, name: "Sở Nội vụ Nghệ An", endpoint: b.url, certificates: [identity.certificate] }]);
    const doc = await send({ To: [RECIPIENT, second] });
    await delivered(doc, RECIPIENT);
    await delivered(doc, second);
    const statuses = await listStatuses(a.node.storage.db, doc.id);
    expect(statuses.map((s) => [s.code, s.from]).sort()).to.deep.equal([
      ["01", RECIPIENT],
      ["01", second],
    ]);
    for (const organ of [RECIPIENT, second]) {
      const got = (await findDocument(b.node.storage.db, { direction: "in", localOrgan: organ, from: SENDER, documentId: doc.documentId }))!;
      expect(got.packetSha256).to.equal(doc.packetSha256);
      const [receipt] = await listStatuses(b.node.storage.db, got.id);
      expect(receipt).to.include({ code: "01", from: organ, direction: "sent" });
      expect(statuses.find((s) => s.from === organ)!.packetSha256).to.equal(receipt.packetSha256);
    }
    expect(await count(b.node, "documents", { document_id: doc.documentId })).to.equal(2);
  });

  it("take-back: 13 reaches the recipient and is answered by 15, or by 16", async () => {
    for (const answer of ["15", "16"] as const) {
      const doc = await send();
      await delivered(doc);
      const got = await arrived(doc);
      await setStatus(a.node, clerk(SENDER), doc.id, { code: "13", description: "Đề nghị trả lại văn bản để điều chỉnh" });
      await waitFor("13 at B", async () => (await getDocument(b.node.storage.db, got.id))!.status === "13");
      const atB = await listStatuses(b.node.storage.db, got.id);
      expect(atB.map((s) => [s.code, s.from, s.direction])).to.deep.equal([
        ["01", RECIPIENT, "sent"],
        ["13", SENDER, "received"],
      ]);
      await setStatus(b.node, clerk(RECIPIENT), got.id, { code: answer });
      await stateAtA(doc, answer);
      const atA = await listStatuses(a.node.storage.db, doc.id);
      expect(atA.map((s) => [s.code, s.direction])).to.deep.equal([
        ["01", "received"],
        ["13", "sent"],
        [answer, "received"],
      ]);
    }
  });

  it("a packet delivered again creates nothing and gets the very same receipt, also when it comes concurrently", async () => {
    const doc = await send();
    await delivered(doc);
    const got = await arrived(doc);
    const before = { docs: await count(b.node, "documents"), statuses: await count(b.node, "statuses"), blobs: await count(b.node, "blobs") };
    const receiptAtA = await blobBytes(a.node.storage.db, a.node.storage.blobs, (await listStatuses(a.node.storage.db, doc.id))[0].packetSha256);
    const bytes = await blobBytes(a.node.storage.db, a.node.storage.blobs, doc.packetSha256);
    for (const headers of [{ "content-type": "application/xml", [RECIPIENT_HEADER]: RECIPIENT }, { "content-type": "application/xml" }] as Array<Record<string, string>>) {
      const res = await post(b.url, bytes, headers);
      expect(res.status).to.equal(202);
      expect(res.headers.get("content-type")).to.match(/^application\/xml/);
      expect(Buffer.from(await res.arrayBuffer()).equals(receiptAtA)).to.equal(true);
    }
    expect({ docs: await count(b.node, "documents"), statuses: await count(b.node, "statuses"), blobs: await count(b.node, "blobs") }).to.deep.equal(before);
    expect((await getDocument(b.node.storage.db, got.id))!.status).to.equal("received");

    // the same new packet six times at once: one record, six identical receipts
    const fresh = await packet({}, [randomBytes(5000)]);
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(b.url, fresh.bytes)));
    const bodies = await Promise.all(answers.map(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) })));
    for (const x of bodies) {
      expect(x.status, x.body.toString()).to.equal(202);
      expect(x.body.equals(bodies[0].body)).to.equal(true);
    }
    expect(await count(b.node, "documents", { document_id: fresh.documentId })).to.equal(1);
    const one = (await findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: SENDER, documentId: fresh.documentId }))!;
    expect((await listStatuses(b.node.storage.db, one.id)).length).to.equal(1);
  });

  it("the door answers 400 to what is not an edXML packet", async () => {
    const before = await count(b.node, "documents");
    const cases: Array<[string, BodyInit, Record<string, string>]> = [
      ["not XML", "hello, this is not XML", { "content-type": "application/xml" }],
      ["not edXML", '<?xml version="1.0" encoding="UTF-8"?><invoice><total>1</total></invoice>', { "content-type": "text/xml" }],
      ["empty", "", { "content-type": "application/xml" }],
      ["JSON", '{"edXML":true}', { "content-type": "application/json" }],
      ["a DTD", '<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x "y">]><edXML/>', { "content-type": "application/xml" }],
    ];
    for (const [what, body, headers] of cases) {
      const res = await post(b.url, body, headers);
      expect(res.status, what).to.equal(400);
      const json = await res.json();
      expect(json.error, what).to.be.a("string").and.not.equal("");
    }
    // a real packet for B, but the recipient header names an agency B does not host
    const p = await packet();
    const res = await post(b.url, p.bytes, { "content-type": "application/xml", [RECIPIENT_HEADER]: THIRD });
    expect(res.status).to.equal(400);
    expect((await res.json()).error).to.include(THIRD);
    expect(await count(b.node, "documents")).to.equal(before);
  });

  it("the door answers 404 to a packet for no local agency, and the worker fails such a delivery at once", async () => {
    const p = await packet({ To: [{ OrganId: THIRD, OrganName: "Sở Tư pháp" }] });
    const res = await post(b.url, p.bytes);
    expect(res.status).to.equal(404);
    expect((await res.json()).error).to.include(THIRD);
    // A's registry sends THIRD's packets to B, which answers 404: failed after one attempt
    const doc = await send({ To: [THIRD] });
    const d = await waitFor("failed delivery", async () => {
      const x = await delivery(doc, THIRD);
      return x.state === "failed" ? x : null;
    });
    expect(d.attempts).to.equal(1);
    expect(d.lastError).to.include("HTTP 404").and.include(THIRD);
  });

  it("the door answers 413 to a packet over the limit, declared or streamed, and keeps nothing", async () => {
    const big = await packet({}, [randomBytes(MAX_PACKET)]);
    const before = { docs: await count(b.node, "documents"), blobs: await count(b.node, "blobs") };
    const declared = await post(b.url, big.bytes);
    expect(declared.status).to.equal(413);
    expect((await declared.json()).error).to.include(String(MAX_PACKET));
    // without a length: counted as it streams
    const streamed = await fetch(`${b.url}/edxml`, {
      method: "POST",
      headers: { "content-type": "application/xml" },
      body: (async function* () {
        for (let i = 0; i < big.bytes.length; i += 64 * 1024) yield big.bytes.subarray(i, i + 64 * 1024);
      })() as unknown as BodyInit,
      duplex: "half",
    } as RequestInit).catch((err: Error) => err);
    if (streamed instanceof Error) throw streamed;
    expect(streamed.status).to.equal(413);
    expect({ docs: await count(b.node, "documents"), blobs: await count(b.node, "blobs") }).to.deep.equal(before);
    expect(readdirSync(join(b.node.config.dataDir, "tmp"))).to.deep.equal([]);
  });

  it("the door answers 422 with the report to a tampered or forged packet and stores nothing but a log line", async () => {
    const good = await packet();
    const text = good.bytes.toString("utf8");
    const tampered = Buffer.from(text.replace("Quyết định về việc ban hành", "Quyết định về việc bãi bỏ"), "utf8");
    expect(tampered.equals(good.bytes)).to.equal(false);
    // signed by a certificate of the test CA that is not registered for G22
    const forged = await packet({}, [], testIdentity("000.00.00.Z99", "Kẻ mạo danh"));
    // signed under a root nobody trusts
    const rogueRoot = issueCertificate({ subject: { CN: "Rogue Root CA" }, ca: true });
    const rogueLeaf = issueCertificate({ subject: { CN: "Văn phòng Chính phủ (giả)" }, issuer: rogueRoot });
    const untrusted = await packet({}, [], { ...rogueLeaf, chain: [rogueRoot.certificate] });
    const before = { docs: await count(b.node, "documents"), blobs: await count(b.node, "blobs"), statuses: await count(b.node, "statuses"), refused: await count(b.node, "audit_log", { action: "inbound.rejected" }) };
    for (const [what, bytes, sub] of [
      ["tampered", tampered, "HASH_FAILURE"],
      ["forged", forged.bytes, "SIGNER_NOT_BOUND"],
      ["untrusted", untrusted.bytes, "NO_CERTIFICATE_CHAIN_FOUND"],
    ] as const) {
      const res = await post(b.url, bytes);
      expect(res.status, what).to.equal(422);
      const report = await res.json();
      expect(report, what).to.include({ valid: false, subIndication: sub });
      expect(report.errors, what).to.have.length.greaterThan(0);
    }
    expect({ docs: await count(b.node, "documents"), blobs: await count(b.node, "blobs"), statuses: await count(b.node, "statuses") }).to.deep.equal({
      docs: before.docs,
      blobs: before.blobs,
      statuses: before.statuses,
    });
    const lines = await b.node.storage.db("audit_log").where({ action: "inbound.rejected" }).orderBy("id");
    expect(lines.length).to.equal(before.refused + 3);
    const details = lines.slice(-3).map((l) => JSON.parse(l.detail));
    expect(details.map((d) => d.subIndication)).to.deep.equal(["HASH_FAILURE", "SIGNER_NOT_BOUND", "NO_CERTIFICATE_CHAIN_FOUND"]);
    expect(details.every((d) => d.sender === SENDER)).to.equal(true);
    const metrics = await b.node.metrics.registry.getSingleMetricAsString("edoc_verification_failures_total");
    expect(metrics).to.include('sub_indication="HASH_FAILURE"} 1');
  });

  it("statuses: out of order or from a non-recipient → 409 and nothing stored; unknown document → 404; the same status twice → 202, once", async () => {
    const pki = testPki();
    const doc = await send();
    await delivered(doc);
    const got = await arrived(doc);
    const before = await listStatuses(a.node.storage.db, doc.id);
    const refusedBefore = await count(a.node, "audit_log", { action: "inbound.status.refused" });

    for (const [what, bytes, words] of [
      ["05 before 03", statusPacket(RECIPIENT, pki.recipient, doc, "05"), "03"],
      ["15 without 13", statusPacket(RECIPIENT, pki.recipient, doc, "15"), "13"],
      ["from a non-recipient", statusPacket(THIRD, testIdentity(THIRD), doc, "03"), "not a recipient"],
    ] as const) {
      const res = await post(a.url, bytes);
      expect(res.status, what).to.equal(409);
      expect((await res.json()).error, what).to.include(words);
    }
    expect(await listStatuses(a.node.storage.db, doc.id)).to.deep.equal(before);
    expect(await count(a.node, "audit_log", { action: "inbound.status.refused" })).to.equal(refusedBefore + 3);

    const unknown = { ...doc, documentId: `${SENDER},2026/01/01,999/KHONG-CO` };
    const res404 = await post(a.url, statusPacket(RECIPIENT, pki.recipient, unknown, "03"));
    expect(res404.status).to.equal(404);
    // a 13 must come from the original sender: B holds nothing from H41 itself
    const res404b = await post(b.url, statusPacket(RECIPIENT, pki.recipient, got, "13", RECIPIENT));
    expect(res404b.status).to.equal(404);

    // B's 03, as the worker delivered it, delivered once more by hand
    await setStatus(b.node, clerk(RECIPIENT), got.id, { code: "03" });
    await stateAtA(doc, "03");
    const sent03 = (await listStatuses(b.node.storage.db, got.id)).find((s) => s.code === "03")!;
    const again = await post(a.url, await blobBytes(b.node.storage.db, b.node.storage.blobs, sent03.packetSha256));
    expect(again.status).to.equal(202);
    expect(await again.json()).to.deep.equal({ accepted: true, duplicate: true });
    expect((await listStatuses(a.node.storage.db, doc.id)).map((s) => s.code)).to.deep.equal(["01", "03"]);
  });

  /** The same signed packet in other bytes: changed only outside what the signature covers. */
  const rewrapped = (bytes: Buffer): Array<[string, Buffer]> => {
    const text = bytes.toString("utf8");
    const body = text.replace(/^<\?xml[^>]*\?>\n/, "");
    expect(body).to.not.equal(text);
    return [
      ["a newline after </edXML>", Buffer.concat([bytes, Buffer.from("\n")])],
      ["no XML declaration", Buffer.from(body)],
      ["another declaration and a comment before the root", Buffer.from(`<?xml version='1.0' encoding='utf-8'?>\n<!-- chuyển tiếp -->\n${body}  `)],
      ["other whitespace between the envelope's elements", Buffer.from(text.replace("\n    </edXML:edXMLHeader>\n  </edXML:edXMLEnvelope>", "</edXML:edXMLHeader>\n\n\t</edXML:edXMLEnvelope>"))],
      ["CRLF line ends", Buffer.from(text.replace(/\n/g, "\r\n"))],
    ];
  };
  /** Runs `fn` with `t`'s clock `ms` ahead (the signed Timestamps follow it). */
  async function ahead<T>(t: TestNode, ms: number, fn: () => Promise<T>): Promise<T> {
    const now = t.node.now;
    t.node.now = () => new Date(Date.now() + ms);
    try {
      return await fn();
    } finally {
      t.node.now = now;
    }
  }
  /** What each party holds of the pair's statuses: A's and B's records must agree. */
  async function bothRecords(doc: DocumentRow, got: DocumentRow) {
    const strip = (rows: Awaited<ReturnType<typeof listStatuses>>) => rows.map((s) => ({ code: s.code, from: s.from, to: s.to, packet: s.packetSha256, timestamp: s.timestamp }));
    const atA = await listStatuses(a.node.storage.db, doc.id);
    const atB = await listStatuses(b.node.storage.db, got.id);
    expect(strip(atA)).to.deep.equal(strip(atB));
    // what one sent the other received
    expect(atA.map((s) => s.direction)).to.deep.equal(atB.map((s) => (s.direction === "sent" ? "received" : "sent")));
    expect(atA.every((s) => s.timestamp !== null)).to.equal(true);
    return atA.map((s) => s.code);
  }

  it("a status replayed in other bytes is the one already held: 202 duplicate, nothing changes (B's old 04 after 05); an older one is refused 409", async () => {
    const pki = testPki();
    const doc = await send();
    await delivered(doc);
    const got = await arrived(doc);
    for (const code of ["03", "04", "05"] as const) {
      await setStatus(b.node, clerk(RECIPIENT), got.id, { code });
      await stateAtA(doc, code);
    }
    const sentByB = await listStatuses(b.node.storage.db, got.id);
    const sent04 = sentByB.find((s) => s.code === "04")!;
    const old04 = await blobBytes(b.node.storage.db, b.node.storage.blobs, sent04.packetSha256);
    const before = { statuses: await listStatuses(a.node.storage.db, doc.id), blobs: await count(a.node, "blobs") };
    // the receipt too, which A took from the answer to its delivery rather than at its door
    const receipt = await blobBytes(b.node.storage.db, b.node.storage.blobs, sentByB.find((s) => s.code === "01")!.packetSha256);
    for (const [what, bytes] of [...rewrapped(old04), ...rewrapped(receipt).map(([w, x]): [string, Buffer] => [`the receipt, ${w}`, x])]) {
      expect(sha256(bytes), what).to.not.equal(sent04.packetSha256);
      const res = await post(a.url, bytes);
      expect(res.status, `${what}: ${await res.clone().text()}`).to.equal(202);
      expect(await res.json(), what).to.deep.equal({ accepted: true, duplicate: true });
      expect(await recordState(doc), what).to.equal("05");
    }
    expect({ statuses: await listStatuses(a.node.storage.db, doc.id), blobs: await count(a.node, "blobs") }).to.deep.equal(before);

    // a genuine 04 of B, signed before its 05: older than the state it would change
    const refused = await count(a.node, "audit_log", { action: "inbound.status.refused" });
    const stale = await post(a.url, statusPacket(RECIPIENT, pki.recipient, doc, "04", SENDER, new Date(Date.now() - 3600_000)));
    expect(stale.status).to.equal(409);
    expect((await stale.json()).error).to.match(/^04 \(.*\), signed .*, is older than 05 \(signed .*\), which it would follow$/);
    expect(await count(a.node, "audit_log", { action: "inbound.status.refused" })).to.equal(refused + 1);
    const line = await a.node.storage.db("audit_log").where({ action: "inbound.status.refused" }).orderBy("id", "desc").first();
    expect(JSON.parse(line.detail)).to.include({ from: RECIPIENT, code: "04", documentId: doc.documentId });
    expect(await recordState(doc)).to.equal("05");
    expect(await listStatuses(a.node.storage.db, doc.id)).to.deep.equal(before.statuses);
    expect(await bothRecords(doc, got)).to.deep.equal(["01", "03", "04", "05"]);
    expect((await getDocument(b.node.storage.db, got.id))!.status).to.equal("05");
  });

  it("take-back: B's refusal (16) of a first request, replayed after the second 13, is a duplicate; an answer older than the open 13 is refused; each 13 is answered once", async () => {
    const pki = testPki();
    const doc = await send();
    await delivered(doc);
    const got = await arrived(doc);
    const statusAtB = (code: string) => waitFor(`${code} at B`, async () => (await getDocument(b.node.storage.db, got.id))!.status === code);
    await setStatus(a.node, clerk(SENDER), doc.id, { code: "13", description: "Đề nghị trả lại lần 1" });
    await statusAtB("13");
    await setStatus(b.node, clerk(RECIPIENT), got.id, { code: "16", description: "Không đồng ý trả lại" });
    await stateAtA(doc, "16");
    const first16 = (await listStatuses(b.node.storage.db, got.id)).find((s) => s.code === "16")!;
    // A asks again, its clock two minutes ahead (within the tolerated difference), so that times can lie between
    await ahead(a, 120_000, async () => {
      await setStatus(a.node, clerk(SENDER), doc.id, { code: "13", description: "Đề nghị trả lại lần 2" });
      await statusAtB("13");
      await waitFor("the second 13 delivered", async () => (await listDeliveries(a.node.storage.db, doc.id, "status")).every((d) => d.state === "delivered"));
    });
    const before = await listStatuses(a.node.storage.db, doc.id);
    expect(before.map((s) => s.code)).to.deep.equal(["01", "13", "16", "13"]);

    // the first refusal again, in other bytes: the same status, so it does not close the second request
    for (const [what, bytes] of rewrapped(await blobBytes(b.node.storage.db, b.node.storage.blobs, first16.packetSha256))) {
      const res = await post(a.url, bytes);
      expect(res.status, what).to.equal(202);
      expect(await res.json(), what).to.deep.equal({ accepted: true, duplicate: true });
    }
    expect(await listStatuses(a.node.storage.db, doc.id)).to.deep.equal(before);

    // a 16 B signed after its first refusal but before the second request: it does not answer that request
    const refused = await count(a.node, "audit_log", { action: "inbound.status.refused" });
    const early = await post(a.url, statusPacket(RECIPIENT, pki.recipient, doc, "16", SENDER, new Date(Date.now() + 60_000)));
    expect(early.status).to.equal(409);
    expect((await early.json()).error).to.match(/^16 \(.*\), signed .*, is older than the open take-back request 13 \(signed .*\), so it does not answer it$/);
    expect(await count(a.node, "audit_log", { action: "inbound.status.refused" })).to.equal(refused + 1);
    expect(await listStatuses(a.node.storage.db, doc.id)).to.deep.equal(before);

    // B's clerk cannot answer with a time before the request either (B's clock is behind A's)
    const behind = await setStatus(b.node, clerk(RECIPIENT), got.id, { code: "15" }).then(
      () => null,
      (err: Error) => err,
    );
    expect(behind?.message).to.match(/older than the open take-back request 13/);
    // once B's clock is past A's request, its answer closes the second request, and only it
    await ahead(b, 180_000, async () => {
      await setStatus(b.node, clerk(RECIPIENT), got.id, { code: "15", description: "Đồng ý trả lại" });
      await stateAtA(doc, "15");
      await waitFor("the 15 delivered", async () => (await listDeliveries(b.node.storage.db, got.id, "status")).every((d) => d.state === "delivered"));
    });
    expect(await bothRecords(doc, got)).to.deep.equal(["01", "13", "16", "13", "15"]);
    expect((await getDocument(b.node.storage.db, got.id))!.status).to.equal("15");

    // A's requests replayed at B in other bytes: the same requests, already answered; nothing reopens
    const after = await listStatuses(b.node.storage.db, got.id);
    for (const sent13 of (await listStatuses(a.node.storage.db, doc.id)).filter((s) => s.code === "13")) {
      for (const [what, bytes] of rewrapped(await blobBytes(a.node.storage.db, a.node.storage.blobs, sent13.packetSha256))) {
        const res = await post(b.url, bytes);
        expect(res.status, what).to.equal(202);
        expect(await res.json(), what).to.deep.equal({ accepted: true, duplicate: true });
      }
    }
    expect(await listStatuses(b.node.storage.db, got.id)).to.deep.equal(after);
    expect((await getDocument(b.node.storage.db, got.id))!.status).to.equal("15");
  });

  it("statuses queued while the sender is down go in order: a later one waits for the earlier", async function () {
    this.timeout(30_000);
    const doc = await send();
    await delivered(doc);
    const got = await arrived(doc);
    await stopListening(a);
    try {
      await setStatus(b.node, clerk(RECIPIENT), got.id, { code: "03" });
      await setStatus(b.node, clerk(RECIPIENT), got.id, { code: "04" });
      await waitFor("03 to be retried", async () => (await listDeliveries(b.node.storage.db, got.id, "status"))[0].attempts >= 3);
      // meanwhile 04 is never sent: it waits (without counting attempts) for 03
      const waiting = await waitFor("04 waiting", async () => {
        const x = (await listDeliveries(b.node.storage.db, got.id, "status"))[1];
        return x.state === "queued" ? x : null;
      });
      expect(waiting.attempts).to.equal(0);
      expect(waiting.lastError).to.include("waiting for the status queued before it");
    } finally {
      await listenAgain(a);
    }
    await stateAtA(doc, "04");
    expect((await listStatuses(a.node.storage.db, doc.id)).map((s) => s.code)).to.deep.equal(["01", "03", "04"]);
    // A stores 04 before B's worker records the answer: wait for B's side to say so too
    const done = await waitFor("both statuses recorded as delivered at B", async () => {
      const rows = await listDeliveries(b.node.storage.db, got.id, "status");
      return rows.every((d) => d.state === "delivered") ? rows : null;
    });
    expect(done.map((d) => d.state)).to.deep.equal(["delivered", "delivered"]);
    expect(done[1].attempts).to.equal(1);
  });

  it("while the recipient is down, retries come with growing delays, and the document arrives once it is back", async function () {
    this.timeout(30_000);
    await stopListening(b);
    let doc: DocumentRow;
    try {
      doc = await send();
      // after each failed attempt: when the next one is due, and how long after the failure
      const seen: Array<{ attempts: number; next: number; wait: number; error: string | null }> = [];
      await waitFor(
        "three failed attempts",
        async () => {
          const row = await a.node.storage.db("deliveries").where({ document: doc.id, kind: "edoc" }).first();
          const attempts = Number(row.attempts);
          if (row.state === "queued" && attempts > 0 && !seen.some((s) => s.attempts === attempts)) {
            const next = new Date(row.next_attempt_at).getTime();
            seen.push({ attempts, next, wait: next - new Date(row.updated_at).getTime(), error: row.last_error });
          }
          return seen.some((s) => s.attempts >= 3);
        },
        15_000,
      );
      expect(seen.map((s) => s.attempts)).to.deep.equal([1, 2, 3]);
      expect(seen[0].error).to.include("ECONNREFUSED");
      // the record says what is true: not "sent", but retrying, when, and why
      const record = await documentRecord(a.node, (await getDocument(a.node.storage.db, doc.id))!);
      expect(record.delivery).to.include({ state: "retrying" });
      expect(record.delivery!.lastError).to.include("ECONNREFUSED");
      expect(Date.parse(record.delivery!.nextAttemptAt!)).to.be.a("number").and.not.NaN;
      // full jitter pinned at the top of its range: base·2^(attempts−1) = 100, 200, 400 ms (less 1)
      const waits = seen.map((s) => s.wait);
      for (const [i, w] of waits.entries()) expect(w, `wait after attempt ${i + 1}`).to.be.within(100 * 2 ** i - 30, 100 * 2 ** i);
      // and the attempts themselves spread out accordingly
      const gaps = [seen[1].next - seen[0].next, seen[2].next - seen[1].next];
      expect(gaps[0]).to.be.at.least(195);
      expect(gaps[1]).to.be.at.least(395);
      expect(gaps[1]).to.be.greaterThan(gaps[0]);
    } finally {
      await listenAgain(b);
    }
    const d = await delivered(doc);
    expect(d.attempts).to.be.within(4, 5);
    expect((await documentRecord(a.node, (await getDocument(a.node.storage.db, doc.id))!)).delivery).to.deep.equal({ state: "delivered", nextAttemptAt: null, lastError: null });
    await arrived(doc);
    expect(await count(b.node, "documents", { document_id: doc.documentId })).to.equal(1);
  });

  it("a recipient that answers badly is tried again with the reason, each packet sent once per attempt: a receipt that does not verify, a kept-open connection reset mid-answer, an answer over 1 MiB, an answer that stops", async function () {
    this.timeout(60_000);
    await stopListening(b);
    // in B's place, a server that reads the packet and then misbehaves, a different way each time
    let served = 0;
    const sockets: Socket[] = [];
    let attemptsAtThird: number | null = null;
    const bad = createServer((req, res) => {
      const n = served++;
      sockets.push(req.socket);
      req.resume();
      req.on("end", async () => {
        if (n === 0) res.writeHead(202, { "content-type": "application/xml" }).end("<Status/>");
        else if (n === 1) {
          // on the connection kept open from the first: a head, a part, then a reset
          res.writeHead(202, { "content-type": "application/xml", "content-length": "5000" }).write("<Status");
          setTimeout(() => req.socket.resetAndDestroy(), 20);
        } else if (n === 2) {
          // a second send of attempt 2 would come before its outcome is recorded, with the claim's attempts still 2
          attemptsAtThird = Number((await a.node.storage.db("deliveries").where({ kind: "edoc" }).orderBy("id", "desc").first()).attempts);
          res.writeHead(202, { "content-type": "application/xml" }).end(Buffer.alloc(2 << 20, 0x20));
        } else res.writeHead(202, { "content-type": "application/xml", "content-length": "5000" }).write("<Status"); // then nothing more
      });
    });
    await new Promise<void>((resolve) => bad.listen(Number(new URL(b.url).port), "127.0.0.1", () => resolve()));
    let doc: DocumentRow;
    const errors: string[] = [];
    try {
      doc = await send();
      await waitFor(
        "four answers refused",
        async () => {
          const row = await a.node.storage.db("deliveries").where({ document: doc.id, kind: "edoc" }).first();
          if (row.last_error && !errors.includes(row.last_error)) errors.push(row.last_error);
          return errors.length >= 4;
        },
        30_000,
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => bad.close(resolve));
      await listenAgain(b);
    }
    expect(errors[0]).to.include("accepted, but the receipt does not verify");
    expect(sockets[1], "the second attempt went on the kept-open connection").to.equal(sockets[0]);
    expect(errors[1]).to.include("HTTP 202, the answer could not be read");
    expect(attemptsAtThird, "no second send of the attempt whose answer was cut").to.equal(3);
    expect(errors[2]).to.include("HTTP 202, the answer could not be read").and.include("larger than 1048576 bytes");
    expect(errors[3]).to.include(`no answer within ${DELIVERY.timeoutMs} ms`);
    // B back: the same packet goes again (sent again by the clerk if the attempts ran out meanwhile) and is delivered once
    const settled = await waitFor("the delivery settled", async () => {
      const d = await delivery(doc);
      return d.state === "delivered" || d.state === "failed" ? d : null;
    });
    if (settled.state === "failed") await resendDocument(a.node, clerk(SENDER), doc.id, {});
    await delivered(doc);
    await arrived(doc);
    expect(await count(b.node, "documents", { document_id: doc.documentId })).to.equal(1);
  });

  it("when attempts run out the delivery fails; a resend delivers it", async function () {
    this.timeout(30_000);
    await stopListening(b);
    let doc: DocumentRow;
    try {
      doc = await send();
      const d = await waitFor(
        "failed delivery",
        async () => {
          const x = await delivery(doc);
          return x.state === "failed" ? x : null;
        },
        20_000,
      );
      expect(d.attempts).to.equal(DELIVERY.maxAttempts);
      expect(d.lastError).to.include("ECONNREFUSED").and.include(`gave up after ${DELIVERY.maxAttempts} attempts`);
      expect(await recordState(doc)).to.equal("failed");
    } finally {
      await listenAgain(b);
    }
    const resend = () => fetch(`${a.url}/api/v1/documents/${doc.id}/resend`, { method: "POST", headers: { ...a.auth(SENDER, "clerk"), "content-type": "application/json" }, body: "{}" });
    const res = await resend();
    expect(res.status).to.equal(202);
    expect(((await res.json()) as { deliveries: Array<{ state: string }> }).deliveries[0].state).to.be.oneOf(["queued", "sending", "delivered"]);
    const d = await delivered(doc);
    expect(d.attempts).to.equal(1);
    await arrived(doc);
    expect((await resend()).status).to.equal(409); // nothing failed any more
  });

  it("the backoff uses full jitter: random(0, min(max, base·2^(attempts−1)))", () => {
    const cfg = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((k) => retryDelay(k, cfg, () => 0.999999))).to.deep.equal([99, 199, 399, 799, 999, 999]);
    expect(retryDelay(4, cfg, () => 0)).to.equal(0);
    for (let i = 0; i < 200; i++) {
      const k = 1 + (i % 8);
      expect(retryDelay(k, cfg)).to.be.within(0, Math.min(1000, 100 * 2 ** (k - 1)));
    }
    expect(retryDelay(10_000, cfg, () => 0.5)).to.equal(500);
  });
}
