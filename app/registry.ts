// The registry: every agency this node knows, with the node that hosts it and the certificates
// that may sign for it. Entries are added and changed here (API, CLI, pages: one set of rules),
// or mirrored from another node's signed snapshot (app/snapshots.ts).
import { type X509Certificate } from "node:crypto";
import { organIdProblem } from "../envelopes/index.ts";
import {
  fingerprint,
  validateChain,
} from "../signing/index.ts";
import {
  audit,
  deleteAgency as removeAgency,
  getAgency,
  getLocalAgency,
  listAgencies,
  listCrls,
  listLocalAgencies,
  listTrustAnchors,
  upsertAgency,
  type AgencyRecord,
  type LocalAgency,
} from "../storage/index.ts";
import { ADMINS, assertNodeAdmin, assertRole, isOperator } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { AppError, conflict, forbidden, invalid, notFound } from "./errors.ts";
import { AgencyInput, parseInput, type Agency } from "./schemas.ts";

// ---- the registry -------------------------------------------------------------------------

function agencyJson(a: AgencyRecord, local: boolean): Agency {
  return {
    organId: a.organId,
    name: a.name,
    parentId: a.parentId,
    endpoint: a.endpoint,
    certificates: a.certificates.map((c) => c.toString()),
    certificateFingerprints: a.certificateFingerprints,
    status: a.status,
    source: a.source,
    acceptUnsigned: a.acceptUnsigned,
    seenCertificate: a.seenCertificate ? { pem: a.seenCertificate.toString(), fingerprint: fingerprint(a.seenCertificate), subject: subjectLine(a.seenCertificate) } : null,
    local,
    updatedAt: a.updatedAt,
  };
}

const agencySummary = (a: AgencyRecord) => ({ name: a.name, endpoint: a.endpoint, status: a.status, certificateFingerprints: a.certificateFingerprints, acceptUnsigned: a.acceptUnsigned });

export async function listRegistry(ctx: AppContext): Promise<Agency[]> {
  const db = ctx.storage.db;
  const local = new Set((await listLocalAgencies(db)).map((a) => a.organId));
  return (await listAgencies(db)).map((a) => agencyJson(a, local.has(a.organId)));
}

export async function registryEntry(ctx: AppContext, organId: string): Promise<Agency> {
  const a = organIdProblem(organId, "organId") ? null : await getAgency(ctx.storage.db, organId);
  if (!a) throw notFound(`no agency ${JSON.stringify(organId)} in the registry`);
  return agencyJson(a, (await getLocalAgency(ctx.storage.db, organId)) !== null);
}

/**
 * An agency's entry for the hot path (a send's recipients, a delivery): the kept one when it is
 * active, else the database's (added or re-activated a moment ago, perhaps by another process,
 * before its trust watcher noticed). A change by another process is seen within
 * EDOC_TRUST_REFRESH_MS, as for the trust itself.
 */
export async function activeAgency(ctx: AppContext, organId: string): Promise<AgencyRecord | null> {
  const kept = (await ctx.registry()).agencies.get(organId);
  return kept?.status === "active" ? kept : getAgency(ctx.storage.reader, organId);
}

/** Those of `organIds` that are agencies of this node: the kept list, read again when one is not in it (added a moment ago). */
export async function localAgenciesAmong(ctx: AppContext, organIds: readonly string[]): Promise<Map<string, LocalAgency>> {
  let { locals } = await ctx.registry();
  if (organIds.some((id) => !locals.has(id))) locals = new Map((await listLocalAgencies(ctx.storage.reader)).map((a) => [a.organId, a]));
  return new Map(organIds.flatMap((id) => (locals.has(id) ? [[id, locals.get(id)!] as const] : [])));
}

const REMOTE_ENTRIES = "change the registry entries of agencies hosted elsewhere";

export interface SavedAgency {
  agency: Agency;
  created: boolean;
  /** The source of a synced entry this one replaced (it is left alone by later syncs). */
  replacedSource: string | null;
  /** Certificates whose packets must carry their intermediate CAs to verify here. */
  notes: string[];
  /** Certificates whose packets will be refused here, and why. */
  warnings: string[];
}

/**
 * Adds or replaces a registry entry, after every check: "create" refuses an existing entry, "replace"
 * and "put" accept both. A local agency's entry is changed only by its own administrators (the
 * operator at the command line is every agency's), and must keep its current signing certificate;
 * any other entry (a remote agency's, shared by every local agency) only by a node administrator.
 */
export async function saveAgency(ctx: AppContext, caller: Caller, body: unknown, opts: { mode: "create" | "replace"; organId?: string }): Promise<SavedAgency> {
  assertRole(caller, ADMINS, "change the registry");
  const db = ctx.storage.db;
  let value = body;
  if (opts.organId !== undefined) {
    const problems: string[] = [];
    const b = body as Record<string, unknown>;
    if (organIdProblem(opts.organId, "organId")) problems.push(`${JSON.stringify(opts.organId)} in the path is not an organ id (1 to 35 letters, digits or dots)`);
    else if (b && typeof b === "object" && b.organId !== undefined && b.organId !== opts.organId) {
      problems.push(`organId ${JSON.stringify(b.organId)} differs from ${opts.organId} in the path; an organ id cannot be changed`);
    }
    if (problems.length) {
      // report the body's own problems too
      try {
        parseInput(AgencyInput, { ...b, organId: opts.organId }, "the agency is not valid");
      } catch (err) {
        if (err instanceof AppError && Array.isArray(err.details)) problems.push(...err.details);
      }
      throw invalid("the agency is not valid", problems);
    }
    value = body && typeof body === "object" && !Array.isArray(body) ? { ...(body as object), organId: opts.organId } : body;
  }
  const input = parseInput(AgencyInput, value, "the agency is not valid");
  const ca = input.certificates.find((c) => c.ca);
  if (ca) throw invalid("the agency is not valid", [`"${subjectLine(ca)}" is a CA certificate; give the agency's own signing certificate (its CA is a trust anchor: edoc trust add)`]);
  const now = ctx.now();
  if (input.certificates.length && input.certificates.every((c) => new Date(c.validTo) < now)) {
    throw invalid("the agency is not valid", ["every certificate given has expired"]);
  }
  const local = await getLocalAgency(db, input.organId);
  if (local) {
    if (local.organId !== caller.organId && !isOperator(caller)) {
      throw forbidden(`${input.organId} is an agency of this node: only its own administrators may change its registry entry`);
    }
    const own = fingerprint(local.certificate);
    const fps = new Set([...input.certificateFingerprints, ...input.certificates.map(fingerprint)]);
    if (!fps.has(own)) {
      throw conflict(`${input.organId} is an agency of this node: the entry must keep its current signing certificate (SHA-256 ${own}); without it this node's own packets would not verify`);
    }
    // where the node is reached is the node's setting: documents of the other local agencies and
    // of other nodes go there, so an agency's admin (who reads none) may not point it elsewhere
    if ((await getAgency(db, input.organId))?.endpoint !== input.endpoint) {
      await assertNodeAdmin(ctx, caller, `change the endpoint of ${input.organId}, which is where this node is reached`);
    }
  } else {
    await assertNodeAdmin(ctx, caller, REMOTE_ENTRIES);
  }
  const { notes, warnings } = await certificateChecks(ctx, input.certificates);
  let before: AgencyRecord | null = null;
  const record = await db.transaction(async (trx) => {
    before = await getAgency(trx, input.organId);
    if (before && opts.mode === "create") throw conflict(`${input.organId} is already in the registry: change it with PUT /api/v1/agencies/${input.organId}`);
    const saved = await upsertAgency(trx, { ...input, source: "local" });
    await audit(trx, {
      actor: caller.actor,
      organId: caller.organId,
      action: before ? "registry.update" : "registry.create",
      detail: { organId: saved.organId, name: saved.name, endpoint: saved.endpoint, status: saved.status, certificateFingerprints: saved.certificateFingerprints, acceptUnsigned: saved.acceptUnsigned, before: before ? agencySummary(before) : null },
    });
    return saved;
  });
  ctx.trustChanged();
  const prior = before as AgencyRecord | null;
  return { agency: agencyJson(record, local !== null), created: !prior, replacedSource: prior && prior.source !== "local" ? prior.source : null, notes, warnings };
}

/** Why packets signed with these certificates would not verify here, if they would not. */
async function certificateChecks(ctx: AppContext, certs: X509Certificate[]): Promise<{ notes: string[]; warnings: string[] }> {
  const notes: string[] = [];
  const warnings: string[] = [];
  if (!certs.length) return { notes, warnings };
  const db = ctx.storage.db;
  const [anchors, crls] = await Promise.all([listTrustAnchors(db), listCrls(db)]);
  for (const c of certs) {
    if (new Date(c.validTo) < ctx.now()) warnings.push(`the certificate ${fingerprint(c)} expired on ${new Date(c.validTo).toISOString()}`);
    const chain = validateChain({ leaf: c, intermediates: certs, anchors, crls, at: ctx.now() });
    if (!chain.ok && chain.subIndication === "NO_CERTIFICATE_CHAIN_FOUND") {
      notes.push(
        `${fingerprint(c)} does not chain to a trust anchor of this node by itself; its packets are accepted only if they carry the intermediate CA certificates up to a trust anchor (edoc trust add CA.pem)`,
      );
    } else if (!chain.ok) {
      warnings.push(`packets signed with ${fingerprint(c)} will be refused: ${chain.message}`);
    }
  }
  return { notes, warnings };
}

export async function deleteAgency(ctx: AppContext, caller: Caller, organId: string): Promise<void> {
  assertRole(caller, ADMINS, "change the registry");
  const db = ctx.storage.db;
  if (organIdProblem(organId, "organId")) throw notFound(`no agency ${JSON.stringify(organId)} in the registry`);
  if (await getLocalAgency(db, organId)) throw conflict(`${organId} is an agency of this node; its registry entry binds its signing certificate and cannot be deleted`);
  await assertNodeAdmin(ctx, caller, REMOTE_ENTRIES);
  await db.transaction(async (trx) => {
    const existing = await getAgency(trx, organId);
    if (!existing || !(await removeAgency(trx, organId))) throw notFound(`no agency ${JSON.stringify(organId)} in the registry`);
    await audit(trx, { actor: caller.actor, organId: caller.organId, action: "registry.delete", detail: { organId, before: agencySummary(existing) } });
  });
  ctx.trustChanged();
}

export function subjectLine(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ", ");
}

