// Attacks on the verifier. Every case starts from a genuinely signed packet (pack / signStatus),
// mutates its text or re-signs it with other keys or certificates, and asserts the SPECIFIC
// sub-indication the profile (../shared/spec/signature-profile.md) gives for it, `valid === false`
// and, where it says which check fired, a phrase of the error. Sections:
//   1. signature wrapping (XSW1–8 adapted to edXML), reference and signature placement
//   1b. namespaces and single-valued fields in signed parts (what one reader shows, all show)
//   2. parser attacks (DTD, entities, PIs, encodings, nesting, limits, attachment text)
//   3. disallowed algorithms (step 3 must fire before step 5)
//   4. certificates, revocation and the binding to the sender
//   5. tampering with each signed part
//   6. what must stay valid (relays, whitespace outside signed parts, wrapped base64, sha512)
//   7. the same at 1 MB read boundaries, from memory and from a file
// Mutations go through `sub`, which fails the test when the text to replace is not there exactly
// once, so no case can pass because its mutation silently did nothing.
import { expect } from "chai";
import { createHash, generateKeyPairSync, randomBytes, sign as rsaSign, type KeyObject, type X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { DSIG_NS, allElements, children, parseStrict, regionBytes, type PacketSource } from "../envelopes/index.ts";
import {
  ALG,
  signStatus,
  verifyPacket,
  type Identity,
  type SubIndication,
  type VerificationResult,
  type VerifyOptions,
} from "../signing/index.ts";
import { canonicalize, createCrl, issueCertificate, type CertAndKey } from "../signing/testing.ts";
import { RECIPIENT, SENDER, VIETNAMESE, fixturePath, pack, registryFor, sampleEdoc, sampleStatus, scratch, testPki } from "../fixtures/index.ts";
import { onEachDatabase } from "./helpers/db.ts";
import { recipientDoor, type TestNode } from "./helpers/node.ts";

// ------------------------------------------------------------------------------------------------
// Helpers

const SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1";
const RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
const C14N_INCLUSIVE = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116";
const XSLT = "http://www.w3.org/TR/1999/REC-xslt-19991116";
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const EXC = ALG.EXC_C14N;
const EXC_TRANSFORM = `<ds:Transforms><ds:Transform Algorithm="${EXC}"/></ds:Transforms>`;
const HASH_OF: Record<string, string> = { [ALG.SHA256]: "sha256", [ALG.SHA512]: "sha512", [SHA1]: "sha1" };
const SIG_HASH_OF: Record<string, string> = { [ALG.RSA_SHA256]: "sha256", [ALG.RSA_SHA512]: "sha512", [RSA_SHA1]: "sha1" };

/** Replaces the only occurrence of `from`; fails the test when there is none or more than one. */
function sub(xml: string, from: string | RegExp, to: string | ((m: string, ...g: string[]) => string)): string {
  const re = typeof from === "string" ? new RegExp(escapeRe(from), "g") : new RegExp(from.source, from.flags.includes("g") ? from.flags : from.flags + "g");
  const hits = xml.match(re)?.length ?? 0;
  expect(hits, `mutation target ${String(from).slice(0, 80)} must occur exactly once`).to.equal(1);
  return xml.replace(re, to as never);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The text of the element that starts with `open` and ends with the first `close` after it. */
function slice(xml: string, open: string, close: string): string {
  const start = xml.indexOf(open);
  expect(start, `${open} must be present`).to.be.greaterThan(-1);
  expect(xml.indexOf(open, start + 1), `${open} must be present once`).to.equal(-1);
  const end = xml.indexOf(close, start);
  expect(end).to.be.greaterThan(start);
  return xml.slice(start, end + close.length);
}

const sha256b64 = (data: Buffer | string) => createHash("sha256").update(data).digest("base64");

/** Recomputes every reference's DigestValue (with the reference's own digest algorithm). */
function redigest(xml: string): string {
  const doc = parseStrict(xml);
  const all = allElements(doc.documentElement);
  const signedInfo = all.find((e) => e.localName === "SignedInfo" && e.namespaceURI === DSIG_NS)!;
  let out = xml;
  for (const ref of children(signedInfo, "Reference")) {
    const uri = ref.getAttribute("URI") ?? "";
    const target = all.find((e) => e.getAttribute("Id") === uri.slice(1));
    if (!uri.startsWith("#") || !target) continue;
    const alg = children(ref, "DigestMethod")[0]!.getAttribute("Algorithm")!;
    const value = createHash(HASH_OF[alg]!).update(canonicalize(target)).digest("base64");
    const re = new RegExp(`(<ds:Reference URI="${escapeRe(uri)}"[^>]*>(?:(?!</ds:Reference>)[\\s\\S])*?<ds:DigestValue>)[^<]*(</ds:DigestValue>)`);
    out = sub(out, re, (_m, a, b) => a + value + b);
  }
  return out;
}

/** Recomputes the SignatureValue over the (first) SignedInfo with `key`, per its SignatureMethod. */
function signInfo(xml: string, key: KeyObject): string {
  const all = allElements(parseStrict(xml).documentElement);
  const signedInfo = all.find((e) => e.localName === "SignedInfo" && e.namespaceURI === DSIG_NS)!;
  const alg = children(signedInfo, "SignatureMethod")[0]!.getAttribute("Algorithm")!;
  const value = rsaSign(SIG_HASH_OF[alg] ?? "sha256", Buffer.from(canonicalize(signedInfo)), key).toString("base64");
  return sub(xml, /<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, `<ds:SignatureValue>${value}</ds:SignatureValue>`);
}

/**
 * Re-signs a (mutated) packet as a signer would: optionally puts other certificates in KeyInfo
 * (and their digest in SigningCertificateV2, unless `certDigest` says otherwise), recomputes every
 * reference digest, then the SignatureValue with `key`.
 */
function resign(xml: string, key: KeyObject, opts: { certs?: X509Certificate[]; certDigest?: string } = {}): string {
  let out = xml;
  if (opts.certs) {
    const certs = opts.certs.map((c) => `<ds:X509Certificate>${c.raw.toString("base64")}</ds:X509Certificate>`).join("");
    out = sub(out, /<ds:X509Data>[\s\S]*?<\/ds:X509Data>/, `<ds:X509Data>${certs}</ds:X509Data>`);
  }
  const certDigest = opts.certDigest ?? (opts.certs ? sha256b64(opts.certs[0]!.raw) : undefined);
  if (certDigest) {
    out = sub(out, /(<xades:CertDigest>(?:(?!<\/xades:CertDigest>)[\s\S])*?<ds:DigestValue>)[^<]*(<\/ds:DigestValue>)/, (_m, a, b) => a + certDigest + b);
  }
  return signInfo(redigest(out), key);
}

/** The reference element text for `uri`. */
function referenceText(xml: string, uri: string): string {
  const found = new RegExp(`<ds:Reference URI="${escapeRe(uri)}"[^>]*>[\\s\\S]*?</ds:Reference>`).exec(xml);
  expect(found, `reference ${uri} must be present`).to.not.equal(null);
  return found![0];
}

interface Expectation {
  /** A phrase (or pattern) the error must contain. */
  error?: string | RegExp;
}

async function verify(packet: string | Buffer, opts: Partial<VerifyOptions> = {}): Promise<VerificationResult> {
  const bytes = typeof packet === "string" ? Buffer.from(packet, "utf8") : packet;
  return verifyPacket({ bytes }, { ...testPki().trust, ...opts });
}

/** Verifies and asserts the failure: not valid, no content, exactly this sub-indication. */
async function rejects(packet: string | Buffer, want: SubIndication, expectation: Expectation & Partial<VerifyOptions> = {}) {
  const { error, ...opts } = expectation;
  const result = await verify(packet, opts);
  const { report } = result;
  const errors = report.errors.join("\n");
  expect(report.subIndication, `errors: ${errors}`).to.equal(want);
  expect(report.valid).to.equal(false);
  expect(report.indication).to.not.equal("TOTAL_PASSED");
  expect(result.content).to.equal(null);
  expect(report.errors).to.have.length(1);
  if (typeof error === "string") expect(errors).to.include(error);
  else if (error) expect(errors).to.match(error);
  return report;
}

async function accepts(packet: string | Buffer, opts: Partial<VerifyOptions> = {}) {
  const result = await verify(packet, opts);
  expect(result.report.errors).to.deep.equal([]);
  expect(result.report).to.include({ valid: true, indication: "TOTAL_PASSED", subIndication: null });
  expect(result.content).to.not.equal(null);
  return result;
}

/** The decoded bytes of every verified attachment. */
async function decoded(source: PacketSource, content: NonNullable<VerificationResult["content"]>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const a of content.attachments) {
    const chunks: Buffer[] = [];
    for await (const c of regionBytes(source, a.region!)) chunks.push(Buffer.from(c));
    out.push(Buffer.concat(chunks));
  }
  return out;
}

/** Asserts a HASH_FAILURE that names exactly `broken` and leaves every other reference ok. */
async function hashFailure(packet: string, broken: string[]) {
  const report = await rejects(packet, "HASH_FAILURE", { error: broken[0] });
  const bad = report.references.filter((r) => r.digestOk === false).map((r) => r.uri);
  expect(bad).to.deep.equal(broken);
  expect(report.references.filter((r) => r.digestOk === true)).to.have.length(report.references.length - broken.length);
  for (const uri of broken) expect(report.errors[0]).to.include(uri);
  return report;
}

/**
 * EDOC with the base64 text `from` replaced by raw `bytes` (which need not be XML text at all),
 * genuinely re-signed by the sender: the attachment's digest is taken over those very bytes, as a
 * streaming verifier reads them, so only the check of the text itself can refuse the packet.
 */
function signedWithText(from: string, bytes: Buffer): Buffer {
  const MARK = "RAWTEXTMARK0";
  const key = testPki().sender.privateKey;
  let xml = resign(sub(EDOC, `>${from}<`, `>${MARK}<`), key);
  const attachment = allElements(parseStrict(xml).documentElement).find((e) => e.localName === "Attachment" && (e.textContent ?? "").includes(MARK))!;
  const [before, after] = canonicalize(attachment).split(MARK);
  const value = createHash("sha256").update(before!).update(bytes).update(after!).digest("base64");
  const uri = `#${attachment.getAttribute("Id")}`;
  const re = new RegExp(`(<ds:Reference URI="${escapeRe(uri)}"[^>]*>(?:(?!</ds:Reference>)[\\s\\S])*?<ds:DigestValue>)[^<]*(</ds:DigestValue>)`);
  xml = signInfo(sub(xml, re, (_m, a, b) => a + value + b), key);
  const [head, tail] = xml.split(MARK);
  return Buffer.concat([Buffer.from(head!, "utf8"), bytes, Buffer.from(tail!, "utf8")]);
}

// ------------------------------------------------------------------------------------------------
// Packets: genuinely signed, built once

const FILES = [Buffer.from("%PDF-1.7 quyết định đính kèm — bản chính"), randomBytes(3000)];
const NAMES = ["Quyết định 123.pdf", "Phụ lục — bảng kê.pdf"];
let EDOC = ""; // 2 attachments, signed by the sender
let STATUS = ""; // signed by the recipient
let ATT1 = ""; // base64 of attachment 1 as written
let ATT2 = "";
/** One attacker key pair, reused for the attacker's certificates (key generation is slow). */
const keys = {} as { attacker: { privateKey: KeyObject; publicKey: KeyObject } };
const attacker = () => keys.attacker;

describe("attacks on the verifier", function () {
  this.timeout(120_000);

  before(async () => {
    const { sender, recipient } = testPki();
    EDOC = (await pack(sampleEdoc({}, NAMES), FILES, sender)).toString("utf8");
    STATUS = signStatus(sampleStatus("03"), recipient).toString("utf8");
    ATT1 = FILES[0]!.toString("base64");
    ATT2 = FILES[1]!.toString("base64");
    keys.attacker = generateKeyPairSync("rsa", { modulusLength: 2048 });
  });

  describe("0. the starting packets and the re-signing helper", () => {
    it("the genuine edoc (2 attachments) and status packets verify", async () => {
      const { report } = await accepts(EDOC);
      expect(report.references.map((r) => r.uri)).to.deep.equal([
        "#edxml-header",
        "#edxml-business",
        "#edxml-manifest",
        "#edxml-att-1",
        "#edxml-att-2",
        "#edxml-signed-props",
      ]);
      await accepts(STATUS);
      expect(EDOC).to.include(ATT1).and.include(ATT2).and.include(VIETNAMESE);
    });

    it("re-signing an unchanged packet with the signer's own key reproduces it byte for byte", () => {
      expect(resign(EDOC, testPki().sender.privateKey)).to.equal(EDOC);
      expect(resign(STATUS, testPki().recipient.privateKey)).to.equal(STATUS);
    });
  });

  // ----------------------------------------------------------------------------------------------
  describe("1. signature wrapping and reference placement", () => {
    const header = () => slice(EDOC, "<edXML:MessageHeader", "</edXML:MessageHeader>");
    /** An evil MessageHeader: the signed one with another Subject, and `id` as its Id attribute. */
    const evilHeader = (id: string | null) => {
      const h = sub(header(), VIETNAMESE, "Quyết định bãi bỏ toàn bộ văn bản (giả mạo)");
      return sub(h, ' Id="edxml-header"', id === null ? "" : ` Id="${id}"`);
    };
    const intoObject = (xml: string, what: string) =>
      sub(xml, "</xades:QualifyingProperties></ds:Object>", `</xades:QualifyingProperties>${what}</ds:Object>`);

    for (const id of ["evil-header", null]) {
      const how = id ? "a new Id" : "no Id";
      it(`XSW8: signed MessageHeader moved into ds:Object, evil header with ${how} in its place → FORMAT_FAILURE`, async () => {
        const xml = intoObject(sub(EDOC, header(), evilHeader(id)), header());
        await rejects(xml, "FORMAT_FAILURE", { error: "#edxml-header does not point at the message header" });
      });

      it(`XSW1/6: signed MessageHeader moved directly inside ds:Signature, evil header with ${how} → FORMAT_FAILURE`, async () => {
        const xml = sub(sub(EDOC, header(), evilHeader(id)), "</ds:Object></ds:Signature>", `</ds:Object>${header()}</ds:Signature>`);
        await rejects(xml, "FORMAT_FAILURE", { error: "unexpected element inside the signature" });
      });

      it(`XSW4/7: signed MessageHeader moved into a wrapper in the unsigned TraceHeaderList, evil header with ${how} → FORMAT_FAILURE`, async () => {
        const xml = sub(sub(EDOC, header(), evilHeader(id)), "<edXML:TraceHeaderList>", `<edXML:TraceHeaderList><edXML:TraceHeader>${header()}</edXML:TraceHeader>`);
        await rejects(xml, "FORMAT_FAILURE", { error: "#edxml-header does not point at the message header" });
      });

      it(`XSW2: evil header with ${how} as a sibling BEFORE the signed one → FORMAT_FAILURE`, async () => {
        await rejects(sub(EDOC, header(), evilHeader(id) + header()), "FORMAT_FAILURE", { error: "exactly one <MessageHeader>" });
      });

      it(`XSW3: evil header with ${how} as a sibling AFTER the signed one → FORMAT_FAILURE`, async () => {
        await rejects(sub(EDOC, header(), header() + evilHeader(id)), "FORMAT_FAILURE", { error: "exactly one <MessageHeader>" });
      });
    }

    it("XSW1/6 variant: signed MessageHeader hidden inside KeyInfo, evil header without Id in its place → FORMAT_FAILURE", async () => {
      const xml = sub(sub(EDOC, header(), evilHeader(null)), "</ds:X509Data></ds:KeyInfo>", `</ds:X509Data>${header()}</ds:KeyInfo>`);
      await rejects(xml, "FORMAT_FAILURE", { error: "#edxml-header does not point at" });
    });

    it("wrapper element around the signed MessageHeader inside edXMLHeader → FORMAT_FAILURE", async () => {
      const xml = sub(EDOC, header(), `<edXML:Wrapper>${header()}</edXML:Wrapper>${evilHeader(null)}`);
      await rejects(xml, "FORMAT_FAILURE", { error: "unexpected element <edXML:Wrapper>" });
    });

    it("XSW8 with the same Id: evil header keeps Id=edxml-header, signed copy in ds:Object → FORMAT_FAILURE (duplicate Id)", async () => {
      const xml = intoObject(sub(EDOC, header(), evilHeader("edxml-header")), header());
      await rejects(xml, "FORMAT_FAILURE", { error: 'two elements carry the Id "edxml-header"' });
    });

    const dupes: Array<[string, string]> = [
      ["Id", ' Id="edxml-header"'],
      ["ID", ' ID="edxml-header"'],
      ["id", ' id="edxml-header"'],
      ["namespaced foo:Id", ' xmlns:foo="urn:example:evil" foo:Id="edxml-header"'],
      ["xml:id", ' xml:id="edxml-header"'],
    ];
    for (const [what, attr] of dupes) {
      it(`duplicate Id: an unsigned element carries ${what}="edxml-header" → FORMAT_FAILURE`, async () => {
        const xml = sub(EDOC, "<edXML:TraceHeader>", `<edXML:TraceHeader${attr}>`);
        await rejects(xml, "FORMAT_FAILURE", { error: 'two elements carry the Id "edxml-header"' });
      });
    }

    it("duplicate Id of an attachment inside the signature's ds:Object → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, "<ds:Object>", '<ds:Object Id="edxml-att-2">'), "FORMAT_FAILURE", { error: 'two elements carry the Id "edxml-att-2"' });
    });

    it("the signed Bussiness moved into edXMLBody, an unsigned Bussiness without Id in its place → FORMAT_FAILURE", async () => {
      const business = slice(EDOC, "<edXML:Bussiness ", "</edXML:Bussiness>");
      const evil = sub(sub(business, ' Id="edxml-business"', ""), "Văn bản điện tử mới", "Thu hồi văn bản");
      const xml = sub(sub(EDOC, business, evil), "<edXML:edXMLBody>", `<edXML:edXMLBody>${business}`);
      await rejects(xml, "FORMAT_FAILURE", { error: "#edxml-business does not point at the business block" });
    });

    it("the signed Bussiness moved into edXMLBody, none left in TraceHeaderList → FORMAT_FAILURE (reference to an unexpected place)", async () => {
      const business = slice(EDOC, "<edXML:Bussiness ", "</edXML:Bussiness>");
      const xml = sub(sub(EDOC, business, ""), "<edXML:edXMLBody>", `<edXML:edXMLBody>${business}`);
      await rejects(xml, "FORMAT_FAILURE", { error: "unexpected: #edxml-business" });
    });

    it("attachments swapped: #edxml-att-1 resolves to the second Attachment element → FORMAT_FAILURE", async () => {
      const a1 = slice(EDOC, '<Attachment Id="edxml-att-1">', "</Attachment>");
      const a2 = slice(EDOC, '<Attachment Id="edxml-att-2">', "</Attachment>");
      const xml = sub(EDOC, `${a1}\n    ${a2}`, `${a2}\n    ${a1}`);
      await rejects(xml, "FORMAT_FAILURE", { error: "#edxml-att-1 does not point at the attachment 1" });
    });

    it("the Id moved: MessageHeader loses its Id and a TraceHeader gets Id=edxml-header → FORMAT_FAILURE", async () => {
      const xml = sub(sub(EDOC, '<edXML:MessageHeader Id="edxml-header">', "<edXML:MessageHeader>"), "<edXML:TraceHeader>", '<edXML:TraceHeader Id="edxml-header">');
      await rejects(xml, "FORMAT_FAILURE", { error: "#edxml-header does not point at" });
    });

    it("signature not the last child of edXMLHeader (TraceHeaderList moved after it) → FORMAT_FAILURE", async () => {
      const traces = slice(EDOC, "<edXML:TraceHeaderList>", "</edXML:TraceHeaderList>");
      const xml = sub(sub(EDOC, traces, ""), "</ds:Signature>", `</ds:Signature>${traces}`);
      await rejects(xml, "FORMAT_FAILURE", { error: "the signature must be the last element of edXMLHeader" });
    });

    it("two ds:Signature elements (the genuine one twice) → FORMAT_FAILURE", async () => {
      const sig = slice(EDOC, "<ds:Signature ", "</ds:Signature>");
      await rejects(sub(EDOC, sig, sig + sig), "FORMAT_FAILURE", { error: "holds 2 XML signatures; exactly one is allowed" });
    });

    it("a second, attacker's ds:Signature hidden in a TraceHeader → FORMAT_FAILURE", async () => {
      const sig = slice(EDOC, "<ds:Signature ", "</ds:Signature>");
      const other = sig.replace(/Id="edxml-/g, 'Id="other-');
      await rejects(sub(EDOC, "<edXML:TraceHeader>", `<edXML:TraceHeader>${other}`), "FORMAT_FAILURE", { error: "exactly one is allowed" });
    });

    it("signature moved into edXMLBody → FORMAT_FAILURE", async () => {
      const sig = slice(EDOC, "<ds:Signature ", "</ds:Signature>");
      const xml = sub(sub(EDOC, sig, ""), "<edXML:edXMLBody>", `<edXML:edXMLBody>${sig}`);
      await rejects(xml, "FORMAT_FAILURE", { error: "the signature must be the last element of edXMLHeader" });
    });

    it("signature moved to the end of the root, a QCVN placeholder <Signature> left in edXMLHeader → FORMAT_FAILURE", async () => {
      const sig = slice(EDOC, "<ds:Signature ", "</ds:Signature>");
      const xml = sub(sub(EDOC, sig, "<edXML:Signature/>"), "</AttachmentEncoded>", `</AttachmentEncoded>${sig}`);
      await rejects(xml, "FORMAT_FAILURE", { error: "unexpected element <ds:Signature> inside <edXML>" });
    });

    it("signature moved into a TraceHeader (signature exclusion by relocation) → FORMAT_FAILURE", async () => {
      const sig = slice(EDOC, "<ds:Signature ", "</ds:Signature>");
      const xml = sub(sub(EDOC, sig, ""), "<edXML:TraceHeader>", `<edXML:TraceHeader>${sig}`);
      await rejects(xml, "FORMAT_FAILURE", { error: "the signature must be the last element of edXMLHeader" });
    });

    // CVE-2025-29774 (xml-crypto): references taken from one SignedInfo, the signature checked over another.
    describe("a second SignedInfo inside the Signature (CVE-2025-29774 shape)", () => {
      const signedInfo = () => slice(EDOC, "<ds:SignedInfo>", "</ds:SignedInfo>");
      const tampered = () => sub(EDOC, VIETNAMESE, "Quyết định (giả mạo)");
      /** SignedInfo of the tampered packet with a correct (recomputed) header digest. */
      const forgedInfo = () => slice(redigest(tampered()), "<ds:SignedInfo>", "</ds:SignedInfo>");

      it("an untouched copy of SignedInfo nested in ds:Object → FORMAT_FAILURE", async () => {
        await rejects(intoObject(EDOC, signedInfo()), "FORMAT_FAILURE", { error: "exactly one SignedInfo" });
      });

      it("an untouched copy of SignedInfo nested in KeyInfo → FORMAT_FAILURE", async () => {
        const xml = sub(EDOC, "</ds:X509Data></ds:KeyInfo>", `</ds:X509Data>${signedInfo()}</ds:KeyInfo>`);
        await rejects(xml, "FORMAT_FAILURE", { error: "exactly one SignedInfo" });
      });

      it("tampered header, a forged SignedInfo (digest of the tampered header) nested in ds:Object → FORMAT_FAILURE", async () => {
        await rejects(intoObject(tampered(), forgedInfo()), "FORMAT_FAILURE", { error: "exactly one SignedInfo" });
      });

      it("tampered header, forged SignedInfo first and the genuine one nested in ds:Object → FORMAT_FAILURE", async () => {
        const xml = intoObject(sub(tampered(), signedInfo(), forgedInfo()), signedInfo());
        await rejects(xml, "FORMAT_FAILURE", { error: "exactly one SignedInfo" });
      });

      it("two SignedInfo as direct children of the Signature → FORMAT_FAILURE", async () => {
        await rejects(sub(EDOC, signedInfo(), signedInfo() + signedInfo()), "FORMAT_FAILURE", { error: "SignedInfo" });
      });
    });

    it("the header's Id only as a namespaced foo:Id (re-signed) → FORMAT_FAILURE", async () => {
      const xml = resign(sub(EDOC, '<edXML:MessageHeader Id="edxml-header">', '<edXML:MessageHeader xmlns:foo="urn:example:ids" foo:Id="edxml-header">'), testPki().sender.privateKey);
      await rejects(xml, "FORMAT_FAILURE", { error: "#edxml-header must be an unqualified Id attribute" });
    });

    it("a second, unsigned SignedProperties (other SigningTime) in another ds:Object → FORMAT_FAILURE", async () => {
      const qp = slice(EDOC, "<xades:QualifyingProperties", "</xades:QualifyingProperties>");
      const evil = sub(sub(qp, ' Id="edxml-signed-props"', ""), /<xades:SigningTime>[^<]*</, "<xades:SigningTime>2020-01-01T00:00:00+07:00<");
      await rejects(sub(EDOC, "</ds:Object>", `</ds:Object><ds:Object>${evil}</ds:Object>`), "FORMAT_FAILURE", { error: "exactly one XAdES SignedProperties" });
    });

    it("QualifyingProperties targeting another signature → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, 'Target="#edxml-signature"', 'Target="#other-signature"'), "FORMAT_FAILURE", { error: "QualifyingProperties must target #edxml-signature" });
    });

    // CVE-2025-29775 (xml-crypto): a comment in DigestValue carried the forged digest while the
    // canonical SignedInfo (comments dropped) still verified.
    it("CVE-2025-29775 shape: tampered header, forged digest in a comment inside DigestValue → FORMAT_FAILURE", async () => {
      const tampered = sub(EDOC, VIETNAMESE, "Quyết định (giả mạo)");
      const forged = /<ds:Reference URI="#edxml-header">[\s\S]*?<ds:DigestValue>([^<]*)</.exec(redigest(tampered))![1]!;
      const original = /<ds:Reference URI="#edxml-header">[\s\S]*?<ds:DigestValue>([^<]*)</.exec(EDOC)![1]!;
      expect(forged).to.not.equal(original);
      const xml = sub(tampered, `<ds:DigestValue>${original}</ds:DigestValue>`, `<ds:DigestValue><!--${forged}-->${original}</ds:DigestValue>`);
      await rejects(xml, "FORMAT_FAILURE", { error: "comments are not allowed inside the signature" });
    });

    it("a comment alone inside DigestValue (no tampering) is still refused → FORMAT_FAILURE", async () => {
      const original = /<ds:Reference URI="#edxml-header">[\s\S]*?<ds:DigestValue>([^<]*)</.exec(EDOC)![1]!;
      const xml = sub(EDOC, `<ds:DigestValue>${original}</ds:DigestValue>`, `<ds:DigestValue>${original}<!---->\n</ds:DigestValue>`);
      await rejects(xml, "FORMAT_FAILURE", { error: "comments are not allowed inside the signature" });
    });

    // CVE-2024-32962 (xml-crypto < 6): the key was taken from KeyInfo.
    describe("KeyInfo substitution (CVE-2024-32962 shape)", () => {
      const tampered = () => sub(EDOC, VIETNAMESE, "Quyết định (giả mạo)");

      it("attacker re-signs the tampered packet with its own key and puts its self-signed certificate in KeyInfo → NO_CERTIFICATE_CHAIN_FOUND", async () => {
        const self = issueCertificate({ subject: { CN: "Văn phòng Chính phủ (test signer)", O: "Test agency" }, keyPair: attacker() });
        await rejects(resign(tampered(), self.privateKey, { certs: [self.certificate] }), "NO_CERTIFICATE_CHAIN_FOUND", { error: "no chain of trust" });
      });

      it("… even when the registry (mis)registers the attacker's certificate for the sender → NO_CERTIFICATE_CHAIN_FOUND", async () => {
        const self = issueCertificate({ subject: { CN: "Attacker" }, keyPair: attacker() });
        const registry = registryFor({ [SENDER]: { ...self, chain: [] } });
        await rejects(resign(tampered(), self.privateKey, { certs: [self.certificate] }), "NO_CERTIFICATE_CHAIN_FOUND", { registry });
      });

      it("attacker's certificate from another CA, with that CA's chain in KeyInfo → NO_CERTIFICATE_CHAIN_FOUND", async () => {
        const otherRoot = issueCertificate({ subject: { CN: "Test Root CA", O: "Ban Cơ yếu (test)" }, ca: true, keyPair: attacker() });
        const leaf = issueCertificate({ subject: { CN: "Attacker signer" }, issuer: otherRoot });
        await rejects(resign(tampered(), leaf.privateKey, { certs: [leaf.certificate, otherRoot.certificate] }), "NO_CERTIFICATE_CHAIN_FOUND");
      });

      it("attacker signs with its own key but leaves the genuine certificate in KeyInfo → SIG_CRYPTO_FAILURE", async () => {
        await rejects(resign(tampered(), attacker().privateKey), "SIG_CRYPTO_FAILURE");
      });
    });

    it("an extra (re-signed) reference to a harmless unsigned node → FORMAT_FAILURE", async () => {
      let xml = sub(EDOC, "<edXML:TraceHeader>", '<edXML:TraceHeader Id="trace-1">');
      xml = sub(xml, "<ds:Reference URI=\"#edxml-signed-props\"", `<ds:Reference URI="#trace-1">${EXC_TRANSFORM}<ds:DigestMethod Algorithm="${ALG.SHA256}"/><ds:DigestValue>x</ds:DigestValue></ds:Reference><ds:Reference URI="#edxml-signed-props"`);
      await rejects(resign(xml, testPki().sender.privateKey), "FORMAT_FAILURE", { error: "unexpected: #trace-1" });
    });

    it("an extra reference to the Signature element itself → FORMAT_FAILURE", async () => {
      const xml = sub(EDOC, "<ds:Reference URI=\"#edxml-signed-props\"", `${referenceText(EDOC, "#edxml-header").replace("#edxml-header", "#edxml-signature")}<ds:Reference URI="#edxml-signed-props"`);
      await rejects(xml, "FORMAT_FAILURE", { error: "unexpected: #edxml-signature" });
    });

    it("the same reference twice → FORMAT_FAILURE", async () => {
      const ref = referenceText(EDOC, "#edxml-header");
      await rejects(sub(EDOC, ref, ref + ref), "FORMAT_FAILURE", { error: "reference #edxml-header appears twice" });
    });

    for (const uri of ["#edxml-att-1", "#edxml-business", "#edxml-manifest", "#edxml-signed-props"]) {
      it(`a missing reference (${uri} not signed; re-signed without it) → FORMAT_FAILURE`, async () => {
        const xml = resign(sub(EDOC, referenceText(EDOC, uri), ""), testPki().sender.privateKey);
        await rejects(xml, "FORMAT_FAILURE", { error: `not signed: ${uri}` });
      });
    }

    it("a status packet whose header is not signed (only the signed properties are) → FORMAT_FAILURE", async () => {
      const xml = resign(sub(STATUS, referenceText(STATUS, "#edxml-header"), ""), testPki().recipient.privateKey);
      await rejects(xml, "FORMAT_FAILURE", { error: "not signed: #edxml-header" });
    });

    for (const id of [' Id="edxml-att-3"', ""]) {
      it(`an additional unsigned Attachment appended${id ? " (Id edxml-att-3)" : " (no Id)"} → FORMAT_FAILURE`, async () => {
        const extra = `<Attachment${id}><ContentId>cid:evil</ContentId><AttachmentName>virus.exe</AttachmentName><ContentType>application/octet-stream</ContentType><edXML:ContentTransferEncoded xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">TVqQAAMAAAAEAAAA</edXML:ContentTransferEncoded></Attachment>`;
        await rejects(sub(EDOC, "</AttachmentEncoded>", `${extra}</AttachmentEncoded>`), "FORMAT_FAILURE", { error: "not signed: #edxml-att-3" });
      });
    }

    it("an unsigned Bussiness block added to a packet signed without one → FORMAT_FAILURE", async () => {
      // the signer's packet without a business block (the profile signs it only when present)
      const business = slice(EDOC, "<edXML:Bussiness ", "</edXML:Bussiness>");
      const signed = resign(sub(sub(EDOC, business, ""), referenceText(EDOC, "#edxml-business"), ""), testPki().sender.privateKey);
      await accepts(signed);
      const xml = sub(signed, "</edXML:TraceHeaderList>", `${sub(business, ' Id="edxml-business"', "")}</edXML:TraceHeaderList>`);
      await rejects(xml, "FORMAT_FAILURE", { error: "not signed: #edxml-business" });
    });

    const uris: Array<[string, string]> = [
      ["external http://", "http://evil.example/edxml-header.xml"],
      ["external https://", "https://evil.example/x#edxml-header"],
      ["file:", "file:///etc/passwd"],
      ["#xpointer(/)", "#xpointer(/)"],
      ["#xpointer(id(…))", "#xpointer(id('edxml-header'))"],
      ["empty (whole document)", ""],
      ["containing a quote", "#edxml-header' or '1'='1"],
      ["bare Id without #", "edxml-header"],
    ];
    for (const [what, uri] of uris) {
      it(`Reference URI ${what} → FORMAT_FAILURE`, async () => {
        const xml = sub(EDOC, '<ds:Reference URI="#edxml-header">', `<ds:Reference URI="${uri.replace(/'/g, "&apos;")}">`);
        await rejects(xml, "FORMAT_FAILURE", { error: "is not allowed: only same-document" });
      });
    }

    it("a Reference without URI → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, '<ds:Reference URI="#edxml-header">', "<ds:Reference>"), "FORMAT_FAILURE", { error: "is not allowed" });
    });

    it("no signature at all (ds:Signature removed) → NO_SIGNATURE", async () => {
      const report = await rejects(sub(EDOC, slice(EDOC, "<ds:Signature ", "</ds:Signature>"), ""), "NO_SIGNATURE", { error: "the packet is not signed" });
      expect(report.indication).to.equal("INDETERMINATE");
    });

    it("ds:Signature replaced by a QCVN-namespace placeholder <Signature> → NO_SIGNATURE", async () => {
      const sig = slice(EDOC, "<ds:Signature ", "</ds:Signature>");
      const placeholder = sig.replace(/ds:/g, "edXML:").replace(/ xmlns:edXML="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#"/, "");
      await rejects(sub(EDOC, sig, placeholder), "NO_SIGNATURE", { error: "placeholder" });
    });

    for (const name of ["edoc_new_generated_by_vnpt_lib.edxml", "status_processing_05.edxml"]) {
      it(`the unsigned public sample ${name} → NO_SIGNATURE`, async () => {
        const bytes = readFileSync(fixturePath(`samples/${name}`));
        await rejects(bytes, "NO_SIGNATURE", { error: "the packet is not signed" });
      });
    }
  });

  // ----------------------------------------------------------------------------------------------
  // A namespace-aware reader (xmlsec1's, Santuario's, a Java DOM) and a reader by local name must
  // read the same business data from a signed part: every element of a signed part is in the QCVN
  // namespace, and a single-valued field appears once. Each case is signed by the genuine key.
  describe("1b. what is signed must be what is shown: namespaces and single-valued fields", () => {
    const OTHER = 'xmlns:x="urn:example:other"';

    it("unsigned attributes or text in the frame around the signed parts (root, envelope, header) → FORMAT_FAILURE", async () => {
      const root = /<edXML\b[^>]*>/.exec(EDOC)![0];
      const withAttr = (attr: string) => sub(EDOC, root, root.replace(/>$/, ` ${attr}>`));
      await rejects(withAttr('xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x http://evil.example/x.xsd"'), "FORMAT_FAILURE", { error: "carries the attribute xsi:schemaLocation" });
      await rejects(withAttr('xml:base="http://evil.example/"'), "FORMAT_FAILURE", { error: "carries the attribute xml:base" });
      const headerOpen = /<edXML:edXMLHeader\b[^>]*>/.exec(EDOC)![0];
      await rejects(sub(EDOC, headerOpen, `${headerOpen}Văn bản này đã bị thu hồi`), "FORMAT_FAILURE", { error: "<edXMLHeader> holds text of its own" });
    });
    const resigned = (xml: string) => resign(xml, testPki().sender.privateKey);

    it("an Attachment in a foreign namespace (re-signed) → FORMAT_FAILURE", async () => {
      const a1 = slice(EDOC, '<Attachment Id="edxml-att-1">', "</Attachment>");
      const foreign = a1.replace('<Attachment Id="edxml-att-1">', `<x:Attachment ${OTHER} Id="edxml-att-1">`).replace(/<\/Attachment>$/, "</x:Attachment>");
      await rejects(resigned(sub(EDOC, a1, foreign)), "FORMAT_FAILURE", { error: "<x:Attachment> is not in the edXML namespace" });
    });

    it("a foreign-namespace Subject BEFORE the real one in the signed MessageHeader (re-signed) → FORMAT_FAILURE", async () => {
      const xml = sub(EDOC, "<edXML:Subject>", `<x:Subject ${OTHER}>Quyết định bãi bỏ toàn bộ văn bản (giả mạo)</x:Subject><edXML:Subject>`);
      await rejects(resigned(xml), "FORMAT_FAILURE", { error: "<x:Subject> is not in the edXML namespace" });
    });

    it("a foreign-namespace Subject AFTER the real one (re-signed) → FORMAT_FAILURE", async () => {
      const xml = sub(EDOC, "</edXML:Subject>", `</edXML:Subject><x:Subject ${OTHER}>Quyết định bãi bỏ (giả mạo)</x:Subject>`);
      await rejects(resigned(xml), "FORMAT_FAILURE", { error: "not in the edXML namespace" });
    });

    it("a foreign-namespace element inside a signed Organization (re-signed) → FORMAT_FAILURE", async () => {
      const xml = sub(EDOC, `<edXML:OrganId>${SENDER}</edXML:OrganId>\n          <edXML:OrganName>`, `<x:OrganId ${OTHER}>${RECIPIENT}</x:OrganId><edXML:OrganId>${SENDER}</edXML:OrganId>\n          <edXML:OrganName>`);
      await rejects(resigned(xml), "FORMAT_FAILURE", { error: "<x:OrganId> is not in the edXML namespace" });
    });

    it("a foreign-namespace element in the signed Bussiness and in the signed manifest (re-signed) → FORMAT_FAILURE", async () => {
      await rejects(resigned(sub(EDOC, "<edXML:Paper>", `<x:Paper ${OTHER}>1</x:Paper><edXML:Paper>`)), "FORMAT_FAILURE", { error: "<x:Paper> is not in the edXML namespace" });
      await rejects(resigned(sub(EDOC, "</edXML:edXMLManifest>", `<x:Reference ${OTHER}/></edXML:edXMLManifest>`)), "FORMAT_FAILURE", { error: "<x:Reference> is not in the edXML namespace" });
    });

    it("the signed Bussiness itself in a foreign namespace (re-signed) → FORMAT_FAILURE", async () => {
      const business = slice(EDOC, "<edXML:Bussiness ", "</edXML:Bussiness>");
      const foreign = business.replace("<edXML:Bussiness ", `<x:Bussiness ${OTHER} `).replace(/<\/edXML:Bussiness>$/, "</x:Bussiness>");
      await rejects(resigned(sub(EDOC, business, foreign)), "FORMAT_FAILURE", { error: "<x:Bussiness> is not in the edXML namespace" });
    });

    // Single-valued fields (shared/reference/edxml.md §2.2–§3.1): a second one is read by one
    // reader and ignored by another.
    const dupes: Array<[string, () => string, string | RegExp, string]> = [
      ["a second Subject in the QCVN namespace", () => EDOC, "</edXML:Subject>", "</edXML:Subject><edXML:Subject>Quyết định bãi bỏ (giả mạo)</edXML:Subject>"],
      ["a second From", () => EDOC, "<edXML:From>", `<edXML:From><edXML:OrganId>${RECIPIENT}</edXML:OrganId></edXML:From><edXML:From>`],
      ["a second OrganId in From", () => EDOC, `<edXML:OrganId>${SENDER}</edXML:OrganId>\n          <edXML:OrganName>`, `<edXML:OrganId>${SENDER}</edXML:OrganId><edXML:OrganId>${RECIPIENT}</edXML:OrganId>\n          <edXML:OrganName>`],
      ["a second Code", () => EDOC, "<edXML:Code>", "<edXML:Code><edXML:CodeNumber>999</edXML:CodeNumber><edXML:CodeNotation>QĐ-GIẢ</edXML:CodeNotation></edXML:Code><edXML:Code>"],
      ["a second CodeNumber", () => EDOC, "<edXML:CodeNumber>123</edXML:CodeNumber>", "<edXML:CodeNumber>123</edXML:CodeNumber><edXML:CodeNumber>999</edXML:CodeNumber>"],
      ["a second DocumentId", () => EDOC, "<edXML:DocumentId>", "<edXML:DocumentId>000.00.00.G22,2026/11/20,999/QĐ-GIẢ</edXML:DocumentId><edXML:DocumentId>"],
      ["a second PromulgationDate", () => EDOC, "<edXML:PromulgationDate>2026/11/20</edXML:PromulgationDate>", "<edXML:PromulgationDate>2026/11/20</edXML:PromulgationDate><edXML:PromulgationDate>2020/01/01</edXML:PromulgationDate>"],
      ["both spellings BussinessDocType and BusinessDocType", () => EDOC, "<edXML:BussinessDocType>0</edXML:BussinessDocType>", "<edXML:BusinessDocType>1</edXML:BusinessDocType><edXML:BussinessDocType>0</edXML:BussinessDocType>"],
      ["a second AttachmentName in an Attachment", () => EDOC, `<AttachmentName>${NAMES[0]}</AttachmentName>`, `<AttachmentName>${NAMES[0]}</AttachmentName><AttachmentName>virus.exe</AttachmentName>`],
      ["a second ContentId in a manifest Reference", () => EDOC, "<edXML:ContentId>cid:c0ffee00-0000-4000-8000-000000000001</edXML:ContentId>", "<edXML:ContentId>cid:c0ffee00-0000-4000-8000-000000000001</edXML:ContentId><edXML:ContentId>cid:evil</edXML:ContentId>"],
    ];
    for (const [what, base, from, to] of dupes) {
      it(`${what} (re-signed) → FORMAT_FAILURE`, async () => {
        await rejects(resigned(sub(base(), from, to)), "FORMAT_FAILURE", { error: /holds more than one <\w+>/ });
      });
    }

    const statusDupes: Array<[string, string, string]> = [
      ["a second StatusCode", "<edXML:StatusCode>03</edXML:StatusCode>", "<edXML:StatusCode>03</edXML:StatusCode><edXML:StatusCode>16</edXML:StatusCode>"],
      ["a second Timestamp", "<edXML:Timestamp>2026/11/20 10:00:00</edXML:Timestamp>", "<edXML:Timestamp>2026/11/20 10:00:00</edXML:Timestamp><edXML:Timestamp>2030/01/01 00:00:00</edXML:Timestamp>"],
      ["a second ResponseFor", "<edXML:ResponseFor>", "<edXML:ResponseFor><edXML:DocumentId>other</edXML:DocumentId></edXML:ResponseFor><edXML:ResponseFor>"],
    ];
    for (const [what, from, to] of statusDupes) {
      it(`status packet: ${what} (re-signed) → FORMAT_FAILURE`, async () => {
        await rejects(resign(sub(STATUS, from, to), testPki().recipient.privateKey), "FORMAT_FAILURE", { error: /holds more than one <\w+>/ });
      });
    }

    it("a status StatusCode in a foreign namespace before the real one (re-signed) → FORMAT_FAILURE", async () => {
      const xml = sub(STATUS, "<edXML:StatusCode>", `<x:StatusCode ${OTHER}>16</x:StatusCode><edXML:StatusCode>`);
      await rejects(resign(xml, testPki().recipient.privateKey), "FORMAT_FAILURE", { error: "<x:StatusCode> is not in the edXML namespace" });
    });

    it("an element inside a signed text field (Subject = text + element + text; re-signed) → FORMAT_FAILURE", async () => {
      const xml = sub(EDOC, `>${VIETNAMESE}<`, `>Quyết định<edXML:b> bãi bỏ</edXML:b> về việc ban hành<`);
      await rejects(resigned(xml), "FORMAT_FAILURE", { error: "<Subject> must hold text only" });
    });

    it("a Code with its own text beside CodeNumber and CodeNotation (re-signed) → FORMAT_FAILURE", async () => {
      await rejects(resigned(sub(EDOC, "<edXML:Code>", "<edXML:Code>999/QĐ-GIẢ")), "FORMAT_FAILURE", { error: "<Code> mixes text and elements" });
    });

    it("a second SigningTime, or one in a foreign namespace, in the signed properties (re-signed) → FORMAT_FAILURE", async () => {
      const time = /<xades:SigningTime>[^<]*<\/xades:SigningTime>/.exec(EDOC)![0];
      for (const evil of [`${time}<xades:SigningTime>2020-01-01T00:00:00+07:00</xades:SigningTime>`, `<x:SigningTime ${OTHER}>2020-01-01T00:00:00+07:00</x:SigningTime>${time}`]) {
        await rejects(resigned(sub(EDOC, time, evil)), "FORMAT_FAILURE", { error: "at most one xades:SigningTime" });
      }
    });

    it("(a refused status packet's report names the document it answers, not the text of its whole ResponseFor)", async () => {
      const report = await rejects(sub(STATUS, '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="edxml-signature">', '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="other">'), "FORMAT_FAILURE", { error: "the signature's Id must be" });
      expect(report.documentId).to.equal(`${SENDER},2026/11/20,123/QĐ-VPCP`);
    });

    it("(fields that may repeat still do: three To, two ResponseFor in an edoc, an unknown QCVN extension element → valid)", async () => {
      let xml = sub(EDOC, "<edXML:DocumentId>", `<edXML:To><edXML:OrganId>000.00.00.H14</edXML:OrganId></edXML:To><edXML:To><edXML:OrganId>000.00.00.K01</edXML:OrganId></edXML:To><edXML:DocumentId>`);
      xml = sub(xml, "<edXML:SteeringType>", `<edXML:ResponseFor><edXML:OrganId>${SENDER}</edXML:OrganId><edXML:DocumentId>a</edXML:DocumentId></edXML:ResponseFor><edXML:ResponseFor><edXML:OrganId>${SENDER}</edXML:OrganId><edXML:DocumentId>b</edXML:DocumentId></edXML:ResponseFor><edXML:ApplicationType>QLVB</edXML:ApplicationType><edXML:SteeringType>`);
      const { content } = await accepts(resigned(xml));
      const header = content!.packet.kind === "edoc" ? content!.packet.header : null;
      expect(header!.To.map((t) => t.OrganId)).to.deep.equal([RECIPIENT, "000.00.00.H14", "000.00.00.K01"]);
      expect(header!.ResponseFor!.map((r) => r.DocumentId)).to.deep.equal(["a", "b"]);
    });
  });

  // ----------------------------------------------------------------------------------------------
  describe("2. parser attacks", () => {
    const DECL = '<?xml version="1.0" encoding="UTF-8"?>';

    it("DOCTYPE with an internal entity used in signed text → FORMAT_FAILURE", async () => {
      const xml = sub(sub(EDOC, DECL, `${DECL}\n<!DOCTYPE edXML [<!ENTITY s "${VIETNAMESE}">]>`), `>${VIETNAMESE}<`, ">&s;<");
      await rejects(xml, "FORMAT_FAILURE", { error: "DOCTYPE and ENTITY declarations are not allowed" });
    });

    it("external SYSTEM entity (XXE) → FORMAT_FAILURE", async () => {
      const xml = sub(sub(EDOC, DECL, `${DECL}\n<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`), `>${VIETNAMESE}<`, ">&xxe;<");
      await rejects(xml, "FORMAT_FAILURE", { error: "DOCTYPE and ENTITY declarations are not allowed" });
    });

    it("billion laughs → FORMAT_FAILURE", async () => {
      const levels = ['<!ENTITY lol "lol">'];
      for (let i = 1; i <= 9; i++) levels.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? "" : i - 1};`.repeat(10)}">`);
      const xml = sub(sub(EDOC, DECL, `${DECL}\n<!DOCTYPE edXML [${levels.join("")}]>`), `>${VIETNAMESE}<`, ">&lol9;<");
      await rejects(xml, "FORMAT_FAILURE", { error: "DOCTYPE" });
    });

    it("an undefined entity reference in signed text (no DTD) → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, `>${VIETNAMESE}<`, ">&s;<"), "FORMAT_FAILURE", { error: "not well-formed" });
    });

    it("processing instruction before the root → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, "<edXML xmlns=", '<?xml-stylesheet type="text/xsl" href="evil.xsl"?>\n<edXML xmlns='), "FORMAT_FAILURE", { error: "processing instructions are not allowed" });
    });

    it("processing instruction inside the signed header → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, "<edXML:Subject>", "<edXML:Subject><?evil x?>"), "FORMAT_FAILURE", { error: "processing instructions are not allowed" });
    });

    it("processing instruction inside the unsigned TraceHeaderList → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, "<edXML:TraceHeaderList>", "<edXML:TraceHeaderList><?evil x?>"), "FORMAT_FAILURE", { error: "processing instructions are not allowed" });
    });

    it("an XML declaration not at the very start → FORMAT_FAILURE", async () => {
      await rejects("\n" + EDOC, "FORMAT_FAILURE");
    });

    it("a trailing second root element → FORMAT_FAILURE", async () => {
      await rejects(EDOC + '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>', "FORMAT_FAILURE", { error: "not well-formed" });
    });

    it("text after the root element → FORMAT_FAILURE", async () => {
      await rejects(EDOC + "trailing junk", "FORMAT_FAILURE");
    });

    it("BOM followed by junk before the declaration → FORMAT_FAILURE", async () => {
      await rejects(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("junk"), Buffer.from(EDOC)]), "FORMAT_FAILURE");
    });

    for (const enc of ["ISO-8859-1", "windows-1258", "UTF-16"]) {
      it(`a non-UTF-8 encoding declaration (${enc}) → FORMAT_FAILURE`, async () => {
        await rejects(sub(EDOC, DECL, `<?xml version="1.0" encoding="${enc}"?>`), "FORMAT_FAILURE", { error: `only UTF-8 is accepted, the packet declares encoding "${enc}"` });
      });
    }

    // XML 1.1 normalises NEL (U+0085) and LINE SEPARATOR (U+2028) to a line feed: changed signed
    // bytes would canonicalise like the signed ones for us, but not for an XML 1.0 peer.
    for (const [name, ch] of [
      ["LINE SEPARATOR", "\u2028"],
      ["NEL", "\u0085"],
    ] as const) {
      it(`XML 1.1 declared, a line feed in the signed header replaced by ${name} → FORMAT_FAILURE`, async () => {
        const xml = sub(sub(EDOC, DECL, '<?xml version="1.1" encoding="UTF-8"?>'), "\n        <edXML:Subject>", `${ch}        <edXML:Subject>`);
        await rejects(xml, "FORMAT_FAILURE", { error: 'only XML 1.0 is accepted, the packet declares version "1.1"' });
      });

      it(`(XML 1.0: the same ${name} is a plain character in signed content → HASH_FAILURE)`, async () => {
        await hashFailure(sub(EDOC, "\n        <edXML:Subject>", `${ch}        <edXML:Subject>`), ["#edxml-header"]);
      });
    }

    it("a packet in UTF-16 bytes → FORMAT_FAILURE", async () => {
      const text = "\ufeff" + sub(EDOC, DECL, '<?xml version="1.0" encoding="UTF-16"?>');
      await rejects(Buffer.from(text, "utf16le"), "FORMAT_FAILURE");
    });

    it("an unclosed tag → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, "</edXML:Subject>", ""), "FORMAT_FAILURE", { error: "not well-formed" });
    });

    it("a truncated packet → FORMAT_FAILURE", async () => {
      await rejects(EDOC.slice(0, Math.floor(EDOC.length / 2)), "FORMAT_FAILURE");
    });

    it("a packet ending inside an attachment's content → FORMAT_FAILURE", async () => {
      await rejects(EDOC.slice(0, EDOC.indexOf(ATT2) + 10), "FORMAT_FAILURE", { error: "ends inside an attachment" });
    });

    it("empty input → FORMAT_FAILURE", async () => {
      await rejects("", "FORMAT_FAILURE");
    });

    it("nesting deeper than 64 levels (in an unsigned TraceHeader) → FORMAT_FAILURE", async () => {
      const deep = "<edXML:X>".repeat(70) + "</edXML:X>".repeat(70);
      await rejects(sub(EDOC, "<edXML:TraceHeader>", `<edXML:TraceHeader>${deep}`), "FORMAT_FAILURE", { error: "nested deeper than 64" });
    });

    it("100 000 levels of nesting do not crash the verifier → FORMAT_FAILURE", async () => {
      const deep = "<a>".repeat(100_000) + "</a>".repeat(100_000);
      await rejects(sub(EDOC, "<edXML:TraceHeader>", `<edXML:TraceHeader>${deep}`), "FORMAT_FAILURE", { error: "nested deeper than 64" });
    });

    // Wide trees: spreading a subtree's nodes into one push() overflowed the stack and the
    // RangeError escaped verifyPacket; the parser now also caps the element count at 100 000.
    it("90 000 relay TraceHeaders (a wide, unsigned tree) do not crash the verifier: valid", async () => {
      const { content } = await accepts(sub(EDOC, "</edXML:TraceHeaderList>", `${"<edXML:TraceHeader/>".repeat(90_000)}</edXML:TraceHeaderList>`));
      expect(content!.unsignedTraces).to.have.length(90_001);
    });

    it("90 000 elements in the signature's ds:Object with a tampered header → HASH_FAILURE, no crash", async () => {
      const xml = sub(sub(EDOC, VIETNAMESE, "Quyết định (giả mạo)"), "</xades:QualifyingProperties></ds:Object>", `</xades:QualifyingProperties><ds:Wide>${"<ds:a/>".repeat(90_000)}</ds:Wide></ds:Object>`);
      await hashFailure(xml, ["#edxml-header"]);
    });

    it("300 000 elements anywhere → FORMAT_FAILURE (element cap), no crash", async () => {
      await rejects(sub(EDOC, "</edXML:Subject>", `${"<edXML:b/>".repeat(300_000)}</edXML:Subject>`), "FORMAT_FAILURE", { error: "more than 100000 elements" });
    });

    it("an oversized skeleton (XML outside attachments over the scan limit) → FORMAT_FAILURE", async () => {
      const limits = { maxSkeletonBytes: 8 * 1024, maxAttachments: 10 };
      await rejects(EDOC, "FORMAT_FAILURE", { limits, error: "exceeds 8192 bytes" });
    });

    it("an oversized skeleton under the default 16 MB limit (a huge unsigned comment) → FORMAT_FAILURE", async () => {
      const xml = sub(EDOC, "<edXML:TraceHeaderList>", `<edXML:TraceHeaderList><!--${"x".repeat(17 * 1024 * 1024)}-->`);
      await rejects(xml, "FORMAT_FAILURE", { error: "exceeds" });
    });

    it("more attachments than the scan limit → FORMAT_FAILURE", async () => {
      await rejects(EDOC, "FORMAT_FAILURE", { limits: { maxSkeletonBytes: 1 << 20, maxAttachments: 1 }, error: "more than 1 attachments" });
    });

    // An XML-level verifier would accept these (C14N turns CDATA into text and drops comments), but
    // the streamed bytes would not be what was digested: they must be refused, not "verified".
    it("attachment content wrapped in CDATA (same canonical form) → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, `>${ATT1}<`, `><![CDATA[${ATT1}]]><`), "FORMAT_FAILURE", { error: "plain base64" });
    });

    it("a comment inside an attachment's content (same canonical form) → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, `>${ATT1}<`, `>${ATT1.slice(0, 8)}<!-- x -->${ATT1.slice(8)}<`), "FORMAT_FAILURE", { error: "plain base64" });
    });

    it("a character reference inside an attachment's content (same canonical form) → FORMAT_FAILURE", async () => {
      const c = ATT2[4]!;
      const xml = sub(EDOC, `>${ATT2}<`, `>${ATT2.slice(0, 4)}&#x${c.charCodeAt(0).toString(16)};${ATT2.slice(5)}<`);
      await rejects(xml, "FORMAT_FAILURE", { error: "not plain base64 text" });
    });

    it("an &amp; entity inside an attachment's content → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, `>${ATT2}<`, `>${ATT2.slice(0, 4)}&amp;${ATT2.slice(4)}<`), "FORMAT_FAILURE", { error: "not plain base64 text" });
    });

    it("an element inside an attachment's content → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, `>${ATT1}<`, `>${ATT1.slice(0, 8)}<edXML:x/>${ATT1.slice(8)}<`), "FORMAT_FAILURE", { error: "plain base64" });
    });

    it("a SignatureValue or certificate broken by white space XML does not know (NBSP, BOM, U+2028) → FORMAT_FAILURE, as xmlsec1 refuses it", async () => {
      const value = /<ds:SignatureValue>([^<]*)</.exec(EDOC)![1];
      const cert = /<ds:X509Certificate>([^<]*)</.exec(EDOC)![1];
      for (const space of ["\u00A0", "\uFEFF", "\u2028", "\u3000"]) {
        await rejects(sub(EDOC, `>${value}<`, `>${value.slice(0, 8)}${space}${value.slice(8)}<`), "FORMAT_FAILURE", { error: "SignatureValue is not a base64 value" });
        await rejects(sub(EDOC, `>${cert}<`, `>${cert.slice(0, 8)}${space}${cert.slice(8)}<`), "FORMAT_FAILURE", { error: "not a base64 value" });
      }
    });
  });

  // ----------------------------------------------------------------------------------------------
  describe("3. disallowed algorithms (checked before any digest or signature)", () => {
    const senderKey = () => testPki().sender.privateKey;
    const headerRef = () => referenceText(EDOC, "#edxml-header");
    /** Replaces the header reference's exc-c14n Transforms element. */
    const transforms = (replacement: string) => sub(EDOC, headerRef(), sub(headerRef(), EXC_TRANSFORM, replacement));

    it("rsa-sha1 SignatureMethod (genuinely re-signed with RSA-SHA1) → DISALLOWED_ALGORITHM", async () => {
      const xml = resign(sub(EDOC, `<ds:SignatureMethod Algorithm="${ALG.RSA_SHA256}"/>`, `<ds:SignatureMethod Algorithm="${RSA_SHA1}"/>`), senderKey());
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: `signature algorithm ${RSA_SHA1}` });
    });

    it("sha1 digest (genuinely recomputed and re-signed) → DISALLOWED_ALGORITHM", async () => {
      const ref = sub(headerRef(), `<ds:DigestMethod Algorithm="${ALG.SHA256}"/>`, `<ds:DigestMethod Algorithm="${SHA1}"/>`);
      const xml = resign(sub(EDOC, headerRef(), ref), senderKey());
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: `digest ${SHA1} in reference "#edxml-header"` });
    });

    // SigningCertificateV2 is checked in step 4: a digest it cannot compute names no certificate.
    it("sha1 digest in SigningCertificateV2 (re-signed) → NO_SIGNING_CERTIFICATE_FOUND", async () => {
      let xml = sub(EDOC, /(<xades:CertDigest><ds:DigestMethod Algorithm=")[^"]*("\/><ds:DigestValue>)[^<]*/, (_m, a, b) => `${a}${SHA1}${b}${createHash("sha1").update(testPki().sender.certificate.raw).digest("base64")}`);
      xml = resign(xml, senderKey());
      await rejects(xml, "NO_SIGNING_CERTIFICATE_FOUND", { error: "SigningCertificateV2" });
    });

    it("inclusive C14N as CanonicalizationMethod → DISALLOWED_ALGORITHM", async () => {
      const xml = sub(EDOC, `<ds:CanonicalizationMethod Algorithm="${EXC}"/>`, `<ds:CanonicalizationMethod Algorithm="${C14N_INCLUSIVE}"/>`);
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: `canonicalization ${C14N_INCLUSIVE}` });
    });

    it("exc-c14n #WithComments as CanonicalizationMethod → DISALLOWED_ALGORITHM", async () => {
      const xml = sub(EDOC, `<ds:CanonicalizationMethod Algorithm="${EXC}"/>`, `<ds:CanonicalizationMethod Algorithm="${EXC_C14N_COMMENTS}"/>`);
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: `canonicalization ${EXC_C14N_COMMENTS}` });
    });

    it("exc-c14n #WithComments as a reference transform → DISALLOWED_ALGORITHM", async () => {
      const xml = transforms(`<ds:Transforms><ds:Transform Algorithm="${EXC_C14N_COMMENTS}"/></ds:Transforms>`);
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: `transform ${EXC_C14N_COMMENTS}` });
    });

    it("inclusive C14N as a reference transform → DISALLOWED_ALGORITHM", async () => {
      await rejects(transforms(`<ds:Transforms><ds:Transform Algorithm="${C14N_INCLUSIVE}"/></ds:Transforms>`), "DISALLOWED_ALGORITHM", { error: C14N_INCLUSIVE });
    });

    it("XPath transform → DISALLOWED_ALGORITHM", async () => {
      const xml = transforms(`<ds:Transforms><ds:Transform Algorithm="${XPATH}"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform><ds:Transform Algorithm="${EXC}"/></ds:Transforms>`);
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: `transform ${XPATH}` });
    });

    it("XSLT transform → DISALLOWED_ALGORITHM", async () => {
      const xml = transforms(`<ds:Transforms><ds:Transform Algorithm="${XSLT}"><xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"/></ds:Transform></ds:Transforms>`);
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: `transform ${XSLT}` });
    });

    it("enveloped-signature transform → DISALLOWED_ALGORITHM", async () => {
      const xml = transforms(`<ds:Transforms><ds:Transform Algorithm="${ENVELOPED}"/><ds:Transform Algorithm="${EXC}"/></ds:Transforms>`);
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: `transform ${ENVELOPED}` });
    });

    it("two transforms (exc-c14n twice) → DISALLOWED_ALGORITHM", async () => {
      const xml = transforms(`<ds:Transforms><ds:Transform Algorithm="${EXC}"/><ds:Transform Algorithm="${EXC}"/></ds:Transforms>`);
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: "must have exactly one transform (exc-c14n), it has 2" });
    });

    it("no Transforms element → DISALLOWED_ALGORITHM", async () => {
      await rejects(transforms(""), "DISALLOWED_ALGORITHM", { error: 'reference "#edxml-header" without the exc-c14n transform' });
    });

    it("an empty Transforms element → DISALLOWED_ALGORITHM", async () => {
      await rejects(transforms("<ds:Transforms/>"), "DISALLOWED_ALGORITHM", { error: "it has 0" });
    });

    it("an exc-c14n Transform outside the XMLDSig namespace → DISALLOWED_ALGORITHM", async () => {
      await rejects(transforms(`<ds:Transforms><x:Transform xmlns:x="urn:example:evil" Algorithm="${EXC}"/></ds:Transforms>`), "DISALLOWED_ALGORITHM", { error: "<x:Transform> outside the XML Signature namespace" });
    });

    it("InclusiveNamespaces child in the exc-c14n transform → DISALLOWED_ALGORITHM", async () => {
      const xml = transforms(`<ds:Transforms><ds:Transform Algorithm="${EXC}"><ec:InclusiveNamespaces xmlns:ec="${EXC}" PrefixList="edXML ds"/></ds:Transform></ds:Transforms>`);
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: `transform ${EXC}` });
    });

    it("InclusiveNamespaces child in the CanonicalizationMethod → DISALLOWED_ALGORITHM", async () => {
      const xml = sub(EDOC, `<ds:CanonicalizationMethod Algorithm="${EXC}"/>`, `<ds:CanonicalizationMethod Algorithm="${EXC}"><ec:InclusiveNamespaces xmlns:ec="${EXC}" PrefixList="ds"/></ds:CanonicalizationMethod>`);
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: `canonicalization ${EXC}` });
    });

    it("HMAC-SHA1 SignatureMethod → DISALLOWED_ALGORITHM", async () => {
      const xml = sub(EDOC, `<ds:SignatureMethod Algorithm="${ALG.RSA_SHA256}"/>`, `<ds:SignatureMethod Algorithm="${HMAC_SHA1}"><ds:HMACOutputLength>160</ds:HMACOutputLength></ds:SignatureMethod>`);
      await rejects(xml, "DISALLOWED_ALGORITHM", { error: HMAC_SHA1 });
    });

    it("an RSA 1024-bit signer (real 1024-bit key, chained and registered, genuinely re-signed) → DISALLOWED_ALGORITHM", async () => {
      const { intermediate } = testPki();
      const weak = issueCertificate({ subject: { CN: "Weak 1024-bit signer" }, issuer: intermediate, keyPair: generateKeyPairSync("rsa", { modulusLength: 1024 }) });
      const xml = resign(EDOC, weak.privateKey, { certs: [weak.certificate, intermediate.certificate] });
      const registry = registryFor({ [SENDER]: { ...weak, chain: [] } });
      await rejects(xml, "DISALLOWED_ALGORITHM", { registry, error: "signer key rsa 1024 bits (RSA ≥ 2048 required)" });
    });
  });

  // ----------------------------------------------------------------------------------------------
  describe("4. certificates, revocation and the binding to the sender", () => {
    const DAY = 86_400_000;
    const now = Date.now();
    // A CA hierarchy valid since 60 days, so validation times in the past are meaningful.
    let root: CertAndKey;
    let ca: CertAndKey;
    before(() => {
      root = issueCertificate({ subject: { CN: "Long-lived Test Root", O: "Ban Cơ yếu (test)" }, ca: true, notBefore: new Date(now - 60 * DAY) });
      ca = issueCertificate({ subject: { CN: "Long-lived Issuing CA", O: "Ban Cơ yếu (test)" }, issuer: root, ca: true, notBefore: new Date(now - 60 * DAY) });
    });
    const leaf = (opts: Partial<Parameters<typeof issueCertificate>[0]> = {}, issuer: CertAndKey = ca): Identity => ({
      ...issueCertificate({ subject: { CN: "Văn phòng Chính phủ (test signer)", O: "Test agency" }, issuer, notBefore: new Date(now - 30 * DAY), ...opts }),
      chain: [issuer.certificate],
    });
    const trustFor = (id: Identity, anchors = [root.certificate]): Partial<VerifyOptions> => ({ anchors, crls: [], registry: registryFor({ [SENDER]: id }) });
    const packBy = async (id: Identity) => (await pack(sampleEdoc(), [], id)).toString();

    it("control: a signer of that hierarchy verifies", async () => {
      const id = leaf();
      await accepts(await packBy(id), trustFor(id));
    });

    it("expired signer → EXPIRED (and valid at a time inside its validity)", async () => {
      const id = leaf({ notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) });
      const xml = await packBy(id);
      await rejects(xml, "EXPIRED", { ...trustFor(id), error: "expired on" });
      await accepts(xml, { ...trustFor(id), at: new Date(now - 10 * DAY) });
    });

    it("not-yet-valid signer → NOT_YET_VALID", async () => {
      const id = leaf({ notBefore: new Date(now + DAY), notAfter: new Date(now + 400 * DAY) });
      await rejects(await packBy(id), "NOT_YET_VALID", { ...trustFor(id), error: "is not yet valid" });
    });

    it("expired intermediate CA → EXPIRED", async () => {
      const oldCa = issueCertificate({ subject: { CN: "Expired Issuing CA" }, issuer: root, ca: true, notBefore: new Date(now - 50 * DAY), notAfter: new Date(now - DAY) });
      const id = leaf({ notBefore: new Date(now - 40 * DAY) }, oldCa);
      await rejects(await packBy(id), "EXPIRED", { ...trustFor(id), error: "Expired Issuing CA" });
    });

    it("revoked by a CRL → REVOKED, and valid when checked before the revocation date", async () => {
      const id = leaf();
      const xml = await packBy(id);
      const crl = await createCrl(ca, [{ serial: id.certificate.serialNumber, date: new Date(now - 10 * DAY) }], { thisUpdate: new Date(now - DAY) });
      await rejects(xml, "REVOKED", { ...trustFor(id), crls: [crl], error: "was revoked on" });
      const earlier = await verify(xml, { ...trustFor(id), crls: [crl], at: new Date(now - 20 * DAY) });
      expect(earlier.report.errors).to.deep.equal([]);
      expect(earlier.report.valid).to.equal(true);
      expect(earlier.report.warnings.join("\n")).to.include("was revoked later");
    });

    it("a CRL signed by another key with the issuer's name is ignored (valid, with a warning)", async () => {
      const id = leaf();
      const forger = issueCertificate({ subject: { CN: "Long-lived Issuing CA", O: "Ban Cơ yếu (test)" }, ca: true, keyPair: attacker() });
      const crl = await createCrl(forger, [{ serial: id.certificate.serialNumber, date: new Date(now - 10 * DAY) }]);
      const { report } = await accepts(await packBy(id), { ...trustFor(id), crls: [crl] });
      expect(report.warnings.join("\n")).to.include("was ignored");
    });

    it("untrusted CA (a whole other hierarchy, registered for the sender) → NO_CERTIFICATE_CHAIN_FOUND", async () => {
      const otherRoot = issueCertificate({ subject: { CN: "Unrelated Root CA" }, ca: true, notBefore: new Date(now - 60 * DAY) });
      const id = leaf({}, otherRoot);
      await rejects(await packBy(id), "NO_CERTIFICATE_CHAIN_FOUND", { ...trustFor(id), error: "no chain of trust" });
    });

    it("no trust anchors configured → NO_CERTIFICATE_CHAIN_FOUND", async () => {
      const id = leaf();
      await rejects(await packBy(id), "NO_CERTIFICATE_CHAIN_FOUND", { ...trustFor(id, []), error: "no trusted root certificates" });
    });

    it("same subject, other key: a leaf naming the real issuing CA but signed by another key → NO_CERTIFICATE_CHAIN_FOUND", async () => {
      const forged = issueCertificate({ subject: { CN: "Văn phòng Chính phủ (test signer)" }, issuer: { certificate: ca.certificate, privateKey: attacker().privateKey }, notBefore: new Date(now - DAY) });
      const id = { ...forged, chain: [ca.certificate] };
      expect(forged.certificate.issuer).to.equal(ca.certificate.subject);
      await rejects(await packBy(id), "NO_CERTIFICATE_CHAIN_FOUND", { ...trustFor(id), error: "has the issuer's name but did not issue" });
    });

    it("same subject, other key: a fake intermediate with the real intermediate's subject → NO_CERTIFICATE_CHAIN_FOUND", async () => {
      const fakeCa = issueCertificate({
        subject: { CN: "Long-lived Issuing CA", O: "Ban Cơ yếu (test)" },
        issuer: { certificate: root.certificate, privateKey: attacker().privateKey },
        ca: true,
        keyPair: attacker(),
      });
      expect(fakeCa.certificate.subject).to.equal(ca.certificate.subject);
      const id = leaf({}, fakeCa);
      await rejects(await packBy(id), "NO_CERTIFICATE_CHAIN_FOUND", { ...trustFor(id), error: "no chain of trust" });
    });

    it("a CA:FALSE intermediate (with keyCertSign) issuing the leaf → NO_CERTIFICATE_CHAIN_FOUND", async () => {
      const notCa = issueCertificate({ subject: { CN: "Not a CA" }, issuer: root, ca: false, keyUsage: ["keyCertSign", "digitalSignature"], notBefore: new Date(now - 50 * DAY) });
      const id = leaf({}, notCa);
      await rejects(await packBy(id), "NO_CERTIFICATE_CHAIN_FOUND", { ...trustFor(id), error: "is not a CA certificate (basicConstraints cA is false)" });
    });

    it("an intermediate without basicConstraints issuing the leaf → NO_CERTIFICATE_CHAIN_FOUND", async () => {
      const noBc = issueCertificate({ subject: { CN: "No basicConstraints" }, issuer: root, basicConstraints: false, keyUsage: ["keyCertSign"], notBefore: new Date(now - 50 * DAY) });
      const id = leaf({}, noBc);
      await rejects(await packBy(id), "NO_CERTIFICATE_CHAIN_FOUND", { ...trustFor(id), error: "no basicConstraints extension" });
    });

    it("a leaf whose key usage lacks digitalSignature and nonRepudiation → NO_CERTIFICATE_CHAIN_FOUND", async () => {
      const id = leaf({ keyUsage: ["keyEncipherment"] });
      await rejects(await packBy(id), "NO_CERTIFICATE_CHAIN_FOUND", { ...trustFor(id), error: "key usage does not allow signing" });
    });

    it("a CA certificate (not pinned) used as the signer → NO_CERTIFICATE_CHAIN_FOUND", async () => {
      const id = leaf({ ca: true, keyUsage: ["keyCertSign", "digitalSignature"] });
      await rejects(await packBy(id), "NO_CERTIFICATE_CHAIN_FOUND", { ...trustFor(id), error: "is a CA certificate" });
    });

    it("a valid signer bound to ANOTHER agency in the registry → SIGNER_NOT_BOUND", async () => {
      const { recipient } = testPki();
      const xml = (await pack(sampleEdoc(), [], recipient)).toString(); // From = SENDER, signed by RECIPIENT's certificate
      const report = await rejects(xml, "SIGNER_NOT_BOUND", { error: `is not registered for the sender ${SENDER}` });
      expect(report.indication).to.equal("TOTAL_FAILED");
    });

    it("a status packet from RECIPIENT signed by SENDER's certificate → SIGNER_NOT_BOUND", async () => {
      const xml = signStatus(sampleStatus("03"), testPki().sender);
      await rejects(xml, "SIGNER_NOT_BOUND", { error: `is not registered for the sender ${RECIPIENT}` });
    });

    it("sender not in the registry → SIGNER_NOT_BOUND", async () => {
      await rejects(EDOC, "SIGNER_NOT_BOUND", { registry: registryFor({ [RECIPIENT]: testPki().recipient }), error: `the sender ${SENDER} is not in the agency registry` });
    });

    it("no registry → SIGNER_NOT_BOUND", async () => {
      await rejects(EDOC, "SIGNER_NOT_BOUND", { registry: null, error: "no agency registry was given" });
    });

    it("wrong SigningCertificateV2 digest (names another certificate; properly re-signed) → NO_SIGNING_CERTIFICATE_FOUND", async () => {
      const xml = resign(EDOC, testPki().sender.privateKey, { certDigest: sha256b64(testPki().recipient.certificate.raw) });
      await rejects(xml, "NO_SIGNING_CERTIFICATE_FOUND", { error: "is not the one the signed SigningCertificateV2 names" });
    });

    it("SigningCertificateV2 naming the intermediate CA instead of the signer (re-signed) → NO_SIGNING_CERTIFICATE_FOUND", async () => {
      const xml = resign(EDOC, testPki().sender.privateKey, { certDigest: sha256b64(testPki().intermediate.certificate.raw) });
      await rejects(xml, "NO_SIGNING_CERTIFICATE_FOUND", { error: "SigningCertificateV2" });
    });

    it("SigningCertificateV2 removed from the signed properties (re-signed) → NO_SIGNING_CERTIFICATE_FOUND", async () => {
      const xml = resign(sub(EDOC, /<xades:SigningCertificateV2>[\s\S]*?<\/xades:SigningCertificateV2>/, ""), testPki().sender.privateKey);
      await rejects(xml, "NO_SIGNING_CERTIFICATE_FOUND", { error: "hold no SigningCertificateV2" });
    });

    it("KeyInfo removed → NO_SIGNING_CERTIFICATE_FOUND", async () => {
      await rejects(sub(EDOC, /<ds:KeyInfo>[\s\S]*?<\/ds:KeyInfo>/, ""), "NO_SIGNING_CERTIFICATE_FOUND", { error: "carries no signer certificate" });
    });

    it("KeyInfo with a KeyName only → NO_SIGNING_CERTIFICATE_FOUND", async () => {
      await rejects(sub(EDOC, /<ds:KeyInfo>[\s\S]*?<\/ds:KeyInfo>/, "<ds:KeyInfo><ds:KeyName>000.00.00.G22</ds:KeyName></ds:KeyInfo>"), "NO_SIGNING_CERTIFICATE_FOUND", { error: "carries no signer certificate" });
    });

    // Found by the mutation fuzzer (fuzz.test.ts): KeyInfo was read by local name, so a certificate
    // that xmlsec1 or Santuario would not see (a foreign X509Data is "other" key information) was used.
    it("the X509Data or the X509Certificate in a foreign namespace → NO_SIGNING_CERTIFICATE_FOUND", async () => {
      const data = slice(EDOC, "<ds:X509Data>", "</ds:X509Data>");
      const foreignData = `<fz:X509Data xmlns:fz="urn:example:other">${data.slice("<ds:X509Data>".length, -"</ds:X509Data>".length)}</fz:X509Data>`;
      await rejects(sub(EDOC, data, foreignData), "NO_SIGNING_CERTIFICATE_FOUND", { error: "carries no signer certificate" });
      const foreignCerts = data.replace(/ds:X509Certificate>/g, "fz:X509Certificate>").replace("<ds:X509Data>", '<ds:X509Data xmlns:fz="urn:example:other">');
      await rejects(sub(EDOC, data, foreignCerts), "NO_SIGNING_CERTIFICATE_FOUND", { error: "carries no signer certificate" });
    });

    it("KeyInfo certificates in the wrong order (intermediate first) → NO_SIGNING_CERTIFICATE_FOUND", async () => {
      const { sender, intermediate } = testPki();
      const certs = [intermediate.certificate, sender.certificate].map((c) => `<ds:X509Certificate>${c.raw.toString("base64")}</ds:X509Certificate>`).join("");
      await rejects(sub(EDOC, /<ds:X509Data>[\s\S]*?<\/ds:X509Data>/, `<ds:X509Data>${certs}</ds:X509Data>`), "NO_SIGNING_CERTIFICATE_FOUND");
    });

    // Node gives validFrom "Bad time value" for such a certificate; turning it into the report's
    // ISO date threw a RangeError that escaped verifyPacket, before any trust decision.
    describe("a KeyInfo certificate valid from the year 0001", () => {
      const ancient = () =>
        issueCertificate({ subject: { CN: "Year one" }, notBefore: new Date("0001-01-01T00:00:00Z"), keyPair: attacker() });

      it("swapped into KeyInfo → NO_SIGNING_CERTIFICATE_FOUND, no crash", async () => {
        const c = ancient();
        expect(new Date(c.certificate.validFrom).getTime()).to.be.NaN;
        const xml = sub(EDOC, /<ds:X509Certificate>[^<]*<\/ds:X509Certificate>/g.exec(EDOC)![0], `<ds:X509Certificate>${c.certificate.raw.toString("base64")}</ds:X509Certificate>`);
        await rejects(xml, "NO_SIGNING_CERTIFICATE_FOUND");
      });

      it("self-signed, the packet properly re-signed with it → NO_CERTIFICATE_CHAIN_FOUND, no crash", async () => {
        const c = ancient();
        const report = await rejects(resign(EDOC, c.privateKey, { certs: [c.certificate] }), "NO_CERTIFICATE_CHAIN_FOUND");
        expect(report.signer!.notBefore).to.be.a("string");
      });

      it("issued by the trusted intermediate and registered, re-signed with it → valid (its dates are only unusual)", async () => {
        const { intermediate } = testPki();
        const c = issueCertificate({ subject: { CN: "Year one, trusted" }, issuer: intermediate, notBefore: new Date("0001-01-01T00:00:00Z"), keyPair: attacker() });
        const xml = resign(EDOC, c.privateKey, { certs: [c.certificate, intermediate.certificate] });
        const { report } = await accepts(xml, { registry: registryFor({ [SENDER]: { ...c, chain: [] } }) });
        expect(report.signer!.notBefore).to.be.a("string");
      });
    });

    // RFC 5280 §4.2.1.12: when the extension is present the key may be used only for the purposes
    // it lists; document signing is emailProtection (S/MIME-style), documentSigning or any.
    const EKU = { serverAuth: "1.3.6.1.5.5.7.3.1", clientAuth: "1.3.6.1.5.5.7.3.2", codeSigning: "1.3.6.1.5.5.7.3.3", emailProtection: "1.3.6.1.5.5.7.3.4", timeStamping: "1.3.6.1.5.5.7.3.8", documentSigning: "1.3.6.1.5.5.7.3.36", any: "2.5.29.37.0" };
    const refusedEku: Array<[string, string[], boolean]> = [
      ["a critical extended key usage of serverAuth only", [EKU.serverAuth], true],
      ["a non-critical extended key usage of serverAuth only", [EKU.serverAuth], false],
      ["an extended key usage of serverAuth and clientAuth", [EKU.serverAuth, EKU.clientAuth], true],
      ["an extended key usage of codeSigning only", [EKU.codeSigning], true],
      ["an extended key usage of timeStamping only", [EKU.timeStamping], true],
    ];
    for (const [what, purposes, critical] of refusedEku) {
      it(`a signer with ${what} → INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE`, async () => {
        const id = leaf({ extendedKeyUsage: { purposes, critical } });
        const report = await rejects(await packBy(id), "CHAIN_CONSTRAINTS_FAILURE", { ...trustFor(id), error: "extended key usage does not allow signing documents" });
        expect(report.indication).to.equal("INDETERMINATE");
      });
    }
    const acceptedEku: Array<[string, string[]]> = [
      ["emailProtection", [EKU.emailProtection]],
      ["documentSigning (1.3.6.1.5.5.7.3.36)", [EKU.documentSigning]],
      ["anyExtendedKeyUsage", [EKU.any]],
      ["serverAuth and documentSigning", [EKU.serverAuth, EKU.documentSigning]],
    ];
    for (const [what, purposes] of acceptedEku) {
      it(`(a signer with a critical extended key usage of ${what} verifies)`, async () => {
        const id = leaf({ extendedKeyUsage: { purposes, critical: true } });
        await accepts(await packBy(id), trustFor(id));
      });
    }

    // One bit flipped in the KeyInfo certificate's public key: Node parsed the certificate, then
    // OpenSSL threw a decode error reading its key, and the error escaped verifyPacket.
    it("every single bit flipped in the first 48 bytes of the signer certificate's public key → a report (FORMAT_FAILURE, DISALLOWED_ALGORITHM for a key read shorter, or NO_SIGNING_CERTIFICATE_FOUND), never a throw", async () => {
      const { sender } = testPki();
      const der = sender.certificate.raw;
      const spki = sender.certificate.publicKey.export({ type: "spki", format: "der" });
      const at = der.indexOf(spki);
      expect(at).to.be.greaterThan(0);
      const seen = new Set<string>();
      for (let bit = 0; bit < 48 * 8; bit++) {
        const flipped = Buffer.from(der);
        flipped[at + (bit >> 3)]! ^= 1 << (bit & 7);
        const xml = sub(EDOC, der.toString("base64"), flipped.toString("base64"));
        const { report } = await verify(xml);
        expect(report.valid).to.equal(false);
        expect(report.errors).to.have.length(1);
        expect(report.subIndication).to.be.oneOf(["FORMAT_FAILURE", "DISALLOWED_ALGORITHM", "NO_SIGNING_CERTIFICATE_FOUND"]);
        seen.add(report.subIndication === "FORMAT_FAILURE" ? report.errors[0]! : report.subIndication!);
      }
      expect([...seen]).to.include("certificate 1 in KeyInfo cannot be read — không đọc được chứng thư số thứ 1");
    });

    it("a bit flipped in the intermediate certificate of KeyInfo → a report, never a throw", async () => {
      const { intermediate } = testPki();
      const der = intermediate.certificate.raw;
      const spki = intermediate.certificate.publicKey.export({ type: "spki", format: "der" });
      const at = der.indexOf(spki);
      for (let bit = 0; bit < 48 * 8; bit += 3) {
        const flipped = Buffer.from(der);
        flipped[at + (bit >> 3)]! ^= 1 << (bit & 7);
        const { report } = await verify(sub(EDOC, der.toString("base64"), flipped.toString("base64")));
        expect(report.errors, `bit ${bit}`).to.have.length(1);
        expect(report.subIndication).to.be.oneOf(["FORMAT_FAILURE", "NO_CERTIFICATE_CHAIN_FOUND"]);
      }
    });

    // Found by the mutation fuzzer: OpenSSL read the certificate and ignored what followed it, so
    // KeyInfo bytes that other verifiers refuse still matched SigningCertificateV2.
    it("the signer certificate with a byte after its DER → FORMAT_FAILURE", async () => {
      const der = testPki().sender.certificate.raw;
      const xml = sub(EDOC, der.toString("base64"), Buffer.concat([der, Buffer.from([0])]).toString("base64"));
      await rejects(xml, "FORMAT_FAILURE", { error: "certificate 1 in KeyInfo cannot be read" });
    });

    it("an unreadable certificate in KeyInfo → FORMAT_FAILURE", async () => {
      await rejects(sub(EDOC, /<ds:X509Certificate>[^<]*<\/ds:X509Certificate>/g.exec(EDOC)![0], "<ds:X509Certificate>AAAA</ds:X509Certificate>"), "FORMAT_FAILURE", { error: "cannot be read" });
    });
  });

  // ----------------------------------------------------------------------------------------------
  describe("5. tampering with each signed part", () => {
    it("MessageHeader: Subject replaced → HASH_FAILURE naming #edxml-header", async () => {
      await hashFailure(sub(EDOC, VIETNAMESE, "Quyết định bãi bỏ"), ["#edxml-header"]);
    });

    it("MessageHeader: one Vietnamese diacritic dropped (ế → e) → HASH_FAILURE naming #edxml-header", async () => {
      await hashFailure(sub(EDOC, `>${VIETNAMESE}<`, `>${VIETNAMESE.replace("ế", "e")}<`), ["#edxml-header"]);
    });

    it("MessageHeader: composed ế replaced by its decomposed form (e + U+0302 + U+0301) → HASH_FAILURE", async () => {
      await hashFailure(sub(EDOC, `>${VIETNAMESE}<`, `>${VIETNAMESE.normalize("NFD")}<`), ["#edxml-header"]);
    });

    it("MessageHeader: the recipient OrganId changed → HASH_FAILURE", async () => {
      await hashFailure(sub(EDOC, `<edXML:OrganId>${RECIPIENT}</edXML:OrganId>\n          <edXML:OrganName>UBND`, `<edXML:OrganId>000.00.00.H14</edXML:OrganId>\n          <edXML:OrganName>UBND`), ["#edxml-header"]);
    });

    // The binding (step 4) comes before the digests (step 5): a forged sender fails on the binding
    // first; when the signer happens to be registered for the forged sender too, on the digest.
    it("MessageHeader: From/OrganId changed to another agency → SIGNER_NOT_BOUND (step 4 before step 5)", async () => {
      await rejects(sub(EDOC, `<edXML:OrganId>${SENDER}</edXML:OrganId>\n          <edXML:OrganName>`, `<edXML:OrganId>${RECIPIENT}</edXML:OrganId>\n          <edXML:OrganName>`), "SIGNER_NOT_BOUND", { error: `not registered for the sender ${RECIPIENT}` });
    });

    it("MessageHeader: From/OrganId changed to another agency the signer is also registered for → HASH_FAILURE", async () => {
      const { sender, recipient } = testPki();
      const registry = registryFor({ [SENDER]: sender, [RECIPIENT]: [recipient, sender] });
      const xml = sub(EDOC, `<edXML:OrganId>${SENDER}</edXML:OrganId>\n          <edXML:OrganName>`, `<edXML:OrganId>${RECIPIENT}</edXML:OrganId>\n          <edXML:OrganName>`);
      const report = await rejects(xml, "HASH_FAILURE", { registry, error: "#edxml-header" });
      expect(report.references.filter((r) => !r.digestOk).map((r) => r.uri)).to.deep.equal(["#edxml-header"]);
    });

    it("MessageHeader: whitespace re-indented INSIDE the signed element → HASH_FAILURE", async () => {
      await hashFailure(sub(EDOC, "        <edXML:Subject>", "\t<edXML:Subject>"), ["#edxml-header"]);
    });

    it("MessageHeader: an attribute added → HASH_FAILURE", async () => {
      await hashFailure(sub(EDOC, "<edXML:Subject>", '<edXML:Subject lang="vi">'), ["#edxml-header"]);
    });

    it("Bussiness: the reason changed → HASH_FAILURE naming #edxml-business", async () => {
      await hashFailure(sub(EDOC, "Văn bản điện tử mới", "Thu hồi văn bản điện tử"), ["#edxml-business"]);
    });

    it("manifest: an attachment description changed → HASH_FAILURE naming #edxml-manifest", async () => {
      await hashFailure(sub(EDOC, `<edXML:Description>${NAMES[1]}</edXML:Description>\n          <edXML:AttachmentName>`, `<edXML:Description>Khác</edXML:Description>\n          <edXML:AttachmentName>`), ["#edxml-manifest"]);
    });

    for (const [n, b64] of [
      [1, () => ATT1],
      [2, () => ATT2],
    ] as const) {
      it(`attachment ${n}: one base64 character flipped → HASH_FAILURE, only #edxml-att-${n} has digestOk false`, async () => {
        const text = b64();
        const i = Math.floor(text.length / 2);
        const flipped = text.slice(0, i) + (text[i] === "A" ? "B" : "A") + text.slice(i + 1);
        await hashFailure(sub(EDOC, `>${text}<`, `>${flipped}<`), [`#edxml-att-${n}`]);
      });
    }

    it("both attachments' contents swapped → HASH_FAILURE naming both", async () => {
      const xml = EDOC.replace(`>${ATT1}<`, ">@@1@@<").replace(`>${ATT2}<`, `>${ATT1}<`).replace(">@@1@@<", `>${ATT2}<`);
      expect(xml).to.not.equal(EDOC);
      await hashFailure(xml, ["#edxml-att-1", "#edxml-att-2"]);
    });

    it("attachment metadata: AttachmentName changed in the Attachment element → HASH_FAILURE naming #edxml-att-1", async () => {
      await hashFailure(sub(EDOC, `<AttachmentName>${NAMES[0]}</AttachmentName>`, "<AttachmentName>virus.exe</AttachmentName>"), ["#edxml-att-1"]);
    });

    it("attachment base64 wrapped with line breaks after signing (signed without) → HASH_FAILURE", async () => {
      const wrapped = ATT2.replace(/.{76}/g, "$&\r\n");
      await hashFailure(sub(EDOC, `>${ATT2}<`, `>${wrapped}<`), ["#edxml-att-2"]);
    });

    it("SignedProperties: SigningTime changed → HASH_FAILURE naming #edxml-signed-props", async () => {
      await hashFailure(sub(EDOC, /<xades:SigningTime>[^<]*</, "<xades:SigningTime>2020-01-01T00:00:00+07:00<"), ["#edxml-signed-props"]);
    });

    it("status packet: StatusCode changed → HASH_FAILURE naming #edxml-header", async () => {
      const report = await rejects(sub(STATUS, "<edXML:StatusCode>03</edXML:StatusCode>", "<edXML:StatusCode>02</edXML:StatusCode>"), "HASH_FAILURE", { error: "#edxml-header" });
      expect(report.references.map((r) => [r.uri, r.digestOk])).to.deep.equal([
        ["#edxml-header", false],
        ["#edxml-signed-props", true],
      ]);
    });

    it("SignatureValue changed (one character) → SIG_CRYPTO_FAILURE", async () => {
      const value = /<ds:SignatureValue>([^<]*)</.exec(EDOC)![1]!;
      const changed = value.slice(0, 10) + (value[10] === "A" ? "B" : "A") + value.slice(11);
      const report = await rejects(sub(EDOC, value, changed), "SIG_CRYPTO_FAILURE", { error: "the signature value does not match" });
      expect(report.references.every((r) => r.digestOk === true)).to.equal(true);
    });

    it("SignatureValue truncated → SIG_CRYPTO_FAILURE", async () => {
      const value = /<ds:SignatureValue>([^<]*)</.exec(EDOC)![1]!;
      await rejects(sub(EDOC, value, value.slice(0, 40)), "SIG_CRYPTO_FAILURE");
    });

    it("SignatureValue longer than the key (4096 bits of data for a 2048-bit key) → SIG_CRYPTO_FAILURE", async () => {
      const value = /<ds:SignatureValue>([^<]*)</.exec(EDOC)![1]!;
      const doubled = Buffer.concat([Buffer.from(value, "base64"), Buffer.from(value, "base64")]).toString("base64");
      await rejects(sub(EDOC, value, doubled), "SIG_CRYPTO_FAILURE");
    });

    it("SignatureValue not base64 → FORMAT_FAILURE", async () => {
      const value = /<ds:SignatureValue>([^<]*)</.exec(EDOC)![1]!;
      await rejects(sub(EDOC, value, "not*base64"), "FORMAT_FAILURE", { error: "SignatureValue is not a base64 value" });
    });

    it("SignedInfo changed: tampered header with its DigestValue recomputed (digests all match) → SIG_CRYPTO_FAILURE", async () => {
      const xml = redigest(sub(EDOC, VIETNAMESE, "Quyết định bãi bỏ"));
      const report = await rejects(xml, "SIG_CRYPTO_FAILURE");
      expect(report.references.every((r) => r.digestOk === true)).to.equal(true);
    });

    it("SignedInfo changed: a Reference Type attribute added → FORMAT_FAILURE (wrong Type)", async () => {
      await rejects(sub(EDOC, '<ds:Reference URI="#edxml-header">', '<ds:Reference URI="#edxml-header" Type="http://www.w3.org/2000/09/xmldsig#Object">'), "FORMAT_FAILURE", { error: "has the wrong Type" });
    });

    it("SignedInfo changed: an Id attribute added to SignedInfo → SIG_CRYPTO_FAILURE", async () => {
      await rejects(sub(EDOC, "<ds:SignedInfo>", '<ds:SignedInfo Id="si">'), "SIG_CRYPTO_FAILURE");
    });
  });

  // ----------------------------------------------------------------------------------------------
  describe("6. what must stay valid", () => {
    const TRACE = "<edXML:TraceHeader><edXML:OrganId>000.00.00.H41</edXML:OrganId><edXML:Timestamp>2026/11/20 09:05:00</edXML:Timestamp></edXML:TraceHeader>";

    it("a relay appends a TraceHeader at the end of TraceHeaderList", async () => {
      const { report, content } = await accepts(sub(EDOC, "</edXML:TraceHeaderList>", `${TRACE}</edXML:TraceHeaderList>`));
      expect(content!.unsignedTraces).to.deep.equal([
        { OrganId: SENDER, Timestamp: "2026/11/20 09:00:00" },
        { OrganId: "000.00.00.H41", Timestamp: "2026/11/20 09:05:00" },
      ]);
      expect(report.warnings.join("\n")).to.include("not covered by the signature");
    });

    it("a direct send: the sender's own trace entry draws no warning; one relay entry after it draws one", async () => {
      const direct = await accepts(EDOC);
      expect(direct.content!.unsignedTraces).to.deep.equal([{ OrganId: SENDER, Timestamp: "2026/11/20 09:00:00" }]);
      expect(direct.report.warnings.join("\n")).to.not.include("trace");
      const relayed = await accepts(sub(EDOC, "</edXML:TraceHeaderList>", `${TRACE}</edXML:TraceHeaderList>`));
      expect(relayed.report.warnings.join("\n")).to.include("1 trace entry is not covered by the signature");
    });

    it("a first trace entry that is not the sender's is warned about", async () => {
      const { report } = await accepts(sub(EDOC, `<edXML:OrganId>${SENDER}</edXML:OrganId>\n          <edXML:Timestamp>`, `<edXML:OrganId>000.00.00.H41</edXML:OrganId>\n          <edXML:Timestamp>`));
      expect(report.warnings.join("\n")).to.include("1 trace entry is not covered by the signature");
    });

    it("a relay inserts a TraceHeader before the Bussiness block", async () => {
      const { content } = await accepts(sub(EDOC, "<edXML:Bussiness ", `${TRACE}\n        <edXML:Bussiness `));
      expect(content!.unsignedTraces).to.have.length(2);
    });

    it("a hub-style TraceHeader with only a Timestamp", async () => {
      const { content } = await accepts(sub(EDOC, "</edXML:TraceHeaderList>", "<edXML:TraceHeader><edXML:Timestamp>2026/11/20 09:06:00</edXML:Timestamp></edXML:TraceHeader></edXML:TraceHeaderList>"));
      expect(content!.unsignedTraces[1]).to.deep.equal({ OrganId: "", Timestamp: "2026/11/20 09:06:00" });
    });

    it("a relay adds a TraceHeaderList to a signed status packet", async () => {
      const { content } = await accepts(sub(STATUS, "</edXML:MessageHeader>", `</edXML:MessageHeader><edXML:TraceHeaderList>${TRACE}</edXML:TraceHeaderList>`));
      expect(content!.unsignedTraces).to.have.length(1);
    });

    it("whitespace re-indented OUTSIDE the signed elements (CRLF, tabs, none)", async () => {
      let xml = EDOC;
      xml = sub(xml, '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">\n  <edXML:edXMLEnvelope', '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">\r\n\t<edXML:edXMLEnvelope');
      xml = sub(xml, "\n    <edXML:edXMLHeader>\n      <edXML:MessageHeader", "<edXML:edXMLHeader>\r\n\t\t\t<edXML:MessageHeader");
      xml = sub(xml, "</edXML:MessageHeader>\n      <edXML:TraceHeaderList>\n        <edXML:TraceHeader>", "</edXML:MessageHeader>\n\n\n<edXML:TraceHeaderList><edXML:TraceHeader>");
      xml = sub(xml, "</edXML:TraceHeader>\n        <edXML:Bussiness", "</edXML:TraceHeader>   \t<edXML:Bussiness");
      xml = sub(xml, "</edXML:TraceHeaderList>\n      <ds:Signature", "</edXML:TraceHeaderList><ds:Signature");
      xml = sub(xml, "</ds:Signature>\n    </edXML:edXMLHeader>", "</ds:Signature>\r\n\r\n</edXML:edXMLHeader>");
      xml = sub(xml, "<edXML:edXMLBody>\n      <edXML:edXMLManifest", "<edXML:edXMLBody>\t<edXML:edXMLManifest");
      xml = sub(xml, "</Attachment>\n    <Attachment", "</Attachment><Attachment");
      xml = sub(xml, "</AttachmentEncoded>\n</edXML>", "</AttachmentEncoded></edXML>\r\n\r\n");
      expect(xml).to.not.equal(EDOC);
      await accepts(xml);
    });

    it("a comment outside the signed elements (between TraceHeaders)", async () => {
      await accepts(sub(EDOC, "<edXML:TraceHeaderList>", "<edXML:TraceHeaderList><!-- relay note -->"));
    });

    it("a UTF-8 byte-order mark before the declaration", async () => {
      await accepts(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(EDOC)]));
    });

    it("attachment base64 wrapped in 76-character CRLF lines when the signer signed it that way", async () => {
      const wrapped1 = ATT1.replace(/.{76}/g, "$&\r\n");
      const wrapped2 = ATT2.replace(/.{76}/g, "$&\r\n");
      expect(wrapped2).to.include("\r\n");
      const xml = resign(sub(sub(EDOC, `>${ATT1}<`, `>${wrapped1}<`), `>${ATT2}<`, `>${wrapped2}<`), testPki().sender.privateKey);
      const bytes = Buffer.from(xml);
      const { content } = await accepts(bytes);
      expect(await decoded({ bytes }, content!)).to.deep.equal(FILES);
    });

    it("a SignatureValue wrapped in XML white space (as other signers write it) stays valid", async () => {
      const value = /<ds:SignatureValue>([^<]*)</.exec(EDOC)![1];
      await accepts(sub(EDOC, `>${value}<`, `>\n${value.replace(/.{76}/g, "$&\r\n").replace(/.{64}/, "$&&#xD;\n \t")}\n<`));
    });

    it("SHA-512 digests with RSA-SHA512 (the other allowed pair), genuinely re-signed", async () => {
      const info = slice(EDOC, "<ds:SignedInfo>", "</ds:SignedInfo>");
      let xml = sub(EDOC, info, info.replaceAll(`<ds:DigestMethod Algorithm="${ALG.SHA256}"/>`, `<ds:DigestMethod Algorithm="${ALG.SHA512}"/>`));
      xml = sub(xml, `<ds:SignatureMethod Algorithm="${ALG.RSA_SHA256}"/>`, `<ds:SignatureMethod Algorithm="${ALG.RSA_SHA512}"/>`);
      await accepts(resign(xml, testPki().sender.privateKey));
    });

    it("a comment inside signed text is dropped by C14N and by the reader alike (valid, the same Subject)", async () => {
      const cut = VIETNAMESE.indexOf("ban hành");
      const { content } = await accepts(sub(EDOC, `>${VIETNAMESE}<`, `>${VIETNAMESE.slice(0, cut)}<!-- giả mạo: bãi bỏ -->${VIETNAMESE.slice(cut)}<`));
      expect(content!.packet.kind === "edoc" && content!.packet.header.Subject).to.equal(VIETNAMESE);
    });

    it("a character reference in signed text (C14N-equivalent) verifies and reads back the same text", async () => {
      const { content } = await accepts(sub(EDOC, `>${VIETNAMESE}<`, `>${VIETNAMESE.replace("ế", "&#x1EBF;")}<`));
      expect(content!.packet.kind === "edoc" && content!.packet.header.Subject).to.equal(VIETNAMESE);
    });
  });

  // ----------------------------------------------------------------------------------------------
  describe("7. 1 MB read boundaries, from memory and from a file", () => {
    const s = scratch();
    after(() => s.cleanup());
    const BIG = randomBytes(900_000);
    let big = ""; // a packet with one 1.2 MB attachment
    before(async () => {
      big = (await pack(sampleEdoc({}, ["Phụ lục lớn.pdf"]), [BIG], testPki().sender)).toString("utf8");
    });
    /** Both sources for the same bytes. */
    const sources = (xml: string, name: string): Array<[string, PacketSource]> => {
      const bytes = Buffer.from(xml, "utf8");
      writeFileSync(s.path(name), bytes);
      return [
        ["memory", { bytes }],
        ["file", { path: s.path(name) }],
      ];
    };
    const check = async (source: PacketSource) => {
      const result = await verifyPacket(source, testPki().trust);
      expect(result.report.errors).to.deep.equal([]);
      expect(result.report.valid).to.equal(true);
      return result;
    };

    it("a valid packet whose unsigned XML straddles a read boundary (a 1.5 MB relay comment) stays valid", async () => {
      const xml = sub(big, "<edXML:TraceHeaderList>", `<edXML:TraceHeaderList><!--${"c".repeat(1_500_000)}-->`);
      for (const [, source] of sources(xml, "comment.edxml")) {
        const { content } = await check(source);
        expect(await decoded(source, content!)).to.deep.equal([BIG]);
      }
    });

    it("a valid packet with 30 000 relay TraceHeaders (tags straddle read boundaries) stays valid", async () => {
      const traces = "<edXML:TraceHeader><edXML:OrganId>000.00.00.H41</edXML:OrganId><edXML:Timestamp>2026/11/20 09:05:00</edXML:Timestamp></edXML:TraceHeader>".repeat(30_000);
      for (const [, source] of sources(sub(big, "</edXML:TraceHeaderList>", `${traces}</edXML:TraceHeaderList>`), "traces.edxml")) {
        const { content } = await check(source);
        expect(content!.unsignedTraces).to.have.length(30_001);
      }
    });

    for (const [name, eol] of [
      ["CRLF", "\r\n"],
      ["a lone CR", "\r"],
    ] as const) {
      it(`base64 wrapped with ${name} (signed that way), a CR the last byte of a 1 MB read: valid, same bytes`, async () => {
        const b64 = BIG.toString("base64");
        // 76-character lines after a first line sized so that a line break starts at offset 2^20 - 1
        const first = 1_048_575 % (76 + eol.length) || 76 + eol.length;
        const lines = [b64.slice(0, first), ...(b64.slice(first).match(/.{1,76}/g) ?? [])];
        const wrapped = lines.join(eol);
        expect(wrapped[1_048_575]).to.equal("\r");
        expect(wrapped[1_048_576]).to.match(eol === "\r\n" ? /\n/ : /[A-Za-z0-9+/]/);
        const xml = resign(sub(big, `>${b64}<`, `>${wrapped}<`), testPki().sender.privateKey);
        // the region starts right after the ContentTransferEncoded start tag
        const at = Buffer.from(xml.slice(0, xml.indexOf(wrapped))).length;
        expect(Buffer.from(xml)[at + 1_048_575]).to.equal(0x0d);
        for (const [, source] of sources(xml, `wrapped-${name.length}.edxml`)) {
          const { content } = await check(source);
          expect(await decoded(source, content!)).to.deep.equal([BIG]);
        }
      });
    }

    it("one base64 character flipped right after a read boundary → HASH_FAILURE from memory and from a file", async () => {
      const b64 = BIG.toString("base64");
      const i = 1_048_576;
      const flipped = b64.slice(0, i) + (b64[i] === "A" ? "B" : "A") + b64.slice(i + 1);
      for (const [, source] of sources(sub(big, `>${b64}<`, `>${flipped}<`), "flipped.edxml")) {
        const { report } = await verifyPacket(source, testPki().trust);
        expect(report.subIndication).to.equal("HASH_FAILURE");
        expect(report.valid).to.equal(false);
        expect(report.references.filter((r) => !r.digestOk).map((r) => r.uri)).to.deep.equal(["#edxml-att-1"]);
      }
    });
  });
  // ----------------------------------------------------------------------------------------------
  // Decoders disagree about anything but canonical base64: Node stops at the first '=' and skips
  // bytes outside its alphabet, GNU base64 and OpenSSL carry on or refuse. Genuinely signed, such a
  // text would back two different files (or, with bytes no XML reader accepts, none): refused.
  describe("8. an attachment's text is canonical base64 (RFC 4648), nothing else", () => {
    const key = () => testPki().sender.privateKey;
    const withText = (text: string) => resign(sub(EDOC, `>${ATT2}<`, `>${text}<`), key());

    it("'=' padding followed by more base64 (two files behind one signature) → FORMAT_FAILURE", async () => {
      const first = Buffer.from("%PDF-1.7 bản thứ nhất.");
      expect(first.length % 3, "the first file's base64 must end in padding").to.not.equal(0);
      const text = first.toString("base64") + Buffer.from("bản thứ hai, giấu sau dấu =").toString("base64");
      expect(text.indexOf("=")).to.be.greaterThan(0).and.lessThan(text.length - 4);
      await rejects(withText(text), "FORMAT_FAILURE", { error: "'=' padding inside the text" });
    });

    it("padding followed by whitespace and more base64 → FORMAT_FAILURE", async () => {
      await rejects(withText(`${ATT2.slice(0, 8)}QQ==\n${ATT2.slice(8)}`), "FORMAT_FAILURE", { error: "'=' padding inside the text" });
    });

    it("three '=' at the end → FORMAT_FAILURE", async () => {
      await rejects(withText(`${ATT2}QQ===`), "FORMAT_FAILURE", { error: "more than two '='" });
    });

    it("non-zero bits under the padding (QR== besides QQ==, the same bytes for Node) → FORMAT_FAILURE", async () => {
      await rejects(withText(`${ATT2}QR==`), "FORMAT_FAILURE", { error: "non-zero bits in its padding" });
    });

    it("a truncated last group (length not a multiple of 4) → FORMAT_FAILURE", async () => {
      await rejects(withText(`${ATT2}QUJ`), "FORMAT_FAILURE", { error: "truncated" });
    });

    it("'!!' inside the text → FORMAT_FAILURE", async () => {
      await rejects(withText(`${ATT2.slice(0, 100)}!!${ATT2.slice(100)}`), "FORMAT_FAILURE", { error: "byte 0x21 is not in the base64 alphabet" });
    });

    it("base64url characters ('-', '_') → FORMAT_FAILURE", async () => {
      await rejects(withText(`${ATT2.slice(0, 100)}-_${ATT2.slice(102)}`), "FORMAT_FAILURE", { error: "byte 0x2d is not in the base64 alphabet" });
    });

    for (const [what, bytes, byte] of [
      ["a NUL byte", Buffer.from([0x00]), "0x00"],
      ["a control byte (0x01)", Buffer.from([0x01]), "0x01"],
      ["a form feed (0x0c)", Buffer.from([0x0c]), "0x0c"],
      ["invalid UTF-8 (0xff)", Buffer.from([0xff]), "0xff"],
      ["a lone UTF-8 continuation byte (0x80)", Buffer.from([0x80]), "0x80"],
      ["a valid non-ASCII character (đ)", Buffer.from("đ"), "0xc4"],
    ] as const) {
      it(`${what} inside the text, the digest taken over it → FORMAT_FAILURE`, async () => {
        const text = Buffer.concat([Buffer.from(ATT2.slice(0, 200)), bytes, Buffer.from(ATT2.slice(200))]);
        await rejects(signedWithText(ATT2, text), "FORMAT_FAILURE", { error: `byte ${byte} is not in the base64 alphabet` });
      });
    }

    it("the same bytes on a 1 MB read boundary (from a file) → FORMAT_FAILURE", async () => {
      const s = scratch();
      try {
        const big = randomBytes(1_200_000).toString("base64");
        const packet = signedWithText(ATT2, Buffer.concat([Buffer.from(big.slice(0, 1_048_576)), Buffer.from([0x00]), Buffer.from(big.slice(1_048_576))]));
        writeFileSync(s.path("nul.edxml"), packet);
        const { report } = await verifyPacket({ path: s.path("nul.edxml") }, testPki().trust);
        expect(report).to.include({ valid: false, subIndication: "FORMAT_FAILURE" });
        expect(report.errors[0]).to.include("byte 0x00 is not in the base64 alphabet");
      } finally {
        s.cleanup();
      }
    });

    it("what stays valid: one and two '=' at the very end, spaces and tabs between groups, an empty text", async () => {
      for (const extra of [Buffer.from("a"), Buffer.from("ab")]) {
        const file = Buffer.concat([FILES[1]!, extra]);
        const text = file.toString("base64");
        expect(text.endsWith("=")).to.equal(true);
        const { content } = await accepts(withText(text));
        expect((await decoded({ bytes: Buffer.from(withText(text)) }, content!))[1]).to.deep.equal(file);
      }
      const spaced = ATT2.replace(/.{64}/g, (g) => `${g} \t`);
      const { content } = await accepts(withText(spaced));
      expect((await decoded({ bytes: Buffer.from(withText(spaced)) }, content!))[1]).to.deep.equal(FILES[1]);
      await accepts(withText(""));
    });

    // They verified TOTAL_PASSED and then failed to decode while being stored: a 500, and the
    // sender's worker retried until "failed". Now the verifier refuses them: a 422 with the report.
    onEachDatabase("at POST /edxml", (database) => {
      let node: TestNode;
      before(async () => {
        node = await recipientDoor(database());
      });
      after(() => node?.close());

      it("NUL, control bytes, invalid UTF-8, '!!' or inner padding in a signed attachment: 422 FORMAT_FAILURE, never 5xx, nothing stored", async () => {
        const bodies = [
          ...[[0x00], [0x01], [0xff], [0x21, 0x21]].map((b) => signedWithText(ATT2, Buffer.concat([Buffer.from(ATT2.slice(0, 200)), Buffer.from(b), Buffer.from(ATT2.slice(200))]))),
          Buffer.from(withText(`${ATT2.slice(0, 8)}QQ==${ATT2.slice(8)}`)),
          Buffer.from(withText(`${ATT2}QUJ`)),
        ];
        for (const body of bodies) {
          const res = await fetch(`${node.url}/edxml`, { method: "POST", headers: { "content-type": "application/xml" }, body: new Uint8Array(body) });
          const report = await res.json();
          expect(res.status, JSON.stringify(report)).to.equal(422);
          expect(report).to.include({ valid: false, subIndication: "FORMAT_FAILURE" });
          expect(report.errors[0]).to.match(/not plain base64 text|truncated/);
        }
        const stored = await node.node.storage.db("documents").count({ n: "*" }).first();
        expect(Number(stored!.n)).to.equal(0);
      });
    });
  });
});
