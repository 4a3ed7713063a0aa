// Evidence bundles (signing/evidence/): a ZIP with the signed packet, its attachments, the signed
// status packets, the verification report, the trust material and a manifest of SHA-256 digests,
// written as a stream and verified offline. Real keys, real files in a scratch directory, and the
// real CLI process.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { strToU8, unzipSync, zipSync } from "fflate";
import { regionBytes, zipSingle, type Edoc, type StatusCode } from "../envelopes/index.ts";
import {
  BundleError,
  bundleFileName,
  fingerprint,
  signStatus,
  verifyEvidenceBundle,
  verifyPacket,
  writeEvidenceBundle,
  type BundleReport,
  type EvidenceInput,
  type EvidenceManifest,
  type EvidenceStatus,
  type Identity,
  signCheckpoint,
} from "../signing/index.ts";
import { signManifest } from "../signing/evidence/signature.ts";
import { issueCertificate } from "../signing/testing.ts";
import { requireXmlsec, xmlsec } from "./helpers/xmlsec.ts";
import { RECIPIENT, SENDER, VIETNAMESE, pack, registryFor, sampleEdoc, sampleStatus, scratch, testPki, zipBomb } from "../fixtures/index.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
const NAMES = ["Quyết định 123.pdf", "Phụ lục — bảng kê chi tiết.xlsx"];
const ATT1 = "attachments/01-Quyết định 123.pdf";
const ATT2 = "attachments/02-Phụ lục — bảng kê chi tiết.xlsx";
const ST = (seq: number, code: string) => `statuses/0${seq}-${code}-${RECIPIENT}.edxml`;

function edoc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(EDOC, args, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
  });
}

async function* chunks(bytes: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Rewrites a bundle with other ZIP software (fflate's zipSync, deflated entries), after `mutate`. */
function rezip(src: string, dst: string, mutate: (files: Record<string, Uint8Array>) => void): string {
  const files = unzipSync(readFileSync(src));
  mutate(files);
  writeFileSync(dst, zipSync(files));
  return dst;
}

/** What a careful forger does: makes manifest.json agree with the files again. */
function refreshManifest(files: Record<string, Uint8Array>): void {
  const m = JSON.parse(Buffer.from(files["manifest.json"]).toString("utf8")) as EvidenceManifest;
  m.files = Object.keys(files)
    .filter((p) => p !== "manifest.json" && p !== "manifest-signature.xml")
    .map((p) => ({ path: p, sha256: sha256(files[p]), size: files[p].length }));
  files["manifest.json"] = strToU8(JSON.stringify(m));
}

function flipByteOf(bytes: Uint8Array, needle: string): Uint8Array {
  const copy = Buffer.from(bytes);
  const at = copy.indexOf(Buffer.from(needle));
  expect(at, `"${needle}" in the file`).to.be.greaterThan(-1);
  copy[at] = copy[at] === 0x41 ? 0x42 : 0x41;
  return copy;
}

describe("evidence bundles", function () {
  this.timeout(120_000);
  const s = scratch();
  const p = (name: string) => s.path(name);
  const { sender, recipient, root, trust } = testPki();
  const files = [Buffer.from("%PDF-1.7 quyết định đính kèm — nội dung"), randomBytes(300_001)];
  const doc = sampleEdoc({}, NAMES);
  const record = {
    id: "42",
    documentId: doc.header.DocumentId,
    direction: "out" as const,
    from: SENDER,
    to: [RECIPIENT],
    code: "123/QĐ-VPCP",
    subject: VIETNAMESE,
  };
  let packetBytes: Buffer;
  let input: EvidenceInput;
  let bundle = "";

  const status = (code: StatusCode, by: Identity = recipient, edit: (st: ReturnType<typeof sampleStatus>) => void = () => {}): EvidenceStatus => {
    const st = sampleStatus(code);
    edit(st);
    return { code, from: st.header.From.OrganId, at: "2026-11-20T03:00:00.000Z", packet: signStatus(st, by) };
  };
  const inputWith = (over: Partial<EvidenceInput> = {}): EvidenceInput => ({
    ...input,
    attachments: files.map((bytes, i) => ({ name: NAMES[i], bytes: chunks(bytes) })),
    ...over,
  });
  const verify = (path: string, over: Partial<Parameters<typeof verifyEvidenceBundle>[1]> = {}) =>
    verifyEvidenceBundle(path, { ...trust, ...over });

  before(async () => {
    packetBytes = await pack(doc, files, sender);
    writeFileSync(p("packet.edxml"), packetBytes);
    const { report } = await verifyPacket({ path: p("packet.edxml") }, trust);
    expect(report.valid).to.equal(true);
    input = {
      record,
      packet: { path: p("packet.edxml") },
      attachments: [],
      statuses: [status("01"), status("03"), status("06")],
      report,
      anchors: trust.anchors,
      registry: trust.registry!,
      publisher: { organId: SENDER, identity: sender },
      created: new Date("2026-11-21T01:00:00Z"),
    };
    bundle = p("bundle.zip");
    await writeEvidenceBundle(inputWith(), bundle);
    writeFileSync(p("root.pem"), root.certificate.toString());
    writeFileSync(p("publisher.pem"), sender.certificate.toString());
    writeFileSync(
      p("registry.json"),
      JSON.stringify({ agencies: [...trust.registry!.values()].map((e) => ({ organId: e.organId, certificateFingerprints: e.certificateFingerprints })) }),
    );
  });
  after(() => s.cleanup());

  describe("layout", () => {
    it("holds the packet byte-exact, the decoded attachments under their Vietnamese names, the statuses, report, trust and manifest", () => {
      const z = unzipSync(readFileSync(bundle));
      const names = Object.keys(z);
      expect(names.slice(0, 2)).to.deep.equal(["README.txt", "packet.edxml"]);
      expect(names).to.include.members([ATT1, ATT2, ST(1, "01"), ST(2, "03"), ST(3, "06"), "report.json", "trust/registry.json", "manifest.json"]);
      // the manifest, then the node's signature over it (which the manifest cannot list)
      expect(names.slice(-2)).to.deep.equal(["manifest.json", "manifest-signature.xml"]);
      expect(Buffer.from(z["packet.edxml"]).equals(packetBytes)).to.equal(true);
      expect(Buffer.from(z[ATT1]).equals(files[0])).to.equal(true);
      expect(Buffer.from(z[ATT2]).equals(files[1])).to.equal(true);
      expect(Buffer.from(z[ST(2, "03")]).equals(input.statuses[1].packet)).to.equal(true);

      // trust/: the anchor used, each signer's chain, the registry entries of the parties
      const anchors = names.filter((n) => n.startsWith("trust/anchor-"));
      expect(anchors).to.deep.equal([`trust/anchor-${fingerprint(root.certificate).slice(0, 16)}.pem`]);
      expect(Buffer.from(z[anchors[0]]).toString()).to.equal(root.certificate.toString());
      const signers = names.filter((n) => n.startsWith("trust/signer-")).sort();
      expect(signers).to.deep.equal(
        [
          `trust/signer-${SENDER}-${fingerprint(sender.certificate).slice(0, 16)}.pem`,
          `trust/signer-${RECIPIENT}-${fingerprint(recipient.certificate).slice(0, 16)}.pem`,
        ].sort(),
      );
      const registry = JSON.parse(Buffer.from(z["trust/registry.json"]).toString());
      expect(registry.agencies.map((a: { organId: string }) => a.organId)).to.deep.equal([SENDER, RECIPIENT].sort());

      const m = JSON.parse(Buffer.from(z["manifest.json"]).toString()) as EvidenceManifest;
      expect(m).to.include({ format: "edoc-evidence/1", created: "2026-11-21T01:00:00.000Z", verifiedAt: input.report.validationTime });
      expect(m.record).to.deep.equal(record);
      expect(m.files.map((f) => f.path)).to.deep.equal(names.filter((n) => n !== "manifest.json" && n !== "manifest-signature.xml"));
      expect(m.publisher).to.deep.equal({
        organId: SENDER,
        fingerprint: fingerprint(sender.certificate),
        certificate: `trust/publisher-${SENDER}-${fingerprint(sender.certificate).slice(0, 16)}.pem`,
      });
      expect(Buffer.from(z[m.publisher.certificate]).toString()).to.equal(sender.certificate.toString());
      const signed = Buffer.from(z["manifest-signature.xml"]).toString();
      expect(signed).to.include(`path="manifest.json" publisher="${SENDER}" sha256="${sha256(z["manifest.json"])}" size="${z["manifest.json"].length}"`);
      for (const f of m.files) expect(f).to.include({ sha256: sha256(z[f.path]), size: z[f.path].length });
      expect(m.statuses.map((x) => [x.seq, x.code, x.from])).to.deep.equal([
        [1, "01", RECIPIENT],
        [2, "03", RECIPIENT],
        [3, "06", RECIPIENT],
      ]);
      expect(m.attachments.map((a) => a.name)).to.deep.equal(NAMES);

      const readme = Buffer.from(z["README.txt"]).toString();
      expect(readme).to.include("HỒ SƠ CHỨNG CỨ").and.include("EVIDENCE BUNDLE").and.include(VIETNAMESE);
      expect(readme).to.include("bin/edoc verify BUNDLE.zip --trust").and.include(`--at ${input.report.validationTime}`);
      expect(readme).to.include("--registry-cert NODE.pem").and.include("--registry-cert NÚT.pem").and.include(fingerprint(sender.certificate));
    });

    it("stores the packet and attachments uncompressed, with UTF-8 names", () => {
      const raw = readFileSync(bundle);
      expect(raw.includes(packetBytes.subarray(0, 4096))).to.equal(true);
      expect(raw.includes(files[1])).to.equal(true);
      expect(raw.includes(Buffer.from(ATT2, "utf8"))).to.equal(true);
    });

    it("Info-ZIP's unzip lists the Vietnamese names right (the Unicode Path extra field, not only the UTF-8 flag)", async function () {
      const listed = await new Promise<{ stdout: string } | null>((resolve) => {
        execFile("unzip", ["-l", bundle], { env: { ...process.env, LC_ALL: "C.UTF-8" } }, (err, stdout) =>
          resolve(err && (err as NodeJS.ErrnoException).code === "ENOENT" ? null : { stdout }),
        );
      });
      if (!listed) {
        const reason = "unzip cannot be run; install it (Debian: apt-get install -y unzip) to check bundle names with Info-ZIP's unzip";
        if (process.env.CI) throw new Error(`CI is set, so this test may not be skipped: ${reason}`);
        console.log(`      SKIPPED: ${reason}`);
        this.skip();
      }
      const names = listed!.stdout.split("\n").map((l) => /^\s*\d+\s+\S+\s+\S+\s+(.+)$/.exec(l)?.[1]).filter((n): n is string => !!n);
      expect(names).to.include.members([ATT1, ATT2, ST(1, "01"), "packet.edxml", "manifest.json"]);
    });

    it("sanitises file names but keeps Vietnamese", () => {
      expect(bundleFileName("Quyết định số 45.pdf")).to.equal("Quyết định số 45.pdf");
      expect(bundleFileName("Quyê\u0301t.pdf")).to.equal("Quyết.pdf"); // NFD → NFC
      expect(bundleFileName("../../etc/passwd")).to.equal("_.._etc_passwd");
      expect(bundleFileName('a<b>c:d"e|f?g*h\\i')).to.equal("a_b_c_d_e_f_g_h_i");
      expect(bundleFileName("báo cáo\u202Efdp.exe")).to.equal("báo cáofdp.exe");
      expect(bundleFileName("CON.pdf")).to.equal("_CON.pdf");
      expect(bundleFileName(" .. ")).to.equal("attachment");
      const long = bundleFileName("Đ".repeat(200) + ".pdf");
      expect(Buffer.byteLength(long)).to.be.at.most(150);
      expect(long.endsWith("Đ.pdf")).to.equal(true);
    });

    it("streams to a writable stream, which it ends", async () => {
      const out = createWriteStream(p("streamed.zip"));
      const closed = new Promise<void>((resolve) => out.on("close", () => resolve()));
      await writeEvidenceBundle(inputWith(), out);
      await closed;
      expect((await verify(p("streamed.zip"))).valid).to.equal(true);
    });

    it("refuses input that contradicts the packet", async () => {
      const fails = async (over: Partial<EvidenceInput>, message: RegExp) => {
        let error: Error | null = null;
        await writeEvidenceBundle(inputWith(over), p("refused.zip")).catch((e: Error) => (error = e));
        expect(error, String(message)).to.be.instanceOf(Error);
        expect(error!.message).to.match(message);
      };
      await fails({ record: { ...record, documentId: "x" } }, /record does not match the packet: documentId/);
      await fails({ record: { ...record, subject: "khác" } }, /subject/);
      await fails({ attachments: [{ name: NAMES[1], bytes: chunks(files[1]) }, { name: NAMES[0], bytes: chunks(files[0]) }] }, /attachment 1 is "Quyết định 123.pdf" in the packet/);
      await fails({ attachments: [] }, /2 attachments but 0 were given/);
      expect(() => readFileSync(p("refused.zip"))).to.throw();
    });
  });

  describe("verification", () => {
    it("a bundle with a 2-attachment edoc and statuses 01, 03, 06 signed by the recipient verifies", async () => {
      const r = await verify(bundle);
      expect(r.errors).to.deep.equal([]);
      expect(r).to.include({ valid: true, indication: "TOTAL_PASSED", subIndication: null, documentId: record.documentId });
      expect(r.signer?.organId).to.equal(SENDER);
      expect(r.bundle).to.include({ manifestOk: true, attachmentsMatchPacket: true, reportMatchesPacket: true, packetValid: true, registrySource: "caller" });
      expect(r.bundle.manifestSignature).to.deep.equal({
        valid: true,
        trustedBy: "registry",
        publisher: SENDER,
        signer: { subject: sender.certificate.subject.replace(/\n/g, ", "), fingerprint: fingerprint(sender.certificate) },
        subIndication: null,
        problem: null,
        // made without a time-stamping authority: its certificate checked at the verification time
        timestamp: null,
        timestampRequested: false,
        basis: "verification",
        checkedAt: r.validationTime,
      });
      expect(r.bundle.verdictBy).to.equal("seal");
      expect(r.bundle.files.every((f) => f.sha256Ok)).to.equal(true);
      expect(r.bundle.files.map((f) => f.path)).to.include.members([ATT1, ATT2, "packet.edxml", "report.json", "README.txt"]);
      expect(r.bundle.statuses.map((x) => [x.code, x.from, x.ok, x.report.valid, x.report.signer?.organId])).to.deep.equal([
        ["01", RECIPIENT, true, true, RECIPIENT],
        ["03", RECIPIENT, true, true, RECIPIENT],
        ["06", RECIPIENT, true, true, RECIPIENT],
      ]);
      expect(r.bundle.record).to.deep.equal(record);
      expect(r.warnings.join("\n")).not.to.match(/registry|bundle|--at/);
    });

    const tampering: Array<[string, (f: Record<string, Uint8Array>) => void, RegExp[], Partial<BundleReport["bundle"]>?]> = [
      [
        "a byte of the packet",
        (f) => (f["packet.edxml"] = flipByteOf(f["packet.edxml"], "JVBERi0xLjc")),
        [/packet\.edxml: changed since the bundle was made/, /signed content was changed after signing: #edxml-att-1/],
        { packetValid: false },
      ],
      [
        "a byte of the packet, the manifest updated",
        (f) => {
          f["packet.edxml"] = flipByteOf(f["packet.edxml"], "JVBERi0xLjc");
          refreshManifest(f);
        },
        [/signed content was changed after signing: #edxml-att-1/],
        { packetValid: false, manifestOk: true },
      ],
      [
        "a byte of an attachment",
        (f) => (f[ATT1] = flipByteOf(f[ATT1], "PDF")),
        [new RegExp(`${ATT1}: changed since the bundle was made`), new RegExp(`${ATT1} differs from attachment 1 of the signed packet`)],
        { attachmentsMatchPacket: false },
      ],
      [
        "an attachment, the manifest updated to match",
        (f) => {
          f[ATT2] = Buffer.concat([Buffer.from(f[ATT2]), Buffer.from("x")]);
          refreshManifest(f);
        },
        [new RegExp(`${ATT2} differs from attachment 2 of the signed packet`)],
        { attachmentsMatchPacket: false, manifestOk: true, packetValid: true },
      ],
      [
        "a status packet",
        (f) => (f[ST(2, "03")] = Buffer.from(Buffer.from(f[ST(2, "03")]).toString("utf8").replace("vào sổ văn bản đến", "từ chối văn bản"))),
        [new RegExp(`${ST(2, "03")}: changed since the bundle was made`), new RegExp(`${ST(2, "03")}: its signature does not verify \\(HASH_FAILURE\\)`)],
      ],
      [
        "a digest in the manifest",
        (f) => {
          const m = JSON.parse(Buffer.from(f["manifest.json"]).toString());
          m.files.find((x: { path: string }) => x.path === "README.txt").sha256 = "0".repeat(64);
          f["manifest.json"] = strToU8(JSON.stringify(m));
        },
        [/README\.txt: changed since the bundle was made: its SHA-256 differs from manifest\.json/],
      ],
      [
        "report.json",
        (f) => {
          const r = JSON.parse(Buffer.from(f["report.json"]).toString());
          r.signer.fingerprint = "ab".repeat(32);
          f["report.json"] = strToU8(JSON.stringify(r));
        },
        [/report\.json: changed since the bundle was made/],
      ],
      [
        "report.json, the manifest updated",
        (f) => {
          const r = JSON.parse(Buffer.from(f["report.json"]).toString());
          r.signer.fingerprint = "ab".repeat(32);
          f["report.json"] = strToU8(JSON.stringify(r));
          refreshManifest(f);
        },
        [/report\.json does not describe this packet: signer abab/],
        { reportMatchesPacket: false, manifestOk: true },
      ],
      ["an extra file", (f) => (f["notes.txt"] = strToU8("ghi chú")), [/notes\.txt: not listed in manifest\.json: an extra file/]],
      [
        "an extra attachment, the manifest updated",
        (f) => {
          f["attachments/03-Công văn.pdf"] = strToU8("%PDF");
          refreshManifest(f);
        },
        [/attachments\/03-Công văn\.pdf is not an attachment of the signed packet/],
        { attachmentsMatchPacket: false },
      ],
      [
        "a missing status packet",
        (f) => delete f[ST(3, "06")],
        [new RegExp(`${ST(3, "06")}: listed in manifest\\.json but missing from the bundle`)],
      ],
      ["a missing attachment", (f) => delete f[ATT2], [new RegExp(`${ATT2}: listed in manifest\\.json but missing`), /attachment 2 of the signed packet .* is missing/]],
      ["a missing manifest", (f) => delete f["manifest.json"], [/manifest\.json is missing/], { manifestOk: false }],
      [
        "the record in the manifest",
        (f) => {
          const m = JSON.parse(Buffer.from(f["manifest.json"]).toString());
          m.record.subject = "V/v khen thưởng";
          f["manifest.json"] = strToU8(JSON.stringify(m));
        },
        [/manifest\.json describes the document differently from the signed packet: subject/],
        { manifestOk: false },
      ],
    ];
    for (const [what, mutate, messages, flags] of tampering) {
      it(`tampering with ${what} fails`, async () => {
        const r = await verify(rezip(bundle, p("tampered.zip"), mutate));
        expect(r.valid).to.equal(false);
        expect(r.indication).not.to.equal("TOTAL_PASSED");
        for (const m of messages) expect(r.errors.join("\n")).to.match(m);
        if (flags) expect(r.bundle).to.include(flags);
      });
    }

    it("a folder entry (an empty statuses/…-16-… shown by file managers as a refusal) is refused", async () => {
      for (const folder of [`statuses/06-16-${RECIPIENT}.edxml/`, "packet.edxml/"]) {
        const zip = rezip(bundle, p("folder.zip"), (f) => (f[folder] = new Uint8Array(0)));
        let error: unknown = null;
        await verify(zip).catch((e) => (error = e));
        expect(error, folder).to.be.instanceOf(BundleError);
        expect((error as Error).message).to.match(/is a folder entry; an evidence bundle holds files only/);
      }
    });

    it("the untampered bundle rewritten by other ZIP software still verifies", async () => {
      const r = await verify(rezip(bundle, p("rezipped.zip"), () => {}));
      expect(r.errors).to.deep.equal([]);
      expect(r.valid).to.equal(true);
    });

    it("a status packet signed by a key not bound to its sender fails", async () => {
      const intruder = { ...issueCertificate({ subject: { CN: "Kẻ mạo danh (test)" }, issuer: testPki().intermediate }), chain: [testPki().intermediate.certificate] };
      await writeEvidenceBundle(inputWith({ statuses: [status("01"), status("03", intruder)] }), p("unbound.zip"));
      const r = await verify(p("unbound.zip"));
      expect(r.valid).to.equal(false);
      expect(r.bundle.packetValid).to.equal(true);
      expect(r.bundle.files.every((f) => f.sha256Ok)).to.equal(true);
      const bad = r.bundle.statuses.find((x) => x.code === "03")!;
      expect(bad).to.include({ ok: false });
      expect(bad.report.subIndication).to.equal("SIGNER_NOT_BOUND");
      expect(r.errors.join("\n")).to.match(/statuses\/02-03-000\.00\.00\.H41\.edxml: its signature does not verify \(SIGNER_NOT_BOUND\)/);
    });

    it("a status packet for another document, or from a stranger, fails", async () => {
      const stranger = "000.00.00.H14";
      const other = { ...issueCertificate({ subject: { CN: "UBND tỉnh Cao Bằng (test)" }, issuer: testPki().intermediate }), chain: [testPki().intermediate.certificate] };
      const registry = registryFor({ [SENDER]: sender, [RECIPIENT]: recipient, [stranger]: other });
      const statuses = [
        status("03", recipient, (st) => (st.header.ResponseFor.DocumentId = `${SENDER},2026/11/19,120/QĐ-VPCP`)),
        status("05", other, (st) => (st.header.From = { OrganId: stranger, OrganName: "UBND tỉnh Cao Bằng" })),
        status("13", recipient),
      ];
      await writeEvidenceBundle(inputWith({ statuses, registry }), p("strangers.zip"));
      const r = await verify(p("strangers.zip"), { registry });
      expect(r.valid).to.equal(false);
      expect(r.bundle.statuses.map((x) => [x.code, x.report.valid, x.ok])).to.deep.equal([
        ["03", true, false],
        ["05", true, false],
        ["13", true, false],
      ]);
      const errors = r.errors.join("\n");
      expect(errors).to.match(/01-03-.*: it answers the document "000\.00\.00\.G22,2026\/11\/19,120\/QĐ-VPCP"/);
      expect(errors).to.match(/02-05-000\.00\.00\.H14\.edxml: it comes from 000\.00\.00\.H14, which is not a recipient/);
      expect(errors).to.match(/03-13-.*: status 13 must come from the document's sender/);
    });

    it("without a registry or a pinned publisher certificate no signer is bound: SIGNER_NOT_BOUND", async () => {
      const r = await verify(bundle, { registry: null });
      expect(r).to.include({ valid: false, subIndication: "SIGNER_NOT_BOUND" });
      expect(r.bundle.registrySource).to.equal("none");
      expect(r.bundle.manifestSignature).to.include({ valid: false, subIndication: "SIGNER_NOT_BOUND" });
      expect(r.errors.join("\n")).to.match(/no registry binds the signers to their agencies: pass your own with --registry, or pin the publishing node's certificate with --registry-cert/);
    });

    it("with the publisher certificate pinned, its signature over the manifest makes the bundle's own registry count", async () => {
      const r = await verify(bundle, { registry: null, publisherCert: sender.certificate });
      expect(r.errors).to.deep.equal([]);
      expect(r.valid).to.equal(true);
      expect(r.bundle.registrySource).to.equal("bundle");
      expect(r.bundle.manifestSignature).to.include({ valid: true, trustedBy: "pinned", publisher: SENDER });
      // a registry edited in the bundle, the manifest refreshed: the pinned signature no longer covers it
      const edited = rezip(bundle, p("registry-edited.zip"), (f) => {
        const reg = JSON.parse(Buffer.from(f["trust/registry.json"]).toString());
        reg.agencies.push({ organId: "000.00.00.X99", certificateFingerprints: ["ab".repeat(32)] });
        f["trust/registry.json"] = strToU8(JSON.stringify(reg));
        refreshManifest(f);
      });
      const e = await verify(edited, { registry: null, publisherCert: sender.certificate });
      expect(e).to.include({ valid: false, subIndication: "SIGNER_NOT_BOUND" });
      expect(e.bundle).to.include({ registrySource: "none" });
      expect(e.bundle.manifestSignature).to.include({ valid: false, subIndication: "HASH_FAILURE" });
    });

    it("a packet from G22 signed with another agency's genuine certificate, its bundle's registry binding G22 to it, is SIGNER_NOT_BOUND", async () => {
      // the forger: B's genuine key signs a packet From G22, with a registry (and a manifest signature) of B's making
      const forged = registryFor({ [SENDER]: recipient, [RECIPIENT]: recipient });
      writeFileSync(p("forged.edxml"), await pack(doc, files, recipient));
      const { report } = await verifyPacket({ path: p("forged.edxml") }, { ...trust, registry: forged });
      expect(report.valid, "valid only by the forger's registry").to.equal(true);
      const made = p("forged.zip");
      await writeEvidenceBundle(inputWith({ packet: { path: p("forged.edxml") }, report, statuses: [], registry: forged, publisher: { organId: RECIPIENT, identity: recipient } }), made);

      // nothing given: a manifest signed by a certificate that merely chains to the anchor does not count
      const alone = await verify(made, { registry: null });
      expect(alone).to.include({ valid: false, subIndication: "SIGNER_NOT_BOUND" });
      expect(alone.bundle).to.include({ registrySource: "none", packetValid: false });
      // the real node pinned: the forger's manifest signature is not the node's
      const pinned = await verify(made, { registry: null, publisherCert: sender.certificate });
      expect(pinned).to.include({ valid: false, subIndication: "SIGNER_NOT_BOUND" });
      expect(pinned.bundle.manifestSignature).to.include({ valid: false, subIndication: "SIGNER_NOT_BOUND", publisher: RECIPIENT });
      expect(pinned.bundle.manifestSignature.problem).to.match(/the manifest signature is signed by .* not by the configured publisher certificate/);
      // the archivist's own registry
      const own = await verify(made);
      expect(own).to.include({ valid: false, subIndication: "SIGNER_NOT_BOUND" });
      expect(own.errors.join("\n")).to.match(/not registered for the sender 000\.00\.00\.G22/);

      const cli = await edoc("verify", made, "--trust", p("root.pem"), "--json");
      expect(cli.code).to.equal(1);
      expect(JSON.parse(cli.stdout)).to.include({ valid: false, subIndication: "SIGNER_NOT_BOUND" });
    });

    it("a status packet deleted, the manifest edited to match, breaks the node's signature over the manifest", async () => {
      const deleted = rezip(bundle, p("status-deleted.zip"), (f) => {
        delete f[ST(3, "06")];
        const m = JSON.parse(Buffer.from(f["manifest.json"]).toString()) as EvidenceManifest;
        m.statuses = m.statuses.filter((x) => x.path !== ST(3, "06"));
        f["manifest.json"] = strToU8(JSON.stringify(m));
        refreshManifest(f);
      });
      const r = await verify(deleted);
      expect(r.valid).to.equal(false);
      expect(r.indication).to.equal("TOTAL_FAILED");
      expect(r.bundle).to.include({ packetValid: true, manifestOk: true, attachmentsMatchPacket: true, reportMatchesPacket: true });
      expect(r.bundle.files.every((f) => f.sha256Ok)).to.equal(true);
      expect(r.bundle.statuses.map((x) => [x.code, x.ok])).to.deep.equal([
        ["01", true],
        ["03", true],
      ]);
      expect(r.bundle.manifestSignature).to.include({ valid: false, subIndication: "HASH_FAILURE", publisher: SENDER });
      expect(r.errors.join("\n")).to.match(/the manifest signature \(manifest-signature\.xml\) is not valid \(HASH_FAILURE\): manifest\.json is not the manifest the node signed/);
    });

    it("xmlsec1 verifies the manifest signature with the pinned certificate, as README.txt says", async function () {
      await requireXmlsec(this);
      const z = unzipSync(readFileSync(bundle));
      writeFileSync(p("manifest-signature.xml"), z["manifest-signature.xml"]);
      const readme = Buffer.from(z["README.txt"]).toString();
      const command = /^ {2}xmlsec1 --verify --pubkey-cert-pem NODE\.pem (.*?)manifest-signature\.xml$/ms.exec(readme)?.[1];
      expect(command, "the xmlsec1 command in README.txt").to.be.a("string");
      const args = command!.replace(/\\\n/g, " ").split(/\s+/).filter(Boolean);
      const run = (cert: string) => xmlsec(["--verify", "--pubkey-cert-pem", cert, ...args, p("manifest-signature.xml")]);
      const ok = await run(p("publisher.pem"));
      expect(ok.stderr, ok.stderr).to.match(/^OK$/m);
      expect(ok.code).to.equal(0);
      expect((await run(p("root.pem"))).code).not.to.equal(0);
    });

    it("carries the node's signed audit checkpoint, checked against the manifest's signer", async () => {
      const head = { seq: 1234, hash: "ab".repeat(32), at: "2026-11-21T00:59:00.000Z", organId: SENDER };
      const withCp = p("bundle-checkpoint.zip");
      await writeEvidenceBundle(inputWith({ auditCheckpoint: signCheckpoint(sender, head) }), withCp);
      const r = await verify(withCp);
      expect(r.errors).to.deep.equal([]);
      expect(r.valid).to.equal(true);
      expect(r.bundle.auditCheckpoint).to.deep.equal({ ...head, valid: true });
      expect((await verify(bundle)).bundle.auditCheckpoint).to.equal(null);
      // a checkpoint signed by another agency's key (the manifest refreshed to match) is refused
      const other = p("bundle-checkpoint-other.zip");
      await writeEvidenceBundle(inputWith({ auditCheckpoint: signCheckpoint(recipient, { ...head, organId: RECIPIENT }) }), other);
      const o = await verify(other);
      expect(o.valid).to.equal(false);
      expect(o.bundle.auditCheckpoint).to.include({ valid: false });
      expect(o.errors.join(" ")).to.include("is not signed by the node that signed the manifest");
    });

    it("a manifest signed by its publisher must name that publisher", async () => {
      const r = await verify(
        rezip(bundle, p("other-publisher.zip"), (f) => {
          const m = JSON.parse(Buffer.from(f["manifest.json"]).toString()) as EvidenceManifest;
          m.publisher = { ...m.publisher, organId: RECIPIENT };
          f["manifest.json"] = strToU8(JSON.stringify(m));
          f["manifest-signature.xml"] = signManifest(Buffer.from(f["manifest.json"]), { organId: SENDER, identity: sender }, new Date());
        }),
      );
      expect(r.bundle.manifestSignature).to.include({ valid: true, publisher: SENDER });
      expect(r.valid).to.equal(false);
      expect(r.errors.join("\n")).to.match(/manifest\.json names another publisher than the one who signed it/);
    });

    it("a bundle without its manifest signature, or with a damaged one, is not valid", async () => {
      const r = await verify(rezip(bundle, p("unsigned.zip"), (f) => delete f["manifest-signature.xml"]));
      expect(r.valid).to.equal(false);
      expect(r.bundle.manifestSignature).to.include({ valid: false, subIndication: "NO_SIGNATURE" });
      expect(r.errors.join("\n")).to.match(/manifest-signature\.xml is missing: nothing vouches that the bundle is complete/);
      const damaged = await verify(rezip(bundle, p("bad-signature.zip"), (f) => (f["manifest-signature.xml"] = flipByteOf(f["manifest-signature.xml"], `publisher="${SENDER}"`))));
      expect(damaged.valid).to.equal(false);
      expect(damaged.bundle.manifestSignature.valid).to.equal(false);
    });

    it("the bundle's own registry keeps an agency's status: an inactive sender does not bind", async () => {
      const registry = registryFor({ [SENDER]: sender, [RECIPIENT]: recipient });
      registry.set(SENDER, { ...registry.get(SENDER)!, status: "suspended" });
      const made = p("inactive-sender.zip");
      await writeEvidenceBundle(inputWith({ registry }), made);
      const own = JSON.parse(Buffer.from(unzipSync(readFileSync(made))["trust/registry.json"]).toString("utf8"));
      expect(own.agencies.find((a: { organId: string }) => a.organId === SENDER).status).to.equal("suspended");
      const r = await verify(made, { registry: null, publisherCert: sender.certificate });
      expect(r.bundle.registrySource).to.equal("bundle");
      expect(r).to.include({ valid: false, subIndication: "SIGNER_NOT_BOUND" });
      expect(r.bundle.packetValid).to.equal(false);
    });

    it("never takes trust anchors from the bundle: without --trust it fails, and says where the anchor is", async () => {
      const r = await verify(bundle, { anchors: [] });
      expect(r).to.include({ valid: false, subIndication: "NO_CERTIFICATE_CHAIN_FOUND" });
      expect(r.bundle.statuses.every((x) => !x.ok)).to.equal(true);
      expect(r.warnings.join("\n")).to.match(/trust\/anchor-[0-9a-f]{16}\.pem; check the fingerprint/);
    });

    it("years later: EXPIRED as of now, with the recorded time to pass as --at; valid at that time", async () => {
      const later = new Date(Date.now() + 10 * 365 * 86400_000);
      const r = await verify(bundle, { at: later });
      expect(r).to.include({ valid: false, subIndication: "EXPIRED", indication: "INDETERMINATE" });
      expect(r.warnings.join("\n")).to.include(`--at ${input.report.validationTime}`);
      const then = await verify(bundle, { at: new Date(input.report.validationTime) });
      expect(then.valid).to.equal(true);
      expect(then.validationTime).to.equal(input.report.validationTime);
    });

    it("accepts an attachment the packet carries zipped (VNPT convention) as its unzipped file", async () => {
      const pdf = Buffer.from("%PDF-1.7 tài liệu nén theo thư viện VNPT ".repeat(2000));
      const d: Edoc = sampleEdoc({}, ["Tờ trình.pdf"]);
      writeFileSync(p("zipped.edxml"), await pack(d, [Buffer.from(zipSingle("Tờ trình.pdf", pdf))], sender));
      const { report, content } = await verifyPacket({ path: p("zipped.edxml") }, trust);
      const decoded: Buffer[] = [];
      for await (const c of regionBytes({ path: p("zipped.edxml") }, content!.attachments[0].region!)) decoded.push(Buffer.from(c));
      const common = { ...input, packet: { path: p("zipped.edxml") }, report, statuses: [] };
      await writeEvidenceBundle({ ...common, attachments: [{ name: "Tờ trình.pdf", bytes: chunks(pdf) }] }, p("unwrapped.zip"));
      await writeEvidenceBundle({ ...common, attachments: [{ name: "Tờ trình.pdf", bytes: chunks(Buffer.concat(decoded)) }] }, p("as-is.zip"));
      await writeEvidenceBundle({ ...common, attachments: [{ name: "Tờ trình.pdf", bytes: chunks(pdf.subarray(1)) }] }, p("wrong.zip"));
      expect((await verify(p("unwrapped.zip"))).valid).to.equal(true);
      expect((await verify(p("as-is.zip"))).valid).to.equal(true);
      expect((await verify(p("wrong.zip"))).bundle.attachmentsMatchPacket).to.equal(false);
    });

    it("streams a multi-megabyte attachment through both writing and reading", async () => {
      const big = randomBytes(6 * 1024 * 1024 + 7);
      const d = sampleEdoc({}, ["Bản đồ quy hoạch.tif"]);
      writeFileSync(p("big.edxml"), await pack(d, [big], sender));
      const { report } = await verifyPacket({ path: p("big.edxml") }, trust);
      await writeEvidenceBundle(
        { ...input, packet: { path: p("big.edxml") }, report, statuses: [status("01")], attachments: [{ name: "Bản đồ quy hoạch.tif", bytes: chunks(big, 1 << 20) }] },
        p("big.zip"),
      );
      const r = await verify(p("big.zip"));
      expect(r.errors).to.deep.equal([]);
      expect(r.valid).to.equal(true);
    });

    it("a file that is not a readable ZIP is an input error", async () => {
      writeFileSync(p("garbage.zip"), Buffer.concat([Buffer.from("PK\x03\x04", "latin1"), randomBytes(100)]));
      const truncated = readFileSync(bundle).subarray(0, 5000);
      writeFileSync(p("truncated.zip"), truncated);
      for (const f of [p("garbage.zip"), p("truncated.zip"), p("nothing-here.zip")]) {
        let error: unknown = null;
        await verify(f).catch((e) => (error = e));
        expect(error, f).to.be.instanceOf(BundleError);
      }
    });
  });

  describe("ZIP bombs", () => {
    const refused = async (path: string, message: RegExp) => {
      const start = Date.now();
      let error: unknown = null;
      await verify(path).catch((e) => (error = e));
      expect(error).to.be.instanceOf(BundleError);
      expect((error as Error).message).to.match(message);
      expect(Date.now() - start, "refused before inflating").to.be.below(3000);
    };

    it("a small bundle whose packet.edxml inflates 1000:1 to 128 MiB is refused before anything is extracted", async () => {
      writeFileSync(p("bomb.zip"), zipBomb(128 << 20));
      await refused(p("bomb.zip"), /packet\.edxml would inflate from \d+ to 134217728 bytes, more than 100 times \(a ZIP bomb\?\); nothing was extracted/);
    });

    it("an entry that inflates past the size the ZIP directory declares is refused as soon as it does", async () => {
      writeFileSync(p("liar.zip"), zipBomb(64 << 20, { declared: 1 << 20 }));
      await refused(p("liar.zip"), /packet\.edxml inflates to more than the 1048576 bytes the ZIP directory declares/);
      writeFileSync(p("liar-attachment.zip"), zipBomb(64 << 20, { name: "attachments/01-x.pdf", declared: 1 << 20 }));
      await refused(p("liar-attachment.zip"), /attachments\/01-x\.pdf inflates to more than/);
    });

    it("the CLI says so and exits 2", async () => {
      const r = await edoc("verify", p("bomb.zip"), "--trust", p("root.pem"));
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/a ZIP bomb\?/);
    });
  });

  describe("edoc verify BUNDLE.zip (the CLI)", () => {
    it("exit 0 for a valid bundle, listing every file and status", async () => {
      const r = await edoc("verify", bundle, "--trust", p("root.pem"), "--registry", p("registry.json"));
      expect(r.stderr).to.equal("");
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/^VALID — hồ sơ chứng cứ hợp lệ/);
      expect(r.stdout).to.include("✓ packet.edxml").and.include(`✓ ${ATT1}`).and.include(`✓ ${ST(3, "06")}  06 Hoàn thành from ${RECIPIENT}`);
      expect(r.stdout).not.to.include("✗");
      const json = await edoc("verify", bundle, "--trust", p("root.pem"), "--registry", p("registry.json"), "--json");
      expect(json.code).to.equal(0);
      const report = JSON.parse(json.stdout) as BundleReport;
      expect(report).to.include({ valid: true, indication: "TOTAL_PASSED" });
      expect(report.bundle.statuses).to.have.length(3);
    });

    it("without --registry: exit 1, SIGNER_NOT_BOUND, unless --registry-cert pins the node that signed the bundle (exit 0)", async () => {
      const r = await edoc("verify", bundle, "--trust", p("root.pem"));
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/^NOT VALID/).and.include("SIGNER_NOT_BOUND").and.include("registry — danh bạ: none");
      const pinned = await edoc("verify", bundle, "--trust", p("root.pem"), "--registry-cert", p("publisher.pem"));
      expect(pinned.stderr).to.equal("");
      expect(pinned.code).to.equal(0);
      expect(pinned.stdout).to.include(`✓ ${SENDER}, the certificate pinned with --registry-cert`).and.include("the bundle's own, signed by the pinned publisher");
      const other = await edoc("verify", bundle, "--trust", p("root.pem"), "--registry-cert", p("root.pem"), "--json");
      expect(other.code).to.equal(1);
      expect(JSON.parse(other.stdout).bundle.manifestSignature).to.include({ valid: false, subIndication: "SIGNER_NOT_BOUND" });
    });

    it("exit 1 when something fails: tampering, no --trust, expired certificates", async () => {
      rezip(bundle, p("cli-tampered.zip"), (f) => (f[ATT1] = flipByteOf(f[ATT1], "PDF")));
      const tampered = await edoc("verify", p("cli-tampered.zip"), "--trust", p("root.pem"), "--registry", p("registry.json"));
      expect(tampered.code).to.equal(1);
      expect(tampered.stdout).to.match(/^NOT VALID/);
      expect(tampered.stdout).to.include(`✗ ${ATT1}`);
      expect((await edoc("verify", bundle, "--registry", p("registry.json"))).code).to.equal(1);
      const later = new Date(Date.now() + 10 * 365 * 86400_000).toISOString();
      const expired = await edoc("verify", bundle, "--trust", p("root.pem"), "--at", later, "--json");
      expect(expired.code).to.equal(1);
      expect(JSON.parse(expired.stdout).subIndication).to.equal("EXPIRED");
      const atRecorded = await edoc("verify", bundle, "--trust", p("root.pem"), "--registry-cert", p("publisher.pem"), "--at", input.report.validationTime);
      expect(atRecorded.code).to.equal(0);
    });

    it("exit 2 for an unreadable bundle", async () => {
      writeFileSync(p("cli-garbage.zip"), Buffer.concat([Buffer.from("PK\x03\x04", "latin1"), randomBytes(64)]));
      const r = await edoc("verify", p("cli-garbage.zip"), "--trust", p("root.pem"));
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/not a readable evidence bundle/);
      expect(r.stderr).not.to.match(/\n\s+at /);
    });
  });
});
