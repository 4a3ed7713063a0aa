// `edoc` commands. Exit status: 0 success, 1 the operation ran and the answer is negative (an
// invalid signature), 2 usage or input error. Errors are printed as sentences, never stack traces.
import { constants } from "node:fs";
import { access, open } from "node:fs/promises";
import { parseArgs } from "node:util";
import { attachmentInfoFor, edocFromInput, validateEdoc, XmlError } from "../envelopes/index.ts";
import {
  BundleError,
  describeBundle,
  loadIdentityP12,
  packEdoc,
  parseCertificates,
  parseCrl,
  registryFromJson,
  registryFromSnapshot,
  verifyEvidenceBundle,
  verifyPacket,
  type Registry,
  type VerificationReport,
} from "../signing/index.ts";
import { InputError, readInput, type Command } from "./input.ts";
import { NODE_COMMANDS } from "./node-commands.ts";


const COMMANDS: Record<string, Command> = {
  verify: {
    usage: `edoc verify FILE [--trust CA.pem]… [--crl CRL.pem]… [--registry SNAPSHOT [--registry-cert NODE.pem]] [--at ISO-TIME] [--json]

Verifies one edXML packet offline and prints the verification report. FILE may also be an evidence
bundle (a ZIP from GET /api/v1/documents/:id/evidence): then every signature, every file's digest,
the attachments and the status packets are checked. Without --registry the bundle's own registry is
used, with a warning; trust anchors are only ever taken from --trust.
  --trust CA.pem       a trust anchor (root CA or a pinned agency certificate); repeatable
  --crl CRL.pem        a certificate revocation list (PEM or DER); repeatable
  --registry FILE      the agency registry binding organ ids to certificates, either
                       - a signed registry snapshot (XML, as GET /registry/snapshot serves it),
                         which needs --registry-cert, or
                       - the plain JSON form:
                         {"agencies":[{"organId","name","certificateFingerprints":["sha256 hex"]}]}
  --registry-cert NODE.pem
                       the certificate of the node that published the snapshot, obtained out of
                       band: the snapshot must be signed with exactly this certificate, and be
                       neither expired nor issued in the future
  --at ISO-TIME        check certificates (and the registry snapshot) as of this time instead of now
  --json               print the report as JSON
Exit status: 0 valid (TOTAL_PASSED), 1 not valid, 2 usage or input error.`,
    options: {
      trust: { type: "string", multiple: true },
      crl: { type: "string", multiple: true },
      registry: { type: "string" },
      "registry-cert": { type: "string" },
      at: { type: "string" },
      json: { type: "boolean" },
    },
    positionals: 1,
    async run(v, [file]) {
      const at = v.at === undefined ? undefined : parseTime(v.at as string);
      const anchors = (await Promise.all(((v.trust as string[]) ?? []).map((f) => readInput(f, "trust anchor")))).flatMap(
        (pem, i) => guard(() => parseCertificates(pem), `${(v.trust as string[])[i]} holds no readable certificate`),
      );
      const crls = await Promise.all(
        ((v.crl as string[]) ?? []).map(async (f) => {
          const der = await readInput(f, "revocation list");
          return guard(() => parseCrl(der), `${f} is not a readable CRL`);
        }),
      );
      if (v["registry-cert"] && !v.registry) throw new InputError("--registry-cert is only used with --registry SNAPSHOT");
      const registry = v.registry ? await loadRegistry(v.registry as string, v["registry-cert"] as string | undefined, at) : null;
      await mustExist(file, "packet");
      if (await startsWithZipMagic(file)) {
        const bundle = await verifyEvidenceBundle(file, { anchors, crls, registry, at }).catch((err: unknown) => {
          throw err instanceof BundleError ? new InputError(err.message) : err;
        });
        process.stdout.write(v.json ? JSON.stringify(bundle, null, 2) + "\n" : describeBundle(bundle, describe));
        return bundle.valid ? 0 : 1;
      }
      const { report } = await verifyPacket({ path: file }, { anchors, crls, registry, at });
      process.stdout.write(v.json ? JSON.stringify(report, null, 2) + "\n" : describe(report));
      return report.valid ? 0 : 1;
    },
  },
  pack: {
    usage: `edoc pack --header HEADER.json [--attach FILE]… --p12 IDENTITY.p12 [--password P] --out OUT.edxml

Builds and signs an edoc offline.
  --header HEADER.json  the MessageHeader fields with their edXML names (From, To, Code, Subject, …);
                        From/To may be organ ids; Code may be "số/ký hiệu"; an optional "Bussiness"
                        block makes a revoke/update/replace packet
  --attach FILE         a file to attach; repeatable
  --p12 IDENTITY.p12    the sending agency's signing identity (PKCS#12)
  --password P          its password (or set EDOC_P12_PASSWORD)
  --out OUT.edxml       where to write the signed packet`,
    options: {
      header: { type: "string" },
      attach: { type: "string", multiple: true },
      p12: { type: "string" },
      password: { type: "string" },
      out: { type: "string" },
    },
    async run(v) {
      for (const required of ["header", "p12", "out"]) {
        if (!v[required]) throw new InputError(`--${required} is required`);
      }
      const headerText = (await readInput(v.header as string, "header")).toString("utf8");
      const json = guard(() => JSON.parse(headerText), `${v.header} is not valid JSON`);
      const files = (v.attach as string[]) ?? [];
      await Promise.all(files.map((f) => mustExist(f, "attachment")));
      const edoc = edocFromInput(json, files.map((f) => attachmentInfoFor(f)));
      const problems = validateEdoc(edoc, { own: true });
      if (problems.length) throw new InputError(`the header is not valid:\n  - ${problems.join("\n  - ")}`);
      const p12 = await readInput(v.p12 as string, "PKCS#12 identity");
      const identity = guard(
        () => loadIdentityP12(p12, (v.password as string | undefined) ?? process.env.EDOC_P12_PASSWORD ?? ""),
        "the PKCS#12 identity cannot be opened",
      );
      const { size } = await packEdoc(edoc, files.map((path) => ({ path })), identity, v.out as string);
      process.stdout.write(`signed packet written to ${v.out} (${size} bytes), DocumentId ${edoc.header.DocumentId}\n`);
      return 0;
    },
  },
  ...NODE_COMMANDS,
};

function parseTime(value: string): Date {
  const t = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t.getTime())) {
    throw new InputError(`--at needs an ISO 8601 time such as 2026-11-22T10:00:00+07:00, not "${value}"`);
  }
  return t;
}


/** Large files (packets, attachments) are streamed later; here only their presence is checked. */
async function mustExist(path: string, what: string): Promise<void> {
  await access(path, constants.R_OK).catch(() => {
    throw new InputError(`cannot read the ${what} file ${path}`);
  });
}

/** An evidence bundle is a ZIP: it starts with "PK\x03\x04"; a packet starts with XML. */
async function startsWithZipMagic(path: string): Promise<boolean> {
  const fh = await open(path, "r").catch(() => {
    throw new InputError(`cannot read the packet file ${path}`);
  });
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(Buffer.from("PK\x03\x04", "latin1"));
  } finally {
    await fh.close();
  }
}

/** Runs `fn`; a failure becomes an InputError saying `message` and why. */
function guard<T>(fn: () => T, message: string): T {
  try {
    return fn();
  } catch (err) {
    const why = err instanceof Error && err.message ? `: ${err.message}` : "";
    throw new InputError(`${message}${why}`);
  }
}

/** The registry file: a signed snapshot (XML, checked against `certPath`) or the plain JSON form. */
async function loadRegistry(path: string, certPath: string | undefined, at: Date | undefined): Promise<Registry> {
  const bytes = await readInput(path, "registry");
  const first = /^(?:\uFEFF)?\s*(.)/su.exec(bytes.toString("utf8", 0, Math.min(bytes.length, 4096)))?.[1];
  if (first === "{") {
    if (certPath) throw new InputError(`${path} is a plain JSON registry, which is not signed: --registry-cert does not apply to it`);
    return guard(() => registryFromJson(JSON.parse(bytes.toString("utf8"))), `${path} is not a usable registry`);
  }
  if (first !== "<") throw new InputError(`${path} is neither a registry snapshot (XML) nor a JSON registry`);
  if (!certPath) {
    throw new InputError(
      `${path} is a signed registry snapshot: give the publishing node's certificate with --registry-cert NODE.pem to check its signature (a snapshot is never used unchecked)`,
    );
  }
  const pem = await readInput(certPath, "registry publisher certificate");
  const certs = guard(() => parseCertificates(pem), `${certPath} holds no readable certificate`);
  if (certs.length !== 1) throw new InputError(`${certPath} must hold exactly one certificate (the publishing node's), it holds ${certs.length}`);
  return guard(() => registryFromSnapshot(bytes, { publisherCert: certs[0], at }), `the registry snapshot ${path} is refused`);
}

function describe(r: VerificationReport): string {
  const lines = [
    r.valid ? "VALID — chữ ký hợp lệ (TOTAL_PASSED)" : `NOT VALID — chữ ký không hợp lệ (${r.indication}/${r.subIndication})`,
  ];
  if (r.packetKind) lines.push(`packet:        ${r.packetKind}${r.documentId ? ` ${r.documentId}` : ""}`);
  if (r.signer) {
    lines.push(`signer:        ${r.signer.subject}${r.signer.organId ? ` (for ${r.signer.organId})` : ""}`);
    lines.push(`issuer:        ${r.signer.issuer}`);
    lines.push(`fingerprint:   ${r.signer.fingerprint}`);
    lines.push(`valid:         ${r.signer.notBefore} → ${r.signer.notAfter}`);
  }
  if (r.signingTime) lines.push(`signing time:  ${r.signingTime}`);
  lines.push(`checked at:    ${r.validationTime}`);
  for (const ref of r.references) {
    lines.push(`  ${ref.digestOk === null ? "·" : ref.digestOk ? "✓" : "✗"} ${ref.uri}  ${ref.covers}`);
  }
  for (const e of r.errors) lines.push(`error:   ${e}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n") + "\n";
}

function usage(): string {
  return `usage: edoc <command> [options]   (edoc <command> --help for details)\n\n${Object.values(COMMANDS)
    .map((c) => "  " + c.usage.split("\n")[0])
    .join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`edoc: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.usage + "\n");
    return 0;
  }
  try {
    const { values, positionals } = guard(
      () => parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true }),
      "wrong arguments",
    );
    if (positionals.length !== (command.positionals ?? 0)) {
      throw new InputError(`expected ${command.positionals ?? 0} file argument(s), got ${positionals.length}`);
    }
    return await command.run(values, positionals);
  } catch (err) {
    if (err instanceof InputError || err instanceof XmlError || (err instanceof Error && err.name === "ValidationError")) {
      process.stderr.write(`edoc ${name}: ${err.message}\nRun "edoc ${name} --help" for usage.\n`);
      return 2;
    }
    process.stderr.write(`edoc ${name}: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
