// The registry between nodes, in the manner of X-Road's global configuration: a node publishes its
// registry as one signed XML document with an expiry (`GET /registry/snapshot`), and a node
// configured with another node's snapshot URL and certificate fetches it periodically, verifies
// it against that certificate (configured out of band, never taken from the document), and
// mirrors the entries into its own registry.
//
// Who signs the snapshot: the identity of one of the node's local agencies, by default the first
// one created (EDOC_REGISTRY_PUBLISHER names another). It is kept in the database like every
// agency identity, so every node sharing one PostgreSQL signs with the same key and a consumer's
// pinned certificate works whichever of them answers; and consumers already hold that
// certificate, since they need it in their registry to accept the agency's packets. A snapshot
// cannot pass for a document: it is its own XML type, with its own namespace and fixed Ids, which
// the packet verifier refuses and vice versa.
import { createHash, type X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { Counter, Gauge } from "prom-client";
import { agencyName, agencyNameProblem, endpointProblem, organIdProblem, parentProblem } from "../envelopes/index.ts";
import {
  fingerprint,
  normalizeFingerprint,
  parseCertificates,
  signRegistrySnapshot,
  verifyRegistrySnapshot,
  MAX_SNAPSHOT_BYTES,
  SnapshotError,
  type Identity,
  type RegistryEntry,
  type VerifiedSnapshot,
} from "../signing/index.ts";
import {
  getLocalAgency,
  getSyncRun,
  getSyncState,
  listAgencies,
  listLocalAgencies,
  saveSyncNext,
  saveSyncRun,
  saveSyncState,
  upsertAgency,
  type AgencyRecord,
  type SyncState,
} from "../storage/index.ts";
import { SetupError, type Config } from "./config.ts";
import type { AppContext, Caller } from "./context.ts";
import { ADMINS, assertRole } from "./access.ts";
import { AppError } from "./errors.ts";

// ---- publishing ---------------------------------------------------------------------------

/** The local agency that signs the node's snapshots and evidence bundles (the configured one, or the first), and its identity. */
export async function snapshotPublisher(ctx: AppContext): Promise<{ organId: string; identity: Identity }> {
  const organId = ctx.config.snapshot.publisher;
  if (organId) {
    if (!(await getLocalAgency(ctx.storage.db, organId))) throw new AppError("unavailable", `EDOC_REGISTRY_PUBLISHER is ${organId}, which is not an agency of this node`);
    return { organId, identity: await ctx.identity(organId) };
  }
  const [first] = await listLocalAgencies(ctx.storage.db);
  if (!first) throw new AppError("unavailable", "this node has no local agency yet, so it has no identity to sign its registry with");
  return { organId: first.organId, identity: await ctx.identity(first.organId) };
}

/** The registry as snapshot entries; entries the format cannot carry are left out (and named). */
function snapshotEntries(agencies: AgencyRecord[]): { entries: RegistryEntry[]; skipped: string[] } {
  const entries: RegistryEntry[] = [];
  const skipped: string[] = [];
  for (const a of agencies) {
    const ok =
      !organIdProblem(a.organId, "organId") &&
      !agencyNameProblem(a.name, "name") &&
      agencyName(a.name) === a.name &&
      !parentProblem(a.parentId, a.organId, "parentId") &&
      (!a.endpoint || !endpointProblem(a.endpoint, "endpoint"));
    if (!ok) {
      skipped.push(a.organId);
      continue;
    }
    entries.push({
      organId: a.organId,
      name: a.name,
      parentId: a.parentId ?? undefined,
      endpoint: a.endpoint || undefined,
      status: a.status,
      certificateFingerprints: a.certificateFingerprints,
      certificatesPem: a.certificates.map((c) => c.toString()).join("") || undefined,
    });
  }
  return { entries, skipped };
}

export interface PublishedSnapshot {
  bytes: Buffer;
  expiresAt: Date;
  /** The organ id whose identity signed it. */
  signer: string;
  /** How long a cache may keep it (a tenth of its validity, at most a minute). */
  reuseMs: number;
}

const published = new WeakMap<AppContext, PublishedSnapshot & { key: string; issuedAt: number }>();

/**
 * The node's registry as one signed snapshot. It is reused for a short while while the registry
 * does not change, so that polling nodes cost one query each.
 */
export async function registrySnapshot(ctx: AppContext): Promise<PublishedSnapshot> {
  const { validForMs } = ctx.config.snapshot;
  const reuseMs = Math.min(60_000, validForMs / 10);
  const { organId, identity } = await snapshotPublisher(ctx);
  const { entries, skipped } = snapshotEntries(await listAgencies(ctx.storage.db));
  const key = createHash("sha256").update(JSON.stringify([organId, identity.certificate.fingerprint256, validForMs, entries])).digest("hex");
  const now = ctx.now().getTime();
  let cached = published.get(ctx);
  if (!cached || cached.key !== key || now - cached.issuedAt > reuseMs) {
    if (skipped.length) ctx.log.warn({ skipped }, "registry snapshot: entries the snapshot format cannot carry were left out");
    const bytes = signRegistrySnapshot(entries, identity, { validFor: validForMs, publisher: ctx.config.publicUrl, issuedAt: new Date(now) });
    const issuedSec = Math.floor(now / 1000) * 1000;
    cached = { key, bytes, issuedAt: issuedSec, expiresAt: new Date(issuedSec + Math.floor(validForMs / 1000) * 1000), signer: organId, reuseMs };
    published.set(ctx, cached);
  }
  return cached;
}

// ---- syncing from another node ------------------------------------------------------------

export interface SyncConfig {
  /** The other node's snapshot URL (EDOC_REGISTRY_URL). */
  url: string;
  /** That node's certificate (EDOC_REGISTRY_CERT), the only signer accepted. */
  publisherCert: X509Certificate;
  intervalMs: number;
  /** Per fetch. */
  timeoutMs: number;
}

/** Where to sync from, with the publisher's certificate read from its file; null when no source is set. */
export function syncSource(config: Pick<Config, "registrySync">): SyncConfig | null {
  const s = config.registrySync;
  if (!s) return null;
  let pem: Buffer;
  try {
    pem = readFileSync(s.certPath);
  } catch {
    throw new SetupError(`cannot read EDOC_REGISTRY_CERT ${s.certPath}`);
  }
  let certs: X509Certificate[];
  try {
    certs = parseCertificates(pem);
  } catch (err) {
    throw new SetupError(`EDOC_REGISTRY_CERT ${s.certPath} holds no readable certificate: ${(err as Error).message}`);
  }
  if (certs.length !== 1) throw new SetupError(`EDOC_REGISTRY_CERT ${s.certPath} must hold exactly one certificate (the publishing node's), it holds ${certs.length}`);
  return { url: s.url, publisherCert: certs[0], intervalMs: s.intervalMs, timeoutMs: s.timeoutMs };
}

interface SyncOutcome {
  ok: boolean;
  /** Entries written (added or changed) from the snapshot. */
  applied: number;
  /** Entries of the snapshot left alone: local agencies, entries added here by hand or from another source. */
  kept: string[];
  /** Entries from this source no longer in the snapshot, now inactive. */
  deactivated: string[];
  error?: string;
  snapshot?: { issuedAt: Date; expiresAt: Date; publisher: string };
}

export interface RegistrySync {
  /** Fetches, verifies and applies once (what the timer runs in the process that holds the job). */
  syncNow(): Promise<SyncOutcome>;
  /** The snapshot last applied (by this node, or before a restart, or by a node sharing the database). */
  lastGood(): SyncState | null;
  stop(): Promise<void>;
}

/** How much older than the applied snapshot a fetched one may be and be ignored quietly rather than refused. */
const REPLAY_TOLERANCE_MS = 2 * 60_000;

interface SyncMetrics {
  runs: Counter<"result">;
  lastSuccess: Gauge;
  expires: Gauge;
}
const syncMetrics = new WeakMap<object, SyncMetrics>();
function metricsFor(node: AppContext): SyncMetrics {
  let m = syncMetrics.get(node.metrics.registry);
  if (!m) {
    const registers = [node.metrics.registry];
    m = {
      runs: new Counter({ name: "edoc_registry_sync_total", help: "Registry snapshot syncs, by result", labelNames: ["result"], registers }),
      lastSuccess: new Gauge({ name: "edoc_registry_sync_last_success_timestamp_seconds", help: "When a registry snapshot was last applied", registers }),
      expires: new Gauge({ name: "edoc_registry_snapshot_expires_timestamp_seconds", help: "When the registry snapshot last applied expires", registers }),
    };
    syncMetrics.set(node.metrics.registry, m);
  }
  return m;
}

async function fetchSnapshot(url: string, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
  const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), headers: { accept: "application/xml" } });
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`${url} answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > MAX_SNAPSHOT_BYTES) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`the snapshot is larger than ${MAX_SNAPSHOT_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_SNAPSHOT_BYTES) throw new Error(`the snapshot is larger than ${MAX_SNAPSHOT_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * Mirrors a verified snapshot into the registry with `source` = the URL. Never touches the
 * node's own agencies, nor entries an administrator added here (source "local") or that came from
 * another snapshot URL: those stay as they are. Entries that came from this URL and are no longer
 * in the snapshot become inactive (they stop binding signers and receiving packets). The snapshot
 * is remembered as the source's last, in the same transaction.
 */
async function applySnapshot(node: AppContext, url: string, snapshot: VerifiedSnapshot, state: SyncState): Promise<Pick<SyncOutcome, "applied" | "kept" | "deactivated">> {
  const db = node.storage.db;
  const result = await db.transaction(async (trx) => {
    await saveSyncState(trx, url, state);
    const locals = new Set((await listLocalAgencies(trx)).map((a) => a.organId));
    const current = new Map((await listAgencies(trx)).map((a) => [a.organId, a]));
    let applied = 0;
    const kept: string[] = [];
    const seen = new Set<string>();
    for (const e of snapshot.entries) {
      seen.add(e.organId);
      const mine = current.get(e.organId);
      if (locals.has(e.organId) || (mine && mine.source !== url)) {
        kept.push(e.organId);
        continue;
      }
      const certificates = e.certificatesPem ? parseCertificates(e.certificatesPem) : [];
      const record = {
        organId: e.organId,
        name: agencyName(e.name ?? e.organId),
        parentId: e.parentId ?? null,
        endpoint: e.endpoint ?? "",
        certificates,
        certificateFingerprints: e.certificateFingerprints,
        status: (e.status ?? "active") === "active" ? ("active" as const) : ("inactive" as const),
        source: url,
      };
      if (mine && sameEntry(mine, record)) continue;
      await upsertAgency(trx, record);
      applied++;
    }
    const deactivated: string[] = [];
    for (const a of current.values()) {
      if (a.source === url && !seen.has(a.organId) && a.status !== "inactive" && !locals.has(a.organId)) {
        await upsertAgency(trx, { ...a, status: "inactive" });
        deactivated.push(a.organId);
      }
    }
    return { applied, kept, deactivated };
  });
  if (result.applied || result.deactivated.length) node.trustChanged();
  return result;
}

function sameEntry(a: AgencyRecord, b: { name: string; parentId: string | null; endpoint: string; certificates: X509Certificate[]; certificateFingerprints: string[]; status: string }): boolean {
  const fps = (x: string[]) => [...new Set(x)].sort().join(",");
  const allFps = [...b.certificateFingerprints.map(normalizeFingerprint), ...b.certificates.map(fingerprint)];
  return (
    a.name === b.name &&
    a.parentId === b.parentId &&
    a.endpoint === b.endpoint.replace(/\/+$/, "") &&
    a.status === b.status &&
    fps(a.certificateFingerprints) === fps(allFps) &&
    a.certificates.map(fingerprint).sort().join() === b.certificates.map(fingerprint).sort().join()
  );
}

/**
 * Syncs now and then every `intervalMs` (with up to 10 % jitter), in one process of those sharing
 * the database (Storage.once: the others skip their rounds, and take over when it dies). A fetch or a check that fails
 * changes nothing: the registry from the last good snapshot stays, and a warning is logged. A
 * snapshot older than the one last applied is refused (a replayed old snapshot could bring back
 * a withdrawn certificate); the last applied is kept in the database, so this holds after a
 * restart and across nodes sharing the database.
 */
export function startRegistrySync(node: AppContext, cfg: SyncConfig): RegistrySync {
  const metrics = metricsFor(node);
  const log = node.log.child({ component: "registry-sync", source: cfg.url });
  const abort = new AbortController();
  let last: SyncState | null = null;
  let running: Promise<SyncOutcome> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const once = async (): Promise<SyncOutcome> => {
    try {
      const bytes = await fetchSnapshot(cfg.url, cfg.timeoutMs, abort.signal);
      const snapshot = verifyRegistrySnapshot(bytes, { publisherCert: cfg.publisherCert });
      last = (await getSyncState(node.storage.db, cfg.url)) ?? last;
      if (last && snapshot.issuedAt < last.issuedAt) {
        // nodes sharing one database each reuse their signed snapshot for up to a minute, so one
        // behind a load balancer may answer with a slightly older one: not worth a warning
        if (last.issuedAt.getTime() - snapshot.issuedAt.getTime() <= REPLAY_TOLERANCE_MS) {
          return { ok: true, applied: 0, kept: [], deactivated: [], snapshot: { issuedAt: snapshot.issuedAt, expiresAt: snapshot.expiresAt, publisher: snapshot.publisher } };
        }
        throw new Error(`the snapshot was issued at ${snapshot.issuedAt.toISOString()}, before the one already applied (${last.issuedAt.toISOString()}): an old snapshot is not used again`);
      }
      const applied: SyncState = { issuedAt: snapshot.issuedAt, expiresAt: snapshot.expiresAt, publisher: snapshot.publisher, appliedAt: new Date() };
      const outcome = await applySnapshot(node, cfg.url, snapshot, applied);
      last = applied;
      metrics.runs.inc({ result: "ok" });
      metrics.lastSuccess.set(Date.now() / 1000);
      metrics.expires.set(snapshot.expiresAt.getTime() / 1000);
      log[outcome.applied || outcome.deactivated.length ? "info" : "debug"](
        { entries: snapshot.entries.length, ...outcome, issuedAt: snapshot.issuedAt, expiresAt: snapshot.expiresAt },
        "registry snapshot applied",
      );
      return { ok: true, ...outcome, snapshot: { issuedAt: snapshot.issuedAt, expiresAt: snapshot.expiresAt, publisher: snapshot.publisher } };
    } catch (err) {
      const reason = err instanceof SnapshotError ? `${err.reason}: ${err.message}` : (err as Error).name === "TimeoutError" ? `no answer within ${cfg.timeoutMs} ms` : (err as Error).message;
      metrics.runs.inc({ result: "failed" });
      const keeping = last
        ? `keeping the registry from the snapshot issued at ${last.issuedAt.toISOString()}${last.expiresAt.getTime() < Date.now() ? `, which EXPIRED at ${last.expiresAt.toISOString()}` : ` (expires ${last.expiresAt.toISOString()})`}`
        : "keeping the registry as it is";
      if (!abort.signal.aborted) log.warn({ err: reason }, `registry sync failed: ${reason}; ${keeping}`);
      return { ok: false, applied: 0, kept: [], deactivated: [], error: reason };
    }
  };

  // every attempt (also one asked for now) is recorded with its error, and the timer's next run,
  // for the administrators' page
  const syncNow = () => {
    running ??= once()
      .then(async (outcome) => {
        if (!abort.signal.aborted) await saveSyncRun(node.storage.db, cfg.url, { attemptedAt: new Date(), error: outcome.ok ? null : (outcome.error ?? null) }).catch((err) => log.warn({ err }, "could not record the registry sync's outcome"));
        return outcome;
      })
      .finally(() => (running = null));
    return running;
  };
  // the timer's rounds run in one process of those sharing the database (it holds the job's
  // lock); the others skip theirs and only read what it applied
  const round = async () => {
    try {
      const ran = await node.storage.once(`registry-sync ${cfg.url}`, syncNow);
      if (!ran) last = (await getSyncState(node.storage.db, cfg.url)) ?? last;
    } catch (err) {
      if (!abort.signal.aborted) log.warn({ err: (err as Error).message }, "registry sync: the database did not answer; trying again at the next round");
    }
  };
  const schedule = async () => {
    if (stopped) return;
    const delay = cfg.intervalMs * (0.9 + Math.random() * 0.1);
    timer = setTimeout(() => void round().finally(schedule), delay);
    timer.unref();
    await saveSyncNext(node.storage.db, cfg.url, new Date(Date.now() + delay)).catch((err) => log.warn({ err }, "could not record the registry sync's next run"));
  };
  void round().finally(schedule);

  return {
    syncNow,
    lastGood: () => last,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await running?.catch(() => {});
    },
  };
}

/**
 * Where syncing from another node's snapshot stands, for an administrator: the source (null when
 * this node syncs from none), the snapshot last applied, and the last attempt with its error and
 * when the next is due.
 */
export async function registrySyncStatus(ctx: AppContext, caller: Caller) {
  assertRole(caller, ADMINS, "read the registry's sync state");
  const url = ctx.config.registrySync?.url ?? null;
  if (!url) return { url, applied: null, lastRun: null, expired: false };
  const [applied, lastRun] = await Promise.all([getSyncState(ctx.storage.db, url), getSyncRun(ctx.storage.db, url)]);
  return { url, applied, lastRun, expired: applied ? applied.expiresAt < ctx.now() : false };
}
