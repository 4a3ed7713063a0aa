// Signing exactly per the profile: references by Id to the header, business block, manifest, each
// attachment and the XAdES signed properties; exc-c14n; RSA-SHA256; SHA-256.
//
// Attachments are streamed: each source file is read once, base64-encoded, digested and written.
// The signature's length is known before its values (fixed-size digests and key), so the packet is
// written from the first attachment on and its head, holding the signature, is written last at
// offset 0. The file appears under its name only when complete (write to a temporary, then rename).
import { createHash, sign as rsaSign } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import {
  attachmentSlot,
  renderEdocTemplate,
  renderStatusTemplate,
  SIGNATURE_SLOT,
  type Edoc,
  type StatusPacket,
  parseStrict,
  DSIG_NS,
  XADES_NS,
  readSource,
  type PacketSource,
  allElements,
} from "../envelopes/index.ts";
import type { Identity } from "./pki.ts";
import { ALG, IDS, canonicalize, digest, digestWithContent } from "./xmldsig.ts";

interface Ref {
  uri: string;
  digest: string;
  type?: string;
}

export interface SignOptions {
  /** Defaults to now. */
  signingTime?: Date;
}

/** Builds, signs and writes an edoc; `files[i]` holds the bytes of `edoc.attachments[i]`. */
export async function packEdoc(
  edoc: Edoc,
  files: PacketSource[],
  identity: Identity,
  outPath: string,
  opts: SignOptions = {},
): Promise<{ size: number }> {
  if (files.length !== edoc.attachments.length) {
    throw new Error(`${edoc.attachments.length} attachments described but ${files.length} files given`);
  }
  const template = renderEdocTemplate(edoc);
  const slots = [SIGNATURE_SLOT, ...files.map((_, i) => attachmentSlot(i + 1))];
  const parts = splitAtSlots(template, slots);
  const doc = parseStrict(template);
  const refs = fixedRefs(doc);
  const props = signedProperties(identity, opts.signingTime ?? new Date());
  const pending = files.map((_, i) => ({ uri: `#${IDS.attachment(i + 1)}`, digest: "" }));
  const placeholder = renderSignature(identity, props, [...refs, ...pending], null);
  const headLength = Buffer.byteLength(parts[0] + placeholder + parts[1]);

  const tmp = `${outPath}.partial-${process.pid}-${Date.now()}`;
  const fh = await open(tmp, "w");
  try {
    let offset = headLength;
    const write = async (buf: Buffer) => {
      await fh.write(buf, 0, buf.length, offset);
      offset += buf.length;
    };
    for (let i = 0; i < files.length; i++) {
      const n = i + 1;
      const attachment = byId(doc, IDS.attachment(n));
      const tee = async function* () {
        for await (const chunk of base64Chunks(files[i])) {
          await write(chunk);
          yield chunk;
        }
      };
      const value = await digestWithContent(ALG.SHA256, canonicalize(attachment), attachmentSlot(n), tee());
      refs.push({ uri: `#${IDS.attachment(n)}`, digest: value });
      await write(Buffer.from(parts[n + 1]));
    }
    const head = Buffer.from(parts[0] + signFinal(identity, props, refs) + parts[1]);
    if (head.length !== headLength) throw new Error("internal error: signature length changed while signing");
    await fh.write(head, 0, head.length, 0);
    await fh.sync();
    await fh.close();
    await rename(tmp, outPath);
    return { size: offset };
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Builds and signs a status packet (small: in memory). */
export function signStatus(status: StatusPacket, identity: Identity, opts: SignOptions = {}): Buffer {
  const template = renderStatusTemplate(status);
  const [before, after] = splitAtSlots(template, [SIGNATURE_SLOT]);
  const refs = fixedRefs(parseStrict(template));
  const props = signedProperties(identity, opts.signingTime ?? new Date());
  return Buffer.from(before + signFinal(identity, props, refs) + after);
}

function splitAtSlots(template: string, slots: string[]): string[] {
  const parts: string[] = [];
  let rest = template;
  for (const slot of slots) {
    const at = rest.indexOf(slot);
    if (at < 0 || template.split(slot).length !== 2) {
      throw new Error(`the document text must not contain the reserved marker "${slot}"`);
    }
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + slot.length);
  }
  parts.push(rest);
  return parts;
}

function byId(doc: Document, id: string): Element {
  const el = allElements(doc.documentElement).find((e) => e.getAttribute("Id") === id);
  if (!el) throw new Error(`internal error: no element with Id ${id}`);
  return el;
}

/** References to the header, and to the business block and manifest when the packet has them. */
function fixedRefs(doc: Document): Ref[] {
  return [IDS.header, IDS.business, IDS.manifest]
    .filter((id) => allElements(doc.documentElement).some((e) => e.getAttribute("Id") === id))
    .map((id) => ({ uri: `#${id}`, digest: digest(ALG.SHA256, canonicalize(byId(doc, id))) }));
}

interface SignedProps {
  /** The SignedProperties element, its namespaces declared by the enclosing signature. */
  xml: string;
  digest: string;
}

// The ds:Signature is written from fixed text, as xml-crypto itself does: every value put in it is
// base64, a fixed URI or a timestamp, checked below to need no escaping. The digests and the
// SignatureValue are computed over the library's canonical form of the parsed pieces.
const XMLNS_DS = `xmlns:ds="${DSIG_NS}"`;
const XMLNS_XADES = `xmlns:xades="${XADES_NS}"`;

function plain(value: string): string {
  if (!/^[A-Za-z0-9+/=#:._-]*$/.test(value)) throw new Error(`internal error: "${value}" cannot go into the signature unescaped`);
  return value;
}

/** XAdES SignedProperties: signing time (Vietnam time) and the signer certificate's digest. */
function signedProperties(identity: Identity, at: Date): SignedProps {
  const certDigest = createHash("sha256").update(identity.certificate.raw).digest("base64");
  const xml = (decl: string) =>
    `<xades:SignedProperties${decl} Id="${IDS.signedProps}"><xades:SignedSignatureProperties>` +
    `<xades:SigningTime>${plain(vietnamTime(at))}</xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest>` +
    `<ds:DigestMethod Algorithm="${ALG.SHA256}"/><ds:DigestValue>${plain(certDigest)}</ds:DigestValue>` +
    `</xades:CertDigest></xades:Cert></xades:SigningCertificateV2></xades:SignedSignatureProperties></xades:SignedProperties>`;
  const standalone = parseStrict(xml(` ${XMLNS_XADES} ${XMLNS_DS}`)).documentElement;
  return { xml: xml(""), digest: digest(ALG.SHA256, canonicalize(standalone)) };
}

/** ISO 8601 with the +07:00 offset, to the second. */
function vietnamTime(at: Date): string {
  const local = new Date(Math.floor(at.getTime() / 1000) * 1000 + 7 * 3600 * 1000);
  return local.toISOString().replace(/\.\d{3}Z$/, "+07:00");
}

/** SignedInfo over the references and the signed properties; `decl` declares ds when standalone. */
function signedInfo(refs: Ref[], props: SignedProps, decl = ""): string {
  const all = [...refs, { uri: `#${IDS.signedProps}`, digest: props.digest, type: ALG.SIGNED_PROPERTIES_TYPE }];
  const references = all.map(
    (ref) =>
      `<ds:Reference URI="${plain(ref.uri)}"${ref.type ? ` Type="${plain(ref.type)}"` : ""}>` +
      `<ds:Transforms><ds:Transform Algorithm="${ALG.EXC_C14N}"/></ds:Transforms>` +
      `<ds:DigestMethod Algorithm="${ALG.SHA256}"/>` +
      // a digest not known yet is a placeholder of the same length (SHA-256 in base64: 44 characters)
      `<ds:DigestValue>${plain(ref.digest || "A".repeat(43) + "=")}</ds:DigestValue></ds:Reference>`,
  );
  return (
    `<ds:SignedInfo${decl}><ds:CanonicalizationMethod Algorithm="${ALG.EXC_C14N}"/>` +
    `<ds:SignatureMethod Algorithm="${ALG.RSA_SHA256}"/>${references.join("")}</ds:SignedInfo>`
  );
}

/** The ds:Signature element. With `signatureValue` null, placeholders of the final lengths. */
function renderSignature(identity: Identity, props: SignedProps, refs: Ref[], signatureValue: string | null): string {
  const bits = identity.privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (identity.privateKey.asymmetricKeyType !== "rsa" || bits < 2048) {
    throw new Error("the signing key must be RSA with at least 2048 bits");
  }
  const value = signatureValue ?? "A".repeat(4 * Math.ceil(bits / 8 / 3));
  const certs = [identity.certificate, ...identity.chain]
    .map((cert) => `<ds:X509Certificate>${cert.raw.toString("base64")}</ds:X509Certificate>`)
    .join("");
  return (
    `<ds:Signature ${XMLNS_DS} Id="${IDS.signature}">${signedInfo(refs, props)}` +
    `<ds:SignatureValue>${plain(value)}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>${certs}</ds:X509Data></ds:KeyInfo>` +
    `<ds:Object><xades:QualifyingProperties ${XMLNS_XADES} Target="#${IDS.signature}">${props.xml}</xades:QualifyingProperties></ds:Object>` +
    `</ds:Signature>`
  );
}

/** Computes the SignatureValue over the canonical SignedInfo and renders the final signature. */
function signFinal(identity: Identity, props: SignedProps, refs: Ref[]): string {
  const standalone = parseStrict(signedInfo(refs, props, ` ${XMLNS_DS}`)).documentElement;
  const value = rsaSign("sha256", Buffer.from(canonicalize(standalone)), identity.privateKey).toString("base64");
  return renderSignature(identity, props, refs, value);
}

/**
 * base64 of a source, in pieces cut on 3-byte boundaries so they concatenate to one encoding, and
 * small (48 KiB in, 64 KiB out) so each piece is garbage young and memory stays flat.
 */
async function* base64Chunks(source: PacketSource): AsyncGenerator<Buffer> {
  const PIECE = 3 << 14;
  let carry = Buffer.alloc(0);
  for await (const chunk of readSource(source)) {
    const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const whole = data.length - (data.length % 3);
    for (let i = 0; i < whole; i += PIECE) {
      yield Buffer.from(data.toString("base64", i, Math.min(whole, i + PIECE)), "latin1");
    }
    carry = Buffer.from(data.subarray(whole));
  }
  if (carry.length) yield Buffer.from(carry.toString("base64"), "latin1");
}
