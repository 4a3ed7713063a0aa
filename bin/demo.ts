// `npm run demo`: two nodes exchange a document end to end, on this machine.
//
//  1. starts two nodes (the compiled server, as `npm start` runs it) on 127.0.0.1, each with its
//     own data directory under a temporary directory; each sets itself up on its first start
//     (development CA, one agency, tokens);
//  2. makes them know each other with the CLI: `edoc trust add` of the other's development CA and
//     `edoc registry add` of the other's agency, with its certificate (`edoc agency cert`);
//  3. a clerk of A sends a document with a small generated PDF through the HTTP API; B receives
//     and verifies it; B's clerk accepts it (03) and completes it (06), and A sees both;
//  4. downloads the evidence bundle from A and A's signed registry snapshot, and checks the
//     bundle offline with `edoc verify`.
// Exits 0 when every step worked, 1 with the reason otherwise; stops its nodes either way.
// `--keep` leaves the temporary directory (data, logs, bundle) for a look.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, createWriteStream, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)); // dist/bin → the repository
const SERVER = join(ROOT, "dist/server/main.js");
const EDOC = join(ROOT, "bin/edoc");
const KEEP = process.argv.includes("--keep");
const started = Date.now();

const A = { organId: "000.00.00.Z91", name: "Sở Thử nghiệm A (demo)" };
const B = { organId: "000.00.00.Z92", name: "UBND Thử nghiệm B (demo)" };

class DemoFailure extends Error {}

function step(text: string): void {
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}\n`);
}
function detail(text: string): void {
  process.stdout.write(`          ${text.replace(/\n/g, "\n          ")}\n`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value, or fails with `what` after `ms`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(150);
  }
  throw new DemoFailure(`timed out after ${ms / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

/** A one-page PDF with a line of text, xref offsets computed. */
function smallPdf(text: string): Buffer {
  const stream = `BT /F1 18 Tf 72 760 Td (${text.replace(/[()\\]/g, "\\$&")}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${Buffer.byteLength(stream, "latin1")} >>\nstream\n${stream}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, "latin1"));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

interface DemoNode {
  label: string;
  organId: string;
  name: string;
  dataDir: string;
  url: string;
  child: ChildProcess;
  output: string[];
  tokens: { admin: string; clerk: string };
  exited: Promise<number | null>;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // each demo node has its own SQLite database and master key in its data directory
  for (const k of ["DATABASE_URL", "EDOC_DB_SCHEMA", "EDOC_MASTER_KEY", "EDOC_REGISTRY_URL", "EDOC_REGISTRY_CERT", "EDOC_PUBLIC_URL", "PORT"]) delete env[k];
  return env;
}

async function startDemoNode(label: string, agency: { organId: string; name: string }, dir: string): Promise<DemoNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = join(dir, label, "data");
  const child = spawn(process.execPath, [SERVER], {
    cwd: ROOT,
    env: {
      ...cleanEnv(),
      PORT: String(port),
      EDOC_LISTEN_HOST: "127.0.0.1",
      EDOC_PUBLIC_URL: url,
      EDOC_DATA_DIR: dataDir,
      EDOC_ORGAN_ID: agency.organId,
      EDOC_ORGAN_NAME: agency.name,
      EDOC_LOG_LEVEL: "info",
      // quick reactions for a demo: trust changes seen within 0.2 s, the queue polled every 0.1 s
      EDOC_TRUST_REFRESH_MS: "200",
      EDOC_DELIVERY_POLL_MS: "100",
      EDOC_DELIVERY_BASE_DELAY_MS: "300",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const log = createWriteStream(join(dir, `${label}.log`));
  let text = "";
  child.stdout!.on("data", (d: Buffer) => {
    text += d.toString("utf8");
    log.write(d);
  });
  child.stderr!.on("data", (d: Buffer) => {
    output.push(d.toString("utf8"));
    log.write(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const node: DemoNode = { label, organId: agency.organId, name: agency.name, dataDir, url, child, output, tokens: { admin: "", clerk: "" }, exited };
  let dead = false;
  void exited.then(() => (dead = true));
  await waitFor(`node ${label} to print its tokens`, async () => {
    if (dead) throw new DemoFailure(`node ${label} exited: ${output.join("") || text}`);
    const admin = /admin token: (\S+)/.exec(text)?.[1];
    const clerk = /clerk token: (\S+)/.exec(text)?.[1];
    if (admin && clerk) node.tokens = { admin, clerk };
    return admin && clerk;
  });
  await waitFor(`node ${label} to be ready`, async () => (await fetch(`${url}/readyz`)).ok);
  output.push(text);
  return node;
}

function edoc(node: DemoNode, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [EDOC, ...args], { cwd: ROOT, env: { ...cleanEnv(), EDOC_DATA_DIR: node.dataDir, EDOC_PUBLIC_URL: node.url } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function edocOk(node: DemoNode, ...args: string[]): Promise<string> {
  const r = await edoc(node, ...args);
  if (r.code !== 0) throw new DemoFailure(`edoc ${args.join(" ")} (node ${node.label}) failed with exit ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

async function api<T = Record<string, any>>(node: DemoNode, path: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const res = await fetch(`${node.url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${init.token ?? node.tokens.clerk}`, ...(init.headers ?? {}) } });
  const body = await res.text();
  if (!res.ok) throw new DemoFailure(`${init.method ?? "GET"} ${node.url}/api/v1${path} answered ${res.status}: ${body.slice(0, 1000)}`);
  return JSON.parse(body) as T;
}

async function download(url: string, token: string | undefined, to: string): Promise<void> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new DemoFailure(`GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
  writeFileSync(to, Buffer.from(await res.arrayBuffer()));
}

async function stopNode(n: DemoNode | undefined): Promise<void> {
  if (!n || n.child.exitCode !== null) return;
  n.child.kill("SIGTERM");
  const code = await Promise.race([n.exited, sleep(5000).then(() => "timeout" as const)]);
  if (code === "timeout") {
    n.child.kill("SIGKILL");
    await n.exited;
  }
}

async function demo(dir: string, nodes: DemoNode[]): Promise<void> {
  step("starting two nodes (compiled server, SQLite, zero configuration but their ports and organ ids)");
  const [a, b] = await Promise.all([startDemoNode("a", A, dir), startDemoNode("b", B, dir)]);
  nodes.push(a, b);
  detail(`node A at ${a.url}: agency ${a.organId} "${a.name}"\nnode B at ${b.url}: agency ${b.organId} "${b.name}"`);

  step("they get to know each other with the CLI: trust the other's development CA, register the other's agency");
  const certFile = (n: DemoNode) => join(dir, `${n.label}-agency.pem`);
  await Promise.all([
    ...[a, b].map(async (n) => writeFileSync(certFile(n), await edocOk(n, "agency", "cert", "--organ-id", n.organId))),
    edocOk(a, "trust", "add", join(b.dataDir, "dev-ca", "ca.pem")),
    edocOk(b, "trust", "add", join(a.dataDir, "dev-ca", "ca.pem")),
  ]);
  await Promise.all([
    edocOk(a, "registry", "add", "--organ-id", b.organId, "--name", b.name, "--endpoint", b.url, "--cert", certFile(b)),
    edocOk(b, "registry", "add", "--organ-id", a.organId, "--name", a.name, "--endpoint", a.url, "--cert", certFile(a)),
  ]);
  for (const [me, other] of [
    [a, b],
    [b, a],
  ] as const) {
    detail(`on ${me.label}: edoc trust add ${other.label}/data/dev-ca/ca.pem; edoc registry add --organ-id ${other.organId} … --endpoint ${other.url} --cert ${other.label}-agency.pem`);
  }
  await sleep(600); // the running nodes reload their trust within EDOC_TRUST_REFRESH_MS (0.2 s)

  step(`a clerk of A sends a document with a PDF to ${b.organId} (POST /api/v1/documents)`);
  const pdf = smallPdf("Quyet dinh so 12/QD-DEMO - edoc demo");
  const form = new FormData();
  form.append(
    "metadata",
    JSON.stringify({
      To: [b.organId],
      Code: "12/QĐ-DEMO",
      PromulgationInfo: { Place: "Hà Nội" },
      DocumentType: { Type: 1, TypeName: "Quyết định" },
      Subject: "V/v thử nghiệm liên thông văn bản điện tử giữa hai nút",
      Content: "Văn bản thử nghiệm do chương trình demo tạo ra.",
      SignerInfo: { Competence: "GIÁM ĐỐC", Position: "Giám đốc", FullName: "Nguyễn Văn Thử" },
    }),
  );
  form.append("files", new Blob([new Uint8Array(pdf)], { type: "application/pdf" }), "Quyet-dinh-12.pdf");
  const sent = await api(a, "/documents", { method: "POST", body: form });
  detail(`document ${sent.id}: DocumentId ${sent.documentId}, signed by ${sent.verification?.signer?.subject ?? "?"}`);

  step("A's delivery worker sends it to B's /edxml; B verifies it and answers with a signed receipt (01)");
  const delivered = await waitFor("A's delivery to be acknowledged by B", async () => {
    const d = await api(a, `/documents/${sent.id}`);
    const del = d.deliveries?.[0];
    if (del?.state === "failed") throw new DemoFailure(`the delivery failed: ${del.lastError}`);
    return del && del.state !== "queued" && del.state !== "sending" ? d : null;
  });
  detail(`A: delivery to ${delivered.deliveries[0].organId} is "${delivered.deliveries[0].state}" after ${delivered.deliveries[0].attempts} attempt(s)`);

  const received = await waitFor("the document at B", async () => {
    const list = await api<{ items: Array<Record<string, any>> }>(b, `/documents?direction=in`);
    return list.items.find((d) => d.documentId === sent.documentId);
  });
  if (!received.verification?.valid) throw new DemoFailure(`B stored the document but its verification says ${JSON.stringify(received.verification)}`);
  detail(
    `B: received ${received.id} from ${received.from}, "${received.subject}"\n` +
      `B: verification ${received.verification.indication}, signer ${received.verification.signer?.subject ?? "?"}\n` +
      `B: attachments ${received.attachments.map((x: { name: string; size: number }) => `${x.name} (${x.size} bytes)`).join(", ")}`,
  );
  const att = await fetch(`${b.url}/api/v1/documents/${received.id}/attachments/1`, { headers: { authorization: `Bearer ${b.tokens.clerk}` } });
  const attBytes = Buffer.from(await att.arrayBuffer());
  if (!att.ok || !attBytes.equals(pdf)) throw new DemoFailure("the PDF B holds is not byte for byte the PDF A sent");
  detail("B: the PDF is byte for byte the one A sent");

  for (const [code, words] of [
    ["03", "accepts it (03, Đã tiếp nhận)"],
    ["06", "completes it (06, Hoàn thành)"],
  ] as const) {
    step(`B's clerk ${words}`);
    await api(b, `/documents/${received.id}/status`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code, description: code === "03" ? "Đã tiếp nhận, vào sổ văn bản đến" : "Đã xử lý xong" }),
    });
    const seen = await waitFor(`A to receive status ${code}`, async () => {
      const d = await api(a, `/documents/${sent.id}`);
      return d.deliveries?.[0]?.state === code ? d : null;
    });
    detail(`A: delivery state "${seen.deliveries[0].state}"; statuses ${seen.statuses.map((s: { code: string; from: string }) => `${s.code} from ${s.from}`).join(", ")}`);
  }

  step("A's archivist view: the evidence bundle, and A's signed registry snapshot");
  const bundle = join(dir, "evidence.zip");
  const snapshot = join(dir, "registry-a.xml");
  await download(`${a.url}/api/v1/documents/${sent.id}/evidence`, a.tokens.clerk, bundle);
  await download(`${a.url}/registry/snapshot`, undefined, snapshot);
  detail(`${bundle} (${readFileSync(bundle).length} bytes), ${snapshot}`);

  const args = [
    "verify",
    bundle,
    "--trust",
    join(a.dataDir, "dev-ca", "ca.pem"),
    "--trust",
    join(b.dataDir, "dev-ca", "ca.pem"),
    "--registry",
    snapshot,
    "--registry-cert",
    join(dir, "a-agency.pem"),
  ];
  step(`offline check: edoc ${args.map((x) => x.replace(dir + "/", "")).join(" ")}`);
  const r = await edoc(a, ...args);
  detail((r.stdout + r.stderr).trimEnd());
  if (r.code !== 0) throw new DemoFailure(`edoc verify says the evidence bundle is not valid (exit ${r.code})`);
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "edoc-demo-"));
  const nodes: DemoNode[] = [];
  let code = 0;
  const interrupt = () => {
    for (const n of nodes) n.child.kill("SIGKILL");
    process.exit(130);
  };
  process.once("SIGINT", interrupt);
  try {
    await demo(dir, nodes);
    step("done: the document went from A to B, was accepted and completed, and its evidence verifies offline");
  } catch (err) {
    code = 1;
    process.stderr.write(`\ndemo FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    if (!(err instanceof DemoFailure) && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.stderr.write(`the nodes' logs are in ${join(dir, "a.log")} and ${join(dir, "b.log")}\n`);
  } finally {
    await Promise.all(nodes.map(stopNode));
    for (const n of nodes) {
      if (n.child.exitCode !== 0 && n.child.signalCode === null && n.child.exitCode !== null) {
        process.stderr.write(`node ${n.label} exited with ${n.child.exitCode}\n`);
      }
    }
    if (KEEP || code !== 0) process.stdout.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return code;
}

process.exitCode = await main();
