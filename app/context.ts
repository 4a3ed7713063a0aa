// The context every use case takes: the node's configuration, its storage, the master key, a
// clock, a logger and metrics, and cached access to the signing identities of its local agencies
// and to the trust configuration (anchors, CRLs, registry). One per running node; the HTTP
// server, the CLI and the pages each open one and call the same use cases with it.
import { hostname, userInfo } from "node:os";
import pino, { type Logger } from "pino";
import type { Identity, TrustConfig } from "../signing/index.ts";
import {
  listAgencies,
  listLocalAgencies,
  loadIdentity,
  loadTrust,
  masterKey,
  openStorage,
  type AgencyRecord,
  type LocalAgency,
  type Role,
  type Storage,
  type TokenOwner,
} from "../storage/index.ts";
import type { Config } from "./config.ts";
import { AppError } from "./errors.ts";
import { secureDataDir } from "./files.ts";
import { createMetrics, type Metrics } from "./metrics.ts";

export interface AppContext {
  config: Config;
  storage: Storage;
  key: Buffer;
  log: Logger;
  metrics: Metrics;
  /** A name for this process, used to claim deliveries. */
  workerId: string;
  now(): Date;
  identity(organId: string): Promise<Identity>;
  trust(): Promise<TrustConfig>;
  /**
   * The registry's entries and the local agencies, read once and kept like the trust (the hot
   * path looks them up per document): reloaded after trustChanged(), which the trust watcher also
   * calls when another process changed them. A use case that must not act on a stale entry reads
   * the database instead (see registryEntry).
   */
  registry(): Promise<{ agencies: Map<string, AgencyRecord>; locals: Map<string, LocalAgency> }>;
  /** Call after changing anchors, CRLs, the registry or the local agencies. */
  trustChanged(): void;
  close(): Promise<void>;
}

export async function openContext(config: Config, log: Logger = pino({ base: { node: config.publicUrl } })): Promise<AppContext> {
  const { fixed, notMine } = secureDataDir(config.dataDir);
  if (fixed.length) log.warn({ fixed }, `the data directory ${config.dataDir} was open to other accounts of this machine: made it private (directories 0700, files 0600)`);
  if (notMine.length) log.warn({ notMine }, `files of the data directory ${config.dataDir} belong to another account and are open to others: run the node as their owner, or fix them (chmod go-rwx)`);
  let storage: Storage;
  try {
    storage = await openStorage({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: config.schema, poolMax: config.dbPoolMax, blobStore: config.blobStore, warn: (m) => log.warn({ component: "knex" }, m) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const where = config.databaseUrl ? "the PostgreSQL database of DATABASE_URL" : `the SQLite database in ${config.dataDir}`;
    throw new AppError("unavailable", `cannot open ${where}: ${e.code && !e.message.includes(e.code) ? `${e.code} ` : ""}${e.message}`);
  }
  const key = masterKey(config.dataDir, config.masterKey);
  const identities = new Map<string, Promise<Identity>>();
  let trust: Promise<TrustConfig> | null = null;
  let registry: ReturnType<AppContext["registry"]> | null = null;
  return {
    config,
    storage,
    key,
    log,
    metrics: createMetrics(),
    workerId: `${hostname()}:${process.pid}:${config.port}`,
    now: () => new Date(),
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
    registry() {
      registry ??= (async () => {
        const [agencies, locals] = await Promise.all([listAgencies(storage.reader), listLocalAgencies(storage.reader)]);
        return { agencies: new Map(agencies.map((a) => [a.organId, a])), locals: new Map(locals.map((a) => [a.organId, a])) };
      })();
      registry.catch(() => (registry = null));
      return registry;
    },
    trustChanged() {
      trust = null;
      registry = null;
    },
    close: () => storage.close(),
  };
}

/**
 * Who is acting, for the rules and the audit log: a person signed in (`user:N`), software with an
 * API token (`token:N`), an operator at the node's command line (`cli:LOGIN`, who holds the
 * database and so acts as a node administrator), another agency (`agency:ORGAN`) or the node itself.
 */
export interface Caller {
  organId: string;
  role: Role;
  name: string;
  /** The audit log's name for the caller. */
  actor: string;
}

export const tokenCaller = (t: TokenOwner): Caller => ({ organId: t.organId, role: t.role, name: t.name, actor: `token:${t.id}` });

/** The operator at the command line: a node administrator of the first local agency. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return "cli:unknown";
  }
}
