// Service benchmark (issue: the exchange service). Two real nodes (the compiled server, two
// processes, two data dirs, SQLite) on loopback; clerks at node A send documents with a 50 KB PDF
// to node B; a document counts when its receipt 01 is back at A. Next to it, in the same run: a
// plain Express + multer endpoint that only stores the same upload. Then search latency over a
// generated archive of documents.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import express from "express";
import knexFactory from "knex";
import multer from "multer";
import { openStorage, searchDocuments, terms } from "../storage/index.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The bench folder, where benchmarks keep their scratch data (tmp/). */
export const BENCH_ROOT = join(ROOT, "bench");
const EDOC = join(ROOT, "bin", "edoc");
const SERVER = join(ROOT, "dist", "server", "main.js");
const CONTROL = join(ROOT, "bench", "cpuwork.ts");

const A = "000.00.00.G22";
const B = "000.00.00.H41";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

interface NodeProc {
  url: string;
  env: NodeJS.ProcessEnv;
  proc?: ChildProcess;
  token: string;
  admin: string;
}

async function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const { stdout } = await run(EDOC, args, { env: { ...process.env, ...env } });
  return stdout.trim().split("\n").pop()!;
}

/** A node's data directory and agency, set up through the CLI (`database`: on PostgreSQL, in a schema of its own). */
export async function startNode(dir: string, organId: string, name: string, database?: { url: string; schema: string }): Promise<NodeProc> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    EDOC_DATA_DIR: dir,
    PORT: String(port),
    EDOC_PUBLIC_URL: url,
    EDOC_ORGAN_ID: organId,
    EDOC_ORGAN_NAME: name,
    ...(database ? { DATABASE_URL: database.url, EDOC_DB_SCHEMA: database.schema } : {}),
  };
  await cli(env, "agency", "add", "--organ-id", organId, "--name", name, "--dev");
  const token = await cli(env, "token", "create", "--organ-id", organId, "--role", "clerk", "--name", "bench");
  const admin = await cli(env, "token", "create", "--organ-id", organId, "--role", "admin", "--name", "bench");
  return { url, env, token, admin };
}

/**
 * Starts the node: one process, or `processes` of them sharing its port (node:cluster, the way
 * the README's "Several processes" runs them; on PostgreSQL only).
 */
export async function launch(n: NodeProc, processes = 1): Promise<void> {
  // EDOC_BENCH_NODE_ARGS: extra node flags for the nodes (e.g. --cpu-prof to profile them)
  const extra = process.env.EDOC_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  // both nodes' processes within PostgreSQL's max_connections (100 here, shared): each process opens
  // EDOC_DB_POOL_MAX + 6 at most (README "PostgreSQL settings")
  const pool = n.env.DATABASE_URL && !process.env.EDOC_DB_POOL_MAX ? { EDOC_DB_POOL_MAX: String(Math.min(10, Math.floor(90 / (2 * processes)) - 6)) } : {};
  const env = { ...process.env, ...n.env, ...pool };
  // EDOC_BENCH_LOG_DIR: each single-process node's log (JSON lines) into a file there
  const logDir = process.env.EDOC_BENCH_LOG_DIR;
  const log = logDir ? openSync(join(logDir, `node-${new URL(n.url).port}.log`), "a") : "ignore";
  if (processes === 1) n.proc = spawn(process.execPath, [...extra, SERVER], { env, stdio: ["ignore", log, "inherit"] });
  else {
    // one after the other (each finds the schema migrated); SIGTERM to the primary stops them all
    const primary = `const cluster = require("node:cluster");
cluster.setupPrimary({ exec: ${JSON.stringify(SERVER)}, execArgv: ${JSON.stringify(extra)}, stdio: ["ignore", "ignore", "inherit", "ipc"] });
const fork = (i) => { if (i < ${processes}) cluster.fork().once("listening", () => fork(i + 1)); else console.log("ready"); };
fork(0);
cluster.on("exit", (w, code) => { if (code) { console.error("a process of the node exited with " + code); process.exit(1); } });
process.on("SIGTERM", () => { for (const w of Object.values(cluster.workers)) w.process.kill("SIGTERM"); });`;
    const proc = spawn(process.execPath, ["-e", primary], { env, stdio: ["ignore", "pipe", "inherit"] });
    n.proc = proc;
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
      proc.once("exit", () => reject(new Error(`the ${processes} processes of ${n.url} did not start`)));
    });
  }
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${n.url}/readyz`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node at ${n.url} did not start`);
}

/** Registers each node's agency (certificate, endpoint) at the other, through the admin API. */
async function link(a: NodeProc, aOrgan: string, b: NodeProc): Promise<void> {
  const agency = (await (await fetch(`${a.url}/api/v1/agencies/${aOrgan}`, { headers: { authorization: `Bearer ${a.admin}` } })).json()) as {
    name: string;
    certificates: string[];
  };
  const res = await fetch(`${b.url}/api/v1/agencies`, {
    method: "POST",
    headers: { authorization: `Bearer ${b.admin}`, "content-type": "application/json" },
    body: JSON.stringify({ organId: aOrgan, name: agency.name, endpoint: a.url, certificates: agency.certificates }),
  });
  if (!res.ok) throw new Error(`linking ${aOrgan} at ${b.url}: ${res.status} ${await res.text()}`);
}

function pdf(): Blob {
  return new Blob([Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(50 * 1024 - 9)])], { type: "application/pdf" });
}

/**
 * CPU time (user + system, ms) of a process and its children (the processes of a cluster), and
 * their threads' context switches: involuntary ones are a thread taken off a core for another.
 */
function usage(pid: number): { cpuMs: number; switches: number; involuntary: number } {
  let ticks = 0;
  let switches = 0;
  let involuntary = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // fields after the command name: state ppid … utime (14) stime (15)
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(entry) !== pid && Number(f[1]) !== pid) continue;
      ticks += Number(f[11]) + Number(f[12]);
      for (const task of readdirSync(`/proc/${entry}/task`)) {
        const status = readFileSync(`/proc/${entry}/task/${task}/status`, "utf8");
        const voluntary = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
        const forced = Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
        switches += voluntary + forced;
        involuntary += forced;
      }
    } catch {
      continue; // gone meanwhile
    }
  }
  return { cpuMs: ticks * 10, switches, involuntary }; // USER_HZ is 100 on Linux
}

async function load(url: string, token: string, total: number, concurrency: number, body: (n: number) => FormData): Promise<{ seconds: number; latencies: number[]; ids: string[]; started: Map<string, number> }> {
  let next = 0;
  const latencies: number[] = [];
  const ids: string[] = [];
  const started = new Map<string, number>();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const n = next++;
        const t = performance.now();
        const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: body(n) });
        const json = (await res.json()) as { id?: string; error?: string };
        if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${json.error}`);
        latencies.push(performance.now() - t);
        if (json.id) {
          ids.push(json.id);
          started.set(json.id, Date.now() - (performance.now() - t));
        }
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, latencies, ids, started };
}

interface EndToEnd {
  rate: number;
  uploadRate: number;
  duringUploads: number;
  api: number[];
  receipt: number[];
  missing: number;
  cpuMsPerDocument: number;
  /** CPU ms per document of the sender A, the recipient B and the load generator (this process). */
  cpuMs: { a: number; b: number; load: number };
  /** Context switches of both nodes' threads per document, and of those the involuntary ones. */
  switchesPerDocument: number;
  involuntaryPerDocument: number;
}

/**
 * Two nodes, A sending `documents` 50 KB documents to B from `concurrency` clerks; a document
 * counts when its receipt 01 is back at A. SQLite by default; on PostgreSQL each node in a schema
 * of its own, run as `processes` processes.
 */
async function endToEnd(dir: string, opts: { documents: number; warmup: number; concurrency: number; pg?: string; processes?: number }): Promise<EndToEnd> {
  const tag = `${Date.now().toString(36)}${opts.processes ?? 1}`;
  const schema = (x: string) => (opts.pg ? { url: opts.pg, schema: `bench_${x}_${tag}` } : undefined);
  const nodes: NodeProc[] = [];
  try {
    const a = await startNode(join(dir, `a-${tag}`), A, "Văn phòng Chính phủ", schema("a"));
    const b = await startNode(join(dir, `b-${tag}`), B, "UBND tỉnh Nghệ An", schema("b"));
    nodes.push(a, b);
    await Promise.all([launch(a, opts.processes), launch(b, opts.processes)]);
    // each trusts the other's development CA and knows the other's agency
    for (const [x, y] of [[a, b], [b, a]] as const) await cli(y.env, "trust", "add", join(x.env.EDOC_DATA_DIR!, "dev-ca", "ca.pem"));
    await link(a, A, b);
    await link(b, B, a);
    await new Promise((r) => setTimeout(r, 3000)); // the nodes see the new trust (EDOC_TRUST_REFRESH_MS) before the first send
    const run = Date.now() % 100000; // each document its own number (a DocumentId is sent once)
    const documents = (code: string) => (n: number) => {
      const f = new FormData();
      f.append("metadata", JSON.stringify({ To: [B], Code: `${n + 1}/${code}-B${run}`, DocumentType: { Type: 1, TypeName: "Quyết định" }, Subject: "Quyết định thử tải" }));
      f.append("files", pdf(), "quyết định.pdf");
      return f;
    };
    // wait until `n` receipts 01 are back at A (its delivery gauge, cheap to poll)
    const delivered = async () => {
      const text = await (await fetch(`${a.url}/metrics`)).text();
      return Number(/^edoc_deliveries\{state="delivered"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const receiptsBack = async (n: number) => {
      const deadline = Date.now() + 600_000;
      while ((await delivered()) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    };
    // the warm-up: every process of both nodes has compiled its hot path before anything is measured
    // (a node runs for days; its first seconds are the JIT's), then the queue is empty again
    if (opts.warmup > 0) {
      await load(`${a.url}/api/v1/documents`, a.token, opts.warmup, opts.concurrency, documents("TĐ"));
      await receiptsBack(opts.warmup);
    }
    // each node's processes, and this process (the load generator and its pollers)
    const both = () => {
      const [x, y] = [usage(a.proc!.pid!), usage(b.proc!.pid!)];
      const self = process.cpuUsage();
      return { a: x.cpuMs, b: y.cpuMs, load: (self.user + self.system) / 1000, switches: x.switches + y.switches, involuntary: x.involuntary + y.involuntary };
    };
    const used0 = both();
    const sent = await load(`${a.url}/api/v1/documents`, a.token, opts.documents, opts.concurrency, documents("QĐ"));
    // then read each receipt's time once: the pollers take nothing from the nodes while they work
    await receiptsBack(opts.warmup + sent.ids.length);
    const used = both();
    const receipt: number[] = [];
    const receiptTimes: number[] = [];
    for (const id of sent.ids) {
      const rec = (await (await fetch(`${a.url}/api/v1/documents/${id}`, { headers: { authorization: `Bearer ${a.token}` } })).json()) as {
        statuses: Array<{ code: string; at: string }>;
      };
      const r = rec.statuses.find((x) => x.code === "01");
      if (r) {
        receiptTimes.push(new Date(r.at).getTime());
        receipt.push(new Date(r.at).getTime() - sent.started.get(id)!);
      }
    }
    // end-to-end rate: documents whose receipt is back, over the time from the first POST to the last receipt
    const firstPost = Math.min(...sent.started.values());
    const uploadsEnd = firstPost + sent.seconds * 1000;
    return {
      rate: receipt.length / ((Math.max(...receiptTimes) - firstPost) / 1000),
      uploadRate: opts.documents / sent.seconds,
      // receipts that came back while the clients were still uploading
      duringUploads: receiptTimes.filter((t) => t <= uploadsEnd).length / sent.seconds,
      api: sent.latencies.sort((x, y) => x - y),
      receipt: receipt.sort((x, y) => x - y),
      missing: sent.ids.length - receipt.length,
      cpuMsPerDocument: (used.a - used0.a + used.b - used0.b) / opts.documents,
      cpuMs: { a: (used.a - used0.a) / opts.documents, b: (used.b - used0.b) / opts.documents, load: (used.load - used0.load) / opts.documents },
      switchesPerDocument: (used.switches - used0.switches) / opts.documents,
      involuntaryPerDocument: (used.involuntary - used0.involuntary) / opts.documents,
    };
  } finally {
    for (const n of nodes) n.proc?.kill("SIGTERM");
    await Promise.all(nodes.map((n) => n.proc && n.proc.exitCode === null && new Promise((r) => n.proc!.once("exit", r))));
    if (opts.pg) {
      const k = knexFactory({ client: "pg", connection: opts.pg });
      for (const x of ["a", "b"]) await k.raw("DROP SCHEMA IF EXISTS ?? CASCADE", [schema(x)!.schema]);
      await k.destroy();
    }
  }
}

/**
 * CPU ms per operation of the control (bench/cpuwork.ts: sign and verify one packet) run in
 * `processes` processes at once for `ms`: what sharing this machine's cores costs by itself.
 */
async function controlCpuPerOp(processes: number, ms = 8000): Promise<number> {
  const results = await Promise.all(
    Array.from({ length: processes }, async () => {
      const { stdout } = await run(process.execPath, ["--import", "tsx", CONTROL, String(ms)]);
      return JSON.parse(stdout.trim().split("\n").pop()!) as { n: number; cpuMs: number };
    }),
  );
  return results.reduce((a, r) => a + r.cpuMs, 0) / results.reduce((a, r) => a + r.n, 0);
}

const ms = (sorted: number[], p: number) => `${percentile(sorted, p)?.toFixed(0)} ms`;

export async function benchService(opts: { documents: number; warmup: number; concurrency: number; archive: number; nodesDir?: string; pg?: string; processes: number[] }): Promise<string> {
  const dir = join(opts.nodesDir ?? join(ROOT, "bench", "tmp"), `service-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const rows: string[] = [];
  // 1. the reference: Express + multer storing the same upload, and nothing else
  const uploads = join(dir, "plain-uploads");
  const plain = express();
  plain.post("/upload", multer({ dest: uploads }).array("files"), (_req, res) => res.status(201).json({ id: randomUUID() }));
  const port = await freePort();
  const server = plain.listen(port, "127.0.0.1");
  const upload = () => {
    const f = new FormData();
    f.append("metadata", "{}");
    f.append("files", pdf(), "a.pdf");
    return f;
  };
  // warmed up like the nodes
  if (opts.warmup > 0) await load(`http://127.0.0.1:${port}/upload`, "x", opts.warmup, opts.concurrency, upload);
  const base = await load(`http://127.0.0.1:${port}/upload`, "x", opts.documents, opts.concurrency, upload);
  server.close();
  const plainRate = opts.documents / base.seconds;
  base.latencies.sort((x, y) => x - y);
  const reference = `plain Express + multer store-only: ${plainRate.toFixed(0)} uploads/s, p50 ${ms(base.latencies, 50)}, p99 ${ms(base.latencies, 99)}`;

  // 2. two nodes end to end: SQLite, then PostgreSQL with 1, 2 and 4 processes per node
  const line = (e: EndToEnd) =>
    `${e.rate.toFixed(0)} docs/s = **${((100 * e.rate) / plainRate).toFixed(0)} %** of the reference; API p50 ${ms(e.api, 50)}, p99 **${ms(e.api, 99)}**; receipts during uploads ${e.duringUploads.toFixed(0)}/s = **${((100 * e.duringUploads) / e.uploadRate).toFixed(0)} %** of the upload rate ${e.uploadRate.toFixed(0)}/s; receipt latency p50 ${ms(e.receipt, 50)}, p99 ${ms(e.receipt, 99)}; CPU ${e.cpuMsPerDocument.toFixed(0)} ms per document (both nodes: A ${e.cpuMs.a.toFixed(1)} + B ${e.cpuMs.b.toFixed(1)} ms; with the load generator's ${e.cpuMs.load.toFixed(1)} ms, ${cpus().length} cores do at most ${((cpus().length * 1000) / (e.cpuMs.a + e.cpuMs.b + e.cpuMs.load)).toFixed(0)} docs/s), ${e.switchesPerDocument.toFixed(0)} context switches per document (${e.involuntaryPerDocument.toFixed(1)} involuntary)${e.missing ? `; ${e.missing} receipts missing` : ""}`;
  const title = `send ${opts.documents} × 50 KB documents end to end, ${opts.concurrency} clients (after ${opts.warmup} to warm up)`;
  rows.push(
    `| ${title}, SQLite (receipt 01 back) | ${line(await endToEnd(dir, { ...opts, pg: undefined, processes: 1 }))} | ${reference} | ≥ 40 % of the reference; API p99 < 500 ms; receipts during uploads ≥ 80 % of the upload rate |`,
  );
  if (opts.pg) {
    // beside each, the control in as many processes (both nodes'): how much more CPU the same work
    // takes on this machine when that many processes share its cores, against 1 process per node
    const control1 = await controlCpuPerOp(2);
    let first: number | null = null;
    for (const processes of opts.processes) {
      const e = await endToEnd(dir, { ...opts, pg: opts.pg, processes });
      const control = processes === 1 ? control1 : await controlCpuPerOp(2 * processes);
      first ??= e.cpuMsPerDocument;
      const growth = `CPU per document ×${(e.cpuMsPerDocument / first).toFixed(2)} of the first row; the control (sign + verify one packet) in ${2 * processes} processes at once: ${control.toFixed(2)} ms CPU per operation, ×${(control / control1).toFixed(2)} of 2 processes`;
      rows.push(`| ${title}, PostgreSQL, ${processes} process${processes > 1 ? "es" : ""} per node | ${line(e)} | ${reference}; ${growth} | report; CPU per document flat as processes are added (grows no more than the control) |`);
    }
  }

  // 3. search over a generated archive (--archive 0: skipped)
  if (opts.archive > 0) rows.push(await benchSearch(join(ROOT, "bench", "tmp", `archive-v3-${opts.archive}`), opts.archive));
  rmSync(dir, { recursive: true, force: true });
  return ["| measure | this project | reference (same run) | target |", "|---|---|---|---|", ...rows].join("\n");
}

// Subjects shaped like real trích yếu: a kind, "về việc", a topic, a place.
const KINDS = ["Quyết định", "Công văn", "Thông báo", "Kế hoạch", "Báo cáo", "Tờ trình", "Giấy mời", "Chỉ thị", "Hướng dẫn"];
const TOPICS = [
  "triển khai chuyển đổi số", "cải cách hành chính", "ban hành quy chế văn thư lưu trữ", "dự toán ngân sách năm 2026",
  "đầu tư xây dựng trường học", "phòng chống dịch bệnh", "kiểm tra công tác y tế", "tuyển dụng công chức",
  "bảo đảm an toàn giao thông", "phòng cháy chữa cháy", "đường giao thông nông thôn", "hỗ trợ đồng bào dân tộc thiểu số",
  "quản lý đất đai", "bảo vệ môi trường", "phát triển du lịch", "chương trình nông thôn mới", "thi đua khen thưởng",
  "tiếp công dân", "giải quyết khiếu nại tố cáo", "phòng chống thiên tai", "an ninh mạng", "cấp đổi giấy phép lái xe",
];
const PLACES = ["Hà Nội", "Nghệ An", "Cao Bằng", "Đắk Lắk", "Lâm Đồng", "Tây Ninh", "Quảng Nam", "Thanh Hóa", "Huế", "Đà Nẵng", "Cần Thơ", "Hải Phòng"];
// signers' names, searched too (and attachment names, here one per document)
const FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"];
const MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Quang"];
const GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hùng", "Lan", "Long", "Mai", "Nam", "Phương", "Quyết", "Sơn", "Thảo", "Trung", "Tuấn", "Việt", "Yến"];
const FILES = ["Dự thảo", "Phụ lục", "Tờ trình", "Bảng tổng hợp", "Báo cáo", "Danh sách"];

/** Generates (once, kept under bench/tmp) an archive and times searches over it. */
async function benchSearch(dataDir: string, count: number): Promise<string> {
  const st = await openStorage({ dataDir });
  // (the generated archive is kept in dataDir and reused by later runs)
  try {
    const have = Number((await st.db("documents").count({ n: "*" }))[0].n);
    if (have < count) {
      const packet = { sha256: "0".repeat(64), size: 0 };
      await st.db("blobs").insert({ sha256: packet.sha256, size: 0, created_at: new Date() }).onConflict("sha256").ignore();
      const start = Date.parse("2020-01-01T00:00:00Z");
      for (let i = have; i < count; i += 500) {
        await st.db.transaction(async (trx) => {
          const docs = [];
          const words = [];
          for (let j = i; j < Math.min(count, i + 500); j++) {
            const kind = KINDS[j % KINDS.length];
            const subject = `${kind} về việc ${TOPICS[(j * 7 + (j >> 4)) % TOPICS.length]} tại ${PLACES[(j * 5 + (j >> 6)) % PLACES.length]}`;
            const signer = `${FAMILY[(j * 3) % FAMILY.length]} ${MIDDLE[(j >> 3) % MIDDLE.length]} ${GIVEN[(j * 11 + (j >> 5)) % GIVEN.length]}`;
            const file = `${FILES[(j >> 2) % FILES.length]} ${j}.pdf`;
            const id = `doc-${String(j).padStart(8, "0")}`;
            const created = new Date(start + j * 60_000);
            docs.push({
              id,
              direction: j % 2 ? "in" : "out",
              local_organ: A,
              document_id: `${A},2026/01/01,${j}/QĐ`,
              from_organ: j % 2 ? B : A,
              code: `${j}/QĐ`,
              subject,
              business_type: 0,
              doc_type: kind,
              doc_type_folded: terms(kind).join(" "),
              promulgation_date: "2026-01-01",
              status: "sent",
              packet_sha256: packet.sha256,
              header_json: "{}",
              report_json: "{}",
              created_at: created,
            });
            for (const term of terms(`${subject} ${j}/QĐ ${signer} ${file}`)) words.push({ local_organ: A, term, created_at: created, document: id });
          }
          await trx.batchInsert("documents", docs, 100);
          await trx.batchInsert("search_terms", words, 200);
        });
      }
    }
    // what clerks type: a kind and a topic, a place without diacritics, a phrase, a number, a
    // signer, an attachment; words still being typed (the last one a prefix: one word, a few, or
    // one letter that begins dozens); and with the type filter
    const queries: Array<{ q: string; type?: string }> = [
      { q: "quyet dinh chuyen doi so" },
      { q: "ke hoach phong chay chua chay" },
      { q: "dak lak" },
      { q: "duong giao thong nong thon" },
      { q: "bao cao du toan ngan sach" },
      { q: "cong van" },
      { q: `${count - 7}/QĐ` },
      { q: "nguyen van quyet" },
      { q: "phu luc" },
      { q: "quy" },
      { q: "quyet dinh chuyen d" },
      { q: "giao th" },
      { q: "tuye" },
      { q: "t" },
      { q: "hu", type: "huong dan" },
      { q: "", type: "thong bao" },
    ];
    const times: number[] = [];
    for (let round = 0; round < 30; round++) {
      for (const { q, type } of queries) {
        const t = performance.now();
        await searchDocuments(st.db, { localOrgan: A, q, type, direction: round % 2 ? "in" : undefined, page: 1 + (round % 3) });
        times.push(performance.now() - t);
      }
    }
    times.sort((x, y) => x - y);
    return `| search (full text and prefixes, names, filters, paging) over ${count.toLocaleString("en")} documents | p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms, max ${times[times.length - 1].toFixed(0)} ms (${times.length} queries) | — | p95 < 30 ms |`;
  } finally {
    await st.close();
  }
}

