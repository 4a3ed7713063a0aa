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
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Entry, ZipFile } from "yauzl";
import type { Edoc } from "../../envelopes/index.ts";
import { registryFromJson, type Registry } from "../registry.ts";
import type { VerificationReport } from "../report.ts";
import { verifyPacket, type VerifyOptions } from "../verify.ts";
import { checkAttachments, type SignedAttachment } from "./attachments.ts";
import type { EvidenceManifest } from "./layout.ts";
import { parseManifest, recordMismatches } from "./manifest.ts";
import { bi, unreadable, type BundleFileResult, type BundleReport, type BundleStatusResult, type BundleTrust } from "./report.ts";
import { checkStatuses } from "./statuses.ts";
import { openBundle, readEntry, type FileFacts } from "./zip-read.ts";

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

/** What the bundle's checks find beyond the packet's own report, in words (English — Vietnamese). */
interface Findings {
  problems: string[];
  warnings: string[];
}

type RegistrySource = BundleReport["bundle"]["registrySource"];

async function verifyEntries(zip: ZipFile, entries: Map<string, Entry>, trust: BundleTrust, tmp: string): Promise<BundleReport> {
  const found: Findings = { problems: [], warnings: [] };
  const { problems, warnings } = found;
  const manifest = await readManifest(zip, entries, problems);

  // every other file: digest and size; packet.edxml extracted; small files kept
  const facts = new Map<string, FileFacts>();
  const packetPath = join(tmp, "packet.edxml");
  for (const [name, e] of entries) {
    if (name === "manifest.json") continue;
    const keep = name.startsWith("statuses/") || name === "report.json" || name === "trust/registry.json";
    facts.set(name, await readEntry(zip, e, keep, name === "packet.edxml" ? packetPath : undefined));
  }
  const files = checkFiles(facts, manifest, problems);
  const { registry, registrySource } = bundleRegistry(trust, facts, found);
  const verifyOpts: VerifyOptions = { anchors: trust.anchors, crls: trust.crls, registry, at: trust.at };
  const { packetReport, signed, verifiedAttachments } = await verifyBundledPacket(facts, packetPath, verifyOpts);
  const documentId = signed?.header.DocumentId ?? manifest?.record.documentId ?? packetReport.documentId;
  const manifestOk = manifest !== null && (!signed || manifestAgrees(manifest, signed, verifiedAttachments, problems));
  const attachmentsMatchPacket = await checkAttachments(facts, signed, verifiedAttachments, packetPath, problems);
  const reportMatchesPacket = checkReportJson(facts, documentId, packetReport, manifest, found);
  const statuses = await checkStatuses(facts, manifest, verifyOpts, documentId, signed, problems);
  hints(packetReport, statuses, manifest, warnings);

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

/** manifest.json, parsed; null (with a problem) when it is missing or unreadable. */
async function readManifest(zip: ZipFile, entries: Map<string, Entry>, problems: string[]): Promise<EvidenceManifest | null> {
  const manifestEntry = entries.get("manifest.json");
  if (!manifestEntry) {
    problems.push(bi("manifest.json is missing, so nothing says which files the bundle should hold", "thiếu tệp manifest.json"));
  } else {
    try {
      const f = await readEntry(zip, manifestEntry, true);
      if (f.error) throw new Error(f.error);
      return parseManifest(JSON.parse(f.bytes!.toString("utf8")));
    } catch (err) {
      problems.push(bi(`manifest.json cannot be read: ${(err as Error).message}`, "không đọc được manifest.json"));
    }
  }
  return null;
}

/** Every file against the manifest: none changed, missing or extra. */
function checkFiles(facts: Map<string, FileFacts>, manifest: EvidenceManifest | null, problems: string[]): BundleFileResult[] {
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
  return files;
}

/** The registry: the caller's, else the bundle's own (trust/registry.json) with a warning. */
function bundleRegistry(trust: BundleTrust, facts: Map<string, FileFacts>, { problems, warnings }: Findings): { registry: Registry | null; registrySource: RegistrySource } {
  let registry = trust.registry;
  let registrySource: RegistrySource = registry ? "caller" : "none";
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
  return { registry, registrySource };
}

/** packet.edxml, verified; `signed` is the edoc its signature covers, null when it does not verify. */
async function verifyBundledPacket(
  facts: Map<string, FileFacts>,
  packetPath: string,
  verifyOpts: VerifyOptions,
): Promise<{ packetReport: VerificationReport; signed: Edoc | null; verifiedAttachments: SignedAttachment[] }> {
  let packetReport: VerificationReport;
  let signed: Edoc | null = null;
  let verifiedAttachments: SignedAttachment[] = [];
  const packetFacts = facts.get("packet.edxml");
  if (!packetFacts || packetFacts.error) {
    packetReport = unreadable(verifyOpts.at, packetFacts ? "packet.edxml cannot be read" : "packet.edxml is missing", "không có gói tin packet.edxml đọc được");
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
  return { packetReport, signed, verifiedAttachments };
}

/** The manifest's record and attachment list against the signed header. */
function manifestAgrees(manifest: EvidenceManifest, signed: Edoc, verifiedAttachments: SignedAttachment[], problems: string[]): boolean {
  let agrees = true;
  const mismatch = recordMismatches(manifest.record, signed);
  if (mismatch.length) {
    agrees = false;
    problems.push(bi(`manifest.json describes the document differently from the signed packet: ${mismatch.join("; ")}`, "manifest.json mô tả văn bản khác với gói tin đã ký"));
  }
  const names = manifest.attachments.map((a) => `${a.n}:${a.name}`).join("\n");
  if (names !== verifiedAttachments.map((a, i) => `${i + 1}:${a.name}`).join("\n")) {
    agrees = false;
    problems.push(bi("manifest.json lists other attachments than the signed packet", "manifest.json liệt kê tệp đính kèm khác với gói tin đã ký"));
  }
  return agrees;
}

/** report.json: the report made at reception or sending must be about this packet and signer. */
function checkReportJson(
  facts: Map<string, FileFacts>,
  documentId: string | null,
  packetReport: VerificationReport,
  manifest: EvidenceManifest | null,
  { problems, warnings }: Findings,
): boolean {
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
  return reportMatchesPacket;
}

/** Hints: an expired certificate (pass --at), no trust anchor (the bundle names the one used). */
function hints(packetReport: VerificationReport, statuses: BundleStatusResult[], manifest: EvidenceManifest | null, warnings: string[]): void {
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
}

function fileProblemVi(path: string, problem: string): string {
  if (problem.startsWith("changed")) return `${path}: tệp đã bị thay đổi (mã băm SHA-256 khác manifest.json)`;
  if (problem.startsWith("not listed")) return `${path}: tệp thừa, không có trong manifest.json`;
  if (problem.startsWith("listed")) return `${path}: thiếu tệp có trong manifest.json`;
  return `${path}: không đọc được tệp`;
}

