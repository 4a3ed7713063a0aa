// Quản trị in a real browser (Debian's Chromium through playwright-core), against two real nodes on
// SQLite: A hosts G22 (its first agency: A's node administrators), two more agencies whose
// certificates expire in 5 and 20 days, and Z77, whose admin is not a node administrator; B hosts
// H41. Every page renders with no serious or critical axe-core violation and nothing refused by
// the Content-Security-Policy; each action works end to end through the same use cases as the API
// and the CLI; the other roles are refused; a POST without its token changes nothing.
import { expect } from "chai";
import type { BrowserContext, Page } from "playwright-core";
import { createUser, sendDocument, startDeliveryWorker, tokenCaller, type Caller } from "../app/index.ts";
import { RECIPIENT, SENDER, scratch, testPki } from "../fixtures/index.ts";
import { fingerprint, identityToP12 } from "../signing/index.ts";
import { createCrl, crlToPem, issueCertificate } from "../signing/testing.ts";
import { addLocalAgency, audit, getUserByUsername, listAudit, listDeliveries, saveSyncNext, saveSyncRun } from "../storage/index.ts";
import { browserSuite } from "./helpers/browser.ts";
import { link, startNode, type TestNode } from "./helpers/node.ts";

const PASSWORD = "mật khẩu quản trị 2026";
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>"'&`;
const OTHER = "000.00.00.Z77";
const SOON = "000.00.00.Z05"; // its certificate expires in 5 days
const LATER = "000.00.00.Z20"; // in 20 days
const CLI: Caller = { organId: SENDER, role: "admin", name: "test", actor: "cli:test" };
const DELIVERY = { maxAttempts: 1, baseDelayMs: 50, maxDelayMs: 200, pollMs: 100, timeoutMs: 3000 };

describe("Quản trị in a browser (Chromium)", function () {
  this.timeout(90_000);
  const s = scratch();
  const web = browserSuite();
  let a: TestNode;
  let b: TestNode;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    const worker = (h: TestNode) => {
      const w = startDeliveryWorker(h.node);
      return () => w.stop();
    };
    [a, b] = await Promise.all([
      startNode({ database: { dataDir: s.path("a") }, organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }, { organId: OTHER, name: "Sở Thử nghiệm" }], config: { delivery: DELIVERY }, onListening: worker }),
      startNode({ database: { dataDir: s.path("b") }, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], config: { delivery: DELIVERY }, onListening: worker }),
    ]);
    await link(a, b);
    // A knows H41 at an address nobody listens on, until its admin corrects it
    await a.register([{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An", endpoint: "http://127.0.0.1:9", certificates: [b.agencies[0].identity.certificate] }]);
    const pki = testPki();
    for (const [organId, days] of [
      [SOON, 5],
      [LATER, 20],
    ] as const) {
      const leaf = issueCertificate({ subject: { CN: `Cơ quan ${organId}`, O: "Test agency", serialNumber: organId }, issuer: pki.intermediate, notAfter: new Date(Date.now() + days * 86_400_000 + 3_600_000) });
      await addLocalAgency(a.node.storage.db, a.node.key, { organId, name: `Cơ quan hết hạn sau ${days} ngày`, identity: { ...leaf, chain: [pki.intermediate.certificate] } });
    }
    const users: Array<[string, string, "clerk" | "archivist" | "admin", string]> = [
      [SENDER, "quan.tri", "admin", "Lê Văn Quản"],
      [SENDER, "van.thu", "clerk", "Nguyễn Thị Thư"],
      [SENDER, "luu.tru", "archivist", "Trần Thị Lưu"],
      [OTHER, "quan.tri.khac", "admin", "Phạm Văn Khác"],
    ];
    for (const [organId, username, role, fullName] of users) await createUser(a.node, { ...CLI, organId }, { organId, role, username, fullName, password: PASSWORD });
  });
  beforeEach(() => {
    ({ context, page } = web);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    s.cleanup();
  });

  const accessible = (what: string) => web.accessible(what);
  const signIn = (username: string, password = PASSWORD, p = page) => web.signIn(a.url, username, password, p);

  const h1 = () => page.getByRole("heading", { level: 1 }).textContent();
  const notice = () => page.getByRole("status").textContent();
  const alertText = () => page.getByRole("alert").first().textContent();
  const sub = () => page.getByRole("navigation", { name: "Các mục quản trị" });
  const inertXss = async () => {
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).to.equal(undefined);
    expect(await page.locator("main img").count()).to.equal(0);
  };

  it("renders every page of Quản trị from its navigation, accessible, in Vietnamese", async () => {
    await signIn("quan.tri");
    await page.getByRole("link", { name: "Quản trị", exact: true }).click();
    await page.waitForURL(/\/admin$/);
    expect(await h1()).to.equal("Quản trị");
    expect(await page.getByRole("link", { name: "Quản trị", exact: true }).count(), "one link of that name (the contract's)").to.equal(1);
    expect(await sub().getByRole("link", { name: "Cơ quan của nút", exact: true }).getAttribute("aria-current")).to.equal("page");
    await accessible("agencies");
    const pages: Array<[string, RegExp, string]> = [
      ["Danh bạ cơ quan", /\/admin\/registry$/, "registry"],
      ["Chứng thư tin cậy và danh sách thu hồi", /\/admin\/trust$/, "trust"],
      ["Người dùng", /\/admin\/users$/, "users"],
      ["Mã truy cập API", /\/admin\/tokens$/, "tokens"],
      ["Hàng đợi gửi", /\/admin\/queue$/, "queue"],
      ["Nhật ký hệ thống", /\/admin\/audit$/, "audit"],
    ];
    for (const [name, url, what] of pages) {
      await sub().getByRole("link", { name, exact: true }).click();
      await page.waitForURL(url);
      expect(await h1(), what).to.equal(name);
      expect(await sub().getByRole("link", { name, exact: true }).getAttribute("aria-current")).to.equal("page");
      await accessible(what);
    }
  });

  it("shows each agency's certificate with its expiry warning (30 and 7 days), and adds an agency", async () => {
    await signIn("quan.tri");
    await page.goto(`${a.url}/admin`);
    const warning = page.getByRole("alert");
    expect(await warning.textContent()).to.include("2 chứng thư số đã hết hạn hoặc sắp hết hạn").and.include(SOON).and.include(LATER);
    const card = (organId: string) => page.locator("section.card", { hasText: organId });
    expect(await card(SOON).locator("[data-expiry]").first().getAttribute("data-expiry")).to.equal("7");
    expect(await card(SOON).textContent()).to.include("Sắp hết hạn: còn 5 ngày");
    expect(await card(LATER).locator("[data-expiry]").first().getAttribute("data-expiry")).to.equal("30");
    expect(await card(SENDER).locator("[data-expiry]").first().getAttribute("data-expiry")).to.equal("ok");
    expect(await card(SOON).locator("[data-expiry]").first().locator("svg rect.fill").count(), "the indicator is drawn").to.equal(1);

    await page.getByLabel("Mã định danh", { exact: true }).fill("000.00.00.Z31");
    await page.getByLabel("Tên cơ quan", { exact: true }).fill(`Sở mới ${XSS}`);
    await page.getByRole("button", { name: "Thêm cơ quan", exact: true }).click();
    await page.waitForURL(/\/admin\?done=agency\.add/);
    expect(await notice()).to.include("Đã thêm cơ quan 000.00.00.Z31.");
    expect(await card("000.00.00.Z31").textContent()).to.include(`Sở mới ${XSS}`).and.include("CA phát triển");
    await inertXss();
    expect((await listAudit(a.node.storage.db, { action: "agency" }))[0].detail).to.include({ organId: "000.00.00.Z31" });
    await accessible("agencies with a notice");

    // with its PKCS#12 identity: that certificate signs for it; a wrong password is refused first
    const leaf = issueCertificate({ subject: { CN: "Sở Tài chính (test)", O: "Test agency", serialNumber: "000.00.00.Z32" }, issuer: testPki().intermediate });
    const p12 = identityToP12({ ...leaf, chain: [testPki().intermediate.certificate] }, "mật khẩu p12");
    for (const password of ["sai", "mật khẩu p12"]) {
      await page.getByLabel("Mã định danh", { exact: true }).fill("000.00.00.Z32");
      await page.getByLabel("Tên cơ quan", { exact: true }).fill("Sở Tài chính");
      await page.getByLabel("Tệp PKCS#12 (.p12) của cơ quan", { exact: true }).setInputFiles({ name: "z32.p12", mimeType: "application/x-pkcs12", buffer: p12 });
      await page.getByLabel("Mật khẩu tệp PKCS#12", { exact: true }).fill(password);
      await page.getByRole("button", { name: "Thêm cơ quan", exact: true }).click();
      await page.waitForLoadState();
    }
    expect(await page.locator("main").textContent()).to.include("Đã thêm cơ quan 000.00.00.Z32.");
    expect(await card("000.00.00.Z32").textContent()).to.include(fingerprint(leaf.certificate)).and.not.include("CA phát triển");
    const refusedP12 = (await listAudit(a.node.storage.db, { action: "agency.add" })).filter((e) => e.detail.organId === "000.00.00.Z32");
    expect(refusedP12, "added once, after the right password").to.have.length(1);

    // a bad organ id: the reason beside the form, nothing added
    await page.getByLabel("Mã định danh", { exact: true }).fill("không hợp lệ");
    await page.getByLabel("Tên cơ quan", { exact: true }).fill("Sở sai");
    await page.getByRole("button", { name: "Thêm cơ quan", exact: true }).click();
    await page.waitForLoadState();
    expect(await alertText()).to.match(/[ạ-ỹđ]/);
    expect(await page.locator("section.card", { hasText: "Sở sai" }).count()).to.equal(0);
  });

  it("adds, shows (inert), edits and removes registry entries; the sync state says there is no source", async () => {
    await signIn("quan.tri");
    await page.goto(`${a.url}/admin/registry`);
    expect(await page.locator("main").textContent()).to.include("Nút này không đồng bộ danh bạ từ nút khác");
    // with a source: the last attempt with its error, and the next (as the sync records them)
    const source = "https://trung-uong.example/registry/snapshot";
    a.node.config.registrySync = { url: source, certPath: "/nowhere.pem", intervalMs: 3_600_000, timeoutMs: 1000 };
    try {
      await saveSyncRun(a.node.storage.db, source, { attemptedAt: new Date(), error: "https://trung-uong.example/registry/snapshot answered HTTP 503" });
      await saveSyncNext(a.node.storage.db, source, new Date(Date.now() + 3_600_000));
      await page.reload();
      const sync = await page.locator("main dl").first().textContent();
      expect(sync).to.include(source).and.include("không thành công: https://trung-uong.example/registry/snapshot answered HTTP 503").and.include("Lần đồng bộ tiếp theo");
      expect(sync).to.include("Bản danh bạ đang dùngchưa có");
      await accessible("registry with a failed sync");
    } finally {
      a.node.config.registrySync = null;
    }
    await page.reload();
    const cert = issueCertificate({ subject: { CN: "Sở XSS", O: "Test agency" }, issuer: testPki().intermediate });
    await page.getByLabel("Mã định danh", { exact: true }).fill("000.00.00.X01");
    await page.getByLabel("Tên cơ quan", { exact: true }).fill(XSS);
    await page.getByLabel("Địa chỉ nút (URL)", { exact: true }).fill("https://edoc.xss.example");
    await page.getByLabel("Chứng thư số (PEM)", { exact: true }).fill(cert.certificate.toString());
    await page.getByRole("button", { name: "Thêm vào danh bạ", exact: true }).click();
    await page.waitForURL(/done=registry\.create/);
    expect(await notice()).to.include("Đã thêm 000.00.00.X01 vào danh bạ.");
    const row = page.getByRole("row", { name: /000\.00\.00\.X01/ });
    expect(await row.getByRole("link").textContent()).to.equal(XSS);
    expect(await row.textContent()).to.include("Còn ");
    await inertXss();
    await accessible("registry with an entry");

    await row.getByRole("link").click();
    await page.waitForURL(/\/admin\/registry\/000\.00\.00\.X01$/);
    await inertXss();
    await page.getByLabel("Tên cơ quan", { exact: true }).fill("Sở đã sửa tên");
    await page.getByRole("button", { name: "Lưu thay đổi", exact: true }).click();
    await page.waitForURL(/done=registry\.update/);
    expect(await page.getByRole("row", { name: /000\.00\.00\.X01/ }).getByRole("link").textContent()).to.equal("Sở đã sửa tên");

    await page.goto(`${a.url}/admin/registry/000.00.00.X01`);
    await page.getByRole("button", { name: "Xóa khỏi danh bạ", exact: true }).click();
    await page.waitForURL(/done=registry\.delete/);
    expect(await page.getByRole("row", { name: /000\.00\.00\.X01/ }).count()).to.equal(0);
    const actions = (await listAudit(a.node.storage.db, { action: "registry" })).map((e) => e.action);
    expect(actions.slice(0, 3)).to.deep.equal(["registry.delete", "registry.update", "registry.create"]);

    // a bad endpoint: refused with the reason, nothing stored
    await page.goto(`${a.url}/admin/registry`);
    await page.getByLabel("Mã định danh", { exact: true }).fill("000.00.00.X02");
    await page.getByLabel("Tên cơ quan", { exact: true }).fill("Sở X02");
    await page.getByLabel("Địa chỉ nút (URL)", { exact: true }).fill("ftp://edoc.example");
    await page.getByRole("button", { name: "Thêm vào danh bạ", exact: true }).click();
    await page.waitForLoadState();
    expect(await alertText()).to.match(/[ạ-ỹđ]/);
    expect(await page.getByRole("row", { name: /000\.00\.00\.X02/ }).count()).to.equal(0);
  });

  it("adds a trust anchor from a PEM file, and a CRL past its next update with a warning", async () => {
    await signIn("quan.tri");
    await page.goto(`${a.url}/admin/trust`);
    const ca = issueCertificate({ subject: { CN: "CA mới của Ban Cơ yếu", O: "Ban Cơ yếu (test)" }, ca: true });
    await page.getByLabel("Tệp chứng thư tin cậy (PEM hoặc DER)", { exact: true }).setInputFiles({ name: "ca.pem", mimeType: "application/x-pem-file", buffer: Buffer.from(ca.certificate.toString()) });
    await page.getByRole("button", { name: "Thêm chứng thư tin cậy", exact: true }).click();
    await page.waitForURL(/done=trust\.add/);
    expect(await notice()).to.include("Đã thêm 1 chứng thư tin cậy.");
    expect(await page.getByRole("row", { name: /CA mới của Ban Cơ yếu/ }).count()).to.equal(1);

    const stale = await createCrl(testPki().intermediate, [], { thisUpdate: new Date(Date.now() - 10 * 86_400_000), nextUpdate: new Date(Date.now() - 3 * 86_400_000) });
    await page.getByLabel("Tệp danh sách thu hồi (PEM hoặc DER)", { exact: true }).setInputFiles({ name: "old.crl", mimeType: "application/pkix-crl", buffer: Buffer.from(crlToPem(stale)) });
    await page.getByRole("button", { name: "Thêm danh sách thu hồi", exact: true }).click();
    await page.waitForLoadState();
    expect(await page.getByRole("status").textContent()).to.include("Đã thêm danh sách thu hồi.");
    await page.goto(`${a.url}/admin/trust`);
    expect(await page.getByRole("alert").textContent()).to.include("1 danh sách thu hồi đã quá ngày cập nhật tiếp theo");
    expect(await page.getByRole("row", { name: /Test Issuing CA/ }).textContent()).to.include("đã quá hạn cập nhật");
    await accessible("trust with a stale CRL");

    // not a certificate: refused, said in Vietnamese
    await page.getByLabel("Tệp chứng thư tin cậy (PEM hoặc DER)", { exact: true }).setInputFiles({ name: "x.pem", mimeType: "text/plain", buffer: Buffer.from("không phải chứng thư") });
    await page.getByRole("button", { name: "Thêm chứng thư tin cậy", exact: true }).click();
    await page.waitForLoadState();
    expect(await alertText()).to.match(/[ạ-ỹđ]/);
  });

  it("adds a user who then signs in, resets a password, disables a user who then cannot sign in", async () => {
    await signIn("quan.tri");
    await page.goto(`${a.url}/admin/users`);
    const form = page.locator("form[action='/admin/users']");
    await form.getByLabel("Tên đăng nhập", { exact: true }).fill("van.thu.moi");
    await form.getByLabel("Họ và tên", { exact: true }).fill(XSS);
    await form.getByLabel("Vai trò", { exact: true }).selectOption("clerk");
    await form.getByLabel("Mật khẩu", { exact: true }).fill("mật khẩu người mới 1");
    await page.getByRole("button", { name: "Thêm người dùng", exact: true }).click();
    await page.waitForURL(/done=user\.add/);
    expect(await notice()).to.include("Đã thêm người dùng van.thu.moi.");
    expect(await page.getByRole("row", { name: /van\.thu\.moi/ }).textContent()).to.include(XSS).and.include("Văn thư");
    await inertXss();

    // a password too short: the rule of bin/edoc user add, said beside the form
    await form.getByLabel("Tên đăng nhập", { exact: true }).fill("ngan.qua");
    await form.getByLabel("Mật khẩu", { exact: true }).fill("123456789x");
    await form.getByLabel("Mật khẩu", { exact: true }).evaluate((e) => e.removeAttribute("minlength"));
    await form.getByLabel("Mật khẩu", { exact: true }).fill("ngắn");
    await page.getByRole("button", { name: "Thêm người dùng", exact: true }).click();
    await page.waitForLoadState();
    expect(await alertText()).to.include("10");
    expect(await getUserByUsername(a.node.storage.db, "ngan.qua")).to.equal(null);

    const other = await web.browser.newContext();
    try {
      const p = await other.newPage();
      await signIn("van.thu.moi", "mật khẩu người mới 1", p);
      expect(new URL(p.url()).pathname).to.equal("/");
      expect(await p.getByRole("navigation", { name: "Chức năng" }).getByRole("link").allTextContents()).to.include("Soạn văn bản");

      await page.goto(`${a.url}/admin/users`);
      const reset = page.locator("form[action='/admin/users/password']");
      await reset.getByLabel("Tên đăng nhập", { exact: true }).selectOption("van.thu.moi");
      await reset.getByLabel("Mật khẩu mới", { exact: true }).fill("mật khẩu đặt lại 2");
      await page.getByRole("button", { name: "Đặt lại mật khẩu", exact: true }).click();
      await page.waitForURL(/done=user\.password/);
      await p.context().clearCookies();
      await signIn("van.thu.moi", "mật khẩu người mới 1", p);
      expect(new URL(p.url()).pathname, "the old password no longer works").to.equal("/sign-in");
      await signIn("van.thu.moi", "mật khẩu đặt lại 2", p);
      expect(new URL(p.url()).pathname).to.equal("/");

      await page.getByRole("button", { name: "Vô hiệu hóa van.thu.moi", exact: true }).click();
      await page.waitForURL(/done=user\.disable/);
      expect(await page.getByRole("row", { name: /van\.thu\.moi/ }).textContent()).to.include("Đã vô hiệu hóa");
      await p.reload();
      expect(new URL(p.url()).pathname, "the open session ended").to.equal("/sign-in");
      await signIn("van.thu.moi", "mật khẩu đặt lại 2", p);
      expect(await p.getByRole("alert").textContent()).to.include("Tên đăng nhập hoặc mật khẩu không đúng.");
    } finally {
      await other.close();
    }
    expect(await page.getByRole("button", { name: "Vô hiệu hóa quan.tri", exact: true }).count(), "not oneself").to.equal(0);
    await accessible("users");
  });

  it("creates an API token shown once that works on the API, lists it, and revokes it (401 at once)", async () => {
    await signIn("quan.tri");
    await page.goto(`${a.url}/admin/tokens`);
    await page.getByLabel("Dùng cho", { exact: true }).fill(`Phần mềm QLVB ${XSS}`);
    await page.getByLabel("Vai trò", { exact: true }).selectOption("clerk");
    await page.getByLabel("Thời hạn", { exact: true }).selectOption("30d");
    await page.getByRole("button", { name: "Tạo mã truy cập", exact: true }).click();
    await page.waitForLoadState();
    const token = await page.getByLabel("Mã truy cập", { exact: true }).inputValue();
    expect(token).to.match(/^[A-Za-z0-9_.-]{20,}$/);
    await inertXss();
    await accessible("tokens with a new token");
    const api = (t: string) => fetch(`${a.url}/api/v1/documents`, { headers: { authorization: `Bearer ${t}` } });
    expect((await api(token)).status).to.equal(200);

    await page.goto(`${a.url}/admin/tokens`);
    expect(await page.content(), "shown once").to.not.include(token);
    const row = page.getByRole("row", { name: /Phần mềm QLVB/ });
    expect(await row.textContent()).to.include("Văn thư").and.include("Đang dùng");
    await row.getByRole("button", { name: /^Thu hồi mã số \d+/ }).click();
    await page.waitForURL(/done=token\.revoke/);
    expect(await page.getByRole("row", { name: /Phần mềm QLVB/ }).textContent()).to.include("Đã thu hồi");
    expect((await api(token)).status).to.equal(401);
  });

  it("lists a failed delivery in the queue; after the registry is corrected, Gửi lại delivers it", async () => {
    const doc = await sendDocument(a.node, tokenCaller({ id: 0, organId: SENDER, role: "clerk", name: "Văn thư" }), { To: [RECIPIENT], Code: "7/QĐ-VPCP", Subject: "Quyết định thử gửi lại", DocumentType: { Type: 1, TypeName: "Quyết định" } }, []);
    const until = Date.now() + 20_000;
    while ((await listDeliveries(a.node.storage.db, doc.id, "edoc"))[0].state !== "failed") {
      if (Date.now() > until) throw new Error("the delivery did not fail");
      await new Promise((r) => setTimeout(r, 100));
    }
    await signIn("quan.tri");
    await page.goto(`${a.url}/admin/queue`);
    const row = page.getByRole("row", { name: new RegExp(doc.id) });
    expect(await row.textContent()).to.include("Gửi không thành công").and.include("gave up after 1 attempts").and.include(RECIPIENT);
    expect(await page.locator("main").textContent(), "the admin reads no document").to.not.include("Quyết định thử gửi lại");
    await accessible("queue with a failed delivery");

    await page.goto(`${a.url}/admin/registry/${RECIPIENT}`);
    await page.getByLabel("Địa chỉ nút (URL)", { exact: true }).fill(b.url);
    await page.getByRole("button", { name: "Lưu thay đổi", exact: true }).click();
    await page.waitForURL(/done=registry\.update/);

    await page.goto(`${a.url}/admin/queue`);
    await page.getByRole("row", { name: new RegExp(doc.id) }).getByRole("button", { name: `Gửi lại tới ${RECIPIENT}`, exact: true }).click();
    await page.waitForURL(/done=resend/);
    expect(await notice()).to.include(`Đã đưa lượt gửi tới ${RECIPIENT} vào hàng đợi lại.`);
    const deliveredBy = Date.now() + 20_000;
    while ((await listDeliveries(a.node.storage.db, doc.id, "edoc"))[0].state !== "delivered") {
      if (Date.now() > deliveredBy) throw new Error("the delivery was not sent again");
      await new Promise((r) => setTimeout(r, 100));
    }
    const resend = (await listAudit(a.node.storage.db, { action: "resend" }))[0];
    expect(resend.document).to.equal(doc.id);
    expect(resend.actor).to.equal(`user:${(await getUserByUsername(a.node.storage.db, "quan.tri"))!.id}`);
  });

  it("pages the audit log and filters it by actor, action and date", async () => {
    for (let i = 0; i < 60; i++) await audit(a.node.storage.db, { actor: "system", organId: SENDER, action: "node.setup", detail: { i } });
    await signIn("quan.tri");
    await page.goto(`${a.url}/admin/audit`);
    const rows = () => page.locator("tbody tr");
    expect(await rows().count()).to.equal(50);
    await page.getByRole("link", { name: "Các mục cũ hơn", exact: true }).click();
    await page.waitForURL(/before=\d+/);
    expect(await rows().count()).to.be.greaterThan(0);

    await page.goto(`${a.url}/admin/audit`);
    await page.getByLabel("Hành động", { exact: true }).fill("session");
    await page.getByLabel("Người thực hiện", { exact: true }).selectOption({ label: "Người dùng quan.tri" });
    await page.getByRole("button", { name: "Lọc", exact: true }).click();
    await page.waitForURL(/action=session/);
    const texts = await rows().allTextContents();
    expect(texts.length).to.be.greaterThan(0);
    for (const t of texts) expect(t).to.include("Người dùng quan.tri").and.include("(session.");
    await accessible("audit filtered");

    const tomorrow = new Date(Date.now() + 7 * 3_600_000 + 86_400_000).toISOString().slice(0, 10);
    await page.goto(`${a.url}/admin/audit?from=${tomorrow}`);
    expect(await page.locator("main").textContent()).to.include("Không có mục nào.");
    const today = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10);
    await page.goto(`${a.url}/admin/audit?from=${today}&to=${today}&action=user.add`);
    expect(await rows().count()).to.be.greaterThan(0);
    // an action that is no action name (a LIKE wildcard): refused with the reason, in Vietnamese
    const bad = await page.goto(`${a.url}/admin/audit?action=user%25`);
    expect(bad!.status()).to.equal(400);
    expect(await page.getByRole("alert").textContent()).to.include("phải là tên một hành động");
  });

  it("refuses Quản trị to the other roles (403) and does not show them the link", async () => {
    for (const username of ["van.thu", "luu.tru"]) {
      await context.clearCookies();
      await signIn(username);
      expect(await page.getByRole("link", { name: "Quản trị", exact: true }).count(), username).to.equal(0);
      for (const path of ["/admin", "/admin/users", "/admin/tokens", "/admin/audit", "/admin/queue"]) {
        const r = await page.goto(`${a.url}${path}`);
        expect(r!.status(), `${username} ${path}`).to.equal(403);
        expect(await page.getByRole("alert").textContent()).to.equal("Trang này chỉ dành cho quản trị viên.");
      }
      await accessible("the refusal");
    }
    // with a valid form token of their own session: still refused, nothing created
    await page.goto(`${a.url}/verify`);
    const csrf = await page.locator("input[name=csrf]").first().inputValue();
    const r = await page.request.post(`${a.url}/admin/users`, { form: { csrf, username: "ke.gian", role: "admin", password: "mật khẩu kẻ gian 1" }, maxRedirects: 0 });
    expect(r.status()).to.equal(403);
    expect(await getUserByUsername(a.node.storage.db, "ke.gian")).to.equal(null);
  });

  it("refuses an admin POST without its CSRF token (403), and changes nothing", async () => {
    await signIn("quan.tri");
    await page.goto(`${a.url}/admin/users`);
    const noToken = await page.request.post(`${a.url}/admin/users`, { form: { username: "khong.token", role: "clerk", password: "mật khẩu không token" }, maxRedirects: 0 });
    expect(noToken.status()).to.equal(403);
    const wrong = await page.request.post(`${a.url}/admin/tokens`, { form: { csrf: "A".repeat(43), name: "x", role: "admin" }, maxRedirects: 0 });
    expect(wrong.status()).to.equal(403);
    const ca = issueCertificate({ subject: { CN: "CA không token" }, ca: true });
    const upload = await page.request.post(`${a.url}/admin/trust/anchors`, { multipart: { file: { name: "ca.pem", mimeType: "application/x-pem-file", buffer: Buffer.from(ca.certificate.toString()) } }, maxRedirects: 0 });
    expect(upload.status()).to.equal(403);
    expect(await getUserByUsername(a.node.storage.db, "khong.token")).to.equal(null);
    // a multipart body to a route that reads none (the token is not looked for there): refused all the same
    const remove = await page.request.post(`${a.url}/admin/registry/${RECIPIENT}/delete`, { multipart: { x: "1" }, maxRedirects: 0 });
    expect(remove.status()).to.equal(403);
    expect((await page.goto(`${a.url}/admin/registry/${RECIPIENT}`))!.status(), "still in the registry").to.equal(200);
    await page.goto(`${a.url}/admin/trust`);
    expect(await page.getByRole("row", { name: /CA không token/ }).count()).to.equal(0);
  });

  it("shows an admin of another agency its own users, and no form for what only node administrators change", async () => {
    await signIn("quan.tri.khac");
    await page.goto(`${a.url}/admin`);
    expect(await page.locator("section.card").count(), "only its own agency").to.equal(1);
    expect(await page.locator("section.card").textContent()).to.include(OTHER);
    expect(await page.getByRole("button", { name: "Thêm cơ quan", exact: true }).count()).to.equal(0);
    await page.goto(`${a.url}/admin/trust`);
    expect(await page.getByRole("button", { name: "Thêm chứng thư tin cậy", exact: true }).count()).to.equal(0);
    expect(await page.locator("main").textContent()).to.include("Chỉ quản trị viên của nút");
    await page.goto(`${a.url}/admin/users`);
    const names = await page.locator("tbody tr td:first-child").allTextContents();
    expect(names).to.deep.equal(["quan.tri.khac"]);
    // the use case refuses a remote registry entry all the same, said on the page
    await page.goto(`${a.url}/admin/registry`);
    const csrf = await page.locator("input[name=csrf]").first().inputValue();
    const r = await page.request.post(`${a.url}/admin/registry`, { form: { csrf, organId: "000.00.00.X09", name: "Sở X09", endpoint: "https://x09.example" }, maxRedirects: 0 });
    expect(r.status()).to.equal(403);
    expect(await r.text()).to.match(/quản trị viên của/);
  });

  it("reaches the forms by keyboard, and switches to English and back", async () => {
    await signIn("quan.tri");
    await page.goto(`${a.url}/admin/users`);
    const reached = new Set<string>();
    await page.locator("body").focus();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      reached.add(await page.evaluate(() => {
        const e = document.activeElement as HTMLElement | null;
        return e ? `${e.tagName.toLowerCase()}:${e.getAttribute("id") ?? e.textContent?.trim()}` : "";
      }));
    }
    for (const want of ["a:Danh bạ cơ quan", "a:Nhật ký hệ thống", "input:user-username", "input:user-password", "select:user-role", "button:Thêm người dùng"]) {
      expect([...reached], want).to.include(want);
    }
    await page.getByLabel("Tên đăng nhập", { exact: true }).first().focus();
    await page.keyboard.type("phim.tat");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Bàn Phím");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await page.keyboard.type("mật khẩu bàn phím 1");
    await page.keyboard.press("Enter");
    await page.waitForURL(/done=user\.add/);

    await page.getByRole("link", { name: "English", exact: true }).click();
    await page.waitForLoadState();
    expect(await page.getAttribute("html", "lang")).to.equal("en");
    expect(await h1()).to.equal("Users");
    expect(await page.getByRole("navigation", { name: "Administration sections" }).getByRole("link").allTextContents()).to.deep.equal([
      "Agencies of this node",
      "Registry",
      "Trust anchors and revocation lists",
      "Users",
      "API tokens",
      "Delivery queue",
      "Audit log",
    ]);
    await page.goto(`${a.url}/admin`);
    expect(await page.getByRole("alert").textContent()).to.include("certificate(s) expired or expiring soon");
    await accessible("agencies in English");
    await page.getByRole("link", { name: "Tiếng Việt", exact: true }).click();
    await page.waitForLoadState();
    expect(await h1()).to.equal("Quản trị");
  });
});
