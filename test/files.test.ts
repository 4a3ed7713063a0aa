// The node's files (issue 8): the data directory is private to the node's account whatever the
// umask (0700 directories, 0600 files, the SQLite -wal and -shm included), checked and fixed at
// every start with a warning; files left in uploads/ and tmp/ by a killed process are removed at
// start and then periodically once older than the longest request. On SQLite and PostgreSQL
// (with PostgreSQL the data directory still holds the master key, uploads and work files).
import { expect } from "chai";
import { chmodSync, existsSync, mkdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { startOrphanSweep } from "../app/index.ts";
import { startNode, type RunningNode } from "../server/main.ts";
import { onEachDatabase } from "./helpers/db.ts";

const mode = (path: string) => statSync(path).mode & 0o777;

onEachDatabase("the data directory's files", (database) => {
  let lines: Array<{ level: number; msg: string; fixed?: string[]; removed?: string[] }> = [];

  async function run(extra: Record<string, string> = {}): Promise<RunningNode> {
    const o = database().options();
    const env: NodeJS.ProcessEnv = { EDOC_DATA_DIR: o.dataDir, PORT: "0", EDOC_LISTEN_HOST: "127.0.0.1", ...extra };
    if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
    if (o.schema) env.EDOC_DB_SCHEMA = o.schema;
    lines = [];
    const log = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    return startNode({ env, out: { write: () => true }, log });
  }
  const dataDir = () => database().options().dataDir;
  const sqlite = () => database().name === "sqlite";

  let umask: number;
  before(() => {
    umask = process.umask(0o022);
  });
  after(() => {
    process.umask(umask);
  });

  it("creates the data directory private to the node's account, whatever the umask", async () => {
    const node = await run();
    try {
      const dir = dataDir();
      const dirs = [dir, join(dir, "uploads"), join(dir, "tmp"), join(dir, "dev-ca")];
      const files = [join(dir, "master.key"), join(dir, "dev-ca", "ca.pem"), join(dir, "dev-ca", "ca.key.enc"), join(dir, "dev-ca", "README.txt")];
      if (sqlite()) files.push(...["", "-wal", "-shm"].map((s) => join(dir, `edoc.sqlite${s}`)));
      for (const d of dirs) expect(mode(d).toString(8), d).to.equal("700");
      for (const f of files) expect(mode(f).toString(8), f).to.equal("600");
      expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).to.deep.equal([]);
    } finally {
      await node.stop();
    }
  });

  it("finds a data directory open to others at start, says so and makes it private", async () => {
    const dir = dataDir();
    const loose = [dir, join(dir, "uploads"), join(dir, "tmp")];
    for (const d of loose) chmodSync(d, 0o755);
    const files = [join(dir, "master.key"), join(dir, "uploads", "in-flight")];
    writeFileSync(files[1], "an upload being received");
    if (sqlite()) files.push(...["", "-wal", "-shm"].map((s) => join(dir, `edoc.sqlite${s}`)).filter((f) => existsSync(f)));
    for (const f of files) chmodSync(f, 0o644);
    const node = await run();
    try {
      for (const d of loose) expect(mode(d).toString(8), d).to.equal("700");
      for (const f of files) expect(mode(f).toString(8), f).to.equal("600");
      const warning = lines.find((l) => l.level === 40 && /open to other accounts/.test(l.msg));
      expect(warning?.msg).to.match(/made it private \(directories 0700, files 0600\)/);
      expect(warning!.fixed).to.include.members([...loose, ...files]);
    } finally {
      await node.stop();
    }
  });

  it("removes what interrupted requests left in uploads/ and tmp/, at start and periodically, once older than the longest request", async () => {
    const dir = dataDir();
    const old = (Date.now() - 2 * 60_000) / 1000;
    const orphans = [join(dir, "uploads", "3f0c2a9d8e7b6a5f4e3d2c1b0a998877"), join(dir, "tmp", "8c1d.edxml.partial-4242-1796110000000"), join(dir, "tmp", "5e2b.verify")];
    for (const f of orphans) {
      writeFileSync(f, Buffer.alloc(1000, 0x41));
      utimesSync(f, old, old);
    }
    const oldDir = join(dir, "tmp", "evidence-1");
    mkdirSync(oldDir);
    writeFileSync(join(oldDir, "packet.edxml"), "x");
    utimesSync(oldDir, old, old);
    const fresh = join(dir, "tmp", "being-written.partial-1-2");
    writeFileSync(fresh, "still being written");
    const node = await run({ EDOC_REQUEST_TIMEOUT_MS: "60000" });
    let stop: (() => void) | undefined;
    try {
      for (const f of [...orphans, oldDir]) expect(existsSync(f), f).to.equal(false);
      expect(existsSync(fresh)).to.equal(true);
      const info = lines.find((l) => l.removed);
      expect(info?.msg).to.match(/^removed 4 file\(s\) left by interrupted requests \(3000 bytes\)/);

      // later: a request killed while the node runs
      stop = await startOrphanSweep(node.node, 50);
      const later = join(dir, "uploads", "killed-later");
      writeFileSync(later, "x");
      utimesSync(later, old, old);
      const deadline = Date.now() + 5000;
      while (existsSync(later) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(existsSync(later)).to.equal(false);
      expect(existsSync(fresh)).to.equal(true);
    } finally {
      stop?.();
      await node.stop();
    }
  });
});
