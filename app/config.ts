// The configuration of the node and of the CLI: every environment variable either of them reads is
// declared here once (type, default, meaning) and validated when it starts, so that a bad value
// stops it with a sentence naming the variable instead of silently becoming the default. The
// README's configuration table is rendered from these declarations (configTable) and a test
// keeps the two equal.
import { isIP } from "node:net";
import { resolve } from "node:path";
import { z } from "zod";
import { ORGAN_ID_STRICT } from "../envelopes/index.ts";
import type { BlobStoreSpec } from "../storage/index.ts";

/** A setting the node was given is not acceptable; the message is one sentence naming it. */
export class SetupError extends Error {
  override name = "SetupError";
}

/** What a variable holds: how its text is read, and the words for what it must be. */
interface Kind<T> {
  schema: z.ZodType<T, string>;
  expected: string;
}

interface Declaration<T> {
  kind: Kind<T>;
  /** The value used when the variable is unset or empty, read like a given one. */
  default?: string;
  /** The default column of the README when it is not `default` itself. */
  shownDefault?: string;
  /** One sentence. */
  meaning: string;
  /** Never repeated in an error message (keys, passwords, URLs with credentials). */
  secret?: true;
}

// setTimeout fires at once for any delay above this
const MAX_TIMER_MS = 2 ** 31 - 1;
// a limit on sizes that Number still counts exactly and no disk will reach soon: 1 TiB
const MAX_BYTES = 2 ** 40;

const whole = (min: number, max: number): Kind<number> => ({
  schema: z
    .string()
    .regex(/^\d+$/)
    .transform(Number)
    .pipe(z.number().min(min).max(max)),
  expected: `a whole number from ${min} to ${max}`,
});

const text: Kind<string> = { schema: z.string(), expected: "text" };

const oneOf = <const T extends readonly [string, ...string[]]>(values: T): Kind<T[number]> => ({
  schema: z.enum(values),
  expected: `one of ${values.join(", ")}`,
});

// a node's base URL, as the registry holds endpoints: other nodes post to {url}/edxml
const baseUrl: Kind<string> = {
  schema: z
    .string()
    .max(500)
    .refine((v) => {
      if (/[\u0000-\u0020\u007f-\u009f]/.test(v) || !URL.canParse(v)) return false;
      const u = new URL(v);
      return (u.protocol === "http:" || u.protocol === "https:") && !u.search && !u.hash && !u.username && !u.password;
    })
    .transform((v) => v.replace(/\/+$/, "")),
  expected: "an http:// or https:// base URL without user, query or fragment, of at most 500 characters",
};

const httpUrl: Kind<string> = {
  schema: z
    .string()
    .max(500)
    .regex(/^https?:\/\/\S+$/)
    .refine((v) => URL.canParse(v)),
  expected: "an http(s) URL of at most 500 characters",
};

const postgresUrl: Kind<string> = {
  schema: z.string().regex(/^postgres(ql)?:\/\/\S+$/),
  expected: "a postgres:// or postgresql:// URL",
};

const schemaName: Kind<string> = {
  schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/),
  expected: "a PostgreSQL schema name (a letter or _, then up to 62 letters, digits or _)",
};

const organId: Kind<string> = {
  schema: z.string().regex(ORGAN_ID_STRICT),
  expected: "an organ id of the form 000.00.00.G22 (three digits, two, two, then a capital letter and two digits)",
};

// 32 bytes are 43 base64 characters and one "=" (`openssl rand -base64 32`)
const key32: Kind<string> = {
  schema: z.string().regex(/^[A-Za-z0-9+/]{43}=?$/),
  expected: "32 bytes in base64 (44 characters, as `openssl rand -base64 32` prints them)",
};

const host: Kind<string> = {
  schema: z.string().refine((v) => isIP(v) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(v)),
  expected: "an IP address or a host name",
};

// express's "trust proxy": how many proxies in front, or which addresses are proxies (never "all":
// then any client could name its own address in X-Forwarded-For)
const PROXY_NAMES = ["loopback", "linklocal", "uniquelocal"];
const proxyAddress = (v: string) => {
  const [ip, bits, extra] = v.split("/");
  const family = isIP(ip);
  if (!family || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};
const trustProxy: Kind<false | number | string[]> = {
  schema: z.string().transform((v, ctx) => {
    if (v === "off") return false;
    if (/^\d{1,2}$/.test(v)) return Number(v);
    const items = v.split(",").map((x) => x.trim());
    if (items.every((x) => PROXY_NAMES.includes(x) || proxyAddress(x))) return items;
    ctx.addIssue({ code: "custom", message: "not a proxy setting" });
    return z.NEVER;
  }),
  expected: `off, a number of proxies (0 to 99), or a comma-separated list of proxy addresses: IP addresses, CIDR ranges or ${PROXY_NAMES.join(", ")}`,
};

const bearerSecret: Kind<string> = {
  schema: z.string().regex(/^[\x21-\x7e]{16,256}$/),
  expected: "16 to 256 printable ASCII characters without spaces (e.g. `openssl rand -hex 32`)",
};

// where blobs' bytes live: the database, a directory (absolute path), or a bucket with a key prefix
type BlobStoreName = { kind: "db" } | { kind: "fs"; dir: string } | { kind: "s3"; bucket: string; prefix: string };
const blobStore: Kind<BlobStoreName> = {
  schema: z.string().transform((v, ctx): BlobStoreName => {
    if (v === "db") return { kind: "db" };
    if (/^fs:\/./.test(v)) return { kind: "fs", dir: resolve(v.slice(3)) };
    const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/([\x21-\x7e]*))?$/.exec(v);
    if (s3) return { kind: "s3", bucket: s3[1], prefix: (s3[2] ?? "").replace(/\/+$/, "") };
    ctx.addIssue({ code: "custom", message: "not a blob store" });
    return z.NEVER;
  }),
  expected: "db, fs:/ABSOLUTE/PATH or s3://BUCKET/PREFIX",
};

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

const declare = <T>(d: Declaration<T>): Declaration<T> => d;

/** Every variable, in the order of the README's table. */
export const VARIABLES = {
  PORT: declare({ kind: whole(0, 65535), default: "8080", meaning: "The HTTP port the node listens on (0 takes a free port, for tests)." }),
  EDOC_PUBLIC_URL: declare({
    kind: baseUrl,
    shownDefault: "`http://localhost:$PORT`",
    meaning: "The base URL other nodes reach this node at; its local agencies are registered there.",
  }),
  EDOC_DATA_DIR: declare({ kind: text, default: "./data", meaning: "The data directory: the SQLite database, the master key and the development CA." }),
  DATABASE_URL: declare({
    kind: postgresUrl,
    shownDefault: "unset: SQLite in `EDOC_DATA_DIR`",
    meaning: "A PostgreSQL database that holds all the node's state instead of SQLite (several nodes may share it).",
    secret: true,
  }),
  EDOC_DB_POOL_MAX: declare({
    kind: whole(1, 1000),
    default: "10",
    meaning: "PostgreSQL: the most connections one node process opens for requests; the delivery worker's pool adds 4, and LISTEN and the scheduled jobs' lock 1 each (see README \"Deployment: several node processes, one PostgreSQL\").",
  }),
  EDOC_DB_SCHEMA: declare({ kind: schemaName, shownDefault: "the database's default", meaning: "The PostgreSQL schema to use, created when missing (tests isolate themselves this way)." }),
  EDOC_BLOB_STORE: declare({
    kind: blobStore,
    default: "db",
    meaning: "Where the bytes of packets and attachments are kept: `db` (in the database, 1 MiB chunks), `fs:/PATH` (a directory) or `s3://BUCKET/PREFIX` (an S3-compatible object store); `bin/edoc blobs migrate` moves them.",
  }),
  AWS_ENDPOINT_URL: declare({ kind: httpUrl, shownDefault: "AWS's own", meaning: "The S3 endpoint of an `s3://` blob store (an S3-compatible server's URL)." }),
  AWS_REGION: declare({ kind: text, default: "us-east-1", meaning: "The region of an `s3://` blob store." }),
  AWS_ACCESS_KEY_ID: declare({ kind: text, shownDefault: "the AWS SDK's other sources", meaning: "The access key of an `s3://` blob store (with `AWS_SECRET_ACCESS_KEY`)." }),
  AWS_SECRET_ACCESS_KEY: declare({ kind: text, shownDefault: "the AWS SDK's other sources", meaning: "The secret key of an `s3://` blob store.", secret: true }),
  EDOC_S3_FORCE_PATH_STYLE: declare({ kind: oneOf(["0", "1"]), default: "0", meaning: "`1`: address the bucket in the path (`ENDPOINT/BUCKET/KEY`), as servers without bucket host names need." }),
  EDOC_MASTER_KEY: declare({
    kind: key32,
    shownDefault: "`master.key` in `EDOC_DATA_DIR`",
    meaning: "The key that encrypts the agencies' private keys at rest; required when several nodes share a database.",
    secret: true,
  }),
  EDOC_ORGAN_ID: declare({ kind: organId, default: "000.00.00.Z99", meaning: "The organ id of the first local agency, created on the first start only." }),
  EDOC_ORGAN_NAME: declare({ kind: text, default: "Cơ quan thử nghiệm (development agency, not a real agency)", meaning: "The name of the first local agency, on the first start only." }),
  EDOC_REGISTRY_URL: declare({
    kind: httpUrl,
    shownDefault: "unset: no sync",
    meaning: "Another node's `/registry/snapshot` URL to sync the registry from (needs `EDOC_REGISTRY_CERT`).",
  }),
  EDOC_REGISTRY_CERT: declare({
    kind: text,
    shownDefault: "unset: no sync",
    meaning: "The PEM file holding the one certificate that must sign the snapshots of `EDOC_REGISTRY_URL`, obtained out of band.",
  }),
  EDOC_REGISTRY_SYNC_MS: declare({ kind: whole(1000, MAX_TIMER_MS), default: "300000", meaning: "How often, in milliseconds, the registry is synced." }),
  EDOC_REGISTRY_FETCH_TIMEOUT_MS: declare({ kind: whole(100, MAX_TIMER_MS), default: "30000", meaning: "How long, in milliseconds, one fetch of the snapshot may take." }),
  EDOC_REGISTRY_VALID_MS: declare({ kind: whole(1000, MAX_TIMER_MS), default: "3600000", meaning: "How long, in milliseconds, this node's own snapshots are valid." }),
  EDOC_REGISTRY_PUBLISHER: declare({ kind: organId, shownDefault: "the first local agency", meaning: "The local agency whose identity signs this node's snapshots." }),
  EDOC_VDXP_ENDPOINT: declare({
    kind: httpUrl,
    shownDefault: "unset: no national axle",
    meaning: "The national document axle's hub (VDXP, the VPCP/VNPT SDK protocol), e.g. `http://vxpdungchung.vnpt.vn`; registry entries with the endpoint `vdxp:` are reached through it (needs `EDOC_VDXP_SYSTEM_ID` and `EDOC_VDXP_SECRET`).",
  }),
  EDOC_VDXP_SYSTEM_ID: declare({ kind: text, shownDefault: "unset", meaning: "This node's account at the hub (systemid, mã trung tâm liên thông), e.g. `vxp.saas.02`." }),
  EDOC_VDXP_SECRET: declare({ kind: text, shownDefault: "unset", meaning: "The hub account's secret, which keys the HMAC of every request (used as written, not base64-decoded).", secret: true }),
  EDOC_VDXP_POLL_MS: declare({ kind: whole(1000, MAX_TIMER_MS), default: "30000", meaning: "How often, in milliseconds, the hub is asked for new documents and statuses (its agency directory is imported every `EDOC_REGISTRY_SYNC_MS`)." }),
  EDOC_LISTEN_HOST: declare({ kind: host, shownDefault: "all interfaces", meaning: "The address the node listens on." }),
  EDOC_TRUST_PROXY: declare({
    kind: trustProxy,
    default: "off",
    meaning:
      "Which reverse proxies in front of the node are believed about the client's address (`X-Forwarded-For`): `off`, a number of proxies, or their addresses (`loopback`, IPs, CIDR ranges); express's `trust proxy`.",
  }),
  EDOC_METRICS_TOKEN: declare({
    kind: bearerSecret,
    shownDefault: "unset: `/metrics` answers loopback clients only",
    meaning: "When set, `/metrics` answers whoever sends `Authorization: Bearer <it>`, from any address, and nobody else.",
    secret: true,
  }),
  EDOC_MAX_UPLOAD_BYTES: declare({ kind: whole(1, MAX_BYTES), default: String(2 * 1024 ** 3), meaning: "The largest file, in bytes, accepted in one upload of the API." }),
  EDOC_MAX_PACKET_BYTES: declare({ kind: whole(1, MAX_BYTES), default: String(3 * 1024 ** 3), meaning: "The largest packet, in bytes, accepted at `POST /edxml`." }),
  EDOC_REQUEST_TIMEOUT_MS: declare({ kind: whole(0, MAX_TIMER_MS), default: "3600000", meaning: "How long, in milliseconds, one HTTP request may take to arrive (0: no limit)." }),
  EDOC_DELIVERY_MAX_ATTEMPTS: declare({ kind: whole(1, 1000), default: "12", meaning: "How many times a packet is sent to a recipient before its delivery is `failed`." }),
  EDOC_DELIVERY_BASE_DELAY_MS: declare({ kind: whole(0, MAX_TIMER_MS), default: "2000", meaning: "The delay, in milliseconds, before the first retry; the delay doubles with each attempt and is drawn at random below that cap." }),
  EDOC_DELIVERY_MAX_DELAY_MS: declare({ kind: whole(0, MAX_TIMER_MS), default: "900000", meaning: "The longest delay, in milliseconds, between two attempts." }),
  EDOC_DELIVERY_LEASE_MS: declare({ kind: whole(1, MAX_TIMER_MS), default: "600000", meaning: "How long, in milliseconds, a worker holds a delivery it claimed before another may take it over." }),
  EDOC_DELIVERY_POLL_MS: declare({ kind: whole(1, MAX_TIMER_MS), default: "500", meaning: "How often, in milliseconds, the delivery worker looks for due deliveries." }),
  EDOC_DELIVERY_CONCURRENCY: declare({ kind: whole(1, 1000), default: "64", meaning: "How many deliveries one node process sends at once." }),
  EDOC_DELIVERY_TIMEOUT_MS: declare({ kind: whole(1, MAX_TIMER_MS), default: "300000", meaning: "How long, in milliseconds, one delivery attempt may take." }),
  EDOC_TRUST_REFRESH_MS: declare({ kind: whole(100, MAX_TIMER_MS), default: "2000", meaning: "How often, in milliseconds, the node looks for trust and registry changes made by the CLI." }),
  EDOC_SHUTDOWN_GRACE_MS: declare({ kind: whole(0, MAX_TIMER_MS), default: "20000", meaning: "How long, in milliseconds, a shutdown waits for requests in flight." }),
  EDOC_SESSION_IDLE_MS: declare({ kind: whole(60_000, MAX_TIMER_MS), default: "1800000", meaning: "How long, in milliseconds, a signed-in session of the web pages may stay unused before it ends." }),
  EDOC_SESSION_MAX_MS: declare({ kind: whole(60_000, MAX_TIMER_MS), default: "43200000", meaning: "How long, in milliseconds, a session of the web pages lasts at most, however busy." }),
  EDOC_SIGNIN_MAX_FAILURES: declare({ kind: whole(1, 1000), default: "5", meaning: "How many failed sign-ins for one user name within `EDOC_SIGNIN_WINDOW_MS` make further attempts wait." }),
  EDOC_SIGNIN_MAX_FAILURES_PER_ADDRESS: declare({ kind: whole(1, 100_000), default: "20", meaning: "How many failed sign-ins from one address within `EDOC_SIGNIN_WINDOW_MS` make further attempts from it wait (an office shares one address)." }),
  EDOC_SIGNIN_WINDOW_MS: declare({ kind: whole(1000, MAX_TIMER_MS), default: "900000", meaning: "The window, in milliseconds, over which failed sign-ins are counted." }),
  EDOC_TSA_URL: declare({
    kind: httpUrl,
    shownDefault: "unset: no time-stamps",
    meaning:
      "An RFC 3161 time-stamping service (HTTP POST `application/timestamp-query`): every packet and status packet the node signs gets its signature time-stamp (level B-T); when the service is unreachable the packet goes out at B-B and the stamp is kept beside the stored copy later.",
  }),
  EDOC_TSA_TIMEOUT_MS: declare({ kind: whole(100, MAX_TIMER_MS), default: "10000", meaning: "How long, in milliseconds, one time-stamp request may take before the packet goes out without it." }),
  EDOC_TSA_RETRY_MS: declare({ kind: whole(1000, MAX_TIMER_MS), default: "5000", meaning: "How often, in milliseconds, the node retries the time-stamps it could not get when it signed." }),
  EDOC_ARCHIVE_STAMP_MS: declare({
    kind: whole(1000, MAX_TIMER_MS),
    default: "3600000",
    meaning: "With `EDOC_TSA_URL`: how often, in milliseconds, the node time-stamps a Merkle tree over the SHA-256 of the packets, status packets and attachments stored since the last round (archive time-stamps).",
  }),
  EDOC_ARCHIVE_RENEW_DAYS: declare({
    kind: whole(1, 3650),
    default: "180",
    meaning:
      "With `EDOC_TSA_URL`: how many days before the certificate of the TSA that made an archive round's latest stamp expires the node renews that stamp (a new stamp over it, RFC 4998); checked every `EDOC_ARCHIVE_STAMP_MS`. The TSA must by then sign with a newer certificate.",
  }),
  EDOC_AUDIT_CHECKPOINT_MS: declare({ kind: whole(1000, MAX_TIMER_MS), default: "600000", meaning: "How often, in milliseconds, the node signs a checkpoint of the audit log's hash chain (when rows were added since the last one)." }),
  EDOC_AUDIT_CHECKPOINT_ROWS: declare({ kind: whole(1, 1_000_000), default: "1000", meaning: "After how many new audit rows the node signs a checkpoint sooner than `EDOC_AUDIT_CHECKPOINT_MS`." }),
  EDOC_LOG_LEVEL: declare({ kind: oneOf(LOG_LEVELS), default: "info", meaning: "The pino log level." }),
  EDOC_P12_PASSWORD: declare({ kind: text, shownDefault: "empty", meaning: "The password of a `--p12` file when the CLI is given no `--password`.", secret: true }),
};

type VariableName = keyof typeof VARIABLES;

export interface Config {
  port: number;
  /** Absolute. */
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema (tests); the database's default otherwise. */
  schema?: string;
  /** PostgreSQL: the most connections of the requests' pool (EDOC_DB_POOL_MAX). */
  dbPoolMax: number;
  /** The base URL other nodes reach this node at, without a trailing slash. */
  publicUrl: string;
  /** Whether EDOC_PUBLIC_URL was set: with PORT=0 the node knows its URL only once it listens. */
  publicUrlSet: boolean;
  /** Where blobs' bytes live (EDOC_BLOB_STORE and, for S3, the AWS variables). */
  blobStore: BlobStoreSpec;
  /** Undefined: `master.key` in the data directory. */
  masterKey?: string;
  /** Largest accepted upload per file and largest inbound packet. */
  maxUploadBytes: number;
  maxPacketBytes: number;
  delivery: {
    maxAttempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
    leaseMs: number;
    pollMs: number;
    timeoutMs: number;
    /** Sends in flight at once per process. */
    concurrency: number;
  };
  /** The agency the first start creates. */
  firstAgency: { organId: string; name: string };
  /** How this node publishes its registry snapshot. */
  snapshot: { validForMs: number; publisher?: string };
  /** Where this node syncs its registry from; null when EDOC_REGISTRY_URL is unset. */
  registrySync: { url: string; certPath: string; intervalMs: number; timeoutMs: number } | null;
  /** The national axle's hub; null when EDOC_VDXP_ENDPOINT is unset. */
  vdxp: VdxpConfig | null;
  listenHost?: string;
  /** express's "trust proxy": false, a hop count, or the proxies' addresses. */
  trustProxy: false | number | string[];
  /** Undefined: /metrics answers loopback clients only. */
  metricsToken?: string;
  requestTimeoutMs: number;
  trustRefreshMs: number;
  shutdownGraceMs: number;
  /** Sessions of the web pages: idle and absolute timeouts. */
  sessions: { idleMs: number; maxMs: number };
  auditCheckpoint: { everyMs: number; everyRows: number };
  /** Sign-in throttling: this many failures per user name or per address within the window make attempts wait. */
  signIn: { maxFailuresPerUser: number; maxFailuresPerAddress: number; windowMs: number };
  /** The time-stamping service; null when EDOC_TSA_URL is unset. */
  tsa: { url: string; timeoutMs: number; retryMs: number; archiveMs: number; renewDays: number } | null;
  logLevel: LogLevel;
  /** For the CLI's `--p12` files. */
  p12Password: string;
}

export interface VdxpConfig {
  endpoint: string;
  systemId: string;
  secret: string;
  pollMs: number;
  /** How often the hub's agency directory is imported (EDOC_REGISTRY_SYNC_MS). */
  directoryMs: number;
}

type Env = Record<string, string | undefined>;

/** The hub's three settings come together or not at all. */
function vdxpConfig(env: Env, directoryMs: number): VdxpConfig | null {
  const endpoint = read(env, "EDOC_VDXP_ENDPOINT")?.replace(/\/+$/, "");
  const systemId = read(env, "EDOC_VDXP_SYSTEM_ID");
  const secret = read(env, "EDOC_VDXP_SECRET");
  const pollMs = read(env, "EDOC_VDXP_POLL_MS")!;
  if (!endpoint && !systemId && !secret) return null;
  const missing = (["EDOC_VDXP_ENDPOINT", "EDOC_VDXP_SYSTEM_ID", "EDOC_VDXP_SECRET"] as const).filter((n) => !read(env, n));
  if (missing.length) throw new SetupError(`the national axle needs EDOC_VDXP_ENDPOINT, EDOC_VDXP_SYSTEM_ID and EDOC_VDXP_SECRET together: ${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} not set`);
  return { endpoint: endpoint!, systemId: systemId!, secret: secret!, pollMs, directoryMs };
}

/** The variable's value (unset and empty both mean the default); undefined when unset without default. */
function read<N extends VariableName>(env: Env, name: N): (typeof VARIABLES)[N] extends Declaration<infer T> ? T | undefined : never;
function read(env: Env, name: VariableName): unknown {
  const d: Declaration<unknown> = VARIABLES[name];
  const given = env[name] || undefined;
  const raw = given ?? d.default;
  if (raw === undefined) return undefined;
  const parsed = d.kind.schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  // only a given value can be bad (a test checks every default)
  const shown = d.secret ? `(the value given, ${raw.length} characters)` : JSON.stringify(raw);
  throw new SetupError(`${name} ${shown} is not ${d.kind.expected}`);
}

/** The blob store EDOC_BLOB_STORE names (or `value`, read like it: `blobs migrate --to`), with the S3 variables of `env`. */
export function blobStoreSpec(env: Env, value?: string): BlobStoreSpec {
  const name = read(value === undefined ? env : { EDOC_BLOB_STORE: value }, "EDOC_BLOB_STORE")!;
  // read whatever the store: a bad value is a mistake whether or not it is used today
  const s3 = {
    endpoint: read(env, "AWS_ENDPOINT_URL"),
    region: read(env, "AWS_REGION"),
    accessKeyId: read(env, "AWS_ACCESS_KEY_ID"),
    secretAccessKey: read(env, "AWS_SECRET_ACCESS_KEY"),
    forcePathStyle: read(env, "EDOC_S3_FORCE_PATH_STYLE") === "1",
  };
  if (Boolean(s3.accessKeyId) !== Boolean(s3.secretAccessKey)) throw new SetupError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both or neither");
  return name.kind === "s3" ? { ...name, ...s3 } : name;
}

/** Reads and checks the configuration; SetupError on the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const port = read(env, "PORT")!;
  const publicUrl = read(env, "EDOC_PUBLIC_URL");
  const registryUrl = read(env, "EDOC_REGISTRY_URL");
  const registryCert = read(env, "EDOC_REGISTRY_CERT");
  // read even without a sync source: a bad value is a mistake whether or not it is used today
  const syncMs = read(env, "EDOC_REGISTRY_SYNC_MS")!;
  const fetchTimeoutMs = read(env, "EDOC_REGISTRY_FETCH_TIMEOUT_MS")!;
  if (registryUrl && !registryCert) {
    throw new SetupError(
      `EDOC_REGISTRY_URL is set but EDOC_REGISTRY_CERT is not: give the path of the certificate (PEM) of the node at ${registryUrl}, obtained out of band; a registry is never used unchecked`,
    );
  }
  if (registryCert && !registryUrl) {
    throw new SetupError("EDOC_REGISTRY_CERT is set but EDOC_REGISTRY_URL is not: give the snapshot URL of the node to sync the registry from");
  }
  return {
    port,
    dataDir: resolve(read(env, "EDOC_DATA_DIR")!),
    databaseUrl: read(env, "DATABASE_URL"),
    schema: read(env, "EDOC_DB_SCHEMA"),
    dbPoolMax: read(env, "EDOC_DB_POOL_MAX")!,
    publicUrl: publicUrl ?? `http://localhost:${port}`,
    publicUrlSet: publicUrl !== undefined,
    blobStore: blobStoreSpec(env),
    masterKey: read(env, "EDOC_MASTER_KEY"),
    maxUploadBytes: read(env, "EDOC_MAX_UPLOAD_BYTES")!,
    maxPacketBytes: read(env, "EDOC_MAX_PACKET_BYTES")!,
    delivery: {
      maxAttempts: read(env, "EDOC_DELIVERY_MAX_ATTEMPTS")!,
      baseDelayMs: read(env, "EDOC_DELIVERY_BASE_DELAY_MS")!,
      maxDelayMs: read(env, "EDOC_DELIVERY_MAX_DELAY_MS")!,
      leaseMs: read(env, "EDOC_DELIVERY_LEASE_MS")!,
      pollMs: read(env, "EDOC_DELIVERY_POLL_MS")!,
      timeoutMs: read(env, "EDOC_DELIVERY_TIMEOUT_MS")!,
      concurrency: read(env, "EDOC_DELIVERY_CONCURRENCY")!,
    },
    firstAgency: { organId: read(env, "EDOC_ORGAN_ID")!, name: read(env, "EDOC_ORGAN_NAME")! },
    snapshot: { validForMs: read(env, "EDOC_REGISTRY_VALID_MS")!, publisher: read(env, "EDOC_REGISTRY_PUBLISHER") },
    registrySync: registryUrl && registryCert ? { url: registryUrl, certPath: registryCert, intervalMs: syncMs, timeoutMs: fetchTimeoutMs } : null,
    vdxp: vdxpConfig(env, syncMs),
    listenHost: read(env, "EDOC_LISTEN_HOST"),
    trustProxy: read(env, "EDOC_TRUST_PROXY")!,
    metricsToken: read(env, "EDOC_METRICS_TOKEN"),
    requestTimeoutMs: read(env, "EDOC_REQUEST_TIMEOUT_MS")!,
    trustRefreshMs: read(env, "EDOC_TRUST_REFRESH_MS")!,
    shutdownGraceMs: read(env, "EDOC_SHUTDOWN_GRACE_MS")!,
    sessions: { idleMs: read(env, "EDOC_SESSION_IDLE_MS")!, maxMs: read(env, "EDOC_SESSION_MAX_MS")! },
    signIn: {
      maxFailuresPerUser: read(env, "EDOC_SIGNIN_MAX_FAILURES")!,
      maxFailuresPerAddress: read(env, "EDOC_SIGNIN_MAX_FAILURES_PER_ADDRESS")!,
      windowMs: read(env, "EDOC_SIGNIN_WINDOW_MS")!,
    },
    tsa: tsaConfig(env),
    auditCheckpoint: { everyMs: read(env, "EDOC_AUDIT_CHECKPOINT_MS")!, everyRows: read(env, "EDOC_AUDIT_CHECKPOINT_ROWS")! },
    logLevel: read(env, "EDOC_LOG_LEVEL")!,
    p12Password: read(env, "EDOC_P12_PASSWORD") ?? "",
  };
}

function tsaConfig(env: Env): Config["tsa"] {
  const url = read(env, "EDOC_TSA_URL");
  // read even without a URL: a bad value is a mistake whether or not it is used today
  const timeoutMs = read(env, "EDOC_TSA_TIMEOUT_MS")!;
  const retryMs = read(env, "EDOC_TSA_RETRY_MS")!;
  const archiveMs = read(env, "EDOC_ARCHIVE_STAMP_MS")!;
  const renewDays = read(env, "EDOC_ARCHIVE_RENEW_DAYS")!;
  return url ? { url, timeoutMs, retryMs, archiveMs, renewDays } : null;
}

/** The README's configuration table (markdown), one row per variable. */
export function configTable(): string {
  const rows = Object.entries(VARIABLES).map(([name, d]: [string, Declaration<unknown>]) => {
    const shown = d.shownDefault ?? `\`${d.default}\``;
    return `| \`${name}\` | ${shown} | ${d.meaning} |`;
  });
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n") + "\n";
}
