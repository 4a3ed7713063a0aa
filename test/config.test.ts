// The configuration module: the README's table is the one it renders, every typed variable
// refuses bad values with a sentence naming it, the defaults are the contract's, and every
// variable the source reads is declared.
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SetupError, configTable, loadConfig, VARIABLES } from "../app/config.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const KEY = Buffer.alloc(32, 7).toString("base64");

// At least one refused value per typed variable; a new typed variable needs its line here.
const BAD: Record<string, string[]> = {
  PORT: ["abc", "-1", "65536", "80.5", " 8080", "0x50", "1e3"],
  EDOC_PUBLIC_URL: ["localhost:8080", "ftp://node.example", "https://node.example/?a=1", "https://u:p@node.example", "https://node.example/#x", "https://a b.example", `https://${"a".repeat(500)}.example`],
  DATABASE_URL: ["mysql://db/edoc", "/var/run/postgresql", "postgres://my db/x"],
  EDOC_DB_POOL_MAX: ["0", "1001", "2.5", "ten"],
  EDOC_DB_SCHEMA: ["1abc", "my-schema", "a;drop", "x".repeat(64)],
  EDOC_BLOB_STORE: ["database", "fs:", "fs:relative/dir", "s3://", "s3://Bucket/x", "s3://b/x", "s3://bucket/a b", "/var/edoc/blobs"],
  AWS_ENDPOINT_URL: ["127.0.0.1:9000", "ftp://s3.example"],
  EDOC_S3_FORCE_PATH_STYLE: ["yes", "true", "2"],
  EDOC_MASTER_KEY: ["short", Buffer.alloc(31).toString("base64"), Buffer.alloc(33).toString("base64"), KEY.replace("=", "*")],
  EDOC_ORGAN_ID: ["G22", "000.00.00.g22", "000.00.00.G2", "0000.00.00.G22"],
  EDOC_REGISTRY_URL: ["node.example/registry/snapshot", "ftp://node.example/registry/snapshot", "https://a b", `https://${"a".repeat(500)}`],
  EDOC_REGISTRY_SYNC_MS: ["999", "abc", "2147483648"],
  EDOC_REGISTRY_FETCH_TIMEOUT_MS: ["99", "1.5"],
  EDOC_REGISTRY_VALID_MS: ["0", "1h"],
  EDOC_REGISTRY_PUBLISHER: ["000.00.00.z99", "x"],
  EDOC_VDXP_ENDPOINT: ["vxpdungchung.vnpt.vn", "ftp://hub.example", "http://a b"],
  EDOC_VDXP_POLL_MS: ["999", "30s"],
  EDOC_LISTEN_HOST: ["no such host", "host_name", "-a.example", "1.2.3.4:80"],
  EDOC_MAX_UPLOAD_BYTES: ["0", "2G", String(2 ** 40 + 1)],
  EDOC_MAX_PACKET_BYTES: ["0", "-5"],
  EDOC_REQUEST_TIMEOUT_MS: ["-1", "forever"],
  EDOC_DELIVERY_MAX_ATTEMPTS: ["abc", "0", "1001"],
  EDOC_DELIVERY_BASE_DELAY_MS: ["-1", "2s"],
  EDOC_DELIVERY_MAX_DELAY_MS: ["15m", "2147483648"],
  EDOC_DELIVERY_LEASE_MS: ["0", "x"],
  EDOC_DELIVERY_POLL_MS: ["0", "0.5"],
  EDOC_DELIVERY_CONCURRENCY: ["0", "1001", "8.5"],
  EDOC_DELIVERY_TIMEOUT_MS: ["0", "5min"],
  EDOC_TRUST_REFRESH_MS: ["99", "fast"],
  EDOC_SHUTDOWN_GRACE_MS: ["-1", "20 s"],
  EDOC_SESSION_IDLE_MS: ["59999", "30m"],
  EDOC_AUDIT_CHECKPOINT_MS: ["999", "10m"],
  EDOC_AUDIT_CHECKPOINT_ROWS: ["0", "1e3"],
  EDOC_SESSION_MAX_MS: ["0", "12h"],
  EDOC_SIGNIN_MAX_FAILURES: ["0", "five"],
  EDOC_SIGNIN_MAX_FAILURES_PER_ADDRESS: ["0", "100001"],
  EDOC_SIGNIN_WINDOW_MS: ["999", "15m"],
  EDOC_TSA_URL: ["tsa.example/tsr", "ftp://tsa.example", "http://a b"],
  EDOC_TSA_TIMEOUT_MS: ["99", "10s"],
  EDOC_TSA_RETRY_MS: ["999", "1m"],
  EDOC_ARCHIVE_STAMP_MS: ["0", "1h"],
  EDOC_ARCHIVE_RENEW_DAYS: ["0", "3651", "180d"],
  EDOC_LOG_LEVEL: ["loud", "INFO", "verbose"],
  EDOC_TRUST_PROXY: ["true", "all", "100", "10.0.0.0/33", "10.0.0.1/8/1", "loopback;10.0.0.1", ""+"127.0.0.1 ::1"],
  EDOC_METRICS_TOKEN: ["short", "with a space in it, sixteen+", "x".repeat(257)],
};
// the values the project itself sets somewhere (tests, demo, bench) stay accepted
const GOOD: Record<string, string[]> = {
  PORT: ["0", "8080", "65535"],
  EDOC_PUBLIC_URL: ["http://127.0.0.1:18080", "https://edoc.nghean.example/", "https://edoc.example/base"],
  DATABASE_URL: ["postgres://postgres@127.0.0.1:5432/test", "postgresql://u:p@db/edoc?sslmode=require"],
  EDOC_DB_POOL_MAX: ["1", "40"],
  EDOC_DB_SCHEMA: ["edoc_test_0a1b2c3d4e5f", "public"],
  EDOC_BLOB_STORE: ["db", "fs:/var/lib/edoc/blobs", "s3://edoc-archive", "s3://edoc-archive/", "s3://edoc.archive-1/node/a"],
  AWS_ENDPOINT_URL: ["http://127.0.0.1:9000", "https://s3.hcm.example"],
  EDOC_S3_FORCE_PATH_STYLE: ["0", "1"],
  EDOC_MASTER_KEY: [KEY, KEY.replace("=", "")],
  EDOC_ORGAN_ID: ["000.00.00.G22"],
  EDOC_REGISTRY_PUBLISHER: ["000.00.00.H41"],
  EDOC_LISTEN_HOST: ["127.0.0.1", "::1", "0.0.0.0", "localhost", "edoc.example.gov.vn"],
  EDOC_DELIVERY_POLL_MS: ["20", "100"],
  EDOC_DELIVERY_CONCURRENCY: ["1", "64"],
  EDOC_DELIVERY_BASE_DELAY_MS: ["0", "50", "300"],
  EDOC_REQUEST_TIMEOUT_MS: ["0"],
  EDOC_TRUST_REFRESH_MS: ["100", "200"],
  EDOC_TSA_URL: ["http://127.0.0.1:3180/tsa", "https://tsa.ca.gov.vn/tsa"],
  EDOC_LOG_LEVEL: ["silent", "debug"],
  EDOC_TRUST_PROXY: ["off", "0", "1", "loopback", "127.0.0.1", "10.0.0.0/8, fd00::/8", "loopback,linklocal,uniquelocal"],
  EDOC_METRICS_TOKEN: ["0123456789abcdef0123456789abcdef"],
};

const typed = Object.entries(VARIABLES)
  .filter(([, d]) => d.kind.expected !== "text")
  .map(([name]) => name);

describe("configuration (app/config.ts)", () => {
  it("renders the README's configuration table", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const m = /<!-- config:start -->\n([\s\S]*?)<!-- config:end -->/.exec(readme);
    expect(m, "README.md has the config:start / config:end markers").to.not.equal(null);
    expect(m![1], "README.md's table: paste configTable() between the markers").to.equal(configTable());
  });

  it("has the contract's defaults", () => {
    const config = loadConfig({});
    expect(config.port).to.equal(8080);
    expect(config.dataDir).to.equal(resolve("./data"));
    expect(config.databaseUrl).to.equal(undefined);
    expect(config.publicUrl).to.equal("http://localhost:8080");
    expect(config.publicUrlSet).to.equal(false);
    expect(loadConfig({ PORT: "9000" }).publicUrl).to.equal("http://localhost:9000");
    expect(loadConfig({ PORT: "9000", EDOC_PUBLIC_URL: "https://edoc.example/" })).to.include({ publicUrl: "https://edoc.example", publicUrlSet: true });
    // unset and empty are the same
    expect(loadConfig({ PORT: "", EDOC_DATA_DIR: "", EDOC_DELIVERY_MAX_ATTEMPTS: "" })).to.deep.equal(loadConfig({}));
    expect(configTable()).to.include("| `PORT` | `8080` |").and.include("| `EDOC_DATA_DIR` | `./data` |").and.include("| `EDOC_PUBLIC_URL` | `http://localhost:$PORT` |");
  });

  it("keeps the defaults the node had", () => {
    const c = loadConfig({});
    expect(c.delivery).to.deep.equal({ maxAttempts: 12, baseDelayMs: 2000, maxDelayMs: 900_000, leaseMs: 600_000, pollMs: 500, timeoutMs: 300_000, concurrency: 64 });
    expect(c).to.deep.include({ maxUploadBytes: 2 * 1024 ** 3, maxPacketBytes: 3 * 1024 ** 3, requestTimeoutMs: 3_600_000, trustRefreshMs: 2000, shutdownGraceMs: 20_000, logLevel: "info" });
    expect(c.snapshot).to.deep.equal({ validForMs: 3_600_000, publisher: undefined });
    expect(c.sessions).to.deep.equal({ idleMs: 30 * 60_000, maxMs: 12 * 3_600_000 });
    expect(c.signIn).to.deep.equal({ maxFailuresPerUser: 5, maxFailuresPerAddress: 20, windowMs: 15 * 60_000 });
    expect(c.firstAgency.organId).to.equal("000.00.00.Z99");
    expect(c).to.include({ registrySync: null, p12Password: "", masterKey: undefined, schema: undefined, listenHost: undefined, dbPoolMax: 10 });
  });

  it("reads given values", () => {
    const c = loadConfig({
      EDOC_REGISTRY_URL: "https://a.example/registry/snapshot",
      EDOC_REGISTRY_CERT: "a.pem",
      EDOC_REGISTRY_SYNC_MS: "3600000",
      EDOC_DELIVERY_MAX_ATTEMPTS: "30",
      EDOC_P12_PASSWORD: "secret",
    });
    expect(c.registrySync).to.deep.equal({ url: "https://a.example/registry/snapshot", certPath: "a.pem", intervalMs: 3_600_000, timeoutMs: 30_000 });
    expect(c.delivery.maxAttempts).to.equal(30);
    expect(c.p12Password).to.equal("secret");
    expect(c.tsa).to.equal(null);
    expect(loadConfig({ EDOC_TSA_URL: "http://127.0.0.1:3180/tsa", EDOC_TSA_RETRY_MS: "5000" }).tsa).to.deep.equal({ url: "http://127.0.0.1:3180/tsa", timeoutMs: 10_000, retryMs: 5000, archiveMs: 3_600_000, renewDays: 180 });
    expect(loadConfig({}).blobStore).to.deep.equal({ kind: "db" });
    expect(loadConfig({ EDOC_BLOB_STORE: "fs:/srv/edoc/blobs/" }).blobStore).to.deep.equal({ kind: "fs", dir: "/srv/edoc/blobs" });
    const s3 = { EDOC_BLOB_STORE: "s3://edoc-archive/nodes/a/", AWS_ENDPOINT_URL: "http://127.0.0.1:9000", AWS_ACCESS_KEY_ID: "AK", AWS_SECRET_ACCESS_KEY: "SK", EDOC_S3_FORCE_PATH_STYLE: "1" };
    expect(loadConfig(s3).blobStore).to.deep.equal({
      kind: "s3", bucket: "edoc-archive", prefix: "nodes/a", endpoint: "http://127.0.0.1:9000", region: "us-east-1", accessKeyId: "AK", secretAccessKey: "SK", forcePathStyle: true,
    });
    expect(() => loadConfig({ ...s3, AWS_SECRET_ACCESS_KEY: "" })).to.throw(SetupError, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together/);
    for (const [name, values] of Object.entries(GOOD)) {
      for (const v of values) expect(() => loadConfig({ [name]: v }), `${name}=${v}`).to.not.throw();
    }
  });

  it("refuses every bad value with a sentence naming the variable and the value", () => {
    expect(Object.keys(BAD).sort(), "a bad value for each typed variable").to.deep.equal([...typed].sort());
    for (const [name, values] of Object.entries(BAD)) {
      const secret = "secret" in VARIABLES[name as keyof typeof VARIABLES];
      for (const v of values) {
        let err: unknown;
        try {
          loadConfig({ [name]: v });
        } catch (e) {
          err = e;
        }
        expect(err, `${name}=${v}`).to.be.instanceOf(SetupError);
        const message = (err as Error).message;
        expect(message).to.match(new RegExp(`^${name} .+ is not `));
        if (secret) {
          expect(message, "a secret is not repeated").to.not.include(v);
          expect(message).to.include(`${v.length} characters)`);
        } else expect(message).to.include(`${name} ${JSON.stringify(v)} is not`);
      }
    }
    expect(() => loadConfig({ EDOC_DELIVERY_MAX_ATTEMPTS: "abc" })).to.throw(SetupError, 'EDOC_DELIVERY_MAX_ATTEMPTS "abc" is not a whole number from 1 to 1000');
  });

  it("wants EDOC_REGISTRY_URL and EDOC_REGISTRY_CERT together", () => {
    expect(() => loadConfig({ EDOC_REGISTRY_URL: "https://a.example/registry/snapshot" })).to.throw(SetupError, /^EDOC_REGISTRY_URL is set but EDOC_REGISTRY_CERT is not/);
    expect(() => loadConfig({ EDOC_REGISTRY_CERT: "a.pem" })).to.throw(SetupError, /^EDOC_REGISTRY_CERT is set but EDOC_REGISTRY_URL is not/);
  });

  it("reads the national axle's hub: all three settings or none", () => {
    expect(loadConfig({}).vdxp).to.equal(null);
    const hub = { EDOC_VDXP_ENDPOINT: "http://10.184.254.171:8080/XrdAdapter/adapter/", EDOC_VDXP_SYSTEM_ID: "00.53.W00", EDOC_VDXP_SECRET: "c2VjcmV0+/==" };
    expect(loadConfig(hub).vdxp).to.deep.equal({ endpoint: "http://10.184.254.171:8080/XrdAdapter/adapter", systemId: "00.53.W00", secret: "c2VjcmV0+/==", pollMs: 30_000, directoryMs: 300_000 });
    expect(loadConfig({ ...hub, EDOC_VDXP_POLL_MS: "5000", EDOC_REGISTRY_SYNC_MS: "86400000" }).vdxp).to.include({ pollMs: 5000, directoryMs: 86_400_000 });
    expect(() => loadConfig({ ...hub, EDOC_VDXP_SECRET: "" })).to.throw(SetupError, /EDOC_VDXP_SECRET is not set/);
    expect(() => loadConfig({ EDOC_VDXP_ENDPOINT: hub.EDOC_VDXP_ENDPOINT })).to.throw(SetupError, /EDOC_VDXP_SYSTEM_ID and EDOC_VDXP_SECRET are not set/);
  });

  it("declares every variable the source reads", () => {
    const files = ["server", "bin", "storage", "app", "signing", "envelopes"].flatMap((dir) =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => join(dir, f)),
    );
    files.push("knexfile.ts");
    const read = new Set<string>();
    for (const f of files) {
      const source = readFileSync(join(ROOT, f), "utf8");
      // names in messages and comments too: they are what the user is told to set
      for (const m of source.matchAll(/\b(EDOC_[A-Z0-9_]*[A-Z0-9])\b|env(?:\.|\[["'`])([A-Z][A-Z0-9_]*)/g)) read.add(m[1] ?? m[2]);
    }
    expect(read.size).to.be.greaterThan(20);
    const undeclared = [...read].filter((name) => !(name in VARIABLES));
    expect(undeclared, "variables read but not declared in app/config.ts").to.deep.equal([]);
  });
});
