// The edoc CLI as a user runs it: real processes, real files, exit codes 0 / 1 / 2.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fingerprint, identityToP12 } from "../signing/index.ts";
import { createCrl, crlToPem } from "../signing/testing.ts";
import { RECIPIENT, SENDER, fixturePath, scratch, testPki, VIETNAMESE } from "../fixtures/index.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
const SAMPLES = fixturePath("samples/");

function edoc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(EDOC, args, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
  });
}

describe("edoc CLI", () => {
  const s = scratch();
  const { sender, root, intermediate, trust } = testPki();
  const p = (name: string) => s.path(name);
  let packet = "";

  before(async () => {
    writeFileSync(p("id.p12"), identityToP12(sender, "mật khẩu"));
    writeFileSync(p("legacy.p12"), identityToP12(sender, "legacy", { legacy: true }));
    writeFileSync(p("root.pem"), root.certificate.toString());
    writeFileSync(p("registry.json"), JSON.stringify({ agencies: [{ organId: SENDER, name: "VPCP", certificateFingerprints: [fingerprint(sender.certificate)] }] }));
    writeFileSync(p("other-registry.json"), JSON.stringify({ agencies: [{ organId: SENDER, certificateFingerprints: ["00".repeat(32)] }] }));
    writeFileSync(
      p("header.json"),
      JSON.stringify({
        From: SENDER,
        To: [RECIPIENT, { OrganId: "000.00.00.H14", OrganName: "UBND tỉnh Cao Bằng" }],
        Code: "45/QĐ-VPCP",
        PromulgationInfo: { Place: "Hà Nội", PromulgationDate: "2026/11/20" },
        DocumentType: { Type: 1, TypeName: "Quyết định" },
        Subject: VIETNAMESE,
      }),
    );
    writeFileSync(p("quyết định.pdf"), "%PDF-1.7 nội dung");
    writeFileSync(p("phụ lục.docx"), Buffer.alloc(70_000, 7));
    packet = p("out.edxml");
    const r = await edoc("pack", "--header", p("header.json"), "--attach", p("quyết định.pdf"), "--attach", p("phụ lục.docx"), "--p12", p("id.p12"), "--password", "mật khẩu", "--out", packet);
    expect(r.stderr).to.equal("");
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include(`${SENDER},2026/11/20,45/QĐ-VPCP`);
  });
  after(() => s.cleanup());

  it("pack writes a packet that verify accepts (exit 0), in words and in JSON", async () => {
    const words = await edoc("verify", packet, "--trust", p("root.pem"), "--registry", p("registry.json"));
    expect(words.code).to.equal(0);
    expect(words.stdout).to.match(/^VALID/);
    expect(words.stdout).to.include("attachment 2: phụ lục.docx");
    const json = await edoc("verify", packet, "--trust", p("root.pem"), "--registry", p("registry.json"), "--json");
    const report = JSON.parse(json.stdout);
    expect(json.code).to.equal(0);
    expect(report).to.include({ valid: true, indication: "TOTAL_PASSED", documentId: `${SENDER},2026/11/20,45/QĐ-VPCP` });
    expect(report.signer.organId).to.equal(SENDER);
    expect(readFileSync(packet).includes(Buffer.from(VIETNAMESE))).to.equal(true);
  });

  it("a legacy (3DES) PKCS#12 identity signs too", async () => {
    const r = await edoc("pack", "--header", p("header.json"), "--p12", p("legacy.p12"), "--password", "legacy", "--out", p("legacy.edxml"));
    expect(r.code).to.equal(0);
    expect((await edoc("verify", p("legacy.edxml"), "--trust", p("root.pem"), "--registry", p("registry.json"))).code).to.equal(0);
  });

  it("exit 1 with the reason when the answer is negative", async () => {
    const verdict = async (...args: string[]) => {
      const r = await edoc("verify", packet, "--json", ...args);
      expect(r.code, r.stderr).to.equal(1);
      return JSON.parse(r.stdout);
    };
    expect((await verdict()).subIndication).to.equal("NO_CERTIFICATE_CHAIN_FOUND");
    expect((await verdict("--trust", p("root.pem"))).subIndication).to.equal("SIGNER_NOT_BOUND");
    expect((await verdict("--trust", p("root.pem"), "--registry", p("other-registry.json"))).subIndication).to.equal("SIGNER_NOT_BOUND");
    const future = new Date(Date.now() + 10 * 365 * 86400_000).toISOString();
    expect((await verdict("--trust", p("root.pem"), "--registry", p("registry.json"), "--at", future)).subIndication).to.equal("EXPIRED");
    expect((await verdict("--trust", p("root.pem"), "--registry", p("registry.json"), "--at", "2020-01-01T00:00:00Z")).subIndication).to.equal("NOT_YET_VALID");
  });

  it("a CRL given with --crl revokes the signer", async () => {
    const crl = await createCrl(intermediate, [{ serial: sender.certificate.serialNumber, date: new Date(Date.now() - 60_000) }]);
    writeFileSync(p("crl.pem"), crlToPem(crl));
    const r = await edoc("verify", packet, "--json", "--trust", p("root.pem"), "--registry", p("registry.json"), "--crl", p("crl.pem"));
    expect(r.code).to.equal(1);
    expect(JSON.parse(r.stdout).subIndication).to.equal("REVOKED");
  });

  it("a tampered packet fails with HASH_FAILURE naming the part", async () => {
    const bytes = readFileSync(packet);
    const at = bytes.indexOf("%PDF".length ? Buffer.from("JVBERi0xLjc") : Buffer.alloc(0)); // base64 of "%PDF-1.7"
    bytes[at + 2] = bytes[at + 2] === 0x41 ? 0x42 : 0x41;
    writeFileSync(p("tampered.edxml"), bytes);
    const r = await edoc("verify", p("tampered.edxml"), "--json", "--trust", p("root.pem"), "--registry", p("registry.json"));
    const report = JSON.parse(r.stdout);
    expect(r.code).to.equal(1);
    expect(report.subIndication).to.equal("HASH_FAILURE");
    expect(report.references.filter((x: { digestOk: boolean }) => !x.digestOk).map((x: { uri: string }) => x.uri)).to.deep.equal(["#edxml-att-1"]);
  });

  it("the public samples are reported as unsigned (exit 1, NO_SIGNATURE)", async () => {
    for (const sample of ["edoc_new_generated_by_vnpt_lib.edxml", "status_processing_05.edxml"]) {
      const r = await edoc("verify", SAMPLES + sample, "--json", "--trust", p("root.pem"));
      expect(r.code).to.equal(1);
      expect(JSON.parse(r.stdout).subIndication).to.equal("NO_SIGNATURE");
    }
  });

  it("exit 2 with a sentence for usage and input errors, and nothing written", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["verify", p("missing.edxml")], /cannot read the packet file/],
      [["verify", packet, "--at", "yesterday"], /--at needs an ISO 8601 time/],
      [["verify", packet, "--trust", p("header.json")], /holds no readable certificate/],
      [["verify", packet, "--registry", p("header.json")], /not a usable registry/],
      [["verify", packet, "--crl", p("header.json")], /not a readable CRL/],
      [["verify"], /expected 1 file argument/],
      [["verify", packet, "--bogus"], /wrong arguments/],
      [["frobnicate"], /unknown command/],
      [["pack", "--header", p("header.json"), "--p12", p("id.p12"), "--password", "wrong", "--out", p("x.edxml")], /cannot be opened: wrong password/],
      [["pack", "--header", p("header.json"), "--p12", p("id.p12"), "--out", p("x.edxml"), "--attach", p("nope.pdf")], /cannot read the attachment file/],
      [["pack", "--p12", p("id.p12"), "--out", p("x.edxml")], /--header is required/],
    ];
    for (const [args, message] of cases) {
      const r = await edoc(...args);
      expect(r.code, args.join(" ")).to.equal(2);
      expect(r.stderr, args.join(" ")).to.match(message);
      expect(r.stderr).not.to.match(/\n\s+at /); // no stack traces
    }
    expect(existsSync(p("x.edxml"))).to.equal(false);
  });

  it("an invalid header is refused with every problem listed (exit 2)", async () => {
    writeFileSync(p("bad.json"), JSON.stringify({ From: "G22", To: [], Code: "45/QĐ", DocumentType: { Type: 1 }, PromulgationInfo: { PromulgationDate: "2099/01/01" } }));
    const r = await edoc("pack", "--header", p("bad.json"), "--p12", p("id.p12"), "--password", "mật khẩu", "--out", p("bad.edxml"));
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include("From/OrganId");
    expect(r.stderr).to.match(/Subject/);
    expect(r.stderr).to.match(/future/);
    expect(existsSync(p("bad.edxml"))).to.equal(false);
  });

  it("every command has --help", async () => {
    for (const cmd of ["verify", "pack"]) {
      const r = await edoc(cmd, "--help");
      expect(r.code).to.equal(0);
      expect(r.stdout).to.include(`edoc ${cmd}`);
    }
    expect((await edoc("--help")).code).to.equal(0);
    void trust;
  });
});
