// Core benchmarks (issue: packets, signing, verification). Every figure is printed next to a
// reference measured in the same run on the same machine:
// - 100 KB packets signed in memory, verified from memory and from a file, per second of one core's
//   CPU time (as `openssl speed` counts, which is the reference: `openssl speed rsa2048`);
// - durable packs of that packet (file, fsync) vs `dd conv=fsync` writing the same bytes;
// - `bin/edoc verify` of it as a process vs `node -e 0`, alternately, median wall time;
// - pack+sign and verify of 256 MB and 1 GB attachments through the real CLI (MB/s, peak RSS)
//   vs `dd conv=fsync` writing, `openssl dgst -sha256` reading and xmlsec1 signing/verifying the same packet.
// Run: npm run bench [-- --sizes 256,1024] ; writes bench/results/core.md
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import type { Edoc } from "../envelopes/index.ts";
import {
  createDevCa,
  fingerprint,
  identityToP12,
  issueDevAgencyCertificate,
  packEdoc,
  signEdoc,
  verifyPacket,
  type Identity,
} from "../signing/index.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TMP = join(ROOT, "bench", "tmp");
const MiB = 1024 * 1024;
const SENDER = "000.00.00.G22";

interface Row {
  what: string;
  ours: string;
  reference: string;
  target: string;
  met: string;
}

function header(): Edoc["header"] {
  return {
    From: { OrganId: SENDER, OrganName: "Văn phòng Chính phủ" },
    To: [{ OrganId: "000.00.00.H41", OrganName: "UBND tỉnh Nghệ An" }],
    DocumentId: `${SENDER},2026/11/20,123/QĐ-VPCP`,
    Code: { CodeNumber: "123", CodeNotation: "QĐ-VPCP" },
    PromulgationInfo: { Place: "Hà Nội", PromulgationDate: "2026/11/20" },
    DocumentType: { Type: 1, TypeName: "Quyết định" },
    Subject: "Quyết định về việc ban hành Quy chế văn thư điện tử",
  };
}

export function edoc(attachmentName: string): Edoc {
  return {
    kind: "edoc",
    header: header(),
    bussiness: { BussinessDocType: 0, BussinessDocReason: "Văn bản điện tử mới", Paper: 0 },
    traces: [{ OrganId: SENDER, Timestamp: "2026/11/20 09:00:00" }],
    attachments: [{ ContentId: "bench-1", AttachmentName: attachmentName, ContentType: "application/pdf" }],
  };
}

async function opensslSpeed(): Promise<{ sign: number; verify: number }> {
  const { stdout } = await run("openssl", ["speed", "-seconds", "3", "rsa2048"], { maxBuffer: 1 << 20 });
  const m = /rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`cannot read openssl speed output:\n${stdout}`);
  return { sign: Number(m[1]), verify: Number(m[2]) };
}

/** Calls per second of the process's CPU time (user + system), after a warm-up: one core's rate. */
async function rate(fn: () => Promise<unknown>, seconds: number): Promise<number> {
  for (let i = 0; i < 30; i++) await fn();
  let n = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - start < seconds * 1000) {
    await fn();
    n++;
  }
  const used = process.cpuUsage(cpu);
  return (n * 1e6) / (used.user + used.system);
}

/** Runs per second of wall time, one after another, for about `seconds`. */
async function wallRate(fn: () => Promise<unknown>, seconds: number): Promise<number> {
  await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await fn();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall seconds and peak RSS (MiB) of a whole process, from GNU time. */
async function timed(cmd: string, args: string[]): Promise<{ seconds: number; rssMiB: number; ok: boolean; err: string }> {
  try {
    const { stderr } = await run("/usr/bin/time", ["-f", "@@%e %M", cmd, ...args], { maxBuffer: 64 << 20 });
    const m = /@@([\d.]+) (\d+)\s*$/.exec(stderr)!;
    return { seconds: Number(m[1]), rssMiB: Number(m[2]) / 1024, ok: true, err: "" };
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? e);
    const m = /@@([\d.]+) (\d+)\s*$/.exec(stderr);
    const reason = stderr.split("\n").find((l) => /error|fail/i.test(l)) ?? stderr.split("\n")[0];
    return { seconds: m ? Number(m[1]) : NaN, rssMiB: m ? Number(m[2]) / 1024 : NaN, ok: false, err: reason.trim().slice(0, 120) };
  }
}

async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= 8 * MiB) {
    if (!out.write(randomBytes(Math.min(left, 8 * MiB)))) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "—");

export async function benchCore(sizesMiB: number[]): Promise<string> {
  mkdirSync(TMP, { recursive: true });
  const ca = createDevCa("Bench");
  const id: Identity = issueDevAgencyCertificate(ca, SENDER, "Văn phòng Chính phủ");
  const trust = {
    anchors: [ca.certificate],
    crls: [],
    registry: new Map([[SENDER, { organId: SENDER, certificateFingerprints: [fingerprint(id.certificate)] }]]),
  };
  const rows: Row[] = [];

  // 1. rates on one core, 100 KB attachment
  const speed = await opensslSpeed();
  const small = randomBytes(100 * 1024);
  const signRate = await rate(() => signEdoc(edoc("small.pdf"), [{ bytes: small }], id), 5);
  const { bytes: smallBytes } = await signEdoc(edoc("small.pdf"), [{ bytes: small }], id);
  const smallFile = join(TMP, "small.edxml");
  writeFileSync(smallFile, smallBytes);
  const verified = async (source: { bytes: Buffer } | { path: string }) => {
    const { report } = await verifyPacket(source, trust);
    if (!report.valid) throw new Error(`bench packet did not verify: ${report.errors.join("; ")}`);
  };
  const verifyRate = await rate(() => verified({ bytes: smallBytes }), 5);
  const verifyFileRate = await rate(() => verified({ path: smallFile }), 5);
  rows.push({
    what: "sign a 100 KB packet in memory, /s (1 core)",
    ours: fmt(signRate),
    reference: `openssl rsa2048 sign/s ${fmt(speed.sign)} (${fmt((signRate / speed.sign) * 100)} %)`,
    target: "≥ 40 % of openssl",
    met: signRate >= 0.4 * speed.sign ? "yes" : "no",
  });
  for (const [from, got, want] of [
    ["memory", verifyRate, 1500],
    ["a file", verifyFileRate, 1000],
  ] as const) {
    rows.push({
      what: `verify it from ${from}, /s (1 core)`,
      ours: fmt(got),
      reference: `openssl rsa2048 verify/s ${fmt(speed.verify)}`,
      target: `≥ ${want.toLocaleString("en")}`,
      met: got >= want ? "yes" : "no",
    });
  }

  // durable packs on the bench's disk: packEdoc ends with fsync; dd writes the same bytes with conv=fsync
  let seq = 0;
  const packRate = await wallRate(async () => {
    const out = join(TMP, `durable-${seq++ % 4}.edxml`);
    await packEdoc(edoc("small.pdf"), [{ bytes: small }], id, out);
  }, 5);
  const ddRate = await wallRate(async () => {
    await run("dd", [`if=${smallFile}`, `of=${join(TMP, `dd-${seq++ % 4}.out`)}`, `bs=${smallBytes.length}`, "count=1", "conv=fsync", "status=none"]);
  }, 5);
  for (let i = 0; i < 4; i++) for (const f of [`durable-${i}.edxml`, `dd-${i}.out`]) rmSync(join(TMP, f), { force: true });
  const packetMiB = smallBytes.length / MiB;
  rows.push({
    what: "durable pack of it (file, fsync), /s",
    ours: `${fmt(packRate)} (${fmt(packRate * packetMiB, 1)} MiB/s)`,
    reference: `dd conv=fsync of the same ${smallBytes.length} bytes: ${fmt(ddRate)}/s (${fmt((packRate / ddRate) * 100)} %)`,
    target: "≥ 80 % of dd",
    met: packRate >= 0.8 * ddRate ? "yes" : "no",
  });

  // `edoc verify` as a process, alternately with a bare node, on the packet file
  writeFileSync(join(TMP, "root.pem"), ca.certificate.toString());
  writeFileSync(
    join(TMP, "registry.json"),
    JSON.stringify({ agencies: [{ organId: SENDER, certificateFingerprints: [fingerprint(id.certificate)] }] }),
  );
  const edocCli = join(ROOT, "bin", "edoc");
  const cliWall: number[] = [];
  const nodeWall: number[] = [];
  for (let i = 0; i < 11; i++) {
    let t = performance.now();
    await run(edocCli, ["verify", smallFile, "--trust", join(TMP, "root.pem"), "--registry", join(TMP, "registry.json")]);
    cliWall.push(performance.now() - t);
    t = performance.now();
    await run(process.execPath, ["-e", "0"]);
    nodeWall.push(performance.now() - t);
  }
  rows.push({
    what: "`edoc verify` of it as a process, ms wall (median of 11)",
    ours: fmt(median(cliWall)),
    reference: `node -e 0: ${fmt(median(nodeWall))} ms`,
    target: "< 250 ms",
    met: median(cliWall) < 250 ? "yes" : "no",
  });

  // 2. large attachments through the CLI, vs xmlsec1 and openssl dgst
  const p12 = join(TMP, "id.p12");
  writeFileSync(p12, identityToP12(id, "bench"));
  writeFileSync(join(TMP, "signer.pem"), id.certificate.toString());
  writeFileSync(join(TMP, "key.pem"), id.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  writeFileSync(join(TMP, "header.json"), JSON.stringify(header()));
  const idAttrs = ["MessageHeader", "Bussiness", "edXMLManifest", "Attachment"].flatMap((n) => [
    "--id-attr:Id",
    `http://www.mic.gov.vn/TBT/QCVN_102_2016:${n}`,
  ]);
  idAttrs.push("--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties");
  for (const size of sizesMiB) {
    const att = join(TMP, `att-${size}.bin`);
    const pkt = join(TMP, `packet-${size}.edxml`);
    if (!existsSync(att) || statSync(att).size !== size * MiB) await writeRandomFile(att, size * MiB);
    const pack = await timed(edocCli, ["pack", "--header", join(TMP, "header.json"), "--attach", att, "--p12", p12, "--password", "bench", "--out", pkt]);
    const verify = await timed(edocCli, ["verify", pkt, "--trust", join(TMP, "root.pem"), "--registry", join(TMP, "registry.json")]);
    const dgst = await timed("openssl", ["dgst", "-sha256", pkt]);
    // the disk's limit for a durable write of the same number of bytes (pack ends with fsync)
    const ddOut = join(TMP, "dd.out");
    const dd = await timed("dd", ["if=/dev/zero", `of=${ddOut}`, "bs=4M", `count=${Math.ceil(statSync(pkt).size / (4 * MiB))}`, "conv=fsync"]);
    rmSync(ddOut, { force: true });
    // xmlsec1 signs a template of the same packet (the signature's values emptied) and verifies ours
    const tmpl = join(TMP, `tmpl-${size}.xml`);
    await xmlsecTemplate(pkt, tmpl);
    const xsign = await timed("xmlsec1", ["--sign", "--privkey-pem", `${join(TMP, "key.pem")},${join(TMP, "signer.pem")}`, ...idAttrs, "--output", join(TMP, `xmlsec-${size}.xml`), tmpl]);
    const xverify = await timed("xmlsec1", ["--verify", "--pubkey-cert-pem", join(TMP, "signer.pem"), "--enabled-key-data", "key-name", ...idAttrs, pkt]);
    const mbs = (t: { seconds: number; ok: boolean }) => (t.ok ? size / t.seconds : NaN);
    const xmlRef = (t: { seconds: number; rssMiB: number; ok: boolean; err: string }) =>
      t.ok ? `${fmt(mbs(t))} MiB/s, ${fmt(t.rssMiB)} MiB RSS` : `failed: ${t.err}`;
    // pack: ≥ 80 % of dd writing the packet's bytes with fsync; verify: ≥ 40 % of openssl dgst reading them
    for (const [what, ours, xml, ref, share] of [
      ["pack+sign", pack, xsign, dd, 0.8],
      ["verify", verify, xverify, dgst, 0.4],
    ] as const) {
      rows.push({
        what: `${what} ${size >= 1024 ? `${size / 1024} GiB` : `${size} MiB`} attachment`,
        ours: ours.ok ? `${fmt(mbs(ours))} MiB/s, ${fmt(ours.rssMiB)} MiB RSS` : `failed: ${ours.err}`,
        reference:
          `${ref === dd ? "dd write+fsync of the packet's bytes" : "openssl dgst -sha256"}: ${fmt(mbs(ref))} MiB/s (${fmt((mbs(ours) / mbs(ref)) * 100)} %); ` +
          `xmlsec1: ${xmlRef(xml)}`,
        target: `≥ ${share * 100} % of ${ref === dd ? "dd" : "openssl dgst"}, RSS < 200 MiB`,
        met: ours.ok && mbs(ours) >= share * mbs(ref) && ours.rssMiB < 200 ? "yes" : "no",
      });
    }
    rmSync(tmpl, { force: true });
    rmSync(pkt, { force: true });
    rmSync(join(TMP, `xmlsec-${size}.xml`), { force: true });
  }

  const table = [
    "| measure | this project | reference (same run, same machine) | target | met |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.what} | ${r.ours} | ${r.reference} | ${r.target} | ${r.met} |`),
  ].join("\n");
  return table;
}

/** The packet with its DigestValues and SignatureValue emptied: an xmlsec1 signing template. */
async function xmlsecTemplate(packet: string, out: string): Promise<void> {
  // Only the head (before the attachments) holds the signature; the rest is copied as it is.
  const { open } = await import("node:fs/promises");
  const fh = await open(packet, "r");
  const head = Buffer.alloc(64 * 1024);
  const { bytesRead } = await fh.read(head, 0, head.length, 0);
  const text = head.subarray(0, bytesRead).toString("latin1");
  const end = text.indexOf("</ds:Signature>") + "</ds:Signature>".length;
  const emptied = text
    .slice(0, end)
    .replace(/<ds:DigestValue>[^<]*<\/ds:DigestValue>/g, "<ds:DigestValue></ds:DigestValue>")
    .replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, "<ds:SignatureValue></ds:SignatureValue>");
  // the XAdES CertDigest inside SignedProperties must stay: it is data, not a value xmlsec computes
  const certDigest = /<xades:CertDigest>[\s\S]*?<\/xades:CertDigest>/.exec(text.slice(0, end))![0];
  const fixed = emptied.replace(/<xades:CertDigest>[\s\S]*?<\/xades:CertDigest>/, certDigest);
  const w = createWriteStream(out);
  w.write(Buffer.from(fixed, "latin1"));
  await fh.close();
  const { createReadStream } = await import("node:fs");
  await new Promise<void>((resolve, reject) => {
    createReadStream(packet, { start: end }).on("error", reject).pipe(w).on("finish", resolve).on("error", reject);
  });
}
