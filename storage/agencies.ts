// Local agencies (the agencies this node hosts) with their signing identities, API tokens, trust
// anchors, CRLs and the registry of every known agency.
import { createHash, createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import {
  fingerprint,
  normalizeFingerprint,
  parseCertificates,
  parseCrl,
  type Crl,
  type Identity,
  type Registry,
  type TrustConfig,
} from "../signing/index.ts";
import type { Db } from "./db.ts";
import { open, seal } from "./keys.ts";

export interface LocalAgency {
  organId: string;
  name: string;
  certificate: X509Certificate;
  chain: X509Certificate[];
  development: boolean;
}

export async function addLocalAgency(
  db: Db,
  key: Buffer,
  a: { organId: string; name: string; identity: Identity; development?: boolean },
): Promise<void> {
  const der = a.identity.privateKey.export({ type: "pkcs8", format: "der" });
  await db("local_agencies").insert({
    organ_id: a.organId,
    name: a.name,
    certificate_pem: a.identity.certificate.toString(),
    chain_pem: a.identity.chain.map((c) => c.toString()).join(""),
    private_key_enc: seal(key, der),
    development: a.development ?? false,
    created_at: new Date(),
  });
}

function toAgency(row: Record<string, unknown>): LocalAgency {
  return {
    organId: row.organ_id as string,
    name: row.name as string,
    certificate: new X509Certificate(row.certificate_pem as string),
    chain: row.chain_pem ? parseCertificates(row.chain_pem as string) : [],
    development: Boolean(row.development),
  };
}

export async function listLocalAgencies(db: Db): Promise<LocalAgency[]> {
  return (await db("local_agencies").orderBy("created_at")).map(toAgency);
}

export async function getLocalAgency(db: Db, organId: string): Promise<LocalAgency | null> {
  const row = await db("local_agencies").where({ organ_id: organId }).first();
  return row ? toAgency(row) : null;
}

/** The agency's signing identity, its private key decrypted with the master key. */
export async function loadIdentity(db: Db, key: Buffer, organId: string): Promise<Identity> {
  const row = await db("local_agencies").where({ organ_id: organId }).first();
  if (!row) throw new Error(`${organId} is not an agency of this node`);
  const agency = toAgency(row);
  const privateKey = createPrivateKey({ key: open(key, Buffer.from(row.private_key_enc)), format: "der", type: "pkcs8" });
  return { privateKey, certificate: agency.certificate, chain: agency.chain };
}

// ---- tokens -------------------------------------------------------------------------------

export const ROLES = ["clerk", "archivist", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface TokenOwner {
  id: number;
  organId: string;
  role: Role;
  name: string;
}

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** A new API token; only its hash is stored, so this is the one time it can be shown. */
export async function createToken(db: Db, t: { organId: string; role: Role; name?: string }): Promise<string> {
  const token = `edoc_${randomBytes(32).toString("base64url")}`;
  await db("tokens").insert({ token_hash: hashToken(token), organ_id: t.organId, role: t.role, name: t.name ?? "", created_at: new Date() });
  return token;
}

export async function findToken(db: Db, token: string): Promise<TokenOwner | null> {
  const row = await db("tokens").where({ token_hash: hashToken(token) }).whereNull("revoked_at").first();
  return row ? { id: row.id, organId: row.organ_id, role: row.role, name: row.name } : null;
}

export async function revokeToken(db: Db, id: number): Promise<boolean> {
  return (await db("tokens").where({ id }).whereNull("revoked_at").update({ revoked_at: new Date() })) > 0;
}

// ---- trust anchors and CRLs ---------------------------------------------------------------

export async function addTrustAnchor(db: Db, cert: X509Certificate): Promise<void> {
  await db("trust_anchors")
    .insert({ fingerprint: fingerprint(cert), pem: cert.toString(), subject: cert.subject.replace(/\n/g, ", "), added_at: new Date() })
    .onConflict("fingerprint")
    .ignore();
}

export async function listTrustAnchors(db: Db): Promise<X509Certificate[]> {
  return (await db("trust_anchors").orderBy("added_at")).map((r) => new X509Certificate(r.pem));
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

// ---- registry -----------------------------------------------------------------------------

export interface AgencyRecord {
  organId: string;
  name: string;
  parentId: string | null;
  /** Base URL of the node hosting the agency; packets go to `{endpoint}/edxml`. */
  endpoint: string;
  certificates: X509Certificate[];
  certificateFingerprints: string[];
  status: "active" | "inactive";
  /** "local", or the snapshot URL it was synced from. */
  source: string;
  updatedAt: string;
}

function toRecord(row: Record<string, unknown>): AgencyRecord {
  return {
    organId: row.organ_id as string,
    name: row.name as string,
    parentId: (row.parent_id as string | null) ?? null,
    endpoint: row.endpoint as string,
    certificates: row.certificates_pem ? parseCertificates(row.certificates_pem as string) : [],
    certificateFingerprints: JSON.parse(row.certificate_fingerprints as string),
    status: row.status as AgencyRecord["status"],
    source: row.source as string,
    updatedAt: new Date(row.updated_at as string).toISOString(),
  };
}

export async function upsertAgency(
  db: Db,
  a: Omit<AgencyRecord, "updatedAt" | "certificateFingerprints" | "status" | "source"> &
    Partial<Pick<AgencyRecord, "certificateFingerprints" | "status" | "source">>,
): Promise<AgencyRecord> {
  const fps = [...new Set([...(a.certificateFingerprints ?? []).map(normalizeFingerprint), ...a.certificates.map(fingerprint)])];
  const row = {
    organ_id: a.organId,
    name: a.name,
    parent_id: a.parentId,
    endpoint: a.endpoint.replace(/\/+$/, ""),
    certificates_pem: a.certificates.map((c) => c.toString()).join(""),
    certificate_fingerprints: JSON.stringify(fps),
    status: a.status ?? "active",
    source: a.source ?? "local",
    updated_at: new Date(),
  };
  await db("registry").insert(row).onConflict("organ_id").merge();
  return (await getAgency(db, a.organId))!;
}

export async function getAgency(db: Db, organId: string): Promise<AgencyRecord | null> {
  const row = await db("registry").where({ organ_id: organId }).first();
  return row ? toRecord(row) : null;
}

export async function listAgencies(db: Db): Promise<AgencyRecord[]> {
  return (await db("registry").orderBy("organ_id")).map(toRecord);
}

export async function deleteAgency(db: Db, organId: string): Promise<boolean> {
  return (await db("registry").where({ organ_id: organId }).delete()) > 0;
}

/** What the verifier needs: anchors, CRLs and the registry binding organ ids to certificates. */
export async function loadTrust(db: Db): Promise<TrustConfig> {
  const registry: Registry = new Map();
  for (const a of await listAgencies(db)) {
    if (a.status === "active") registry.set(a.organId, { organId: a.organId, name: a.name, certificateFingerprints: a.certificateFingerprints });
  }
  return { anchors: await listTrustAnchors(db), crls: await listCrls(db), registry };
}

// ---- audit log ----------------------------------------------------------------------------

export async function audit(
  db: Db,
  e: { actor: string; organId?: string | null; action: string; document?: string | null; detail?: Record<string, unknown> },
): Promise<void> {
  await db("audit_log").insert({
    at: new Date(),
    actor: e.actor,
    organ_id: e.organId ?? null,
    action: e.action,
    document: e.document ?? null,
    detail: JSON.stringify(e.detail ?? {}),
  });
}
