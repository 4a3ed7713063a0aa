// A clerk's and an archivist's day in a real browser (Debian's Chromium through playwright-core),
// across two nodes with their own databases and delivery workers: node A hosts the sender G22,
// node B the recipient H41. Documents are sent with the use case (the compose page is another
// helper's); everything after is done on the pages, found by accessible role and name: Văn bản
// đến (unread marks, filters, số đến), a document's page (signed content, Hợp lệ, attachments,
// timeline, status buttons, evidence bundle, the printable report), Văn bản đi (each recipient's
// state, Gửi lại, Lấy lại), the books and their CSV. axe-core runs on every page.
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import type { BrowserContext, Page } from "playwright-core";
import { createUser, sendDocument, tokenCaller, verifyUpload, type Caller } from "../app/index.ts";
import { findDocument, getDocument, listAudit, listDeliveries, type DocumentRow } from "../storage/index.ts";
import { RECIPIENT, SENDER, scratch } from "../fixtures/index.ts";
import { browserSuite } from "./helpers/browser.ts";
import { exchangingNodes, testIdentity, type TestNode } from "./helpers/node.ts";
import { waitFor } from "./helpers/wait.ts";

const PASSWORD = "mật khẩu thật dài 2026";
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>"'&`;
// a file name keeps what follows its last "/" or "\\" only
const XSS_FILE = `<img src=x onerror="window.__xss=1">"'&.pdf`;
const THIRD = "000.00.00.K01"; // registered at A, hosted nowhere: its deliveries fail
const DELIVERY = { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200, leaseMs: 5000, pollMs: 20, timeoutMs: 3000 };
const admin = (organId: string): Caller => ({ organId, role: "admin", name: "test", actor: "cli:test" });
const apiClerk = (organId: string): Caller => tokenCaller({ id: 0, organId, role: "clerk", name: "Văn thư" });

describe("a clerk's pages in a browser, across two nodes (Chromium)", function () {
  this.timeout(90_000);
  const s = scratch();
  const ui = browserSuite();
  let a: TestNode; // sender G22
  let b: TestNode; // recipient H41
  let context: BrowserContext;
  let page: Page;
  let n = 0;
  /** Sent by A: the XSS attempt in every free-text field, past its DueDate; then a plain one. */
  let first: DocumentRow;
  let second: DocumentRow;

  before(async () => {
    [a, b] = await exchangingNodes(s.path, DELIVERY);
    await a.register([{ organId: THIRD, name: "Sở Tư pháp (thử)", endpoint: "http://127.0.0.1:9", certificates: [testIdentity(THIRD).certificate] }]);
    await createUser(a.node, admin(SENDER), { organId: SENDER, role: "clerk", username: "a.thu", fullName: "Nguyễn Văn Gửi", password: PASSWORD });
    await createUser(b.node, admin(RECIPIENT), { organId: RECIPIENT, role: "clerk", username: "b.thu", fullName: "Trần Thị Nhận", password: PASSWORD });
    await createUser(b.node, admin(RECIPIENT), { organId: RECIPIENT, role: "archivist", username: "b.luu", fullName: "Lê Thị Lưu", password: PASSWORD });

    first = await send({ Subject: `Công văn ${XSS}`, Content: `Nội dung ${XSS}`, DueDate: "2020/01/15", SignerInfo: { Position: "Chánh Văn phòng", FullName: `Người ký ${XSS}` } }, [
      [XSS_FILE, "%PDF-1.4 phụ lục\n"],
      ["Tờ trình.pdf", "%PDF-1.4 tờ trình\n"],
    ]);
    await arrived(first); // (deliveries run in parallel: the order of arrival is made here)
    second = await send({ Subject: "Quyết định ban hành Quy chế văn thư", DocumentType: { Type: 1, TypeName: "Quyết định" } }, []);
    await arrived(second);
  });

  beforeEach(() => {
    ({ context, page } = ui);
    page.on("dialog", (d) => void d.dismiss());
  });
  after(async () => {
    await a?.close();
    await b?.close();
    s.cleanup();
  });

  async function send(meta: Record<string, unknown>, files: Array<[string, string]>, to: string[] = [RECIPIENT]): Promise<DocumentRow> {
    const number = String(++n);
    const uploads = files.map(([name, text], i) => {
      const path = s.path(`upload-${number}-${i}.pdf`);
      writeFileSync(path, text);
      return { path, name, contentType: "application/pdf" };
    });
    return sendDocument(a.node, apiClerk(SENDER), { To: to, Code: `${number}/CV-VPCP`, Subject: `Công văn số ${number}`, DocumentType: { Type: 2, TypeName: "Công văn" }, ...meta }, uploads);
  }
  const arrived = (doc: DocumentRow) =>
    waitFor(`${doc.documentId} at B`, () => findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: SENDER, documentId: doc.documentId }));

  const accessible = (what: string) => ui.accessible(what);

  async function signIn(node: TestNode, username: string) {
    await page.goto(node.url);
    await page.getByLabel("Tên đăng nhập", { exact: true }).fill(username);
    await page.getByLabel("Mật khẩu", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Đăng nhập", exact: true }).click();
    await page.waitForURL(`${node.url}/`);
  }
  const nav = (name: string) => page.getByRole("navigation").getByRole("link", { name, exact: true });
  const rows = () => page.locator("table.list tbody tr");
  const main = () => page.locator("main");
  const openInbox = async () => {
    await nav("Văn bản đến").click();
    await page.waitForURL(/\/inbox/);
  };
  const button = (name: string) => page.getByRole("button", { name, exact: true });
  const incoming = async (doc: DocumentRow) => (await arrived(doc)).id;

  it("Văn bản đến: newest first, unread marked, filters by state, sender, kind, date and overdue; the XSS attempt is text", async () => {
    await signIn(b, "b.thu");
    await openInbox();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).to.equal("Văn bản đến");
    expect(await rows().count()).to.equal(2);
    expect(await rows().nth(0).getByRole("link").textContent()).to.equal("Quyết định ban hành Quy chế văn thư");
    expect(await rows().nth(1).getByRole("link").textContent()).to.equal(`Công văn ${XSS}`);
    expect(await page.locator("tr.unread").count()).to.equal(2);
    expect(await rows().nth(0).textContent()).to.include("Chưa đọc").and.include("Đã đến").and.include("Văn phòng Chính phủ (000.00.00.G22)");
    expect(await rows().nth(1).textContent(), "past its DueDate").to.include("15/01/2020").and.include("Quá hạn");
    expect(await page.locator("main img").count()).to.equal(0);
    await accessible("inbox");

    await page.getByLabel("Chỉ văn bản quá hạn xử lý", { exact: true }).check();
    await button("Lọc").click();
    await page.waitForURL(/overdue=true/);
    expect(await rows().count()).to.equal(1);
    expect(await rows().nth(0).getByRole("link").textContent()).to.equal(`Công văn ${XSS}`);
    await page.getByLabel("Chỉ văn bản quá hạn xử lý", { exact: true }).uncheck();
    await page.getByLabel("Loại văn bản", { exact: true }).fill("quyet dinh");
    await button("Lọc").click();
    await page.waitForURL(/type=quyet/);
    expect(await rows().count()).to.equal(1);
    expect(await rows().nth(0).getByRole("link").textContent()).to.equal("Quyết định ban hành Quy chế văn thư");
    await page.getByLabel("Loại văn bản", { exact: true }).fill("");
    await page.getByLabel("Trạng thái", { exact: true }).selectOption({ label: "Hoàn thành" });
    await button("Lọc").click();
    await page.waitForURL(/status=06/);
    expect(await page.getByText("Không có văn bản nào.", { exact: true }).count()).to.equal(1);
    await page.goto(`${b.url}/inbox?sender=000.00.00.X99`);
    expect(await rows().count(), "another sender").to.equal(0);
    await page.goto(`${b.url}/inbox?sender=${SENDER}&from=2020-01-01`);
    expect(await rows().count()).to.equal(2);
    const tomorrow = new Date(Date.now() + 31 * 3_600_000).toISOString().slice(0, 10);
    await page.goto(`${b.url}/inbox?from=${tomorrow}`);
    expect(await rows().count(), "nothing came after today").to.equal(0);
    const bad = await page.goto(`${b.url}/inbox?from=hôm-qua`);
    expect(bad!.status()).to.equal(400);
    expect(await page.getByRole("alert").textContent()).to.match(/[ạ-ỹđ]/);
    await accessible("inbox with a refused filter");
  });

  it("a document's page: signed content, Hợp lệ, attachments, timeline; Đã tiếp nhận enters it in the book (số đến 1, then 2), Hoàn thành follows", async () => {
    await signIn(b, "b.thu");
    await openInbox();
    await page.getByRole("link", { name: `Công văn ${XSS}`, exact: true }).click();
    await page.waitForURL(/\/documents\//);
    const text = (await main().textContent())!;
    expect(text).to.include("Nội dung đã ký").and.include(`Công văn ${XSS}`).and.include(`Nội dung ${XSS}`).and.include(`Người ký ${XSS}`);
    expect(text).to.include("Văn phòng Chính phủ (000.00.00.G22)").and.include("UBND tỉnh Nghệ An (000.00.00.H41)").and.include(`${n - 1}/CV-VPCP`);
    expect(await page.getByText("Hợp lệ", { exact: true }).count()).to.equal(1);
    expect(await page.getByText("Không hợp lệ", { exact: true }).count()).to.equal(0);
    expect(await page.locator("main img").count()).to.equal(0);
    // attachments: links with their file names, downloaded byte-exact
    const attachment = page.getByRole("link", { name: "Tờ trình.pdf", exact: true });
    const [download] = await Promise.all([page.waitForEvent("download"), attachment.click()]);
    expect(download.suggestedFilename()).to.equal("Tờ trình.pdf");
    expect(readFileSync((await download.path())!, "utf8")).to.equal("%PDF-1.4 tờ trình\n");
    expect(await page.getByRole("link", { name: XSS_FILE, exact: true }).count()).to.equal(1);
    // the timeline: arrival, then our receipt 01
    const timeline = page.locator("ol.timeline li");
    expect(await timeline.count()).to.equal(2);
    expect(await timeline.nth(1).textContent()).to.include("Đã đến").and.include("Cơ quan mình");
    // the buttons of the transitions allowed from 01
    for (const name of ["Đã tiếp nhận", "Từ chối tiếp nhận"]) expect(await button(name).count(), name).to.equal(1);
    expect(await button("Hoàn thành").count(), "not before 03").to.equal(0);
    await accessible("a received document's page");

    await button("Đã tiếp nhận").click();
    await page.waitForURL(/done=03/);
    expect(await page.getByRole("status").textContent()).to.include("số đến 1");
    const year = new Date(Date.now() + 7 * 3_600_000).getUTCFullYear();
    expect(await main().textContent()).to.include(`Số đến1/${year}`);
    expect(await button("Đã tiếp nhận").count(), "accepted once").to.equal(0);
    expect(await button("Từ chối tiếp nhận").count()).to.equal(0);
    for (const name of ["Phân công", "Đang xử lý", "Hoàn thành"]) expect(await button(name).count(), name).to.equal(1);
    expect(await page.locator("ol.timeline li").nth(2).textContent()).to.include("Đã tiếp nhận");
    await accessible("an accepted document's page");

    // the second one gets the next number; the list shows both, and neither is unread any more
    await page.goto(`${b.url}/documents/${await incoming(second)}`);
    await button("Đã tiếp nhận").click();
    await page.waitForURL(/done=03/);
    expect(await page.getByRole("status").textContent()).to.include("số đến 2");
    await button("Hoàn thành").click();
    await page.waitForURL(/done=06/);
    expect(await button("Hoàn thành").count()).to.equal(0);
    await openInbox();
    expect(await page.locator("tr.unread").count()).to.equal(0);
    expect(await rows().nth(0).locator("td").first().textContent()).to.equal(`2/${year}`);
    expect(await rows().nth(1).locator("td").first().textContent()).to.equal(`1/${year}`);
    expect(await rows().nth(0).textContent()).to.include("Hoàn thành");
    // the sender sees the statuses come back
    await waitFor("06 at A", async () => (await getDocument(a.node.storage.db, second.id)) && (await listDeliveries(a.node.storage.db, second.id, "edoc"))[0].statusCode === "06");
    const audit = await listAudit(b.node.storage.db, { limit: 50 });
    expect(audit.filter((e) => e.action === "status.03").map((e) => e.detail.incomingNumber)).to.have.members([1, 2]);
  });

  it("Văn bản đi: each recipient's state, Gửi lại for a failed one; Lấy lại with a reason reaches the recipient, whose clerk may agree", async () => {
    const failing = await send({ Subject: "Gửi đến nơi không có ai" }, [], [RECIPIENT, THIRD]);
    await arrived(failing);
    await waitFor("a failed delivery", async () => (await listDeliveries(a.node.storage.db, failing.id, "edoc")).find((d) => d.organId === THIRD)?.state === "failed", 20_000);
    await signIn(a, "a.thu");
    await nav("Văn bản đi").click();
    await page.waitForURL(/\/outbox/);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).to.equal("Văn bản đi");
    expect(await rows().nth(0).textContent()).to.include(`${RECIPIENT}: Đã đến`).and.include(`${THIRD}: Gửi không thành công`);
    expect(await rows().nth(1).textContent(), "the recipient's statuses after the receipt").to.include(`${RECIPIENT}: Đã đến · Hoàn thành`);
    await accessible("outbox");

    await page.getByRole("link", { name: "Gửi đến nơi không có ai", exact: true }).click();
    await page.waitForURL(/\/documents\//);
    const deliveries = page.getByRole("table", { name: "Tình trạng gửi đến từng nơi nhận" });
    const third = deliveries.getByRole("row").filter({ hasText: THIRD });
    expect(await third.textContent()).to.include("Sở Tư pháp (thử)").and.include("Gửi không thành công").and.include(`gave up after ${DELIVERY.maxAttempts} attempts`);
    expect(await third.locator("td").nth(2).textContent(), "attempts").to.equal(String(DELIVERY.maxAttempts));
    expect(await deliveries.getByRole("row").filter({ hasText: RECIPIENT }).textContent()).to.include("Đã đến");
    expect(await button("Gửi lại").count(), "only the failed one").to.equal(1);
    await accessible("a sent document's page");
    await button("Gửi lại").click();
    await page.waitForURL(/done=resend/);
    expect(await third.textContent()).to.match(/Chờ gửi|Đang gửi|Gửi không thành công/);
    expect((await listAudit(a.node.storage.db, { limit: 20 })).some((e) => e.action === "resend" && e.document === failing.id)).to.equal(true);

    // take the first document back, with a reason; the XSS attempt in it stays text at both ends
    await page.goto(`${a.url}/documents/${first.id}`);
    expect(await button("Đã tiếp nhận").count(), "no recipient's buttons on a sent document").to.equal(0);
    await page.getByLabel("Lý do lấy lại", { exact: true }).fill(`Sai sót ${XSS}`);
    await button("Lấy lại").click();
    await page.waitForURL(/done=13/);
    expect(await button("Lấy lại").count(), "one open request at a time").to.equal(0);
    expect(await page.locator("ol.timeline").textContent()).to.include("Lấy lại").and.include(`Sai sót ${XSS}`);
    expect(await page.locator("main img").count()).to.equal(0);

    const atB = await incoming(first);
    await waitFor("13 at B", async () => (await b.node.storage.db("statuses").where({ document: atB, code: "13" }).first()) ?? null);
    await context.clearCookies();
    await signIn(b, "b.thu");
    await page.goto(`${b.url}/documents/${atB}`);
    expect(await page.locator("ol.timeline li").last().textContent()).to.include("Lấy lại").and.include("Cơ quan bên kia").and.include(`Sai sót ${XSS}`);
    for (const name of ["Đồng ý lấy lại", "Từ chối lấy lại"]) expect(await button(name).count(), name).to.equal(1);
    await button("Đồng ý lấy lại").click();
    await page.waitForURL(/done=15/);
    expect(await button("Đồng ý lấy lại").count()).to.equal(0);
    await accessible("a document taken back");
  });

  it("Tải hồ sơ chứng cứ downloads an evidence bundle that verifies; the printed report is one page", async () => {
    await signIn(b, "b.luu");
    await openInbox();
    await page.getByRole("link", { name: "Quyết định ban hành Quy chế văn thư", exact: true }).click();
    await page.waitForURL(/\/documents\//);
    expect(await page.getByRole("button").filter({ hasNotText: "Đăng xuất" }).count(), "an archivist sees no status buttons").to.equal(0);
    await accessible("a document's page for an archivist");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Tải hồ sơ chứng cứ", exact: true }).click()]);
    expect(download.suggestedFilename()).to.match(/^evidence-.*\.zip$/);
    const report = await verifyUpload(b.node, (await download.path())!);
    expect(report.valid, JSON.stringify(report.errors)).to.equal(true);
    expect((await listAudit(b.node.storage.db, { limit: 20 })).some((e) => e.action === "evidence.export")).to.equal(true);

    await page.getByRole("link", { name: "In biên bản kiểm tra", exact: true }).click();
    await page.waitForURL(/\/report$/);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).to.equal("Biên bản kiểm tra chữ ký số");
    expect(await main().textContent()).to.include("Hợp lệ").and.include("UBND tỉnh Nghệ An").and.include("Người kiểm tra");
    await accessible("the verification report");
    const pdf = await page.pdf({ format: "A4" });
    const pages = pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) ?? [];
    expect(pages.length, "one printed page").to.equal(1);
  });

  it("the books: sổ văn bản đến by số đến, sổ văn bản đi by Số/Ký hiệu, per year, printable and as CSV", async () => {
    await signIn(b, "b.luu");
    await openInbox();
    await page.getByRole("link", { name: "Sổ văn bản đến", exact: true }).click();
    await page.waitForURL(/\/books\?book=in/);
    const year = new Date(Date.now() + 7 * 3_600_000).getUTCFullYear();
    const book = page.getByRole("table", { name: `Sổ văn bản đến năm ${year}` });
    expect(await book.locator("tbody tr").count()).to.equal(2);
    expect(await book.locator("tbody tr").nth(0).locator("td").first().textContent()).to.equal("1");
    expect(await book.locator("tbody tr").nth(1).textContent()).to.include("Quyết định ban hành Quy chế văn thư");
    expect(await button("In sổ").count()).to.equal(1);
    await accessible("the incoming book");
    const csv = await page.request.get(`${b.url}/books.csv?book=in&year=${year}`);
    expect(csv.headers()["content-type"]).to.match(/^text\/csv/);
    const lines = (await csv.text()).replace(/^\ufeff/, "").trim().split("\r\n");
    expect(lines[0]).to.match(/^"Số đến","Ngày vào sổ","Nơi gửi"/);
    expect(lines).to.have.length(3);
    expect(lines[1]).to.match(/^"1",/);
    expect(lines[2]).to.match(/^"2",/).and.include("Quyết định ban hành Quy chế văn thư");
    await page.goto(`${b.url}/books?book=in&year=${year - 1}`);
    expect(await page.getByText("Sổ chưa có văn bản nào trong năm này.", { exact: true }).count()).to.equal(1);

    await context.clearCookies();
    await signIn(a, "a.thu");
    await page.goto(`${a.url}/books?book=out`);
    const out = page.getByRole("table", { name: `Sổ văn bản đi năm ${year}` });
    expect(await out.locator("tbody tr").count()).to.equal(3);
    expect(await out.locator("tbody tr").nth(0).locator("td").first().textContent()).to.equal("1/CV-VPCP");
    await accessible("the outgoing book");
    const outCsv = await (await page.request.get(`${a.url}/books.csv?book=out&year=${year}`)).text();
    expect(outCsv).to.include('"1/CV-VPCP"').and.include('"2/CV-VPCP"');
    expect((await page.request.get(`${a.url}/books.csv?book=sideways`)).status()).to.equal(400);
  });

  it("in English with the link English: the lists, the page and its buttons", async () => {
    const doc = await send({ Subject: "Giấy mời họp" }, []);
    const atB = await incoming(doc);
    await signIn(b, "b.thu");
    await page.getByRole("link", { name: "English", exact: true }).click();
    await page.waitForLoadState();
    await nav("Inbox").click();
    await page.waitForURL(/\/inbox/);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).to.equal("Inbox");
    expect(await page.locator("table.list thead").textContent()).to.include("Subject").and.include("Incoming no.");
    await accessible("inbox in English");
    await page.goto(`${b.url}/documents/${atB}`);
    expect(await page.getByText("Valid", { exact: true }).count()).to.equal(1);
    expect(await button("Accepted").count()).to.equal(1);
    expect(await button("Refused").count()).to.equal(1);
    await accessible("a document's page in English");
    await page.getByRole("link", { name: "Tiếng Việt", exact: true }).click();
    await page.waitForLoadState();
    expect(await button("Đã tiếp nhận").count()).to.equal(1);
  });

  it("reaches a document and its buttons with the keyboard", async () => {
    await signIn(b, "b.thu");
    await openInbox();
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press("Tab");
      found = (await focused()) === "Giấy mời họp";
    }
    expect(found, "the subject link by Tab").to.equal(true);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/documents\//);
    const reached = new Set<string>();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      reached.add(await focused());
    }
    expect([...reached]).to.include.members(["Tải hồ sơ chứng cứ", "In biên bản kiểm tra", "Đã tiếp nhận", "Từ chối tiếp nhận"]);
  });

  it("refuses a status form without its token, and a document of another agency is not found", async () => {
    await signIn(b, "b.thu");
    const atB = await incoming(second);
    const forged = await page.request.post(`${b.url}/documents/${atB}/status`, { form: { code: "05" }, maxRedirects: 0 });
    expect(forged.status()).to.equal(403);
    const other = await page.goto(`${b.url}/documents/${first.id}`); // A's record id
    expect(other!.status()).to.equal(404);
    await context.clearCookies();
    await signIn(b, "b.luu");
    await page.goto(`${b.url}/documents/${atB}`);
    const csrf = await page.locator('input[name="csrf"]').first().getAttribute("value");
    const archivist = await page.request.post(`${b.url}/documents/${atB}/status`, { form: { csrf: csrf!, code: "05" }, maxRedirects: 0 });
    expect(archivist.status(), "an archivist may not set a status").to.equal(403);
  });
});
