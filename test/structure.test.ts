// `npm run check:structure` on a scratch copy of the tree: it passes as the tree is, and fails,
// naming the rule, when an import points up the layers or an export nobody uses appears.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { appendFileSync, cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { scratch } from "../fixtures/index.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SKIP = new Set(["node_modules", "dist", ".git", "data", "bench/tmp"]);

function checkStructure(cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile("npm", ["run", "--silent", "check:structure"], { cwd }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe("structure checks (npm run check:structure)", function () {
  this.timeout(120_000);
  const s = scratch();
  const tree = s.path("tree");

  before(() => {
    cpSync(ROOT, tree, { recursive: true, filter: (src) => !SKIP.has(relative(ROOT, src)) });
    symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"), "dir");
  });
  after(() => s.cleanup());

  /** Runs the check with `text` appended to `file`, then puts the file back. */
  async function withSeed(file: string, text: string): Promise<{ code: number; output: string }> {
    const path = join(tree, file);
    const before = readFileSync(path);
    appendFileSync(path, text);
    try {
      return await checkStructure(tree);
    } finally {
      writeFileSync(path, before);
    }
  }

  it("passes on the tree as it is, and sees its modules", async () => {
    const { code, output } = await checkStructure(tree);
    expect(code, output).to.equal(0);
    const m = /no dependency violations found \((\d+) modules/.exec(output);
    expect(m, output).to.not.equal(null);
    expect(Number(m![1]), "dependency-cruiser sees the modules (with TypeScript 7 it needs @swc/core)").to.be.greaterThan(60);
  });

  it("fails when signing/ imports server/", async () => {
    const { code, output } = await withSeed("signing/index.ts", '\nimport "../server/app.ts";\n');
    expect(code).to.not.equal(0);
    expect(output).to.include("signing-imports-only-below").and.include("signing/index.ts → server/app.ts");
  });

  it("fails when envelopes/ imports storage/", async () => {
    const { code, output } = await withSeed("envelopes/index.ts", '\nimport "../storage/index.ts";\n');
    expect(code).to.not.equal(0);
    expect(output).to.include("envelopes-imports-only-below").and.include("envelopes/index.ts → storage/index.ts");
  });

  it("fails when bin/ imports server/", async () => {
    const { code, output } = await withSeed("bin/cli.ts", '\nimport "../server/app.ts";\n');
    expect(code).to.not.equal(0);
    expect(output).to.include("bin-never-imports-server").and.include("bin/cli.ts → server/app.ts");
  });

  it("fails when a page (.tsx, which dependency-cruiser cannot parse) imports storage/", async () => {
    const { code, output } = await withSeed("server/pages/layout.tsx", '\nimport "../../storage/index.ts";\n');
    expect(code).to.not.equal(0);
    expect(output).to.include("server-imports-only-below").and.include("server/pages/layout.tsx → storage/index.ts");
  });

  it("fails on a new export nobody imports", async () => {
    const { code, output } = await withSeed("envelopes/model.ts", "\nexport const seededUnusedExport = 1;\n");
    expect(code).to.not.equal(0);
    expect(output).to.match(/Unused exports \(1\)\s+seededUnusedExport\b.*envelopes\/model\.ts/);
  });
});
