// The storage layer on SQLite and PostgreSQL: migrations, blobs, identities, tokens, the queue.
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { documentRecords } from "../app/index.ts";
import {
  addLocalAgency,
  addStatus,
  audit,
  listAudit,
  blobBytes,
  claimDeliveries,
  createToken,
  enqueueDeliveries,
  getDocument,
  finishAttempt,
  findToken,
  insertDocument,
  listAttachments,
  listDeliveries,
  listRecipients,
  listRecipientsFor,
  listStatuses,
  loadIdentity,
  openStorage,
  masterKey,
  prepareBlob,
  putBlob,
  putBlobs,
  readBlob,
  revokeToken,
  searchDocuments,
  type Storage,
} from "../storage/index.ts";
import { parseVnTimestamp } from "../envelopes/index.ts";
import { signStatus } from "../signing/index.ts";
import { anotherDatabase, onEachDatabase } from "./helpers/db.ts";
import { RECIPIENT, sampleEdoc, SENDER, testPki } from "../fixtures/index.ts";

onEachDatabase("storage", (database) => {
  let st: Storage;
  before(async () => {
    st = await database().open();
  });
  after(async () => st?.close());

  it("stores blobs byte-exact, content-addressed, in chunks", async () => {
    const big = randomBytes(2.5 * 1024 * 1024);
    const a = await st.db.transaction((trx) => putBlob(trx, st.blobs, big));
    // streamed, hashed before the transaction: the same blob, stored once
    const streamed = await prepareBlob(async function* () { yield big.subarray(0, 1000); yield big.subarray(1000); });
    const [again] = await st.db.transaction((trx) => putBlobs(trx, st.blobs, [streamed]));
    expect(again).to.deep.equal(a);
    expect(a.size).to.equal(big.length);
    expect((await blobBytes(st.db, st.blobs, a.sha256)).equals(big)).to.equal(true);
    const chunks: Buffer[] = [];
    for await (const c of readBlob(st.db, st.blobs, a.sha256)) chunks.push(c);
    expect(chunks.length).to.equal(3);
    expect(Number((await st.db("blobs").count({ n: "*" }))[0].n)).to.equal(1);
  });

  it("keeps private keys encrypted and gives the identity back", async () => {
    const { sender } = testPki();
    const key = masterKey(st.dataDir, undefined);
    await addLocalAgency(st.db, key, { organId: SENDER, name: "Văn phòng Chính phủ", identity: sender });
    const row = await st.db("local_agencies").where({ organ_id: SENDER }).first();
    const der = sender.privateKey.export({ type: "pkcs8", format: "der" });
    expect(Buffer.from(row.private_key_enc).includes(der.subarray(40, 80))).to.equal(false);
    const id = await loadIdentity(st.db, key, SENDER);
    expect(id.certificate.fingerprint256).to.equal(sender.certificate.fingerprint256);
    expect(id.privateKey.export({ type: "pkcs8", format: "der" }).equals(der)).to.equal(true);
    const wrongKey = await loadIdentity(st.db, randomBytes(32), SENDER).catch((e: Error) => e);
    expect(wrongKey).to.be.instanceOf(Error);
    expect((wrongKey as Error).message).to.include("master key");
  });

  it("stores only token hashes; revoked tokens stop working", async () => {
    const { token } = await createToken(st.db, { organId: SENDER, role: "clerk", name: "văn thư" });
    expect(await st.db("tokens").where({ token_hash: token }).first()).to.equal(undefined);
    const owner = await findToken(st.db, token);
    expect(owner).to.include({ organId: SENDER, role: "clerk" });
    expect(await findToken(st.db, token + "x")).to.equal(null);
    await revokeToken(st.db, owner!.id);
    expect(await findToken(st.db, token)).to.equal(null);
  });

  it("finds documents by whole words without diacritics, with filters", async () => {
    const edoc = sampleEdoc();
    await st.db.transaction(async (trx) => {
      const packet = await putBlob(trx, st.blobs, Buffer.from("<edXML/>"));
      await insertDocument(trx, { id: "d-1", direction: "out", localOrgan: SENDER, packet, header: edoc.header, bussiness: edoc.bussiness, report: {} as never, attachments: [], status: "sent" });
    });
    const q = async (text: string, extra = {}) => (await searchDocuments(st.db, { localOrgan: SENDER, q: text, ...extra })).items.map((d) => d.id);
    expect(await q("quyet dinh")).to.deep.equal(["d-1"]);
    expect(await q("QUYẾT ĐỊNH van thu")).to.deep.equal(["d-1"]);
    expect(await q("dinh QUYET")).to.deep.equal(["d-1"]);
    expect(await q("dinh hoa")).to.deep.equal([]);
    expect(await q("123")).to.deep.equal(["d-1"]);
    expect(await q("quyet", { direction: "in" })).to.deep.equal([]);
    expect(await q("hoa don")).to.deep.equal([]);
    expect(await q("", { recipient: "000.00.00.H41" })).to.deep.equal(["d-1"]);
    expect(await q("", { recipient: "000.00.00.H14" })).to.deep.equal([]);
  });

  describe("search by the beginning of a word, by signer and attachment names, by type", () => {
    const organ = "000.00.00.G98"; // documents of their own, apart from the others
    const found = async (q: string, extra = {}) => (await searchDocuments(st.db, { localOrgan: organ, q, ...extra })).items.map((d) => d.id);
    const add = async (id: string, subject: string, extra: { signer?: string; files?: string[]; type?: string } = {}) => {
      const edoc = sampleEdoc();
      const header = {
        ...edoc.header,
        DocumentId: id,
        Subject: subject,
        Content: "",
        DocumentType: { ...edoc.header.DocumentType, TypeName: extra.type ?? "Quyết định" },
        SignerInfo: { FullName: extra.signer ?? "Trần Thị Lan" },
      };
      await st.db.transaction(async (trx) => {
        const packet = await putBlob(trx, st.blobs, Buffer.from(`<edXML>${id}</edXML>`));
        const attachments = (extra.files ?? []).map((name) => ({ name, contentType: "application/pdf", blob: packet }));
        await insertDocument(trx, { id, direction: "out", localOrgan: organ, packet, header, report: {} as never, attachments, status: "sent" });
      });
      await new Promise((r) => setTimeout(r, 5)); // distinct creation times: newest first is well defined
    };
    before(async () => {
      await add("s-1", "Quyết định ban hành quy chế văn thư", { signer: "Nguyễn Văn Đức", files: ["Báo cáo tổng hợp.pdf"] });
      await add("s-2", "Thông báo về quyền hạn của văn thư", { type: "Thông báo" });
      await add("s-3", "Kế hoạch kiểm tra", { type: "Kế hoạch" });
    });

    it("matches the last word as the beginning of a word: quy → Quyết, quy chế, quyền", async () => {
      expect(await found("quy")).to.deep.equal(["s-2", "s-1"]);
      expect(await found("QUYÊ")).to.deep.equal(["s-2", "s-1"]);
      expect(await found("quyết")).to.deep.equal(["s-1"]);
      expect(await found("quyet d")).to.deep.equal(["s-1"]);
      expect(await found("van th")).to.deep.equal(["s-2", "s-1"]);
      expect(await found("ke hoach kiem t")).to.deep.equal(["s-3"]);
      expect(await found("quy", { pageSize: 1, page: 2 })).to.deep.equal(["s-1"]);
      // the other words stay whole: "quy" inside a query is the word quy (quy chế), not Quyền
      expect(await found("quy van")).to.deep.equal(["s-1"]);
      expect(await found("quy thong")).to.deep.equal([]);
      expect(await found("quyetx")).to.deep.equal([]);
      expect(await found("x")).to.deep.equal([]);
    });

    it("finds a document by its signer's name and its attachments' names", async () => {
      expect(await found("nguyen van duc")).to.deep.equal(["s-1"]);
      expect(await found("Đức")).to.deep.equal(["s-1"]);
      expect(await found("tong hop")).to.deep.equal(["s-1"]);
      expect(await found("bao cao tong hop pdf")).to.deep.equal(["s-1"]);
      expect(await found("tran thi lan")).to.deep.equal(["s-3", "s-2"]);
    });

    it("folds the type filter like the words: quyet dinh is Quyết định", async () => {
      expect(await found("", { type: "quyet dinh" })).to.deep.equal(["s-1"]);
      expect(await found("", { type: "QUYẾT  ĐỊNH" })).to.deep.equal(["s-1"]);
      expect(await found("", { type: "Quyết định" })).to.deep.equal(["s-1"]);
      expect(await found("van thu", { type: "thong bao" })).to.deep.equal(["s-2"]);
      expect(await found("", { type: "quyet" })).to.deep.equal([]);
    });

    it("pages a prefix that begins many words, newest first", async () => {
      const many = Array.from({ length: 40 }, (_, i) => `m-${String(i).padStart(2, "0")}`);
      for (const [i, id] of many.entries()) await add(id, `Mẫu ${i % 2 ? "số" : "sổ"} mau${String(i).padStart(2, "0")}x`, { type: "Biểu mẫu" }); // 40 words that begin with "mau"
      const newest = [...many].reverse();
      expect(await found("mau", { pageSize: 200 })).to.deep.equal(newest);
      expect(await found("mau", { pageSize: 15, page: 2 })).to.deep.equal(newest.slice(15, 30));
      expect(await found("mau1")).to.deep.equal(newest.filter((id) => id.startsWith("m-1")));
      expect(await found("mau so", { pageSize: 200 })).to.deep.equal(newest); // "mau" whole, "so" (số, sổ) begun
    });

    it("upgrades a database made before: signer and attachment names and the folded type are filled in", async () => {
      // back to before 006_search_prefix_and_names, whatever came after it
      while (await st.db.schema.hasColumn("documents", "doc_type_folded")) await st.db.migrate.down();
      try {
        expect(await st.db.schema.hasColumn("documents", "doc_type_folded")).to.equal(false);
        // what the earlier version indexed: subject, content and number only
        await st.db("search_terms").where({ document: "s-1" }).whereIn("term", ["nguyen", "duc", "bao", "cao", "tong", "hop", "pdf"]).delete();
      } finally {
        await st.db.migrate.latest();
      }
      expect(await found("nguyen van duc")).to.deep.equal(["s-1"]);
      expect(await found("tong hop")).to.deep.equal(["s-1"]);
      expect(await found("", { type: "quyet dinh" })).to.deep.equal(["s-1"]);
      expect(await found("", { type: "ke hoach" })).to.deep.equal(["s-3"]);
    });
  });

  it("claims each queued delivery once among concurrent workers, then retries and finishes", async () => {
    await st.db.transaction(async (trx) => {
      const packet = await putBlob(trx, st.blobs, Buffer.from("<edXML/>"));
      await enqueueDeliveries(trx, Array.from({ length: 20 }, (_, i) => ({ document: "d-1", organId: `000.00.${String(i).padStart(2, "0")}.H41`, kind: "edoc" as const, packetSha256: packet.sha256 })));
    });
    const batches = await Promise.all(["w1", "w2", "w3"].map((w) => claimDeliveries(st.db, w, 10, 60_000, st.dialect)));
    const ids = batches.flat().map((d) => d.id);
    expect(ids.length).to.equal(20);
    expect(new Set(ids).size).to.equal(20);
    const [first] = batches.flat();
    const owner = batches.findIndex((b) => b.some((d) => d.id === first.id));
    expect(await finishAttempt(st.db, first.id, "someone-else", { state: "delivered" })).to.equal(false);
    expect(await finishAttempt(st.db, first.id, `w${owner + 1}`, { state: "queued", retryInMs: -1, error: "connection refused" })).to.equal(true);
    const again = await claimDeliveries(st.db, "w4", 10, 60_000, st.dialect);
    expect(again.map((d) => d.id)).to.deep.equal([first.id]);
    expect(again[0].attempts).to.equal(2);
    expect(await finishAttempt(st.db, first.id, "w4", { state: "delivered" })).to.equal(true);
    const rows = await listDeliveries(st.db, "d-1");
    expect(rows.find((d) => d.id === first.id)!.state).to.equal("delivered");
  });

  it("commits writes that arrive together; one that fails rolls back alone, the others are stored", async () => {
    const results = await Promise.allSettled(
      [0, 1, 2, 3].map((i) =>
        st.write(async (trx) => {
          await audit(trx, { actor: "test", action: `group.${i}` });
          if (i === 2) await trx.raw("select * from no_such_table");
          return i;
        }),
      ),
    );
    expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []))).to.deep.equal([0, 1, 3]);
    expect(String((results[2] as PromiseRejectedResult).reason)).to.match(/no_such_table/);
    for (const i of [0, 1, 2, 3]) expect((await listAudit(st.db, { action: `group.${i}` })).length).to.equal(i === 2 ? 0 : 1);
  });

  it("reads the records of a page of documents in a constant number of queries", async () => {
    const organ = "000.00.00.G99"; // a local agency of its own, apart from the documents above
    const edoc = sampleEdoc();
    const ids = Array.from({ length: 50 }, (_, i) => `page-${String(i).padStart(2, "0")}`);
    await st.db.transaction(async (trx) => {
      const packet = await putBlob(trx, st.blobs, Buffer.from("<edXML/>"));
      for (const [i, id] of ids.entries()) {
        const direction = i % 2 ? "in" : "out";
        const header = { ...edoc.header, DocumentId: id, To: [{ ...edoc.header.To[0], OrganId: "000.00.00.H41" }, { ...edoc.header.To[0], OrganId: "000.00.00.H14" }] };
        const attachments = [{ name: `${id}.pdf`, contentType: "application/pdf", blob: packet }];
        await insertDocument(trx, { id, direction, localOrgan: organ, packet, header, report: {} as never, attachments, status: direction === "out" ? "sent" : "received" });
        await addStatus(trx, { document: id, code: "01", from: "000.00.00.H41", to: organ, direction: "received", packet, description: `receipt ${i}` });
        if (direction === "out") await enqueueDeliveries(trx, ["000.00.00.H41", "000.00.00.H14"].map((to) => ({ document: id, organId: to, kind: "edoc" as const, packetSha256: packet.sha256 })));
      }
    });
    /** What `f` answers, and how many queries it took. */
    const counted = async <T>(f: () => Promise<T>) => {
      let n = 0;
      const count = () => n++;
      // (the records are read beside the writer, through the reader)
      for (const k of [st.db, st.reader]) k.on("query", count);
      try {
        return { result: await f(), n };
      } finally {
        for (const k of [st.db, st.reader]) k.removeListener("query", count);
      }
    };
    const queriesFor = async (pageSize: number) => {
      const { result: records, n } = await counted(async () => documentRecords({ storage: st }, (await searchDocuments(st.db, { localOrgan: organ, pageSize })).items));
      return { n, records };
    };
    const small = await queriesFor(5);
    const full = await queriesFor(50);
    expect(full.records.length).to.equal(50);
    // the search, then recipients, deliveries, statuses, attachments and kept time-stamps: one query each
    expect(full.n).to.equal(6);
    expect(small.n).to.equal(full.n);
    // the batched readers answer what the one-document readers answer
    for (const r of full.records) {
      expect(r.to).to.deep.equal(await listRecipients(st.db, r.id));
      expect(r.to).to.deep.equal(["000.00.00.H14", "000.00.00.H41"]);
      expect(r.attachments.map((a) => a.name)).to.deep.equal([`${r.id}.pdf`]);
      expect(r.attachments.map((a) => a.sha256)).to.deep.equal((await listAttachments(st.db, r.id)).map((a) => a.sha256));
      expect(r.statuses.map((x) => x.description)).to.deep.equal((await listStatuses(st.db, r.id)).map((x) => x.description));
      expect(r.deliveries.map((x) => x.organId)).to.deep.equal(r.direction === "out" ? ["000.00.00.H41", "000.00.00.H14"] : []);
      expect(r.deliveries.map((x) => x.organId)).to.deep.equal(r.direction === "out" ? (await listDeliveries(st.db, r.id, "edoc")).map((x) => x.organId) : []);
      expect(await documentRecords({ storage: st }, [(await getDocument(st.db, r.id))!])).to.deep.equal([r]);
    }
    expect(await documentRecords({ storage: st }, [])).to.deep.equal([]);
    // long id lists go 500 to a query; every id asked has an entry, known or not
    const many = [...Array.from({ length: 1100 }, (_, i) => `none-${i}`), ...ids];
    const { result: recipients, n } = await counted(() => listRecipientsFor(st.db, many));
    expect(n).to.equal(3);
    expect([...recipients.keys()]).to.deep.equal(many);
    expect(recipients.get("none-0")).to.deep.equal([]);
    expect(ids.every((id) => recipients.get(id)!.length === 2)).to.equal(true);
  });

  it("runs a scheduled job's rounds in one of the processes sharing the database; another takes over when it closes", async () => {
    const second = await database().open();
    let third: Storage | undefined;
    try {
      const runs: string[] = [];
      const round = (who: string) => async () => (runs.push(who), who);
      expect(await st.once("test-job", round("first"))).to.equal("first");
      expect(await second.once("test-job", round("second"))).to.equal(database().name === "sqlite" ? "second" : undefined);
      expect(await st.once("test-job", round("first"))).to.equal("first");
      // another job is another lock
      expect(await second.once("other-job", round("second"))).to.equal("second");
      if (database().name === "postgresql") {
        // closing waits for a round in flight, whose queries still find their connections
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const inFlight = st.once("slow-job", async () => {
          await gate;
          await st.db.raw("select 1");
          return "done";
        });
        const closing = st.close();
        release();
        expect(await inFlight).to.equal("done");
        await closing;
        // closed, it runs no round (and holds no lock the next process would wait for)
        expect(await st.once("test-job", round("closed"))).to.equal(undefined);
        st = third = await database().open();
        expect(await second.once("test-job", round("second"))).to.equal("second");
        expect(await third.once("test-job", round("third"))).to.equal(undefined);
        expect(runs).to.deep.equal(["first", "first", "second", "second"]);
      }
    } finally {
      await second.close();
    }
  });

  it("upgrades a database made before status identity: old statuses get the Timestamp they were signed with", async () => {
    const other = anotherDatabase(database());
    const old = await openStorage(other.options);
    try {
      const edoc = sampleEdoc();
      const signed = signStatus(
        {
          kind: "status",
          header: {
            From: { OrganId: RECIPIENT, OrganName: "UBND tỉnh Nghệ An" },
            ResponseFor: { OrganId: SENDER, Code: "1/QĐ-VPCP", PromulgationDate: "2026/11/30", DocumentId: "old-1" },
            StatusCode: "03",
            Timestamp: "2026/11/30 08:15:00",
          },
        },
        testPki().recipient,
      );
      // the document as today's code stores it (later migrations backfill what they add), then
      // back to before 004_status_identity, undoing the later migrations too
      const { packet, status } = await old.db.transaction(async (trx) => {
        const packet = await putBlob(trx, st.blobs, Buffer.from("<edXML/>"));
        const status = await putBlob(trx, st.blobs, signed);
        await insertDocument(trx, { id: "old-1", direction: "out", localOrgan: SENDER, packet, header: { ...edoc.header, DocumentId: "old-1" }, report: {} as never, attachments: [], status: "sent" });
        return { packet, status };
      });
      while (await old.db.schema.hasColumn("statuses", "signed_timestamp")) await old.db.migrate.down();
      expect(await old.db.schema.hasColumn("statuses", "signed_timestamp")).to.equal(false);
      const row = { document: "old-1", from_organ: RECIPIENT, to_organ: SENDER, direction: "received", description: "", at: new Date() };
      await old.db("statuses").insert([
        { ...row, code: "03", packet_sha256: status.sha256 },
        { ...row, code: "04", packet_sha256: packet.sha256 }, // not a status packet: nothing to read back
      ]);
      await old.db.migrate.latest();
      const rows = await listStatuses(old.db, "old-1");
      expect(rows.map((r) => [r.code, r.timestamp, r.headerDigest])).to.deep.equal([
        ["03", parseVnTimestamp("2026/11/30 08:15:00")!.toISOString(), null],
        ["04", null, null],
      ]);
      expect(rows[0].timestamp).to.equal("2026-11-30T01:15:00.000Z");
      // and back down (through the later migrations too)
      while (await old.db.schema.hasColumn("statuses", "header_digest")) await old.db.migrate.down();
      expect(await old.db.schema.hasColumn("statuses", "header_digest")).to.equal(false);
      expect(Number((await old.db("statuses").count({ n: "*" }))[0].n)).to.equal(2);
    } finally {
      await old.close();
      await other.cleanup();
    }
  });
});
