// Signature time-stamps (XAdES B-T, RFC 3161) against a real TSA (`openssl ts -reply` on
// 127.0.0.1, test/helpers/tsa.ts): `edoc pack --tsa`, `edoc verify --tsa-trust`, the profile's
// UnsignedProperties shape, and the signer checked at the stamp's time.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createHash, X509Certificate } from "node:crypto";
import { addTimestampToFile, fingerprint, identityToP12, merkleTree, packetHead, proofHolds, stampedSignatureValue, timestampRequest, verifyPacket } from "../signing/index.ts";
import { createCrl } from "../signing/testing.ts";
import { RECIPIENT, SENDER, scratch, testPki, VIETNAMESE } from "../fixtures/index.ts";
import { startTsa, tokenOf, type TestTsa } from "./helpers/tsa.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));

function edoc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(EDOC, args, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
  });
}

const TEN_YEARS = new Date(Date.now() + 10 * 365 * 86400_000);

describe("signature time-stamps (B-T) with a real TSA", function () {
  this.timeout(120_000);
  const s = scratch();
  const p = (name: string) => s.path(name);
  const { sender, root, intermediate } = testPki();
  let tsa: TestTsa;
  let stamped = "";
  let plain = "";
  const trustArgs = () => ["--trust", p("root.pem"), "--registry", p("registry.json")];
  const packArgs = (out: string) => ["pack", "--header", p("header.json"), "--attach", p("quyết định.pdf"), "--p12", p("id.p12"), "--password", "x", "--out", p(out)];
  const verifyJson = async (file: string, ...args: string[]) => {
    const r = await edoc("verify", file, "--json", ...trustArgs(), ...args);
    expect(r.stderr).to.equal("");
    return { code: r.code, report: JSON.parse(r.stdout) };
  };
  const trust = () => ({ ...testPki().trust, tsaAnchors: [new X509Certificate(tsa.caPem)] });

  before(async () => {
    tsa = await startTsa();
    writeFileSync(p("id.p12"), identityToP12(sender, "x"));
    writeFileSync(p("root.pem"), root.certificate.toString());
    writeFileSync(p("tsa-ca.pem"), tsa.caPem);
    writeFileSync(p("other-tsa-ca.pem"), tsa.otherCaPem);
    writeFileSync(p("registry.json"), JSON.stringify({ agencies: [{ organId: SENDER, name: "VPCP", certificateFingerprints: [fingerprint(sender.certificate)] }] }));
    writeFileSync(p("header.json"), JSON.stringify({ From: SENDER, To: [RECIPIENT], Code: "7/QĐ-VPCP", PromulgationInfo: { Place: "Hà Nội", PromulgationDate: "2026/11/20" }, DocumentType: { Type: 1, TypeName: "Quyết định" }, Subject: VIETNAMESE }));
    writeFileSync(p("quyết định.pdf"), "%PDF-1.7 nội dung");
    const r = await edoc(...packArgs("stamped.edxml"), "--tsa", tsa.url);
    expect(r.stderr).to.equal("");
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include("(B-T)");
    stamped = p("stamped.edxml");
    expect((await edoc(...packArgs("plain.edxml"))).code).to.equal(0);
    plain = p("plain.edxml");
  });
  after(async () => {
    await tsa?.close();
    s.cleanup();
  });

  /** A copy of `plain` given a token over `data` (default: its own signature value), without the client's checks. */
  async function stampedIn(name: string, data?: string): Promise<string> {
    writeFileSync(p(name), readFileSync(plain));
    const request = timestampRequest(data ?? stampedSignatureValue(await packetHead(p(name))));
    const res = await fetch(tsa.url, { method: "POST", headers: { "content-type": "application/timestamp-query" }, body: new Uint8Array(request.der) });
    expect(res.status).to.equal(200);
    await addTimestampToFile(p(name), tokenOf(Buffer.from(await res.arrayBuffer())));
    return p(name);
  }

  it("pack --tsa embeds the profile's SignatureTimeStamp; verify --tsa-trust reports it valid, level B-T", async () => {
    const xml = readFileSync(stamped, "utf8");
    expect(xml).to.match(
      /<\/xades:SignedProperties><xades:UnsignedProperties><xades:UnsignedSignatureProperties><xades:SignatureTimeStamp Id="edxml-sig-ts"><ds:CanonicalizationMethod Algorithm="http:\/\/www.w3.org\/2001\/10\/xml-exc-c14n#"\/><xades:EncapsulatedTimeStamp>[A-Za-z0-9+/=]+<\/xades:EncapsulatedTimeStamp><\/xades:SignatureTimeStamp><\/xades:UnsignedSignatureProperties><\/xades:UnsignedProperties><\/xades:QualifyingProperties>/,
    );
    const { code, report } = await verifyJson(stamped, "--tsa-trust", p("tsa-ca.pem"));
    expect(code).to.equal(0);
    expect(report).to.include({ valid: true, indication: "TOTAL_PASSED", level: "B-T" });
    expect(report.timestamp).to.include({ valid: true, level: "B-T", reason: null });
    expect(report.timestamp.tsa).to.include("Test TSA");
    expect(Math.abs(new Date(report.timestamp.time).getTime() - Date.now())).to.be.below(10 * 60_000);
    expect(report.warnings.join(" ")).to.not.include("TIMESTAMP");
    const words = await edoc("verify", stamped, ...trustArgs(), "--tsa-trust", p("tsa-ca.pem"));
    expect(words.stdout).to.match(/time-stamp: +valid/).and.match(/level: +B-T/);
  });

  it("the stamp is checked by openssl ts -verify over the canonical ds:SignatureValue", async () => {
    const xml = readFileSync(stamped, "utf8");
    writeFileSync(p("token.der"), Buffer.from(/<xades:EncapsulatedTimeStamp>([^<]+)</.exec(xml)![1], "base64"));
    writeFileSync(p("sigvalue.c14n"), stampedSignatureValue(xml));
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile("openssl", ["ts", "-verify", "-token_in", "-in", p("token.der"), "-data", p("sigvalue.c14n"), "-CAfile", p("tsa-ca.pem")], (err, out, errOut) =>
        resolve({ code: err ? 1 : 0, out: out + errOut }),
      ),
    );
    expect(r.out).to.include("Verification: OK");
  });

  it("without --tsa-trust, or with another TSA's anchor: TIMESTAMP_UNTRUSTED warning, still valid at B-B", async () => {
    for (const args of [[], ["--tsa-trust", p("other-tsa-ca.pem")]]) {
      const { code, report } = await verifyJson(stamped, ...args);
      expect(code).to.equal(0);
      expect(report).to.include({ valid: true, indication: "TOTAL_PASSED", level: "B-B" });
      expect(report.timestamp).to.include({ valid: false, level: "B-B", reason: "TIMESTAMP_UNTRUSTED" });
      expect(report.warnings.join(" ")).to.include("TIMESTAMP_UNTRUSTED");
    }
  });

  /** `pack --tsa` against the TSA in `mode`. */
  async function packedIn(mode: TestTsa["mode"], name: string): Promise<string> {
    tsa.mode = mode;
    try {
      const r = await edoc(...packArgs(name), "--tsa", tsa.url);
      expect(r.code, r.stderr).to.equal(0);
    } finally {
      tsa.mode = "ok";
    }
    return p(name);
  }

  it("a TSA under a CA nobody trusts: stamped by pack (no anchors given), TIMESTAMP_UNTRUSTED when verified", async () => {
    const file = await packedIn("other-ca", "other-ca.edxml");
    const { code, report } = await verifyJson(file, "--tsa-trust", p("tsa-ca.pem"));
    expect(code).to.equal(0);
    expect(report.level).to.equal("B-B");
    expect(report.timestamp).to.include({ valid: false, reason: "TIMESTAMP_UNTRUSTED" });
    expect(report.timestamp.tsa).to.include("Untrusted TSA");
  });

  it("a token over other data (wrong imprint): TIMESTAMP_IMPRINT_MISMATCH, judged as B-B", async () => {
    const file = await stampedIn("wrong-imprint.edxml", "<ds:SignatureValue>other</ds:SignatureValue>");
    const { code, report } = await verifyJson(file, "--tsa-trust", p("tsa-ca.pem"));
    expect(code).to.equal(0);
    expect(report).to.include({ valid: true, level: "B-B" });
    expect(report.timestamp).to.include({ valid: false, reason: "TIMESTAMP_IMPRINT_MISMATCH" });
    expect(report.warnings.join(" ")).to.include("TIMESTAMP_IMPRINT_MISMATCH");
    // and an invalid stamp never rescues an expired signer
    const later = await verifyJson(file, "--tsa-trust", p("tsa-ca.pem"), "--at", TEN_YEARS.toISOString());
    expect(later.report.subIndication).to.equal("EXPIRED");
  });

  it("a token signed by a TSA certificate without the timeStamping EKU: TIMESTAMP_UNTRUSTED", async () => {
    const file = await packedIn("no-eku", "no-eku.edxml");
    const { code, report } = await verifyJson(file, "--tsa-trust", p("tsa-ca.pem"));
    expect(code).to.equal(0);
    expect(report.level).to.equal("B-B");
    expect(report.timestamp).to.include({ valid: false, reason: "TIMESTAMP_UNTRUSTED" });
    expect(report.warnings.join(" ")).to.include("id-kp-timeStamping");
  });

  it("pack --tsa refuses what does not answer its request (TSA down, wrong imprint), and with --tsa-trust an untrusted stamp: exit 2, no packet written", async () => {
    for (const [mode, why, more] of [
      ["down", /cannot be reached \(HTTP 503\)/, []],
      ["wrong-imprint", /issued for other data/, []],
      ["no-eku", /id-kp-timeStamping/, ["--tsa-trust", p("tsa-ca.pem")]],
      ["other-ca", /is not trusted/, ["--tsa-trust", p("tsa-ca.pem")]],
    ] as const) {
      tsa.mode = mode;
      const r = await edoc(...packArgs(`${mode}.edxml`), "--tsa", tsa.url, ...more);
      tsa.mode = "ok";
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(why).and.include("no packet written");
      expect(() => readFileSync(p(`${mode}.edxml`))).to.throw();
    }
    expect((await edoc(...packArgs("x.edxml"), "--tsa", "not a url")).stderr).to.include("--tsa needs an http(s) URL");
    expect((await edoc(...packArgs("x.edxml"), "--tsa-trust", p("tsa-ca.pem"))).stderr).to.include("--tsa-trust is only used with --tsa");
    expect((await edoc(...packArgs("trusted.edxml"), "--tsa", tsa.url, "--tsa-trust", p("tsa-ca.pem"))).code).to.equal(0);
  });

  it("certificate expired after the stamp: --at ten years on → TOTAL_PASSED at B-T; the same packet unstamped → EXPIRED", async () => {
    const at = TEN_YEARS.toISOString();
    expect(new Date(sender.certificate.validTo).getTime()).to.be.below(TEN_YEARS.getTime());
    const later = await verifyJson(stamped, "--tsa-trust", p("tsa-ca.pem"), "--at", at);
    expect(later.code).to.equal(0);
    expect(later.report).to.include({ valid: true, indication: "TOTAL_PASSED", level: "B-T" });
    const unstamped = await verifyJson(plain, "--tsa-trust", p("tsa-ca.pem"), "--at", at);
    expect(unstamped.code).to.equal(1);
    expect(unstamped.report).to.include({ indication: "INDETERMINATE", subIndication: "EXPIRED" });
    expect(unstamped.report.timestamp).to.equal(null);
    // the stamp counts only with its anchor
    expect((await verifyJson(stamped, "--at", at)).report.subIndication).to.equal("EXPIRED");
  });

  it("revoked after the stamp → still valid (with a warning); revoked before it → REVOKED", async () => {
    const bytes = readFileSync(stamped);
    const later = await createCrl(intermediate, [{ serial: sender.certificate.serialNumber, date: new Date(Date.now() + 86400_000) }]);
    const after = await verifyPacket({ bytes }, { ...trust(), crls: [later], at: new Date(Date.now() + 2 * 86400_000) });
    expect(after.report).to.include({ valid: true, level: "B-T" });
    expect(after.report.warnings.join(" ")).to.include("revoked later");
    const before = await createCrl(intermediate, [{ serial: sender.certificate.serialNumber, date: new Date(Date.now() - 86400_000) }]);
    expect((await verifyPacket({ bytes }, { ...trust(), crls: [before] })).report.subIndication).to.equal("REVOKED");
  });

  it("UnsignedProperties only in the profile's shape: anything else is FORMAT_FAILURE; an unreadable token a warning", async () => {
    const xml = readFileSync(stamped, "utf8");
    const token = /<xades:EncapsulatedTimeStamp>([^<]+)</.exec(xml)![1];
    const reject = async (changed: string, error: RegExp) => {
      expect(changed).to.not.equal(xml);
      const { report } = await verifyPacket({ bytes: Buffer.from(changed) }, trust());
      expect(report.subIndication, report.errors.join()).to.equal("FORMAT_FAILURE");
      expect(report.errors.join(" ")).to.match(error);
    };
    await reject(xml.replace("<xades:UnsignedSignatureProperties>", "<xades:UnsignedSignatureProperties><xades:Other/>"), /at most one UnsignedProperties/);
    await reject(xml.replace("</xades:UnsignedProperties>", "</xades:UnsignedProperties><xades:UnsignedProperties/>"), /at most one UnsignedProperties/);
    await reject(xml.replace("</xades:SignedProperties>", "</xades:SignedProperties><xades:Other/>"), /at most one UnsignedProperties/);
    await reject(xml.replace('Id="edxml-sig-ts"', 'Id="other"'), /Id="edxml-sig-ts"/);
    await reject(xml.replace("xml-exc-c14n#\"/><xades:Enc", "xml-exc-c14n#WithComments\"/><xades:Enc"), /exc-c14n/);
    await reject(xml.replace("</xades:EncapsulatedTimeStamp>", "</xades:EncapsulatedTimeStamp><xades:EncapsulatedTimeStamp/>"), /one EncapsulatedTimeStamp/);
    await reject(xml.replace("<xades:UnsignedProperties>", "<xades:UnsignedProperties Target=\"x\">"), /at most one UnsignedProperties/);
    for (const bad of ["bm90IGEgdG9rZW4=", "%%%", token.slice(0, 40) + "AAAA"]) {
      const { report } = await verifyPacket({ bytes: Buffer.from(xml.replace(token, bad)) }, trust());
      expect(report).to.include({ valid: true, level: "B-B" });
      expect(report.timestamp).to.include({ valid: false, reason: "TIMESTAMP_INVALID" });
    }
  });

  it("a stamp kept beside the packet (the sent bytes unchanged) counts as the packet's own", async () => {
    const token = Buffer.from(/<xades:EncapsulatedTimeStamp>([^<]+)</.exec(readFileSync(stamped, "utf8"))![1], "base64");
    // the stamp of another packet does not fit this one
    const other = await verifyPacket({ path: plain }, { ...trust(), timestamp: token });
    expect(other.report.timestamp).to.include({ reason: "TIMESTAMP_IMPRINT_MISMATCH" });
    const file = await stampedIn("beside.edxml");
    const own = Buffer.from(/<xades:EncapsulatedTimeStamp>([^<]+)</.exec(readFileSync(file, "utf8"))![1], "base64");
    const beside = await verifyPacket({ path: plain }, { ...trust(), timestamp: own, at: TEN_YEARS });
    expect(beside.report).to.include({ valid: true, level: "B-T" });
  });
});

describe("archive Merkle trees (RFC 9162 hashing)", () => {
  const digest = (i: number) => createHash("sha256").update(`item ${i}`).digest("hex");
  it("every item's inclusion path leads to the root, for trees of 1 to 33 items; any change breaks it", () => {
    const roots = new Set<string>();
    for (let n = 1; n <= 33; n++) {
      const items = Array.from({ length: n }, (_, i) => digest(i));
      const { root, proofs } = merkleTree(items);
      roots.add(root);
      for (const proof of proofs) {
        expect(proofHolds(proof), `n=${n} i=${proof.leafIndex}`).to.equal(true);
        expect(proof.path.length).to.be.at.most(Math.ceil(Math.log2(n)));
        expect(proofHolds({ ...proof, sha256: digest(1000) })).to.equal(false);
        if (n > 1) {
          expect(proofHolds({ ...proof, leafIndex: (proof.leafIndex + 1) % n })).to.equal(false);
          expect(proofHolds({ ...proof, path: proof.path.slice(1) })).to.equal(false);
        }
      }
    }
    expect(roots.size).to.equal(33);
    // RFC 9162: a one-item tree's root is the leaf hash SHA-256(0x00 || item)
    const one = digest(0);
    expect(merkleTree([one]).root).to.equal(createHash("sha256").update(Buffer.concat([Buffer.from([0]), Buffer.from(one, "hex")])).digest("hex"));
  });
});
