// The fast path for the packets this node signs itself: the renderer's canonical forms are the
// canonicaliser's, a packet signed in memory is the packet streamed to a file byte for byte, its
// report without re-verification is the verifier's, and a key that is not the certificate's never
// signs. Verification from a file and from memory agree.
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { allElements, parseStrict, renderEdoc, renderStatus, type Edoc } from "../envelopes/index.ts";
import { fitsInMemory, ownPacketReport, packEdoc, signEdoc, validateChain, verifyPacket } from "../signing/index.ts";
import { canonicalize, createCrl, issueCertificate } from "../signing/testing.ts";
import { RECIPIENT, SENDER, VIETNAMESE, sampleEdoc, sampleStatus, scratch, testPki } from "../fixtures/index.ts";

/** An edoc whose text needs every escape, empty and optional fields, two attachments. */
function awkwardEdoc(): Edoc {
  const edoc = sampleEdoc(
    {
      bussiness: {
        BussinessDocType: 2,
        BussinessDocReason: "Cập nhật <b> & \"trích\" 'dẫn' >",
        DocumentId: `${SENDER},2026/11/19,120/QĐ-VPCP`,
        Paper: 0,
        BussinessDocumentInfo: { DocumentInfo: 1, DocumentReceiver: 1, ReceiverList: [{ OrganId: RECIPIENT, ReceiverType: 1 }] },
      },
    },
    ["Quyết định <1> & phụ lục.pdf", "b.pdf"],
  );
  edoc.header.Subject = `${VIETNAMESE} ]]> a&b <c>\tcột\r\nhàng mới\rcuối`;
  edoc.header.Code.CodeNumber = "";
  edoc.header.OtherInfo = { Appendixes: [], Priority: 1 };
  return edoc;
}

describe("own packets: signed without parsing, reported without re-verifying", () => {
  it("the renderer's canonical form of every signed element is the canonicaliser's", () => {
    for (const rendered of [renderEdoc(awkwardEdoc()), renderEdoc(sampleEdoc()), renderStatus(sampleStatus("05"))]) {
      const doc = parseStrict(rendered.text);
      expect(rendered.canonical.size).to.be.greaterThan(0);
      for (const [id, canonical] of rendered.canonical) {
        const el = allElements(doc.documentElement).find((e) => e.getAttribute("Id") === id)!;
        expect(canonical, id).to.equal(canonicalize(el));
      }
    }
  });

  it("signEdoc (memory) and packEdoc (file) write the same bytes, which verify, and the own report is the verifier's", async () => {
    const { sender, trust } = testPki();
    const s = scratch();
    try {
      const edoc = awkwardEdoc();
      const files = [randomBytes(100 * 1024 + 1), Buffer.from("%PDF-1.7 tệp")];
      const signingTime = new Date();
      const { bytes, signed } = await signEdoc(edoc, files.map((b) => ({ bytes: b })), sender, { signingTime });
      const { size } = await packEdoc(edoc, files.map((b) => ({ bytes: b })), sender, s.path("p.edxml"), { signingTime });
      const onDisk = readFileSync(s.path("p.edxml"));
      expect(size).to.equal(onDisk.length);
      expect(bytes.equals(onDisk)).to.equal(true);
      const at = new Date(signingTime.getTime() + 60_000);
      const fromMemory = await verifyPacket({ bytes }, { ...trust, at });
      const fromFile = await verifyPacket({ path: s.path("p.edxml") }, { ...trust, at });
      expect(fromMemory.report.errors).to.deep.equal([]);
      expect(fromMemory.report.valid).to.equal(true);
      expect(fromFile.report).to.deep.equal(fromMemory.report);
      expect(await ownPacketReport(signed, trust, at)).to.deep.equal(fromMemory.report);
    } finally {
      s.cleanup();
    }
  });

  it("signEdoc's own base64 encoder writes Node's base64 at every length remainder and at its 48 KiB chunk boundaries", async () => {
    const { sender, trust } = testPki();
    const lengths = [0, 1, 2, 3, 4, 5, 6, 49151, 49152, 49153, 49154, 49155, 98304, 98305, 98306];
    const files = lengths.map((n) => randomBytes(n));
    const edoc = sampleEdoc({}, lengths.map((n) => `f${n}.bin`));
    const { bytes } = await signEdoc(edoc, files.map((b) => ({ bytes: b })), sender);
    const text = bytes.toString("latin1");
    files.forEach((f, i) => expect(text.includes(`>${f.toString("base64")}</edXML:ContentTransferEncoded>`), `${lengths[i]} bytes`).to.equal(true));
    const { report } = await verifyPacket({ bytes }, trust);
    expect(report.errors).to.deep.equal([]);
    expect(report.valid).to.equal(true);
  });

  it("an own packet whose signer is not trusted or not registered gets the verifier's refusal", async () => {
    const { sender, recipient, trust } = testPki();
    const at = new Date();
    for (const t of [
      { ...trust, anchors: [] },
      { ...trust, registry: new Map() },
    ]) {
      const { bytes, signed } = await signEdoc(sampleEdoc(), [], sender);
      const own = await ownPacketReport(signed, t, at);
      expect(own.valid).to.equal(false);
      expect(own).to.deep.equal((await verifyPacket({ bytes }, { ...t, at })).report);
    }
    // the recipient's certificate is not registered for the sender
    const { bytes, signed } = await signEdoc(sampleEdoc(), [], recipient);
    const own = await ownPacketReport(signed, trust, at);
    expect(own.subIndication).to.equal("SIGNER_NOT_BOUND");
    expect(own).to.deep.equal((await verifyPacket({ bytes }, { ...trust, at })).report);
  });

  it("a private key that is not the certificate's signs nothing", async () => {
    const { sender } = testPki();
    const other = issueCertificate({ subject: { CN: "someone else" } });
    const mismatched = { ...sender, privateKey: other.privateKey };
    const edoc = sampleEdoc();
    let error: unknown;
    await signEdoc(edoc, [], mismatched).catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/does not belong to the signer certificate/);
  });

  it("a file over the in-memory size streams; the answer is the same as from memory", async () => {
    const { sender, trust } = testPki();
    const s = scratch();
    try {
      const big = randomBytes(3 << 20);
      expect(fitsInMemory([big.length])).to.equal(false);
      expect(fitsInMemory([100 * 1024])).to.equal(true);
      await packEdoc(sampleEdoc({}, ["big.bin"]), [{ bytes: big }], sender, s.path("big.edxml"));
      const fromFile = await verifyPacket({ path: s.path("big.edxml") }, trust);
      expect(fromFile.report.valid).to.equal(true);
      const fromMemory = await verifyPacket({ bytes: readFileSync(s.path("big.edxml")) }, { ...trust, at: new Date(fromFile.report.validationTime) });
      expect(fromMemory.report).to.deep.equal(fromFile.report);
      writeFileSync(s.path("cut.edxml"), readFileSync(s.path("big.edxml")).subarray(0, 2 << 20));
      expect((await verifyPacket({ path: s.path("cut.edxml") }, trust)).report.subIndication).to.equal("FORMAT_FAILURE");
    } finally {
      s.cleanup();
    }
  });
});

describe("chain decisions, remembered", () => {
  it("are not reused across a validity bound, nor for another CRL set or other anchors", async () => {
    const { root, intermediate, sender } = testPki();
    const opts = { leaf: sender.certificate, intermediates: sender.chain, anchors: [root.certificate], crls: [] };
    const now = new Date();
    expect(validateChain({ ...opts, at: now }).ok).to.equal(true);
    expect(validateChain({ ...opts, at: now }).ok).to.equal(true); // remembered
    const afterExpiry = new Date(new Date(sender.certificate.validTo).getTime() + 1000);
    expect(validateChain({ ...opts, at: afterExpiry })).to.include({ ok: false, subIndication: "EXPIRED" });
    const beforeStart = new Date(new Date(sender.certificate.validFrom).getTime() - 1000);
    expect(validateChain({ ...opts, at: beforeStart })).to.include({ ok: false, subIndication: "NOT_YET_VALID" });
    expect(validateChain({ ...opts, anchors: [], at: now }).ok).to.equal(false);
    const revokedLater = new Date(now.getTime() + 3600_000);
    const crl = await createCrl(intermediate, [{ serial: sender.certificate.serialNumber, date: revokedLater }], { thisUpdate: new Date(now.getTime() - 60_000) });
    const withCrl = validateChain({ ...opts, crls: [crl], at: now });
    expect(withCrl.ok && withCrl.warnings.some((w) => w.includes("revoked later"))).to.equal(true);
    expect(validateChain({ ...opts, crls: [crl], at: new Date(revokedLater.getTime() + 1000) })).to.include({ ok: false, subIndication: "REVOKED" });
    expect(validateChain({ ...opts, at: now }).ok).to.equal(true);
  });
});
