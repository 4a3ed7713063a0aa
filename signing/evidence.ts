// Evidence bundles (hồ sơ chứng cứ): one ZIP that lets an archivist prove offline, years later,
// what was sent, by whom, when, and what the other party acknowledged.
//
// Layout (format "edoc-evidence/1"):
//   README.txt                            what the bundle is and how to check it (Vietnamese, English)
//   packet.edxml                          the signed packet, byte-exact (stored, not compressed)
//   attachments/<n>-<name>                each attachment, decoded (stored, not compressed)
//   statuses/<seq>-<code>-<from>.edxml    each signed status packet, byte-exact, oldest first
//   report.json                           the verification report made when the packet was received or sent
//   trust/anchor-<fp>.pem                 the trust anchor(s) the signer chains led to
//   trust/signer-<organ id>-<fp>.pem      each signer certificate, then the intermediates it carried
//   trust/registry.json                   the registry entries of the organ ids involved ({"agencies":[…]})
//   manifest.json                         format, times, the document record, and every other file's
//                                         SHA-256 and size (written last)
//
// What proves what. The manifest's digests detect damage and substitution of files, but nothing
// signs the manifest, report.json or trust/: they are what the exporting node said. The proof is in
// the signatures: the packet (by the sender) and the status packets (by the other party), checked
// against a trust anchor and a registry the archivist supplies. So verification re-checks every
// signature, and checks every unsigned file against what the signatures cover: the attachments
// against the signed attachment digests, the manifest's record and report.json against the signed
// header and signer. A deleted status packet with a manifest edited to match cannot be detected;
// a signed manifest (or an archive timestamp) would be the next step.
//
// Which time certificates are checked at. Default: now, as `edoc verify` does for a packet, and as
// EU DSS does for a XAdES-BASELINE-B signature with no proof of existence: years later the signer's
// certificate has expired and the answer is INDETERMINATE / EXPIRED. The bundle never picks a past
// time by itself, because every time it holds is a claim nobody independent vouches for:
//  - SigningTime in the signed properties is the signer's claim: whoever holds the key (a key that
//    leaked after its certificate expired, say) can claim any time;
//  - the manifest's verifiedAt is the claim of whoever made, or edited, the bundle.
// The archivist who accepts the recorded time on other evidence (the node's logs, the register of
// incoming documents) passes it with `at` (`--at`); the report's validationTime says which time was
// used. When a certificate fails as EXPIRED or NOT_YET_VALID, a warning names the recorded time and
// the option to pass, and README.txt says the same.
//
// Trust. Anchors are only ever the caller's (`--trust`): trust/ holds copies so that an archivist can
// see which CA was used and compare its fingerprint with an official source, never to be trusted
// because they are inside the bundle. The registry is the caller's when given; otherwise the bundle's
// own trust/registry.json is used, with a warning saying so.
//
// Size. Writing streams: each file is read once and hashed as fflate zips it, and the ZIP is made
// only as fast as the output takes it. Reading goes through yauzl: the central directory gives
// random access, each entry is streamed, and only packet.edxml is extracted to a temporary file (the
// verifier needs random access to it). fflate writes no ZIP64, so a bundle is limited to 4 GiB; the
// writer refuses to go past it.
import { createHash, X509Certificate } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, open, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import { Unzip, UnzipInflate, Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { openPromise, type Entry, type ZipFile } from "yauzl";
import {
  DSIG_NS,
  EDXML_NS,
  XADES_NS,
  STATUS_CODES,
  allElements,
  formatCode,
  isZip,
  parseStrict,
  readPacket,
  readSource,
  regionBytes,
  scanPacket,
  MAX_UNWRAPPED_BYTES,
  type ContentRegion,
  type Edoc,
  type PacketSource,
  type StatusPacket,
} from "../envelopes/index.ts";
import { fingerprint } from "./pki/certificates.ts";
import { registryFromJson, type Registry } from "./registry.ts";
import { formatFailureReport, type VerificationReport } from "./report.ts";
import { verifyPacket, type TrustConfig } from "./verify.ts";
import { isNamed } from "./xmldsig.ts";

export const EVIDENCE_FORMAT = "edoc-evidence/1";

/** The document record's summary, as in the service contract. */
export interface EvidenceRecord {
  /** This node's id for the document. */
  id: string;
  /** The edXML DocumentId. */
  documentId: string;
  direction: "in" | "out";
  /** Organ ids. */
  from: string;
  to: string[];
  /** "số/ký hiệu", e.g. "123/QĐ-VPCP". */
  code: string;
  subject: string;
}

export interface EvidenceStatus {
  /** "01", "03", … */
  code: string;
  /** Organ id of the agency that signed and sent it. */
  from: string;
  /** When this node sent or received it (ISO 8601). */
  at: string;
  /** The signed status packet, byte-exact. */
  packet: Buffer;
}

export interface EvidenceInput {
  record: EvidenceRecord;
  packet: PacketSource;
  /** In the packet's order; `name` must be the packet's AttachmentName. `bytes`: the decoded file. */
  attachments: Array<{ name: string; bytes: AsyncIterable<Buffer | Uint8Array> }>;
  /** Oldest first. */
  statuses: EvidenceStatus[];
  /** The report made when the packet was received or sent. */
  report: VerificationReport;
  /** The node's trust anchors; those the signers chain to are copied into trust/. */
  anchors: X509Certificate[];
  /** The node's registry; the entries of the organ ids involved are copied into trust/registry.json. */
  registry: Registry;
  /** The bundle's creation time; defaults to now. */
  created?: Date;
}

export interface ManifestFile {
  path: string;
  /** Lowercase hex. */
  sha256: string;
  size: number;
}

export interface EvidenceManifest {
  format: typeof EVIDENCE_FORMAT;
  /** When the bundle was made. */
  created: string;
  /** The time report.json checked the certificates at (its validationTime). */
  verifiedAt: string;
  record: EvidenceRecord;
  packet: { path: string; signer: string | null; signingTime: string | null };
  attachments: Array<{ n: number; name: string; path: string }>;
  statuses: Array<{ seq: number; code: string; from: string; at: string; path: string }>;
  trust: { anchors: string[]; signers: string[]; registry: string };
  /** Every file of the bundle but manifest.json itself. */
  files: ManifestFile[];
}

export interface BundleFileResult {
  path: string;
  sha256Ok: boolean;
  /** Why not, when sha256Ok is false. */
  problem?: string;
}

export interface BundleStatusResult {
  path: string;
  code: string;
  from: string;
  /** When the node sent or received it, from the manifest (unsigned). */
  at: string | null;
  /** The status packet verifies and says what its file name and the manifest say. */
  ok: boolean;
  problems: string[];
  report: VerificationReport;
}

/**
 * The packet's verification report (signer, signing time, references, …) with `valid`, `indication`,
 * `errors` and `warnings` widened to the whole bundle: `valid` is true only when everything checks.
 */
export interface BundleReport extends VerificationReport {
  bundle: {
    format: string | null;
    created: string | null;
    /** The verification time recorded in the manifest (a claim of the exporting node). */
    recordedVerificationTime: string | null;
    record: EvidenceRecord | null;
    /** Where the registry came from: the caller's, the bundle's own (warned), or none. */
    registrySource: "caller" | "bundle" | "none";
    /** The packet's own signature check. */
    packetValid: boolean;
    /** manifest.json is present, readable, of this format, and agrees with the signed packet. */
    manifestOk: boolean;
    files: BundleFileResult[];
    /** Every attachment file equals the decoded attachment of the verified packet, none missing or extra. */
    attachmentsMatchPacket: boolean;
    /** report.json is readable and describes this packet and signer. */
    reportMatchesPacket: boolean;
    statuses: BundleStatusResult[];
    /** The bundle's own problems (also in `errors`). */
    errors: string[];
  };
}

/** The file cannot be read as a ZIP at all (an input error, not a negative answer). */
export class BundleError extends Error {}

// ---------------------------------------------------------------------------------------------
// Names

const MAX_NAME_BYTES = 150;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A file name safe on every system, Vietnamese letters kept: NFC; no path separators, control,
 * bidi or zero-width characters, nor the characters Windows forbids; no leading dot, no trailing dot
 * or space; no Windows device name; at most 150 UTF-8 bytes, the extension kept.
 */
export function bundleFileName(name: string): string {
  let s = name
    .normalize("NFC")
    .replace(/[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, "")
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, "_")
    .trim()
    .replace(/^[.\s]+/, "")
    .replace(/[.\s]+$/, "");
  if (WINDOWS_RESERVED.test(s)) s = `_${s}`;
  if (!s) s = "attachment";
  if (Buffer.byteLength(s) > MAX_NAME_BYTES) {
    const dot = s.lastIndexOf(".");
    const ext = dot > 0 && s.length - dot <= 10 ? s.slice(dot) : "";
    const chars = [...s.slice(0, s.length - ext.length)];
    while (chars.length && Buffer.byteLength(chars.join("") + ext) > MAX_NAME_BYTES) chars.pop();
    s = chars.join("").replace(/[.\s]+$/, "") + ext;
  }
  return s;
}

const pad = (n: number, count: number) => String(n).padStart(Math.max(2, String(count).length), "0");

export function attachmentPath(n: number, count: number, name: string): string {
  return `attachments/${pad(n, count)}-${bundleFileName(name)}`;
}

export function statusPath(seq: number, count: number, code: string, from: string): string {
  return `statuses/${pad(seq, count)}-${code}-${bundleFileName(from)}.edxml`;
}

const STATUS_PATH = /^statuses\/(\d+)-(\d{2})-(.+)\.edxml$/;

// ---------------------------------------------------------------------------------------------
// Writing

/** ZIP without ZIP64: sizes and offsets are 32-bit. Kept a little below for the directory. */
const ZIP32_LIMIT = 0xffffffff - 64 * 1024 * 1024;

/**
 * Writes an evidence bundle as a stream: each file is read once and hashed while it is written.
 * `out` is a file path (written to a temporary file, renamed when complete) or a writable stream
 * (ended when the bundle is complete, destroyed on failure so that no truncated bundle looks whole).
 * Throws when the input contradicts itself (record, attachment names or count vs the packet).
 */
export async function writeEvidenceBundle(input: EvidenceInput, out: NodeJS.WritableStream | string): Promise<void> {
  // byte-counted back-pressure: the ZIP is made as fast as `out` takes it
  const bundle = () => Readable.from(bundleChunks(input), { objectMode: false });
  if (typeof out !== "string") return pipeline(bundle(), out);
  const tmp = `${out}.partial-${process.pid}-${Date.now()}`;
  try {
    await pipeline(bundle(), createWriteStream(tmp));
    await rename(tmp, out);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** KeyInfo certificates of a parsed packet: the signer first, then what it carried. */
function keyInfoCertificates(doc: Document): X509Certificate[] {
  return allElements(doc.documentElement)
    .filter((e) => isNamed(e, DSIG_NS, "X509Certificate"))
    .flatMap((e) => {
      try {
        return [new X509Certificate(Buffer.from((e.textContent ?? "").replace(/\s+/g, ""), "base64"))];
      } catch {
        return [];
      }
    });
}

/** The anchors that issued, or are, a certificate of the chain. */
function anchorsFor(chain: X509Certificate[], anchors: X509Certificate[]): X509Certificate[] {
  return anchors.filter((a) =>
    chain.some((c) => {
      if (fingerprint(c) === fingerprint(a)) return true;
      try {
        return c.checkIssued(a) && c.verify(a.publicKey);
      } catch {
        return false;
      }
    }),
  );
}

/** The bundle's bytes: the input checked, then each file through fflate's streaming Zip, hashed on the way. */
async function* bundleChunks(input: EvidenceInput): AsyncGenerator<Buffer> {
  const created = input.created ?? new Date();
  const record = normalizeRecord(input.record);

  // What the packet and statuses say, read (not verified: report.json says how they verified) to
  // check the input is coherent and to find the signer certificates.
  const scanned = await scanPacket(input.packet);
  const packetDoc = parseStrict(scanned.skeleton);
  const packet = readPacket(packetDoc).packet;
  if (packet.kind !== "edoc") throw new Error("the packet of an evidence bundle must be an edoc, not a status packet");
  const mismatch = recordMismatches(record, packet);
  if (mismatch.length) throw new Error(`the document record does not match the packet: ${mismatch.join("; ")}`);
  if (input.attachments.length !== packet.attachments.length) {
    throw new Error(`the packet has ${packet.attachments.length} attachments but ${input.attachments.length} were given`);
  }
  input.attachments.forEach((a, i) => {
    if (a.name !== packet.attachments[i].AttachmentName) {
      throw new Error(`attachment ${i + 1} is "${packet.attachments[i].AttachmentName}" in the packet but "${a.name}" was given`);
    }
  });
  const signers: Array<{ organId: string; chain: X509Certificate[] }> = [];
  const packetChain = keyInfoCertificates(packetDoc);
  if (packetChain.length) signers.push({ organId: packet.header.From.OrganId, chain: packetChain });
  input.statuses.forEach((s, i) => {
    if (!/^\d{2}$/.test(s.code)) throw new Error(`status ${i + 1}: the code must be two digits, not "${s.code}"`);
    if (!s.from) throw new Error(`status ${i + 1}: the sending organ id is missing`);
    let doc: Document;
    try {
      doc = parseStrict(s.packet.toString("utf8"));
    } catch (err) {
      throw new Error(`status ${i + 1} is not a readable edXML packet: ${(err as Error).message}`);
    }
    const chain = keyInfoCertificates(doc);
    if (chain.length) signers.push({ organId: s.from, chain });
  });

  const { files, add, end } = zipStream(created);
  const count = packet.attachments.length;
  const manifest: EvidenceManifest = {
    format: EVIDENCE_FORMAT,
    created: created.toISOString(),
    verifiedAt: input.report.validationTime,
    record,
    packet: { path: "packet.edxml", signer: input.report.signer?.fingerprint ?? null, signingTime: input.report.signingTime },
    attachments: packet.attachments.map((a, i) => ({ n: i + 1, name: a.AttachmentName, path: attachmentPath(i + 1, count, a.AttachmentName) })),
    statuses: input.statuses.map((s, i) => ({
      seq: i + 1,
      code: s.code,
      from: s.from,
      at: s.at,
      path: statusPath(i + 1, input.statuses.length, s.code, s.from),
    })),
    trust: { anchors: [], signers: [], registry: "trust/registry.json" },
    files,
  };

  // trust/: the anchors the signer chains lead to, and each signer's certificate and intermediates
  const anchors = new Map<string, X509Certificate>();
  const signerFiles = new Map<string, { path: string; pem: string }>();
  for (const { organId, chain } of signers) {
    for (const a of anchorsFor(chain, input.anchors)) anchors.set(fingerprint(a), a);
    const fp = fingerprint(chain[0]);
    if (!signerFiles.has(fp)) {
      signerFiles.set(fp, { path: `trust/signer-${bundleFileName(organId)}-${fp.slice(0, 16)}.pem`, pem: chain.map((c) => c.toString()).join("") });
    }
  }
  manifest.trust.anchors = [...anchors.keys()].map((fp) => `trust/anchor-${fp.slice(0, 16)}.pem`);
  manifest.trust.signers = [...signerFiles.values()].map((f) => f.path);

  yield* add("README.txt", Buffer.from(readmeText(manifest)), false);
  yield* add("packet.edxml", readSource(input.packet), true);
  for (const [i, a] of input.attachments.entries()) yield* add(manifest.attachments[i].path, a.bytes, true);
  for (const [i, s] of input.statuses.entries()) yield* add(manifest.statuses[i].path, s.packet, false);
  yield* add("report.json", Buffer.from(JSON.stringify(input.report, null, 2) + "\n"), false);
  for (const [i, a] of [...anchors.values()].entries()) yield* add(manifest.trust.anchors[i], Buffer.from(a.toString()), false);
  for (const f of signerFiles.values()) yield* add(f.path, Buffer.from(f.pem), false);
  const organIds = new Set([
    record.from,
    ...record.to,
    packet.header.From.OrganId,
    ...packet.header.To.map((t) => t.OrganId),
    ...input.statuses.map((s) => s.from),
  ]);
  const agencies = [...organIds]
    .sort()
    .flatMap((id) => {
      const e = input.registry.get(id);
      if (!e) return [];
      // the plain JSON form; an agency's status is kept so that a deactivated one stays so
      const status = (e as { status?: unknown }).status;
      return [
        {
          organId: e.organId,
          ...(e.name !== undefined ? { name: e.name } : {}),
          ...(typeof status === "string" ? { status } : {}),
          certificateFingerprints: e.certificateFingerprints,
        },
      ];
    });
  yield* add("trust/registry.json", Buffer.from(JSON.stringify({ agencies }, null, 2) + "\n"), false);

  const manifestText = JSON.stringify({ ...manifest, files: [...files] }, null, 2) + "\n";
  yield* add("manifest.json", Buffer.from(manifestText), false);
  yield* end();
}

/**
 * fflate's streaming Zip, its output as generators: `add` each file in turn (stored, byte-exact on
 * disk, or deflated), then `end`. `files` lists each file's SHA-256 and size, taken as it goes in.
 */
function zipStream(mtime: Date) {
  const files: ManifestFile[] = [];
  const pending: Buffer[] = [];
  let failure: Error | null = null;
  let written = 0;
  const zip = new Zip((err, chunk) => {
    if (err) failure ??= err;
    else pending.push(Buffer.from(chunk)); // a copy: sources may reuse their buffers
  });
  function* flush(): Generator<Buffer> {
    if (failure) throw failure;
    for (const chunk of pending.splice(0)) {
      written += chunk.length;
      if (written > ZIP32_LIMIT) throw new Error("the evidence bundle would exceed 4 GiB, the limit of a ZIP file without ZIP64");
      yield chunk;
    }
  }
  async function* add(path: string, data: Buffer | AsyncIterable<Buffer | Uint8Array>, store: boolean): AsyncGenerator<Buffer> {
    if (files.some((f) => f.path === path)) throw new Error(`internal error: two files named ${path}`);
    const file = store ? new ZipPassThrough(path) : new ZipDeflate(path, { level: 6 });
    file.mtime = mtime;
    zip.add(file);
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of Buffer.isBuffer(data) ? [data] : data) {
      if (!chunk.length) continue;
      hash.update(chunk);
      size += chunk.length;
      file.push(chunk);
      yield* flush();
    }
    file.push(new Uint8Array(0), true);
    yield* flush();
    files.push({ path, sha256: hash.digest("hex"), size });
  }
  function* end(): Generator<Buffer> {
    zip.end();
    yield* flush();
  }
  return { files, add, end };
}

function normalizeRecord(r: EvidenceRecord): EvidenceRecord {
  const to = (r.to as unknown) === undefined ? [] : Array.isArray(r.to) ? r.to : [r.to as unknown as string];
  for (const key of ["id", "documentId", "from", "code", "subject"] as const) {
    if (typeof r[key] !== "string") throw new Error(`the document record has no ${key}`);
  }
  if (r.direction !== "in" && r.direction !== "out") throw new Error('the document record\'s direction must be "in" or "out"');
  return { id: r.id, documentId: r.documentId, direction: r.direction, from: r.from, to: [...to], code: r.code, subject: r.subject };
}

/** Where the record disagrees with the packet's header (the record's `to` may be a subset of To). */
function recordMismatches(record: EvidenceRecord, packet: Edoc): string[] {
  const h = packet.header;
  const out: string[] = [];
  const differs = (what: string, recorded: string, signed: string) => {
    if (recorded.normalize("NFC").trim() !== signed.normalize("NFC").trim()) out.push(`${what} "${recorded}" ≠ "${signed}"`);
  };
  differs("documentId", record.documentId, h.DocumentId);
  differs("from", record.from, h.From.OrganId);
  differs("code", record.code, formatCode(h.Code));
  differs("subject", record.subject, h.Subject);
  const to = new Set(h.To.map((t) => t.OrganId));
  const stranger = record.to.filter((id) => !to.has(id));
  if (stranger.length) out.push(`to: ${stranger.join(", ")} not among the packet's recipients`);
  return out;
}

function readmeText(m: EvidenceManifest): string {
  const r = m.record;
  const statuses = m.statuses.length
    ? m.statuses.map((s) => `  ${s.path}  ${s.code} ${STATUS_CODES[s.code as keyof typeof STATUS_CODES] ?? ""} — ${s.from} — ${s.at}`).join("\n")
    : "  (không có — none)";
  const attachments = m.attachments.length ? m.attachments.map((a) => `  ${a.path}`).join("\n") : "  (không có — none)";
  return `HỒ SƠ CHỨNG CỨ VĂN BẢN ĐIỆN TỬ — ELECTRONIC DOCUMENT EVIDENCE BUNDLE
Định dạng / format: ${m.format}
Lập lúc / created: ${m.created}

Văn bản / document
  Số, ký hiệu / number:   ${r.code}
  Trích yếu / subject:    ${r.subject}
  DocumentId:             ${r.documentId}
  Chiều / direction:      ${r.direction === "out" ? "gửi đi / sent" : "nhận đến / received"}
  Cơ quan gửi / from:     ${r.from}
  Cơ quan nhận / to:      ${r.to.join(", ")}
  Mã hồ sơ nút / node id: ${r.id}
  Kiểm tra chữ ký lúc / signature checked at: ${m.verifiedAt}

TIẾNG VIỆT

Tệp nén này chứng minh văn bản nào đã được gửi, do ai ký, vào lúc nào, và bên kia đã xác nhận những
trạng thái nào. Nội dung:
  packet.edxml        gói tin edXML đã ký số, nguyên vẹn từng byte (chữ ký của cơ quan gửi)
  attachments/        các tệp đính kèm, giải mã từ gói tin
  statuses/           các gói tin trạng thái đã ký số (01 Đã đến, 03 Đã tiếp nhận, 06 Hoàn thành, …),
                      do bên kia ký (mã 13 "Lấy lại" do cơ quan gửi ký)
  report.json         kết quả kiểm tra chữ ký khi nhận hoặc gửi văn bản
  trust/              chứng thư số của người ký, chứng thư số gốc đã dùng, và danh bạ cơ quan
                      (registry.json: mã định danh → dấu vân tay chứng thư số)
  manifest.json       danh sách mọi tệp với mã băm SHA-256 và kích thước

Cách kiểm tra:
  bin/edoc verify TỆP.zip --trust CA-GỐC.pem [--registry DANH-BẠ.json] [--crl CRL.pem] [--at THỜI-ĐIỂM]
Lệnh kiểm tra lại mọi chữ ký, mọi mã băm, và đối chiếu tệp đính kèm với gói tin đã ký; kết quả 0 là
hợp lệ, 1 là không hợp lệ. Chứng thư số gốc (--trust) phải lấy từ nguồn chính thức (Ban Cơ yếu
Chính phủ), không lấy từ thư mục trust/ của hồ sơ này: tệp trong trust/ chỉ để đối chiếu dấu vân tay.
Không có --registry thì danh bạ trong hồ sơ được dùng, kèm cảnh báo.
Sau nhiều năm chứng thư số có thể đã hết hạn: kết quả sẽ là EXPIRED. Nếu chấp nhận thời điểm kiểm tra
đã ghi (có xác nhận khác như nhật ký hệ thống, sổ văn bản), hãy chạy lại với
  --at ${m.verifiedAt}
(thời điểm "verifiedAt" trong manifest.json).
Không có chương trình edoc: xem mục cuối.

ENGLISH

This archive proves which document was sent, who signed it, when, and which processing statuses the
other party acknowledged. Contents:
  packet.edxml        the signed edXML packet, byte-exact (signed by the sending agency)
  attachments/        the attachments, decoded from the packet
  statuses/           the signed status packets (01 arrived, 03 accepted, 06 done, …), signed by the
                      other party (code 13 "take back" is signed by the sender)
  report.json         the signature verification report made when the document was received or sent
  trust/              the signer certificates, the trust anchor(s) used, and the agency registry
                      (registry.json: organ id → certificate fingerprints)
  manifest.json       every file with its SHA-256 digest and size

How to check it:
  bin/edoc verify BUNDLE.zip --trust ROOT-CA.pem [--registry REGISTRY.json] [--crl CRL.pem] [--at TIME]
It re-checks every signature and every digest, and compares the attachments with the signed packet;
exit status 0 means valid, 1 not valid. Take the root certificate (--trust) from an official source,
not from this bundle's trust/ folder: its files are there only to compare fingerprints. Without
--registry the bundle's own registry is used, with a warning.
Years later the certificates may have expired and the answer is then EXPIRED. If you accept the
recorded verification time (on other evidence such as system logs or the document register), run
again with
  --at ${m.verifiedAt}
(the "verifiedAt" time in manifest.json).
Without edoc: see the last section.

Tệp đính kèm / attachments:
${attachments}
Trạng thái / statuses:
${statuses}

KHÔNG CÓ CHƯƠNG TRÌNH edoc — WITHOUT edoc
So mã băm của từng tệp ("sha256sum TỆP") với mục "files" trong manifest.json.
Compare each file's digest ("sha256sum FILE") with the "files" list in manifest.json.
Kiểm tra chữ ký bằng xmlsec1 (chỉ kiểm tra chữ ký và chuỗi chứng thư, không kiểm tra danh bạ cơ quan):
Check a signature with xmlsec1 (signature and certificate chain only, not the registry binding):
  xmlsec1 --verify --trusted-pem ROOT-CA.pem --untrusted-pem ${m.trust.signers[0] ?? "trust/signer-….pem"} \
    --enabled-key-data x509 --enabled-reference-uris same-doc \
    --id-attr:Id ${EDXML_NS}:MessageHeader \
    --id-attr:Id ${EDXML_NS}:Bussiness \
    --id-attr:Id ${EDXML_NS}:edXMLManifest \
    --id-attr:Id ${EDXML_NS}:Attachment \
    --id-attr:Id ${XADES_NS}:SignedProperties \
    packet.edxml
Gói tin trạng thái: dùng tệp trust/signer-… của bên gửi trạng thái. / Status packets: use the
trust/signer-… file of the agency that sent the status.
`;
}

// ---------------------------------------------------------------------------------------------
// Reading the ZIP: yauzl reads the central directory and streams each entry from the file

/** More files than a bundle ever holds: a ZIP without ZIP64 holds at most 65 535. */
const MAX_ENTRIES = 0xffff;
/** The small files read into memory: manifest, report, registry, status packets. */
const MAX_SMALL_FILE = 16 * 1024 * 1024;

/**
 * Opens a bundle and reads its directory. Besides yauzl's checks (unsafe names, sizes, bounds), it
 * refuses what ZIP tools could read differently (a name not in UTF-8 or listed twice, a local header
 * that disagrees with the directory, overlapping entries) and what it cannot read (encryption,
 * compression other than stored and deflate).
 */
async function openBundle(path: string): Promise<{ zip: ZipFile; entries: Map<string, Entry> }> {
  const bad = (why: string) =>
    new BundleError(`${path} is not a readable evidence bundle: ${why} — tệp không phải hồ sơ chứng cứ đọc được`);
  let zip: ZipFile;
  try {
    zip = await openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: true });
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code ? new BundleError(`cannot read the evidence bundle ${path}`) : bad((err as Error).message);
  }
  try {
    if (zip.entryCount > MAX_ENTRIES) throw bad(`it holds more than ${MAX_ENTRIES} files`);
    const entries = new Map<string, Entry>();
    const spans: Array<{ name: string; start: number; end: number }> = [];
    for await (const e of zip.eachEntry()) {
      const name = e.fileName;
      if (!Buffer.from(name).equals(e.fileNameRaw)) throw bad(`the file name ${JSON.stringify(name)} is not in UTF-8`);
      if (entries.has(name)) throw bad(`${name} appears twice (ZIP tools would disagree on its content)`);
      if (e.isEncrypted()) throw bad(`${name} is encrypted`);
      if (e.compressionMethod !== 0 && e.compressionMethod !== 8) throw bad(`${name} uses an unsupported compression method (${e.compressionMethod})`);
      const local = await zip.readLocalFileHeaderPromise(e);
      if (!local.fileName.equals(e.fileNameRaw) || local.compressionMethod !== e.compressionMethod) {
        throw bad(`the local header of ${name} disagrees with the ZIP directory`);
      }
      spans.push({ name, start: e.relativeOffsetOfLocalHeader, end: local.fileDataStart + e.compressedSize });
      entries.set(name, e);
    }
    spans.sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i - 1].end > spans[i].start) throw bad(`${spans[i - 1].name} overlaps ${spans[i].name}`);
    }
    for (const [name, e] of entries) if (name.endsWith("/") && e.uncompressedSize === 0) entries.delete(name); // folders hold nothing
    return { zip, entries };
  } catch (err) {
    zip.close();
    throw err instanceof BundleError ? err : bad((err as Error).message);
  }
}

/** An entry's bytes, streamed; yauzl checks their count against the directory, this their CRC-32. */
async function* entryChunks(zip: ZipFile, e: Entry): AsyncGenerator<Buffer> {
  let crc = 0;
  for await (const chunk of await zip.openReadStreamPromise(e)) {
    crc = crc32(chunk, crc);
    yield chunk;
  }
  if (crc !== e.crc32) throw new Error("its CRC-32 does not match (the archive is damaged)");
}

interface FileFacts {
  sha256: string | null;
  size: number;
  /** Why it could not be read. */
  error?: string;
  /** Kept for small files that are examined. */
  bytes?: Buffer;
}

/** An entry's digest and size, its bytes when `keep` (small files only), copied to `extractTo` when given. */
async function readEntry(zip: ZipFile, e: Entry, keep: boolean, extractTo?: string): Promise<FileFacts> {
  const f: FileFacts = { sha256: null, size: 0 };
  const copy = extractTo ? await open(extractTo, "ax") : null;
  try {
    if (keep && e.uncompressedSize > MAX_SMALL_FILE) throw new Error(`it is larger than ${MAX_SMALL_FILE} bytes`);
    const hash = createHash("sha256");
    const parts: Buffer[] = [];
    for await (const chunk of entryChunks(zip, e)) {
      hash.update(chunk);
      f.size += chunk.length;
      if (keep) parts.push(chunk);
      await copy?.appendFile(chunk);
    }
    f.sha256 = hash.digest("hex");
    if (keep) f.bytes = Buffer.concat(parts);
  } catch (err) {
    f.error = `cannot be read from the archive: ${(err as Error).message}`;
  } finally {
    await copy?.close();
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// Verifying

export interface BundleTrust extends TrustConfig {
  /** Time at which certificates are checked; defaults to now (see the note at the top). */
  at?: Date;
}

const bi = (en: string, vi: string) => `${en} — ${vi}`;

/**
 * Verifies an evidence bundle offline: every signature (packet and status packets) against the
 * caller's anchors, CRLs and registry; every file against the manifest; the attachments, the
 * manifest's record and report.json against what the packet's signature covers.
 * Throws BundleError when the file cannot be read as a ZIP at all.
 */
export async function verifyEvidenceBundle(path: string, trust: BundleTrust): Promise<BundleReport> {
  const { zip, entries } = await openBundle(path);
  try {
    const tmp = await mkdtemp(join(tmpdir(), "edoc-evidence-"));
    try {
      return await verifyEntries(zip, entries, trust, tmp);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  } finally {
    zip.close();
  }
}

async function verifyEntries(zip: ZipFile, entries: Map<string, Entry>, trust: BundleTrust, tmp: string): Promise<BundleReport> {
  const problems: string[] = [];
  const warnings: string[] = [];

  // manifest.json
  let manifest: EvidenceManifest | null = null;
  let manifestOk = true;
  const manifestEntry = entries.get("manifest.json");
  if (!manifestEntry) {
    manifestOk = false;
    problems.push(bi("manifest.json is missing, so nothing says which files the bundle should hold", "thiếu tệp manifest.json"));
  } else {
    try {
      const f = await readEntry(zip, manifestEntry, true);
      if (f.error) throw new Error(f.error);
      manifest = parseManifest(JSON.parse(f.bytes!.toString("utf8")));
    } catch (err) {
      manifestOk = false;
      problems.push(bi(`manifest.json cannot be read: ${(err as Error).message}`, "không đọc được manifest.json"));
    }
  }

  // every other file: digest and size; packet.edxml extracted; small files kept
  const facts = new Map<string, FileFacts>();
  const packetPath = join(tmp, "packet.edxml");
  for (const [name, e] of entries) {
    if (name === "manifest.json") continue;
    const keep = name.startsWith("statuses/") || name === "report.json" || name === "trust/registry.json";
    facts.set(name, await readEntry(zip, e, keep, name === "packet.edxml" ? packetPath : undefined));
  }

  // files against the manifest: none changed, missing or extra
  const files: BundleFileResult[] = [];
  const listed = new Map((manifest?.files ?? []).map((f) => [f.path, f]));
  for (const [name, f] of facts) {
    const want = listed.get(name);
    if (f.error) files.push({ path: name, sha256Ok: false, problem: f.error });
    else if (!manifest) files.push({ path: name, sha256Ok: false, problem: "no manifest to check it against" });
    else if (!want) files.push({ path: name, sha256Ok: false, problem: "not listed in manifest.json: an extra file" });
    else if (want.sha256 !== f.sha256 || want.size !== f.size) {
      files.push({ path: name, sha256Ok: false, problem: "changed since the bundle was made: its SHA-256 differs from manifest.json" });
    } else files.push({ path: name, sha256Ok: true });
  }
  for (const name of listed.keys()) {
    if (!facts.has(name)) files.push({ path: name, sha256Ok: false, problem: "listed in manifest.json but missing from the bundle" });
  }
  for (const f of files) {
    if (!f.sha256Ok && manifest) problems.push(bi(`${f.path}: ${f.problem}`, fileProblemVi(f.path, f.problem!)));
  }

  // the registry: the caller's, else the bundle's own with a warning
  let registry = trust.registry;
  let registrySource: BundleReport["bundle"]["registrySource"] = registry ? "caller" : "none";
  if (!registry) {
    const own = facts.get("trust/registry.json")?.bytes;
    if (own) {
      try {
        registry = registryFromJson(JSON.parse(own.toString("utf8")));
        registrySource = "bundle";
        warnings.push(
          bi(
            "registry taken from the bundle itself (trust/registry.json): it binds organ ids to certificates only as far as you trust whoever made the bundle; pass --registry to use your own",
            "danh bạ cơ quan được lấy từ chính hồ sơ (trust/registry.json); dùng --registry để dùng danh bạ của mình",
          ),
        );
      } catch (err) {
        problems.push(bi(`trust/registry.json cannot be used: ${(err as Error).message}`, "không dùng được trust/registry.json"));
      }
    }
  }

  // the packet
  const verifyOpts = { anchors: trust.anchors, crls: trust.crls, registry, at: trust.at };
  let packetReport: VerificationReport;
  let signed: Edoc | null = null;
  let verifiedAttachments: Array<{ name: string; region: ContentRegion | null }> = [];
  const unreadable = (en: string, vi: string) => formatFailureReport(trust.at ?? new Date(), bi(en, vi));
  const packetFacts = facts.get("packet.edxml");
  if (!packetFacts || packetFacts.error) {
    packetReport = unreadable(packetFacts ? "packet.edxml cannot be read" : "packet.edxml is missing", "không có gói tin packet.edxml đọc được");
  } else {
    const result = await verifyPacket({ path: packetPath }, verifyOpts);
    packetReport = result.report;
    if (result.content) {
      if (result.content.packet.kind !== "edoc") {
        packetReport.valid = false;
        packetReport.indication = "TOTAL_FAILED";
        packetReport.subIndication = "FORMAT_FAILURE";
        packetReport.errors.push(bi("packet.edxml is a status packet, not a document", "packet.edxml là gói tin trạng thái, không phải văn bản"));
      } else {
        signed = result.content.packet;
        verifiedAttachments = result.content.attachments.map((a) => ({ name: a.info.AttachmentName, region: a.region }));
      }
    }
  }
  const documentId = signed?.header.DocumentId ?? manifest?.record.documentId ?? packetReport.documentId;

  // the manifest's record against the signed header
  if (manifest && signed) {
    const mismatch = recordMismatches(manifest.record, signed);
    if (mismatch.length) {
      manifestOk = false;
      problems.push(bi(`manifest.json describes the document differently from the signed packet: ${mismatch.join("; ")}`, "manifest.json mô tả văn bản khác với gói tin đã ký"));
    }
    const names = manifest.attachments.map((a) => `${a.n}:${a.name}`).join("\n");
    if (names !== verifiedAttachments.map((a, i) => `${i + 1}:${a.name}`).join("\n")) {
      manifestOk = false;
      problems.push(bi("manifest.json lists other attachments than the signed packet", "manifest.json liệt kê tệp đính kèm khác với gói tin đã ký"));
    }
  }

  // attachments against the verified packet
  let attachmentsMatchPacket = signed !== null;
  const attachmentFiles = [...facts.keys()].filter((n) => n.startsWith("attachments/"));
  if (!signed) {
    problems.push(bi("the attachments cannot be compared with the packet, because the packet does not verify", "không đối chiếu được tệp đính kèm vì gói tin không hợp lệ"));
  } else {
    const expected = verifiedAttachments.map((a, i) => ({ ...a, n: i + 1, path: attachmentPath(i + 1, verifiedAttachments.length, a.name) }));
    for (const a of expected) {
      const f = facts.get(a.path);
      if (!f) {
        attachmentsMatchPacket = false;
        problems.push(bi(`attachment ${a.n} of the signed packet ("${a.name}") is missing: expected ${a.path}`, `thiếu tệp đính kèm ${a.n} ("${a.name}")`));
        continue;
      }
      const packetDigests = a.region ? await decodedDigests({ path: packetPath }, a.region) : { sha256: createHash("sha256").digest("hex") };
      if (!f.sha256 || (f.sha256 !== packetDigests.sha256 && f.sha256 !== packetDigests.unwrapped)) {
        attachmentsMatchPacket = false;
        problems.push(bi(`${a.path} differs from attachment ${a.n} of the signed packet`, `${a.path} khác với tệp đính kèm ${a.n} trong gói tin đã ký`));
      }
    }
    for (const name of attachmentFiles) {
      if (!expected.some((a) => a.path === name)) {
        attachmentsMatchPacket = false;
        problems.push(bi(`${name} is not an attachment of the signed packet`, `${name} không phải tệp đính kèm của gói tin đã ký`));
      }
    }
  }

  // report.json: the report made at reception or sending must be about this packet and signer
  let reportMatchesPacket = true;
  const recorded = facts.get("report.json")?.bytes;
  if (!recorded) {
    reportMatchesPacket = false;
    if (!facts.has("report.json")) problems.push(bi("report.json is missing", "thiếu tệp report.json"));
  } else {
    let r: Partial<VerificationReport> | null = null;
    try {
      r = JSON.parse(recorded.toString("utf8"));
    } catch {
      /* below */
    }
    if (!r || typeof r !== "object") {
      reportMatchesPacket = false;
      problems.push(bi("report.json is not a readable verification report", "report.json không đọc được"));
    } else {
      const differs: string[] = [];
      if (r.documentId !== documentId) differs.push(`documentId ${JSON.stringify(r.documentId)}`);
      if (packetReport.signer && r.signer?.fingerprint !== packetReport.signer.fingerprint) differs.push(`signer ${r.signer?.fingerprint ?? "none"}`);
      if (packetReport.signingTime && r.signingTime !== packetReport.signingTime) differs.push(`signing time ${JSON.stringify(r.signingTime)}`);
      if (manifest && r.validationTime !== manifest.verifiedAt) differs.push(`verification time ${JSON.stringify(r.validationTime)} (manifest.json says ${manifest.verifiedAt})`);
      if (differs.length) {
        reportMatchesPacket = false;
        problems.push(bi(`report.json does not describe this packet: ${differs.join(", ")}`, "report.json không mô tả gói tin này"));
      } else if (r.valid !== true) {
        warnings.push(bi("report.json records that the packet did NOT verify when it was received or sent", "report.json ghi nhận gói tin không hợp lệ khi nhận hoặc gửi"));
      }
    }
  }

  // status packets: each verifies, is signed by the party it claims, answers this document
  const statuses: BundleStatusResult[] = [];
  const statusFiles = [...facts.keys()].filter((n) => n.startsWith("statuses/")).sort();
  const listedStatuses = new Map((manifest?.statuses ?? []).map((s) => [s.path, s]));
  for (const name of statusFiles) {
    const f = facts.get(name)!;
    const m = STATUS_PATH.exec(name);
    const code = m?.[2] ?? "";
    const from = m?.[3] ?? "";
    const entryProblems: string[] = [];
    let report: VerificationReport;
    if (!f.bytes) {
      report = unreadable(f.error ?? "cannot be read", "không đọc được");
      entryProblems.push(f.error ?? "cannot be read");
    } else {
      const result = await verifyPacket({ bytes: f.bytes }, verifyOpts);
      report = result.report;
      if (!report.valid) entryProblems.push(`its signature does not verify (${report.subIndication}): ${report.errors.join("; ")}`);
      const content = result.content?.packet;
      if (content && content.kind !== "status") entryProblems.push("it is not a status packet");
      if (content?.kind === "status") entryProblems.push(...statusMismatches(content, m, documentId, signed));
    }
    const listedAs = listedStatuses.get(name);
    if (manifest && !listedAs) entryProblems.push("manifest.json does not list it among the statuses");
    if (listedAs && (listedAs.code !== code || listedAs.from !== from)) entryProblems.push("manifest.json lists it with another code or sender");
    for (const p of entryProblems) problems.push(bi(`${name}: ${p}`, `${name}: gói tin trạng thái không hợp lệ`));
    statuses.push({ path: name, code, from, at: listedAs?.at ?? null, ok: entryProblems.length === 0, problems: entryProblems, report });
  }
  for (const s of listedStatuses.keys()) {
    if (!facts.has(s) && !problems.some((p) => p.startsWith(`${s}:`))) {
      problems.push(bi(`${s}: listed in manifest.json but missing from the bundle`, `thiếu tệp ${s}`));
    }
  }

  // hints: an expired certificate, no trust anchor
  const timeFailure = [packetReport, ...statuses.map((s) => s.report)].some((r) => r.subIndication === "EXPIRED" || r.subIndication === "NOT_YET_VALID");
  if (timeFailure && manifest && packetReport.validationTime !== manifest.verifiedAt) {
    warnings.push(
      bi(
        `certificates were checked as of ${packetReport.validationTime}; the bundle records that the packet was verified at ${manifest.verifiedAt}. If you accept that time on other evidence, run again with --at ${manifest.verifiedAt}`,
        `chứng thư số được kiểm tra tại thời điểm ${packetReport.validationTime}; hồ sơ ghi nhận gói tin được kiểm tra lúc ${manifest.verifiedAt}. Nếu chấp nhận thời điểm đó, chạy lại với --at ${manifest.verifiedAt}`,
      ),
    );
  }
  if (packetReport.subIndication === "NO_CERTIFICATE_CHAIN_FOUND" && manifest?.trust.anchors.length) {
    warnings.push(
      bi(
        `the bundle names the trust anchor(s) used when it was made: ${manifest.trust.anchors.join(", ")}; check the fingerprint against an official source and pass your own copy with --trust`,
        `hồ sơ nêu chứng thư số gốc đã dùng: ${manifest.trust.anchors.join(", ")}; hãy đối chiếu dấu vân tay với nguồn chính thức rồi dùng --trust`,
      ),
    );
  }

  const filesOk = manifest !== null && files.every((f) => f.sha256Ok);
  const valid =
    packetReport.valid && manifestOk && filesOk && attachmentsMatchPacket && reportMatchesPacket && statuses.every((s) => s.ok) &&
    problems.length === 0;
  return {
    ...packetReport,
    valid,
    indication: valid ? "TOTAL_PASSED" : packetReport.valid ? "TOTAL_FAILED" : packetReport.indication,
    errors: [...packetReport.errors, ...problems],
    warnings: [...packetReport.warnings, ...warnings],
    bundle: {
      format: manifest?.format ?? null,
      created: manifest?.created ?? null,
      recordedVerificationTime: manifest?.verifiedAt ?? null,
      record: manifest?.record ?? null,
      registrySource,
      packetValid: packetReport.valid,
      manifestOk,
      files,
      attachmentsMatchPacket,
      reportMatchesPacket,
      statuses,
      errors: problems,
    },
  };
}

function fileProblemVi(path: string, problem: string): string {
  if (problem.startsWith("changed")) return `${path}: tệp đã bị thay đổi (mã băm SHA-256 khác manifest.json)`;
  if (problem.startsWith("not listed")) return `${path}: tệp thừa, không có trong manifest.json`;
  if (problem.startsWith("listed")) return `${path}: thiếu tệp có trong manifest.json`;
  return `${path}: không đọc được tệp`;
}

/** A status packet must say what its file name says, answer this document, and come from a party to it. */
function statusMismatches(s: StatusPacket, m: RegExpExecArray | null, documentId: string | null, edoc: Edoc | null): string[] {
  const out: string[] = [];
  const h = s.header;
  if (!m) out.push(`its file name is not statuses/<seq>-<code>-<from>.edxml`);
  else {
    if (m[2] !== h.StatusCode) out.push(`the file name says code ${m[2]} but the signed packet says ${h.StatusCode}`);
    if (m[3] !== bundleFileName(h.From.OrganId)) out.push(`the file name says it is from ${m[3]} but the signed packet is from ${h.From.OrganId}`);
  }
  if (h.ResponseFor.DocumentId !== documentId) {
    out.push(`it answers the document ${JSON.stringify(h.ResponseFor.DocumentId)}, not ${JSON.stringify(documentId)}`);
  }
  if (edoc) {
    // 13 (take back) is sent by the document's sender; every other status by one of its recipients
    const sender = edoc.header.From.OrganId;
    const recipients = edoc.header.To.map((t) => t.OrganId);
    if (h.StatusCode === "13" ? h.From.OrganId !== sender : !recipients.includes(h.From.OrganId)) {
      out.push(
        h.StatusCode === "13"
          ? `status 13 must come from the document's sender ${sender}, not ${h.From.OrganId}`
          : `it comes from ${h.From.OrganId}, which is not a recipient of the document`,
      );
    }
  }
  return out;
}

function parseManifest(json: unknown): EvidenceManifest {
  const m = json as EvidenceManifest;
  if (!m || typeof m !== "object") throw new Error("not a JSON object");
  if (m.format !== EVIDENCE_FORMAT) throw new Error(`the format is ${JSON.stringify(m.format)}, expected "${EVIDENCE_FORMAT}"`);
  const str = (v: unknown) => typeof v === "string";
  if (!Array.isArray(m.files) || m.files.some((f) => !f || !str(f.path) || !/^[0-9a-f]{64}$/.test(f.sha256) || !Number.isSafeInteger(f.size))) {
    throw new Error("its file list is not a list of {path, sha256, size}");
  }
  if (new Set(m.files.map((f) => f.path)).size !== m.files.length) throw new Error("its file list names a file twice");
  const r = m.record;
  if (!r || !str(r.documentId) || !str(r.from) || !Array.isArray(r.to) || !str(r.code) || !str(r.subject)) {
    throw new Error("its document record is incomplete");
  }
  if (!str(m.created) || !str(m.verifiedAt)) throw new Error("its times are missing");
  if (!Array.isArray(m.attachments) || !Array.isArray(m.statuses) || !m.trust || !Array.isArray(m.trust.anchors)) {
    throw new Error("its attachment, status or trust lists are missing");
  }
  return m;
}

/**
 * SHA-256 of an attachment's decoded bytes, and, when those bytes are a ZIP holding one file (the
 * VNPT library's convention, see envelopes/attachment.ts), of that file too: a bundle may carry the
 * attachment either way. One streaming pass; the inner file is never held whole.
 */
async function decodedDigests(source: PacketSource, region: ContentRegion): Promise<{ sha256: string; unwrapped?: string }> {
  const raw = createHash("sha256");
  const inner = createHash("sha256");
  let unzip: Unzip | null | undefined; // decided by the first chunk
  let files = 0;
  let innerBytes = 0;
  let complete = false;
  let broken = false;
  const push = (data: Uint8Array, final = false) => {
    try {
      if (unzip && !broken) unzip.push(data, final);
    } catch {
      broken = true;
    }
  };
  for await (const chunk of regionBytes(source, region)) {
    raw.update(chunk);
    if (unzip === undefined) {
      unzip = isZip(chunk)
        ? new Unzip((file) => {
            if (file.name.endsWith("/")) return;
            if (++files > 1) broken = true;
            file.ondata = (err, data, final) => {
              if (err || (innerBytes += data.length) > MAX_UNWRAPPED_BYTES) broken = true;
              else inner.update(data);
              complete ||= final;
            };
            if (!broken) file.start();
          })
        : null;
      unzip?.register(UnzipInflate);
    }
    push(chunk);
  }
  push(new Uint8Array(0), true);
  const sha256 = raw.digest("hex");
  return unzip && !broken && complete ? { sha256, unwrapped: inner.digest("hex") } : { sha256 };
}

/** The bundle report in words: the overall verdict, the packet (via `describePacket`), files, statuses. */
export function describeBundle(r: BundleReport, describePacket: (report: VerificationReport) => string): string {
  const b = r.bundle;
  const lines = [
    r.valid
      ? "VALID — hồ sơ chứng cứ hợp lệ (evidence bundle verified)"
      : "NOT VALID — hồ sơ chứng cứ không hợp lệ (evidence bundle not verified)",
  ];
  if (b.record) lines.push(`document:      ${b.record.code} — ${b.record.subject} (${b.record.from} → ${b.record.to.join(", ")})`);
  if (b.created) lines.push(`bundle made:   ${b.created}; signature recorded as checked at ${b.recordedVerificationTime}`);
  lines.push("", "packet.edxml:");
  const packetOnly: VerificationReport = {
    ...r,
    valid: b.packetValid,
    errors: r.errors.filter((e) => !b.errors.includes(e)),
    warnings: [],
  };
  lines.push(...describePacket(packetOnly).trimEnd().split("\n").map((l) => `  ${l}`));
  lines.push("", "files — các tệp:");
  for (const f of b.files) lines.push(`  ${f.sha256Ok ? "✓" : "✗"} ${f.path}${f.problem ? `  (${f.problem})` : ""}`);
  lines.push("", `attachments match the signed packet — tệp đính kèm khớp gói tin đã ký: ${b.attachmentsMatchPacket ? "✓" : "✗"}`);
  lines.push(`report.json describes the packet — report.json khớp gói tin: ${b.reportMatchesPacket ? "✓" : "✗"}`);
  lines.push(`registry — danh bạ: ${b.registrySource === "caller" ? "given with --registry" : b.registrySource === "bundle" ? "taken from the bundle itself" : "none"}`);
  lines.push("", b.statuses.length ? "statuses — trạng thái:" : "statuses — trạng thái: none");
  for (const s of b.statuses) {
    const name = STATUS_CODES[s.code as keyof typeof STATUS_CODES] ?? "";
    const who = s.report.signer ? `, signed by ${s.report.signer.subject}` : "";
    const when = s.report.signingTime ? ` at ${s.report.signingTime}` : "";
    lines.push(`  ${s.ok ? "✓" : "✗"} ${s.path}  ${s.code} ${name} from ${s.from}${who}${when}`);
    for (const p of s.problems) lines.push(`      ✗ ${p}`);
  }
  lines.push("");
  for (const e of b.errors) lines.push(`error:   ${e}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n").replace(/\n+$/, "") + "\n";
}
