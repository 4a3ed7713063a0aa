// A real node for tests: storage on the given database, local agencies with certificates from the
// test PKI's intermediate CA, the test root as trust anchor, registry entries for its own agencies
// (endpoint = its own URL), an API token for every role of every agency, and the HTTP app
// listening on 127.0.0.1 on a free port.
//
//   const a = await startNode({ database: database(), organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }] });
//   await fetch(`${a.url}/api/v1/documents`, { headers: { authorization: `Bearer ${a.tokens[SENDER].clerk}` } });
//   await a.close();
//
// Several nodes: start each, then `await link(a, b)` so that each knows the other's agencies
// (endpoint and certificate) in its registry. Nodes given the same database options share one
// database (and so one master key, since the data directory is the same).
import type { X509Certificate } from "node:crypto";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import { createApp } from "../../server/app.ts";
import { loadConfig, openContext, startDeliveryWorker, type AppContext as Node, type Config } from "../../app/index.ts";
import { type Crl, type Identity } from "../../signing/index.ts";
import { issueCertificate } from "../../signing/testing.ts";
import {
  addCrl,
  addLocalAgency,
  addTrustAnchor,
  createToken,
  getLocalAgency,
  loadIdentity,
  ROLES,
  upsertAgency,
  type AgencyRecord,
  type Role,
} from "../../storage/index.ts";
import type { TestDatabase } from "./db.ts";
import { RECIPIENT, SENDER, testPki } from "../../fixtures/index.ts";

export interface StartNodeOptions {
  /** A TestDatabase from onEachDatabase, or openStorage options. */
  database: TestDatabase | { dataDir: string; databaseUrl?: string; schema?: string };
  /**
   * The local agencies. Without `identity`: SENDER and RECIPIENT of the fixtures get the fixtures'
   * identities (so packets made with `pack(…, testPki().sender)` verify), any other organ id a
   * certificate issued by the test intermediate CA (made once per organ id and process).
   * An agency already in a shared database is reused as it is.
   */
  organs: Array<{ organId: string; name: string; identity?: Identity }>;
  /** Remote agencies for the registry (their certificates bind them as signers). */
  registry?: RegistryInput[];
  /** Trust anchors; default: the test root CA. */
  anchors?: X509Certificate[];
  crls?: Crl[];
  /** Roles to make a token for, for every agency; default all three. */
  roles?: readonly Role[];
  /** Configuration on top of the defaults (the environment is NOT read). */
  config?: Partial<Omit<Config, "delivery">> & { delivery?: Partial<Config["delivery"]> };
  /** Default: silent (set EDOC_TEST_LOG=debug to see the node's log). */
  log?: Logger;
  /** The request handler; default createApp(node). */
  app?: (node: Node) => RequestListener;
  /**
   * Runs once the node listens (start a delivery worker, …); may return a function that stops
   * what it started, called first by close().
   */
  onListening?: (handle: TestNode) => Promise<void | (() => Promise<void> | void)> | void | (() => Promise<void> | void);
}

interface RegistryInput {
  organId: string;
  name: string;
  endpoint: string;
  parentId?: string | null;
  certificates?: X509Certificate[];
  certificateFingerprints?: string[];
  status?: "active" | "inactive";
}

export interface TestNode {
  /** Base URL, e.g. http://127.0.0.1:41234 (also the node's publicUrl). */
  url: string;
  node: Node;
  server: Server;
  /** tokens[organId][role]: a bearer token. */
  tokens: Record<string, Record<Role, string>>;
  /** The local agencies with their identities and registry entries. */
  agencies: Array<{ organId: string; name: string; identity: Identity; endpoint: string }>;
  /** Adds or replaces registry entries (and tells the node its trust changed). */
  register(entries: RegistryInput[]): Promise<AgencyRecord[]>;
  /** One more token, e.g. to revoke it. */
  token(organId: string, role: Role, name?: string): Promise<string>;
  /** One more token's id (its token unknown), e.g. to revoke it. */
  tokenId(organId: string, role: Role, name?: string): Promise<number>;
  /** `Authorization` header for the agency's token of that role. */
  auth(organId: string, role: Role): { authorization: string };
  /** Stops what onListening started, the server and the node; the database is left to its owner. */
  close(): Promise<void>;
}

const issued = new Map<string, Identity>();

/** The identity a test agency gets when none is given. */
export function testIdentity(organId: string, name = organId): Identity {
  const pki = testPki();
  if (organId === SENDER) return pki.sender;
  if (organId === RECIPIENT) return pki.recipient;
  let id = issued.get(organId);
  if (!id) {
    const leaf = issueCertificate({ subject: { CN: `${name} (test signer)`, O: "Test agency", serialNumber: organId }, issuer: pki.intermediate });
    id = { ...leaf, chain: [pki.intermediate.certificate] };
    issued.set(organId, id);
  }
  return id;
}

function storageOptions(db: StartNodeOptions["database"]): { dataDir: string; databaseUrl?: string; schema?: string } {
  return "options" in db && typeof db.options === "function" ? db.options() : (db as { dataDir: string; databaseUrl?: string; schema?: string });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.removeListener("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startNode(opts: StartNodeOptions): Promise<TestNode> {
  const server = createServer();
  // requests are answered only once the app is attached (there is none before: the port is new)
  const port = await listen(server);
  const url = `http://127.0.0.1:${port}`;
  let node: Node | undefined;
  try {
    const base = loadConfig({});
    const storage = storageOptions(opts.database);
    const config: Config = {
      ...base,
      ...opts.config,
      ...storage,
      port,
      publicUrl: url,
      delivery: { ...base.delivery, ...opts.config?.delivery },
    };
    const log = opts.log ?? pino({ level: process.env.EDOC_TEST_LOG ?? "silent", base: { node: url } });
    node = await openContext(config, log);
    const db = node.storage.db;
    const key = node.key;

    for (const anchor of opts.anchors ?? [testPki().root.certificate]) await addTrustAnchor(db, anchor);
    for (const crl of opts.crls ?? []) await addCrl(db, crl);

    const agencies: TestNode["agencies"] = [];
    const tokens: TestNode["tokens"] = {};
    for (const organ of opts.organs) {
      let identity: Identity;
      if (await getLocalAgency(db, organ.organId)) {
        identity = await loadIdentity(db, key, organ.organId);
      } else {
        identity = organ.identity ?? testIdentity(organ.organId, organ.name);
        await addLocalAgency(db, key, { organId: organ.organId, name: organ.name, identity });
      }
      await upsertAgency(db, { organId: organ.organId, name: organ.name, parentId: null, endpoint: url, certificates: [identity.certificate] });
      agencies.push({ organId: organ.organId, name: organ.name, identity, endpoint: url });
      tokens[organ.organId] = {} as Record<Role, string>;
      for (const role of opts.roles ?? ROLES) {
        tokens[organ.organId][role] = (await createToken(db, { organId: organ.organId, role, name: `test ${role}` })).token;
      }
    }

    const theNode = node;
    const register = async (entries: RegistryInput[]) => {
      const out: AgencyRecord[] = [];
      for (const e of entries) {
        out.push(
          await upsertAgency(theNode.storage.db, {
            organId: e.organId,
            name: e.name,
            parentId: e.parentId ?? null,
            endpoint: e.endpoint,
            certificates: e.certificates ?? [],
            certificateFingerprints: e.certificateFingerprints,
            status: e.status,
          }),
        );
      }
      theNode.trustChanged();
      return out;
    };
    if (opts.registry?.length) await register(opts.registry);
    node.trustChanged();

    server.on("request", (opts.app ?? createApp)(node));
    const stops: Array<() => Promise<void> | void> = [];
    let closed = false;
    const handle: TestNode = {
      url,
      node,
      server,
      tokens,
      agencies,
      register,
      token: async (organId, role, name) => (await createToken(theNode.storage.db, { organId, role, name })).token,
      tokenId: async (organId, role, name) => (await createToken(theNode.storage.db, { organId, role, name })).id,
      auth: (organId, role) => {
        const t = tokens[organId]?.[role];
        if (!t) throw new Error(`the test node has no ${role} token for ${organId}`);
        return { authorization: `Bearer ${t}` };
      },
      async close() {
        if (closed) return;
        closed = true;
        for (const stop of stops.reverse()) await stop();
        await closeServer(server);
        await theNode.close();
      },
    };
    const stop = await opts.onListening?.(handle);
    if (typeof stop === "function") stops.push(stop);
    return handle;
  } catch (err) {
    await closeServer(server);
    await node?.close();
    throw err;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Makes every node know every other node's local agencies (endpoint and certificate). */
export async function link(...nodes: TestNode[]): Promise<void> {
  for (const n of nodes) {
    const others = nodes
      .filter((o) => o !== n)
      .flatMap((o) => o.agencies.map((a) => ({ organId: a.organId, name: a.name, endpoint: a.endpoint, certificates: [a.identity.certificate] })));
    if (others.length) await n.register(others);
  }
}

/** A node hosting the recipient H41 that knows the sender G22 (at an endpoint nobody listens on): a door to send packets to. */
export function recipientDoor(database: StartNodeOptions["database"]): Promise<TestNode> {
  return startNode({
    database,
    organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }],
    registry: [{ organId: SENDER, name: "Văn phòng Chính phủ", endpoint: "http://127.0.0.1:9", certificates: [testPki().sender.certificate] }],
  });
}

/**
 * Two nodes that exchange documents, each on its own SQLite database under `dir` with a running
 * delivery worker: A hosts the sender G22, B the recipient H41, and each knows the other's agency.
 */
export async function exchangingNodes(dir: (name: string) => string, delivery: Partial<Config["delivery"]>): Promise<[TestNode, TestNode]> {
  const worker = (h: TestNode) => {
    const w = startDeliveryWorker(h.node);
    return () => w.stop();
  };
  const [a, b] = await Promise.all([
    startNode({ database: { dataDir: dir("a") }, organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }], config: { delivery }, onListening: worker }),
    startNode({ database: { dataDir: dir("b") }, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], config: { delivery }, onListening: worker }),
  ]);
  await link(a, b);
  return [a, b];
}
