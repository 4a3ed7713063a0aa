// Mutation fuzzing of the verifier and of the inbound door. Genuinely signed packets are mutated
// (bit flips, truncations, duplicated, deleted and renamed elements) with a seeded generator, so a
// failure names the seed and the mutation that reproduce it:
//   - in process, thousands of mutations through verifyPacket: a report every time, never a throw;
//     an invalid report carries its sub-indication and one error; a valid one only when no signed
//     byte changed, and then it shows exactly the original's content;
//   - a few hundred of them at POST /edxml of a real node (SQLite and PostgreSQL): never a 5xx, the
//     node healthy and its memory bounded;
//   - the issue's own case (one bit of the KeyInfo certificate's key) at the CLI and at the door.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { regionBytes, type PacketSource } from "../envelopes/index.ts";
import { INDICATION_OF, fingerprint, signStatus, verifyPacket, type VerificationResult } from "../signing/index.ts";
import { onEachDatabase } from "./helpers/db.ts";
import { startNode, type TestNode } from "./helpers/node.ts";
import { RECIPIENT, SENDER, pack, sampleEdoc, sampleStatus, scratch, testPki } from "../fixtures/index.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);

/** mulberry32: a small deterministic generator, so that a seed replays a run. */
function generator(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** An element of the packet text: its qualified name and byte range (start tag to end tag). */
interface Span {
  name: string;
  start: number;
  end: number;
  /** Where its start tag's name ends, and where its end tag starts (equal to end for `<a/>`). */
  nameEnd: number;
  close: number;
}

/** The elements of a packet we made (no comments, CDATA or PIs in it), paired by a stack. */
function elementSpans(xml: Buffer): Span[] {
  const text = xml.toString("latin1"); // one char per byte: offsets are byte offsets
  const spans: Span[] = [];
  const open: Span[] = [];
  for (const m of text.matchAll(/<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>/g)) {
    const [tag, slash, name, selfClosing] = m;
    const at = m.index!;
    if (slash) {
      const span = open.pop()!;
      span.close = at;
      span.end = at + tag.length;
      spans.push(span);
    } else {
      const span = { name, start: at, end: at + tag.length, nameEnd: at + 1 + name.length, close: at + tag.length };
      if (selfClosing) spans.push(span);
      else open.push(span);
    }
  }
  return spans.sort((x, y) => x.start - y.start);
}

/** The byte ranges a signature covers, directly (signed elements) or through a digest (the signer certificate). */
function signedRanges(spans: Span[]): Array<[number, number]> {
  const signed = new Set(["edXML:MessageHeader", "edXML:Bussiness", "edXML:edXMLManifest", "Attachment", "ds:SignedInfo", "ds:SignatureValue", "xades:SignedProperties"]);
  const ranges: Array<[number, number]> = spans.filter((s) => signed.has(s.name)).map((s) => [s.start, s.end]);
  const signerCert = spans.find((s) => s.name === "ds:X509Certificate")!;
  ranges.push([signerCert.start, signerCert.end]);
  return ranges;
}

interface Mutation {
  what: string;
  bytes: Buffer;
  /** The bytes it changed, in the original: [from, to); empty where it inserted. */
  touched: [number, number];
}

const NAMES = ["Subject", "Attachment", "MessageHeader", "Signature", "Reference", "TraceHeader", "From", "x:Subject"];

/** One random mutation of `xml`. */
function mutate(xml: Buffer, spans: Span[], pick: (n: number) => number): Mutation {
  const kind = pick(10);
  const span = spans[pick(spans.length)]!;
  const splice = (from: number, to: number, insert: Buffer | string): Buffer =>
    Buffer.concat([xml.subarray(0, from), Buffer.from(insert as string), xml.subarray(to)]);
  if (kind < 5) {
    // a bit flip: half of them in the skeleton before the attachments, where most structure is
    const limit = pick(2) ? xml.indexOf("<AttachmentEncoded>") : xml.length;
    const at = pick(limit > 0 ? limit : xml.length);
    const bit = pick(8);
    const bytes = Buffer.from(xml);
    bytes[at]! ^= 1 << bit;
    return { what: `bit ${bit} of byte ${at} flipped`, bytes, touched: [at, at + 1] };
  }
  if (kind === 5) {
    const at = pick(xml.length);
    return { what: `truncated to ${at} bytes`, bytes: xml.subarray(0, at), touched: [at, xml.length] };
  }
  if (kind === 6) {
    return { what: `<${span.name}> at ${span.start} duplicated`, bytes: splice(span.end, span.end, xml.subarray(span.start, span.end)), touched: [span.end, span.end] };
  }
  if (kind === 7) {
    return { what: `<${span.name}> at ${span.start} deleted`, bytes: splice(span.start, span.end, ""), touched: [span.start, span.end] };
  }
  // renamed: another local name, or the same one in a foreign namespace
  const to = pick(2) ? NAMES[pick(NAMES.length)]! : `fz:${span.name.replace(/^.*:/, "")} xmlns:fz="urn:example:fuzz"`;
  const closeName = to.split(" ")[0]!;
  const renamed =
    span.close === span.end
      ? splice(span.start + 1, span.nameEnd, to)
      : Buffer.concat([
          xml.subarray(0, span.start + 1),
          Buffer.from(to),
          xml.subarray(span.nameEnd, span.close + 2),
          Buffer.from(closeName),
          xml.subarray(span.close + 2 + span.name.length),
        ]);
  return { what: `<${span.name}> at ${span.start} renamed <${to}>`, bytes: renamed, touched: [span.start, span.end] };
}

/** What a valid result shows: the packet (relay traces aside), the attachments' bytes, the signer. */
async function shown(source: PacketSource, result: VerificationResult): Promise<unknown> {
  const content = result.content!;
  const attachments: string[] = [];
  for (const a of content.attachments) {
    const chunks: Buffer[] = [];
    for await (const c of regionBytes(source, a.region!)) chunks.push(Buffer.from(c));
    attachments.push(Buffer.concat(chunks).toString("base64"));
  }
  const packet = content.packet.kind === "edoc" ? { ...content.packet, traces: [] } : content.packet;
  return { packet, attachments, infos: content.attachments.map((a) => a.info), signer: fingerprint(content.signer) };
}

/** The KeyInfo signer certificate with the first bit of its key that OpenSSL cannot decode flipped. */
function undecodableSignerCertificate(xml: string): string {
  const der = testPki().sender.certificate.raw;
  const at = der.indexOf(testPki().sender.certificate.publicKey.export({ type: "spki", format: "der" }));
  for (let bit = 0; bit < 64 * 8; bit++) {
    const flipped = Buffer.from(der);
    flipped[at + (bit >> 3)]! ^= 1 << (bit & 7);
    try {
      void new X509Certificate(flipped).publicKey;
    } catch {
      return xml.replace(der.toString("base64"), flipped.toString("base64"));
    }
  }
  throw new Error("no bit of the key makes it undecodable");
}

let EDOC: Buffer = Buffer.alloc(0);
let STATUS: Buffer = Buffer.alloc(0);
/** Another document, never mutated: the node still takes it after the fuzzing. */
let FRESH: Buffer = Buffer.alloc(0);

before(async function () {
  this.timeout(60_000);
  const { sender, recipient } = testPki();
  EDOC = await pack(sampleEdoc({}, ["Quyết định 123.pdf", "Phụ lục.pdf"]), [Buffer.from("%PDF-1.7 quyết định"), Buffer.alloc(1500, 7)], sender);
  STATUS = signStatus(sampleStatus("03"), recipient);
  const edoc = sampleEdoc();
  FRESH = await pack({ ...edoc, header: { ...edoc.header, DocumentId: `${SENDER},2026/11/20,124/QĐ-VPCP`, Code: { CodeNumber: "124", CodeNotation: "QĐ-VPCP" } } }, [], sender);
});

describe("mutation fuzzing of verifyPacket (in process)", function () {
  this.timeout(60_000);

  for (const [name, packet, count] of [
    ["edoc", () => EDOC, 2000],
    ["status packet", () => STATUS, 1000],
  ] as const) {
    it(`${count} mutations of a signed ${name}: a report every time, never valid for a changed signed byte`, async () => {
      const xml = packet();
      const spans = elementSpans(xml);
      const ranges = signedRanges(spans);
      const original = await verifyPacket({ bytes: xml }, testPki().trust);
      expect(original.report.valid).to.equal(true);
      const want = await shown({ bytes: xml }, original);
      const pick = generator(SEED + count);
      const seen: Record<string, number> = {};
      for (let i = 0; i < count; i++) {
        const m = mutate(xml, spans, pick);
        const where = `seed ${SEED + count}, mutation ${i}: ${m.what}`;
        let result: VerificationResult;
        try {
          result = await verifyPacket({ bytes: m.bytes }, testPki().trust);
        } catch (err) {
          throw new Error(`${where}: verifyPacket threw ${(err as Error).message}`, { cause: err });
        }
        const { report } = result;
        seen[report.subIndication ?? "VALID"] = (seen[report.subIndication ?? "VALID"] ?? 0) + 1;
        if (report.valid) {
          const signedTouched = ranges.some(([from, to]) => m.touched[0] < to && from < m.touched[1]);
          expect(signedTouched, `${where}: valid although a signed byte changed`).to.equal(false);
          expect(await shown({ bytes: m.bytes }, result), `${where}: valid, but shows other content`).to.deep.equal(want);
        } else {
          expect(report.subIndication, where).to.be.a("string");
          expect(report.indication, where).to.equal(INDICATION_OF[report.subIndication!]);
          expect(report.errors, where).to.have.length(1);
          expect(result.content, where).to.equal(null);
        }
      }
      // the mutations reached every step, not only the parser
      expect(Object.keys(seen)).to.include.members(["FORMAT_FAILURE", "HASH_FAILURE", "VALID"]);
    });
  }
});

describe("the KeyInfo certificate whose key OpenSSL cannot decode, at the CLI", () => {
  const s = scratch();
  after(() => s.cleanup());

  it("bin/edoc verify exits 1 with a FORMAT_FAILURE report (not 2 with an OpenSSL error)", async () => {
    const { sender, root } = testPki();
    writeFileSync(s.path("bad.edxml"), undecodableSignerCertificate(EDOC.toString()));
    writeFileSync(s.path("root.pem"), root.certificate.toString());
    writeFileSync(s.path("registry.json"), JSON.stringify({ agencies: [{ organId: SENDER, name: "VPCP", certificateFingerprints: [fingerprint(sender.certificate)] }] }));
    const bin = fileURLToPath(new URL("../bin/edoc", import.meta.url));
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(bin, ["verify", s.path("bad.edxml"), "--json", "--trust", s.path("root.pem"), "--registry", s.path("registry.json")], (err, stdout, stderr) =>
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr }),
      );
    });
    expect(stderr).to.not.include("decode error");
    expect(code).to.equal(1);
    expect(JSON.parse(stdout)).to.include({ valid: false, subIndication: "FORMAT_FAILURE" });
  });
});

onEachDatabase("mutation fuzzing of POST /edxml", (database) => {
  describe("a node hosting the recipient, the sender in its registry", function () {
    this.timeout(60_000);
    let node: TestNode;
    before(async () => {
      node = await startNode({
        database: database(),
        organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }],
        registry: [{ organId: SENDER, name: "Văn phòng Chính phủ", endpoint: "http://127.0.0.1:9/", certificates: [testPki().sender.certificate] }],
      });
    });
    after(async () => {
      await node?.close();
    });
    const post = (body: Buffer | string) => fetch(`${node.url}/edxml`, { method: "POST", headers: { "content-type": "application/xml" }, body: body as BodyInit });

    it("the issue's case: the KeyInfo certificate with an undecodable key → 422 with the FORMAT_FAILURE report", async () => {
      const res = await post(undecodableSignerCertificate(EDOC.toString()));
      expect(res.status).to.equal(422);
      expect(await res.json()).to.include({ valid: false, subIndication: "FORMAT_FAILURE" });
    });

    it("300 mutations: never a 5xx, /healthz answers meanwhile and after, memory bounded, a genuine packet still accepted", async () => {
      const pick = generator(SEED);
      const packets = [EDOC, STATUS].map((xml) => ({ xml, spans: elementSpans(xml) }));
      const rssBefore = process.memoryUsage().rss;
      const statuses: Record<number, number> = {};
      const queue = Array.from({ length: 300 }, (_, i) => i);
      const worker = async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const { xml, spans } = packets[i % 5 === 4 ? 1 : 0]!;
          const m = mutate(xml, spans, pick);
          const res = await post(m.bytes);
          await res.arrayBuffer();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          expect(res.status, `seed ${SEED}, request ${i}: ${m.what}`).to.be.below(500);
        }
      };
      const probe = async () => {
        const started = Date.now();
        const res = await fetch(`${node.url}/healthz`);
        expect(res.status).to.equal(200);
        return Date.now() - started;
      };
      const slowest = { ms: 0 };
      const probing = (async () => {
        while (queue.length) {
          slowest.ms = Math.max(slowest.ms, await probe());
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      await Promise.all([worker(), worker(), worker(), worker(), probing]);
      expect(Object.keys(statuses).map(Number).every((s) => s >= 200 && s < 500)).to.equal(true);
      expect(statuses[422], JSON.stringify(statuses)).to.be.greaterThan(100);
      expect(slowest.ms, "slowest /healthz while fuzzing").to.be.below(2000);
      expect(await probe()).to.be.below(2000);
      expect(process.memoryUsage().rss - rssBefore, "memory growth").to.be.below(300 * 1024 * 1024);
      const genuine = await post(FRESH);
      expect(genuine.status, await genuine.clone().text()).to.equal(202);
    });
  });
});
