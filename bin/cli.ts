// `edoc` commands, parsed by commander. Exit status: 0 success, 1 the operation ran and the answer
// is negative (an invalid signature), 2 usage or input error. Errors are printed as sentences,
// never stack traces. Each command loads only what it needs (bin/offline.ts, bin/node-commands.ts),
// so that `edoc verify` starts fast.
import { Command, CommanderError, Option } from "commander";
import { InputError } from "./input.ts";

const offline = () => import("./offline.ts");
const node = () => import("./node-commands.ts");
const collect = (value: string, previous: string[] = []) => [...previous, value];
const NODE_ENV = "Reads EDOC_DATA_DIR / DATABASE_URL (and EDOC_MASTER_KEY, EDOC_PUBLIC_URL). Exit status: 0 done, 2 usage or input error.";

/** The exit status of the command that ran. */
let status = 0;
const run =
  <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
  async (...args: A) => {
    status = await fn(...args);
  };

function program(): Command {
  const edoc = new Command("edoc")
    .description("Electronic document exchange between state agencies: signed edXML packets (QCVN 102:2016/BTTTT)")
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });

  edoc
    .command("verify")
    .usage("FILE [--trust CA.pem]… [--tsa-trust TSA-CA.pem]… [--crl CRL.pem]… [--registry SNAPSHOT|JSON] [--registry-cert NODE.pem] [--at ISO-TIME] [--json]")
    .description(
      "Verifies one edXML packet offline and prints the verification report. FILE may also be an evidence\n" +
        "bundle (a ZIP from GET /api/v1/documents/:id/evidence): then every signature, every file's digest,\n" +
        "the attachments, the status packets and the node's signature over the manifest are checked. Signers\n" +
        "are bound to agencies by --registry, or, for a bundle, by its own registry when --registry-cert pins\n" +
        "the node that signed it; otherwise the answer is SIGNER_NOT_BOUND. Trust anchors are only ever\n" +
        "taken from --trust. FILE may also be a signed PDF (recognised by its %PDF- header): then each of its\n" +
        "signatures and document time-stamps is reported on its own, with what changed after each one.",
    )
    .argument("[file]", "the packet or evidence bundle")
    .option("--trust <CA.pem>", "a trust anchor (root CA or a pinned agency certificate); repeatable", collect)
    .option("--tsa-trust <TSA-CA.pem>", "a trust anchor of time-stamping authorities: a signature time-stamp (level B-T) chaining to it proves when the packet was signed, and the signer's certificate is checked at that time; repeatable", collect)
    .option("--crl <CRL.pem>", "a certificate revocation list (PEM or DER); repeatable", collect)
    .option(
      "--registry <FILE>",
      'the agency registry binding organ ids to certificates: a signed registry snapshot (XML, as GET /registry/snapshot serves it, with --registry-cert) or the plain JSON form {"agencies":[{"organId","name","certificateFingerprints":["sha256 hex"]}]}',
    )
    .option(
      "--registry-cert <NODE.pem>",
      "the certificate of the node that published the snapshot, or that made the evidence bundle (its registry snapshot publisher), obtained out of band",
    )
    .option("--at <ISO-TIME>", "check certificates (and the registry snapshot) as of this time instead of now")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      "\nExit status: 0 valid (TOTAL_PASSED; for a PDF: every signature valid and nothing but validation data added after\nthe last one), 1 not valid, 2 usage or input error.",
    )
    .action(
      run(async (file: string | undefined, opts) => {
        if (!file) throw new InputError("expected 1 file argument(s), got 0");
        return (await offline()).verifyCommand(file, opts);
      }),
    );

  edoc
    .command("pack")
    .usage("--header HEADER.json [--attach FILE]… --p12 IDENTITY.p12 [--password P] --out OUT.edxml [--tsa URL [--tsa-trust TSA-CA.pem]…]")
    .description("Builds and signs an edoc offline.")
    .option("--header <HEADER.json>", 'the MessageHeader fields with their edXML names (From, To, Code, Subject, …); From/To may be organ ids; Code may be "số/ký hiệu"; an optional "Bussiness" block makes a revoke/update/replace packet')
    .option("--attach <FILE>", "a file to attach; repeatable", collect)
    .option("--p12 <IDENTITY.p12>", "the sending agency's signing identity (PKCS#12)")
    .option("--password <P>", "its password (or set EDOC_P12_PASSWORD)")
    .option("--out <OUT.edxml>", "where to write the signed packet")
    .option("--tsa <URL>", "an RFC 3161 time-stamping service: the signature gets its time-stamp (level B-T); when none can be had, no packet is written")
    .option("--tsa-trust <TSA-CA.pem>", "with --tsa: the stamp's signer must chain to this anchor with the timeStamping usage, or no packet is written; repeatable", collect)
    .action(run(async (opts) => (await offline()).packCommand(opts)));

  const agency = edoc.command("agency").description("Local agencies: the agencies this node hosts, each with its own signing identity.");
  agency
    .command("add")
    .usage("--organ-id ID --name NAME (--p12 FILE [--password P] | --dev)")
    .description("Adds a local agency and registers it in the node's registry, reached at the node's EDOC_PUBLIC_URL.")
    .option("--organ-id <ID>", "its organ id (mã định danh), of the form 000.00.00.G22")
    .option("--name <NAME>", "its name")
    .option("--p12 <FILE>", 'its signing identity (PKCS#12 from its CA); the password with --password or EDOC_P12_PASSWORD. Its CA must be a trust anchor ("edoc trust add").')
    .option("--password <P>", "the PKCS#12 password")
    .option(
      "--dev",
      "instead of --p12: a certificate from this node's DEVELOPMENT CA, created on first use (EDOC_DATA_DIR/dev-ca/ca.pem, key encrypted with the master key) and trusted here. DEVELOPMENT ONLY: other nodes accept its agencies only after \"edoc trust add\" of ca.pem.",
    )
    .addHelpText("after", `\n${NODE_ENV}`)
    .action(run(async (opts) => (await node()).agencyAdd(opts)));
  agency.command("list").description("Prints the local agencies.").action(run(async () => (await node()).agencyList()));
  agency
    .command("cert")
    .usage("--organ-id ID")
    .description('Prints the agency\'s certificate (PEM), for another node\'s "edoc registry add --cert" or its EDOC_REGISTRY_CERT.')
    .option("--organ-id <ID>", "the local agency")
    .action(run(async (opts) => (await node()).agencyCert(opts)));

  edoc
    .command("trust")
    .description("Trust anchors.")
    .command("add")
    .usage("CA.pem [--tsa]")
    .description(
      "Adds trust anchors: the certificates (PEM or DER) of the CAs whose agencies' signatures this node\n" +
        "accepts, such as another node's development CA (its EDOC_DATA_DIR/dev-ca/ca.pem). A certificate\n" +
        "that is not a CA is pinned: it is trusted for itself only. With --tsa, the CAs of time-stamping\n" +
        "authorities whose signature time-stamps (level B-T) this node accepts.",
    )
    .argument("<file>", "the certificates, PEM or DER")
    .option("--tsa", "trust them for signature time-stamps (RFC 3161 time-stamping authorities), not for signers")
    .addHelpText("after", `\n${NODE_ENV}`)
    .action(run(async (file: string, opts: { tsa?: boolean }) => (await node()).trustAdd(file, opts)));

  edoc
    .command("crl")
    .description("Certificate revocation lists.")
    .command("add")
    .usage("CRL.pem")
    .description("Adds a certificate revocation list (PEM or DER) from one of the trusted CAs; certificates it revokes are refused from then on. Add each newer CRL as the CA publishes it.")
    .argument("<file>", "the CRL, PEM or DER")
    .addHelpText("after", `\n${NODE_ENV}`)
    .action(run(async (file: string) => (await node()).crlAdd(file)));

  const registry = edoc.command("registry").description("The registry: every agency this node knows, with the node that hosts it and the certificates that may sign for it.");
  registry
    .command("add")
    .usage("--organ-id ID --name NAME --endpoint URL --cert CERT.pem [--parent ID] [--accept-unsigned]")
    .description("Adds or replaces an agency of another node (an entry added here is never overwritten by a registry sync or a directory import).")
    .option("--organ-id <ID>", "its organ id (1 to 35 letters, digits or dots)")
    .option("--name <NAME>", "its name")
    .option("--endpoint <URL>", "the base URL of the node that hosts it (that node's EDOC_PUBLIC_URL; packets for the agency go to {endpoint}/edxml), or vdxp: for an agency reached through the national axle (EDOC_VDXP_ENDPOINT)")
    .option("--cert <CERT.pem>", "its signing certificate(s), PEM or DER (on its node: edoc agency cert); optional with --accept-unsigned")
    .option("--parent <ID>", "the organ id of its parent agency")
    .option("--accept-unsigned", 'accept its unsigned packets (the QCVN placeholder signature) when they come through the national axle; they are shown as "Chưa ký số" (not signed)')
    .addHelpText("after", `\n${NODE_ENV}`)
    .action(run(async (opts) => (await node()).registryAdd(opts)));
  registry.command("list").description("Prints the registry.").action(run(async () => (await node()).registryList()));
  registry
    .command("import-vdxp")
    .description(
      "Imports the national axle hub's agency directory (getAgenciesList, getSynchronizeUnit) into the registry: code, name, parent, status (deleted units become inactive), endpoint vdxp:, no certificate. Entries added by hand or synced from a snapshot are left alone.",
    )
    .addHelpText("after", `\n${NODE_ENV}`)
    .action(run(async () => (await node()).registryImportVdxp()));
  registry
    .command("confirm-cert")
    .usage("--organ-id ID --fingerprint SHA256")
    .description("Binds to an agency the certificate seen in its first signed packet (shown by edoc registry list), after you checked its fingerprint with the agency.")
    .option("--organ-id <ID>", "the agency's organ id")
    .option("--fingerprint <SHA256>", "the SHA-256 fingerprint of the certificate, as checked with the agency")
    .addHelpText("after", `\n${NODE_ENV}`)
    .action(run(async (opts) => (await node()).registryConfirmCert(opts)));

  const token = edoc.command("token").description("API tokens for people's software (Authorization: Bearer TOKEN).");
  token
    .command("create")
    .usage("--organ-id ID --role clerk|archivist|admin [--name LABEL] [--expires-in 90d]")
    .description("Creates an API token for a user of a local agency and prints it once, alone on the last line (only its hash is stored), after its id on a line of its own.")
    .option("--organ-id <ID>", "the local agency the user belongs to")
    .option("--role <ROLE>", "clerk (send, receive, set statuses), archivist (read and export everything of the agency) or admin (agencies, registry, tokens)")
    .option("--name <LABEL>", "who or what the token is for, shown in the audit log")
    .option("--expires-in <DURATION>", "a lifetime such as 90d, 12h or 30m (no expiry without it)")
    .addHelpText("after", `\n${NODE_ENV}`)
    .action(run(async (opts) => (await node()).tokenCreate(opts)));
  token
    .command("list")
    .usage("[--organ-id ID]")
    .description("Prints one line per token: id, label, role, agency, creation, last use, state (never the token).")
    .option("--organ-id <ID>", "only this agency's tokens")
    .action(run(async (opts) => (await node()).tokenList(opts)));
  token
    .command("revoke")
    .usage("N")
    .description("Revokes token N (its id from token list): it gets 401 at once.")
    .argument("<id>", "the token's id")
    .action(run(async (id: string) => (await node()).tokenRevoke(id)));

  const user = edoc.command("user").description("People who sign in to the web pages.");
  user
    .command("add")
    .usage("--organ-id ID --role clerk|archivist|admin --username NAME [--full-name \"…\"] [--password P]")
    .description("Adds a user of a local agency. The password is read from standard input (one line) unless --password is given; nothing secret is printed.")
    .option("--organ-id <ID>", "the local agency")
    .option("--role <ROLE>", "clerk, archivist or admin")
    .option("--username <NAME>", "the sign-in name")
    .option("--full-name <NAME>", "the person's full name")
    .option("--password <P>", "the password (10 to 200 characters)")
    .action(run(async (opts) => (await node()).userAdd(opts)));
  user
    .command("list")
    .usage("[--organ-id ID]")
    .description("Prints the users.")
    .option("--organ-id <ID>", "only this agency's users")
    .action(run(async (opts) => (await node()).userList(opts)));
  user
    .command("disable")
    .usage("--username NAME")
    .description("Disables a user: it can no longer sign in.")
    .option("--username <NAME>", "the user")
    .action(run(async (opts) => (await node()).userDisable(opts)));
  user
    .command("passwd")
    .usage("--username NAME [--password P]")
    .description("Sets a user's password (from standard input unless --password is given).")
    .option("--username <NAME>", "the user")
    .option("--password <P>", "the new password")
    .action(run(async (opts) => (await node()).userPasswd(opts)));

  const auditCmd = edoc.command("audit").description("The audit log: every change made through any door, with who, what and when.");
  auditCmd
    .command("list")
    .usage("[--since ISO-TIME] [--limit N]")
    .description("Prints the audit log, oldest first.")
    .option("--since <ISO-TIME>", "only entries from this time on")
    .addOption(new Option("--limit <N>", "at most this many entries (the latest)").default("100"))
    .action(run(async (opts) => (await node()).auditList(opts)));
  auditCmd
    .command("verify")
    .usage("[--trust CA.pem]... [--json]")
    .description("Checks the audit log's hash chain and its signed checkpoints: exit 0 intact, 1 with the first broken row named.")
    .option("--trust <CA.pem>", "check the checkpoints' signers against this anchor instead of the node's (repeatable)", collect, [])
    .option("--json", "print the result as JSON")
    .action(run(async (opts) => (await node()).auditVerify(opts)));

  edoc
    .command("backup")
    .usage("DIR")
    .description("Writes an online, checked copy of a SQLite node's database into DIR (the node may keep running); PostgreSQL: use pg_dump.")
    .argument("[DIR]", "where to write the backup")
    .action(run(async (dir: string | undefined) => (await node()).backup(dir)));

  const blobs = edoc.command("blobs").description("The blob store (EDOC_BLOB_STORE): where the bytes of packets and attachments are kept.");
  blobs
    .command("migrate")
    .usage("--to s3://BUCKET/PREFIX|fs:/PATH")
    .description(
      "Copies every blob of the node's store (EDOC_BLOB_STORE, default the database) to another store, reading each back to check its SHA-256. " +
        "Resumable: a run cut short continues where it stopped. Then start the node with EDOC_BLOB_STORE set to the new store. " +
        "The S3 store reads AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and EDOC_S3_FORCE_PATH_STYLE. " +
        NODE_ENV,
    )
    .option("--to <STORE>", "s3://BUCKET/PREFIX or fs:/ABSOLUTE/PATH")
    .action(run(async (opts) => (await node()).blobsMigrate(opts)));
  blobs
    .command("sweep")
    .usage("[--grace-hours N]")
    .description("Deletes the objects of the node's blob store that no document references (left by a write that failed or crashed) once they are older than the grace. " + NODE_ENV)
    .addOption(new Option("--grace-hours <N>", "only objects last written more than this many hours ago").default("24"))
    .action(run(async (opts) => (await node()).blobsSweep(opts)));

  // a group's help lists each subcommand's whole usage, as its own help shows it
  for (const group of edoc.commands.filter((c) => c.commands.length)) {
    group.addHelpText("after", `\nUsage of each command:\n${group.commands.map((c) => `  edoc ${group.name()} ${c.name()} ${c.usage()}`).join("\n")}`);
  }
  return edoc;
}

/** The command's name as the user typed it, for messages ("edoc token create"). */
function commandName(argv: string[]): string {
  const words = [];
  for (const a of argv) {
    if (a.startsWith("-") || words.length === 2) break;
    words.push(a);
  }
  return ["edoc", ...words].join(" ");
}

async function main(argv: string[]): Promise<number> {
  const edoc = program();
  const name = commandName(argv);
  const fail = (message: string, helpFor = name.split(" ").slice(0, 2).join(" ")) => {
    process.stderr.write(`${name}: ${message}\nRun "${helpFor} --help" for usage.\n`);
    return 2;
  };
  if (argv.length === 0) {
    process.stdout.write(edoc.helpInformation());
    return 2;
  }
  try {
    await edoc.parseAsync(argv, { from: "user" });
    return status;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help" || err.code === "commander.version") return 0;
      if (err.code === "commander.unknownCommand") {
        const group = edoc.commands.find((c) => c.name() === argv[0] && c.commands.length);
        const unknown = /'([^']*)'/.exec(err.message)?.[1] ?? "";
        return group
          ? fail(`unknown subcommand "${unknown}"; the subcommands are ${group.commands.map((c) => c.name()).join(", ")}`)
          : fail(`unknown command "${unknown}"; the commands are ${edoc.commands.map((c) => c.name()).join(", ")}`, "edoc");
      }
      return fail(`wrong arguments: ${err.message.replace(/^error: /, "")}`);
    }
    if (err instanceof InputError || (err instanceof Error && (err.name === "XmlError" || err.name === "ValidationError"))) return fail(err.message);
    if (err instanceof Error && err.name === "AppError") {
      const { refusalText } = await node();
      return fail(refusalText(err as import("../app/index.ts").AppError));
    }
    return fail(`failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

process.exitCode = await main(process.argv.slice(2));
