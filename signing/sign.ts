// Signing exactly per the profile: references by Id to the header, business block, manifest, each
// attachment and the XAdES signed properties; exc-c14n; RSA-SHA256; SHA-256.
//
// Attachments are streamed: each source file is read once, base64-encoded, digested and written.
// The signature's length is known before its values (fixed-size digests and key), so the packet is
// written from the first attachment on and its head, holding the signature, is written last at
// offset 0. The file appears under its name only when complete (write to a temporary, then rename).
import { createHash, sign as rsaSign, type X509Certificate } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { create } from "xmlbuilder2";
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
  xml: string;
  digest: string;
}

/** XAdES SignedProperties: signing time (Vietnam time) and the signer certificate's digest. */
function signedProperties(identity: Identity, at: Date): SignedProps {
  const root = create().ele(XADES_NS, "xades:SignedProperties", { Id: IDS.signedProps });
  const ssp = root.ele(XADES_NS, "xades:SignedSignatureProperties");
  ssp.ele(XADES_NS, "xades:SigningTime").txt(vietnamTime(at));
  const certDigest = ssp.ele(XADES_NS, "xades:SigningCertificateV2").ele(XADES_NS, "xades:Cert").ele(XADES_NS, "xades:CertDigest");
  certDigest.ele(DSIG_NS, "ds:DigestMethod", { Algorithm: ALG.SHA256 });
  certDigest.ele(DSIG_NS, "ds:DigestValue").txt(createHash("sha256").update(identity.certificate.raw).digest("base64"));
  const xml = root.end({ headless: true });
  return { xml, digest: digest(ALG.SHA256, canonicalize(parseStrict(xml).documentElement)) };
}

/** ISO 8601 with the +07:00 offset, to the second. */
function vietnamTime(at: Date): string {
  const local = new Date(Math.floor(at.getTime() / 1000) * 1000 + 7 * 3600 * 1000);
  return local.toISOString().replace(/\.\d{3}Z$/, "+07:00");
}

/** The ds:Signature element. With `signatureValue` null, placeholders of the final lengths. */
function renderSignature(identity: Identity, props: SignedProps, refs: Ref[], signatureValue: string | null): string {
  const sigRoot = create().ele(DSIG_NS, "ds:Signature", { Id: IDS.signature });
  const si = sigRoot.ele(DSIG_NS, "ds:SignedInfo");
  si.ele(DSIG_NS, "ds:CanonicalizationMethod", { Algorithm: ALG.EXC_C14N });
  si.ele(DSIG_NS, "ds:SignatureMethod", { Algorithm: ALG.RSA_SHA256 });
  const all = [...refs, { uri: `#${IDS.signedProps}`, digest: props.digest, type: ALG.SIGNED_PROPERTIES_TYPE }];
  for (const ref of all) {
    const r = si.ele(DSIG_NS, "ds:Reference", ref.type ? { URI: ref.uri, Type: ref.type } : { URI: ref.uri });
    r.ele(DSIG_NS, "ds:Transforms").ele(DSIG_NS, "ds:Transform", { Algorithm: ALG.EXC_C14N });
    r.ele(DSIG_NS, "ds:DigestMethod", { Algorithm: ALG.SHA256 });
    // a digest not known yet is a placeholder of the same length (SHA-256 in base64: 44 characters)
    r.ele(DSIG_NS, "ds:DigestValue").txt(ref.digest || "A".repeat(43) + "=");
  }
  const bits = identity.privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (identity.privateKey.asymmetricKeyType !== "rsa" || bits < 2048) {
    throw new Error("the signing key must be RSA with at least 2048 bits");
  }
  sigRoot.ele(DSIG_NS, "ds:SignatureValue").txt(signatureValue ?? "A".repeat(4 * Math.ceil(bits / 8 / 3)));
  const x509 = sigRoot.ele(DSIG_NS, "ds:KeyInfo").ele(DSIG_NS, "ds:X509Data");
  for (const cert of [identity.certificate, ...identity.chain] as X509Certificate[]) {
    x509.ele(DSIG_NS, "ds:X509Certificate").txt(cert.raw.toString("base64"));
  }
  const qp = sigRoot.ele(DSIG_NS, "ds:Object").ele(XADES_NS, "xades:QualifyingProperties", { Target: `#${IDS.signature}` });
  qp.import(create(props.xml).root());
  return sigRoot.end({ headless: true });
}

/** Computes the SignatureValue over the canonical SignedInfo and renders the final signature. */
function signFinal(identity: Identity, props: SignedProps, refs: Ref[]): string {
  const draft = renderSignature(identity, props, refs, null);
  const signedInfo = allElements(parseStrict(draft).documentElement).find(
    (e) => e.localName === "SignedInfo" && e.namespaceURI === DSIG_NS,
  )!;
  const value = rsaSign("sha256", Buffer.from(canonicalize(signedInfo)), identity.privateKey).toString("base64");
  const final = renderSignature(identity, props, refs, value);
  if (final.length !== draft.length) throw new Error("internal error: signature length changed while signing");
  return final;
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
