// Debian's Chromium for the browser tests (playwright-core, no browser download), and axe-core run
// inside a page. Without /usr/bin/chromium a suite is skipped with a printed reason, except under
// CI, where it fails.
import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium, type Browser, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
// libraries.md: the flags Debian's Chromium needs in a container
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Chromium, or the suite skipped (call from a `before` hook). */
export function launchChromium(suite: Mocha.Context): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    const reason = `${CHROMIUM} is missing (apt-get install -y chromium fonts-noto-core)`;
    if (process.env.CI) throw new Error(`${reason}: the browser tests may not skip in CI`);
    console.log(`      skipped: ${reason}`);
    suite.skip();
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** axe-core in the page (evaluated through the DevTools protocol, which the CSP does not govern): no serious or critical violation. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ html: string }> }> }> } }).axe;
    return (await axe.run()).violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((x) => x.html).slice(0, 3) }));
  });
  expect(
    violations.filter((v) => v.impact === "serious" || v.impact === "critical"),
    `${what}: accessibility violations`,
  ).to.deep.equal([]);
}
