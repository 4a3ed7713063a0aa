// The browser tests' common part: Debian's Chromium driven by playwright-core (no browser download;
// without /usr/bin/chromium a suite is skipped with the reason, except under CI, where it fails),
// axe-core run inside a page, the Content-Security-Policy's refusals, and the sign-in form.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { expect } from "chai";

const CHROMIUM = "/usr/bin/chromium";
// libraries.md: the flags Debian's Chromium needs in a container
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Skips the suite (`this` of its before hook) when there is no Chromium; under CI that is a failure. */
function requireChromium(suite: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  const reason = `${CHROMIUM} is missing (apt-get install -y chromium fonts-noto-core)`;
  if (process.env.CI) throw new Error(`${reason}: the browser tests may not skip in CI`);
  console.log(`      skipped: ${reason}`);
  suite.skip();
}

const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: ARGS });

/** The console messages of `page` that say the Content-Security-Policy refused something, as they come. */
function cspRefusals(page: Page): string[] {
  const refused: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
  });
  return refused;
}

/** axe-core in the page (evaluated through the DevTools protocol, which the CSP does not govern): no serious or critical violation. */
async function assertAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }).axe;
    return (await axe.run()).violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  expect(
    violations.filter((v) => v.impact === "serious" || v.impact === "critical"),
    `${what}: accessibility violations`,
  ).to.deep.equal([]);
}

/** Fills and sends the sign-in form of the node at `url` (the caller waits for what it expects). */
export async function fillSignIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel("Tên đăng nhập", { exact: true }).fill(username);
  await page.getByLabel("Mật khẩu", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Đăng nhập", exact: true }).click();
}

export interface BrowserSuite {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** assertAccessible on `page` (default: the test's page). */
  accessible(what: string, page?: Page): Promise<void>;
  /** Signs in through the sign-in form, by its labels, and waits for the answer. */
  signIn(url: string, username: string, password: string, page?: Page): Promise<void>;
}

/**
 * Registers a suite's hooks (call in a describe, before its nodes start): Chromium launched once, a
 * fresh context per test whose browser asks for English (Vietnamese is the default all the same),
 * and after each test nothing refused by the Content-Security-Policy and no stored script run.
 */
export function browserSuite(): BrowserSuite {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let refused: string[] = [];
  before(async function () {
    requireChromium(this);
    browser = await launchChromium();
  });
  beforeEach(async () => {
    context = await browser.newContext({ locale: "en-US" });
    page = await context.newPage();
    refused = cspRefusals(page);
  });
  afterEach(async () => {
    expect(refused, "nothing refused by the Content-Security-Policy").to.deep.equal([]);
    // the suites store markup that sets window.__xss in free-text fields: it must never run
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), "no script of a stored free text ran").to.equal(undefined);
    await context?.close();
  });
  after(() => browser?.close());
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
    accessible: (what, p = page) => assertAccessible(p, what),
    async signIn(url, username, password, p = page) {
      await fillSignIn(p, url, username, password);
      await p.waitForLoadState();
    },
  };
}
