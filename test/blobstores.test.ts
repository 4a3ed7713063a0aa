// The blob stores other than the database (EDOC_BLOB_STORE=fs:/… and s3://…, the latter against a
// real s3rver on 127.0.0.1): bytes byte-exact and streamed, owner-only files, the sweep of
// unreferenced objects, two nodes exchanging documents on them, and the S3 server killed mid-upload.
import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError, sendDocument, startDeliveryWorker, storageUnavailable, tokenCaller, type AppContext as Node } from "../app/index.ts";
import {
  blobBytes,
  findDocument,
  isBlobStoreUnavailable,
  isDatabaseUnavailable,
  listAttachments,
  listDeliveries,
  openBlobStore,
  openStorage,
  prepareBlob,
  preparedBytes,
  putBlob,
  putBlobs,
  readBlob,
  storeBlobs,
  sweepBlobs,
  type BlobStoreSpec,
  type Storage,
} from "../storage/index.ts";
import { RECIPIENT, scratch, SENDER } from "../fixtures/index.ts";
import { link, startNode, type TestNode } from "./helpers/node.ts";
import { startS3, type TestS3 } from "./helpers/s3.ts";
import { waitFor } from "./helpers/wait.ts";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const MiB = 1 << 20;


/** Every blob row's bytes are in the store (nothing referenced is missing). */
async function everyRowStored(st: Storage): Promise<number> {
  const rows: Array<{ sha256: string }> = await st.db("blobs").select("sha256");
  for (const r of rows) expect(await st.blobs.has(r.sha256), `blob ${r.sha256} in ${st.blobs.name}`).to.equal(true);
  return rows.length;
}

describe("blob stores outside the database", function () {
  this.timeout(120_000);
  let files: ReturnType<typeof scratch>;
  let s3: TestS3;
  before(async () => {
    files = scratch();
    s3 = await startS3(files.path("s3"));
  });
  after(async () => {
    await s3?.stop();
    files?.cleanup();
  });

  const stores: Array<[string, () => BlobStoreSpec]> = [
    ["fs", () => ({ kind: "fs", dir: files.path("fs-blobs") })],
    ["s3", () => s3.store("basics/node-1")],
  ];
  for (const [name, spec] of stores) {
    describe(`the ${name} store`, () => {
      let st: Storage;
      before(async () => {
        st = await openStorage({ dataDir: files.path(`data-${name}`), blobStore: spec() });
      });
      after(async () => st?.close());

      it("keeps blobs byte-exact, content-addressed, once; the database holds only their rows", async () => {
        const big = randomBytes(2.5 * MiB);
        const a = await st.db.transaction((trx) => putBlob(trx, st.blobs, big));
        const streamed = await prepareBlob(async function* () {
          yield big.subarray(0, 1000);
          yield big.subarray(1000);
        });
        await storeBlobs(st.blobs, [streamed]);
        const [again] = await st.db.transaction((trx) => putBlobs(trx, st.blobs, [streamed]));
        expect(again).to.deep.equal(a);
        expect(a).to.deep.equal({ sha256: sha256(big), size: big.length });
        expect((await blobBytes(st.db, st.blobs, a.sha256)).equals(big)).to.equal(true);
        expect(Number((await st.db("blobs").count({ n: "*" }))[0].n)).to.equal(1);
        expect(Number((await st.db("blob_chunks").count({ n: "*" }))[0].n)).to.equal(0);
        const empty = await st.db.transaction((trx) => putBlob(trx, st.blobs, Buffer.alloc(0)));
        expect((await blobBytes(st.db, st.blobs, empty.sha256)).length).to.equal(0);
      });

      it("streams a large blob in and out (several upload parts), hashing what comes back", async () => {
        const part = randomBytes(MiB);
        const size = 21 * MiB + 7;
        const source = async function* () {
          for (let at = 0; at < size; at += MiB) yield part.subarray(0, Math.min(MiB, size - at));
        };
        const blob = await prepareBlob(source);
        await storeBlobs(st.blobs, [blob]);
        await st.db.transaction((trx) => putBlobs(trx, st.blobs, [blob]));
        const hash = createHash("sha256");
        let got = 0;
        for await (const c of readBlob(st.db, st.blobs, blob.sha256)) {
          hash.update(c);
          got += c.length;
        }
        expect(got).to.equal(size);
        expect(hash.digest("hex")).to.equal(blob.sha256);
      });

      it("sweeps objects no row references once they are older than the grace, never a referenced one", async () => {
        const orphan = preparedBytes(Buffer.from(`mồ côi ${name}`));
        const kept = await st.db.transaction((trx) => putBlob(trx, st.blobs, Buffer.from(`được giữ ${name}`)));
        await storeBlobs(st.blobs, [orphan]);
        expect(await sweepBlobs(st.db, st.blobs, 60_000)).to.equal(0); // young: a write may be committing it
        expect(await st.blobs.has(orphan.sha256)).to.equal(true);
        const later = new Date(Date.now() + 3_600_000);
        expect(await sweepBlobs(st.db, st.blobs, 60_000, later)).to.equal(1);
        expect(await st.blobs.has(orphan.sha256)).to.equal(false);
        expect(await st.blobs.has(kept.sha256)).to.equal(true);
        expect(await everyRowStored(st)).to.be.greaterThan(2);
      });
    });
  }

  it("fs: files and directories owner-only, no temporary file left; a blob of the wrong size is not read as whole", async () => {
    const dir = files.path("fs-perm");
    const st = await openStorage({ dataDir: files.path("data-fs-perm"), blobStore: { kind: "fs", dir } });
    try {
      const bytes = Buffer.from("Công văn số 12/UBND-VP về việc chuyển đổi số");
      const ref = await st.db.transaction((trx) => putBlob(trx, st.blobs, bytes));
      const at = join(dir, ref.sha256.slice(0, 2), ref.sha256.slice(2, 4), ref.sha256);
      expect(statSync(at).mode & 0o777).to.equal(0o600);
      expect(statSync(join(dir, ref.sha256.slice(0, 2))).mode & 0o777).to.equal(0o700);
      expect(readdirSync(join(dir, ref.sha256.slice(0, 2), ref.sha256.slice(2, 4)))).to.deep.equal([ref.sha256]);
      truncateSync(at, 10);
      let err: Error | null = null;
      try {
        await blobBytes(st.db, st.blobs, ref.sha256);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).to.match(/has 10 bytes in the store, not \d+/);
      // a leftover of an interrupted write is swept as the grace allows
      writeFileSync(join(dir, ref.sha256.slice(0, 2), ref.sha256.slice(2, 4), `.${ref.sha256}.abc.tmp`), "part");
      expect(await sweepBlobs(st.db, st.blobs, 60_000, new Date(Date.now() + 3_600_000))).to.equal(1);
    } finally {
      await st.close();
    }
  });

  describe("two nodes, A on fs:, B on s3://", () => {
    let a: TestNode;
    let b: TestNode;
    const clerk = (organId: string) => tokenCaller({ id: 0, organId, role: "clerk", name: "Văn thư" });
    const DELIVERY = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000, leaseMs: 5000, pollMs: 20, timeoutMs: 20_000 };
    let n = 0;
    before(async () => {
      const worker = (h: TestNode) => {
        const w = startDeliveryWorker(h.node);
        return () => w.stop();
      };
      a = await startNode({
        database: { dataDir: files.path("node-a") },
        organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }],
        config: { delivery: DELIVERY, blobStore: { kind: "fs", dir: files.path("node-a-blobs") } },
        onListening: worker,
      });
      b = await startNode({
        database: { dataDir: files.path("node-b") },
        organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }],
        config: { delivery: DELIVERY, blobStore: s3.store("nodes/b") },
        onListening: worker,
      });
      await link(a, b);
    });
    after(async () => {
      await a?.close();
      await b?.close();
    });

    const file = (name: string, bytes: Buffer) => {
      const path = files.path(`${++n}-${name}`);
      writeFileSync(path, bytes);
      return { path, name, contentType: "application/pdf", bytes };
    };
    const send = (node: Node, from: string, to: string, number: string, attachments: ReturnType<typeof file>[]) =>
      sendDocument(node, clerk(from), { To: [to], Code: `${number}/QĐ-VPCP`, Subject: `Quyết định số ${number} về lưu trữ văn bản`, DocumentType: { Type: 1, TypeName: "Quyết định" } }, attachments);
    const arrived = (documentId: string) =>
      waitFor(`${documentId} at B`, () => findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: SENDER, documentId }));

    it("a document goes from A to B byte-exact, names untouched; the receipt comes back; the database holds no chunks", async () => {
      const one = file("Quyết định 45 — phụ lục đính kèm.pdf", randomBytes(3 * MiB + 11));
      const two = file("Báo cáo tổng hợp năm 2026.pdf", randomBytes(70_001));
      const doc = await send(a.node, SENDER, RECIPIENT, "45", [one, two]);
      const got = await arrived(doc.documentId);
      const atts = await listAttachments(b.node.storage.db, got.id);
      expect(atts.map((x) => x.name)).to.deep.equal([one.name, two.name]);
      for (const [i, f] of [one, two].entries()) expect((await blobBytes(b.node.storage.db, b.node.storage.blobs, atts[i].sha256)).equals(f.bytes)).to.equal(true);
      expect((await blobBytes(b.node.storage.db, b.node.storage.blobs, got.packetSha256)).equals(await blobBytes(a.node.storage.db, a.node.storage.blobs, doc.packetSha256))).to.equal(true);
      await waitFor("the receipt at A", async () => (await listDeliveries(a.node.storage.db, doc.id, "edoc"))[0]?.state === "delivered");
      for (const t of [a, b]) {
        expect(Number((await t.node.storage.db("blob_chunks").count({ n: "*" }))[0].n)).to.equal(0);
        await everyRowStored(t.node.storage);
      }
    });

    it("a stored packet that cannot be read whole while it streams to B: the attempt says so, B keeps nothing, the send after the repair goes once", async () => {
      // C: on fs:, its worker started only once its packet is spoiled; a packet over 2 MiB is
      // streamed from the store, never kept in memory
      const c = await startNode({
        database: { dataDir: files.path("node-c") },
        organs: [{ organId: "000.00.00.C03", name: "Bộ Tư pháp" }],
        // attempts enough that the spoiled ones (quick, with little jitter) never use them up
        config: { delivery: { ...DELIVERY, maxAttempts: 100 }, blobStore: { kind: "fs", dir: files.path("node-c-blobs") } },
      });
      let stop: (() => Promise<void>) | undefined;
      try {
        await link(c, b);
        const doc = await send(c.node, "000.00.00.C03", RECIPIENT, "31", [file("Hồ sơ thẩm định.pdf", randomBytes(3 * MiB))]);
        const at = join(files.path("node-c-blobs"), doc.packetSha256.slice(0, 2), doc.packetSha256.slice(2, 4), doc.packetSha256);
        const whole = readFileSync(at);
        truncateSync(at, whole.length - 100_000);
        const w = startDeliveryWorker(c.node);
        stop = () => w.stop();
        const failed = await waitFor("the spoiled attempt", async () => {
          const [d] = await listDeliveries(c.node.storage.db, doc.id, "edoc");
          return d.lastError ? d : null;
        });
        expect(failed.lastError).to.include("the stored packet could not be read").and.include("bytes in the store");
        expect(failed.state, "a retry, not a failure: the store may be repaired").to.be.oneOf(["queued", "sending"]);
        const atB = () => findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: "000.00.00.C03", documentId: doc.documentId });
        expect(await atB(), "B kept nothing of the cut packet").to.equal(null);
        writeFileSync(at, whole);
        const done = await waitFor("the delivery after the repair", async () => {
          const [d] = await listDeliveries(c.node.storage.db, doc.id, "edoc");
          return d.state === "delivered" ? d : null;
        });
        expect(done.attempts).to.be.greaterThan(1);
        const got = (await atB())!;
        expect((await blobBytes(b.node.storage.db, b.node.storage.blobs, got.packetSha256)).equals(whole)).to.equal(true);
        expect(Number((await b.node.storage.db("documents").where({ document_id: doc.documentId }).count({ n: "*" }))[0].n)).to.equal(1);
      } finally {
        await stop?.();
        await c.close();
      }
    });

    it("S3 killed mid-upload: the send fails cleanly, nothing referenced is missing, the same send works after the restart", async () => {
      const big = file("Hồ sơ lưu trữ — bản scan.pdf", randomBytes(24 * MiB));
      const before = Number((await b.node.storage.db("documents").count({ n: "*" }))[0].n);
      const s3Bytes = () => du(files.path("s3"));
      const start = s3Bytes();
      const sending = send(b.node, RECIPIENT, SENDER, "77", [big]).then(
        () => null,
        (err: Error) => err,
      );
      // B (on S3) answers with a document of its own; the server dies once a part of it landed
      await waitFor("a part on the S3 server", async () => s3Bytes() > start + 8 * MiB, 60_000);
      await s3.kill();
      const err = await sending;
      expect(err, "the send failed").to.be.instanceOf(Error);
      expect(err!.message).to.match(/blob store \(s3:\/\/edoc-test\/nodes\/b\) cannot store the content now; nothing was recorded/);
      // a read meanwhile: the blob store out of reach, never taken for the database (503 with its own sentence)
      const [held] = await b.node.storage.db("blobs").select("sha256", "size").limit(1);
      const readErr = await (async () => {
        try {
          for await (const chunk of b.node.storage.blobs.get(held.sha256, Number(held.size))) void chunk;
          return null;
        } catch (e) {
          return e;
        }
      })();
      expect(isBlobStoreUnavailable(readErr), String(readErr)).to.equal(true);
      expect(isDatabaseUnavailable(readErr)).to.equal(false);
      const answer = storageUnavailable(readErr);
      expect(answer).to.be.instanceOf(AppError).and.include({ kind: "unavailable" });
      expect((answer as Error).message).to.equal("the blob store (s3://edoc-test/nodes/b) cannot be reached for now; try again in a few seconds");
      await s3.restart();
      expect(Number((await b.node.storage.db("documents").count({ n: "*" }))[0].n)).to.equal(before);
      await everyRowStored(b.node.storage);
      const doc = await send(b.node, RECIPIENT, SENDER, "77", [big]);
      const [att] = await listAttachments(b.node.storage.db, doc.id);
      expect(att.name).to.equal(big.name);
      const hash = createHash("sha256");
      for await (const c of readBlob(b.node.storage.db, b.node.storage.blobs, att.sha256)) hash.update(c);
      expect(hash.digest("hex")).to.equal(sha256(big.bytes));
      await everyRowStored(b.node.storage);
    });
  });
});

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
function edoc(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(EDOC, args, { env: { ...process.env, ...env } }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
  });
}

describe("bin/edoc blobs migrate (runs dist/: npm run build)", function () {
  this.timeout(120_000);
  let files: ReturnType<typeof scratch>;
  let s3: TestS3;
  let node: TestNode | undefined;
  before(async () => {
    files = scratch();
    s3 = await startS3(files.path("s3"));
  });
  after(async () => {
    await node?.close();
    await s3?.stop();
    files?.cleanup();
  });

  it("moves a node's blobs from the database to S3, resumably, checking each; the node then serves them from S3", async () => {
    const dataDir = files.path("node");
    const organs = [{ organId: SENDER, name: "Văn phòng Chính phủ" }, { organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }];
    node = await startNode({ database: { dataDir }, organs });
    const attachments = [
      { name: "Quyết định 45 — phụ lục.pdf", bytes: randomBytes(2 * MiB + 3) },
      { name: "Bảng kê hồ sơ.pdf", bytes: randomBytes(40_000) },
    ].map((f, i) => {
      const path = files.path(`att-${i}`);
      writeFileSync(path, f.bytes);
      return { ...f, path, contentType: "application/pdf" };
    });
    const clerk = tokenCaller({ id: 0, organId: SENDER, role: "clerk", name: "Văn thư" });
    const doc = await sendDocument(node.node, clerk, { To: [RECIPIENT], Code: "45/QĐ-VPCP", Subject: "Quyết định về lưu trữ", DocumentType: { Type: 1, TypeName: "Quyết định" } }, attachments);
    const rows = Number((await node.node.storage.db("blobs").count({ n: "*" }))[0].n);
    await node.close();
    node = undefined;

    const target = s3.store("migrated");
    // the node's own store stays the database: only the S3 variables are given
    const { EDOC_BLOB_STORE: _, ...aws } = s3.env("migrated");
    const env = { EDOC_DATA_DIR: dataDir, ...aws };
    // the S3 server down: stops with exit 1, nothing claimed
    await s3.kill();
    const down = await edoc(env, "blobs", "migrate", "--to", "s3://edoc-test/migrated");
    expect(down.code, down.stderr).to.equal(1);
    expect(down.stderr).to.match(/stopped: .*run it again to resume/);
    await s3.restart();

    const first = await edoc(env, "blobs", "migrate", "--to", "s3://edoc-test/migrated");
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.include(`${rows} blobs in s3://edoc-test/migrated, each read back and its SHA-256 checked; ${rows} copied now`);
    // one object lost and one altered in the target: a second run copies exactly those again
    const st = await openStorage({ dataDir });
    const to = openBlobStore(target, st.reader);
    const [att1, att2] = await listAttachments(st.db, doc.id);
    await st.close();
    await to.delete(att1.sha256);
    await to.put({ sha256: att2.sha256, size: att2.size, chunks: () => [randomBytes(att2.size)] });
    const again = await edoc(env, "blobs", "migrate", "--to", "s3://edoc-test/migrated");
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.include(`${rows} blobs in s3://edoc-test/migrated, each read back and its SHA-256 checked; 2 copied now (${att1.size + att2.size} bytes)`);

    const bad = await edoc(env, "blobs", "migrate", "--to", "s3://X");
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include("--to \"s3://X\" is not db, fs:/ABSOLUTE/PATH or s3://BUCKET/PREFIX");

    // the node on the new store, its database chunks gone: everything is read from S3
    const cleared = await openStorage({ dataDir });
    await cleared.db("blob_chunks").delete();
    await cleared.close();
    node = await startNode({ database: { dataDir }, organs, config: { blobStore: target } });
    const stored = await listAttachments(node.node.storage.db, doc.id);
    expect(stored.map((a) => a.name)).to.deep.equal(attachments.map((a) => a.name));
    for (const [i, a] of stored.entries()) expect((await blobBytes(node.node.storage.db, node.node.storage.blobs, a.sha256)).equals(attachments[i].bytes)).to.equal(true);
    await everyRowStored(node.node.storage);
  });
});

/** Bytes under a directory (the S3 server's objects and upload parts). */
function du(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  return total;
}
