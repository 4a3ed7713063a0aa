// Signing exactly per the profile: references by Id to the header, business block, manifest, each
// attachment and the XAdES signed properties; exc-c14n; RSA-SHA256; SHA-256.
//
// Nothing is parsed: the renderer writes the canonical form of each signed element with the packet
// (envelopes/build.ts), and the SignedProperties and SignedInfo are written here in canonical form.
// A small packet is signed into one buffer (signEdoc). A large one is streamed (packEdoc): each
// source file is read once, base64-encoded, digested and written; the signature's length is known
// before its values (fixed-size digests and key), so the packet is written from the first
// attachment on and its head, holding the signature, is written last at offset 0. The file appears
// under its name only when complete (write to a temporary, then rename).
import { createHash, sign as rsaSign, verify as rsaVerify } from "node:crypto";
import { open, readFile, rename, rm, type FileHandle } from "node:fs/promises";
import {
  attachmentSlot,
  renderEdoc,
  renderStatus,
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

/** What signing an edoc establishes, for its report without verifying it again (ownPacketReport). */
export interface SignedEdoc {
  edoc: Edoc;
  identity: Identity;
  /** The signed xades:SigningTime. */
  signingTime: string;
}

/**
 * Packets up to this size are signed and verified in memory (signEdoc; verifyPacket reads a file
 * this small at once); larger ones stream through fixed buffers (packEdoc), at flat memory.
 */
export const SMALL_PACKET_BYTES = 2 << 20;

/** Whether attachments of these sizes make a packet signEdoc may hold in memory. */
export function fitsInMemory(attachmentBytes: number[]): boolean {
  // base64 is 4/3 of the bytes; the rest of the packet is a few kilobytes
  return attachmentBytes.reduce((a, b) => a + b, 0) * (4 / 3) + (64 << 10) <= SMALL_PACKET_BYTES;
}

/** The packet up to its attachments' content: text pieces between the slots, the fixed references, the signed properties. */
function prepare(edoc: Edoc, files: PacketSource[], identity: Identity, opts: SignOptions) {
  if (files.length !== edoc.attachments.length) {
    throw new Error(`${edoc.attachments.length} attachments described but ${files.length} files given`);
  }
  const { text, canonical } = renderEdoc(edoc);
  const parts = splitAtSlots(text, [SIGNATURE_SLOT, ...files.map((_, i) => attachmentSlot(i + 1))]);
  const refs: Ref[] = [IDS.header, IDS.business, IDS.manifest].map((id) => ({ uri: `#${id}`, digest: digest(ALG.SHA256, canonical.get(id)!) }));
  const props = signedProperties(identity, opts.signingTime ?? new Date());
  /** Attachment n's digest, its base64 text coming from `content`. */
  const attachmentDigest = (n: number, content: AsyncIterable<string | Buffer> | Iterable<string | Buffer>) =>
    digestWithContent(ALG.SHA256, canonical.get(IDS.attachment(n))!, attachmentSlot(n), content as AsyncIterable<string | Buffer>);
  const signed = (): SignedEdoc => ({ edoc, identity, signingTime: props.signingTime });
  return { parts, refs, props, attachmentDigest, signed };
}

/** Builds and signs a small edoc (see fitsInMemory) into one buffer; `files[i]` holds the bytes of `edoc.attachments[i]`. */
export async function signEdoc(
  edoc: Edoc,
  files: PacketSource[],
  identity: Identity,
  opts: SignOptions = {},
): Promise<{ bytes: Buffer; signed: SignedEdoc }> {
  const { parts, refs, props, attachmentDigest, signed } = prepare(edoc, files, identity, opts);
  const contents: Buffer[] = [];
  for (const f of files) contents.push("bytes" in f ? f.bytes : await readFile(f.path));
  // One buffer: the head (whose length is known before the signature's values, see packEdoc), then
  // each attachment's base64 and the text after it. Each attachment is encoded into that buffer
  // and digested from there: no string of its base64 to copy, hash and collect.
  const pending = files.map((_, i) => ({ uri: `#${IDS.attachment(i + 1)}`, digest: "" }));
  // the signature is ASCII: its length in characters is its length in bytes
  const signatureLength = renderSignature(identity, props, [...refs, ...pending], null).length;
  const [before, after] = [Buffer.byteLength(parts[0]), Buffer.byteLength(parts[1])];
  const headLength = before + signatureLength + after;
  const tails = parts.slice(2);
  const bytes = Buffer.allocUnsafe(headLength + contents.reduce((n, c, i) => n + 4 * Math.ceil(c.length / 3) + Buffer.byteLength(tails[i]), 0));
  let at = headLength;
  for (let i = 0; i < contents.length; i++) {
    const start = at;
    at = base64Into(contents[i], bytes, at);
    refs.push({ uri: `#${IDS.attachment(i + 1)}`, digest: await attachmentDigest(i + 1, [bytes.subarray(start, at)]) });
    at += bytes.write(tails[i], at, "utf8");
  }
  const signature = signFinal(identity, props, refs);
  if (signature.length !== signatureLength) throw new Error("internal error: signature length changed while signing");
  bytes.write(parts[0], 0, "utf8");
  bytes.write(signature, before, "latin1");
  bytes.write(parts[1], before + signatureLength, "utf8");
  return { bytes, signed: signed() };
}

/** Builds, signs and writes an edoc, streaming; `files[i]` holds the bytes of `edoc.attachments[i]`. */
export async function packEdoc(
  edoc: Edoc,
  files: PacketSource[],
  identity: Identity,
  outPath: string,
  opts: SignOptions = {},
): Promise<{ size: number; signed: SignedEdoc }> {
  const { parts, refs, props, attachmentDigest, signed } = prepare(edoc, files, identity, opts);
  const pending = files.map((_, i) => ({ uri: `#${IDS.attachment(i + 1)}`, digest: "" }));
  const placeholder = renderSignature(identity, props, [...refs, ...pending], null);
  const headLength = Buffer.byteLength(parts[0] + placeholder + parts[1]);

  const tmp = `${outPath}.partial-${process.pid}-${Date.now()}`;
  const fh = await open(tmp, "w");
  const out = batchedWriter(fh, headLength);
  try {
    for (let i = 0; i < files.length; i++) {
      const tee = async function* () {
        for await (const text of base64Chunks(files[i])) {
          await out.text(text);
          yield text;
        }
      };
      refs.push({ uri: `#${IDS.attachment(i + 1)}`, digest: await attachmentDigest(i + 1, tee()) });
      await out.bytes(Buffer.from(parts[i + 2]));
    }
    const head = Buffer.from(parts[0] + signFinal(identity, props, refs) + parts[1]);
    if (head.length !== headLength) throw new Error("internal error: signature length changed while signing");
    const size = await out.end(head);
    await fh.sync();
    await fh.close();
    await rename(tmp, outPath);
    return { size, signed: signed() };
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
  const { text, canonical } = renderStatus(status);
  const [before, after] = splitAtSlots(text, [SIGNATURE_SLOT]);
  const props = signedProperties(identity, opts.signingTime ?? new Date());
  return Buffer.from(before + signFinal(identity, props, [{ uri: `#${IDS.header}`, digest: digest(ALG.SHA256, canonical.get(IDS.header)!) }]) + after);
}

/**
 * Signs a small document in memory, per the profile: `template` holds SIGNATURE_SLOT once, where
 * the ds:Signature goes; the signature references, by Id, the elements `refIds` name (in that
 * order) and then its own XAdES signed properties. Used for registry snapshots and evidence manifests.
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
    if (at < 0 || rest.indexOf(slot, at + 1) >= 0 || parts.some((p) => p.includes(slot))) {
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

interface SignedProps {
  /** The SignedProperties element, its namespaces declared by the enclosing signature. */
  xml: string;
  digest: string;
  ids: SignatureIds;
  signingTime: string;
}

// The ds:Signature is written from fixed text, as xml-crypto itself does: every value put in it is
// base64, a fixed URI or a timestamp, checked below to need no escaping. So each signed piece is
// also written directly in its exclusive canonical form (`canonical`): its namespaces declared
// where first used, attributes in canonical order, empty elements as a start and an end tag
// (test/signing.test.ts checks these against the canonicaliser).
const XMLNS_DS = ` xmlns:ds="${DSIG_NS}"`;
const XMLNS_XADES = ` xmlns:xades="${XADES_NS}"`;

function plain(value: string): string {
  if (!/^[A-Za-z0-9+/=#:._-]*$/.test(value)) throw new Error(`internal error: "${value}" cannot go into the signature unescaped`);
  return value;
}

/** An element without content: self-closed in the document, two tags in canonical form. */
function empty(name: string, attributes: string, canonical: boolean): string {
  return canonical ? `<${name}${attributes}></${name}>` : `<${name}${attributes}/>`;
}

/** XAdES SignedProperties: signing time (Vietnam time) and the signer certificate's digest. */
function signedProperties(identity: Identity, at: Date, ids: SignatureIds = PACKET_SIGNATURE_IDS): SignedProps {
  const certDigest = createHash("sha256").update(identity.certificate.raw).digest("base64");
  const signingTime = vietnamTime(at);
  const xml = (canonical: boolean) => {
    const ds = canonical ? XMLNS_DS : "";
    return (
      `<xades:SignedProperties${canonical ? XMLNS_XADES : ""} Id="${plain(ids.signedProps)}"><xades:SignedSignatureProperties>` +
      `<xades:SigningTime>${plain(signingTime)}</xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest>` +
      `${empty("ds:DigestMethod", `${ds} Algorithm="${ALG.SHA256}"`, canonical)}<ds:DigestValue${ds}>${plain(certDigest)}</ds:DigestValue>` +
      `</xades:CertDigest></xades:Cert></xades:SigningCertificateV2></xades:SignedSignatureProperties></xades:SignedProperties>`
    );
  };
  return { xml: xml(false), digest: digest(ALG.SHA256, xml(true)), ids, signingTime };
}

/** ISO 8601 with the +07:00 offset, to the second. */
function vietnamTime(at: Date): string {
  const local = new Date(Math.floor(at.getTime() / 1000) * 1000 + 7 * 3600 * 1000);
  return local.toISOString().replace(/\.\d{3}Z$/, "+07:00");
}

/** SignedInfo over the references and the signed properties, as in the document or in canonical form. */
function signedInfo(refs: Ref[], props: SignedProps, canonical = false): string {
  const all = [...refs, { uri: `#${props.ids.signedProps}`, digest: props.digest, type: ALG.SIGNED_PROPERTIES_TYPE }];
  const references = all.map((ref) => {
    const uri = ` URI="${plain(ref.uri)}"`;
    const type = ref.type ? ` Type="${plain(ref.type)}"` : "";
    return (
      `<ds:Reference${canonical ? type + uri : uri + type}>` +
      `<ds:Transforms>${empty("ds:Transform", ` Algorithm="${ALG.EXC_C14N}"`, canonical)}</ds:Transforms>` +
      empty("ds:DigestMethod", ` Algorithm="${ALG.SHA256}"`, canonical) +
      // a digest not known yet is a placeholder of the same length (SHA-256 in base64: 44 characters)
      `<ds:DigestValue>${plain(ref.digest || "A".repeat(43) + "=")}</ds:DigestValue></ds:Reference>`
    );
  });
  return (
    `<ds:SignedInfo${canonical ? XMLNS_DS : ""}>${empty("ds:CanonicalizationMethod", ` Algorithm="${ALG.EXC_C14N}"`, canonical)}` +
    `${empty("ds:SignatureMethod", ` Algorithm="${ALG.RSA_SHA256}"`, canonical)}${references.join("")}</ds:SignedInfo>`
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
    `<ds:Signature${XMLNS_DS} Id="${plain(props.ids.signature)}">${signedInfo(refs, props)}` +
    `<ds:SignatureValue>${plain(value)}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>${certs}</ds:X509Data></ds:KeyInfo>` +
    `<ds:Object><xades:QualifyingProperties${XMLNS_XADES} Target="#${plain(props.ids.signature)}">${props.xml}</xades:QualifyingProperties></ds:Object>` +
    `</ds:Signature>`
  );
}

/**
 * Computes the SignatureValue over the canonical SignedInfo and renders the final signature. The
 * value is checked with the certificate's public key: a key that does not belong to the
 * certificate, or a faulty computation, never leaves here (this is what a full verification of our
 * own fresh packet would catch that the writer itself cannot).
 */
function signFinal(identity: Identity, props: SignedProps, refs: Ref[]): string {
  const canonical = Buffer.from(signedInfo(refs, props, true));
  const value = rsaSign("sha256", canonical, identity.privateKey);
  if (!rsaVerify("sha256", canonical, identity.certificate.publicKey, value)) {
    throw new Error("the signing key does not belong to the signer certificate: the signature does not verify with the certificate's key");
  }
  return renderSignature(identity, props, refs, value.toString("base64"));
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** The two base64 characters of each 12-bit value, as the bytes of one 16-bit unit (in memory order). */
const PAIRS = (() => {
  const bytes = new Uint8Array(8192);
  for (let v = 0; v < 4096; v++) [bytes[2 * v], bytes[2 * v + 1]] = [BASE64.charCodeAt(v >> 6), BASE64.charCodeAt(v & 63)];
  return new Uint16Array(bytes.buffer);
})();
const PAIRS_OUT = new Uint16Array(1 << 15);
const PAIRS_OUT_BYTES = new Uint8Array(PAIRS_OUT.buffer);

/**
 * Writes the base64 of `src` into `dst` at `at`, returns where it ends. Node 20's encoder only
 * makes strings: one the size of the attachment, copied into the packet and then collected, cost
 * more than this loop (one 4-byte load and two table look-ups per 3 bytes, 64 KiB at a time into
 * an aligned buffer). The last bytes, whose 4-byte load would pass the end, go through Node's.
 */
function base64Into(src: Buffer, dst: Buffer, at: number): number {
  const whole = src.length - (src.length % 3);
  const loadable = whole < src.length ? whole : whole - 3;
  const view = new DataView(src.buffer, src.byteOffset, src.length);
  let i = 0;
  while (i < loadable) {
    const end = Math.min(loadable, i + 3 * (PAIRS_OUT.length >> 1));
    let o = 0;
    for (; i < end; i += 3) {
      const v = view.getUint32(i) >>> 8;
      PAIRS_OUT[o++] = PAIRS[v >>> 12];
      PAIRS_OUT[o++] = PAIRS[v & 4095];
    }
    dst.set(PAIRS_OUT_BYTES.subarray(0, 2 * o), at);
    at += 2 * o;
  }
  return i < src.length ? at + dst.write(src.toString("base64", i), at, "latin1") : at;
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
