// The use cases behind Soạn văn bản and Chỉ số, on SQLite and PostgreSQL: the recipients grouped
// by parent in Vietnamese order, the next số of the year, a form sent twice at once (or again
// later) sending one document, a number already used refused, and the indicators of a period.
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { agencyIndicators, recipientChoices, sendComposed, suggestOutgoingNumber, tokenCaller, AppError, type UploadedFile } from "../app/index.ts";
import { SENDER, scratch } from "../fixtures/index.ts";
import { csv } from "../server/csv.ts";
import { onEachDatabase } from "./helpers/db.ts";
import { startNode, type TestNode } from "./helpers/node.ts";

const PARENT = "000.00.00.H41";
const clerk = tokenCaller({ id: 0, organId: SENDER, role: "clerk", name: "Văn thư" });
const archivist = tokenCaller({ id: 0, organId: SENDER, role: "archivist", name: "Lưu trữ" });

onEachDatabase("compose and indicators use cases", (database) => {
  describe("one node hosting G22", () => {
    let a: TestNode;
    const files = scratch();
    let n = 0;
    const file = (): UploadedFile => {
      const path = files.path(`${++n}.pdf`);
      writeFileSync(path, `%PDF-1.4 tệp ${n}\n`);
      return { path, name: `Tệp ${n}.pdf`, contentType: "application/pdf" };
    };
    const form = (o: Record<string, unknown> = {}) => ({ key: `form-key-${"x".repeat(16)}-${++n}`, to: PARENT, number: "", notation: "VPCP-TH", kind: "Công văn", subject: `Công văn số ${n}`, ...o });

    before(async () => {
      a = await startNode({ database: database(), organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }] });
      await a.register([
        { organId: PARENT, name: "Ủy ban nhân dân tỉnh Nghệ An", endpoint: "http://127.0.0.1:9" },
        { organId: "000.02.00.H41", name: "Sở Tư pháp", endpoint: "http://127.0.0.1:9", parentId: PARENT },
        { organId: "000.01.00.H41", name: "Sở Công thương", endpoint: "http://127.0.0.1:9", parentId: PARENT },
        { organId: "000.00.00.G15", name: "Bộ Tư pháp", endpoint: "http://127.0.0.1:9" },
        { organId: "000.00.00.G28", name: "Đài Truyền hình Việt Nam", endpoint: "http://127.0.0.1:9" },
        { organId: "000.00.00.G99", name: "Cơ quan đã giải thể", endpoint: "http://127.0.0.1:9", status: "inactive" },
      ]);
    });
    after(async () => {
      await a?.close();
      files.cleanup();
    });

    it("offers the active agencies but the clerk's own, grouped under their parent, in Vietnamese order", async () => {
      const groups = await recipientChoices(a.node, clerk);
      expect(groups.map((g) => [g.parent?.organId ?? null, g.agencies.map((x) => x.name)])).to.deep.equal([
        [PARENT, ["Ủy ban nhân dân tỉnh Nghệ An", "Sở Công thương", "Sở Tư pháp"]],
        [null, ["Bộ Tư pháp", "Đài Truyền hình Việt Nam"]],
      ]);
      const refused = await recipientChoices(a.node, archivist).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(AppError).with.property("kind", "forbidden");
    });

    it("suggests the next số of the year, and sends a form once however often it comes", async () => {
      expect(await suggestOutgoingNumber(a.node, clerk)).to.equal("01");
      const once = form({ number: "07" });
      // a double click: the same form twice at the same time
      const [first, second] = await Promise.all([sendComposed(a.node, clerk, once, [file()]), sendComposed(a.node, clerk, once, [file()])]);
      expect(second.id).to.equal(first.id);
      // a reload later, even with other words: the document the form sent
      expect((await sendComposed(a.node, clerk, { ...once, subject: "khác" }, [file()])).id).to.equal(first.id);
      expect(Number((await a.node.storage.db("documents").count({ n: "*" }))[0].n)).to.equal(1);
      expect(first.header.OtherInfo?.Priority).to.equal(0);
      expect(await suggestOutgoingNumber(a.node, clerk)).to.equal("08");

      // another form with the same số and ký hiệu: refused, nothing stored
      const taken = await sendComposed(a.node, clerk, form({ number: "07" }), [file()]).catch((e: unknown) => e);
      expect(taken).to.be.instanceOf(AppError).with.property("kind", "conflict");
      // next year's book starts again
      const now = a.node.now;
      a.node.now = () => new Date(now().getTime() + 366 * 86_400_000);
      try {
        expect(await suggestOutgoingNumber(a.node, clerk)).to.equal("01");
      } finally {
        a.node.now = now;
      }
    });

    it("names every problem of a form at once, by edXML path", async () => {
      const err = (await sendComposed(a.node, clerk, form({ to: [], number: "", notation: "", kind: "Thư tay", subject: " ", priority: "9" }), []).catch((e: unknown) => e)) as AppError;
      expect(err).to.be.instanceOf(AppError).with.property("kind", "invalid");
      expect(err.details).to.deep.equal(["OtherInfo/Priority: choose one of the list"]);
      const all = (await sendComposed(a.node, clerk, form({ to: [], number: "", notation: "", kind: "Thư tay", subject: " " }), []).catch((e: unknown) => e)) as AppError;
      expect(all.details).to.deep.equal([
        "DocumentType/TypeName: choose a kind of document from the list",
        "Attachments: a document must carry at least one file",
        "To: at least one recipient is required.",
        "Code/CodeNumber is required but missing.",
        "Code/CodeNotation is required but missing.",
        "Subject is required but missing.",
      ]);
      const noKey = (await sendComposed(a.node, clerk, { ...form(), key: undefined }, [file()]).catch((e: unknown) => e)) as AppError;
      expect(noKey.details).to.deep.equal(["the form has no key: reload the page and send it again"]);
    });

    it("counts the period's documents and deliveries for clerks and archivists", async () => {
      await sendComposed(a.node, clerk, form({ number: "08", to: [PARENT, "000.02.00.H41"] }), [file()]);
      const x = await agencyIndicators(a.node, archivist, {});
      expect(x).to.deep.include({ sent: 2, received: 0, deliveries: { total: 3, delivered: 0, pending: 3, failed: 0 }, overdue: [] });
      expect(x.onTime).to.deep.equal({ onTime: 0, late: 0, rate: null });
      expect(x.months.at(-1)).to.deep.include({ sent: 2, received: 0 });
      expect(x.agencies).to.deep.equal([
        { organId: PARENT, sent: 2, received: 0 },
        { organId: "000.02.00.H41", sent: 1, received: 0 },
      ]);
      const before = await agencyIndicators(a.node, clerk, { from: "2000-01-01", to: "2000-12-31" });
      expect([before.sent, before.months.length]).to.deep.equal([0, 12]);
      const wrong = (await agencyIndicators(a.node, clerk, { from: "31/12/2026", to: "2026-01-01" }).catch((e: unknown) => e)) as AppError;
      expect(wrong.details).to.deep.equal(["from (31/12/2026) is after to (2026-01-01)"]);
      const admin = await agencyIndicators(a.node, tokenCaller({ id: 0, organId: SENDER, role: "admin", name: "Quản trị" }), {}).catch((e: unknown) => e);
      expect(admin).to.be.instanceOf(AppError).with.property("kind", "forbidden");
    });
  });
});

describe("CSV downloads", () => {
  it("are UTF-8 with a BOM, quoted where needed, and never start a cell like a formula", () => {
    const text = csv([
      ["Số/ký hiệu", "Trích yếu"],
      ["=HYPERLINK(\"http://x\")", "a, b"],
      ["+1", 'nói "không"\nhai dòng'],
      [3, "-2"],
    ]);
    expect(text).to.equal('\uFEFFSố/ký hiệu,Trích yếu\r\n"\'=HYPERLINK(""http://x"")","a, b"\r\n\'+1,"nói ""không""\nhai dòng"\r\n3,\'-2\r\n');
  });
});
