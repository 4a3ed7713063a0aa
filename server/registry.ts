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
import { Router } from "express";
import { Counter, Gauge } from "prom-client";
import { ORGAN_ID_LENIENT } from "../envelopes/index.ts";
import { fingerprint, normalizeFingerprint, parseCertificates, signRegistrySnapshot, verifyRegistrySnapshot, SnapshotError, type Identity, type RegistryEntry, type VerifiedSnapshot } from "../signing/index.ts";
import { MAX_SNAPSHOT_BYTES } from "../signing/snapshot.ts";
import { getLocalAgency, listAgencies, listLocalAgencies, upsertAgency, type AgencyRecord } from "../storage/index.ts";
import { SetupError } from "./bootstrap.ts";
import type { Node } from "./context.ts";
import { HttpError } from "./errors.ts";

const int = (v: string | undefined, fallback: number) => (v && /^\d+$/.test(v) ? Number(v) : fallback);

// ---- publishing ---------------------------------------------------------------------------

export interface SnapshotOptions {
  /** How long a published snapshot may be used (EDOC_REGISTRY_VALID_MS, default 1 hour). */
  validForMs: number;
  /** The local agency whose identity signs (EDOC_REGISTRY_PUBLISHER); default the first one. */
  publisher?: string;
}

const snapshotOptions = new WeakMap<Node, SnapshotOptions>();

/** How this node publishes its snapshot (server/main.ts sets it from the environment it was given). */
export function setSnapshotOptions(node: Node, opts: SnapshotOptions): void {
  snapshotOptions.set(node, opts);
}

export function snapshotOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SnapshotOptions {
  return { validForMs: Math.max(int(env.EDOC_REGISTRY_VALID_MS, 60 * 60 * 1000), 1000), publisher: env.EDOC_REGISTRY_PUBLISHER || undefined };
}

/** The local agency that signs the node's snapshots, and its identity. */
export async function snapshotPublisher(node: Node, organId?: string): Promise<{ organId: string; identity: Identity }> {
  if (organId) {
    if (!(await getLocalAgency(node.storage.db, organId))) {
      throw new HttpError(503, `EDOC_REGISTRY_PUBLISHER is ${organId}, which is not an agency of this node`);
    }
    return { organId, identity: await node.identity(organId) };
  }
  const [first] = await listLocalAgencies(node.storage.db);
  if (!first) throw new HttpError(503, "this node has no local agency yet, so it has no identity to sign its registry with");
  return { organId: first.organId, identity: await node.identity(first.organId) };
}

const ONE_LINE = /^[^\u0000-\u001f\u007f-\u009f]{1,200}$/;
const isHttpUrl = (v: string) => /^https?:\/\/[^\s]+$/.test(v) && v.length <= 500 && URL.canParse(v);

/** The registry as snapshot entries; entries the format cannot carry are left out (and named). */
export function snapshotEntries(agencies: AgencyRecord[]): { entries: RegistryEntry[]; skipped: string[] } {
  const entries: RegistryEntry[] = [];
  const skipped: string[] = [];
  for (const a of agencies) {
    const ok =
      ORGAN_ID_LENIENT.test(a.organId) &&
      ONE_LINE.test(a.name) &&
      (!a.parentId || ORGAN_ID_LENIENT.test(a.parentId)) &&
      (!a.endpoint || isHttpUrl(a.endpoint)) &&
      /^[a-z][a-z_-]{0,15}$/.test(a.status);
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

/**
 * GET /registry/snapshot. A signed snapshot is reused for a short while (a tenth of its validity,
 * at most a minute) while the registry does not change, so that polling nodes cost one query each.
 */
export function registryRoutes(node: Node): Router {
  const router = Router();
  let cached: { key: string; bytes: Buffer; issuedAt: number; expiresAt: number; signer: string } | null = null;
  router.get("/registry/snapshot", async (_req, res, next) => {
    try {
      const opts = snapshotOptions.get(node) ?? snapshotOptionsFromEnv();
      const reuseMs = Math.min(60_000, opts.validForMs / 10);
      const { organId, identity } = await snapshotPublisher(node, opts.publisher);
      const { entries, skipped } = snapshotEntries(await listAgencies(node.storage.db));
      const key = createHash("sha256").update(JSON.stringify([organId, identity.certificate.fingerprint256, opts.validForMs, entries])).digest("hex");
      const now = Date.now();
      if (!cached || cached.key !== key || now - cached.issuedAt > reuseMs) {
        if (skipped.length) node.log.warn({ skipped }, "registry snapshot: entries the snapshot format cannot carry were left out");
        const issuedAt = new Date(now);
        const bytes = signRegistrySnapshot(entries, identity, { validFor: opts.validForMs, publisher: node.config.publicUrl, issuedAt });
        const issuedSec = Math.floor(now / 1000) * 1000;
        cached = { key, bytes, issuedAt: issuedSec, expiresAt: issuedSec + Math.floor(opts.validForMs / 1000) * 1000, signer: organId };
      }
      res
        .status(200)
        .set("Content-Type", "application/xml; charset=utf-8")
        // short: a cache must not hold a changed registry back for the snapshot's whole validity
        .set("Cache-Control", `public, max-age=${Math.floor(reuseMs / 1000)}`)
        .set("Expires", new Date(cached.expiresAt).toUTCString())
        .set("X-Edoc-Snapshot-Signer", cached.signer)
        .send(cached.bytes);
    } catch (err) {
      next(err);
    }
  });
  return router;
}

// ---- syncing from another node ------------------------------------------------------------

export interface SyncConfig {
  /** The other node's snapshot URL (EDOC_REGISTRY_URL). */
  url: string;
  /** That node's certificate (EDOC_REGISTRY_CERT), the only signer accepted. */
  publisherCert: X509Certificate;
  /** EDOC_REGISTRY_SYNC_MS, default 5 minutes. */
  intervalMs: number;
  /** Per fetch (EDOC_REGISTRY_FETCH_TIMEOUT_MS, default 30 s). */
  timeoutMs: number;
}

/** The sync configuration, null when EDOC_REGISTRY_URL is not set; SetupError when it is set wrongly. */
export function syncConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SyncConfig | null {
  const url = env.EDOC_REGISTRY_URL;
  const certPath = env.EDOC_REGISTRY_CERT;
  if (!url && !certPath) return null;
  if (!url) throw new SetupError("EDOC_REGISTRY_CERT is set but EDOC_REGISTRY_URL is not: give the snapshot URL of the node to sync the registry from");
  if (!certPath) {
    throw new SetupError(
      `EDOC_REGISTRY_URL is set but EDOC_REGISTRY_CERT is not: give the path of the certificate (PEM) of the node at ${url}, obtained out of band; a registry is never used unchecked`,
    );
  }
  if (!isHttpUrl(url)) throw new SetupError(`EDOC_REGISTRY_URL "${url}" is not an http(s) URL of at most 500 characters`);
  let pem: Buffer;
  try {
    pem = readFileSync(certPath);
  } catch {
    throw new SetupError(`cannot read EDOC_REGISTRY_CERT ${certPath}`);
  }
  let certs: X509Certificate[];
  try {
    certs = parseCertificates(pem);
  } catch (err) {
    throw new SetupError(`EDOC_REGISTRY_CERT ${certPath} holds no readable certificate: ${(err as Error).message}`);
  }
  if (certs.length !== 1) throw new SetupError(`EDOC_REGISTRY_CERT ${certPath} must hold exactly one certificate (the publishing node's), it holds ${certs.length}`);
  return {
    url,
    publisherCert: certs[0],
    intervalMs: Math.max(int(env.EDOC_REGISTRY_SYNC_MS, 5 * 60 * 1000), 1000),
    timeoutMs: Math.max(int(env.EDOC_REGISTRY_FETCH_TIMEOUT_MS, 30_000), 100),
  };
}

export interface SyncOutcome {
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
  /** Fetches, verifies and applies once (also what the timer runs). */
  syncNow(): Promise<SyncOutcome>;
  /** The snapshot last applied. */
  lastGood(): { issuedAt: Date; expiresAt: Date; publisher: string; appliedAt: Date } | null;
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
function metricsFor(node: Node): SyncMetrics {
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
 * in the snapshot become inactive (they stop binding signers and receiving packets).
 */
export async function applySnapshot(node: Node, url: string, snapshot: VerifiedSnapshot): Promise<Pick<SyncOutcome, "applied" | "kept" | "deactivated">> {
  const db = node.storage.db;
  const result = await db.transaction(async (trx) => {
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
        name: e.name ?? e.organId,
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
 * Syncs now and then every `intervalMs` (with up to 10 % jitter). A fetch or a check that fails
 * changes nothing: the registry from the last good snapshot stays, and a warning is logged. A
 * snapshot older than the one last applied is refused (a replayed old snapshot could bring back
 * a withdrawn certificate).
 */
export function startRegistrySync(node: Node, cfg: SyncConfig): RegistrySync {
  const metrics = metricsFor(node);
  const log = node.log.child({ component: "registry-sync", source: cfg.url });
  const abort = new AbortController();
  let last: { issuedAt: Date; expiresAt: Date; publisher: string; appliedAt: Date } | null = null;
  let running: Promise<SyncOutcome> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const once = async (): Promise<SyncOutcome> => {
    try {
      const bytes = await fetchSnapshot(cfg.url, cfg.timeoutMs, abort.signal);
      const snapshot = verifyRegistrySnapshot(bytes, { publisherCert: cfg.publisherCert });
      if (last && snapshot.issuedAt < last.issuedAt) {
        // nodes sharing one database each reuse their signed snapshot for up to a minute, so one
        // behind a load balancer may answer with a slightly older one: not worth a warning
        if (last.issuedAt.getTime() - snapshot.issuedAt.getTime() <= REPLAY_TOLERANCE_MS) {
          return { ok: true, applied: 0, kept: [], deactivated: [], snapshot: { issuedAt: snapshot.issuedAt, expiresAt: snapshot.expiresAt, publisher: snapshot.publisher } };
        }
        throw new Error(`the snapshot was issued at ${snapshot.issuedAt.toISOString()}, before the one already applied (${last.issuedAt.toISOString()}): an old snapshot is not used again`);
      }
      const outcome = await applySnapshot(node, cfg.url, snapshot);
      last = { issuedAt: snapshot.issuedAt, expiresAt: snapshot.expiresAt, publisher: snapshot.publisher, appliedAt: new Date() };
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

  const syncNow = () => {
    running ??= once().finally(() => (running = null));
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void syncNow().finally(schedule), cfg.intervalMs * (0.9 + Math.random() * 0.1));
    timer.unref();
  };
  void syncNow().finally(schedule);

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
