// Verifying a bundle offline.
//
// What proves what. The proof is in the signatures: the packet (by the sender), the status packets
// (by the other party), and manifest-signature.xml (by the exporting node's publishing identity)
// over manifest.json, whose digests cover every other file. So verification re-checks every
// signature; checks every file against the signed manifest (a status packet deleted, with the
// manifest edited to match, breaks the manifest signature); and checks the files against what the
// other signatures cover: the attachments against the signed attachment digests, the manifest's
// record and report.json against the signed header and signer.
//
// Which time certificates are checked at. A signature with a valid time-stamp (packet, status
// packet, the seal: B-T) is checked at the stamp's time, the proof of existence an independent TSA
// gives. Otherwise now, as `edoc verify` does for a packet, and as EU DSS does for a XAdES-BASELINE-B
// signature with no proof of existence: years later the signer's certificate has expired and the
// answer is INDETERMINATE / EXPIRED. The bundle never picks a past time by itself to make something
// valid, because every time it holds is a claim nobody independent vouches for:
//  - SigningTime in the signed properties is the signer's claim: whoever holds the key (a key that
//    leaked after its certificate expired, say) can claim any time;
//  - the manifest's verifiedAt is the claim of whoever made, or edited, the bundle.
// The archivist who accepts the recorded time on other evidence (the node's logs, the register of
// incoming documents) passes it with `at` (`--at`); the report's validationTime says which time was
// used. When a certificate fails as EXPIRED or NOT_YET_VALID, a warning names the recorded time and
// the option to pass, and README.txt says the same. The one use of a claimed time: a seal whose
// certificate merely expired, unstamped, is checked at its SigningTime (revocations up to now
// counting) only to tell a correct seal from a forged one; it is never valid, at best a warning when
// every document proof holds without it (judgeSeal), the verdict then resting on those proofs.
//
// Trust. Anchors are only ever the caller's (`--trust`): trust/ holds copies so that an archivist can
// see which CA was used and compare its fingerprint with an official source, never to be trusted
// because they are inside the bundle. Which certificate may sign for which agency comes only from
// what the caller gave: their registry (`--registry`), or the publisher certificate they pinned
// (`--registry-cert`), whose valid signature over the manifest makes the bundle's trust/registry.json
// (covered by the manifest's digest) theirs too. A certificate that merely chains to an anchor proves
// nothing about which agency it may sign for, so a manifest it signed does not make the bundle's
// registry count. Without either, no signer is bound: SIGNER_NOT_BOUND. The manifest signature
// itself is trusted when made by the pinned certificate, or else by a certificate that chains to an
// anchor and that the caller's registry binds to the publishing agency it names (the report says
// which agency vouched for the bundle).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Entry, ZipFile } from "yauzl";
import type { Edoc } from "../../envelopes/index.ts";
import { checkpointSigner, type AuditCheckpoint } from "../checkpoint.ts";
import { fingerprint } from "../pki/certificates.ts";
import { registryFromJson, type Registry } from "../registry.ts";
import type { VerificationReport } from "../report.ts";
import { verifyPacket, type VerifyOptions } from "../verify.ts";
import { addPdfSignatures } from "../pdf/index.ts";
import { checkArchiveProofs } from "./archive.ts";
import { checkAttachments, type SignedAttachment } from "./attachments.ts";
import { AUDIT_CHECKPOINT_PATH, MANIFEST_PATH, MANIFEST_SIGNATURE_PATH, timestampPath, type EvidenceManifest } from "./layout.ts";
import { parseManifest, recordMismatches } from "./manifest.ts";
import { bi, unreadable, type ArchiveProofResult, type BundleFileResult, type BundleReport, type BundleStatusResult, type BundleTrust, type ManifestSignatureResult } from "./report.ts";
import { checkManifestSignature } from "./signature.ts";
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

async function verifyEntries(zip: ZipFile, entries: Map<string, Entry>, given: BundleTrust, tmp: string): Promise<BundleReport> {
  const trust = { ...given, at: given.at ?? new Date() }; // one verification time for every check
  const found: Findings = { problems: [], warnings: [] };
  const { problems, warnings } = found;
  const { manifest, bytes: manifestBytes } = await readManifest(zip, entries, problems);

  // every other file: digest and size; packet.edxml extracted; small files kept
  const facts = new Map<string, FileFacts>();
  const packetPath = join(tmp, "packet.edxml");
  let signatureBytes: Buffer | null = null;
  for (const [name, e] of entries) {
    if (name === MANIFEST_PATH) continue;
    if (name === MANIFEST_SIGNATURE_PATH) {
      signatureBytes = (await readEntry(zip, e, true)).bytes ?? Buffer.alloc(0); // unreadable: refused as not XML
      continue;
    }
    const keep =
      name.startsWith("statuses/") || name.startsWith("timestamps/") || name.startsWith("archive/") || name === "report.json" || name === "trust/registry.json" || name === AUDIT_CHECKPOINT_PATH;
    facts.set(name, await readEntry(zip, e, keep, name === "packet.edxml" ? packetPath : undefined));
  }
  const files = checkFiles(facts, manifest, problems);
  const manifestSignature = await checkManifestSignature(signatureBytes, manifestBytes, trust, trust.at, warnings);
  manifestSignature.timestampRequested = manifest?.sealTimestamp === "requested";
  const sealHolds = manifestSignature.valid || manifestSignature.basis === "claimed";
  if (sealHolds && manifest?.publisher && (manifest.publisher.organId !== manifestSignature.publisher || manifest.publisher.fingerprint !== manifestSignature.signer?.fingerprint)) {
    problems.push(bi("manifest.json names another publisher than the one who signed it", "manifest.json nêu nơi công bố khác với người đã ký"));
  }
  const auditCheckpoint = checkAuditCheckpoint(facts, manifestSignature, problems);
  const { registry, registrySource } = bundleRegistry(trust, facts, files, manifestSignature, found);
  const verifyOpts: VerifyOptions = { anchors: trust.anchors, crls: trust.crls, registry, at: trust.at, tsaAnchors: trust.tsaAnchors };
  const packetTimestamp = facts.get(timestampPath("packet.edxml"))?.bytes;
  const { packetReport, signed, verifiedAttachments } = await verifyBundledPacket(facts, packetPath, { ...verifyOpts, timestamp: packetTimestamp });
  const documentId = signed?.header.DocumentId ?? manifest?.record.documentId ?? packetReport.documentId;
  const manifestOk = manifest !== null && (!signed || manifestAgrees(manifest, signed, verifiedAttachments, problems));
  const attachmentsMatchPacket = await checkAttachments(facts, signed, verifiedAttachments, packetPath, problems);
  const reportMatchesPacket = checkReportJson(facts, documentId, packetReport, manifest, found);
  const statuses = await checkStatuses(facts, manifest, verifyOpts, documentId, signed, problems);
  const archive = await checkArchiveProofs(facts, trust, problems, warnings);
  judgeSeal(manifestSignature, { packetReport, attachmentsMatchPacket, statuses, archive }, found);
  hints(packetReport, statuses, manifestSignature, manifest, warnings);

  const filesOk = manifest !== null && files.every((f) => f.sha256Ok);
  const valid =
    packetReport.valid && sealHolds && manifestOk && filesOk && attachmentsMatchPacket && reportMatchesPacket && statuses.every((s) => s.ok) &&
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
      manifestSignature,
      verdictBy: valid ? (manifestSignature.valid ? "seal" : "documents") : null,
      packetValid: packetReport.valid,
      manifestOk,
      files,
      attachmentsMatchPacket,
      reportMatchesPacket,
      statuses,
      archive,
      auditCheckpoint,
      errors: problems,
    },
  };
}

/**
 * The node's audit checkpoint, when the bundle carries one: signed by the same node that signed the
 * manifest (whose trust the manifest signature established), so it proves the node's audit log
 * held at least `seq` rows ending in `hash` at `at` — a log later cut back or rewritten shows.
 */
function checkAuditCheckpoint(facts: Map<string, FileFacts>, manifestSignature: ManifestSignatureResult, problems: string[]): BundleReport["bundle"]["auditCheckpoint"] {
  const f = facts.get(AUDIT_CHECKPOINT_PATH);
  if (!f) return null;
  let cp: AuditCheckpoint;
  try {
    cp = JSON.parse(f.bytes!.toString("utf8"));
    if (!Number.isSafeInteger(cp.seq) || !/^[0-9a-f]{64}$/.test(cp.hash) || typeof cp.at !== "string" || typeof cp.organId !== "string") throw new Error("fields are missing");
  } catch (err) {
    problems.push(bi(`${AUDIT_CHECKPOINT_PATH} cannot be read: ${(err as Error).message}`, `không đọc được ${AUDIT_CHECKPOINT_PATH}`));
    return null;
  }
  const signed = checkpointSigner(cp);
  const sealHolds = manifestSignature.valid || manifestSignature.basis === "claimed";
  const valid = signed.ok && sealHolds && manifestSignature.signer?.fingerprint === fingerprint(signed.signer);
  if (!valid) {
    problems.push(
      bi(
        `the audit checkpoint (${AUDIT_CHECKPOINT_PATH}) is not signed by the node that signed the manifest${signed.ok ? "" : `: ${signed.message}`}`,
        `điểm kiểm tra nhật ký (${AUDIT_CHECKPOINT_PATH}) không do nút đã ký manifest.json ký${signed.ok ? "" : `: ${signed.vi}`}`,
      ),
    );
  }
  return { seq: cp.seq, hash: cp.hash, at: cp.at, organId: cp.organId, valid };
}

/** manifest.json, its bytes and parsed; null (with a problem) when it is missing or unreadable. */
async function readManifest(zip: ZipFile, entries: Map<string, Entry>, problems: string[]): Promise<{ manifest: EvidenceManifest | null; bytes: Buffer | null }> {
  const manifestEntry = entries.get(MANIFEST_PATH);
  let bytes: Buffer | null = null;
  if (!manifestEntry) {
    problems.push(bi("manifest.json is missing, so nothing says which files the bundle should hold", "thiếu tệp manifest.json"));
  } else {
    try {
      const f = await readEntry(zip, manifestEntry, true);
      if (f.error) throw new Error(f.error);
      bytes = f.bytes!;
      return { manifest: parseManifest(JSON.parse(bytes.toString("utf8"))), bytes };
    } catch (err) {
      problems.push(bi(`manifest.json cannot be read: ${(err as Error).message}`, "không đọc được manifest.json"));
    }
  }
  return { manifest: null, bytes };
}

/** The documents' own proofs, each checked without the manifest's word. */
interface DocumentProofs {
  packetReport: VerificationReport;
  attachmentsMatchPacket: boolean;
  statuses: BundleStatusResult[];
  archive: ArchiveProofResult[];
}

/**
 * The seal's verdict: a seal that does not verify is an error. One that is only "claimed" (its
 * certificate expired, nothing proves when it signed) is a warning when every document proof holds
 * on its own (the packet's and each status packet's signature, the attachments against the signed
 * packet, every archive proof), an error naming those that do not otherwise. A valid seal without
 * the stamp the node asked for is a warning: it lasts only as long as its certificate.
 */
function judgeSeal(m: ManifestSignatureResult, proofs: DocumentProofs, { problems, warnings }: Findings): void {
  if (!m.valid && m.basis !== "claimed") {
    problems.push(bi(`the manifest signature (${MANIFEST_SIGNATURE_PATH}) is not valid (${m.subIndication}): ${m.problem}`, `chữ ký của nút trên manifest.json không hợp lệ (${m.subIndication})`));
    return;
  }
  const why = !m.timestamp
    ? m.timestampRequested
      ? { en: "the node asked its time-stamping authority for a stamp on it when it made the bundle, but the authority did not answer", vi: "khi lập hồ sơ, nút đã xin dấu thời gian nhưng đơn vị cấp dấu thời gian không trả lời" }
      : { en: "the node that made the bundle did not ask for a stamp on it (no time-stamping authority was configured)", vi: "nút lập hồ sơ không xin dấu thời gian cho chữ ký này (không cấu hình đơn vị cấp dấu thời gian)" }
    : { en: `its time-stamp does not count (${m.timestamp.reason})`, vi: `dấu thời gian của nó không được công nhận (${m.timestamp.reason})` };
  if (m.valid) {
    if (!m.timestamp && m.timestampRequested) {
      warnings.push(
        bi(
          `the node's seal over the bundle (${MANIFEST_SIGNATURE_PATH}) carries no time-stamp: ${why.en}. It holds while its certificate is valid; after that the verdict rests on each document's own proofs`,
          `chữ ký niêm phong hồ sơ của nút (${MANIFEST_SIGNATURE_PATH}) không có dấu thời gian: ${why.vi}. Chữ ký này chỉ có giá trị khi chứng thư số còn hiệu lực; sau đó kết luận dựa trên bằng chứng riêng của từng văn bản`,
        ),
      );
    }
    return;
  }
  const failing = [
    ...(proofs.packetReport.valid ? [] : [{ en: "the packet's signature (packet.edxml)", vi: "chữ ký của gói tin (packet.edxml)" }]),
    ...(proofs.attachmentsMatchPacket ? [] : [{ en: "the attachments against the signed packet", vi: "tệp đính kèm so với gói tin đã ký" }]),
    ...proofs.statuses.filter((s) => !s.ok).map((s) => ({ en: s.path, vi: s.path })),
    ...proofs.archive.filter((x) => !x.included || !x.stamped).map((x) => ({ en: `the archive proof of ${x.path}`, vi: `bằng chứng lưu trữ của ${x.path}` })),
  ];
  const unproven = {
    en: `the node's seal over the bundle (${MANIFEST_SIGNATURE_PATH}) is not proven at a time: its certificate has expired (${m.problem}) and ${why.en}`,
    vi: `chữ ký niêm phong hồ sơ của nút (${MANIFEST_SIGNATURE_PATH}) không chứng minh được thời điểm ký: chứng thư số đã hết hạn và ${why.vi}`,
  };
  if (failing.length) {
    problems.push(
      bi(
        `${unproven.en}; such a seal is accepted only when every document proof holds on its own, and these do not: ${failing.map((f) => f.en).join(", ")}`,
        `${unproven.vi}; chữ ký đó chỉ được chấp nhận khi bằng chứng riêng của mọi văn bản đều hợp lệ, nhưng các bằng chứng sau không hợp lệ: ${failing.map((f) => f.vi).join(", ")}`,
      ),
    );
    return;
  }
  warnings.push(
    bi(
      `${unproven.en}. Its signature is correct, and its certificate was valid and is not revoked as of the verification time, at the time the seal states (${m.checkedAt}), but nothing independent proves that time. ` +
        "So the verdict rests on each document's own proofs (the packet's signature and time-stamp, the status packets' signatures, the archive time-stamps), which all hold; the seal alone no longer proves that the bundle is complete (that no status packet was left out)",
      `${unproven.vi}. Chữ ký đúng, chứng thư số hợp lệ và không bị thu hồi tại thời điểm ghi trong chữ ký (${m.checkedAt}), nhưng không có bên độc lập nào xác nhận thời điểm đó. ` +
        "Vì vậy kết luận dựa trên bằng chứng riêng của từng văn bản (chữ ký và dấu thời gian của gói tin, chữ ký của các gói tin trạng thái, dấu thời gian lưu trữ), tất cả đều hợp lệ; riêng chữ ký niêm phong không còn chứng minh được hồ sơ đầy đủ (không thiếu gói tin trạng thái nào)",
    ),
  );
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

/**
 * The registry: the caller's; else the bundle's own (trust/registry.json), only when the caller
 * pinned the publisher certificate that signed the manifest covering it; else none.
 */
function bundleRegistry(
  trust: BundleTrust,
  facts: Map<string, FileFacts>,
  files: BundleFileResult[],
  signature: ManifestSignatureResult,
  { problems }: Findings,
): { registry: Registry | null; registrySource: RegistrySource } {
  if (trust.registry) return { registry: trust.registry, registrySource: "caller" };
  const path = "trust/registry.json";
  const own = facts.get(path)?.bytes;
  const covered = files.some((f) => f.path === path && f.sha256Ok);
  if (signature.valid && signature.trustedBy === "pinned" && own && covered) {
    try {
      return { registry: registryFromJson(JSON.parse(own.toString("utf8"))), registrySource: "bundle" };
    } catch (err) {
      problems.push(bi(`trust/registry.json cannot be used: ${(err as Error).message}`, "không dùng được trust/registry.json"));
      return { registry: null, registrySource: "none" };
    }
  }
  if (signature.basis === "claimed" && signature.trustedBy === "pinned") {
    problems.push(
      bi(
        "the bundle's own registry (trust/registry.json) does not count: the node's seal over it is not proven at a time (its certificate has expired and no time-stamp that counts shows when it signed); pass your own with --registry",
        "danh bạ trong hồ sơ (trust/registry.json) không được dùng: chữ ký niêm phong của nút không chứng minh được thời điểm ký (chứng thư số đã hết hạn, không có dấu thời gian hợp lệ); hãy dùng --registry",
      ),
    );
    return { registry: null, registrySource: "none" };
  }
  problems.push(
    bi(
      "no registry binds the signers to their agencies: pass your own with --registry, or pin the publishing node's certificate with --registry-cert NODE.pem so that its signature makes the bundle's trust/registry.json count (a certificate that merely chains to a trust anchor does not)",
      "không có danh bạ xác định người ký thuộc cơ quan nào: dùng --registry, hoặc --registry-cert NODE.pem (chứng thư số của nút lập hồ sơ)",
    ),
  );
  return { registry: null, registrySource: "none" };
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
        await addPdfSignatures(packetReport, { path: packetPath }, result.content, { anchors: verifyOpts.anchors, tsaAnchors: verifyOpts.tsaAnchors ?? [], crls: verifyOpts.crls, at: verifyOpts.at });
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
function hints(packetReport: VerificationReport, statuses: BundleStatusResult[], signature: ManifestSignatureResult, manifest: EvidenceManifest | null, warnings: string[]): void {
  // a "claimed" seal has its own words (judgeSeal)
  const timeFailure = [packetReport, ...statuses.map((s) => s.report), ...(signature.basis === "claimed" ? [] : [signature])].some((r) => r.subIndication === "EXPIRED" || r.subIndication === "NOT_YET_VALID");
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

