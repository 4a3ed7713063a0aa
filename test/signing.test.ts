// Round trips: build → sign → verify → read back equal, for every packet kind, with Vietnamese text.
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { regionBytes, STATUS_CODES, type Edoc, type StatusCode } from "../envelopes/index.ts";
import { signStatus, verifyPacket } from "../signing/index.ts";
import { pack, sampleEdoc, sampleStatus, testPki, VIETNAMESE, RECIPIENT, SENDER } from "../fixtures/index.ts";

describe("signing round trips", () => {
  const kinds: Array<[string, Partial<Edoc>]> = [
    ["new", {}],
    ["revoke", { bussiness: { BussinessDocType: 1, BussinessDocReason: "Thu hồi văn bản điện tử", DocumentId: `${SENDER},2026/11/19,120/QĐ-VPCP`, Paper: 0 } }],
    [
      "update",
      {
        bussiness: {
          BussinessDocType: 2,
          BussinessDocReason: "Cập nhật văn bản điện tử",
          DocumentId: `${SENDER},2026/11/19,120/QĐ-VPCP`,
          Paper: 0,
          BussinessDocumentInfo: { DocumentInfo: 1, DocumentReceiver: 1, ReceiverList: [{ OrganId: "000.00.00.H14", ReceiverType: 1 }] },
        },
      },
    ],
    [
      "replace",
      {
        bussiness: {
          BussinessDocType: 3,
          BussinessDocReason: "Văn bản thay thế",
          Paper: 0,
          ReplacementInfoList: [{ DocumentId: `${SENDER},2026/11/19,120/QĐ-VPCP`, OrganIdList: [RECIPIENT] }],
        },
      },
    ],
  ];

  for (const [name, overrides] of kinds) {
    it(`${name}: packs, verifies and reads back the same document and attachments`, async () => {
      const { sender, trust } = testPki();
      const files = [Buffer.from("%PDF-1.7 quyết định đính kèm"), randomBytes(300_001)];
      const edoc = sampleEdoc(overrides, ["Quyết định 123.pdf", "Phụ lục — bảng kê.pdf"]);
      const bytes = await pack(edoc, files, sender);
      const { report, content } = await verifyPacket({ bytes }, trust);
      expect(report.errors).to.deep.equal([]);
      expect(report).to.include({ valid: true, indication: "TOTAL_PASSED", subIndication: null, packetKind: "edoc" });
      expect(report.references.map((r) => r.uri)).to.have.members([
        "#edxml-header",
        "#edxml-business",
        "#edxml-manifest",
        "#edxml-att-1",
        "#edxml-att-2",
        "#edxml-signed-props",
      ]);
      expect(report.references.every((r) => r.digestOk)).to.equal(true);
      expect(report.signer?.organId).to.equal(SENDER);
      expect(content!.packet).to.deep.equal(edoc);
      for (const [i, a] of content!.attachments.entries()) {
        const chunks: Buffer[] = [];
        for await (const c of regionBytes({ bytes }, a.region!)) chunks.push(c);
        expect(Buffer.concat(chunks).equals(files[i])).to.equal(true);
      }
      expect(bytes.includes(Buffer.from(VIETNAMESE, "utf8"))).to.equal(true);
    });
  }

  it("packs a document without attachments", async () => {
    const { sender, trust } = testPki();
    const edoc = sampleEdoc();
    const { report, content } = await verifyPacket({ bytes: await pack(edoc, [], sender) }, trust);
    expect(report.valid).to.equal(true);
    expect(content!.packet).to.deep.equal(edoc);
  });

  for (const code of Object.keys(STATUS_CODES) as StatusCode[]) {
    it(`status ${code} (${STATUS_CODES[code]}): signs, verifies and reads back`, async () => {
      const { recipient, trust } = testPki();
      const status = sampleStatus(code);
      const { report, content } = await verifyPacket({ bytes: signStatus(status, recipient) }, trust);
      expect(report.errors).to.deep.equal([]);
      expect(report).to.include({ valid: true, packetKind: "status" });
      expect(report.references.map((r) => r.uri)).to.deep.equal(["#edxml-header", "#edxml-signed-props"]);
      expect(content!.packet).to.deep.equal(status);
    });
  }

  it("records the signing time and the signer in the report", async () => {
    const { sender, trust } = testPki();
    const bytes = await pack(sampleEdoc(), [], sender, new Date("2026-11-22T03:00:00Z"));
    const { report } = await verifyPacket({ bytes }, trust);
    expect(report.signingTime).to.equal("2026-11-22T10:00:00+07:00");
    expect(report.signer).to.include({ organId: SENDER });
    expect(report.signer!.fingerprint).to.match(/^[0-9a-f]{64}$/);
  });
});
