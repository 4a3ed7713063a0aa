// Unsigned packets from the national axle. Many agencies reach the axle through software that
// writes the QCVN placeholder <Signature> (or none): such a packet proves nothing about who wrote
// it. It is refused (NO_SIGNATURE) unless an administrator accepted unsigned packets from that one
// sender (`registry add … --accept-unsigned`), and only when it came through the hub, whose
// per-system HMAC at least says which hub account sent it: never at the open POST /edxml door.
// An accepted one keeps a report that says so — valid false, INDETERMINATE / NO_SIGNATURE and the
// warning UNSIGNED_NOTE — and is shown as "Chưa ký số" (not signed), never as valid.
import { createHash } from "node:crypto";
import { children, parseStrict, readPacket, scanPacket, text, type Packet, type PacketSource } from "../envelopes/index.ts";
import type { SignedContent, VerificationReport } from "../signing/index.ts";
import { getAgency } from "../storage/index.ts";
import type { AppContext } from "./context.ts";

/** The words every accepted unsigned packet's report carries (English — Vietnamese). */
const UNSIGNED_NOTE = "not signed: accepted without a digital signature because the sender's registry entry allows unsigned packets from the national axle — Chưa ký số";

/** What the receive use case reads of a packet: a signed one's SignedContent, or this of an accepted unsigned one. */
export interface ReceivedContent {
  packet: Packet;
  attachments: SignedContent["attachments"];
  /** Identifies a status without a signature: its (sender, document, code, Timestamp). */
  headerDigest: string;
  report: VerificationReport;
}

/** Whether a stored report is that of an unsigned packet accepted from the axle. */
export const isUnsignedReport = (r: VerificationReport) => r.subIndication === "NO_SIGNATURE";

/**
 * The packet read without a signature, when its sender (From) is in the registry, active, and
 * accepts unsigned packets; null otherwise (it stays refused).
 */
export async function acceptUnsigned(ctx: AppContext, source: PacketSource, refused: VerificationReport): Promise<ReceivedContent | null> {
  if (refused.subIndication !== "NO_SIGNATURE") return null;
  const scanned = await scanPacket(source);
  const doc = parseStrict(scanned.skeleton);
  const { packet } = readPacket(doc);
  const sender = packet.header.From.OrganId;
  const entry = sender ? await getAgency(ctx.storage.db, sender) : null;
  if (!entry?.acceptUnsigned || entry.status !== "active") return null;
  const regionOf = new Map(scanned.regions.map((r) => [r.marker, r]));
  const encoded = children(doc.documentElement, "AttachmentEncoded")[0];
  const elements = encoded ? children(encoded, "Attachment") : [];
  const attachments =
    packet.kind === "edoc"
      ? packet.attachments.map((info, i) => ({ info, region: (elements[i] && regionOf.get(text(elements[i], "ContentTransferEncoded") ?? "")) || null }))
      : [];
  const documentId = packet.kind === "edoc" ? packet.header.DocumentId : packet.header.ResponseFor.DocumentId;
  const identity = packet.kind === "status" ? [sender, documentId, packet.header.StatusCode, packet.header.Timestamp] : [sender, documentId];
  const headerDigest = createHash("sha256").update(`unsigned\n${identity.join("\n")}`).digest("base64");
  const report: VerificationReport = { ...refused, packetKind: packet.kind, documentId, warnings: [...refused.warnings, UNSIGNED_NOTE] };
  return { packet, attachments, headerDigest, report };
}
