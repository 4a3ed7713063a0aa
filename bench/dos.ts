// DoS benchmark (issue 8): malicious bodies at the unauthenticated door POST /edxml of a real node
// (the compiled server, its own process, SQLite). Four attackers send without pause, each body an
// unterminated construct far over the scan limits (a 128 MB attribute value, a 128 MB comment, a
// million attributes, 128 MB of CDATA), while /healthz is asked one request after the other.
// Measured: time from a body's first byte to its refusal, /healthz latency under attack next to
// the same measure on the idle node in the same run, and the node's peak RSS.
import { request } from "node:http";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EDXML_NS } from "../envelopes/index.ts";
import { BENCH_ROOT, launch, percentile, startNode } from "./service.ts";

const MB = 1024 * 1024;
const HEAD = `<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="${EDXML_NS}"><edXMLEnvelope><edXMLHeader><MessageHeader>`;
const ATTACKS = [
  // `limit`: the bytes after which the node must refuse (a 1 MiB tag, 256 attributes, a 16 MiB skeleton)
  { what: "attribute", head: `${HEAD}<Subject a="`, fill: "x", limit: MB },
  { what: "comment", head: `${HEAD}<!--`, fill: "c", limit: 16 * MB },
  { what: "1M attributes", head: `${HEAD}<Subject`, fill: " a0=''", limit: 257 * 6 },
  { what: "CDATA", head: `${HEAD}<Subject><![CDATA[`, fill: "d", limit: 16 * MB },
];
const BODY_BYTES = 128 * MB;

/**
 * One malicious body; resolves with its status, the milliseconds to the answer, and the
 * milliseconds from the moment the client had handed `limit` bytes to the socket to the answer.
 */
function attack(url: string, head: string, fill: string, limit: number): Promise<{ status: number; ms: number; afterLimit: number }> {
  const start = performance.now();
  const unit = Buffer.from(fill);
  const chunk = Buffer.concat(Array.from({ length: Math.ceil((64 * 1024) / unit.length) }, () => unit));
  return new Promise((resolve, reject) => {
    let sent = 0;
    let crossed = NaN;
    let answered = false;
    const req = request(`${url}/edxml`, { method: "POST", headers: { "content-type": "application/xml", "content-length": BODY_BYTES } });
    req.on("response", (res) => {
      answered = true;
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, ms: performance.now() - start, afterLimit: performance.now() - crossed }));
    });
    // the connection cut with no answer (a reset or EPIPE): counted as such (status 0), not a crash
    // of the bench; anything else is the bench's own failure
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (answered) return;
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") return reject(err);
      setTimeout(() => answered || resolve({ status: 0, ms: NaN, afterLimit: NaN }), 2000);
    });
    // the node closes the connection once it has refused the body: a write still corked then fails
    // on the socket after the request let go of it (EPIPE), which is the point, not an error
    req.on("socket", (socket) => socket.on("error", () => {}));
    const pump = () => {
      while (!answered && sent < BODY_BYTES) {
        const piece = sent === 0 ? Buffer.from(head) : chunk.subarray(0, Math.min(chunk.length, BODY_BYTES - sent));
        sent += piece.length;
        if (sent > limit && Number.isNaN(crossed)) crossed = performance.now();
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

async function healthLatencies(url: string, until: () => boolean): Promise<number[]> {
  const out: number[] = [];
  while (!until()) {
    const t = performance.now();
    const res = await fetch(`${url}/healthz`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
    out.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 5));
  }
  return out.sort((a, b) => a - b);
}

const memory = (pid: number, field: "VmRSS" | "VmHWM") => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

export async function benchDos(seconds = 10): Promise<string> {
  const dir = join(BENCH_ROOT, "tmp", `dos-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const node = await startNode(join(dir, "b"), "000.00.00.H41", "UBND tỉnh Nghệ An");
  try {
    await launch(node);
    const pid = node.proc!.pid!;
    // reference: the same node, idle
    const idleEnd = performance.now() + 3000;
    const idle = await healthLatencies(node.url, () => performance.now() > idleEnd);
    const idleRss = memory(pid, "VmRSS");
    // four attackers, each sending one body after the other
    const end = performance.now() + seconds * 1000;
    const refusals: number[] = [];
    const afterLimits: number[] = [];
    const worstOf = new Map<string, number>();
    const statuses = new Map<number, number>();
    const attackers = ATTACKS.map(async ({ what, head, fill, limit }) => {
      while (performance.now() < end) {
        const { status, ms, afterLimit } = await attack(node.url, head, fill, limit);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 0) continue;
        refusals.push(ms);
        afterLimits.push(afterLimit);
        worstOf.set(what, Math.max(worstOf.get(what) ?? 0, afterLimit));
      }
    });
    let done = false;
    const all = Promise.all(attackers).finally(() => (done = true));
    all.catch(() => {}); // awaited below, once /healthz has stopped being asked
    const busy = await healthLatencies(node.url, () => done);
    await all;
    refusals.sort((a, b) => a - b);
    afterLimits.sort((a, b) => a - b);
    const peakRss = memory(pid, "VmHWM");
    const p99 = percentile(busy, 99);
    const worst = afterLimits[afterLimits.length - 1];
    const codes = [...statuses].map(([s, n]) => `${n}× ${s || "cut before any answer"}`).join(", ");
    return [
      "| measure | this project | reference (same run) | target | met |",
      "|---|---|---|---|---|",
      `| DoS at POST /edxml: 4 parallel unterminated 128 MB bodies (attribute, comment, 1M attributes, CDATA) for ${seconds} s | ${refusals.length + (statuses.get(0) ?? 0)} bodies sent, each refused (${codes}); time to refusal after the limit was sent p50 ${percentile(afterLimits, 50).toFixed(0)} ms, p99 ${percentile(afterLimits, 99).toFixed(0)} ms, max ${worst.toFixed(0)} ms (worst by kind: ${[...worstOf].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")}); from the first byte p50 ${percentile(refusals, 50).toFixed(0)} ms, max ${refusals[refusals.length - 1].toFixed(0)} ms; /healthz p50 ${percentile(busy, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (${busy.length} requests); node peak RSS ${peakRss.toFixed(0)} MiB | idle node: /healthz p50 ${percentile(idle, 50).toFixed(1)} ms, p99 ${percentile(idle, 99).toFixed(1)} ms (${idle.length} requests); RSS ${idleRss.toFixed(0)} MiB | refusal < 1 s after the limit, /healthz p99 < 100 ms, RSS < 300 MiB | ${worst < 1000 && p99 < 100 && peakRss < 300 && !statuses.has(500) && !statuses.has(0) ? "yes" : "no"} |`,
    ].join("\n");
  } finally {
    node.proc?.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}
