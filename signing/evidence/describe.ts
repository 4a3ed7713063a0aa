// The bundle report in words, as `edoc verify BUNDLE.zip` prints it.
import { STATUS_CODES } from "../../envelopes/index.ts";
import type { VerificationReport } from "../report.ts";
import { MANIFEST_SIGNATURE_PATH } from "./layout.ts";
import type { BundleReport } from "./report.ts";

/** The bundle report in words: the overall verdict, the packet (via `describePacket`), files, statuses. */
export function describeBundle(r: BundleReport, describePacket: (report: VerificationReport) => string): string {
  const b = r.bundle;
  const lines = [
    r.valid
      ? "VALID — hồ sơ chứng cứ hợp lệ (evidence bundle verified)"
      : "NOT VALID — hồ sơ chứng cứ không hợp lệ (evidence bundle not verified)",
  ];
  const m = b.manifestSignature;
  if (b.verdictBy === "seal") {
    const basis =
      m.basis === "timestamp"
        ? `time-stamped at ${m.timestamp?.time} by ${m.timestamp?.tsa}, its certificate checked at that time — có dấu thời gian lúc ${m.timestamp?.time}, chứng thư số được kiểm tra tại thời điểm đó`
        : `its certificate valid at the verification time — chứng thư số còn hiệu lực tại thời điểm kiểm tra`;
    lines.push(`verdict rests on — kết luận dựa trên: the node's seal over every file — chữ ký niêm phong mọi tệp của nút (${MANIFEST_SIGNATURE_PATH}), ${basis}`);
  } else if (b.verdictBy === "documents") {
    lines.push(
      "verdict rests on — kết luận dựa trên: each document's own proofs (packet, status packets, archive time-stamps), not on the node's seal, which is not proven at a time (see the warning)" +
        " — bằng chứng riêng của từng văn bản (gói tin, gói tin trạng thái, dấu thời gian lưu trữ), không dựa trên chữ ký niêm phong của nút vì chữ ký đó không chứng minh được thời điểm ký (xem cảnh báo)",
    );
  }
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
  const by = `${m.publisher}, ${m.trustedBy === "pinned" ? "the certificate pinned with --registry-cert" : "bound by the registry"} (${m.signer?.subject})`;
  const vouched = m.valid ? by : m.basis === "claimed" ? `NOT PROVEN AT A TIME — không chứng minh được thời điểm: ${by}, its certificate expired, valid at the time it states (${m.checkedAt})` : `NOT VALID (${m.subIndication})`;
  lines.push(`manifest signed by the node — chữ ký của nút: ${m.valid ? "✓" : "✗"} ${vouched}`);
  const stamp = m.timestamp
    ? m.timestamp.valid
      ? `✓ ${m.timestamp.time}, by ${m.timestamp.tsa}`
      : `✗ does not count — không được công nhận (${m.timestamp.reason})`
    : m.timestampRequested
      ? "✗ none: the time-stamping authority did not answer when the bundle was made — không có: đơn vị cấp dấu thời gian không trả lời khi lập hồ sơ"
      : "none: the node did not ask for one (no time-stamping authority configured) — không có: nút không xin dấu thời gian";
  if (m.subIndication !== "NO_SIGNATURE") lines.push(`seal's time-stamp — dấu thời gian của chữ ký niêm phong: ${stamp}`);
  const registries = { caller: "given with --registry", bundle: "the bundle's own, signed by the pinned publisher (--registry-cert)", none: "none: no signer can be bound to an agency" };
  lines.push(`registry — danh bạ: ${registries[b.registrySource]}`);
  const cp = b.auditCheckpoint;
  if (cp) lines.push(`audit log checkpoint — điểm kiểm tra nhật ký: ${cp.valid ? "✓" : "✗"} ${cp.seq} rows by ${cp.at}, signed by ${cp.organId} (bin/edoc audit verify checks the node's log against it)`);
  lines.push("", b.statuses.length ? "statuses — trạng thái:" : "statuses — trạng thái: none");
  for (const s of b.statuses) {
    const name = STATUS_CODES[s.code as keyof typeof STATUS_CODES] ?? "";
    const who = s.report.signer ? `, signed by ${s.report.signer.subject}` : "";
    const when = s.report.signingTime ? ` at ${s.report.signingTime}` : "";
    lines.push(`  ${s.ok ? "✓" : "✗"} ${s.path}  ${s.code} ${name} from ${s.from}${who}${when}`);
    for (const p of s.problems) lines.push(`      ✗ ${p}`);
  }
  if (b.archive.length) lines.push("", "archive time-stamps — dấu thời gian lưu trữ:");
  for (const x of b.archive) {
    const renewed = x.stamps.length > 1 ? `, stamp renewed ${x.stamps.length - 1}× (last by ${x.stamps[x.stamps.length - 1].tsa})` : "";
    const what = !x.included ? "does not fit the file" : x.stamped ? `existed unchanged at ${x.time}, stamped by ${x.tsa}${renewed}` : `stamp does not count (${x.reason})`;
    lines.push(`  ${x.included && x.stamped ? "✓" : "✗"} ${x.path}  ${what}`);
  }
  lines.push("");
  for (const e of b.errors) lines.push(`error:   ${e}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n").replace(/\n+$/, "") + "\n";
}
