// The national axle bridge (app/vdxp.ts) against a hub simulator written from edxml.md §7
// (test/helpers/vdxp-hub.ts), on SQLite and PostgreSQL: node A (G22) and node B (H41), each with
// its own database and hub account, exchange documents and statuses both ways through the hub;
// the hub's failures, time-outs, non-JSON answers and replays; its agency directory; and the
// unsigned packets of the VNPT library (../shared/samples/), refused unless accepted per agency.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { strFromU8, unzipSync } from "fflate";
import { formatTimestamp } from "../envelopes/index.ts";
import { documentRecord, importDirectory, pollHub, sendDocument, setStatus, startDeliveryWorker, startVdxpBridge, tokenCaller, type AppContext as Node, type Caller } from "../app/index.ts";
import { sdkHashFile, sdkHeaders, sdkTimestamp, signHeaderHmac } from "../app/vdxp-protocol.ts";
import { blobBytes, findDocument, getAgency, getDocument, listDeliveries, listStatuses, type DocumentRow } from "../storage/index.ts";
import { anotherDatabase, onEachDatabase, type TestDatabase } from "./helpers/db.ts";
import { pack, RECIPIENT, sampleEdoc, scratch, SENDER, testPki } from "../fixtures/index.ts";
import { startNode, testIdentity, type TestNode } from "./helpers/node.ts";
import { waitFor } from "./helpers/wait.ts";
import { startHub, type TestHub } from "./helpers/vdxp-hub.ts";

const DELIVERY = { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 200, leaseMs: 5000, pollMs: 20, timeoutMs: 1500 };
const SYSTEM_A = "vxp.test.a";
const SYSTEM_B = "vxp.test.b";
// secrets look like base64 and carry a non-ASCII letter: the key is their UTF-8 bytes as written
const SECRET_A = "c2VjcmV0LWE+/w==Đ";
const SECRET_B = "c2VjcmV0LWI=";
const IMPORTED = "000.00.00.H14"; // in the hub's directory only
const SAMPLES = "/work/shared/samples";


const clerk = (organId: string): Caller => tokenCaller({ id: 0, organId, role: "clerk", name: "Văn thư" });
const admin = (organId: string): Caller => ({ organId, role: "admin", name: "operator", actor: "cli:test" });
const count = async (node: Node, table: string, where: Record<string, unknown> = {}) => Number((await node.storage.db(table).where(where).count({ n: "*" }))[0].n);

describe("the SDK protocol's pieces (edxml.md §7.2)", () => {
  it("hash-file is the SHA-256 in hex without zero padding of each byte", () => {
    // sha256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
    const digest = Buffer.from("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "hex");
    expect(sdkHashFile(digest)).to.equal("ba7816bf8f1cfea414140de5dae2223b0361a396177a9cb410ff61f2015ad");
  });
  it("the timestamp is ddMMyyyy'T'HHmmss+SSSS in Vietnam time", () => {
    expect(sdkTimestamp(new Date("2025-11-22T07:15:30.123Z"))).to.equal("22112025T141530+0123");
  });
  it("sign-header is the compact JSON of the prefixed headers in key order, hash-header its HMAC keyed with the secret's UTF-8 bytes", () => {
    const h = sdkHeaders({ systemId: "vxp.saas.02", secret: SECRET_A, timestamp: "22112025T141530+0123", contentType: "application/json", call: { docId: "x-1" } });
    expect(h["XroadVnpt-sign-header-key"]).to.equal("systemid;timestamp;Content-Type;docId");
    expect(h["XroadVnpt-sign-header"]).to.equal('{"XroadVnpt-systemid":"vxp.saas.02","XroadVnpt-timestamp":"22112025T141530+0123","XroadVnpt-Content-Type":"application/json","XroadVnpt-docId":"x-1"}');
    expect(h["XroadVnpt-hash-header"]).to.equal(signHeaderHmac(SECRET_A, h["XroadVnpt-sign-header"])).and.match(/^[0-9a-f]{64}$/);
    expect(h["XroadVnpt-docId"]).to.equal("x-1");
    expect(h["User-Agent"]).to.equal("JAVASDKAgent/1.0.0 XRoad/VPCP");
  });
});

onEachDatabase("the national axle bridge", (database) => {
  describe("A (G22) and B (H41) bridged to one hub", () => suite(database));
});

function suite(database: () => TestDatabase) {
  let hub: TestHub;
  let a: TestNode;
  let b: TestNode;
  let bDb: ReturnType<typeof anotherDatabase>;
  let n = 0;

  before(async function () {
    this.timeout(60_000);
    hub = await startHub({ [SYSTEM_A]: SECRET_A, [SYSTEM_B]: SECRET_B }, { [SENDER]: SYSTEM_A, [RECIPIENT]: SYSTEM_B, [IMPORTED]: SYSTEM_A }, { timeoutMs: 3000 });
    bDb = anotherDatabase(database());
    const worker = (h: TestNode) => {
      const w = startDeliveryWorker(h.node);
      return () => w.stop();
    };
    const vdxp = (systemId: string, secret: string) => ({ endpoint: hub.url, systemId, secret, pollMs: 3_600_000, directoryMs: 3_600_000 });
    a = await startNode({ database: database(), organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }], config: { delivery: DELIVERY, vdxp: vdxp(SYSTEM_A, SECRET_A) }, onListening: worker });
    b = await startNode({ database: bDb.options, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], config: { delivery: DELIVERY, vdxp: vdxp(SYSTEM_B, SECRET_B) }, onListening: worker });
    // each knows the other as reached through the axle, with its certificate
    await a.register([{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An", endpoint: "vdxp:", certificates: [testPki().recipient.certificate] }]);
    await b.register([{ organId: SENDER, name: "Văn phòng Chính phủ", endpoint: "vdxp:", certificates: [testPki().sender.certificate] }]);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await bDb?.cleanup();
    await hub?.close();
  });
  afterEach(() => {
    expect(hub.refused, "requests the hub refused for their headers or HMAC").to.deep.equal([]);
  });

  const send = (organ = RECIPIENT) => {
    const number = String(++n);
    return sendDocument(a.node, clerk(SENDER), { To: [organ], Code: `${number}/QĐ-VPCP`, Subject: `Công văn số ${number} gửi qua trục liên thông`, DocumentType: { Type: 1, TypeName: "Công văn" } }, []);
  };
  const edocDelivery = async (doc: DocumentRow, organ = RECIPIENT) => (await listDeliveries(a.node.storage.db, doc.id, "edoc")).find((d) => d.organId === organ)!;
  const deliveryIn = (doc: DocumentRow, state: string, organ = RECIPIENT) =>
    waitFor(`the delivery of ${doc.documentId} to be ${state}`, async () => {
      const d = await edocDelivery(doc, organ);
      return d.state === state ? d : null;
    });
  const atB = (documentId: string, from = SENDER) => findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from, documentId });
  const inboxOf = (system: string, type: "edoc" | "status") => hub.items.filter((i) => i.system === system && i.messageType === type && !i.acked);
  const statusesOf = async (node: Node, id: string) => (await listStatuses(node.storage.db, id)).map((s) => `${s.code} ${s.from} ${s.direction}`);

  it("delivers a document both ways through the hub: relayed with the hub's DocId, delivered when the 01 comes back", async () => {
    const doc = await send();
    const relayed = await deliveryIn(doc, "relayed");
    expect(relayed.hubDocId).to.be.a("string").and.not.equal("");
    const item = hub.items.find((i) => i.docId === relayed.hubDocId)!;
    expect(item).to.include({ system: SYSTEM_B, messageType: "edoc", from: SENDER, to: RECIPIENT });
    // the hub carries the stored packet byte-exact; the record shows "relayed"
    expect(item.bytes.equals(await blobBytes(a.node.storage.db, a.node.storage.blobs, doc.packetSha256))).to.equal(true);
    expect((await documentRecord(a.node, doc)).deliveries[0].state).to.equal("relayed");
    expect((await documentRecord(a.node, doc)).delivery!.state).to.equal("relayed");

    // B polls: stores it, acks done, queues its 01 back through the axle
    const polled = await pollHub(b.node);
    expect(polled).to.deep.include({ done: 1, failed: 0, errors: [] });
    expect(item.acked).to.equal("done");
    const got = (await atB(doc.documentId))!;
    expect(got.report.valid).to.equal(true);
    expect(got.packetSha256).to.equal(doc.packetSha256);
    const receipt = await waitFor("B's 01 at the hub", async () => inboxOf(SYSTEM_A, "status")[0]);
    expect(receipt).to.include({ from: RECIPIENT, to: SENDER });
    // the hub holds the 01 as it answers; B records that answer just after
    const back = await waitFor("B's 01 recorded as delivered", async () => {
      const d = (await listDeliveries(b.node.storage.db, got.id, "status"))[0];
      return d?.state === "delivered" ? d : null;
    });
    expect(back).to.include({ organId: SENDER, state: "delivered" });
    expect(back.hubDocId).to.equal(receipt.docId);

    // A polls: the 01 makes the delivery delivered
    expect(await pollHub(a.node)).to.deep.include({ done: 1, failed: 0 });
    expect((await edocDelivery(doc)).state).to.equal("delivered");
    expect(await statusesOf(a.node, doc.id)).to.deep.equal([`01 ${RECIPIENT} received`]);
    expect((await documentRecord(a.node, doc)).deliveries[0].state).to.equal("delivered");

    // statuses the other way: B's clerk accepts it (03), A sees it
    await setStatus(b.node, clerk(RECIPIENT), got.id, { code: "03", description: "Đã tiếp nhận" });
    await waitFor("B's 03 at the hub", async () => inboxOf(SYSTEM_A, "status")[0]);
    await pollHub(a.node);
    expect((await documentRecord(a.node, doc)).deliveries[0].state).to.equal("03");
    // and A's take-back request (13) reaches B
    await setStatus(a.node, clerk(SENDER), doc.id, { code: "13", description: "Đề nghị lấy lại" });
    await waitFor("A's 13 at the hub", async () => inboxOf(SYSTEM_B, "status")[0]);
    await pollHub(b.node);
    expect(await statusesOf(b.node, got.id)).to.include(`13 ${SENDER} received`);
  });

  it("a replay by the hub stores nothing new and queues no second 01; a replayed status is a duplicate", async () => {
    const doc = await send();
    const relayed = await deliveryIn(doc, "relayed");
    await pollHub(b.node);
    const got = (await atB(doc.documentId))!;
    await waitFor("the 01 at the hub", async () => inboxOf(SYSTEM_A, "status")[0]);
    await pollHub(a.node);
    const before = { docs: await count(b.node, "documents"), deliveries: await count(b.node, "deliveries"), statuses: await count(a.node, "statuses") };
    const again = hub.replay(relayed.hubDocId!);
    const status = hub.items.filter((i) => i.system === SYSTEM_A && i.messageType === "status").at(-1)!;
    const statusAgain = hub.replay(status.docId);
    expect(await pollHub(b.node)).to.deep.include({ done: 1, failed: 0 });
    expect(await pollHub(a.node)).to.deep.include({ done: 1, failed: 0 });
    expect([again.acked, statusAgain.acked]).to.deep.equal(["done", "done"]);
    expect({ docs: await count(b.node, "documents"), deliveries: await count(b.node, "deliveries"), statuses: await count(a.node, "statuses") }).to.deep.equal(before);
    expect((await listDeliveries(b.node.storage.db, got.id, "status")).length).to.equal(1);
  });

  it("sendEdoc failures are retried by the queue: a FAIL answer, a time-out, an HTTP 500, an answer that is not JSON", async () => {
    hub.fault("/sendEdoc", "fail", 1, SYSTEM_A);
    hub.fault("/sendEdoc", "timeout", 1, SYSTEM_A);
    hub.fault("/sendEdoc", "non-json", 1, SYSTEM_A);
    const doc = await send();
    const d = await waitFor("the delivery to be relayed", async () => {
      const x = await edocDelivery(doc);
      return x.state === "relayed" ? x : null;
    }, 30_000);
    expect(d.attempts).to.equal(4);
    expect(hub.items.filter((i) => i.system === SYSTEM_B && i.messageType === "edoc" && !i.acked).length).to.equal(1); // sent once accepted, never again
    await pollHub(b.node);

    // until attempts run out: failed, and re-sendable
    hub.fault("/sendEdoc", "http-500", DELIVERY.maxAttempts, SYSTEM_A);
    const lost = await send();
    const failed = await deliveryIn(lost, "failed");
    expect(failed.lastError).to.match(/HTTP 500/).and.match(/gave up after 4 attempts/);
  });

  it("a poll whose list answer is not JSON takes nothing (not an empty list); getEdoc failures are tried again at the next poll", async () => {
    const doc = await send();
    await deliveryIn(doc, "relayed");
    hub.fault("/getReceivedEdocList", "non-json");
    const first = await pollHub(b.node);
    expect(first.errors.join()).to.match(/not JSON/);
    expect(first.done).to.equal(0);
    hub.fault("/getEdoc", "fail");
    const second = await pollHub(b.node);
    expect(second.done).to.equal(0);
    expect(second.errors.join()).to.match(/FAIL/);
    expect(await atB(doc.documentId)).to.equal(null);
    expect(await pollHub(b.node)).to.deep.include({ done: 1 });
    expect(await atB(doc.documentId)).to.not.equal(null);
  });

  it("a client with the wrong secret is refused by the hub's HMAC check", async () => {
    const { hubClient } = await import("../app/vdxp.ts");
    const wrong = hubClient({ endpoint: hub.url, systemId: SYSTEM_B, secret: `${SECRET_B}x`, pollMs: 1000, directoryMs: 1000 }, 2000);
    let error: Error | null = null;
    await wrong.receivedList("edoc").catch((err: Error) => (error = err));
    expect(String(error)).to.match(/hash-header is not the HMAC/);
    expect(hub.refused.splice(0)).to.have.length(1);
  });

  it("the hub takes a request as the SDK sends it: HashMap order, keys left over from earlier calls", async () => {
    // the SDK never clears its header map: a list request after a sendEdoc still signs hash-file, from, to
    const logical: Array<[string, string]> = [
      ["hash-file", "ba7816bf8f1cfea414140de5dae2223b0361a396177a9cb410ff61f2015ad"],
      ["from", SENDER],
      ["messagetype", "edoc"],
      ["Content-Type", "application/x-www-form-urlencoded"],
      ["systemid", SYSTEM_B],
      ["to", `["${RECIPIENT}"]`],
      ["servicetype", "eDoc"],
      ["timestamp", "22112025T141530+0123"],
    ];
    const signHeader = JSON.stringify(Object.fromEntries(logical.map(([k, v]) => [`XroadVnpt-${k}`, v])));
    const headers: Record<string, string> = Object.fromEntries(logical.map(([k, v]) => [`XroadVnpt-${k}`, v]));
    Object.assign(headers, {
      "Content-Type": "application/x-www-form-urlencoded",
      "XroadVnpt-sign-header-key": logical.map(([k]) => k).join(";"),
      "XroadVnpt-sign-header": signHeader,
      "XroadVnpt-hash-header": createHmac("sha256", Buffer.from(SECRET_B, "utf8")).update(signHeader).digest("hex"),
      "XroadVnpt-version": "3.0.201608",
      "User-Agent": "JAVASDKAgent/1.0.0 XRoad/VPCP",
    });
    const res = await fetch(`${hub.url}/getReceivedEdocList`, { method: "POST", headers, body: "" });
    expect(await res.json()).to.include({ status: "OK", ErrorCode: "0" });
  });

  it("a forged packet from the hub is acked fail and kept in the rejection log", async () => {
    const number = String(++n);
    const base = sampleEdoc();
    const bytes = await pack({ ...base, header: { ...base.header, DocumentId: `${SENDER},2026/11/30,${number}/QĐ-VPCP`, Code: { CodeNumber: number, CodeNotation: "QĐ-VPCP" } } }, [], testPki().sender);
    const forged = Buffer.from(bytes.toString("utf8").replace(base.header.Subject, `${base.header.Subject} (sửa)`));
    const rejectedBefore = await count(b.node, "audit_log", { action: "inbound.rejected" });
    const item = hub.deliver({ system: SYSTEM_B, messageType: "edoc", from: SENDER, to: RECIPIENT, bytes: forged });
    expect(await pollHub(b.node)).to.deep.include({ done: 0, failed: 1 });
    expect(item.acked).to.equal("fail");
    expect(await count(b.node, "audit_log", { action: "inbound.rejected" })).to.equal(rejectedBefore + 1);
    const row = await b.node.storage.db("audit_log").where({ action: "inbound.rejected" }).orderBy("id", "desc").first();
    expect(JSON.parse(row.detail).subIndication).to.equal("HASH_FAILURE");
  });

  it("imports the hub's directory without touching hand-made entries; an imported agency's signed packets wait for an admin to confirm its certificate", async () => {
    hub.directory.agencies = [
      { id: 1, code: "000.00.00.G22", name: "Văn phòng Chính phủ (hub)", pid: null },
      { id: 7, code: "000.00.00.H14", name: "UBND tỉnh Cao Bằng", pid: 1 },
      { id: 8, code: "000.00.00.G17", name: "Sở TT&TT Hải Phòng", pid: 1 },
    ];
    hub.directory.units = [{ id: 9, code: "000.00.00.K05", name: "Đơn vị đã giải thể", pid: 1, deleted: false, isAgency: true }];
    const first = await importDirectory(b.node, admin(RECIPIENT));
    expect(first.added.sort()).to.deep.equal(["000.00.00.G17", "000.00.00.H14", "000.00.00.K05"]);
    expect(first.kept).to.include(SENDER); // added by hand
    expect((await getAgency(b.node.storage.db, SENDER))!).to.include({ name: "Văn phòng Chính phủ", source: "local" });
    const h14 = (await getAgency(b.node.storage.db, IMPORTED))!;
    expect(h14).to.include({ endpoint: "vdxp:", source: "vdxp", status: "active", parentId: SENDER });
    expect(h14.certificates).to.deep.equal([]);
    // the unit is deleted later, and G17 leaves the directory: both become inactive
    hub.directory.units = [{ id: 9, code: "000.00.00.K05", name: "Đơn vị đã giải thể", pid: 1, deleted: true }];
    hub.directory.agencies = hub.directory.agencies.filter((x) => x.code !== "000.00.00.G17");
    const second = await importDirectory(b.node, admin(RECIPIENT));
    expect(second.deactivated.sort()).to.deep.equal(["000.00.00.G17", "000.00.00.K05"]);
    expect((await getAgency(b.node.storage.db, "000.00.00.K05"))!.status).to.equal("inactive");

    // H14 signs its packets, but nothing binds its certificate here: SIGNER_NOT_BOUND, acked fail
    const identity = testIdentity(IMPORTED, "UBND tỉnh Cao Bằng");
    const base = sampleEdoc();
    const number = String(++n);
    const packet = await pack(
      { ...base, header: { ...base.header, From: { OrganId: IMPORTED, OrganName: "UBND tỉnh Cao Bằng" }, DocumentId: `${IMPORTED},2026/11/30,${number}/UBND`, Code: { CodeNumber: number, CodeNotation: "UBND" } } },
      [],
      identity,
    );
    const item = hub.deliver({ system: SYSTEM_B, messageType: "edoc", from: IMPORTED, to: RECIPIENT, bytes: packet });
    expect(await pollHub(b.node)).to.deep.include({ failed: 1 });
    expect(item.acked).to.equal("fail");
    const rejected = await b.node.storage.db("audit_log").where({ action: "inbound.rejected" }).orderBy("id", "desc").first();
    expect(JSON.parse(rejected.detail).subIndication).to.equal("SIGNER_NOT_BOUND");
    // the certificate seen waits, unbound, for an admin
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${b.url}/api/v1${path}`, { method, headers: { ...b.auth(RECIPIENT, "admin"), "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const entry = await (await api("GET", `/agencies/${IMPORTED}`)).json();
    expect(entry.certificateFingerprints).to.deep.equal([]);
    expect(entry.seenCertificate.fingerprint).to.equal(identity.certificate.fingerprint256.replace(/:/g, "").toLowerCase());
    const wrongFp = await api("POST", `/agencies/${IMPORTED}/confirm-certificate`, { fingerprint: "ab".repeat(32) });
    expect(wrongFp.status).to.equal(400);
    const confirmed = await api("POST", `/agencies/${IMPORTED}/confirm-certificate`, { fingerprint: entry.seenCertificate.fingerprint });
    expect(confirmed.status, await confirmed.clone().text()).to.equal(200);
    expect((await confirmed.json()).certificateFingerprints).to.deep.equal([entry.seenCertificate.fingerprint]);
    // the hub delivers it again: now it verifies, and its 01 goes back through the axle
    hub.replay(item.docId);
    expect(await pollHub(b.node)).to.deep.include({ done: 1 });
    expect(await atB(`${IMPORTED},2026/11/30,${number}/UBND`, IMPORTED)).to.not.equal(null);
    // a re-import keeps the bound certificate
    await importDirectory(b.node, admin(RECIPIENT));
    expect((await getAgency(b.node.storage.db, IMPORTED))!.certificateFingerprints).to.deep.equal([entry.seenCertificate.fingerprint]);
  });

  it("an unsigned packet of the VNPT library is refused by default, and accepted from an agency marked accept-unsigned, shown as Chưa ký số", async () => {
    const sample = readFileSync(`${SAMPLES}/edoc_new_generated_by_vnpt_lib.edxml`);
    const documentId = "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT";
    const refused = hub.deliver({ system: SYSTEM_B, messageType: "edoc", from: SENDER, to: RECIPIENT, bytes: sample });
    const before = await count(b.node, "audit_log", { action: "inbound.rejected" });
    expect(await pollHub(b.node)).to.deep.include({ failed: 1 });
    expect(refused.acked).to.equal("fail");
    expect(await atB(documentId)).to.equal(null);
    const row = await b.node.storage.db("audit_log").where({ action: "inbound.rejected" }).orderBy("id", "desc").first();
    expect(await count(b.node, "audit_log", { action: "inbound.rejected" })).to.equal(before + 1);
    expect(JSON.parse(row.detail).subIndication).to.equal("NO_SIGNATURE");

    // the same packet at the open door is refused whatever the registry says
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${b.url}/api/v1${path}`, { method, headers: { ...b.auth(RECIPIENT, "admin"), "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const entry = await (await api("GET", `/agencies/${SENDER}`)).json();
    const put = await api("PUT", `/agencies/${SENDER}`, { name: entry.name, endpoint: "vdxp:", certificates: entry.certificates, acceptUnsigned: true });
    expect(put.status, await put.clone().text()).to.equal(200);
    expect((await put.json()).acceptUnsigned).to.equal(true);
    const door = await fetch(`${b.url}/edxml`, { method: "POST", headers: { "content-type": "application/xml" }, body: sample });
    expect(door.status).to.equal(422);

    // through the hub: accepted, never shown as valid
    const accepted = hub.replay(refused.docId);
    expect(await pollHub(b.node)).to.deep.include({ done: 1, failed: 0 });
    expect(accepted.acked).to.equal("done");
    const got = (await atB(documentId))!;
    expect(got.report).to.include({ valid: false, indication: "INDETERMINATE", subIndication: "NO_SIGNATURE" });
    expect(got.report.warnings.join()).to.match(/Chưa ký số/);
    const record = await (await fetch(`${b.url}/api/v1/documents/${got.id}`, { headers: b.auth(RECIPIENT, "clerk") })).json();
    expect(record.verification).to.include({ valid: false, unsigned: true, label: "Chưa ký số", subIndication: "NO_SIGNATURE" });
    expect(record.attachments.map((x: { name: string }) => x.name)).to.deep.equal(["1896_QD-TTg_m_294779.doc"]);
    // its 01 goes back to G22 through the axle
    await waitFor("the 01 for the unsigned document", async () => inboxOf(SYSTEM_A, "status").find((i) => i.bytes.toString().includes("7816/VPCP-TTĐT")));
    await pollHub(a.node); // (A has no such document: its 404 is acked fail)
    // the evidence bundle carries the report saying so
    const evidence = await fetch(`${b.url}/api/v1/documents/${got.id}/evidence`, { headers: b.auth(RECIPIENT, "clerk") });
    expect(evidence.status).to.equal(200);
    const report = JSON.parse(strFromU8(unzipSync(new Uint8Array(await evidence.arrayBuffer()))["report.json"]));
    expect(report).to.include({ valid: false, subIndication: "NO_SIGNATURE" });
    expect(report.warnings.join()).to.match(/Chưa ký số/);
  });

  it("unsigned statuses from an accept-unsigned agency are de-duplicated by (sender, document, code, Timestamp)", async () => {
    const doc = await send();
    await deliveryIn(doc, "relayed");
    await pollHub(b.node);
    await waitFor("the 01 at the hub", async () => inboxOf(SYSTEM_A, "status")[0]);
    await pollHub(a.node);
    await setStatus(b.node, clerk(RECIPIENT), (await atB(doc.documentId))!.id, { code: "03", description: "Đã tiếp nhận" });
    await waitFor("the 03 at the hub", async () => inboxOf(SYSTEM_A, "status")[0]);
    await pollHub(a.node);
    const entry = (await getAgency(a.node.storage.db, RECIPIENT))!;
    await a.register([{ organId: RECIPIENT, name: entry.name, endpoint: "vdxp:", certificates: entry.certificates }]);
    await a.node.storage.db("registry").where({ organ_id: RECIPIENT }).update({ accept_unsigned: true });
    a.node.trustChanged();
    // the VNPT sample status 05, about this document
    const template = readFileSync(`${SAMPLES}/status_processing_05.edxml`, "utf8");
    const status = (timestamp: string, extraSpace = "") =>
      Buffer.from(
        template
          .replaceAll("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT", doc.documentId)
          .replace("<edXML:Code>7816/VPCP-TTĐT</edXML:Code>", `<edXML:Code>${doc.code}</edXML:Code>`)
          .replace("<edXML:PromulgationDate>2015/09/30</edXML:PromulgationDate>", `<edXML:PromulgationDate>${doc.promulgationDate.replace(/-/g, "/")}</edXML:PromulgationDate>`)
          .replace("2015/09/20 11:08:36", timestamp)
          .replace("</edXML:MessageHeader>", `${extraSpace}</edXML:MessageHeader>`),
      );
    const now = formatTimestamp(new Date());
    const later = formatTimestamp(new Date(Date.now() + 2000));
    for (const bytes of [status(now), status(now, "\n  "), status(later)]) hub.deliver({ system: SYSTEM_A, messageType: "status", from: RECIPIENT, to: SENDER, bytes });
    expect(await pollHub(a.node)).to.deep.include({ done: 3, failed: 0 });
    const fives = (await listStatuses(a.node.storage.db, doc.id)).filter((s) => s.code === "05");
    expect(fives.length).to.equal(2);
    expect((await documentRecord(a.node, (await getDocument(a.node.storage.db, doc.id))!)).deliveries[0].state).to.equal("05");
  });

  it("the scheduled bridge polls the hub by itself", async () => {
    const doc = await send();
    await deliveryIn(doc, "relayed");
    const cfg = b.node.config.vdxp!;
    const hourly = cfg.pollMs;
    cfg.pollMs = 100;
    const bridge = startVdxpBridge(b.node);
    try {
      await waitFor("B's poll to take the document", () => atB(doc.documentId));
    } finally {
      await bridge.stop();
      cfg.pollMs = hourly;
    }
  });
}

onEachDatabase("the national axle bridge from the command line and the schema", (database) => {
  const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
  let hub: TestHub;
  const files = scratch();
  before(async () => {
    hub = await startHub({ [SYSTEM_A]: SECRET_A }, {});
  });
  after(async () => {
    await hub?.close();
    files.cleanup();
  });

  it("registry add --endpoint vdxp: --accept-unsigned, registry import-vdxp, registry list", async () => {
    const o = database().options();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, EDOC_DATA_DIR: o.dataDir, EDOC_VDXP_ENDPOINT: hub.url, EDOC_VDXP_SYSTEM_ID: SYSTEM_A, EDOC_VDXP_SECRET: SECRET_A };
    if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
    if (o.schema) env.EDOC_DB_SCHEMA = o.schema;
    const edoc = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => execFile(EDOC, args, { env }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr })));
    expect((await edoc("agency", "add", "--organ-id", SENDER, "--name", "Văn phòng Chính phủ", "--dev")).code).to.equal(0);
    const added = await edoc("registry", "add", "--organ-id", RECIPIENT, "--name", "UBND tỉnh Nghệ An", "--endpoint", "vdxp:", "--accept-unsigned");
    expect(added.code, added.stderr).to.equal(0);
    expect(added.stdout).to.include("reached through the national axle").and.include("Chưa ký số");
    hub.directory.agencies = [
      { id: 1, code: RECIPIENT, name: "UBND tỉnh Nghệ An (hub)", pid: null },
      { id: 2, code: IMPORTED, name: "UBND tỉnh Cao Bằng", pid: 1 },
    ];
    const imported = await edoc("registry", "import-vdxp");
    expect(imported.code, imported.stderr).to.equal(0);
    expect(imported.stdout).to.include("1 added").and.include("1 left alone");
    const list = await edoc("registry", "list");
    expect(list.stdout).to.match(new RegExp(`${RECIPIENT}  UBND tỉnh Nghệ An  vdxp:  active  0 certificate\\(s\\)  accepts unsigned`));
    expect(list.stdout).to.include(`${IMPORTED}  UBND tỉnh Cao Bằng  vdxp:  active  0 certificate(s)  parent ${RECIPIENT}  from vdxp`);
    expect(hub.refused).to.deep.equal([]);
    // without the hub's settings: exit 2 with the reason
    const none = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(EDOC, ["registry", "import-vdxp"], { env: { ...env, EDOC_VDXP_ENDPOINT: "", EDOC_VDXP_SYSTEM_ID: "", EDOC_VDXP_SECRET: "" } }, (err, _out, stderr) => resolve({ code: err ? (err.code as number) : 0, stderr })),
    );
    expect(none.code).to.equal(2);
    expect(none.stderr).to.match(/no national axle hub/);
  });

  it("migration 013 rolls back and forward", async () => {
    const st = await database().open();
    try {
      expect(await st.db.schema.hasColumn("deliveries", "hub_doc_id")).to.equal(true);
      while (await st.db.schema.hasColumn("deliveries", "hub_doc_id")) await st.db.migrate.down();
      expect(await st.db.schema.hasColumn("registry", "accept_unsigned")).to.equal(false);
      await st.db.migrate.latest();
      expect(await st.db.schema.hasColumn("registry", "accept_unsigned")).to.equal(true);
      expect(await st.db.schema.hasColumn("registry", "seen_certificate_pem")).to.equal(true);
    } finally {
      await st.close();
    }
  });
});
