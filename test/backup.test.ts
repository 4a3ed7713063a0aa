// `bin/edoc backup DIR` (a real process) while the node runs and receives documents: the copy is
// consistent, checked and sealed like the data directory; restored beside the master key it is a
// working node with exactly the documents it had, its keys and audit chain intact.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { loadConfig, openContext, verifyAuditLog } from "../app/index.ts";
import { listLocalAgencies } from "../storage/index.ts";
import { pack, sampleEdoc, scratch, testPki } from "../fixtures/index.ts";
import { onEachDatabase } from "./helpers/db.ts";
import { recipientDoor, type TestNode } from "./helpers/node.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));

function edoc(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(EDOC, args, { env }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr })));
}

onEachDatabase("backup: bin/edoc backup DIR", (database) => {
  let node: TestNode;
  let env: NodeJS.ProcessEnv;
  const s = scratch();
  let sent = 0;
  const receive = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const edoc = sampleEdoc({}, ["Tờ trình.pdf"]);
      edoc.header.DocumentId = `${edoc.header.From.OrganId},2026/11/20,${++sent}/TTr-VPCP`;
      const body = await pack(edoc, [Buffer.from(`%PDF-1.7 tờ trình số ${sent}`)], testPki().sender);
      const res = await fetch(`${node.url}/edxml`, { method: "POST", headers: { "content-type": "application/xml" }, body: new Uint8Array(body) });
      expect(res.status, await res.clone().text()).to.equal(202);
    }
  };

  before(async () => {
    node = await recipientDoor(database());
    const o = database().options();
    env = { PATH: process.env.PATH, HOME: process.env.HOME, EDOC_DATA_DIR: o.dataDir, EDOC_PUBLIC_URL: node.url };
    if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
    if (o.schema) env.EDOC_DB_SCHEMA = o.schema;
  });
  after(async () => {
    await node?.close();
    s.cleanup();
  });

  it("copies a running SQLite node (restored with its master key: exactly those documents, its keys, its audit chain); points a PostgreSQL node to pg_dump", async () => {
    if (database().name !== "sqlite") {
      const r = await edoc(env, ["backup", s.path("pg-backups")]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/back it up with pg_dump/);
      return;
    }
    await receive(3);
    const [r] = await Promise.all([edoc(env, ["backup", s.path("backups")]), receive(2)]); // the node keeps receiving meanwhile
    expect(r.code, r.stderr).to.equal(0);
    const path = /^backup: (.+)$/m.exec(r.stdout)![1];
    expect(r.stdout).to.match(/the master key is not in the backup/);
    expect(statSync(path).mode & 0o077, "the backup is private to the node's account").to.equal(0);
    const sha = createHash("sha256").update(readFileSync(path)).digest("hex");
    expect(readFileSync(`${path}.sha256`, "utf8")).to.equal(`${sha}  ${path.split("/").pop()}\n`);
    const atBackup = Number(/(\d+) documents/.exec(r.stdout)![1]);
    expect(atBackup).to.be.within(3, 5);
    await receive(1); // written after the backup: not in it

    // restore: the copy as edoc.sqlite of a new data directory, beside the master key
    const restored = s.path("restored");
    mkdirSync(restored, { mode: 0o700 });
    copyFileSync(path, join(restored, "edoc.sqlite"));
    copyFileSync(join(database().options().dataDir, "master.key"), join(restored, "master.key"));
    const ctx = await openContext(loadConfig({ EDOC_DATA_DIR: restored }), pino({ level: "silent" }));
    try {
      const [agency] = await listLocalAgencies(ctx.storage.db);
      const [{ n }] = await ctx.storage.db("documents").count({ n: "*" });
      expect(Number(n)).to.equal(atBackup);
      // the agency's private key opens with the master key: the restored node can sign
      expect((await ctx.identity(agency.organId)).privateKey.asymmetricKeyType).to.equal("rsa");
      const v = await verifyAuditLog(ctx, { organId: agency.organId, role: "admin", name: "cli:test", actor: "cli:test" });
      expect(v.broken).to.equal(null);
    } finally {
      await ctx.close();
    }
  });

  it("without DIR: exit 2 with the reason", async () => {
    const none = await edoc(env, ["backup"]);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.match(/give the directory/);
  });
});
