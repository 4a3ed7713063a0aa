// The browser of the web tests: Debian's Chromium driven by playwright-core (no browser download).
// Without /usr/bin/chromium a suite is skipped with a printed reason, except under CI, where it
// fails. Each test gets a fresh context whose browser asks for English (Vietnamese is the default
// all the same); nothing may trip the Content-Security-Policy; axe-core runs inside the page.
//
//   const web = browserSuite();           // in a describe, before the node is started
//   await web.signIn(url, "van.thu", PASSWORD);
//   await web.accessible("inbox");
import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
// libraries.md: the flags Debian's Chromium needs in a container
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface BrowserSuite {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** No serious or critical axe-core violation on the page (axe is evaluated through the DevTools protocol, which the CSP does not govern). */
  accessible(what: string, page?: Page): Promise<void>;
  /** Signs in through the sign-in form, by its labels. */
  signIn(url: string, username: string, password: string, page?: Page): Promise<void>;
}

/** Registers the suite's hooks (launch, a context per test, the CSP check) and answers its browser. */
export function browserSuite(): BrowserSuite {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cspErrors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const reason = `${CHROMIUM} is missing (apt-get install -y chromium fonts-noto-core)`;
      if (process.env.CI) throw new Error(`${reason}: the browser tests may not skip in CI`);
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  beforeEach(async () => {
    context = await browser.newContext({ locale: "en-US" });
    page = await context.newPage();
    cspErrors = [];
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
  });
  afterEach(async () => {
    expect(cspErrors, "nothing refused by the Content-Security-Policy").to.deep.equal([]);
    await context?.close();
  });
  after(async () => {
    await browser?.close();
  });

  return {
    get browser() {
      return browser;
    },
    get context() {
      return context;
    },
    get page() {
      return page;
    },
    async accessible(what, p = page) {
      await p.evaluate(AXE);
      const violations = await p.evaluate(async () => {
        const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }).axe;
        return (await axe.run()).violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
      });
      expect(
        violations.filter((v) => v.impact === "serious" || v.impact === "critical"),
        `${what}: accessibility violations`,
      ).to.deep.equal([]);
    },
    async signIn(url, username, password, p = page) {
      await p.goto(url);
      await p.getByLabel("Tên đăng nhập", { exact: true }).fill(username);
      await p.getByLabel("Mật khẩu", { exact: true }).fill(password);
      await p.getByRole("button", { name: "Đăng nhập", exact: true }).click();
      await p.waitForLoadState();
    },
  };
}
