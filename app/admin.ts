// What the administrators' pages read: the node's own agencies with their certificates and how
// soon each expires, the trust anchors and CRLs with their dates, and the agency's deliveries that
// need a look. Each checks the role like every use case; the changes go through the use cases of
// their concern (setup, registry, trust, users, tokens, documents).
import type { X509Certificate } from "node:crypto";
import { describeCertificate, type CertificateDescription } from "../signing/index.ts";
import { agencyQueueDepth, listCrls, listLocalAgencies, listTrustAnchors, listTroubledDeliveries } from "../storage/index.ts";
import { ADMINS, assertRole, isNodeAdmin } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";

const DAY_MS = 86_400_000;

/** How soon a certificate expires: "expired", within 7 days, within 30 days, or "ok". */
export type ExpiryLevel = "expired" | "7" | "30" | "ok";

export interface CertificateView extends CertificateDescription {
  /** Whole days left (negative once expired). */
  daysLeft: number;
  expiry: ExpiryLevel;
}

/** A certificate as the pages show it, with its expiry warning (30 and 7 days ahead). */
export function certificateView(cert: X509Certificate, now: Date): CertificateView {
  const notAfter = new Date(cert.validTo);
  const left = notAfter.getTime() - now.getTime();
  const daysLeft = Math.floor(left / DAY_MS);
  const expiry: ExpiryLevel = left <= 0 ? "expired" : left <= 7 * DAY_MS ? "7" : left <= 30 * DAY_MS ? "30" : "ok";
  return { ...describeCertificate(cert), daysLeft, expiry };
}

/** The node's own agencies (a node administrator sees every one, another admin its own) with their signing certificates. */
export async function localAgencyList(ctx: AppContext, caller: Caller) {
  assertRole(caller, ADMINS, "manage the agencies of this node");
  const all = await isNodeAdmin(ctx, caller);
  const now = ctx.now();
  return (await listLocalAgencies(ctx.storage.db))
    .filter((a) => all || a.organId === caller.organId)
    .map((a) => ({ organId: a.organId, name: a.name, development: a.development, certificate: certificateView(a.certificate, now), chain: a.chain.map((c) => certificateView(c, now)) }));
}

/** The trust anchors and CRLs: every admin may read them (only node administrators change them). */
export async function trustState(ctx: AppContext, caller: Caller) {
  assertRole(caller, ADMINS, "read the trust anchors");
  const db = ctx.storage.db;
  const now = ctx.now();
  const [anchors, crls] = await Promise.all([listTrustAnchors(db), listCrls(db)]);
  return {
    anchors: anchors.map((c) => ({ ...certificateView(c, now), ca: c.ca })),
    crls: crls.map((c) => ({
      issuer: c.issuer,
      thisUpdate: c.thisUpdate.toISOString(),
      nextUpdate: c.nextUpdate?.toISOString() ?? null,
      revoked: c.revoked.length,
      // past its next update: the CA has published a newer list this node does not have
      stale: c.nextUpdate !== undefined && c.nextUpdate < now,
    })),
  };
}

/** Rows shown at most on the queue page. */
const QUEUE_PAGE = 200;

/**
 * The agency's deliveries that need a look (failed, retrying after errors, stuck) and its share of
 * the queue by state. Only the delivery rows: the administrator reads no document.
 */
export async function deliveryQueue(ctx: AppContext, caller: Caller) {
  assertRole(caller, ADMINS, "read the delivery queue");
  const db = ctx.storage.db;
  const [depth, rows] = await Promise.all([agencyQueueDepth(db, caller.organId), listTroubledDeliveries(db, caller.organId, ctx.now(), QUEUE_PAGE)]);
  return { depth, rows };
}
