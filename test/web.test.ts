// The web pages in a real browser: Debian's Chromium driven by playwright-core (no browser
// download), against a real node on SQLite. The pages are found the way the UI contract's checks
// find them, by accessible role and label. axe-core runs inside every page (no serious or critical
// violation) and no page may trip the Content-Security-Policy. Without /usr/bin/chromium the suite
// is skipped with a printed reason, except under CI, where it fails.
import { expect } from "chai";
import type { BrowserContext, Page } from "playwright-core";
import { createUser, type Caller } from "../app/index.ts";
import { getUserByUsername, listAudit } from "../storage/index.ts";
import { RECIPIENT, SENDER, pack, sampleEdoc, scratch, testPki } from "../fixtures/index.ts";
import { createApp } from "../server/app.ts";
import { browserSuite } from "./helpers/browser.ts";
import { startNode, type TestNode } from "./helpers/node.ts";

const PASSWORD = "mật khẩu thật dài 2026";
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>"'&`;
// signed a second ago (the test certificates are fresh); shown in Vietnam's time, UTC+7
const SIGNED_AT = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
const vn = new Date(SIGNED_AT.getTime() + 7 * 3_600_000);
const two = (n: number) => String(n).padStart(2, "0");
const SIGNED_AT_SHOWN = `${two(vn.getUTCHours())}:${two(vn.getUTCMinutes())}:${two(vn.getUTCSeconds())} ${two(vn.getUTCDate())}/${two(vn.getUTCMonth() + 1)}/${vn.getUTCFullYear()} (GMT+7)`;
const CLI: Caller = { organId: RECIPIENT, role: "admin", name: "test", actor: "cli:test" };

describe("web pages in a browser (Chromium)", function () {
  this.timeout(60_000);
  const s = scratch();
  const web = browserSuite();
  let node: TestNode;
  let context: BrowserContext;
  let page: Page;
  let validPacket: Buffer;
  let tamperedPacket: Buffer;

  before(async () => {
    // this node hosts the recipient; its registry binds the sender's certificate, so packets signed by the sender verify
    const pki = testPki();
    node = await startNode({
      database: { dataDir: s.path("data") },
      organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }],
      registry: [{ organId: SENDER, name: "Văn phòng Chính phủ", endpoint: "http://127.0.0.1:9", certificates: [pki.sender.certificate] }],
    });
    const users: Array<[string, "clerk" | "archivist" | "admin", string]> = [
      ["van.thu", "clerk", XSS],
      ["luu.tru", "archivist", "Trần Thị Lưu"],
      ["quan.tri", "admin", "Lê Văn Quản"],
      ["bi.khoa", "clerk", "Phạm Văn Khóa"],
      ["ngon.ngu", "archivist", "Đỗ Thị Ngữ"],
    ];
    for (const [username, role, fullName] of users) await createUser(node.node, CLI, { organId: RECIPIENT, role, username, fullName, password: PASSWORD });
    validPacket = await pack(sampleEdoc({}, ["Tờ trình.pdf"]), [Buffer.from("%PDF-1.4 tờ trình\n")], pki.sender, SIGNED_AT);
    tamperedPacket = Buffer.from(validPacket.toString("utf8").replace(/<edXML:Subject>([^<]*)<\/edXML:Subject>/, "<edXML:Subject>Giả mạo</edXML:Subject>"), "utf8");
    expect(tamperedPacket.equals(validPacket)).to.equal(false);
  });
  beforeEach(() => {
    ({ context, page } = web);
  });
  after(async () => {
    await node?.close();
    s.cleanup();
  });

  const accessible = (what: string) => web.accessible(what);
  const signIn = (username: string, password = PASSWORD) => web.signIn(node.url, username, password);

  const navLinks = async () => (await page.getByRole("navigation").getByRole("link").allTextContents()).map((t) => t.trim());

  it("sends a visitor to the sign-in page; a wrong password says neither field was the wrong one; the right one signs in; Đăng xuất signs out", async () => {
    await page.goto(node.url);
    expect(new URL(page.url()).pathname).to.equal("/sign-in");
    expect(await page.getAttribute("html", "lang")).to.equal("vi");
    await accessible("sign-in page");
    await signIn("van.thu", "mật khẩu sai hoàn toàn");
    const alert = page.getByRole("alert");
    expect((await alert.textContent())?.trim()).to.equal("Tên đăng nhập hoặc mật khẩu không đúng.");
    await signIn("không.có.ai");
    expect((await alert.textContent())?.trim(), "the same message for an unknown user").to.equal("Tên đăng nhập hoặc mật khẩu không đúng.");
    await accessible("sign-in page with its message");

    await signIn("van.thu");
    expect(new URL(page.url()).pathname).to.equal("/");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).to.equal("Trang chính");
    const cookie = (await context.cookies()).find((c) => c.name === "edoc_session")!;
    expect(cookie).to.include({ httpOnly: true, sameSite: "Lax", secure: false }); // http here; Secure when EDOC_PUBLIC_URL is https
    await accessible("home page");

    await page.getByRole("button", { name: "Đăng xuất", exact: true }).click();
    await page.waitForURL(/\/sign-in$/);
    await page.goto(`${node.url}/verify`);
    expect(new URL(page.url()).pathname, "signed out: the verify page sends back to sign-in").to.equal("/sign-in");
    const actions = (await listAudit(node.node.storage.db, { limit: 50 })).map((e) => e.action);
    expect(actions).to.include.members(["session.sign-in-failed", "session.sign-in", "session.sign-out"]);
  });

  it("shows each role the navigation it may use, and refuses the others' pages", async () => {
    const expected: Record<string, string[]> = {
      "van.thu": ["Văn bản đến", "Văn bản đi", "Soạn văn bản", "Tra cứu", "Chỉ số", "Kiểm tra chữ ký"],
      "luu.tru": ["Văn bản đến", "Văn bản đi", "Tra cứu", "Chỉ số", "Kiểm tra chữ ký"],
      "quan.tri": ["Kiểm tra chữ ký", "Quản trị"],
    };
    for (const [username, links] of Object.entries(expected)) {
      await context.clearCookies();
      await signIn(username);
      expect(await navLinks(), username).to.deep.equal(links);
    }
    // the archivist cannot compose; the admin reaches Quản trị
    await context.clearCookies();
    await signIn("luu.tru");
    const refused = await page.goto(`${node.url}/compose`);
    expect(refused!.status()).to.equal(403);
    await context.clearCookies();
    await signIn("quan.tri");
    await page.getByRole("link", { name: "Quản trị", exact: true }).click();
    await page.waitForURL(/\/admin$/);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).to.equal("Quản trị");
    expect(await page.getByRole("link", { name: "Quản trị", exact: true }).getAttribute("aria-current")).to.equal("page");
    await accessible("the Quản trị page");
  });

  it("refuses a POST without the form's token (403), and one with another session's token", async () => {
    await signIn("luu.tru");
    const noToken = await page.request.post(`${node.url}/sign-out`, { form: {}, maxRedirects: 0 });
    expect(noToken.status()).to.equal(403);
    const wrongToken = await page.request.post(`${node.url}/sign-out`, { form: { csrf: "A".repeat(43) }, maxRedirects: 0 });
    expect(wrongToken.status()).to.equal(403);
    const upload = await page.request.post(`${node.url}/verify`, { multipart: { file: { name: "a.edxml", mimeType: "application/xml", buffer: validPacket } }, maxRedirects: 0 });
    expect(upload.status()).to.equal(403);
    expect(await upload.text()).to.include("Yêu cầu bị từ chối");
    const signInForm = await page.request.post(`${node.url}/sign-in`, { form: { username: "luu.tru", password: PASSWORD }, maxRedirects: 0 });
    expect(signInForm.status(), "the sign-in form has its token too").to.equal(403);
    await page.goto(`${node.url}/`);
    expect(await page.getByRole("heading", { level: 1 }).textContent(), "still signed in").to.equal("Trang chính");
  });

  it("says so when a session has ended elsewhere, and Đăng xuất on a stale page still signs out", async () => {
    await signIn("luu.tru");
    await page.goto(`${node.url}/verify`);
    await node.node.storage.db("sessions").delete(); // timed out, or signed out in another tab
    await page.getByRole("button", { name: "Đăng xuất", exact: true }).click();
    await page.waitForURL(/\/sign-in$/);
    await signIn("luu.tru");
    await node.node.storage.db("sessions").delete();
    await page.getByRole("link", { name: "Kiểm tra chữ ký", exact: true }).click();
    await page.waitForURL(/\/sign-in\?ended=1$/);
    expect(await page.getByRole("status").textContent()).to.equal("Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.");
    await accessible("sign-in page after a session ended");
  });

  it("makes a user name wait after 5 wrong passwords, even with the right one, and audits it", async () => {
    for (let i = 0; i < 5; i++) {
      await signIn("bi.khoa", `sai lần thứ ${i} rồi`);
      expect((await page.getByRole("alert").textContent())?.trim()).to.equal("Tên đăng nhập hoặc mật khẩu không đúng.");
    }
    const answer = page.waitForResponse((r) => r.url().endsWith("/sign-in") && r.request().method() === "POST");
    await signIn("bi.khoa");
    expect((await answer).status()).to.equal(429);
    expect(await page.getByRole("alert").textContent()).to.match(/^Đăng nhập sai quá nhiều lần\. Vui lòng thử lại sau 1[45] phút\.$/);
    expect(new URL(page.url()).pathname).to.equal("/sign-in");
    const audit = await listAudit(node.node.storage.db, { limit: 100 });
    expect(audit.filter((e) => e.action === "session.sign-in-failed" && e.detail.username === "bi.khoa")).to.have.length(5);
    expect(audit.some((e) => e.action === "session.throttled" && e.detail.username === "bi.khoa")).to.equal(true);
  });

  it("switches to English with the link English and back with Tiếng Việt, remembered for the user", async () => {
    await signIn("ngon.ngu");
    await page.getByRole("link", { name: "English", exact: true }).click();
    await page.waitForLoadState();
    expect(await page.getAttribute("html", "lang")).to.equal("en");
    expect(await navLinks()).to.deep.equal(["Inbox", "Sent documents", "Search", "Indicators", "Verify a signature"]);
    expect((await getUserByUsername(node.node.storage.db, "ngon.ngu"))!.language).to.equal("en");
    await accessible("home page in English");

    // another browser: the user's choice comes with the session
    const other = await web.browser.newContext();
    try {
      const p = await other.newPage();
      await p.goto(node.url);
      await p.getByLabel("Tên đăng nhập", { exact: true }).fill("ngon.ngu");
      await p.getByLabel("Mật khẩu", { exact: true }).fill(PASSWORD);
      await p.getByRole("button", { name: "Đăng nhập", exact: true }).click();
      await p.waitForURL(`${node.url}/`);
      expect(await p.getAttribute("html", "lang")).to.equal("en");
      expect(await p.getByRole("heading", { level: 1 }).textContent()).to.equal("Home");
    } finally {
      await other.close();
    }

    await page.getByRole("link", { name: "Tiếng Việt", exact: true }).click();
    await page.waitForLoadState();
    expect(await page.getAttribute("html", "lang")).to.equal("vi");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).to.equal("Trang chính");
    expect((await getUserByUsername(node.node.storage.db, "ngon.ngu"))!.language).to.equal("vi");
    // a link without its token changes nothing
    const forged = await page.goto(`${node.url}/language?to=en&back=/`);
    expect(forged!.status()).to.equal(403);
    expect((await getUserByUsername(node.node.storage.db, "ngon.ngu"))!.language).to.equal("vi");
  });

  it("renders a stored XSS attempt in a user's full name as inert text", async () => {
    await signIn("van.thu");
    expect(await page.locator(".who .name").textContent()).to.equal(XSS);
    expect(await page.getByText("Xin chào,", { exact: false }).textContent()).to.equal(`Xin chào, ${XSS}.`);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).to.equal(undefined);
    expect(await page.locator("img").count()).to.equal(0);
  });

  it("Kiểm tra chữ ký: Hợp lệ for a valid packet with its signer, signing time and what is covered; Không hợp lệ with the reason for a tampered one", async () => {
    await signIn("luu.tru");
    await page.getByRole("link", { name: "Kiểm tra chữ ký", exact: true }).click();
    await page.waitForURL(/\/verify$/);
    await accessible("verify page");

    await page.getByLabel("Tệp cần kiểm tra", { exact: true }).setInputFiles({ name: "123-QĐ-VPCP.edxml", mimeType: "application/xml", buffer: validPacket });
    const posted = page.waitForRequest((r) => r.url().endsWith("/verify") && r.method() === "POST");
    await page.getByRole("button", { name: "Kiểm tra", exact: true }).click();
    expect((await posted).headers()["hx-request"], "htmx sent the form and swaps only the result").to.equal("true");
    const result = page.locator("#result");
    await result.getByText("Hợp lệ", { exact: true }).waitFor();
    expect(await result.getByText("Không hợp lệ", { exact: true }).count()).to.equal(0);
    const text = (await result.textContent())!;
    expect(text).to.include(SENDER).and.include("Phần đầu văn bản").and.include("Tệp đính kèm 1: Tờ trình.pdf: khớp").and.include("Thông tin nghiệp vụ: văn bản mới: khớp");
    expect(text, "the signing time, in Vietnam's time").to.include(`Thời điểm ký${SIGNED_AT_SHOWN}`);
    expect(text).to.include(`${testPki().sender.certificate.subject.match(/CN=([^\n]+)/)![1]}`);
    expect(new URL(page.url()).pathname).to.equal("/verify");
    await accessible("verify page with a valid report");

    // the tampered packet, dropped on the field
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], "giả-mạo.edxml", { type: "application/xml" }));
      document.querySelector("[data-drop]")!.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, tamperedPacket.toString("base64"));
    await result.getByText("Không hợp lệ", { exact: true }).waitFor();
    expect(await result.getByText("Hợp lệ", { exact: true }).count()).to.equal(0);
    const bad = (await result.textContent())!;
    expect(bad).to.include("Nội dung đã bị thay đổi sau khi ký.").and.include("không khớp (đã bị thay đổi sau khi ký)");
    const details = await result.getByRole("list", { name: "Chi tiết" }).textContent();
    expect(details, "the report's errors in Vietnamese only").to.match(/[ạ-ỹđ]/).and.not.match(/\bdoes not\b|\bdigest\b/);
    await accessible("verify page with a failed report");
    expect((await page.request.get(`${node.url}/verify`)).headers()["content-security-policy"]).to.include("script-src 'self'").and.not.include("unsafe");
  });

  it("reaches the main controls with the keyboard: sign in, navigate, verify", async () => {
    await page.goto(`${node.url}/sign-in`);
    const focused = () => page.evaluate(() => {
      const e = document.activeElement as HTMLElement | null;
      return e ? `${e.tagName.toLowerCase()}:${e.getAttribute("id") ?? e.textContent?.trim()}` : "";
    });
    const seen: string[] = [];
    await page.locator("body").focus();
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Tab");
      seen.push(await focused());
    }
    expect(seen).to.include.members(["input:username", "input:password", "button:Đăng nhập", "a:English"]);
    await page.getByLabel("Tên đăng nhập", { exact: true }).focus();
    await page.keyboard.type("luu.tru");
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${node.url}/`);

    const reached = new Set<string>();
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press("Tab");
      reached.add(await focused());
    }
    for (const name of ["Văn bản đến", "Văn bản đi", "Tra cứu", "Kiểm tra chữ ký", "Đăng xuất", "English"]) {
      expect([...reached].some((r) => r.endsWith(`:${name}`)), `${name} by Tab`).to.equal(true);
    }
    await page.getByRole("navigation").getByRole("link", { name: "Kiểm tra chữ ký", exact: true }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/verify$/);
    const onVerify = new Set<string>();
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press("Tab");
      onVerify.add(await focused());
    }
    expect([...onVerify]).to.include.members(["input:file", "button:Kiểm tra"]);
  });
});

describe("web pages over HTTP (no browser)", () => {
  const s = scratch();
  let node: TestNode;
  before(async () => {
    node = await startNode({
      database: { dataDir: s.path("data") },
      organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }],
      // the node as it would be behind https: its cookies are Secure
      app: (n) => {
        n.config.publicUrl = "https://edoc.nghean.example";
        return createApp(n);
      },
    });
    await createUser(node.node, CLI, { organId: RECIPIENT, role: "clerk", username: "van.thu", fullName: "Nguyễn Thị Thư", password: PASSWORD });
  });
  after(async () => {
    await node?.close();
    s.cleanup();
  });

  it("sets Secure, HttpOnly, SameSite=Lax session cookies when the public URL is https, and a strict CSP", async () => {
    const form = await fetch(`${node.url}/sign-in`);
    expect(form.headers.get("content-security-policy")).to.include("default-src 'none'").and.include("script-src 'self'").and.include("frame-ancestors 'none'");
    const visitor = form.headers.get("set-cookie")!;
    expect(visitor).to.match(/^edoc_visitor=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
    const signedIn = await fetch(`${node.url}/sign-in`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: visitor.split(";")[0], "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, username: "van.thu", password: PASSWORD }),
    });
    expect(signedIn.status).to.equal(303);
    expect(signedIn.headers.get("set-cookie")).to.match(/^edoc_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  });

  it("leaves the API's answers as they were: JSON 404 for an unknown path, 401 without a token", async () => {
    const unknown = await fetch(`${node.url}/no/such/page`);
    expect(unknown.status).to.equal(404);
    expect(await unknown.json()).to.deep.equal({ error: "no such endpoint: GET /no/such/page" });
    expect(unknown.headers.get("content-security-policy")).to.equal(null);
    expect((await fetch(`${node.url}/api/v1/documents`)).status).to.equal(401);
    const home = await fetch(`${node.url}/`, { redirect: "manual" });
    expect(home.status).to.equal(303);
    expect(home.headers.get("location")).to.equal("/sign-in");
  });
});
