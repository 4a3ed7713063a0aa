// XAdES B-T (signature-profile.md, "Level B-T"): the SignatureTimeStamp in the signature's
// UnsignedProperties, over the exc-c14n form of ds:SignatureValue. Outside every reference, so it
// can be added to a signed packet (splicing bytes, nothing else moves) and be read back strictly:
// the profile's shape exactly, anything else in QualifyingProperties is refused.
import { open, rename, rm } from "node:fs/promises";
import { DSIG_NS, XADES_NS, children, parseStrict } from "../envelopes/index.ts";
import type { X509Certificate } from "node:crypto";
import type { Crl } from "./pki/crl.ts";
import type { TimestampSummary } from "./report.ts";
import { ALG, base64Value, canonicalize, isNamed, type Refuse } from "./xmldsig.ts";

/** The Id of the SignatureTimeStamp (fixed, as the profile's other Ids). */
const TIMESTAMP_ID = "edxml-sig-ts";

/** Where our signer's output ends the XAdES properties: the stamp goes just before. */
const QP_END = "</xades:QualifyingProperties></ds:Object></ds:Signature>";

/** The UnsignedProperties holding `token`, with the prefixes our signer declares (xades:, ds:). */
function unsignedProperties(token: Buffer): string {
  return (
    `<xades:UnsignedProperties><xades:UnsignedSignatureProperties><xades:SignatureTimeStamp Id="${TIMESTAMP_ID}">` +
    `<ds:CanonicalizationMethod Algorithm="${ALG.EXC_C14N}"/>` +
    `<xades:EncapsulatedTimeStamp>${token.toString("base64")}</xades:EncapsulatedTimeStamp>` +
    `</xades:SignatureTimeStamp></xades:UnsignedSignatureProperties></xades:UnsignedProperties>`
  );
}

/**
 * The exc-c14n ds:SignatureValue of a packet this node signed, read from its first bytes (the
 * signature precedes the body and the attachments): what a SignatureTimeStamp stamps.
 */
export function stampedSignatureValue(head: string): string {
  const found = /<ds:SignatureValue>([A-Za-z0-9+/=]+)<\/ds:SignatureValue>/.exec(head);
  if (!found || !head.includes(QP_END)) throw new Error("internal error: not a signature made by this signer");
  return canonicalize(parseStrict(`<ds:SignatureValue xmlns:ds="${DSIG_NS}">${found[1]}</ds:SignatureValue>`).documentElement);
}

/** A packet in memory (a status packet) with its SignatureTimeStamp added. */
export function withTimestamp(packet: Buffer, token: Buffer): Buffer {
  const at = packet.indexOf(QP_END);
  if (at < 0 || packet.indexOf("<xades:UnsignedProperties>") >= 0) throw new Error("internal error: this packet cannot take a time-stamp");
  return Buffer.concat([packet.subarray(0, at), Buffer.from(unsignedProperties(token)), packet.subarray(at)]);
}

/** How much of a packet file is read to find its signature (the header: never attachments). */
const HEAD_BYTES = 1 << 20;

/** The first bytes of a packet file, as text: enough to hold its signature. */
export async function packetHead(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.toString("latin1", 0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** A packet file with its SignatureTimeStamp added: written beside it, then renamed over it. */
export async function addTimestampToFile(path: string, token: Buffer): Promise<void> {
  const head = await packetHead(path);
  const at = head.indexOf(QP_END);
  if (at < 0) throw new Error("internal error: this packet cannot take a time-stamp");
  const tmp = `${path}.stamp-${process.pid}-${Date.now()}`;
  const src = await open(path, "r");
  const dst = await open(tmp, "w");
  try {
    await dst.write(Buffer.from(head.slice(0, at), "latin1"));
    await dst.write(Buffer.from(unsignedProperties(token)));
    const buf = Buffer.alloc(4 << 20);
    for (let pos = at; ; ) {
      const { bytesRead } = await src.read(buf, 0, buf.length, pos);
      if (!bytesRead) break;
      await dst.write(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    await dst.sync();
    await dst.close();
    await src.close();
    await rename(tmp, path);
  } catch (err) {
    await dst.close().catch(() => {});
    await src.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * The token of the signature's SignatureTimeStamp; null when there is no UnsignedProperties.
 * QualifyingProperties holds SignedProperties, then at most this one UnsignedProperties, in exactly
 * the profile's shape (`refuse` otherwise). The token itself is only read: a bad one is a warning.
 */
export function signatureTimestamp(qualifyingProperties: Element, refuse: Refuse): Element | null {
  const parts = children(qualifyingProperties);
  const wrong = () => refuse("QualifyingProperties must hold SignedProperties, then at most one UnsignedProperties with one SignatureTimeStamp", "QualifyingProperties chỉ được chứa SignedProperties và tối đa một UnsignedProperties có một SignatureTimeStamp");
  if (!parts.every((e) => e.namespaceURI === XADES_NS) || !/^SignedProperties(,UnsignedProperties)?$/.test(parts.map((e) => e.localName).join(","))) wrong();
  const unsigned = parts[1];
  if (!unsigned) return null;
  const sole = (el: Element, localName: string): Element => {
    const inside = children(el);
    if (inside.length !== 1 || !isNamed(inside[0], XADES_NS, localName) || el.attributes.length) wrong();
    return inside[0];
  };
  const stamp = sole(sole(unsigned, "UnsignedSignatureProperties"), "SignatureTimeStamp");
  const [method, encapsulated, ...more] = children(stamp);
  if (stamp.attributes.length !== 1 || stamp.getAttribute("Id") !== TIMESTAMP_ID) {
    refuse(`the SignatureTimeStamp must carry only Id="${TIMESTAMP_ID}"`, `SignatureTimeStamp chỉ được mang Id="${TIMESTAMP_ID}"`);
  }
  if (!isNamed(method, DSIG_NS, "CanonicalizationMethod") || method.attributes.length !== 1 || method.getAttribute("Algorithm") !== ALG.EXC_C14N || children(method).length) {
    refuse("the SignatureTimeStamp must name exc-c14n as its CanonicalizationMethod", "SignatureTimeStamp phải dùng CanonicalizationMethod exc-c14n");
  }
  if (!isNamed(encapsulated, XADES_NS, "EncapsulatedTimeStamp") || encapsulated.attributes.length || children(encapsulated).length || more.length) {
    refuse("the SignatureTimeStamp must hold one EncapsulatedTimeStamp after its CanonicalizationMethod", "SignatureTimeStamp phải có một EncapsulatedTimeStamp sau CanonicalizationMethod");
  }
  return encapsulated;
}

export interface TimestampTrust {
  tsaAnchors: X509Certificate[];
  crls: Crl[];
}

/**
 * Checks a signature's time-stamp (`token`: the EncapsulatedTimeStamp text, or the DER of a stamp
 * kept beside the packet) against TSA anchors: the summary for the report, and a warning when it
 * does not count. Never throws for a bad stamp: the signature is then judged as B-B.
 */
export async function checkSignatureTimestamp(
  token: Element | Buffer,
  signatureValue: Element,
  trust: TimestampTrust,
  at: Date,
): Promise<{ summary: TimestampSummary; warning: string | null }> {
  // RFC 3161 (pkijs and the CMS schemas: a tenth of a second to load) only for a packet that has a stamp
  const { TimestampError, verifyTimestampToken } = await import("./timestamp.ts");
  try {
    const der =
      Buffer.isBuffer(token)
        ? token
        : base64Value(token as Element, "the EncapsulatedTimeStamp", (en, vi) => {
            throw new TimestampError("TIMESTAMP_INVALID", en, vi);
          });
    const { time, tsa } = await verifyTimestampToken(der, canonicalize(signatureValue), { anchors: trust.tsaAnchors, crls: trust.crls }, at);
    return { summary: { time: time.toISOString(), tsa, valid: true, level: "B-T", reason: null }, warning: null };
  } catch (err) {
    if (!(err instanceof TimestampError)) throw err;
    const summary: TimestampSummary = { time: err.time?.toISOString() ?? null, tsa: err.tsa ?? null, valid: false, level: "B-B", reason: err.reason };
    return { summary, warning: err.bilingual };
  }
}
