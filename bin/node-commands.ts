// `edoc` commands that read or change a node's state: agencies, trust anchors, CRLs, the registry,
// API tokens, users and the audit log. Each opens the node's context (EDOC_DATA_DIR /
// DATABASE_URL, like the node), calls the use case, prints the answer and closes; they may run
// while the node runs: it picks the changes up within seconds. The operator at the command line
// holds the database, so acts as a node administrator (`cli:LOGIN` in the audit log).
import { readFileSync } from "node:fs";
import {
  AppError,
  SetupError,
  addAgency,
  blobStoreSpec,
  addCrl,
  addTrustAnchors,
  changePassword,
  cliActor,
  confirmSeenCertificate,
  importDirectory,
  loadConfig,
  createApiToken,
  createUser,
  disableUser,
  listAgencyUsers,
  listApiTokens,
  listRegistry,
  openContext,
  backupNode,
  readAudit,
  linkAuditLog,
  verifyAuditLog,
  revokeApiToken,
  saveAgency,
  subjectLine,
  type AppContext,
  type Caller,
} from "../app/index.ts";
import { fingerprint, loadIdentityP12, parseCertificates, parseCrl, type Identity } from "../signing/index.ts";
import { getLocalAgency, listLocalAgencies, migrateBlobs, openBlobStore, sweepBlobs } from "../storage/index.ts";
import { InputError, readInput } from "./input.ts";

const say = (text: string) => process.stdout.write(text + "\n");
const warn = (text: string) => process.stderr.write(`warning: ${text}\n`);
const iso = (d: string | Date) => new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The node's context for the length of `fn`, and the operator as the caller. */
async function withNode<T>(fn: (ctx: AppContext, caller: Caller) => Promise<T>): Promise<T> {
  const { default: pino } = await import("pino");
  const ctx = await openContext(loadConfig(), pino({ level: "silent" }));
  try {
    const [first] = await listLocalAgencies(ctx.storage.db);
    return await fn(ctx, { organId: first?.organId ?? "", role: "admin", name: cliActor(), actor: cliActor() });
  } finally {
    // what the command wrote joins the audit log's hash chain before it goes
    await linkAuditLog(ctx, { checkpoint: "never" }).catch((err: Error) => warn(`cannot link the audit log's new rows into its hash chain: ${err.message}`));
    await ctx.close();
  }
}

async function certificatesIn(path: string, what: string) {
  const bytes = await readInput(path, what);
  try {
    return parseCertificates(bytes);
  } catch (err) {
    throw new InputError(`${path} holds no readable certificate: ${(err as Error).message}`);
  }
}

function publicUrlNote(ctx: AppContext): void {
  if (!process.env.EDOC_PUBLIC_URL) {
    warn(`EDOC_PUBLIC_URL is not set, so the agency is registered at ${ctx.config.publicUrl}; other nodes reach it only if that is this node's address`);
  }
}

/** A password from --password, or else the first line of standard input. */
function passwordFrom(option: string | undefined): string {
  if (option !== undefined) return option;
  let text = "";
  try {
    text = readFileSync(0, "utf8");
  } catch {
    throw new InputError("give the password on standard input (one line) or with --password");
  }
  const line = text.split(/\r?\n/)[0];
  if (!line) throw new InputError("give the password on standard input (one line) or with --password");
  return line;
}

// ---- agencies ---------------------------------------------------------------------------------

export async function agencyAdd(v: { organId?: string; name?: string; p12?: string; password?: string; dev?: boolean }): Promise<number> {
  if (v.dev && v.p12) throw new InputError("give either --p12 FILE or --dev, not both");
  if (!v.dev && !v.p12) throw new InputError("give the agency's identity with --p12 FILE, or --dev for a development certificate");
  if (v.dev && v.password !== undefined) throw new InputError("--password goes with --p12, not with --dev");
  let identity: Identity | undefined;
  if (v.p12) {
    const p12 = await readInput(v.p12, "PKCS#12 identity");
    try {
      identity = loadIdentityP12(p12, v.password ?? loadConfig().p12Password);
    } catch (err) {
      throw new InputError(`the PKCS#12 identity ${v.p12} cannot be opened: ${(err as Error).message}`);
    }
  }
  return withNode(async (ctx, caller) => {
    const added = await addAgency(ctx, caller.actor, { organId: v.organId, name: v.name, identity });
    for (const w of added.warnings) warn(w);
    publicUrlNote(ctx);
    say(`added local agency ${added.organId} "${added.name}", registered at ${ctx.config.publicUrl}`);
    say(`certificate: ${subjectLine(added.certificate)}, valid until ${iso(added.certificate.validTo)}`);
    say(`SHA-256:     ${fingerprint(added.certificate)}`);
    if (added.devCa) {
      say(
        `DEVELOPMENT ONLY: issued by this node's development CA${added.devCa.created ? " (created now)" : ""}, trusted here;\n` +
          `other nodes accept this agency after: edoc trust add ${added.devCa.certPath}`,
      );
    }
    say(`next: edoc token create --organ-id ${added.organId} --role clerk`);
    return 0;
  });
}

export function agencyList(): Promise<number> {
  return withNode(async (ctx) => {
    const agencies = await listLocalAgencies(ctx.storage.db);
    if (!agencies.length) say("no local agency yet: add one with edoc agency add, or start the node once (npm start)");
    for (const a of agencies) say(`${a.organId}  ${a.name}${a.development ? "  [development certificate]" : ""}  certificate valid until ${iso(a.certificate.validTo)}`);
    return 0;
  });
}

export function agencyCert(v: { organId?: string }): Promise<number> {
  if (!v.organId) throw new InputError("--organ-id is required");
  return withNode(async (ctx) => {
    const a = await getLocalAgency(ctx.storage.db, v.organId!);
    if (!a) throw new InputError(`${v.organId} is not an agency of this node (see edoc agency list)`);
    process.stdout.write(a.certificate.toString());
    return 0;
  });
}

// ---- trust anchors and CRLs -------------------------------------------------------------------

export async function trustAdd(file: string, v: { tsa?: boolean } = {}): Promise<number> {
  const certs = await certificatesIn(file, v.tsa ? "TSA trust anchor" : "trust anchor");
  return withNode(async (ctx, caller) => {
    const { warnings } = await addTrustAnchors(ctx, caller, certs, v.tsa ? "tsa" : "signing");
    for (const w of warnings) warn(w);
    const what = v.tsa ? "trusted for time-stamps" : "trusted";
    for (const c of certs) say(`${what}: ${subjectLine(c)}\n  SHA-256 ${fingerprint(c)}, valid until ${iso(c.validTo)}`);
    return 0;
  });
}

export async function crlAdd(file: string): Promise<number> {
  const bytes = await readInput(file, "revocation list");
  let crl;
  try {
    crl = parseCrl(bytes);
  } catch (err) {
    throw new InputError(`${file} is not a readable CRL: ${(err as Error).message}`);
  }
  const list = crl;
  return withNode(async (ctx, caller) => {
    const { warnings } = await addCrl(ctx, caller, list);
    for (const w of warnings) warn(w);
    say(`added the CRL of ${list.issuer}: ${list.revoked.length} revoked certificate(s), issued ${iso(list.thisUpdate)}${list.nextUpdate ? `, next update ${iso(list.nextUpdate)}` : ""}`);
    return 0;
  });
}

// ---- the registry -----------------------------------------------------------------------------

export async function registryAdd(v: { organId?: string; name?: string; endpoint?: string; cert?: string; parent?: string; acceptUnsigned?: boolean }): Promise<number> {
  if (!v.cert && !v.acceptUnsigned) throw new InputError("--cert is required: the certificate that signs for the agency (or --accept-unsigned for an agency of the national axle that does not sign)");
  const certs = v.cert ? await certificatesIn(v.cert, "certificate") : [];
  return withNode(async (ctx, caller) => {
    const body = { organId: v.organId, name: v.name, endpoint: v.endpoint, parentId: v.parent ?? null, certificates: certs.map((c) => c.toString()), acceptUnsigned: !!v.acceptUnsigned };
    const saved = await saveAgency(ctx, caller, body, { mode: "replace" });
    for (const n of saved.notes) process.stderr.write(`note: ${n}\n`);
    for (const w of saved.warnings) warn(w);
    const a = saved.agency;
    if (saved.replacedSource) say(`replaced the entry synced from ${saved.replacedSource}; from now on registry syncs leave it alone`);
    say(`${saved.created ? "added" : "updated"} ${a.organId} "${a.name}" at ${a.endpoint} (${a.endpoint === "vdxp:" ? "reached through the national axle" : `packets go to ${a.endpoint}/edxml`})`);
    for (const c of certs) say(`  signer: ${subjectLine(c)}, SHA-256 ${fingerprint(c)}`);
    if (a.acceptUnsigned) say(`  its unsigned packets from the national axle are accepted, shown as "Chưa ký số" (not signed)`);
    return 0;
  });
}

export function registryImportVdxp(): Promise<number> {
  return withNode(async (ctx, caller) => {
    const r = await importDirectory(ctx, caller);
    say(`imported the hub's directory: ${r.added.length} added, ${r.updated.length} updated, ${r.deactivated.length} made inactive, ${r.kept.length} left alone (added by hand, synced, or this node's own)`);
    return 0;
  });
}

export function registryConfirmCert(v: { organId?: string; fingerprint?: string }): Promise<number> {
  if (!v.organId) throw new InputError("--organ-id is required");
  const organId = v.organId;
  return withNode(async (ctx, caller) => {
    const r = await confirmSeenCertificate(ctx, caller, organId, { fingerprint: v.fingerprint });
    say(`bound the certificate ${r.fingerprint} to ${r.organId}: its packets signed with it are accepted from now on`);
    return 0;
  });
}

export function registryList(): Promise<number> {
  return withNode(async (ctx) => {
    const all = await listRegistry(ctx);
    if (!all.length) say("the registry is empty");
    for (const a of all) {
      say(
        `${a.organId}  ${a.name}  ${a.endpoint || "(no endpoint)"}  ${a.status}  ${a.certificateFingerprints.length} certificate(s)` +
          `${a.parentId ? `  parent ${a.parentId}` : ""}${a.source === "local" ? "" : `  from ${a.source}`}${a.acceptUnsigned ? "  accepts unsigned" : ""}`,
      );
      if (a.seenCertificate) say(`  certificate seen, waiting for confirmation: ${a.seenCertificate.subject}, SHA-256 ${a.seenCertificate.fingerprint} (edoc registry confirm-cert --organ-id ${a.organId} --fingerprint …)`);
    }
    return 0;
  });
}

// ---- tokens -----------------------------------------------------------------------------------

export function tokenCreate(v: { organId?: string; role?: string; name?: string; expiresIn?: string }): Promise<number> {
  return withNode(async (ctx, caller) => {
    const t = await createApiToken(ctx, caller, { organId: v.organId, role: v.role, name: v.name, expiresIn: v.expiresIn });
    say(`${t.role === "admin" || t.role === "archivist" ? "an" : "a"} ${t.role} token for ${t.organId} "${t.agencyName}"${t.name ? ` (${t.name})` : ""}${t.expiresAt ? `, valid until ${iso(t.expiresAt)}` : ""}; it is shown only this once:`);
    say(`id: ${t.id}`);
    say(t.token);
    return 0;
  });
}

export function tokenList(v: { organId?: string }): Promise<number> {
  return withNode(async (ctx, caller) => {
    const tokens = await listApiTokens(ctx, caller, v.organId);
    if (!tokens.length) say("no API token yet: edoc token create --organ-id ID --role ROLE");
    for (const t of tokens) {
      const state = t.revokedAt ? `revoked ${iso(t.revokedAt)}` : t.expiresAt && new Date(t.expiresAt) < new Date() ? `expired ${iso(t.expiresAt)}` : "active";
      say(
        `${t.id}  ${t.name || "(no label)"}  ${t.role}  ${t.organId}  created ${iso(t.createdAt)}  last used ${t.lastUsedAt ? iso(t.lastUsedAt) : "never"}` +
          `${t.expiresAt && !t.revokedAt ? `  expires ${iso(t.expiresAt)}` : ""}  ${state}`,
      );
    }
    return 0;
  });
}

export function tokenRevoke(id: string): Promise<number> {
  return withNode(async (ctx, caller) => {
    const t = await revokeApiToken(ctx, caller, id);
    say(t.alreadyRevoked ? `token ${t.id} was already revoked (${iso(t.revokedAt!)})` : `revoked token ${t.id} (${t.role} of ${t.organId}${t.name ? `, ${t.name}` : ""}): it is refused from now on`);
    return 0;
  });
}

// ---- users ------------------------------------------------------------------------------------

export function userAdd(v: { organId?: string; role?: string; username?: string; fullName?: string; password?: string }): Promise<number> {
  const password = passwordFrom(v.password);
  return withNode(async (ctx, caller) => {
    const u = await createUser(ctx, caller, { organId: v.organId, role: v.role, username: v.username, fullName: v.fullName, password });
    say(`added user ${u.username} (${u.role} of ${u.organId}${u.fullName ? `, ${u.fullName}` : ""})`);
    return 0;
  });
}

export function userList(v: { organId?: string }): Promise<number> {
  return withNode(async (ctx, caller) => {
    const users = await listAgencyUsers(ctx, caller, v.organId);
    if (!users.length) say("no user yet: edoc user add --organ-id ID --role ROLE --username NAME");
    for (const u of users) say(`${u.username}  ${u.fullName || "(no name)"}  ${u.role}  ${u.organId}${u.disabled ? "  disabled" : ""}`);
    return 0;
  });
}

export function userDisable(v: { username?: string }): Promise<number> {
  if (!v.username) throw new InputError("--username is required");
  return withNode(async (ctx, caller) => {
    const u = await disableUser(ctx, caller, v.username!);
    say(`disabled user ${u.username}: it can no longer sign in`);
    return 0;
  });
}

export function userPasswd(v: { username?: string; password?: string }): Promise<number> {
  if (!v.username) throw new InputError("--username is required");
  const password = passwordFrom(v.password);
  return withNode(async (ctx, caller) => {
    await changePassword(ctx, caller, v.username!, password);
    say(`changed the password of ${v.username}`);
    return 0;
  });
}

// ---- the audit log ----------------------------------------------------------------------------

export function auditList(v: { since?: string; limit?: string }): Promise<number> {
  return withNode(async (ctx, caller) => {
    const entries = await readAudit(ctx, caller, { since: v.since, limit: v.limit });
    for (const e of entries.reverse()) {
      say(`${e.id}  ${iso(e.at)}  ${e.actor}  ${e.action}${e.organId ? `  ${e.organId}` : ""}${e.document ? `  document ${e.document}` : ""}  ${JSON.stringify(e.detail)}`);
    }
    return 0;
  });
}

/**
 * Checks the audit log's hash chain and signed checkpoints: 0 intact, 1 with the first broken row
 * named. `--trust` checks the checkpoints' signers against anchors from outside the database (an
 * operator who can write the database could also have added an anchor).
 */
export function auditVerify(v: { trust?: string[]; json?: boolean }): Promise<number> {
  return withNode(async (ctx, caller) => {
    const anchors = v.trust?.length ? (await Promise.all(v.trust.map((p) => certificatesIn(p, "--trust")))).flat() : undefined;
    const trust = anchors && { ...(await ctx.trust()), anchors };
    const r = await verifyAuditLog(ctx, caller, trust);
    if (v.json) say(JSON.stringify(r, null, 2));
    else {
      say(r.ok ? "audit log intact" : `audit log BROKEN: ${r.broken!.reason}`);
      say(`  rows in the chain: ${r.rows}${r.head ? ` (head ${r.head.hash})` : ""}${r.pending ? `; ${r.pending} written in the last moments, not linked yet` : ""}`);
      const cp = r.latestCheckpoint;
      say(`  signed checkpoints: ${r.checkpoints}${cp ? `; the latest at ${iso(cp.at)} covers ${cp.seq} rows, signed by ${cp.organId}${cp.timestamped ? ", time-stamped" : ""}` : ""}`);
    }
    return r.ok ? 0 : 1;
  });
}

// ---- backup -----------------------------------------------------------------------------------

export function backup(dir: string | undefined): Promise<number> {
  if (!dir) throw new InputError("give the directory to write the backup into: edoc backup DIR");
  return withNode(async (ctx, caller) => {
    const b = await backupNode(ctx, caller, dir);
    say(`backup: ${b.path}`);
    say(`  ${b.bytes} bytes, ${b.documents} documents, sha256 ${b.sha256} (also in ${b.path}.sha256)`);
    say(`  the master key is not in the backup: keep its copy (${ctx.config.masterKey ? "EDOC_MASTER_KEY" : "master.key of the data directory"}) apart from it; a restore needs both`);
    return 0;
  });
}

// ---- blob stores ------------------------------------------------------------------------------

/** Copies the node's blobs to the store `to` names, checking each; resumable (see migrateBlobs). */
export async function blobsMigrate(v: { to?: string }): Promise<number> {
  if (!v.to) throw new InputError("give the store to move the blobs to: --to s3://BUCKET/PREFIX or --to fs:/PATH");
  let spec;
  try {
    spec = blobStoreSpec(process.env, v.to);
  } catch (err) {
    if (err instanceof SetupError) throw new InputError(err.message.replace(/^EDOC_BLOB_STORE/, "--to"));
    throw err;
  }
  if (spec.kind === "db") throw new InputError("--to db: the database is where the node keeps blobs by default; give --to s3://BUCKET/PREFIX or --to fs:/PATH");
  return withNode(async (ctx) => {
    const to = openBlobStore(spec, ctx.storage.reader);
    if (to.name === ctx.storage.blobs.name) throw new InputError(`the node already keeps its blobs in ${to.name} (EDOC_BLOB_STORE)`);
    let shown = 0;
    let r;
    try {
      r = await migrateBlobs(ctx.storage.reader, ctx.storage.blobs, to, (p) => {
        if (p.done === p.total || Date.now() - shown > 2000) {
          shown = Date.now();
          process.stderr.write(`${p.done}/${p.total} blobs checked\n`);
        }
      });
    } catch (err) {
      // the blobs checked so far stay: a run after the store answers again resumes
      process.stderr.write(`edoc blobs migrate: stopped: ${(err as Error).message}; run it again to resume\n`);
      return 1;
    }
    say(`${r.checked} blobs in ${to.name}, each read back and its SHA-256 checked; ${r.copied} copied now (${r.bytes} bytes).`);
    say(`Stop the node, run this again (it copies what arrived meanwhile), then start the node with EDOC_BLOB_STORE=${to.name}.`);
    return 0;
  });
}

/** Deletes what the node's blob store holds that no row references, older than the grace. */
export function blobsSweep(v: { graceHours?: string }): Promise<number> {
  const hours = Number(v.graceHours ?? "24");
  if (!/^\d{1,5}$/.test(v.graceHours ?? "24") || hours < 1) throw new InputError("--grace-hours must be a whole number of hours, at least 1 (longer than the longest upload)");
  return withNode(async (ctx) => {
    const n = await sweepBlobs(ctx.storage.reader, ctx.storage.blobs, hours * 3_600_000);
    say(`${n} unreferenced objects older than ${hours} h deleted from ${ctx.storage.blobs.name}`);
    return 0;
  });
}

/** The use cases' field names as this CLI's options, in their messages. */
const OPTION_NAMES: Record<string, string> = {
  organId: "--organ-id",
  name: "--name",
  endpoint: "--endpoint",
  parentId: "--parent",
  certificates: "--cert",
  role: "--role",
  username: "--username",
  fullName: "--full-name",
  password: "--password",
  expiresIn: "--expires-in",
  since: "--since",
  limit: "--limit",
};

/** A use case's refusal as the sentence (and list) the CLI prints. */
export function refusalText(err: AppError): string {
  const rename = (text: string) => text.replace(/^(\w+)(?=[\s:[])/, (w) => OPTION_NAMES[w] ?? w);
  const details = Array.isArray(err.details) ? (err.details as unknown[]).filter((d): d is string => typeof d === "string").map(rename) : [];
  if (details.length === 1) return details[0];
  return details.length ? `${err.message}:\n  - ${details.join("\n  - ")}` : rename(err.message);
}
