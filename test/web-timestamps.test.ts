// The signature's level and time-stamp on the pages, in a real browser (Chromium) against a node
// that stamps what it signs with a real TSA (`openssl ts -reply`, test/helpers/tsa.ts): a stamped
// packet shows B-T with the TSA and the stamp's time and says the signing time is proven by it; an
// unstamped one shows B-B and no time-stamp line; a stamp over other data is shown as not valid,
// with its reason; a stamp the job kept beside the stored copy later counts on the document page.
// On the document page, its printable report and the verify page.
import { expect } from "chai";
import { X509Certificate } from "node:crypto";
import { createUser, sendDocument, stampPending, tokenCaller, type Caller } from "../app/index.ts";
import { verifyPacket } from "../signing/index.ts";
import { addTrustAnchor, blobBytes, type DocumentRow } from "../storage/index.ts";
import { RECIPIENT, SENDER, scratch } from "../fixtures/index.ts";
import { browserSuite } from "./helpers/browser.ts";
import { startNode, type TestNode } from "./helpers/node.ts";
import { startTsa, type TestTsa } from "./helpers/tsa.ts";

const PASSWORD = "mật khẩu thật dài 2026";
const ADMIN: Caller = { organId: SENDER, role: "admin", name: "test", actor: "cli:test" };
const clerk = tokenCaller({ id: 0, organId: SENDER, role: "clerk", name: "Văn thư" });
const TOKEN = /<xades:EncapsulatedTimeStamp>([^<]+)<\/xades:EncapsulatedTimeStamp>/;
const PROOF_VI = "Thời điểm ký được chứng minh bằng dấu thời gian của một đơn vị cấp dấu thời gian độc lập, không phải chỉ do người ký tự ghi.";
const PROOF_EN = "The signing time is proven by the time-stamp of an independent time-stamping authority, not merely claimed by the signer.";

/** A time as the pages show it: Vietnam's time, UTC+7. */
function shown(iso: string): string {
  const vn = new Date(Date.parse(iso) + 7 * 3_600_000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(vn.getUTCHours())}:${two(vn.getUTCMinutes())}:${two(vn.getUTCSeconds())} ${two(vn.getUTCDate())}/${two(vn.getUTCMonth() + 1)}/${vn.getUTCFullYear()} (GMT+7)`;
}

describe("the signature's level and time-stamp on the pages (Chromium, a real TSA)", function () {
  this.timeout(90_000);
  const s = scratch();
  const web = browserSuite();
  let tsa: TestTsa;
  let node: TestNode;
  let stamped: DocumentRow;
  let plain: DocumentRow;
  let stampedPacket: Buffer;
  let plainPacket: Buffer;
  let otherStamp: Buffer;
  let genTime: string;
  let n = 0;
  let send: () => Promise<DocumentRow>;

  before(async function () {
    this.timeout(120_000);
    tsa = await startTsa();
    node = await startNode({
      database: { dataDir: s.path("data") },
      organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }],
      registry: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An", endpoint: "http://127.0.0.1:9" }],
      config: { tsa: { url: tsa.url, timeoutMs: 5000, retryMs: 3_600_000, archiveMs: 3_600_000, renewDays: 180 } },
    });
    await addTrustAnchor(node.node.storage.db, new X509Certificate(tsa.caPem), "tsa");
    node.node.trustChanged();
    await createUser(node.node, ADMIN, { organId: SENDER, role: "clerk", username: "van.thu", fullName: "Nguyễn Văn Thư", password: PASSWORD });
    send = () =>
      sendDocument(node.node, clerk, { To: [RECIPIENT], Code: `${++n}/QĐ-VPCP`, Subject: `Quyết định số ${n}`, DocumentType: { Type: 1, TypeName: "Quyết định" } }, []);
    const packet = (d: DocumentRow) => blobBytes(node.node.storage.db, node.node.storage.blobs, d.packetSha256);
    stamped = await send();
    const another = await send();
    tsa.mode = "down";
    plain = await send();
    [stampedPacket, plainPacket, otherStamp] = await Promise.all([packet(stamped), packet(plain), packet(another)]);
    expect(TOKEN.test(stampedPacket.toString("latin1")) && !TOKEN.test(plainPacket.toString("latin1")), "the TSA was up for the first, down for the last").to.equal(true);
    // what the verifier says is what the page must show
    const { report } = await verifyPacket({ bytes: stampedPacket }, await node.node.trust());
    expect(report.timestamp).to.include({ valid: true, level: "B-T" });
    genTime = report.timestamp!.time!;
  });
  after(async () => {
    await node?.close();
    await tsa?.close();
    s.cleanup();
  });

  const facts = async () => (await web.page.locator("section.report dl.facts").first().textContent())!;

  it("the document page and its printable report: B-T, the stamp's time and TSA, and what it proves; in English too", async () => {
    const { page } = web;
    await web.signIn(node.url, "van.thu", PASSWORD);
    await page.goto(`${node.url}/documents/${stamped.id}`);
    await page.getByText("Hợp lệ", { exact: true }).waitFor();
    let text = await facts();
    expect(text).to.include("Mức chữ kýB-T: chữ ký số có dấu thời gian");
    expect(text).to.include(`Dấu thời gian${shown(genTime)}, do Test TSA cấp`).and.include(PROOF_VI);
    await web.accessible("document page at B-T");

    await page.getByRole("link", { name: "In biên bản kiểm tra", exact: true }).click();
    await page.waitForURL(/\/report$/);
    text = await facts();
    expect(text).to.include("B-T: chữ ký số có dấu thời gian").and.include(`${shown(genTime)}, do Test TSA cấp`).and.include(PROOF_VI);
    await web.accessible("printable report at B-T");
    const pdf = await page.pdf({ format: "A4" });
    expect(pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) ?? [], "one printed page at B-T").to.have.length(1);

    await page.getByRole("link", { name: "English", exact: true }).click();
    await page.waitForLoadState();
    await page.goto(`${node.url}/documents/${stamped.id}`);
    text = await facts();
    expect(text).to.include("Signature levelB-T: digital signature with a time-stamp").and.match(/Time-stamp[^A-Za-z]+ \(GMT\+7\), issued by Test TSA/).and.include(PROOF_EN);
    await web.accessible("document page at B-T, in English");
    // the choice is remembered for the user: back to the default for the other tests
    await page.getByRole("link", { name: "Tiếng Việt", exact: true }).click();
    await page.waitForLoadState();
  });

  it("an unstamped packet (the TSA was down): B-B, and no time-stamp line on the page or its report", async () => {
    const { page } = web;
    await web.signIn(node.url, "van.thu", PASSWORD);
    for (const path of [`/documents/${plain.id}`, `/documents/${plain.id}/report`]) {
      await page.goto(`${node.url}${path}`);
      await page.getByText("Hợp lệ", { exact: true }).waitFor();
      const text = await facts();
      expect(text, path).to.include("Mức chữ kýB-B: thời điểm ký do người ký tự ghi, không có dấu thời gian chứng minh");
      expect(text, path).not.to.include("Dấu thời gian").and.not.include("Test TSA");
      await web.accessible(`${path} at B-B`);
    }
  });

  it("Kiểm tra chữ ký: B-T for the stamped packet, B-B for the plain one, and a stamp over other data shown as not valid with its reason", async () => {
    const { page } = web;
    await web.signIn(node.url, "van.thu", PASSWORD);
    await page.getByRole("link", { name: "Kiểm tra chữ ký", exact: true }).click();
    await page.waitForURL(/\/verify$/);
    // the other document's token, spliced in: the signature still holds, its stamp does not
    const swapped = Buffer.from(stampedPacket.toString("latin1").replace(TOKEN, otherStamp.toString("latin1").match(TOKEN)![0]), "latin1");
    const result = page.locator("#result");
    const check = async (name: string, bytes: Buffer) => {
      await page.getByLabel("Tệp cần kiểm tra", { exact: true }).setInputFiles({ name, mimeType: "application/xml", buffer: bytes });
      await page.getByRole("button", { name: "Kiểm tra", exact: true }).click();
      // each check starts from a fresh page: the facts that appear are this file's
      await result.locator("dl.facts").first().waitFor();
      return (await result.locator("dl.facts").first().textContent())!;
    };

    let text = await check("stamped.edxml", stampedPacket);
    expect(text).to.include("Mức chữ kýB-T: chữ ký số có dấu thời gian").and.include(`${shown(genTime)}, do Test TSA cấp`).and.include(PROOF_VI);
    await web.accessible("verify page at B-T");

    await page.reload();
    text = await check("plain.edxml", plainPacket);
    expect(text).to.include("Mức chữ kýB-B").and.not.include("Dấu thời gian");

    await page.reload();
    text = await check("swapped.edxml", swapped);
    expect(await result.getByText("Hợp lệ", { exact: true }).count(), "the signature itself is valid").to.equal(1);
    expect(text).to.include("Mức chữ kýB-B");
    expect(text).to.include("Dấu thời gian không hợp lệ, không dùng làm bằng chứng thời điểm ký: dấu thời gian được cấp cho dữ liệu khác, không phải cho chữ ký này.");
    expect(text).not.to.include(PROOF_VI);
    await web.accessible("verify page with a stamp over other data");
  });

  it("a stamp the job kept beside the stored copy later (the TSA was down at sending): the document page shows B-T with it", async () => {
    tsa.mode = "down";
    const late = await send();
    tsa.mode = "ok";
    expect(await stampPending(node.node)).to.be.at.least(1);
    const { page } = web;
    await web.signIn(node.url, "van.thu", PASSWORD);
    await page.goto(`${node.url}/documents/${late.id}`);
    await page.getByText("Hợp lệ", { exact: true }).waitFor();
    const text = await facts();
    expect(text).to.include("Mức chữ kýB-T: chữ ký số có dấu thời gian").and.include(", do Test TSA cấp").and.include(PROOF_VI);
    await web.accessible("document page with a kept stamp");
  });
});
