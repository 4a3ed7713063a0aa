// Trust anchors and revocation lists: what this node's verifier accepts. Both are shared by every
// local agency of the node, so only a node administrator changes them; every change is audited. The node notices changes made by another
// process (the CLI, another node on the same database) within seconds.
import type { X509Certificate } from "node:crypto";
import { fingerprint, parseCertificates, parseCrl, type Crl } from "../signing/index.ts";
import { addCrl as storeCrl, addTrustAnchor, audit, trustVersion, type AnchorPurpose } from "../storage/index.ts";
import { assertNodeAdmin } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { invalid } from "./errors.ts";
import { subjectLine } from "./registry.ts";

/**
 * Adds trust anchors, for signers or (purpose "tsa") for time-stamping authorities; a certificate
 * that is not a CA is pinned (it trusts only itself), with a warning.
 */
export async function addTrustAnchors(ctx: AppContext, caller: Caller, certs: X509Certificate[], purpose: AnchorPurpose = "signing"): Promise<{ warnings: string[] }> {
  await assertNodeAdmin(ctx, caller, "add trust anchors");
  if (!certs.length) throw invalid("no certificate to trust");
  for (const c of certs) {
    if (new Date(c.validTo) < ctx.now()) throw invalid(`the certificate "${subjectLine(c)}" expired on ${new Date(c.validTo).toISOString()}`);
  }
  await ctx.storage.db.transaction(async (trx) => {
    for (const c of certs) {
      await addTrustAnchor(trx, c, purpose);
      await audit(trx, { actor: caller.actor, organId: null, action: purpose === "tsa" ? "trust.add-tsa" : "trust.add", detail: { subject: subjectLine(c), fingerprint: fingerprint(c), ca: c.ca, validTo: c.validTo } });
    }
  });
  ctx.trustChanged();
  return { warnings: certs.filter((c) => !c.ca).map((c) => `"${subjectLine(c)}" is not a CA certificate: it is pinned and trusts only itself`) };
}

/** Adds a revocation list; certificates it revokes are refused from then on. */
export async function addCrl(ctx: AppContext, caller: Caller, crl: Crl): Promise<{ warnings: string[] }> {
  await assertNodeAdmin(ctx, caller, "add revocation lists");
  await ctx.storage.db.transaction(async (trx) => {
    await storeCrl(trx, crl);
    await audit(trx, { actor: caller.actor, organId: null, action: "crl.add", detail: { issuer: crl.issuer, revoked: crl.revoked.length, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate ?? null } });
  });
  ctx.trustChanged();
  const stale = crl.nextUpdate && crl.nextUpdate < ctx.now();
  return { warnings: stale ? [`this CRL was due to be replaced on ${crl.nextUpdate!.toISOString()}; add the CA's current CRL too`] : [] };
}

/** Trust anchors from an uploaded file (PEM, one or several certificates, or DER): the pages' form. */
export async function addTrustAnchorFile(ctx: AppContext, caller: Caller, bytes: Buffer): Promise<{ warnings: string[]; added: number }> {
  await assertNodeAdmin(ctx, caller, "add trust anchors");
  let certs: X509Certificate[];
  try {
    certs = parseCertificates(bytes);
  } catch {
    throw invalid("the file holds no readable certificate (PEM or DER)");
  }
  return { ...(await addTrustAnchors(ctx, caller, certs)), added: certs.length };
}

/** A revocation list from an uploaded file (PEM or DER): the pages' form. */
export async function addCrlFile(ctx: AppContext, caller: Caller, bytes: Buffer): Promise<{ warnings: string[] }> {
  await assertNodeAdmin(ctx, caller, "add revocation lists");
  let crl: Crl;
  try {
    crl = parseCrl(bytes);
  } catch {
    throw invalid("the file is not a readable revocation list (CRL, PEM or DER)");
  }
  return addCrl(ctx, caller, crl);
}

/**
 * The CLI and other processes change trust anchors, CRLs and the registry in the database; the
 * node notices within `ms` (a cheap query of counts and latest times) and reloads its trust.
 */
export function watchTrustChanges(ctx: AppContext, ms: number): () => void {
  let last: string | null = null;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const now = await trustVersion(ctx.storage.db);
      if (last !== null && now !== last) {
        ctx.trustChanged();
        ctx.log.info("trust anchors, CRLs or the registry changed: reloading them");
      }
      last = now;
    } catch {
      // the database is away; /readyz says so
    } finally {
      busy = false;
    }
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
