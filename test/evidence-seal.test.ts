// The evidence bundle's seal (the node's signature over manifest.json) years later. A node with a
// TSA time-stamps the seal at export, so the seal's certificate is checked at the stamp's time and
// the bundle holds five and ten years on; a TSA away at export leaves the seal without a stamp
// (the bundle goes out all the same and says so), and once its certificate has expired the seal is
// a warning, the verdict resting on each document's own proofs. A changed file, a forged seal, a
// revoked sealing certificate or a document proof that fails still fail. On SQLite and PostgreSQL,
// with a real TSA (test/helpers/tsa.ts), real certificates and the real CLI.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { strToU8, unzipSync, zipSync } from "fflate";
import { archiveRound, sendDocument, tokenCaller, type Caller } from "../app/index.ts";
import { verifyEvidenceBundle, type BundleReport, type Crl } from "../signing/index.ts";
import { createCrl, crlToPem } from "../signing/testing.ts";
import { signManifest } from "../signing/evidence/signature.ts";
import { addTrustAnchor } from "../storage/index.ts";
import { RECIPIENT, SENDER, scratch, testPki } from "../fixtures/index.ts";
import { onEachDatabase, type TestDatabase } from "./helpers/db.ts";
import { startNode, type TestNode } from "./helpers/node.ts";
import { startTsa, type TestTsa } from "./helpers/tsa.ts";
import { requireXmlsec, xmlsec } from "./helpers/xmlsec.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
const YEAR_MS = 365 * 86_400_000;
const SEAL = "manifest-signature.xml";
const ORGANS = [
  { organId: SENDER, name: "Văn phòng Chính phủ" },
  { organId: RECIPIENT, name: "UBND tỉnh Nghệ An" },
];
const clerk: Caller = tokenCaller({ id: 0, organId: SENDER, role: "clerk", name: "Văn thư" });
const years = (n: number) => new Date(Date.now() + n * YEAR_MS);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

onEachDatabase("the evidence bundle's seal, years later", (database) => {
  describe("a node with EDOC_TSA_URL (the test TSA's certificate: 10 years)", () => suite(database));
});

function suite(database: () => TestDatabase) {
  let tsa: TestTsa;
  let a: TestNode;
  const files = scratch();
  let docId = "";
  let stamped = ""; // exported with the TSA up
  let unstamped = ""; // exported with the TSA away

  before(async function () {
    this.timeout(120_000);
    tsa = await startTsa();
    a = await startNode({ database: database(), organs: ORGANS, config: { tsa: { url: tsa.url, timeoutMs: 5000, retryMs: 1000, archiveMs: 3_600_000, renewDays: 180 } } });
    await addTrustAnchor(a.node.storage.db, new X509Certificate(tsa.caPem), "tsa");
    a.node.trustChanged();
    writeFileSync(files.path("root.pem"), testPki().root.certificate.toString());
    writeFileSync(files.path("tsa.pem"), tsa.caPem);
    writeFileSync(files.path("node.pem"), testPki().sender.certificate.toString());
    const registry = { agencies: [...testPki().trust.registry!.values()].map((e) => ({ organId: e.organId, certificateFingerprints: e.certificateFingerprints })) };
    writeFileSync(files.path("registry.json"), JSON.stringify(registry));
    writeFileSync(files.path("đính kèm.pdf"), "%PDF-1.7 quyết định đính kèm");
  });
  after(async () => {
    await a?.close();
    await tsa?.close();
    files.cleanup();
  });

  const exportBundle = async (name: string) => {
    const res = await fetch(`${a.url}/api/v1/documents/${docId}/evidence`, { headers: a.auth(SENDER, "archivist") });
    expect(res.status).to.equal(200);
    writeFileSync(files.path(name), Buffer.from(await res.arrayBuffer()));
    return files.path(name);
  };
  const lastExport = async () => {
    const [row] = await a.node.storage.db("audit_log").where({ action: "evidence.export", document: docId }).orderBy("id", "desc").limit(1);
    return JSON.parse(row.detail) as Record<string, unknown>;
  };
  const verify = (path: string, over: { at?: Date; crls?: Crl[]; tsaAnchors?: X509Certificate[] } = {}): Promise<BundleReport> => {
    const { anchors, registry } = testPki().trust;
    return verifyEvidenceBundle(path, { anchors, crls: [], registry, tsaAnchors: [new X509Certificate(tsa.caPem)], ...over });
  };
  /** bin/edoc verify of the bundle; `--registry` unless other options are given after the file. */
  const cli = (path: string, at: Date, ...more: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(
        EDOC,
        ["verify", path, "--trust", files.path("root.pem"), "--tsa-trust", files.path("tsa.pem"), ...(more.length ? more : ["--registry", files.path("registry.json")]), "--at", at.toISOString()],
        (err, stdout) => resolve({ code: err ? (err.code as number) : 0, stdout }),
      ),
    );
  const entries = (path: string) => unzipSync(readFileSync(path));
  const text = (path: string, name: string) => Buffer.from(entries(path)[name]).toString("utf8");
  /** The bundle rewritten with `mutate` applied to its files. */
  const altered = (src: string, name: string, mutate: (z: Record<string, Uint8Array>) => void) => {
    const z = entries(src);
    mutate(z);
    writeFileSync(files.path(name), zipSync(z));
    return files.path(name);
  };

  it("TSA up: the seal carries its time-stamp; the bundle verifies now and 5 and 10 years on (exit 0), the verdict resting on the seal, checked at the stamp's time", async function () {
    this.timeout(90_000);
    const doc = await sendDocument(a.node, clerk, { To: [RECIPIENT], Code: "7/QĐ-VPCP", Subject: "Niêm phong hồ sơ", DocumentType: { Type: 1, TypeName: "Quyết định" } }, [
      { path: files.path("đính kèm.pdf"), name: "đính kèm.pdf", contentType: "application/pdf" },
    ]);
    docId = doc.id;
    expect(await archiveRound(a.node)).to.be.at.least(2);
    stamped = await exportBundle("stamped.zip");
    expect(text(stamped, SEAL)).to.include("<xades:SignatureTimeStamp");
    expect(JSON.parse(text(stamped, "manifest.json"))).to.include({ sealTimestamp: "requested" });
    expect(await lastExport()).to.include({ sealTimestamped: true });

    const now = await verify(stamped);
    expect(now.valid, now.errors.join("\n")).to.equal(true);
    expect(now.bundle.manifestSignature).to.include({ valid: true, basis: "timestamp", subIndication: null });
    expect(now.bundle.manifestSignature.timestamp).to.include({ valid: true, level: "B-T" });
    expect(now.bundle.manifestSignature.checkedAt).to.equal(now.bundle.manifestSignature.timestamp!.time);
    expect(now.bundle.verdictBy).to.equal("seal");

    for (const n of [5, 10]) {
      const later = await verify(stamped, { at: years(n) });
      expect(later.valid, `${n} years: ${later.errors.join("\n")}`).to.equal(true);
      expect(later.bundle.manifestSignature).to.include({ valid: true, basis: "timestamp", checkedAt: now.bundle.manifestSignature.checkedAt });
      expect(later.bundle.verdictBy).to.equal("seal");
      expect(later.level).to.equal("B-T");
      const out = await cli(stamped, years(n));
      expect(out.code, out.stdout).to.equal(0);
      expect(out.stdout).to.match(/^VALID/);
      expect(out.stdout).to.include("verdict rests on — kết luận dựa trên: the node's seal over every file").and.include(`time-stamped at ${now.bundle.manifestSignature.timestamp!.time}`);
      expect(out.stdout).to.match(/seal's time-stamp — dấu thời gian của chữ ký niêm phong: ✓ .* by .*Test TSA/);
    }
    // the same bundle without the seal's stamp: five years on the seal alone proves nothing (see below)
    const bare = await verify(altered(stamped, "bare.zip", (z) => (z[SEAL] = strToU8(text(stamped, SEAL).replace(/<xades:UnsignedProperties>.*<\/xades:UnsignedProperties>/s, "")))), { at: years(5) });
    expect(bare.bundle.manifestSignature).to.include({ valid: false, basis: "claimed", timestamp: null });
  });

  it("without edoc, as README.txt says: xmlsec1 verifies the stamped seal, openssl ts -verify its stamp over the ds:SignatureValue line", async function () {
    const seal = text(stamped, SEAL);
    await requireXmlsec(this);
    writeFileSync(files.path(SEAL), seal);
    const command = /^ {2}xmlsec1 --verify --pubkey-cert-pem NODE\.pem (.*?)manifest-signature\.xml$/ms.exec(text(stamped, "README.txt"))![1];
    const checked = await xmlsec(["--verify", "--pubkey-cert-pem", files.path("node.pem"), ...command.replace(/\\\n/g, " ").split(/\s+/).filter(Boolean), files.path(SEAL)]);
    expect(checked.code, checked.stderr).to.equal(0);
    const value = /<ds:SignatureValue>([A-Za-z0-9+/=]+)<\/ds:SignatureValue>/.exec(seal)![1];
    const token = /<xades:EncapsulatedTimeStamp>([A-Za-z0-9+/=]+)<\/xades:EncapsulatedTimeStamp>/.exec(seal)![1];
    const readme = text(stamped, "README.txt");
    const line = /^ {2}(<ds:SignatureValue xmlns:ds="[^"]+">)GIÁ-TRỊ\/VALUE(<\/ds:SignatureValue>)$/m.exec(readme)!;
    writeFileSync(files.path("sv.xml"), `${line[1]}${value}${line[2]}`);
    writeFileSync(files.path("seal.tst"), Buffer.from(token, "base64"));
    const ossl = (...more: string[]) =>
      new Promise<string>((resolve) =>
        execFile("openssl", ["ts", "-verify", "-data", files.path("sv.xml"), "-in", files.path("seal.tst"), "-token_in", "-CAfile", files.path("tsa.pem"), ...more], (_, stdout, stderr) => resolve(stdout + stderr)),
      );
    expect(await ossl()).to.include("Verification: OK");
    writeFileSync(files.path("sv.xml"), `${line[1]}${value.replace(/^./, (c) => (c === "A" ? "B" : "A"))}${line[2]}`);
    expect(await ossl()).to.include("Verification: FAILED");
    expect(readme).to.include("Niêm phong hồ sơ và dấu thời gian của nó").and.include("The bundle's seal and its time-stamp");
  });

  it("TSA away at export: the bundle goes out all the same, without the seal's stamp, and says so; five years on it verifies with the seal's warning, the verdict resting on the documents' own proofs", async function () {
    this.timeout(90_000);
    tsa.mode = "down";
    try {
      unstamped = await exportBundle("unstamped.zip");
    } finally {
      tsa.mode = "ok";
    }
    expect(text(unstamped, SEAL)).not.to.include("SignatureTimeStamp");
    expect(JSON.parse(text(unstamped, "manifest.json"))).to.include({ sealTimestamp: "requested" });
    expect(text(unstamped, "README.txt")).to.include("nút đã xin dấu thời gian đó khi lập hồ sơ").and.include("the node asked for that stamp when it made the bundle");
    expect(await lastExport()).to.include({ sealTimestamped: false });

    // now: valid, the seal's certificate checked at the verification time, and a warning that it has no stamp
    const now = await verify(unstamped);
    expect(now.valid, now.errors.join("\n")).to.equal(true);
    expect(now.bundle.manifestSignature).to.include({ valid: true, basis: "verification", timestamp: null, timestampRequested: true });
    expect(now.warnings.join("\n")).to.include("carries no time-stamp: the node asked its time-stamping authority for a stamp on it when it made the bundle, but the authority did not answer");
    expect((await cli(unstamped, new Date())).stdout).to.include("✗ none: the time-stamping authority did not answer when the bundle was made");

    // five years on: the seal's certificate has expired, nothing proves when it signed; every document proof holds on its own
    const later = await verify(unstamped, { at: years(5) });
    expect(later.valid, later.errors.join("\n")).to.equal(true);
    expect(later.indication).to.equal("TOTAL_PASSED");
    expect(later.bundle.manifestSignature).to.include({ valid: false, basis: "claimed", subIndication: "EXPIRED" });
    // checked at the time the seal states: its SigningTime, the bundle's creation to the second
    const created = Date.parse(JSON.parse(text(unstamped, "manifest.json")).created);
    expect(Date.parse(later.bundle.manifestSignature.checkedAt!)).to.equal(created - (created % 1000));
    expect(later.bundle.verdictBy).to.equal("documents");
    expect(later.bundle.archive.every((x) => x.stamped)).to.equal(true);
    expect(later.bundle.statuses.every((s) => s.ok)).to.equal(true);
    const warning = later.warnings.find((w) => w.includes("not proven at a time"))!;
    expect(warning).to.include("the authority did not answer").and.include("the verdict rests on each document's own proofs").and.include("không chứng minh được thời điểm ký");
    const out = await cli(unstamped, years(5));
    expect(out.code, out.stdout).to.equal(0);
    expect(out.stdout).to.match(/^VALID/);
    expect(out.stdout).to.include("verdict rests on — kết luận dựa trên: each document's own proofs").and.include("bằng chứng riêng của từng văn bản");
    expect(out.stdout).to.include("chữ ký của nút: ✗ NOT PROVEN AT A TIME — không chứng minh được thời điểm");
    expect(out.stdout).to.include(`warning: ${warning}`);

    // the bundle's own registry rests on the seal: pinned with --registry-cert alone it no longer counts
    const pinned = await cli(unstamped, years(5), "--registry-cert", files.path("node.pem"));
    expect(pinned.code, pinned.stdout).to.equal(1);
    expect(pinned.stdout).to.include("the bundle's own registry (trust/registry.json) does not count: the node's seal over it is not proven at a time");
    // while the stamped bundle's seal still makes it count
    expect((await cli(stamped, years(5), "--registry-cert", files.path("node.pem"))).code).to.equal(0);

    // a node without EDOC_TSA_URL (the packet stamped when it had one): no stamp asked for, the same verdict five years on
    const config = a.node.config.tsa;
    a.node.config.tsa = null;
    let plain: string;
    try {
      plain = await exportBundle("no-tsa.zip");
    } finally {
      a.node.config.tsa = config;
    }
    expect(JSON.parse(text(plain, "manifest.json"))).not.to.have.property("sealTimestamp");
    expect(await lastExport()).not.to.have.property("sealTimestamped");
    expect(text(plain, "README.txt")).to.include("khi lập hồ sơ, nút không có đơn vị cấp dấu thời gian").and.include("the node had no time-stamping authority when it made it");
    const noTsa = await verify(plain, { at: years(5) });
    expect(noTsa.valid, noTsa.errors.join("\n")).to.equal(true);
    expect(noTsa.bundle).to.include({ verdictBy: "documents" });
    expect(noTsa.bundle.manifestSignature).to.include({ basis: "claimed", timestampRequested: false });
    expect(noTsa.warnings.join("\n")).to.include("the node that made the bundle did not ask for a stamp on it");
    expect((await cli(plain, years(5))).stdout).to.include("none: the node did not ask for one");
  });

  it("five years on, still fails closed: a file changed, a forged seal, a revoked sealing certificate, a document proof that does not hold", async function () {
    this.timeout(90_000);
    const at = years(5);
    const refused = async (path: string, what: string, over: Parameters<typeof verify>[1] = {}) => {
      const r = await verify(path, { at, ...over });
      expect(r.valid, what).to.equal(false);
      expect(r.bundle.verdictBy, what).to.equal(null);
      return r;
    };

    // a file changed after sealing: README.txt (no document proof), then the attachment
    const readme = await refused(altered(unstamped, "readme.zip", (z) => (z["README.txt"] = strToU8(text(unstamped, "README.txt") + "\n"))), "README changed");
    expect(readme.errors.join("\n")).to.include("README.txt: changed since the bundle was made");
    const attachment = Object.keys(entries(unstamped)).find((n) => n.startsWith("attachments/"))!;
    const changed = await refused(altered(stamped, "attachment.zip", (z) => (z[attachment] = strToU8("%PDF-1.7 nội dung khác"))), "attachment changed");
    expect(changed.bundle.attachmentsMatchPacket).to.equal(false);

    // a forged seal: its value altered; the manifest edited and sealed again by a key not bound to the publisher
    const flipped = await refused(
      altered(unstamped, "flipped.zip", (z) => (z[SEAL] = strToU8(text(unstamped, SEAL).replace(/<ds:SignatureValue>(.)/, (_, c: string) => `<ds:SignatureValue>${c === "A" ? "B" : "A"}`)))),
      "seal value altered",
    );
    expect(flipped.bundle.manifestSignature).to.include({ valid: false, basis: null, subIndication: "SIG_CRYPTO_FAILURE" });
    const resealed = altered(unstamped, "resealed.zip", (z) => {
      const m = JSON.parse(Buffer.from(z["manifest.json"]).toString("utf8"));
      m.statuses = [];
      z["manifest.json"] = strToU8(JSON.stringify(m));
      z[SEAL] = new Uint8Array(signManifest(Buffer.from(z["manifest.json"]), { organId: SENDER, identity: testPki().recipient }, new Date(m.created)));
    });
    const forged = await refused(resealed, "sealed by another key");
    expect(forged.bundle.manifestSignature).to.include({ valid: false, basis: null, subIndication: "SIGNER_NOT_BOUND" });
    expect(forged.errors.join("\n")).to.include(`the manifest signature (${SEAL}) is not valid (SIGNER_NOT_BOUND)`);

    // the sealing certificate revoked (today, after the seal and the packet's stamp): the unstamped seal fails, its claimed time proves nothing
    const { sender, intermediate } = testPki();
    const crl = await createCrl(intermediate, [{ serial: sender.certificate.serialNumber, date: new Date() }]);
    const revoked = await refused(unstamped, "sealing certificate revoked", { crls: [crl] });
    expect(revoked.bundle.manifestSignature).to.include({ valid: false, basis: null, subIndication: "REVOKED" });
    expect(revoked.bundle.packetValid).to.equal(true); // the packet's own stamp precedes the revocation
    writeFileSync(files.path("revoked.crl.pem"), crlToPem(crl));
    const out = await cli(unstamped, at, "--registry", files.path("registry.json"), "--crl", files.path("revoked.crl.pem"));
    expect(out.code, out.stdout).to.equal(1);
    expect(out.stdout).to.match(/^NOT VALID/).and.include("(REVOKED)");
    // the stamped seal, stamped before the revocation, still holds (signature-profile.md, Level B-T)
    expect((await verify(stamped, { at, crls: [crl] })).valid).to.equal(true);
    // revoked before the seal was stamped (a bundle exported after the revocation): it fails although the packet, stamped earlier, holds
    await sleep(1100);
    const before = new Date();
    await sleep(1100);
    const late = await exportBundle("late.zip");
    const early = await createCrl(intermediate, [{ serial: sender.certificate.serialNumber, date: before }]);
    const lateRevoked = await refused(late, "revoked before the seal's stamp", { crls: [early] });
    expect(lateRevoked.bundle.manifestSignature).to.include({ valid: false, basis: null, subIndication: "REVOKED" });
    expect(lateRevoked.bundle.packetValid).to.equal(true);

    // a document proof that does not hold on its own: without the TSA anchor the packet is B-B and its certificate has expired
    const unproven = await refused(unstamped, "no TSA anchor", { tsaAnchors: [] });
    expect(unproven.bundle.packetValid).to.equal(false);
    expect(unproven.errors.join("\n")).to.include("such a seal is accepted only when every document proof holds on its own, and these do not: the packet's signature (packet.edxml)");

    // a seal stamp over other data (another bundle's) does not count: the seal is then as an unstamped one
    const otherStamp = /<xades:EncapsulatedTimeStamp>[^<]+<\/xades:EncapsulatedTimeStamp>/.exec(text(late, SEAL))![0];
    const swapped = await verify(
      altered(stamped, "swapped.zip", (z) => (z[SEAL] = strToU8(text(stamped, SEAL).replace(/<xades:EncapsulatedTimeStamp>[^<]+<\/xades:EncapsulatedTimeStamp>/, otherStamp)))),
      { at },
    );
    expect(swapped.bundle.manifestSignature).to.include({ valid: false, basis: "claimed" });
    expect(swapped.bundle.manifestSignature.timestamp).to.include({ valid: false, reason: "TIMESTAMP_IMPRINT_MISMATCH" });
    expect(swapped.warnings.join("\n")).to.include("its time-stamp does not count (TIMESTAMP_IMPRINT_MISMATCH)");
  });
}
