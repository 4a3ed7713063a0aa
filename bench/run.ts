// npm run bench [-- --sizes 256,1024]: runs the benchmarks, prints the table and writes it to
// bench/results/core.md with the machine it was measured on.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { benchCore } from "./core.ts";

const { values } = parseArgs({ options: { sizes: { type: "string", default: "256,1024" } } });
const sizes = values.sizes!.split(",").map(Number).filter((n) => n > 0);
const table = await benchCore(sizes);
const report = `# Core benchmark

Measured ${new Date().toISOString()} on ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores), Node ${process.version}.
MiB/s counts attachment bytes; RSS is the peak resident memory of the whole process (GNU time).
Rates run in one process on one core; large packets go through the real \`bin/edoc\` CLI.

${table}
`;
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/core.md", import.meta.url), report);
process.stdout.write(report);
