// A real RFC 3161 time-stamping authority for tests: `openssl ts -reply` behind a small HTTP
// handler on 127.0.0.1, with its own CA. Its TSA certificate has the critical extended key usage
// timeStamping; a second TSA key has a certificate without it, and a third TSA is under another
// CA (not a configured anchor). `mode` switches what the next requests get:
//   "ok"            a token from the TSA
//   "no-eku"        a token signed by the TSA certificate without the timeStamping EKU
//   "other-ca"      a token from a TSA under a CA nobody trusts
//   "wrong-imprint" a token whose imprint is not the request's (the nonce is kept)
//   "down"          HTTP 503, as a TSA that is unreachable behind its proxy
//
//   const tsa = await startTsa();  …  tsa.url, tsa.caPem, tsa.mode = "down", tsa.requests
//   await tsa.close();
// `startTsa({ days: 30 })` gives the TSA certificate 30 days (default 3650); `tsa.renewCertificate(days)`
// issues it a new one under the same CA, used from then on (a TSA whose certificate was renewed).
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { scratch } from "../../fixtures/index.ts";

const run = promisify(execFile);

type TsaMode = "ok" | "no-eku" | "other-ca" | "wrong-imprint" | "down";

export interface TestTsa {
  url: string;
  /** The TSA's CA (PEM): the TSA trust anchor. */
  caPem: string;
  caPath: string;
  /** The CA of the "other-ca" TSA. */
  otherCaPem: string;
  mode: TsaMode;
  /** Requests answered with a token so far. */
  requests: number;
  /** A new key and certificate for the TSA ("ok" and "wrong-imprint"), valid `days` from now. */
  renewCertificate(days: number): Promise<void>;
  close(): Promise<void>;
}

const CONFIG = (dir: string) => `
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = ${dir}
serial = ${dir}/serial
crypto_device = builtin
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
signer_digest = sha256
[ ca_ext ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ tsa_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ no_eku_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

async function openssl(...args: string[]): Promise<void> {
  await run("openssl", args);
}

export async function startTsa(opts: { days?: number } = {}): Promise<TestTsa> {
  const s = scratch();
  const p = s.path;
  await writeFile(p("tsa.cnf"), CONFIG(s.dir));
  await writeFile(p("serial"), "01\n");
  const ca = async (name: string, cn: string) => {
    await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p(`${name}.key`), "-out", p(`${name}.pem`), "-days", "7300", "-subj", `/C=VN/O=Test TSA/CN=${cn}`, "-config", p("tsa.cnf"), "-extensions", "ca_ext");
  };
  const leaf = async (name: string, cn: string, issuer: string, ext: string, days = 3650) => {
    await openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`), "-subj", `/C=VN/O=Test TSA/CN=${cn}`);
    await openssl("x509", "-req", "-in", p(`${name}.csr`), "-CA", p(`${issuer}.pem`), "-CAkey", p(`${issuer}.key`), "-CAcreateserial", "-out", p(`${name}.pem`), "-days", String(days), "-extfile", p("tsa.cnf"), "-extensions", ext);
  };
  await ca("ca", "Test TSA Root CA");
  await ca("other-ca", "Untrusted TSA Root CA");
  await leaf("tsa", "Test TSA", "ca", "tsa_ext", opts.days);
  await leaf("no-eku", "Test TSA without EKU", "ca", "no_eku_ext");
  await leaf("other", "Untrusted TSA", "other-ca", "tsa_ext");
  const signers: Record<Exclude<TsaMode, "down">, string> = { ok: "tsa", "wrong-imprint": "tsa", "no-eku": "no-eku", "other-ca": "other" };

  let n = 0;
  const tsa: TestTsa = {
    url: "",
    caPem: await readFile(p("ca.pem"), "utf8"),
    caPath: p("ca.pem"),
    otherCaPem: await readFile(p("other-ca.pem"), "utf8"),
    mode: "ok",
    requests: 0,
    renewCertificate: (days) => leaf("tsa", "Test TSA", "ca", "tsa_ext", days),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      s.cleanup();
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const mode = tsa.mode;
      if (mode === "down" || req.method !== "POST" || req.headers["content-type"] !== "application/timestamp-query") {
        res.writeHead(mode === "down" ? 503 : 400).end();
        return;
      }
      const query = Buffer.concat(chunks);
      if (mode === "wrong-imprint") otherImprint(query);
      const id = ++n;
      try {
        await writeFile(p(`q${id}.tsq`), query);
        const signer = signers[mode];
        // openssl ts refuses to sign with a certificate lacking the EKU: that token is the TSA's
        // TSTInfo signed again with `openssl cms`
        const tsaSigner = signer === "no-eku" ? "tsa" : signer;
        await openssl("ts", "-reply", "-config", p("tsa.cnf"), "-queryfile", p(`q${id}.tsq`), "-signer", p(`${tsaSigner}.pem`), "-inkey", p(`${tsaSigner}.key`), "-chain", p(signer === "other" ? "other-ca.pem" : "ca.pem"), "-out", p(`r${id}.tsr`));
        let reply: Buffer = await readFile(p(`r${id}.tsr`));
        if (signer === "no-eku") {
          await openssl("ts", "-reply", "-in", p(`r${id}.tsr`), "-token_out", "-out", p(`t${id}.der`));
          await openssl("cms", "-verify", "-noverify", "-inform", "DER", "-in", p(`t${id}.der`), "-out", p(`i${id}.der`));
          await openssl("cms", "-sign", "-binary", "-nodetach", "-nosmimecap", "-econtent_type", "1.2.840.113549.1.9.16.1.4", "-md", "sha256", "-in", p(`i${id}.der`), "-signer", p("no-eku.pem"), "-inkey", p("no-eku.key"), "-certfile", p("ca.pem"), "-outform", "DER", "-out", p(`s${id}.der`));
          reply = der(0x30, Buffer.concat([Buffer.from("3003020100", "hex"), await readFile(p(`s${id}.der`))]));
        }
        tsa.requests++;
        res.writeHead(200, { "content-type": "application/timestamp-reply" }).end(reply);
      } catch (err) {
        res.writeHead(500).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  tsa.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`;
  return tsa;
}

/** Changes the SHA-256 imprint inside a TimeStampReq (after the algorithm's OID) in place. */
function otherImprint(query: Buffer): void {
  const oid = Buffer.from("0609608648016503040201", "hex");
  let at = query.indexOf(oid) + oid.length;
  if (query[at] === 0x05) at += 2; // NULL parameters
  if (query[at] !== 0x04 || query[at + 1] !== 0x20) throw new Error("not a SHA-256 TimeStampReq");
  for (let i = at + 2; i < at + 34; i++) query[i] ^= 0xff;
}

/** A DER element: tag, length (short or long form), content. */
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : n < 0x10000 ? Buffer.from([0x82, n >> 8, n & 0xff]) : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

/** The TimeStampToken of a granted TimeStampResp (its second element), taken without any check. */
export function tokenOf(reply: Buffer): Buffer {
  const header = (at: number) => {
    const first = reply[at + 1];
    const n = first < 0x80 ? 0 : first & 0x7f;
    const length = n ? reply.subarray(at + 2, at + 2 + n).reduce((a, b) => a * 256 + b, 0) : first;
    return { content: at + 2 + n, end: at + 2 + n + length };
  };
  const outer = header(0);
  const status = header(outer.content);
  return reply.subarray(status.end, outer.end);
}
