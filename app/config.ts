// TEMPORARY: the node's configuration from the environment (replaced by the declared module).
import type { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { endpointProblem } from "../envelopes/index.ts";
import { parseCertificates } from "../signing/index.ts";
import { invalid } from "./errors.ts";

export interface NodeConfig {
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema (tests); the database's default otherwise. */
  schema?: string;
  /** The base URL other nodes reach this node at. */
  publicUrl: string;
  masterKey?: string;
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
  registry: {
    /** How long a published snapshot may be used. */
    validForMs: number;
    /** The local agency whose identity signs; default the first one. */
    publisher?: string;
  };
}

const int = (v: string | undefined, fallback: number) => (v && /^\d+$/.test(v) ? Number(v) : fallback);

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const port = int(env.PORT, 8080);
  return {
    port,
    dataDir: resolve(env.EDOC_DATA_DIR ?? "./data"),
    databaseUrl: env.DATABASE_URL || undefined,
    schema: env.EDOC_DB_SCHEMA || undefined,
    publicUrl: (env.EDOC_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ""),
    masterKey: env.EDOC_MASTER_KEY || undefined,
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
    registry: { validForMs: Math.max(int(env.EDOC_REGISTRY_VALID_MS, 60 * 60 * 1000), 1000), publisher: env.EDOC_REGISTRY_PUBLISHER || undefined },
  };
}

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

/** The sync configuration, null when EDOC_REGISTRY_URL is not set; invalid when it is set wrongly. */
export function syncConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SyncConfig | null {
  const url = env.EDOC_REGISTRY_URL;
  const certPath = env.EDOC_REGISTRY_CERT;
  if (!url && !certPath) return null;
  if (!url) throw invalid("EDOC_REGISTRY_CERT is set but EDOC_REGISTRY_URL is not: give the snapshot URL of the node to sync the registry from");
  if (!certPath) {
    throw invalid(
      `EDOC_REGISTRY_URL is set but EDOC_REGISTRY_CERT is not: give the path of the certificate (PEM) of the node at ${url}, obtained out of band; a registry is never used unchecked`,
    );
  }
  if (endpointProblem(url, "EDOC_REGISTRY_URL") && !/\/edxml$/.test(url)) throw invalid(`EDOC_REGISTRY_URL "${url}" is not an http(s) URL of at most 500 characters`);
  let pem: Buffer;
  try {
    pem = readFileSync(certPath);
  } catch {
    throw invalid(`cannot read EDOC_REGISTRY_CERT ${certPath}`);
  }
  let certs: X509Certificate[];
  try {
    certs = parseCertificates(pem);
  } catch (err) {
    throw invalid(`EDOC_REGISTRY_CERT ${certPath} holds no readable certificate: ${(err as Error).message}`);
  }
  if (certs.length !== 1) throw invalid(`EDOC_REGISTRY_CERT ${certPath} must hold exactly one certificate (the publishing node's), it holds ${certs.length}`);
  return {
    url,
    publisherCert: certs[0],
    intervalMs: Math.max(int(env.EDOC_REGISTRY_SYNC_MS, 5 * 60 * 1000), 1000),
    timeoutMs: Math.max(int(env.EDOC_REGISTRY_FETCH_TIMEOUT_MS, 30_000), 100),
  };
}

