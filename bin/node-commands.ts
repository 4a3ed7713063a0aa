// `edoc` commands that change a node's state: agencies, trust anchors, CRLs, the registry and API
// tokens. They read EDOC_DATA_DIR / DATABASE_URL (and EDOC_PUBLIC_URL, PORT) like the node does,
// and may run while the node runs: it picks the changes up within seconds.
//
// The entries have the shape of bin/cli.ts's COMMANDS. Storage and the server modules are loaded
// only when one of these commands runs, so that `edoc verify` and `edoc pack` start as fast as before.
// Errors in what the user gave are printed here as sentences (exit 2); anything else goes to
// bin/cli.ts's handler.
import type { Knex } from "knex";
import type { NodeConfig } from "../server/context.ts";
import { InputError, readInput, type Command } from "./input.ts";


interface NodeState {
  db: Knex;
  key: Buffer;
  config: NodeConfig;
}

/** Opens the node's database (migrating it if needed) for the length of `fn`. */
async function withNode<T>(fn: (s: NodeState) => Promise<T>): Promise<T> {
  const { configFromEnv } = await import("../server/context.ts");
  const { openStorage, masterKey } = await import("../storage/index.ts");
  const config = configFromEnv();
  const where = config.databaseUrl ? "the PostgreSQL database of DATABASE_URL" : `the SQLite database in ${config.dataDir}`;
  let storage;
  try {
    storage = await openStorage({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: config.schema });
  } catch (err) {
    throw new Error(`cannot open ${where}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return await fn({ db: storage.db, key: masterKey(config.dataDir), config });
  } finally {
    await storage.close();
  }
}


const say = (text: string) => process.stdout.write(text + "\n");
const warn = (text: string) => process.stderr.write(`warning: ${text}\n`);
const iso = (d: string | Date) => new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");

/** `name sub` with its allowed subcommands and, per subcommand, the options it takes. */
function command(
  name: string,
  spec: Omit<Command, "run"> & {
    subcommands: Record<string, { allowed: string[]; run(v: Record<string, unknown>, positionals: string[]): Promise<number> }>;
  },
): Command {
  return {
    usage: spec.usage,
    options: spec.options,
    positionals: spec.positionals,
    async run(values, positionals) {
      const sub = positionals[0];
      try {
        const s = spec.subcommands[sub];
        if (!s) throw new InputError(`unknown subcommand "${sub}"; the subcommands are ${Object.keys(spec.subcommands).join(", ")}`);
        const extra = Object.keys(values).filter((k) => !s.allowed.includes(k));
        if (extra.length) throw new InputError(`"${name} ${sub}" does not take ${extra.map((k) => `--${k}`).join(", ")}`);
        return await s.run(values, positionals);
      } catch (err) {
        if (err instanceof InputError || (err instanceof Error && err.name === "SetupError")) {
          process.stderr.write(`edoc ${name}${sub ? ` ${sub}` : ""}: ${err.message}\nRun "edoc ${name} --help" for usage.\n`);
          return 2;
        }
        throw err;
      }
    },
  };
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

async function parseCertsFile(path: string, what: string) {
  const { parseCertificates } = await import("../signing/index.ts");
  const bytes = await readInput(path, what);
  try {
    return parseCertificates(bytes);
  } catch (err) {
    throw new InputError(`${path} holds no readable certificate: ${(err as Error).message}`);
  }
}

function publicUrlNote(config: NodeConfig): void {
  if (!process.env.EDOC_PUBLIC_URL) {
    warn(`EDOC_PUBLIC_URL is not set, so the agency is registered at ${config.publicUrl}; other nodes reach it only if that is this node's address`);
  }
}

// ---------------------------------------------------------------------------------------------

const agency = command("agency", {
  usage: `edoc agency add --organ-id ID --name NAME (--p12 FILE [--password P] | --dev)
edoc agency list
edoc agency cert --organ-id ID

Local agencies are the agencies this node hosts, each with its own signing identity.
  add                  adds a local agency and registers it in the node's registry, reached at
                       the node's EDOC_PUBLIC_URL
    --organ-id ID      its organ id (mã định danh), of the form 000.00.00.G22
    --name NAME        its name
    --p12 FILE         its signing identity (PKCS#12 from its CA); the password with --password
                       or EDOC_P12_PASSWORD. Its CA must be a trust anchor ("edoc trust add").
    --dev              instead of --p12: a certificate from this node's DEVELOPMENT CA, which is
                       created on first use (EDOC_DATA_DIR/dev-ca/ca.pem, key encrypted with the
                       master key) and trusted here. DEVELOPMENT ONLY: it is not a CA of the
                       national PKI; other nodes accept its agencies only after "edoc trust add"
                       of ca.pem.
  list                 prints the local agencies
  cert --organ-id ID   prints the agency's certificate (PEM), for another node's "edoc registry add
                       --cert" or its EDOC_REGISTRY_CERT (this node's registry snapshot is signed
                       by its first agency, or by EDOC_REGISTRY_PUBLISHER)
Reads EDOC_DATA_DIR / DATABASE_URL, EDOC_PUBLIC_URL and EDOC_MASTER_KEY.
Exit status: 0 done, 2 usage or input error.`,
  options: {
    "organ-id": { type: "string" },
    name: { type: "string" },
    p12: { type: "string" },
    password: { type: "string" },
    dev: { type: "boolean" },
  },
  positionals: 1,
  subcommands: {
    add: {
      allowed: ["organ-id", "name", "p12", "password", "dev"],
      async run(v) {
        const { checkLocalOrganId, checkName, addDevAgency, addImportedAgency, subjectLine } = await import("../server/bootstrap.ts");
        const organId = checkLocalOrganId(str(v["organ-id"]));
        const name = checkName(str(v.name));
        if (v.dev && v.p12) throw new InputError("give either --p12 FILE or --dev, not both");
        if (!v.dev && !v.p12) throw new InputError("give the agency's identity with --p12 FILE, or --dev for a development certificate");
        if (v.dev && v.password !== undefined) throw new InputError("--password goes with --p12, not with --dev");
        let identity: import("../signing/index.ts").Identity | undefined;
        if (v.p12) {
          const { loadIdentityP12 } = await import("../signing/index.ts");
          const p12 = await readInput(v.p12 as string, "PKCS#12 identity");
          try {
            identity = loadIdentityP12(p12, str(v.password) ?? process.env.EDOC_P12_PASSWORD ?? "");
          } catch (err) {
            throw new InputError(`the PKCS#12 identity ${v.p12} cannot be opened: ${(err as Error).message}`);
          }
        }
        return withNode(async ({ db, key, config }) => {
          const added = identity
            ? await addImportedAgency(db, key, { organId, name, identity, publicUrl: config.publicUrl })
            : await addDevAgency(db, key, config.dataDir, { organId, name, publicUrl: config.publicUrl });
          for (const w of added.warnings) warn(w);
          publicUrlNote(config);
          say(`added local agency ${organId} "${name}", registered at ${config.publicUrl}`);
          say(`certificate: ${subjectLine(added.certificate)}, valid until ${iso(added.certificate.validTo)}`);
          say(`SHA-256:     ${added.certificate.fingerprint256.replace(/:/g, "").toLowerCase()}`);
          if (added.devCa) {
            say(
              `DEVELOPMENT ONLY: issued by this node's development CA${added.devCa.created ? " (created now)" : ""}, trusted here;\n` +
                `other nodes accept this agency after: edoc trust add ${added.devCa.certPath}`,
            );
          }
          say(`next: edoc token create --organ-id ${organId} --role clerk`);
          return 0;
        });
      },
    },
    list: {
      allowed: [],
      async run() {
        const { listLocalAgencies } = await import("../storage/index.ts");
        return withNode(async ({ db }) => {
          const agencies = await listLocalAgencies(db);
          if (!agencies.length) say("no local agency yet: add one with edoc agency add, or start the node once (npm start)");
          for (const a of agencies) {
            say(`${a.organId}  ${a.name}${a.development ? "  [development certificate]" : ""}  certificate valid until ${iso(a.certificate.validTo)}`);
          }
          return 0;
        });
      },
    },
    cert: {
      allowed: ["organ-id"],
      async run(v) {
        const { checkLocalOrganId } = await import("../server/bootstrap.ts");
        const { getLocalAgency } = await import("../storage/index.ts");
        const organId = checkLocalOrganId(str(v["organ-id"]));
        return withNode(async ({ db }) => {
          const a = await getLocalAgency(db, organId);
          if (!a) throw new InputError(`${organId} is not an agency of this node (see edoc agency list)`);
          process.stdout.write(a.certificate.toString());
          return 0;
        });
      },
    },
  },
});

const trust = command("trust", {
  usage: `edoc trust add CA.pem

Adds trust anchors: the certificates (PEM or DER) of the CAs whose agencies' signatures this node
accepts, such as another node's development CA (its EDOC_DATA_DIR/dev-ca/ca.pem). A certificate
that is not a CA is pinned: it is trusted for itself only.
Reads EDOC_DATA_DIR / DATABASE_URL. Exit status: 0 done, 2 usage or input error.`,
  options: {},
  positionals: 2,
  subcommands: {
    add: {
      allowed: [],
      async run(_v, [, file]) {
        const certs = await parseCertsFile(file, "trust anchor");
        const now = Date.now();
        for (const c of certs) {
          if (new Date(c.validTo).getTime() < now) throw new InputError(`the certificate "${c.subject.replace(/\n/g, ", ")}" in ${file} expired on ${iso(c.validTo)}`);
        }
        const { addTrustAnchor } = await import("../storage/index.ts");
        const { fingerprint } = await import("../signing/index.ts");
        return withNode(async ({ db }) => {
          for (const c of certs) {
            await addTrustAnchor(db, c);
            if (!c.ca) warn(`"${c.subject.replace(/\n/g, ", ")}" is not a CA certificate: it is pinned and trusts only itself`);
            say(`trusted: ${c.subject.replace(/\n/g, ", ")}\n  SHA-256 ${fingerprint(c)}, valid until ${iso(c.validTo)}`);
          }
          return 0;
        });
      },
    },
  },
});

const crl = command("crl", {
  usage: `edoc crl add CRL.pem

Adds a certificate revocation list (PEM or DER) from one of the trusted CAs; certificates it
revokes are refused from then on. Add each newer CRL as the CA publishes it.
Reads EDOC_DATA_DIR / DATABASE_URL. Exit status: 0 done, 2 usage or input error.`,
  options: {},
  positionals: 2,
  subcommands: {
    add: {
      allowed: [],
      async run(_v, [, file]) {
        const { parseCrl } = await import("../signing/index.ts");
        const { addCrl } = await import("../storage/index.ts");
        const bytes = await readInput(file, "revocation list");
        let parsed;
        try {
          parsed = parseCrl(bytes);
        } catch (err) {
          throw new InputError(`${file} is not a readable CRL: ${(err as Error).message}`);
        }
        const list = parsed;
        return withNode(async ({ db }) => {
          await addCrl(db, list);
          if (list.nextUpdate && list.nextUpdate.getTime() < Date.now()) {
            warn(`this CRL was due to be replaced on ${iso(list.nextUpdate)}; add the CA's current CRL too`);
          }
          say(`added the CRL of ${list.issuer}: ${list.revoked.length} revoked certificate(s), issued ${iso(list.thisUpdate)}${list.nextUpdate ? `, next update ${iso(list.nextUpdate)}` : ""}`);
          return 0;
        });
      },
    },
  },
});

const registry = command("registry", {
  usage: `edoc registry add --organ-id ID --name NAME --endpoint URL --cert CERT.pem [--parent ID]
edoc registry list

The registry: every agency this node knows, with the node that hosts it and the certificates
that may sign for it.
  add                  adds or replaces an agency of another node (an entry added here is never
                       overwritten by a registry sync)
    --organ-id ID      its organ id (1 to 35 letters, digits or dots)
    --name NAME        its name
    --endpoint URL     the base URL of the node that hosts it (that node's EDOC_PUBLIC_URL);
                       packets for the agency go to {endpoint}/edxml
    --cert CERT.pem    its signing certificate(s), PEM or DER (on its node: edoc agency cert)
    --parent ID        the organ id of its parent agency
  list                 prints the registry
Reads EDOC_DATA_DIR / DATABASE_URL. Exit status: 0 done, 2 usage or input error.`,
  options: {
    "organ-id": { type: "string" },
    name: { type: "string" },
    endpoint: { type: "string" },
    cert: { type: "string" },
    parent: { type: "string" },
  },
  positionals: 1,
  subcommands: {
    add: {
      allowed: ["organ-id", "name", "endpoint", "cert", "parent"],
      async run(v) {
        const { checkRegistryOrganId, checkName, checkBaseUrl } = await import("../server/bootstrap.ts");
        const organId = checkRegistryOrganId(str(v["organ-id"]));
        const name = checkName(str(v.name));
        const endpoint = checkBaseUrl(str(v.endpoint));
        const parentId = v.parent === undefined ? null : checkRegistryOrganId(str(v.parent), "--parent");
        if (parentId === organId) throw new InputError("an agency cannot be its own parent");
        if (!v.cert) throw new InputError("--cert is required: the certificate that signs for the agency");
        const certs = await parseCertsFile(v.cert as string, "certificate");
        const ca = certs.find((c) => c.ca);
        if (ca) {
          throw new InputError(
            `${v.cert} holds a CA certificate ("${ca.subject.replace(/\n/g, ", ")}"); give the agency's own signing certificate (its CA goes to edoc trust add)`,
          );
        }
        const now = Date.now();
        const current = certs.filter((c) => new Date(c.validTo).getTime() >= now);
        if (!current.length) throw new InputError(`every certificate in ${v.cert} has expired`);
        const { getLocalAgency, getAgency, upsertAgency, listTrustAnchors, listCrls } = await import("../storage/index.ts");
        const { fingerprint, validateChain } = await import("../signing/index.ts");
        return withNode(async ({ db }) => {
          if (await getLocalAgency(db, organId)) {
            throw new InputError(`${organId} is an agency of this node; its registry entry follows its own identity (edoc agency add)`);
          }
          const before = await getAgency(db, organId);
          const [anchors, crls] = await Promise.all([listTrustAnchors(db), listCrls(db)]);
          for (const c of certs) {
            if (new Date(c.validTo).getTime() < now) warn(`the certificate ${fingerprint(c)} expired on ${iso(c.validTo)}`);
            const chain = validateChain({ leaf: c, intermediates: certs, anchors, crls, at: new Date() });
            if (!chain.ok && chain.subIndication === "NO_CERTIFICATE_CHAIN_FOUND") {
              process.stderr.write(
                `note: ${fingerprint(c)} does not chain to a trust anchor of this node by itself; its packets are accepted only if they carry the intermediate CA certificates up to a trust anchor (edoc trust add CA.pem)\n`,
              );
            } else if (!chain.ok) {
              warn(`packets signed with ${fingerprint(c)} will be refused: ${chain.message}`);
            }
          }
          await upsertAgency(db, { organId, name, parentId, endpoint, certificates: certs, source: "local" });
          if (before && before.source !== "local") say(`replaced the entry synced from ${before.source}; from now on registry syncs leave it alone`);
          say(`${before ? "updated" : "added"} ${organId} "${name}" at ${endpoint} (packets go to ${endpoint}/edxml)`);
          for (const c of certs) say(`  signer: ${c.subject.replace(/\n/g, ", ")}, SHA-256 ${fingerprint(c)}`);
          return 0;
        });
      },
    },
    list: {
      allowed: [],
      async run() {
        const { listAgencies } = await import("../storage/index.ts");
        return withNode(async ({ db }) => {
          const all = await listAgencies(db);
          if (!all.length) say("the registry is empty");
          for (const a of all) {
            say(
              `${a.organId}  ${a.name}  ${a.endpoint || "(no endpoint)"}  ${a.status}  ${a.certificateFingerprints.length} certificate(s)` +
                `${a.parentId ? `  parent ${a.parentId}` : ""}${a.source === "local" ? "" : `  from ${a.source}`}`,
            );
          }
          return 0;
        });
      },
    },
  },
});

const token = command("token", {
  usage: `edoc token create --organ-id ID --role clerk|archivist|admin [--name LABEL]

Creates an API token for a user of a local agency and prints it once, alone on the last line
(only its hash is stored). Use it as "Authorization: Bearer TOKEN".
  --organ-id ID        the local agency the user belongs to
  --role ROLE          clerk (send, receive, set statuses), archivist (read and export everything
                       of the agency) or admin (agencies, registry, tokens)
  --name LABEL         who or what the token is for, shown in the audit log
Reads EDOC_DATA_DIR / DATABASE_URL. Exit status: 0 done, 2 usage or input error.`,
  options: {
    "organ-id": { type: "string" },
    role: { type: "string" },
    name: { type: "string" },
  },
  positionals: 1,
  subcommands: {
    create: {
      allowed: ["organ-id", "role", "name"],
      async run(v) {
        const { checkLocalOrganId, checkName } = await import("../server/bootstrap.ts");
        const { ROLES, getLocalAgency, createToken } = await import("../storage/index.ts");
        const organId = checkLocalOrganId(str(v["organ-id"]));
        const role = str(v.role);
        if (!role) throw new InputError(`--role is required: ${ROLES.join(", ")}`);
        if (!(ROLES as readonly string[]).includes(role)) throw new InputError(`--role "${role}" is not a role; the roles are ${ROLES.join(", ")}`);
        const label = v.name === undefined ? "" : checkName(str(v.name));
        return withNode(async ({ db }) => {
          const agency = await getLocalAgency(db, organId);
          if (!agency) throw new InputError(`${organId} is not an agency of this node (see edoc agency list)`);
          const t = await createToken(db, { organId, role: role as (typeof ROLES)[number], name: label });
          say(`a ${role} token for ${organId} "${agency.name}"${label ? ` (${label})` : ""}; it is shown only this once:`);
          say(`id: ${t.id}`);
          say(t.token);
          return 0;
        });
      },
    },
  },
});

export const NODE_COMMANDS: Record<string, Command> = { agency, trust, crl, registry, token };
