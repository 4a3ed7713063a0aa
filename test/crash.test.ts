// Reliability of the delivery queue, on SQLite and on PostgreSQL:
//  - a sender node in a child process, killed with SIGKILL in the middle of sending and started
//    again, delivers every document exactly once (the receiver's duplicate detection answers the
//    re-sent ones with their stored receipt; the restarted worker reclaims rows whose lease ran out);
//  - a sender killed during group commit, with 32 documents being stored at every moment, keeps
//    every document it answered for, whole, and no half or double one, and delivers each once;
//  - two sender nodes on one database, each with its worker, never send a row twice.
import { expect } from "chai";
import type { RequestListener } from "node:http";
import { sendDocument, startDeliveryWorker, tokenCaller, type AppContext as Node } from "../app/index.ts";
import { createHash } from "node:crypto";
import { blobBytes, blobSize, listAttachments, listDeliveries, listStatuses, openStorage, queueDepth, type BlobStoreSpec, type Storage } from "../storage/index.ts";
import { anotherDatabase, onEachDatabase } from "./helpers/db.ts";
import { RECIPIENT, SENDER, scratch, testPki } from "../fixtures/index.ts";
import { startNode, type TestNode } from "./helpers/node.ts";
import { killIfRunning, slowDoor, spawnChild, type Child } from "./helpers/processes.ts";
import { waitFor } from "./helpers/wait.ts";
import { startS3, type TestS3 } from "./helpers/s3.ts";

const SCRIPT = "test/helpers/crash-sender.ts";
const DOCUMENTS = 40;
/** The receiver holds each answer this long after storing the packet: the window a crash hits. */
const ANSWER_DELAY_MS = 300;

/** A database, and (s3 runs) the blob store with the environment that names it to the child. */
type StorageOptions = { dataDir: string; databaseUrl?: string; schema?: string; blobStore?: BlobStoreSpec; blobStoreEnv?: Record<string, string> };



const inbound = async (node: Node) => Number((await node.storage.db("documents").where({ direction: "in" }).count({ n: "*" }))[0].n);

function startSender(options: StorageOptions, extra: Record<string, string>): Child {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EDOC_DATA_DIR: options.dataDir,
    DATABASE_URL: options.databaseUrl ?? "",
    EDOC_DB_SCHEMA: options.schema ?? "",
    EDOC_MASTER_KEY: "",
    PORT: "0",
    EDOC_PUBLIC_URL: "http://127.0.0.1:9",
    // short leases: the restarted worker reclaims the rows the killed one held
    EDOC_DELIVERY_LEASE_MS: "1500",
    EDOC_DELIVERY_TIMEOUT_MS: "1000",
    EDOC_DELIVERY_BASE_DELAY_MS: "50",
    EDOC_DELIVERY_MAX_DELAY_MS: "400",
    EDOC_DELIVERY_MAX_ATTEMPTS: "30",
    EDOC_DELIVERY_POLL_MS: "20",
    CRASH_FROM: SENDER,
    CRASH_TO: RECIPIENT,
    ...options.blobStoreEnv,
    ...extra,
  };
  return spawnChild(["--import", "tsx", SCRIPT], env);
}

/**
 * The receiver (a node on `receiverDb`) and the sender's database, with its agency, trust and
 * registry set up by a node that is closed again before the child opens it.
 */
async function receiverAndSender(receiverDb: StorageOptions, senderDb: StorageOptions, app?: (node: Node) => RequestListener): Promise<TestNode> {
  const receiver = await startNode({ database: receiverDb, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], app });
  const setup = await startNode({
    database: senderDb,
    organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }],
    registry: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An", endpoint: receiver.url, certificates: [testPki().recipient.certificate] }],
  });
  await setup.close();
  await receiver.register([{ organId: SENDER, name: "Văn phòng Chính phủ", endpoint: "http://127.0.0.1:9", certificates: [testPki().sender.certificate] }]);
  return receiver;
}

/** The sender's second life: its worker reclaims the abandoned rows and it exits 0 once nothing is left to send. */
async function restartUntilDone(senderDb: StorageOptions, timeoutMs: number): Promise<Child> {
  const child = startSender(senderDb, { CRASH_EXIT_WHEN_DONE: "1" });
  let timer: NodeJS.Timeout | undefined;
  const second = await Promise.race([
    child.exited,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the restarted sender did not finish: ${child.stderr}`)), timeoutMs))),
  ]).finally(async () => {
    clearTimeout(timer);
    await killIfRunning(child);
  });
  expect(second.code, child.stderr).to.equal(0);
  return child;
}

onEachDatabase("crash recovery of the delivery queue", (database) => {
  describe("a sender killed with SIGKILL in the middle of sending", () => {
    const counter = { hits: 0 };
    let receiver: TestNode;
    let receiverDb: ReturnType<typeof anotherDatabase>;
    let senderDb: StorageOptions;
    let child: Child | undefined;

    before(async function () {
      this.timeout(60_000);
      receiverDb = anotherDatabase(database());
      // the sender (the child process) on the suite's database
      senderDb = database().options();
      receiver = await receiverAndSender(receiverDb.options, senderDb, slowDoor(counter, ANSWER_DELAY_MS));
    });
    after(async () => {
      await killIfRunning(child);
      await receiver?.close();
      await receiverDb?.cleanup();
    });

    it(`delivers each of ${DOCUMENTS} documents exactly once after a restart`, async function () {
      this.timeout(90_000);
      // first life: queue everything, start sending, die mid-way
      child = startSender(senderDb, { CRASH_QUEUE: String(DOCUMENTS) });
      await waitFor(
        "the first documents to arrive",
        async () => {
          if (child!.proc.exitCode !== null) throw new Error(`the sender exited early: ${child!.stderr}`);
          return (await inbound(receiver.node)) >= 10;
        },
        60_000,
        10,
      );
      child.proc.kill("SIGKILL");
      const first = await child.exited;
      expect(first.signal).to.equal("SIGKILL");
      const atKill = await inbound(receiver.node);
      expect(atKill).to.be.lessThan(DOCUMENTS);

      let senderStorage: Storage = await openStorage(senderDb);
      let depth = await queueDepth(senderStorage.db);
      await senderStorage.close();
      // rows the dead worker held: claimed ("sending") and never finished
      expect(depth.sending, JSON.stringify(depth)).to.be.greaterThan(0);
      expect(depth.delivered).to.be.lessThan(DOCUMENTS);

      // second life: the worker reclaims the abandoned rows once their lease runs out
      child = await restartUntilDone(senderDb, 60_000);

      // the receiver: exactly one record per document, each with one receipt
      const rows = await receiver.node.storage.db("documents").where({ direction: "in" }).select("id", "document_id");
      expect(rows.length).to.equal(DOCUMENTS);
      expect(new Set(rows.map((r) => r.document_id)).size).to.equal(DOCUMENTS);
      for (const r of rows) expect((await listStatuses(receiver.node.storage.db, r.id)).map((s) => s.code)).to.deep.equal(["01"]);
      // some packets came twice (the ones in flight at the kill): answered, not stored again
      expect(counter.hits).to.be.greaterThan(DOCUMENTS);

      // the sender: every delivery delivered, each with exactly one receipt held
      senderStorage = await openStorage(senderDb);
      try {
        depth = await queueDepth(senderStorage.db);
        expect(depth).to.deep.equal({ queued: 0, sending: 0, relayed: 0, delivered: DOCUMENTS, failed: 0 });
        const docs = await senderStorage.db("documents").where({ direction: "out" }).select("id");
        expect(docs.length).to.equal(DOCUMENTS);
        for (const d of docs) {
          const deliveries = await listDeliveries(senderStorage.db, d.id, "edoc");
          expect(deliveries.map((x) => x.state)).to.deep.equal(["delivered"]);
          const statuses = await listStatuses(senderStorage.db, d.id);
          expect(statuses.map((s) => [s.code, s.from, s.direction])).to.deep.equal([["01", RECIPIENT, "received"]]);
        }
      } finally {
        await senderStorage.close();
      }
    });
  });

  for (const store of ["db", "s3"] as const) describe(`a sender killed with SIGKILL during group commit (32 clerks sending at once), blobs in ${store}`, () => {
    const SENDS = 400;
    let s3: TestS3 | undefined;
    const s3Dir = scratch();
    let receiver: TestNode;
    let receiverDb: ReturnType<typeof anotherDatabase>;
    let senderDbs: ReturnType<typeof anotherDatabase>;
    let senderDb: StorageOptions;
    let child: Child | undefined;

    before(async function () {
      this.timeout(60_000);
      receiverDb = anotherDatabase(database());
      senderDbs = anotherDatabase(database());
      senderDb = senderDbs.options;
      if (store === "s3") {
        // the sender's blobs in S3: the bytes go there before each transaction that references them
        s3 = await startS3(s3Dir.path("s3"));
        senderDb = { ...senderDb, blobStore: s3.store("sender"), blobStoreEnv: s3.env("sender") };
      }
      receiver = await receiverAndSender(receiverDb.options, senderDb);
    });
    after(async () => {
      await killIfRunning(child);
      await receiver?.close();
      await receiverDb?.cleanup();
      await senderDbs?.cleanup();
      await s3?.stop();
      s3Dir.cleanup();
    });

    it("keeps every answered document whole, none half-stored or twice, and delivers each once after a restart", async function () {
      this.timeout(120_000);
      child = startSender(senderDb, { CRASH_QUEUE: String(SENDS), CRASH_SEND_CONCURRENCY: "32", CRASH_ATTACHMENT_BYTES: String(50 * 1024) });
      const answered = () => child!.lines.filter((l) => l.event === "sent").map((l) => l.code as string);
      // killed while the writer commits batch after batch: 32 sends in flight at every moment
      await waitFor(
        "the first answers",
        async () => {
          if (child!.proc.exitCode !== null) throw new Error(`the sender exited early: ${child!.stderr}`);
          return answered().length >= 40;
        },
        90_000,
        5,
      );
      child.proc.kill("SIGKILL");
      expect((await child.exited).signal).to.equal("SIGKILL");
      const told = answered();

      const st = await openStorage(senderDb);
      let stored: Array<{ id: string; code: string; packet_sha256: string }>;
      try {
        stored = await st.db("documents").where({ direction: "out" }).select("id", "code", "packet_sha256");
        const codes = stored.map((d) => d.code);
        expect(codes.length, "killed before the last send").to.be.lessThan(SENDS);
        expect(new Set(codes).size, "no document stored twice").to.equal(codes.length);
        // every clerk who was answered has the document; unanswered ones are whole or absent
        expect(codes).to.include.members(told);
        // a blob is whole when its store gives back its row's size and SHA-256
        const blobOk = async (sha256: string) => {
          const size = await blobSize(st.db, sha256);
          const bytes = size === null ? null : await blobBytes(st.db, st.blobs, sha256).catch(() => null);
          return bytes?.length === size && createHash("sha256").update(bytes!).digest("hex") === sha256;
        };
        for (const d of stored) {
          expect(await blobOk(d.packet_sha256), `packet of ${d.code}`).to.equal(true);
          const attachments = await listAttachments(st.db, d.id);
          expect(attachments.map((a) => a.size), `attachments of ${d.code}`).to.deep.equal([50 * 1024]);
          expect(await blobOk(attachments[0].sha256)).to.equal(true);
          expect((await listDeliveries(st.db, d.id)).map((x) => [x.kind, x.state])).to.deep.equal([["edoc", "queued"]]);
          expect(await st.db("audit_log").where({ document: d.id }).count({ n: "*" }).first()).to.satisfy((r: { n: unknown }) => Number(r.n) === 1);
        }
        // nothing else was left behind: no delivery, status or attachment without its document
        expect(Number((await st.db("deliveries").count({ n: "*" }).first())!.n)).to.equal(stored.length);
      } finally {
        await st.close();
      }

      // second life: every stored document is delivered, once
      child = await restartUntilDone(senderDb, 90_000);
      const received = await receiver.node.storage.db("documents").where({ direction: "in" }).select("document_id");
      expect(received.length).to.equal(stored.length);
      expect(new Set(received.map((r) => r.document_id)).size).to.equal(stored.length);
    });
  });

  describe("two sender nodes on one database, each with its worker", () => {
    let receiver: TestNode;
    let senders: TestNode[] = [];
    let receiverDb: ReturnType<typeof anotherDatabase>;
    let sendersDb: ReturnType<typeof anotherDatabase>;
    const counter = { hits: 0 };

    before(async function () {
      this.timeout(60_000);
      receiverDb = anotherDatabase(database());
      receiver = await startNode({ database: receiverDb.options, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], app: slowDoor(counter, ANSWER_DELAY_MS) });
      await receiver.register([{ organId: SENDER, name: "Văn phòng Chính phủ", endpoint: "http://127.0.0.1:9", certificates: [testPki().sender.certificate] }]);
      sendersDb = anotherDatabase(database());
      for (let i = 0; i < 2; i++) {
        senders.push(
          await startNode({
            database: sendersDb.options,
            organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }],
            registry: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An", endpoint: receiver.url, certificates: [testPki().recipient.certificate] }],
            config: { delivery: { leaseMs: 10_000, timeoutMs: 5000, pollMs: 20, baseDelayMs: 50, maxDelayMs: 200, maxAttempts: 20 } },
          }),
        );
      }
    });
    after(async () => {
      for (const s of senders) await s.close();
      senders = [];
      await receiver?.close();
      await receiverDb?.cleanup();
      await sendersDb?.cleanup();
    });

    it("sends every row once: no document arrives twice, every delivery takes one attempt", async function () {
      this.timeout(60_000);
      const n = 24;
      const ids: string[] = [];
      for (let i = 1; i <= n; i++) {
        const doc = await sendDocument(senders[i % 2].node, tokenCaller({ id: 0, organId: SENDER, role: "clerk", name: "Văn thư" }), {
          To: [RECIPIENT],
          Code: `${i}/TB-VPCP`,
          Subject: `Thông báo số ${i}`,
          DocumentType: { Type: 1, TypeName: "Thông báo" },
        }, []);
        ids.push(doc.id);
      }
      const workers = senders.map((s) => startDeliveryWorker(s.node, { concurrency: 3 }));
      try {
        await waitFor("every delivery", async () => (await queueDepth(senders[0].node.storage.db)).delivered === n, 45_000);
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
      expect(counter.hits).to.equal(n);
      expect(await inbound(receiver.node)).to.equal(n);
      for (const id of ids) {
        const [d] = await listDeliveries(senders[0].node.storage.db, id, "edoc");
        expect(d).to.include({ state: "delivered", attempts: 1 });
        expect((await listStatuses(senders[0].node.storage.db, id)).map((s) => s.code)).to.deep.equal(["01"]);
      }
    });
  });
});
