// Interop with the real xmlsec1, both ways, on temp files:
//  a. packets we sign verify with `xmlsec1 --verify`, with a pinned key (KeyInfo ignored) and in
//     CA mode (root trusted, intermediate untrusted), and xmlsec1 rejects a tampered copy;
//  b. packets xmlsec1 signs from a template of the profile layout verify with verifyPacket and
//     read back the same header and attachment bytes, also with line-wrapped base64, CRLF line
//     endings and an unprefixed XMLDSig namespace (conformant shapes we do not write ourselves);
//  c. a 5 MB attachment both ways.
// Without xmlsec1 the suite is skipped with a printed reason, or fails when CI is set.
import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { regionBytes, type Edoc, type PacketSource } from "../envelopes/index.ts";
import { packEdoc, signStatus, verifyPacket, type Identity, type VerificationResult } from "../signing/index.ts";
import { issueCertificate } from "../signing/testing.ts";
import { RECIPIENT, SENDER, VIETNAMESE, sampleEdoc, sampleStatus, scratch, testPki } from "../fixtures/index.ts";
import { ID_ATTR_ARGS, requireXmlsec, xmlsec, xmlsecEdocTemplate, xmlsecStatusTemplate, type XmlsecRun } from "./helpers/xmlsec.ts";

const VIETNAMESE_FILE = "Quyết định số 123 — phụ lục đính kèm.pdf";
const SIGNING_TIME = "2026-11-22T10:00:00+07:00";

describe("xmlsec1 interop", function () {
  this.timeout(120_000);
  const s = scratch();
  const pem = { root: "", intermediate: "", sender: "", senderKey: "", recipient: "", recipientKey: "", otherRoot: "" };

  before(async function () {
    const version = await requireXmlsec(this);
    console.log(`      using ${version}`);
    // Keys and certificates from signing/testing.ts (issueCertificate): root → intermediate → agency signers.
    const { root, intermediate, sender, recipient } = testPki();
    const otherRoot = issueCertificate({ subject: { CN: "Unrelated Root CA", O: "Not trusted" }, ca: true });
    const write = (name: string, text: string) => {
      writeFileSync(s.path(name), text);
      return s.path(name);
    };
    const key = (id: { privateKey: Identity["privateKey"] }) => id.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    pem.root = write("root.pem", root.certificate.toString());
    pem.intermediate = write("intermediate.pem", intermediate.certificate.toString());
    pem.sender = write("sender.pem", sender.certificate.toString());
    pem.senderKey = write("sender-key.pem", key(sender));
    pem.recipient = write("recipient.pem", recipient.certificate.toString());
    pem.recipientKey = write("recipient-key.pem", key(recipient));
    pem.otherRoot = write("other-root.pem", otherRoot.certificate.toString());
  });
  after(() => s.cleanup());

  /** Pinned key: the signer's certificate given on the command line, KeyInfo not read (key-name only). */
  const verifyPinned = (file: string, certPem: string) =>
    xmlsec(["--verify", "--pubkey-cert-pem", certPem, "--enabled-key-data", "key-name", "--enabled-reference-uris", "same-doc", ...ID_ATTR_ARGS, file]);
  /** CA mode: the certificate comes from KeyInfo and must chain to the trusted root. */
  const verifyCa = (file: string, rootPem = pem.root) =>
    xmlsec([
      "--verify",
      "--trusted-pem", rootPem,
      "--untrusted-pem", pem.intermediate,
      "--enabled-key-data", "x509",
      "--enabled-reference-uris", "same-doc",
      ...ID_ATTR_ARGS,
      file,
    ]);
  const expectOk = (r: XmlsecRun, references: number) => {
    expect(r.stderr, r.stderr).to.match(/^OK$/m);
    expect(r.stderr).to.include(`SignedInfo References (ok/all): ${references}/${references}`);
    expect(r.code, r.stderr).to.equal(0);
  };
  /** xmlsec1 prints FAIL when a digest or the signature value is wrong, ERROR when no key could be found. */
  const expectFail = (r: XmlsecRun, why: RegExp, verdict: "FAIL" | "ERROR" = "FAIL") => {
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.match(new RegExp(`^${verdict}$`, "m"));
    expect(r.stderr).to.match(why);
  };
  const xmlsecSign = (tmpl: string, out: string, identity: "sender" | "recipient") =>
    xmlsec([
      "--sign",
      // key, its certificate, then the intermediate: xmlsec1 writes both certificates into X509Data, signer first
      "--privkey-pem", `${identity === "sender" ? pem.senderKey : pem.recipientKey},${identity === "sender" ? pem.sender : pem.recipient},${pem.intermediate}`,
      ...ID_ATTR_ARGS,
      "--output", out,
      tmpl,
    ]);
  const bytesOf = async (source: PacketSource, result: VerificationResult, i: number) => {
    const chunks: Buffer[] = [];
    for await (const c of regionBytes(source, result.content!.attachments[i].region!)) chunks.push(c);
    return Buffer.concat(chunks);
  };
  /** A copy with the signed Subject (trích yếu) changed to another decision title. */
  const tamperSubject = (file: string, name: string) => {
    const text = readFileSync(file, "utf8");
    const from = `<edXML:Subject>${VIETNAMESE}</edXML:Subject>`;
    expect(text.split(from)).to.have.length(2);
    writeFileSync(s.path(name), text.replace(from, `<edXML:Subject>Quyết định về việc bãi bỏ Quy chế văn thư</edXML:Subject>`));
    return s.path(name);
  };

  describe("a. packets we sign verify with xmlsec1", function () {
    let edocFile = "";
    let statusFile = "";
    before(async function () {
      const { sender, recipient, trust } = testPki();
      // attachments are read from files, one of them with a Vietnamese file name on disk and in the packet
      writeFileSync(s.path(VIETNAMESE_FILE), Buffer.from("%PDF-1.7\n% quyết định đính kèm — bản chính\n"));
      writeFileSync(s.path("bang-ke.bin"), randomBytes(200_003));
      const edoc = sampleEdoc({}, [VIETNAMESE_FILE, "Phụ lục — bảng kê.xlsx"]);
      edocFile = s.path("ours-edoc.edxml");
      await packEdoc(edoc, [{ path: s.path(VIETNAMESE_FILE) }, { path: s.path("bang-ke.bin") }], sender, edocFile);
      statusFile = s.path("ours-status.edxml");
      writeFileSync(statusFile, signStatus(sampleStatus("03"), recipient));
      // our own verifier agrees, so a failure below is about interop
      for (const file of [edocFile, statusFile]) {
        const { report } = await verifyPacket({ path: file }, trust);
        expect(report.errors, file).to.deep.equal([]);
      }
      expect(readFileSync(edocFile, "utf8")).to.include(VIETNAMESE_FILE).and.include(VIETNAMESE);
    });

    it("edoc with 2 attachments and Vietnamese text: OK with the pinned signer certificate (KeyInfo ignored)", async function () {
      expectOk(await verifyPinned(edocFile, pem.sender), 6);
    });

    it("edoc: OK in CA mode (root trusted, intermediate untrusted, signer from KeyInfo)", async function () {
      expectOk(await verifyCa(edocFile), 6);
    });

    it("status packet: OK pinned and in CA mode", async function () {
      expectOk(await verifyPinned(statusFile, pem.recipient), 2);
      expectOk(await verifyCa(statusFile), 2);
    });

    it("FAILS with another agency's pinned key, and in CA mode under an unrelated root", async function () {
      expectFail(await verifyPinned(edocFile, pem.recipient), /data do not match|signature verification failed/);
      expectFail(await verifyCa(edocFile, pem.otherRoot), /unable to get local issuer certificate/, "ERROR");
    });

    it("FAILS on a tampered copy (Subject changed): pinned, CA mode, and ours says HASH_FAILURE", async function () {
      const tampered = tamperSubject(edocFile, "ours-edoc-tampered.edxml");
      expectFail(await verifyPinned(tampered, pem.sender), /data and digest do not match/);
      expectFail(await verifyCa(tampered), /data and digest do not match/);
      const { report } = await verifyPacket({ path: tampered }, testPki().trust);
      expect(report).to.include({ valid: false, subIndication: "HASH_FAILURE" });
      expect(report.references.filter((r) => !r.digestOk).map((r) => r.uri)).to.deep.equal(["#edxml-header"]);
    });

    it("without the --id-attr declarations xmlsec1 cannot resolve the references (they are what makes the Ids IDs)", async function () {
      const r = await xmlsec(["--verify", "--pubkey-cert-pem", pem.sender, "--enabled-key-data", "key-name", edocFile]);
      expectFail(r, /xpointer\(id\('edxml-header'\)\)/, "ERROR");
    });
  });

  describe("b. packets xmlsec1 signs per the profile verify with ours", function () {
    const twoFiles = () => [Buffer.from("%PDF-1.7\n% bản chính — văn bản điện tử\n"), randomBytes(100_001)];

    async function signAndVerify(name: string, edoc: Edoc, files: Buffer[], wrap: boolean) {
      const { sender, trust } = testPki();
      const tmpl = s.path(`${name}.tmpl.xml`);
      const out = s.path(`${name}.edxml`);
      writeFileSync(tmpl, xmlsecEdocTemplate(edoc, files, { signer: sender.certificate, signingTime: SIGNING_TIME, wrap }));
      const signed = await xmlsecSign(tmpl, out, "sender");
      expect(signed.code, signed.stderr).to.equal(0);
      const source = { path: out };
      const result = await verifyPacket(source, trust);
      return { out, source, result, report: result.report };
    }

    it("edoc with 2 attachments (Vietnamese name): TOTAL_PASSED, same header and attachment bytes", async function () {
      const edoc = sampleEdoc({}, [VIETNAMESE_FILE, "Phụ lục — bảng kê.pdf"]);
      const files = twoFiles();
      const { source, result, report } = await signAndVerify("xmlsec-edoc", edoc, files, false);
      expect(report.errors).to.deep.equal([]);
      expect(report).to.include({ valid: true, indication: "TOTAL_PASSED", subIndication: null, packetKind: "edoc", signingTime: SIGNING_TIME });
      expect(report.signer?.organId).to.equal(SENDER);
      expect(report.references.map((r) => [r.uri, r.digestOk])).to.deep.equal([
        ["#edxml-header", true],
        ["#edxml-business", true],
        ["#edxml-manifest", true],
        ["#edxml-att-1", true],
        ["#edxml-att-2", true],
        ["#edxml-signed-props", true],
      ]);
      expect(result.content!.packet).to.deep.equal(edoc);
      expect(result.content!.attachments.map((a) => a.info.AttachmentName)).to.deep.equal([VIETNAMESE_FILE, "Phụ lục — bảng kê.pdf"]);
      for (const i of [0, 1]) expect((await bytesOf(source, result, i)).equals(files[i]), `attachment ${i + 1}`).to.equal(true);
      // and xmlsec1 agrees with itself in CA mode
      expectOk(await verifyCa(source.path), 6);
    });

    it("status packet: TOTAL_PASSED, same header", async function () {
      const { recipient, trust } = testPki();
      const status = sampleStatus("03");
      const tmpl = s.path("xmlsec-status.tmpl.xml");
      const out = s.path("xmlsec-status.edxml");
      writeFileSync(tmpl, xmlsecStatusTemplate(status, { signer: recipient.certificate, signingTime: SIGNING_TIME }));
      const signed = await xmlsecSign(tmpl, out, "recipient");
      expect(signed.code, signed.stderr).to.equal(0);
      const { report, content } = await verifyPacket({ path: out }, trust);
      expect(report.errors).to.deep.equal([]);
      expect(report).to.include({ valid: true, indication: "TOTAL_PASSED", packetKind: "status" });
      expect(report.signer?.organId).to.equal(RECIPIENT);
      expect(report.references.map((r) => r.uri)).to.deep.equal(["#edxml-header", "#edxml-signed-props"]);
      expect(content!.packet).to.deep.equal(status);
    });

    it("attachment base64 wrapped in 76-character LF lines still verifies and decodes to the same bytes", async function () {
      const edoc = sampleEdoc({}, [VIETNAMESE_FILE, "Phụ lục — bảng kê.pdf"]);
      const files = twoFiles();
      const { out, source, result, report } = await signAndVerify("xmlsec-wrapped", edoc, files, true);
      // xmlsec1 kept the line breaks: the conformant-but-not-ours shape is really what was verified
      const text = readFileSync(out, "latin1");
      expect(text).to.match(/\n[A-Za-z0-9+/]{76}\n[A-Za-z0-9+/]{76}\n/);
      expect(report.errors).to.deep.equal([]);
      expect(report).to.include({ valid: true, indication: "TOTAL_PASSED" });
      expect(result.content!.packet).to.deep.equal(edoc);
      for (const i of [0, 1]) expect((await bytesOf(source, result, i)).equals(files[i]), `attachment ${i + 1}`).to.equal(true);
    });

    it("the same packet with CRLF line endings everywhere (a Windows peer's file) verifies with xmlsec1 and ours", async function () {
      // XML parsers turn CRLF into LF before canonicalisation, so the signature still holds; the
      // attachment text is streamed past the parser, so our scanner must normalise it the same way.
      const edoc = sampleEdoc({}, [VIETNAMESE_FILE, "Phụ lục — bảng kê.pdf"]);
      const files = twoFiles();
      const { out } = await signAndVerify("xmlsec-crlf", edoc, files, true);
      const crlf = s.path("xmlsec-crlf-copy.edxml");
      writeFileSync(crlf, readFileSync(out, "utf8").replace(/\n/g, "\r\n"));
      expect(readFileSync(crlf, "latin1")).to.match(/\r\n[A-Za-z0-9+/]{76}\r\n/);
      expectOk(await verifyPinned(crlf, pem.sender), 6);
      const source = { path: crlf };
      const result = await verifyPacket(source, testPki().trust);
      expect(result.report.errors).to.deep.equal([]);
      expect(result.report.valid).to.equal(true);
      expect(result.content!.packet).to.deep.equal(edoc);
      for (const i of [0, 1]) expect((await bytesOf(source, result, i)).equals(files[i]), `attachment ${i + 1}`).to.equal(true);
    });

    it("a signature written with the XMLDSig namespace as default (no ds: prefix) verifies too: prefixes are not the profile", async function () {
      const { sender, trust } = testPki();
      const edoc = sampleEdoc({}, [VIETNAMESE_FILE]);
      const files = [Buffer.from("%PDF-1.7 không tiền tố")];
      const prefixed = xmlsecEdocTemplate(edoc, files, { signer: sender.certificate, signingTime: SIGNING_TIME });
      const unprefixed = prefixed
        .replace(/<(\/?)ds:/g, "<$1")
        .replace('<Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"', '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"')
        // inside xades:CertDigest the XMLDSig elements now need their namespace as default too
        .replace(/<xades:CertDigest>/, '<xades:CertDigest xmlns="http://www.w3.org/2000/09/xmldsig#">');
      expect(unprefixed).to.not.include("ds:");
      const tmpl = s.path("xmlsec-noprefix.tmpl.xml");
      const out = s.path("xmlsec-noprefix.edxml");
      writeFileSync(tmpl, unprefixed);
      const signed = await xmlsecSign(tmpl, out, "sender");
      expect(signed.code, signed.stderr).to.equal(0);
      const { report, content } = await verifyPacket({ path: out }, trust);
      expect(report.errors).to.deep.equal([]);
      expect(report).to.include({ valid: true, indication: "TOTAL_PASSED" });
      expect(content!.packet).to.deep.equal(edoc);
    });

    it("a tampered xmlsec1-signed packet (Subject changed) is HASH_FAILURE for ours", async function () {
      const { out } = await signAndVerify("xmlsec-to-tamper", sampleEdoc({}, [VIETNAMESE_FILE]), [Buffer.from("x")], false);
      const tampered = tamperSubject(out, "xmlsec-tampered.edxml");
      const { report, content } = await verifyPacket({ path: tampered }, testPki().trust);
      expect(report).to.include({ valid: false, indication: "TOTAL_FAILED", subIndication: "HASH_FAILURE" });
      expect(content).to.equal(null);
    });
  });

  describe("c. a 5 MB attachment, both ways", function () {
    const big = randomBytes(5 * 1024 * 1024 + 1); // not a multiple of 3: base64 padding at the end
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

    it("ours → xmlsec1: OK pinned and in CA mode; a flipped base64 character in the middle FAILS", async function () {
      const { sender } = testPki();
      writeFileSync(s.path("big.bin"), big);
      const file = s.path("ours-big.edxml");
      await packEdoc(sampleEdoc({}, [VIETNAMESE_FILE]), [{ path: s.path("big.bin") }], sender, file);
      expectOk(await verifyPinned(file, pem.sender), 5);
      expectOk(await verifyCa(file), 5);
      const bytes = readFileSync(file);
      const mid = bytes.indexOf("<edXML:ContentTransferEncoded") + 3_500_000;
      bytes[mid] = bytes[mid] === 0x41 ? 0x42 : 0x41; // 'A' ↔ 'B' stays valid base64
      writeFileSync(s.path("ours-big-tampered.edxml"), bytes);
      expectFail(await verifyPinned(s.path("ours-big-tampered.edxml"), pem.sender), /data and digest do not match/);
    });

    it("xmlsec1 → ours: TOTAL_PASSED and the same 5 MB back", async function () {
      const { sender, trust } = testPki();
      const tmpl = s.path("xmlsec-big.tmpl.xml");
      const out = s.path("xmlsec-big.edxml");
      writeFileSync(tmpl, xmlsecEdocTemplate(sampleEdoc({}, [VIETNAMESE_FILE]), [big], { signer: sender.certificate, signingTime: SIGNING_TIME }));
      const signed = await xmlsecSign(tmpl, out, "sender");
      expect(signed.code, signed.stderr).to.equal(0);
      const result = await verifyPacket({ path: out }, trust);
      expect(result.report.errors).to.deep.equal([]);
      expect(result.report).to.include({ valid: true, indication: "TOTAL_PASSED" });
      expect(sha(await bytesOf({ path: out }, result, 0))).to.equal(sha(big));
    });
  });
});
