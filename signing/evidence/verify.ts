// Verifying a bundle offline.
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
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Unzip, UnzipInflate } from "fflate";
import type { Entry, ZipFile } from "yauzl";
import { MAX_UNWRAPPED_BYTES, isZip, regionBytes, statusSender, type ContentRegion, type Edoc, type PacketSource, type StatusPacket } from "../../envelopes/index.ts";
import { registryFromJson } from "../registry.ts";
import { formatFailureReport, type VerificationReport } from "../report.ts";
import { verifyPacket, type TrustConfig } from "../verify.ts";
import { STATUS_PATH, attachmentPath, bundleFileName, type EvidenceManifest, type EvidenceRecord } from "./layout.ts";
import { parseManifest, recordMismatches } from "./manifest.ts";
import { openBundle, readEntry, type FileFacts } from "./zip-read.ts";


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
    // the sender's codes (13, take back) come from the document's sender, the others from a recipient
    const sender = edoc.header.From.OrganId;
    const recipients = edoc.header.To.map((t) => t.OrganId);
    const bySender = statusSender(h.StatusCode) === "sender";
    if (bySender ? h.From.OrganId !== sender : !recipients.includes(h.From.OrganId)) {
      out.push(
        bySender
          ? `status ${h.StatusCode} must come from the document's sender ${sender}, not ${h.From.OrganId}`
          : `it comes from ${h.From.OrganId}, which is not a recipient of the document`,
      );
    }
  }
  return out;
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
