// edXML envelopes: building templates, reading packets (samples and tolerant variants),
// validation messages and attachment (un)wrapping.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { zipSync } from "fflate";
import {
  EDXML_NS,
  STATUS_CODES,
  type AttachmentInfo,
  type Bussiness,
  type Edoc,
  type EdocHeader,
  type StatusCode,
  type StatusPacket,
} from "../envelopes/model.ts";
import { DSIG_NS, allElements, child, children, parseStrict, text } from "../envelopes/xml.ts";
import {
  SIGNATURE_SLOT,
  attachmentSlot,
  formatDate,
  formatTimestamp,
  makeDocumentId,
  renderEdocTemplate,
  renderStatusTemplate,
} from "../envelopes/build.ts";
import {
  isStatusHeader,
  locateParts,
  readAttachmentInfo,
  readBussiness,
  readEdocHeader,
  readPacket,
  readStatusHeader,
  readTraceHeaders,
} from "../envelopes/read.ts";
import {
  ValidationError,
  assertValidEdoc,
  assertValidStatus,
  charLength,
  validateEdoc,
  validateStatus,
} from "../envelopes/validate.ts";
import { isZip, unwrapAttachment, zipSingle } from "../envelopes/attachment.ts";
import { RECIPIENT_CODES, SENDER_CODES, businessTargets, parseVnTimestamp, statusProblem, statusSender } from "../envelopes/index.ts";
import { fixturePath } from "../fixtures/index.ts";

// ------------------------------------------------------------------------------------------------
// Fixtures

function sample(name: string): string {
  return readFileSync(fixturePath(`samples/${name}`), "utf8");
}

const VN = "Quyết định về việc ban hành Quy chế văn thư — Đ đ ơ ư ấ ậ ỹ";
/** 2025/06/15 10:00:00 in Vietnam. */
const NOW = new Date("2025-06-15T03:00:00Z");
const names = (el: Element) => children(el).map((e) => e.localName);

function header(): EdocHeader {
  return {
    From: {
      OrganId: "000.00.00.G22",
      OrganizationInCharge: "Văn phòng Chính phủ",
      OrganName: "Văn phòng Chính phủ",
      OrganAdd: "Số 1 Hoàng Hoa Thám, Quận Ba Đình, Hà Nội",
      Email: "vanthu@chinhphu.vn",
      Telephone: "024 3845 8241",
      Fax: "024 3845 8242",
      Website: "chinhphu.vn",
    },
    To: [
      { OrganId: "000.00.00.H41", OrganName: "UBND Tỉnh Nghệ An", OrganAdd: "Số 03, đường Trường Thi, Thành phố Vinh" },
      { OrganId: "000.00.00.H14", OrganName: "UBND Tỉnh Cao Bằng", Email: "caobang@gov.vn" },
    ],
    DocumentId: "000.00.00.G22,2025/06/14,123/QĐ-VPCP",
    Code: { CodeNumber: "123", CodeNotation: "QĐ-VPCP" },
    PromulgationInfo: { Place: "Hà Nội", PromulgationDate: "2025/06/14" },
    DocumentType: { Type: 1, TypeDetail: 8, TypeName: "Quyết định" },
    Subject: VN,
    Content: "Ban hành kèm theo Quyết định này Quy chế công tác văn thư & lưu trữ <nội bộ>",
    SignerInfo: { Competence: "KT. BỘ TRƯỞNG", Position: "Thứ trưởng", FullName: "Nguyễn Văn Ánh" },
    DueDate: "2025/06/30",
    OtherInfo: {
      Priority: 2,
      SphereOfPromulgation: "Lưu hành nội bộ",
      TyperNotation: "NVA",
      PromulgationAmount: 3,
      PageAmount: 12,
      Appendixes: ["Phụ lục I: Mẫu sổ đăng ký văn bản đến", "Phụ lục II: Thể thức văn bản"],
    },
    ResponseFor: [
      {
        OrganId: "000.00.00.H41",
        Code: "45/UBND-VX",
        PromulgationDate: "2025/05/02",
        DocumentId: "000.00.00.H41,2025/05/02,45/UBND-VX",
      },
    ],
    SteeringType: 1,
    ToPlaces: ["Như trên", "Lưu: VT, TTĐT"],
  };
}

const ATTACHMENTS: AttachmentInfo[] = [
  {
    ContentId: "5b0c7f8e-2a0e-4a57-9a51-0f3f4b1d9c11",
    AttachmentName: "Quyết định 123-QĐ-VPCP.pdf",
    ContentType: "application/pdf",
    Description: "Quyết định kèm Quy chế văn thư",
  },
  {
    ContentId: "phu-luc-2",
    AttachmentName: "Phụ lục II – Thể thức.docx",
    ContentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  },
];

const STAFF = { Department: "Văn thư văn phòng", Staff: "Nguyễn Thị Ngọc Trâm", Email: "vanthu@chinhphu.vn", Mobile: "0912000001" };

const BUSSINESS: Record<"new" | "revoke" | "update" | "replace", Bussiness> = {
  new: { BussinessDocType: 0, BussinessDocReason: "Văn bản điện tử mới", Paper: 0, StaffInfo: STAFF },
  revoke: {
    BussinessDocType: 1,
    BussinessDocReason: "Thu hồi văn bản điện tử do sai thể thức",
    DocumentId: "000.00.00.G22,2025/06/14,123/QĐ-VPCP",
    Paper: 0,
    StaffInfo: STAFF,
  },
  update: {
    BussinessDocType: 2,
    BussinessDocReason: "Cập nhật văn bản điện tử",
    DocumentId: "000.00.00.G22,2025/06/14,123/QĐ-VPCP",
    Paper: 1,
    BussinessDocumentInfo: {
      DocumentInfo: 1,
      DocumentReceiver: 1,
      ReceiverList: [
        { OrganId: "000.00.00.H14", ReceiverType: 0 },
        { OrganId: "000.00.00.G17", ReceiverType: 1 },
      ],
    },
  },
  replace: {
    BussinessDocType: 3,
    BussinessDocReason: "Văn bản thay thế",
    ReplacementInfoList: [
      { DocumentId: "000.00.00.G22,2025/06/01,100/QĐ-VPCP", OrganIdList: ["000.00.00.H41", "000.00.00.H14"] },
      { DocumentId: "000.00.00.G22,2025/06/02,101/QĐ-VPCP", OrganIdList: [] },
    ],
    StaffInfo: { Staff: "Trần Đức Lương" },
  },
};

function edoc(kind: keyof typeof BUSSINESS = "new", attachments = ATTACHMENTS): Edoc {
  return {
    kind: "edoc",
    header: header(),
    bussiness: structuredClone(BUSSINESS[kind]),
    traces: [{ OrganId: "000.00.00.G22", Timestamp: "2025/06/15 09:59:00" }],
    attachments: structuredClone(attachments),
  };
}

const STATUS_DESCRIPTIONS: Record<StatusCode, string> = {
  "01": "Văn thư - Phòng Văn thư - Lưu trữ: Đã đến - Phần mềm QLVB đã nhận nhưng văn thư chưa xử lý",
  "02": "Văn thư - Phòng Văn thư - Lưu trữ: Từ chối không tiếp nhận văn bản điện tử",
  "03": "Văn thư: Tiếp nhận văn bản điện tử, vào sổ văn bản đến của đơn vị",
  "04": "Lãnh đạo: Phân công xử lý",
  "05": "Đang xử lý văn bản đến",
  "06": "Văn thư: Ban hành văn bản đến, hoàn thành xử lý",
  "13": "Văn thư yêu cầu lấy lại văn bản điện tử kèm lý do — Đ đ ơ ư ấ ậ ỹ",
  "15": "Văn thư đồng ý yêu cầu cập nhật, lấy lại",
  "16": "Văn thư từ chối yêu cầu cập nhật, lấy lại",
};

function status(code: StatusCode = "05"): StatusPacket {
  return {
    kind: "status",
    header: {
      From: { OrganId: "000.00.00.H41", OrganName: "UBND Tỉnh Nghệ An", Email: "nghean@gov.vn" },
      ResponseFor: {
        OrganId: "000.00.00.G22",
        Code: "123/QĐ-VPCP",
        PromulgationDate: "2025/06/14",
        DocumentId: "000.00.00.G22,2025/06/14,123/QĐ-VPCP",
      },
      StaffInfo: { Department: "Phòng Hành chính", Staff: "Lê Thị Hoa", Mobile: "0912345678", Email: "hoa@nghean.gov.vn" },
      StatusCode: code,
      Description: STATUS_DESCRIPTIONS[code],
      Timestamp: "2025/06/15 09:30:00",
    },
  };
}

/** Fill the slots the way a signer would (a dummy XMLDSig element and some base64). */
function fillSlots(template: string, n: number): string {
  let out = template.replace(
    SIGNATURE_SLOT,
    `<ds:Signature xmlns:ds="${DSIG_NS}" Id="edxml-signature"><ds:SignedInfo/></ds:Signature>`,
  );
  for (let i = 1; i <= n; i++) out = out.replace(attachmentSlot(i), Buffer.from(`tệp ${i}`).toString("base64"));
  return out;
}

// ------------------------------------------------------------------------------------------------

describe("envelopes: the public samples", () => {
  it("reads the VNPT-library edoc (CRLF line endings) with its placeholder signature", () => {
    const raw = sample("edoc_new_generated_by_vnpt_lib.edxml");
    expect(raw.includes("\r\n")).to.equal(true);
    const { packet, signature } = readPacket(parseStrict(raw));
    expect(signature).to.equal("placeholder");
    expect(packet.kind).to.equal("edoc");
    if (packet.kind !== "edoc") return;
    const h = packet.header;
    expect(h.From).to.deep.equal({
      OrganId: "000.00.00.G22",
      OrganizationInCharge: "Văn phòng Chính phủ",
      OrganName: "Văn phòng Chính phủ",
      OrganAdd: "Số 1 Hoàng Hoa Thám, Quận Ba Đình, Hà Nội",
      Email: "vpcp@gov.vn",
      Telephone: "8043100",
      Fax: "048989898789",
      Website: "vpcp.vn",
    });
    expect(h.To.map((t) => t.OrganId)).to.deep.equal(["000.00.00.H41", "000.00.00.H14", "000.00.00.G17"]);
    expect(h.To[2]).to.deep.equal({
      OrganId: "000.00.00.G17",
      OrganizationInCharge: "Sở Thông tin truyền thông Hải Phòng",
      OrganName: "Sở Thông tin truyền thông Hải Phòng",
      OrganAdd: "số 62 - Võ Thị Sáu - Ngô Quyền - Hải Phòng",
      Email: "bxd@moc.gov.vn",
      Telephone: "(84-4) 3821 5137",
      Fax: "(023)37366617",
      Website: "www.haiphong.gov.vn",
    });
    expect(h.DocumentId).to.equal("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT");
    expect(h.Code).to.deep.equal({ CodeNumber: "7816", CodeNotation: "VPCP-TTĐT" });
    expect(h.PromulgationInfo).to.deep.equal({ Place: "Hà Nội", PromulgationDate: "2019/04/11" });
    expect(h.DocumentType).to.deep.equal({ Type: 1, TypeDetail: 0, TypeName: "Công văn" });
    expect(h.Subject).to.equal("V/v kết nối, liên thông phần mềm quản lý văn bản");
    expect(h.Content).to.equal("V/v kết nối, liên thông phần mềm quản lý văn bản");
    expect(h.SignerInfo).to.deep.equal({
      Competence: "TL. BO TRUONG",
      Position: "Cuc truong cuc ung dung cong nghe thong tin",
      FullName: "Nguyen Thanh Phuc",
    });
    expect(h.DueDate).to.equal("2019/04/11");
    expect(h.OtherInfo).to.deep.equal({
      Priority: 0,
      SphereOfPromulgation: "Liên thông văn bản quốc gia",
      TyperNotation: "TVC",
      PromulgationAmount: 2,
      PageAmount: 22,
      Appendixes: ["Công văn về việc kết nối, liên thông phần mềm quản lý văn bản"],
    });
    expect(h.SteeringType).to.equal(1);
    expect(h.ToPlaces).to.deep.equal(["Cac bo va co quan ngang bo", "Uy ban nhan dan cac tinh, TP"]);
    expect(h.ResponseFor).to.equal(undefined);
    expect(packet.bussiness).to.deep.equal({
      DocumentId: "000.00.00.G22,2014/02/30,7806/VPCP-TTĐT",
      BussinessDocType: 0,
      BussinessDocReason: "Văn bản điện tử mới",
      Paper: 0,
      StaffInfo: {
        Department: "Văn thư văn phòng",
        Staff: "Nguyễn Thị Ngọc Trâm",
        Email: "vanthuvanphong@gov.vn",
        Mobile: "84912000001",
      },
    });
    expect(packet.traces).to.deep.equal([{ OrganId: "000.00.00.G22", Timestamp: "2019/04/11 00:00:00" }]);
    expect(packet.attachments).to.deep.equal([
      {
        ContentId: "209",
        AttachmentName: "1896_QD-TTg_m_294779.doc",
        ContentType: "application/zip",
        Description: "1896_QD-TTg_m_294779.doc",
      },
    ]);
    expect(validateEdoc(packet, { own: false, now: NOW })).to.deep.equal([]);
  });

  it("unwraps the sample's attachment: a ZIP with one <uuid>.edxml entry of 8381 bytes", () => {
    const parts = locateParts(parseStrict(sample("edoc_new_generated_by_vnpt_lib.edxml")));
    expect(parts.attachments).to.have.length(1);
    const bytes = Buffer.from(text(parts.attachments[0], "ContentTransferEncoded")!, "base64");
    expect(isZip(bytes)).to.equal(true);
    const out = unwrapAttachment(bytes);
    expect(out.zipped).to.equal(true);
    expect(out.entryName).to.equal("7a71a0ee-2f35-400d-aca9-811d478eb158.edxml");
    expect(out.data.length).to.equal(8381);
    expect(Buffer.from(out.data.subarray(0, 38)).toString("utf8")).to.equal('<?xml version="1.0" encoding="UTF-8"?>');
  });

  it("reads the status sample (code 05 from 000.00.00.H41, no signature)", () => {
    const { packet, signature } = readPacket(parseStrict(sample("status_processing_05.edxml")));
    expect(signature).to.equal("none");
    expect(packet).to.deep.equal({
      kind: "status",
      header: {
        From: {
          OrganId: "000.00.00.H41",
          OrganName: "UBND Tỉnh Nghệ An",
          OrganizationInCharge: "UBND Tỉnh Nghệ An",
          OrganAdd: "Số 03, đường Trường Thi, Thành phố Vinh, Tỉnh Nghệ An, Việt Nam",
          Email: "nghean@gov.vn",
          Telephone: "0383 840418",
          Fax: "0383 843049",
          Website: "www.nghean.vn",
        },
        ResponseFor: {
          OrganId: "000.00.00.G22",
          Code: "7816/VPCP-TTĐT",
          PromulgationDate: "2015/09/30",
          DocumentId: "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT",
        },
        StaffInfo: {
          Department: "Phong hanh chinh",
          Staff: "Nguyen thi ngoc tram",
          Mobile: "84912000001",
          Email: "ngoctram@nghean.vn",
        },
        StatusCode: "05",
        Description: "Đang xử lý văn bản đến",
        Timestamp: "2015/09/20 11:08:36",
      },
    });
    if (packet.kind === "status") expect(validateStatus(packet, { own: false, now: NOW })).to.deep.equal([]);
  });
});

describe("envelopes: building templates", () => {
  for (const kind of ["new", "revoke", "update", "replace"] as const) {
    it(`${kind}: build → parseStrict → read gives back the same model`, () => {
      const input = edoc(kind);
      expect(validateEdoc(input, { own: true, now: NOW })).to.deep.equal([]);
      const template = renderEdocTemplate(input);
      const { packet, signature } = readPacket(parseStrict(template));
      expect(signature).to.equal("none");
      expect(packet).to.deep.equal(input);
      // and once the signer has filled the slots
      const filled = readPacket(parseStrict(fillSlots(template, input.attachments.length)));
      expect(filled.signature).to.equal("xmldsig");
      expect(filled.packet).to.deep.equal(input);
    });
  }

  it("writes the layout of the signature profile", () => {
    const template = renderEdocTemplate(edoc("update"));
    expect(
      template.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
          `<edXML xmlns="${EDXML_NS}">\n` +
          `  <edXML:edXMLEnvelope xmlns:edXML="${EDXML_NS}">\n` +
          "    <edXML:edXMLHeader>\n" +
          '      <edXML:MessageHeader Id="edxml-header">\n' +
          "        <edXML:From>\n" +
          "          <edXML:OrganId>000.00.00.G22</edXML:OrganId>\n",
      ),
    ).to.equal(true);
    const doc = parseStrict(template);
    const root = doc.documentElement!;
    expect(allElements(root).every((e) => e.namespaceURI === EDXML_NS)).to.equal(true);
    expect(names(root)).to.deep.equal(["edXMLEnvelope", "AttachmentEncoded"]);
    const envelope = child(root, "edXMLEnvelope")!;
    expect(envelope.prefix).to.equal("edXML");
    expect(names(envelope)).to.deep.equal(["edXMLHeader", "edXMLBody"]);
    const hdr = child(envelope, "edXMLHeader")!;
    expect(names(hdr)).to.deep.equal(["MessageHeader", "TraceHeaderList"]);
    // the signature slot is the last thing in edXMLHeader, after TraceHeaderList
    const last = [...Array.from(hdr.childNodes)].filter((n) => (n.nodeValue ?? "x").trim() !== "").pop()!;
    expect(last.nodeType).to.equal(3);
    expect(last.nodeValue!.trim()).to.equal(SIGNATURE_SLOT);

    const mh = child(hdr, "MessageHeader")!;
    expect(mh.getAttribute("Id")).to.equal("edxml-header");
    expect(names(mh)).to.deep.equal([
      "From", "To", "To", "DocumentId", "Code", "PromulgationInfo", "DocumentType", "Subject", "Content",
      "SignerInfo", "DueDate", "OtherInfo", "ResponseFor", "SteeringType", "ToPlaces",
    ]);
    expect(names(child(mh, "From")!)).to.deep.equal([
      "OrganId", "OrganizationInCharge", "OrganName", "OrganAdd", "Email", "Telephone", "Fax", "Website",
    ]);
    expect(names(child(mh, "OtherInfo")!)).to.deep.equal([
      "Priority", "SphereOfPromulgation", "TyperNotation", "PromulgationAmount", "PageAmount", "Appendixes",
    ]);
    expect(names(child(mh, "ResponseFor")!)).to.deep.equal(["OrganId", "Code", "PromulgationDate", "DocumentId"]);

    const traces = child(hdr, "TraceHeaderList")!;
    expect(names(traces)).to.deep.equal(["TraceHeader", "Bussiness"]);
    const b = child(traces, "Bussiness")!;
    expect(b.getAttribute("Id")).to.equal("edxml-business");
    expect(names(b)).to.deep.equal(["DocumentId", "BussinessDocType", "BussinessDocReason", "Paper", "BussinessDocumentInfo"]);
    expect(names(child(b, "BussinessDocumentInfo")!)).to.deep.equal(["DocumentInfo", "DocumentReceiver", "ReceiverList"]);

    const manifest = child(child(envelope, "edXMLBody")!, "edXMLManifest")!;
    expect(manifest.getAttribute("version")).to.equal("1.0");
    expect(manifest.getAttribute("Id")).to.equal("edxml-manifest");
    const refs = children(manifest, "Reference");
    expect(refs.map(names)).to.deep.equal([
      ["ContentId", "ContentType", "Description", "AttachmentName"],
      ["ContentId", "ContentType", "AttachmentName"],
    ]);
    expect(text(refs[0], "ContentId")).to.equal("cid:5b0c7f8e-2a0e-4a57-9a51-0f3f4b1d9c11");

    const atts = children(child(root, "AttachmentEncoded")!, "Attachment");
    expect(atts.map((a) => a.getAttribute("Id"))).to.deep.equal(["edxml-att-1", "edxml-att-2"]);
    expect(atts.map((a) => a.prefix)).to.deep.equal([null, null]);
    expect(names(atts[0])).to.deep.equal(["ContentId", "AttachmentName", "Description", "ContentType", "ContentTransferEncoded"]);
    expect(names(atts[1])).to.deep.equal(["ContentId", "AttachmentName", "ContentType", "ContentTransferEncoded"]);
    expect(text(atts[1], "ContentId")).to.equal("cid:phu-luc-2");
    // values are trimmed of XML white space only: a no-break space is part of the value
    const spaced = parseStrict(`<a>\n\t 000.00.00.G22\u00a0 \r\n</a>`).documentElement!;
    expect(text(spaced)).to.equal("000.00.00.G22\u00a0");
    expect(child(atts[0], "ContentTransferEncoded")!.prefix).to.equal("edXML");
    expect(template).to.include(
      `<edXML:ContentTransferEncoded xmlns:edXML="${EDXML_NS}">@@edxml-att-1@@</edXML:ContentTransferEncoded>`,
    );
    expect(template).to.include(`<edXML:ContentTransferEncoded xmlns:edXML="${EDXML_NS}">@@edxml-att-2@@</edXML:ContentTransferEncoded>`);
  });

  it("keeps each slot exactly once, Vietnamese text verbatim, and nothing but the declaration", () => {
    const template = renderEdocTemplate(edoc("new"));
    for (const slot of [SIGNATURE_SLOT, attachmentSlot(1), attachmentSlot(2)]) {
      expect(template.split(slot).length - 1, slot).to.equal(1);
    }
    expect(template.split(attachmentSlot(3)).length).to.equal(1);
    const bytes = Buffer.from(template, "utf8");
    expect(bytes.includes(Buffer.from(VN, "utf8"))).to.equal(true);
    expect(bytes.includes(Buffer.from("<edXML:Staff>Nguyễn Thị Ngọc Trâm</edXML:Staff>", "utf8"))).to.equal(true);
    expect(template).to.include("Quy chế công tác văn thư &amp; lưu trữ &lt;nội bộ&gt;");
    expect(template).not.to.match(/&#/);
    expect(template).not.to.include("xmlns:xml");
    expect(template).not.to.include("<!--");
    expect(template).not.to.include("<!DOCTYPE");
    expect(template.split("<?").length - 1).to.equal(1);
    expect(template).to.include("<edXML:Priority>2</edXML:Priority>");
    expect(template).to.include("<edXML:Type>1</edXML:Type>");
  });

  it("writes an empty manifest and no AttachmentEncoded when there are no attachments", () => {
    const input = edoc("new", []);
    const template = renderEdocTemplate(input);
    const root = parseStrict(template).documentElement!;
    expect(names(root)).to.deep.equal(["edXMLEnvelope"]);
    const manifest = child(child(child(root, "edXMLEnvelope")!, "edXMLBody")!, "edXMLManifest")!;
    expect(manifest.getAttribute("Id")).to.equal("edxml-manifest");
    expect(children(manifest)).to.have.length(0);
    expect(template).not.to.include("AttachmentEncoded");
    expect(readPacket(parseStrict(template)).packet).to.deep.equal(input);
  });

  it("writes a new-document Bussiness block when none is given", () => {
    const input = edoc("new", []);
    delete input.bussiness;
    const { packet } = readPacket(parseStrict(renderEdocTemplate(input)));
    expect(packet).to.deep.equal({ ...input, bussiness: { BussinessDocType: 0, BussinessDocReason: "Văn bản điện tử mới" } });
  });

  it("omits absent optional elements and normalises line breaks", () => {
    const input: Edoc = {
      kind: "edoc",
      header: {
        From: { OrganId: "000.00.00.G22" },
        To: [{ OrganId: "000.00.00.H41" }],
        DocumentId: "000.00.00.G22,2025/06/14,1/TB-VPCP",
        Code: { CodeNumber: "1", CodeNotation: "TB-VPCP" },
        PromulgationInfo: { PromulgationDate: "2025/06/14" },
        DocumentType: { Type: 2 },
        Subject: "Thông báo\r\nnghỉ lễ",
      },
      traces: [],
      attachments: [],
    };
    const template = renderEdocTemplate(input);
    const mh = locateParts(parseStrict(template)).messageHeader;
    expect(names(mh)).to.deep.equal(["From", "To", "DocumentId", "Code", "PromulgationInfo", "DocumentType", "Subject"]);
    expect(template).to.include("<edXML:Subject>Thông báo\nnghỉ lễ</edXML:Subject>");
    expect(readEdocHeader(mh)).to.deep.equal({ ...input.header, Subject: "Thông báo\nnghỉ lễ" });
  });

  it("refuses what it cannot write faithfully", () => {
    const bell = edoc();
    bell.header.Subject = "Chuông\u0007";
    expect(() => renderEdocTemplate(bell)).to.throw("Subject contains the character U+0007, which XML cannot carry");
    const half = edoc();
    half.header.OtherInfo!.Priority = 1.5;
    expect(() => renderEdocTemplate(half)).to.throw("OtherInfo/Priority must be an integer, got 1.5");
    const marker = edoc();
    marker.header.Content = `xem ${SIGNATURE_SLOT}`;
    expect(() => renderEdocTemplate(marker)).to.throw(
      "the reserved marker @@edxml-signature@@ must appear exactly once in the packet, found 2 times",
    );
  });

  for (const code of Object.keys(STATUS_CODES).sort() as StatusCode[]) {
    it(`status ${code} (${STATUS_CODES[code]}): build → parseStrict → read gives back the same model`, () => {
      const input = status(code);
      expect(validateStatus(input, { own: true, now: NOW })).to.deep.equal([]);
      const template = renderStatusTemplate(input);
      expect(template.split(SIGNATURE_SLOT).length - 1).to.equal(1);
      expect(Buffer.from(template).includes(Buffer.from(STATUS_DESCRIPTIONS[code]))).to.equal(true);
      expect(template).not.to.match(/&#/);
      const doc = parseStrict(template);
      const root = doc.documentElement!;
      expect(names(root)).to.deep.equal(["edXMLEnvelope"]);
      expect(names(child(root, "edXMLEnvelope")!)).to.deep.equal(["edXMLHeader"]);
      const hdr = child(child(root, "edXMLEnvelope")!, "edXMLHeader")!;
      expect(names(hdr)).to.deep.equal(["MessageHeader"]);
      const mh = child(hdr, "MessageHeader")!;
      expect(mh.getAttribute("Id")).to.equal("edxml-header");
      expect(names(mh)).to.deep.equal(["From", "ResponseFor", "StaffInfo", "StatusCode", "Description", "Timestamp"]);
      expect(names(child(mh, "StaffInfo")!)).to.deep.equal(["Department", "Staff", "Mobile", "Email"]);
      expect(isStatusHeader(mh)).to.equal(true);
      const { packet, signature } = readPacket(doc);
      expect(signature).to.equal("none");
      expect(packet).to.deep.equal(input);
      expect(readPacket(parseStrict(fillSlots(template, 0))).signature).to.equal("xmldsig");
    });
  }

  it("formats dates in Vietnam time whatever the machine's time zone", () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ["UTC", "America/Los_Angeles", "Asia/Tokyo"]) {
        process.env.TZ = tz;
        const d = new Date("2024-12-31T17:30:05Z"); // 00:30:05 on 1 January 2025 in Vietnam
        expect(formatDate(d), tz).to.equal("2025/01/01");
        expect(formatTimestamp(d), tz).to.equal("2025/01/01 00:30:05");
        expect(formatTimestamp(new Date("2025-06-15T16:59:59Z")), tz).to.equal("2025/06/15 23:59:59");
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    expect(() => formatDate(new Date("not a date"))).to.throw(RangeError);
  });

  it("makes VPCP-style DocumentIds", () => {
    expect(makeDocumentId("000.00.00.G22", "2015/09/30", { CodeNumber: "7816", CodeNotation: "VPCP-TTĐT" })).to.equal(
      "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT",
    );
    expect(makeDocumentId("000.00.00.G22", new Date("2025-06-13T18:00:00Z"), "123/QĐ-VPCP")).to.equal(
      "000.00.00.G22,2025/06/14,123/QĐ-VPCP",
    );
  });
});

describe("envelopes: tolerant reading", () => {
  const SHUFFLED = `<?xml version="1.0" encoding="UTF-8"?>
<x:edXML xmlns:x="${EDXML_NS}">
 <x:edXMLEnvelope>
  <x:edXMLHeader>
   <x:MessageHeader>
    <Subject xmlns="">  Về việc tăng cường công tác văn thư  </Subject>
    <x:ToPlaces><x:Place>Như trên</x:Place></x:ToPlaces>
    <x:To><x:OrganName>Sở Nội vụ</x:OrganName><x:OrganId>000.01.32.H41</x:OrganId></x:To>
    <x:Code><x:CodeNotation>SNV-VP</x:CodeNotation><x:CodeNumber>12</x:CodeNumber></x:Code>
    <x:DocumentType><x:TypeName>Công văn</x:TypeName><x:Type>18</x:Type><x:TypeDetail>abc</x:TypeDetail></x:DocumentType>
    <x:OtherInfo><x:Priority>abc</x:Priority><x:PageAmount/><x:PromulgationAmount> 3 </x:PromulgationAmount></x:OtherInfo>
    <x:Content/>
    <x:From><x:OrganName>UBND Tỉnh Nghệ An</x:OrganName><x:OrganId>000.00.00.H41</x:OrganId></x:From>
    <x:PromulgationInfo><x:PromulgationDate>2025/06/01</x:PromulgationDate><x:Place></x:Place></x:PromulgationInfo>
    <x:DocumentId>9fbfbad2-f1f8-4256-a2eb-50fb1061cddb</x:DocumentId>
   </x:MessageHeader>
   <x:TraceHeaderList>
    <x:Business>
     <x:StaffInfo><x:Staff>Lê Thị Hoa</x:Staff></x:StaffInfo>
     <x:BusinessDocType>1</x:BusinessDocType>
     <x:DocumentId>000.00.00.H41,2025/05/30,11/SNV-VP</x:DocumentId>
     <x:BusinessDocReason>Thu hồi</x:BusinessDocReason>
    </x:Business>
    <x:TraceHeader><x:Timestamp>2025/06/01 08:00:00</x:Timestamp><x:OrganId>000.00.00.H41</x:OrganId></x:TraceHeader>
    <x:TraceHeader><x:Timestamp>2025/06/01 08:00:01</x:Timestamp></x:TraceHeader>
   </x:TraceHeaderList>
  </x:edXMLHeader>
  <x:edXMLBody><x:edXMLManifest version="1.0">
   <x:Reference><x:AttachmentName>Công văn 12.pdf</x:AttachmentName><x:ContentType>application/pdf</x:ContentType><x:ContentId>CID:abc-1</x:ContentId></x:Reference>
  </x:edXMLManifest></x:edXMLBody>
 </x:edXMLEnvelope>
 <AttachmentEncoded xmlns="${EDXML_NS}"><Attachment><ContentType>application/zip</ContentType><ContentId> cid:abc-1 </ContentId><ContentTransferEncoded>AAAA</ContentTransferEncoded></Attachment></AttachmentEncoded>
</x:edXML>`;

  it("matches by local name in any order, any prefix, Business spelling, empty and odd values", () => {
    const { packet, signature } = readPacket(parseStrict(SHUFFLED));
    expect(signature).to.equal("none");
    expect(packet).to.deep.equal({
      kind: "edoc",
      header: {
        From: { OrganId: "000.00.00.H41", OrganName: "UBND Tỉnh Nghệ An" },
        To: [{ OrganId: "000.01.32.H41", OrganName: "Sở Nội vụ" }],
        DocumentId: "9fbfbad2-f1f8-4256-a2eb-50fb1061cddb",
        Code: { CodeNumber: "12", CodeNotation: "SNV-VP" },
        PromulgationInfo: { PromulgationDate: "2025/06/01" },
        DocumentType: { Type: 18, TypeName: "Công văn" },
        Subject: "Về việc tăng cường công tác văn thư",
        OtherInfo: { PromulgationAmount: 3 },
        ToPlaces: ["Như trên"],
      },
      bussiness: {
        BussinessDocType: 1,
        DocumentId: "000.00.00.H41,2025/05/30,11/SNV-VP",
        BussinessDocReason: "Thu hồi",
        StaffInfo: { Staff: "Lê Thị Hoa" },
      },
      traces: [
        { OrganId: "000.00.00.H41", Timestamp: "2025/06/01 08:00:00" },
        { OrganId: "", Timestamp: "2025/06/01 08:00:01" },
      ],
      // the Attachment's own values win; its missing name comes from the manifest Reference
      attachments: [{ ContentId: "abc-1", AttachmentName: "Công văn 12.pdf", ContentType: "application/zip" }],
    });
    if (packet.kind !== "edoc") return;
    // received: Type 18 and a hub-appended trace without OrganId are acceptable
    expect(validateEdoc(packet, { own: false, now: NOW })).to.deep.equal([]);
    expect(validateEdoc(packet, { own: true, now: NOW })).to.deep.equal([
      "DocumentType/Type is 18; documents we send must use 1 or 2.",
      "TraceHeader[2]/OrganId is required but missing.",
    ]);
  });

  it("reads packets with no namespace at all, Bussiness under edXMLHeader and one-digit status codes", () => {
    const edocXml = `<edXML><edXMLEnvelope><edXMLHeader>
      <Bussiness><BussinessDocType>0</BussinessDocType></Bussiness>
      <MessageHeader><From><OrganId>01.02.G22</OrganId></From><To><OrganId>000.00.00.H41</OrganId></To>
        <Code>7816/VPCP-TTĐT</Code><Subject>Không có namespace</Subject><ResponseFor><OrganId>000.00.00.H41</OrganId>
        <Code><CodeNumber>45</CodeNumber><CodeNotation>UBND-VX</CodeNotation></Code><DocumentId>abc</DocumentId></ResponseFor>
      </MessageHeader></edXMLHeader></edXMLEnvelope></edXML>`;
    const e = readPacket(parseStrict(edocXml)).packet;
    expect(e).to.deep.equal({
      kind: "edoc",
      header: {
        From: { OrganId: "01.02.G22" },
        To: [{ OrganId: "000.00.00.H41" }],
        DocumentId: "",
        Code: { CodeNumber: "7816", CodeNotation: "VPCP-TTĐT" },
        PromulgationInfo: { PromulgationDate: "" },
        DocumentType: { Type: NaN },
        Subject: "Không có namespace",
        ResponseFor: [{ OrganId: "000.00.00.H41", Code: "45/UBND-VX", DocumentId: "abc" }],
      },
      bussiness: { BussinessDocType: 0 },
      traces: [],
      attachments: [],
    });

    const statusXml = `<edXML xmlns="${EDXML_NS}"><edXMLEnvelope><edXMLHeader><MessageHeader>
      <Timestamp>2025/06/15 09:00:00</Timestamp><StatusCode> 5 </StatusCode>
      <ResponseFor><DocumentId>000.00.00.G22,2025/06/14,123/QĐ-VPCP</DocumentId><OrganId>000.00.00.G22</OrganId></ResponseFor>
      <StaffInfo><Email>a@b.vn</Email><Staff>Hoa</Staff></StaffInfo>
      <From><OrganId>000.00.00.H41</OrganId></From><Description/>
      </MessageHeader><Signature><SignatureValue>AAAA</SignatureValue></Signature></edXMLHeader></edXMLEnvelope></edXML>`;
    const { packet, signature } = readPacket(parseStrict(statusXml));
    expect(signature).to.equal("placeholder");
    expect(packet).to.deep.equal({
      kind: "status",
      header: {
        From: { OrganId: "000.00.00.H41" },
        ResponseFor: { OrganId: "000.00.00.G22", DocumentId: "000.00.00.G22,2025/06/14,123/QĐ-VPCP" },
        StaffInfo: { Staff: "Hoa", Email: "a@b.vn" },
        StatusCode: "05",
        Timestamp: "2025/06/15 09:00:00",
      },
    });
  });

  it("offers the building-block readers on their own", () => {
    const doc = parseStrict(`<r xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:q="${EDXML_NS}">
      <q:Reference xlink:href="cid:xyz-9" xlink:type="simple"><q:ContentType>application/pdf</q:ContentType>
        <q:AttachmentName>Báo cáo.pdf</q:AttachmentName><q:Description>  </q:Description></q:Reference>
      <TraceHeaderList><TraceHeader><OrganId>000.00.00.G22</OrganId><Timestamp>2025/06/15 10:00:00</Timestamp></TraceHeader>
        <Other/><TraceHeader><OrganId>001.00.20.TT2</OrganId></TraceHeader></TraceHeaderList>
      <Business><BusinessDocType>2</BusinessDocType><BusinessDocumentInfo><DocumentInfo>true</DocumentInfo>
        <ReceiverList><Receiver><ReceiverType>1</ReceiverType><OrganId>000.00.00.G17</OrganId></Receiver>
        <Receiver><OrganId>000.00.00.H14</OrganId><ReceiverType>x</ReceiverType></Receiver></ReceiverList>
        </BusinessDocumentInfo><Paper>1</Paper></Business>
      <MessageHeader><StatusCode/></MessageHeader>
    </r>`);
    const root = doc.documentElement!;
    expect(readAttachmentInfo(child(root, "Reference")!)).to.deep.equal({
      ContentId: "xyz-9",
      AttachmentName: "Báo cáo.pdf",
      ContentType: "application/pdf",
    });
    expect(readTraceHeaders(child(root, "TraceHeaderList")!)).to.deep.equal([
      { OrganId: "000.00.00.G22", Timestamp: "2025/06/15 10:00:00" },
      { OrganId: "001.00.20.TT2", Timestamp: "" },
    ]);
    expect(readBussiness(child(root, "Business")!)).to.deep.equal({
      BussinessDocType: 2,
      Paper: 1,
      BussinessDocumentInfo: {
        DocumentInfo: 1,
        DocumentReceiver: 0,
        ReceiverList: [
          { OrganId: "000.00.00.G17", ReceiverType: 1 },
          { OrganId: "000.00.00.H14", ReceiverType: NaN },
        ],
      },
    });
    const mh = child(root, "MessageHeader")!;
    expect(isStatusHeader(mh)).to.equal(true);
    expect(readStatusHeader(mh)).to.deep.equal({
      From: { OrganId: "" },
      ResponseFor: { OrganId: "", DocumentId: "" },
      StatusCode: "",
      Timestamp: "",
    });
  });

  it("produces the best model for incomplete packets, and validation says what is missing", () => {
    const xml = `<edXML xmlns="${EDXML_NS}"><edXMLEnvelope><edXMLHeader><MessageHeader><Subject>Chỉ có trích yếu</Subject>
      </MessageHeader></edXMLHeader></edXMLEnvelope></edXML>`;
    const { packet } = readPacket(parseStrict(xml));
    expect(packet).to.deep.equal({
      kind: "edoc",
      header: {
        From: { OrganId: "" },
        To: [],
        DocumentId: "",
        Code: { CodeNumber: "", CodeNotation: "" },
        PromulgationInfo: { PromulgationDate: "" },
        DocumentType: { Type: NaN },
        Subject: "Chỉ có trích yếu",
      },
      traces: [],
      attachments: [],
    });
    if (packet.kind !== "edoc") return;
    expect(validateEdoc(packet, { own: false, now: NOW })).to.deep.equal([
      "From/OrganId is required but missing.",
      "To: at least one recipient is required.",
      "DocumentId is required but missing.",
      "Code/CodeNumber is required but missing.",
      "Code/CodeNotation is required but missing.",
      "PromulgationInfo/PromulgationDate is required but missing.",
      "DocumentType/Type is required but missing or not a number.",
    ]);
  });

  it("throws only for non-edXML documents or a missing MessageHeader", () => {
    expect(() => readPacket(parseStrict("<html><body/></html>"))).to.throw(
      "not an edXML packet: the root element is <html>, expected <edXML>",
    );
    expect(() => readPacket(parseStrict(`<edXML xmlns="${EDXML_NS}"><edXMLEnvelope><edXMLHeader/></edXMLEnvelope></edXML>`))).to.throw(
      "edXML packet without a MessageHeader: edXMLEnvelope/edXMLHeader/MessageHeader is missing",
    );
    expect(() => readPacket(parseStrict(`<edXML xmlns="${EDXML_NS}"/>`))).to.throw(
      "not an edXML packet: edXML has no edXMLEnvelope element",
    );
  });
});

describe("envelopes: validation", () => {
  const check = (e: Edoc, own = true, now = NOW) => validateEdoc(e, { own, now });

  it("accepts complete packets", () => {
    for (const kind of ["new", "revoke", "update", "replace"] as const) expect(check(edoc(kind)), kind).to.deep.equal([]);
  });

  it("organ ids: strict for our own sender, lenient for recipients and received packets", () => {
    const e = edoc();
    e.header.From.OrganId = "01.02.G22";
    e.header.To[1].OrganId = "H14.CAOBANG.2025";
    expect(check(e, true)).to.deep.equal([
      'From/OrganId "01.02.G22" is not a valid organ id for our own agency: expected the form 000.00.00.G22 ' +
        "(3 digits, 2 digits, 2 digits, then a capital letter and 2 digits, separated by dots).",
    ]);
    expect(check(e, false)).to.deep.equal([]);
    e.header.To[0].OrganId = "UBND Nghệ An";
    e.header.To[1].OrganId = "0".repeat(36);
    expect(check(e, false)).to.deep.equal([
      'To[1]/OrganId "UBND Nghệ An" is not a valid organ id: expected 1 to 35 letters, digits or dots.',
      `To[2]/OrganId "${"0".repeat(36)}" is not a valid organ id: expected 1 to 35 letters, digits or dots.`,
    ]);
  });

  it("recipients: at least one, no duplicates", () => {
    const none = edoc();
    none.header.To = [];
    expect(check(none)).to.deep.equal(["To: at least one recipient is required."]);
    const dup = edoc();
    dup.header.To.push({ OrganId: "000.00.00.H41" }, { OrganId: "000.00.00.H41" });
    expect(check(dup)).to.deep.equal(["To: recipient 000.00.00.H41 is listed more than once."]);
  });

  it("dates: yyyy/MM/dd, real, not in the future in Vietnam time", () => {
    const e = edoc();
    e.header.PromulgationInfo.PromulgationDate = "2025/06/16";
    expect(check(e)).to.deep.equal([
      "PromulgationInfo/PromulgationDate 2025/06/16 is in the future (today in Vietnam is 2025/06/15).",
    ]);
    // 2025-06-14T17:30Z is already 15 June 00:30 in Vietnam
    e.header.PromulgationInfo.PromulgationDate = "2025/06/15";
    expect(check(e, true, new Date("2025-06-14T17:30:00Z"))).to.deep.equal([]);
    expect(check(e, true, new Date("2025-06-14T16:30:00Z"))).to.deep.equal([
      "PromulgationInfo/PromulgationDate 2025/06/15 is in the future (today in Vietnam is 2025/06/14).",
    ]);
    e.header.PromulgationInfo.PromulgationDate = "2025/02/29";
    e.header.DueDate = "30/06/2025";
    expect(check(e)).to.deep.equal([
      'PromulgationInfo/PromulgationDate "2025/02/29" is not a real calendar date.',
      'DueDate "30/06/2025" is not a date in the form yyyy/MM/dd.',
    ]);
    e.header.PromulgationInfo.PromulgationDate = "2024/02/29";
    e.header.DueDate = "2025/13/01";
    expect(check(e)).to.deep.equal(['DueDate "2025/13/01" is not a real calendar date.']);
  });

  it("numbers: Type, Priority, amounts", () => {
    const e = edoc();
    e.header.DocumentType.Type = 18;
    expect(check(e, true)).to.deep.equal(["DocumentType/Type is 18; documents we send must use 1 or 2."]);
    expect(check(e, false)).to.deep.equal([]);
    e.header.DocumentType.Type = 1;
    e.header.OtherInfo!.Priority = 5;
    e.header.OtherInfo!.PageAmount = -1;
    e.header.OtherInfo!.PromulgationAmount = 2.5;
    expect(check(e)).to.deep.equal([
      "OtherInfo/Priority is 5; it must be 0 (Thường), 1 (Khẩn), 2 (Thượng khẩn), 3 (Hỏa tốc) or 4 (Hỏa tốc hẹn giờ).",
      "OtherInfo/PromulgationAmount must be a whole number, got 2.5.",
      "OtherInfo/PageAmount is -1; it must be 0 or more.",
    ]);
    const s = edoc();
    (s.header.OtherInfo as Record<string, unknown>).Priority = "1";
    expect(check(s)).to.deep.equal(['OtherInfo/Priority must be a whole number, got "1".']);
  });

  it("subject: required, at most 500 characters counted as characters, not bytes", () => {
    const e = edoc();
    e.header.Subject = "";
    expect(check(e)).to.deep.equal(["Subject is required but missing."]);
    e.header.Subject = "   ";
    expect(check(e)).to.deep.equal(["Subject is required but contains only spaces."]);
    e.header.Subject = "Đ".repeat(500);
    expect(Buffer.byteLength(e.header.Subject)).to.equal(1000);
    expect(check(e)).to.deep.equal([]);
    e.header.Subject = "𝒳".repeat(500); // 1000 UTF-16 code units, 500 characters
    expect(charLength(e.header.Subject)).to.equal(500);
    expect(check(e)).to.deep.equal([]);
    e.header.Subject = "ậ".repeat(501);
    expect(check(e)).to.deep.equal(["Subject is 501 characters long; at most 500 are allowed."]);
  });

  it("lengths and formats of the other fields", () => {
    const e = edoc();
    e.header.DocumentId = "x".repeat(201);
    e.header.Code = { CodeNumber: "123456789012", CodeNotation: "Q".repeat(31) };
    e.header.PromulgationInfo.Place = "Đ".repeat(51);
    e.header.DocumentType.TypeName = "T".repeat(101);
    e.header.Content = "C".repeat(501);
    e.header.From.OrganName = "N".repeat(201);
    e.header.From.OrganAdd = "A".repeat(501);
    e.header.From.OrganizationInCharge = "I".repeat(501);
    e.header.From.Email = "vanthu(at)chinhphu.vn";
    e.header.From.Telephone = "0".repeat(21);
    e.header.From.Fax = "1".repeat(21);
    e.header.OtherInfo!.TyperNotation = "Nguyễn V.A.";
    e.header.OtherInfo!.SphereOfPromulgation = "S".repeat(101);
    e.attachments[0].AttachmentName = "ệ".repeat(501);
    expect(check(e)).to.deep.equal([
      'From/OrganizationInCharge is 501 characters long; at most 500 are allowed.',
      "From/OrganName is 201 characters long; at most 200 are allowed.",
      "From/OrganAdd is 501 characters long; at most 500 are allowed.",
      'From/Email "vanthu(at)chinhphu.vn" is not a valid e-mail address.',
      "From/Telephone is 21 characters long; at most 20 are allowed.",
      "From/Fax is 21 characters long; at most 20 are allowed.",
      "DocumentId is 201 characters long; at most 200 are allowed.",
      "Code/CodeNumber is 12 characters long; at most 11 are allowed.",
      "Code/CodeNotation is 31 characters long; at most 30 are allowed.",
      "PromulgationInfo/Place is 51 characters long; at most 50 are allowed.",
      "DocumentType/TypeName is 101 characters long; at most 100 are allowed.",
      "Content is 501 characters long; at most 500 are allowed.",
      "OtherInfo/SphereOfPromulgation is 101 characters long; at most 100 are allowed.",
      "OtherInfo/TyperNotation is 11 characters long; at most 10 are allowed.",
      "Attachment[1]/AttachmentName is 501 characters long; at most 500 are allowed.",
    ]);
  });

  it("business block rules for revoke, update and replace", () => {
    const revoke = edoc("revoke");
    delete revoke.bussiness!.DocumentId;
    expect(check(revoke)).to.deep.equal([
      "Bussiness/DocumentId is required for a revocation (BussinessDocType 1): it names the document being revoked.",
    ]);
    const update = edoc("update");
    delete update.bussiness!.DocumentId;
    delete update.bussiness!.BussinessDocumentInfo;
    expect(check(update)).to.deep.equal([
      "Bussiness/DocumentId is required for an update (BussinessDocType 2): it names the document being updated.",
      "Bussiness/BussinessDocumentInfo is required for an update (BussinessDocType 2).",
    ]);
    const receivers = edoc("update");
    (receivers.bussiness!.BussinessDocumentInfo!.ReceiverList[1] as { ReceiverType: number }).ReceiverType = 2;
    expect(check(receivers)).to.deep.equal([
      "BussinessDocumentInfo/ReceiverList/Receiver[2]/ReceiverType is 2; it must be 0 (removed from the recipients) or 1 (newly added).",
    ]);
    const replace = edoc("replace");
    replace.bussiness!.ReplacementInfoList = [];
    expect(check(replace)).to.deep.equal([
      "Bussiness/ReplacementInfoList must list at least one replaced document for a replacement (BussinessDocType 3).",
    ]);
    const odd = edoc();
    (odd.bussiness as { BussinessDocType: number }).BussinessDocType = 4;
    expect(check(odd)).to.deep.equal([
      "Bussiness/BussinessDocType is 4; it must be 0 (new), 1 (revoke), 2 (update) or 3 (replace).",
    ]);
  });

  it("attachments and characters XML cannot carry", () => {
    const e = edoc();
    e.attachments[1].ContentId = "cid:5b0c7f8e-2a0e-4a57-9a51-0f3f4b1d9c11";
    e.attachments[1].ContentType = "";
    e.header.Subject = "Chuông\u0007";
    expect(check(e, true)).to.deep.equal([
      'Attachment[2]/ContentId "5b0c7f8e-2a0e-4a57-9a51-0f3f4b1d9c11" is used by more than one attachment.',
      "Attachment[2]/ContentType is required but missing.",
      "Subject contains the character U+0007, which cannot be carried in XML.",
    ]);
  });

  it("status packets: code, reference to the document, timestamp with 5 minutes of skew", () => {
    const s = status();
    (s.header as { StatusCode: string }).StatusCode = "07";
    expect(validateStatus(s, { own: true, now: NOW })).to.deep.equal([
      'StatusCode "07" is not a known status code; use one of 01, 02, 03, 04, 05, 06, 13, 15, 16.',
    ]);
    const t = status();
    t.header.Timestamp = "2025/06/15 10:04:59";
    expect(validateStatus(t, { own: true, now: NOW })).to.deep.equal([]);
    t.header.Timestamp = "2025/06/15 10:05:01";
    expect(validateStatus(t, { own: true, now: NOW })).to.deep.equal([
      "Timestamp 2025/06/15 10:05:01 is in the future (now in Vietnam is 2025/06/15 10:00:00; up to 5 minutes of clock difference is tolerated).",
    ]);
    t.header.Timestamp = "2025-06-15T10:00:00";
    expect(validateStatus(t, { own: true, now: NOW })).to.deep.equal([
      'Timestamp "2025-06-15T10:00:00" is not a timestamp in the form yyyy/MM/dd HH:mm:ss.',
    ]);
    t.header.Timestamp = "2025/06/15 24:00:00";
    expect(validateStatus(t, { own: true, now: NOW })).to.deep.equal([
      'Timestamp "2025/06/15 24:00:00" is not a real date and time.',
    ]);
    const r = status();
    r.header.ResponseFor = { OrganId: "", DocumentId: "" };
    r.header.From.OrganId = "01.02.G22";
    expect(validateStatus(r, { own: true, now: NOW })).to.deep.equal([
      'From/OrganId "01.02.G22" is not a valid organ id for our own agency: expected the form 000.00.00.G22 ' +
        "(3 digits, 2 digits, 2 digits, then a capital letter and 2 digits, separated by dots).",
      "ResponseFor/OrganId is required but missing.",
      "ResponseFor/DocumentId is required but missing.",
    ]);
    expect(validateStatus(r, { own: false, now: NOW })).to.deep.equal([
      "ResponseFor/OrganId is required but missing.",
      "ResponseFor/DocumentId is required but missing.",
    ]);
  });

  it("assert variants throw a ValidationError carrying the list", () => {
    const e = edoc();
    e.header.Subject = "";
    e.header.OtherInfo!.Priority = 5;
    let caught: unknown;
    try {
      assertValidEdoc(e, { own: true, now: NOW });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ValidationError);
    const v = caught as ValidationError;
    expect(v.problems).to.deep.equal([
      "Subject is required but missing.",
      "OtherInfo/Priority is 5; it must be 0 (Thường), 1 (Khẩn), 2 (Thượng khẩn), 3 (Hỏa tốc) or 4 (Hỏa tốc hẹn giờ).",
    ]);
    expect(v.message).to.equal(v.problems.join("; "));
    expect(() => assertValidEdoc(edoc(), { own: true, now: NOW })).not.to.throw();
    expect(() => assertValidStatus(status(), { own: true, now: NOW })).not.to.throw();
    const s = status();
    (s.header as { StatusCode: string }).StatusCode = "99";
    expect(() => assertValidStatus(s, { own: true, now: NOW })).to.throw(
      ValidationError,
      'StatusCode "99" is not a known status code; use one of 01, 02, 03, 04, 05, 06, 13, 15, 16.',
    );
  });
});

describe("envelopes: attachment payloads", () => {
  const pdf = new Uint8Array(Buffer.from("%PDF-1.7\nQuyết định số 123\n%%EOF"));

  it("leaves plain files alone", () => {
    expect(unwrapAttachment(pdf)).to.deep.equal({ data: pdf, zipped: false });
    expect(unwrapAttachment(new Uint8Array())).to.deep.equal({ data: new Uint8Array(), zipped: false });
  });

  it("zips the VNPT way and unwraps it again", () => {
    const zipped = zipSingle("Quyết định 123.PDF", pdf);
    expect(isZip(zipped)).to.equal(true);
    const out = unwrapAttachment(zipped);
    expect(out.zipped).to.equal(true);
    expect(out.entryName).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.pdf$/);
    expect(Buffer.from(out.data).equals(Buffer.from(pdf))).to.equal(true);
    const bare = unwrapAttachment(zipSingle("README", pdf));
    expect(bare.entryName).to.match(/^[0-9a-f-]{36}$/);
  });

  it("keeps archives of several files (e.g. .docx) and damaged archives as they are", () => {
    const two = zipSync({ "a.txt": new Uint8Array([1]), "b.txt": new Uint8Array([2]) });
    expect(unwrapAttachment(two)).to.deep.equal({ data: two, zipped: false });
    const withDir = zipSync({ "thu-muc/": new Uint8Array(), "thu-muc/van-ban.pdf": pdf });
    const one = unwrapAttachment(withDir);
    expect(one.zipped).to.equal(true);
    expect(one.entryName).to.equal("thu-muc/van-ban.pdf");
    const broken = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5]);
    expect(unwrapAttachment(broken)).to.deep.equal({ data: broken, zipped: false });
    const big = zipSingle("x.bin", new Uint8Array(2048));
    expect(unwrapAttachment(big, 1024).zipped).to.equal(false);
  });
});

// ------------------------------------------------------------------------------------------------
// Protocol rules (envelopes/flow.ts)

describe("businessTargets: what a revoke / update / replace acts on", () => {
  const replacement = (ids: string[]) => ids.map((DocumentId) => ({ DocumentId, OrganIdList: ["000.00.00.G22"] }));

  it("a new document acts on nothing", () => {
    expect(businessTargets(undefined)).to.deep.equal([]);
    expect(businessTargets({ BussinessDocType: 0, DocumentId: "A" })).to.deep.equal([]);
  });

  it("revoke and update act on Bussiness/DocumentId", () => {
    expect(businessTargets({ BussinessDocType: 1, DocumentId: "A" })).to.deep.equal([{ documentId: "A", state: "revoked" }]);
    expect(businessTargets({ BussinessDocType: 2, DocumentId: "A" })).to.deep.equal([{ documentId: "A", state: "updated" }]);
    expect(businessTargets({ BussinessDocType: 1 })).to.deep.equal([]);
  });

  it("replace acts on every ReplacementInfoList id, then Bussiness/DocumentId, each once, in order", () => {
    const b: Bussiness = { BussinessDocType: 3, DocumentId: "B", ReplacementInfoList: replacement(["C", "B", "A", "C", ""]) };
    expect(businessTargets(b)).to.deep.equal(["C", "B", "A"].map((documentId) => ({ documentId, state: "replaced" })));
    expect(businessTargets({ BussinessDocType: 3, DocumentId: "D", ReplacementInfoList: replacement(["A"]) })).to.deep.equal([
      { documentId: "A", state: "replaced" },
      { documentId: "D", state: "replaced" },
    ]);
    expect(businessTargets({ BussinessDocType: 3, DocumentId: "D" })).to.deep.equal([{ documentId: "D", state: "replaced" }]);
  });
});

describe("statusProblem: the status flow between a sender and one recipient", () => {
  /** The flow by codes alone (no timestamps known). */
  const flow = (previous: string[], code: string) => statusProblem(previous.map((c) => ({ code: c })), { code });

  it("follows 01 → 03 → 04/05 → 06, 02 ends it, 15/16 answer an open 13", () => {
    expect(flow([], "01")).to.equal(null);
    expect(flow(["01"], "01")).to.match(/only the first status/);
    expect(flow(["01"], "04")).to.match(/needs the document accepted \(03\)/);
    expect(flow(["01", "03"], "04")).to.equal(null);
    expect(flow(["01", "03", "06"], "05")).to.match(/already done/);
    expect(flow(["01", "02"], "03")).to.match(/already refused/);
    expect(flow(["01"], "15")).to.match(/none is open/);
    expect(flow(["01", "13"], "15")).to.equal(null);
    expect(flow(["01", "13", "15"], "03")).to.match(/taken back/);
    expect(flow([], "99")).to.match(/unknown status code/);
  });

  it("by the signed timestamps: no party goes back in time, and a take-back exchange alternates", () => {
    // Vietnam time, as signed, to the second
    const at = (hms: string) => parseVnTimestamp(`2026/12/01 ${hms}`)!.toISOString();
    const s = (code: string, hms: string) => ({ code, timestamp: at(hms) });
    const accepted = [s("01", "09:00:00"), s("03", "09:10:00"), s("04", "09:20:00"), s("05", "09:30:00")];
    // an older 04 after 05 would move the state back
    expect(statusProblem(accepted, s("04", "09:25:00"))).to.match(/^04 \(.*\), signed 2026\/12\/01 09:25:00, is older than 05 \(signed 2026\/12\/01 09:30:00\), which it would follow$/);
    expect(statusProblem(accepted, s("04", "09:30:00")), "the same second counts as later").to.equal(null);
    expect(statusProblem(accepted, s("06", "09:31:00"))).to.equal(null);
    // the sender's own clock: its 13 is compared with its earlier 13, not with the recipient's 05
    const asked = [...accepted, s("13", "09:35:00")];
    expect(statusProblem(asked, s("16", "09:32:00"))).to.match(/^16 \(.*\), signed 2026\/12\/01 09:32:00, is older than the open take-back request 13 \(signed 2026\/12\/01 09:35:00\), so it does not answer it$/);
    expect(statusProblem(asked, s("16", "09:36:00"))).to.equal(null);
    expect(statusProblem(asked, s("15", "09:35:00")), "answered in the same second").to.equal(null);
    // refused (16), then asked again: an answer older than the second request does not answer it
    const again = [...asked, s("16", "09:40:00"), s("13", "09:50:00")];
    expect(statusProblem(again, s("16", "09:45:00"))).to.match(/older than the open take-back request 13 \(signed 2026\/12\/01 09:50:00\)/);
    expect(statusProblem(again, s("16", "09:51:00"))).to.equal(null);
    // each 13 is answered once
    expect(statusProblem([...again, s("16", "09:51:00")], s("16", "09:52:00"))).to.match(/none is open/);
    // a 13 older than the answer to the one before
    expect(statusProblem([...asked, s("16", "09:40:00")], s("13", "09:38:00"))).to.match(/older than 16 \(signed 2026\/12\/01 09:40:00\), the answer to the previous take-back request/);
    expect(statusProblem([...asked, s("16", "09:40:00")], s("13", "09:34:00"))).to.match(/older than 13 \(signed 2026\/12\/01 09:35:00\), which it would follow/);
    // rows from before timestamps were kept are not compared; the code order still holds
    expect(statusProblem([{ code: "01" }, { code: "03" }, { code: "05", timestamp: null }], s("04", "08:00:00"))).to.equal(null);
    expect(statusProblem([s("01", "09:00:00")], s("04", "10:00:00"))).to.match(/needs the document accepted \(03\)/);
  });

  it("says who sends each code", () => {
    expect(SENDER_CODES).to.deep.equal(["13"]);
    expect(RECIPIENT_CODES).to.include.members(["01", "02", "03", "04", "05", "06", "15", "16"]);
    expect(statusSender("13")).to.equal("sender");
    expect(statusSender("03")).to.equal("recipient");
    expect(statusSender("99")).to.equal(null);
  });
});
