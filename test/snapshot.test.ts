// Signed registry snapshots (signing/snapshot.ts): the registry a node publishes as one signed XML
// document with an expiry, checked against the publishing node's certificate configured out of
// band (X-Road's configuration anchor). Real keys throughout (signing/testing.ts issueCertificate).
import { expect } from "chai";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { XADES_NS } from "../envelopes/index.ts";
import {
  fingerprint,
  REGISTRY_NS,
  registryFromSnapshot,
  signRegistrySnapshot,
  snapshotEntryProblem,
  SnapshotError,
  verifyPacket,
  verifyRegistrySnapshot,
  type Identity,
  type RegistryEntry,
  type SnapshotFailure,
} from "../signing/index.ts";
import { issueCertificate } from "../signing/testing.ts";
import { RECIPIENT, SENDER, pack, sampleEdoc, scratch, testPki } from "../fixtures/index.ts";
import { requireXmlsec, xmlsec, type XmlsecRun } from "./helpers/xmlsec.ts";

const PUBLISHER = "https://lienthong.vpcp.gov.vn";
const MINUTE = 60_000;
const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));

const selfSigned = (CN: string, extra: { notBefore?: Date; notAfter?: Date } = {}): Identity => ({
  ...issueCertificate({ subject: { CN, O: "Cổng liên thông (test)" }, ...extra }),
  chain: [],
});

describe("registry snapshots", function () {
  this.timeout(60_000);
  const { sender, recipient, root, trust } = testPki();
  const node = selfSigned("Nút liên thông Văn phòng Chính phủ");
  // same subject, another key: what an attacker who copies the node's name would hold
  const attacker = selfSigned("Nút liên thông Văn phòng Chính phủ");
  const entries: RegistryEntry[] = [
    {
      organId: SENDER,
      name: "Văn phòng Chính phủ",
      endpoint: "https://lienthong.vpcp.gov.vn",
      status: "active",
      certificateFingerprints: [fingerprint(sender.certificate)],
      certificatesPem: sender.certificate.toString(),
    },
    {
      organId: RECIPIENT,
      name: "Ủy ban nhân dân tỉnh Nghệ An — Sở Thông tin và Truyền thông",
      parentId: SENDER,
      endpoint: "https://edoc.nghean.gov.vn/lien-thong",
      status: "active",
      certificateFingerprints: [fingerprint(recipient.certificate), "ab".repeat(32)],
    },
    { organId: "000.00.00.H14", name: "UBND tỉnh Cao Bằng", certificateFingerprints: [] },
  ];
  const sign = (opts: { issuedAt?: Date; validFor?: number; by?: Identity; list?: RegistryEntry[] } = {}) =>
    signRegistrySnapshot(opts.list ?? entries, opts.by ?? node, { publisher: PUBLISHER, validFor: opts.validFor ?? 10 * MINUTE, issuedAt: opts.issuedAt });
  const verify = (bytes: Buffer | string, at?: Date, publisherCert = node.certificate) =>
    verifyRegistrySnapshot(Buffer.from(bytes), { publisherCert, at });
  const refused = (bytes: Buffer | string, reason: SnapshotFailure, message: RegExp, at?: Date, publisherCert = node.certificate) => {
    let error: unknown;
    try {
      verify(bytes, at, publisherCert);
    } catch (err) {
      error = err;
    }
    expect(error, "the snapshot must be refused").to.be.instanceOf(SnapshotError);
    expect((error as SnapshotError).message).to.match(message);
    expect((error as SnapshotError).reason, (error as Error).message).to.equal(reason);
  };
  /** `text` with `from` (which must occur exactly once) replaced by `to`. */
  const swap = (text: string, from: string | RegExp, to: string) => {
    const count = typeof from === "string" ? text.split(from).length - 1 : (text.match(new RegExp(from, "g")) ?? []).length;
    expect(count, `${from} must occur once`).to.equal(1);
    return text.replace(from, to);
  };
  const signedText = () => sign().toString("utf8");
  const agenciesOf = (xml: string) => xml.slice(xml.indexOf("<Agencies "), xml.indexOf("</Agencies>") + "</Agencies>".length);

  describe("round trip", () => {
    it("signs and reads back every field, Vietnamese names byte for byte, times to the second", () => {
      const issuedAt = new Date(Date.now() - 1234);
      const bytes = sign({ issuedAt, validFor: 10 * MINUTE + 999 });
      const text = bytes.toString("utf8");
      expect(text).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<RegistrySnapshot xmlns="urn:edoc:registry:1">/);
      expect(bytes.includes(Buffer.from("Ủy ban nhân dân tỉnh Nghệ An — Sở Thông tin và Truyền thông"))).to.equal(true);
      const got = verify(bytes);
      const second = Math.floor(issuedAt.getTime() / 1000) * 1000;
      expect(got.issuedAt.getTime()).to.equal(second);
      expect(got.expiresAt.getTime()).to.equal(second + 10 * MINUTE);
      expect(got.publisher).to.equal(PUBLISHER);
      expect(got.entries).to.deep.equal(entries);
      expect(got.entries[0].certificatesPem).to.equal(sender.certificate.toString());
    });

    it("the signature is our packet profile: one reference to the content, one to the signed properties, signing time = issuedAt", () => {
      const text = signedText();
      const uris = [...text.matchAll(/<ds:Reference URI="([^"]+)"/g)].map((m) => m[1]);
      expect(uris).to.deep.equal(["#registry-agencies", "#registry-signed-props"]);
      expect(text).to.include('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="registry-signature">');
      expect(text).to.include('<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>');
      expect(text).to.include('Target="#registry-signature"');
      const issued = /issuedAt="([^"]+)"/.exec(text)![1];
      const signing = /<xades:SigningTime>([^<]+)</.exec(text)![1];
      expect(new Date(signing).getTime()).to.equal(new Date(issued).getTime());
      expect(signing).to.match(/\+07:00$/);
      expect(text.trimEnd().endsWith("</ds:Signature>\n</RegistrySnapshot>")).to.equal(true);
    });

    it("registryFromSnapshot feeds verifyPacket: a packet from a listed sender passes", async () => {
      const registry = registryFromSnapshot(sign(), { publisherCert: node.certificate });
      expect([...registry.keys()]).to.deep.equal([SENDER, RECIPIENT, "000.00.00.H14"]);
      const { report } = await verifyPacket({ bytes: await pack(sampleEdoc(), [], sender) }, { ...trust, registry });
      expect(report.errors).to.deep.equal([]);
      expect(report.indication).to.equal("TOTAL_PASSED");
      expect(report.signer?.organId).to.equal(SENDER);
    });

    it("a snapshot that does not list the sender → SIGNER_NOT_BOUND; a listed but suspended sender too", async () => {
      const packet = await pack(sampleEdoc(), [], sender);
      const without = registryFromSnapshot(sign({ list: entries.slice(1) }), { publisherCert: node.certificate });
      const a = (await verifyPacket({ bytes: packet }, { ...trust, registry: without })).report;
      expect(a.subIndication).to.equal("SIGNER_NOT_BOUND");
      expect(a.errors[0]).to.include(`the sender ${SENDER} is not in the agency registry`);
      const suspended = registryFromSnapshot(sign({ list: [{ ...entries[0], status: "suspended" }] }), { publisherCert: node.certificate });
      expect(suspended.get(SENDER)?.status).to.equal("suspended");
      expect((await verifyPacket({ bytes: packet }, { ...trust, registry: suspended })).report.subIndication).to.equal("SIGNER_NOT_BOUND");
    });

    it("an empty registry and an agency with nothing but its organ id round-trip too", () => {
      expect(verify(sign({ list: [] })).entries).to.deep.equal([]);
      expect(verify(sign({ list: [{ organId: "G22", certificateFingerprints: [] }] })).entries).to.deep.equal([{ organId: "G22", certificateFingerprints: [] }]);
    });

    it("the signer refuses entries the verifier would refuse (SnapshotError INPUT)", () => {
      const bad: [Partial<RegistryEntry>, RegExp][] = [
        [{ organId: "000.00.00.G22 " }, /not an organ id/],
        [{ organId: "G22<x>" }, /not an organ id/],
        [{ parentId: "cha/mẹ" }, /parent .* is not an organ id/],
        [{ endpoint: "ftp://x.gov.vn" }, /not an http\(s\) URL/],
        [{ name: "Văn phòng\nChính phủ" }, /name must be 1 to 200 characters on one line/],
        [{ status: "Active!" }, /not a status word/],
        [{ certificateFingerprints: ["AB:CD"] }, /SHA-256 in hex/],
        [{ certificatesPem: recipient.certificate.toString() }, /is not among its certificate fingerprints/],
        [{ certificatesPem: "-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----" }, /certificatesPem cannot be read/],
      ];
      for (const [change, message] of bad) {
        expect(() => sign({ list: [{ ...entries[0], ...change }] }), JSON.stringify(change)).to.throw(SnapshotError, message);
        // the same rule, asked beforehand (a publisher can leave such an entry out instead of failing)
        expect(snapshotEntryProblem({ ...entries[0], ...change }), JSON.stringify(change)).to.match(message);
      }
      expect(entries.map(snapshotEntryProblem)).to.deep.equal([null, null, null]);
      expect(() => sign({ list: [entries[0], entries[0]] })).to.throw(SnapshotError, /listed twice/);
      expect(() => sign({ validFor: 0 })).to.throw(SnapshotError, /validFor/);
      expect(() => signRegistrySnapshot(entries, node, { publisher: "", validFor: MINUTE })).to.throw(SnapshotError, /publisher/);
      // fingerprints given in another notation are normalised, not refused
      const colons = fingerprint(sender.certificate).toUpperCase().match(/../g)!.join(":");
      expect(verify(sign({ list: [{ ...entries[0], certificateFingerprints: [colons] }] })).entries[0].certificateFingerprints).to.deep.equal([fingerprint(sender.certificate)]);
    });
  });

  describe("time", () => {
    it("expired: refused at and after expiresAt, accepted just before", () => {
      const issuedAt = new Date(Date.now() - 20 * MINUTE);
      const bytes = sign({ issuedAt, validFor: 10 * MINUTE });
      const expires = Math.floor(issuedAt.getTime() / 1000) * 1000 + 10 * MINUTE;
      refused(bytes, "EXPIRED", /^the snapshot expired at .*; fetch a fresh one from https:\/\/lienthong\.vpcp\.gov\.vn$/);
      refused(bytes, "EXPIRED", /expired/, new Date(expires));
      expect(verify(bytes, new Date(expires - 1)).entries).to.have.length(3);
    });

    it("not yet issued: refused beyond 5 minutes of clock skew, accepted within", () => {
      refused(sign({ issuedAt: new Date(Date.now() + 10 * MINUTE) }), "NOT_YET_VALID", /is issued at .*, later than .* \(more than 5 minutes ahead\)/);
      expect(verify(sign({ issuedAt: new Date(Date.now() + 4 * MINUTE) })).entries).to.have.length(3);
    });

    it("the publisher certificate must be valid at the time of checking", () => {
      const old = selfSigned("Nút liên thông (chứng thư hết hạn)", { notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2021-01-01T00:00:00Z") });
      const bytes = sign({ by: old, issuedAt: new Date(Date.now() - MINUTE), validFor: 60 * MINUTE });
      refused(bytes, "PUBLISHER_CERT_NOT_VALID", /the publisher certificate is not valid at/, undefined, old.certificate);
      // a snapshot it signed while it was valid verifies as of that time (and only then)
      const then = sign({ by: old, issuedAt: new Date("2020-06-01T00:00:00Z") });
      expect(verify(then, new Date("2020-06-01T00:05:00Z"), old.certificate).entries).to.have.length(3);
      refused(then, "PUBLISHER_CERT_NOT_VALID", /not valid/, undefined, old.certificate);
    });

    it("issuedAt, expiresAt and SigningTime are signed and must agree", () => {
      const text = signedText();
      const issued = /issuedAt="([^"]+)"/.exec(text)![1];
      // moving the expiry is a change of signed content
      refused(swap(text, /expiresAt="[^"]+"/, 'expiresAt="2099-01-01T00:00:00Z"'), "HASH_FAILURE", /#registry-agencies does not match its digest/);
      refused(swap(text, `issuedAt="${issued}"`, 'issuedAt="2020-01-01T00:00:00Z"'), "HASH_FAILURE", /changed after signing/);
    });
  });

  describe("the signer is the configured publisher certificate, nothing else", () => {
    it("re-signed with an attacker's key and certificate (same subject) → SIGNER_MISMATCH", () => {
      const evil = [{ ...entries[0], certificateFingerprints: [fingerprint(attacker.certificate)], certificatesPem: attacker.certificate.toString() }];
      refused(sign({ by: attacker, list: evil }), "SIGNER_MISMATCH", /signed by .*CN=Nút liên thông Văn phòng Chính phủ \(SHA-256 [0-9a-f]{64}\), not by the configured publisher certificate/);
    });

    it("… with the genuine certificate put back into KeyInfo → still refused (SigningCertificateV2 names the attacker)", () => {
      const text = sign({ by: attacker }).toString("utf8");
      const genuine = node.certificate.raw.toString("base64");
      const forged = swap(text, /<ds:X509Certificate>[^<]+<\/ds:X509Certificate>/, `<ds:X509Certificate>${genuine}</ds:X509Certificate>`);
      refused(forged, "SIGNER_MISMATCH", /SigningCertificateV2 does not name the publisher certificate/);
      // and with SigningCertificateV2 fixed up as well, the signed properties no longer match their digest
      const certDigest = (c: Identity) => createHash("sha256").update(c.certificate.raw).digest("base64");
      refused(swap(forged, certDigest(attacker), certDigest(node)), "HASH_FAILURE", /#registry-signed-props/);
    });

    it("a genuine snapshot checked against another certificate → SIGNER_MISMATCH", () => {
      refused(sign(), "SIGNER_MISMATCH", /not by the configured publisher certificate/, undefined, attacker.certificate);
    });

    it("a corrupted SignatureValue → SIG_CRYPTO_FAILURE", () => {
      const text = signedText();
      const value = /<ds:SignatureValue>([^<]+)</.exec(text)![1];
      const bytes = Buffer.from(value, "base64");
      bytes[10] ^= 1;
      refused(swap(text, value, bytes.toString("base64")), "SIG_CRYPTO_FAILURE", /does not match the publisher's key/);
    });

    it("rsa-sha1 or an extra transform → DISALLOWED_ALGORITHM", () => {
      const text = signedText();
      refused(
        swap(text, "xmldsig-more#rsa-sha256", "xmldsig-more#rsa-sha1"),
        "DISALLOWED_ALGORITHM",
        /signature algorithm http:\/\/www\.w3\.org\/2001\/04\/xmldsig-more#rsa-sha1 is not allowed/,
      );
      const enveloped = '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>';
      refused(text.replace("<ds:Transforms>", `<ds:Transforms>${enveloped}`), "DISALLOWED_ALGORITHM", /enveloped-signature/);
    });
  });

  describe("content tampering and wrapping", () => {
    it("a changed fingerprint, name or endpoint → HASH_FAILURE", () => {
      const text = signedText();
      refused(swap(text, fingerprint(sender.certificate) + "<", fingerprint(attacker.certificate) + "<"), "HASH_FAILURE", /changed after signing/);
      refused(swap(text, "UBND tỉnh Cao Bằng", "UBND tỉnh Cao Bằng (giả mạo)"), "HASH_FAILURE", /changed after signing/);
      refused(swap(text, "https://edoc.nghean.gov.vn/lien-thong", "https://evil.example/lien-thong"), "HASH_FAILURE", /changed after signing/);
    });

    it("an added agency → HASH_FAILURE; an agency outside <Agencies> → FORMAT", () => {
      const text = signedText();
      const evil = `<Agency><OrganId>000.00.00.X99</OrganId><CertificateFingerprint>${fingerprint(attacker.certificate)}</CertificateFingerprint></Agency>`;
      refused(swap(text, "</Agencies>", `${evil}</Agencies>`), "HASH_FAILURE", /changed after signing/);
      refused(swap(text, "</Agencies>", `</Agencies>${evil}`), "FORMAT", /holds exactly <Agencies> and then the <ds:Signature>/);
    });

    it("wrapping: a second <Agencies> with the same Id (before, after, inside ds:Object) → duplicate Id", () => {
      const text = signedText();
      const genuine = agenciesOf(text);
      const evil = swap(genuine, "UBND tỉnh Cao Bằng", "UBND tỉnh Cao Bằng (giả mạo)");
      refused(swap(text, genuine, evil + genuine), "FORMAT", /two elements carry the Id "registry-agencies"/);
      refused(swap(text, genuine, genuine + evil), "FORMAT", /two elements carry the Id "registry-agencies"/);
      // XSW: the genuine element hidden in the signature's Object, the evil one where readers look
      const hidden = swap(text, "<ds:Object>", `<ds:Object>${genuine}</ds:Object><ds:Object>`);
      refused(hidden.replace(genuine, evil), "FORMAT", /two elements carry the Id "registry-agencies"/);
      // … or the evil one without an Id next to the genuine one
      refused(swap(text, genuine, genuine + evil.replace(' Id="registry-agencies"', "")), "FORMAT", /holds exactly <Agencies>/);
      // … or the genuine one moved into ds:Object, the evil one renamed: the reference must resolve to the content element
      const moved = swap(text, genuine, evil.replace('Id="registry-agencies"', 'Id="registry-agencies-2"'));
      refused(swap(moved, "<ds:Object>", `<ds:Object>${genuine}</ds:Object><ds:Object>`), "FORMAT", /one Object/);
      // a duplicate Id in another attribute name or namespace counts too
      refused(text.replace("<Agency>", '<Agency xmlns:x="urn:x" x:ID="registry-agencies">'), "FORMAT", /two elements carry the Id/);
    });

    it("a second signature, comments, unknown attributes and text in the signed content → FORMAT", () => {
      const text = signedText();
      const sig = text.slice(text.indexOf("<ds:Signature "), text.indexOf("</ds:Signature>") + "</ds:Signature>".length);
      refused(swap(text, "</RegistrySnapshot>", `${sig}</RegistrySnapshot>`), "FORMAT", /two elements carry the Id "registry-signature"/);
      const renamed = sig.replace(/Id="registry-/g, 'Id="copy-');
      refused(swap(text, "</RegistrySnapshot>", `${renamed}</RegistrySnapshot>`), "FORMAT", /exactly one XML signature, it holds 2/);
      refused(swap(text, "<OrganId>000.00.00.H14</OrganId>", "<OrganId>000.00.00<!-- x -->.H14</OrganId>"), "FORMAT", /comments and CDATA/);
      refused(swap(text, "<Agencies ", '<Agencies note="x" '), "HASH_FAILURE", /changed after signing/);
      refused(swap(text, "<RegistrySnapshot ", '<RegistrySnapshot version="2" '), "FORMAT", /unexpected attributes: version/);
      refused(swap(text, "</Agencies>", "</Agencies>văn bản"), "FORMAT", /unexpected text inside <RegistrySnapshot>/);
    });

    it("DOCTYPE, entities, processing instructions, other encodings and another root → FORMAT", () => {
      const text = signedText();
      const body = text.slice(text.indexOf("<RegistrySnapshot"));
      refused(`<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE RegistrySnapshot [<!ATTLIST Agencies Id ID #IMPLIED>]>\n${body}`, "FORMAT", /DOCTYPE and ENTITY declarations are not allowed/);
      refused(`<!DOCTYPE x [<!ENTITY e "x">]>\n${body}`, "FORMAT", /DOCTYPE/);
      refused(`<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet href="x"?>\n${body}`, "FORMAT", /processing instructions/);
      refused(Buffer.concat([Buffer.from(text.slice(0, 100)), Buffer.from([0xff, 0xfe]), Buffer.from(text.slice(100))]), "FORMAT", /not UTF-8/);
      refused(body.replace(/RegistrySnapshot/g, "Registry"), "FORMAT", /not a registry snapshot/);
      refused(body.replace(`xmlns="${REGISTRY_NS}"`, 'xmlns="urn:edoc:registry:2"'), "FORMAT", /not a registry snapshot/);
      refused("", "FORMAT", /not acceptable XML/);
      refused('{"agencies":[]}', "FORMAT", /not acceptable XML/);
    });

    it("references: a missing one, an extra one, a wrong Type → FORMAT", () => {
      const text = signedText();
      refused(swap(text, 'URI="#registry-agencies"', 'URI=""'), "FORMAT", /must reference exactly #registry-agencies and #registry-signed-props/);
      refused(swap(text, ' Type="http://uri.etsi.org/01903#SignedProperties"', ""), "FORMAT", /wrong Type/);
    });
  });

  describe("edoc verify --registry SNAPSHOT --registry-cert NODE.pem", function () {
    const s = scratch();
    const p = (name: string) => s.path(name);
    const edoc = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => execFile(EDOC, args, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr })));
    before(async () => {
      writeFileSync(p("packet.edxml"), await pack(sampleEdoc(), [], sender));
      writeFileSync(p("root.pem"), root.certificate.toString());
      writeFileSync(p("node.pem"), node.certificate.toString());
      writeFileSync(p("attacker.pem"), attacker.certificate.toString());
      writeFileSync(p("two.pem"), node.certificate.toString() + attacker.certificate.toString());
      writeFileSync(p("snapshot.xml"), sign());
      writeFileSync(p("without-sender.xml"), sign({ list: entries.slice(1) }));
      writeFileSync(p("expired.xml"), sign({ issuedAt: new Date(Date.now() - 20 * MINUTE), validFor: 10 * MINUTE }));
      writeFileSync(p("registry.json"), `\n  ${JSON.stringify({ agencies: [{ organId: SENDER, certificateFingerprints: [fingerprint(sender.certificate)] }] })}`);
    });
    after(() => s.cleanup());
    const verifyWith = (...args: string[]) => edoc("verify", p("packet.edxml"), "--trust", p("root.pem"), ...args);

    it("a snapshot with its publisher certificate: exit 0", async () => {
      const r = await verifyWith("--registry", p("snapshot.xml"), "--registry-cert", p("node.pem"));
      expect(r.stderr).to.equal("");
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/^VALID/).and.include(`(for ${SENDER})`);
    });

    it("a snapshot without --registry-cert: exit 2, saying what to give", async () => {
      const r = await verifyWith("--registry", p("snapshot.xml"));
      expect(r.code).to.equal(2);
      expect(r.stdout).to.equal("");
      expect(r.stderr).to.include("is a signed registry snapshot: give the publishing node's certificate with --registry-cert NODE.pem");
    });

    it("a snapshot refused (another publisher certificate, expired): exit 2 with the reason", async () => {
      const other = await verifyWith("--registry", p("snapshot.xml"), "--registry-cert", p("attacker.pem"));
      expect(other.code).to.equal(2);
      expect(other.stderr).to.match(/the registry snapshot .*snapshot\.xml is refused: the snapshot is signed by .* not by the configured publisher certificate/);
      const expired = await verifyWith("--registry", p("expired.xml"), "--registry-cert", p("node.pem"));
      expect(expired.code).to.equal(2);
      expect(expired.stderr).to.include("the snapshot expired at");
      const two = await verifyWith("--registry", p("snapshot.xml"), "--registry-cert", p("two.pem"));
      expect(two.code).to.equal(2);
      expect(two.stderr).to.include("must hold exactly one certificate");
    });

    it("a snapshot checked as of --at: expired then, so exit 2", async () => {
      const r = await verifyWith("--registry", p("snapshot.xml"), "--registry-cert", p("node.pem"), "--at", new Date(Date.now() + 30 * MINUTE).toISOString());
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include("the snapshot expired at");
    });

    it("a snapshot that does not list the sender: exit 1, SIGNER_NOT_BOUND", async () => {
      const r = await verifyWith("--registry", p("without-sender.xml"), "--registry-cert", p("node.pem"), "--json");
      expect(r.code).to.equal(1);
      expect(JSON.parse(r.stdout).subIndication).to.equal("SIGNER_NOT_BOUND");
    });

    it("the plain JSON form still works (leading whitespace too); --registry-cert with JSON or without --registry is a usage error", async () => {
      expect((await verifyWith("--registry", p("registry.json"))).code).to.equal(0);
      const json = await verifyWith("--registry", p("registry.json"), "--registry-cert", p("node.pem"));
      expect(json.code).to.equal(2);
      expect(json.stderr).to.include("is a plain JSON registry, which is not signed");
      const alone = await verifyWith("--registry-cert", p("node.pem"));
      expect(alone.code).to.equal(2);
      expect(alone.stderr).to.include("--registry-cert is only used with --registry SNAPSHOT");
    });

    it("--help describes --registry-cert", async () => {
      const r = await edoc("verify", "--help");
      expect(r.code).to.equal(0);
      expect(r.stdout).to.include("--registry-cert NODE.pem");
    });
  });

  describe("xmlsec1 agrees", function () {
    const s = scratch();
    const p = (name: string) => s.path(name);
    const ID_ATTRS = ["--id-attr:Id", `${REGISTRY_NS}:Agencies`, "--id-attr:Id", `${XADES_NS}:SignedProperties`];
    /** Pinned: the publisher certificate from the command line, KeyInfo not read. */
    const xmlsecVerify = (file: string, cert = p("node.pem")) =>
      xmlsec(["--verify", "--pubkey-cert-pem", cert, "--enabled-key-data", "key-name", "--enabled-reference-uris", "same-doc", ...ID_ATTRS, file]);
    const ok = (r: XmlsecRun) => {
      expect(r.stderr, r.stderr).to.match(/^OK$/m);
      expect(r.stderr).to.include("SignedInfo References (ok/all): 2/2");
      expect(r.code).to.equal(0);
    };
    before(async function () {
      await requireXmlsec(this);
      writeFileSync(p("node.pem"), node.certificate.toString());
      writeFileSync(p("node-key.pem"), node.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
      writeFileSync(p("attacker.pem"), attacker.certificate.toString());
    });
    after(() => s.cleanup());

    it("our snapshot: OK pinned to the node certificate; FAIL against another key, tampered, or without --id-attr", async () => {
      const text = signedText();
      writeFileSync(p("snapshot.xml"), text);
      ok(await xmlsecVerify(p("snapshot.xml")));
      const other = await xmlsecVerify(p("snapshot.xml"), p("attacker.pem"));
      expect(other.code).to.equal(1);
      writeFileSync(p("tampered.xml"), swap(text, "UBND tỉnh Cao Bằng", "UBND tỉnh Cao Bằng (giả mạo)"));
      const tampered = await xmlsecVerify(p("tampered.xml"));
      expect(tampered.code).to.equal(1);
      expect(tampered.stderr).to.match(/^FAIL$/m);
      const noIds = await xmlsec(["--verify", "--pubkey-cert-pem", p("node.pem"), "--enabled-key-data", "key-name", p("snapshot.xml")]);
      expect(noIds.code).to.equal(1);
    });

    it("a snapshot xmlsec1 signs from our layout (values blanked) verifies with ours and reads the same entries", async () => {
      const text = signedText();
      const end = text.indexOf("</ds:SignedInfo>");
      const template =
        text.slice(0, end).replace(/<ds:DigestValue>[^<]+<\/ds:DigestValue>/g, "<ds:DigestValue></ds:DigestValue>") +
        text
          .slice(end)
          .replace(/<ds:SignatureValue>[^<]+</, "<ds:SignatureValue><")
          .replace(/<ds:X509Certificate>[^<]+</, "<ds:X509Certificate><");
      writeFileSync(p("template.xml"), template);
      const signed = await xmlsec(["--sign", "--privkey-pem", `${p("node-key.pem")},${p("node.pem")}`, ...ID_ATTRS, "--output", p("xmlsec-signed.xml"), p("template.xml")]);
      expect(signed.code, signed.stderr).to.equal(0);
      ok(await xmlsecVerify(p("xmlsec-signed.xml")));
      expect(verify(readFileSync(p("xmlsec-signed.xml"))).entries).to.deep.equal(entries);
    });
  });
});
