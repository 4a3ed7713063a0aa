// Setting a node up: the development CA, local agencies (imported or issued by the development
// CA), and the zero-configuration first start that `npm start` performs on an empty data directory.
// The CLI (bin/node-commands.ts) and the server (server/main.ts) share these use cases.
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
import { agencyName, agencyNameProblem, organIdProblem } from "../envelopes/index.ts";
import { createDevCa, issueDevAgencyCertificate, loadIdentityP12, parseCertificates, validateChain, type Identity } from "../signing/index.ts";
import {
  addLocalAgency,
  addTrustAnchor,
  audit,
  countActiveTokens,
  createToken,
  getAgency,
  getLocalAgency,
  listCrls,
  listLocalAgencies,
  listTrustAnchors,
  open,
  seal,
  upsertAgency,
} from "../storage/index.ts";
import type { Config } from "./config.ts";
import { assertNodeAdmin } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { invalid } from "./errors.ts";
import { subjectLine } from "./registry.ts";

function checked(problem: string | null): void {
  if (problem) throw invalid(problem);
}

// ---- the development CA -------------------------------------------------------------------

interface DevCa {
  identity: Identity;
  /** Where its certificate is, for `bin/edoc trust add` on other nodes. */
  certPath: string;
  created: boolean;
}

const devCaDir = (dataDir: string) => join(dataDir, "dev-ca");
const devCaCertPath = (dataDir: string) => join(devCaDir(dataDir), "ca.pem");
const devCaKeyPath = (dataDir: string) => join(devCaDir(dataDir), "ca.key.enc");

function readDevCa(dataDir: string, key: Buffer): Identity {
  const pem = readFileSync(devCaCertPath(dataDir), "utf8");
  const [certificate] = parseCertificates(pem);
  const privateKey = createPrivateKey({ key: open(key, readFileSync(devCaKeyPath(dataDir))), format: "der", type: "pkcs8" });
  return { certificate, privateKey, chain: [] };
}


/** The node's development CA, created on first use (atomically: two processes starting at once end up with one). */
function loadOrCreateDevCa(dataDir: string, key: Buffer): DevCa {
  if (existsSync(devCaCertPath(dataDir))) return { identity: readDevCa(dataDir, key), certPath: devCaCertPath(dataDir), created: false };
  const ca = createDevCa(`edoc node ${randomBytes(3).toString("hex")}`);
  const tmp = mkdtempSync(join(dataDir, ".dev-ca-"));
  try {
    chmodSync(tmp, 0o700);
    writeFileSync(join(tmp, "ca.key.enc"), seal(key, ca.privateKey.export({ type: "pkcs8", format: "der" })), { mode: 0o600 });
    writeFileSync(join(tmp, "ca.pem"), ca.certificate.toString(), { mode: 0o600 });
    writeFileSync(
      join(tmp, "README.txt"),
      "DEVELOPMENT ONLY. This is the edoc node's development CA: it issues certificates for agencies\n" +
        "added with `bin/edoc agency add --dev`. It is not a CA of the national PKI, and no real\n" +
        "agency may rely on it. ca.key.enc is its private key, encrypted with the node's master key.\n",
      { mode: 0o600 },
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
  /** Set for development agencies. */
  devCa?: DevCa;
  warnings: string[];
}

export interface LocalAgencyInput {
  organId: string | undefined;
  name: string | undefined;
  /** An imported identity (PKCS#12); without it, a certificate from the development CA. */
  identity?: Identity;
}

/** The organ id and name of a local agency, checked; `what` names the fields as the caller knows them. */
function localAgencyFields(a: { organId?: string; name?: string }, what: { organId: string; name: string }): { organId: string; name: string } {
  checked(organIdProblem(a.organId, what.organId, true));
  checked(agencyNameProblem(a.name, what.name));
  return { organId: a.organId!, name: agencyName(a.name!) };
}

async function refuseExisting(ctx: AppContext, organId: string): Promise<void> {
  if (await getLocalAgency(ctx.storage.db, organId)) throw invalid(`${organId} is already an agency of this node`);
  const remote = await getAgency(ctx.storage.db, organId);
  if (remote && remote.source !== "local") {
    throw invalid(`${organId} is in the registry as an agency of another node (from ${remote.source}); it cannot also be hosted here`);
  }
}

/**
 * A local agency, registered in the node's own registry at its public URL: with an imported
 * identity, or with a certificate from the node's development CA (created on first use and
 * trusted). `what` names the fields for the messages (CLI options by default).
 */
export async function addAgency(ctx: AppContext, actor: string, a: LocalAgencyInput, what = { organId: "--organ-id", name: "--name" }): Promise<AddedAgency> {
  const { organId, name } = localAgencyFields(a, what);
  const db = ctx.storage.db;
  const warnings: string[] = [];
  let identity = a.identity;
  let devCa: DevCa | undefined;
  if (identity) {
    const cert = identity.certificate;
    if (new Date(cert.validTo) < ctx.now()) throw invalid(`the certificate "${subjectLine(cert)}" expired on ${new Date(cert.validTo).toISOString()}`);
    if (cert.ca) throw invalid(`the certificate "${subjectLine(cert)}" is a CA certificate, not an agency's signing certificate`);
  }
  await refuseExisting(ctx, organId);
  if (identity) {
    const chain = validateChain({ leaf: identity.certificate, intermediates: identity.chain, anchors: await listTrustAnchors(db), crls: await listCrls(db), at: ctx.now() });
    if (!chain.ok) {
      warnings.push(`the certificate does not chain to a trust anchor of this node (${chain.message}); add its CA with "bin/edoc trust add CA.pem", or the node will refuse to send with it`);
    }
  } else {
    devCa = loadOrCreateDevCa(ctx.config.dataDir, ctx.key);
    identity = issueDevAgencyCertificate(devCa.identity, organId, name);
  }
  const id = identity;
  await db.transaction(async (trx) => {
    if (devCa) await addTrustAnchor(trx, devCa.identity.certificate);
    await addLocalAgency(trx, ctx.key, { organId, name, identity: id, development: !!devCa });
    await upsertAgency(trx, { organId, name, parentId: null, endpoint: ctx.config.publicUrl, certificates: [id.certificate], source: "local" });
    await audit(trx, { actor, organId, action: "agency.add", detail: { organId, name, certificate: id.certificate.fingerprint256, development: !!devCa, endpoint: ctx.config.publicUrl } });
  });
  ctx.trustChanged();
  return { organId, name, certificate: id.certificate, devCa, warnings };
}

/**
 * A local agency added by a node administrator from the pages: with its PKCS#12 identity (and its
 * password), or without one a certificate from the node's development CA.
 */
export async function hostAgency(ctx: AppContext, caller: Caller, a: { organId?: string; name?: string; p12?: Buffer; password?: string }): Promise<AddedAgency> {
  await assertNodeAdmin(ctx, caller, "add agencies to this node");
  let identity: Identity | undefined;
  if (a.p12) {
    try {
      identity = loadIdentityP12(a.p12, a.password ?? "");
    } catch {
      throw invalid("the PKCS#12 identity cannot be opened: the file or its password is wrong");
    }
  }
  return addAgency(ctx, caller.actor, { organId: a.organId, name: a.name, identity }, { organId: "organId", name: "name" });
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
 * local agency (`organId`, `name`: EDOC_ORGAN_ID, EDOC_ORGAN_NAME), registers it at the node's
 * public URL and creates an admin and a clerk token. On later starts it only reports what is there.
 */
export async function firstStart(ctx: AppContext, first: Config["firstAgency"]): Promise<BootstrapResult> {
  const db = ctx.storage.db;
  const url = ctx.config.publicUrl;
  if ((await listLocalAgencies(db)).length === 0) {
    const { organId, name } = localAgencyFields(
      first,
      { organId: "EDOC_ORGAN_ID", name: "EDOC_ORGAN_NAME" },
    );
    const devCa = loadOrCreateDevCa(ctx.config.dataDir, ctx.key);
    const identity = issueDevAgencyCertificate(devCa.identity, organId, name);
    try {
      const tokens = await db.transaction(async (trx) => {
        await addTrustAnchor(trx, devCa.identity.certificate);
        await addLocalAgency(trx, ctx.key, { organId, name, identity, development: true });
        await upsertAgency(trx, { organId, name, parentId: null, endpoint: url, certificates: [identity.certificate], source: "local" });
        const admin = await createToken(trx, { organId, role: "admin", name: "first start: admin" });
        const clerk = await createToken(trx, { organId, role: "clerk", name: "first start: clerk" });
        await audit(trx, { actor: "system", organId, action: "node.setup", detail: { organId, name, endpoint: url, tokens: [admin.id, clerk.id] } });
        return { admin: admin.token, clerk: clerk.token };
      });
      return { created: true, organId, name, url, tokens, devCaPath: devCa.certPath, tokenCount: 2, warnings: [] };
    } catch (err) {
      // another node sharing the database set itself up at the same moment: report what it made
      if ((await listLocalAgencies(db)).length === 0) throw err;
    }
  }
  const agencies = await listLocalAgencies(db);
  const warnings: string[] = [];
  for (const a of agencies) {
    const entry = await getAgency(db, a.organId);
    if (!entry) warnings.push(`${a.organId} is a local agency but not in the registry; other nodes cannot find it`);
    else if (entry.endpoint !== url) warnings.push(`the registry says ${a.organId} is reached at ${entry.endpoint}, but this node's EDOC_PUBLIC_URL is ${url}`);
    if (new Date(a.certificate.validTo).getTime() < ctx.now().getTime() + 30 * 86400_000) {
      warnings.push(`the certificate of ${a.organId} expires on ${new Date(a.certificate.validTo).toISOString()}`);
    }
  }
  return {
    created: false,
    organId: agencies[0].organId,
    name: agencies[0].name,
    url,
    devCaPath: existsSync(devCaCertPath(ctx.config.dataDir)) ? devCaCertPath(ctx.config.dataDir) : undefined,
    tokenCount: await countActiveTokens(db),
    warnings,
  };
}
