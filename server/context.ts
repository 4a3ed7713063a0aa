// A running node: its configuration, storage, master key, logger and metrics, and cached access to
// the signing identities of its local agencies and to the trust configuration.
import { hostname } from "node:os";
import { resolve } from "node:path";
import pino, { type Logger } from "pino";
import type { Identity, TrustConfig } from "../signing/index.ts";
import { loadIdentity, loadTrust, masterKey, openStorage, type Storage } from "../storage/index.ts";
import { createMetrics, type Metrics } from "./metrics.ts";

export interface NodeConfig {
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema (tests); the database's default otherwise. */
  schema?: string;
  /** The base URL other nodes reach this node at. */
  publicUrl: string;
  /** Largest accepted upload per file and largest inbound packet. */
  maxUploadBytes: number;
  maxPacketBytes: number;
  delivery: {
    maxAttempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
    leaseMs: number;
    pollMs: number;
    timeoutMs: number;
  };
}

const int = (v: string | undefined, fallback: number) => (v && /^\d+$/.test(v) ? Number(v) : fallback);

/** The configuration from the environment, with the contract's defaults. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const port = int(env.PORT, 8080);
  return {
    port,
    dataDir: resolve(env.EDOC_DATA_DIR ?? "./data"),
    databaseUrl: env.DATABASE_URL || undefined,
    schema: env.EDOC_DB_SCHEMA || undefined,
    publicUrl: (env.EDOC_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ""),
    maxUploadBytes: int(env.EDOC_MAX_UPLOAD_BYTES, 2 * 1024 ** 3),
    maxPacketBytes: int(env.EDOC_MAX_PACKET_BYTES, 3 * 1024 ** 3),
    delivery: {
      maxAttempts: int(env.EDOC_DELIVERY_MAX_ATTEMPTS, 12),
      baseDelayMs: int(env.EDOC_DELIVERY_BASE_DELAY_MS, 2000),
      maxDelayMs: int(env.EDOC_DELIVERY_MAX_DELAY_MS, 15 * 60 * 1000),
      leaseMs: int(env.EDOC_DELIVERY_LEASE_MS, 10 * 60 * 1000),
      pollMs: int(env.EDOC_DELIVERY_POLL_MS, 500),
      timeoutMs: int(env.EDOC_DELIVERY_TIMEOUT_MS, 5 * 60 * 1000),
    },
  };
}

export interface Node {
  config: NodeConfig;
  storage: Storage;
  key: Buffer;
  log: Logger;
  metrics: Metrics;
  /** A name for this process, used to claim deliveries. */
  workerId: string;
  identity(organId: string): Promise<Identity>;
  trust(): Promise<TrustConfig>;
  /** Call after changing anchors, CRLs or the registry. */
  trustChanged(): void;
  close(): Promise<void>;
}

export async function openNode(config: NodeConfig, log: Logger = pino({ base: { node: config.publicUrl } })): Promise<Node> {
  const storage = await openStorage({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: config.schema });
  const key = masterKey(config.dataDir);
  const identities = new Map<string, Promise<Identity>>();
  let trust: Promise<TrustConfig> | null = null;
  return {
    config,
    storage,
    key,
    log,
    metrics: createMetrics(),
    workerId: `${hostname()}:${process.pid}:${config.port}`,
    identity(organId) {
      let id = identities.get(organId);
      if (!id) {
        id = loadIdentity(storage.db, key, organId);
        id.catch(() => identities.delete(organId));
        identities.set(organId, id);
      }
      return id;
    },
    trust() {
      trust ??= loadTrust(storage.db);
      trust.catch(() => (trust = null));
      return trust;
    },
    trustChanged() {
      trust = null;
    },
    close: () => storage.close(),
  };
}
