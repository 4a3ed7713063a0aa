// Several node processes on one PostgreSQL (README "Several node processes"): three processes of
// the compiled server (dist/server/main.js — `npm run build` first), each with its own port and
// data directory, sharing one schema and one EDOC_MASTER_KEY, send a burst of documents to a
// recipient node; one of them is killed with SIGKILL in the middle. Then every document the API
// answered 201 for is delivered once (one record at the recipient, one receipt at the sender),
// nothing is lost, and no live process sent a packet twice; a web session and an API token made on
// one process are valid on the others (a token revoked on one is refused on the others); and the
// registry sync runs in one process at a time, taken over by another when that one is killed.
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import type { RequestListener } from "node:http";
import { createUser, type AppContext as Node, type Caller } from "../app/index.ts";
import knexFactory, { type Knex } from "knex";
import { listDeliveries, listStatuses, queueDepth } from "../storage/index.ts";
import { RECIPIENT, SENDER, scratch, testPki } from "../fixtures/index.ts";
import { anotherDatabase, onPostgreSQL } from "./helpers/db.ts";
import { startNode, type TestNode } from "./helpers/node.ts";
import { killIfRunning, slowDoor, spawnChild, type Child } from "./helpers/processes.ts";
import { waitFor } from "./helpers/wait.ts";

const PROCESSES = 3;
const DOCUMENTS = 60;
const CLIENTS = 6;
const SYNC_MS = 1000;
const PASSWORD = "mật khẩu đủ dài 2026";
const CLI: Caller = { organId: SENDER, role: "admin", name: "test", actor: "cli:test" };

interface Proc {
  child: Child;
  url: string;
}

/** The times (ms) at which this process applied a registry snapshot (its debug log line). */
const syncRounds = (p: Proc) => p.child.lines.filter((l) => l.msg === "registry snapshot applied").map((l) => Number(l.time));

onPostgreSQL("three node processes on one PostgreSQL", (database) => {
  const files = scratch();
  const masterKey = randomBytes(32).toString("base64");
  const hits = { hits: 0 };
  const snapshotFetches: number[] = [];
  let receiver: TestNode;
  let receiverDb: ReturnType<typeof anotherDatabase>;
  let senderDb: { dataDir: string; databaseUrl?: string; schema?: string };
  let tokens: { admin: string; clerk: string };
  let procs: Proc[] = [];
  /** The test's own look at the senders' database: two connections (PostgreSQL here is shared). */
  let check: Knex;

  /** The recipient, counting the packets it is sent and the registry snapshots it is asked for. */
  const door = (node: Node): RequestListener => {
    const app = slowDoor(hits, 200)(node);
    return (req, res) => {
      if (req.url === "/registry/snapshot") snapshotFetches.push(Date.now());
      app(req, res);
    };
  };

  const startProcess = async (i: number): Promise<Proc> => {
    const child = spawnChild(["dist/server/main.js"], {
      ...process.env,
      PORT: "0",
      EDOC_LISTEN_HOST: "127.0.0.1",
      // the address of the load balancer in front of them (nobody listens there: not needed here)
      EDOC_PUBLIC_URL: "http://127.0.0.1:9",
      EDOC_DATA_DIR: files.path(`node${i}`),
      DATABASE_URL: senderDb.databaseUrl,
      EDOC_DB_SCHEMA: senderDb.schema,
      EDOC_MASTER_KEY: masterKey,
      // the PostgreSQL here is shared: few connections per process
      EDOC_DB_POOL_MAX: "3",
      EDOC_LOG_LEVEL: "debug",
      EDOC_REGISTRY_URL: `${receiver.url}/registry/snapshot`,
      EDOC_REGISTRY_CERT: files.path("publisher.pem"),
      EDOC_REGISTRY_SYNC_MS: String(SYNC_MS),
      // a killed process's claims are taken over once their lease runs out; a send is given time
      // enough on a loaded machine, so that only the killed process's claims may be sent twice
      EDOC_DELIVERY_LEASE_MS: "16000",
      EDOC_DELIVERY_TIMEOUT_MS: "15000",
      EDOC_DELIVERY_CONCURRENCY: "8",
      EDOC_DELIVERY_BASE_DELAY_MS: "50",
      EDOC_DELIVERY_MAX_DELAY_MS: "400",
      EDOC_DELIVERY_MAX_ATTEMPTS: "30",
      EDOC_DELIVERY_POLL_MS: "50",
    });
    const started = await waitFor(
      `node process ${i} to listen`,
      async () => {
        if (child.proc.exitCode !== null) throw new Error(`node process ${i} exited: ${child.stderr}`);
        return child.lines.find((l) => l.msg === "node started");
      },
      60_000,
      20,
    );
    return { child, url: `http://127.0.0.1:${started.port}` };
  };

  before(async function () {
    this.timeout(120_000);
    receiverDb = anotherDatabase(database());
    receiver = await startNode({
      database: receiverDb.options,
      organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }],
      registry: [{ organId: SENDER, name: "Văn phòng Chính phủ", endpoint: "http://127.0.0.1:9", certificates: [testPki().sender.certificate] }],
      config: { dbPoolMax: 3 },
      app: door,
    });
    // the recipient also publishes the registry the processes sync from, signed by its agency
    writeFileSync(files.path("publisher.pem"), testPki().recipient.certificate.toString());
    senderDb = database().options();
    const setup = await startNode({
      database: senderDb,
      organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }],
      registry: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An", endpoint: receiver.url, certificates: [testPki().recipient.certificate] }],
      config: { masterKey, dbPoolMax: 2 },
      roles: ["admin", "clerk"],
    });
    tokens = setup.tokens[SENDER] as typeof tokens;
    await createUser(setup.node, CLI, { organId: SENDER, role: "clerk", username: "van.thu", fullName: "Nguyễn Thị Thư", password: PASSWORD });
    await setup.close();
    for (let i = 0; i < PROCESSES; i++) procs.push(await startProcess(i));
    check = knexFactory({ client: "pg", connection: senderDb.databaseUrl, searchPath: [senderDb.schema!], pool: { min: 0, max: 2 } });
  });
  after(async () => {
    for (const p of procs) await killIfRunning(p.child);
    procs = [];
    await check?.destroy();
    await receiver?.close();
    await receiverDb?.cleanup();
    files.cleanup();
  });

  it("a web session and an API token made on one process are valid on the others; a token revoked on one is refused on all", async function () {
    this.timeout(30_000);
    const [a, b, c] = procs;
    const form = await fetch(`${a.url}/sign-in`);
    const visitor = form.headers.get("set-cookie")!.split(";")[0];
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
    const signedIn = await fetch(`${a.url}/sign-in`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: visitor, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, username: "van.thu", password: PASSWORD }),
    });
    expect(signedIn.status).to.equal(303);
    const session = signedIn.headers.get("set-cookie")!.split(";")[0];
    expect(session).to.match(/^edoc_session=/);
    for (const p of [a, b, c]) {
      const home = await fetch(`${p.url}/`, { redirect: "manual", headers: { cookie: session } });
      expect(home.status, `GET / on ${p.url} with the session made on ${a.url}`).to.equal(200);
    }
    const nobody = await fetch(`${b.url}/`, { redirect: "manual" });
    expect(nobody.status).to.equal(303);

    const made = await fetch(`${b.url}/api/v1/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ organId: SENDER, role: "clerk", name: "Văn thư (made on one process)" }),
    });
    expect(made.status).to.equal(201);
    const token = (await made.json()) as { id: number; token: string };
    for (const p of [a, b, c]) {
      expect((await fetch(`${p.url}/api/v1/documents`, { headers: { authorization: `Bearer ${token.token}` } })).status, p.url).to.equal(200);
    }
    const revoked = await fetch(`${c.url}/api/v1/tokens/${token.id}`, { method: "DELETE", headers: { authorization: `Bearer ${tokens.admin}` } });
    expect(revoked.status).to.be.within(200, 204);
    for (const p of [a, b, c]) {
      expect((await fetch(`${p.url}/api/v1/documents`, { headers: { authorization: `Bearer ${token.token}` } })).status, p.url).to.equal(401);
    }
  });

  it("runs the registry sync in one process: each round once, not three times", async function () {
    this.timeout(30_000);
    // a few rounds with all three up
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 4 * SYNC_MS + 300));
    const syncing = procs.filter((p) => syncRounds(p).some((t) => t >= from));
    expect(syncing, "processes that synced").to.have.length(1);
    const fetched = snapshotFetches.filter((t) => t >= from).length;
    // one round every 0.9–1 s: 4 or 5 fetches (three processes each syncing would make 12–15)
    expect(fetched).to.be.within(3, 6);
  });

  it(`delivers each of ${DOCUMENTS} documents sent through the three once, with the process holding the sync killed mid-burst`, async function () {
    this.timeout(180_000);
    const victim = procs.find((p) => syncRounds(p).length > 0)!;
    const answered: string[] = [];
    let refused = 0;
    let next = 0;
    let killedAt = 0;
    let claimedByVictim = -1;
    const alive = () => procs.filter((p) => !killedAt || p !== victim);
    const client = async () => {
      for (let i = next++; i < DOCUMENTS; i = next++) {
        const live = alive();
        const to = live[i % live.length];
        const fd = new FormData();
        fd.append(
          "metadata",
          JSON.stringify({ To: [RECIPIENT], Code: `${i + 1}/CV-VPCP`, Subject: `Công văn số ${i + 1} gửi qua ba tiến trình`, DocumentType: { Type: 1, TypeName: "Công văn" } }),
        );
        fd.append("files", new Blob([new Uint8Array(randomBytes(20 * 1024))], { type: "application/pdf" }), "phụ lục.pdf");
        try {
          const res = await fetch(`${to.url}/api/v1/documents`, { method: "POST", headers: { authorization: `Bearer ${tokens.clerk}` }, body: fd });
          if (res.status === 201) answered.push(((await res.json()) as { id: string }).id);
          else refused++;
        } catch {
          refused++; // the killed process's connection: not answered, so the clerk was not told it is sent
        }
        if (!killedAt && answered.length >= DOCUMENTS / 3) {
          killedAt = Date.now();
          victim.child.proc.kill("SIGKILL");
          // what the dead worker held: the only packets that may go out twice
          const pid = victim.child.proc.pid;
          claimedByVictim = Number((await check("deliveries").where({ state: "sending" }).whereLike("claimed_by", `%:${pid}:%`).count({ n: "*" }).first())!.n);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    expect((await victim.child.exited).signal).to.equal("SIGKILL");
    expect(killedAt, "killed mid-burst").to.be.greaterThan(0);
    expect(answered.length, `${refused} not answered 201`).to.be.greaterThan(DOCUMENTS / 2);

    // the survivors send everything, including what the dead one had claimed (its leases run out)
    const stored = await check("documents").where({ direction: "out" }).select("id");
    await waitFor(
      "every delivery",
      async () => {
        const d = await queueDepth(check);
        return d.queued + d.sending === 0 && d.delivered === stored.length;
      },
      120_000,
      100,
    );
    const depth = await queueDepth(check);
    expect(depth).to.deep.equal({ queued: 0, sending: 0, relayed: 0, delivered: stored.length, failed: 0 });

    // nothing lost: every answered document is stored, delivered once, with its one receipt
    expect(stored.map((d) => d.id)).to.include.members(answered);
    for (const id of stored.map((d) => d.id)) {
      expect((await listDeliveries(check, id, "edoc")).map((x) => x.state), id).to.deep.equal(["delivered"]);
      expect((await listStatuses(check, id)).map((s) => [s.code, s.direction]), id).to.deep.equal([["01", "received"]]);
    }
    // the recipient: one record per document; packets went out twice only for the dead one's claims
    const received = await receiver.node.storage.db("documents").where({ direction: "in" }).select("document_id");
    expect(received.length).to.equal(stored.length);
    expect(new Set(received.map((r) => r.document_id)).size).to.equal(stored.length);
    expect(hits.hits).to.be.within(stored.length, stored.length + claimedByVictim);
    const retried = Number((await check("deliveries").where("attempts", ">", 1).count({ n: "*" }).first())!.n);
    expect(retried, "deliveries sent more than once").to.be.at.most(claimedByVictim);

    // the registry sync went on in one of the survivors
    await waitFor("a survivor to take over the registry sync", async () => alive().some((p) => syncRounds(p).some((t) => t > killedAt + 500)), 20_000, 100);
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 3 * SYNC_MS + 300));
    expect(alive().filter((p) => syncRounds(p).some((t) => t >= from)), "survivors that synced").to.have.length(1);
  });
});
