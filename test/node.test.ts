// Running a node: the CLI commands that set it up (real processes on a real data directory, on
// SQLite and PostgreSQL), the first start on an empty data directory (`npm start`'s compiled
// server as a process, and the same function in process), graceful shutdown, and the
// operations endpoints /healthz, /readyz and /metrics.
import { expect } from "chai";
import { execFile, spawn } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { SetupError, loadConfig } from "../app/index.ts";
import { startNode, type RunningNode } from "../server/main.ts";
import { fingerprint, identityToP12 } from "../signing/index.ts";
import { createCrl, crlToPem } from "../signing/testing.ts";
import { getAgency, listCrls, listLocalAgencies, listTrustAnchors, openStorage } from "../storage/index.ts";
import { onEachDatabase } from "./helpers/db.ts";
import { scratch, SENDER, testPki } from "../fixtures/index.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
const SERVER = fileURLToPath(new URL("../dist/server/main.js", import.meta.url));
const TOKEN = /^edoc_[A-Za-z0-9_-]{43}$/;

interface DbOptions {
  dataDir: string;
  databaseUrl?: string;
  schema?: string;
}

/** The environment a node or the CLI gets for these database options (nothing else of ours leaks in). */
function nodeEnv(o: DbOptions, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, EDOC_DATA_DIR: o.dataDir, ...extra };
  if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
  if (o.schema) env.EDOC_DB_SCHEMA = o.schema;
  return env;
}

function edoc(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(EDOC, args, { env }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
  });
}

/** A node in this process, on a free port of 127.0.0.1; `printed` is what it printed for people. */
async function runNode(o: DbOptions, extra: Record<string, string> = {}, log = pino({ level: "silent" })): Promise<RunningNode & { printed: string }> {
  const out: string[] = [];
  const running = await startNode({ env: nodeEnv(o, { PORT: "0", EDOC_LISTEN_HOST: "127.0.0.1", ...extra }), out: { write: (t: string) => out.push(t) }, log });
  return Object.assign(running, { printed: out.join("") });
}

const lastLine = (s: string) => s.trimEnd().split("\n").pop()!;

describe("edoc node commands: --help", () => {
  const s = scratch();
  after(() => s.cleanup());
  it("every command has --help (exit 0)", async () => {
    const cases = [
      ["agency", "--organ-id ID --name NAME"],
      ["trust", "edoc trust add CA.pem"],
      ["crl", "edoc crl add CRL.pem"],
      ["registry", "--endpoint URL --cert CERT.pem"],
      ["token", "--role clerk|archivist|admin"],
    ];
    const results = await Promise.all(cases.map(([cmd]) => edoc(nodeEnv({ dataDir: s.path("data") }), cmd, "add", "--help")));
    for (const [i, [cmd, words]] of cases.entries()) {
      expect(results[i].code, cmd).to.equal(0);
      expect(results[i].stdout).to.include(words);
    }
  });

});

onEachDatabase("edoc node commands", (database) => {
  const files = scratch();
  const f = (name: string) => files.path(name);
  const { root, intermediate, sender } = testPki();
  let env: NodeJS.ProcessEnv;
  const DEV = "000.00.00.Z11";

  before(async () => {
    env = nodeEnv(database().options(), { EDOC_PUBLIC_URL: "http://127.0.0.1:18081" });
    writeFileSync(f("root.pem"), root.certificate.toString());
    writeFileSync(f("sender.pem"), sender.certificate.toString());
    writeFileSync(f("sender.p12"), identityToP12(sender, "mật khẩu"));
    writeFileSync(f("crl.pem"), crlToPem(await createCrl(intermediate, [{ serial: "0badc0de", date: new Date(Date.now() - 60_000) }])));
    writeFileSync(f("garbage.pem"), "not a certificate\n");
  });
  after(() => files.cleanup());

  const state = async <T>(fn: (db: Awaited<ReturnType<typeof openStorage>>["db"]) => Promise<T>): Promise<T> => {
    const s = await database().open();
    try {
      return await fn(s.db);
    } finally {
      await s.close();
    }
  };

  it("agency add --dev creates the development CA (key encrypted, owner-only), trusts it and registers the agency", async () => {
    const r = await edoc(env, "agency", "add", "--organ-id", DEV, "--name", "Sở Thử nghiệm", "--dev");
    expect(r.stderr).to.equal("");
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include("DEVELOPMENT ONLY").and.include("dev-ca/ca.pem");
    const dataDir = database().options().dataDir;
    expect(statSync(`${dataDir}/dev-ca/ca.key.enc`).mode & 0o077).to.equal(0);
    expect(statSync(`${dataDir}/dev-ca`).mode & 0o077).to.equal(0);
    await state(async (db) => {
      const [agency] = await listLocalAgencies(db);
      expect(agency).to.include({ organId: DEV, name: "Sở Thử nghiệm", development: true });
      const anchors = await listTrustAnchors(db);
      expect(anchors.some((a) => a.subject.includes("DEVELOPMENT CA - NOT FOR PRODUCTION"))).to.equal(true);
      expect(agency.certificate.checkIssued(anchors.find((a) => a.subject.includes("DEVELOPMENT"))!)).to.equal(true);
      const entry = await getAgency(db, DEV);
      expect(entry).to.include({ endpoint: "http://127.0.0.1:18081", source: "local", status: "active" });
      expect(entry!.certificateFingerprints).to.deep.equal([fingerprint(agency.certificate)]);
    });
    // a second development agency reuses the same CA
    const again = await edoc(env, "agency", "add", "--organ-id", "000.00.00.Z12", "--name", "Phòng Thử nghiệm", "--dev");
    expect(again.code).to.equal(0);
    expect(again.stdout).not.to.include("created now");
    await state(async (db) => expect((await listTrustAnchors(db)).filter((a) => a.subject.includes("DEVELOPMENT"))).to.have.length(1));
  });

  it("agency add refuses bad input with exit 2 and a sentence", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--organ-id", "000.00.00.z13", "--name", "x", "--dev"], /not an organ id of the form 000\.00\.00\.G22/],
      [["--organ-id", "H41", "--name", "x", "--dev"], /not an organ id/],
      [["--organ-id", "000.00.00.Z13", "--dev"], /--name is required/],
      [["--organ-id", "000.00.00.Z13", "--name", "x"], /--p12 FILE, or --dev/],
      [["--organ-id", "000.00.00.Z13", "--name", "x", "--dev", "--p12", f("sender.p12")], /either --p12 FILE or --dev/],
      [["--organ-id", DEV, "--name", "x", "--dev"], /already an agency of this node/],
      [["--organ-id", SENDER, "--name", "x", "--p12", f("sender.p12"), "--password", "sai"], /cannot be opened/],
      [["--organ-id", SENDER, "--name", "x", "--p12", f("missing.p12")], /cannot read the PKCS#12 identity file/],
      [["--organ-id", SENDER, "--name", "x", "--dev", "--bogus"], /wrong arguments/],
    ];
    const results = await Promise.all(cases.map(([args]) => edoc(env, "agency", "add", ...args)));
    for (const [i, [args, message]] of cases.entries()) {
      expect(results[i].code, args.join(" ")).to.equal(2);
      expect(results[i].stderr, args.join(" ")).to.match(message);
      expect(results[i].stderr).not.to.match(/\n\s+at /); // no stack trace
    }
  });

  it("agency add --p12 imports an identity; it warns until the CA is trusted; trust add and crl add", async () => {
    const r = await edoc(env, "agency", "add", "--organ-id", SENDER, "--name", "Văn phòng Chính phủ", "--p12", f("sender.p12"), "--password", "mật khẩu");
    expect(r.code).to.equal(0);
    expect(r.stderr).to.match(/does not chain to a trust anchor/);
    expect((await edoc(env, "trust", "add", f("root.pem"))).code).to.equal(0);
    expect((await edoc(env, "trust", "add", f("garbage.pem"))).code).to.equal(2);
    expect((await edoc(env, "trust", "add", f("nope.pem"))).stderr).to.match(/cannot read the trust anchor file/);
    const crl = await edoc(env, "crl", "add", f("crl.pem"));
    expect(crl.code).to.equal(0);
    expect(crl.stdout).to.include("1 revoked certificate");
    expect((await edoc(env, "crl", "add", f("root.pem"))).code).to.equal(2);
    await state(async (db) => {
      expect((await listTrustAnchors(db)).map(fingerprint)).to.include(fingerprint(root.certificate));
      expect(await listCrls(db)).to.have.length(1);
      expect((await getAgency(db, SENDER))!.certificateFingerprints).to.deep.equal([fingerprint(sender.certificate)]);
    });
  });

  it("registry add: lenient organ ids, validated URL and certificate; never over a local agency", async () => {
    const { recipient } = testPki();
    writeFileSync(f("recipient.pem"), recipient.certificate.toString());
    const ok = await edoc(env, "registry", "add", "--organ-id", "H41.UBND", "--name", "UBND tỉnh Nghệ An", "--endpoint", "https://edoc.nghean.example/", "--cert", f("recipient.pem"), "--parent", "000.00.00.H41");
    expect(ok.code).to.equal(0);
    // the recipient's certificate comes from the test intermediate CA, which its packets carry
    expect(ok.stderr).to.match(/^(note: .*carry the intermediate CA certificates.*\n)?$/);
    const bad: Array<[string[], RegExp]> = [
      [["--organ-id", "H 41", "--name", "x", "--endpoint", "https://a.example", "--cert", f("recipient.pem")], /not an organ id/],
      [["--organ-id", "H42", "--name", "x", "--endpoint", "ftp://a.example", "--cert", f("recipient.pem")], /http:\/\/ or https:\/\//],
      [["--organ-id", "H42", "--name", "x", "--endpoint", "not a url", "--cert", f("recipient.pem")], /is not a URL/],
      [["--organ-id", "H42", "--name", "x", "--endpoint", "https://a.example/edxml", "--cert", f("recipient.pem")], /leave \/edxml off/],
      [["--organ-id", "H42", "--name", "x", "--endpoint", "https://a.example"], /--cert is required/],
      [["--organ-id", "H42", "--name", "x", "--endpoint", "https://a.example", "--cert", f("root.pem")], /CA certificate/],
      [["--organ-id", "H42", "--name", "x", "--endpoint", "https://a.example", "--cert", f("garbage.pem")], /no readable certificate/],
      [["--organ-id", DEV, "--name", "x", "--endpoint", "https://a.example", "--cert", f("recipient.pem")], /is an agency of this node/],
    ];
    const results = await Promise.all(bad.map(([args]) => edoc(env, "registry", "add", ...args)));
    for (const [i, [args, message]] of bad.entries()) {
      expect(results[i].code, args.join(" ")).to.equal(2);
      expect(results[i].stderr, args.join(" ")).to.match(message);
    }
    const list = await edoc(env, "registry", "list");
    expect(list.stdout).to.include("H41.UBND  UBND tỉnh Nghệ An  https://edoc.nghean.example  active").and.include("parent 000.00.00.H41");
    await state(async (db) => {
      expect(await getAgency(db, "H41.UBND")).to.include({ endpoint: "https://edoc.nghean.example", parentId: "000.00.00.H41", source: "local" });
      expect((await getAgency(db, DEV))!.endpoint).to.equal("http://127.0.0.1:18081");
    });
  });

  it("token create prints the token alone on the last line; the token works against a started node", async () => {
    const r = await edoc(env, "token", "create", "--organ-id", DEV, "--role", "clerk", "--name", "Văn thư Nguyễn Thị A");
    expect(r.code).to.equal(0);
    expect(lastLine(r.stdout)).to.match(TOKEN);
    expect(r.stdout.trimEnd().split("\n").slice(0, -1).join("\n")).not.to.match(/edoc_/);
    const admin = lastLine((await edoc(env, "token", "create", "--organ-id", DEV, "--role", "admin")).stdout);
    expect(admin).to.match(TOKEN);
    const archivist = await edoc(env, "token", "create", "--organ-id", DEV, "--role", "archivist");
    expect(archivist.stdout).to.match(/^an archivist token for /m).and.match(/^id: \d+$/m);

    const cases: Array<[string[], RegExp]> = [
      [["--organ-id", DEV, "--role", "boss"], /not a role; the roles are clerk, archivist, admin/],
      [["--organ-id", DEV], /--role is required/],
      [["--organ-id", "000.00.00.Z77", "--role", "clerk"], /not an agency of this node/],
      [["--organ-id", "bad", "--role", "clerk"], /not an organ id/],
    ];
    const results = await Promise.all(cases.map(([args]) => edoc(env, "token", "create", ...args)));
    for (const [i, [args, message]] of cases.entries()) {
      expect(results[i].code, args.join(" ")).to.equal(2);
      expect(results[i].stderr, args.join(" ")).to.match(message);
      expect(results[i].stdout).to.equal("");
    }

    const node = await runNode(database().options());
    try {
      expect(node.bootstrap.created).to.equal(false); // agencies exist: nothing is set up
      const ok = await fetch(`${node.url}/api/v1/documents`, { headers: { authorization: `Bearer ${lastLine(r.stdout)}` } });
      expect(ok.status).to.equal(200);
      const agencies = await fetch(`${node.url}/api/v1/agencies`, { headers: { authorization: `Bearer ${admin}` } });
      expect(agencies.status).to.equal(200);
      const wrong = await fetch(`${node.url}/api/v1/documents`, { headers: { authorization: `Bearer edoc_${"x".repeat(43)}` } });
      expect(wrong.status).to.equal(401);
    } finally {
      await node.stop();
    }
  });

  it("agency cert prints the certificate; agency list lists the agencies", async () => {
    const cert = await edoc(env, "agency", "cert", "--organ-id", SENDER);
    expect(cert.code).to.equal(0);
    expect(cert.stdout).to.equal(sender.certificate.toString());
    const list = await edoc(env, "agency", "list");
    expect(list.stdout).to.include(`${DEV}  Sở Thử nghiệm  [development certificate]`).and.include(`${SENDER}  Văn phòng Chính phủ`);
    expect((await edoc(env, "agency", "cert", "--organ-id", "000.00.00.Z77")).code).to.equal(2);
    expect((await edoc(env, "agency", "list", "--dev")).code).to.equal(2);
    expect((await edoc(env, "agency", "remove")).stderr).to.match(/unknown subcommand "remove"/);
  });
});

onEachDatabase("first start (bootstrap)", (database) => {
  const files = scratch();
  after(() => files.cleanup());
  const writeCert = () => {
    writeFileSync(files.path("publisher.pem"), testPki().sender.certificate.toString());
    return files.path("publisher.pem");
  };

  it("on an empty data directory: a development agency, trusted dev CA, own registry entry, admin and clerk tokens printed once", async () => {
    const first = await runNode(database().options(), { EDOC_ORGAN_NAME: "Cơ quan Z99" });
    let url = "";
    try {
      url = first.url;
      expect(first.bootstrap).to.include({ created: true, organId: "000.00.00.Z99", name: "Cơ quan Z99" });
      expect(first.printed).to.include(`edoc node at ${first.url}`);
      const admin = /admin token: (\S+)/.exec(first.printed)?.[1];
      const clerk = /clerk token: (\S+)/.exec(first.printed)?.[1];
      expect(admin).to.match(TOKEN);
      expect(clerk).to.match(TOKEN);
      expect(first.printed).to.include("DEVELOPMENT-ONLY CA");
      const res = await fetch(`${first.url}/api/v1/documents`, { headers: { authorization: `Bearer ${clerk}` } });
      expect(res.status).to.equal(200);
      const entry = await getAgency(first.node.storage.db, "000.00.00.Z99");
      expect(entry).to.include({ endpoint: first.url, source: "local" });
      const anchors = await listTrustAnchors(first.node.storage.db);
      expect(anchors.map((a) => a.subject).join()).to.include("DEVELOPMENT CA - NOT FOR PRODUCTION");
    } finally {
      await first.stop();
    }
    const second = await runNode(database().options());
    try {
      expect(second.bootstrap.created).to.equal(false);
      expect(second.printed).not.to.match(/admin token:|clerk token:/);
      expect(second.printed).to.include("2 API token(s) exist").and.include("bin/edoc token create --organ-id 000.00.00.Z99");
      expect(await listLocalAgencies(second.node.storage.db)).to.have.length(1);
      // its port differs from the first start's: the registry entry is reported, not silently changed
      if (url !== second.url) expect(second.printed).to.include(`warning: the registry says 000.00.00.Z99 is reached at ${url}`);
    } finally {
      await second.stop();
    }
  });

  it("refuses an EDOC_ORGAN_ID that is not an organ id, before creating anything", async () => {
    const s = scratch();
    try {
      let error: Error | null = null;
      await runNode({ dataDir: s.path("data") }, { EDOC_ORGAN_ID: "Z99" }).catch((e: Error) => (error = e));
      expect(error).to.be.instanceOf(Error);
      expect(error!.name).to.equal("SetupError");
      expect(error!.message).to.match(/EDOC_ORGAN_ID "Z99" is not an organ id/);
    } finally {
      s.cleanup();
    }
  });

  it("/healthz, /readyz (503 once the database is closed) and /metrics", async () => {
    const node = await runNode(database().options(), { EDOC_REGISTRY_URL: "http://127.0.0.1:9/registry/snapshot", EDOC_REGISTRY_CERT: writeCert(), EDOC_REGISTRY_SYNC_MS: "600000" });
    try {
      const health = await fetch(`${node.url}/healthz`);
      expect(health.status).to.equal(200);
      expect(await health.json()).to.deep.equal({ status: "ok" });
      const ready = await fetch(`${node.url}/readyz`);
      expect(ready.status).to.equal(200);
      const metrics = await fetch(`${node.url}/metrics`);
      expect(metrics.status).to.equal(200);
      expect(metrics.headers.get("content-type")).to.match(/^text\/plain/);
      const text = await metrics.text();
      for (const name of [
        "edoc_documents_sent_total",
        "edoc_documents_received_total",
        "edoc_verification_failures_total",
        'edoc_deliveries{state="queued"} 0',
        'edoc_deliveries{state="failed"} 0',
        "edoc_delivery_queue_depth 0",
        "edoc_http_request_duration_seconds_bucket",
        "edoc_registry_sync_total",
      ]) {
        expect(text).to.include(name);
      }
      await node.node.storage.close();
      const down = await fetch(`${node.url}/readyz`);
      expect(down.status).to.equal(503);
      expect((await fetch(`${node.url}/healthz`)).status).to.equal(200);
      expect((await fetch(`${node.url}/metrics`)).status).to.equal(200);
    } finally {
      await node.stop();
    }
  });
});


describe("/metrics: loopback only by default, or the metrics token; X-Forwarded-For only from trusted proxies (issue 8)", () => {
  const s = scratch();
  after(() => s.cleanup());
  const scrape = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}/metrics`, { headers });
    const body = await res.text();
    return { status: res.status, body };
  };
  // an address of this machine that is not loopback, when it has one
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === "IPv4" && !i.internal)?.address;

  it("without EDOC_METRICS_TOKEN: loopback clients only; a forwarded address counts only behind a trusted proxy", async () => {
    const plain = await runNode({ dataDir: s.path("plain") }, { EDOC_LISTEN_HOST: "0.0.0.0" });
    try {
      const local = `http://127.0.0.1:${new URL(plain.url).port}`;
      expect((await scrape(local)).status).to.equal(200);
      // nobody believes a client about its own address
      expect((await scrape(local, { "x-forwarded-for": "203.0.113.9" })).status).to.equal(200);
      if (external) {
        const far = await scrape(`http://${external}:${new URL(plain.url).port}`);
        expect(far.status).to.equal(403);
        expect(far.body).to.match(/loopback/).and.match(/EDOC_METRICS_TOKEN/).and.not.match(/edoc_documents/);
      }
    } finally {
      await plain.stop();
    }
    const proxied = await runNode({ dataDir: s.path("proxied") }, { EDOC_TRUST_PROXY: "loopback" });
    try {
      // a reverse proxy on this machine passes a remote client's request on
      const far = await scrape(proxied.url, { "x-forwarded-for": "203.0.113.9" });
      expect(far.status).to.equal(403);
      expect(far.body).not.to.match(/edoc_documents_sent_total/);
      expect((await scrape(proxied.url, { "x-forwarded-for": "127.0.0.1" })).status).to.equal(200);
      expect((await scrape(proxied.url)).status).to.equal(200);
    } finally {
      await proxied.stop();
    }
  });

  it("with EDOC_METRICS_TOKEN: whoever sends it, from anywhere, and nobody else", async () => {
    const token = "metrics-0123456789abcdef";
    const node = await runNode({ dataDir: s.path("token") }, { EDOC_METRICS_TOKEN: token, EDOC_TRUST_PROXY: "127.0.0.1/8" });
    try {
      for (const headers of [{}, { authorization: "Bearer wrong-wrong-wrong-wrong" }, { authorization: token }, { authorization: `Bearer ${token}x` }] as Array<Record<string, string>>) {
        const r = await scrape(node.url, headers);
        expect(r.status, JSON.stringify(headers)).to.equal(401);
        expect(r.body).to.match(/EDOC_METRICS_TOKEN/);
      }
      const ok = await scrape(node.url, { authorization: `Bearer ${token}`, "x-forwarded-for": "203.0.113.9" });
      expect(ok.status).to.equal(200);
      expect(ok.body).to.include("edoc_documents_sent_total");
    } finally {
      await node.stop();
    }
  });

  it("refuses settings that are not a proxy setting or a usable token", () => {
    for (const [name, value] of [
      ["EDOC_TRUST_PROXY", "true"],
      ["EDOC_TRUST_PROXY", "10.0.0.0/33"],
      ["EDOC_TRUST_PROXY", "everyone"],
      ["EDOC_METRICS_TOKEN", "short"],
    ]) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).to.throw(SetupError, new RegExp(`^${name} `));
    }
    expect(loadConfig({ EDOC_TRUST_PROXY: "loopback, 10.0.0.0/8,::1" }).trustProxy).to.deep.equal(["loopback", "10.0.0.0/8", "::1"]);
    expect(loadConfig({ EDOC_TRUST_PROXY: "2" }).trustProxy).to.equal(2);
    expect(loadConfig({}).trustProxy).to.equal(false);
  });
});

describe("npm start: the compiled server as a process", () => {
  const s = scratch();
  after(() => s.cleanup());

  it("a database it cannot open is said in one sentence, without a stack trace (server and CLI)", async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, EDOC_DATA_DIR: s.path("nodb"), DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", PORT: "0" };
    const run = (cmd: string, args: string[]) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        execFile(cmd, args, { env }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, output: stdout + stderr }));
      });
    for (const r of [await run(process.execPath, [SERVER]), await run(EDOC, ["agency", "list"])]) {
      expect(r.code).to.not.equal(0);
      expect(r.output).to.include("cannot open the PostgreSQL database of DATABASE_URL: connect ECONNREFUSED 127.0.0.1:1");
      expect(r.output).not.to.match(/\n\s+at |"stack"|Acquire connection error/);
    }
  });

  function start(env: NodeJS.ProcessEnv): Promise<{ stdout: () => string; url: string; stop(): Promise<number | null> }> {
    const child = spawn(process.execPath, [SERVER], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearInterval(poll);
        child.kill("SIGKILL");
        reject(new Error(`${why}: ${out}${err}`));
      };
      const timer = setTimeout(() => fail("the server did not start within 20 s"), 20_000);
      void exited.then((code) => fail(`the server exited with ${code}`));
      const poll = setInterval(() => {
        const m = /"msg":"(?:first start|node started)/.test(out) ? /edoc node at (\S+)/.exec(out) : null;
        if (m) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve({
            stdout: () => out,
            url: m[1],
            stop: async () => {
              child.kill("SIGTERM");
              return exited;
            },
          });
        }
      }, 50);
    });
  }

  it("starts with zero configuration, prints URL and tokens once, logs JSON, stops cleanly on SIGTERM", async () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const env = { PATH: process.env.PATH, EDOC_DATA_DIR: s.path("data"), PORT: port, EDOC_LISTEN_HOST: "127.0.0.1", EDOC_PUBLIC_URL: `http://127.0.0.1:${port}` };
    const first = await start(env);
    expect(first.url).to.equal(`http://127.0.0.1:${port}`);
    const clerk = /clerk token: (\S+)/.exec(first.stdout())?.[1];
    expect(clerk).to.match(TOKEN);
    expect((await fetch(`${first.url}/readyz`)).status).to.equal(200);
    expect((await fetch(`${first.url}/api/v1/documents`, { headers: { authorization: `Bearer ${clerk}` } })).status).to.equal(200);
    const logLines = first
      .stdout()
      .split("\n")
      .filter((l) => l.startsWith("{"));
    expect(logLines.length).to.be.greaterThan(0);
    for (const l of logLines) expect(JSON.parse(l)).to.have.property("level");
    expect(logLines.join("\n")).not.to.include(clerk!); // tokens are printed for people, never logged
    expect(await first.stop()).to.equal(0);
    expect(first.stdout()).to.include('"msg":"stopped"');

    const second = await start(env);
    expect(second.stdout()).not.to.include("clerk token:");
    expect(second.stdout()).to.include("API token(s) exist");
    expect(await second.stop()).to.equal(0);
    const agencies = await edoc({ PATH: process.env.PATH, EDOC_DATA_DIR: s.path("data") }, "agency", "list");
    expect(agencies.stdout.trim().split("\n")).to.have.length(1);
  });
});
