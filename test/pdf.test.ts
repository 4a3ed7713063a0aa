// PDF signatures (issue 11 §2): our own signed PDFs (pdf-lib document, openssl cms -sign -binary
// -cades into the placeholder, incremental updates) and the EU DSS test files, each verdict
// cross-checked with pdfsig (poppler) and `openssl cms -verify` where they have one.
import { expect } from "chai";
import { execFile, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AsnConvert } from "@peculiar/asn1-schema";
import { CertificateChoices, ContentInfo, SignedData } from "@peculiar/asn1-cms";
import { Certificate } from "@peculiar/asn1-x509";
import { isPdf, verifyPdf, type PdfReport, type PdfTrust } from "../signing/index.ts";
import { createCrl, crlToPem, issueCertificate } from "../signing/testing.ts";
import { RECIPIENT, SENDER, fixturePath, pack, sampleEdoc, scratch, testPki } from "../fixtures/index.ts";
import { fingerprint, identityToP12 } from "../signing/index.ts";
import { render } from "preact-render-to-string";
import { dictionary } from "../server/pages/i18n.ts";
import { VerifyResult } from "../server/pages/verify.tsx";
import { startNode } from "./helpers/node.ts";
import {
  addAnnotation,
  addDocumentTimestamp,
  addDss,
  addPageContent,
  basePdf,
  changeSignatureReason,
  signPdf,
  signedRanges,
  tamper,
  testTsa,
  type SignPdfOptions,
} from "../fixtures/pdf.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
const vector = (name: string): Buffer => readFileSync(fixturePath(`pades-vectors/${name}`));

function edoc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(EDOC, args, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
  });
}

/** pdfsig's "Signature Validation" line for each signature field (null: the field is not signed). */
function pdfsig(path: string): (string | null)[] {
  let out: string;
  try {
    out = execFileSync("pdfsig", ["-nocert", path], { stdio: ["ignore", "pipe", "pipe"] }).toString();
  } catch (e) {
    out = String((e as { stdout?: Buffer }).stdout ?? "");
  }
  return out
    .split(/\nSignature #\d+:\n/)
    .slice(1)
    .map((block) => /Signature Validation: (.*)/.exec(block)?.[1]?.trim() ?? null);
}

describe("PDF signatures", function () {
  this.timeout(120_000);
  const s = scratch();
  const pki = testPki();
  const tsa = testTsa();
  const trust: PdfTrust = { anchors: [pki.root.certificate], tsaAnchors: [tsa.root.certificate], crls: [] };
  const leaf = (cn: string, extra: Partial<Parameters<typeof issueCertificate>[0]> = {}) => ({
    ...issueCertificate({ subject: { CN: cn, O: "Test agency" }, issuer: pki.intermediate, ...extra }),
    chain: [pki.intermediate.certificate],
  });
  const pdfs: Record<string, Buffer> = {};
  const file = (name: string) => s.path(`${name}.pdf`);
  let crlPem = "";

  before(async function () {
    try {
      execFileSync("pdfsig", ["-v"], { stdio: "ignore" });
      execFileSync("certutil", ["-H"], { stdio: "ignore" });
    } catch (e) {
      // certutil -H exits 1 after printing its help: only a missing program counts
      if ((e as { code?: string }).code === "ENOENT") {
        if (process.env.CI) throw new Error("CI is set: pdfsig (poppler-utils) and certutil (libnss3-tools) must be installed for the PDF cross-checks");
        console.log("      SKIPPED: pdfsig (poppler-utils) or certutil (libnss3-tools) is not installed");
        this.skip();
      }
    }
    const base = await basePdf();
    const sign = (pdf: Buffer, o: Partial<SignPdfOptions> = {}) => signPdf(pdf, { signer: pki.sender, ...o });
    pdfs.unsigned = base;
    pdfs.signed = await sign(base);
    pdfs.pkcs7 = await sign(base, { subFilter: "adbe.pkcs7.detached" });
    pdfs.two = await sign(pdfs.signed, { signer: pki.recipient, field: "Signature2", reason: "Dong dau" });
    pdfs.tampered = tamper(pdfs.signed);
    pdfs.annotated = await addAnnotation(pdfs.signed);
    pdfs.overdrawn = await addPageContent(pdfs.signed);
    pdfs.reason = await changeSignatureReason(pdfs.signed, "Khong dong y");
    pdfs.annotatedThenSigned = await sign(await addAnnotation(pdfs.signed), { signer: pki.recipient, field: "Signature2" });
    pdfs.sha1 = await sign(base, { md: "sha1" });
    const weak = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 });
    pdfs.rsa1024 = await sign(base, { signer: leaf("RSA-1024 signer", { keyPair: weak }) });
    const revoked = leaf("Revoked signer");
    pdfs.revoked = await sign(base, { signer: revoked });
    const crl = await createCrl(pki.intermediate, [{ serial: revoked.certificate.serialNumber, date: new Date(Date.now() - 60_000) }]);
    crlPem = crlToPem(crl);
    trust.crls.push(crl);
    pdfs.expired = await sign(base, { signer: leaf("Expired signer", { notBefore: new Date(Date.now() - 3 * 365 * 86400_000), notAfter: new Date(Date.now() - 365 * 86400_000) }) });
    const otherRoot = issueCertificate({ subject: { CN: "Unknown Root" }, ca: true });
    pdfs.untrusted = await sign(base, { signer: { ...issueCertificate({ subject: { CN: "Stranger" }, issuer: otherRoot }), chain: [] } });
    // layout attacks: the signature is made over the declared (dishonest) ranges, so it verifies
    pdfs.gap = await sign(base, { byteRange: ([a, b, c, d]) => [a!, b!, c! + 1, d! - 1] });
    pdfs.shifted = await sign(base, { byteRange: ([a, b, c, d]) => [a!, b! - 1, c! - 1, d! + 1] });
    pdfs.badValue = await sign(base, {
      rewriteCms: (cms) => {
        const ci = AsnConvert.parse(cms, ContentInfo);
        const sd = AsnConvert.parse(ci.content, SignedData);
        const sig = new Uint8Array(sd.signerInfos[0]!.signature.buffer);
        sig[10] ^= 0x01;
        ci.content = AsnConvert.serialize(sd);
        return Buffer.from(AsnConvert.serialize(ci));
      },
    });
    // the same key, issuer and serial in a second certificate: only signingCertificateV2 tells them apart
    const keys = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const twinA = leaf("Twin signer", { keyPair: keys, serial: "4abc01" });
    const twinB = issueCertificate({ subject: { CN: "Twin signer", O: "Test agency" }, issuer: pki.intermediate, keyPair: keys, serial: "4abc01", notAfter: new Date(Date.now() + 400 * 86400_000) });
    pdfs.wrongCertV2 = await sign(base, {
      signer: twinA,
      rewriteCms: (cms) => {
        const ci = AsnConvert.parse(cms, ContentInfo);
        const sd = AsnConvert.parse(ci.content, SignedData);
        const set = sd.certificates!;
        for (let i = 0; i < set.length; i++) {
          if (Buffer.from(AsnConvert.serialize(set[i]!.certificate!)).equals(twinA.certificate.raw)) {
            set[i] = new CertificateChoices({ certificate: AsnConvert.parse(twinB.certificate.raw, Certificate) });
          }
        }
        ci.content = AsnConvert.serialize(sd);
        return Buffer.from(AsnConvert.serialize(ci));
      },
    });
    pdfs.bt = await sign(base, { tsa });
    pdfs.lta = await addDocumentTimestamp(await addDss(pdfs.two, [pki.root.certificate.raw, pki.intermediate.certificate.raw], [crl.der]), tsa);
    pdfs.ltaThenAnnotated = await addAnnotation(pdfs.lta);
    pdfs.lta384 = await addDocumentTimestamp(pdfs.two, tsa, "DocTimeStamp1", "sha384");
    pdfs.certifiedNoChanges = await sign(await sign(base, { certify: 1 }), { signer: pki.recipient, field: "Signature2" });
    pdfs.certifiedForms = await sign(await sign(base, { certify: 2 }), { signer: pki.recipient, field: "Signature2" });
    pdfs.certifiedFormsAnnotated = await addAnnotation(await sign(base, { certify: 3 }));
    for (const [name, pdf] of Object.entries(pdfs)) writeFileSync(file(name), pdf);
    writeFileSync(s.path("root.pem"), pki.root.certificate.toString());
    writeFileSync(s.path("tsa-root.pem"), tsa.root.certificate.toString());
    writeFileSync(s.path("crl.pem"), crlPem);
  });
  after(() => {
    s.cleanup();
    tsa.cleanup();
  });

  const verify = (name: string, t: Partial<PdfTrust> = {}): Promise<PdfReport> => verifyPdf(pdfs[name]!, { ...trust, ...t });

  describe("our own signed PDFs", () => {
    it("a PAdES B-B signature (CAdES, signingCertificateV2) is valid and covers the whole document", async () => {
      const r = await verify("signed");
      expect(r.valid).to.equal(true);
      expect(r.signatures).to.have.length(1);
      const [sig] = r.signatures;
      expect(sig).to.include({ valid: true, indication: "TOTAL_PASSED", subIndication: null, coversWholeDocument: true, subFilter: "ETSI.CAdES.detached", field: "Signature1" });
      expect(sig!.signer!.subject).to.contain("Văn phòng Chính phủ");
      expect(Date.parse(sig!.signingTime!)).to.be.closeTo(Date.now(), 10 * 60_000);
      expect(sig!.timestamp).to.equal(null);
      expect(pdfsig(file("signed"))).to.deep.equal(["Signature is Valid."]);
    });

    it("openssl cms -verify agrees on the signed ranges, and refuses them with one byte changed", async () => {
      const [sig] = (await verify("signed")).signatures;
      const pdf = pdfs.signed!;
      const br = sig!.byteRange!;
      const contents = Buffer.from(pdf.subarray(br[1]! + 1, br[2]! - 1).toString("latin1"), "hex");
      writeFileSync(s.path("sig.p7s"), contents);
      writeFileSync(s.path("ranges.bin"), signedRanges(pdf, br));
      const args = ["cms", "-verify", "-binary", "-inform", "DER", "-in", s.path("sig.p7s"), "-content", s.path("ranges.bin"), "-CAfile", s.path("root.pem"), "-purpose", "any", "-out", "/dev/null"];
      execFileSync("openssl", args, { stdio: "pipe" });
      writeFileSync(s.path("ranges.bin"), signedRanges(pdfs.tampered!, br));
      expect(() => execFileSync("openssl", args, { stdio: "pipe" })).to.throw();
    });

    it("an adbe.pkcs7.detached signature (no signingCertificateV2) is valid", async () => {
      const r = await verify("pkcs7");
      expect(r.valid).to.equal(true);
      expect(r.signatures[0]).to.include({ subFilter: "adbe.pkcs7.detached", indication: "TOTAL_PASSED" });
      expect(pdfsig(file("pkcs7"))).to.deep.equal(["Signature is Valid."]);
    });

    it("two signatures in incremental updates are each reported; the first does not cover the whole file but nothing forbidden came after it", async () => {
      const r = await verify("two");
      expect(r.valid).to.equal(true);
      expect(r.signatures.map((x) => [x.field, x.valid, x.coversWholeDocument, x.modifiedAfterSigning])).to.deep.equal([
        ["Signature1", true, false, false],
        ["Signature2", true, true, false],
      ]);
      expect(r.signatures[0]!.changesAfterSigning.map((c) => c.kind)).to.include.members(["signature", "signature-field"]);
      expect(r.signatures[0]!.changesAfterSigning.every((c) => c.permitted)).to.equal(true);
      expect(r.signatures[1]!.signer!.subject).to.contain("Nghệ An");
      expect(pdfsig(file("two"))).to.deep.equal(["Signature is Valid.", "Signature is Valid."]);
    });

    it("one byte changed in the signed range: HASH_FAILURE", async () => {
      const r = await verify("tampered");
      expect(r.valid).to.equal(false);
      expect(r.signatures[0]).to.include({ valid: false, indication: "TOTAL_FAILED", subIndication: "HASH_FAILURE" });
      expect(pdfsig(file("tampered"))).to.deep.equal(["Digest Mismatch."]);
    });

    it("a signature value that does not verify: SIG_CRYPTO_FAILURE", async () => {
      const r = await verify("badValue");
      expect(r.signatures[0]).to.include({ valid: false, indication: "TOTAL_FAILED", subIndication: "SIG_CRYPTO_FAILURE" });
      expect(pdfsig(file("badValue"))[0]).to.not.equal("Signature is Valid.");
    });

    for (const [name, what, kind] of [
      ["annotated", "an annotation added after signing", "annotation"],
      ["overdrawn", "new page content drawn over the signed text", "page"],
      ["reason", "the signature's /Reason changed after signing", "signature-dictionary"],
    ] as const) {
      it(`${what}: the signature stays valid, but it does not cover what the reader sees (exit 1)`, async () => {
        const r = await verify(name);
        expect(r.valid).to.equal(false);
        const [sig] = r.signatures;
        expect(sig).to.include({ valid: true, coversWholeDocument: false, modifiedAfterSigning: true });
        expect(sig!.changesAfterSigning.filter((c) => !c.permitted).map((c) => c.kind)).to.include(kind);
        expect(sig!.warnings.join(" ")).to.contain("after signing");
        // pdfsig only says the signature is valid and not the whole document
        expect(pdfsig(file(name))).to.deep.equal(["Signature is Valid."]);
        expect(execFileSync("pdfsig", ["-nocert", file(name)]).toString()).to.contain("Not total document signed");
      });
    }

    it("an annotation added between two signatures is reported on the first signature only", async () => {
      const r = await verify("annotatedThenSigned");
      expect(r.signatures.map((x) => [x.valid, x.modifiedAfterSigning])).to.deep.equal([
        [true, true],
        [true, false],
      ]);
      expect(r.valid).to.equal(false);
    });

    for (const [name, sub, what] of [
      ["sha1", "CRYPTO_CONSTRAINTS_FAILURE", "SHA-1"],
      ["rsa1024", "CRYPTO_CONSTRAINTS_FAILURE", "RSA key of 1024 bits"],
      ["revoked", "REVOKED", "revoked"],
      ["expired", "EXPIRED", "expired"],
      ["untrusted", "NO_CERTIFICATE_CHAIN_FOUND", "no chain of trust"],
      ["wrongCertV2", "NO_SIGNING_CERTIFICATE_FOUND", "signingCertificateV2"],
    ] as const) {
      it(`${name}: ${sub}, while pdfsig calls the signature valid`, async () => {
        const r = await verify(name);
        expect(r.valid).to.equal(false);
        expect(r.signatures[0]).to.include({ valid: false, subIndication: sub });
        expect(r.signatures[0]!.errors.join(" ")).to.contain(what);
        if (name !== "untrusted" && name !== "expired" && name !== "revoked") expect(pdfsig(file(name))[0]).to.equal("Signature is Valid.");
      });
    }

    it("without trust anchors a good signature is INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND", async () => {
      const r = await verify("signed", { anchors: [] });
      expect(r.signatures[0]).to.include({ indication: "INDETERMINATE", subIndication: "NO_CERTIFICATE_CHAIN_FOUND" });
    });

    for (const [name, what] of [
      ["gap", "a gap after /Contents"],
      ["shifted", "a hole shifted off /Contents"],
    ] as const) {
      it(`a /ByteRange with ${what}: FORMAT_FAILURE although the ranges' signature verifies (pdfsig: valid)`, async () => {
        const r = await verify(name);
        expect(r.signatures[0]).to.include({ valid: false, indication: "TOTAL_FAILED", subIndication: "FORMAT_FAILURE" });
        expect(r.signatures[0]!.errors[0]).to.contain("/ByteRange");
        expect(pdfsig(file(name))).to.deep.equal(["Signature is Valid."]);
      });
    }

    it("B-T: a signature time-stamp proves the signature existed, so ten years later it still passes; without the stamp's trust or without a stamp: EXPIRED", async () => {
      const later = new Date(Date.now() + 10 * 365 * 86400_000);
      const stamped = await verify("bt", { at: later });
      expect(stamped.valid).to.equal(true);
      expect(stamped.signatures[0]!.timestamp).to.include({ valid: true, tsa: "O=TSA (test), CN=Test TSA" });
      expect(Date.parse(stamped.signatures[0]!.timestamp!.time!)).to.be.closeTo(Date.now(), 10 * 60_000);
      const untrustedTsa = await verify("bt", { at: later, tsaAnchors: [] });
      expect(untrustedTsa.signatures[0]).to.include({ subIndication: "EXPIRED" });
      expect(untrustedTsa.signatures[0]!.timestamp!.valid).to.equal(false);
      expect(untrustedTsa.signatures[0]!.warnings.join(" ")).to.contain("time-stamp is not valid");
      expect((await verify("signed", { at: later })).signatures[0]).to.include({ subIndication: "EXPIRED" });
    });

    it("time-stamps are checked by the one RFC 3161 verification (edXML's): one stating a time after the validation time does not count", async () => {
      const before = new Date(Date.now() - 3_600_000);
      const stamp = (await verify("bt", { at: before })).signatures[0]!;
      expect(stamp.timestamp).to.include({ valid: false, tsa: "O=TSA (test), CN=Test TSA" });
      expect(stamp.warnings.join(" ")).to.contain("later than the validation time");
      const document = (await verify("lta", { at: before })).documentTimestamps[0]!;
      expect(document).to.include({ valid: false, subIndication: "FORMAT_FAILURE" });
      expect(document.errors.join(" ")).to.contain("later than the validation time");
    });

    it("LT/LTA: a DSS dictionary and a document time-stamp after the last signature are permitted validation data", async () => {
      const r = await verify("lta");
      expect(r.valid).to.equal(true);
      expect(r.signatures).to.have.length(2);
      expect(r.documentTimestamps).to.have.length(1);
      expect(r.documentTimestamps[0]).to.include({ valid: true, coversWholeDocument: true, subFilter: "ETSI.RFC3161" });
      const kinds = r.signatures[1]!.changesAfterSigning.map((c) => c.kind);
      expect(kinds).to.include.members(["validation-data", "document-timestamp"]);
      expect(r.signatures[1]!.modifiedAfterSigning).to.equal(false);
      expect(pdfsig(file("lta"))).to.deep.equal(["Signature is Valid.", "Signature is Valid.", "Signature has not yet been verified."]);
      // an untrusted document time-stamp is a warning, not a failed signature
      const noTsa = await verify("lta", { tsaAnchors: [] });
      expect(noTsa.valid).to.equal(true);
      expect(noTsa.documentTimestamps[0]).to.include({ valid: false, subIndication: "NO_CERTIFICATE_CHAIN_FOUND" });
      expect(noTsa.warnings).to.have.length(1);
    });

    it("a document time-stamp with a SHA-384 imprint counts (PAdES allows it; edXML's profile does not)", async () => {
      const r = await verify("lta384");
      expect(r.valid).to.equal(true);
      expect(r.documentTimestamps[0]).to.include({ valid: true, coversWholeDocument: true });
    });

    it("an annotation after the document time-stamp is still a change after signing", async () => {
      const r = await verify("ltaThenAnnotated");
      expect(r.valid).to.equal(false);
      expect(r.signatures[1]!.modifiedAfterSigning).to.equal(true);
    });

    it("certification (DocMDP): after P=1 even a second signature is a forbidden change; P=2 allows it; P=3 still reports an annotation", async () => {
      const none = await verify("certifiedNoChanges");
      expect(none.signatures[0]).to.include({ certification: 1, valid: true, modifiedAfterSigning: true });
      expect(none.signatures[0]!.warnings.join(" ")).to.contain("certification signature does not permit");
      expect(none.valid).to.equal(false);
      const forms = await verify("certifiedForms");
      expect(forms.signatures.map((x) => [x.certification, x.valid, x.modifiedAfterSigning])).to.deep.equal([
        [2, true, false],
        [null, true, false],
      ]);
      expect(forms.valid).to.equal(true);
      // P=3 permits annotations by the DocMDP rules, but our profile reports every annotation added after signing
      expect((await verify("certifiedFormsAnnotated")).signatures[0]).to.include({ certification: 3, modifiedAfterSigning: true });
    });

    it("PDFs signed by another tool verify: pdfsig -add-signature (poppler + NSS), alone and after our signature", async () => {
      const nss = s.path("nss");
      execFileSync("mkdir", ["-p", nss]);
      writeFileSync(s.path("id.p12"), identityToP12(pki.recipient, "pw"));
      execFileSync("certutil", ["-N", "-d", `sql:${nss}`, "--empty-password"]);
      execFileSync("pk12util", ["-i", s.path("id.p12"), "-d", `sql:${nss}`, "-W", "pw"], { stdio: "pipe" });
      const nick = "UBND tỉnh Nghệ An (test signer)";
      const poppler = (input: string, output: string) =>
        execFileSync("pdfsig", ["-add-signature", "-nssdir", `sql:${nss}`, "-nick", nick, "-reason", "Dong dau", input, output], { stdio: "pipe" });
      poppler(file("unsigned"), s.path("poppler.pdf"));
      poppler(file("signed"), s.path("ours-then-poppler.pdf"));
      const alone = await verifyPdf(readFileSync(s.path("poppler.pdf")), trust);
      expect(alone.valid).to.equal(true);
      expect(alone.signatures[0]).to.include({ subFilter: "adbe.pkcs7.detached", indication: "TOTAL_PASSED", coversWholeDocument: true });
      const both = await verifyPdf(readFileSync(s.path("ours-then-poppler.pdf")), trust);
      expect(both.valid).to.equal(true);
      expect(both.signatures.map((x) => [x.valid, x.coversWholeDocument, x.modifiedAfterSigning])).to.deep.equal([
        [true, false, false],
        [true, true, false],
      ]);
      expect(both.signatures[1]!.signer!.subject).to.contain("Nghệ An");
    });

    it("a PDF without signatures is not valid and says so", async () => {
      const r = await verify("unsigned");
      expect(r).to.include({ valid: false });
      expect(r.signatures).to.deep.equal([]);
      expect(r.errors[0]).to.contain("no signature");
      expect(isPdf(pdfs.unsigned!)).to.equal(true);
      expect(isPdf(Buffer.from("<edXML/>"))).to.equal(false);
    });
  });

  describe("the EU DSS test files", () => {
    // DSS's own assertions (shared/reference/pades-vectors/README.md). Their roots are not ours:
    // every chain is INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND; what is checked is format,
    // integrity, coverage and the changes after signing.
    const ANY_CHAIN = "NO_CERTIFICATE_CHAIN_FOUND";
    const cases: Array<{ file: string; signatures: Array<{ sub: string; modified: boolean }>; timestamps?: number; check?: (r: PdfReport) => void }> = [
      // the signature dictionary seen by a reader is not the one in the signed revision, and changes were made after signing
      { file: "pdf-spoofing-attack.pdf", signatures: [{ sub: "FORMAT_FAILURE", modified: true }] },
      {
        file: "pades-spoofing-replaced-reason.pdf",
        signatures: [{ sub: ANY_CHAIN, modified: true }],
        check: (r) => expect(r.signatures[0]!.changesAfterSigning.filter((c) => !c.permitted).map((c) => c.kind)).to.deep.equal(["signature-dictionary"]),
      },
      // one valid ByteRange, one overlapping: FORMAT_FAILURE
      { file: "pdf-byterange-overlap.pdf", signatures: [{ sub: ANY_CHAIN, modified: false }, { sub: "FORMAT_FAILURE", modified: false }] },
      // shadow attacks: object modifications after signing
      { file: "hide.pdf", signatures: [{ sub: ANY_CHAIN, modified: true }] },
      { file: "replace.pdf", signatures: [{ sub: ANY_CHAIN, modified: true }] },
      // SHA-1 PKCS#7: disallowed by our profile
      { file: "pkcs7_sha1.pdf", signatures: [{ sub: "CRYPTO_CONSTRAINTS_FAILURE", modified: true }, { sub: "CRYPTO_CONSTRAINTS_FAILURE", modified: false }] },
      { file: "doc-firmado.pdf", signatures: [{ sub: ANY_CHAIN, modified: false }], timestamps: 1 },
      { file: "doc-firmado-T.pdf", signatures: [{ sub: ANY_CHAIN, modified: false }], check: (r) => expect(r.signatures[0]!.timestamp!.time).to.equal("2018-09-15T22:10:37.000Z") },
      { file: "doc-firmado-LT.pdf", signatures: [{ sub: ANY_CHAIN, modified: false }], check: (r) => expect(r.signatures[0]!.changesAfterSigning.every((c) => c.kind === "validation-data")).to.equal(true) },
      { file: "PAdES-LT.pdf", signatures: [{ sub: ANY_CHAIN, modified: false }, { sub: ANY_CHAIN, modified: false }, { sub: ANY_CHAIN, modified: false }], timestamps: 1 },
      { file: "pades-ltv.pdf", signatures: [{ sub: ANY_CHAIN, modified: false }], timestamps: 2 },
      { file: "certified-changes-permitted.pdf", signatures: [{ sub: ANY_CHAIN, modified: false }], check: (r) => expect(r.signatures[0]!.certification).to.be.a("number") },
      { file: "certified-no-change-permitted.pdf", signatures: [{ sub: ANY_CHAIN, modified: false }], check: (r) => expect(r.signatures[0]!.certification).to.equal(1) },
    ];
    for (const c of cases) {
      it(`${c.file}: ${c.signatures.map((x) => x.sub + (x.modified ? " + changed after signing" : "")).join(", ")}`, async () => {
        const r = await verifyPdf(vector(c.file), { anchors: [], tsaAnchors: [], crls: [] });
        expect(r.valid).to.equal(false);
        expect(r.signatures.map((x) => ({ sub: x.subIndication, modified: x.modifiedAfterSigning }))).to.deep.equal(c.signatures);
        expect(r.documentTimestamps).to.have.length(c.timestamps ?? 0);
        c.check?.(r);
      });
    }

    it("integrity and signature values of the DSS signatures verify: trusting a file's own root moves the verdict past the chain", async () => {
      const pdf = vector("pades-spoofing-replaced-reason.pdf");
      const r = await verifyPdf(pdf, { anchors: [], tsaAnchors: [], crls: [] });
      expect(r.signatures[0]!.errors[0]).to.contain("no trusted root");
      // no anchors still means the chain is the first failing check: integrity and the value passed
      const signer = r.signatures[0]!.signer!;
      expect(signer.subject).to.contain("good-user");
    });
  });

  describe("bin/edoc verify FILE.pdf", () => {
    it("exit 0 for a valid signed PDF, JSON with signatures[]", async () => {
      const r = await edoc("verify", file("two"), "--trust", s.path("root.pem"), "--json");
      expect(r.code, r.stderr).to.equal(0);
      const report = JSON.parse(r.stdout) as PdfReport;
      expect(report.signatures.map((x) => x.valid)).to.deep.equal([true, true]);
      for (const key of ["valid", "indication", "subIndication", "signer", "signingTime", "timestamp", "coversWholeDocument"]) {
        expect(report.signatures[0]).to.have.property(key);
      }
    });

    it("recognises a PDF by its content, whatever its name; prints a readable report", async () => {
      writeFileSync(s.path("document.bin"), pdfs.signed!);
      const r = await edoc("verify", s.path("document.bin"), "--trust", s.path("root.pem"));
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain("VALID").and.contain("Signature1").and.contain("Văn phòng Chính phủ");
    });

    it("exit 1 for a changed-after-signing PDF, a revoked signer (--crl), an untrusted one", async () => {
      for (const [name, extra] of [["annotated", []], ["revoked", ["--crl", s.path("crl.pem")]], ["untrusted", []]] as const) {
        const r = await edoc("verify", file(name), "--trust", s.path("root.pem"), ...extra, "--json");
        expect(r.code, name).to.equal(1);
      }
      const revoked = JSON.parse((await edoc("verify", file("revoked"), "--trust", s.path("root.pem"), "--crl", s.path("crl.pem"), "--json")).stdout) as PdfReport;
      expect(revoked.signatures[0]!.subIndication).to.equal("REVOKED");
    });

    it("--tsa-trust and --at: a stamped PDF verified ten years on passes, an unstamped one does not", async () => {
      const at = new Date(Date.now() + 10 * 365 * 86400_000).toISOString();
      const stamped = await edoc("verify", file("bt"), "--trust", s.path("root.pem"), "--tsa-trust", s.path("tsa-root.pem"), "--at", at, "--json");
      expect(stamped.code, stamped.stdout).to.equal(0);
      const plain = await edoc("verify", file("signed"), "--trust", s.path("root.pem"), "--tsa-trust", s.path("tsa-root.pem"), "--at", at, "--json");
      expect(plain.code).to.equal(1);
      expect((JSON.parse(plain.stdout) as PdfReport).signatures[0]!.subIndication).to.equal("EXPIRED");
      const lta = await edoc("verify", file("lta"), "--trust", s.path("root.pem"), "--tsa-trust", s.path("tsa-root.pem"), "--json");
      expect(lta.code).to.equal(0);
      expect((JSON.parse(lta.stdout) as PdfReport).documentTimestamps[0]!.valid).to.equal(true);
    });

    it("exit 2 for a file that starts like a PDF but is not one", async () => {
      writeFileSync(s.path("broken.pdf"), "%PDF-1.7\n this is not a PDF at all");
      const r = await edoc("verify", s.path("broken.pdf"), "--trust", s.path("root.pem"));
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain("PDF");
    });
  });

  describe("the PDF attachments of a packet", () => {
    let packet: Buffer;
    let plainPacket: Buffer;
    before(async () => {
      packet = await pack(sampleEdoc({}, ["Quyet-dinh.pdf", "Sua-sau-khi-ky.pdf", "ghi-chu.txt"]), [pdfs.two!, pdfs.annotated!, Buffer.from("ghi chú")], pki.sender);
      plainPacket = await pack(sampleEdoc({}, ["ghi-chu.txt"]), [Buffer.from("ghi chú")], pki.sender);
      writeFileSync(s.path("packet.edxml"), packet);
      writeFileSync(s.path("plain.edxml"), plainPacket);
      writeFileSync(s.path("registry.json"), JSON.stringify({ agencies: [{ organId: SENDER, name: "VPCP", certificateFingerprints: [fingerprint(pki.sender.certificate)] }] }));
    });

    const expectPdfAttachments = (report: { valid: boolean; indication: string; attachments?: Array<{ n: number; name: string; pdfSignatures: PdfReport }> }) => {
      // the transport signature's verdict, whatever the PDFs say
      expect(report).to.include({ valid: true, indication: "TOTAL_PASSED" });
      expect(report.attachments!.map((a) => [a.n, a.name, a.pdfSignatures.valid])).to.deep.equal([
        [1, "Quyet-dinh.pdf", true],
        [2, "Sua-sau-khi-ky.pdf", false],
      ]);
      expect(report.attachments![0]!.pdfSignatures.signatures).to.have.length(2);
      expect(report.attachments![1]!.pdfSignatures.signatures[0]).to.include({ valid: true, modifiedAfterSigning: true });
    };

    it("bin/edoc verify of the packet reports each PDF's signatures beside the packet's own verdict", async () => {
      const r = await edoc("verify", s.path("packet.edxml"), "--trust", s.path("root.pem"), "--registry", s.path("registry.json"), "--json");
      expect(r.code, r.stdout).to.equal(0);
      expectPdfAttachments(JSON.parse(r.stdout));
      const text = await edoc("verify", s.path("packet.edxml"), "--trust", s.path("root.pem"), "--registry", s.path("registry.json"));
      expect(text.stdout).to.contain('attachment 2 "Sua-sau-khi-ky.pdf": PDF signatures NOT valid');
      const plain = JSON.parse((await edoc("verify", s.path("plain.edxml"), "--trust", s.path("root.pem"), "--registry", s.path("registry.json"), "--json")).stdout);
      expect(plain.valid).to.equal(true);
      expect(plain).to.not.have.property("attachments");
    });

    it("POST /api/v1/verify, the evidence bundle of the received document, and the verify page show them", async () => {
      const node = await startNode({ database: { dataDir: s.path("node") }, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], registry: [{ organId: SENDER, name: "VPCP", endpoint: "http://127.0.0.1:9", certificates: [pki.sender.certificate] }] });
      try {
        const auth = node.auth(RECIPIENT, "archivist");
        const verified = await fetch(`${node.url}/api/v1/verify`, { method: "POST", headers: { ...auth, "content-type": "application/xml" }, body: new Uint8Array(packet) });
        expect(verified.status).to.equal(200);
        const report = await verified.json();
        expectPdfAttachments(report);

        const received = await fetch(`${node.url}/edxml`, { method: "POST", headers: { "content-type": "application/xml" }, body: new Uint8Array(packet) });
        expect(received.status).to.equal(202);
        const list = await (await fetch(`${node.url}/api/v1/documents?direction=in`, { headers: auth })).json();
        const bundle = Buffer.from(await (await fetch(`${node.url}/api/v1/documents/${list.items[0].id}/evidence`, { headers: auth })).arrayBuffer());
        const bundleReport = await (await fetch(`${node.url}/api/v1/verify`, { method: "POST", headers: { ...auth, "content-type": "application/zip" }, body: new Uint8Array(bundle) })).json();
        expect(bundleReport.bundle.packetValid).to.equal(true);
        expectPdfAttachments(bundleReport);

        const vi = render(VerifyResult({ t: dictionary("vi"), report }));
        expect(vi).to.contain("Chữ ký số trong tệp PDF đính kèm").and.contain("Các chữ ký trong tệp hợp lệ và tệp không bị sửa sau khi ký.");
        expect(vi).to.contain("Tệp bị sửa sau khi ký").and.contain("một chú thích (FreeText) được thêm vào trang sau khi ký");
        const en = render(VerifyResult({ t: dictionary("en"), report }));
        expect(en).to.contain("Signatures inside the attached PDF files").and.contain("an annotation (FreeText) was added to a page after signing");
      } finally {
        await node.close();
      }
    });
  });
});
