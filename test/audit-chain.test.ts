// The audit log as a hash chain with signed checkpoints (issue 11 §3): the linker gives committed
// rows their place in one chain, the node signs checkpoints of its head, and `bin/edoc audit verify`
// (a real process on a real database) names the first edited, deleted, inserted or cut-away row.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { linkAuditLog, loadConfig, openContext, verifyAuditLog, type AppContext } from "../app/index.ts";
import { auditRowHash, AUDIT_GENESIS, audit, readChain, withChainLock, linkAudit, openStorage } from "../storage/index.ts";
import { anotherDatabase, onEachDatabase } from "./helpers/db.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
const ORGAN = "000.00.00.Z32";
const OPERATOR = { organId: ORGAN, role: "admin" as const, name: "cli:test", actor: "cli:test" };

function edoc(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(EDOC, args, { env }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
  });
}

onEachDatabase("audit log: hash chain and signed checkpoints", (database) => {
  let env: NodeJS.ProcessEnv;
  let ctx: AppContext;

  /** Writes `n` audit rows as the use cases do, links them and signs a checkpoint of the head. */
  async function rows(n: number, checkpoint = true): Promise<void> {
    for (let i = 0; i < n; i++) await audit(ctx.storage.db, { actor: "token:1", organId: ORGAN, action: "document.send", document: `doc-${i}`, detail: { subject: `Công văn số ${i}` } });
    await linkAuditLog(ctx, { checkpoint: checkpoint ? "now" : "due" });
  }
  const chain = () => readChain(ctx.storage.db, 0, 100_000);

  before(async () => {
    const o = database().options();
    env = { PATH: process.env.PATH, HOME: process.env.HOME, EDOC_DATA_DIR: o.dataDir, EDOC_PUBLIC_URL: "http://127.0.0.1:18098" };
    if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
    if (o.schema) env.EDOC_DB_SCHEMA = o.schema;
    expect((await edoc(env, ["agency", "add", "--organ-id", ORGAN, "--name", "Sở Lưu trữ thử nghiệm", "--dev"])).code).to.equal(0);
    ctx = await openContext(loadConfig(env), pino({ level: "silent" }));
  });
  afterEach(async () => {
    await ctx.storage.db("audit_checkpoints").del();
    await ctx.storage.db("audit_log").del();
  });
  after(() => ctx.close());

  it("links every row in commit order, the CLI's own rows too, and audit verify exits 0 on an intact log", async () => {
    expect((await edoc(env, ["token", "create", "--organ-id", ORGAN, "--role", "clerk", "--name", "phần mềm"])).code).to.equal(0);
    await rows(20);
    const linked = await chain();
    expect(linked.map((r) => r.seq)).to.deep.equal(linked.map((_, i) => i + 1));
    expect(linked.map((r) => r.action)).to.include.members(["agency.add", "token.create", "document.send"]);
    let prev = AUDIT_GENESIS;
    for (const r of linked) expect(r.hash).to.equal((prev = auditRowHash(prev, r)));
    const r = await edoc(env, ["audit", "verify"]);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect(r.stdout).to.match(/audit log intact/).and.match(new RegExp(`rows in the chain: ${linked.length}\\b`)).and.match(/signed checkpoints: 1; the latest .* covers \d+ rows, signed by 000\.00\.00\.Z32/);
  });

  it("one node's chain lock does not hold up a node in another schema of the same database", async () => {
    const other = anotherDatabase(database());
    const elsewhere = await openStorage(other.options);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holding = withChainLock(ctx.storage.db, ctx.storage.dialect, () => held);
    try {
      await audit(elsewhere.db, { actor: "token:1", organId: ORGAN, action: "document.send", document: "elsewhere", detail: {} });
      // the other node links while this one holds its own chain's lock
      const head = await withChainLock(elsewhere.db, elsewhere.dialect, async (_trx, h) => h);
      expect(head).to.equal(null);
      await linkAudit(elsewhere.db, elsewhere.dialect);
      expect((await readChain(elsewhere.db, 0, 10)).map((r) => r.seq)).to.deep.equal([1]);
    } finally {
      release();
      await holding;
      await elsewhere.close();
      await other.cleanup();
    }
  });

  it("names an edited row", async () => {
    await rows(10);
    const target = (await chain())[4];
    await ctx.storage.db("audit_log").where({ id: target.id }).update({ detail: JSON.stringify({ subject: "Công văn đã bị sửa" }) });
    const r = await edoc(env, ["audit", "verify"]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.include(`row ${target.seq} (id ${target.id}, document.send by token:1) was changed after it was written`);
  });

  it("names a deleted row", async () => {
    await rows(10);
    const target = (await chain())[6];
    await ctx.storage.db("audit_log").where({ id: target.id }).del();
    const r = await edoc(env, ["audit", "verify"]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.include(`row ${target.seq} of the chain is missing (deleted)`);
  });

  it("names a row slipped in behind the node's back, outside the chain", async () => {
    await rows(10);
    const old = new Date(Date.now() - 3600_000);
    await ctx.storage.db("audit_log").insert({ id: 0, at: old, actor: "user:9", organ_id: ORGAN, action: "document.status", document: "doc-x", detail: "{}" });
    await linkAuditLog(ctx); // the node's linker leaves it out
    const v = await verifyAuditLog(ctx, OPERATOR);
    expect(v.ok).to.equal(false);
    expect(v.broken).to.include({ rowId: 0 });
    const r = await edoc(env, ["audit", "verify"]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.include("row id 0").and.include("was inserted behind the node's back");
  });

  it("catches a row inserted into the chain with every later hash recomputed: the signed checkpoint no longer matches", async () => {
    await rows(10);
    const linked = await chain();
    const db = ctx.storage.db;
    // the forger makes room at seq 4, inserts a row there and recomputes the chain from it on
    for (const r of [...linked].reverse().filter((r) => r.seq! >= 4)) await db("audit_log").where({ id: r.id }).update({ seq: r.seq! + 1 });
    const [{ id }] = await db("audit_log").insert({ at: new Date(linked[2].at), actor: "user:9", organ_id: ORGAN, action: "document.send", document: "doc-forged", detail: "{}", seq: 4 }, ["id"]);
    let prev = linked[2].hash!;
    for (const r of await readChain(db, 3, 1000)) {
      prev = auditRowHash(prev, r);
      await db("audit_log").where({ id: r.id }).update({ hash: prev });
    }
    expect(Number(id ?? 0)).to.be.greaterThan(0);
    const r = await edoc(env, ["audit", "verify"]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/rows 1 to \d+ were rewritten: row \d+ \(id \d+\) does not match the signed checkpoint/);
  });

  it("catches rows cut away past the last checkpoint, and a forged checkpoint", async () => {
    await rows(10);
    const linked = await chain();
    await ctx.storage.db("audit_log").whereIn("id", linked.slice(-3).map((r) => r.id)).del();
    const cut = await edoc(env, ["audit", "verify"]);
    expect(cut.code).to.equal(1);
    expect(cut.stdout).to.include(`the log was cut back: it ends at row ${linked.length - 3}, but the signed checkpoint`).and.include(`saw ${linked.length} rows`);

    // a checkpoint moved back to the new end without the node's key
    const head = (await chain()).at(-1)!;
    await ctx.storage.db("audit_checkpoints").update({ seq: head.seq, hash: head.hash });
    const forged = await edoc(env, ["audit", "verify", "--json"]);
    expect(forged.code).to.equal(1);
    const report = JSON.parse(forged.stdout);
    expect(report.broken.reason).to.match(/the checkpoint of .* is not genuine: its signature does not verify/);
    expect(report.broken.vi).to.include("không xác thực");
  });

  it("several linkers at once (processes sharing the database) never fork the chain", async () => {
    const others = await Promise.all([1, 2].map(() => openContext(loadConfig(env), pino({ level: "silent" }))));
    try {
      const writes = Array.from({ length: 60 }, (_, i) => audit(ctx.storage.db, { actor: `token:${i}`, organId: ORGAN, action: "document.send", detail: { i } }));
      await Promise.all([...writes, ...[ctx, ...others].flatMap((c) => [linkAuditLog(c), linkAuditLog(c)])]);
      await Promise.all([ctx, ...others].map((c) => linkAuditLog(c, { checkpoint: "now" })));
    } finally {
      await Promise.all(others.map((c) => c.close()));
    }
    const linked = await chain();
    expect(linked.map((r) => r.seq)).to.deep.equal(linked.map((_, i) => i + 1));
    expect(linked.length).to.be.at.least(60);
    const v = await verifyAuditLog(ctx, OPERATOR);
    expect(v.broken).to.equal(null);
    expect(v.ok).to.equal(true);
    expect(v.pending).to.equal(0);
  });

  it("signs a checkpoint only when due: after EDOC_AUDIT_CHECKPOINT_ROWS new rows", async () => {
    await rows(3); // the first checkpoint is always due
    const count = async () => Number((await ctx.storage.db("audit_checkpoints").count({ n: "*" }))[0].n);
    expect(await count()).to.equal(1);
    await rows(5, false);
    expect(await count()).to.equal(1);
    ctx.config.auditCheckpoint.everyRows = 5;
    await rows(1, false);
    expect(await count()).to.equal(2);
  });
});
