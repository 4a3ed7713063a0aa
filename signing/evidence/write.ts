// Making a bundle: the input checked against the packet it holds, then every file streamed into the
// ZIP (zip-write.ts) with its digest recorded in manifest.json, written last.
import { X509Certificate } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DSIG_NS, allElements, parseStrict, readPacket, readSource, scanPacket, type PacketSource } from "../../envelopes/index.ts";
import type { AuditCheckpoint } from "../checkpoint.ts";
import { fingerprint } from "../pki/certificates.ts";
import { registryToJson, type Registry } from "../registry.ts";
import type { VerificationReport } from "../report.ts";
import { isNamed } from "../xmldsig.ts";
import {
  AUDIT_CHECKPOINT_PATH,
  EVIDENCE_FORMAT,
  MANIFEST_PATH,
  MANIFEST_SIGNATURE_PATH,
  attachmentPath,
  bundleFileName,
  statusPath,
  timestampPath,
  type EvidenceManifest,
  type EvidenceRecord,
  type EvidenceStatus,
} from "./layout.ts";
import type { InclusionProof } from "../archive.ts";
import { archiveProofFile, archiveProofPath } from "./archive.ts";
import { normalizeRecord, recordMismatches } from "./manifest.ts";
import { readmeText } from "./readme.ts";
import { signManifest, stampSeal, type BundlePublisher } from "./signature.ts";
import { zipStream } from "./zip-write.ts";

export interface EvidenceInput {
  record: EvidenceRecord;
  packet: PacketSource;
  /** In the packet's order; `name` must be the packet's AttachmentName. `bytes`: the decoded file. */
  attachments: Array<{ name: string; bytes: AsyncIterable<Buffer | Uint8Array> }>;
  /** Oldest first. */
  statuses: EvidenceStatus[];
  /** The packet's signature time-stamp kept beside it (DER), when it went out without one. */
  packetTimestamp?: Buffer;
  /** The report made when the packet was received or sent. */
  report: VerificationReport;
  /** The node's trust anchors; those the signers chain to are copied into trust/. */
  anchors: X509Certificate[];
  /** Archive time-stamp proofs by the SHA-256 of the item they prove (packet, attachment, status packet), with the root stamp's renewals in order. */
  archive?: Map<string, InclusionProof & { token: Buffer; renewals: Buffer[] }>;
  /** The node's time-stamping authority anchors, copied into trust/. */
  tsaAnchors?: X509Certificate[];
  /** The node's registry; the entries of the organ ids involved are copied into trust/registry.json. */
  registry: Registry;
  /** The node's publishing identity (its registry snapshot publisher): it signs manifest.json. */
  publisher: BundlePublisher;
  /** The node's latest signed checkpoint of its audit log, when it has one. */
  auditCheckpoint?: AuditCheckpoint | null;
  /**
   * The node's time-stamping authority, when it has one: a token over `data` (the seal's canonical
   * ds:SignatureValue), or null when it is away (the bundle then goes without the seal's stamp).
   */
  tsa?: (data: string) => Promise<Buffer | null>;
  /** The bundle's creation time; defaults to now. */
  created?: Date;
}

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
    publisher: {
      organId: input.publisher.organId,
      fingerprint: fingerprint(input.publisher.identity.certificate),
      certificate: `trust/publisher-${bundleFileName(input.publisher.organId)}-${fingerprint(input.publisher.identity.certificate).slice(0, 16)}.pem`,
    },
    ...(input.tsa ? { sealTimestamp: "requested" as const } : {}),
    ...(input.auditCheckpoint ? { auditCheckpoint: AUDIT_CHECKPOINT_PATH } : {}),
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
  const tsaAnchors = input.tsaAnchors ?? [];
  if (tsaAnchors.length) manifest.trust.tsaAnchors = tsaAnchors.map((a) => `trust/tsa-anchor-${fingerprint(a).slice(0, 16)}.pem`);

  yield* add("README.txt", Buffer.from(readmeText(manifest)), false);
  yield* add("packet.edxml", readSource(input.packet), true);
  for (const [i, a] of input.attachments.entries()) yield* add(manifest.attachments[i].path, a.bytes, true);
  for (const [i, s] of input.statuses.entries()) yield* add(manifest.statuses[i].path, s.packet, false);
  if (input.packetTimestamp) yield* add(timestampPath("packet.edxml"), input.packetTimestamp, false);
  for (const [i, s] of input.statuses.entries()) if (s.timestamp) yield* add(timestampPath(manifest.statuses[i].path), s.timestamp, false);
  yield* add("report.json", Buffer.from(JSON.stringify(input.report, null, 2) + "\n"), false);
  // each file stored in an archive round gets its proof (files holds every file added so far)
  for (const f of [...files]) {
    const proof = input.archive?.get(f.sha256);
    if (proof) yield* add(archiveProofPath(f.path), archiveProofFile(f.path, proof, proof.token, proof.renewals), false);
  }
  for (const [i, a] of [...anchors.values()].entries()) yield* add(manifest.trust.anchors[i], Buffer.from(a.toString()), false);
  for (const [i, a] of tsaAnchors.entries()) yield* add(manifest.trust.tsaAnchors![i], Buffer.from(a.toString()), false);
  for (const f of signerFiles.values()) yield* add(f.path, Buffer.from(f.pem), false);
  yield* add(manifest.publisher.certificate, Buffer.from(input.publisher.identity.certificate.toString()), false);
  const organIds = new Set([
    record.from,
    ...record.to,
    packet.header.From.OrganId,
    ...packet.header.To.map((t) => t.OrganId),
    ...input.statuses.map((s) => s.from),
  ]);
  const involved = [...organIds].sort().flatMap((id) => input.registry.get(id) ?? []);
  yield* add("trust/registry.json", Buffer.from(JSON.stringify(registryToJson(involved), null, 2) + "\n"), false);
  if (input.auditCheckpoint) {
    const { seq, hash, at, organId, certificate, signature } = input.auditCheckpoint;
    yield* add(AUDIT_CHECKPOINT_PATH, Buffer.from(JSON.stringify({ seq, hash, at, organId, certificate, signature }, null, 2) + "\n"), false);
  }

  const manifestBytes = Buffer.from(JSON.stringify({ ...manifest, files: [...files] }, null, 2) + "\n");
  yield* add(MANIFEST_PATH, manifestBytes, false);
  const seal = signManifest(manifestBytes, input.publisher, created);
  yield* add(MANIFEST_SIGNATURE_PATH, input.tsa ? await stampSeal(seal, input.tsa) : seal, false);
  yield* end();
}
