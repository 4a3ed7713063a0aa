// Soạn văn bản, Tra cứu and Chỉ số in a real browser (Debian's Chromium, playwright-core) across
// two real nodes with their delivery workers: A hosts the sender G22, B the recipient H41. A clerk
// of A composes with two attachments (the upload's progress shown), the document arrives at B;
// a double click and a resent form send once; the use case's problems show beside their fields
// in Vietnamese; the search finds without diacritics and exports CSV; the indicators count the
// exchange. Free text with markup stays text; axe-core finds nothing serious on any page.
import { expect } from "chai";
import type { BrowserContext, Page } from "playwright-core";
import { createUser, setStatus, tokenCaller, type Caller } from "../app/index.ts";
import { RECIPIENT, SENDER, scratch } from "../fixtures/index.ts";
import { browserSuite, fillSignIn } from "./helpers/browser.ts";
import { exchangingNodes, type TestNode } from "./helpers/node.ts";
import { waitFor } from "./helpers/wait.ts";

const PASSWORD = "mật khẩu thật dài 2026";
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>"'&`;
const DELIVERY = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000, leaseMs: 5000, pollMs: 20, timeoutMs: 5000 };
const SUB_AGENCY = "000.01.00.H41"; // a unit under B's agency, in A's registry: grouped under its parent
const BIG = Buffer.alloc(6 * 1024 * 1024, "Nội dung tệp lớn. "); // large enough for several progress events
const SMALL = Buffer.from("%PDF-1.4 phụ lục\n");
const admin = (organId: string): Caller => ({ organId, role: "admin", name: "test", actor: "cli:test" });


describe("Soạn văn bản, Tra cứu, Chỉ số in a browser across two nodes", function () {
  this.timeout(90_000);
  const s = scratch();
  const ui = browserSuite();
  let a: TestNode;
  let b: TestNode;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    [a, b] = await exchangingNodes(s.path, DELIVERY);
    await a.register([{ organId: SUB_AGENCY, name: "Sở Tư pháp tỉnh Nghệ An", endpoint: "http://127.0.0.1:9", parentId: RECIPIENT }]);
    for (const [node, organId, username, role] of [
      [a, SENDER, "van.thu", "clerk"],
      [a, SENDER, "luu.tru", "archivist"],
      [a, SENDER, "quan.tri", "admin"],
      [b, RECIPIENT, "van.thu.b", "clerk"],
    ] as const) {
      await createUser(node.node, admin(organId), { organId, role, username, fullName: role === "clerk" ? XSS : "Trần Thị Lưu", password: PASSWORD });
    }
  });

  beforeEach(() => {
    ({ context, page } = ui);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    s.cleanup();
  });

  const accessible = (what: string) => ui.accessible(what);

  async function signIn(node: TestNode, username: string) {
    await fillSignIn(page, node.url, username, PASSWORD);
    await page.waitForURL(`${node.url}/`);
  }

  const label = (name: string) => page.getByLabel(name, { exact: true });

  async function fillCompose(o: { number?: string; notation: string; kind?: string; subject: string; due?: string; files?: Array<{ name: string; buffer: Buffer }> }) {
    await label("Nơi nhận").selectOption("UBND tỉnh Nghệ An");
    if (o.number) await label("Số").fill(o.number);
    await label("Ký hiệu").fill(o.notation);
    await label("Loại văn bản").selectOption(o.kind ?? "Công văn");
    await label("Trích yếu").fill(o.subject);
    await label("Nội dung").fill(`Nội dung ${XSS}`);
    await label("Họ và tên").fill(`Nguyễn Văn Ký ${XSS}`);
    if (o.due) await label("Hạn xử lý").fill(o.due);
    await label("Tệp đính kèm").setInputFiles((o.files ?? [{ name: "Công văn.pdf", buffer: Buffer.from("%PDF-1.4 công văn\n") }]).map((f) => ({ ...f, mimeType: "application/pdf" })));
  }

  const countOut = async (subject: string) => Number((await a.node.storage.db("documents").where({ direction: "out", subject }).count({ n: "*" }))[0].n);
  const dayOffset = (days: number) => new Date(Date.now() + 7 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);

  it("composes with two attachments, shows the upload's progress, and the document arrives with each recipient's state", async () => {
    await signIn(a, "van.thu");
    await page.getByRole("link", { name: "Soạn văn bản", exact: true }).click();
    await page.waitForURL(/\/compose$/);
    expect(await label("Số").inputValue(), "the next number of the year's outgoing book").to.equal("01");
    const groups = await page.locator("#to optgroup").evaluateAll((gs) => gs.map((g) => [g.getAttribute("label"), [...g.querySelectorAll("option")].map((o) => o.value)]));
    expect(groups, "grouped by parent, the parent first").to.deep.include(["UBND tỉnh Nghệ An (000.00.00.H41)", [RECIPIENT, SUB_AGENCY]]);
    // found by organ id without diacritics mattering, the others hidden
    await page.getByRole("searchbox", { name: "Tìm cơ quan theo tên hoặc mã định danh" }).fill("so tu phap");
    expect(await page.locator("#to option:not([hidden])").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).to.deep.equal([SUB_AGENCY]);
    await page.getByRole("searchbox", { name: "Tìm cơ quan theo tên hoặc mã định danh" }).fill("");
    await accessible("compose page");

    const subject = `Công văn triển khai phần mềm quản lý văn bản ${XSS}`;
    await fillCompose({
      notation: "VPCP-TTĐT",
      subject,
      due: dayOffset(10),
      files: [
        { name: "Kế hoạch triển khai.pdf", buffer: BIG },
        { name: "Phụ lục.pdf", buffer: SMALL },
      ],
    });
    // the progress bar's values and words as the upload goes (reported out of the page, which then navigates)
    const seen: string[] = [];
    await page.exposeFunction("__seen", (v: string) => seen.push(v));
    await page.evaluate(() => {
      const bar = document.querySelector("progress")!;
      const words = document.querySelector("[data-upload-text]")!;
      const report = (globalThis as unknown as { __seen(v: string): void }).__seen;
      new MutationObserver(() => report(`${bar.value}|${words.textContent}`)).observe(bar.closest("[data-upload]")!, { attributes: true, childList: true, subtree: true, characterData: true });
    });
    const posted = page.waitForRequest((r) => r.url().endsWith("/compose") && r.method() === "POST");
    await page.getByRole("button", { name: "Gửi", exact: true }).click();
    expect((await posted).headers()["x-edoc-upload"], "compose.js sent the form").to.equal("1");
    await page.waitForURL(/\/documents\/[0-9a-f-]{36}$/);
    expect(seen.some((v) => v.includes("Đang tải lên:")), `progress shown: ${seen.join(", ")}`).to.equal(true);
    expect(seen.some((v) => v.startsWith("100|")), "the upload reached 100").to.equal(true);

    expect(await page.locator("dd.code").textContent()).to.equal("01/VPCP-TTĐT");
    expect(await page.getByText(subject, { exact: true }).count(), "the subject as text").to.equal(1);
    expect(await page.locator("main img").count()).to.equal(0);
    const row = page.getByRole("row", { name: /UBND tỉnh Nghệ An/ });
    expect(await row.textContent()).to.match(/Chờ gửi|Đang gửi|Đã đến/);
    await row.getByText("Đã đến", { exact: true }).waitFor({ timeout: 20_000 }); // htmx polls the states
    await accessible("sent document");

    const arrived = await waitFor("the document at B", () => b.node.storage.db("documents").where({ direction: "in", subject }).first());
    const files = await b.node.storage.db("attachments").where({ document: arrived.id }).orderBy("n");
    expect(files.map((f: { name: string; size: number | string }) => [f.name, Number(f.size)])).to.deep.equal([
      ["Kế hoạch triển khai.pdf", BIG.length],
      ["Phụ lục.pdf", SMALL.length],
    ]);
    const header = JSON.parse(arrived.header_json).header;
    expect(header.DocumentType).to.deep.equal({ Type: 2, TypeName: "Công văn" });
    expect(header.SignerInfo.FullName).to.equal(`Nguyễn Văn Ký ${XSS}`);
    expect(header.DueDate).to.equal(dayOffset(10).replace(/-/g, "/"));
  });

  it("sends once on a double click, and a form sent again finds the document it sent", async () => {
    await signIn(a, "van.thu");
    await page.goto(`${a.url}/compose`);
    const subject = "Giấy mời họp giao ban tháng 12";
    await fillCompose({ notation: "GM-VPCP", kind: "Giấy mời", subject, due: dayOffset(-2) });
    const key = await page.locator("input[name=key]").inputValue();
    const csrf = await page.locator("#compose input[name=csrf]").inputValue();
    await page.getByRole("button", { name: "Gửi", exact: true }).dblclick();
    await page.waitForURL(/\/documents\/[0-9a-f-]{36}$/);
    const sentTo = new URL(page.url()).pathname;
    expect(await countOut(subject)).to.equal(1);

    // a reload of the POST or a retry after a lost answer: the same form, twice, at once
    const form = {
      csrf,
      key,
      to: RECIPIENT,
      number: "02",
      notation: "GM-VPCP",
      kind: "Giấy mời",
      subject,
      priority: "0",
      files: { name: "Giấy mời.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4 giấy mời\n") },
    };
    const again = await Promise.all([1, 2].map(() => page.request.post(`${a.url}/compose`, { multipart: form, maxRedirects: 0 })));
    expect(again.map((r) => [r.status(), r.headers().location])).to.deep.equal([
      [303, sentTo],
      [303, sentTo],
    ]);
    expect(await countOut(subject), "still one document").to.equal(1);
  });

  it("shows the use case's problems beside their fields, in Vietnamese, and keeps what was typed", async () => {
    await signIn(a, "van.thu");
    await page.goto(`${a.url}/compose`);
    await label("Số").fill("");
    await label("Trích yếu").fill("");
    await label("Nội dung").fill("x".repeat(501));
    await label("Họ và tên").fill(XSS);
    await page.getByRole("button", { name: "Gửi", exact: true }).click();
    await page.locator("#subject-error").getByText("Thiếu “Trích yếu” (trường bắt buộc).", { exact: true }).waitFor();
    const error = async (field: string) => (await page.locator(`#${field}-error`).textContent())!.trim();
    expect(await error("to")).to.equal("“Nơi nhận”: cần có ít nhất một nơi nhận.");
    expect(await error("number")).to.equal("Thiếu “Số” (trường bắt buộc).");
    expect(await error("notation")).to.equal("Thiếu “Ký hiệu” (trường bắt buộc).");
    expect(await error("content")).to.equal("“Nội dung” dài 501 ký tự; chỉ được tối đa 500 ký tự.");
    expect(await error("files")).to.equal("“Tệp đính kèm”: văn bản phải có ít nhất một tệp đính kèm");
    expect(await label("Trích yếu").getAttribute("aria-invalid")).to.equal("true");
    expect(await label("Họ và tên").inputValue(), "the form keeps what was typed").to.equal(XSS);
    expect(new URL(page.url()).pathname).to.equal("/compose");
    await accessible("compose page with problems");

    // without the script, the form posts as it is and comes back with the same problems
    await page.route("**/assets/compose.js", (r) => r.fulfill({ status: 200, contentType: "text/javascript", body: "" }));
    await page.goto(`${a.url}/compose`);
    await label("Ký hiệu").fill("VP");
    await page.getByRole("button", { name: "Gửi", exact: true }).click();
    await page.waitForLoadState();
    expect(await error("subject")).to.equal("Thiếu “Trích yếu” (trường bắt buộc).");
    expect(await label("Ký hiệu").inputValue()).to.equal("VP");
    expect(await label("Số").inputValue(), "the suggestion stays").to.equal("03");
  });

  it("Tra cứu: finds without diacritics and by the beginning of a word, pages, and exports CSV in UTF-8 with a BOM", async () => {
    await signIn(a, "luu.tru");
    await page.getByRole("link", { name: "Tra cứu", exact: true }).click();
    await page.waitForURL(/\/search$/);
    await accessible("search page");
    const box = page.getByRole("searchbox", { name: "Từ khóa", exact: true });
    await box.fill("cong van trien kh");
    await box.press("Enter");
    await page.waitForURL(/q=cong/);
    const results = page.getByRole("table");
    await results.getByRole("link", { name: /^Công văn triển khai phần mềm/ }).waitFor();
    expect(await results.getByRole("row").count(), "a header and one document").to.equal(2);
    expect(await results.textContent()).to.include("01/VPCP-TTĐT").and.include("UBND tỉnh Nghệ An (000.00.00.H41)");
    expect(await page.locator("main img").count()).to.equal(0);
    await accessible("search results");

    // a filter: the sent documents of a kind
    await page.goto(`${a.url}/search?direction=out&type=giay%20moi`);
    expect(await page.getByRole("table").getByRole("link").allTextContents()).to.deep.equal(["Giấy mời họp giao ban tháng 12"]);
    await page.goto(`${a.url}/search?from=2026-13-01`);
    expect(await page.getByRole("alert").textContent()).to.include("from: phải là ngày dạng");

    const answer = await page.request.get(`${a.url}/search.csv?q=cong%20van%20trien`);
    expect(answer.headers()["content-type"]).to.equal("text/csv; charset=utf-8");
    expect(answer.headers()["content-disposition"]).to.match(/^attachment; filename="tra-cuu-/);
    const bytes = await answer.body();
    expect([...bytes.subarray(0, 3)], "UTF-8 byte order mark").to.deep.equal([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString("utf8").slice(1).split("\r\n");
    expect(lines[0]).to.equal("Số/ký hiệu,Trích yếu,Loại văn bản,Nhận/gửi,Nơi gửi / nơi nhận,Ngày ban hành,Ngày vào hệ thống,Trạng thái");
    expect(lines[1]).to.match(/^01\/VPCP-TTĐT,"Công văn triển khai phần mềm quản lý văn bản <img src=x onerror=""window.__xss=1""><script>window.__xss=1<\/script>""'&",Công văn,Gửi,UBND tỉnh Nghệ An \(000\.00\.00\.H41\),\d\d\/\d\d\/\d{4},\d\d\/\d\d\/\d{4},Đã đến$/);
  });

  it("Chỉ số: counts the exchange, with an SVG chart and its table, the on-time rate, the overdue list and CSV", async () => {
    // B accepts and completes the first document; the second (due two days ago) stays open: overdue
    const clerkB = tokenCaller({ id: 0, organId: RECIPIENT, role: "clerk", name: "Văn thư B" });
    const first = await waitFor("the first document at B", () => b.node.storage.db("documents").where({ direction: "in", code: "01/VPCP-TTĐT" }).first());
    await waitFor("the second document at B", () => b.node.storage.db("documents").where({ direction: "in", code: "02/GM-VPCP" }).first());
    await setStatus(b.node, clerkB, first.id, { code: "03" });
    await new Promise((r) => setTimeout(r, 1100)); // statuses are signed to the second
    await setStatus(b.node, clerkB, first.id, { code: "06" });
    await waitFor("06 back at A", async () => (await a.node.storage.db("statuses").where({ code: "06", direction: "received" }).first()) ?? null);

    await signIn(b, "van.thu.b");
    await page.getByRole("link", { name: "Chỉ số", exact: true }).click();
    await page.waitForURL(/\/indicators$/);
    const summary = async () => Object.fromEntries(await page.locator("[data-summary] dt").evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling!.textContent])));
    const atB = await summary();
    expect(atB["Văn bản đã nhận"]).to.equal("2");
    expect(atB["Văn bản đã gửi"]).to.equal("0");
    expect(atB["Tỉ lệ giải quyết đúng hạn"]).to.equal("50% · 1 đúng hạn, 1 trễ hạn (văn bản đến có hạn xử lý)");
    expect(atB["Thời gian tiếp nhận văn bản đến (đến 03, trung vị)"]).to.match(/^\d+(,\d)? giờ$/);
    const overdue = page.getByRole("region", { name: "Văn bản đến quá hạn xử lý" });
    expect(await overdue.getByRole("link").allTextContents()).to.deep.equal(["Giấy mời họp giao ban tháng 12"]);
    const chart = page.getByRole("img", { name: "Văn bản gửi và nhận theo tháng" });
    expect(await chart.locator("desc").textContent()).to.include("Số liệu có trong bảng ngay dưới");
    expect(await page.getByRole("table", { name: "Văn bản gửi và nhận theo tháng" }).getByRole("row").last().textContent()).to.match(/\d\d\/\d{4}02$/);
    await accessible("indicators");
    await overdue.getByRole("link").click();
    await page.waitForURL(/\/documents\/[0-9a-f-]{36}$/);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).to.equal("Chi tiết văn bản");
    expect(await page.locator("main").textContent()).to.include("Văn phòng Chính phủ (000.00.00.G22)");

    await context.clearCookies();
    await signIn(a, "van.thu");
    await page.goto(`${a.url}/indicators`);
    const atA = await summary();
    expect(atA["Văn bản đã gửi"]).to.equal("2");
    expect(atA["Gửi thành công đến nơi nhận"]).to.equal("100% · 2/2 lượt gửi (không thành công: 0; đang chờ: 0)");
    expect(atA["Thời gian nơi nhận giải quyết văn bản đi (đến 06, trung vị)"]).to.match(/^\d+(,\d)? giờ$/);

    const answer = await page.request.get(`${a.url}/indicators.csv`);
    const text = (await answer.body()).toString("utf8");
    expect(text.startsWith("\uFEFFKhoảng thời gian,")).to.equal(true);
    expect(text).to.include("\r\nVăn bản đã gửi,2\r\n").and.include("\r\nUBND tỉnh Nghệ An (000.00.00.H41),2,0\r\n");

    // not for an administrator (the overdue list names documents); a period the wrong way round is said
    await page.goto(`${a.url}/indicators?from=2026-12-31&to=2026-01-01`);
    expect(await page.getByRole("alert").textContent()).to.include("muộn hơn");
    await context.clearCookies();
    await signIn(a, "quan.tri");
    expect(await page.getByRole("link", { name: "Chỉ số", exact: true }).count()).to.equal(0);
    expect((await page.goto(`${a.url}/indicators`))!.status()).to.equal(403);
  });

  it("reaches every control by keyboard, and speaks English after the English link", async () => {
    await signIn(a, "van.thu");
    await page.goto(`${a.url}/compose`);
    const focused = () => page.evaluate(() => `${document.activeElement?.tagName.toLowerCase()}:${document.activeElement?.id || document.activeElement?.textContent?.trim()}`);
    const reached = new Set<string>();
    await page.locator("body").focus();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      reached.add(await focused());
    }
    for (const c of ["input:find-recipient", "select:to", "input:number", "input:notation", "select:kind", "textarea:subject", "textarea:content", "input:dueDate", "select:priority", "input:files", "button:Gửi"]) {
      expect([...reached], c).to.include(c);
    }
    await page.goto(`${a.url}/indicators`);
    reached.clear();
    await page.locator("body").focus();
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press("Tab");
      reached.add(await focused());
    }
    expect([...reached]).to.include.members(["input:from", "input:to", "button:Xem"]);
    await page.goto(`${a.url}/search?q=giay`);
    reached.clear();
    await page.locator("body").focus();
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      reached.add(await focused());
    }
    expect([...reached]).to.include.members(["input:q", "select:f-direction", "input:f-from", "button:Tìm", "a:Tải kết quả về (CSV)", "a:Giấy mời họp giao ban tháng 12"]);

    await page.goto(`${a.url}/compose`);
    await page.getByRole("link", { name: "English", exact: true }).click();
    await page.waitForURL(/\/compose$/);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).to.equal("Compose");
    expect(await page.getByLabel("Recipients", { exact: true }).count()).to.equal(1);
    expect(await page.getByRole("button", { name: "Send", exact: true }).count()).to.equal(1);
    await accessible("compose page in English");
    await page.goto(`${a.url}/search?q=giay`);
    expect(await page.getByRole("searchbox", { name: "Keywords", exact: true }).inputValue()).to.equal("giay");
    await page.getByRole("link", { name: "Tiếng Việt", exact: true }).click();
    await page.waitForLoadState();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).to.equal("Tra cứu");
  });
});
