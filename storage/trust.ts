// Trust anchors and CRLs, and the trust configuration the verifier gets from them and the registry.
import { createHash, X509Certificate } from "node:crypto";
import { fingerprint, parseCrl, type Crl, type Registry, type TrustConfig } from "../signing/index.ts";
import type { Db } from "./db.ts";
import { listAgencies } from "./registry.ts";

/** What an anchor is trusted for: signers of packets, or time-stamping authorities (B-T). */
export type AnchorPurpose = "signing" | "tsa";

export async function addTrustAnchor(db: Db, cert: X509Certificate, purpose: AnchorPurpose = "signing"): Promise<void> {
  await db("trust_anchors")
    .insert({ fingerprint: fingerprint(cert), pem: cert.toString(), subject: cert.subject.replace(/\n/g, ", "), added_at: new Date(), purpose })
    .onConflict("fingerprint")
    .ignore();
}

export async function listTrustAnchors(db: Db, purpose: AnchorPurpose = "signing"): Promise<X509Certificate[]> {
  return (await db("trust_anchors").where({ purpose }).orderBy("added_at")).map((r) => new X509Certificate(r.pem));
}

export async function addCrl(db: Db, crl: Crl): Promise<void> {
  await db("crls")
    .insert({
      sha256: createHash("sha256").update(crl.der).digest("hex"),
      issuer: crl.issuer,
      der: crl.der,
      this_update: crl.thisUpdate,
      next_update: crl.nextUpdate ?? null,
      added_at: new Date(),
    })
    .onConflict("sha256")
    .ignore();
}

export async function listCrls(db: Db): Promise<Crl[]> {
  return (await db("crls").orderBy("added_at")).map((r) => parseCrl(Buffer.from(r.der)));
}

/** What the verifier needs: anchors, CRLs and the registry binding organ ids to certificates. */
export async function loadTrust(db: Db): Promise<TrustConfig> {
  const registry: Registry = new Map();
  for (const a of await listAgencies(db)) {
    if (a.status === "active") registry.set(a.organId, { organId: a.organId, name: a.name, certificateFingerprints: a.certificateFingerprints });
  }
  return { anchors: await listTrustAnchors(db), crls: await listCrls(db), registry, tsaAnchors: await listTrustAnchors(db, "tsa") };
}

/**
 * A value that changes whenever trust anchors, CRLs, the registry or the local agencies change (counts and latest
 * times): cheap enough to poll every few seconds.
 */
export async function trustVersion(db: Db): Promise<string> {
  const [r, t, c, l] = await Promise.all([
    db("registry").count({ n: "*" }).max({ m: "updated_at" }).first(),
    db("trust_anchors").count({ n: "*" }).max({ m: "added_at" }).first(),
    db("crls").count({ n: "*" }).max({ m: "added_at" }).first(),
    // the local agencies (kept beside the trust, app/context.ts)
    db("local_agencies").count({ n: "*" }).max({ m: "created_at" }).first(),
  ]);
  return JSON.stringify([r, t, c, l]);
}
