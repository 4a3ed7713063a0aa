// The published XMLDSig vectors (shared/reference/xmldsig-vectors/, verdicts in expected.json)
// against our profile. None is an edXML packet, so verifyPacket refuses every one with
// FORMAT_FAILURE before any algorithm or key is looked at. The useful part is the algorithm
// policy on its own: checkAlgorithms(SignedInfo) must refuse each vector with
// DISALLOWED_ALGORITHM naming the offending algorithm. It stops at the first offence, in this
// order: CanonicalizationMethod, SignatureMethod, then per Reference its transforms (each must be
// exc-c14n without parameters, exactly one of them) and its digest. To document every offence,
// not only the first, the test also "peels" them: it repairs the one reported on a copy and asks
// again, until the policy passes or a structural (FORMAT_FAILURE) complaint remains.
//
// Our profile allows only same-document "#Id" references with a single exc-c14n transform
// (rsa-sha256/512, sha256/512). So the generic "accept" vector (enveloped, URI="") is refused
// too: the enveloped-signature transform is not on the list, and URI="" would fail the
// structural step of verifyPacket. The xmlsec expired-certificate chain is covered by
// test/pki.test.ts ("pki: published xmlsec vectors"), so it is not repeated here.
import { expect } from "chai";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { allElements, children, DSIG_NS, parseStrict, XmlError } from "../envelopes/index.ts";
import { ALG, checkAlgorithms, verifyPacket, VerificationFailure } from "../signing/index.ts";
import { fixturePath } from "../fixtures/index.ts";

const DIR = fixturePath("xmldsig-vectors");

interface ExpectedEntry {
  file: string;
  pinnedKey: string | null;
  observed_xmlcrypto_6_3_2: string;
  observed_xmlsec1_1_2_37: string;
  expected_profile: string;
  note: string;
}

/** Short names for the algorithm URIs the vectors use (anything else is shown in full). */
const SHORT: Record<string, string> = {
  "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": "inclusive-c14n",
  [ALG.EXC_C14N]: "exc-c14n",
  "http://www.w3.org/2000/09/xmldsig#rsa-sha1": "rsa-sha1",
  "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
  "http://www.w3.org/2001/04/xmldsig-more#md5": "md5",
  "http://www.w3.org/2000/09/xmldsig#enveloped-signature": "enveloped-signature",
  "http://www.w3.org/TR/1999/REC-xpath-19991116": "xpath",
};
const short = (uri: string) => SHORT[uri] ?? uri;
const URI_OF = Object.fromEntries(Object.entries(SHORT).map(([uri, name]) => [name, uri]));

interface Row {
  file: string;
  pinnedKey: string | null;
  /** expected.json's `expected_profile`, restated: a change upstream makes this table be reviewed. */
  upstream: string;
  /** What verifyPacket's FORMAT_FAILURE says. */
  verify: RegExp;
  /** When parseStrict refuses the file: its reason (the policy below then runs on the file without its DOCTYPE). */
  parse?: RegExp;
  /**
   * Every offence of checkAlgorithms in the order it reports them; the first is the verdict.
   *   c14n:X, signature:X, transform:X@uri, no-transforms@uri, transforms=N@uri, digest:X@uri
   */
  offences: string[];
  /** What is left once every offence is repaired: "passes" (only structure would refuse it) or the FORMAT_FAILURE. */
  after: "passes" | RegExp;
  why: string;
}

const notEdxml = (root: string) => new RegExp(`not an edXML packet: the root element is <${root}>`);

// One row per expected.json entry (file + pinned key).
const TABLE: Row[] = [
  {
    file: "w3c-xmldsig11-microsoft/rsa2048_sha256_exc-c14n.xml",
    pinnedKey: "w3c-xmldsig11-microsoft/rsa2048-pub.pem",
    upstream: "accept",
    verify: notEdxml("root"),
    offences: ['transform:enveloped-signature@""', 'transforms=0@""'],
    after: "passes",
    why:
      'expected.json says "accept" for an enveloped URI="" profile; ours differs on purpose: rsa-sha256, sha256 and exc-c14n are ' +
      "all allowed, but the only transform allowed is exc-c14n, so the enveloped-signature transform is refused first; " +
      'URI="" (whole document) would then be refused by the structural step, which allows only the fixed #Id references',
  },
  {
    file: "w3c-xmldsig11-microsoft/rsa2048_sha256_c14n.xml",
    pinnedKey: "w3c-xmldsig11-microsoft/rsa2048-pub.pem",
    upstream: "reject-policy",
    verify: notEdxml("root"),
    offences: ["c14n:inclusive-c14n", 'transform:enveloped-signature@""', 'transforms=0@""'],
    after: "passes",
    why: "inclusive C14N in SignedInfo is checked first and is not exc-c14n",
  },
  {
    file: "w3c-xmldsig11-microsoft/rsa2048_sha512_exc-c14n.xml",
    pinnedKey: "w3c-xmldsig11-microsoft/rsa2048-pub.pem",
    upstream: "reject-policy",
    verify: notEdxml("root"),
    offences: ['transform:enveloped-signature@""', 'transforms=0@""'],
    after: "passes",
    why:
      "our allow-list includes rsa-sha512 and sha512 (expected.json's note: \"accept if allowed\"), so SHA-512 is NOT an " +
      "offence here; the vector is refused for the enveloped-signature transform, exactly like the sha256 one",
  },
  {
    file: "w3c-xmldsig11-microsoft/rsa2048_sha1_exc-c14n.xml",
    pinnedKey: "w3c-xmldsig11-microsoft/rsa2048-pub.pem",
    upstream: "reject-policy",
    verify: notEdxml("root"),
    offences: ["signature:rsa-sha1", 'transform:enveloped-signature@""', 'transforms=0@""', 'digest:sha1@""'],
    after: "passes",
    why: "exc-c14n passes, so the SignatureMethod rsa-sha1 is the first offence; the sha1 digest comes last (digests are checked after transforms)",
  },
  {
    file: "w3c-xmldsig11-oracle/signature-enveloping-sha256-rsa-sha256.xml",
    pinnedKey: "w3c-xmldsig11-oracle/rsa-key.crt",
    upstream: "reject-policy",
    verify: notEdxml("dsig:Signature"),
    offences: ["c14n:inclusive-c14n", "no-transforms@#DSig.Object_6WAPp17qcv2VLzo22r17Sg22"],
    after: "passes",
    why:
      "inclusive C14N first; the reference has no Transforms at all (the profile requires exactly one exc-c14n). " +
      "Enveloping (a reference to a ds:Object inside the signature) is a structural refusal, not an algorithm one: " +
      "with its algorithms repaired the policy passes, and verifyPacket's reference set check would refuse it",
  },
  {
    file: "w3c-xmldsig11-oracle/signature-enveloping-rsa-sha256.xml",
    pinnedKey: "w3c-xmldsig11-oracle/rsa-key.crt",
    upstream: "reject-policy",
    verify: notEdxml("dsig:Signature"),
    offences: ["c14n:inclusive-c14n", "no-transforms@#DSig.Object_gdHd5sa901sX14P1Fv8QJA22", "digest:sha1@#DSig.Object_gdHd5sa901sX14P1Fv8QJA22"],
    after: "passes",
    why: "rsa-sha256 over a SHA-1 digest: the sha1 digest is an offence, but inclusive C14N and the missing transform are reported before it",
  },
  {
    file: "phaos-xmldsig-three/signature-rsa-enveloped.xml",
    pinnedKey: "phaos-xmldsig-three/rsa-cert.pem",
    upstream: "reject-policy",
    verify: notEdxml("player"),
    offences: ["c14n:inclusive-c14n", "signature:rsa-sha1", 'transform:enveloped-signature@""', 'transforms=0@""', 'digest:sha1@""'],
    after: "passes",
    why: "the classic SHA-1 enveloped signature: every algorithm in it is outside the allow-list; inclusive C14N is reported first",
  },
  {
    file: "phaos-xmldsig-three/signature-rsa-enveloped-bad-digest-val.xml",
    pinnedKey: "phaos-xmldsig-three/rsa-cert.pem",
    upstream: "reject",
    verify: notEdxml("player"),
    offences: ["c14n:inclusive-c14n", "signature:rsa-sha1", 'transform:enveloped-signature@""', 'transforms=0@""', 'digest:sha1@""'],
    after: "passes",
    why: "the wrong DigestValue is never reached: the policy refuses the algorithms (same SignedInfo shape as the valid one) before any digest is computed",
  },
  {
    file: "phaos-xmldsig-three/signature-rsa-enveloped-bad-sig.xml",
    pinnedKey: "phaos-xmldsig-three/rsa-cert.pem",
    upstream: "reject",
    verify: notEdxml("player"),
    offences: [
      "c14n:inclusive-c14n",
      "signature:rsa-sha1",
      'transform:enveloped-signature@""',
      'transforms=0@""',
      'digest:sha1@""',
      'no-transforms@""',
      'digest:md5@""',
    ],
    after: /reference "" must hold Transforms, DigestMethod and DigestValue/,
    why:
      "the malformed second Reference (md5, no DigestValue; the same URI=\"\" twice) is refused as well: after its algorithms, " +
      "the missing DigestValue is a FORMAT_FAILURE; xml-crypto throws on it, we answer with a reason",
  },
  {
    file: "phaos-xmldsig-three/signature-rsa-detached-xslt-transform-bad-retrieval-method.xml",
    pinnedKey: "phaos-xmldsig-three/rsa-cert.pem",
    upstream: "reject-policy",
    verify: notEdxml("player"),
    offences: ["c14n:inclusive-c14n", "signature:rsa-sha1", 'transform:enveloped-signature@""', 'transforms=0@""', 'digest:sha1@""'],
    after: "passes",
    why:
      "despite its name this SignedInfo holds no XSLT transform (only enveloped-signature); the bad KeyInfo RetrievalMethod is " +
      "irrelevant because KeyInfo is never used for trust; refused for inclusive C14N first",
  },
  {
    file: "santuario/demo.signed.xml",
    pinnedKey: "santuario/demo-signing-cert.pem",
    upstream: "reject-policy",
    verify: notEdxml("EntitiesDescriptor"),
    offences: ["signature:rsa-sha1", 'transform:enveloped-signature@""', 'transform:exc-c14n@""', 'transforms=0@""', 'digest:sha1@""'],
    after: "passes",
    why:
      "exc-c14n SignedInfo, so rsa-sha1 is first; note that its exc-c14n transform is refused too, because it carries an " +
      "InclusiveNamespaces PrefixList (the profile's exc-c14n transform takes no parameters, and our canonicaliser would not honour one)",
  },
  {
    file: "santuario/manifestSignatureWrapping.xml",
    pinnedKey: null,
    upstream: "reject",
    verify: /DOCTYPE and ENTITY declarations are not allowed/,
    parse: /DOCTYPE and ENTITY declarations are not allowed/,
    offences: ["c14n:inclusive-c14n", "signature:rsa-sha1", "no-transforms@#manifest", "digest:sha1@#manifest"],
    after: "passes",
    why:
      "the DOCTYPE (an ATTLIST declaring Id) is refused by the strict parse before anything else, which also defeats the " +
      "duplicate-Id wrapping; with the DOCTYPE cut out the algorithms would be refused too, and a Manifest reference " +
      "(Type=...#Manifest) is not one of the profile's references",
  },
  {
    file: "xmlsec-aleksey/enveloped-x509-same-subj-cert.xml",
    pinnedKey: "xmlsec-aleksey/same-subj-cert1.pem",
    upstream: "reject-policy",
    verify: notEdxml("Envelope"),
    offences: ["c14n:inclusive-c14n", 'transform:enveloped-signature@""', 'transform:xpath@""', 'transforms=0@""'],
    after: "passes",
    why: "rsa-sha256 and sha256 are allowed; inclusive C14N is reported first, and the XPath transform is an offence of its own after the enveloped-signature one",
  },
  {
    file: "xmlsec-aleksey/enveloped-x509-same-subj-cert.xml",
    pinnedKey: "xmlsec-aleksey/same-subj-cert2.pem",
    upstream: "reject",
    verify: notEdxml("Envelope"),
    offences: ["c14n:inclusive-c14n", 'transform:enveloped-signature@""', 'transform:xpath@""', 'transforms=0@""'],
    after: "passes",
    why:
      "same file as above: the algorithm verdict does not depend on the key. Selecting the key by subject name is the danger " +
      "this entry is about; pki.test.ts checks that same-subj-cert2 does not pass for same-subj-cert1",
  },
  {
    file: "xmlsec-aleksey/enveloping-expired-cert.xml",
    pinnedKey: "xmlsec-aleksey/rsa-expired-cert.pem",
    upstream: "reject",
    verify: notEdxml("Signature"),
    offences: ["c14n:inclusive-c14n", "signature:rsa-sha1", "no-transforms@#object", "digest:sha1@#object"],
    after: "passes",
    why:
      "refused on algorithms before its certificate is looked at; the expiry itself (valid 2026-03-08..22, EXPIRED now) is " +
      "tested on the chain rsa-expired-cert → ca2cert → cacert in pki.test.ts",
  },
];

const key = (e: { file: string; pinnedKey: string | null }) => `${e.file} [${e.pinnedKey ?? "no pinned key"}]`;
const entries: ExpectedEntry[] = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8"));
const rows = new Map(TABLE.map((r) => [key(r), r]));

/** Trust the vector's own certificate, if it has one: the refusal must not depend on missing trust. */
function anchorsFor(pinnedKey: string | null): X509Certificate[] {
  if (!pinnedKey) return [];
  try {
    return [new X509Certificate(readFileSync(join(DIR, pinnedKey)))];
  } catch {
    return []; // a bare public key (rsa2048-pub.pem)
  }
}

function signedInfoOf(text: string): Element {
  const found = allElements(parseStrict(text).documentElement).filter((e) => e.localName === "SignedInfo" && e.namespaceURI === DSIG_NS);
  expect(found, "SignedInfo elements").to.have.length(1);
  return found[0];
}

/** checkAlgorithms' failure, or null when it passes. */
function policy(signedInfo: Element): VerificationFailure | null {
  try {
    checkAlgorithms(signedInfo);
    return null;
  } catch (err) {
    if (err instanceof VerificationFailure) return err;
    throw err;
  }
}

/** Every offence in reporting order, and what remains, by repairing each reported one on a copy. */
function peel(signedInfo: Element): { offences: string[]; rest: VerificationFailure | null } {
  const si = signedInfo.cloneNode(true) as Element;
  const doc = signedInfo.ownerDocument;
  const offences: string[] = [];
  const refs = () => children(si).filter((e) => e.localName === "Reference");
  const firstRef = (uri: string, test: (ref: Element) => boolean) => {
    const ref = refs().find((r) => (r.getAttribute("URI") ?? "") === uri && test(r));
    if (!ref) throw new Error(`peel: no reference "${uri}" to repair`);
    return ref;
  };
  const transformsOf = (ref: Element) => children(ref).find((e) => e.localName === "Transforms");
  const at = (uri: string) => (uri ? uri : '""');
  const excTransform = () => {
    const t = doc.createElementNS(DSIG_NS, "ds:Transform");
    t.setAttribute("Algorithm", ALG.EXC_C14N);
    return t;
  };
  for (let round = 0; round < 20; round++) {
    const failure = policy(si);
    if (!failure || failure.subIndication !== "DISALLOWED_ALGORITHM") return { offences, rest: failure };
    const msg = failure.message;
    let m: RegExpExecArray | null;
    if ((m = /^canonicalization (\S+) is not allowed/.exec(msg))) {
      offences.push(`c14n:${short(m[1])}`);
      children(si)[0].setAttribute("Algorithm", ALG.EXC_C14N);
    } else if ((m = /^signature algorithm (\S+) is not allowed/.exec(msg))) {
      offences.push(`signature:${short(m[1])}`);
      children(si)[1].setAttribute("Algorithm", ALG.RSA_SHA256);
    } else if ((m = /^transform (\S+) in reference "(.*)" is not allowed/.exec(msg))) {
      const [, alg, uri] = m;
      offences.push(`transform:${short(alg)}@${at(uri)}`);
      const bad = (t: Element) => (t.getAttribute("Algorithm") || t.localName) === alg;
      const ref = firstRef(uri, (r) => children(transformsOf(r) ?? r).some(bad));
      const transforms = transformsOf(ref)!;
      transforms.removeChild(children(transforms).find(bad)!);
    } else if ((m = /^reference "(.*)" without the exc-c14n transform/.exec(msg))) {
      offences.push(`no-transforms@${at(m[1])}`);
      const ref = firstRef(m[1], (r) => !transformsOf(r));
      const transforms = doc.createElementNS(DSIG_NS, "ds:Transforms");
      transforms.appendChild(excTransform());
      ref.insertBefore(transforms, ref.firstChild);
    } else if ((m = /^reference "(.*)" must have exactly one transform \(exc-c14n\), it has (\d+)/.exec(msg))) {
      offences.push(`transforms=${m[2]}@${at(m[1])}`);
      const ref = firstRef(m[1], (r) => children(transformsOf(r)!).length !== 1);
      const transforms = transformsOf(ref)!;
      while (transforms.firstChild) transforms.removeChild(transforms.firstChild);
      transforms.appendChild(excTransform());
    } else if ((m = /^digest (\S+) in reference "(.*)" is not allowed/.exec(msg))) {
      offences.push(`digest:${short(m[1])}@${at(m[2])}`);
      const method = (r: Element) => children(r).find((e) => e.localName === "DigestMethod");
      const ref = firstRef(m[2], (r) => method(r)?.getAttribute("Algorithm") === m![1]);
      method(ref)!.setAttribute("Algorithm", ALG.SHA256);
    } else {
      throw new Error(`peel: unexpected DISALLOWED_ALGORITHM message: ${msg}`);
    }
  }
  throw new Error("peel: more than 20 offences");
}

/** The full algorithm URI an offence label names (for checking the first message). */
function uriIn(offence: string): string {
  const name = /^(?:c14n|signature|transform|digest):([^@]+)/.exec(offence)?.[1];
  return name ? (URI_OF[name] ?? name) : "";
}

describe("published XMLDSig vectors against the profile", function () {
  it("every expected.json entry has a verdict in this table, no row is stale, and the upstream verdicts are unchanged", function () {
    const missing = entries.filter((e) => !rows.has(key(e))).map(key);
    expect(missing, "expected.json entries without a verdict in test/vectors.test.ts").to.deep.equal([]);
    const stale = TABLE.filter((r) => !entries.some((e) => key(e) === key(r))).map(key);
    expect(stale, "rows for entries no longer in expected.json").to.deep.equal([]);
    expect(new Set(TABLE.map(key)).size, "duplicate rows").to.equal(TABLE.length);
    for (const e of entries) expect(rows.get(key(e))!.upstream, `${key(e)}: expected_profile changed upstream, review the row`).to.equal(e.expected_profile);
    expect(entries).to.not.be.empty;
  });

  for (const entry of entries) {
    const row = rows.get(key(entry));
    describe(key(entry), function () {
      // a new expected.json entry without a row fails here too, by name
      before(function () {
        if (!row) throw new Error(`no verdict for ${key(entry)} in test/vectors.test.ts: add a row to TABLE`);
      });
      const bytes = readFileSync(join(DIR, entry.file));

      it(`verifyPacket: FORMAT_FAILURE, not valid (${row?.parse ? "DOCTYPE refused" : "not an edXML packet"})`, async function () {
        const { report, content } = await verifyPacket({ bytes }, { anchors: anchorsFor(entry.pinnedKey), crls: [], registry: null });
        expect(report).to.include({ valid: false, indication: "TOTAL_FAILED", subIndication: "FORMAT_FAILURE" });
        expect(content).to.equal(null);
        expect(report.errors).to.have.length(1);
        expect(report.errors[0]).to.match(row!.verify);
        expect(report.references).to.deep.equal([]);
        expect(report.signer).to.equal(null);
      });

      if (row?.parse) {
        it("parseStrict refuses it with the DOCTYPE reason", function () {
          expect(() => parseStrict(bytes.toString("utf8"))).to.throw(XmlError).that.satisfies((e: Error) => row.parse!.test(e.message));
        });
      }

      it(`checkAlgorithms: DISALLOWED_ALGORITHM, first ${row?.offences[0]}`, function () {
        let text = bytes.toString("utf8");
        if (row!.parse) text = text.replace(/<!DOCTYPE[^\[>]*(\[[\s\S]*?\])?\s*>/, "");
        const signedInfo = signedInfoOf(text);
        const first = policy(signedInfo);
        expect(first, "the policy must refuse the vector").to.be.instanceOf(VerificationFailure);
        expect(first!.subIndication).to.equal("DISALLOWED_ALGORITHM");
        expect(first!.message).to.match(/is not allowed by the signature profile$/);
        const uri = uriIn(row!.offences[0]);
        if (uri) expect(first!.message, "the message names the offending algorithm").to.include(uri);
        expect(first!.vi).to.match(/^thuật toán không được phép: /);

        const { offences, rest } = peel(signedInfo);
        expect(offences, row!.why).to.deep.equal(row!.offences);
        if (row!.after === "passes") {
          expect(rest?.message ?? null, "after repairing every offence").to.equal(null);
        } else {
          expect(rest?.subIndication).to.equal("FORMAT_FAILURE");
          expect(rest!.message).to.match(row!.after);
        }
      });
    });
  }
});
