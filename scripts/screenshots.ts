// npm run screenshots [-- --only admin]: PNGs of the main pages, in Vietnamese, into
// docs/screenshots/. Starts a seeded node in a temporary directory (the app in this process,
// SQLite): it hosts UBND tỉnh Nghệ An (H41) and a second agency whose certificate expires in 5
// days, knows Văn phòng Chính phủ (G22) at an address nobody answers, holds documents G22 sent it
// (real signed packets through the receive use case), one it failed to deliver to G22, a CRL past
// its next update and a few users and tokens. Then Debian's Chromium (playwright-core) signs in as
// each role and photographs the routes of ROUTES (a route that answers 404 is skipped and said so).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium, type Page } from "playwright-core";
import { createApiToken, createUser, receivePacket, sendDocument, startDeliveryWorker, tokenCaller, type Caller } from "../app/index.ts";
import { RECIPIENT, SENDER, sampleEdoc, scratch, testPki } from "../fixtures/index.ts";
import { packEdoc } from "../signing/index.ts";
import { createCrl, issueCertificate } from "../signing/testing.ts";
import { addCrl, addLocalAgency, listDeliveries, type Role } from "../storage/index.ts";
import { startNode } from "../test/helpers/node.ts";

/** The pages photographed, per role: add a page here when it lands (until then it is skipped). */
const ROUTES: ReadonlyArray<{ role: Role | null; path: string; file: string }> = [
  { role: null, path: "/sign-in", file: "dang-nhap" },
  { role: "clerk", path: "/", file: "trang-chinh" },
  { role: "clerk", path: "/inbox", file: "van-ban-den" },
  { role: "clerk", path: "/outbox", file: "van-ban-di" },
  { role: "clerk", path: "/compose", file: "soan-van-ban" },
  { role: "clerk", path: "/search", file: "tra-cuu" },
  { role: "clerk", path: "/documents/:in", file: "van-ban-chi-tiet" },
  { role: "clerk", path: "/documents/:out", file: "van-ban-di-chi-tiet" },
  { role: "clerk", path: "/documents/:in/report", file: "bien-ban-kiem-tra" },
  { role: "clerk", path: "/books?book=in", file: "so-van-ban-den" },
  { role: "clerk", path: "/indicators", file: "chi-so" },
  { role: "clerk", path: "/verify", file: "kiem-tra-chu-ky" },
  { role: "archivist", path: "/inbox", file: "luu-tru-van-ban-den" },
  { role: "archivist", path: "/search", file: "luu-tru-tra-cuu" },
  { role: "admin", path: "/admin", file: "quan-tri-co-quan" },
  { role: "admin", path: "/admin/registry", file: "quan-tri-danh-ba" },
  { role: "admin", path: "/admin/trust", file: "quan-tri-chung-thu-tin-cay" },
  { role: "admin", path: "/admin/users", file: "quan-tri-nguoi-dung" },
  { role: "admin", path: "/admin/tokens", file: "quan-tri-ma-truy-cap" },
  { role: "admin", path: "/admin/queue", file: "quan-tri-hang-doi-gui" },
  { role: "admin", path: "/admin/audit", file: "quan-tri-nhat-ky" },
];

const CHROMIUM = "/usr/bin/chromium";
const OUT = fileURLToPath(new URL("../docs/screenshots/", import.meta.url));
const PASSWORD = "mật khẩu ảnh chụp 2026";
const USERS: Record<Role, { username: string; fullName: string }> = {
  clerk: { username: "van.thu", fullName: "Nguyễn Thị Thư" },
  archivist: { username: "luu.tru", fullName: "Trần Thị Lưu" },
  admin: { username: "quan.tri", fullName: "Lê Văn Quản" },
};
const SUBJECTS = [
  "Quyết định ban hành Quy chế công tác văn thư, lưu trữ",
  "Công văn về việc triển khai chuyển đổi số năm 2026",
  "Thông báo lịch tiếp công dân tháng 12",
  "Kế hoạch phòng chống thiên tai năm 2027",
];

const { values } = parseArgs({ options: { only: { type: "string" } } });

/** Seeds the node; answers the ids of a received and a sent document (the routes' :in and :out). */
async function seed(node: Awaited<ReturnType<typeof startNode>>, dir: string): Promise<{ in: string; out: string }> {
  const pki = testPki();
  const cli: Caller = { organId: RECIPIENT, role: "admin", name: "screenshots", actor: "cli:screenshots" };
  for (const [role, u] of Object.entries(USERS)) await createUser(node.node, cli, { organId: RECIPIENT, role, username: u.username, fullName: u.fullName, password: PASSWORD });
  await createApiToken(node.node, cli, { organId: RECIPIENT, role: "clerk", name: "Phần mềm quản lý văn bản", expiresIn: "90d" });
  const soon = issueCertificate({ subject: { CN: "Sở Tư pháp tỉnh Nghệ An", O: "Test agency", serialNumber: "000.00.00.T05" }, issuer: pki.intermediate, notAfter: new Date(Date.now() + 5 * 86_400_000 + 3_600_000) });
  await addLocalAgency(node.node.storage.db, node.node.key, { organId: "000.00.00.T05", name: "Sở Tư pháp tỉnh Nghệ An", identity: { ...soon, chain: [pki.intermediate.certificate] } });
  await addCrl(node.node.storage.db, await createCrl(pki.intermediate, [], { thisUpdate: new Date(Date.now() - 10 * 86_400_000), nextUpdate: new Date(Date.now() - 2 * 86_400_000) }));
  // documents G22 sent here, through the receive use case
  const work = join(dir, "packet.edxml");
  let received = "";
  for (const [i, subject] of SUBJECTS.entries()) {
    const edoc = sampleEdoc({}, [`${subject.split(" ")[0]} ${i + 1}.pdf`]);
    edoc.header.DocumentId = `${SENDER},2026/11/2${i},${i + 10}/QĐ-VPCP`;
    edoc.header.Code = { CodeNumber: String(i + 10), CodeNotation: "QĐ-VPCP" };
    edoc.header.Subject = subject;
    await packEdoc(edoc, [{ bytes: Buffer.from(`%PDF-1.4 ${subject}\n`) }], pki.sender, work, {});
    const bytes = readFileSync(work);
    const outcome = await receivePacket(node.node, { path: work, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") }, { recipient: RECIPIENT });
    if (outcome.kind === "receipt") received ||= outcome.document;
  }
  // one sent to G22, whose node does not answer: it fails (one attempt) and waits in the queue
  const clerk = tokenCaller({ id: 0, organId: RECIPIENT, role: "clerk", name: USERS.clerk.fullName });
  const doc = await sendDocument(node.node, clerk, { To: [SENDER], Code: "88/UBND-VP", Subject: "Báo cáo tình hình kinh tế - xã hội tháng 11", DocumentType: { Type: 2, TypeName: "Công văn" } }, []);
  for (let i = 0; i < 200 && (await listDeliveries(node.node.storage.db, doc.id, "edoc"))[0].state !== "failed"; i++) await new Promise((r) => setTimeout(r, 100));
  return { in: received, out: doc.id };
}

async function signIn(page: Page, url: string, role: Role): Promise<void> {
  await page.goto(`${url}/sign-in`);
  await page.getByLabel("Tên đăng nhập", { exact: true }).fill(USERS[role].username);
  await page.getByLabel("Mật khẩu", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Đăng nhập", exact: true }).click();
  await page.waitForURL(`${url}/`);
}

const s = scratch();
const node = await startNode({
  database: { dataDir: s.path("data") },
  organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }],
  registry: [{ organId: SENDER, name: "Văn phòng Chính phủ", endpoint: "http://127.0.0.1:9", certificates: [testPki().sender.certificate] }],
  config: { delivery: { maxAttempts: 1, pollMs: 100 } },
  onListening: (h) => {
    const w = startDeliveryWorker(h.node);
    return () => w.stop();
  },
});
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
try {
  const ids = await seed(node, s.path("."));
  mkdirSync(OUT, { recursive: true });
  const routes = ROUTES.filter((r) => !values.only || r.file.includes(values.only) || r.path.includes(values.only));
  for (const role of [null, "clerk", "archivist", "admin"] as const) {
    const mine = routes.filter((r) => r.role === role);
    if (!mine.length) continue;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "vi-VN" });
    const page = await context.newPage();
    if (role) await signIn(page, node.url, role);
    for (const r of mine) {
      const answer = await page.goto(`${node.url}${r.path.replace(":in", ids.in).replace(":out", ids.out)}`);
      if (!answer || answer.status() === 404) {
        process.stdout.write(`skipped ${r.path} (${role ?? "visitor"}): not on this branch yet\n`);
        continue;
      }
      await page.screenshot({ path: join(OUT, `${r.file}.png`), fullPage: true });
      process.stdout.write(`docs/screenshots/${r.file}.png: ${r.path} (${role ?? "visitor"}, HTTP ${answer.status()})\n`);
    }
    await context.close();
  }
} finally {
  await browser.close();
  await node.close();
  s.cleanup();
}
