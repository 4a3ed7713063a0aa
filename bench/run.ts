// npm run bench [-- --only core|service|dos|ui] [--inbox 10000] [--sizes 256,1024] [--documents 2000] [--warmup 4000] [--concurrency 32] [--processes 1,2,4]
// [--archive 1000000] [--pg URL|""]: runs the benchmarks, prints each table and writes it under bench/results/
// with the machine it was measured on.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { benchCore } from "./core.ts";
import { benchDos } from "./dos.ts";
import { benchService } from "./service.ts";
import { benchUi } from "./ui.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    sizes: { type: "string", default: "256,1024" },
    documents: { type: "string", default: "2000" },
    // documents sent end to end (and uploads to the reference) before each measured run
    warmup: { type: "string", default: "4000" },
    concurrency: { type: "string", default: "32" },
    archive: { type: "string", default: "1000000" },
    // documents in the inbox of the UI bench
    inbox: { type: "string", default: "10000" },
    // where the two nodes keep their data (default bench/tmp); e.g. /dev/shm to take the disk out
    "nodes-dir": { type: "string" },
    // processes per node in the PostgreSQL rows
    processes: { type: "string", default: "1,2,4" },
    // PostgreSQL for the 1 / 2 / 4 process rows (default TEST_DATABASE_URL; "" skips them)
    pg: { type: "string", default: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test" },
  },
});

function write(name: string, title: string, notes: string, table: string): void {
  const report = `# ${title}

Measured ${new Date().toISOString()} on ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores), Node ${process.version}.
${notes}

${table}
`;
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${name}.md`, import.meta.url), report);
  process.stdout.write(report + "\n");
}

if (!values.only || values.only === "core") {
  const sizes = values.sizes!.split(",").map(Number).filter((n) => n > 0);
  write(
    "core",
    "Core benchmark",
    "MiB/s counts attachment bytes; RSS is the peak resident memory of the whole process (GNU time).\nRates run in one process on one core; large packets go through the real `bin/edoc` CLI.",
    await benchCore(sizes),
  );
}
if (!values.only || values.only === "service") {
  write(
    "service",
    "Service benchmark",
    "Two nodes (the compiled server, SQLite; then PostgreSQL with 1, 2 and 4 processes per node on one port, node:cluster) on loopback, the load generator on the same machine; a document counts when its receipt 01 is back at the sender. Each run comes after a warm-up (`--warmup`, the same number of documents for the reference): a node runs for days, and its first minutes belong to the JIT compiler, in every process (with `--trace-opt`, V8's optimizing compiler spent 3.6 to 4.1 s of each node's CPU on the first 500 documents, 1.2 to 1.7 s on documents 1,000 to 1,500, and 0.3 to 0.5 s per 500 documents after 3,000: hence 4,000 by default). CPU is user + system time of both nodes' processes from the first measured upload to the last receipt. Beside each PostgreSQL row, a control: the crypto of one document (sign and verify a packet, bench/cpuwork.ts) run in as many processes at once as both nodes have, for its CPU per operation: what this 2-core machine adds by itself when that many processes share it.",
    await benchService({
      documents: Number(values.documents),
      warmup: Number(values.warmup),
      concurrency: Number(values.concurrency),
      archive: Number(values.archive),
      nodesDir: values["nodes-dir"],
      pg: values.pg || undefined,
      processes: values.processes!.split(",").map(Number).filter((n) => n > 0),
    }),
  );
}
if (!values.only || values.only === "dos") {
  write(
    "dos",
    "DoS benchmark",
    "One node (the compiled server, its own process, SQLite) on loopback; malicious bodies at its unauthenticated door POST /edxml.",
    await benchDos(),
  );
}
if (!values.only || values.only === "ui") {
  write(
    "ui",
    "UI benchmark",
    "One node (the app in the bench process, SQLite) with its inbox filled through the receive use case (signed packets, verified and stored); a signed-in clerk's requests on loopback.",
    await benchUi({ documents: Number(values.inbox) }),
  );
}
