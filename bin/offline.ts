// The commands that need no node: verifying a packet or an evidence bundle, and packing (building
// and signing) an edoc. Loaded only when one of them runs; each loads only the modules it needs
// (verifying a packet neither PKCS#12, ZIP nor the evidence code), so that `edoc verify` starts fast.
import type { X509Certificate } from "node:crypto";
import { constants } from "node:fs";
import { access, open, rm, stat } from "node:fs/promises";
import type { Registry, ReportWithPdfs } from "../signing/index.ts";
import { InputError, readInput } from "./input.ts";

const signing = () => import("../signing/index.ts");

export interface VerifyOptions {
  trust?: string[];
  crl?: string[];
  registry?: string;
  registryCert?: string;
  at?: string;
  json?: boolean;
  /** Trust anchors of time-stamping authorities (the packet's B-T stamp, PDF signature and document time-stamps). */
  tsaTrust?: string[];
}

export async function verifyCommand(file: string, v: VerifyOptions): Promise<number> {
  const { parseCrl } = await import("../signing/pki/crl.ts");
  const at = v.at === undefined ? undefined : parseTime(v.at);
  const anchors = await readAnchors(v.trust, "trust anchor");
  const tsaAnchors = await readAnchors(v.tsaTrust, "TSA trust anchor");
  const crls = await Promise.all(
    (v.crl ?? []).map(async (f) => {
      const der = await readInput(f, "revocation list");
      return guard(() => parseCrl(der), `${f} is not a readable CRL`);
    }),
  );
  await mustExist(file, "packet");
  const head = await fileHead(file);
  const pdf = await import("../signing/pdf/index.ts"); // small: pdf-lib loads only when a PDF is read
  if (pdf.isPdf(head)) {
    const bytes = await readInput(file, "PDF");
    return (await import("./verify-pdf.ts")).verifyPdfCommand({ bytes, anchors, tsaAnchors, crls, at, json: v.json === true });
  }
  const isBundle = head.subarray(0, 4).equals(Buffer.from("PK\x03\x04", "latin1"));
  if (v.registryCert && !v.registry && !isBundle) {
    throw new InputError("--registry-cert is only used with --registry SNAPSHOT, or with an evidence bundle (to pin the node that signed it)");
  }
  const publisherCert = v.registryCert ? await loadPublisherCert(v.registryCert) : null;
  const registry = v.registry ? await loadRegistry(v.registry, publisherCert, at, isBundle) : null;
  if (isBundle) {
    const { BundleError, describeBundle, verifyEvidenceBundle } = await signing();
    const bundle = await verifyEvidenceBundle(file, { anchors, tsaAnchors, crls, registry, at, publisherCert }).catch((err: unknown) => {
      throw err instanceof BundleError ? new InputError(err.message) : err;
    });
    process.stdout.write(v.json ? JSON.stringify(bundle, null, 2) + "\n" : describeBundle(bundle, describe));
    return bundle.valid ? 0 : 1;
  }
  const { verifyPacket } = await import("../signing/verify.ts");
  const { report, content } = await verifyPacket({ path: file }, { anchors, tsaAnchors, crls, registry, at });
  await pdf.addPdfSignatures(report, { path: file }, content, { anchors, tsaAnchors, crls, at });
  process.stdout.write(v.json ? JSON.stringify(report, null, 2) + "\n" : describe(report));
  return report.valid ? 0 : 1;
}

export interface PackOptions {
  header?: string;
  attach?: string[];
  p12?: string;
  password?: string;
  out?: string;
  tsa?: string;
  tsaTrust?: string[];
}

export async function packCommand(v: PackOptions): Promise<number> {
  const [{ attachmentInfoFor, edocFromInput, validateEdoc }, { loadIdentityP12, packEdoc }] = await Promise.all([import("../envelopes/index.ts"), signing()]);
  for (const required of ["header", "p12", "out"] as const) {
    if (!v[required]) throw new InputError(`--${required} is required`);
  }
  const headerText = (await readInput(v.header!, "header")).toString("utf8");
  const json = guard(() => JSON.parse(headerText), `${v.header} is not valid JSON`);
  const files = v.attach ?? [];
  await Promise.all(files.map((f) => mustExist(f, "attachment")));
  const edoc = edocFromInput(json, files.map((f) => attachmentInfoFor(f)));
  const problems = validateEdoc(edoc, { own: true });
  if (problems.length) throw new InputError(`the header is not valid:\n  - ${problems.join("\n  - ")}`);
  const p12 = await readInput(v.p12!, "PKCS#12 identity");
  const { loadConfig } = await import("../app/index.ts");
  const identity = guard(
    () => loadIdentityP12(p12, v.password ?? loadConfig().p12Password),
    "the PKCS#12 identity cannot be opened",
  );
  if (v.tsa !== undefined && !/^https?:\/\/\S+$/.test(v.tsa)) throw new InputError(`--tsa needs an http(s) URL, not "${v.tsa}"`);
  if (v.tsaTrust && !v.tsa) throw new InputError("--tsa-trust is only used with --tsa URL");
  const tsaAnchors = await readAnchors(v.tsaTrust, "TSA trust anchor");
  await packEdoc(edoc, files.map((path) => ({ path })), identity, v.out!);
  if (v.tsa) {
    const { TimestampUnavailable, stampPacketFile } = await import("../app/index.ts");
    await stampPacketFile(v.tsa, v.out!, tsaAnchors.length ? { anchors: tsaAnchors, crls: [] } : null, 30_000).catch(async (err: unknown) => {
      await rm(v.out!, { force: true });
      throw err instanceof TimestampUnavailable ? new InputError(`${err.message}; no packet written`) : err;
    });
  }
  const { size } = await stat(v.out!);
  const level = v.tsa ? ", time-stamped (B-T)" : "";
  process.stdout.write(`signed packet written to ${v.out} (${size} bytes${level}), DocumentId ${edoc.header.DocumentId}\n`);
  return 0;
}

async function readAnchors(files: string[] | undefined, what: string): Promise<X509Certificate[]> {
  const { parseCertificates } = await import("../signing/pki/certificates.ts");
  const pems = await Promise.all((files ?? []).map((f) => readInput(f, what)));
  return pems.flatMap((pem, i) => guard(() => parseCertificates(pem), `${files![i]} holds no readable certificate`));
}

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

/** The first KiB: an evidence bundle is a ZIP ("PK\x03\x04"), a PDF has "%PDF-", a packet starts with XML. */
async function fileHead(path: string): Promise<Buffer> {
  const fh = await open(path, "r").catch(() => {
    throw new InputError(`cannot read the packet file ${path}`);
  });
  try {
    const head = Buffer.alloc(1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
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

/** The publishing node's certificate, obtained out of band: exactly one certificate. */
async function loadPublisherCert(path: string): Promise<X509Certificate> {
  const { parseCertificates } = await import("../signing/pki/certificates.ts");
  const pem = await readInput(path, "registry publisher certificate");
  const certs = guard(() => parseCertificates(pem), `${path} holds no readable certificate`);
  if (certs.length !== 1) throw new InputError(`${path} must hold exactly one certificate (the publishing node's), it holds ${certs.length}`);
  return certs[0];
}

/**
 * The registry file: a signed snapshot (XML, checked against the publisher certificate) or the
 * plain JSON form. With a bundle the publisher certificate also pins the bundle's signer, so it may
 * come with a JSON registry too.
 */
async function loadRegistry(path: string, publisherCert: X509Certificate | null, at: Date | undefined, isBundle: boolean): Promise<Registry> {
  const bytes = await readInput(path, "registry");
  const first = /^(?:\uFEFF)?\s*(.)/su.exec(bytes.toString("utf8", 0, Math.min(bytes.length, 4096)))?.[1];
  if (first === "{") {
    if (publisherCert && !isBundle) throw new InputError(`${path} is a plain JSON registry, which is not signed: --registry-cert does not apply to it`);
    const { registryFromJson } = await import("../signing/registry.ts");
    return guard(() => registryFromJson(JSON.parse(bytes.toString("utf8"))), `${path} is not a usable registry`);
  }
  if (first !== "<") throw new InputError(`${path} is neither a registry snapshot (XML) nor a JSON registry`);
  if (!publisherCert) {
    throw new InputError(
      `${path} is a signed registry snapshot: give the publishing node's certificate with --registry-cert NODE.pem to check its signature (a snapshot is never used unchecked)`,
    );
  }
  const { registryFromSnapshot } = await signing();
  return guard(() => registryFromSnapshot(bytes, { publisherCert, at }), `the registry snapshot ${path} is refused`);
}

function describe(r: ReportWithPdfs): string {
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
  if (r.timestamp) {
    const t = r.timestamp;
    lines.push(`time-stamp:    ${t.valid ? "valid" : `not valid (${t.reason})`}${t.time ? `, ${t.time}` : ""}${t.tsa ? `, by ${t.tsa}` : ""}`);
  }
  lines.push(`level:         ${r.level}`);
  lines.push(`checked at:    ${r.validationTime}`);
  for (const ref of r.references) {
    lines.push(`  ${ref.digestOk === null ? "·" : ref.digestOk ? "✓" : "✗"} ${ref.uri}  ${ref.covers}`);
  }
  for (const e of r.errors) lines.push(`error:   ${e}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  for (const a of r.attachments ?? []) {
    const sigs = a.pdfSignatures.signatures;
    const verdict = sigs.length === 0 ? "no signature — không có chữ ký" : a.pdfSignatures.valid ? "valid — hợp lệ" : "NOT valid — không hợp lệ";
    lines.push(`attachment ${a.n} "${a.name}": PDF signatures ${verdict} (the document's own signatures, apart from the packet's)`);
    for (const sig of sigs) lines.push(`  ${sig.valid ? "✓" : "✗"} ${sig.field}: ${sig.signer?.subject ?? "?"} ${sig.indication}${sig.subIndication ? "/" + sig.subIndication : ""}${sig.modifiedAfterSigning ? ", changed after signing" : ""}`);
  }
  return lines.join("\n") + "\n";
}

