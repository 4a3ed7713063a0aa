// The registry between nodes: GET /registry/snapshot (signed, with an expiry) and the periodic
// sync from another node's snapshot, which refuses tampered, expired, foreign-signed and replayed
// snapshots and keeps the last good registry. The syncing node runs on SQLite and PostgreSQL.
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import pino from "pino";
import { startNode, type RunningNode } from "../server/main.ts";
import { startRegistrySync, type RegistrySync } from "../app/index.ts";
import { fingerprint, isBound, signRegistrySnapshot, verifyRegistrySnapshot, SnapshotError, type RegistryEntry } from "../signing/index.ts";
import { getAgency, getLocalAgency, getSyncRun, upsertAgency } from "../storage/index.ts";
import { onEachDatabase } from "./helpers/db.ts";
import { scratch, testPki } from "../fixtures/index.ts";

/** A node in this process on a free port of 127.0.0.1, configured by `extra` only. */
async function runNode(o: { dataDir: string; databaseUrl?: string; schema?: string }, extra: Record<string, string> = {}): Promise<RunningNode> {
  const env: NodeJS.ProcessEnv = { EDOC_DATA_DIR: o.dataDir, PORT: "0", EDOC_LISTEN_HOST: "127.0.0.1", ...extra };
  if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
  if (o.schema) env.EDOC_DB_SCHEMA = o.schema;
  return startNode({ env, out: { write: () => true }, log: pino({ level: "silent" }) });
}

const A_ID = "000.00.00.Z91";
const B_ID = "000.00.00.Z92";

/** An HTTP server answering GET with whatever `serve` is set to. */
async function fakeUpstream(): Promise<{ url: string; serve: Buffer | number; server: Server }> {
  const state = { url: "", serve: 503 as Buffer | number, server: null as unknown as Server };
  state.server = createServer((_req, res) => {
    if (typeof state.serve === "number") res.writeHead(state.serve).end("unavailable");
    else res.writeHead(200, { "content-type": "application/xml" }).end(state.serve);
  });
  await new Promise<void>((r) => state.server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/registry/snapshot`;
  return state;
}

onEachDatabase("registry snapshot and sync", (database) => {
  const files = scratch();
  const { sender, recipient } = testPki();
  let a: RunningNode;
  let b: RunningNode;
  let aCert: import("node:crypto").X509Certificate;
  let aCertPath: string;
  const syncs: RegistrySync[] = [];

  before(async () => {
    // the publishing node is always on SQLite; the node under test (B) on the database of the run
    a = await runNode({ dataDir: files.path("a") }, { EDOC_ORGAN_ID: A_ID, EDOC_ORGAN_NAME: "Sở A", EDOC_REGISTRY_VALID_MS: "600000" });
    aCert = (await getLocalAgency(a.node.storage.db, A_ID))!.certificate;
    aCertPath = files.path("a.pem");
    writeFileSync(aCertPath, aCert.toString());
    const adb = a.node.storage.db;
    await upsertAgency(adb, { organId: "H41.UBND", name: "UBND tỉnh Nghệ An", parentId: "000.00.00.H41", endpoint: "https://h41.example", certificates: [recipient.certificate] });
    // A also lists B's own agency (elsewhere) and an entry B's administrator made by hand: B must keep its own
    await upsertAgency(adb, { organId: B_ID, name: "Kẻ mạo danh", parentId: null, endpoint: "https://evil.example", certificates: [sender.certificate] });
    await upsertAgency(adb, { organId: "X01", name: "Tên theo A", parentId: null, endpoint: "https://x01-a.example", certificates: [sender.certificate] });

    b = await runNode(database().options(), { EDOC_ORGAN_ID: B_ID, EDOC_ORGAN_NAME: "UBND B" });
    await upsertAgency(b.node.storage.db, { organId: "X01", name: "Tên do quản trị B đặt", parentId: null, endpoint: "https://x01-b.example", certificates: [recipient.certificate] });
  });
  after(async () => {
    for (const s of syncs) await s.stop();
    await b?.stop();
    await a?.stop();
    files.cleanup();
  });

  it("GET /registry/snapshot: the registry, signed by the node's first agency, with an expiry", async () => {
    const res = await fetch(`${a.url}/registry/snapshot`);
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.match(/^application\/xml/);
    expect(res.headers.get("x-edoc-snapshot-signer")).to.equal(A_ID);
    const bytes = Buffer.from(await res.arrayBuffer());
    const v = verifyRegistrySnapshot(bytes, { publisherCert: aCert });
    expect(v.publisher).to.equal(a.url);
    expect(v.expiresAt.getTime() - v.issuedAt.getTime()).to.equal(600_000);
    expect(new Date(res.headers.get("expires")!).getTime()).to.equal(v.expiresAt.getTime());
    const byId = new Map(v.entries.map((e) => [e.organId, e]));
    expect(byId.get(A_ID)).to.include({ name: "Sở A", endpoint: a.url, status: "active" });
    expect(byId.get(A_ID)!.certificateFingerprints).to.deep.equal([fingerprint(aCert)]);
    expect(byId.get("H41.UBND")).to.include({ parentId: "000.00.00.H41", endpoint: "https://h41.example" });
    // only A's certificate is accepted as the signer, and only until the expiry
    expect(() => verifyRegistrySnapshot(bytes, { publisherCert: sender.certificate })).to.throw(SnapshotError, /not by the configured publisher certificate/);
    expect(() => verifyRegistrySnapshot(bytes, { publisherCert: aCert, at: new Date(v.expiresAt.getTime() + 1000) })).to.throw(SnapshotError, /expired/);
  });

  it("a node syncs from another node: entries mirrored with source = the URL; its own agencies and hand-made entries stay", async () => {
    const url = `${a.url}/registry/snapshot`;
    const sync = startRegistrySync(b.node, { url, publisherCert: aCert, intervalMs: 3_600_000, timeoutMs: 5000 });
    syncs.push(sync);
    const r = await sync.syncNow();
    expect(r.error).to.equal(undefined);
    expect(r.ok).to.equal(true);
    expect(r.kept).to.have.members([B_ID, "X01"]);
    const db = b.node.storage.db;
    expect(await getAgency(db, "H41.UBND")).to.include({ name: "UBND tỉnh Nghệ An", endpoint: "https://h41.example", parentId: "000.00.00.H41", source: url, status: "active" });
    expect(await getAgency(db, A_ID)).to.include({ endpoint: a.url, source: url });
    expect((await getAgency(db, A_ID))!.certificates.map(fingerprint)).to.deep.equal([fingerprint(aCert)]);
    expect(await getAgency(db, B_ID)).to.include({ endpoint: b.url, source: "local", name: "UBND B" });
    expect(await getAgency(db, "X01")).to.include({ name: "Tên do quản trị B đặt", endpoint: "https://x01-b.example", source: "local" });
    // the node's trust now binds the synced certificates
    const trust = await b.node.trust();
    expect(isBound(trust.registry!, "H41.UBND", fingerprint(recipient.certificate))).to.equal(true);
    expect(isBound(trust.registry!, B_ID, fingerprint(sender.certificate))).to.equal(false);
    // nothing changed: a second sync writes nothing
    expect((await sync.syncNow()).applied).to.equal(0);
  });

  it("refuses tampered, expired, foreign-signed, replayed and unreachable snapshots, and keeps the last good registry", async () => {
    const upstream = await fakeUpstream();
    const lines: string[] = [];
    const log = pino({ level: "debug" }, { write: (l: string) => void lines.push(l) });
    const sync = startRegistrySync({ ...b.node, log }, { url: upstream.url, publisherCert: sender.certificate, intervalMs: 3_600_000, timeoutMs: 2000 });
    syncs.push(sync);
    const db = b.node.storage.db;
    try {
      expect((await sync.syncNow()).error).to.match(/HTTP 503/); // the first attempt, before anything was served
      // each attempt is recorded with its error, and when the timer's next run is due (the administrators' page)
      let run = (await getSyncRun(db, upstream.url))!;
      for (let i = 0; i < 50 && !run.nextAt; i++) run = await new Promise((r) => setTimeout(() => r(getSyncRun(db, upstream.url).then((x) => x!)), 50)); // the timer is set just after the first run
      expect(run.error).to.match(/HTTP 503/);
      expect(run.attemptedAt.getTime()).to.be.closeTo(Date.now(), 10_000);
      expect(run.nextAt!.getTime()).to.be.closeTo(Date.now() + 3_600_000, 400_000);
      const entry = (organId: string, name: string): RegistryEntry => ({
        organId,
        name,
        endpoint: `https://${organId.toLowerCase()}.example`,
        certificateFingerprints: [fingerprint(recipient.certificate)],
        certificatesPem: recipient.certificate.toString(),
      });
      const sign = (entries: RegistryEntry[], opts: { issuedAt?: Date; validFor?: number; by?: typeof sender } = {}) =>
        signRegistrySnapshot(entries, opts.by ?? sender, { validFor: opts.validFor ?? 3_600_000, publisher: "https://upstream.example", issuedAt: opts.issuedAt });

      const good = sign([entry("Q01", "Cơ quan Quảng Bình"), entry("Q02", "Cơ quan Quảng Trị")]);
      upstream.serve = good;
      const applied = await sync.syncNow();
      expect(applied).to.include({ ok: true, applied: 2 });
      expect((await getSyncRun(db, upstream.url))!.error, "a good attempt clears the error").to.equal(null);
      const before = [await getAgency(db, "Q01"), await getAgency(db, "Q02")];
      expect(before[0]).to.include({ name: "Cơ quan Quảng Bình", source: upstream.url, status: "active" });

      const refused: Array<[string, Buffer | number, RegExp]> = [
        ["tampered", Buffer.from(good.toString("utf8").replace("Cơ quan Quảng Bình", "Cơ quan Giả mạo"), "utf8"), /HASH_FAILURE/],
        ["expired", sign([entry("Q01", "Cũ")], { issuedAt: new Date(Date.now() - 2 * 3_600_000) }), /EXPIRED/],
        ["signed by another key", sign([entry("Q01", "Lạ")], { by: recipient }), /SIGNER_MISMATCH/],
        ["older than the one applied", sign([entry("Q01", "Cũ hơn")], { issuedAt: new Date(Date.now() - 10 * 60_000) }), /before the one already applied/],
        ["not a snapshot", Buffer.from("<html>maintenance</html>"), /FORMAT/],
        ["unreachable", 502, /HTTP 502/],
      ];
      for (const [what, serve, reason] of refused) {
        upstream.serve = serve;
        lines.length = 0;
        const r = await sync.syncNow();
        expect(r.ok, what).to.equal(false);
        expect(r.error, what).to.match(reason);
        expect([await getAgency(db, "Q01"), await getAgency(db, "Q02")], what).to.deep.equal(before);
        const warning = lines.map((l) => JSON.parse(l)).find((l) => l.level === 40);
        expect(warning?.msg, what).to.match(/^registry sync failed: .*; keeping the registry from the snapshot issued at/);
      }
      expect(sync.lastGood()!.issuedAt.getTime()).to.be.closeTo(Date.now(), 60_000);

      // a newer good snapshot applies: renamed, and an entry that left it becomes inactive
      await new Promise((r) => setTimeout(r, 1100)); // issuedAt has whole seconds
      upstream.serve = sign([entry("Q01", "Cơ quan Quảng Bình (mới)")]);
      const next = await sync.syncNow();
      expect(next).to.include({ ok: true, applied: 1 });
      expect(next.deactivated).to.deep.equal(["Q02"]);
      expect(await getAgency(db, "Q01")).to.include({ name: "Cơ quan Quảng Bình (mới)", status: "active" });
      expect(await getAgency(db, "Q02")).to.include({ status: "inactive", source: upstream.url });
      expect((await b.node.trust()).registry!.has("Q02")).to.equal(false);

      const metrics = await b.node.metrics.registry.metrics();
      expect(metrics).to.match(/edoc_registry_sync_total\{result="failed"\} [1-9]/);
      expect(metrics).to.match(/edoc_registry_snapshot_expires_timestamp_seconds \d/);
    } finally {
      await sync.stop();
      upstream.server.close();
    }
  });

  it("remembers the last applied snapshot in the database: after a restart an older unexpired one is still refused", async () => {
    const upstream = await fakeUpstream();
    const entry = (organId: string): RegistryEntry => ({ organId, name: `Cơ quan ${organId}`, endpoint: `https://${organId.toLowerCase()}.example`, certificateFingerprints: [fingerprint(recipient.certificate)] });
    const sign = (entries: RegistryEntry[], issuedAt: Date) => signRegistrySnapshot(entries, sender, { validFor: 3_600_000, publisher: "https://upstream.example", issuedAt });
    const older = sign([entry("R01"), entry("R02")], new Date(Date.now() - 10 * 60_000));
    const newer = sign([entry("R01")], new Date()); // R02 withdrawn
    const cfg = { url: upstream.url, publisherCert: sender.certificate, intervalMs: 3_600_000, timeoutMs: 2000 };
    try {
      const first = startRegistrySync(b.node, cfg);
      upstream.serve = older;
      expect(await first.syncNow()).to.include({ ok: true, applied: 2 });
      upstream.serve = newer;
      expect((await first.syncNow()).deactivated).to.deep.equal(["R02"]);
      await first.stop();

      // a restart: a new node on the same database, which is served the older snapshot again
      await b.stop();
      b = await runNode(database().options(), { EDOC_ORGAN_ID: B_ID, EDOC_ORGAN_NAME: "UBND B" });
      const again = startRegistrySync(b.node, cfg);
      syncs.push(again);
      upstream.serve = older;
      const r = await again.syncNow();
      expect(r.ok).to.equal(false);
      expect(r.error).to.match(/before the one already applied/);
      expect(await getAgency(b.node.storage.db, "R02")).to.include({ status: "inactive" });
      expect((await b.node.trust()).registry!.has("R02")).to.equal(false);
      expect(again.lastGood()!.issuedAt.getTime()).to.equal(verifyRegistrySnapshot(newer, { publisherCert: sender.certificate }).issuedAt.getTime());
    } finally {
      upstream.server.close();
    }
  });

  it("a node started with EDOC_REGISTRY_URL and EDOC_REGISTRY_CERT syncs on its own; a half configuration is refused", async () => {
    const c = await runNode({ dataDir: files.path("c") }, {
      EDOC_ORGAN_ID: "000.00.00.Z93",
      EDOC_REGISTRY_URL: `${a.url}/registry/snapshot`,
      EDOC_REGISTRY_CERT: aCertPath,
      EDOC_REGISTRY_SYNC_MS: "3600000",
    });
    try {
      expect(c.sync).not.to.equal(null);
      const r = await c.sync!.syncNow();
      expect(r.ok).to.equal(true);
      expect(await getAgency(c.node.storage.db, "H41.UBND")).to.include({ source: `${a.url}/registry/snapshot` });
    } finally {
      await c.stop();
    }
    for (const [env, message] of [
      [{ EDOC_REGISTRY_URL: `${a.url}/registry/snapshot` }, /EDOC_REGISTRY_CERT is not/],
      [{ EDOC_REGISTRY_CERT: aCertPath }, /EDOC_REGISTRY_URL is not/],
      [{ EDOC_REGISTRY_URL: `${a.url}/registry/snapshot`, EDOC_REGISTRY_CERT: files.path("missing.pem") }, /cannot read EDOC_REGISTRY_CERT/],
      [{ EDOC_REGISTRY_URL: "ftp://x", EDOC_REGISTRY_CERT: aCertPath }, /not an http\(s\) URL/],
    ] as Array<[Record<string, string>, RegExp]>) {
      let error: Error | null = null;
      await runNode({ dataDir: files.path("d") }, env).catch((e: Error) => (error = e));
      expect(error, JSON.stringify(env)).to.be.instanceOf(Error);
      expect(error!.message).to.match(message);
    }
  });
});
