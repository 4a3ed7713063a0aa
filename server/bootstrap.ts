// Setting a node up: the development CA, local agencies (imported or issued by the development
// CA), and the zero-configuration first start that `npm start` performs on an empty data directory.
// The CLI (bin/node-commands.ts) and the server (server/main.ts) share these functions.
//
// The development CA lives in the data directory, not in the database: `dev-ca/ca.pem` (its
// certificate, public) and `dev-ca/ca.key.enc` (its PKCS#8 private key sealed with AES-256-GCM
// under the node's master key, exactly like the agencies' keys in the database), in a directory
// readable by the owner only. It is a per-node development convenience, so it belongs with the
// node's other local secrets (master.key); keeping it out of the schema means a production
// database never holds a CA key at all, and a copy of the database alone cannot issue
// certificates. Its certificate says DEVELOPMENT CA - NOT FOR PRODUCTION in its subject.
import { randomBytes, createPrivateKey, type X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ORGAN_ID_LENIENT, ORGAN_ID_STRICT } from "../envelopes/index.ts";
import { createDevCa, issueDevAgencyCertificate, parseCertificates, validateChain, type Identity } from "../signing/index.ts";
import {
  addLocalAgency,
  addTrustAnchor,
  createToken,
  getAgency,
  getLocalAgency,
  listCrls,
  listLocalAgencies,
  listTrustAnchors,
  upsertAgency,
  type Db,
} from "../storage/index.ts";
import { open, seal } from "../storage/keys.ts";

/** What the user gave is not acceptable; the message says why, as a sentence. */
export class SetupError extends Error {
  override name = "SetupError";
}

/** The clearly fake organ id of the first agency when EDOC_ORGAN_ID is not set. */
export const DEFAULT_ORGAN_ID = "000.00.00.Z99";
export const DEFAULT_ORGAN_NAME = "Cơ quan thử nghiệm (development agency, not a real agency)";

// ---- validation ---------------------------------------------------------------------------

// no control characters: names and URLs are one line of text
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A local agency's organ id (mã định danh): strictly NNN.NN.NN.XNN (QĐ 20/2020/QĐ-TTg). */
export function checkLocalOrganId(id: string | undefined, what = "--organ-id"): string {
  if (!id) throw new SetupError(`${what} is required`);
  if (!ORGAN_ID_STRICT.test(id)) {
    throw new SetupError(`${what} "${id}" is not an organ id of the form 000.00.00.G22 (three digits, two, two, then a capital letter and two digits)`);
  }
  return id;
}

/** An organ id in the registry: other systems' ids are accepted as long as they are 1 to 35 letters, digits or dots. */
export function checkRegistryOrganId(id: string | undefined, what = "--organ-id"): string {
  if (!id) throw new SetupError(`${what} is required`);
  if (!ORGAN_ID_LENIENT.test(id)) throw new SetupError(`${what} "${id}" is not an organ id (1 to 35 letters, digits or dots)`);
  return id;
}

export function checkName(name: string | undefined, what = "--name"): string {
  if (name === undefined) throw new SetupError(`${what} is required`);
  const n = name.trim();
  if (!n || n.length > 200 || CONTROL.test(n)) throw new SetupError(`${what} must be 1 to 200 characters on one line`);
  return n;
}

/** A node's base URL: http(s), no query or fragment, at most 500 characters; returned without a trailing slash. */
export function checkBaseUrl(url: string | undefined, what = "--endpoint"): string {
  if (!url) throw new SetupError(`${what} is required`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SetupError(`${what} "${url}" is not a URL; give the node's base URL, such as https://edoc.example.gov.vn`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new SetupError(`${what} "${url}" must be an http:// or https:// URL`);
  if (u.search || u.hash || u.username || u.password) throw new SetupError(`${what} "${url}" must be a plain base URL, without user, query or fragment`);
  if (CONTROL.test(url) || url.trim() !== url || url.length > 500) throw new SetupError(`${what} "${url}" must be one line of at most 500 characters`);
  const base = url.replace(/\/+$/, "");
  if (base.endsWith("/edxml")) throw new SetupError(`${what} is the node's base URL; packets go to {endpoint}/edxml, so leave /edxml off`);
  return base;
}

// ---- the development CA -------------------------------------------------------------------

export interface DevCa {
  identity: Identity;
  /** Where its certificate is, for `bin/edoc trust add` on other nodes. */
  certPath: string;
  created: boolean;
}

export const devCaDir = (dataDir: string) => join(dataDir, "dev-ca");
export const devCaCertPath = (dataDir: string) => join(devCaDir(dataDir), "ca.pem");
const devCaKeyPath = (dataDir: string) => join(devCaDir(dataDir), "ca.key.enc");

function readDevCa(dataDir: string, key: Buffer): Identity {
  const pem = readFileSync(devCaCertPath(dataDir), "utf8");
  const [certificate] = parseCertificates(pem);
  const privateKey = createPrivateKey({ key: open(key, readFileSync(devCaKeyPath(dataDir))), format: "der", type: "pkcs8" });
  return { certificate, privateKey, chain: [] };
}


/** The node's development CA, created on first use (atomically: two processes starting at once end up with one). */
export function loadOrCreateDevCa(dataDir: string, key: Buffer): DevCa {
  if (existsSync(devCaCertPath(dataDir))) return { identity: readDevCa(dataDir, key), certPath: devCaCertPath(dataDir), created: false };
  const ca = createDevCa(`edoc node ${randomBytes(3).toString("hex")}`);
  const tmp = mkdtempSync(join(dataDir, ".dev-ca-"));
  try {
    chmodSync(tmp, 0o700);
    writeFileSync(join(tmp, "ca.key.enc"), seal(key, ca.privateKey.export({ type: "pkcs8", format: "der" })), { mode: 0o600 });
    writeFileSync(join(tmp, "ca.pem"), ca.certificate.toString(), { mode: 0o644 });
    writeFileSync(
      join(tmp, "README.txt"),
      "DEVELOPMENT ONLY. This is the edoc node's development CA: it issues certificates for agencies\n" +
        "added with `bin/edoc agency add --dev`. It is not a CA of the national PKI, and no real\n" +
        "agency may rely on it. ca.key.enc is its private key, encrypted with the node's master key.\n",
    );
    renameSync(tmp, devCaDir(dataDir));
    return { identity: ca, certPath: devCaCertPath(dataDir), created: true };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // another process created it first
    if (existsSync(devCaCertPath(dataDir))) return { identity: readDevCa(dataDir, key), certPath: devCaCertPath(dataDir), created: false };
    throw err;
  }
}

// ---- local agencies -----------------------------------------------------------------------

export interface AddedAgency {
  organId: string;
  name: string;
  certificate: X509Certificate;
  /** Set for --dev agencies. */
  devCa?: DevCa;
  warnings: string[];
}

async function refuseExisting(db: Db, organId: string): Promise<void> {
  if (await getLocalAgency(db, organId)) throw new SetupError(`${organId} is already an agency of this node`);
  const remote = await getAgency(db, organId);
  if (remote && remote.source !== "local") {
    throw new SetupError(`${organId} is in the registry as an agency of another node (from ${remote.source}); it cannot also be hosted here`);
  }
}

/**
 * A local agency with a certificate from the node's development CA: the CA is created on first
 * use and trusted, and the agency is registered in the node's own registry at `publicUrl`.
 */
export async function addDevAgency(db: Db, key: Buffer, dataDir: string, a: { organId: string; name: string; publicUrl: string }): Promise<AddedAgency> {
  checkLocalOrganId(a.organId);
  checkName(a.name);
  await refuseExisting(db, a.organId);
  const devCa = loadOrCreateDevCa(dataDir, key);
  const identity = issueDevAgencyCertificate(devCa.identity, a.organId, a.name);
  await db.transaction(async (trx) => {
    await addTrustAnchor(trx, devCa.identity.certificate);
    await addLocalAgency(trx, key, { organId: a.organId, name: a.name, identity, development: true });
    await upsertAgency(trx, { organId: a.organId, name: a.name, parentId: null, endpoint: a.publicUrl, certificates: [identity.certificate], source: "local" });
  });
  return { organId: a.organId, name: a.name, certificate: identity.certificate, devCa, warnings: [] };
}

/** A local agency with an imported identity (PKCS#12), registered in the node's own registry. */
export async function addImportedAgency(db: Db, key: Buffer, a: { organId: string; name: string; identity: Identity; publicUrl: string }): Promise<AddedAgency> {
  checkLocalOrganId(a.organId);
  checkName(a.name);
  const cert = a.identity.certificate;
  const now = new Date();
  if (new Date(cert.validTo) < now) throw new SetupError(`the certificate "${subjectLine(cert)}" expired on ${new Date(cert.validTo).toISOString()}`);
  if (cert.ca) throw new SetupError(`the certificate "${subjectLine(cert)}" is a CA certificate, not an agency's signing certificate`);
  await refuseExisting(db, a.organId);
  const warnings: string[] = [];
  const chain = validateChain({ leaf: cert, intermediates: a.identity.chain, anchors: await listTrustAnchors(db), crls: await listCrls(db), at: now });
  if (!chain.ok) {
    warnings.push(
      `the certificate does not chain to a trust anchor of this node (${chain.message}); add its CA with "bin/edoc trust add CA.pem", or the node will refuse to send with it`,
    );
  }
  await db.transaction(async (trx) => {
    await addLocalAgency(trx, key, { organId: a.organId, name: a.name, identity: a.identity, development: false });
    await upsertAgency(trx, { organId: a.organId, name: a.name, parentId: null, endpoint: a.publicUrl, certificates: [cert], source: "local" });
  });
  return { organId: a.organId, name: a.name, certificate: cert, warnings };
}

export function subjectLine(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ", ");
}

// ---- first start --------------------------------------------------------------------------

export interface BootstrapResult {
  /** True when this start created the first agency and its tokens. */
  created: boolean;
  organId: string;
  name: string;
  url: string;
  /** Only when created: shown once, never stored in clear. */
  tokens?: { admin: string; clerk: string };
  devCaPath?: string;
  /** Tokens that exist (when not created). */
  tokenCount: number;
  warnings: string[];
}

/**
 * On a node without any local agency: creates the development CA and trusts it, issues the first
 * local agency (`EDOC_ORGAN_ID`, `EDOC_ORGAN_NAME`), registers it at the node's public URL and
 * creates an admin and a clerk token. On later starts it only reports what is there.
 */
export async function bootstrapNode(
  node: { storage: { db: Db }; key: Buffer; config: { dataDir: string; publicUrl: string } },
  env: NodeJS.ProcessEnv = process.env,
): Promise<BootstrapResult> {
  const db = node.storage.db;
  const url = node.config.publicUrl;
  const existing = await listLocalAgencies(db);
  if (existing.length === 0) {
    const organId = checkLocalOrganId(env.EDOC_ORGAN_ID || DEFAULT_ORGAN_ID, "EDOC_ORGAN_ID");
    const name = checkName(env.EDOC_ORGAN_NAME || DEFAULT_ORGAN_NAME, "EDOC_ORGAN_NAME");
    const devCa = loadOrCreateDevCa(node.config.dataDir, node.key);
    const identity = issueDevAgencyCertificate(devCa.identity, organId, name);
    try {
      const tokens = await db.transaction(async (trx) => {
        await addTrustAnchor(trx, devCa.identity.certificate);
        await addLocalAgency(trx, node.key, { organId, name, identity, development: true });
        await upsertAgency(trx, { organId, name, parentId: null, endpoint: url, certificates: [identity.certificate], source: "local" });
        return {
          admin: (await createToken(trx, { organId, role: "admin", name: "first start: admin" })).token,
          clerk: (await createToken(trx, { organId, role: "clerk", name: "first start: clerk" })).token,
        };
      });
      return { created: true, organId, name, url, tokens, devCaPath: devCa.certPath, tokenCount: 2, warnings: [] };
    } catch (err) {
      // another node sharing the database set itself up at the same moment: report what it made
      if ((await listLocalAgencies(db)).length === 0) throw err;
    }
  }
  const agencies = await listLocalAgencies(db);
  const first = agencies[0];
  const warnings: string[] = [];
  for (const a of agencies) {
    const entry = await getAgency(db, a.organId);
    if (!entry) warnings.push(`${a.organId} is a local agency but not in the registry; other nodes cannot find it`);
    else if (entry.endpoint !== url) {
      warnings.push(`the registry says ${a.organId} is reached at ${entry.endpoint}, but this node's EDOC_PUBLIC_URL is ${url}`);
    }
    if (new Date(a.certificate.validTo).getTime() < Date.now() + 30 * 86400_000) {
      warnings.push(`the certificate of ${a.organId} expires on ${new Date(a.certificate.validTo).toISOString()}`);
    }
  }
  const row = await db("tokens").whereNull("revoked_at").count({ n: "*" }).first();
  return {
    created: false,
    organId: first.organId,
    name: first.name,
    url,
    devCaPath: existsSync(devCaCertPath(node.config.dataDir)) ? devCaCertPath(node.config.dataDir) : undefined,
    tokenCount: Number(row?.n ?? 0),
    warnings,
  };
}

/** What `npm start` prints for people (not a log line: the tokens must not end up in log files). */
export function bootstrapBanner(r: BootstrapResult, agencies: number): string {
  const lines = [``, `edoc node at ${r.url}`];
  if (r.created && r.tokens) {
    lines.push(
      `  first start: created the development agency ${r.organId} "${r.name}"`,
      `  with a certificate from this node's DEVELOPMENT-ONLY CA (${r.devCaPath}).`,
      ``,
      `  API tokens, shown only this once (only their hashes are stored):`,
      `    admin token: ${r.tokens.admin}`,
      `    clerk token: ${r.tokens.clerk}`,
      ``,
      `  try: curl -H "Authorization: Bearer <clerk token>" ${r.url}/api/v1/agencies`,
    );
  } else {
    lines.push(`  ${agencies} local agenc${agencies === 1 ? "y" : "ies"}, first ${r.organId} "${r.name}"`);
    lines.push(
      r.tokenCount > 0
        ? `  ${r.tokenCount} API token(s) exist; they were shown when created.`
        : `  no API token exists yet.`,
    );
  }
  lines.push(`  create a token: bin/edoc token create --organ-id ${r.organId} --role clerk|archivist|admin [--name LABEL]`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  lines.push(``);
  return lines.join("\n") + "\n";
}
