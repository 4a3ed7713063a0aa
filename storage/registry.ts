// The registry: every agency this node knows, local or remote, with its endpoint and certificates.
import type { X509Certificate } from "node:crypto";
import { fingerprint, normalizeFingerprint, parseCertificates } from "../signing/index.ts";
import type { Db } from "./db.ts";

export interface AgencyRecord {
  organId: string;
  name: string;
  parentId: string | null;
  /** Base URL of the node hosting the agency; packets go to `{endpoint}/edxml`. */
  endpoint: string;
  certificates: X509Certificate[];
  certificateFingerprints: string[];
  status: "active" | "inactive";
  /** "local", the snapshot URL it was synced from, or "vdxp" (imported from the national axle's directory). */
  source: string;
  /** Unsigned packets (the QCVN placeholder signature) from it are accepted through the national axle. */
  acceptUnsigned: boolean;
  /** The certificate seen in its first signed packet while none was bound, for an admin to confirm. */
  seenCertificate: X509Certificate | null;
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
    acceptUnsigned: Boolean(row.accept_unsigned),
    seenCertificate: row.seen_certificate_pem ? (parseCertificates(row.seen_certificate_pem as string)[0] ?? null) : null,
    updatedAt: new Date(row.updated_at as string).toISOString(),
  };
}

export async function upsertAgency(
  db: Db,
  a: Omit<AgencyRecord, "updatedAt" | "certificateFingerprints" | "status" | "source" | "acceptUnsigned" | "seenCertificate"> &
    Partial<Pick<AgencyRecord, "certificateFingerprints" | "status" | "source" | "acceptUnsigned">>,
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
    // left as it is when not given (a sync or an import never changes it)
    ...(a.acceptUnsigned === undefined ? {} : { accept_unsigned: a.acceptUnsigned }),
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

/** Keeps the certificate of an agency's first signed packet that nothing bound (only the first). */
export async function recordSeenCertificate(db: Db, organId: string, cert: X509Certificate): Promise<void> {
  await db("registry").where({ organ_id: organId }).whereNull("seen_certificate_pem").update({ seen_certificate_pem: cert.toString() });
}

export async function forgetSeenCertificate(db: Db, organId: string): Promise<void> {
  await db("registry").where({ organ_id: organId }).update({ seen_certificate_pem: null });
}

export async function deleteAgency(db: Db, organId: string): Promise<boolean> {
  return (await db("registry").where({ organ_id: organId }).delete()) > 0;
}

/** The registry snapshot last applied from a source URL. */
export interface SyncState {
  issuedAt: Date;
  expiresAt: Date;
  publisher: string;
  appliedAt: Date;
}

export async function getSyncState(db: Db, source: string): Promise<SyncState | null> {
  const row = await db("registry_sync").where({ source }).first();
  return row
    ? { issuedAt: new Date(row.issued_at), expiresAt: new Date(row.expires_at), publisher: row.publisher, appliedAt: new Date(row.applied_at) }
    : null;
}

export async function saveSyncState(db: Db, source: string, s: SyncState): Promise<void> {
  const row = { source, issued_at: s.issuedAt, expires_at: s.expiresAt, publisher: s.publisher, applied_at: s.appliedAt };
  await db("registry_sync").insert(row).onConflict("source").merge();
}

/** The last sync attempt from a source URL: when, its error (null: it worked), when the next is due. */
export interface SyncRun {
  attemptedAt: Date;
  error: string | null;
  nextAt: Date | null;
}

/** Records an attempt (its time and error); when the next is due is kept as it was. */
export async function saveSyncRun(db: Db, source: string, r: Omit<SyncRun, "nextAt">): Promise<void> {
  const row = { source, attempted_at: r.attemptedAt, error: r.error?.slice(0, 2000) ?? null };
  await db("registry_sync_runs").insert(row).onConflict("source").merge(["attempted_at", "error"]);
}

export async function saveSyncNext(db: Db, source: string, nextAt: Date): Promise<void> {
  await db("registry_sync_runs").where({ source }).update({ next_at: nextAt });
}

export async function getSyncRun(db: Db, source: string): Promise<SyncRun | null> {
  const row = await db("registry_sync_runs").where({ source }).first();
  return row ? { attemptedAt: new Date(row.attempted_at), error: row.error ?? null, nextAt: row.next_at ? new Date(row.next_at) : null } : null;
}
