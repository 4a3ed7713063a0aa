// Archive time-stamp renewal (RFC 4998 §5.2): a round stamped under a TSA certificate that expires
// within EDOC_ARCHIVE_RENEW_DAYS gets a new stamp over its stamp's DER, from a TSA with a newer
// certificate; the evidence bundle carries the chain, and an archivist years on (after the first
// TSA certificate expired) still gets the proof, while the root stamp alone no longer gives it.
// A broken chain is named. On SQLite and PostgreSQL, with real TSAs (test/helpers/tsa.ts).
import { expect } from "chai";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { strToU8, unzipSync, zipSync } from "fflate";
import { archiveRound, renewArchiveStamps, sendDocument, tokenCaller, type Caller } from "../app/index.ts";
import { verifyEvidenceBundle, verifyTimestampToken, type BundleReport } from "../signing/index.ts";
import { addTrustAnchor } from "../storage/index.ts";
import { RECIPIENT, SENDER, scratch, testPki } from "../fixtures/index.ts";
import { onEachDatabase, type TestDatabase } from "./helpers/db.ts";
import { startNode, type TestNode } from "./helpers/node.ts";
import { startTsa, type TestTsa } from "./helpers/tsa.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
const YEAR_MS = 365 * 86_400_000;
// the recipient is an agency of the same node: the sent packet is stored whatever its delivery
const ORGANS = [
  { organId: SENDER, name: "Văn phòng Chính phủ" },
  { organId: RECIPIENT, name: "UBND tỉnh Nghệ An" },
];
const clerk: Caller = tokenCaller({ id: 0, organId: SENDER, role: "clerk", name: "Văn thư" });

onEachDatabase("archive time-stamp renewal (RFC 4998 chain of stamps)", (database) => {
  describe("a node whose TSA certificate expires in 30 days", () => suite(database));
});

function suite(database: () => TestDatabase) {
  let first: TestTsa; // its certificate expires in 30 days
  let second: TestTsa; // another TSA, under another CA, certificate for 10 years
  let a: TestNode;
  let n = 0;
  const files = scratch();

  before(async function () {
    this.timeout(120_000);
    [first, second] = await Promise.all([startTsa({ days: 30 }), startTsa()]);
    a = await startNode({
      database: database(),
      organs: ORGANS,
      config: { tsa: { url: first.url, timeoutMs: 5000, retryMs: 1000, archiveMs: 3_600_000, renewDays: 180 } },
    });
    for (const tsa of [first, second]) await addTrustAnchor(a.node.storage.db, new X509Certificate(tsa.caPem), "tsa");
    a.node.trustChanged();
  });
  after(async () => {
    await a?.close();
    await first?.close();
    await second?.close();
    files.cleanup();
  });

  const tsaConfig = (t: TestNode) => t.node.config.tsa!;
  const send = () =>
    sendDocument(a.node, clerk, { To: [RECIPIENT], Code: `${++n}/QĐ-VPCP`, Subject: `Lưu trữ ${n}`, DocumentType: { Type: 1, TypeName: "Quyết định" } }, []);
  const renewals = async (round?: number) => (await a.node.storage.db("archive_renewals").modify((q) => (round ? q.where({ round }) : q)).orderBy(["round", "seq"])) as Array<{ round: number; seq: number; token: Buffer }>;
  const tsaTrust = () => ({ anchors: [first, second].map((t) => new X509Certificate(t.caPem)), crls: [] });
  const bundlePath = async (docId: string, name: string) => {
    const res = await fetch(`${a.url}/api/v1/documents/${docId}/evidence`, { headers: a.auth(SENDER, "archivist") });
    expect(res.status).to.equal(200);
    writeFileSync(files.path(name), Buffer.from(await res.arrayBuffer()));
    return files.path(name);
  };
  const verify = (path: string, at?: Date): Promise<BundleReport> => {
    const { anchors, registry } = testPki().trust;
    return verifyEvidenceBundle(path, { anchors, crls: [], registry, tsaAnchors: tsaTrust().anchors, at });
  };
  /** The bundle with the packet's archive proof rewritten by `mutate` (renewals as base64 DER). */
  const withProof = (src: string, name: string, mutate: (proof: { timestamp: string; renewals: string[] }) => void) => {
    const z = unzipSync(readFileSync(src));
    const proof = JSON.parse(Buffer.from(z["archive/packet.edxml.json"]).toString("utf8"));
    mutate(proof);
    z["archive/packet.edxml.json"] = strToU8(JSON.stringify(proof));
    writeFileSync(files.path(name), zipSync(z));
    return files.path(name);
  };
  const packetProof = (r: BundleReport) => r.bundle.archive.find((x) => x.path === "packet.edxml")!;

  let doc: Awaited<ReturnType<typeof send>>;
  let early: string; // the bundle exported before the renewal

  it("renews a round whose stamp's TSA certificate expires within the margin, over the SHA-256 of that stamp; not while the TSA is away or still signs under the old certificate", async function () {
    this.timeout(60_000);
    doc = await send();
    expect(await archiveRound(a.node)).to.be.at.least(1);
    early = await bundlePath(doc.id, "before.zip");
    const [round] = await a.node.storage.db("archive_rounds").orderBy("id");

    // the same TSA still signs under the certificate that expires in 30 days: no use renewing with it
    expect(await renewArchiveStamps(a.node)).to.equal(0);
    // the operator moves to a TSA with a newer certificate; while it is away nothing is stored
    tsaConfig(a).url = second.url;
    second.mode = "down";
    try {
      expect(await renewArchiveStamps(a.node)).to.equal(0);
    } finally {
      second.mode = "ok";
    }
    expect(await renewals()).to.deep.equal([]);
    const rounds = (await a.node.storage.db("archive_rounds")).length;
    expect(await renewArchiveStamps(a.node)).to.equal(rounds);
    const [renewal] = await renewals(round.id);
    expect(renewal).to.include({ seq: 1 });
    // the renewal is a stamp over the DER of the round's stamp, by the second TSA
    const checked = await verifyTimestampToken(Buffer.from(renewal.token), Buffer.from(round.token), tsaTrust(), new Date());
    expect(checked.tsa).to.include("Test TSA");
    // renewed under a certificate valid 10 years: nothing more to do
    expect(await renewArchiveStamps(a.node)).to.equal(0);
    expect(await renewals()).to.have.length(rounds);
  });

  it("the bundle carries the chain: valid now and five years on (the first TSA certificate expired), proving the first stamp's time; without the renewal the stamp no longer counts", async function () {
    this.timeout(60_000);
    const path = await bundlePath(doc.id, "after.zip");
    const now = await verify(path);
    expect(now.valid, now.errors.join("\n")).to.equal(true);
    expect(packetProof(now)).to.include({ included: true, stamped: true, reason: null });
    expect(packetProof(now).stamps).to.have.length(2);

    const later = new Date(Date.now() + 5 * YEAR_MS);
    const archivist = await verify(path, later);
    // the node's seal over the bundle was time-stamped at export: its certificate, expired by then, is checked at the stamp's time
    expect(archivist.valid, archivist.errors.join("\n")).to.equal(true);
    expect(archivist.bundle.manifestSignature).to.include({ valid: true, basis: "timestamp" });
    expect(archivist.bundle.verdictBy).to.equal("seal");
    const proof = packetProof(archivist);
    expect(proof).to.include({ included: true, stamped: true, reason: null });
    // the time proven is the root stamp's; it was checked at the renewal's time, the renewal at --at
    expect(proof.time).to.equal(proof.stamps[0].time);
    expect(proof.stamps[0]).to.include({ valid: true, checkedAt: proof.stamps[1].time });
    expect(proof.stamps[1]).to.include({ valid: true, checkedAt: later.toISOString() });
    for (const x of archivist.bundle.archive) expect(x).to.include({ stamped: true });

    // the archivist's command: bin/edoc verify --at, exit 0 (the seal's stamp); the bundle exported before the renewal too, its archive stamp only a warning
    writeFileSync(files.path("root.pem"), testPki().root.certificate.toString());
    for (const [i, t] of [first, second].entries()) writeFileSync(files.path(`tsa-${i}.pem`), t.caPem);
    const registry = { agencies: [...testPki().trust.registry!.values()].map((e) => ({ organId: e.organId, certificateFingerprints: e.certificateFingerprints })) };
    writeFileSync(files.path("registry.json"), JSON.stringify(registry));
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(EDOC, ["verify", ...args, "--trust", files.path("root.pem"), "--tsa-trust", files.path("tsa-0.pem"), "--tsa-trust", files.path("tsa-1.pem"), "--registry", files.path("registry.json"), "--at", later.toISOString()], (err, stdout) =>
          resolve({ code: err ? (err.code as number) : 0, stdout }),
        ),
      );
    const renewed = await cli(path);
    expect(renewed.code, renewed.stdout).to.equal(0);
    expect(renewed.stdout).to.match(new RegExp(`✓ packet\\.edxml  existed unchanged at ${proof.time}, stamped by .*Test TSA.*, stamp renewed 1× \\(last by`));
    const unrenewed = await cli(early);
    expect(unrenewed.code, unrenewed.stdout).to.equal(0);
    expect(unrenewed.stdout).to.include("✗ packet.edxml  stamp does not count (TIMESTAMP_UNTRUSTED)");

    // README.txt's steps without edoc: openssl checks each stamp over the one before, at the next one's time
    const file = JSON.parse(Buffer.from(unzipSync(readFileSync(path))["archive/packet.edxml.json"]).toString("utf8"));
    writeFileSync(files.path("root.bin"), Buffer.from(file.root, "hex"));
    [file.timestamp, ...file.renewals].forEach((t: string, i: number) => writeFileSync(files.path(`t${i}.der`), Buffer.from(t, "base64")));
    const ossl = (data: string, token: string, ca: string, ...more: string[]) =>
      new Promise<string>((resolve) => execFile("openssl", ["ts", "-verify", "-data", files.path(data), "-in", files.path(token), "-token_in", "-CAfile", files.path(ca), ...more], (_, stdout, stderr) => resolve(stdout + stderr)));
    const renewedAt = String(Math.floor(Date.parse(proof.stamps[1].time!) / 1000));
    expect(await ossl("root.bin", "t0.der", "tsa-0.pem", "-attime", renewedAt)).to.include("Verification: OK");
    expect(await ossl("t0.der", "t1.der", "tsa-1.pem")).to.include("Verification: OK");
    expect(await ossl("root.bin", "t0.der", "tsa-0.pem", "-attime", String(Math.floor(later.getTime() / 1000)))).to.include("certificate has expired");
    expect(await ossl("root.bin", "t1.der", "tsa-1.pem")).to.include("Verification: FAILED");

    // the bundle exported before the renewal: the root stamp alone, its TSA certificate expired by then
    const old = await verify(early, later);
    expect(packetProof(old)).to.include({ included: true, stamped: false, reason: "TIMESTAMP_UNTRUSTED" });
    expect(old.warnings.join("\n")).to.match(/archive\/packet\.edxml\.json: the archive time-stamp does not count: the root's stamp is not valid at the verification time/);
    // and after the second TSA's certificate expired too, the chain needs a further renewal
    expect(packetProof(await verify(path, new Date(Date.now() + 11 * YEAR_MS)))).to.include({ stamped: false, reason: "TIMESTAMP_UNTRUSTED" });
  });

  it("a second renewal when the newer certificate nears its end too; a broken chain (a renewal over other data, reordered, one removed) is named", async function () {
    this.timeout(90_000);
    // the second TSA's 10-year certificate is within a 3660-day margin; it gets a certificate for longer
    tsaConfig(a).renewDays = 3660;
    try {
      expect(await renewArchiveStamps(a.node)).to.equal(0); // still the same certificate
      await second.renewCertificate(3700);
      expect(await renewArchiveStamps(a.node)).to.be.at.least(1);
    } finally {
      tsaConfig(a).renewDays = 180;
    }
    const path = await bundlePath(doc.id, "twice.zip");
    const good = await verify(path, new Date(Date.now() + 5 * YEAR_MS));
    expect(good.errors.filter((e) => e.includes("archive/"))).to.deep.equal([]);
    expect(packetProof(good).stamps.map((s) => s.valid)).to.deep.equal([true, true, true]);

    const broken: Array<[string, (p: { timestamp: string; renewals: string[] }) => void, RegExp]> = [
      ["a renewal over other data (the root stamp put as renewal 1)", (p) => (p.renewals[0] = p.timestamp), /broken at renewal 1: it is not over the stamp before it/],
      ["the renewals reordered", (p) => p.renewals.reverse(), /broken at renewal 1: it is not over the stamp before it/],
      ["the first renewal removed", (p) => p.renewals.shift(), /broken at renewal 1: it is not over the stamp before it/],
      ["the root stamp replaced by its renewal", (p) => (p.timestamp = p.renewals[0]), /broken at the root's stamp: it is not over the Merkle root/],
    ];
    for (const [what, mutate, message] of broken) {
      const r = await verify(withProof(path, "broken.zip", mutate), new Date(Date.now() + 5 * YEAR_MS));
      expect(r.valid, what).to.equal(false);
      expect(r.errors.filter((e) => e.includes("chain of archive time-stamps")), what).to.have.length(1);
      expect(packetProof(r), what).to.include({ included: true, stamped: false, reason: "TIMESTAMP_IMPRINT_MISMATCH" });
      expect(r.errors.join("\n"), what).to.match(message).and.match(/chuỗi dấu thời gian lưu trữ bị đứt/);
    }
    // the last renewal removed: a shorter chain, still whole, whose last stamp must hold at --at
    const shorter = await verify(withProof(path, "shorter.zip", (p) => p.renewals.pop()), new Date(Date.now() + 5 * YEAR_MS));
    expect(packetProof(shorter)).to.include({ stamped: true });
    expect(packetProof(shorter).stamps).to.have.length(2);
  });

  it("runs once across processes sharing the database (storage.once): a second node on it renews nothing twice", async function () {
    this.timeout(90_000);
    // a new round stamped under the 30-day certificate again
    tsaConfig(a).url = first.url;
    await send();
    expect(await archiveRound(a.node)).to.be.at.least(1);
    const [round] = await a.node.storage.db("archive_rounds").orderBy("id", "desc").limit(1);
    tsaConfig(a).url = second.url;
    const b = await startNode({ database: database(), organs: ORGANS, config: { tsa: { ...tsaConfig(a) } } });
    try {
      b.node.trustChanged();
      if (database().name === "postgresql") {
        // the first node holds the job's lock (it ran it before): the second does not run it
        expect(await renewArchiveStamps(b.node)).to.equal(0);
        expect(await renewals(round.id)).to.deep.equal([]);
      }
      const counts = await Promise.all([renewArchiveStamps(a.node), renewArchiveStamps(b.node)]);
      expect(counts[0] + counts[1]).to.equal(1);
      expect((await renewals(round.id)).map((r) => r.seq)).to.deep.equal([1]);
    } finally {
      await b.close();
    }
  });
}
