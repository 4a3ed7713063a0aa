// Core benchmarks (issue: packets, signing, verification). Every figure is printed next to a
// reference measured in the same run on the same machine:
// - packets signed/verified per second on one core (100 KB attachment) vs `openssl speed rsa2048`;
// - pack+sign and verify of 256 MB and 1 GB attachments through the real CLI (MB/s, peak RSS)
//   vs xmlsec1 signing/verifying the same packet and `openssl dgst -sha256` over the same bytes.
// Run: npm run bench [-- --sizes 256,1024] ; writes bench/results/core.md
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

function edoc(attachmentName: string): Edoc {
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

async function rate(fn: () => Promise<unknown>, seconds: number): Promise<number> {
  for (let i = 0; i < 30; i++) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await fn();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

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
  // the signing path, not the disk: packets are written (and fsynced) on tmpfs where there is one
  const smallOut = join(existsSync("/dev/shm") ? "/dev/shm" : TMP, `edoc-bench-${process.pid}.edxml`);
  const signRate = await rate(() => packEdoc(edoc("small.pdf"), [{ bytes: small }], id, smallOut), 5);
  const smallBytes = readFileSync(smallOut);
  rmSync(smallOut, { force: true });
  const verifyRate = await rate(async () => {
    const { report } = await verifyPacket({ bytes: smallBytes }, trust);
    if (!report.valid) throw new Error(`bench packet did not verify: ${report.errors.join("; ")}`);
  }, 5);
  rows.push({
    what: "sign 100 KB packets/s (1 core)",
    ours: fmt(signRate),
    reference: `openssl rsa2048 sign/s ${fmt(speed.sign)} (${fmt((signRate / speed.sign) * 100)} %)`,
    target: "≥ 40 % of openssl",
    met: signRate >= 0.4 * speed.sign ? "yes" : "no",
  });
  rows.push({
    what: "verify 100 KB packets/s (1 core)",
    ours: fmt(verifyRate),
    reference: `openssl rsa2048 verify/s ${fmt(speed.verify)}`,
    target: "≥ 1,500",
    met: verifyRate >= 1500 ? "yes" : "no",
  });

  // 2. large attachments through the CLI, vs xmlsec1 and openssl dgst
  const p12 = join(TMP, "id.p12");
  writeFileSync(p12, identityToP12(id, "bench"));
  writeFileSync(join(TMP, "root.pem"), ca.certificate.toString());
  writeFileSync(join(TMP, "signer.pem"), id.certificate.toString());
  writeFileSync(join(TMP, "key.pem"), id.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  writeFileSync(
    join(TMP, "registry.json"),
    JSON.stringify({ agencies: [{ organId: SENDER, certificateFingerprints: [fingerprint(id.certificate)] }] }),
  );
  writeFileSync(join(TMP, "header.json"), JSON.stringify(header()));
  const edocCli = join(ROOT, "bin", "edoc");
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
    const ref = (t: { seconds: number; rssMiB: number; ok: boolean; err: string }) =>
      t.ok ? `${fmt(mbs(t))} MiB/s, ${fmt(t.rssMiB)} MiB RSS` : `failed: ${t.err}`;
    for (const [what, ours, xml, disk] of [
      ["pack+sign", pack, xsign, `; dd write+fsync of the packet's bytes: ${fmt(mbs(dd))} MiB/s`],
      ["verify", verify, xverify, ""],
    ] as const) {
      rows.push({
        what: `${what} ${size >= 1024 ? `${size / 1024} GiB` : `${size} MiB`} attachment`,
        ours: ours.ok ? `${fmt(mbs(ours))} MiB/s, ${fmt(ours.rssMiB)} MiB RSS` : `failed: ${ours.err}`,
        reference: `xmlsec1: ${ref(xml)}; openssl dgst: ${fmt(mbs(dgst))} MiB/s${disk}`,
        target: "≥ 300 MiB/s, RSS < 200 MiB",
        met: ours.ok && mbs(ours) >= 300 && ours.rssMiB < 200 ? "yes" : "no",
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
