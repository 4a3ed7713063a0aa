// The attachment files of a bundle against the verified packet: each equals the decoded attachment
// (or, for an attachment the packet carries zipped, the file inside), streamed, never held whole.
import { createHash } from "node:crypto";
import { Unzip, UnzipInflate } from "fflate";
import { MAX_UNWRAPPED_BYTES, isZip, regionBytes, type ContentRegion, type Edoc, type PacketSource } from "../../envelopes/index.ts";
import { attachmentPath } from "./layout.ts";
import { bi } from "./report.ts";
import type { FileFacts } from "./zip-read.ts";

/** An attachment of the verified packet: its signed name, and where its content lies in packet.edxml. */
export interface SignedAttachment {
  name: string;
  region: ContentRegion | null;
}

/** Every attachment file equals the decoded attachment of the verified packet, none missing or extra. */
export async function checkAttachments(
  facts: Map<string, FileFacts>,
  signed: Edoc | null,
  verifiedAttachments: SignedAttachment[],
  packetPath: string,
  problems: string[],
): Promise<boolean> {
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
  return attachmentsMatchPacket;
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
