// dependency-cruiser 17's swc parser reads no JSX, so .dependency-cruiser.cjs excludes the pages
// (.tsx). This applies the same forbidden rules (read from that file: they live in one place) to
// the imports of every .tsx file. `npm run check:structure` runs it after dependency-cruiser.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";

const root = process.cwd();
const { forbidden } = createRequire(import.meta.url)(join(root, ".dependency-cruiser.cjs"));
const FOLDERS = ["envelopes", "signing", "storage", "app", "server", "bin", "test", "bench", "fixtures"];
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^"';]*?(?:from\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;
const toList = (p) => (p === undefined ? [] : Array.isArray(p) ? p : [p]);
const matches = (path, p) => toList(p).some((re) => new RegExp(re).test(path));

const files = FOLDERS.filter((f) => existsSync(join(root, f))).flatMap((f) =>
  readdirSync(join(root, f), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".tsx"))
    .map((name) => join(f, name)),
);
const problems = [];
for (const file of files) {
  for (const m of readFileSync(join(root, file), "utf8").matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith(".")) continue; // a package
    const target = relative(root, resolve(dirname(join(root, file)), spec));
    for (const rule of forbidden) {
      if (rule.to.circular || !matches(file, rule.from.path ?? ".")) continue;
      const broken = rule.to.couldNotResolve ? !existsSync(join(root, target)) : matches(target, rule.to.path);
      if (broken) problems.push(`  ${rule.severity} ${rule.name}: ${file} → ${target}\n    ${rule.comment}`);
    }
  }
}
if (problems.length) {
  console.error(`✘ ${problems.length} dependency violation(s) in .tsx files:\n${problems.join("\n")}`);
  process.exit(1);
}
console.log(`✔ no dependency violations found in .tsx files (${files.length} modules)`);
