// Signing exactly per the profile: references by Id to the header, business block, manifest, each
// attachment and the XAdES signed properties; exc-c14n; RSA-SHA256; SHA-256.
//
// Attachments are streamed: each source file is read once, base64-encoded, digested and written.
// The signature's length is known before its values (fixed-size digests and key), so the packet is
// written from the first attachment on and its head, holding the signature, is written last at
// offset 0. The file appears under its name only when complete (write to a temporary, then rename).
import { createHash, sign as rsaSign } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
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
import type { Identity } from "./pki/identity.ts";
import { ALG, IDS, canonicalize, digest, digestWithContent } from "./xmldsig.ts";

interface Ref {
  uri: string;
  digest: string;
  type?: string;
}

/** The Ids a signature gives itself and its XAdES SignedProperties. */
export interface SignatureIds {
  signature: string;
  signedProps: string;
}

const PACKET_SIGNATURE_IDS: SignatureIds = { signature: IDS.signature, signedProps: IDS.signedProps };

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
  const out = batchedWriter(fh, headLength);
  try {
    for (let i = 0; i < files.length; i++) {
      const n = i + 1;
      const attachment = byId(doc, IDS.attachment(n));
      const tee = async function* () {
        for await (const text of base64Chunks(files[i])) {
          await out.text(text);
          yield text;
        }
      };
      const value = await digestWithContent(ALG.SHA256, canonicalize(attachment), attachmentSlot(n), tee());
      refs.push({ uri: `#${IDS.attachment(n)}`, digest: value });
      await out.bytes(Buffer.from(parts[n + 1]));
    }
    const head = Buffer.from(parts[0] + signFinal(identity, props, refs) + parts[1]);
    if (head.length !== headLength) throw new Error("internal error: signature length changed while signing");
    const size = await out.end(head);
    await fh.sync();
    await fh.close();
    await rename(tmp, outPath);
    return { size };
  } catch (err) {
    await out.settled();
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes a packet's body sequentially from `start`, then its head at offset 0. The body goes
 * through two alternating 4 MiB buffers, one on its way to disk while the next fills, so base64
 * text is copied straight into them (no per-piece Buffer) and a small packet is one write call.
 */
function batchedWriter(fh: FileHandle, start: number) {
  // Buffers start at 256 KiB and double up to 4 MiB as a large packet streams through: a small
  // packet allocates 256 KiB, not 8 MiB (allocation churn cost two thirds of small-packet speed).
  const MAX = 4 << 20;
  let size = 1 << 18;
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(0)];
  let which = 0;
  let fill = 0;
  let offset = start;
  let writing: Promise<unknown> = Promise.resolve();
  const send = async (buf: Buffer, at: number) => {
    await writing;
    writing = fh.write(buf, 0, buf.length, at);
    writing.catch(() => {}); // awaited by the next send; this only keeps it from being "unhandled"
  };
  const flush = async () => {
    if (!fill) return;
    await send(buffers[which].subarray(0, fill), offset);
    offset += fill;
    which ^= 1;
    fill = 0;
    // the other buffer is free again (send awaited its write); grow it on the way to MAX
    if (buffers[which].length < size) buffers[which] = Buffer.allocUnsafe(size);
    else if (size < MAX) buffers[which] = Buffer.allocUnsafe((size *= 2));
  };
  return {
    /** Latin-1 (base64) text. */
    async text(text: string) {
      for (let at = 0; at < text.length; ) {
        const written = buffers[which].write(at ? text.slice(at) : text, fill, "latin1");
        fill += written;
        at += written;
        if (fill === buffers[which].length) await flush();
      }
    },
    async bytes(buf: Buffer) {
      await flush();
      await send(buf, offset);
      offset += buf.length;
    },
    /** Writes the head at 0 (with the body in one call if none was written yet); returns the size. */
    async end(head: Buffer): Promise<number> {
      if (offset === start && fill) {
        await fh.writev([head, buffers[which].subarray(0, fill)], 0);
        return start + fill;
      }
      await flush();
      await send(head, 0);
      await writing;
      return offset;
    },
    async settled() {
      await writing.catch(() => {});
    },
  };
}

/** Builds and signs a status packet (small: in memory). */
export function signStatus(status: StatusPacket, identity: Identity, opts: SignOptions = {}): Buffer {
  return signDocument(renderStatusTemplate(status), [IDS.header], identity, PACKET_SIGNATURE_IDS, opts);
}

/**
 * Signs a small document in memory, per the profile: `template` holds SIGNATURE_SLOT once, where
 * the ds:Signature goes; the signature references, by Id, the elements `refIds` name (in that
 * order) and then its own XAdES signed properties. Used for status packets and registry snapshots.
 */
export function signDocument(template: string, refIds: string[], identity: Identity, ids: SignatureIds, opts: SignOptions = {}): Buffer {
  const [before, after] = splitAtSlots(template, [SIGNATURE_SLOT]);
  const doc = parseStrict(template);
  const refs = refIds.map((id) => referenceTo(doc, id));
  const props = signedProperties(identity, opts.signingTime ?? new Date(), ids);
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

/** The reference to the element with this Id: exc-c14n, SHA-256. */
function referenceTo(doc: Document, id: string): Ref {
  return { uri: `#${id}`, digest: digest(ALG.SHA256, canonicalize(byId(doc, id))) };
}

/** References to the header, and to the business block and manifest when the packet has them. */
function fixedRefs(doc: Document): Ref[] {
  return [IDS.header, IDS.business, IDS.manifest]
    .filter((id) => allElements(doc.documentElement).some((e) => e.getAttribute("Id") === id))
    .map((id) => referenceTo(doc, id));
}

interface SignedProps {
  /** The SignedProperties element, its namespaces declared by the enclosing signature. */
  xml: string;
  digest: string;
  ids: SignatureIds;
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
function signedProperties(identity: Identity, at: Date, ids: SignatureIds = PACKET_SIGNATURE_IDS): SignedProps {
  const certDigest = createHash("sha256").update(identity.certificate.raw).digest("base64");
  const xml = (decl: string) =>
    `<xades:SignedProperties${decl} Id="${plain(ids.signedProps)}"><xades:SignedSignatureProperties>` +
    `<xades:SigningTime>${plain(vietnamTime(at))}</xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest>` +
    `<ds:DigestMethod Algorithm="${ALG.SHA256}"/><ds:DigestValue>${plain(certDigest)}</ds:DigestValue>` +
    `</xades:CertDigest></xades:Cert></xades:SigningCertificateV2></xades:SignedSignatureProperties></xades:SignedProperties>`;
  const standalone = parseStrict(xml(` ${XMLNS_XADES} ${XMLNS_DS}`)).documentElement;
  return { xml: xml(""), digest: digest(ALG.SHA256, canonicalize(standalone)), ids };
}

/** ISO 8601 with the +07:00 offset, to the second. */
function vietnamTime(at: Date): string {
  const local = new Date(Math.floor(at.getTime() / 1000) * 1000 + 7 * 3600 * 1000);
  return local.toISOString().replace(/\.\d{3}Z$/, "+07:00");
}

/** SignedInfo over the references and the signed properties; `decl` declares ds when standalone. */
function signedInfo(refs: Ref[], props: SignedProps, decl = ""): string {
  const all = [...refs, { uri: `#${props.ids.signedProps}`, digest: props.digest, type: ALG.SIGNED_PROPERTIES_TYPE }];
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
    `<ds:Signature ${XMLNS_DS} Id="${plain(props.ids.signature)}">${signedInfo(refs, props)}` +
    `<ds:SignatureValue>${plain(value)}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>${certs}</ds:X509Data></ds:KeyInfo>` +
    `<ds:Object><xades:QualifyingProperties ${XMLNS_XADES} Target="#${plain(props.ids.signature)}">${props.xml}</xades:QualifyingProperties></ds:Object>` +
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
 * base64 of a source as text pieces cut on 3-byte boundaries, so that they concatenate to one
 * encoding, and small (48 KiB in, 64 KiB out) so that each dies young and memory stays flat.
 */
async function* base64Chunks(source: PacketSource): AsyncGenerator<string> {
  const PIECE = 3 << 14;
  let carry: Buffer | null = null;
  for await (const chunk of readSource(source)) {
    let from = 0;
    if (carry) {
      // complete the 1–2 bytes carried over with the first bytes of this chunk
      const need = Math.min(3 - carry.length, chunk.length);
      carry = Buffer.concat([carry, chunk.subarray(0, need)]);
      from = need;
      if (carry.length < 3) continue;
      yield carry.toString("base64");
      carry = null;
    }
    const whole = from + Math.floor((chunk.length - from) / 3) * 3;
    for (let i = from; i < whole; i += PIECE) yield chunk.toString("base64", i, Math.min(whole, i + PIECE));
    if (whole < chunk.length) carry = Buffer.from(chunk.subarray(whole));
  }
  if (carry) yield carry.toString("base64");
}
