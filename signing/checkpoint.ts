// Signed checkpoints of the audit log's hash chain: "the log held `seq` rows, the last hash was
// `hash`, at `at`", signed by one of the node's agencies. A copy held elsewhere (every evidence
// bundle carries the latest) proves the log reached at least that far, and with that content.
import { sign, verify, type X509Certificate } from "node:crypto";
import { certificateFromDer, fingerprint } from "./pki/certificates.ts";
import { validateChain } from "./pki/chain.ts";
import type { Identity } from "./pki/identity.ts";
import { isBound } from "./registry.ts";
import type { TrustConfig } from "./verify.ts";

const CHECKPOINT_FORMAT = "edoc-audit-checkpoint/1";

export interface CheckpointHead {
  /** The number of rows in the chain at the checkpoint (the last row's seq). */
  seq: number;
  /** That row's chain hash (hex SHA-256). */
  hash: string;
  /** When the checkpoint was made (ISO 8601). */
  at: string;
  /** The local agency whose identity signs it. */
  organId: string;
}

export interface AuditCheckpoint extends CheckpointHead {
  /** base64 DER certificates: the signer first, then the intermediates it came with, comma-separated. */
  certificate: string;
  /** base64 signature over `checkpointBytes` (SHA-256 with the signer's key). */
  signature: string;
}

/** The bytes a checkpoint's signature (and a time-stamp of it) covers. */
export function checkpointBytes(c: CheckpointHead): Buffer {
  return Buffer.from(`${CHECKPOINT_FORMAT}\nseq=${c.seq}\nhash=${c.hash}\nat=${c.at}\norgan=${c.organId}\n`, "utf8");
}

export function signCheckpoint(identity: Identity, head: CheckpointHead): AuditCheckpoint {
  return {
    ...head,
    certificate: [identity.certificate, ...identity.chain].map((c) => c.raw.toString("base64")).join(","),
    signature: sign("sha256", checkpointBytes(head), identity.privateKey).toString("base64"),
  };
}

export type CheckpointCheck = { ok: true; signer: X509Certificate } | { ok: false; message: string; vi: string };

/** The checkpoint's signature checked with the certificate it carries: who signed it, if anyone. */
export function checkpointSigner(c: AuditCheckpoint): CheckpointCheck & { intermediates?: X509Certificate[] } {
  let certs: X509Certificate[];
  try {
    certs = c.certificate.split(",").map((b) => certificateFromDer(Buffer.from(b, "base64")));
  } catch (err) {
    return { ok: false, message: `its certificate cannot be read: ${(err as Error).message}`, vi: "không đọc được chứng thư số của nó" };
  }
  const [leaf, ...intermediates] = certs;
  let signed = false;
  try {
    signed = verify("sha256", checkpointBytes(c), leaf.publicKey, Buffer.from(c.signature, "base64"));
  } catch {
    signed = false;
  }
  return signed ? { ok: true, signer: leaf, intermediates } : { ok: false, message: "its signature does not verify", vi: "chữ ký của nó không hợp lệ" };
}

/**
 * A checkpoint is proven when its signature verifies with its certificate, the certificate chains
 * to a trust anchor at the checkpoint's time and is bound to the organ id in the registry.
 */
export function verifyCheckpoint(c: AuditCheckpoint, trust: TrustConfig): CheckpointCheck {
  const signed = checkpointSigner(c);
  if (!signed.ok) return signed;
  const chain = validateChain({ leaf: signed.signer, intermediates: signed.intermediates ?? [], anchors: trust.anchors, crls: trust.crls, at: new Date(c.at) });
  if (!chain.ok) return { ok: false, message: `its signer's certificate is not trusted: ${chain.message}`, vi: `chứng thư số của người ký không được tin cậy: ${chain.vi}` };
  if (!trust.registry || !isBound(trust.registry, c.organId, fingerprint(signed.signer))) {
    return { ok: false, message: `its certificate is not the registered certificate of ${c.organId}`, vi: `chứng thư số của nó không phải chứng thư đã đăng ký của ${c.organId}` };
  }
  return { ok: true, signer: signed.signer };
}
